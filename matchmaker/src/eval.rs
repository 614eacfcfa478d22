//! The matcher's judge: evaluates a compiled rule set on one concrete match — tickets placed
//! on teams — and says which rules pass, whether team sizes hold, and where the match could
//! be played.
//!
//! The semantics, from FlexMatch's guide (`flexmatch-spec.md` §1.4, §2.4), and where it is
//! silent chosen as a designer would expect:
//!
//! - **Every player is judged on their own values.** A rule's `partyAggregation` never
//!   decides it: each player of a party is checked with their own attributes and latencies
//!   ("FlexMatch would then check that all of the individual players in the tickets fit").
//!   The aggregate only orders and prunes candidates (`filters`, `search`).
//! - **An aggregate over nothing fails its rule**: `min`, `max`, `avg`, `median` and `stddev`
//!   of an empty list (the average of a team nobody is on) have no value, and a rule that
//!   meets one fails — FlexMatch does not support rules over a team that may be empty.
//!   `sum` and `count` of nothing are 0.
//! - **Lists**: a comparison or distance over a list checks every element; a comparison
//!   without a reference checks that all values are equal (`=`) or all different (`!=`).
//! - **Numbers** compare within the tolerance of `rally_rules::numeric`.
//! - `stddev` is the population standard deviation; `median` of an even count averages the
//!   middle two.
//! - **Latency**: a location counts for a rule when every player reports it, within
//!   `maxLatency`, and within `maxDistance` of the `min` or `avg` of all players' latencies
//!   there. The match's locations are those every latency rule accepts (without a latency
//!   rule: those every player reports), nearest on average first.

use rally_rules::model::{
    CollectionOperation, ComparisonOperation, DistanceReference, ExprNode, Function, RuleId,
    RuleKind, RuleSet, SelectField, StepValue, TeamId, Type, TypedExpr,
};
use rally_rules::numeric;

use smallvec::SmallVec;

use crate::compare::{compare_numbers, range, within_distance};
use crate::params::{Params, RuleParams};
use crate::pool::{LocationId, Pool, Symbol, Ticket, TicketKey, Value};

/// A candidate match: the tickets on each team, indexed by `TeamId`. A backfill ticket's
/// players already have teams: it is listed on every team it has players on, and only those
/// players count there.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MatchView<'a> {
    pub pool: &'a Pool,
    pub teams: &'a [Vec<TicketKey>],
}

/// What [`evaluate`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Each rule's outcome by `RuleId`; `None` for sort rules, which order and never decide.
    pub outcomes: Vec<Option<bool>>,
    /// Teams whose player count is outside their bounds.
    pub teams_out_of_bounds: Vec<TeamId>,
    /// Where the match can be played, nearest on average first.
    pub locations: Vec<LocationId>,
    /// The latency rules each accept some location, but no location suits them all.
    pub no_common_location: bool,
}

impl Evaluation {
    /// Valid: team sizes hold, every deciding rule passes, and the latency rules share a
    /// location.
    pub fn is_valid(&self, rule_set: &RuleSet) -> bool {
        self.teams_out_of_bounds.is_empty()
            && !self.no_common_location
            && rule_set
                .deciding_rules()
                .all(|(id, _)| self.outcomes[id.0] == Some(true))
    }
}

/// A value during evaluation.
#[derive(Clone, Debug, PartialEq)]
enum V {
    Num(f64),
    Str(Symbol),
    List(Vec<V>),
    /// A player or team counted by `count`.
    Unit,
    /// The aggregate of nothing.
    Missing,
}

/// Evaluates every rule of the pool's rule set on `view` with `params` in force.
pub(crate) fn evaluate(view: MatchView<'_>, params: &Params) -> Evaluation {
    let rule_set = view.pool.rule_set();
    let mut outcomes: Vec<Option<bool>> = vec![None; rule_set.rules.len()];
    let mut latency_locations: Vec<Vec<LocationId>> = Vec::new();
    for (i, rule) in rule_set.rules.iter().enumerate() {
        let p = &params.rules[i];
        outcomes[i] = match &rule.kind {
            RuleKind::Comparison(rule) => Some(view.comparison(rule, p)),
            RuleKind::Distance(rule) => Some(view.distance(rule, p)),
            RuleKind::Collection(rule) => Some(view.collection(rule, p)),
            RuleKind::Latency(rule) => {
                let locations = view.latency_locations(p, rule.distance_reference);
                let passed = !locations.is_empty();
                latency_locations.push(locations);
                Some(passed)
            }
            RuleKind::BatchDistance(rule) => Some(view.batch_distance(rule, p)),
            RuleKind::AbsoluteSort(_) | RuleKind::DistanceSort(_) => None,
            // Compound rules name only earlier rules, whose outcomes are known by now.
            RuleKind::Compound(rule) => Some(
                rule.condition
                    .evaluate(&mut |id: RuleId| outcomes[id.0] == Some(true)),
            ),
        };
    }
    let mut teams_out_of_bounds = Vec::new();
    for (team, tickets) in view.teams.iter().enumerate() {
        let players: usize = tickets
            .iter()
            .map(|k| view.players_on(view.pool.ticket(*k), TeamId(team)).count())
            .sum();
        let (min, max) = (
            params.team_min[team] as usize,
            params.team_max[team] as usize,
        );
        if players < min || players > max {
            teams_out_of_bounds.push(TeamId(team));
        }
    }
    let (locations, no_common_location) = match latency_locations.split_first() {
        None => (view.common_locations(), false),
        Some((first, rest)) => {
            let common: Vec<LocationId> = first
                .iter()
                .copied()
                .filter(|l| rest.iter().all(|other| other.contains(l)))
                .collect();
            let all_pass = latency_locations.iter().all(|l| !l.is_empty());
            let empty = common.is_empty();
            (view.order_by_latency(common), all_pass && empty)
        }
    };
    Evaluation {
        outcomes,
        teams_out_of_bounds,
        locations,
        no_common_location,
    }
}

