//! Game-session placement: which fleet and location host each match, by GameLift's queue
//! semantics, with rally's opt-in extensions.
//!
//! | module | what lives there |
//! | --- | --- |
//! | [`model`] | fleets, queues, placement requests and statuses |
//! | [`placer`] | fleets and queues and their administration, the placement decision, pending requests, events, retention |
//! | [`reason`] | why a placement ended without a game session, by the rules that ruled out its candidates |
//! | [`json`] | GameLift's JSON shapes (fleets, `CreateGameSessionQueue`, `StartGameSessionPlacement`, events) |
//! | [`error`] | the error every input check returns |
//!
//! The crate does no I/O and reads no clock: every operation takes the time, and the only
//! randomness (weighted spreading) comes from a generator seeded by the caller.

#![warn(unreachable_pub)]

pub mod error;
pub mod json;
pub mod model;
pub mod placer;
pub mod reason;

pub use error::PlacementError;
pub use placer::{EventKind, PlacementEvent, PlacementKey, Placer, Retention};
pub use reason::Reason;
