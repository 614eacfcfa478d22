//! What the matcher learns from a rule set before it looks at a ticket: constraints that every
//! part of a valid match already satisfies, so that candidates can be ruled out one at a time
//! instead of by judging whole matches.
//!
//! Only deciding rules are used (a compound rule's parts may fail in a valid match). Each
//! filter here is implied by a rule and states it over every player's own values, as the
//! rules are judged (`eval`): a party's `partyAggregation` never enters a filter. The judge
//! still checks every rule of every match a filter does not state exactly, so a filter can
//! only make the search faster, never admit a match the rules forbid.

use rally_rules::model::{
    AttributeId, AttributeType, CollectionOperation, CollectionRule, ComparisonOperation,
    ComparisonRule, Condition, DistanceRule, ExprNode, Function, RuleId, RuleKind, RuleSet,
    SelectField, StepValue, TeamId, TypedExpr,
};

use crate::params::{Params, RuleParams};

/// All players of a match share the value of a string attribute (a string `batchDistance`,
/// or a comparison `=` without reference over everyone's value).
#[derive(Clone, Debug, PartialEq)]
pub struct EqualKey {
    pub rule: RuleId,
    pub attribute: AttributeId,
}

/// All players' values of a number attribute lie within a bound of each other (a numeric
/// `batchDistance`, a distance from `max(...)` to `min(...)` over everyone, or — with a bound
/// of 0 — a comparison `=` without reference over everyone's number).
#[derive(Clone, Debug, PartialEq)]
pub struct Spread {
    pub rule: RuleId,
    pub attribute: AttributeId,
}

impl Spread {
    /// The widest spread allowed with `params` in force.
    pub fn bound(&self, params: &Params) -> f64 {
        params.rules[self.rule.0].max_distance.unwrap_or(0.0)
    }
}

/// All players' values of an attribute differ (a comparison `!=` without reference over
/// everyone's value).
#[derive(Clone, Debug, PartialEq)]
pub struct Distinct {
    pub rule: RuleId,
    pub attribute: AttributeId,
}

/// Each player's own value on some teams must pass a test against a literal: a comparison,
/// a distance or a `reference_intersection_count` whose measurement is the players' values
/// of those teams (all teams, or e.g. `teams[monster]`). A ticket failing it can never play
/// there.
#[derive(Clone, Debug, PartialEq)]
pub struct PlayerTest {
    pub rule: RuleId,
    pub teams: Vec<TeamId>,
    pub attribute: AttributeId,
    pub test: Test,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Test {
    /// `value <operation> reference`, on numbers or (`=`, `!=`) strings.
    Compare(ComparisonOperation),
    /// `|value − reference|` within the rule's distances.
    Distance,
    /// How many of the reference's strings the player's list holds, within the rule's counts.
    ListCount,
}

/// A test's literal reference, as the rule or an expansion gives it.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Number(f64),
    String(String),
    Strings(Vec<String>),
}

impl PlayerTest {
    /// The literal players are tested against with `params` in force: an expansion's
    /// replacement, else the rule's own.
    pub fn reference(&self, rule_set: &RuleSet, params: &Params) -> Option<Literal> {
        match &params.rules[self.rule.0].reference {
            Some(StepValue::Number(n)) => Some(Literal::Number(*n)),
            Some(StepValue::String(s)) => Some(Literal::String(s.clone())),
            Some(StepValue::StringList(list)) => Some(Literal::Strings(list.clone())),
            None => literal_of(reference_expr(rule_set, self.rule)?),
        }
    }
}

/// The reference expression of a comparison, distance or collection rule.
fn reference_expr(rule_set: &RuleSet, rule: RuleId) -> Option<&TypedExpr> {
    match &rule_set.rule(rule).kind {
        RuleKind::Comparison(c) => c.reference.as_ref(),
        RuleKind::Distance(d) => Some(&d.reference),
        RuleKind::Collection(c) => c.reference.as_ref(),
        _ => None,
    }
}

