//! Game-session placement: which fleet and location host each match, by GameLift's queue
//! semantics, with rally's opt-in extensions.
//!
//! | module | what lives there |
//! | --- | --- |
//! | [`model`] | fleets, queues, placement requests and statuses |
//! | [`placer`] | capacity, the placement decision, pending requests, events |
//! | [`json`] | GameLift's JSON shapes (fleets, `CreateGameSessionQueue`, `StartGameSessionPlacement`, events) |
//! | [`error`] | the error every input check returns |
//!
//! The crate does no I/O and reads no clock: every operation takes the time, and the only
//! randomness (weighted spreading) comes from a generator seeded by the caller.

pub mod error;
pub mod json;
pub mod model;
pub mod placer;

pub use error::PlacementError;
pub use placer::{EventKind, PlacementEvent, PlacementKey, Placer};