/// Orders `locations` nearest first by the average latency of the players of `tickets`;
/// ties by location name.
pub(crate) fn order_by_latency(pool: &Pool, tickets: &[&Ticket], locations: &mut [LocationId]) {
    order_by_average(pool, locations, |location| {
        let (sum, count) = tickets
            .iter()
            .flat_map(|ticket| &ticket.players)
            .filter_map(|player| player.latency(location))
            .fold((0u64, 0u64), |(sum, count), l| {
                (sum + u64::from(l), count + 1)
            });
        sum as f64 / count.max(1) as f64
    });
}

/// Orders `locations` by `average` (the players' average latency at a location, however the
/// caller knows it), nearest first; ties by location name.
pub(crate) fn order_by_average(
    pool: &Pool,
    locations: &mut [LocationId],
    average: impl Fn(LocationId) -> f64,
) {
    if locations.len() < 2 {
        return; // nothing to order, and no player's latencies to read
    }
    let mut keyed: SmallVec<[(f64, LocationId); 8]> =
        locations.iter().map(|l| (average(*l), *l)).collect();
    keyed.sort_by(|a, b| {
        a.0.total_cmp(&b.0)
            .then_with(|| pool.location_name(a.1).cmp(pool.location_name(b.1)))
    });
    for (slot, (_, location)) in locations.iter_mut().zip(keyed) {
        *slot = location;
    }
}

