//! Diagnostics: what is wrong with a rule set, where, and how to fix it; rendered as text or JSON.

use std::fmt::{self, Write as _};

use serde::Serialize;

use crate::span::{LineIndex, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

macro_rules! codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $name:literal, $severity:ident;)*) => {
        /// A diagnostic's stable code. The kebab-case names are part of rally's interface:
        /// tools match on them, so a code is never renamed or reused.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)*
                }
            }

            /// The severity every diagnostic with this code has.
            pub fn severity(self) -> Severity {
                match self {
                    $(Code::$variant => Severity::$severity,)*
                }
            }

            /// What the code means, for documentation and `--explain`-style help.
            pub fn summary(self) -> &'static str {
                match self {
                    $(Code::$variant => concat!($($doc),*).trim_ascii(),)*
                }
            }
        }
    };
}

codes! {
    /// The JSON text is malformed.
    JsonSyntax = "json-syntax", Error;
    /// The rally DSL text is malformed.
    DslSyntax = "dsl-syntax", Error;
    /// A property expression or compound statement is malformed.
    ExpressionSyntax = "expression-syntax", Error;
    /// An expansion target is not of the form `rules[name].property` or `teams[a, b].property`.
    InvalidTarget = "invalid-target", Error;
    /// Brackets, braces or function calls are nested deeper than rally reads.
    NestingTooDeep = "nesting-too-deep", Error;
    /// The rule-set body is longer than FlexMatch's limit of 65,535 characters.
    BodyTooLarge = "body-too-large", Error;
    /// A `//` or `/* */` comment in JSON: rally reads it, FlexMatch's API may reject it.
    JsonComment = "json-comment", Warning;
    /// A trailing comma in JSON: rally reads it, FlexMatch's API may reject it.
    TrailingComma = "trailing-comma", Warning;
    /// A JSON object or DSL rule gives the same property twice.
    DuplicateKey = "duplicate-key", Error;
    /// A required property is missing.
    MissingProperty = "missing-property", Error;
    /// A property that rally does not know.
    UnknownProperty = "unknown-property", Error;
    /// A property has the wrong kind of value, e.g. a string where a number belongs.
    WrongValueType = "wrong-value-type", Error;
    /// A number written as a string (`"500"`): accepted, as in FlexMatch's own examples.
    NumberAsString = "number-as-string", Warning;
    /// A property's value is outside what it allows (an unknown option, a negative count, a fraction).
    InvalidValue = "invalid-value", Error;
    /// `ruleLanguageVersion` is not `1.0`.
    UnsupportedLanguageVersion = "unsupported-language-version", Error;
    /// The rule set defines no team.
    NoTeams = "no-teams", Error;
    /// A name refers to a player attribute that is not declared.
    UnknownAttribute = "unknown-attribute", Error;
    /// A name refers to a team that is not defined.
    UnknownTeam = "unknown-team", Error;
    /// A name refers to a rule that is not defined.
    UnknownRule = "unknown-rule", Error;
    /// A rule's `type` is not one of the eight rule types.
    UnknownRuleType = "unknown-rule-type", Error;
    /// A property expression calls a function that does not exist.
    UnknownFunction = "unknown-function", Error;
    /// Two player attributes share a name.
    DuplicateAttribute = "duplicate-attribute", Error;
    /// Two teams share a name.
    DuplicateTeam = "duplicate-team", Error;
    /// Two rules share a name.
    DuplicateRule = "duplicate-rule", Error;
    /// A numbered copy of a team (`red_2`) has the name of another team.
    TeamNameCollision = "team-name-collision", Error;
    /// An expression has the wrong type for where it is used.
    TypeMismatch = "type-mismatch", Error;
    /// A function or compound operator is given the wrong number of arguments.
    WrongArgumentCount = "wrong-argument-count", Error;
    /// A player attribute's default does not fit its type.
    InvalidDefault = "invalid-default", Error;
    /// An empty string default counts as no default at all.
    EmptyDefault = "empty-default", Warning;
    /// A property that the rule's type does not use.
    PropertyNotApplicable = "property-not-applicable", Error;
    /// An `operation` that does not fit the rule's type or its measurements.
    InvalidOperation = "invalid-operation", Error;
    /// A minimum is greater than its maximum (players, distance or count).
    MinExceedsMax = "min-exceeds-max", Error;
    /// The teams together hold more than 200 players.
    TooManyPlayers = "too-many-players", Error;
    /// A match of more than 40 players needs `strategy: balanced` with a numeric `balancedAttribute`.
    LargeMatchStrategy = "large-match-strategy", Error;
    /// A match of more than 40 players may only use `latency` (with `maxLatency`) and `batchDistance` rules.
    LargeMatchRule = "large-match-rule", Error;
    /// `strategy: balanced` on a match of 40 players or fewer; rally runs exhaustiveSearch.
    BalancedSmallMatch = "balanced-small-match", Warning;
    /// A `batchingPreference` that belongs to the other strategy.
    StrategyMismatch = "strategy-mismatch", Error;
    /// `batchingPreference: sorted` without `sortByAttributes`.
    MissingSortAttributes = "missing-sort-attributes", Error;
    /// `sortByAttributes` without `batchingPreference: sorted` has no effect.
    UnusedSortAttributes = "unused-sort-attributes", Warning;
    /// `backfillPriority` with the balanced strategy: FlexMatch's documents disagree on whether it applies.
    BackfillPriorityBalanced = "backfill-priority-balanced", Warning;
    /// A compound rule names a rule defined after it, or itself.
    CompoundForwardReference = "compound-forward-reference", Error;
    /// A compound rule names a `batchDistance` rule.
    CompoundBatchDistance = "compound-batch-distance", Error;
    /// A compound rule names a sort rule, which orders candidates but never passes or fails.
    CompoundSortRule = "compound-sort-rule", Error;
    /// An expansion targets a compound rule.
    ExpansionCompound = "expansion-compound", Error;
    /// An expansion targets a property that cannot be relaxed.
    ExpansionNotRelaxable = "expansion-not-relaxable", Error;
    /// An expansion's wait times do not strictly increase.
    ExpansionStepOrder = "expansion-step-order", Error;
    /// Two expansions target the same property.
    DuplicateExpansion = "duplicate-expansion", Error;
    /// An expansion sets a property the rule does not set itself.
    ExpansionUnsetProperty = "expansion-unset-property", Warning;
    /// A unit (`ms`, `s`) where it does not belong, or a missing one.
    InvalidUnit = "invalid-unit", Error;
    /// A `///` comment that is not directly above a rule, so it describes nothing.
    DetachedDocComment = "detached-doc-comment", Warning;
    /// A rule takes `avg`, `min`, `max`, `median` or `stddev` over a team whose `minPlayers` is or becomes 0: FlexMatch does not support it, and the rule fails whenever the team is empty.
    AggregateOverEmptyTeam = "aggregate-over-empty-team", Warning;
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding about a rule set: a code, a one-line message, the span it is about and, where
/// rally can tell, how to fix it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    pub span: Span,
    /// A few words printed under the caret.
    pub label: Option<String>,
    pub help: Option<String>,
    /// Other places that explain this one, e.g. where a duplicated name was first defined.
    pub notes: Vec<(Span, String)>,
}

