//! The batch matcher: tickets, ticket pools, and forming matches from a pool under a compiled
//! rule set.
//!
//! | module | what lives there |
//! | --- | --- |
//! | [`ticket`] | tickets as backends submit them (GameLift shapes), read from JSON Lines |
//! | [`pool`] | the pool: tickets resolved against a rule set, with why a ticket can never match |
//! | [`params`] | the rule set's relaxable values at a given age (expansions) |
//! | [`eval`] | whether one concrete match satisfies the rule set, and where it can be played |

pub mod eval;
pub mod params;
pub mod pool;
pub mod ticket;
