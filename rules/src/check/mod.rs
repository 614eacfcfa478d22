//! The checker: validates a rule-set model against FlexMatch's rules and compiles it. Every
//! problem is collected, not only the first, and a compiled rule set comes out only when there
//! is no error.
//!
//! One file per part of a rule set, each adding methods to [`Checker`]: `attributes`, `teams`,
//! `algorithm` (with the match-size rules), `rules`, `types` (property expressions),
//! `expansions` and `empty_teams` (aggregates over teams that may be empty). This file holds
//! the driver, which runs them in dependency order.
//!
//! Where FlexMatch's documents contradict each other the checker accepts the rule set with a
//! warning that says what rally does (see `Code::BalancedSmallMatch`,
//! `Code::BackfillPriorityBalanced`).

mod algorithm;
mod attributes;
mod empty_teams;
mod expansions;
mod rules;
mod teams;
mod types;

use std::collections::{BTreeMap, HashMap};

use crate::ast::{self, Field, RuleDecl, RuleProperty, RuleType, SourceFormat, Value};
use crate::diagnostic::{Code, Diagnostic};
use crate::expr::{
    Expr, ExprKind, PathField, StatementKind, TeamSelector, format_number, number_in_string,
};
use crate::lower_json::number_as_string;
use crate::model::*;
use crate::span::{Span, Spanned};
use crate::suggest;

/// FlexMatch's limits on attribute values (GameLift `AttributeValue`).
const MAX_STRING_LIST_ITEMS: usize = 100;
const MAX_MAP_ENTRIES: usize = 10;

/// Checks a rule set and, when it has no error, compiles it.
pub(crate) fn check(ast: &ast::RuleSetAst) -> (Option<RuleSet>, Vec<Diagnostic>) {
    let mut checker = Checker::new(ast);
    let rule_set = checker.run();
    let diagnostics = checker.diagnostics;
    let has_error = diagnostics.iter().any(Diagnostic::is_error);
    (rule_set.filter(|_| !has_error), diagnostics)
}

struct Checker<'a> {
    ast: &'a ast::RuleSetAst,
    diagnostics: Vec<Diagnostic>,
    attributes: Vec<Attribute>,
    /// Declared attribute names to their ids; a duplicate keeps the first.
    attribute_ids: HashMap<&'a str, AttributeId>,
    team_definitions: Vec<TeamDefinition>,
    teams: Vec<Team>,
    /// Rule names to their position in the rule set; a duplicate keeps the first.
    rule_positions: HashMap<&'a str, usize>,
    /// The rule being checked gave a property of another rule type (see `Checker::missing`).
    misplaced_property: bool,
}

/// A rule's name as written, for messages: `rule `x``, or its position when it has none.
fn rule_label(rule: &RuleDecl, index: usize) -> String {
    match rule.name.value() {
        Some(name) => format!("rule `{name}`"),
        None => format!("rule {}", index + 1),
    }
}

/// The first character of a span: where "this object lacks X" points.
fn head(span: Span) -> Span {
    Span::new(span.start, span.start + usize::from(!span.is_empty()))
}

fn is_count(number: f64) -> bool {
    number >= 0.0 && number.fract() == 0.0 && number <= u32::MAX as f64
}

impl<'a> Checker<'a> {
    fn new(ast: &'a ast::RuleSetAst) -> Checker<'a> {
        Checker {
            ast,
            diagnostics: Vec::new(),
            attributes: Vec::new(),
            attribute_ids: HashMap::new(),
            team_definitions: Vec::new(),
            teams: Vec::new(),
            rule_positions: HashMap::new(),
            misplaced_property: false,
        }
    }

    fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn json(&self) -> bool {
        self.ast.format == SourceFormat::Json
    }

    /// Help for an unknown name: the comma that is probably missing when the name holds
    /// spaces and each word is known, otherwise a close match.
    fn name_help(&self, unknown: &str, known: &[&str]) -> Option<String> {
        let words: Vec<&str> = unknown.split_whitespace().collect();
        if words.len() > 1 && words.iter().all(|word| known.contains(word)) {
            return Some(format!(
                "names are separated by commas: `{}`",
                words.join(", ")
            ));
        }
        suggest::did_you_mean(unknown, known.iter().copied())
    }

    /// Whether an expansion targets `property` of `rule`.
    fn is_expanded(&self, rule: &RuleDecl, property: RuleProperty) -> bool {
        let Some(name) = rule.name.value() else {
            return false;
        };
        self.ast.expansions.iter().any(|expansion| {
            expansion.target.value().is_some_and(|target| {
                target.component.value == ast::TargetComponent::Rules
                    && target.property.value == property.as_str()
                    && target.names.iter().any(|n| &n.value == name)
            })
        })
    }

    /// Words a message for the format the designer wrote: JSON property names or DSL clauses.
    fn spell(&self, json: &'static str, dsl: &'static str) -> &'static str {
        if self.json() { json } else { dsl }
    }

