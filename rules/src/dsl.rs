//! Reads the rally DSL (`.rules` files) into the rule-set model. The grammar is
//! `grammar/dsl.pest`; the language is documented in `docs/dsl.md`.

use std::iter::Peekable;

use pest::Parser as _;
use pest::iterators::{Pair, Pairs};

use crate::ast::*;
use crate::diagnostic::{Code, Diagnostic};
use crate::expr::{self, Expr};
use crate::grammar::rules::{Rule, RulesParser};
use crate::grammar::{parse_with_detail, syntax_error};
use crate::lex;
use crate::span::{Span, Spanned};
use crate::suggest;

/// Reads DSL text. Returns `None` when it does not parse; the syntax error is in `diagnostics`.
pub(crate) fn parse(text: &str, diagnostics: &mut Vec<Diagnostic>) -> Option<RuleSetAst> {
    let scan = lex::scan(text);
    if let Some(offset) = scan.too_deep_at {
        diagnostics.push(Diagnostic::new(
            Code::NestingTooDeep,
            Span::new(offset, offset + 1),
            format!(
                "brackets are nested more than {} levels deep",
                lex::MAX_NESTING
            ),
        ));
        return None;
    }
    let input = match parse_with_detail(|| RulesParser::parse(Rule::dsl_input, text)) {
        Ok(mut pairs) => pairs.next().expect("dsl_input yields one pair"),
        Err(error) => {
            diagnostics.push(syntax_error(
                &error,
                Code::DslSyntax,
                "invalid rule set",
                text,
                &|span| span,
            ));
            return None;
        }
    };
    let mut reader = Reader {
        text,
        doc_comments: doc_comments(text, &scan.comments),
        diagnostics,
        ast: RuleSetAst {
            format: SourceFormat::Dsl,
            span: Span::new(0, text.len()),
            name: Field::Absent,
            language_version: Field::Absent,
            attributes: Vec::new(),
            algorithm: AlgorithmDecl::default(),
            teams: Field::given_new(Vec::new(), Span::new(0, text.len())),
            rules: Vec::new(),
            expansions: Vec::new(),
        },
        ms_on_max_distance: Vec::new(),
    };
    for declaration in input.into_inner() {
        match declaration.as_rule() {
            Rule::ruleset_decl => reader.ruleset(declaration),
            Rule::attribute_decl => reader.attribute(declaration),
            Rule::algorithm_decl => reader.algorithm(declaration),
            Rule::team_decl => reader.team(declaration),
            Rule::rule_decl => reader.rule(declaration),
            Rule::expand_decl => reader.expansion(declaration),
            Rule::EOI => {}
            rule => unreachable!("a rule set holds no {rule:?}"),
        }
    }
    reader.check_distance_units();
    for doc in reader.doc_comments.iter().filter(|doc| !doc.used.get()) {
        reader.diagnostics.push(
            Diagnostic::new(
                Code::DetachedDocComment,
                doc.span,
                "this `///` comment is not directly above a rule, so it describes nothing",
            )
            .with_help("move it to the line above a `rule`, or write `//` for a plain comment"),
        );
    }
    Some(reader.ast)
}

/// A `///` comment line: where its line starts, and its text (one space after `///` dropped).
struct DocLine {
    span: Span,
    line_start: usize,
    text: String,
    /// Taken as part of a rule's description.
    used: std::cell::Cell<bool>,
}

fn doc_comments(text: &str, comments: &[Span]) -> Vec<DocLine> {
    comments
        .iter()
        .filter_map(|span| {
            let comment = &text[span.start..span.end];
            let body = comment.strip_prefix("///")?;
            if body.starts_with('/') {
                return None;
            }
            let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
            // Only a comment alone on its line documents the rule below it.
            if !text[line_start..span.start].trim().is_empty() {
                return None;
            }
            let body = body.strip_prefix(' ').unwrap_or(body);
            Some(DocLine {
                span: *span,
                line_start,
                text: body.trim_end_matches('\r').to_string(),
                used: std::cell::Cell::new(false),
            })
        })
        .collect()
}

struct Reader<'t, 'd> {
    text: &'t str,
    doc_comments: Vec<DocLine>,
    diagnostics: &'d mut Vec<Diagnostic>,
    ast: RuleSetAst,
    /// Rules whose expanded `maxDistance` was written in `ms` (see `check_distance_units`).
    ms_on_max_distance: Vec<(String, Span)>,
}

