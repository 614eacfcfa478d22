//! The compiled rule set the matcher evaluates: every name resolved to an index, every
//! expression typed, every default applied. Nothing here needs a name lookup or string parsing.

use std::fmt;
use std::ops::Range;

pub use crate::ast::{
    AttributeType, BackfillPriority, BatchingPreference, DistanceReference, ExpansionAgeSelection,
    MapKey, RuleProperty, SortDirection, Strategy,
};

/// Index into [`RuleSet::attributes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttributeId(pub usize);

/// Index into [`RuleSet::teams`] (a team after `quantity` copies are made).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TeamId(pub usize);

/// Index into [`RuleSet::team_definitions`] (a team as the rule set declares it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TeamDefinitionId(pub usize);

/// Index into [`RuleSet::rules`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(pub usize);

/// Matches of more than this many players are "large" and use the balanced strategy.
pub const SMALL_MATCH_MAX_PLAYERS: u32 = 40;
/// FlexMatch's limit on players in one match.
pub const MATCH_MAX_PLAYERS: u32 = 200;

#[derive(Clone, Debug, PartialEq)]
pub struct RuleSet {
    /// The rule set's descriptive `name`, if it has one.
    pub name: Option<String>,
    pub attributes: Vec<Attribute>,
    pub algorithm: Algorithm,
    pub team_definitions: Vec<TeamDefinition>,
    /// Teams as they appear in a match: a definition with `quantity: 3` gives three.
    pub teams: Vec<Team>,
    pub rules: Vec<Rule>,
    pub expansions: Vec<Expansion>,
    /// The most players a match can hold once expansions have raised `maxPlayers`; the
    /// 40-player line between small and large matches is drawn here.
    pub max_players_with_expansions: u32,
}

impl RuleSet {
    /// The most players a match can hold, before expansions.
    pub fn max_players(&self) -> u32 {
        self.teams.iter().map(|team| team.max_players).sum()
    }

    /// Whether this is a large match (more than 40 players, counting expansions), matched by
    /// the balanced strategy.
    pub fn is_large_match(&self) -> bool {
        self.max_players_with_expansions > SMALL_MATCH_MAX_PLAYERS
    }

    pub fn attribute(&self, id: AttributeId) -> &Attribute {
        &self.attributes[id.0]
    }

    pub fn attribute_id(&self, name: &str) -> Option<AttributeId> {
        self.attributes
            .iter()
            .position(|attribute| attribute.name == name)
            .map(AttributeId)
    }

    pub fn team(&self, id: TeamId) -> &Team {
        &self.teams[id.0]
    }

    pub fn rule(&self, id: RuleId) -> &Rule {
        &self.rules[id.0]
    }

    pub fn rule_id(&self, name: &str) -> Option<RuleId> {
        self.rules
            .iter()
            .position(|rule| rule.name == name)
            .map(RuleId)
    }

    /// The rules a match must pass directly: all but sort rules (which only order candidates)
    /// and the parts of compound rules (which count only through their compound rule).
    pub fn deciding_rules(&self) -> impl Iterator<Item = (RuleId, &Rule)> {
        self.rules
            .iter()
            .enumerate()
            .filter(|(_, rule)| !rule.in_compound && !rule.kind.is_sort())
            .map(|(i, rule)| (RuleId(i), rule))
    }

