//! The rule-set model both formats read into: FlexMatch's structure, with every property's
//! source span, before any checking. JSON and the DSL print from it, so converting between
//! them is a read followed by a print.

pub use crate::expr::{Target, TargetComponent};

use crate::expr::{Expr, Statement};
use crate::span::{Span, Spanned};

/// Which format a rule set was read from; diagnostics name properties the way it spells them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceFormat {
    /// FlexMatch JSON (`ruleLanguageVersion` 1.0).
    Json,
    /// The rally DSL (`.rules` files).
    Dsl,
}

/// A property as read: absent, present but unreadable (already reported), or given.
///
/// Telling "invalid" from "absent" keeps one mistake from also being reported as a missing
/// property.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Field<T> {
    #[default]
    Absent,
    Invalid,
    Given(Spanned<T>),
}

impl<T> Field<T> {
    pub fn given(&self) -> Option<&Spanned<T>> {
        match self {
            Field::Given(spanned) => Some(spanned),
            Field::Absent | Field::Invalid => None,
        }
    }

    pub fn value(&self) -> Option<&T> {
        self.given().map(|spanned| &spanned.value)
    }

    pub fn span(&self) -> Option<Span> {
        self.given().map(|spanned| spanned.span)
    }

    pub fn is_absent(&self) -> bool {
        matches!(self, Field::Absent)
    }

    pub fn is_present(&self) -> bool {
        !self.is_absent()
    }