fn span_of(pair: &Pair<'_, Rule>) -> Span {
    Span::from_pest(pair.as_span())
}

fn identity(span: Span) -> Span {
    span
}

impl Reader<'_, '_> {
    fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn duplicate(&mut self, span: Span, what: &str, first: Option<Span>) {
        let mut diagnostic =
            Diagnostic::new(Code::DuplicateKey, span, format!("{what} is given twice"));
        if let Some(first) = first {
            diagnostic = diagnostic.with_note(first, "first given here");
        }
        self.report(diagnostic.with_help("keep one of them"));
    }

    /// A `dsl_name`: an identifier or a quoted string.
    fn name(&self, pair: Pair<'_, Rule>) -> Spanned<String> {
        debug_assert_eq!(pair.as_rule(), Rule::dsl_name);
        let span = span_of(&pair);
        let inner = pair.into_inner().next().expect("a name has one part");
        let value = match inner.as_rule() {
            Rule::string => expr::string_value(inner),
            _ => inner.as_str().to_string(),
        };
        Spanned::new(value, span)
    }

    fn number(&mut self, pair: &Pair<'_, Rule>) -> Field<f64> {
        match expr::parse_number(pair, &identity) {
            Ok(number) => Field::given_new(number, span_of(pair)),
            Err(diagnostic) => {
                self.report(diagnostic);
                Field::Invalid
            }
        }
    }

    /// A `quantity` (a number with an optional unit), checking the unit is one of `allowed`.
    fn quantity(&mut self, pair: Pair<'_, Rule>, allowed: &[&str], what: &str) -> Field<f64> {
        let span = span_of(&pair);
        let mut parts = pair.into_inner();
        let number = parts.next().expect("a quantity has a number");
        let field = self.number(&number);
        if let Some(unit) = parts.next()
            && !allowed.contains(&unit.as_str())
        {
            let help = match allowed {
                [] => format!("{what} takes a plain number"),
                units => format!("{what} takes {}", suggest::list(units)),
            };
            self.report(
                Diagnostic::new(
                    Code::InvalidUnit,
                    span_of(&unit),
                    format!("unit `{}` does not fit {what}", unit.as_str()),
                )
                .with_help(help),
            );
            return Field::Invalid;
        }
        match field {
            Field::Given(number) => Field::given_new(number.value, span),
            other => other,
        }
    }

    fn keyword<K>(
        &mut self,
        pair: &Pair<'_, Rule>,
        what: &str,
        parse: fn(&str) -> Option<K>,
        names: &[&str],
    ) -> Field<K> {
        let word = Spanned::new(pair.as_str().to_string(), span_of(pair));
        self.keyword_text(&word, what, parse, names)
    }

    fn literal(&mut self, pair: Pair<'_, Rule>) -> Spanned<Value> {
        let span = span_of(&pair);
        let inner = match pair.as_rule() {
            Rule::literal => pair.into_inner().next().expect("a literal has one part"),
            _ => pair,
        };
        let value = match inner.as_rule() {
            Rule::number => match self.number(&inner) {
                Field::Given(number) => Value::Number(number.value),
                _ => Value::Null,
            },
            Rule::string => Value::String(expr::string_value(inner)),
            Rule::list_literal => {
                Value::List(inner.into_inner().map(|item| self.literal(item)).collect())
            }
            Rule::map_literal => {
                let mut entries: Vec<(Spanned<String>, Spanned<Value>)> = Vec::new();
                for entry in inner.into_inner() {
                    let mut parts = entry.into_inner();
                    let key = parts.next().expect("an entry has a key");
                    let key = Spanned::new(expr::string_value(key.clone()), span_of(&key));
                    let value = self.literal(parts.next().expect("an entry has a value"));
                    match entries.iter().find(|(first, _)| first.value == key.value) {
                        Some((first, _)) => {
                            let first = first.span;
                            self.duplicate(key.span, &format!("key `{}`", key.value), Some(first));
                        }
                        None => entries.push((key, value)),
                    }
                }
                Value::Map(entries)
            }
            rule => unreachable!("a literal holds no {rule:?}"),
        };
        Spanned::new(value, span)
    }

