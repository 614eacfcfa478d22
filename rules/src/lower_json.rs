//! FlexMatch JSON (as a spanned tree) into the rule-set model: each property read with its
//! span, unknown properties and wrong value kinds reported. What must be present, and what
//! the values mean together, is the checker's job, shared with the DSL.

use crate::ast::*;
use crate::diagnostic::{Code, Diagnostic};
use crate::expr::{self, Expr, ExprKind};
use crate::json::{Json, JsonKind, JsonString};
use crate::span::{Span, Spanned};
use crate::suggest;

const TOP_LEVEL_KEYS: &[&str] = &[
    "name",
    "ruleLanguageVersion",
    "playerAttributes",
    "algorithm",
    "teams",
    "rules",
    "expansions",
];
const ATTRIBUTE_KEYS: &[&str] = &["name", "type", "default"];
const TEAM_KEYS: &[&str] = &["name", "minPlayers", "maxPlayers", "quantity"];
const RULE_COMMON_KEYS: &[&str] = &["name", "description", "type"];
const EXPANSION_KEYS: &[&str] = &["target", "steps"];
const STEP_KEYS: &[&str] = &["waitTimeSeconds", "value"];

/// Reads a parsed JSON document as a rule set. Returns `None` only when the document is not
/// an object at all.
pub(crate) fn lower(json: &Json, diagnostics: &mut Vec<Diagnostic>) -> Option<RuleSetAst> {
    let mut lower = Lower {
        diagnostics,
        key: String::new(),
    };
    let members = lower.object(json, "a rule set")?;
    lower.check_keys(members, TOP_LEVEL_KEYS, "a rule set");
    let mut ast = RuleSetAst {
        format: SourceFormat::Json,
        span: json.span,
        name: Field::Absent,
        language_version: Field::Absent,
        attributes: Vec::new(),
        algorithm: AlgorithmDecl::default(),
        teams: Field::Absent,
        rules: Vec::new(),
        expansions: Vec::new(),
    };
    for (key, value) in members {
        lower.key = key.value.clone();
        match key.value.as_str() {
            "name" => ast.name = lower.string(value),
            "ruleLanguageVersion" if matches!(value.kind, JsonKind::Number(_)) => {
                lower.diagnostics.push(
                    Diagnostic::new(
                        Code::WrongValueType,
                        value.span,
                        "`ruleLanguageVersion` is a string, found a number",
                    )
                    .with_help("write `\"1.0\"`, in quotes"),
                );
                ast.language_version = Field::Invalid;
            }
            "ruleLanguageVersion" => ast.language_version = lower.string(value),
            "playerAttributes" => {
                ast.attributes = lower.list(value, |lower, item| lower.attribute(item))
            }
            "algorithm" => ast.algorithm = lower.algorithm(value),
            "teams" => {
                let teams = lower.list(value, |lower, item| lower.team(item));
                ast.teams = match &value.kind {
                    // Teams that could not be read are reported; don't also call the list empty.
                    JsonKind::Array(items) if teams.is_empty() && !items.is_empty() => {
                        Field::Invalid
                    }
                    JsonKind::Array(_) => Field::given_new(teams, value.span),
                    _ => Field::Invalid,
                };
            }
            "rules" => ast.rules = lower.list(value, |lower, item| lower.rule(item)),
            "expansions" => ast.expansions = lower.list(value, |lower, item| lower.expansion(item)),
            _ => {}
        }
    }
    Some(ast)
}

struct Lower<'d> {
    diagnostics: &'d mut Vec<Diagnostic>,
    /// The property being read, so that a wrong value can name it.
    key: String,
}

