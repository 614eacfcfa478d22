//! Property expressions (`avg(teams[*].players.attributes[skill])`), compound statements
//! (`or(and(A, B), C)`) and expansion targets: their syntax trees, how they are read, and their
//! canonical text.

use std::fmt;

use pest::Parser as _;
use pest::iterators::Pair;

use crate::ast::{Target, TargetComponent};
use crate::diagnostic::{Code, Diagnostic};
use crate::grammar::rules::{Rule, RulesParser};
use crate::grammar::{parse_with_detail, syntax_error};
use crate::lex;
use crate::span::{Span, Spanned};
use crate::suggest;

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Number(f64),
    String(String),
    Call {
        function: Spanned<String>,
        args: Vec<Expr>,
    },
    Path(Path),
    /// A literal list, e.g. a reference collection `["ctf", "tdm"]`.
    List(Vec<Expr>),
}

/// `teams[…]`, optionally followed by `.players` and then `.attributes[x]` or `[playerId]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    pub teams: Spanned<TeamSelector>,
    pub field: PathField,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TeamSelector {
    /// `teams[*]`
    All,
    /// `teams[red]` or `teams[red, blue]`
    Names(Vec<Spanned<String>>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum PathField {
    /// The teams themselves.
    Teams,
    /// `.players`
    Players,
    /// `.players.attributes[name]`
    Attribute(Spanned<String>),
    /// `.players[playerId]`
    PlayerId,
}

/// A compound rule's `statement`: rule names combined with `and`, `or`, `xor` and `not`.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    pub kind: StatementKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StatementKind {
    Rule(String),
    Call {
        operator: Spanned<String>,
        args: Vec<Statement>,
    },
}

/// Maps a span in the text pest parsed to the original source.
pub(crate) type ToSource<'a> = &'a dyn Fn(Span) -> Span;

/// Parses `text` as an entry rule of the expression grammar, first refusing nesting too deep
/// to parse safely.
fn parse_input<'t>(
    rule: Rule,
    text: &'t str,
    what: &str,
    code: Code,
    to_source: ToSource<'_>,
) -> Result<Pair<'t, Rule>, Diagnostic> {
    if let Some(offset) = lex::scan(text).too_deep_at {
        return Err(Diagnostic::new(
            Code::NestingTooDeep,
            to_source(Span::new(offset, offset + 1)),
            format!(
                "{what} is nested more than {} levels deep",
                lex::MAX_NESTING
            ),
        ));
    }
    let input = parse_with_detail(|| RulesParser::parse(rule, text))
        .map_err(|error| syntax_error(&error, code, &format!("invalid {what}"), text, to_source))?
        .next()
        .expect("an entry rule yields one pair");
    Ok(input
        .into_inner()
        .next()
        .expect("an entry rule holds its content"))
}

/// Reads a property expression written on its own, e.g. inside a JSON string.
pub fn parse_expression(text: &str, to_source: ToSource<'_>) -> Result<Expr, Diagnostic> {
    let pair = parse_input(
        Rule::expression_input,
        text,
        "expression",
        Code::ExpressionSyntax,
        to_source,
    )?;
    expression_from_pair(pair, to_source)
}

/// Reads a compound rule's statement written on its own.
pub fn parse_statement(text: &str, to_source: ToSource<'_>) -> Result<Statement, Diagnostic> {
    let pair = parse_input(
        Rule::statement_input,
        text,
        "statement",
        Code::ExpressionSyntax,
        to_source,
    )?;
    Ok(statement_from_pair(pair, to_source))
}

/// Reads an expansion target written on its own.
pub fn parse_target(text: &str, to_source: ToSource<'_>) -> Result<Target, Diagnostic> {
    let pair = parse_input(
        Rule::target_input,
        text,
        "expansion target",
        Code::InvalidTarget,
        to_source,
    )?;
    target_from_pair(pair, to_source)
}

