//! Prints the rule-set model as canonical FlexMatch JSON or as the rally DSL. Both print the
//! same model, so JSON → DSL → JSON gives back the normalised JSON.

use std::fmt::Write as _;

use serde_json::{Map, Value as JsonValue, json};

use crate::ast::*;
use crate::expr::{Expr, ExprKind, format_number, quote};

/// The rule set as canonical JSON: FlexMatch's key order, four-space indents, numbers as
/// numbers, `measurements` as a one-element array, no comments.
pub fn to_json(ast: &RuleSetAst) -> String {
    let mut root = Map::new();
    if let Some(name) = ast.name.value() {
        root.insert("name".into(), json!(name));
    }
    root.insert("ruleLanguageVersion".into(), json!("1.0"));
    if !ast.attributes.is_empty() {
        let attributes = ast.attributes.iter().map(attribute_json).collect();
        root.insert("playerAttributes".into(), JsonValue::Array(attributes));
    }
    if !ast.algorithm.is_empty() {
        root.insert("algorithm".into(), algorithm_json(&ast.algorithm));
    }
    root.insert(
        "teams".into(),
        JsonValue::Array(ast.teams().iter().map(team_json).collect()),
    );
    if !ast.rules.is_empty() {
        root.insert(
            "rules".into(),
            JsonValue::Array(ast.rules.iter().map(rule_json).collect()),
        );
    }
    if !ast.expansions.is_empty() {
        let expansions = ast.expansions.iter().map(expansion_json).collect();
        root.insert("expansions".into(), JsonValue::Array(expansions));
    }
    let mut text = String::new();
    write_json(&mut text, &JsonValue::Object(root), 0, 0);
    text.push('\n');
    text
}

/// Lines of canonical JSON stay within this width where they can.
const JSON_LINE_WIDTH: usize = 100;
const JSON_INDENT: usize = 4;

/// Writes JSON the way FlexMatch's guide lays it out: an object or array that fits on the rest
/// of its line stays on one line (`{ "waitTimeSeconds": 5, "value": 50 }`), anything larger
/// gets one member per line. `used` is how much of the current line is taken already.
fn write_json(out: &mut String, value: &JsonValue, indent: usize, used: usize) {
    let inline = inline_json(value);
    let is_root = indent == 0 && used == 0;
    let is_container = matches!(value, JsonValue::Array(_) | JsonValue::Object(_));
    if !is_container || (!is_root && used + inline.chars().count() <= JSON_LINE_WIDTH) {
        out.push_str(&inline);
        return;
    }
    let pad = " ".repeat(indent + JSON_INDENT);
    match value {
        JsonValue::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad);
                write_json(out, item, indent + JSON_INDENT, pad.len());
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
        }
        JsonValue::Object(members) => {
            out.push_str("{\n");
            for (i, (key, member)) in members.iter().enumerate() {
                let key = format!("{}: ", JsonValue::String(key.clone()));
                out.push_str(&pad);
                out.push_str(&key);
                write_json(out, member, indent + JSON_INDENT, pad.len() + key.len());
                out.push_str(if i + 1 < members.len() { ",\n" } else { "\n" });
            }
        }
        _ => unreachable!("only containers get here"),
    }
    out.push_str(&" ".repeat(indent));
    out.push(if matches!(value, JsonValue::Array(_)) {
        ']'
    } else {
        '}'
    });
}

/// A value on one line: `["a", "b"]`, `{ "a": 1 }`.
fn inline_json(value: &JsonValue) -> String {
    match value {
        JsonValue::Array(items) => {
            let items: Vec<String> = items.iter().map(inline_json).collect();
            format!("[{}]", items.join(", "))
        }
        JsonValue::Object(members) if members.is_empty() => "{}".to_string(),
        JsonValue::Object(members) => {
            let members: Vec<String> = members
                .iter()
                .map(|(key, member)| {
                    format!(
                        "{}: {}",
                        JsonValue::String(key.clone()),
                        inline_json(member)
                    )
                })
                .collect();
            format!("{{ {} }}", members.join(", "))
        }
        scalar => scalar.to_string(),
    }
}

