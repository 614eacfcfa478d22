//! The one error the placement crate returns: what kind of refusal it is, which field of which
//! input is wrong, and how.

pub use rally_base::ErrorKind;

/// An input the placer refuses. What it asked for does not happen when one is returned;
/// only time moves on to the `now` given (what was due by then happens, see
/// [`crate::Placer::advance`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", location(*line, field))]
pub struct PlacementError {
    /// What kind of refusal this is, for a front end to map to a status code.
    pub kind: ErrorKind,
    /// The line of the input, when it has lines that matter (JSON Lines, or a JSON document).
    pub line: Option<usize>,
    /// The field, as a path in GameLift's shape (`PlayerLatencies[2].RegionIdentifier`).
    pub field: String,
    pub message: String,
}

fn location(line: Option<usize>, field: &str) -> String {
    match (line, field.is_empty()) {
        (Some(line), true) => format!("line {line}: "),
        (Some(line), false) => format!("line {line}, `{field}`: "),
        (None, true) => String::new(),
        (None, false) => format!("`{field}`: "),
    }
}

impl PlacementError {
    pub fn new(
        kind: ErrorKind,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> PlacementError {
        PlacementError {
            kind,
            line: None,
            field: field.into(),
            message: message.into(),
        }
    }

    /// Malformed input, or input that contradicts the configuration.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> PlacementError {
        PlacementError::new(ErrorKind::InvalidArgument, field, message)
    }

    /// An id `field` names nothing the placer holds (a fleet, location, queue or placement).
    pub fn not_found(field: impl Into<String>, message: impl Into<String>) -> PlacementError {
        PlacementError::new(ErrorKind::NotFound, field, message)
    }

    /// An id `field` gives is already taken.
    pub fn already_exists(field: impl Into<String>, message: impl Into<String>) -> PlacementError {
        PlacementError::new(ErrorKind::AlreadyExists, field, message)
    }

    /// Well formed, but the state it acts on does not allow it now.
    pub fn failed_precondition(
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> PlacementError {
        PlacementError::new(ErrorKind::FailedPrecondition, field, message)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// `value` when it is a number of at least 0; otherwise an error naming `field`, with
    /// `noun` saying what the value is ("latency", "cost").
    pub fn at_least_zero(
        value: f64,
        field: impl Into<String>,
        noun: &str,
    ) -> Result<f64, PlacementError> {
        if value.is_finite() && value >= 0.0 {
            Ok(value)
        } else {
            Err(PlacementError::invalid(
                field,
                format!("expected a {noun} of at least 0, found `{value}`"),
            ))
        }
    }

    pub fn at_line(mut self, line: usize) -> PlacementError {
        self.line = Some(line);
        self
    }

    /// The field as seen from an enclosing value (`[3]` + `.FleetId`).
    pub fn within(mut self, prefix: &str) -> PlacementError {
        self.field = match (prefix.is_empty(), self.field.is_empty()) {
            (true, _) => self.field,
            (false, true) => prefix.to_string(),
            (false, false) if self.field.starts_with('[') => format!("{prefix}{}", self.field),
            (false, false) => format!("{prefix}.{}", self.field),
        };
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_line_and_the_field() {
        let error = PlacementError::invalid("HourlyCost", "expected a number").within("[2]");
        assert_eq!(error.kind(), ErrorKind::InvalidArgument);
        assert_eq!(error.to_string(), "`[2].HourlyCost`: expected a number");
        assert_eq!(
            error.at_line(7).to_string(),
            "line 7, `[2].HourlyCost`: expected a number"
        );
        assert_eq!(
            PlacementError::invalid("", "expected a value")
                .at_line(3)
                .to_string(),
            "line 3: expected a value"
        );
    }
}