pub(crate) fn expression_from_pair(
    pair: Pair<'_, Rule>,
    to_source: ToSource<'_>,
) -> Result<Expr, Diagnostic> {
    debug_assert_eq!(pair.as_rule(), Rule::expression);
    let inner = pair
        .into_inner()
        .next()
        .expect("an expression has one part");
    let span = to_source(Span::from_pest(inner.as_span()));
    let kind = match inner.as_rule() {
        Rule::number => ExprKind::Number(parse_number(&inner, to_source)?),
        Rule::string => ExprKind::String(string_value(inner)),
        Rule::call => {
            let mut parts = inner.into_inner();
            let name = parts.next().expect("a call has a name");
            let function = Spanned::new(
                name.as_str().to_string(),
                to_source(Span::from_pest(name.as_span())),
            );
            let args = match parts.next() {
                Some(arguments) => arguments
                    .into_inner()
                    .map(|arg| expression_from_pair(arg, to_source))
                    .collect::<Result<_, _>>()?,
                None => Vec::new(),
            };
            ExprKind::Call { function, args }
        }
        Rule::path => ExprKind::Path(path_from_pair(inner, to_source)?),
        Rule::list => ExprKind::List(
            inner
                .into_inner()
                .map(|item| expression_from_pair(item, to_source))
                .collect::<Result<_, _>>()?,
        ),
        rule => unreachable!("an expression holds no {rule:?}"),
    };
    Ok(Expr { kind, span })
}

/// The decoded value of a `string` pair (its escapes resolved).
pub(crate) fn string_value(pair: Pair<'_, Rule>) -> String {
    let raw = pair
        .into_inner()
        .next()
        .map_or("", |content| content.as_str());
    if !raw.contains('\\') {
        return raw.to_string();
    }
    // The grammar accepts exactly JSON's escapes, so serde_json decodes them.
    serde_json::from_str(&format!("\"{raw}\"")).unwrap_or_else(|_| raw.to_string())
}

pub(crate) fn parse_number(
    pair: &Pair<'_, Rule>,
    to_source: ToSource<'_>,
) -> Result<f64, Diagnostic> {
    match pair.as_str().parse::<f64>() {
        Ok(number) if number.is_finite() => Ok(number),
        _ => Err(Diagnostic::new(
            Code::InvalidValue,
            to_source(Span::from_pest(pair.as_span())),
            format!("number `{}` is out of range", pair.as_str()),
        )),
    }
}

fn path_from_pair(pair: Pair<'_, Rule>, to_source: ToSource<'_>) -> Result<Path, Diagnostic> {
    let path_span = to_source(Span::from_pest(pair.as_span()));
    let mut parts = pair.into_inner();
    let head = parts.next().expect("a path starts with a name");
    let head_span = to_source(Span::from_pest(head.as_span()));
    if !matches!(head.as_str(), "teams" | "team") {
        return Err(shape_error(
            head_span,
            format!("a path starts with `teams[...]`, found `{}`", head.as_str()),
            suggest::did_you_mean(head.as_str(), ["teams"]),
        ));
    }
    let selector = parts.next().expect("a path has a team selector");
    let teams = team_selector(selector, head_span, to_source);

    let mut field = PathField::Teams;
    for part in parts {
        let part_span = to_source(Span::from_pest(part.as_span()));
        field = match (&field, part.as_rule()) {
            (PathField::Teams, Rule::path_segment) => {
                let step = segment_name(&part);
                if step != "players" {
                    return Err(shape_error(
                        part_span,
                        format!("expected `.players` after the team selector, found `.{step}`"),
                        suggest::did_you_mean(step, ["players"]),
                    ));
                }
                PathField::Players
            }
            (PathField::Players, Rule::path_segment) => {
                let step = segment_name(&part);
                if step != "attributes" {
                    return Err(shape_error(
                        part_span,
                        format!(
                            "expected `.attributes[...]` or `[playerId]` after `.players`, found `.{step}`"
                        ),
                        suggest::did_you_mean(step, ["attributes"]),
                    ));
                }
                // `.attributes` needs a `[name]` next; a placeholder until it comes.
                PathField::Attribute(Spanned::new(String::new(), part_span))
            }
            (PathField::Attribute(pending), Rule::selector) if pending.value.is_empty() => {
                let name = single_name(part, "an attribute name", to_source)?;
                PathField::Attribute(name)
            }
            (PathField::Players, Rule::selector) => {
                let name = single_name(part, "`playerId`", to_source)?;
                // FlexMatch's 2019 guide spelt it `playerid`; both mean the player's id.
                if !name.value.eq_ignore_ascii_case("playerId") {
                    return Err(shape_error(
                        name.span,
                        format!(
                            "`players[...]` selects player ids: expected `playerId`, found `{}`",
                            name.value
                        ),
                        Some("for an attribute write `players.attributes[name]`".to_string()),
                    ));
                }
                PathField::PlayerId
            }
            _ => {
                return Err(shape_error(
                    part_span,
                    format!("unexpected `{}` in a path", part.as_str()),
                    Some("a path reads `teams[...].players.attributes[name]` or `teams[...].players[playerId]`".to_string()),
                ));
            }
        };
    }
    if let PathField::Attribute(pending) = &field
        && pending.value.is_empty()
    {
        return Err(shape_error(
            Span::at(path_span.end),
            "`.attributes` needs an attribute name, as in `.attributes[skill]`".to_string(),
            None,
        ));
    }
    Ok(Path { teams, field })
}