fn number_json(number: f64) -> JsonValue {
    if number.fract() == 0.0 && number.abs() < 1e15 {
        json!(number as i64)
    } else {
        json!(number)
    }
}

fn value_json(value: &Value) -> JsonValue {
    match value {
        Value::Number(number) => number_json(*number),
        Value::String(text) => json!(text),
        Value::List(items) => {
            JsonValue::Array(items.iter().map(|item| value_json(&item.value)).collect())
        }
        Value::Map(entries) => JsonValue::Object(
            entries
                .iter()
                .map(|(key, value)| (key.value.clone(), value_json(&value.value)))
                .collect(),
        ),
        Value::Bool(b) => json!(b),
        Value::Null => JsonValue::Null,
    }
}

/// An expression in JSON: literals as JSON literals, anything else as its canonical text.
/// A string that would read back as an expression is written as a quoted string literal.
fn expr_json(expr: &Expr) -> JsonValue {
    match &expr.kind {
        ExprKind::Number(number) => number_json(*number),
        ExprKind::String(text) if !crate::expr::string_reads_as_expression(text) => json!(text),
        ExprKind::List(items) => JsonValue::Array(items.iter().map(expr_json).collect()),
        _ => json!(expr.to_string()),
    }
}

fn attribute_json(attribute: &AttributeDecl) -> JsonValue {
    let mut object = Map::new();
    if let Some(name) = attribute.name.value() {
        object.insert("name".into(), json!(name));
    }
    if let Some(ty) = attribute.ty.value() {
        object.insert("type".into(), json!(ty.as_str()));
    }
    if let Some(default) = attribute.default.value() {
        object.insert("default".into(), value_json(default));
    }
    JsonValue::Object(object)
}

fn algorithm_json(algorithm: &AlgorithmDecl) -> JsonValue {
    let mut object = Map::new();
    if let Some(strategy) = algorithm.strategy.value() {
        object.insert("strategy".into(), json!(strategy.as_str()));
    }
    if let Some(batching) = algorithm.batching_preference.value() {
        object.insert("batchingPreference".into(), json!(batching.as_str()));
    }
    if let Some(names) = algorithm.sort_by_attributes.value() {
        let names: Vec<&str> = names.iter().map(|name| name.value.as_str()).collect();
        object.insert("sortByAttributes".into(), json!(names));
    }
    if let Some(name) = algorithm.balanced_attribute.value() {
        object.insert("balancedAttribute".into(), json!(name));
    }
    if let Some(priority) = algorithm.backfill_priority.value() {
        object.insert("backfillPriority".into(), json!(priority.as_str()));
    }
    if let Some(age) = algorithm.expansion_age_selection.value() {
        object.insert("expansionAgeSelection".into(), json!(age.as_str()));
    }
    JsonValue::Object(object)
}

fn team_json(team: &TeamDecl) -> JsonValue {
    let mut object = Map::new();
    if let Some(name) = team.name.value() {
        object.insert("name".into(), json!(name));
    }
    if let Some(min) = team.min_players.value() {
        object.insert("minPlayers".into(), number_json(*min));
    }
    if let Some(max) = team.max_players.value() {
        object.insert("maxPlayers".into(), number_json(*max));
    }
    if let Some(quantity) = team.quantity.value() {
        object.insert("quantity".into(), number_json(*quantity));
    }
    JsonValue::Object(object)
}

