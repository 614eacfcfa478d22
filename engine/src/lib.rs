//! rally's engine: everything that happens to a matchmaking ticket after `StartMatchmaking`
//! — statuses, request timeouts, acceptance, backfill, turning a match into a placement,
//! connection info, the events — over the standing-pool matchmaker and the placer. Sans-IO:
//! commands in, events out, time a parameter. `rally serve` drives it from tokio, `rally
//! simulate` in virtual time; neither holds any of the lifecycle.
//!
//! | module | what lives there |
//! | --- | --- |
//! | `engine/mod.rs` | the [`Engine`]'s state, its timers and clock, queries |
//! | `engine/lifecycle.rs` | commands: a ticket arriving, stopped, timed out, sent back to the pool |
//! | `engine/matching.rs` | batches (taken off the engine to run anywhere), proposals, acceptance |
//! | `engine/placing.rs` | a match's placement, the placer's events, addresses and ports, the Placement API |
//! | `engine/admin.rs` | rule sets, configurations, queues, fleets |
//! | `config`, `rule_sets`, `fleets`, `tickets`, `placements`, `events` | the domain types |
//! | `error` | [`EngineError`]: a kind, a field, a message |
//! | `trace` | the trace format: recorded commands as JSON Lines |

#![warn(unreachable_pub)]

pub mod config;
mod engine;
pub mod error;
pub mod events;
pub mod fleets;
pub mod placements;
pub mod rule_sets;
pub mod tickets;
pub mod trace;

pub use config::{BackfillMode, Configuration, FlexMatchMode, GameProperty};
pub use engine::{
    AcceptMatch, AcceptanceType, BatchDone, BatchJob, Command, DUPLICATE_PLAYER, Reply,
    StartMatchBackfill, StartMatchmaking,
};
pub use engine::{Engine, EngineOptions};
pub use error::EngineError;
pub use events::Event;
pub use placements::PlacementView;
pub use tickets::{TicketStatus, TicketView};
