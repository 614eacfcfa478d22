//! Reading expressions, statements and targets: from their own text or from the pest pairs of
//! a larger grammar (the DSL embeds the expression grammar), spans mapped back to the source.

use pest::Parser as _;
use pest::iterators::Pair;

use super::tree::{
    Expr, ExprKind, Path, PathField, Statement, StatementKind, Target, TargetComponent,
    TeamSelector,
};
use crate::diagnostic::{Code, Diagnostic};
use crate::grammar::rules::{Rule, RulesParser};
use crate::grammar::{parse_with_detail, syntax_error};
use crate::lex;
use crate::span::{Span, Spanned};
use crate::suggest;

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
pub(crate) fn starts_like_expression(text: &str) -> bool {
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
pub(crate) fn string_reads_as_expression(text: &str) -> bool {
    text.contains(['(', '['])
        && (starts_like_expression(text) || parse_expression(text, &|span| span).is_ok())
}

/// The number a string such as `"500"` holds, as FlexMatch's examples write numbers: only
/// JSON number syntax, and only finite values — `"NaN"` and `"inf"` are strings, not numbers.
pub(crate) fn number_in_string(text: &str) -> Option<f64> {
    let text = text.trim();
    let digits = text.strip_prefix('-').unwrap_or(text);
    let json_shaped = digits.starts_with(|c: char| c.is_ascii_digit())
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    let number: f64 = text.parse().ok().filter(|_| json_shaped)?;
    number.is_finite().then_some(number)
}
