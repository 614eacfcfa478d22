//! rally's rule-set language: FlexMatch JSON rule sets, property expressions and the rally DSL,
//! read into one model, checked with diagnostics a designer can act on, and compiled for the matcher.
//!
//! The pipeline, one module per stage:
//!
//! | stage | module | produces |
//! | --- | --- | --- |
//! | read JSON text | [`json`] | a spanned JSON tree |
//! | read JSON tree | `lower_json` | [`ast::RuleSetAst`] |
//! | read DSL text | `dsl` | [`ast::RuleSetAst`] |
//! | check and compile | `check` | [`model::RuleSet`] and [`Diagnostic`]s |
//! | print | [`print`] | canonical JSON or DSL text |
//!
//! [`numeric`] says how every number of a rule set is compared (one tolerance for all).
//!
//! [`check_source`] runs the whole pipeline on a text.

#![warn(unreachable_pub)]

#[macro_use]
mod keywords;

pub mod ast;
mod check;
pub mod diagnostic;
mod dsl;
pub mod expr;
mod grammar;
pub mod json;
mod lex;
mod lower_json;
pub mod model;
pub mod numeric;
pub mod print;
pub mod span;
pub mod suggest;

pub use ast::{RuleSetAst, SourceFormat};
pub use diagnostic::{Code, Diagnostic, Severity};
pub use model::RuleSet;

use span::Span;

/// FlexMatch's limit on a rule-set body, in characters.
pub const MAX_BODY_CHARS: usize = 65_535;

/// A bound on how many times longer canonical JSON is than the DSL it came from.
const DSL_TO_JSON_GROWTH: usize = 8;

impl SourceFormat {
    /// Guesses the format: `.rules` files are DSL, `.json` files JSON; otherwise text whose first
    /// meaningful character is `{` is JSON.
    pub fn detect(path: Option<&std::path::Path>, text: &str) -> SourceFormat {
        match path
            .and_then(|path| path.extension())
            .and_then(|ext| ext.to_str())
        {
            Some("rules") => SourceFormat::Dsl,
            Some("json") => SourceFormat::Json,
            _ => {
                let mut rest = text.trim_start_matches('\u{FEFF}').trim_start();
                // Skip leading comments, which both formats allow.
                loop {
                    if rest.starts_with("//") {
                        rest = rest.find('\n').map_or("", |i| &rest[i..]);
                    } else if rest.starts_with("/*") {
                        rest = rest.find("*/").map_or("", |i| &rest[i + 2..]);
                    } else {
                        break;
                    }
                    rest = rest.trim_start();
                }
                if rest.starts_with('{') {
                    SourceFormat::Json
                } else {
                    SourceFormat::Dsl
                }
            }
        }
    }
}