    pub fn given_new(value: T, span: Span) -> Field<T> {
        Field::Given(Spanned::new(value, span))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RuleSetAst {
    pub format: SourceFormat,
    /// The whole document, for diagnostics about something missing from it.
    pub span: Span,
    pub name: Field<String>,
    pub language_version: Field<String>,
    pub attributes: Vec<AttributeDecl>,
    pub algorithm: AlgorithmDecl,
    pub teams: Field<Vec<TeamDecl>>,
    pub rules: Vec<RuleDecl>,
    pub expansions: Vec<ExpansionDecl>,
}

impl RuleSetAst {
    pub fn teams(&self) -> &[TeamDecl] {
        self.teams.value().map_or(&[], Vec::as_slice)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct AttributeDecl {
    pub span: Span,
    pub name: Field<String>,
    pub ty: Field<AttributeType>,
    pub default: Field<Value>,
}

/// A literal value: an attribute default or an expansion step's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Number(f64),
    String(String),
    List(Vec<Spanned<Value>>),
    Map(Vec<(Spanned<String>, Spanned<Value>)>),
    Bool(bool),
    Null,
}

impl Value {
    pub fn describe(&self) -> &'static str {
        match self {
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::List(_) => "a list",
            Value::Map(_) => "a map",
            Value::Bool(_) => "a boolean",
            Value::Null => "null",
        }
    }
}

/// The settings of an `algorithm` block, by their FlexMatch names (the DSL uses the same).
pub const ALGORITHM_SETTINGS: &[&str] = &[
    "strategy",
    "batchingPreference",
    "sortByAttributes",
    "balancedAttribute",
    "backfillPriority",
    "expansionAgeSelection",
];

#[derive(Clone, Debug, PartialEq, Default)]
pub struct AlgorithmDecl {
    pub span: Option<Span>,
    pub strategy: Field<Strategy>,
    pub batching_preference: Field<BatchingPreference>,
    pub sort_by_attributes: Field<Vec<Spanned<String>>>,
    pub balanced_attribute: Field<String>,
    pub backfill_priority: Field<BackfillPriority>,
    pub expansion_age_selection: Field<ExpansionAgeSelection>,
}

impl AlgorithmDecl {
    pub fn is_empty(&self) -> bool {
        self.strategy.is_absent()
            && self.batching_preference.is_absent()
            && self.sort_by_attributes.is_absent()
            && self.balanced_attribute.is_absent()
            && self.backfill_priority.is_absent()
            && self.expansion_age_selection.is_absent()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TeamDecl {
    pub span: Span,
    pub name: Field<String>,
    pub min_players: Field<f64>,
    pub max_players: Field<f64>,
    pub quantity: Field<f64>,
}

/// One rule. Properties are flat, as in FlexMatch's JSON; which ones a rule type uses is the
/// checker's business, so both formats report a misplaced property the same way.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct RuleDecl {
    pub span: Span,
    pub name: Field<String>,
    pub description: Field<String>,
    pub kind: Field<RuleType>,
    pub measurements: Field<Expr>,
    pub reference_value: Field<Expr>,
    pub operation: Field<Operation>,
    pub min_distance: Field<f64>,
    pub max_distance: Field<f64>,
    pub min_count: Field<f64>,
    pub max_count: Field<f64>,
    pub max_latency: Field<f64>,
    pub distance_reference: Field<DistanceReference>,
    pub sort_direction: Field<SortDirection>,
    pub sort_attribute: Field<String>,
    pub map_key: Field<MapKey>,
    pub party_aggregation: Field<PartyAggregation>,
    pub batch_attribute: Field<String>,
    pub statement: Field<Statement>,
}

impl RuleDecl {
    /// The type-specific properties this rule gives, with where each is written.
    pub fn given_properties(&self) -> Vec<(RuleProperty, Span)> {
        use RuleProperty as P;
        let spans = [
            (P::Measurements, self.measurements.span()),
            (P::ReferenceValue, self.reference_value.span()),
            (P::Operation, self.operation.span()),
            (P::MinDistance, self.min_distance.span()),
            (P::MaxDistance, self.max_distance.span()),
            (P::MinCount, self.min_count.span()),
            (P::MaxCount, self.max_count.span()),
            (P::MaxLatency, self.max_latency.span()),
            (P::DistanceReference, self.distance_reference.span()),
            (P::SortDirection, self.sort_direction.span()),
            (P::SortAttribute, self.sort_attribute.span()),
            (P::MapKey, self.map_key.span()),
            (P::PartyAggregation, self.party_aggregation.span()),
            (P::BatchAttribute, self.batch_attribute.span()),
            (P::Statement, self.statement.span()),
        ];
        spans
            .into_iter()
            .filter_map(|(property, span)| Some((property, span?)))
            .collect()
    }

    /// Whether a property was written at all, readable or not.
    pub fn is_present(&self, property: RuleProperty) -> bool {
        use RuleProperty as P;
        match property {
            P::Measurements => self.measurements.is_present(),
            P::ReferenceValue => self.reference_value.is_present(),
            P::Operation => self.operation.is_present(),
            P::MinDistance => self.min_distance.is_present(),
            P::MaxDistance => self.max_distance.is_present(),
            P::MinCount => self.min_count.is_present(),
            P::MaxCount => self.max_count.is_present(),
            P::MaxLatency => self.max_latency.is_present(),
            P::DistanceReference => self.distance_reference.is_present(),
            P::SortDirection => self.sort_direction.is_present(),
            P::SortAttribute => self.sort_attribute.is_present(),
            P::MapKey => self.map_key.is_present(),
            P::PartyAggregation => self.party_aggregation.is_present(),
            P::BatchAttribute => self.batch_attribute.is_present(),
            P::Statement => self.statement.is_present(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ExpansionDecl {
    pub span: Span,
    pub target: Field<Target>,
    pub steps: Field<Vec<StepDecl>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StepDecl {
    pub span: Span,
    pub wait_time_seconds: Field<f64>,
    pub value: Field<Value>,
}

keywords!(
    /// A player attribute's declared type.
    AttributeType {
        String = "string",
        Number = "number",
        StringList = "string_list",
        StringNumberMap = "string_number_map",
    }
);

keywords!(
    Strategy {
        ExhaustiveSearch = "exhaustiveSearch",
        Balanced = "balanced",
    }
);

keywords!(
    BatchingPreference {
        Random = "random",
        Sorted = "sorted",
        LargestPopulation = "largestPopulation",
        FastestRegion = "fastestRegion",
    }
);

keywords!(
    BackfillPriority {
        Normal = "normal",
        Low = "low",
        High = "high",
    }
);

keywords!(
    ExpansionAgeSelection {
        Newest = "newest",
        Oldest = "oldest",
    }
);

keywords!(
    RuleType {
        BatchDistance = "batchDistance",
        Comparison = "comparison",
        Collection = "collection",
        Distance = "distance",
        Latency = "latency",
        AbsoluteSort = "absoluteSort",
        DistanceSort = "distanceSort",
        Compound = "compound",
    }
);

impl RuleType {
    /// The type-specific properties a rule of this type may give.
    pub fn properties(self) -> &'static [RuleProperty] {
        use RuleProperty as P;
        match self {
            RuleType::Comparison => &[
                P::Measurements,
                P::ReferenceValue,
                P::Operation,
                P::PartyAggregation,
            ],
            RuleType::Distance => &[
                P::Measurements,
                P::ReferenceValue,
                P::MinDistance,
                P::MaxDistance,
                P::PartyAggregation,
            ],
            RuleType::Collection => &[
                P::Measurements,
                P::ReferenceValue,
                P::Operation,
                P::MinCount,
                P::MaxCount,
                P::PartyAggregation,
            ],
            RuleType::Latency => &[
                P::MaxLatency,
                P::MaxDistance,
                P::DistanceReference,
                P::PartyAggregation,
            ],
            RuleType::AbsoluteSort | RuleType::DistanceSort => &[
                P::SortDirection,
                P::SortAttribute,
                P::MapKey,
                P::PartyAggregation,
            ],
            RuleType::BatchDistance => &[P::BatchAttribute, P::MaxDistance, P::PartyAggregation],
            RuleType::Compound => &[P::Statement],
        }
    }

    pub fn allows(self, property: RuleProperty) -> bool {
        self.properties().contains(&property)
    }

    /// The properties an expansion may relax: the numeric bounds, and a literal reference value.
    pub fn relaxable(self) -> &'static [RuleProperty] {
        use RuleProperty as P;
        match self {
            RuleType::Comparison => &[P::ReferenceValue],
            RuleType::Distance => &[P::ReferenceValue, P::MinDistance, P::MaxDistance],
            RuleType::Collection => &[P::ReferenceValue, P::MinCount, P::MaxCount],
            RuleType::Latency => &[P::MaxLatency, P::MaxDistance],
            RuleType::BatchDistance => &[P::MaxDistance],
            RuleType::AbsoluteSort | RuleType::DistanceSort | RuleType::Compound => &[],
        }
    }

    /// The rule types that use a property, for "`maxCount` belongs to …" help.
    pub fn users_of(property: RuleProperty) -> Vec<RuleType> {
        RuleType::ALL
            .iter()
            .copied()
            .filter(|rule_type| rule_type.allows(property))
            .collect()
    }
}

keywords!(
    /// A rule's `operation`: comparison operators and collection operations.
    Operation {
        Equal = "=",
        NotEqual = "!=",
        Less = "<",
        LessOrEqual = "<=",
        Greater = ">",
        GreaterOrEqual = ">=",
        Intersection = "intersection",
        Contains = "contains",
        ReferenceIntersectionCount = "reference_intersection_count",
    }
);

impl Operation {
    pub fn is_comparison(self) -> bool {
        !self.is_collection()
    }

    pub fn is_collection(self) -> bool {
        matches!(
            self,
            Operation::Intersection | Operation::Contains | Operation::ReferenceIntersectionCount
        )
    }
}

keywords!(
    DistanceReference {
        Min = "min",
        Avg = "avg",
    }
);

keywords!(
    SortDirection {
        Ascending = "ascending",
        Descending = "descending",
    }
);

keywords!(
    MapKey {
        MinValue = "minValue",
        MaxValue = "maxValue",
    }
);

keywords!(
    /// How a party's values are summarised; `union`/`intersection` are for collection rules.
    PartyAggregation {
        Min = "min",
        Max = "max",
        Avg = "avg",
        Union = "union",
        Intersection = "intersection",
    }
);

keywords!(
    /// The type-specific properties of a rule, by their JSON names.
    RuleProperty {
        Measurements = "measurements",
        ReferenceValue = "referenceValue",
        Operation = "operation",
        MinDistance = "minDistance",
        MaxDistance = "maxDistance",
        MinCount = "minCount",
        MaxCount = "maxCount",
        MaxLatency = "maxLatency",
        DistanceReference = "distanceReference",
        SortDirection = "sortDirection",
        SortAttribute = "sortAttribute",
        MapKey = "mapKey",
        PartyAggregation = "partyAggregation",
        BatchAttribute = "batchAttribute",
        Statement = "statement",
    }
);

keywords!(
    /// Team properties an expansion can target.
    TeamProperty {
        MinPlayers = "minPlayers",
        MaxPlayers = "maxPlayers",
        Quantity = "quantity",
        Name = "name",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_round_trip_through_their_spelling() {
        for rule_type in RuleType::ALL {
            assert_eq!(RuleType::parse(rule_type.as_str()), Some(*rule_type));
        }
        assert_eq!(
            Operation::parse("reference_intersection_count"),
            Some(Operation::ReferenceIntersectionCount)
        );
        assert_eq!(Operation::parse("=="), None);
        assert!(Operation::Contains.is_collection());
        assert!(Operation::LessOrEqual.is_comparison());
    }

    #[test]
    fn given_properties_lists_what_a_rule_sets() {
        let rule = RuleDecl {
            max_distance: Field::given_new(10.0, Span::new(3, 5)),
            party_aggregation: Field::Invalid,
            ..RuleDecl::default()
        };
        assert_eq!(
            rule.given_properties(),
            [(RuleProperty::MaxDistance, Span::new(3, 5))]
        );
        assert!(rule.is_present(RuleProperty::PartyAggregation));
        assert!(!rule.is_present(RuleProperty::MinDistance));
    }
}
