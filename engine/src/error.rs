//! Why the engine refused a command: a kind for front ends to map to a status code in one
//! table, the field at fault, a one-line message and, for a rule set, its diagnostics.

use rally_base::ErrorKind;
use rally_matchmaker::ticket::TicketError;
use rally_placement::PlacementError;

use rally_rules::Severity;

/// A refused command. A refusal changes nothing: what the engine held before, it holds after.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct EngineError {
    pub kind: ErrorKind,
    /// The request's member at fault, in GameLift's names (`Players[0].PlayerId`), when one is.
    pub field: Option<String>,
    pub message: String,
    /// A rule set that does not validate: its errors, as `rally validate` gives them.
    pub diagnostics: Vec<RuleSetDiagnostic>,
}

impl EngineError {
    pub fn new(kind: ErrorKind, field: Option<&str>, message: impl Into<String>) -> EngineError {
        EngineError {
            kind,
            field: field.map(str::to_string),
            message: message.into(),
            diagnostics: Vec::new(),
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> EngineError {
        EngineError::new(ErrorKind::InvalidArgument, Some(field), message)
    }

    pub fn not_found(field: &str, message: impl Into<String>) -> EngineError {
        EngineError::new(ErrorKind::NotFound, Some(field), message)
    }

    pub fn already_exists(field: &str, message: impl Into<String>) -> EngineError {
        EngineError::new(ErrorKind::AlreadyExists, Some(field), message)
    }

    pub fn failed_precondition(field: &str, message: impl Into<String>) -> EngineError {
        EngineError::new(ErrorKind::FailedPrecondition, Some(field), message)
    }
}

impl From<TicketError> for EngineError {
    fn from(error: TicketError) -> EngineError {
        let field = (!error.path.is_empty()).then_some(error.path.as_str());
        EngineError::new(error.kind, field, error.message.clone())
    }
}

impl From<PlacementError> for EngineError {
    fn from(error: PlacementError) -> EngineError {
        let field = (!error.field.is_empty()).then_some(error.field.as_str());
        EngineError::new(error.kind, field, error.message.clone())
    }
}

/// One diagnostic of a rule-set body, positioned as `rally validate` positions it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSetDiagnostic {
    pub code: String,
    pub severity: Severity,
    pub message: String,
    /// 1-based.
    pub line: usize,
    pub column: usize,
    pub help: Option<String>,
}
