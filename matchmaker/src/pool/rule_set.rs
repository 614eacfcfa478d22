//! What the pool reads off its rule set once: the expressions, the string literals to
//! intern, whether any rule reads player ids, and the largest team expansions allow.

use rally_rules::model::{ExprNode, RuleKind, RuleSet, SelectField, TypedExpr};

/// The expressions of the rules that have them.
pub(super) fn rule_exprs(rule_set: &RuleSet) -> Vec<&TypedExpr> {
    let mut out = Vec::new();
    for rule in &rule_set.rules {
        match &rule.kind {
            RuleKind::Comparison(c) => {
                out.extend(std::iter::once(&c.measurement).chain(&c.reference))
            }
            RuleKind::Distance(d) => out.extend([&d.measurement, &d.reference]),
            RuleKind::Collection(c) => {
                out.extend(std::iter::once(&c.measurement).chain(&c.reference))
            }
            _ => {}
        }
    }
    out
}

/// Whether `expr` reads player ids (`players[playerId]`).
pub(super) fn reads_player_ids(expr: &TypedExpr) -> bool {
    match &expr.node {
        ExprNode::Select { field, .. } => *field == SelectField::PlayerId,
        ExprNode::List(items) => items.iter().any(reads_player_ids),
        ExprNode::Call { arg, .. } => reads_player_ids(arg),
        ExprNode::String(_) | ExprNode::Number(_) => false,
    }
}

/// The string literals of the rules' expressions and of expansion steps.
pub(super) fn rule_literals<'a>(rule_set: &'a RuleSet, exprs: &[&'a TypedExpr]) -> Vec<&'a str> {
    use rally_rules::model::StepValue;
    fn walk<'a>(expr: &'a TypedExpr, out: &mut Vec<&'a str>) {
        match &expr.node {
            ExprNode::String(text) => out.push(text),
            ExprNode::List(items) => items.iter().for_each(|item| walk(item, out)),
            ExprNode::Call { arg, .. } => walk(arg, out),
            ExprNode::Number(_) | ExprNode::Select { .. } => {}
        }
    }
    let mut out = Vec::new();
    for expr in exprs {
        walk(expr, &mut out);
    }
    for step in rule_set.expansions.iter().flat_map(|e| &e.steps) {
        match &step.value {
            StepValue::String(text) => out.push(text),
            StepValue::StringList(list) => out.extend(list.iter().map(String::as_str)),
            StepValue::Number(_) => {}
        }
    }
    out
}

/// The largest `maxPlayers` any expansion gives a team.
pub(super) fn largest_expanded_team(rule_set: &RuleSet) -> u32 {
    use rally_rules::model::{ExpansionTarget, TeamBound};
    rule_set
        .expansions
        .iter()
        .filter(|expansion| {
            matches!(
                expansion.target,
                ExpansionTarget::Teams {
                    property: TeamBound::MaxPlayers,
                    ..
                }
            )
        })
        .flat_map(|expansion| &expansion.steps)
        .filter_map(|step| step.value.as_number())
        .fold(0, |most, value| most.max(value as u32))
}