fn segment_name<'p>(segment: &Pair<'p, Rule>) -> &'p str {
    segment
        .clone()
        .into_inner()
        .next()
        .expect("a segment has a name")
        .as_str()
}

fn shape_error(span: Span, message: String, help: Option<String>) -> Diagnostic {
    Diagnostic::new(
        Code::ExpressionSyntax,
        span,
        format!("invalid expression: {message}"),
    )
    .with_help_opt(help)
}

fn team_selector(
    selector: Pair<'_, Rule>,
    head_span: Span,
    to_source: ToSource<'_>,
) -> Spanned<TeamSelector> {
    let span = head_span.to(to_source(Span::from_pest(selector.as_span())));
    let mut names = Vec::new();
    for item in selector.into_inner() {
        match item.as_rule() {
            Rule::all => return Spanned::new(TeamSelector::All, span),
            _ => names.push(Spanned::new(
                item.as_str().to_string(),
                to_source(Span::from_pest(item.as_span())),
            )),
        }
    }
    Spanned::new(TeamSelector::Names(names), span)
}

fn single_name(
    selector: Pair<'_, Rule>,
    what: &str,
    to_source: ToSource<'_>,
) -> Result<Spanned<String>, Diagnostic> {
    let span = to_source(Span::from_pest(selector.as_span()));
    let items: Vec<Pair<'_, Rule>> = selector.into_inner().collect();
    match items.as_slice() {
        [one] if one.as_rule() == Rule::name => Ok(Spanned::new(
            one.as_str().to_string(),
            to_source(Span::from_pest(one.as_span())),
        )),
        _ => Err(shape_error(
            span,
            format!("expected {what} in the brackets"),
            None,
        )),
    }
}

pub(crate) fn statement_from_pair(pair: Pair<'_, Rule>, to_source: ToSource<'_>) -> Statement {
    debug_assert_eq!(pair.as_rule(), Rule::statement);
    let inner = pair.into_inner().next().expect("a statement has one part");
    let span = to_source(Span::from_pest(inner.as_span()));
    let kind = match inner.as_rule() {
        Rule::rule_ref => StatementKind::Rule(inner.as_str().to_string()),
        Rule::statement_call => {
            let mut parts = inner.into_inner();
            let name = parts.next().expect("a call has an operator");
            let operator = Spanned::new(
                name.as_str().to_string(),
                to_source(Span::from_pest(name.as_span())),
            );
            let args = parts
                .next()
                .map(|args| {
                    args.into_inner()
                        .map(|arg| statement_from_pair(arg, to_source))
                        .collect()
                })
                .unwrap_or_default();
            StatementKind::Call { operator, args }
        }
        rule => unreachable!("a statement holds no {rule:?}"),
    };
    Statement { kind, span }
}

