//! The rule set's relaxable values in force at a given age: each rule's bounds and literal
//! reference, and each team's player counts, after expansions.
//!
//! A match's age is that of its newest ticket, or its oldest with `expansionAgeSelection:
//! oldest` (see [`match_age`]).

use rally_rules::model::{
    ExpansionAgeSelection, ExpansionTarget, RuleKind, RuleProperty, RuleSet, StepValue, TeamBound,
};

/// One rule's relaxable values; `None` where the rule has no such bound.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleParams {
    pub min_distance: Option<f64>,
    pub max_distance: Option<f64>,
    pub min_count: Option<f64>,
    pub max_count: Option<f64>,
    pub max_latency: Option<f64>,
    /// A literal reference value an expansion replaced; `None` keeps the rule's own.
    pub reference: Option<StepValue>,
}

/// Everything an expansion can change, as it stands at one age.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// Indexed by `RuleId`.
    pub rules: Vec<RuleParams>,
    /// Indexed by `TeamId`.
    pub team_min: Vec<u32>,
    /// Indexed by `TeamId`.
    pub team_max: Vec<u32>,
}

impl Params {
    /// The values in force once a match has waited `age` seconds.
    pub fn at(rule_set: &RuleSet, age: f64) -> Params {
        let mut rules: Vec<RuleParams> =
            rule_set.rules.iter().map(|rule| base(&rule.kind)).collect();
        let mut team_min: Vec<u32> = rule_set.teams.iter().map(|team| team.min_players).collect();
        let mut team_max: Vec<u32> = rule_set.teams.iter().map(|team| team.max_players).collect();
        for expansion in &rule_set.expansions {
            let Some(value) = expansion.value_at(age) else {
                continue;
            };
            match &expansion.target {
                ExpansionTarget::Rule { rule, property } => {
                    let params = &mut rules[rule.0];
                    let number = value.as_number();
                    match property {
                        RuleProperty::MinDistance => params.min_distance = number,
                        RuleProperty::MaxDistance => params.max_distance = number,
                        RuleProperty::MinCount => params.min_count = number,
                        RuleProperty::MaxCount => params.max_count = number,
                        RuleProperty::MaxLatency => params.max_latency = number,
                        RuleProperty::ReferenceValue => params.reference = Some(value.clone()),
                        // The checker admits no other target.
                        _ => {}
                    }
                }
                ExpansionTarget::Teams {
                    definitions,
                    property,
                } => {
                    let count = value.as_number().map_or(0, |n| n as u32);
                    for definition in definitions {
                        for team in rule_set.team_definitions[definition.0].teams.clone() {
                            match property {
                                TeamBound::MinPlayers => team_min[team] = count,
                                TeamBound::MaxPlayers => team_max[team] = count,
                            }
                        }
                    }
                }
            }
        }
        Params {
            rules,
            team_min,
            team_max,
        }
    }

    pub fn min_players(&self) -> u32 {
        self.team_min.iter().sum()
    }

    pub fn max_players(&self) -> u32 {
        self.team_max.iter().sum()
    }
}

fn base(kind: &RuleKind) -> RuleParams {
    let mut params = RuleParams {
        min_distance: None,
        max_distance: None,
        min_count: None,
        max_count: None,
        max_latency: None,
        reference: None,
    };
    match kind {
        RuleKind::Distance(rule) => {
            params.min_distance = rule.min_distance;
            params.max_distance = rule.max_distance;
        }
        RuleKind::Collection(rule) => {
            params.min_count = rule.min_count.map(f64::from);
            params.max_count = rule.max_count.map(f64::from);
        }
        RuleKind::Latency(rule) => {
            params.max_latency = rule.max_latency;
            params.max_distance = rule.max_distance;
        }
        RuleKind::BatchDistance(rule) => params.max_distance = rule.max_distance,
        RuleKind::Comparison(_)
        | RuleKind::AbsoluteSort(_)
        | RuleKind::DistanceSort(_)
        | RuleKind::Compound(_) => {}
    }
    params
}

/// [`Params`] for every age: they change only at expansion wait times, so one `Params` per
/// interval between those times is computed once and looked up by age.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamsTable {
    /// The ages at which values change, ascending; the first is 0.
    starts: Vec<f64>,
    params: Vec<Params>,
}

impl ParamsTable {
    pub fn new(rule_set: &RuleSet) -> ParamsTable {
        let mut starts: Vec<f64> = std::iter::once(0.0)
            .chain(
                rule_set
                    .expansions
                    .iter()
                    .flat_map(|e| e.steps.iter().map(|s| s.wait_time_seconds)),
            )
            .collect();
        starts.sort_by(f64::total_cmp);
        starts.dedup();
        let params = starts
            .iter()
            .map(|age| Params::at(rule_set, *age))
            .collect();
        ParamsTable { starts, params }
    }