    fn run(&mut self) -> Option<RuleSet> {
        self.check_language_version();
        self.declare_attributes();
        self.define_teams();
        let algorithm = self.check_algorithm();
        for (index, rule) in self.ast.rules.iter().enumerate() {
            if let Some(name) = rule.name.given() {
                if let Some(&first) = self.rule_positions.get(name.value.as_str()) {
                    let first_span = self.ast.rules[first].name.span().unwrap_or_default();
                    self.report(
                        Diagnostic::new(
                            Code::DuplicateRule,
                            name.span,
                            format!("rule `{}` is defined twice", name.value),
                        )
                        .with_note(first_span, "first defined here")
                        .with_help("give each rule its own name"),
                    );
                } else {
                    self.rule_positions.insert(name.value.as_str(), index);
                }
            }
        }
        let mut rules: Vec<Option<Rule>> = self
            .ast
            .rules
            .iter()
            .enumerate()
            .map(|(index, rule)| self.check_rule(index, rule))
            .collect();
        let in_compound: Vec<RuleId> = rules
            .iter()
            .flatten()
            .filter_map(|rule| match &rule.kind {
                RuleKind::Compound(compound) => Some(compound.condition.rules()),
                _ => None,
            })
            .flatten()
            .collect();
        for member in in_compound {
            if let Some(Some(rule)) = rules.get_mut(member.0) {
                rule.in_compound = true;
            }
        }
        self.check_match_size(&algorithm);
        let mut algorithm = algorithm;
        if let Some(algorithm) = &mut algorithm
            && self.expanded_max_players().0 <= SMALL_MATCH_MAX_PLAYERS
        {
            // FlexMatch's example 10 declares `balanced` for 40 players. The strategy is meant
            // for large matches, so rally runs exhaustiveSearch — every rule type works there —
            // and still balances teams on the attribute afterwards (`Code::BalancedSmallMatch`).
            algorithm.strategy = ast::Strategy::ExhaustiveSearch;
        }
        let expansions = self.check_expansions(&rules);
        if let Some(expansions) = &expansions {
            self.check_aggregates_over_empty_teams(&rules, expansions);
        }

        let rules: Option<Vec<Rule>> = rules.into_iter().collect();
        let (max_players_with_expansions, _) = self.expanded_max_players();
        Some(RuleSet {
            name: self.ast.name.value().cloned(),
            attributes: std::mem::take(&mut self.attributes),
            algorithm: algorithm?,
            team_definitions: std::mem::take(&mut self.team_definitions),
            teams: std::mem::take(&mut self.teams),
            rules: rules?,
            expansions: expansions?,
            max_players_with_expansions,
        })
    }

    // ---- the document ------------------------------------------------------------------

    fn check_language_version(&mut self) {
        if !self.json() {
            return;
        }
        match &self.ast.language_version {
            Field::Absent => self.report(
                Diagnostic::new(
                    Code::MissingProperty,
                    head(self.ast.span),
                    "a rule set needs `ruleLanguageVersion`",
                )
                .with_help("add `\"ruleLanguageVersion\": \"1.0\"`"),
            ),
            Field::Given(version) if version.value != "1.0" => self.report(
                Diagnostic::new(
                    Code::UnsupportedLanguageVersion,
                    version.span,
                    format!("unsupported `ruleLanguageVersion` `{}`", version.value),
                )
                .with_help("FlexMatch and rally support only `\"1.0\"`"),
            ),
            Field::Given(_) | Field::Invalid => {}
        }
    }
}