    fn ruleset(&mut self, pair: Pair<'_, Rule>) {
        let string = pair.into_inner().nth(1).expect("ruleset has a name");
        let span = span_of(&string);
        if let Some(first) = self.ast.name.span() {
            self.duplicate(span, "the rule set's name", Some(first));
            return;
        }
        self.ast.name = Field::given_new(expr::string_value(string), span);
    }

    fn attribute(&mut self, pair: Pair<'_, Rule>) {
        let span = span_of(&pair);
        let mut parts = pair.into_inner().skip(1);
        let name = self.name(parts.next().expect("an attribute has a name"));
        let ty = parts.next().expect("an attribute has a type");
        let ty = self.keyword(
            &ty,
            "attribute type",
            AttributeType::parse,
            AttributeType::NAMES,
        );
        let default = match parts.next() {
            Some(literal) => Field::Given(self.literal(literal)),
            None => Field::Absent,
        };
        self.ast.attributes.push(AttributeDecl {
            span,
            name: Field::Given(name),
            ty,
            default,
        });
    }

    fn algorithm(&mut self, pair: Pair<'_, Rule>) {
        let span = span_of(&pair);
        if let Some(first) = self.ast.algorithm.span {
            self.duplicate(span, "`algorithm`", Some(first));
            return;
        }
        self.ast.algorithm.span = Some(span);
        for setting in pair.into_inner().skip(1) {
            let setting_span = span_of(&setting);
            let mut parts = setting.into_inner();
            let key = parts.next().expect("a setting has a key");
            let values: Vec<Pair<'_, Rule>> = parts.collect();
            let key_text = key.as_str();

            if !ALGORITHM_SETTINGS.contains(&key_text) {
                self.report(
                    Diagnostic::new(
                        Code::UnknownProperty,
                        span_of(&key),
                        format!("unknown algorithm setting `{key_text}`"),
                    )
                    .with_help(suggest::expected_one_of(key_text, ALGORITHM_SETTINGS)),
                );
                continue;
            }
            if key_text != "sortByAttributes" && values.len() > 1 {
                self.report(Diagnostic::new(
                    Code::InvalidValue,
                    setting_span,
                    format!("`{key_text}` takes one value, found {}", values.len()),
                ));
                continue;
            }
            let names: Vec<Spanned<String>> =
                values.into_iter().map(|value| self.name(value)).collect();
            let first = &names[0];
            let algorithm = &self.ast.algorithm;
            let already = match key_text {
                "strategy" => algorithm.strategy.span(),
                "batchingPreference" => algorithm.batching_preference.span(),
                "sortByAttributes" => algorithm.sort_by_attributes.span(),
                "balancedAttribute" => algorithm.balanced_attribute.span(),
                "backfillPriority" => algorithm.backfill_priority.span(),
                _ => algorithm.expansion_age_selection.span(),
            };
            if already.is_some() {
                self.duplicate(span_of(&key), &format!("`{key_text}`"), already);
                continue;
            }
            let value_span = names
                .first()
                .map(|n| n.span)
                .unwrap_or(setting_span)
                .to(names.last().map_or(setting_span, |n| n.span));
            match key_text {
                "strategy" => {
                    self.ast.algorithm.strategy =
                        self.keyword_text(first, "strategy", Strategy::parse, Strategy::NAMES)
                }
                "batchingPreference" => {
                    self.ast.algorithm.batching_preference = self.keyword_text(
                        first,
                        "batching preference",
                        BatchingPreference::parse,
                        BatchingPreference::NAMES,
                    )
                }
                "sortByAttributes" => {
                    self.ast.algorithm.sort_by_attributes =
                        Field::given_new(names.clone(), value_span)
                }
                "balancedAttribute" => {
                    self.ast.algorithm.balanced_attribute = Field::Given(first.clone())
                }
                "backfillPriority" => {
                    self.ast.algorithm.backfill_priority = self.keyword_text(
                        first,
                        "backfill priority",
                        BackfillPriority::parse,
                        BackfillPriority::NAMES,
                    )
                }
                _ => {
                    self.ast.algorithm.expansion_age_selection = self.keyword_text(
                        first,
                        "expansion age selection",
                        ExpansionAgeSelection::parse,
                        ExpansionAgeSelection::NAMES,
                    )
                }
            }
        }
    }