fn rule_json(rule: &RuleDecl) -> JsonValue {
    let mut object = Map::new();
    if let Some(name) = rule.name.value() {
        object.insert("name".into(), json!(name));
    }
    if let Some(description) = rule.description.value() {
        object.insert("description".into(), json!(description));
    }
    if let Some(kind) = rule.kind.value() {
        object.insert("type".into(), json!(kind.as_str()));
    }
    let mut put = |property: RuleProperty, value: JsonValue| {
        object.insert(property.as_str().into(), value);
    };
    use RuleProperty as P;
    if let Some(statement) = rule.statement.value() {
        put(P::Statement, json!(statement.to_string()));
    }
    if let Some(measurements) = rule.measurements.value() {
        put(
            P::Measurements,
            JsonValue::Array(vec![expr_json(measurements)]),
        );
    }
    // `measurements operation referenceValue` reads like the comparison it describes.
    if let Some(operation) = rule.operation.value() {
        put(P::Operation, json!(operation.as_str()));
    }
    if let Some(reference) = rule.reference_value.value() {
        put(P::ReferenceValue, expr_json(reference));
    }
    if let Some(attribute) = rule.batch_attribute.value() {
        put(P::BatchAttribute, json!(attribute));
    }
    if let Some(attribute) = rule.sort_attribute.value() {
        put(P::SortAttribute, json!(attribute));
    }
    if let Some(direction) = rule.sort_direction.value() {
        put(P::SortDirection, json!(direction.as_str()));
    }
    if let Some(key) = rule.map_key.value() {
        put(P::MapKey, json!(key.as_str()));
    }
    for (property, field) in [
        (P::MaxLatency, &rule.max_latency),
        (P::MinDistance, &rule.min_distance),
        (P::MaxDistance, &rule.max_distance),
        (P::MinCount, &rule.min_count),
        (P::MaxCount, &rule.max_count),
    ] {
        if let Some(number) = field.value() {
            put(property, number_json(*number));
        }
    }
    if let Some(reference) = rule.distance_reference.value() {
        put(P::DistanceReference, json!(reference.as_str()));
    }
    if let Some(aggregation) = rule.party_aggregation.value() {
        put(P::PartyAggregation, json!(aggregation.as_str()));
    }
    JsonValue::Object(object)
}

fn expansion_json(expansion: &ExpansionDecl) -> JsonValue {
    let mut object = Map::new();
    if let Some(target) = expansion.target.value() {
        object.insert("target".into(), json!(target.to_string()));
    }
    if let Some(steps) = expansion.steps.value() {
        let steps = steps
            .iter()
            .map(|step| {
                let mut object = Map::new();
                if let Some(wait) = step.wait_time_seconds.value() {
                    object.insert("waitTimeSeconds".into(), number_json(*wait));
                }
                if let Some(value) = step.value.value() {
                    object.insert("value".into(), value_json(value));
                }
                JsonValue::Object(object)
            })
            .collect();
        object.insert("steps".into(), JsonValue::Array(steps));
    }
    JsonValue::Object(object)
}

/// Rules longer than this go over several lines, one clause per line.
const DSL_LINE_WIDTH: usize = 100;

/// The rule set in the rally DSL.
pub fn to_dsl(ast: &RuleSetAst) -> String {
    let mut out = String::new();
    if let Some(name) = ast.name.value() {
        let _ = writeln!(out, "ruleset {}\n", quote(name));
    }
    for attribute in &ast.attributes {
        let (Some(name), Some(ty)) = (attribute.name.value(), attribute.ty.value()) else {
            continue;
        };
        let _ = write!(out, "attribute {}: {ty}", dsl_name(name));
        if let Some(default) = attribute.default.value() {
            let _ = write!(out, " = {}", value_dsl(default));
        }
        out.push('\n');
    }
    if !ast.attributes.is_empty() {
        out.push('\n');
    }
    if !ast.algorithm.is_empty() {
        out.push_str(&algorithm_dsl(&ast.algorithm));
        out.push('\n');
    }
    for team in ast.teams() {
        let (Some(name), Some(min), Some(max)) = (
            team.name.value(),
            team.min_players.value(),
            team.max_players.value(),
        ) else {
            continue;
        };
        let _ = write!(
            out,
            "team {} players {}",
            dsl_name(name),
            format_number(*min)
        );
        if max != min {
            let _ = write!(out, "..{}", format_number(*max));
        }
        if let Some(quantity) = team.quantity.value() {
            let _ = write!(out, " quantity {}", format_number(*quantity));
        }
        out.push('\n');
    }
    for rule in &ast.rules {
        out.push('\n');
        out.push_str(&rule_dsl(rule));
    }
    if !ast.expansions.is_empty() {
        out.push('\n');
    }
    for expansion in &ast.expansions {
        out.push_str(&expansion_dsl(ast, expansion));
    }
    out
}