impl Lower<'_> {
    fn wrong_type(&mut self, json: &Json, expected: &str) {
        let message = if self.key.is_empty() {
            format!("expected {expected}, found {}", json.kind.describe())
        } else {
            format!(
                "`{}`: expected {expected}, found {}",
                self.key,
                json.kind.describe()
            )
        };
        self.diagnostics
            .push(Diagnostic::new(Code::WrongValueType, json.span, message));
    }

    fn object<'j>(&mut self, json: &'j Json, what: &str) -> Option<&'j [(JsonString, Json)]> {
        match &json.kind {
            JsonKind::Object(members) => Some(members),
            _ => {
                self.wrong_type(json, &format!("{what} (a JSON object)"));
                None
            }
        }
    }

    /// Reports keys that are not in `known`, suggesting the closest known one.
    fn check_keys(&mut self, members: &[(JsonString, Json)], known: &[&str], what: &str) {
        for (key, _) in members {
            if !known.contains(&key.value.as_str()) {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::UnknownProperty,
                        key.span,
                        format!("unknown property `{}` in {what}", key.value),
                    )
                    .with_help(suggest::expected_one_of(&key.value, known)),
                );
            }
        }
    }

    /// Each element of an array read by `read`; anything else is reported and reads as empty.
    fn list<T>(
        &mut self,
        json: &Json,
        mut read: impl FnMut(&mut Self, &Json) -> Option<T>,
    ) -> Vec<T> {
        match &json.kind {
            JsonKind::Array(items) => items.iter().filter_map(|item| read(self, item)).collect(),
            _ => {
                self.wrong_type(json, "an array");
                Vec::new()
            }
        }
    }

    fn string(&mut self, json: &Json) -> Field<String> {
        match &json.kind {
            JsonKind::String(string) => Field::given_new(string.value.clone(), json.span),
            _ => {
                self.wrong_type(json, "a string");
                Field::Invalid
            }
        }
    }

    /// A number, also accepted when written as a string (`"500"`, as FlexMatch's own
    /// batchDistance example does) with a warning.
    fn number(&mut self, json: &Json) -> Field<f64> {
        match &json.kind {
            JsonKind::Number(number) => Field::given_new(*number, json.span),
            JsonKind::String(string) => match expr::number_in_string(&string.value) {
                Some(number) => {
                    self.diagnostics
                        .push(number_as_string(json.span, &string.value));
                    Field::given_new(number, json.span)
                }
                None => {
                    self.wrong_type(json, "a number");
                    Field::Invalid
                }
            },
            _ => {
                self.wrong_type(json, "a number");
                Field::Invalid
            }
        }
    }

    /// One of a keyword enum's spellings, with "did you mean" for near misses.
    fn keyword<K>(
        &mut self,
        json: &Json,
        what: &str,
        parse: fn(&str) -> Option<K>,
        names: &[&str],
    ) -> Field<K> {
        let JsonKind::String(string) = &json.kind else {
            self.wrong_type(json, &format!("{what} (one of {})", suggest::list(names)));
            return Field::Invalid;
        };
        match parse(&string.value) {
            Some(keyword) => Field::given_new(keyword, json.span),
            None => {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        json.span,
                        format!("`{}` is not a valid {what}", string.value),
                    )
                    .with_help(suggest::expected_one_of(&string.value, names)),
                );
                Field::Invalid
            }
        }
    }

    fn value(&mut self, json: &Json) -> Spanned<Value> {
        let value = match &json.kind {
            JsonKind::Null => Value::Null,
            JsonKind::Bool(b) => Value::Bool(*b),
            JsonKind::Number(n) => Value::Number(*n),
            JsonKind::String(s) => Value::String(s.value.clone()),
            JsonKind::Array(items) => {
                Value::List(items.iter().map(|item| self.value(item)).collect())
            }
            JsonKind::Object(members) => Value::Map(
                members
                    .iter()
                    .map(|(key, value)| {
                        (Spanned::new(key.value.clone(), key.span), self.value(value))
                    })
                    .collect(),
            ),
        };
        Spanned::new(value, json.span)
    }

    /// A measurement or reference value: a literal, or a property expression in a string.
    ///
    /// A string holding a bracket is read as an expression when it parses as one or plainly
    /// starts like one (`avg(…`, `teams[…`), whose errors are then reported; any other string
    /// is a string literal, so `"medic"` and `"medic (field)"` stay strings.
    fn expression(&mut self, json: &Json) -> Field<Expr> {
        match &json.kind {
            JsonKind::Number(number) => Field::given_new(
                Expr {
                    kind: ExprKind::Number(*number),
                    span: json.span,
                },
                json.span,
            ),
            JsonKind::String(string) if string.value.contains(['(', '[']) => {
                match expr::parse_expression(&string.value, &|span| string.source_span(span)) {
                    Ok(expr) => Field::given_new(expr, json.span),
                    Err(diagnostic) if expr::starts_like_expression(&string.value) => {
                        self.diagnostics.push(diagnostic);
                        Field::Invalid
                    }
                    Err(_) => Field::given_new(
                        Expr {
                            kind: ExprKind::String(string.value.clone()),
                            span: json.span,
                        },
                        json.span,
                    ),
                }
            }
            JsonKind::String(string) => Field::given_new(
                Expr {
                    kind: ExprKind::String(string.value.clone()),
                    span: json.span,
                },
                json.span,
            ),
            JsonKind::Array(items) => {
                let mut exprs = Vec::new();
                for item in items {
                    match self.expression(item) {
                        Field::Given(expr) => exprs.push(expr.value),
                        _ => return Field::Invalid,
                    }
                }
                Field::given_new(
                    Expr {
                        kind: ExprKind::List(exprs),
                        span: json.span,
                    },
                    json.span,
                )
            }
            _ => {
                self.wrong_type(json, "a property expression or a literal");
                Field::Invalid
            }
        }
    }

    /// `measurements`: FlexMatch writes both `["expr"]` and a bare `"expr"`.
    fn measurements(&mut self, json: &Json) -> Field<Expr> {
        match &json.kind {
            JsonKind::Array(items) if items.len() == 1 => {
                let mut field = self.expression(&items[0]);
                if let Field::Given(expr) = &mut field {
                    expr.span = json.span;
                }
                field
            }
            JsonKind::Array(items) => {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        json.span,
                        format!(
                            "`measurements` takes exactly one expression, found {}",
                            items.len()
                        ),
                    )
                    .with_help("write one expression, e.g. `[\"avg(teams[*].players.attributes[skill])\"]`"),
                );
                Field::Invalid
            }
            _ => self.expression(json),
        }
    }

    fn attribute(&mut self, json: &Json) -> Option<AttributeDecl> {
        let members = self.object(json, "a player attribute")?;
        self.check_keys(members, ATTRIBUTE_KEYS, "a player attribute");
        let mut attribute = AttributeDecl {
            span: json.span,
            name: Field::Absent,
            ty: Field::Absent,
            default: Field::Absent,
        };
        for (key, value) in members {
            self.key = key.value.clone();
            match key.value.as_str() {
                "name" => attribute.name = self.string(value),
                "type" => {
                    attribute.ty = self.keyword(
                        value,
                        "attribute type",
                        AttributeType::parse,
                        AttributeType::NAMES,
                    )
                }
                "default" => attribute.default = Field::Given(self.value(value)),
                _ => {}
            }
        }
        Some(attribute)
    }

    fn algorithm(&mut self, json: &Json) -> AlgorithmDecl {
        let mut algorithm = AlgorithmDecl {
            span: Some(json.span),
            ..AlgorithmDecl::default()
        };
        let Some(members) = self.object(json, "an algorithm") else {
            return algorithm;
        };
        self.check_keys(members, ALGORITHM_SETTINGS, "the algorithm");
        for (key, value) in members {
            self.key = key.value.clone();
            match key.value.as_str() {
                "strategy" => {
                    algorithm.strategy =
                        self.keyword(value, "strategy", Strategy::parse, Strategy::NAMES)
                }
                "batchingPreference" => {
                    algorithm.batching_preference = self.keyword(
                        value,
                        "batching preference",
                        BatchingPreference::parse,
                        BatchingPreference::NAMES,
                    )
                }
                "sortByAttributes" => {
                    algorithm.sort_by_attributes = match &value.kind {
                        JsonKind::Array(items) => {
                            let names =
                                self.list(value, |lower, item| lower.string(item).given().cloned());
                            if names.len() == items.len() {
                                Field::given_new(names, value.span)
                            } else {
                                Field::Invalid
                            }
                        }
                        _ => {
                            self.wrong_type(value, "an array of attribute names");
                            Field::Invalid
                        }
                    }
                }
                "balancedAttribute" => algorithm.balanced_attribute = self.string(value),
                "backfillPriority" => {
                    algorithm.backfill_priority = self.keyword(
                        value,
                        "backfill priority",
                        BackfillPriority::parse,
                        BackfillPriority::NAMES,
                    )
                }
                "expansionAgeSelection" => {
                    algorithm.expansion_age_selection = self.keyword(
                        value,
                        "expansion age selection",
                        ExpansionAgeSelection::parse,
                        ExpansionAgeSelection::NAMES,
                    )
                }
                _ => {}
            }
        }
        algorithm
    }

    fn team(&mut self, json: &Json) -> Option<TeamDecl> {
        let members = self.object(json, "a team")?;
        self.check_keys(members, TEAM_KEYS, "a team");
        let mut team = TeamDecl {
            span: json.span,
            name: Field::Absent,
            min_players: Field::Absent,
            max_players: Field::Absent,
            quantity: Field::Absent,
        };
        for (key, value) in members {
            self.key = key.value.clone();
            match key.value.as_str() {
                "name" => team.name = self.string(value),
                "minPlayers" => team.min_players = self.number(value),
                "maxPlayers" => team.max_players = self.number(value),
                "quantity" => team.quantity = self.number(value),
                _ => {}
            }
        }
        Some(team)
    }

    fn rule(&mut self, json: &Json) -> Option<RuleDecl> {
        let members = self.object(json, "a rule")?;
        let known: Vec<&str> = RULE_COMMON_KEYS
            .iter()
            .chain(RuleProperty::NAMES)
            .copied()
            .collect();
        self.check_keys(members, &known, "a rule");
        let mut rule = RuleDecl {
            span: json.span,
            ..RuleDecl::default()
        };
        for (key, value) in members {
            self.key = key.value.clone();
            let Some(property) = RuleProperty::parse(&key.value) else {
                match key.value.as_str() {
                    "name" => rule.name = self.string(value),
                    "description" => rule.description = self.string(value),
                    "type" => rule.kind = self.rule_type(value),
                    _ => {}
                }
                continue;
            };
            use RuleProperty as P;
            match property {
                P::Measurements => rule.measurements = self.measurements(value),
                P::ReferenceValue => rule.reference_value = self.expression(value),
                P::Operation => {
                    rule.operation =
                        self.keyword(value, "operation", Operation::parse, Operation::NAMES)
                }
                P::MinDistance => rule.min_distance = self.number(value),
                P::MaxDistance => rule.max_distance = self.number(value),
                P::MinCount => rule.min_count = self.number(value),
                P::MaxCount => rule.max_count = self.number(value),
                P::MaxLatency => rule.max_latency = self.number(value),
                P::DistanceReference => {
                    rule.distance_reference = self.keyword(
                        value,
                        "distance reference",
                        DistanceReference::parse,
                        DistanceReference::NAMES,
                    )
                }
                P::SortDirection => {
                    rule.sort_direction = self.keyword(
                        value,
                        "sort direction",
                        SortDirection::parse,
                        SortDirection::NAMES,
                    )
                }
                P::SortAttribute => rule.sort_attribute = self.string(value),
                P::MapKey => {
                    rule.map_key = self.keyword(value, "map key", MapKey::parse, MapKey::NAMES)
                }
                P::PartyAggregation => {
                    rule.party_aggregation = self.keyword(
                        value,
                        "party aggregation",
                        PartyAggregation::parse,
                        PartyAggregation::NAMES,
                    )
                }
                P::BatchAttribute => rule.batch_attribute = self.string(value),
                P::Statement => rule.statement = self.statement(value),
            }
        }
        Some(rule)
    }

    fn rule_type(&mut self, json: &Json) -> Field<RuleType> {
        let JsonKind::String(string) = &json.kind else {
            self.wrong_type(json, "a rule type");
            return Field::Invalid;
        };
        match RuleType::parse(&string.value) {
            Some(kind) => Field::given_new(kind, json.span),
            None => {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::UnknownRuleType,
                        json.span,
                        format!("unknown rule type `{}`", string.value),
                    )
                    .with_help(suggest::expected_one_of(&string.value, RuleType::NAMES)),
                );
                Field::Invalid
            }
        }
    }

    fn statement(&mut self, json: &Json) -> Field<expr::Statement> {
        let JsonKind::String(string) = &json.kind else {
            self.wrong_type(json, "a statement such as `and(RuleA, RuleB)`");
            return Field::Invalid;
        };
        match expr::parse_statement(&string.value, &|span| string.source_span(span)) {
            Ok(statement) => Field::given_new(statement, json.span),
            Err(diagnostic) => {
                self.diagnostics.push(diagnostic);
                Field::Invalid
            }
        }
    }

    fn expansion(&mut self, json: &Json) -> Option<ExpansionDecl> {
        let members = self.object(json, "an expansion")?;
        self.check_keys(members, EXPANSION_KEYS, "an expansion");
        let mut expansion = ExpansionDecl {
            span: json.span,
            target: Field::Absent,
            steps: Field::Absent,
        };
        for (key, value) in members {
            self.key = key.value.clone();
            match key.value.as_str() {
                "target" => expansion.target = self.target(value),
                "steps" => {
                    expansion.steps = match &value.kind {
                        JsonKind::Array(_) => {
                            let steps = self.list(value, |lower, item| lower.step(item));
                            Field::given_new(steps, value.span)
                        }
                        _ => {
                            self.wrong_type(value, "an array of steps");
                            Field::Invalid
                        }
                    }
                }
                _ => {}
            }
        }
        Some(expansion)
    }

    fn target(&mut self, json: &Json) -> Field<Target> {
        let JsonKind::String(string) = &json.kind else {
            self.wrong_type(json, "a target such as `rules[name].maxDistance`");
            return Field::Invalid;
        };
        match expr::parse_target(&string.value, &|span| string.source_span(span)) {
            Ok(target) => Field::given_new(target, json.span),
            Err(diagnostic) => {
                self.diagnostics.push(diagnostic);
                Field::Invalid
            }
        }
    }

    fn step(&mut self, json: &Json) -> Option<StepDecl> {
        let members = self.object(json, "an expansion step")?;
        self.check_keys(members, STEP_KEYS, "an expansion step");
        let mut step = StepDecl {
            span: json.span,
            wait_time_seconds: Field::Absent,
            value: Field::Absent,
        };
        for (key, value) in members {
            self.key = key.value.clone();
            match key.value.as_str() {
                "waitTimeSeconds" => step.wait_time_seconds = self.number(value),
                "value" => step.value = Field::Given(self.value(value)),
                _ => {}
            }
        }
        Some(step)
    }
}