impl MatchView<'_> {
    /// Every ticket of the match once (a backfill ticket may be listed on several teams).
    fn tickets(&self) -> impl Iterator<Item = &Ticket> + '_ {
        let mut keys: Vec<TicketKey> = self.teams.iter().flatten().copied().collect();
        keys.sort_unstable();
        keys.dedup();
        keys.into_iter().map(|key| self.pool.ticket(key))
    }

    /// The indices of `ticket`'s players who play on `team`: all of them, except on a
    /// backfill ticket, whose players keep their own teams.
    pub(crate) fn players_on<'t>(
        &self,
        ticket: &'t Ticket,
        team: TeamId,
    ) -> impl Iterator<Item = usize> + 't {
        let backfill = ticket.is_backfill();
        ticket
            .players
            .iter()
            .enumerate()
            .filter(move |(_, player)| !backfill || player.team() == Some(team))
            .map(|(i, _)| i)
    }

    fn eval(&self, expr: &TypedExpr) -> V {
        match &expr.node {
            ExprNode::Number(number) => V::Num(*number),
            ExprNode::String(text) => V::Str(
                self.pool
                    .symbol(text)
                    .expect("the pool interns every literal of its rule set"),
            ),
            ExprNode::List(items) => V::List(items.iter().map(|item| self.eval(item)).collect()),
            ExprNode::Select {
                teams,
                grouped,
                field,
            } => {
                let per_team = |team: &TeamId| V::List(self.team_values(*team, *field));
                if *grouped {
                    V::List(teams.iter().map(per_team).collect())
                } else {
                    per_team(&teams[0])
                }
            }
            ExprNode::Call { function, arg } => apply(*function, self.eval(arg), &arg.ty),
        }
    }

    /// One value per player of `team`: the player's own.
    fn team_values(&self, team: TeamId, field: SelectField) -> Vec<V> {
        let mut out = Vec::new();
        for key in &self.teams[team.0] {
            let ticket = self.pool.ticket(*key);
            for i in self.players_on(ticket, team) {
                let player = &ticket.players[i];
                out.push(match field {
                    SelectField::Teams | SelectField::Players => V::Unit,
                    SelectField::PlayerId => V::Str(
                        player
                            .id_symbol()
                            .expect("the pool interns player ids when a rule reads them"),
                    ),
                    SelectField::Attribute(attribute) => own_value(&player.values[attribute.0]),
                });
            }
        }
        out
    }

    /// The rule's reference: an expansion's replacement, else its own expression.
    fn reference(&self, replaced: &Option<StepValue>, own: Option<&TypedExpr>) -> Option<V> {
        match (replaced, own) {
            (Some(replaced), _) => Some(self.step_value(replaced)),
            (None, Some(reference)) => Some(self.eval(reference)),
            (None, None) => None,
        }
    }

    fn comparison(&self, rule: &rally_rules::model::ComparisonRule, params: &RuleParams) -> bool {
        let measured = self.eval(&rule.measurement);
        let reference = self.reference(&params.reference, rule.reference.as_ref());
        if has_missing(&measured) || reference.as_ref().is_some_and(has_missing) {
            return false;
        }
        let measured = elements(measured);
        match reference {
            Some(reference) => measured
                .iter()
                .all(|value| compare(value, rule.operation, &reference)),
            None if rule.operation == ComparisonOperation::Equal => all_equal(&measured),
            None => measured
                .iter()
                .enumerate()
                .all(|(i, a)| measured[i + 1..].iter().all(|b| !same(a, b))),
        }
    }

    fn distance(&self, rule: &rally_rules::model::DistanceRule, params: &RuleParams) -> bool {
        let measured = self.eval(&rule.measurement);
        let reference = self
            .reference(&params.reference, Some(&rule.reference))
            .expect("a distance rule has a reference");
        if has_missing(&measured) || has_missing(&reference) {
            return false;
        }
        let V::Num(reference) = reference else {
            return true;
        };
        elements(measured).iter().all(|value| match value {
            V::Num(value) => within_distance((value - reference).abs(), params),
            _ => true,
        })
    }

    fn collection(&self, rule: &rally_rules::model::CollectionRule, params: &RuleParams) -> bool {
        let measured = self.eval(&rule.measurement);
        let reference = self.reference(&params.reference, rule.reference.as_ref());
        if has_missing(&measured) || reference.as_ref().is_some_and(has_missing) {
            return false;
        }
        let lists: Vec<Vec<Symbol>> = elements(measured).into_iter().map(symbols).collect();
        let reference = reference.map(symbols).unwrap_or_default();
        let within = |count: usize| {
            let count = count as f64;
            params.min_count.is_none_or(|min| count >= min)
                && params.max_count.is_none_or(|max| count <= max)
        };
        match rule.operation {
            CollectionOperation::Intersection => {
                let Some((first, rest)) = lists.split_first() else {
                    return true;
                };
                let shared = first
                    .iter()
                    .filter(|s| rest.iter().all(|list| list.contains(s)))
                    .count();
                within(shared)
            }
            CollectionOperation::Contains => {
                let count = lists
                    .iter()
                    .filter(|list| reference.iter().any(|r| list.contains(r)))
                    .count();
                within(count)
            }
            CollectionOperation::ReferenceIntersectionCount => lists
                .iter()
                .all(|list| within(list.iter().filter(|s| reference.contains(s)).count())),
        }
    }

    fn batch_distance(
        &self,
        rule: &rally_rules::model::BatchDistanceRule,
        params: &RuleParams,
    ) -> bool {
        let values: Vec<V> = self
            .tickets()
            .flat_map(|ticket| &ticket.players)
            .map(|player| own_value(&player.values[rule.attribute.0]))
            .collect();
        match numbers_of(&values) {
            Some(numbers) => {
                let (low, high) = range(&numbers);
                numbers.is_empty() || numeric::le(high - low, params.max_distance.unwrap_or(0.0))
            }
            None => values.windows(2).all(|w| w[0] == w[1]),
        }
    }

    /// Locations a latency rule accepts for every player of the match.
    fn latency_locations(
        &self,
        params: &RuleParams,
        reference: Option<DistanceReference>,
    ) -> Vec<LocationId> {
        let players: Vec<&crate::pool::Player> =
            self.tickets().flat_map(|ticket| &ticket.players).collect();
        let mut accepted = Vec::new();
        for location in self.reported_locations() {
            let Some(latencies) = players
                .iter()
                .map(|player| player.latency(location).map(f64::from))
                .collect::<Option<Vec<f64>>>()
            else {
                continue;
            };
            if let Some(max) = params.max_latency
                && latencies.iter().any(|l| !numeric::le(*l, max))
            {
                continue;
            }
            if let (Some(max_distance), Some(reference)) = (params.max_distance, reference) {
                let base = match reference {
                    DistanceReference::Min => range(&latencies).0,
                    DistanceReference::Avg => {
                        latencies.iter().sum::<f64>() / latencies.len() as f64
                    }
                };
                if latencies
                    .iter()
                    .any(|l| !numeric::le(*l - base, max_distance))
                {
                    continue;
                }
            }
            accepted.push(location);
        }
        accepted
    }

    /// Every location some player of the match reported, in id order.
    fn reported_locations(&self) -> Vec<LocationId> {
        let mut locations: Vec<LocationId> = self
            .tickets()
            .flat_map(|ticket| &ticket.players)
            .flat_map(|player| player.latencies.iter().map(|(location, _)| *location))
            .collect();
        locations.sort_unstable();
        locations.dedup();
        locations
    }

    /// Without latency rules: the locations every player reports.
    pub(crate) fn common_locations(&self) -> Vec<LocationId> {
        let common: Vec<LocationId> = self
            .reported_locations()
            .into_iter()
            .filter(|location| {
                self.tickets()
                    .flat_map(|ticket| &ticket.players)
                    .all(|player| player.latency(*location).is_some())
            })
            .collect();
        self.order_by_latency(common)
    }

    /// Nearest first by the players' average latency; ties by location name.
    pub(crate) fn order_by_latency(&self, mut locations: Vec<LocationId>) -> Vec<LocationId> {
        let tickets: Vec<&Ticket> = self.tickets().collect();
        order_by_latency(self.pool, &tickets, &mut locations);
        locations
    }

    fn step_value(&self, value: &StepValue) -> V {
        match value {
            StepValue::Number(number) => V::Num(*number),
            StepValue::String(text) => {
                V::Str(self.pool.symbol(text).expect("literals are interned"))
            }
            StepValue::StringList(list) => V::List(
                list.iter()
                    .map(|text| V::Str(self.pool.symbol(text).expect("literals are interned")))
                    .collect(),
            ),
        }
    }
}

