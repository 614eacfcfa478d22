//! Reads JSON text (with the comments and trailing commas FlexMatch's examples contain) into a
//! tree that remembers where every value was written.

use pest::Parser as _;
use pest::iterators::Pair;

use crate::diagnostic::{Code, Diagnostic};
use crate::grammar::json::{JsonParser, Rule};
use crate::grammar::{parse_with_detail, syntax_error};
use crate::lex;
use crate::span::Span;

/// A JSON value and the span of its text.
#[derive(Clone, Debug, PartialEq)]
pub struct Json {
    pub kind: JsonKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum JsonKind {
    Null,
    Bool(bool),
    Number(f64),
    String(JsonString),
    Array(Vec<Json>),
    /// Members in the order written; duplicate keys are reported, and the first one kept.
    Object(Vec<(JsonString, Json)>),
}

impl JsonKind {
    /// "a number", "an object", … for "expected X, found Y" messages.
    pub fn describe(&self) -> &'static str {
        match self {
            JsonKind::Null => "null",
            JsonKind::Bool(_) => "a boolean",
            JsonKind::Number(_) => "a number",
            JsonKind::String(_) => "a string",
            JsonKind::Array(_) => "an array",
            JsonKind::Object(_) => "an object",
        }
    }
}

/// A decoded JSON string that can map positions inside its value back to the source text,
/// so a diagnostic about part of an expression points into the right column of the file.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonString {
    pub value: String,
    /// The span of the whole literal, quotes included.
    pub span: Span,
    /// Source offset of each byte of `value`, plus one past the end; only when the literal holds
    /// escapes, since otherwise the value is the source text between the quotes.
    source_offsets: Option<Vec<usize>>,
}

impl JsonString {
    /// The source span of `inner`, a span of bytes within `value`.
    pub fn source_span(&self, inner: Span) -> Span {
        match &self.source_offsets {
            None => inner.offset_by(self.span.start + 1),
            Some(offsets) => {
                let at = |i: usize| offsets[i.min(offsets.len() - 1)];
                Span::new(at(inner.start), at(inner.end).max(at(inner.start)))
            }
        }
    }
}