/// A name as the DSL writes it: bare when it reads as an identifier, quoted otherwise.
fn dsl_name(name: &str) -> String {
    let mut chars = name.chars();
    let is_ident = chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if is_ident {
        name.to_string()
    } else {
        quote(name)
    }
}

fn value_dsl(value: &Value) -> String {
    match value {
        Value::Number(number) => format_number(*number),
        Value::String(text) => quote(text),
        Value::List(items) => {
            let items: Vec<String> = items.iter().map(|item| value_dsl(&item.value)).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Map(entries) => {
            let entries: Vec<String> = entries
                .iter()
                .map(|(key, value)| format!("{}: {}", quote(&key.value), value_dsl(&value.value)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
        // Neither appears in a valid rule set; printed as JSON would, for completeness.
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
    }
}

fn algorithm_dsl(algorithm: &AlgorithmDecl) -> String {
    let mut out = String::from("algorithm {\n");
    let mut line = |key: &str, value: String| {
        let _ = writeln!(out, "    {key}: {value}");
    };
    if let Some(strategy) = algorithm.strategy.value() {
        line("strategy", strategy.to_string());
    }
    if let Some(batching) = algorithm.batching_preference.value() {
        line("batchingPreference", batching.to_string());
    }
    if let Some(names) = algorithm.sort_by_attributes.value() {
        let names: Vec<String> = names.iter().map(|name| dsl_name(&name.value)).collect();
        line("sortByAttributes", names.join(", "));
    }
    if let Some(name) = algorithm.balanced_attribute.value() {
        line("balancedAttribute", dsl_name(name));
    }
    if let Some(priority) = algorithm.backfill_priority.value() {
        line("backfillPriority", priority.to_string());
    }
    if let Some(age) = algorithm.expansion_age_selection.value() {
        line("expansionAgeSelection", age.to_string());
    }
    out.push_str("}\n");
    out
}

/// Whether a description can be written as `///` lines and read back unchanged.
fn fits_doc_comment(description: &str) -> bool {
    !description.chars().any(|c| c.is_control() && c != '\n')
}

fn rule_dsl(rule: &RuleDecl) -> String {
    let (Some(name), Some(kind)) = (rule.name.value(), rule.kind.value()) else {
        return String::new();
    };
    let mut out = String::new();
    if let Some(description) = rule.description.value()
        && fits_doc_comment(description)
    {
        out.push_str(&doc_comment_dsl(description));
    }
    let (head, mut clauses) = rule_shape_dsl(rule, name, *kind);
    clauses.extend(option_clauses_dsl(rule, *kind));
    out.push_str(&lay_out_rule_dsl(head, clauses));
    out
}

/// A description as `///` lines, an empty line as a bare `///`.
fn doc_comment_dsl(description: &str) -> String {
    let mut out = String::new();
    for line in description.split('\n') {
        if line.is_empty() {
            out.push_str("///\n");
        } else {
            let _ = writeln!(out, "/// {line}");
        }
    }
    out
}

/// A rule's head (`rule name: type …`, with what the type writes on it) and the clauses its
/// type writes after: a distance's reference, a comparison's operation, a sort's key.
fn rule_shape_dsl(rule: &RuleDecl, name: &str, kind: RuleType) -> (String, Vec<String>) {
    let mut clauses: Vec<String> = Vec::new();
    let expr = |field: &Field<Expr>| field.value().map(ToString::to_string).unwrap_or_default();
    let mut head = format!("rule {}: {kind}", dsl_name(name));
    match kind {
        RuleType::Distance => {
            head = format!("{head} {}", expr(&rule.measurements));
            clauses.push(format!("to {}", expr(&rule.reference_value)));
        }
        RuleType::Comparison => {
            head = format!("{head} {}", expr(&rule.measurements));
            match (rule.operation.value(), rule.reference_value.value()) {
                (Some(Operation::Equal), None) => clauses.push("all equal".into()),
                (Some(Operation::NotEqual), None) => clauses.push("all different".into()),
                (Some(operation), Some(reference)) => {
                    clauses.push(format!("{operation} {reference}"))
                }
                _ => {}
            }
        }
        RuleType::Collection => {
            head = format!("{head} {}", expr(&rule.measurements));
            let mut clause = rule
                .operation
                .value()
                .map(ToString::to_string)
                .unwrap_or_default();
            if let Some(reference) = rule.reference_value.value() {
                clause = format!("{clause} {reference}");
            }
            clauses.push(clause);
        }
        RuleType::AbsoluteSort | RuleType::DistanceSort => {
            if let (Some(attribute), Some(direction)) =
                (rule.sort_attribute.value(), rule.sort_direction.value())
            {
                head = format!("{head} {} {direction}", dsl_name(attribute));
            }
            if let Some(key) = rule.map_key.value() {
                clauses.push(format!("key {key}"));
            }
        }
        RuleType::BatchDistance => {
            if let Some(attribute) = rule.batch_attribute.value() {
                head = format!("{head} {}", dsl_name(attribute));
            }
        }
        RuleType::Compound => {
            if let Some(statement) = rule.statement.value() {
                head = format!("{head} {statement}");
            }
        }
        RuleType::Latency => {}
    }
    (head, clauses)
}

/// The options any rule type may carry, in a fixed order: `min`, `max`, `distance … from`,
/// `party`, and a `description` that `///` lines cannot hold.
fn option_clauses_dsl(rule: &RuleDecl, kind: RuleType) -> Vec<String> {
    let mut clauses: Vec<String> = Vec::new();
    let latency = kind == RuleType::Latency;
    let unit = if latency { "ms" } else { "" };
    if let Some(min) = rule.min_distance.value().or(rule.min_count.value()) {
        clauses.push(format!("min {}", format_number(*min)));
    }
    let max = rule
        .max_latency
        .value()
        .or(if latency {
            None
        } else {
            rule.max_distance.value()
        })
        .or(rule.max_count.value());
    if let Some(max) = max {
        clauses.push(format!("max {}{unit}", format_number(*max)));
    }
    if latency && let Some(reference) = rule.distance_reference.value() {
        match rule.max_distance.value() {
            Some(distance) => clauses.push(format!(
                "distance {}ms from {reference}",
                format_number(*distance)
            )),
            // The distance comes later, from an expansion.
            None => clauses.push(format!("distance from {reference}")),
        }
    }
    if let Some(aggregation) = rule.party_aggregation.value() {
        clauses.push(format!("party {aggregation}"));
    }
    if let Some(description) = rule.description.value()
        && !fits_doc_comment(description)
    {
        clauses.push(format!("description {}", quote(description)));
    }
    clauses
}

/// The head and its clauses on one line when it fits `DSL_LINE_WIDTH`, else one indented
/// clause a line.
fn lay_out_rule_dsl(head: String, clauses: Vec<String>) -> String {
    let mut out = String::new();
    let one_line = std::iter::once(head.clone())
        .chain(clauses.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    if one_line.len() <= DSL_LINE_WIDTH {
        out.push_str(&one_line);
        out.push('\n');
    } else {
        out.push_str(&head);
        out.push('\n');
        for clause in clauses {
            let _ = writeln!(out, "    {clause}");
        }
    }
    out
}

fn expansion_dsl(ast: &RuleSetAst, expansion: &ExpansionDecl) -> String {
    let (Some(target), Some(steps)) = (expansion.target.value(), expansion.steps.value()) else {
        return String::new();
    };
    // Latency bounds read best with their unit.
    let latency = target.component.value == TargetComponent::Rules
        && matches!(target.property.value.as_str(), "maxLatency" | "maxDistance")
        && ast.rules.iter().any(|rule| {
            rule.name.value() == target.names.first().map(|n| &n.value)
                && rule.kind.value() == Some(&RuleType::Latency)
        });
    let steps: Vec<String> = steps
        .iter()
        .filter_map(|step| {
            let wait = step.wait_time_seconds.value()?;
            let value = match step.value.value()? {
                Value::Number(number) if latency => format!("{}ms", format_number(*number)),
                other => value_dsl(other),
            };
            Some(format!("{}s -> {value}", format_number(*wait)))
        })
        .collect();
    format!("expand {target}: {}\n", steps.join(", "))
}