impl Diagnostic {
    /// A diagnostic with its code's severity.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: code.severity(),
            code,
            message: one_line(message.into()),
            span,
            label: None,
            help: None,
            notes: Vec::new(),
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(one_line(label.into()));
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(one_line(help.into()));
        self
    }

    /// Sets the help when there is one; convenient with `suggest::did_you_mean`.
    pub fn with_help_opt(mut self, help: Option<String>) -> Diagnostic {
        if let Some(help) = help {
            self.help = Some(one_line(help));
        }
        self
    }

    pub fn with_note(mut self, span: Span, note: impl Into<String>) -> Diagnostic {
        self.notes.push((span, one_line(note.into())));
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Escapes control characters, so text quoted from a rule set (a name with a `\n` escape in
/// it, say) cannot break a diagnostic over several lines.
fn one_line(text: String) -> String {
    if !text.chars().any(char::is_control) {
        return text;
    }
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let primary = miette::LabeledSpan::new_primary_with_span(
            self.label.clone(),
            (self.span.start, self.span.len()),
        );
        let notes = self.notes.iter().map(|(span, note)| {
            miette::LabeledSpan::new_with_span(Some(note.clone()), (span.start, span.len()))
        });
        Some(Box::new(std::iter::once(primary).chain(notes)))
    }
}

/// A diagnostic in the shape `rally validate --format json` prints.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DiagnosticRecord {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub help: Option<String>,
}

impl DiagnosticRecord {
    pub fn new(diagnostic: &Diagnostic, index: &LineIndex<'_>) -> DiagnosticRecord {
        let start = index.line_col(diagnostic.span.start);
        let end = index.line_col(diagnostic.span.end);
        DiagnosticRecord {
            severity: diagnostic.severity,
            code: diagnostic.code.as_str(),
            message: diagnostic.message.clone(),
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
            help: diagnostic.help.clone(),
        }
    }
}