pub(crate) fn number_as_string(span: Span, text: &str) -> Diagnostic {
    Diagnostic::new(
        Code::NumberAsString,
        span,
        format!("number written as a string `\"{text}\"`"),
    )
    .with_help(format!("write it as a number: `{}`", text.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    fn lower_text(text: &str) -> (Option<RuleSetAst>, Vec<Diagnostic>) {
        let parsed = json::parse(text);
        let mut diagnostics = parsed.diagnostics;
        let ast = parsed.value.and_then(|json| lower(&json, &mut diagnostics));
        (ast, diagnostics)
    }

    #[test]
    fn reads_a_published_style_rule_set() {
        let (ast, diagnostics) = lower_text(
            r#"{
              "name": "n", "ruleLanguageVersion": "1.0",
              "playerAttributes": [{"name": "skill", "type": "number", "default": 10}],
              "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": "5"}],
              "rules": [{"name": "r", "type": "distance",
                         "measurements": ["avg(teams[*].players.attributes[skill])"],
                         "referenceValue": 3, "maxDistance": 10}],
              "expansions": [{"target": "rules[r].maxDistance",
                              "steps": [{"waitTimeSeconds": 5, "value": 50}]}]
            }"#,
        );
        let ast = ast.expect("lowered");
        let codes: Vec<Code> = diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::NumberAsString]);
        assert_eq!(ast.teams()[0].max_players.value(), Some(&5.0));
        let rule = &ast.rules[0];
        assert_eq!(rule.kind.value(), Some(&RuleType::Distance));
        assert_eq!(
            rule.measurements.value().unwrap().to_string(),
            "avg(teams[*].players.attributes[skill])"
        );
        assert_eq!(
            ast.expansions[0].target.value().unwrap().to_string(),
            "rules[r].maxDistance"
        );
    }

    #[test]
    fn unknown_properties_and_values_get_suggestions() {
        let (_, diagnostics) = lower_text(
            r#"{"ruleLanguageVersion": "1.0", "team": [],
                "rules": [{"name": "r", "type": "distanse", "maxDistnce": 3, "operation": "=="}]}"#,
        );
        let found: Vec<(Code, Option<&str>)> = diagnostics
            .iter()
            .map(|d| (d.code, d.help.as_deref()))
            .collect();
        assert_eq!(
            found,
            [
                (Code::UnknownProperty, Some("did you mean `teams`?")),
                (Code::UnknownProperty, Some("did you mean `maxDistance`?")),
                (Code::UnknownRuleType, Some("did you mean `distance`?")),
                (Code::InvalidValue, Some("did you mean `=`?")),
            ]
        );
    }

    #[test]
    fn expression_errors_point_into_the_string() {
        let text = r#"{"rules": [{"measurements": "avg(teams[*].players.atributes[x])"}]}"#;
        let (_, diagnostics) = lower_text(text);
        let error = &diagnostics[0];
        assert_eq!(error.code, Code::ExpressionSyntax);
        assert_eq!(&text[error.span.start..error.span.end], ".atributes");
    }

    #[test]
    fn plain_strings_are_literals_and_measurements_take_one_expression() {
        let (ast, diagnostics) = lower_text(
            r#"{"rules": [{"referenceValue": "medic", "measurements": ["a(teams[x])", "b"]}]}"#,
        );
        let rule = &ast.unwrap().rules[0];
        assert_eq!(
            rule.reference_value.value().unwrap().to_string(),
            "\"medic\""
        );
        assert_eq!(rule.measurements, Field::Invalid);
        assert_eq!(diagnostics[0].code, Code::InvalidValue);
    }
}
