//! The pest parsers, and the one place pest's errors become rally diagnostics.
//!
//! pest types stop at the readers (`json`, `expr`, `dsl`): everything past them sees rally's
//! own AST and `Diagnostic`s, so the parser could be replaced without touching the checker.

use std::sync::Mutex;

use pest::RuleType;
use pest::error::{ErrorVariant, InputLocation};

use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;

pub(crate) mod json {
    #[derive(pest_derive::Parser)]
    #[grammar = "grammar/json.pest"]
    pub(crate) struct JsonParser;
}

pub(crate) mod rules {
    #[derive(pest_derive::Parser)]
    #[grammar = "grammar/expr.pest"]
    #[grammar = "grammar/dsl.pest"]
    pub(crate) struct RulesParser;
}

/// Serialises re-parses that turn on pest's global error-detail flag.
static ERROR_DETAIL: Mutex<()> = Mutex::new(());

/// Runs a pest parse; when it fails, runs it again with pest's error detail on, so the error
/// can name the tokens pest expected.
///
/// Tracking attempts doubles parse time, and only a failed parse needs them. pest reads the
/// flag once when a parse starts, so a parse on another thread at the same moment merely
/// runs slower, never differently.
pub(crate) fn parse_with_detail<T, E>(parse: impl Fn() -> Result<T, E>) -> Result<T, E> {
    parse().or_else(|_| {
        let _guard = ERROR_DETAIL
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        pest::set_error_detail(true);
        let detailed = parse();
        pest::set_error_detail(false);
        detailed
    })
}

/// How a grammar's rules and tokens read in "expected …" messages.
pub(crate) trait Describe: RuleType {
    /// A rule as a person would name it; `None` leaves it out.
    fn describe(self) -> Option<&'static str>;

    /// Whether a literal token pest expected is worth naming.
    fn show_token(token: &str) -> bool {
        is_meaningful_token(token)
    }

    /// Rules that read a name; after a name they only say "the name could go on".
    fn is_name(self) -> bool {
        false
    }
}

const MAX_EXPECTED: usize = 8;

/// Turns a pest error into a diagnostic: `{what}: expected …, found …`.
///
/// pest places its error where the last *rule* failed, which can be a whole token before the
/// real problem (`and(a, b` fails "at" `b`, though what is missing is the `)` after it). When
/// pest tracked its attempts, the furthest position it reached, with the tokens it wanted
/// there, says more; otherwise the rule-level error stands.
///
/// `text` is the text pest parsed; `to_source` maps a span in it to the original source (they
/// differ for expressions read out of JSON strings).
pub(crate) fn syntax_error<R: Describe>(
    error: &pest::error::Error<R>,
    code: Code,
    what: &str,
    text: &str,
    to_source: &dyn Fn(Span) -> Span,
) -> Diagnostic {
    let location = match error.location {
        InputLocation::Pos(pos) => pos,
        InputLocation::Span((start, _)) => start,
    };
    let positives: Vec<String> = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => positives
            .iter()
            .filter_map(|rule| rule.describe())
            .map(str::to_string)
            .collect(),
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let mut pos = location;
    let mut expected: Vec<String> = Vec::new();
    if let Some(attempts) = error.parse_attempts()
        && attempts.max_position >= location
    {
        // Right after a name or number, "the name could go on" is never the point.
        let before = text[..attempts.max_position].chars().next_back();
        let after_name = before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-');
        let after_digit = before.is_some_and(|c| c.is_ascii_digit());
        for stack in attempts.call_stacks() {
            let rule = stack.deepest.get_rule().copied().or(stack.parent);
            if let Some(rule) = rule
                && !(after_name && rule.is_name())
                && let Some(description) = rule.describe()
            {
                push_unique(&mut expected, description.to_string());
            }
        }
        for token in attempts.expected_tokens() {
            let token = token.to_string();
            if R::show_token(&token) && !(after_digit && token == ".") {
                push_unique(&mut expected, format!("`{token}`"));
            }
        }
        if !expected.is_empty() {
            pos = attempts.max_position;
        }
    }
    // pest does not record a keyword that failed on its `!ident_char` guard (`too` for `to`)
    // as an attempt, but it does report the rule as expected at the rule-level position.
    if pos == location {
        for positive in positives {
            push_unique(&mut expected, positive);
        }
    }
    let (found, found_len) = found_at(text, pos);
    let message = if expected.is_empty() {
        format!("{what}: unexpected {found}")
    } else {
        format!("{what}: expected {}, found {found}", join_or(&expected))
    };
    let span = to_source(Span::new(pos, pos + found_len));
    Diagnostic::new(code, span, message)
}

fn push_unique(items: &mut Vec<String>, item: String) {
    if !items.contains(&item) {
        items.push(item);
    }
}

/// Whether an expected token is worth naming to a person: not whitespace, comment openers,
/// character ranges (`a..z`), single letters or `-`/`_` from inside numbers and names, or pest
/// built-ins.
fn is_meaningful_token(token: &str) -> bool {
    let chars: Vec<char> = token.chars().collect();
    let is_range = chars.len() == 4 && chars[1] == '.' && chars[2] == '.';
    let is_name_char =
        chars.len() == 1 && (chars[0].is_ascii_alphabetic() || matches!(chars[0], '-' | '_'));
    let is_layout = token.chars().all(|c| c.is_whitespace() || c == '\u{FEFF}');
    !(is_layout || is_range || is_name_char || matches!(token, "//" | "/*" | "*/" | "BUILTIN_RULE"))
}