/// The result of reading JSON: the tree when the text parsed, and what was found on the way.
#[derive(Debug)]
pub struct ParsedJson {
    pub value: Option<Json>,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn parse(text: &str) -> ParsedJson {
    let mut diagnostics = Vec::new();
    let scan = lex::scan(text);
    if let Some(offset) = scan.too_deep_at {
        diagnostics.push(
            Diagnostic::new(
                Code::NestingTooDeep,
                Span::new(offset, offset + 1),
                format!("JSON is nested more than {} levels deep", lex::MAX_NESTING),
            )
            .with_help("rule sets need only a few levels; this text is probably not a rule set"),
        );
        return ParsedJson {
            value: None,
            diagnostics,
        };
    }
    if lex::is_blank(text, &scan.comments) {
        diagnostics.push(
            Diagnostic::new(Code::JsonSyntax, Span::at(0), "the rule set is empty")
                .with_help("a rule set is a JSON object with `ruleLanguageVersion` and `teams`"),
        );
        return ParsedJson {
            value: None,
            diagnostics,
        };
    }
    if let Some(first) = scan.comments.first() {
        let more = scan.comments.len() - 1;
        let mut diagnostic = Diagnostic::new(
            Code::JsonComment,
            *first,
            "comments are not part of JSON; rally reads them, but FlexMatch's API may reject this rule set",
        );
        if more > 0 {
            diagnostic = diagnostic.with_help(format!(
                "this file has {} comments; `rally convert --to json` writes it without them",
                more + 1
            ));
        } else {
            diagnostic =
                diagnostic.with_help("`rally convert --to json` writes this rule set without it");
        }
        diagnostics.push(diagnostic);
    }

    let pair = match parse_with_detail(|| JsonParser::parse(Rule::json, text)) {
        Ok(mut pairs) => pairs.next().expect("the json rule always yields a pair"),
        Err(error) => {
            let mut diagnostic =
                syntax_error(&error, Code::JsonSyntax, "invalid JSON", text, &|span| span);
            let found = text
                .get(diagnostic.span.start..)
                .and_then(|rest| rest.chars().next());
            match found {
                Some('\'') => diagnostic = diagnostic.with_help("JSON strings take double quotes"),
                Some(c) if c.is_alphabetic() => {
                    diagnostic =
                        diagnostic.with_help("property names and strings take double quotes")
                }
                _ => {}
            }
            diagnostics.push(diagnostic);
            return ParsedJson {
                value: None,
                diagnostics,
            };
        }
    };
    let value_pair = pair
        .into_inner()
        .next()
        .expect("the json rule holds one value");
    let value = build(value_pair, &mut diagnostics);
    ParsedJson { value, diagnostics }
}

fn build(pair: Pair<'_, Rule>, diagnostics: &mut Vec<Diagnostic>) -> Option<Json> {
    let span = Span::from_pest(pair.as_span());
    let kind = match pair.as_rule() {
        Rule::null => JsonKind::Null,
        Rule::boolean => JsonKind::Bool(pair.as_str() == "true"),
        Rule::number => match pair.as_str().parse::<f64>() {
            Ok(number) if number.is_finite() => JsonKind::Number(number),
            _ => {
                diagnostics.push(Diagnostic::new(
                    Code::InvalidValue,
                    span,
                    format!("number `{}` is out of range", pair.as_str()),
                ));
                return None;
            }
        },
        Rule::string => JsonKind::String(decode_string(pair)),
        Rule::array => {
            let mut items = Vec::new();
            for item in pair.into_inner() {
                if item.as_rule() == Rule::trailing_comma {
                    diagnostics.push(trailing_comma(Span::from_pest(item.as_span())));
                } else {
                    items.push(build(item, diagnostics)?);
                }
            }
            JsonKind::Array(items)
        }
        Rule::object => {
            let mut members: Vec<(JsonString, Json)> = Vec::new();
            for member in pair.into_inner() {
                if member.as_rule() == Rule::trailing_comma {
                    diagnostics.push(trailing_comma(Span::from_pest(member.as_span())));
                    continue;
                }
                let mut parts = member.into_inner();
                let key = decode_string(parts.next().expect("a member has a key"));
                let value = build(parts.next().expect("a member has a value"), diagnostics)?;
                if let Some((first, _)) = members.iter().find(|(k, _)| k.value == key.value) {
                    diagnostics.push(
                        Diagnostic::new(
                            Code::DuplicateKey,
                            key.span,
                            format!("property `{}` is given twice", key.value),
                        )
                        .with_note(first.span, "first given here")
                        .with_help("remove one of them; rally would otherwise have to guess"),
                    );
                } else {
                    members.push((key, value));
                }
            }
            JsonKind::Object(members)
        }
        rule => unreachable!("the json grammar yields no {rule:?} value"),
    };
    Some(Json { kind, span })
}

fn trailing_comma(span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::TrailingComma,
        span,
        "trailing comma; rally reads it, but FlexMatch's API may reject this rule set",
    )
    .with_help("remove the comma")
}

/// Decodes a `string` pair's escapes, keeping a byte map to the source when there are any.
fn decode_string(pair: Pair<'_, Rule>) -> JsonString {
    let span = Span::from_pest(pair.as_span());
    let content = pair.into_inner().next().expect("a string has content");
    let raw = content.as_str();
    let base = content.as_span().start();
    if !raw.contains('\\') {
        return JsonString {
            value: raw.to_string(),
            span,
            source_offsets: None,
        };
    }
    let mut value = String::with_capacity(raw.len());
    let mut offsets = Vec::with_capacity(raw.len() + 1);
    let mut chars = raw.char_indices().peekable();
    while let Some((i, ch)) = chars.next() {
        let decoded = if ch == '\\' {
            let (_, escape) = chars.next().expect("the grammar checked the escape");
            match escape {
                'b' => '\u{8}',
                'f' => '\u{c}',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'u' => {
                    let unit = hex_unit(&raw[i + 2..i + 6]);
                    chars.nth(3);
                    // Characters beyond the Basic Multilingual Plane come as a surrogate pair,
                    // `\ud83d\ude00`; a lone surrogate cannot be a char and becomes U+FFFD.
                    let low = raw
                        .get(i + 6..i + 12)
                        .filter(|next| next.starts_with("\\u"))
                        .map(|next| hex_unit(&next[2..]))
                        .filter(|low| (0xDC00..0xE000).contains(low));
                    match (unit, low) {
                        (0xD800..0xDC00, Some(low)) => {
                            chars.nth(5);
                            let combined = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                            char::from_u32(combined).unwrap_or('\u{FFFD}')
                        }
                        _ => char::from_u32(unit).unwrap_or('\u{FFFD}'),
                    }
                }
                other => other,
            }
        } else {
            ch
        };
        for _ in 0..decoded.len_utf8() {
            offsets.push(base + i);
        }
        value.push(decoded);
    }
    offsets.push(base + raw.len());
    JsonString {
        value,
        span,
        source_offsets: Some(offsets),
    }
}