/// The number literal a comparison or distance rule's reference is, if it is one.
#[cfg(feature = "tools")]
pub(crate) fn literal_reference(rule_set: &RuleSet, rule: RuleId) -> Option<f64> {
    match literal_of(reference_expr(rule_set, rule)?)? {
        Literal::Number(n) => Some(n),
        Literal::String(_) | Literal::Strings(_) => None,
    }
}

fn literal_of(expr: &TypedExpr) -> Option<Literal> {
    match &expr.node {
        ExprNode::Number(n) => Some(Literal::Number(*n)),
        ExprNode::String(text) => Some(Literal::String(text.clone())),
        ExprNode::List(_) => string_literals(expr).map(Literal::Strings),
        _ => None,
    }
}

/// A collection rule over everyone's string lists that only gets harder as players join:
/// `intersection` with a `minCount` (the shared strings can only shrink), `contains` with a
/// `maxCount` (the count can only grow), or `reference_intersection_count` against everyone's
/// player ids with a `maxCount` (a block list).
#[derive(Clone, Debug, PartialEq)]
pub struct Collection {
    pub rule: RuleId,
    pub attribute: AttributeId,
    pub kind: CollectionKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CollectionKind {
    /// At least `minCount` strings shared by everyone.
    Shared,
    /// At most `maxCount` players' lists hold one of these strings.
    Contains(Vec<String>),
    /// No player's list holds more than `maxCount` of the match's player ids.
    Blocks,
}

/// A latency rule, for ruling out tickets with no location in common.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencyCap {
    pub rule: RuleId,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Analysis {
    pub latency: Vec<LatencyCap>,
    pub equal: Vec<EqualKey>,
    pub spreads: Vec<Spread>,
    pub distinct: Vec<Distinct>,
    pub player_tests: Vec<PlayerTest>,
    pub collections: Vec<Collection>,
    /// Number attributes candidates are ordered by (nearest to the anchor first) when no sort
    /// rule orders them: those the rules bound, then `sortByAttributes`.
    pub closeness: Vec<AttributeId>,
    /// The filters say exactly what the rules say: every rule is one of them (or a sort
    /// rule), none depends on how the tickets are split into teams, and each filter checked
    /// with the match's own values passes exactly when its rule does. A set of tickets whose
    /// filters hold at the match's age, put on teams whose sizes hold, is then a valid match
    /// without judging it rule by rule.
    pub exact: bool,
    /// The rules this variant's branch of a compound rule needs to fail.
    pub negated: Negated,
}

/// Rules a variant needs to fail, as guides for the search: no filter can rule a candidate
/// out for them (a set failing one may pass it as it grows), but candidates can be sought
/// where they will fail — far apart on a spread, with other values of an equality.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Negated {
    pub rules: Vec<RuleId>,
    /// Spreads the match's values must exceed.
    pub spreads: Vec<Spread>,
    /// Equalities some player of the match must break.
    pub equal: Vec<EqualKey>,
}

impl Negated {
    fn of(rule_set: &RuleSet, rules: &[RuleId]) -> Negated {
        let mut filters = Analysis::default();
        let all_teams: Vec<TeamId> = (0..rule_set.teams.len()).map(TeamId).collect();
        for id in rules {
            filters.add_rule(rule_set, *id, &all_teams);
        }
        Negated {
            rules: rules.to_vec(),
            spreads: filters.spreads,
            equal: filters.equal,
        }
    }
}

/// Most variants a rule set's compound rules may split the search into; beyond it the
/// compound rules give no filters (the judge still checks them).
pub(crate) const MAX_VARIANTS: usize = 8;

impl Analysis {
    /// The filters the deciding rules imply.
    pub fn of(rule_set: &RuleSet) -> Analysis {
        let deciding: Vec<RuleId> = rule_set.deciding_rules().map(|(id, _)| id).collect();
        Analysis::of_rules(rule_set, &deciding)
    }

