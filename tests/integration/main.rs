//! rally's integration tests, in one binary so they link once. Each module tests one area:
//!
//! - `fixtures`: every rule set under `fixtures/rulesets/` validates and round-trips; every
//!   file under `fixtures/rulesets/invalid/` yields its diagnostic and matches its snapshot;
//! - `examples`: FlexMatch's 11 published examples validate and round-trip;
//! - `docs`: the examples in `docs/dsl.md` mean what the page says;
//! - `cli`: `rally validate` and `rally convert` as a user runs them;
//! - `matching_cli`: `rally match` and `rally bench` as a user runs them;
//! - `place_cli`: `rally place` on the placement fixtures and on bad input;
//! - `loadgen`: `rally loadgen` against servers started in the test, on loopback;
//! - `modules`: no core crate's modules import one another in a cycle.

mod cli;
mod docs;
mod examples;
mod fixtures;
mod loadgen;
mod matching_cli;
mod modules;
mod place_cli;
mod simulate_cli;
mod support;