    /// The values in force at `age` (a negative age counts as 0). A step applies from its
    /// wait time on, within the tolerance of `rally_rules::numeric`.
    pub fn at(&self, age: f64) -> &Params {
        let index = self.started_by(age).max(1) - 1;
        &self.params[index]
    }

    /// Every distinct `Params` in force at some age up to `age`, for bounds that must hold
    /// whatever the exact age turns out to be.
    pub fn up_to(&self, age: f64) -> &[Params] {
        let end = self.started_by(age).max(1);
        &self.params[..end]
    }

    /// The first age after `age` at which the values change, if any.
    pub fn next_change_after(&self, age: f64) -> Option<f64> {
        self.starts.get(self.started_by(age)).copied()
    }

    /// How many of the steps have started by `age`.
    fn started_by(&self, age: f64) -> usize {
        self.starts
            .partition_point(|start| rally_rules::numeric::le(*start, age))
    }

    pub fn all(&self) -> &[Params] {
        &self.params
    }

    /// Each age at which values change (the first is 0), with the values from then on.
    pub fn steps(&self) -> impl Iterator<Item = (f64, &Params)> {
        self.starts.iter().copied().zip(&self.params)
    }
}

/// A match's age from its tickets' ages: the newest ticket's by default ("a newly added
/// ticket restarts the clock"), the oldest's with `expansionAgeSelection: oldest`.
pub(crate) fn match_age(
    selection: ExpansionAgeSelection,
    ages: impl IntoIterator<Item = f64>,
) -> f64 {
    let ages = ages.into_iter();
    match selection {
        ExpansionAgeSelection::Newest => ages.fold(f64::INFINITY, f64::min),
        ExpansionAgeSelection::Oldest => ages.fold(f64::NEG_INFINITY, f64::max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rally_rules::{SourceFormat, check_source};

    fn rule_set(dsl: &str) -> RuleSet {
        let checked = check_source(dsl, SourceFormat::Dsl);
        assert!(checked.is_valid(), "{:?}", checked.diagnostics);
        checked.rule_set.unwrap()
    }

    #[test]
    fn expansions_apply_once_their_wait_has_passed() {
        let rule_set = rule_set(
            "attribute skill: number = 1
team trio players 3..5 quantity 2
rule close: distance flatten(teams[*].players.attributes[skill]) to 1 max 10
rule ping: latency max 50ms
expand rules[close].maxDistance: 5s -> 50, 15s -> 100
expand rules[ping].maxLatency: 10s -> 150ms
expand teams[trio].minPlayers: 20s -> 2
",
        );
        let at = |age| Params::at(&rule_set, age);
        assert_eq!(at(0.0).rules[0].max_distance, Some(10.0));
        assert_eq!(at(5.0).rules[0].max_distance, Some(50.0));
        assert_eq!(at(16.0).rules[0].max_distance, Some(100.0));
        assert_eq!(at(9.9).rules[1].max_latency, Some(50.0));
        assert_eq!(at(10.0).rules[1].max_latency, Some(150.0));
        assert_eq!(at(19.0).team_min, [3, 3]);
        assert_eq!(at(20.0).team_min, [2, 2], "both copies of trio");
        assert_eq!(at(20.0).min_players(), 4);
        assert_eq!(at(20.0).max_players(), 10);
    }

    #[test]
    fn the_table_holds_one_entry_per_interval() {
        let rule_set = rule_set(
            "attribute skill: number = 1
team a players 2
rule close: distance flatten(teams[*].players.attributes[skill]) to 1 max 10
expand rules[close].maxDistance: 5s -> 50, 15s -> 100
",
        );
        let table = ParamsTable::new(&rule_set);
        assert_eq!(table.at(-1.0).rules[0].max_distance, Some(10.0));
        assert_eq!(table.at(4.9).rules[0].max_distance, Some(10.0));
        assert_eq!(table.at(5.0).rules[0].max_distance, Some(50.0));
        assert_eq!(table.at(1e9).rules[0].max_distance, Some(100.0));
        assert_eq!(table.up_to(6.0).len(), 2);
        assert_eq!(table.all().len(), 3);
        assert_eq!(table.at(7.0), &Params::at(&rule_set, 7.0));
        // A ticket started at 1.06 s is 14.999999999999998 s old at 16.06 s: 15 s have passed.
        assert_eq!(table.at(16.06 - 1.06).rules[0].max_distance, Some(100.0));
        assert_eq!(
            Params::at(&rule_set, 16.06 - 1.06).rules[0].max_distance,
            Some(100.0)
        );
    }

    #[test]
    fn match_age_follows_the_selection() {
        let ages = [3.0, 10.0, 7.0];
        assert_eq!(match_age(ExpansionAgeSelection::Newest, ages), 3.0);
        assert_eq!(match_age(ExpansionAgeSelection::Oldest, ages), 10.0);
    }
}