pub(crate) fn target_from_pair(
    pair: Pair<'_, Rule>,
    to_source: ToSource<'_>,
) -> Result<Target, Diagnostic> {
    debug_assert_eq!(pair.as_rule(), Rule::target);
    let mut parts = pair.into_inner();
    let component = parts.next().expect("a target names its component");
    let component_span = to_source(Span::from_pest(component.as_span()));
    let Some(component_value) = TargetComponent::parse(component.as_str()) else {
        return Err(Diagnostic::new(
            Code::InvalidTarget,
            component_span,
            format!(
                "an expansion target starts with `rules[...]` or `teams[...]`, found `{}`",
                component.as_str()
            ),
        )
        .with_help(suggest::expected_one_of(
            component.as_str(),
            TargetComponent::NAMES,
        )));
    };
    let selector = parts.next().expect("a target has a selector");
    let selector_span = to_source(Span::from_pest(selector.as_span()));
    let mut names = Vec::new();
    for item in selector.into_inner() {
        if item.as_rule() == Rule::all {
            return Err(Diagnostic::new(
                Code::InvalidTarget,
                selector_span,
                "an expansion target names its rule or teams; `*` is not allowed".to_string(),
            ));
        }
        names.push(Spanned::new(
            item.as_str().to_string(),
            to_source(Span::from_pest(item.as_span())),
        ));
    }
    let property = parts.next().expect("a target ends with a property");
    Ok(Target {
        component: Spanned::new(component_value, component_span),
        names,
        property: Spanned::new(
            property.as_str().to_string(),
            to_source(Span::from_pest(property.as_span())),
        ),
    })
}

/// Whether text that failed to parse was still meant as an expression: it starts with a name
/// directly followed by `(` or `[`, as every call and path does (`avg(…`, `teams[…`). Text
/// like `medic (field)` is a plain string that happens to hold a bracket.
pub fn starts_like_expression(text: &str) -> bool {
    let text = text.trim_start();
    let name_end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(text.len());
    name_end > 0
        && text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && text[name_end..].starts_with(['(', '['])
}

/// Whether a JSON string is read as a property expression rather than a string literal: it
/// holds a bracket, and it parses as an expression or was plainly meant as one.
pub fn string_reads_as_expression(text: &str) -> bool {
    text.contains(['(', '['])
        && (starts_like_expression(text) || parse_expression(text, &|span| span).is_ok())
}

/// The number a string such as `"500"` holds, as FlexMatch's examples write numbers: only
/// JSON number syntax, and only finite values — `"NaN"` and `"inf"` are strings, not numbers.
pub fn number_in_string(text: &str) -> Option<f64> {
    let text = text.trim();
    let digits = text.strip_prefix('-').unwrap_or(text);
    let json_shaped = digits.starts_with(|c: char| c.is_ascii_digit())
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    let number: f64 = text.parse().ok().filter(|_| json_shaped)?;
    number.is_finite().then_some(number)
}

/// Numbers print without a fractional part when they have none, so `10` stays `10`.
pub fn format_number(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 1e15 {
        format!("{}", number as i64)
    } else {
        format!("{number}")
    }
}