/// Four hex digits, which the grammar has checked.
fn hex_unit(hex: &str) -> u32 {
    u32::from_str_radix(&hex[..4], 16).expect("the grammar checked the hex digits")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Json {
        let parsed = parse(text);
        parsed
            .value
            .unwrap_or_else(|| panic!("{:?}", parsed.diagnostics))
    }

    #[test]
    fn reads_values_with_spans() {
        let json = parse_ok(r#" {"a": [1, -2.5e1, true, null, "x"]} "#);
        assert_eq!(json.span, Span::new(1, 36));
        let JsonKind::Object(members) = json.kind else {
            panic!("not an object")
        };
        assert_eq!(members[0].0.value, "a");
        let JsonKind::Array(items) = &members[0].1.kind else {
            panic!("not an array")
        };
        assert_eq!(items[1].kind, JsonKind::Number(-25.0));
        assert_eq!(items[1].span, Span::new(11, 17));
        assert_eq!(items[2].kind, JsonKind::Bool(true));
        assert_eq!(items[3].kind, JsonKind::Null);
    }

    #[test]
    fn comments_and_trailing_commas_are_read_with_warnings() {
        let parsed = parse("{\n // note\n \"a\": [1, 2,],\n}");
        assert!(parsed.value.is_some());
        let codes: Vec<Code> = parsed.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            [Code::JsonComment, Code::TrailingComma, Code::TrailingComma]
        );
        assert!(parsed.diagnostics.iter().all(|d| !d.is_error()));
    }

    #[test]
    fn syntax_errors_say_what_was_expected_and_where() {
        let text = "{\"a\": 1 \"b\": 2}";
        let parsed = parse(text);
        assert!(parsed.value.is_none());
        let error = &parsed.diagnostics[0];
        assert_eq!(error.code, Code::JsonSyntax);
        assert_eq!(error.span.start, 8);
        assert!(error.message.contains("`,`"), "{}", error.message);
        assert!(error.message.contains("`}`"), "{}", error.message);
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let parsed = parse(r#"{"a": 1, "a": 2}"#);
        assert_eq!(parsed.diagnostics[0].code, Code::DuplicateKey);
        assert_eq!(parsed.diagnostics[0].span, Span::new(9, 12));
    }

    #[test]
    fn escaped_strings_map_positions_back_to_the_source() {
        let text = r#""a\"bc""#;
        let JsonKind::String(string) = parse_ok(text).kind else {
            panic!("not a string")
        };
        assert_eq!(string.value, "a\"bc");
        // `b` is byte 2 of the value and byte 4 of the source.
        assert_eq!(string.source_span(Span::new(2, 3)), Span::new(4, 5));
        let JsonKind::String(plain) = parse_ok(r#""abc""#).kind else {
            panic!("not a string")
        };
        assert_eq!(plain.source_span(Span::new(1, 2)), Span::new(2, 3));
    }

    #[test]
    fn surrogate_pairs_decode_to_one_character() {
        let text = r#""a\ud83d\ude00b\ud800""#;
        let JsonKind::String(string) = parse_ok(text).kind else {
            panic!("not a string")
        };
        assert_eq!(string.value, "a😀b\u{FFFD}");
        // `b` is after the 4-byte emoji, and at source offset 14.
        assert_eq!(string.source_span(Span::new(5, 6)), Span::new(14, 15));
    }

    #[test]
    fn deep_nesting_is_refused_without_recursing() {
        let text = "[".repeat(100_000);
        let parsed = parse(&text);
        assert!(parsed.value.is_none());
        assert_eq!(parsed.diagnostics[0].code, Code::NestingTooDeep);
    }

    #[test]
    fn out_of_range_numbers_are_errors() {
        let parsed = parse("[1e999]");
        assert!(parsed.value.is_none());
        assert_eq!(parsed.diagnostics[0].code, Code::InvalidValue);
    }
}
