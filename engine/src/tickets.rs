//! Matchmaking tickets as the engine tracks them through their life: status and why, the
//! request as sent (so a ticket can go back to the pool, or to a new rule-set version, as it
//! came), the match it joined, and what a caller sees of it (`TicketView`).

use std::sync::Arc;

use rally_base::Seconds;
use rally_matchmaker::ticket::{NewPlayer, NewTicket};
use rally_rules::model::AttributeValue;

/// GameLift's limit on ticket ids per `DescribeMatchmaking`.
pub const DESCRIBE_MAX_TICKETS: usize = 10;
/// GameLift's limit on a game session's players.
pub const MAX_PLAYERS_PER_SESSION: u32 = 200;

/// GameLift's `MatchmakingConfigurationStatus`, a ticket's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TicketStatus {
    Queued,
    Searching,
    RequiresAcceptance,
    Placing,
    Completed,
    Failed,
    Cancelled,
    TimedOut,
}

impl TicketStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Queued => "QUEUED",
            TicketStatus::Searching => "SEARCHING",
            TicketStatus::RequiresAcceptance => "REQUIRES_ACCEPTANCE",
            TicketStatus::Placing => "PLACING",
            TicketStatus::Completed => "COMPLETED",
            TicketStatus::Failed => "FAILED",
            TicketStatus::Cancelled => "CANCELLED",
            TicketStatus::TimedOut => "TIMED_OUT",
        }
    }

    /// COMPLETED, FAILED, CANCELLED and TIMED_OUT: the ticket will not change again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TicketStatus::Completed
                | TicketStatus::Failed
                | TicketStatus::Cancelled
                | TicketStatus::TimedOut
        )
    }
}

impl std::fmt::Display for TicketStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A player's seat in a game session (`MatchedPlayerSession`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlayerSession {
    pub player_id: String,
    pub player_session_id: String,
}

/// Where a completed ticket's players connect (`GameSessionConnectionInfo`). STANDALONE
/// matches have no game session: only the locations the match can be played in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConnectionInfo {
    pub game_session_arn: Option<String>,
    pub ip_address: Option<String>,
    pub dns_name: Option<String>,
    pub port: Option<u16>,
    pub matched_player_sessions: Vec<PlayerSession>,
    /// rally: where the match can be played, nearest first (STANDALONE's suggestion).
    pub locations: Vec<String>,
}

/// What `DescribeMatchmaking` shows of a ticket.
#[derive(Clone, Debug, PartialEq)]
pub struct TicketView {
    pub ticket_id: String,
    pub configuration_name: String,
    pub status: TicketStatus,
    pub status_reason: Option<String>,
    pub status_message: Option<String>,
    pub start_time: Seconds,
    pub end_time: Option<Seconds>,
    /// The players as sent, each with the team the match put them on.
    pub players: Vec<ViewPlayer>,
    pub match_id: Option<String>,
    pub connection: Option<ConnectionInfo>,
    /// Why a searching ticket waits, in words, when asked for.
    pub waiting_reasons: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ViewPlayer {
    pub player: NewPlayer,
    pub team: Option<String>,
}

/// A ticket's request as the engine keeps it while the ticket lives: compact (a million
/// searching tickets are held at once), each player's values in sorted boxed slices rather
/// than maps. A pool is handed the request rebuilt (`ticket`), a transient copy.
#[derive(Debug)]
pub(crate) struct StoredRequest {
    /// The ticket's; kept when it goes back to the pool.
    pub(crate) start_time: Seconds,
    pub(crate) players: Box<[StoredPlayer]>,
    pub(crate) game_session_arn: Option<Box<str>>,
}

#[derive(Debug)]
pub(crate) struct StoredPlayer {
    /// Shared with the engine's table of searching players.
    pub(crate) id: Arc<str>,
    attributes: Box<[(Box<str>, AttributeValue)]>,
    pub(crate) latencies: Box<[(Box<str>, u32)]>,
    pub(crate) team: Option<Box<str>>,
}

impl StoredRequest {
    pub(crate) fn new(ticket: &NewTicket) -> StoredRequest {
        let players = ticket
            .players
            .iter()
            .map(|p| StoredPlayer {
                id: p.id.as_str().into(),
                attributes: p
                    .attributes
                    .iter()
                    .map(|(k, v)| (k.as_str().into(), v.clone()))
                    .collect(),
                latencies: p
                    .latencies
                    .iter()
                    .map(|(k, v)| (k.as_str().into(), *v))
                    .collect(),
                team: p.team.as_deref().map(Box::from),
            })
            .collect();
        StoredRequest {
            start_time: ticket.start_time,
            players,
            game_session_arn: ticket.game_session_arn.as_deref().map(Box::from),
        }
    }

    /// The request rebuilt, as sent.
    pub(crate) fn ticket(&self, id: &str) -> NewTicket {
        NewTicket {
            id: id.to_string(),
            start_time: self.start_time,
            players: self.players.iter().map(StoredPlayer::player).collect(),
            game_session_arn: self.game_session_arn.as_deref().map(str::to_string),
        }
    }
}

impl StoredPlayer {
    pub(crate) fn player(&self) -> NewPlayer {
        NewPlayer {
            id: self.id.to_string(),
            attributes: self
                .attributes
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            latencies: self
                .latencies
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            team: self.team.as_deref().map(str::to_string),
        }
    }
}

/// A ticket in the engine.
#[derive(Debug)]
pub(crate) struct TicketRecord {
    pub(crate) id: Arc<str>,
    pub(crate) configuration: Arc<str>,
    pub(crate) request: StoredRequest,
    pub(crate) status: TicketStatus,
    pub(crate) status_reason: Option<String>,
    pub(crate) status_message: Option<String>,
    pub(crate) end_time: Option<Seconds>,
    /// The match it is in, while proposed or placing, and once completed.
    pub(crate) match_id: Option<Arc<str>>,
    /// Each player's team once matched, in `request.players`' order.
    pub(crate) teams: Vec<Option<Arc<str>>>,
    pub(crate) connection: Option<Arc<ConnectionInfo>>,
    /// Counts the times the ticket went back to the pool, so a stale timer can tell.
    pub(crate) round: u32,
}

impl TicketRecord {
    pub(crate) fn view(&self) -> TicketView {
        TicketView {
            ticket_id: self.id.to_string(),
            configuration_name: self.configuration.to_string(),
            status: self.status,
            status_reason: self.status_reason.clone(),
            status_message: self.status_message.clone(),
            start_time: self.request.start_time,
            end_time: self.end_time,
            players: self
                .request
                .players
                .iter()
                .enumerate()
                .map(|(i, player)| ViewPlayer {
                    player: player.player(),
                    team: self
                        .teams
                        .get(i)
                        .cloned()
                        .flatten()
                        .map(|t| t.to_string())
                        .or_else(|| player.team.as_deref().map(str::to_string)),
                })
                .collect(),
            match_id: self.match_id.as_deref().map(str::to_string),
            connection: self.connection.as_deref().cloned(),
            waiting_reasons: Vec::new(),
        }
    }
}