    /// One analysis per way the compound rules can be satisfied: a compound rule
    /// `or(and(SameMap, SameMode), and(CloseSkill, CloseLeague))` holds only when one of its
    /// `and` branches does, so the search runs once with the first branch's rules as filters
    /// and once with the second's. A branch may need rules to fail (`not`, `xor`): those
    /// guide its search ([`Negated`]). Without compound rules there is one variant,
    /// [`Analysis::of`].
    pub fn variants(rule_set: &RuleSet) -> Vec<Analysis> {
        let deciding: Vec<RuleId> = rule_set.deciding_rules().map(|(id, _)| id).collect();
        let mut variants: Vec<Vec<Term>> = vec![Vec::new()];
        for id in &deciding {
            let RuleKind::Compound(compound) = &rule_set.rule(*id).kind else {
                continue;
            };
            let product = both(&variants, &branches(&compound.condition, true));
            if product.is_empty() {
                // No way to satisfy the rule: one variant, whose every match the judge refuses.
                variants = vec![Vec::new()];
                break;
            }
            if product.len() <= MAX_VARIANTS {
                variants = product;
            }
        }
        variants
            .into_iter()
            .map(|literals| {
                let mut rules = deciding.clone();
                rules.extend(literals.iter().filter(|(_, holds)| *holds).map(|(r, _)| *r));
                let mut analysis = Analysis::of_rules(rule_set, &rules);
                let negated: Vec<RuleId> = literals
                    .iter()
                    .filter(|(_, holds)| !holds)
                    .map(|(r, _)| *r)
                    .collect();
                analysis.negated = Negated::of(rule_set, &negated);
                analysis
            })
            .collect()
    }

    /// The filters the rules `rules` imply, every one of which a valid match satisfies.
    fn of_rules(rule_set: &RuleSet, rules: &[RuleId]) -> Analysis {
        let mut analysis = Analysis::default();
        let all_teams: Vec<TeamId> = (0..rule_set.teams.len()).map(TeamId).collect();
        for &id in rules {
            analysis.add_rule(rule_set, id, &all_teams);
        }
        analysis.exact = analysis.latency.len() <= 1
            && rules
                .iter()
                .all(|id| analysis.filters_exactly(rule_set, *id, &all_teams));
        analysis.closeness = closeness(rule_set, &analysis.spreads);
        analysis
    }

    /// The filter rule `id` implies, if any.
    fn add_rule(&mut self, rule_set: &RuleSet, id: RuleId, all_teams: &[TeamId]) {
        match &rule_set.rule(id).kind {
            RuleKind::Latency(_) => self.latency.push(LatencyCap { rule: id }),
            RuleKind::BatchDistance(batch) => self.add_shared_value(rule_set, id, batch.attribute),
            RuleKind::Comparison(comparison) => {
                self.add_comparison(rule_set, id, comparison, all_teams)
            }
            RuleKind::Distance(distance) => self.add_distance(id, distance, all_teams),
            RuleKind::Collection(collection) => self.add_collection(id, collection, all_teams),
            RuleKind::AbsoluteSort(_) | RuleKind::DistanceSort(_) | RuleKind::Compound(_) => {}
        }
    }

    /// Everyone's values of `attribute` must agree: within a bound on numbers (0 for `=`),
    /// equal on strings.
    fn add_shared_value(&mut self, rule_set: &RuleSet, id: RuleId, attribute: AttributeId) {
        if rule_set.attribute(attribute).ty == AttributeType::Number {
            self.spreads.push(Spread {
                rule: id,
                attribute,
            });
        } else {
            self.equal.push(EqualKey {
                rule: id,
                attribute,
            });
        }
    }

    /// A comparison over players' own values: without a reference (over everyone), a shared
    /// or distinct value; against a number or string literal, a test of each player.
    fn add_comparison(
        &mut self,
        rule_set: &RuleSet,
        id: RuleId,
        comparison: &ComparisonRule,
        all_teams: &[TeamId],
    ) {
        let Some((teams, attribute)) = players_attribute(&comparison.measurement) else {
            return;
        };
        match &comparison.reference {
            None if teams == all_teams => match comparison.operation {
                ComparisonOperation::Equal => self.add_shared_value(rule_set, id, attribute),
                ComparisonOperation::NotEqual => self.distinct.push(Distinct {
                    rule: id,
                    attribute,
                }),
                // The checker allows only `=` and `!=` without a reference.
                _ => {}
            },
            Some(reference)
                if matches!(
                    literal_of(reference),
                    Some(Literal::Number(_) | Literal::String(_))
                ) =>
            {
                self.player_tests.push(PlayerTest {
                    rule: id,
                    teams,
                    attribute,
                    test: Test::Compare(comparison.operation),
                });
            }
            _ => {}
        }
    }

