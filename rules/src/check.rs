//! The checker: validates a rule-set model against FlexMatch's rules and compiles it. Every
//! problem is collected, not only the first, and a compiled rule set comes out only when there
//! is no error.
//!
//! Where FlexMatch's documents contradict each other the checker accepts the rule set with a
//! warning that says what rally does (see `Code::BalancedSmallMatch`,
//! `Code::BackfillPriorityBalanced`).

use std::collections::{BTreeMap, HashMap};

use crate::ast::{self, Field, RuleDecl, RuleProperty, RuleType, SourceFormat, Value};
use crate::diagnostic::{Code, Diagnostic};
use crate::expr::{Expr, ExprKind, PathField, StatementKind, TeamSelector};
use crate::lower_json::number_as_string;
use crate::model::*;
use crate::span::{Span, Spanned};
use crate::suggest;

/// FlexMatch's limits on attribute values (GameLift `AttributeValue`).
const MAX_STRING_LIST_ITEMS: usize = 100;
const MAX_MAP_ENTRIES: usize = 10;

/// Checks a rule set and, when it has no error, compiles it.
pub fn check(ast: &ast::RuleSetAst) -> (Option<RuleSet>, Vec<Diagnostic>) {
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
        }
    }

    fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn json(&self) -> bool {
        self.ast.format == SourceFormat::Json
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
        let expansions = self.check_expansions();

        let rules: Option<Vec<Rule>> = rules.into_iter().collect();
        Some(RuleSet {
            name: self.ast.name.value().cloned(),
            attributes: std::mem::take(&mut self.attributes),
            algorithm: algorithm?,
            team_definitions: std::mem::take(&mut self.team_definitions),
            teams: std::mem::take(&mut self.teams),
            rules: rules?,
            expansions: expansions?,
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

    // ---- player attributes ----------------------------------------------------------------

    fn declare_attributes(&mut self) {
        let mut first_spans: HashMap<&str, Span> = HashMap::new();
        for declaration in &self.ast.attributes {
            let Some(name) = declaration.name.given() else {
                if declaration.name.is_absent() {
                    self.report(Diagnostic::new(
                        Code::MissingProperty,
                        head(declaration.span),
                        "a player attribute needs a `name`",
                    ));
                }
                continue;
            };
            let ty = match &declaration.ty {
                Field::Given(ty) => Some(ty.value),
                Field::Absent => {
                    self.report(
                        Diagnostic::new(
                            Code::MissingProperty,
                            head(declaration.span),
                            format!("player attribute `{}` needs a `type`", name.value),
                        )
                        .with_help(format!(
                            "one of {}",
                            suggest::list(ast::AttributeType::NAMES)
                        )),
                    );
                    None
                }
                Field::Invalid => None,
            };
            if let Some(first) = first_spans.get(name.value.as_str()) {
                self.report(
                    Diagnostic::new(
                        Code::DuplicateAttribute,
                        name.span,
                        format!("player attribute `{}` is declared twice", name.value),
                    )
                    .with_note(*first, "first declared here"),
                );
                continue;
            }
            first_spans.insert(&name.value, name.span);
            let default = match (&declaration.default, ty) {
                (Field::Given(default), Some(ty)) => {
                    self.attribute_default(&name.value, ty, default)
                }
                _ => None,
            };
            // An attribute whose type is unreadable still gets an id, so expressions naming it
            // are not also reported as unknown; the error above keeps it from compiling.
            let id = AttributeId(self.attributes.len());
            self.attributes.push(Attribute {
                name: name.value.clone(),
                ty: ty.unwrap_or(ast::AttributeType::Number),
                default,
            });
            self.attribute_ids.insert(&name.value, id);
        }
    }

    fn attribute_default(
        &mut self,
        name: &str,
        ty: ast::AttributeType,
        default: &Spanned<Value>,
    ) -> Option<AttributeValue> {
        use ast::AttributeType as T;
        let mismatch = |expected: &str| {
            Diagnostic::new(
                Code::InvalidDefault,
                default.span,
                format!(
                    "the default of `{name}` must be {expected}, found {}",
                    default.value.describe()
                ),
            )
        };
        match (ty, &default.value) {
            (T::String, Value::String(text)) if text.is_empty() => {
                self.report(
                    Diagnostic::new(
                        Code::EmptyDefault,
                        default.span,
                        format!("an empty default counts as no default, so players without `{name}` never match"),
                    )
                    .with_help("remove the default, or give a non-empty one"),
                );
                None
            }
            (T::String, Value::String(text)) => Some(AttributeValue::String(text.clone())),
            (T::Number, Value::Number(number)) => Some(AttributeValue::Number(*number)),
            (T::StringList, Value::List(items)) => {
                let mut strings: Vec<String> = Vec::new();
                for item in items {
                    match &item.value {
                        Value::String(text) => {
                            // FlexMatch ignores repeats after the first.
                            if !strings.contains(text) {
                                strings.push(text.clone());
                            }
                        }
                        other => {
                            self.report(Diagnostic::new(
                                Code::InvalidDefault,
                                item.span,
                                format!(
                                    "the default of `{name}` is a list of strings, found {}",
                                    other.describe()
                                ),
                            ));
                            return None;
                        }
                    }
                }
                if strings.len() > MAX_STRING_LIST_ITEMS {
                    self.report(Diagnostic::new(
                        Code::InvalidDefault,
                        default.span,
                        format!("the default of `{name}` has {} strings; a string list holds at most {MAX_STRING_LIST_ITEMS}", strings.len()),
                    ));
                    return None;
                }
                Some(AttributeValue::StringList(strings))
            }
            (T::StringNumberMap, Value::Map(entries)) => {
                let mut map: BTreeMap<String, f64> = BTreeMap::new();
                for (key, value) in entries {
                    let Value::Number(number) = value.value else {
                        self.report(Diagnostic::new(
                            Code::InvalidDefault,
                            value.span,
                            format!(
                                "the default of `{name}` maps strings to numbers, found {}",
                                value.value.describe()
                            ),
                        ));
                        return None;
                    };
                    map.insert(key.value.clone(), number);
                }
                if map.len() > MAX_MAP_ENTRIES {
                    self.report(Diagnostic::new(
                        Code::InvalidDefault,
                        default.span,
                        format!("the default of `{name}` has {} entries; a string_number_map holds at most {MAX_MAP_ENTRIES}", map.len()),
                    ));
                    return None;
                }
                Some(AttributeValue::StringNumberMap(map.into_iter().collect()))
            }
            (T::String, _) => {
                self.report(mismatch("a string"));
                None
            }
            (T::Number, Value::String(text)) if text.trim().parse::<f64>().is_ok() => {
                self.report(number_as_string(default.span, text));
                text.trim().parse().ok().map(AttributeValue::Number)
            }
            (T::Number, _) => {
                self.report(mismatch("a number"));
                None
            }
            (T::StringList, _) => {
                self.report(mismatch("a list of strings"));
                None
            }
            (T::StringNumberMap, _) => {
                self.report(mismatch("a map from strings to numbers"));
                None
            }
        }
    }

    fn attribute_named(&mut self, name: &Spanned<String>) -> Option<AttributeId> {
        if let Some(&id) = self.attribute_ids.get(name.value.as_str()) {
            return Some(id);
        }
        let declared: Vec<&str> = self.attribute_ids.keys().copied().collect();
        let help =
            suggest::did_you_mean(&name.value, declared.iter().copied()).unwrap_or_else(|| {
                if declared.is_empty() {
                    "declare it in `playerAttributes`".to_string()
                } else {
                    let mut declared = declared.clone();
                    declared.sort_unstable();
                    format!("declared attributes: {}", suggest::list(&declared))
                }
            });
        self.report(
            Diagnostic::new(
                Code::UnknownAttribute,
                name.span,
                format!("unknown player attribute `{}`", name.value),
            )
            .with_help(help),
        );
        None
    }

    // ---- teams ------------------------------------------------------------------------------

    fn define_teams(&mut self) {
        match &self.ast.teams {
            Field::Absent => {
                self.report(
                    Diagnostic::new(
                        Code::MissingProperty,
                        head(self.ast.span),
                        "a rule set needs `teams`",
                    )
                    .with_help(
                        "define at least one team with `name`, `minPlayers` and `maxPlayers`",
                    ),
                );
                return;
            }
            Field::Invalid => return,
            Field::Given(teams) if teams.value.is_empty() => {
                let span = if self.json() {
                    teams.span
                } else {
                    head(self.ast.span)
                };
                self.report(Diagnostic::new(
                    Code::NoTeams,
                    span,
                    "a rule set needs at least one team",
                ));
                return;
            }
            Field::Given(_) => {}
        }
        let mut names: HashMap<String, Span> = HashMap::new();
        for declaration in self.ast.teams() {
            let Some(name) = declaration.name.given() else {
                if declaration.name.is_absent() {
                    self.report(Diagnostic::new(
                        Code::MissingProperty,
                        head(declaration.span),
                        "a team needs a `name`",
                    ));
                }
                continue;
            };
            if let Some(first) = names.get(&name.value) {
                self.report(
                    Diagnostic::new(
                        Code::DuplicateTeam,
                        name.span,
                        format!("team `{}` is defined twice", name.value),
                    )
                    .with_note(*first, "first defined here"),
                );
                continue;
            }
            names.insert(name.value.clone(), name.span);
            let label = format!("team `{}`", name.value);
            let min = self.team_count(
                &declaration.min_players,
                "minPlayers",
                &label,
                declaration.span,
                0,
            );
            let max = self.team_count(
                &declaration.max_players,
                "maxPlayers",
                &label,
                declaration.span,
                1,
            );
            let quantity = match &declaration.quantity {
                Field::Absent => Some(1),
                _ => self.team_count(
                    &declaration.quantity,
                    "quantity",
                    &label,
                    declaration.span,
                    1,
                ),
            };
            if let (Some(min), Some(max)) = (min, max)
                && min > max
            {
                let span = declaration.min_players.span().unwrap_or(declaration.span);
                self.report(
                    Diagnostic::new(
                        Code::MinExceedsMax,
                        span,
                        format!("{label} needs at least {min} players but holds at most {max}"),
                    )
                    .with_help("make the minimum no greater than the maximum"),
                );
            }
            let (Some(min), Some(max), Some(quantity)) = (min, max, quantity) else {
                continue;
            };
            let definition = TeamDefinitionId(self.team_definitions.len());
            let first_team = self.teams.len();
            for copy in 1..=quantity {
                let team_name = if quantity > 1 {
                    format!("{}_{copy}", name.value)
                } else {
                    name.value.clone()
                };
                self.teams.push(Team {
                    name: team_name,
                    definition,
                    min_players: min,
                    max_players: max,
                });
            }
            self.team_definitions.push(TeamDefinition {
                name: name.value.clone(),
                min_players: min,
                max_players: max,
                quantity,
                teams: first_team..self.teams.len(),
            });
        }
        // FlexMatch names copies `<name>_<n>`; a copy must not take another team's name.
        for team in &self.teams {
            let definition = &self.team_definitions[team.definition.0];
            if definition.quantity > 1
                && let Some(other_span) = names.get(&team.name)
            {
                let span = self.ast.teams()[..]
                    .iter()
                    .filter_map(|t| t.name.given())
                    .find(|n| n.value == definition.name)
                    .map_or(head(self.ast.span), |n| n.span);
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::TeamNameCollision,
                        span,
                        format!(
                            "copy `{}` of team `{}` has the name of another team",
                            team.name, definition.name
                        ),
                    )
                    .with_note(*other_span, "the other team")
                    .with_help("rename one of the teams"),
                );
            }
        }
    }

    /// A team's player count or quantity: a whole number of at least `min`.
    fn team_count(
        &mut self,
        field: &Field<f64>,
        property: &str,
        label: &str,
        team_span: Span,
        min: u32,
    ) -> Option<u32> {
        match field {
            Field::Given(number) if is_count(number.value) && number.value >= f64::from(min) => {
                Some(number.value as u32)
            }
            Field::Given(number) => {
                self.report(Diagnostic::new(
                    Code::InvalidValue,
                    number.span,
                    format!(
                        "`{property}` of {label} must be a whole number of at least {min}, found `{}`",
                        crate::expr::format_number(number.value)
                    ),
                ));
                None
            }
            Field::Absent => {
                self.report(Diagnostic::new(
                    Code::MissingProperty,
                    head(team_span),
                    format!("{label} needs `{property}`"),
                ));
                None
            }
            Field::Invalid => None,
        }
    }

    fn max_players(&self) -> u32 {
        self.teams.iter().map(|team| team.max_players).sum()
    }

    fn teams_span(&self) -> Span {
        match (&self.ast.teams, self.json()) {
            (Field::Given(teams), true) => teams.span,
            _ => self
                .ast
                .teams()
                .first()
                .map_or(head(self.ast.span), |team| team.span),
        }
    }

    /// Resolves a team name in an expression: a definition (all its copies) or one copy.
    /// Returns the teams and whether the name stands for a group.
    fn teams_named(&mut self, name: &Spanned<String>) -> Option<(Vec<TeamId>, bool)> {
        if let Some(definition) = self
            .team_definitions
            .iter()
            .find(|definition| definition.name == name.value)
        {
            let grouped = definition.quantity > 1;
            return Some((definition.teams.clone().map(TeamId).collect(), grouped));
        }
        if let Some(position) = self.teams.iter().position(|team| team.name == name.value) {
            return Some((vec![TeamId(position)], false));
        }
        let mut known: Vec<&str> = self
            .team_definitions
            .iter()
            .map(|d| d.name.as_str())
            .collect();
        known.extend(self.teams.iter().map(|team| team.name.as_str()));
        let help = suggest::did_you_mean(&name.value, known.iter().copied()).unwrap_or_else(|| {
            let mut defined: Vec<&str> = self
                .team_definitions
                .iter()
                .map(|d| d.name.as_str())
                .collect();
            defined.dedup();
            format!("defined teams: {}", suggest::list(&defined))
        });
        self.report(
            Diagnostic::new(
                Code::UnknownTeam,
                name.span,
                format!("unknown team `{}`", name.value),
            )
            .with_help(help),
        );
        None
    }

    // ---- algorithm ----------------------------------------------------------------------

    fn check_algorithm(&mut self) -> Option<Algorithm> {
        use ast::{BatchingPreference as B, Strategy as S};
        let declared = &self.ast.algorithm;
        let strategy = declared
            .strategy
            .value()
            .copied()
            .unwrap_or(S::ExhaustiveSearch);
        let mut ok = !matches!(declared.strategy, Field::Invalid);

        let batching = match declared.batching_preference.given() {
            Some(batching) => {
                let fits = match strategy {
                    S::ExhaustiveSearch => matches!(batching.value, B::Random | B::Sorted),
                    S::Balanced => {
                        matches!(batching.value, B::LargestPopulation | B::FastestRegion)
                    }
                };
                if !fits {
                    let (needs, allowed) = match strategy {
                        S::ExhaustiveSearch => ("balanced", "`random` or `sorted`"),
                        S::Balanced => {
                            ("exhaustiveSearch", "`largestPopulation` or `fastestRegion`")
                        }
                    };
                    self.report(
                        Diagnostic::new(
                            Code::StrategyMismatch,
                            batching.span,
                            format!(
                                "batching preference `{}` belongs to the `{needs}` strategy, but the strategy is `{strategy}`",
                                batching.value
                            ),
                        )
                        .with_help(format!("with `{strategy}` use {allowed}")),
                    );
                    ok = false;
                }
                batching.value
            }
            None => {
                ok &= !matches!(declared.batching_preference, Field::Invalid);
                match strategy {
                    S::ExhaustiveSearch => B::Random,
                    S::Balanced => B::LargestPopulation,
                }
            }
        };

        let mut sort_by_attributes = Vec::new();
        match &declared.sort_by_attributes {
            Field::Given(names) => {
                if batching != B::Sorted {
                    self.report(
                        Diagnostic::new(
                            Code::UnusedSortAttributes,
                            names.span,
                            "`sortByAttributes` has no effect unless the batching preference is `sorted`",
                        )
                        .with_help("set the batching preference to `sorted`, or remove the list"),
                    );
                }
                for name in &names.value {
                    let Some(id) = self.attribute_named(name) else {
                        ok = false;
                        continue;
                    };
                    let ty = self.attributes[id.0].ty;
                    if !matches!(ty, ast::AttributeType::Number | ast::AttributeType::String) {
                        self.report(Diagnostic::new(
                            Code::TypeMismatch,
                            name.span,
                            format!(
                                "batches sort by string or number attributes; `{}` is a {ty}",
                                name.value
                            ),
                        ));
                        ok = false;
                    }
                    sort_by_attributes.push(id);
                }
            }
            Field::Invalid => ok = false,
            Field::Absent => {}
        }
        if batching == B::Sorted && sort_by_attributes.is_empty() && ok {
            let span = declared.batching_preference.span().unwrap_or_default();
            self.report(
                Diagnostic::new(
                    Code::MissingSortAttributes,
                    span,
                    "batching preference `sorted` needs `sortByAttributes`",
                )
                .with_help("list the attributes to sort batches by, most important first"),
            );
            ok = false;
        }

        let balanced_attribute = match declared.balanced_attribute.given() {
            Some(name) => match self.attribute_named(name) {
                Some(id) if self.attributes[id.0].ty == ast::AttributeType::Number => Some(id),
                Some(id) => {
                    let ty = self.attributes[id.0].ty;
                    self.report(Diagnostic::new(
                        Code::TypeMismatch,
                        name.span,
                        format!(
                            "the balanced attribute must be a number attribute; `{}` is a {ty}",
                            name.value
                        ),
                    ));
                    ok = false;
                    None
                }
                None => {
                    ok = false;
                    None
                }
            },
            None => {
                ok &= !matches!(declared.balanced_attribute, Field::Invalid);
                if strategy == S::Balanced && declared.balanced_attribute.is_absent() {
                    let span = declared
                        .strategy
                        .span()
                        .or(declared.span)
                        .unwrap_or_default();
                    self.report(
                        Diagnostic::new(
                            Code::MissingProperty,
                            span,
                            "the `balanced` strategy needs a `balancedAttribute`",
                        )
                        .with_help("name the number attribute to balance teams on, e.g. `skill`"),
                    );
                    ok = false;
                }
                None
            }
        };

        if strategy == S::Balanced
            && let Some(priority) = declared.backfill_priority.given()
        {
            self.report(Diagnostic::new(
                Code::BackfillPriorityBalanced,
                priority.span,
                "FlexMatch documents `backfillPriority` for exhaustiveSearch only; rally applies it to balanced batches too",
            ));
        }
        ok &= !matches!(declared.backfill_priority, Field::Invalid)
            && !matches!(declared.expansion_age_selection, Field::Invalid);

        ok.then(|| Algorithm {
            strategy,
            batching_preference: batching,
            sort_by_attributes,
            balanced_attribute,
            backfill_priority: declared
                .backfill_priority
                .value()
                .copied()
                .unwrap_or(ast::BackfillPriority::Normal),
            expansion_age_selection: declared
                .expansion_age_selection
                .value()
                .copied()
                .unwrap_or(ast::ExpansionAgeSelection::Newest),
        })
    }

    /// FlexMatch's match-size rules: at most 200 players; more than 40 needs the balanced
    /// strategy and only latency and batchDistance rules.
    fn check_match_size(&mut self, algorithm: &Option<Algorithm>) {
        let total = self.max_players();
        let declared = &self.ast.algorithm;
        let balanced = declared.strategy.value() == Some(&ast::Strategy::Balanced);
        if total > MATCH_MAX_PLAYERS {
            let span = self.teams_span();
            self.report(
                Diagnostic::new(
                    Code::TooManyPlayers,
                    span,
                    format!("the teams hold up to {total} players; a match holds at most {MATCH_MAX_PLAYERS}"),
                )
                .with_help("lower `maxPlayers` or `quantity`"),
            );
        }
        if total > SMALL_MATCH_MAX_PLAYERS {
            if !balanced {
                let span = declared
                    .strategy
                    .span()
                    .or(declared.span)
                    .unwrap_or_else(|| self.teams_span());
                self.report(
                    Diagnostic::new(
                        Code::LargeMatchStrategy,
                        span,
                        format!("a match of up to {total} players needs the `balanced` strategy"),
                    )
                    .with_help("exhaustiveSearch handles 40 players or fewer; set the strategy to `balanced` with a number `balancedAttribute`"),
                );
            }
            for rule in &self.ast.rules {
                let Some(kind) = rule.kind.given() else {
                    continue;
                };
                let allowed = matches!(kind.value, RuleType::Latency | RuleType::BatchDistance);
                if !allowed {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::LargeMatchRule,
                            kind.span,
                            format!("a match of more than {SMALL_MATCH_MAX_PLAYERS} players cannot use `{}` rules", kind.value),
                        )
                        .with_help("large matches allow `latency` (with `maxLatency`) and `batchDistance` rules; teams are balanced on the `balancedAttribute` instead"),
                    );
                } else if kind.value == RuleType::Latency
                    && let Some(span) = rule.max_distance.span().or(rule.distance_reference.span())
                {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::LargeMatchRule,
                            span,
                            format!("a latency rule in a match of more than {SMALL_MATCH_MAX_PLAYERS} players takes only `maxLatency`"),
                        )
                        .with_help("remove `maxDistance` and `distanceReference`"),
                    );
                }
            }
        } else if balanced && algorithm.is_some() {
            let span = declared.strategy.span().unwrap_or_default();
            self.report(
                Diagnostic::new(
                    Code::BalancedSmallMatch,
                    span,
                    format!(
                        "the `balanced` strategy is for matches of 41 to 200 players; this one holds at most {total}, so rally runs exhaustiveSearch"
                    ),
                )
                .with_help("rally still balances teams on the `balancedAttribute` once a match forms; set the strategy to `exhaustiveSearch` to silence this"),
            );
        }
    }

    // ---- rules ----------------------------------------------------------------------------

    fn check_rule(&mut self, index: usize, rule: &RuleDecl) -> Option<Rule> {
        let label = rule_label(rule, index);
        let mut ok = true;
        if rule.name.is_absent() {
            self.report(Diagnostic::new(
                Code::MissingProperty,
                head(rule.span),
                format!("{label} needs a `name`"),
            ));
            ok = false;
        }
        let kind = match &rule.kind {
            Field::Given(kind) => kind.value,
            Field::Absent => {
                self.report(
                    Diagnostic::new(
                        Code::MissingProperty,
                        head(rule.span),
                        format!("{label} needs a `type`"),
                    )
                    .with_help(format!("one of {}", suggest::list(RuleType::NAMES))),
                );
                return None;
            }
            Field::Invalid => return None,
        };
        for (property, span) in rule.given_properties() {
            if !kind.allows(property) {
                let users: Vec<&str> = RuleType::users_of(property)
                    .into_iter()
                    .map(RuleType::as_str)
                    .collect();
                self.report(
                    Diagnostic::new(
                        Code::PropertyNotApplicable,
                        span,
                        format!("`{property}` does not apply to a `{kind}` rule"),
                    )
                    .with_help(format!(
                        "`{property}` belongs to {} rules",
                        suggest::list(&users)
                    )),
                );
                ok = false;
            }
        }
        let rule_kind = match kind {
            RuleType::Comparison => self.comparison(rule, &label).map(RuleKind::Comparison),
            RuleType::Distance => self.distance(rule, &label).map(RuleKind::Distance),
            RuleType::Collection => self.collection(rule, &label).map(RuleKind::Collection),
            RuleType::Latency => self.latency(rule, &label).map(RuleKind::Latency),
            RuleType::AbsoluteSort => self.sort(rule, &label).map(RuleKind::AbsoluteSort),
            RuleType::DistanceSort => self.sort(rule, &label).map(RuleKind::DistanceSort),
            RuleType::BatchDistance => self
                .batch_distance(rule, &label)
                .map(RuleKind::BatchDistance),
            RuleType::Compound => self.compound(index, rule, &label).map(RuleKind::Compound),
        };
        let name = rule.name.value()?.clone();
        Some(Rule {
            name,
            description: rule.description.value().cloned(),
            kind: rule_kind.filter(|_| ok)?,
            in_compound: false,
        })
    }

    fn missing(&mut self, rule: &RuleDecl, label: &str, what: &str, help: &str) {
        self.report(
            Diagnostic::new(
                Code::MissingProperty,
                head(rule.span),
                format!("{label} needs {what}"),
            )
            .with_help(help.to_string()),
        );
    }

    /// A required expression property: `None` (reported) when absent or unreadable.
    fn required_expr(
        &mut self,
        field: &Field<Expr>,
        rule: &RuleDecl,
        label: &str,
        property: &str,
        help: &str,
    ) -> Option<TypedExpr> {
        match field {
            Field::Given(expr) => self.type_expr(&expr.value),
            Field::Absent => {
                self.missing(rule, label, &format!("`{property}`"), help);
                None
            }
            Field::Invalid => None,
        }
    }

    fn party_aggregation(&mut self, rule: &RuleDecl, kind: RuleType) -> Option<PartyAggregation> {
        use ast::PartyAggregation as A;
        match rule.party_aggregation.given() {
            None => {
                (!matches!(rule.party_aggregation, Field::Invalid)).then_some(PartyAggregation::Avg)
            }
            Some(aggregation) => match aggregation.value {
                A::Min => Some(PartyAggregation::Min),
                A::Max => Some(PartyAggregation::Max),
                A::Avg => Some(PartyAggregation::Avg),
                A::Union | A::Intersection => {
                    self.report(
                        Diagnostic::new(
                            Code::InvalidValue,
                            aggregation.span,
                            format!("party aggregation `{}` is for collection rules, not `{kind}` rules", aggregation.value),
                        )
                        .with_help("use `min`, `max` or `avg`"),
                    );
                    None
                }
            },
        }
    }

    /// A non-negative bound such as `maxDistance`.
    fn bound(&mut self, field: &Field<f64>, property: &str) -> Result<Option<f64>, ()> {
        match field {
            Field::Given(number) if number.value >= 0.0 => Ok(Some(number.value)),
            Field::Given(number) => {
                self.report(Diagnostic::new(
                    Code::InvalidValue,
                    number.span,
                    format!(
                        "`{property}` cannot be negative, found `{}`",
                        crate::expr::format_number(number.value)
                    ),
                ));
                Err(())
            }
            Field::Absent => Ok(None),
            Field::Invalid => Err(()),
        }
    }

    fn min_not_above_max(
        &mut self,
        min: Option<f64>,
        max: Option<f64>,
        min_span: Option<Span>,
        what: &str,
    ) -> bool {
        if let (Some(min), Some(max)) = (min, max)
            && min > max
        {
            self.report(Diagnostic::new(
                Code::MinExceedsMax,
                min_span.unwrap_or_default(),
                format!(
                    "the minimum {what} `{}` is greater than the maximum `{}`",
                    crate::expr::format_number(min),
                    crate::expr::format_number(max)
                ),
            ));
            return false;
        }
        true
    }

    fn comparison(&mut self, rule: &RuleDecl, label: &str) -> Option<ComparisonRule> {
        use ast::Operation as O;
        let measurement = self.required_expr(
            &rule.measurements,
            rule,
            label,
            "measurements",
            "e.g. `avg(teams[red].players.attributes[skill])`",
        );
        let operation = match rule.operation.given() {
            Some(operation) => match operation.value {
                O::Equal => Some(ComparisonOperation::Equal),
                O::NotEqual => Some(ComparisonOperation::NotEqual),
                O::Less => Some(ComparisonOperation::Less),
                O::LessOrEqual => Some(ComparisonOperation::LessOrEqual),
                O::Greater => Some(ComparisonOperation::Greater),
                O::GreaterOrEqual => Some(ComparisonOperation::GreaterOrEqual),
                O::Intersection | O::Contains | O::ReferenceIntersectionCount => {
                    self.report(
                        Diagnostic::new(
                            Code::InvalidOperation,
                            operation.span,
                            format!("`{}` is a collection operation; comparison rules compare values", operation.value),
                        )
                        .with_help("use `=`, `!=`, `<`, `<=`, `>` or `>=`, or make this a `collection` rule"),
                    );
                    None
                }
            },
            None => {
                if rule.operation.is_absent() {
                    self.missing(
                        rule,
                        label,
                        "an `operation`",
                        "one of `=`, `!=`, `<`, `<=`, `>` or `>=`",
                    );
                }
                None
            }
        };
        let party_aggregation = self.party_aggregation(rule, RuleType::Comparison);
        let measurement = measurement?;
        let measured = rule.measurements.given()?;
        // The measurement is a value, or a list of values each compared (or, without a
        // reference, compared with each other).
        let (element, is_list) = match &measurement.ty {
            Type::Number | Type::String => (measurement.ty.clone(), false),
            Type::List(inner) if matches!(**inner, Type::Number | Type::String) => {
                ((**inner).clone(), true)
            }
            other => {
                let help = if other.depth() >= 2 {
                    "wrap it in `flatten(...)` to compare all players' values, or aggregate each team with e.g. `avg(...)`"
                } else {
                    "comparison rules compare numbers or strings"
                };
                self.report(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        measured.span,
                        format!("a comparison measures a number, a string or a list of them, found {other}"),
                    )
                    .with_help(help),
                );
                return None;
            }
        };
        let reference = match &rule.reference_value {
            Field::Given(reference) => {
                let typed = self.reference(reference, &element, "the measurement")?;
                Some(typed)
            }
            Field::Invalid => return None,
            Field::Absent => None,
        };
        let operation = operation?;
        let op_span = rule.operation.span().unwrap_or_default();
        if reference.is_none() {
            if !is_list {
                self.report(
                    Diagnostic::new(
                        Code::MissingProperty,
                        measured.span,
                        format!("{label} compares one {element} with nothing"),
                    )
                    .with_help("add a `referenceValue`, or measure a list such as `flatten(teams[*].players.attributes[x])` to require all values equal or all different"),
                );
                return None;
            }
            if !matches!(
                operation,
                ComparisonOperation::Equal | ComparisonOperation::NotEqual
            ) {
                self.report(
                    Diagnostic::new(
                        Code::InvalidOperation,
                        op_span,
                        format!("without a `referenceValue`, a comparison checks that values are all equal (`=`) or all different (`!=`); `{}` needs a reference", rule.operation.value().map_or("", |o| o.as_str())),
                    )
                    .with_help("use `=` or `!=`, or add a `referenceValue`"),
                );
                return None;
            }
        }
        if element == Type::String
            && !matches!(
                operation,
                ComparisonOperation::Equal | ComparisonOperation::NotEqual
            )
        {
            self.report(
                Diagnostic::new(
                    Code::InvalidOperation,
                    op_span,
                    "strings compare only with `=` and `!=`",
                )
                .with_help("order comparisons need number measurements"),
            );
            return None;
        }
        Some(ComparisonRule {
            measurement,
            reference,
            operation,
            party_aggregation: party_aggregation?,
        })
    }

    /// Types a reference value that must be a single `expected` value; a string holding a
    /// number counts as a number (with a warning), as FlexMatch's examples write them.
    fn reference(
        &mut self,
        reference: &Spanned<Expr>,
        expected: &Type,
        against: &str,
    ) -> Option<TypedExpr> {
        if *expected == Type::Number
            && let ExprKind::String(text) = &reference.value.kind
            && let Ok(number) = text.trim().parse::<f64>()
        {
            self.report(number_as_string(reference.span, text));
            return Some(TypedExpr {
                node: ExprNode::Number(number),
                ty: Type::Number,
            });
        }
        let typed = self.type_expr(&reference.value)?;
        if typed.ty != *expected {
            let help = if typed.ty.depth() > 0 && expected.depth() == 0 {
                format!("aggregate it to one {expected}, e.g. with `max(...)` or `avg(...)`")
            } else {
                format!("{against} is a {expected}")
            };
            self.report(
                Diagnostic::new(
                    Code::TypeMismatch,
                    reference.span,
                    format!(
                        "the reference value must be a {expected}, found {}",
                        typed.ty
                    ),
                )
                .with_help(help),
            );
            return None;
        }
        Some(typed)
    }

    fn distance(&mut self, rule: &RuleDecl, label: &str) -> Option<DistanceRule> {
        let measurement = self.required_expr(
            &rule.measurements,
            rule,
            label,
            "measurements",
            "e.g. `avg(teams[*].players.attributes[skill])`",
        );
        let reference = match &rule.reference_value {
            Field::Given(reference) => {
                self.reference(reference, &Type::Number, "a distance is between numbers")
            }
            Field::Absent => {
                self.missing(
                    rule,
                    label,
                    "a `referenceValue`",
                    "e.g. `avg(flatten(teams[*].players.attributes[skill]))`",
                );
                None
            }
            Field::Invalid => None,
        };
        let min = self.bound(&rule.min_distance, "minDistance");
        let max = self.bound(&rule.max_distance, "maxDistance");
        let party_aggregation = self.party_aggregation(rule, RuleType::Distance);
        let (Ok(min), Ok(max)) = (min, max) else {
            return None;
        };
        if min.is_none()
            && max.is_none()
            && rule.min_distance.is_absent()
            && rule.max_distance.is_absent()
        {
            self.missing(
                rule,
                label,
                "a `maxDistance`, a `minDistance` or both",
                "e.g. `\"maxDistance\": 10`",
            );
            return None;
        }
        if !self.min_not_above_max(min, max, rule.min_distance.span(), "distance") {
            return None;
        }
        let measurement = measurement?;
        let numeric = matches!(&measurement.ty, Type::Number)
            || matches!(&measurement.ty, Type::List(inner) if **inner == Type::Number);
        if !numeric {
            let span = rule.measurements.span().unwrap_or_default();
            let help = if measurement.ty.depth() >= 2 {
                "aggregate each team with e.g. `avg(...)`, or flatten with `flatten(...)`"
            } else {
                "distance rules measure numbers"
            };
            self.report(
                Diagnostic::new(
                    Code::TypeMismatch,
                    span,
                    format!(
                        "a distance measures a number or a list of numbers, found {}",
                        measurement.ty
                    ),
                )
                .with_help(help),
            );
            return None;
        }
        Some(DistanceRule {
            measurement,
            reference: reference?,
            min_distance: min,
            max_distance: max,
            party_aggregation: party_aggregation?,
        })
    }

    fn collection(&mut self, rule: &RuleDecl, label: &str) -> Option<CollectionRule> {
        use ast::Operation as O;
        let measurement = self.required_expr(
            &rule.measurements,
            rule,
            label,
            "measurements",
            "e.g. `flatten(teams[*].players.attributes[modes])`",
        );
        let operation = match rule.operation.given() {
            Some(operation) => match operation.value {
                O::Intersection => Some(CollectionOperation::Intersection),
                O::Contains => Some(CollectionOperation::Contains),
                O::ReferenceIntersectionCount => {
                    Some(CollectionOperation::ReferenceIntersectionCount)
                }
                _ => {
                    self.report(
                        Diagnostic::new(
                            Code::InvalidOperation,
                            operation.span,
                            format!("`{}` compares values; collection rules count strings", operation.value),
                        )
                        .with_help("use `intersection`, `contains` or `reference_intersection_count`, or make this a `comparison` rule"),
                    );
                    None
                }
            },
            None => {
                if rule.operation.is_absent() {
                    self.missing(
                        rule,
                        label,
                        "an `operation`",
                        "one of `intersection`, `contains` or `reference_intersection_count`",
                    );
                }
                None
            }
        };
        let min = self.bound(&rule.min_count, "minCount");
        let max = self.bound(&rule.max_count, "maxCount");
        let party_aggregation = match rule.party_aggregation.given() {
            None => (!matches!(rule.party_aggregation, Field::Invalid))
                .then_some(CollectionPartyAggregation::Union),
            Some(aggregation) => match aggregation.value {
                ast::PartyAggregation::Union => Some(CollectionPartyAggregation::Union),
                ast::PartyAggregation::Intersection => {
                    Some(CollectionPartyAggregation::Intersection)
                }
                other => {
                    self.report(
                        Diagnostic::new(
                            Code::InvalidValue,
                            aggregation.span,
                            format!("party aggregation `{other}` is not for collection rules"),
                        )
                        .with_help("collection rules combine a party's lists with `union` or `intersection`"),
                    );
                    None
                }
            },
        };
        let (Ok(min), Ok(max)) = (min, max) else {
            return None;
        };
        let mut counts_ok = true;
        for (field, value) in [(&rule.min_count, min), (&rule.max_count, max)] {
            if let (Some(value), Some(span)) = (value, field.span())
                && value.fract() != 0.0
            {
                self.report(Diagnostic::new(
                    Code::InvalidValue,
                    span,
                    format!(
                        "counts are whole numbers, found `{}`",
                        crate::expr::format_number(value)
                    ),
                ));
                counts_ok = false;
            }
        }
        if min.is_none()
            && max.is_none()
            && rule.min_count.is_absent()
            && rule.max_count.is_absent()
        {
            self.missing(
                rule,
                label,
                "a `minCount`, a `maxCount` or both",
                "e.g. `\"minCount\": 1`",
            );
            return None;
        }
        if !counts_ok || !self.min_not_above_max(min, max, rule.min_count.span(), "count") {
            return None;
        }
        let operation = operation?;
        let measurement = measurement?;
        let collections = Type::list(Type::list(Type::String));
        if measurement.ty != collections {
            let span = rule.measurements.span().unwrap_or_default();
            let help = if measurement.ty.depth() > 2 && *measurement.ty.innermost() == Type::String
            {
                "wrap it in `flatten(...)` to get one list per player"
            } else {
                "collection rules measure `string_list` attributes, one list per player"
            };
            self.report(
                Diagnostic::new(
                    Code::TypeMismatch,
                    span,
                    format!(
                        "a collection rule measures List<List<string>>, found {}",
                        measurement.ty
                    ),
                )
                .with_help(help),
            );
            return None;
        }
        let reference = match (&rule.reference_value, operation) {
            (Field::Given(reference), CollectionOperation::Intersection) => {
                self.report(
                    Diagnostic::new(
                        Code::PropertyNotApplicable,
                        reference.span,
                        "`intersection` counts the strings all players share and takes no `referenceValue`",
                    )
                    .with_help("remove it, or use `reference_intersection_count` to compare with a reference"),
                );
                return None;
            }
            (Field::Given(reference), CollectionOperation::Contains) => {
                Some(self.reference(reference, &Type::String, "`contains` looks for one string")?)
            }
            (Field::Given(reference), CollectionOperation::ReferenceIntersectionCount) => {
                let typed = self.type_expr(&reference.value)?;
                if typed.ty != Type::list(Type::String) && typed.ty != Type::String {
                    self.report(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            reference.span,
                            format!(
                                "the reference value must be a List<string>, found {}",
                                typed.ty
                            ),
                        )
                        .with_help(
                            "e.g. `flatten(teams[*].players[playerId])` or `set_intersection(...)`",
                        ),
                    );
                    return None;
                }
                Some(typed)
            }
            (Field::Absent, CollectionOperation::Intersection) => None,
            (Field::Absent, _) => {
                self.missing(
                    rule,
                    label,
                    "a `referenceValue`",
                    "the string or list of strings to look for",
                );
                return None;
            }
            (Field::Invalid, _) => return None,
        };
        Some(CollectionRule {
            measurement,
            reference,
            operation,
            min_count: min.map(|count| count as u32),
            max_count: max.map(|count| count as u32),
            party_aggregation: party_aggregation?,
        })
    }

    fn latency(&mut self, rule: &RuleDecl, label: &str) -> Option<LatencyRule> {
        let max_latency = self.bound(&rule.max_latency, "maxLatency");
        let max_distance = self.bound(&rule.max_distance, "maxDistance");
        let party_aggregation = self.party_aggregation(rule, RuleType::Latency);
        let (Ok(max_latency), Ok(max_distance)) = (max_latency, max_distance) else {
            return None;
        };
        let distance_reference = rule.distance_reference.value().copied();
        if rule.max_latency.is_absent() && rule.max_distance.is_absent() {
            self.missing(
                rule,
                label,
                "a `maxLatency`, a `maxDistance` or both",
                "e.g. `\"maxLatency\": 150` (milliseconds)",
            );
            return None;
        }
        match (max_distance.is_some(), &rule.distance_reference) {
            (true, Field::Absent) => {
                self.missing(
                    rule,
                    label,
                    "a `distanceReference` with its `maxDistance`",
                    "`min` or `avg`: what each player's latency is measured from",
                );
                return None;
            }
            (false, Field::Given(reference)) if rule.max_distance.is_absent() => {
                self.report(
                    Diagnostic::new(
                        Code::MissingProperty,
                        reference.span,
                        format!("{label} has a `distanceReference` but no `maxDistance`"),
                    )
                    .with_help("add a `maxDistance`, or remove the reference"),
                );
                return None;
            }
            (_, Field::Invalid) => return None,
            _ => {}
        }
        Some(LatencyRule {
            max_latency,
            max_distance,
            distance_reference,
            party_aggregation: party_aggregation?,
        })
    }

    fn sort(&mut self, rule: &RuleDecl, label: &str) -> Option<SortRule> {
        let direction = match &rule.sort_direction {
            Field::Given(direction) => Some(direction.value),
            Field::Absent => {
                self.missing(
                    rule,
                    label,
                    "a `sortDirection`",
                    "`ascending` or `descending`",
                );
                None
            }
            Field::Invalid => None,
        };
        let party_aggregation = self.party_aggregation(rule, rule.kind.value().copied()?);
        let attribute = match rule.sort_attribute.given() {
            Some(name) => self.attribute_named(name),
            None => {
                if rule.sort_attribute.is_absent() {
                    self.missing(
                        rule,
                        label,
                        "a `sortAttribute`",
                        "the number or string_number_map attribute to sort by",
                    );
                }
                None
            }
        }?;
        let ty = self.attributes[attribute.0].ty;
        let name = rule.sort_attribute.given()?;
        let map_key = match (ty, &rule.map_key) {
            (ast::AttributeType::Number, Field::Absent) => None,
            (ast::AttributeType::Number, Field::Given(key)) => {
                self.report(
                    Diagnostic::new(
                        Code::PropertyNotApplicable,
                        key.span,
                        format!(
                            "`mapKey` applies to string_number_map attributes; `{}` is a number",
                            name.value
                        ),
                    )
                    .with_help("remove `mapKey`"),
                );
                return None;
            }
            (ast::AttributeType::StringNumberMap, Field::Given(key)) => Some(key.value),
            (ast::AttributeType::StringNumberMap, Field::Absent) => {
                self.missing(
                    rule,
                    label,
                    "a `mapKey` to sort a string_number_map",
                    "`minValue` or `maxValue`: which of the anchor's keys to sort by",
                );
                return None;
            }
            (_, Field::Invalid) => return None,
            (other, _) => {
                self.report(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        name.span,
                        format!("sort rules sort by number or string_number_map attributes; `{}` is a {other}", name.value),
                    ),
                );
                return None;
            }
        };
        Some(SortRule {
            attribute,
            direction: direction?,
            map_key,
            party_aggregation: party_aggregation?,
        })
    }

    fn batch_distance(&mut self, rule: &RuleDecl, label: &str) -> Option<BatchDistanceRule> {
        let max_distance = self.bound(&rule.max_distance, "maxDistance");
        let party_aggregation = self.party_aggregation(rule, RuleType::BatchDistance);
        let attribute = match rule.batch_attribute.given() {
            Some(name) => self.attribute_named(name),
            None => {
                if rule.batch_attribute.is_absent() {
                    self.missing(
                        rule,
                        label,
                        "a `batchAttribute`",
                        "the number or string attribute players must share",
                    );
                }
                None
            }
        }?;
        let max_distance = max_distance.ok()?;
        let name = rule.batch_attribute.given()?;
        match self.attributes[attribute.0].ty {
            ast::AttributeType::Number => {}
            ast::AttributeType::String => {
                if let Some(span) = rule.max_distance.span() {
                    self.report(
                        Diagnostic::new(
                            Code::PropertyNotApplicable,
                            span,
                            format!("`{}` is a string attribute: players must share its value, so `maxDistance` does not apply", name.value),
                        )
                        .with_help("remove `maxDistance`"),
                    );
                    return None;
                }
            }
            other => {
                self.report(Diagnostic::new(
                    Code::TypeMismatch,
                    name.span,
                    format!("a batchDistance rule batches on a number or string attribute; `{}` is a {other}", name.value),
                ));
                return None;
            }
        }
        Some(BatchDistanceRule {
            attribute,
            max_distance,
            party_aggregation: party_aggregation?,
        })
    }

    fn compound(&mut self, index: usize, rule: &RuleDecl, label: &str) -> Option<CompoundRule> {
        let statement = match &rule.statement {
            Field::Given(statement) => statement,
            Field::Absent => {
                self.missing(
                    rule,
                    label,
                    "a `statement`",
                    "e.g. `or(and(SameMap, SameMode), CloseSkill)`",
                );
                return None;
            }
            Field::Invalid => return None,
        };
        let condition = self.condition(&statement.value, index)?;
        Some(CompoundRule { condition })
    }

    fn condition(
        &mut self,
        statement: &crate::expr::Statement,
        compound_index: usize,
    ) -> Option<Condition> {
        match &statement.kind {
            StatementKind::Rule(name) => {
                let Some(&position) = self.rule_positions.get(name.as_str()) else {
                    let earlier: Vec<&str> = self.ast.rules[..compound_index]
                        .iter()
                        .filter_map(|rule| rule.name.value().map(String::as_str))
                        .collect();
                    self.report(
                        Diagnostic::new(
                            Code::UnknownRule,
                            statement.span,
                            format!("unknown rule `{name}`"),
                        )
                        .with_help_opt(suggest::did_you_mean(name, earlier)),
                    );
                    return None;
                };
                if position >= compound_index {
                    let message = if position == compound_index {
                        format!("compound rule `{name}` names itself")
                    } else {
                        format!("rule `{name}` is defined after the compound rule that names it")
                    };
                    self.report(
                        Diagnostic::new(Code::CompoundForwardReference, statement.span, message)
                            .with_help("a compound rule combines rules defined before it; move it below them"),
                    );
                    return None;
                }
                if self.ast.rules[position].kind.value() == Some(&RuleType::BatchDistance) {
                    self.report(
                        Diagnostic::new(
                            Code::CompoundBatchDistance,
                            statement.span,
                            format!("compound rules cannot use batchDistance rule `{name}`"),
                        )
                        .with_help("batchDistance rules form batches before any match is built; keep it as a rule of its own"),
                    );
                    return None;
                }
                Some(Condition::Rule(RuleId(position)))
            }
            StatementKind::Call { operator, args } => {
                let arity = match operator.value.as_str() {
                    "and" | "or" | "xor" => 2,
                    "not" => 1,
                    other => {
                        self.report(
                            Diagnostic::new(
                                Code::UnknownFunction,
                                operator.span,
                                format!("unknown operator `{other}` in a compound statement"),
                            )
                            .with_help(suggest::expected_one_of(
                                other,
                                &["and", "or", "xor", "not"],
                            )),
                        );
                        return None;
                    }
                };
                if args.len() != arity {
                    self.report(Diagnostic::new(
                        Code::WrongArgumentCount,
                        statement.span,
                        format!(
                            "`{}` takes {arity} argument{}, found {}",
                            operator.value,
                            if arity == 1 { "" } else { "s" },
                            args.len()
                        ),
                    ));
                    return None;
                }
                let mut conditions = Vec::new();
                let mut ok = true;
                for arg in args {
                    match self.condition(arg, compound_index) {
                        Some(condition) => conditions.push(condition),
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                let mut conditions = conditions.into_iter().map(Box::new);
                let mut next = || conditions.next().expect("arity was checked");
                Some(match operator.value.as_str() {
                    "and" => Condition::And(next(), next()),
                    "or" => Condition::Or(next(), next()),
                    "xor" => Condition::Xor(next(), next()),
                    _ => Condition::Not(next()),
                })
            }
        }
    }

    // ---- expressions ----------------------------------------------------------------------

    fn type_expr(&mut self, expr: &Expr) -> Option<TypedExpr> {
        match &expr.kind {
            ExprKind::Number(number) => Some(TypedExpr {
                node: ExprNode::Number(*number),
                ty: Type::Number,
            }),
            ExprKind::String(text) => Some(TypedExpr {
                node: ExprNode::String(text.clone()),
                ty: Type::String,
            }),
            ExprKind::List(items) => {
                let mut typed = Vec::new();
                for item in items {
                    typed.push(self.type_expr(item)?);
                }
                let element = typed.first().map_or(Type::String, |first| first.ty.clone());
                if let Some((bad, item)) = typed.iter().zip(items).find(|(t, _)| t.ty != element) {
                    self.report(Diagnostic::new(
                        Code::TypeMismatch,
                        item.span,
                        format!(
                            "a list's items share one type: expected {element}, found {}",
                            bad.ty
                        ),
                    ));
                    return None;
                }
                Some(TypedExpr {
                    node: ExprNode::List(typed),
                    ty: Type::list(element),
                })
            }
            ExprKind::Path(path) => {
                let (teams, grouped) = match &path.teams.value {
                    TeamSelector::All => ((0..self.teams.len()).map(TeamId).collect(), true),
                    TeamSelector::Names(names) => {
                        let mut teams = Vec::new();
                        let mut grouped = names.len() > 1;
                        let mut ok = true;
                        for name in names {
                            match self.teams_named(name) {
                                Some((ids, group)) => {
                                    grouped |= group;
                                    teams.extend(ids);
                                }
                                None => ok = false,
                            }
                        }
                        if !ok {
                            return None;
                        }
                        (teams, grouped)
                    }
                };
                let (field, element) = match &path.field {
                    PathField::Teams => {
                        let ty = if grouped {
                            Type::list(Type::Team)
                        } else {
                            Type::Team
                        };
                        return Some(TypedExpr {
                            node: ExprNode::Select {
                                teams,
                                grouped,
                                field: SelectField::Teams,
                            },
                            ty,
                        });
                    }
                    PathField::Players => (SelectField::Players, Type::Player),
                    PathField::PlayerId => (SelectField::PlayerId, Type::String),
                    PathField::Attribute(name) => {
                        let id = self.attribute_named(name)?;
                        (
                            SelectField::Attribute(id),
                            Type::of_attribute(self.attributes[id.0].ty),
                        )
                    }
                };
                let per_team = Type::list(element);
                let ty = if grouped {
                    Type::list(per_team)
                } else {
                    per_team
                };
                Some(TypedExpr {
                    node: ExprNode::Select {
                        teams,
                        grouped,
                        field,
                    },
                    ty,
                })
            }
            ExprKind::Call { function, args } => {
                let Some(resolved) = Function::parse(&function.value) else {
                    self.report(
                        Diagnostic::new(
                            Code::UnknownFunction,
                            function.span,
                            format!("unknown function `{}`", function.value),
                        )
                        .with_help(suggest::expected_one_of(&function.value, Function::NAMES)),
                    );
                    return None;
                };
                if args.len() != 1 {
                    self.report(Diagnostic::new(
                        Code::WrongArgumentCount,
                        expr.span,
                        format!(
                            "`{}` takes 1 argument, found {}",
                            function.value,
                            args.len()
                        ),
                    ));
                    return None;
                }
                let arg = self.type_expr(&args[0])?;
                let Some(ty) = apply(resolved, &arg.ty) else {
                    let expected = match resolved {
                        Function::Count => "a list",
                        Function::Flatten => "a list of lists",
                        Function::SetIntersection => "a list of string lists (List<List<string>>)",
                        _ => "a list of numbers",
                    };
                    self.report(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            args[0].span,
                            format!("`{}` takes {expected}, found {}", function.value, arg.ty),
                        )
                        .with_label(format!("this is a {}", arg.ty)),
                    );
                    return None;
                };
                Some(TypedExpr {
                    node: ExprNode::Call {
                        function: resolved,
                        arg: Box::new(arg),
                    },
                    ty,
                })
            }
        }
    }

    // ---- expansions -------------------------------------------------------------------------

    fn check_expansions(&mut self) -> Option<Vec<Expansion>> {
        let mut expansions = Vec::new();
        let mut ok = true;
        let mut seen: Vec<(ExpansionTarget, Span)> = Vec::new();
        for declaration in &self.ast.expansions {
            match self.expansion(declaration) {
                Some((expansion, span)) => {
                    let overlapping = seen
                        .iter()
                        .find(|(target, _)| targets_overlap(target, &expansion.target));
                    if let Some((_, first)) = overlapping {
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::DuplicateExpansion,
                                span,
                                "two expansions relax the same property",
                            )
                            .with_note(*first, "the other expansion")
                            .with_help("merge their steps into one expansion"),
                        );
                        ok = false;
                    }
                    seen.push((expansion.target.clone(), span));
                    expansions.push(expansion);
                }
                None => ok = false,
            }
        }
        ok.then_some(expansions)
    }

    fn expansion(&mut self, declaration: &ast::ExpansionDecl) -> Option<(Expansion, Span)> {
        let target = match &declaration.target {
            Field::Given(target) => target,
            Field::Absent => {
                self.report(
                    Diagnostic::new(
                        Code::MissingProperty,
                        head(declaration.span),
                        "an expansion needs a `target`",
                    )
                    .with_help("e.g. `rules[FairSkill].maxDistance` or `teams[red].minPlayers`"),
                );
                return None;
            }
            Field::Invalid => return None,
        };
        let steps = self.expansion_steps(declaration);
        let (resolved, value_kind) = match target.value.component.value {
            ast::TargetComponent::Rules => self.rule_target(&target.value)?,
            ast::TargetComponent::Teams => self.teams_target(&target.value)?,
        };
        let steps = steps?;
        let mut compiled = Vec::new();
        let mut ok = true;
        for (wait, value) in steps {
            match self.step_value(value, &value_kind, &resolved) {
                Some(value) => compiled.push(ExpansionStep {
                    wait_time_seconds: wait,
                    value,
                }),
                None => ok = false,
            }
        }
        ok.then_some((
            Expansion {
                target: resolved,
                steps: compiled,
            },
            target.span,
        ))
    }

    /// The steps' wait times (strictly increasing) and values, unchecked against the target.
    fn expansion_steps<'d>(
        &mut self,
        declaration: &'d ast::ExpansionDecl,
    ) -> Option<Vec<(f64, &'d Spanned<Value>)>> {
        let steps = match &declaration.steps {
            Field::Given(steps) if !steps.value.is_empty() => &steps.value,
            Field::Given(steps) => {
                self.report(Diagnostic::new(
                    Code::MissingProperty,
                    steps.span,
                    "an expansion needs at least one step",
                ));
                return None;
            }
            Field::Absent => {
                self.report(
                    Diagnostic::new(
                        Code::MissingProperty,
                        head(declaration.span),
                        "an expansion needs `steps`",
                    )
                    .with_help("e.g. `[{\"waitTimeSeconds\": 10, \"value\": 50}]`"),
                );
                return None;
            }
            Field::Invalid => return None,
        };
        let mut out = Vec::new();
        let mut ok = true;
        let mut previous: Option<(f64, Span)> = None;
        for step in steps {
            let wait = match &step.wait_time_seconds {
                Field::Given(wait) if wait.value >= 0.0 => Some(wait),
                Field::Given(wait) => {
                    self.report(Diagnostic::new(
                        Code::InvalidValue,
                        wait.span,
                        format!(
                            "a wait time cannot be negative, found `{}`",
                            crate::expr::format_number(wait.value)
                        ),
                    ));
                    None
                }
                Field::Absent => {
                    self.report(Diagnostic::new(
                        Code::MissingProperty,
                        head(step.span),
                        "an expansion step needs `waitTimeSeconds`",
                    ));
                    None
                }
                Field::Invalid => None,
            };
            let value = match &step.value {
                Field::Given(value) => Some(value),
                Field::Absent => {
                    self.report(Diagnostic::new(
                        Code::MissingProperty,
                        head(step.span),
                        "an expansion step needs a `value`",
                    ));
                    None
                }
                Field::Invalid => None,
            };
            let (Some(wait), Some(value)) = (wait, value) else {
                ok = false;
                continue;
            };
            if let Some((before, before_span)) = previous
                && wait.value <= before
            {
                self.report(
                    Diagnostic::new(
                        Code::ExpansionStepOrder,
                        wait.span,
                        format!(
                            "wait times must increase: {}s comes after {}s",
                            crate::expr::format_number(wait.value),
                            crate::expr::format_number(before)
                        ),
                    )
                    .with_note(before_span, "the previous step")
                    .with_help(
                        "wait times are seconds since the ticket started, not since the last step",
                    ),
                );
                ok = false;
            }
            previous = Some((wait.value, wait.span));
            out.push((wait.value, value));
        }
        ok.then_some(out)
    }

    fn rule_target(&mut self, target: &ast::Target) -> Option<(ExpansionTarget, StepKind)> {
        let [name] = target.names.as_slice() else {
            let span = target
                .names
                .first()
                .map_or(target.component.span, |n| n.span);
            self.report(Diagnostic::new(
                Code::InvalidTarget,
                span,
                "an expansion relaxes one rule at a time",
            ));
            return None;
        };
        let Some(&position) = self.rule_positions.get(name.value.as_str()) else {
            let names: Vec<&str> = self.rule_positions.keys().copied().collect();
            self.report(
                Diagnostic::new(
                    Code::UnknownRule,
                    name.span,
                    format!("unknown rule `{}`", name.value),
                )
                .with_help_opt(suggest::did_you_mean(&name.value, names)),
            );
            return None;
        };
        let rule = &self.ast.rules[position];
        let kind = *rule.kind.value()?;
        if kind == RuleType::Compound {
            self.report(
                Diagnostic::new(
                    Code::ExpansionCompound,
                    name.span,
                    format!(
                        "`{}` is a compound rule, which cannot be expanded",
                        name.value
                    ),
                )
                .with_help("expand the rules it combines instead"),
            );
            return None;
        }
        let property_name = &target.property;
        let Some(property) = RuleProperty::parse(&property_name.value) else {
            let mut known: Vec<&str> = kind.relaxable().iter().map(|p| p.as_str()).collect();
            if known.is_empty() {
                known = kind.properties().iter().map(|p| p.as_str()).collect();
            }
            let is_common = matches!(
                property_name.value.as_str(),
                "name" | "type" | "description"
            );
            let (code, message) = if is_common {
                (
                    Code::ExpansionNotRelaxable,
                    format!("`{}` of a rule cannot be expanded", property_name.value),
                )
            } else {
                (
                    Code::UnknownProperty,
                    format!("rules have no property `{}`", property_name.value),
                )
            };
            self.report(
                Diagnostic::new(code, property_name.span, message)
                    .with_help(suggest::expected_one_of(&property_name.value, &known)),
            );
            return None;
        };
        if !kind.allows(property) {
            self.report(Diagnostic::new(
                Code::PropertyNotApplicable,
                property_name.span,
                format!(
                    "`{property}` does not apply to `{kind}` rule `{}`",
                    name.value
                ),
            ));
            return None;
        }
        if !kind.relaxable().contains(&property) {
            let relaxable: Vec<&str> = kind.relaxable().iter().map(|p| p.as_str()).collect();
            let help = if relaxable.is_empty() {
                format!("`{kind}` rules have nothing to relax")
            } else {
                format!("a `{kind}` rule relaxes {}", suggest::list(&relaxable))
            };
            self.report(
                Diagnostic::new(
                    Code::ExpansionNotRelaxable,
                    property_name.span,
                    format!("`{property}` cannot be expanded"),
                )
                .with_help(help),
            );
            return None;
        }
        let step_kind = if property == RuleProperty::ReferenceValue {
            match rule.reference_value.value().map(|expr| &expr.kind) {
                Some(ExprKind::Number(_)) => StepKind::Number { whole: false },
                Some(ExprKind::String(text)) if text.trim().parse::<f64>().is_ok() => {
                    StepKind::Number { whole: false }
                }
                Some(ExprKind::String(_)) => StepKind::String,
                Some(_) => {
                    self.report(
                        Diagnostic::new(
                            Code::ExpansionNotRelaxable,
                            property_name.span,
                            format!("the reference value of `{}` is an expression; only a literal reference can be expanded", name.value),
                        )
                        .with_help("expand a bound such as `maxDistance` instead"),
                    );
                    return None;
                }
                None => StepKind::Number { whole: false },
            }
        } else {
            StepKind::Number {
                whole: matches!(property, RuleProperty::MinCount | RuleProperty::MaxCount),
            }
        };
        if !rule.is_present(property) {
            self.report(
                Diagnostic::new(
                    Code::ExpansionUnsetProperty,
                    property_name.span,
                    format!("rule `{}` sets no `{property}`; this expansion adds one once its first step is reached", name.value),
                ),
            );
        }
        Some((
            ExpansionTarget::Rule {
                rule: RuleId(position),
                property,
            },
            step_kind,
        ))
    }

    fn teams_target(&mut self, target: &ast::Target) -> Option<(ExpansionTarget, StepKind)> {
        let mut definitions = Vec::new();
        let mut ok = true;
        for name in &target.names {
            match self
                .team_definitions
                .iter()
                .position(|d| d.name == name.value)
            {
                Some(position) => definitions.push(TeamDefinitionId(position)),
                None => {
                    let declared: Vec<&str> = self
                        .ast
                        .teams()
                        .iter()
                        .filter_map(|team| team.name.value().map(String::as_str))
                        .collect();
                    if declared.contains(&name.value.as_str()) {
                        // Declared but invalid: already reported.
                    } else {
                        let is_copy = self.teams.iter().any(|team| team.name == name.value);
                        let help = if is_copy {
                            Some("expansions apply to a team definition and all its copies; name the definition".to_string())
                        } else {
                            suggest::did_you_mean(&name.value, declared)
                        };
                        self.report(
                            Diagnostic::new(
                                Code::UnknownTeam,
                                name.span,
                                format!("unknown team `{}`", name.value),
                            )
                            .with_help_opt(help),
                        );
                    }
                    ok = false;
                }
            }
        }
        let property_name = &target.property;
        let property = match ast::TeamProperty::parse(&property_name.value) {
            Some(property @ (ast::TeamProperty::MinPlayers | ast::TeamProperty::MaxPlayers)) => {
                property
            }
            Some(other) => {
                self.report(
                    Diagnostic::new(
                        Code::ExpansionNotRelaxable,
                        property_name.span,
                        format!("a team's `{other}` cannot be expanded"),
                    )
                    .with_help("expansions relax `minPlayers` or `maxPlayers`"),
                );
                return None;
            }
            None => {
                self.report(
                    Diagnostic::new(
                        Code::UnknownProperty,
                        property_name.span,
                        format!("teams have no property `{}`", property_name.value),
                    )
                    .with_help(suggest::expected_one_of(
                        &property_name.value,
                        &["minPlayers", "maxPlayers"],
                    )),
                );
                return None;
            }
        };
        ok.then_some((
            ExpansionTarget::Teams {
                definitions,
                property,
            },
            StepKind::Players(property),
        ))
    }

    fn step_value(
        &mut self,
        value: &Spanned<Value>,
        kind: &StepKind,
        target: &ExpansionTarget,
    ) -> Option<StepValue> {
        let number = match (&value.value, kind) {
            (Value::String(text), StepKind::String) => {
                return Some(StepValue::String(text.clone()));
            }
            (_, StepKind::String) => {
                self.report(Diagnostic::new(
                    Code::WrongValueType,
                    value.span,
                    format!(
                        "this expansion sets a string reference value, found {}",
                        value.value.describe()
                    ),
                ));
                return None;
            }
            (Value::Number(number), _) => *number,
            (Value::String(text), _) if text.trim().parse::<f64>().is_ok() => {
                self.report(number_as_string(value.span, text));
                text.trim().parse().expect("checked above")
            }
            (other, _) => {
                self.report(Diagnostic::new(
                    Code::WrongValueType,
                    value.span,
                    format!(
                        "an expansion step's value must be a number here, found {}",
                        other.describe()
                    ),
                ));
                return None;
            }
        };
        let whole = match kind {
            StepKind::Number { whole } => *whole,
            StepKind::Players(_) => true,
            StepKind::String => false,
        };
        if number < 0.0 || (whole && number.fract() != 0.0) {
            let expected = if whole {
                "a whole number of at least 0"
            } else {
                "a number of at least 0"
            };
            self.report(Diagnostic::new(
                Code::InvalidValue,
                value.span,
                format!(
                    "expected {expected}, found `{}`",
                    crate::expr::format_number(number)
                ),
            ));
            return None;
        }
        if let (StepKind::Players(property), ExpansionTarget::Teams { definitions, .. }) =
            (kind, target)
        {
            for definition in definitions {
                let definition = &self.team_definitions[definition.0];
                let (bad, message) = match property {
                    ast::TeamProperty::MinPlayers => (
                        number > f64::from(definition.max_players),
                        format!(
                            "team `{}` would need at least {} players but holds at most {}",
                            definition.name,
                            crate::expr::format_number(number),
                            definition.max_players
                        ),
                    ),
                    _ => (
                        number < f64::from(definition.min_players) || number < 1.0,
                        format!(
                            "team `{}` would hold at most {} players but needs at least {}",
                            definition.name,
                            crate::expr::format_number(number),
                            definition.min_players.max(1)
                        ),
                    ),
                };
                if bad {
                    self.report(Diagnostic::new(Code::MinExceedsMax, value.span, message));
                    return None;
                }
            }
        }
        Some(StepValue::Number(number))
    }
}