/// Everything rally learned from one rule-set text.
#[derive(Debug)]
pub struct Checked {
    /// The model, when the text could be read at all.
    pub ast: Option<RuleSetAst>,
    /// The compiled rule set, when there is no error.
    pub rule_set: Option<RuleSet>,
    /// Errors and warnings, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    /// Valid means no errors; warnings are allowed.
    pub fn is_valid(&self) -> bool {
        !self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Reads a rule set without checking what it means.
pub(crate) fn parse(source: &str, format: SourceFormat) -> (Option<RuleSetAst>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let ast = match format {
        SourceFormat::Json => {
            let parsed = json::parse(source);
            diagnostics = parsed.diagnostics;
            parsed
                .value
                .and_then(|value| lower_json::lower(&value, &mut diagnostics))
        }
        SourceFormat::Dsl => dsl::parse(source, &mut diagnostics),
    };
    (ast, diagnostics)
}

/// FlexMatch's limit applies to the JSON it receives: a JSON rule set is measured as written,
/// a DSL rule set as the canonical JSON `rally convert --to json` makes of it — so comments in
/// the DSL cost nothing, and a converted file never exceeds a limit its source passed.
fn body_size(source: &str, format: SourceFormat, ast: Option<&RuleSetAst>) -> Option<Diagnostic> {
    match format {
        SourceFormat::Json => {
            let (offset, _) = source.char_indices().nth(MAX_BODY_CHARS)?;
            Some(
                Diagnostic::new(
                    Code::BodyTooLarge,
                    Span::new(offset, source.len()),
                    format!(
                        "the rule set is {} characters long; FlexMatch allows at most {MAX_BODY_CHARS}",
                        source.chars().count()
                    ),
                )
                .with_help("remove comments, descriptions or rules you no longer need; FlexMatch rejects larger bodies too"),
            )
        }
        // Canonical JSON is at most about seven times its DSL (the worst case is a wait-time
        // step: `1s -> 1` becomes an indented `{ "waitTimeSeconds": 1, "value": 1 }`), so
        // only a DSL text over an eighth of the limit needs printing to be measured.
        SourceFormat::Dsl if source.len() <= MAX_BODY_CHARS / DSL_TO_JSON_GROWTH => None,
        SourceFormat::Dsl => {
            let json_chars = print::to_json(ast?).chars().count();
            (json_chars > MAX_BODY_CHARS).then(|| {
                Diagnostic::new(
                    Code::BodyTooLarge,
                    Span::at(0),
                    format!(
                        "as FlexMatch JSON this rule set is {json_chars} characters long; FlexMatch allows at most {MAX_BODY_CHARS}"
                    ),
                )
                .with_help("remove descriptions or rules you no longer need")
            })
        }
    }
}

/// Reads, checks and compiles a rule set.
pub fn check_source(source: &str, format: SourceFormat) -> Checked {
    let (ast, mut diagnostics) = parse(source, format);
    if let Some(diagnostic) = body_size(source, format, ast.as_ref()) {
        diagnostics.push(diagnostic);
    }
    let rule_set = match &ast {
        Some(ast) => {
            let (rule_set, found) = check::check(ast);
            diagnostics.extend(found);
            rule_set
        }
        None => None,
    };
    diagnostics.sort_by_key(|diagnostic| (diagnostic.span.start, diagnostic.span.end));
    let valid = !diagnostics.iter().any(Diagnostic::is_error);
    Checked {
        ast,
        rule_set: rule_set.filter(|_| valid),
        diagnostics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The growth bound that lets small DSL texts skip measuring holds for the densest DSL:
    /// one-letter names and many short steps.
    #[test]
    fn canonical_json_grows_less_than_the_bound() {
        let mut dsl = String::from(
            "attribute a: number = 1\nteam a players 1\nteam b players 1..2 quantity 2\n",
        );
        dsl.push_str(
            "rule a: latency max 1\nrule b: distance teams[a].players.attributes[a] to 1 max 1\n",
        );
        let steps: Vec<String> = (1..200).map(|i| format!("{i}s -> {i}")).collect();
        dsl.push_str(&format!(
            "expand rules[b].maxDistance: {}\n",
            steps.join(",")
        ));
        let checked = check_source(&dsl, SourceFormat::Dsl);
        assert!(checked.is_valid(), "{:?}", checked.diagnostics);
        let json = print::to_json(checked.ast.as_ref().unwrap());
        assert!(
            json.len() < dsl.len() * DSL_TO_JSON_GROWTH,
            "{} JSON characters from {} of DSL",
            json.len(),
            dsl.len()
        );
    }

    #[test]
    fn detects_the_format_from_the_extension_or_the_text() {
        use std::path::Path;
        assert_eq!(
            SourceFormat::detect(Some(Path::new("a.rules")), "{"),
            SourceFormat::Dsl
        );
        assert_eq!(
            SourceFormat::detect(Some(Path::new("a.json")), "team"),
            SourceFormat::Json
        );
        assert_eq!(
            SourceFormat::detect(None, "\u{FEFF} // c\n/* d */ {}"),
            SourceFormat::Json
        );
        assert_eq!(
            SourceFormat::detect(None, "/* {} */ team a players 1"),
            SourceFormat::Dsl
        );
        assert_eq!(SourceFormat::detect(None, ""), SourceFormat::Dsl);
    }
}