/// A player's own value as the rules see it. Maps are read by sort rules only, which never
/// reach evaluation.
fn own_value(value: &Value) -> V {
    match value {
        Value::Number(n) => V::Num(*n),
        Value::String(s) => V::Str(*s),
        Value::StringList(list) => V::List(list.iter().map(|s| V::Str(*s)).collect()),
        Value::StringNumberMap(_) | Value::Missing => V::Missing,
    }
}

/// Whether a value holds an aggregate of nothing anywhere inside.
fn has_missing(value: &V) -> bool {
    match value {
        V::Missing => true,
        V::List(items) => items.iter().any(has_missing),
        _ => false,
    }
}

/// The values a comparison or distance checks: a list's elements, or the one value.
fn elements(value: V) -> Vec<V> {
    match value {
        V::List(items) => items,
        other => vec![other],
    }
}

/// All numbers, or `None` when some value is not one.
fn numbers_of(values: &[V]) -> Option<Vec<f64>> {
    values
        .iter()
        .map(|v| match v {
            V::Num(n) => Some(*n),
            _ => None,
        })
        .collect()
}

/// Two values are the same: numbers within the tolerance, anything else exactly.
fn same(a: &V, b: &V) -> bool {
    match (a, b) {
        (V::Num(a), V::Num(b)) => numeric::eq(*a, *b),
        _ => a == b,
    }
}

/// All values equal: numbers spread no wider than the tolerance, other values identical.
fn all_equal(values: &[V]) -> bool {
    match numbers_of(values) {
        Some(numbers) if !numbers.is_empty() => {
            let (low, high) = range(&numbers);
            numeric::le(high - low, 0.0)
        }
        _ => values.windows(2).all(|w| w[0] == w[1]),
    }
}

fn symbols(value: V) -> Vec<Symbol> {
    match value {
        V::List(items) => items
            .into_iter()
            .filter_map(|v| match v {
                V::Str(s) => Some(s),
                _ => None,
            })
            .collect(),
        V::Str(s) => vec![s],
        _ => Vec::new(),
    }
}

fn compare(value: &V, operation: ComparisonOperation, reference: &V) -> bool {
    use ComparisonOperation as Op;
    match (value, reference) {
        (V::Num(a), V::Num(b)) => compare_numbers(*a, operation, *b),
        (V::Str(a), V::Str(b)) => match operation {
            Op::Equal => a == b,
            Op::NotEqual => a != b,
            // The checker allows only `=` and `!=` on strings.
            _ => false,
        },
        // Values of different kinds (the type checker allows none) are not compared.
        _ => true,
    }
}

