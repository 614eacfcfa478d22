//! The batch matcher: tickets, ticket pools, and forming matches from a pool under a compiled
//! rule set.
//!
//! | module | what lives there |
//! | --- | --- |
//! | [`ticket`] | tickets as backends submit them (GameLift shapes), read from JSON Lines |
//! | [`pool`] | the pool: tickets resolved against a rule set, with why a ticket can never match |

pub mod pool;
pub mod ticket;