    fn keyword_text<K>(
        &mut self,
        name: &Spanned<String>,
        what: &str,
        parse: fn(&str) -> Option<K>,
        names: &[&str],
    ) -> Field<K> {
        match parse(&name.value) {
            Some(keyword) => Field::given_new(keyword, name.span),
            None => {
                self.report(
                    Diagnostic::new(
                        Code::InvalidValue,
                        name.span,
                        format!("`{}` is not a valid {what}", name.value),
                    )
                    .with_help(suggest::expected_one_of(&name.value, names)),
                );
                Field::Invalid
            }
        }
    }

    fn team(&mut self, pair: Pair<'_, Rule>) {
        let span = span_of(&pair);
        let mut parts = pair.into_inner().skip(1);
        let name = self.name(parts.next().expect("a team has a name"));
        let _players_keyword = parts.next();
        let range = parts.next().expect("a team has a player range");
        let mut bounds = range.into_inner();
        let min = bounds.next().expect("a range has a first number");
        let min_players = self.number(&min);
        let max_players = match bounds.next() {
            Some(max) => self.number(&max),
            None => min_players.clone(),
        };
        let quantity = match (parts.next(), parts.next()) {
            (Some(_keyword), Some(number)) => self.number(&number),
            _ => Field::Absent,
        };
        if let Field::Given(teams) = &mut self.ast.teams {
            teams.value.push(TeamDecl {
                span,
                name: Field::Given(name),
                min_players,
                max_players,
                quantity,
            });
        }
    }

    fn rule(&mut self, pair: Pair<'_, Rule>) {
        let span = span_of(&pair);
        let mut parts = pair.into_inner();
        let keyword = parts.next().expect("a rule starts with `rule`");
        let name = self.name(parts.next().expect("a rule has a name"));
        let body = parts.next().expect("a rule has a body");
        let mut rule = RuleDecl {
            span,
            name: Field::Given(name),
            ..RuleDecl::default()
        };
        if let Some(description) = self.description_above(keyword.as_span().start()) {
            rule.description = description;
        }
        let Some(kind) = self.rule_type(&body) else {
            rule.kind = Field::Invalid;
            self.ast.rules.push(rule);
            return;
        };
        let body_parts: Vec<Pair<'_, Rule>> = body.into_inner().collect();
        let kind_span = span_of(&body_parts[0]);
        rule.kind = Field::given_new(kind, kind_span);
        let mut parts = body_parts.into_iter().skip(1).peekable();
        self.rule_clauses(&mut rule, kind, &mut parts);
        for option in parts {
            self.rule_option(&mut rule, kind, option);
        }
        self.ast.rules.push(rule);
    }

    /// The rule type a rule's body is written as; `None` (reported) for an unknown one.
    fn rule_type(&mut self, body: &Pair<'_, Rule>) -> Option<RuleType> {
        Some(match body.as_rule() {
            Rule::distance_rule => RuleType::Distance,
            Rule::comparison_rule => RuleType::Comparison,
            Rule::collection_rule => RuleType::Collection,
            Rule::latency_rule => RuleType::Latency,
            Rule::absolute_sort_rule => RuleType::AbsoluteSort,
            Rule::distance_sort_rule => RuleType::DistanceSort,
            Rule::batch_distance_rule => RuleType::BatchDistance,
            Rule::compound_rule => RuleType::Compound,
            Rule::unknown_rule => {
                let text = body.as_str();
                let word_end = text
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
                    .unwrap_or(text.len());
                let word = &text[..word_end];
                let start = body.as_span().start();
                self.report(
                    Diagnostic::new(
                        Code::UnknownRuleType,
                        Span::new(start, start + word_end),
                        format!("unknown rule type `{word}`"),
                    )
                    .with_help(suggest::expected_one_of(word, RuleType::NAMES)),
                );
                return None;
            }
            other => unreachable!("a rule body is never {other:?}"),
        })
    }