/// Applies a function, lifting it over the lists around the list it takes (see
/// `rally_rules`' type rules): `avg` of a List<List<number>> is a List<number>.
fn apply(function: Function, value: V, ty: &Type) -> V {
    let V::List(items) = value else {
        return V::Missing;
    };
    let element = ty.element().expect("function arguments are lists");
    let lifts = match function {
        Function::Flatten => false,
        Function::Count => element.depth() > 0,
        Function::SetIntersection => element.depth() > 1,
        _ => element.depth() > 0,
    };
    if lifts {
        return V::List(
            items
                .into_iter()
                .map(|item| apply(function, item, element))
                .collect(),
        );
    }
    match function {
        Function::Flatten => V::List(
            items
                .into_iter()
                .flat_map(|item| match item {
                    V::List(inner) => inner,
                    other => vec![other],
                })
                .collect(),
        ),
        Function::Count => V::Num(items.len() as f64),
        Function::SetIntersection => {
            let lists: Vec<Vec<Symbol>> = items.into_iter().map(symbols).collect();
            let Some((first, rest)) = lists.split_first() else {
                return V::List(Vec::new());
            };
            V::List(
                first
                    .iter()
                    .filter(|s| rest.iter().all(|list| list.contains(s)))
                    .map(|s| V::Str(*s))
                    .collect(),
            )
        }
        numeric => aggregate(numeric, &items),
    }
}

