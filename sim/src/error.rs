//! What can stop a simulation: a trace entry out of order, or a setup the engine refuses.

use rally_base::Seconds;

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SimError {
    /// Trace entries must come in time order.
    #[error(
        "line {line}: `t` is {t}, before the previous line's {previous}: lines must be in time order"
    )]
    OutOfOrder {
        line: usize,
        t: Seconds,
        previous: Seconds,
    },
    /// A trace line that is not an entry.
    #[error("line {line}: {message}")]
    BadLine { line: usize, message: String },
    /// The engine refused the simulation's resources.
    #[error("{0}")]
    Setup(String),
}