    /// A distance rule: an upper bound on everyone's spread, or each player's value against
    /// a number literal.
    fn add_distance(&mut self, id: RuleId, distance: &DistanceRule, all_teams: &[TeamId]) {
        if let Some(attribute) = spread_of(&distance.measurement, &distance.reference, all_teams)
            && distance.max_distance.is_some()
            && distance.min_distance.is_none()
        {
            self.spreads.push(Spread {
                rule: id,
                attribute,
            });
        } else if let Some((teams, attribute)) = players_attribute(&distance.measurement)
            && matches!(literal_of(&distance.reference), Some(Literal::Number(_)))
        {
            self.player_tests.push(PlayerTest {
                rule: id,
                teams,
                attribute,
                test: Test::Distance,
            });
        }
    }

    /// A collection rule over players' own lists: a monotone kind over everyone
    /// ([`collection_kind`]), or each player's count of a literal list of strings.
    fn add_collection(&mut self, id: RuleId, collection: &CollectionRule, all_teams: &[TeamId]) {
        let Some((teams, attribute)) = players_attribute(&collection.measurement) else {
            return;
        };
        if let Some(kind) = collection_kind(collection, all_teams) {
            self.collections.push(Collection {
                rule: id,
                attribute,
                kind,
            });
        } else if collection.operation == CollectionOperation::ReferenceIntersectionCount
            && collection
                .reference
                .as_ref()
                .and_then(string_literals)
                .is_some()
        {
            self.player_tests.push(PlayerTest {
                rule: id,
                teams,
                attribute,
                test: Test::ListCount,
            });
        }
    }

    /// Whether rule `id` is one of the filters, checked exactly (see [`Analysis::exact`]) at
    /// every age.
    fn filters_exactly(&self, rule_set: &RuleSet, id: RuleId, all_teams: &[TeamId]) -> bool {
        let table = crate::params::ParamsTable::new(rule_set);
        let at_every_age = |holds: &dyn Fn(&RuleParams) -> bool| {
            table.all().iter().all(|params| holds(&params.rules[id.0]))
        };
        if rule_set.rule(id).kind.is_sort() {
            return true;
        }
        if self.latency.iter().any(|l| l.rule == id) {
            // A cap is a filter; a distance from the best latency is not.
            return at_every_age(&|p| p.max_distance.is_none());
        }
        if self.spreads.iter().any(|s| s.rule == id) {
            return at_every_age(&|p| p.min_distance.is_none());
        }
        if self.equal.iter().any(|e| e.rule == id) || self.distinct.iter().any(|d| d.rule == id) {
            return true;
        }
        if let Some(test) = self.player_tests.iter().find(|t| t.rule == id) {
            return test.teams == all_teams;
        }
        if let Some(collection) = self.collections.iter().find(|c| c.rule == id) {
            return match collection.kind {
                CollectionKind::Shared => at_every_age(&|p| p.max_count.is_none()),
                CollectionKind::Contains(_) | CollectionKind::Blocks => {
                    at_every_age(&|p| p.min_count.is_none())
                }
            };
        }
        false
    }
}