/// A numeric aggregate; an aggregate over nothing, or over something without a value, has
/// none (`sum` of nothing is 0).
fn aggregate(function: Function, items: &[V]) -> V {
    let Some(mut numbers) = numbers_of(items) else {
        return V::Missing;
    };
    if numbers.is_empty() {
        return if function == Function::Sum {
            V::Num(0.0)
        } else {
            V::Missing
        };
    }
    let n = numbers.len() as f64;
    V::Num(match function {
        Function::Min => range(&numbers).0,
        Function::Max => range(&numbers).1,
        Function::Sum => numbers.iter().sum(),
        Function::Avg => numbers.iter().sum::<f64>() / n,
        Function::Median => {
            numbers.sort_by(f64::total_cmp);
            let mid = numbers.len() / 2;
            if numbers.len().is_multiple_of(2) {
                (numbers[mid - 1] + numbers[mid]) / 2.0
            } else {
                numbers[mid]
            }
        }
        Function::Stddev => {
            let mean = numbers.iter().sum::<f64>() / n;
            (numbers.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt()
        }
        Function::Count | Function::Flatten | Function::SetIntersection => {
            unreachable!("`apply` handles these")
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::ticket::json::parse_ticket;
    use rally_rules::{SourceFormat, check_source};

    /// A pool for `rules` holding `tickets` (JSON Lines).
    fn pool(rules: &str, tickets: &[&str]) -> Pool {
        let checked = check_source(rules, SourceFormat::Dsl);
        assert!(checked.is_valid(), "{:?}", checked.diagnostics);
        let mut pool = Pool::new(Arc::new(checked.rule_set.unwrap()));
        for ticket in tickets {
            pool.insert(&parse_ticket(ticket).unwrap()).unwrap();
        }
        pool
    }

    /// A one-player ticket with numeric attributes.
    fn solo(id: &str, attributes: &[(&str, f64)]) -> String {
        let attributes: Vec<String> = attributes
            .iter()
            .map(|(name, value)| format!(r#""{name}":{{"N":{value}}}"#))
            .collect();
        format!(
            r#"{{"TicketId":"{id}","Players":[{{"PlayerId":"{id}p","PlayerAttributes":{{{}}},"LatencyInMs":{{"us-east-1":40,"eu-west-1":90}}}}]}}"#,
            attributes.join(",")
        )
    }

    /// Evaluates with `teams` given as ticket ids per team.
    fn judge(pool: &Pool, teams: &[&[&str]], age: f64) -> Evaluation {
        let teams: Vec<Vec<TicketKey>> = teams
            .iter()
            .map(|ids| ids.iter().map(|id| pool.key_of(id).unwrap()).collect())
            .collect();
        let params = Params::at(pool.rule_set(), age);
        evaluate(
            MatchView {
                pool,
                teams: &teams,
            },
            &params,
        )
    }

    const FAIR_TEAMS: &str = "attribute skill: number = 10
team cowboys players 2..4
team aliens players 2..4
rule FairTeamSkill: distance avg(teams[*].players.attributes[skill]) to avg(flatten(teams[*].players.attributes[skill])) max 10
rule EqualTeamSizes: comparison count(teams[cowboys].players) = count(teams[aliens].players)
expand rules[FairTeamSkill].maxDistance: 5s -> 50
";

    #[test]
    fn fair_teams_and_equal_sizes_as_in_example_one() {
        let tickets: Vec<String> = [
            ("a", 100.0),
            ("b", 120.0),
            ("c", 105.0),
            ("d", 115.0),
            ("e", 200.0),
        ]
        .iter()
        .map(|(id, skill)| solo(id, &[("skill", *skill)]))
        .collect();
        let tickets: Vec<&str> = tickets.iter().map(String::as_str).collect();
        let pool = pool(FAIR_TEAMS, &tickets);
        let rule_set = pool.rule_set().clone();
        // 100+120 vs 105+115: both averages 110, the match average 110.
        let fair = judge(&pool, &[&["a", "b"], &["c", "d"]], 0.0);
        assert_eq!(fair.outcomes, [Some(true), Some(true)]);
        assert!(fair.is_valid(&rule_set));
        // 100+105 (avg 102.5) vs 120+115 (117.5): 7.5 from 110 either way; still fair.
        assert!(judge(&pool, &[&["a", "c"], &["b", "d"]], 0.0).is_valid(&rule_set));
        // With `e` (200): averages 110 and 157.5 around 133.75: unfair until the expansion.
        let unfair = judge(&pool, &[&["a", "b"], &["c", "e"]], 0.0);
        assert_eq!(unfair.outcomes[0], Some(false));
        assert_eq!(
            judge(&pool, &[&["a", "b"], &["c", "e"]], 5.0).outcomes[0],
            Some(true)
        );
        // Three against two: sizes differ, and a team of one is below its minimum.
        let uneven = judge(&pool, &[&["a", "b", "c"], &["d"]], 0.0);
        assert_eq!(uneven.outcomes[1], Some(false));
        assert_eq!(uneven.teams_out_of_bounds, [TeamId(1)]);
        assert!(!uneven.is_valid(&rule_set));
    }

    #[test]
    fn an_aggregate_over_an_empty_team_fails_its_rule() {
        let tickets = [solo("a", &[("skill", 10.0)]), solo("b", &[("skill", 90.0)])];
        let pool = pool(FAIR_TEAMS, &[&tickets[0], &tickets[1]]);
        // Nobody on `aliens`: its average does not exist, so the rule comparing team averages
        // fails (FlexMatch does not support rules over a possibly empty team).
        let partial = judge(&pool, &[&["a", "b"], &[]], 0.0);
        assert_eq!(partial.outcomes[0], Some(false));
        assert_eq!(partial.teams_out_of_bounds, [TeamId(1)]);
        // `count` of nobody is 0, which compares like any number.
        assert_eq!(partial.outcomes[1], Some(false), "2 players against 0");
    }

    #[test]
    fn uneven_teams_and_literal_references_as_in_example_two() {
        let rules = "attribute skill: number = 10
attribute desiredSkillOfMonster: number = 10
attribute wantsToBeMonster: number = 0
team players players 2
team monster players 1
rule MonsterSelection: comparison teams[monster].players.attributes[wantsToBeMonster] = 1
rule PlayerSelection: comparison teams[players].players.attributes[wantsToBeMonster] = 0
rule MonsterSkill: comparison avg(teams[monster].players.attributes[skill]) >= max(teams[players].players.attributes[desiredSkillOfMonster])
";
        let tickets = [
            solo("h1", &[("skill", 50.0), ("desiredSkillOfMonster", 60.0)]),
            solo("h2", &[("skill", 55.0), ("desiredSkillOfMonster", 80.0)]),
            solo("m", &[("skill", 70.0), ("wantsToBeMonster", 1.0)]),
        ];
        let refs: Vec<&str> = tickets.iter().map(String::as_str).collect();
        let pool = pool(rules, &refs);
        // The monster (70) is below the most demanding hunter's wish (80).
        let weak = judge(&pool, &[&["h1", "h2"], &["m"]], 0.0);
        assert_eq!(weak.outcomes, [Some(true), Some(true), Some(false)]);
        // A hunter who does not want to be the monster cannot be it.
        let swapped = judge(&pool, &[&["h1", "m"], &["h2"]], 0.0);
        assert_eq!(swapped.outcomes[..2], [Some(false), Some(false)]);
    }

    #[test]
    fn all_equal_all_different_and_block_lists() {
        let rules = r#"attribute gameMode: string = "turn-based"
attribute character: number
attribute BlockList: string_list = []
team player players 1 quantity 2
rule SameGameMode: comparison flatten(teams[*].players.attributes[gameMode]) all equal
rule DifferentCharacter: comparison flatten(teams[*].players.attributes[character]) all different
rule NotBlocked: collection flatten(teams[*].players.attributes[BlockList]) reference_intersection_count flatten(teams[*].players[playerId]) max 0
"#;
        let t = |id: &str, mode: &str, character: f64, blocked: &[&str]| {
            let blocked: Vec<String> = blocked.iter().map(|b| format!("\"{b}\"")).collect();
            format!(
                r#"{{"TicketId":"{id}","Players":[{{"PlayerId":"{id}","PlayerAttributes":{{"gameMode":{{"S":"{mode}"}},"character":{{"N":{character}}},"BlockList":{{"SL":[{}]}}}}}}]}}"#,
                blocked.join(",")
            )
        };
        let tickets = [
            t("ann", "turn-based", 1.0, &[]),
            t("bob", "turn-based", 2.0, &["cat"]),
            t("cat", "turn-based", 1.0, &[]),
            t("dan", "real-time", 3.0, &[]),
        ];
        let refs: Vec<&str> = tickets.iter().map(String::as_str).collect();
        let pool = pool(rules, &refs);
        assert_eq!(
            judge(&pool, &[&["ann"], &["bob"]], 0.0).outcomes,
            [Some(true); 3]
        );
        assert_eq!(
            judge(&pool, &[&["ann"], &["cat"]], 0.0).outcomes[1],
            Some(false),
            "same character"
        );
        assert_eq!(
            judge(&pool, &[&["ann"], &["dan"]], 0.0).outcomes[0],
            Some(false),
            "other mode"
        );
        assert_eq!(
            judge(&pool, &[&["bob"], &["cat"]], 0.0).outcomes[2],
            Some(false),
            "bob blocks cat"
        );
    }

    #[test]
    fn collections_count_as_documented() {
        let rules = r#"attribute character: string_list = ["peasant"]
attribute myCharacter: string_list
attribute preferredOpponents: string_list
team trio players 1..3 quantity 2
rule Medics: collection flatten(teams[*].players.attributes[character]) contains "medic" max 1
rule Shared: collection flatten(teams[*].players.attributes[character]) intersection min 1
rule Opponents: collection flatten(teams[*].players.attributes[myCharacter]) reference_intersection_count set_intersection(flatten(teams[*].players.attributes[preferredOpponents])) min 1
"#;
        let t = |id: &str, character: &[&str], mine: &str, preferred: &[&str]| {
            let list = |items: &[&str]| {
                items
                    .iter()
                    .map(|s| format!("\"{s}\""))
                    .collect::<Vec<_>>()
                    .join(",")
            };
            format!(
                r#"{{"TicketId":"{id}","Players":[{{"PlayerId":"{id}","PlayerAttributes":{{"character":{{"SL":[{}]}},"myCharacter":{{"SL":["{mine}"]}},"preferredOpponents":{{"SL":[{}]}}}}}}]}}"#,
                list(character),
                list(preferred)
            )
        };
        let tickets = [
            t("a", &["medic", "tank"], "elf", &["elf", "orc"]),
            t("b", &["medic"], "orc", &["orc", "elf"]),
            t("c", &["tank"], "elf", &["elf"]),
        ];
        let refs: Vec<&str> = tickets.iter().map(String::as_str).collect();
        let pool = pool(rules, &refs);
        // Two medics, over the limit of one; both share `medic`; elf and orc are both in
        // everyone's preferred opponents.
        assert_eq!(
            judge(&pool, &[&["a"], &["b"]], 0.0).outcomes,
            [Some(false), Some(true), Some(true)]
        );
        // `c` prefers only elves, so `b` (an orc) is nobody's opponent of choice.
        assert_eq!(
            judge(&pool, &[&["b"], &["c"]], 0.0).outcomes,
            [Some(true), Some(false), Some(false)]
        );
    }

    #[test]
    fn every_party_member_is_judged_on_their_own_values() {
        let rules = "attribute skill: number = 0
attribute level: number = 0
team squad players 1..4
rule cap_max: comparison flatten(teams[*].players.attributes[skill]) <= 100 party max
rule cap_avg: comparison flatten(teams[*].players.attributes[skill]) <= 100 party avg
rule senior: comparison flatten(teams[*].players.attributes[level]) >= 10 party max
rule close: distance max(flatten(teams[*].players.attributes[skill])) to min(flatten(teams[*].players.attributes[skill])) max 100 party avg
rule ping: latency max 100ms party min
";
        // Skills 60 and 130, levels 8 and 14, latencies 20 and 140 ms.
        let duo = r#"{"TicketId":"duo","Players":[{"PlayerId":"x","PlayerAttributes":{"skill":{"N":60},"level":{"N":8}},"LatencyInMs":{"us-east-1":20}},{"PlayerId":"y","PlayerAttributes":{"skill":{"N":130},"level":{"N":14}},"LatencyInMs":{"us-east-1":140}}]}"#;
        let pool = pool(rules, &[duo]);
        // `y` is over the cap whatever the party's average (95); `x` is below level 10 though
        // the party's maximum is 14; their skills are 70 apart, within 100; `y` is at 140 ms
        // though the party's minimum is 20.
        let judged = judge(&pool, &[&["duo"]], 0.0);
        assert_eq!(
            judged.outcomes,
            [
                Some(false),
                Some(false),
                Some(false),
                Some(true),
                Some(false)
            ]
        );
        assert!(judged.locations.is_empty());
    }

    #[test]
    fn numbers_compare_within_the_tolerance() {
        let rules = "attribute skill: number = 0
team a players 2
rule spread: distance max(flatten(teams[*].players.attributes[skill])) to min(flatten(teams[*].players.attributes[skill])) max 0.3
rule same: comparison flatten(teams[*].players.attributes[skill]) all equal
";
        let tickets = [
            solo("low", &[("skill", 0.1)]),
            solo("high", &[("skill", 0.4)]),
            solo("sum", &[("skill", 0.1 + 0.2)]),
            solo("three", &[("skill", 0.3)]),
        ];
        let refs: Vec<&str> = tickets.iter().map(String::as_str).collect();
        let pool = pool(rules, &refs);
        // 0.4 − 0.1 is 0.30000000000000004, within `max 0.3`.
        assert_eq!(
            judge(&pool, &[&["low", "high"]], 0.0).outcomes[0],
            Some(true)
        );
        // 0.1 + 0.2 and 0.3 are the same number.
        assert_eq!(
            judge(&pool, &[&["sum", "three"]], 0.0).outcomes[1],
            Some(true)
        );
        assert_eq!(
            judge(&pool, &[&["low", "three"]], 0.0).outcomes[1],
            Some(false)
        );
    }

    #[test]
    fn latency_rules_pick_the_locations_that_suit_everyone() {
        let rules = "team a players 1..3
rule cap: latency max 100ms
rule close: latency distance 30ms from min
";
        let t = |id: &str, us: u32, eu: u32| {
            format!(
                r#"{{"TicketId":"{id}","Players":[{{"PlayerId":"{id}","LatencyInMs":{{"us-east-1":{us},"eu-west-1":{eu}}}}}]}}"#
            )
        };
        let tickets = [t("p", 40, 90), t("q", 60, 125), t("r", 95, 50)];
        let refs: Vec<&str> = tickets.iter().map(String::as_str).collect();
        let pool = pool(rules, &refs);
        let name = |e: &Evaluation| {
            e.locations
                .iter()
                .map(|l| pool.location_name(*l).to_string())
                .collect::<Vec<_>>()
        };
        // p and q: q is over 100 ms in eu-west-1; in us-east-1 they are within 30 ms.
        let pq = judge(&pool, &[&["p", "q"]], 0.0);
        assert_eq!(name(&pq), ["us-east-1"]);
        // All three: us-east-1 spreads 40..95 and eu-west-1 50..125; neither within 30 ms.
        let pqr = judge(&pool, &[&["p", "q", "r"]], 0.0);
        assert_eq!(pqr.outcomes, [Some(true), Some(false)]);
        assert!(pqr.locations.is_empty());
    }

    #[test]
    fn compound_rules_combine_their_parts() {
        let rules = "attribute skill: number = 0
attribute league: number = 0
team a players 2
rule close_skill: distance max(flatten(teams[*].players.attributes[skill])) to min(flatten(teams[*].players.attributes[skill])) max 10
rule same_league: comparison flatten(teams[*].players.attributes[league]) all equal
rule either: compound or(close_skill, same_league)
";
        let tickets = [
            solo("x", &[("skill", 0.0), ("league", 1.0)]),
            solo("y", &[("skill", 50.0), ("league", 1.0)]),
            solo("z", &[("skill", 55.0), ("league", 2.0)]),
        ];
        let refs: Vec<&str> = tickets.iter().map(String::as_str).collect();
        let pool = pool(rules, &refs);
        let rule_set = pool.rule_set().clone();
        assert!(
            judge(&pool, &[&["x", "y"]], 0.0).is_valid(&rule_set),
            "same league"
        );
        assert!(
            judge(&pool, &[&["y", "z"]], 0.0).is_valid(&rule_set),
            "close skill"
        );
        let neither = judge(&pool, &[&["x", "z"]], 0.0);
        assert_eq!(neither.outcomes, [Some(false), Some(false), Some(false)]);
        assert!(!neither.is_valid(&rule_set));
    }

    #[test]
    fn functions_follow_flexmatch_definitions() {
        let numbers = |values: &[f64]| V::List(values.iter().map(|n| V::Num(*n)).collect());
        let list = Type::list(Type::Number);
        assert_eq!(
            apply(Function::Median, numbers(&[3.0, 1.0, 4.0, 2.0]), &list),
            V::Num(2.5)
        );
        assert_eq!(
            apply(
                Function::Stddev,
                numbers(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]),
                &list
            ),
            V::Num(2.0)
        );
        assert_eq!(apply(Function::Avg, numbers(&[]), &list), V::Missing);
        assert_eq!(apply(Function::Sum, numbers(&[]), &list), V::Num(0.0));
        let grouped = V::List(vec![numbers(&[1.0, 3.0]), numbers(&[10.0])]);
        assert_eq!(
            apply(Function::Avg, grouped.clone(), &Type::list(list.clone())),
            numbers(&[2.0, 10.0])
        );
        assert_eq!(
            apply(Function::Count, grouped.clone(), &Type::list(list.clone())),
            numbers(&[2.0, 1.0])
        );
        assert_eq!(
            apply(Function::Flatten, grouped, &Type::list(list)),
            numbers(&[1.0, 3.0, 10.0])
        );
    }
}