/// A JSON-style quoted string.
pub fn quote(text: &str) -> String {
    serde_json::to_string(text).expect("strings always serialise")
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Number(number) => f.write_str(&format_number(*number)),
            ExprKind::String(text) => f.write_str(&quote(text)),
            ExprKind::Call { function, args } => {
                write!(f, "{}(", function.value)?;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{arg}")?;
                }
                f.write_str(")")
            }
            ExprKind::Path(path) => write!(f, "{path}"),
            ExprKind::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.teams.value {
            TeamSelector::All => f.write_str("teams[*]")?,
            TeamSelector::Names(names) => {
                let names: Vec<&str> = names.iter().map(|name| name.value.as_str()).collect();
                write!(f, "teams[{}]", names.join(", "))?;
            }
        }
        match &self.field {
            PathField::Teams => Ok(()),
            PathField::Players => f.write_str(".players"),
            PathField::Attribute(name) => write!(f, ".players.attributes[{}]", name.value),
            PathField::PlayerId => f.write_str(".players[playerId]"),
        }
    }
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            StatementKind::Rule(name) => f.write_str(name),
            StatementKind::Call { operator, args } => {
                write!(f, "{}(", operator.value)?;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{arg}")?;
                }
                f.write_str(")")
            }
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.names.iter().map(|name| name.value.as_str()).collect();
        write!(
            f,
            "{}[{}].{}",
            self.component.value,
            names.join(", "),
            self.property.value
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(text: &str) -> Expr {
        parse_expression(text, &|span| span).unwrap_or_else(|d| panic!("{text}: {}", d.message))
    }

    fn expr_error(text: &str) -> Diagnostic {
        parse_expression(text, &|span| span).expect_err(text)
    }

    #[test]
    fn reads_and_prints_canonically() {
        for (text, canonical) in [
            (
                "avg(teams[*].players.attributes[skill])",
                "avg(teams[*].players.attributes[skill])",
            ),
            (
                "count (team[red,blue].players)",
                "count(teams[red, blue].players)",
            ),
            (
                "flatten(teams[*].players[playerid])",
                "flatten(teams[*].players[playerId])",
            ),
            (
                "max(count(teams[*].players))",
                "max(count(teams[*].players))",
            ),
            (
                "teams[monster-team].players.attributes[monster-kills]",
                "teams[monster-team].players.attributes[monster-kills]",
            ),
            ("10", "10"),
            ("-2.5", "-2.5"),
            ("\"medic\"", "\"medic\""),
            ("teams[red]", "teams[red]"),
            ("[\"a\",\"b\"]", "[\"a\", \"b\"]"),
        ] {
            assert_eq!(expr(text).to_string(), canonical);
        }
    }

    #[test]
    fn spans_point_at_the_parts() {
        let parsed = expr("avg(teams[*].players.attributes[skill])");
        let ExprKind::Call { function, args } = &parsed.kind else {
            panic!("not a call")
        };
        assert_eq!(function.span, Span::new(0, 3));
        let ExprKind::Path(path) = &args[0].kind else {
            panic!("not a path")
        };
        assert_eq!(path.teams.span, Span::new(4, 12));
        let PathField::Attribute(name) = &path.field else {
            panic!("not an attribute")
        };
        assert_eq!(name.span, Span::new(32, 37));
    }

    #[test]
    fn misshapen_paths_get_help() {
        let error = expr_error("avg(teams[*].player.attributes[skill])");
        assert_eq!(error.code, Code::ExpressionSyntax);
        assert_eq!(error.span, Span::new(12, 19));
        assert_eq!(error.help.as_deref(), Some("did you mean `players`?"));

        let error = expr_error("avg(tems[*].players)");
        assert_eq!(error.help.as_deref(), Some("did you mean `teams`?"));

        let error = expr_error("teams[*].players[skill]");
        assert!(error.message.contains("playerId"), "{}", error.message);

        let error = expr_error("teams[*].players.attributes");
        assert!(
            error.message.contains("needs an attribute name"),
            "{}",
            error.message
        );

        let error = expr_error("avg(teams[*].players.attributes[skill]");
        assert!(
            error.message.starts_with("invalid expression: expected"),
            "{}",
            error.message
        );
    }

    #[test]
    fn statements_and_targets() {
        let statement = parse_statement("or(and(a, b) , not(low-latency))", &|s| s).unwrap();
        assert_eq!(statement.to_string(), "or(and(a, b), not(low-latency))");
        let target = parse_target("teams[Red, Yellow].minPlayers", &|s| s).unwrap();
        assert_eq!(target.to_string(), "teams[Red, Yellow].minPlayers");
        assert_eq!(target.names[1].span, Span::new(11, 17));
        let error = parse_target("rule[x].maxDistance", &|s| s).unwrap_err();
        assert_eq!(error.help.as_deref(), Some("did you mean `rules`?"));
        assert!(parse_target("rules[*].maxDistance", &|s| s).is_err());
    }

    #[test]
    fn strings_with_brackets_are_expressions_only_when_they_look_like_one() {
        assert!(string_reads_as_expression(
            "avg(teams[*].players.attributes[x])"
        ));
        assert!(string_reads_as_expression("count (teams[*].players)"));
        assert!(
            string_reads_as_expression("averge(teams[x"),
            "a broken call is still a call"
        );
        assert!(!string_reads_as_expression("medic (field)"));
        assert!(!string_reads_as_expression("[beta] tester"));
        assert!(!string_reads_as_expression("medic"));
    }

    #[test]
    fn only_json_numbers_count_as_numbers_in_strings() {
        assert_eq!(number_in_string("500"), Some(500.0));
        assert_eq!(number_in_string(" -2.5e1 "), Some(-25.0));
        for text in [
            "NaN",
            "inf",
            "-infinity",
            "1e999",
            "",
            "-",
            "0x10",
            "5 ms",
            "+5",
        ] {
            assert_eq!(number_in_string(text), None, "{text}");
        }
    }

    #[test]
    fn numbers_print_without_needless_fractions() {
        assert_eq!(format_number(10.0), "10");
        assert_eq!(format_number(-0.5), "-0.5");
        assert_eq!(format_number(1e20), "100000000000000000000");
    }
}