/// Number attributes to order candidates by: those the spreads bound, those distance rules
/// measure, then `sortByAttributes`; each once.
fn closeness(rule_set: &RuleSet, spreads: &[Spread]) -> Vec<AttributeId> {
    let mut closeness: Vec<AttributeId> = spreads.iter().map(|s| s.attribute).collect();
    for rule in &rule_set.rules {
        if let RuleKind::Distance(distance) = &rule.kind
            && let Some(attribute) = first_attribute(&distance.measurement)
        {
            closeness.push(attribute);
        }
    }
    closeness.extend(rule_set.algorithm.sort_by_attributes.iter().copied());
    let mut seen = Vec::new();
    closeness.retain(|a| {
        let new = !seen.contains(a) && rule_set.attribute(*a).ty == AttributeType::Number;
        seen.push(*a);
        new
    });
    closeness
}

/// A rule a branch of a compound rule needs to pass (`true`) or to fail.
type Term = (RuleId, bool);

/// The branches of `condition` (negated when `holds` is false), in disjunctive normal form:
/// one of them holds in full whenever the condition does. `not` is pushed down to the rules,
/// `xor` is `(a and not b) or (not a and b)`, and branches needing a rule both to pass and
/// to fail are dropped. A form of more than [`MAX_VARIANTS`] branches gives the one empty
/// branch, which implies nothing.
fn branches(condition: &Condition, holds: bool) -> Vec<Vec<Term>> {
    let form = match (condition, holds) {
        (Condition::Rule(id), _) => vec![vec![(*id, holds)]],
        (Condition::Not(a), _) => branches(a, !holds),
        (Condition::And(a, b), true) | (Condition::Or(a, b), false) => {
            both(&branches(a, holds), &branches(b, holds))
        }
        (Condition::Or(a, b), true) | (Condition::And(a, b), false) => {
            let mut form = branches(a, holds);
            form.extend(branches(b, holds));
            form
        }
        (Condition::Xor(a, b), _) => {
            // xor holds when exactly one holds; it fails when both or neither do.
            let mut form = both(&branches(a, true), &branches(b, !holds));
            form.extend(both(&branches(a, false), &branches(b, holds)));
            form
        }
    };
    let mut unique: Vec<Vec<Term>> = Vec::new();
    for mut branch in form {
        branch.sort();
        if !unique.contains(&branch) {
            unique.push(branch);
        }
    }
    if unique.len() > MAX_VARIANTS {
        vec![Vec::new()]
    } else {
        unique
    }
}

/// Every branch of `left` joined with every branch of `right`, less the contradictory ones.
fn both(left: &[Vec<Term>], right: &[Vec<Term>]) -> Vec<Vec<Term>> {
    let mut form = Vec::new();
    for l in left {
        for r in right {
            let mut joined = l.clone();
            joined.extend(r.iter().filter(|literal| !l.contains(literal)));
            let contradicts = joined
                .iter()
                .any(|(rule, holds)| joined.contains(&(*rule, !holds)));
            if !contradicts {
                form.push(joined);
            }
        }
    }
    form
}

/// Which monotone kind a collection rule over everyone's lists is, if any.
fn collection_kind(rule: &CollectionRule, all_teams: &[TeamId]) -> Option<CollectionKind> {
    let (teams, _) = players_attribute(&rule.measurement)?;
    if teams != all_teams {
        return None;
    }
    match rule.operation {
        CollectionOperation::Intersection if rule.min_count.is_some() => {
            Some(CollectionKind::Shared)
        }
        CollectionOperation::Contains if rule.max_count.is_some() => {
            let strings = string_literals(rule.reference.as_ref()?)?;
            Some(CollectionKind::Contains(strings))
        }
        CollectionOperation::ReferenceIntersectionCount if rule.max_count.is_some() => {
            let reference = rule.reference.as_ref()?;
            let everyone = match &reference.node {
                ExprNode::Call {
                    function: Function::Flatten,
                    arg,
                } => matches!(
                    &arg.node,
                    ExprNode::Select { teams, field: SelectField::PlayerId, grouped: true } if teams == all_teams
                ),
                _ => false,
            };
            everyone.then_some(CollectionKind::Blocks)
        }
        _ => None,
    }
}

