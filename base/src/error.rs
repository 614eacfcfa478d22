//! What kind of refusal an error is. Each crate's errors say which field was wrong and how;
//! the kind is what a front end needs to answer with one table (a gRPC status code, an HTTP
//! status, an exit code) without reading messages.

/// The kind of a refused request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The request names something that does not exist (a ticket, a fleet, a queue).
    NotFound,
    /// The request would create something that already exists (a ticket id, a player
    /// already in another ticket).
    AlreadyExists,
    /// The request itself is malformed or contradicts the configuration; the error's field
    /// says where.
    InvalidArgument,
    /// The request is well formed but the state it acts on does not allow it now (cancelling
    /// a placement that has ended).
    FailedPrecondition,
}

impl ErrorKind {
    /// The kind's name, as front ends log it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not found",
            ErrorKind::AlreadyExists => "already exists",
            ErrorKind::InvalidArgument => "invalid argument",
            ErrorKind::FailedPrecondition => "failed precondition",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