    /// The expansion that relaxes `target`, if any.
    pub fn expansion_for(&self, target: &ExpansionTarget) -> Option<&Expansion> {
        self.expansions
            .iter()
            .find(|expansion| &expansion.target == target)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub name: String,
    pub ty: AttributeType,
    /// The value a player without this attribute gets; without one, such a player's ticket
    /// can never match.
    pub default: Option<AttributeValue>,
}

/// A player attribute's value, as GameLift's `AttributeValue` carries it (`S`, `N`, `SL`, `SDM`).
#[derive(Clone, Debug, PartialEq)]
pub enum AttributeValue {
    String(String),
    Number(f64),
    /// Duplicates removed, first occurrence kept, as FlexMatch does.
    StringList(Vec<String>),
    /// Sorted by key, so iteration order never depends on how the value was written.
    StringNumberMap(Vec<(String, f64)>),
}

impl AttributeValue {
    pub fn ty(&self) -> AttributeType {
        match self {
            AttributeValue::String(_) => AttributeType::String,
            AttributeValue::Number(_) => AttributeType::Number,
            AttributeValue::StringList(_) => AttributeType::StringList,
            AttributeValue::StringNumberMap(_) => AttributeType::StringNumberMap,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Algorithm {
    /// The strategy rally runs. A rule set declaring `balanced` for 40 players or fewer runs
    /// exhaustiveSearch (FlexMatch's example 10 does this; see `Code::BalancedSmallMatch`).
    pub strategy: Strategy,
    /// How the pool is split into batches. `random` and `sorted` go with exhaustiveSearch,
    /// `largestPopulation` and `fastestRegion` with balanced; a "balanced" rule set that rally
    /// runs as exhaustiveSearch keeps its location-based preference, which then groups the
    /// pool by location before the search (the designer asked for it; it loses nothing).
    pub batching_preference: BatchingPreference,
    pub sort_by_attributes: Vec<AttributeId>,
    /// The attribute teams are balanced on after a match forms, when the rule set names one.
    pub balanced_attribute: Option<AttributeId>,
    pub backfill_priority: BackfillPriority,
    pub expansion_age_selection: ExpansionAgeSelection,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TeamDefinition {
    pub name: String,
    pub min_players: u32,
    pub max_players: u32,
    pub quantity: u32,
    /// The teams this definition makes, consecutive in [`RuleSet::teams`].
    pub teams: Range<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Team {
    /// The definition's name, or `<name>_<n>` (from 1) for each copy when `quantity` > 1.
    pub name: String,
    pub definition: TeamDefinitionId,
    pub min_players: u32,
    pub max_players: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub name: String,
    pub description: Option<String>,
    pub kind: RuleKind,
    /// Named by a compound rule: such a rule is evaluated only through it.
    pub in_compound: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum RuleKind {
    Comparison(ComparisonRule),
    Distance(DistanceRule),
    Collection(CollectionRule),
    Latency(LatencyRule),
    AbsoluteSort(SortRule),
    DistanceSort(SortRule),
    BatchDistance(BatchDistanceRule),
    Compound(CompoundRule),
}

impl RuleKind {
    /// Sort rules order candidates and never reject a match.
    pub fn is_sort(&self) -> bool {
        matches!(self, RuleKind::AbsoluteSort(_) | RuleKind::DistanceSort(_))
    }
}

/// How a party's values become one value when a rule compares tickets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PartyAggregation {
    Min,
    Max,
    Avg,
}

/// How a party's string lists combine for a collection rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CollectionPartyAggregation {
    Union,
    Intersection,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ComparisonOperation {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CollectionOperation {
    Intersection,
    Contains,
    ReferenceIntersectionCount,
}

/// `measurement operation reference`; without a reference, `=` means "all measured values
/// are equal" and `!=` "all are different".
#[derive(Clone, Debug, PartialEq)]
pub struct ComparisonRule {
    pub measurement: TypedExpr,
    pub reference: Option<TypedExpr>,
    pub operation: ComparisonOperation,
    pub party_aggregation: PartyAggregation,
}

/// Every measured number lies within `[min_distance, max_distance]` of the reference.
#[derive(Clone, Debug, PartialEq)]
pub struct DistanceRule {
    pub measurement: TypedExpr,
    pub reference: TypedExpr,
    pub min_distance: Option<f64>,
    pub max_distance: Option<f64>,
    pub party_aggregation: PartyAggregation,
}

/// A count over players' string lists lies within `[min_count, max_count]`.
#[derive(Clone, Debug, PartialEq)]
pub struct CollectionRule {
    /// Always a `List<List<string>>`: one collection per player.
    pub measurement: TypedExpr,
    pub reference: Option<TypedExpr>,
    pub operation: CollectionOperation,
    pub min_count: Option<u32>,
    pub max_count: Option<u32>,
    pub party_aggregation: CollectionPartyAggregation,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LatencyRule {
    /// A location qualifies when every player's latency there is at most this.
    pub max_latency: Option<f64>,
    /// Every ticket's latency lies within this of the reference (with `distance_reference`).
    pub max_distance: Option<f64>,
    pub distance_reference: Option<DistanceReference>,
    pub party_aggregation: PartyAggregation,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SortRule {
    pub attribute: AttributeId,
    pub direction: SortDirection,
    /// For `string_number_map` attributes: which of the anchor's keys to sort by.
    pub map_key: Option<MapKey>,
    pub party_aggregation: PartyAggregation,
}

/// All players of a match lie within `max_distance` on a number attribute, or share the
/// value of a string attribute (or of a number attribute without `max_distance`).
#[derive(Clone, Debug, PartialEq)]
pub struct BatchDistanceRule {
    pub attribute: AttributeId,
    pub max_distance: Option<f64>,
    pub party_aggregation: PartyAggregation,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CompoundRule {
    pub condition: Condition,
}

/// A compound rule's statement with rule names resolved.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    Rule(RuleId),
    And(Box<Condition>, Box<Condition>),
    Or(Box<Condition>, Box<Condition>),
    Xor(Box<Condition>, Box<Condition>),
    Not(Box<Condition>),
}

impl Condition {
    /// Every rule the condition names, in order of appearance.
    pub fn rules(&self) -> Vec<RuleId> {
        let mut rules = Vec::new();
        self.collect_rules(&mut rules);
        rules
    }

    fn collect_rules(&self, out: &mut Vec<RuleId>) {
        match self {
            Condition::Rule(rule) => out.push(*rule),
            Condition::And(a, b) | Condition::Or(a, b) | Condition::Xor(a, b) => {
                a.collect_rules(out);
                b.collect_rules(out);
            }
            Condition::Not(a) => a.collect_rules(out),
        }
    }

    /// Evaluates the condition given each named rule's outcome.
    pub fn evaluate(&self, outcome: &mut impl FnMut(RuleId) -> bool) -> bool {
        match self {
            Condition::Rule(rule) => outcome(*rule),
            Condition::And(a, b) => a.evaluate(outcome) && b.evaluate(outcome),
            Condition::Or(a, b) => a.evaluate(outcome) || b.evaluate(outcome),
            Condition::Xor(a, b) => a.evaluate(outcome) != b.evaluate(outcome),
            Condition::Not(a) => !a.evaluate(outcome),
        }
    }
}

/// A property expression with its type worked out and its names resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct TypedExpr {
    pub node: ExprNode,
    pub ty: Type,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprNode {
    Number(f64),
    String(String),
    List(Vec<TypedExpr>),
    /// `teams[...]`, optionally `.players` with a field. `grouped` keeps one list per team
    /// (`teams[*]`, `teams[a, b]`, or a team with copies); otherwise the one team's players.
    Select {
        teams: Vec<TeamId>,
        grouped: bool,
        field: SelectField,
    },
    Call {
        function: Function,
        arg: Box<TypedExpr>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SelectField {
    /// The teams themselves (`teams[*]`).
    Teams,
    /// `.players`
    Players,
    /// `.players.attributes[x]`
    Attribute(AttributeId),
    /// `.players[playerId]`
    PlayerId,
}

keywords!(
    /// The functions of FlexMatch's property-expression language.
    Function {
        Min = "min",
        Max = "max",
        Avg = "avg",
        Median = "median",
        Sum = "sum",
        Count = "count",
        Stddev = "stddev",
        Flatten = "flatten",
        SetIntersection = "set_intersection",
    }
);

impl Function {
    /// Aggregations of numbers: `List<number>` → `number`.
    pub fn is_numeric_aggregate(self) -> bool {
        matches!(
            self,
            Function::Min
                | Function::Max
                | Function::Avg
                | Function::Median
                | Function::Sum
                | Function::Stddev
        )
    }
}

/// Types of the property-expression language, written as FlexMatch's guide writes them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Number,
    String,
    Player,
    Team,
    StringNumberMap,
    List(Box<Type>),
}

impl Type {
    pub fn list(inner: Type) -> Type {
        Type::List(Box::new(inner))
    }

    pub fn element(&self) -> Option<&Type> {
        match self {
            Type::List(inner) => Some(inner),
            _ => None,
        }
    }

    /// How many lists deep the type is: `number` 0, `List<List<number>>` 2.
    pub fn depth(&self) -> usize {
        match self {
            Type::List(inner) => 1 + inner.depth(),
            _ => 0,
        }
    }

    /// The type inside all the lists.
    pub fn innermost(&self) -> &Type {
        match self {
            Type::List(inner) => inner.innermost(),
            other => other,
        }
    }

    pub fn of_attribute(ty: AttributeType) -> Type {
        match ty {
            AttributeType::String => Type::String,
            AttributeType::Number => Type::Number,
            AttributeType::StringList => Type::list(Type::String),
            AttributeType::StringNumberMap => Type::StringNumberMap,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Number => f.write_str("number"),
            Type::String => f.write_str("string"),
            Type::Player => f.write_str("player"),
            Type::Team => f.write_str("team"),
            Type::StringNumberMap => f.write_str("string_number_map"),
            Type::List(inner) => write!(f, "List<{inner}>"),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expansion {
    pub target: ExpansionTarget,
    /// In order of strictly increasing wait time.
    pub steps: Vec<ExpansionStep>,
}

impl Expansion {
    /// The value in force once the relevant ticket has waited `age_seconds`, or `None`
    /// before the first step. A step applies from its wait time on, within the tolerance of
    /// [`crate::numeric`].
    pub fn value_at(&self, age_seconds: f64) -> Option<&StepValue> {
        self.steps
            .iter()
            .take_while(|step| crate::numeric::le(step.wait_time_seconds, age_seconds))
            .last()
            .map(|step| &step.value)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExpansionTarget {
    Rule {
        rule: RuleId,
        property: RuleProperty,
    },
    /// The definitions' copies all change together.
    Teams {
        definitions: Vec<TeamDefinitionId>,
        property: TeamBound,
    },
}

/// The team sizes an expansion can relax.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TeamBound {
    MinPlayers,
    MaxPlayers,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ExpansionStep {
    pub wait_time_seconds: f64,
    pub value: StepValue,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StepValue {
    Number(f64),
    String(String),
    /// A new reference collection for a collection rule.
    StringList(Vec<String>),
}

impl StepValue {
    pub fn as_number(&self) -> Option<f64> {
        match self {
            StepValue::Number(number) => Some(*number),
            StepValue::String(_) | StepValue::StringList(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_values_follow_wait_times() {
        let expansion = Expansion {
            target: ExpansionTarget::Rule {
                rule: RuleId(0),
                property: RuleProperty::MaxDistance,
            },
            steps: vec![
                ExpansionStep {
                    wait_time_seconds: 5.0,
                    value: StepValue::Number(50.0),
                },
                ExpansionStep {
                    wait_time_seconds: 15.0,
                    value: StepValue::Number(100.0),
                },
            ],
        };
        assert_eq!(expansion.value_at(4.9), None);
        assert_eq!(expansion.value_at(5.0), Some(&StepValue::Number(50.0)));
        assert_eq!(expansion.value_at(14.0), Some(&StepValue::Number(50.0)));
        assert_eq!(expansion.value_at(99.0), Some(&StepValue::Number(100.0)));
        // 16.06 − 1.06 is 14.999999999999998: the 15 s step applies.
        assert_eq!(
            expansion.value_at(16.06 - 1.06),
            Some(&StepValue::Number(100.0))
        );
    }

    #[test]
    fn conditions_evaluate_with_short_circuit_semantics() {
        // or(and(0, 1), not(2))
        let condition = Condition::Or(
            Box::new(Condition::And(
                Box::new(Condition::Rule(RuleId(0))),
                Box::new(Condition::Rule(RuleId(1))),
            )),
            Box::new(Condition::Not(Box::new(Condition::Rule(RuleId(2))))),
        );
        let outcomes = [true, false, true];
        assert!(!condition.evaluate(&mut |rule| outcomes[rule.0]));
        let outcomes = [true, true, true];
        assert!(condition.evaluate(&mut |rule| outcomes[rule.0]));
        assert_eq!(condition.rules(), [RuleId(0), RuleId(1), RuleId(2)]);
    }

    #[test]
    fn types_print_as_flexmatch_writes_them() {
        let ty = Type::list(Type::list(Type::Number));
        assert_eq!(ty.to_string(), "List<List<number>>");
        assert_eq!(ty.depth(), 2);
        assert_eq!(ty.innermost(), &Type::Number);
    }
}
