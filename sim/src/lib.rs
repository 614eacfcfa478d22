//! rally's simulator: a trace of matchmaking traffic replayed through the same engine,
//! matcher and placer `rally serve` runs, in virtual time — a discrete-event loop with no
//! clock, no sleeps and no I/O. Players accept matches and play game sessions as seeded
//! models say; what happened comes back as a [`Report`]. Same trace, models and seed: the
//! same report, byte for byte.
//!
//! | module | what lives there |
//! | --- | --- |
//! | `simulation` | [`Simulation`]: the loop (trace entries in, in time order; the engine's timers and batches, the players' answers and the game sessions' ends between them) |
//! | `behaviour` | [`Behaviour`]: how players answer acceptance and how long game sessions last |
//! | `agenda` | what the simulated players and game servers will do, by time |
//! | `facts` | what the report needs of each live ticket: start, party, skill, latencies |
//! | `metrics` | the tallies the engine's events feed |
//! | `report` | [`Report`]: the figures, serialisable |
//! | `compare` | A/B: each variant's differences that matter against the baseline |
//! | `error` | [`SimError`] |
//! | `traffic` | generated traces: arrivals on a diurnal curve, realistic tickets, give-ups |

#![warn(unreachable_pub)]

mod agenda;
pub mod behaviour;
pub mod compare;
pub mod error;
mod facts;
mod metrics;
pub mod report;
mod simulation;
pub mod traffic;

pub use behaviour::Behaviour;
pub use error::SimError;
pub use report::Report;
pub use simulation::{SAMPLE_INTERVAL, Simulation, read_line};