fn string_literals(expr: &TypedExpr) -> Option<Vec<String>> {
    match &expr.node {
        ExprNode::String(text) => Some(vec![text.clone()]),
        ExprNode::List(items) => items
            .iter()
            .map(|item| match &item.node {
                ExprNode::String(text) => Some(text.clone()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// `teams[...].players.attributes[a]`, or its `flatten`: the selected teams and attribute,
/// when the expression lists each player's own value.
fn players_attribute(expr: &TypedExpr) -> Option<(Vec<TeamId>, AttributeId)> {
    match &expr.node {
        ExprNode::Select {
            teams,
            field: SelectField::Attribute(attribute),
            grouped: false,
        } => Some((teams.clone(), *attribute)),
        ExprNode::Call {
            function: Function::Flatten,
            arg,
        } => match &arg.node {
            ExprNode::Select {
                teams,
                field: SelectField::Attribute(attribute),
                grouped: true,
            } => Some((teams.clone(), *attribute)),
            _ => None,
        },
        _ => None,
    }
}

/// `max(everyone's a)` to `min(everyone's a)` (either way round): the spread of `a`.
fn spread_of(
    measurement: &TypedExpr,
    reference: &TypedExpr,
    all_teams: &[TeamId],
) -> Option<AttributeId> {
    let over_everyone = |expr: &TypedExpr, wanted: Function| match &expr.node {
        ExprNode::Call { function, arg } if *function == wanted => players_attribute(arg)
            .filter(|(teams, _)| teams == all_teams)
            .map(|(_, a)| a),
        _ => None,
    };
    let pair = |a: &TypedExpr, b: &TypedExpr| {
        let high = over_everyone(a, Function::Max)?;
        let low = over_everyone(b, Function::Min)?;
        (high == low).then_some(high)
    };
    pair(measurement, reference).or_else(|| pair(reference, measurement))
}

/// The first attribute an expression reads.
fn first_attribute(expr: &TypedExpr) -> Option<AttributeId> {
    match &expr.node {
        ExprNode::Select {
            field: SelectField::Attribute(attribute),
            ..
        } => Some(*attribute),
        ExprNode::Call { arg, .. } => first_attribute(arg),
        ExprNode::List(items) => items.iter().find_map(first_attribute),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rally_rules::{SourceFormat, check_source};

    fn analyse(dsl: &str) -> Analysis {
        let checked = check_source(dsl, SourceFormat::Dsl);
        assert!(checked.is_valid(), "{:?}", checked.diagnostics);
        Analysis::of(&checked.rule_set.unwrap())
    }

    #[test]
    fn finds_equalities_spreads_and_player_tests() {
        let analysis = analyse(
            r#"attribute skill: number = 1
attribute league: number = 1
attribute mode: string = "a"
attribute wants: number = 0
team players players 2
team monster players 1
rule same_mode: batchDistance mode
rule close_league: batchDistance league max 2
rule skill_spread: distance max(flatten(teams[*].players.attributes[skill])) to min(flatten(teams[*].players.attributes[skill])) max 100
rule monster_wants: comparison teams[monster].players.attributes[wants] = 1
rule sane_skill: comparison flatten(teams[*].players.attributes[skill]) < 5000
rule ping: latency max 150ms
"#,
        );
        assert_eq!(analysis.equal.len(), 1);
        assert_eq!(analysis.equal[0].attribute, AttributeId(2));
        let spreads: Vec<AttributeId> = analysis.spreads.iter().map(|s| s.attribute).collect();
        assert_eq!(spreads, [AttributeId(1), AttributeId(0)]);
        assert_eq!(analysis.player_tests.len(), 2);
        assert_eq!(analysis.player_tests[0].teams, [TeamId(1)]);
        assert_eq!(analysis.player_tests[1].teams, [TeamId(0), TeamId(1)]);
        assert_eq!(analysis.latency.len(), 1);
        assert_eq!(analysis.closeness, [AttributeId(1), AttributeId(0)]);
    }

    #[test]
    fn compound_parts_are_not_filters() {
        let analysis = analyse(
            r#"attribute mode: string = "a"
attribute skill: number = 1
team a players 2
rule same_mode: comparison flatten(teams[*].players.attributes[mode]) all equal
rule close: distance max(flatten(teams[*].players.attributes[skill])) to min(flatten(teams[*].players.attributes[skill])) max 10
rule either: compound or(same_mode, close)
"#,
        );
        assert!(analysis.equal.is_empty());
        assert!(analysis.spreads.is_empty());
        assert_eq!(analysis.closeness, [AttributeId(1)], "still a good order");
    }

    fn variants(dsl: &str) -> Vec<Analysis> {
        let checked = check_source(dsl, SourceFormat::Dsl);
        assert!(checked.is_valid(), "{:?}", checked.diagnostics);
        Analysis::variants(&checked.rule_set.unwrap())
    }

    const PARTS: &str = r#"attribute mode: string = "a"
attribute map: string = "a"
attribute skill: number = 1
team a players 2
rule same_mode: comparison flatten(teams[*].players.attributes[mode]) all equal
rule same_map: comparison flatten(teams[*].players.attributes[map]) all equal
rule close: distance max(flatten(teams[*].players.attributes[skill])) to min(flatten(teams[*].players.attributes[skill])) max 10
"#;

    #[test]
    fn each_branch_of_a_compound_rule_is_a_variant() {
        let found = variants(&format!(
            "{PARTS}rule either: compound or(and(same_mode, same_map), close)\n"
        ));
        assert_eq!(found.len(), 2);
        let equal: Vec<AttributeId> = found[0].equal.iter().map(|e| e.attribute).collect();
        assert_eq!(equal, [AttributeId(0), AttributeId(1)]);
        assert!(found[0].spreads.is_empty());
        assert!(found[1].equal.is_empty());
        assert_eq!(found[1].spreads[0].attribute, AttributeId(2));
    }

    #[test]
    fn negations_are_branches_that_need_rules_to_fail() {
        let negated = variants(&format!(
            "{PARTS}rule either: compound or(not(same_mode), close)\n"
        ));
        assert_eq!(negated.len(), 2);
        // `same_map` is not in the compound rule, so it decides on its own in both.
        let equal = |a: &Analysis| a.equal.iter().map(|e| e.attribute).collect::<Vec<_>>();
        assert_eq!(equal(&negated[0]), [AttributeId(1)]);
        assert_eq!(negated[0].negated.rules, [RuleId(0)]);
        assert_eq!(negated[0].negated.equal[0].attribute, AttributeId(0));
        assert_eq!(negated[1].spreads[0].attribute, AttributeId(2));
        assert!(negated[1].negated.rules.is_empty());
        // xor(not(close), same_mode): far apart in different modes, or close in one mode.
        let xor = variants(&format!(
            "{PARTS}rule either: compound xor(not(close), same_mode)\n"
        ));
        assert_eq!(xor.len(), 2);
        let far = xor.iter().find(|a| a.spreads.is_empty()).unwrap();
        assert_eq!(far.negated.rules, [RuleId(0), RuleId(2)]);
        assert_eq!(far.negated.spreads[0].attribute, AttributeId(2));
        let near = xor.iter().find(|a| !a.spreads.is_empty()).unwrap();
        assert_eq!(equal(near), [AttributeId(1), AttributeId(0)]);
        assert!(near.negated.rules.is_empty());
        let distributed = variants(&format!(
            "{PARTS}rule both: compound and(close, xor(same_mode, same_map))\n"
        ));
        assert_eq!(distributed.len(), 2);
        assert!(
            distributed
                .iter()
                .all(|a| a.spreads.len() == 1 && a.equal.len() == 1 && a.negated.equal.len() == 1)
        );
        assert_ne!(distributed[0].equal, distributed[1].equal);
        // A branch needing a rule to pass and to fail is no branch; a rule with none leaves
        // one variant, whose every match the judge refuses.
        let contradiction = variants(&format!(
            "{PARTS}rule odd: compound and(close, not(close))\n"
        ));
        assert_eq!(contradiction.len(), 1);
        assert!(contradiction[0].spreads.is_empty() && contradiction[0].negated.rules.is_empty());
    }
}