/// How [`render`] decorates its output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RenderStyle {
    /// ANSI colours, for terminals only.
    pub color: bool,
}

const TAB_WIDTH: usize = 4;

/// Renders diagnostics the way a compiler does: `file:line:col`, the source line, a caret
/// under the span, then help and notes.
pub fn render(
    diagnostics: &[Diagnostic],
    file_name: &str,
    source: &str,
    style: RenderStyle,
) -> String {
    let index = LineIndex::new(source);
    let mut out = String::new();
    for diagnostic in diagnostics {
        render_one(&mut out, diagnostic, file_name, &index, style);
    }
    out
}

fn render_one(
    out: &mut String,
    diagnostic: &Diagnostic,
    file_name: &str,
    index: &LineIndex<'_>,
    style: RenderStyle,
) {
    let paint = Painter(style.color);
    let (severity_color, severity) = match diagnostic.severity {
        Severity::Error => (RED, "error"),
        Severity::Warning => (YELLOW, "warning"),
    };
    let start = index.line_col(diagnostic.span.start);
    let end = index.line_col(diagnostic.span.end);
    let gutter = start.line.to_string().len();
    let pad = " ".repeat(gutter);

    let _ = writeln!(
        out,
        "{}{}",
        paint.bold(severity_color, &format!("{severity}[{}]", diagnostic.code)),
        paint.bold("", &format!(": {}", diagnostic.message)),
    );
    let _ = writeln!(out, "{pad}{} {file_name}:{start}", paint.bold(BLUE, "-->"));
    let bar = paint.bold(BLUE, "|");
    let _ = writeln!(out, "{pad} {bar}");

    let line_text = index.line_text(start.line);
    let (shown, caret_start, caret_len) = caret_columns(line_text, start.column, end, start.line);
    let _ = writeln!(
        out,
        "{} {bar} {shown}",
        paint.bold(BLUE, &start.line.to_string())
    );
    let mut caret_line = format!(
        "{}{}",
        " ".repeat(caret_start),
        paint.bold(severity_color, &"^".repeat(caret_len))
    );
    if let Some(label) = &diagnostic.label {
        caret_line.push(' ');
        caret_line.push_str(&paint.bold(severity_color, label));
    }
    let _ = writeln!(out, "{pad} {bar} {caret_line}");

    for (span, note) in &diagnostic.notes {
        let at = index.line_col(span.start);
        let _ = writeln!(
            out,
            "{pad} {} note: {note} ({file_name}:{at})",
            paint.bold(BLUE, "=")
        );
    }
    if let Some(help) = &diagnostic.help {
        let _ = writeln!(out, "{pad} {} help: {help}", paint.bold(BLUE, "="));
    }
    out.push('\n');
}

/// Source lines longer than this are shown as a window around the caret.
const MAX_SHOWN_COLUMNS: usize = 160;
/// How much of the line the window keeps before the caret.
const CONTEXT_COLUMNS: usize = 60;

/// Prepares a source line for display and works out where the caret goes, in display columns.
/// Tabs expand to spaces; other control characters (an ANSI escape, say) show as `�` so the
/// source cannot drive the terminal; a very long line is cut to a window around the caret. A
/// span running past the end of its line is underlined to the line's end.
fn caret_columns(
    line_text: &str,
    start_column: usize,
    end: crate::span::LineCol,
    line: usize,
) -> (String, usize, usize) {
    let mut shown: Vec<char> = Vec::with_capacity(line_text.len());
    // Display column at which each source character starts, plus the end of the line.
    let mut display_cols = Vec::with_capacity(line_text.len() + 1);
    for ch in line_text.chars() {
        display_cols.push(shown.len());
        match ch {
            '\t' => shown.extend(std::iter::repeat_n(' ', TAB_WIDTH)),
            c if c.is_control() => shown.push('\u{FFFD}'),
            c => shown.push(c),
        }
    }
    let line_end = shown.len();
    display_cols.push(line_end);
    let col_of = |column: usize| display_cols.get(column - 1).copied().unwrap_or(line_end);
    let caret_start = col_of(start_column);
    let caret_end = if end.line == line {
        col_of(end.column)
    } else {
        line_end
    };
    let caret_len = caret_end.saturating_sub(caret_start).max(1);
    if shown.len() <= MAX_SHOWN_COLUMNS {
        return (shown.into_iter().collect(), caret_start, caret_len);
    }
    let from = caret_start.saturating_sub(CONTEXT_COLUMNS);
    let to = (from + MAX_SHOWN_COLUMNS).min(shown.len());
    let mut window = String::new();
    let mut offset = 0;
    if from > 0 {
        window.push('…');
        offset = 1;
    }
    window.extend(&shown[from..to]);
    if to < shown.len() {
        window.push('…');
    }
    let caret_len = caret_len.min(to.saturating_sub(caret_start).max(1));
    (window, caret_start - from + offset, caret_len)
}