    /// The clauses a rule type writes after its type and before any option: what it
    /// measures, how, and against what.
    fn rule_clauses<'i>(
        &mut self,
        rule: &mut RuleDecl,
        kind: RuleType,
        parts: &mut Peekable<impl Iterator<Item = Pair<'i, Rule>>>,
    ) {
        match kind {
            RuleType::Distance => {
                rule.measurements = self.expression(parts.next());
                parts.next(); // `to`
                rule.reference_value = self.expression(parts.next());
            }
            RuleType::Comparison => self.comparison_clauses(rule, parts),
            RuleType::Collection => {
                rule.measurements = self.expression(parts.next());
                let operation = parts.next().expect("a collection rule has an operation");
                rule.operation = self.keyword(
                    &operation,
                    "collection operation",
                    Operation::parse,
                    Operation::NAMES,
                );
                if parts
                    .peek()
                    .is_some_and(|next| next.as_rule() == Rule::expression)
                {
                    rule.reference_value = self.expression(parts.next());
                }
            }
            RuleType::AbsoluteSort | RuleType::DistanceSort => {
                let attribute = self.name(parts.next().expect("a sort rule has an attribute"));
                rule.sort_attribute = Field::Given(attribute);
                let direction = parts.next().expect("a sort rule has a direction");
                rule.sort_direction = self.keyword(
                    &direction,
                    "sort direction",
                    SortDirection::parse,
                    SortDirection::NAMES,
                );
            }
            RuleType::BatchDistance => {
                let attribute =
                    self.name(parts.next().expect("a batchDistance rule has an attribute"));
                rule.batch_attribute = Field::Given(attribute);
            }
            RuleType::Compound => {
                let statement = parts.next().expect("a compound rule has a statement");
                let span = span_of(&statement);
                rule.statement =
                    Field::given_new(expr::statement_from_pair(statement, &identity), span);
            }
            RuleType::Latency => {}
        }
    }

    /// A comparison's measurement, then `all equal` or `all different`, or an operator and
    /// the reference it compares with.
    fn comparison_clauses<'i>(
        &mut self,
        rule: &mut RuleDecl,
        parts: &mut impl Iterator<Item = Pair<'i, Rule>>,
    ) {
        rule.measurements = self.expression(parts.next());
        let next = parts.next().expect("a comparison has an operator or `all`");
        if next.as_rule() == Rule::all_values {
            rule.operation = self.all_values_operation(next);
        } else {
            rule.operation = self.comparison_operator(&next);
            rule.reference_value = self.expression(parts.next());
        }
    }

    /// `all equal` or `all different`: the comparison's values among themselves.
    fn all_values_operation(&mut self, all_values: Pair<'_, Rule>) -> Field<Operation> {
        let word = all_values.into_inner().nth(1).expect("`all` has a word");
        match word.as_str() {
            "equal" => Field::given_new(Operation::Equal, span_of(&word)),
            "different" => Field::given_new(Operation::NotEqual, span_of(&word)),
            other => {
                self.report(
                    Diagnostic::new(
                        Code::InvalidValue,
                        span_of(&word),
                        format!("expected `all equal` or `all different`, found `all {other}`"),
                    )
                    .with_help(suggest::expected_one_of(other, &["equal", "different"])),
                );
                Field::Invalid
            }
        }
    }

    /// A comparison operator; `==`, which other languages use, gets its own help.
    fn comparison_operator(&mut self, operator: &Pair<'_, Rule>) -> Field<Operation> {
        if operator.as_str() == "==" {
            self.report(
                Diagnostic::new(
                    Code::InvalidValue,
                    span_of(operator),
                    "`==` is not a comparison operator",
                )
                .with_help("write `=`"),
            );
            Field::Invalid
        } else {
            self.keyword(
                operator,
                "comparison operator",
                Operation::parse,
                &["=", "!=", "<", "<=", ">", ">="],
            )
        }
    }

    /// The `///` lines directly above the line at `offset`, joined with line breaks.
    fn description_above(&self, offset: usize) -> Option<Field<String>> {
        let mut line_start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let mut lines: Vec<&DocLine> = Vec::new();
        while line_start > 0 {
            let previous_start = self.text[..line_start - 1].rfind('\n').map_or(0, |i| i + 1);
            match self
                .doc_comments
                .iter()
                .find(|doc| doc.line_start == previous_start)
            {
                Some(doc) => lines.push(doc),
                None => break,
            }
            line_start = previous_start;
        }
        if lines.is_empty() {
            return None;
        }
        lines.reverse();
        for doc in &lines {
            doc.used.set(true);
        }
        let text: Vec<&str> = lines.iter().map(|doc| doc.text.as_str()).collect();
        let span = Span::new(lines[0].line_start, offset);
        Some(Field::given_new(text.join("\n"), span))
    }

    fn expression(&mut self, pair: Option<Pair<'_, Rule>>) -> Field<Expr> {
        let pair = pair.expect("the grammar places an expression here");
        let span = span_of(&pair);
        match expr::expression_from_pair(pair, &identity) {
            Ok(expr) => Field::given_new(expr, span),
            Err(diagnostic) => {
                self.report(diagnostic);
                Field::Invalid
            }
        }
    }

    fn rule_option(&mut self, rule: &mut RuleDecl, kind: RuleType, option: Pair<'_, Rule>) {
        let option = option.into_inner().next().expect("an option has one form");
        let option_span = span_of(&option);
        let form = option.as_rule();
        let mut parts = option.into_inner();
        let keyword = parts.next().expect("an option starts with its keyword");
        let word = keyword.as_str();
        match form {
            Rule::min_option | Rule::max_option => {
                let is_max = form == Rule::max_option;
                self.bound_option(rule, kind, is_max, option_span, word, parts);
            }
            Rule::distance_option => self.distance_option(rule, kind, option_span, word, parts),
            Rule::party_option => self.party_option(rule, kind, option_span, word, parts),
            Rule::key_option => self.key_option(rule, kind, option_span, word, parts),
            Rule::description_option => {
                if let Some(first) = rule.description.span() {
                    return self.duplicate(option_span, "the description", Some(first));
                }
                let value = parts.next().expect("description has a string");
                rule.description = Field::given_new(expr::string_value(value), option_span);
            }
            other => unreachable!("a rule option is never {other:?}"),
        }
    }

    /// Reports an option, written as `word` at `span`, that a `kind` rule does not take.
    fn option_not_applicable(&mut self, span: Span, word: &str, kind: RuleType) {
        self.report(
            Diagnostic::new(
                Code::PropertyNotApplicable,
                span,
                format!("`{word}` does not apply to a `{kind}` rule"),
            )
            .with_help(dsl_options_help(kind)),
        );
    }

    /// `min` or `max`: the bound it means depends on the rule type (a distance, a count or a
    /// latency), and so do the units it may carry.
    fn bound_option(
        &mut self,
        rule: &mut RuleDecl,
        kind: RuleType,
        is_max: bool,
        option_span: Span,
        word: &str,
        mut parts: Pairs<'_, Rule>,
    ) {
        let (field, property) = match (kind, is_max) {
            (RuleType::Distance, false) => (&mut rule.min_distance, RuleProperty::MinDistance),
            (RuleType::Distance | RuleType::BatchDistance, true) => {
                (&mut rule.max_distance, RuleProperty::MaxDistance)
            }
            (RuleType::Collection, false) => (&mut rule.min_count, RuleProperty::MinCount),
            (RuleType::Collection, true) => (&mut rule.max_count, RuleProperty::MaxCount),
            (RuleType::Latency, true) => (&mut rule.max_latency, RuleProperty::MaxLatency),
            _ => return self.option_not_applicable(option_span, word, kind),
        };
        if let Some(first) = field.span() {
            return self.duplicate(option_span, &format!("`{word}`"), Some(first));
        }
        let (units, what): (&[&str], &str) = match property {
            RuleProperty::MaxLatency => (LATENCY_UNITS, "a latency"),
            RuleProperty::MinCount | RuleProperty::MaxCount => (&[], "a count"),
            _ => (&[], "a distance"),
        };
        let quantity = parts.next().expect("the option has a value");
        let value = self.quantity(quantity, units, what);
        let field = match property {
            RuleProperty::MinDistance => &mut rule.min_distance,
            RuleProperty::MaxDistance => &mut rule.max_distance,
            RuleProperty::MinCount => &mut rule.min_count,
            RuleProperty::MaxCount => &mut rule.max_count,
            _ => &mut rule.max_latency,
        };
        *field = value;
    }

    /// A latency rule's `distance [value] from reference`: the value may come later, from an
    /// expansion.
    fn distance_option(
        &mut self,
        rule: &mut RuleDecl,
        kind: RuleType,
        option_span: Span,
        word: &str,
        mut parts: Pairs<'_, Rule>,
    ) {
        if kind != RuleType::Latency {
            return self.option_not_applicable(option_span, word, kind);
        }
        if let Some(first) = rule.max_distance.span() {
            return self.duplicate(option_span, "`distance`", Some(first));
        }
        let mut next = parts.next().expect("distance has `from` or a value");
        if next.as_rule() == Rule::quantity {
            rule.max_distance = self.quantity(next, LATENCY_UNITS, "a latency distance");
            next = parts.next().expect("a value is followed by `from`");
        }
        debug_assert_eq!(next.as_rule(), Rule::kw_from);
        let reference = parts.next().expect("distance has a reference");
        rule.distance_reference = self.keyword(
            &reference,
            "distance reference",
            DistanceReference::parse,
            DistanceReference::NAMES,
        );
    }

    /// `party`: how a party's values combine, for any rule type but compound.
    fn party_option(
        &mut self,
        rule: &mut RuleDecl,
        kind: RuleType,
        option_span: Span,
        word: &str,
        mut parts: Pairs<'_, Rule>,
    ) {
        if kind == RuleType::Compound {
            return self.option_not_applicable(option_span, word, kind);
        }
        if let Some(first) = rule.party_aggregation.span() {
            return self.duplicate(option_span, "`party`", Some(first));
        }
        let value = parts.next().expect("party has a value");
        // Suggest only what this rule type takes; the checker explains a misfit.
        let names: &[&str] = if kind == RuleType::Collection {
            &["union", "intersection"]
        } else {
            &["min", "max", "avg"]
        };
        rule.party_aggregation =
            self.keyword(&value, "party aggregation", PartyAggregation::parse, names);
    }

    /// `key`: which of a string_number_map's keys a sort rule sorts by.
    fn key_option(
        &mut self,
        rule: &mut RuleDecl,
        kind: RuleType,
        option_span: Span,
        word: &str,
        mut parts: Pairs<'_, Rule>,
    ) {
        if !matches!(kind, RuleType::AbsoluteSort | RuleType::DistanceSort) {
            return self.option_not_applicable(option_span, word, kind);
        }
        if let Some(first) = rule.map_key.span() {
            return self.duplicate(option_span, "`key`", Some(first));
        }
        let value = parts.next().expect("key has a value");
        rule.map_key = self.keyword(&value, "map key", MapKey::parse, MapKey::NAMES);
    }

    /// A `maxDistance` step in `ms` fits only a latency rule, which may be declared further
    /// down; checked once every rule is read.
    fn check_distance_units(&mut self) {
        for (rule_name, unit_span) in std::mem::take(&mut self.ms_on_max_distance) {
            let kind = self
                .ast
                .rules
                .iter()
                .find(|rule| rule.name.value() == Some(&rule_name))
                .and_then(|rule| rule.kind.value().copied());
            if let Some(kind) = kind.filter(|kind| *kind != RuleType::Latency) {
                self.report(
                    Diagnostic::new(
                        Code::InvalidUnit,
                        unit_span,
                        format!("unit `ms` fits latencies, and `{rule_name}` is a `{kind}` rule"),
                    )
                    .with_help("write the distance as a plain number"),
                );
            }
        }
    }

    fn expansion(&mut self, pair: Pair<'_, Rule>) {
        let span = span_of(&pair);
        let mut parts = pair.into_inner().skip(1);
        let target_pair = parts.next().expect("an expansion has a target");
        let target_span = span_of(&target_pair);
        let target = match expr::target_from_pair(target_pair, &identity) {
            Ok(target) => Field::given_new(target, target_span),
            Err(diagnostic) => {
                self.report(diagnostic);
                Field::Invalid
            }
        };
        // Latency bounds take `ms`; when the target is unreadable, don't also fault its units.
        let latency_value = target
            .value()
            .is_none_or(|t| matches!(t.property.value.as_str(), "maxLatency" | "maxDistance"));
        let mut steps = Vec::new();
        let first_step = span;
        let mut steps_span: Option<Span> = None;
        for step in parts {
            let step_span = span_of(&step);
            steps_span = Some(steps_span.map_or(step_span, |s| s.to(step_span)));
            let mut step_parts = step.into_inner();
            let wait = step_parts.next().expect("a step has a wait time");
            let wait_time_seconds = self.quantity(wait, &["s"], "a wait time");
            let value_pair = step_parts.next().expect("a step has a value");
            let value = if value_pair.as_rule() == Rule::quantity {
                let units: &[&str] = if latency_value { &["ms"] } else { &[] };
                let unit = value_pair.clone().into_inner().nth(1);
                if let (Some(unit), Some(target)) = (unit, target.value())
                    && unit.as_str() == "ms"
                    && target.property.value == "maxDistance"
                    && let [rule_name] = target.names.as_slice()
                {
                    self.ms_on_max_distance
                        .push((rule_name.value.clone(), span_of(&unit)));
                }
                match self.quantity(value_pair, units, "this value") {
                    Field::Given(number) => Field::Given(number.map(Value::Number)),
                    _ => Field::Invalid,
                }
            } else {
                Field::Given(self.literal(value_pair))
            };
            steps.push(StepDecl {
                span: step_span,
                wait_time_seconds,
                value,
            });
        }
        self.ast.expansions.push(ExpansionDecl {
            span,
            target,
            steps: Field::given_new(steps, steps_span.unwrap_or(first_step)),
        });
    }
}

