#![warn(unreachable_pub)]
//! The batch matcher: tickets, ticket pools, and forming matches from a pool under a compiled
//! rule set.
//!
//! | module | what lives there |
//! | --- | --- |
//! | [`ticket`] | tickets as the matcher takes them; [`ticket::json`] reads GameLift's JSON Lines into them |
//! | [`interner`] | strings numbered as first seen, forgotten when no ticket holds them |
//! | [`pooled`] | a ticket as the pool holds it, and what reading one needs of its pool |
//! | [`pool`] | the pool: tickets resolved against a rule set, with why a ticket can never match |
//! | [`params`] | the rule set's relaxable values at a given age (expansions) |
//! | [`compare`] | how a rule compares numbers, shared by the judge and the filters |
//! | [`eval`] | whether one concrete match satisfies the rule set, and where it can be played |
//! | [`analysis`] | filters the rules imply for every part of a match, found before matching |
//! | [`filters`] | those filters' state for a ticket or a growing set, and joining them |
//! | [`index`] | the batch's tickets partitioned and sorted, so anchors find partners nearby |
//! | [`matches`] | a match: its id, its tickets on teams, where it can be played |
//! | [`assign`] | putting a set of tickets on teams: search, fill order, balancing |
//! | [`batch`] | one batch: anchor order, the two phases, the matches formed |
//! | [`search`] | one group's search: candidates around each anchor, gathered and judged |
//! | [`standing`] | a standing pool: tickets kept from batch to batch, batches that search where something changed |
//! | [`repair`] | augmenting paths that give stranded tickets of a batch of pairs a partner |
//! | [`explain`] | why a ticket waits; rule pass/fail counts |
//! | [`generate`] | realistic tickets for any rule set (bench, tests; feature `tools`) |
//! | [`quality`] | upper bounds on the matches a pool allows, to measure batches against (feature `tools`) |
//!
//! The crate does no I/O and reads no clock: the batch's time and seed are parameters, and
//! the same pool, time and seed give the same matches.

pub(crate) mod analysis;
pub(crate) mod assign;
pub mod batch;
pub(crate) mod compare;
pub(crate) mod eval;
pub mod explain;
pub(crate) mod filters;
#[cfg(feature = "tools")]
pub mod generate;
pub(crate) mod index;
pub(crate) mod interner;
pub mod matches;
pub(crate) mod parallel;
pub(crate) mod params;
pub mod pool;
pub(crate) mod pooled;
#[cfg(feature = "tools")]
pub mod quality;
pub(crate) mod repair;
pub(crate) mod search;
pub mod standing;
pub mod ticket;
