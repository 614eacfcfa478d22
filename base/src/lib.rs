//! The vocabulary rally's core crates share, so that the matchmaker, placement and the
//! engine over them speak of time, locations and errors the same way.
//!
//! | module | what lives there |
//! | --- | --- |
//! | [`time`] | `Seconds` and `Time`, a point on the engine's clock that orders totally |
//! | [`location`] | `LocationId`, a location's number |
//! | [`error`] | `ErrorKind`: what kind of refusal an error is, for front ends to map once |

#![warn(unreachable_pub)]

pub mod error;
pub mod location;
pub mod time;

pub use error::ErrorKind;
pub use location::LocationId;
pub use time::{Seconds, Time};