/// What stands at `pos`: a word, one character, or the end of the input.
fn found_at(text: &str, pos: usize) -> (String, usize) {
    let rest = text.get(pos..).unwrap_or("");
    let Some(first) = rest.chars().next() else {
        return ("end of input".to_string(), 0);
    };
    let word_len = if first.is_alphanumeric() || first == '_' {
        rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len())
    } else {
        first.len_utf8()
    };
    let word = &rest[..word_len];
    let shown = match first {
        '\n' | '\r' => "end of line".to_string(),
        _ => {
            let printable: String = word
                .chars()
                .flat_map(|c| {
                    let shown: Vec<char> = if c.is_control() {
                        c.escape_default().collect()
                    } else {
                        vec![c]
                    };
                    shown
                })
                .collect();
            format!("`{printable}`")
        }
    };
    (shown, word_len)
}

fn join_or(items: &[String]) -> String {
    let shown = &items[..items.len().min(MAX_EXPECTED)];
    let mut text = match shown {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    };
    if items.len() > MAX_EXPECTED {
        text = format!("{}, …", shown.join(", "));
    }
    text
}

impl Describe for json::Rule {
    fn describe(self) -> Option<&'static str> {
        use json::Rule as R;
        Some(match self {
            R::json | R::value | R::object | R::array | R::number | R::boolean | R::null => {
                "a value"
            }
            // Both a key and a value can be a string here; this wording fits either.
            R::string => "a double-quoted string",
            R::member => return None,
            R::content | R::escape => "a valid string character or escape",
            R::EOI => "end of input",
            R::trailing_comma | R::WHITESPACE | R::COMMENT => return None,
        })
    }

    /// Only punctuation between values; "a value" already covers `{`, `[`, `-`, `0` and `"`.
    fn show_token(token: &str) -> bool {
        matches!(token, "," | "}" | "]" | ":")
    }
}

impl Describe for rules::Rule {
    /// `==` is in the grammar only so that rally can say "write `=`".
    fn show_token(token: &str) -> bool {
        token != "==" && is_meaningful_token(token)
    }

    fn is_name(self) -> bool {
        use rules::Rule as R;
        matches!(
            self,
            R::name | R::ident | R::dsl_name | R::rule_ref | R::statement | R::unknown_rule
        )
    }

    fn describe(self) -> Option<&'static str> {
        use rules::Rule as R;
        Some(match self {
            R::expression | R::arguments => "an expression",
            R::call => "a function call",
            R::path => "a path such as `teams[*].players`",
            R::statement | R::statement_args | R::statement_call | R::rule_ref => {
                "a rule name or `and(…)`"
            }
            R::target => "a target such as `rules[name].maxDistance`",
            R::selector => "`[`",
            R::name | R::dsl_name => "a name",
            R::ident => "a name",
            R::number | R::quantity => "a number",
            R::string | R::content | R::escape => "a string",
            R::list | R::literal | R::list_literal | R::map_literal | R::map_entry => "a value",
            R::declaration => "a declaration",
            R::rule_body | R::unknown_rule | R::rule_type => "a rule type",
            R::rule_option => "a rule option",
            R::collection_operation => {
                "`intersection`, `contains` or `reference_intersection_count`"
            }
            R::player_range => "a player count such as `5` or `4..8`",
            R::expansion_step => "an expansion step such as `10s -> 50`",
            R::EOI => "end of input",
            R::kw_ruleset => "`ruleset`",
            R::kw_attribute => "`attribute`",
            R::kw_team => "`team`",
            R::kw_players => "`players`",
            R::kw_quantity => "`quantity`",
            R::kw_algorithm => "`algorithm`",
            R::kw_rule => "`rule`",
            R::kw_expand => "`expand`",
            R::kw_distance => "`distance`",
            R::kw_comparison => "`comparison`",
            R::kw_collection => "`collection`",
            R::kw_latency => "`latency`",
            R::kw_absolute_sort => "`absoluteSort`",
            R::kw_distance_sort => "`distanceSort`",
            R::kw_batch_distance => "`batchDistance`",
            R::kw_compound => "`compound`",
            R::kw_to => "`to`",
            R::kw_all => "`all`",
            R::kw_min => "`min`",
            R::kw_max => "`max`",
            R::kw_from => "`from`",
            R::kw_party => "`party`",
            R::kw_key => "`key`",
            R::kw_description => "`description`",
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn found_names_words_characters_and_the_end() {
        assert_eq!(found_at("abc def", 0), ("`abc`".to_string(), 3));
        assert_eq!(found_at("}", 0), ("`}`".to_string(), 1));
        assert_eq!(found_at("x", 1), ("end of input".to_string(), 0));
        assert_eq!(found_at("\n", 0), ("end of line".to_string(), 1));
    }

    #[test]
    fn long_expectation_lists_are_cut() {
        let items: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        assert_eq!(join_or(&items[..2]), "0 or 1");
        assert!(join_or(&items).ends_with(", …"));
    }
}