/// The units a latency, and a latency rule's distance, may be written in.
const LATENCY_UNITS: &[&str] = &["ms"];

fn dsl_options_help(kind: RuleType) -> String {
    let options = match kind {
        RuleType::Distance => "`min`, `max`, `party` and `description`",
        RuleType::Comparison => "`party` and `description`",
        RuleType::Collection => "`min`, `max`, `party` and `description`",
        RuleType::Latency => "`max`, `distance … from`, `party` and `description`",
        RuleType::AbsoluteSort | RuleType::DistanceSort => "`key`, `party` and `description`",
        RuleType::BatchDistance => "`max`, `party` and `description`",
        RuleType::Compound => "`description`",
    };
    format!("a `{kind}` rule takes {options}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Option<RuleSetAst>, Vec<Diagnostic>) {
        let mut diagnostics = Vec::new();
        let ast = parse(text, &mut diagnostics);
        (ast, diagnostics)
    }

    #[test]
    fn reads_the_sketch_from_the_issue() {
        let (ast, diagnostics) = read(
            r#"ruleset "five_v_five"
attribute skill: number = 1000
team red  players 5..5
team blue players 5..5
rule fair_skill: distance avg(teams[*].players.attributes[skill]) to avg(flatten(teams[*].players.attributes[skill])) max 10
rule fast: latency max 150ms
expand rules[fair_skill].maxDistance: 10s -> 50, 20s -> 100
"#,
        );
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let ast = ast.unwrap();
        assert_eq!(ast.name.value().map(String::as_str), Some("five_v_five"));
        assert_eq!(ast.teams().len(), 2);
        assert_eq!(ast.rules[0].max_distance.value(), Some(&10.0));
        assert_eq!(ast.rules[1].max_latency.value(), Some(&150.0));
        let steps = ast.expansions[0].steps.value().unwrap();
        assert_eq!(steps[1].wait_time_seconds.value(), Some(&20.0));
    }

    #[test]
    fn doc_comments_become_descriptions() {
        let (ast, _) = read(
            "team a players 1\n// not this\n/// Line one\n///  indented\nrule r: latency max 50\n",
        );
        assert_eq!(
            ast.unwrap().rules[0]
                .description
                .value()
                .map(String::as_str),
            Some("Line one\n indented")
        );
    }

    #[test]
    fn misplaced_options_and_unknown_types_are_reported() {
        let (_, diagnostics) =
            read("team a players 1\nrule r: latency min 5\nrule s: distanse x\n");
        let codes: Vec<Code> = diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::PropertyNotApplicable, Code::UnknownRuleType]);
        assert_eq!(
            diagnostics[1].help.as_deref(),
            Some("did you mean `distance`?")
        );
    }

    #[test]
    fn syntax_errors_name_what_was_expected() {
        let (ast, diagnostics) =
            read("team a players 1\nrule r: distance avg(teams[*].players.attributes[x]) too 5\n");
        assert!(ast.is_none());
        assert_eq!(diagnostics[0].code, Code::DslSyntax);
        assert!(
            diagnostics[0].message.contains("`to`"),
            "{}",
            diagnostics[0].message
        );
    }

    #[test]
    fn units_are_checked() {
        let (_, diagnostics) = read(
            "team a players 1\nrule r: distance teams[a].players to 1 max 5ms\nexpand rules[r].maxDistance: 5ms -> 1\n",
        );
        let codes: Vec<Code> = diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::InvalidUnit, Code::InvalidUnit]);
    }
}
