//! Matchmaking tickets as the matcher takes them: an id, a start time, and players with
//! attribute values of the rule-set model (`AttributeValue`), latencies and, on a backfill
//! ticket, the teams they already play on; and what is wrong with one. Wire shapes are read
//! at the edge: [`json`] reads GameLift's JSON Lines into a [`NewTicket`].
//!
//! Error paths name the fields of GameLift's `StartMatchmaking` request
//! (`Players[0].PlayerAttributes.skill`), which every front end's requests follow.

pub mod conform;
pub mod json;
pub mod limits;

pub use conform::check_conforms;

use std::collections::BTreeMap;
use std::fmt;

use rally_base::{ErrorKind, Seconds};
use rally_rules::model::AttributeValue;

/// A ticket not yet in a pool, as a front end submits it (`Pool::insert` takes it).
#[derive(Clone, Debug, PartialEq)]
pub struct NewTicket {
    pub id: String,
    /// Seconds on the caller's clock; the ticket's age is measured from it.
    pub start_time: Seconds,
    pub players: Vec<NewPlayer>,
    /// Set on a backfill ticket: the running game session it fills.
    pub game_session_arn: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewPlayer {
    pub id: String,
    /// A string list may repeat an item (FlexMatch reads it once); a string-number map's keys
    /// are distinct, in any order.
    pub attributes: BTreeMap<String, AttributeValue>,
    /// Round-trip latency in milliseconds to each location the player can reach.
    pub latencies: BTreeMap<String, u32>,
    /// On a backfill ticket, the team the player is already on.
    pub team: Option<String>,
}

impl NewTicket {
    pub fn is_backfill(&self) -> bool {
        self.game_session_arn.is_some()
    }
}

impl NewPlayer {
    /// A player with no attributes, latencies or team.
    pub fn new(id: impl Into<String>) -> NewPlayer {
        NewPlayer {
            id: id.into(),
            attributes: BTreeMap::new(),
            latencies: BTreeMap::new(),
            team: None,
        }
    }
}

/// What is wrong with a ticket, and where: a path such as `Players[0].PlayerAttributes.skill`,
/// and what kind of refusal it is, for front ends to map to a status.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct TicketError {
    pub kind: ErrorKind,
    pub path: String,
    pub message: String,
}

impl TicketError {
    pub fn new(
        kind: ErrorKind,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> TicketError {
        TicketError {
            kind,
            path: path.into(),
            message: message.into(),
        }
    }

    /// The ticket is malformed or contradicts the configuration at `path`.
    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> TicketError {
        TicketError::new(ErrorKind::InvalidArgument, path, message)
    }
}

impl fmt::Display for TicketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "`{}`: {}", self.path, self.message)
        }
    }
}
