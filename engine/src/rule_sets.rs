//! Matchmaking rule sets as the engine stores them: the body as sent (FlexMatch JSON or the
//! rally DSL), its compiled form, a version that grows with each in-place replacement, and
//! the diagnostics `rally validate` gives for a body.

use std::sync::Arc;

use rally_base::Seconds;
use rally_rules::diagnostic::DiagnosticRecord;
use rally_rules::span::LineIndex;
use rally_rules::{RuleSet, Severity, SourceFormat, check_source};

use crate::config::{check_length, check_name};
use crate::error::EngineError;
pub use crate::error::RuleSetDiagnostic;

/// FlexMatch's limit on a rule-set body (`RuleSetBody`, 1 to 65,535 characters).
pub const BODY_MAX_CHARS: usize = 65_535;

/// A rule set the engine holds.
#[derive(Clone, Debug)]
pub struct StoredRuleSet {
    pub name: String,
    pub body: String,
    pub format: SourceFormat,
    pub rule_set: Arc<RuleSet>,
    /// 1 when created; each in-place replacement adds one.
    pub version: u64,
    pub creation_time: Seconds,
    /// When the current version replaced the last.
    pub update_time: Seconds,
}

/// What checking a body found: the compiled rule set when it has no error, and every
/// diagnostic, errors and warnings, in source order.
#[derive(Clone, Debug)]
pub struct Validation {
    pub format: SourceFormat,
    pub rule_set: Option<RuleSet>,
    pub diagnostics: Vec<RuleSetDiagnostic>,
}

impl Validation {
    pub fn is_valid(&self) -> bool {
        self.rule_set.is_some()
    }
}

/// Checks a body in either format (told apart by its first character, as `rally validate`
/// does for standard input).
pub fn validate(body: &str) -> Validation {
    let format = SourceFormat::detect(None, body);
    let checked = check_source(body, format);
    let index = LineIndex::new(body);
    let diagnostics = checked
        .diagnostics
        .iter()
        .map(|diagnostic| {
            let record = DiagnosticRecord::new(diagnostic, &index);
            RuleSetDiagnostic {
                code: record.code.to_string(),
                severity: record.severity,
                message: record.message,
                line: record.line,
                column: record.column,
                help: record.help,
            }
        })
        .collect();
    Validation {
        format,
        rule_set: checked.rule_set,
        diagnostics,
    }
}

/// A body compiled for storing under `name`, or the refusal with its diagnostics.
pub(crate) fn compile(name: &str, body: &str) -> Result<(SourceFormat, RuleSet), EngineError> {
    check_name("Name", name)?;
    check_length("RuleSetBody", body, BODY_MAX_CHARS)?;
    let validation = validate(body);
    match validation.rule_set {
        Some(rule_set) => Ok((validation.format, rule_set)),
        None => {
            let errors: Vec<RuleSetDiagnostic> = validation
                .diagnostics
                .into_iter()
                .filter(|d| d.severity == Severity::Error)
                .collect();
            let first = errors.first().map_or_else(String::new, |d| {
                format!(": {}:{}: {}", d.line, d.column, d.message)
            });
            let mut error = EngineError::invalid(
                "RuleSetBody",
                format!(
                    "rule set `{name}` does not validate ({} errors){first}",
                    errors.len()
                ),
            );
            error.diagnostics = errors;
            Err(error)
        }
    }
}