/// What an expansion's step values must be.
enum StepKind {
    Number { whole: bool },
    String,
    Players(ast::TeamProperty),
}

fn targets_overlap(a: &ExpansionTarget, b: &ExpansionTarget) -> bool {
    match (a, b) {
        (
            ExpansionTarget::Rule {
                rule: ra,
                property: pa,
            },
            ExpansionTarget::Rule {
                rule: rb,
                property: pb,
            },
        ) => ra == rb && pa == pb,
        (
            ExpansionTarget::Teams {
                definitions: da,
                property: pa,
            },
            ExpansionTarget::Teams {
                definitions: db,
                property: pb,
            },
        ) => pa == pb && da.iter().any(|d| db.contains(d)),
        _ => false,
    }
}

/// The result type of `function` applied to `arg`, lifting over nested lists as FlexMatch's
/// guide describes ("operations on a nested list operate on each sublist individually"):
/// each function works on the innermost list it accepts and maps over the lists around it.
fn apply(function: Function, arg: &Type) -> Option<Type> {
    let Type::List(element) = arg else {
        return None;
    };
    match function {
        Function::Flatten => element.element().map(|inner| Type::list(inner.clone())),
        Function::Count => Some(match &**element {
            Type::List(_) => Type::list(apply(function, element)?),
            _ => Type::Number,
        }),
        Function::SetIntersection => {
            if **element == Type::list(Type::String) {
                Some(Type::list(Type::String))
            } else if element.depth() >= 2 {
                Some(Type::list(apply(function, element)?))
            } else {
                None
            }
        }
        _ => match &**element {
            Type::Number => Some(Type::Number),
            Type::List(_) => Some(Type::list(apply(function, element)?)),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_lift_over_nested_lists() {
        let numbers = Type::list(Type::Number);
        let grouped = Type::list(numbers.clone());
        assert_eq!(apply(Function::Avg, &numbers), Some(Type::Number));
        assert_eq!(apply(Function::Avg, &grouped), Some(numbers.clone()));
        assert_eq!(apply(Function::Flatten, &grouped), Some(numbers.clone()));
        assert_eq!(apply(Function::Flatten, &numbers), None);
        assert_eq!(
            apply(Function::Count, &Type::list(Type::list(Type::Player))),
            Some(numbers.clone())
        );
        let string_lists = Type::list(Type::list(Type::String));
        assert_eq!(
            apply(Function::SetIntersection, &string_lists),
            Some(Type::list(Type::String))
        );
        assert_eq!(
            apply(Function::SetIntersection, &Type::list(string_lists.clone())),
            Some(string_lists.clone())
        );
        assert_eq!(apply(Function::Max, &string_lists), None);
        assert_eq!(apply(Function::Sum, &Type::Number), None);
    }
}
