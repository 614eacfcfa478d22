//! Rules that aggregate over a team that may be empty. FlexMatch does not support them: the
//! average (or minimum, maximum, median, deviation) of a team nobody is on has no value, and
//! the rule fails whenever the team is empty. The checker warns, naming the team.

use crate::ast::RuleDecl;
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{
    Expansion, ExpansionTarget, ExprNode, RuleKind, StepValue, TeamBound, TeamId, TypedExpr,
};

use super::Checker;

impl Checker<'_> {
    /// Warns for each rule with an aggregate over a team whose `minPlayers` is 0, or becomes
    /// 0 through an expansion.
    pub(super) fn check_aggregates_over_empty_teams(
        &mut self,
        rules: &[Option<crate::model::Rule>],
        expansions: &[Expansion],
    ) {
        let may_be_empty = self.teams_that_may_be_empty(expansions);
        if !may_be_empty.iter().any(|empty| *empty) {
            return;
        }
        for (rule, decl) in rules.iter().zip(&self.ast.rules) {
            let Some(rule) = rule else { continue };
            let exprs: Vec<(&TypedExpr, bool)> = match &rule.kind {
                RuleKind::Comparison(c) => std::iter::once((&c.measurement, true))
                    .chain(c.reference.iter().map(|r| (r, false)))
                    .collect(),
                RuleKind::Distance(d) => vec![(&d.measurement, true), (&d.reference, false)],
                _ => continue,
            };
            for (expr, is_measurement) in exprs {
                if let Some((function, team)) = empty_aggregate(expr, &may_be_empty) {
                    self.warn_empty_aggregate(decl, &rule.name, function, team, is_measurement);
                    break;
                }
            }
        }
    }

    /// Per team, whether a match may hold it empty at some age.
    fn teams_that_may_be_empty(&self, expansions: &[Expansion]) -> Vec<bool> {
        let mut empty: Vec<bool> = self.teams.iter().map(|t| t.min_players == 0).collect();
        for expansion in expansions {
            let ExpansionTarget::Teams {
                definitions,
                property: TeamBound::MinPlayers,
            } = &expansion.target
            else {
                continue;
            };
            let lowered_to_zero = expansion
                .steps
                .iter()
                .any(|step| step.value == StepValue::Number(0.0));
            if !lowered_to_zero {
                continue;
            }
            for definition in definitions {
                for team in self.team_definitions[definition.0].teams.clone() {
                    empty[team] = true;
                }
            }
        }
        empty
    }

    fn warn_empty_aggregate(
        &mut self,
        decl: &RuleDecl,
        rule: &str,
        function: &str,
        team: TeamId,
        is_measurement: bool,
    ) {
        let field = if is_measurement {
            &decl.measurements
        } else {
            &decl.reference_value
        };
        let span = field.span().unwrap_or(decl.span);
        let team = &self.teams[team.0].name;
        self.report(
            Diagnostic::new(
                Code::AggregateOverEmptyTeam,
                span,
                format!(
                    "rule `{rule}` takes `{function}` over team `{team}`, which may be empty; \
                     the rule fails whenever it is"
                ),
            )
            .with_help(format!(
                "FlexMatch does not support rules over a team that may be empty: give `{team}` \
                 a `minPlayers` above 0, or measure players of teams that cannot all be empty"
            )),
        );
    }
}

/// An aggregate in `expr` whose list may be empty, with the function and a team that may
/// leave it empty.
fn empty_aggregate(expr: &TypedExpr, may_be_empty: &[bool]) -> Option<(&'static str, TeamId)> {
    let ExprNode::Call { function, arg } = &expr.node else {
        return match &expr.node {
            ExprNode::List(items) => items.iter().find_map(|i| empty_aggregate(i, may_be_empty)),
            _ => None,
        };
    };
    if let Some(found) = empty_aggregate(arg, may_be_empty) {
        return Some(found);
    }
    if !function.is_numeric_aggregate() || *function == crate::model::Function::Sum {
        return None;
    }
    let empty_team = match &arg.node {
        // One team's players, or one aggregate per team (lifted over them).
        ExprNode::Select { teams, .. } => teams.iter().find(|t| may_be_empty[t.0]).copied(),
        // Every selected team's players together: empty only when all of them may be.
        ExprNode::Call {
            function: crate::model::Function::Flatten,
            arg: inner,
        } => match &inner.node {
            ExprNode::Select { teams, .. } if teams.iter().all(|t| may_be_empty[t.0]) => {
                teams.first().copied()
            }
            _ => None,
        },
        _ => None,
    };
    empty_team.map(|team| (function.as_str(), team))
}