const RED: &str = "31";
const YELLOW: &str = "33";
const BLUE: &str = "34";

/// Wraps text in ANSI escapes when colour is on.
struct Painter(bool);

impl Painter {
    fn bold(&self, color: &str, text: &str) -> String {
        if !self.0 {
            return text.to_string();
        }
        if color.is_empty() {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            format!("\x1b[1;{color}m{text}\x1b[0m")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_kebab_case() {
        let mut seen = std::collections::BTreeSet::new();
        for code in Code::ALL {
            let name = code.as_str();
            assert!(seen.insert(name), "duplicate code {name}");
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{name} is not kebab-case"
            );
            assert!(!code.summary().is_empty(), "{name} has no summary");
        }
    }

    #[test]
    fn renders_file_position_source_line_caret_and_help() {
        let source = "{\n  \"a\": [\"avg(x)\"]\n}\n";
        let start = source.find("avg").unwrap();
        let diagnostic = Diagnostic::new(
            Code::UnknownFunction,
            Span::new(start, start + 3),
            "unknown function `avg`",
        )
        .with_label("here")
        .with_help("did you mean `max`?");
        let text = render(&[diagnostic], "f.json", source, RenderStyle::default());
        assert_eq!(
            text,
            "error[unknown-function]: unknown function `avg`\n \
             --> f.json:2:10\n  \
             |\n\
             2 |   \"a\": [\"avg(x)\"]\n  \
             |          ^^^ here\n  \
             = help: did you mean `max`?\n\n"
        );
    }

    #[test]
    fn tabs_expand_and_carets_follow() {
        let source = "\tab";
        let diagnostic = Diagnostic::new(Code::JsonSyntax, Span::new(1, 2), "bad");
        let text = render(&[diagnostic], "t", source, RenderStyle::default());
        assert!(text.contains("1 |     ab\n  |     ^\n"), "{text}");
    }

    #[test]
    fn messages_stay_on_one_line() {
        let diagnostic =
            Diagnostic::new(Code::UnknownProperty, Span::new(0, 1), "unknown `a\nb\t`")
                .with_help("did you mean `x\r`?");
        assert_eq!(diagnostic.message, "unknown `a\\nb\\t`");
        assert_eq!(diagnostic.help.as_deref(), Some("did you mean `x\\r`?"));
    }

    #[test]
    fn control_characters_in_the_source_are_not_sent_to_the_terminal() {
        let source = "a\x1b[31mb";
        let diagnostic = Diagnostic::new(Code::JsonSyntax, Span::new(0, 1), "bad");
        let text = render(&[diagnostic], "t", source, RenderStyle::default());
        assert!(!text.contains('\x1b'), "{text:?}");
        assert!(text.contains("a\u{FFFD}[31mb"));
    }

    #[test]
    fn long_lines_show_a_window_around_the_caret() {
        let source = format!("{}X{}", "a".repeat(5000), "b".repeat(5000));
        let diagnostic = Diagnostic::new(Code::JsonSyntax, Span::new(5000, 5001), "bad");
        let text = render(&[diagnostic], "t", &source, RenderStyle::default());
        let lines: Vec<&str> = text.lines().collect();
        let shown = lines[3].split_once("| ").unwrap().1;
        let caret = lines[4].split_once("| ").unwrap().1;
        assert!(shown.starts_with('…') && shown.ends_with('…'), "{shown}");
        assert!(shown.chars().count() <= MAX_SHOWN_COLUMNS + 2);
        let caret_at = caret.find('^').unwrap();
        assert_eq!(shown.chars().nth(caret_at), Some('X'));
    }

    #[test]
    fn colour_only_when_asked() {
        let diagnostic = Diagnostic::new(Code::JsonSyntax, Span::new(0, 1), "bad");
        let plain = render(
            std::slice::from_ref(&diagnostic),
            "t",
            "x",
            RenderStyle::default(),
        );
        let coloured = render(&[diagnostic], "t", "x", RenderStyle { color: true });
        assert!(!plain.contains('\x1b'));
        assert!(coloured.contains("\x1b[1;31m"));
    }
}
