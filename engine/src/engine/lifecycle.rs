//! A ticket's way from `StartMatchmaking` to a final status: arriving (limits, the rule set,
//! duplicate players), leaving (stopped, timed out, replaced), and going back to the pool
//! when the match it was in falls through.

use std::sync::Arc;

use rally_base::Seconds;
use rally_matchmaker::ticket::limits::PLAYERS_PER_BACKFILL_TICKET;
use rally_matchmaker::ticket::{NewPlayer, NewTicket, check_conforms};

use super::Engine;
use super::Timer;
use crate::error::EngineError;
use crate::events::{EventPlayer, EventTicket, MatchmakingEvent, MatchmakingEventType};
use crate::tickets::{StoredRequest, TicketRecord, TicketStatus, TicketView};

/// `StartMatchmaking`.
#[derive(Clone, Debug, PartialEq)]
pub struct StartMatchmaking {
    /// Generated (a UUID) when absent.
    pub ticket_id: Option<String>,
    pub configuration_name: String,
    pub players: Vec<NewPlayer>,
}

/// `StartMatchBackfill`: the players already in a game session, on their teams.
#[derive(Clone, Debug, PartialEq)]
pub struct StartMatchBackfill {
    pub ticket_id: Option<String>,
    pub configuration_name: String,
    /// Omitted in STANDALONE, where the game session is the caller's own.
    pub game_session_arn: Option<String>,
    pub players: Vec<NewPlayer>,
}

/// `AcceptMatch`'s `AcceptanceType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcceptanceType {
    Accept,
    Reject,
}

/// `AcceptMatch`.
#[derive(Clone, Debug, PartialEq)]
pub struct AcceptMatch {
    pub ticket_id: String,
    pub player_ids: Vec<String>,
    pub acceptance_type: AcceptanceType,
}

/// The commands game backends send, the ones a trace records and the simulator replays.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    StartMatchmaking(StartMatchmaking),
    StopMatchmaking { ticket_id: String },
    AcceptMatch(AcceptMatch),
    StartMatchBackfill(StartMatchBackfill),
}

/// What a command returns.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// The ticket created.
    Ticket(Box<TicketView>),
    /// Done; nothing to return.
    Done,
}

/// Why a ticket that found a newer ticket for one of its players ended.
pub const DUPLICATE_PLAYER: &str = "Cancelled due to duplicate player";

impl Engine {
    /// Runs one command at `now`.
    pub fn handle(&mut self, now: Seconds, command: Command) -> Result<Reply, EngineError> {
        match command {
            Command::StartMatchmaking(request) => self
                .start_matchmaking(now, request)
                .map(|v| Reply::Ticket(Box::new(v))),
            Command::StopMatchmaking { ticket_id } => {
                self.stop_matchmaking(now, &ticket_id).map(|()| Reply::Done)
            }
            Command::AcceptMatch(request) => self.accept_match(now, request).map(|()| Reply::Done),
            Command::StartMatchBackfill(request) => self
                .start_match_backfill(now, request)
                .map(|v| Reply::Ticket(Box::new(v))),
        }
    }

    /// `StartMatchmaking`: the ticket is QUEUED for its configuration's next batch. A ticket
    /// naming a player another ticket is searching for ends that ticket (CANCELLED, "Cancelled
    /// due to duplicate player"), as GameLift does.
    pub fn start_matchmaking(
        &mut self,
        now: Seconds,
        request: StartMatchmaking,
    ) -> Result<TicketView, EngineError> {
        self.advance(now);
        let ticket = NewTicket {
            id: self.ticket_id(request.ticket_id)?,
            start_time: now,
            players: request.players,
            game_session_arn: None,
        };
        self.admit(now, &request.configuration_name, ticket)
    }

    /// `StartMatchBackfill`: a ticket for a running game session's open slots. A game session
    /// has one backfill ticket in flight: a new one replaces the old.
    pub fn start_match_backfill(
        &mut self,
        now: Seconds,
        request: StartMatchBackfill,
    ) -> Result<TicketView, EngineError> {
        self.advance(now);
        if request.players.len() > PLAYERS_PER_BACKFILL_TICKET {
            return Err(EngineError::invalid(
                "Players",
                format!(
                    "expected at most {PLAYERS_PER_BACKFILL_TICKET} players, found {}",
                    request.players.len()
                ),
            ));
        }
        if let Some(i) = request.players.iter().position(|p| p.team.is_none()) {
            return Err(EngineError::invalid(
                &format!("Players[{i}].Team"),
                "a backfill request gives every player's team",
            ));
        }
        let mode = self
            .config_named(&request.configuration_name, "ConfigurationName")?
            .config
            .flex_match_mode;
        let arn = match request.game_session_arn {
            Some(arn) => arn,
            None if mode == crate::config::FlexMatchMode::Standalone => String::new(),
            None => {
                return Err(EngineError::invalid(
                    "GameSessionArn",
                    "a WITH_QUEUE configuration's backfill request names its game session",
                ));
            }
        };
        let ticket = NewTicket {
            id: self.ticket_id(request.ticket_id)?,
            start_time: now,
            players: request.players,
            // An empty ARN marks a STANDALONE game's backfill: the matcher needs to know it
            // is one, and the game session is the caller's own.
            game_session_arn: Some(arn),
        };
        self.admit(now, &request.configuration_name, ticket)
    }

    /// The id given, or a new UUID; one the engine holds (finished ones within their
    /// retention included) is refused.
    fn ticket_id(&mut self, given: Option<String>) -> Result<String, EngineError> {
        let id = match given {
            Some(id) => id,
            None => self.uuid(),
        };
        if self.tickets.contains_key(id.as_str()) {
            return Err(EngineError::already_exists(
                "TicketId",
                format!("ticket `{id}` exists already"),
            ));
        }
        Ok(id)
    }

    /// Checks a new ticket, then ends whatever it replaces and queues it.
    fn admit(
        &mut self,
        now: Seconds,
        configuration: &str,
        ticket: NewTicket,
    ) -> Result<TicketView, EngineError> {
        let state = self.config_named(configuration, "ConfigurationName")?;
        ticket.validate()?;
        check_conforms(&state.rule_set, &ticket)?;
        let name = state.name.clone();
        let timeout = state.config.request_timeout();
        self.end_replaced(now, &ticket);
        let id: Arc<str> = ticket.id.as_str().into();
        if let Some(arn) = ticket.game_session_arn.as_ref().filter(|a| !a.is_empty()) {
            self.backfills.insert(arn.clone(), id.clone());
        }
        let request = StoredRequest::new(&ticket);
        for player in &request.players {
            self.players.insert(player.id.clone(), id.clone());
        }
        let record = TicketRecord {
            id: id.clone(),
            configuration: name.clone(),
            teams: Vec::new(),
            request,
            status: TicketStatus::Queued,
            status_reason: None,
            status_message: None,
            end_time: None,
            match_id: None,
            connection: None,
            round: 0,
        };
        let view = record.view();
        self.tickets.insert(id.clone(), Box::new(record));
        self.queue(&name, id.clone(), now);
        let state = self.configs.get_mut(&*name).expect("checked above");
        state.active += 1;
        // Into the pool now, while the request is at hand, if no batch holds it: the batch
        // then only marks it SEARCHING. A refusal is left to the batch, which fails it.
        if let Some(matchmaker) = &mut state.matchmaker {
            let _ = matchmaker.insert(&ticket);
        }
        self.set_timer(now + timeout, Timer::RequestTimeout(id));
        Ok(view)
    }

    /// Ends the tickets a new one replaces: those searching for one of its players, and the
    /// backfill ticket in flight for its game session.
    fn end_replaced(&mut self, now: Seconds, ticket: &NewTicket) {
        let mut replaced: Vec<(Arc<str>, &str)> = Vec::new();
        for player in &ticket.players {
            if let Some(old) = self.players.get(player.id.as_str()) {
                replaced.push((old.clone(), DUPLICATE_PLAYER));
            }
        }
        if let Some(arn) = ticket.game_session_arn.as_ref().filter(|a| !a.is_empty())
            && let Some(old) = self.backfills.get(arn)
        {
            replaced.push((old.clone(), "Cancelled: replaced by a new backfill request"));
        }
        replaced.sort();
        replaced.dedup_by(|a, b| a.0 == b.0);
        for (old, reason) in replaced {
            self.end_ticket(
                now,
                &old,
                TicketStatus::Cancelled,
                "Cancelled",
                reason,
                MatchmakingEventType::MatchmakingCancelled,
            );
        }
    }

    /// Puts a ticket in line for its configuration's next batch.
    pub(crate) fn queue(&mut self, configuration: &str, id: Arc<str>, now: Seconds) {
        let state = self
            .configs
            .get_mut(configuration)
            .expect("a ticket's configuration outlives it");
        if !state.has_work() {
            state.next_batch = state.grid_at_or_after(now);
        }
        state.queued.push(id);
    }

    /// `StopMatchmaking`: CANCELLED, whatever the ticket is doing; a placement under way is
    /// stopped (GameLift refuses to stop a PLACING ticket; users hit that).
    pub fn stop_matchmaking(&mut self, now: Seconds, ticket_id: &str) -> Result<(), EngineError> {
        self.advance(now);
        let record = self.tickets.get(ticket_id).ok_or_else(|| {
            EngineError::not_found("TicketId", format!("no ticket `{ticket_id}`"))
        })?;
        if record.status.is_final() {
            return Err(EngineError::failed_precondition(
                "TicketId",
                format!("ticket `{ticket_id}` is {} already", record.status),
            ));
        }
        let id = record.id.clone();
        self.end_ticket(
            now,
            &id,
            TicketStatus::Cancelled,
            "Cancelled",
            "Cancelled by request.",
            MatchmakingEventType::MatchmakingCancelled,
        );
        Ok(())
    }

    /// A ticket's request timeout came: TIMED_OUT, unless it has ended.
    pub(crate) fn request_timed_out(&mut self, id: &Arc<str>, at: Seconds) {
        if self.tickets.get(id).is_some_and(|r| !r.status.is_final()) {
            self.end_ticket(
                at,
                id,
                TicketStatus::TimedOut,
                "TimedOut",
                "Removed from matchmaking due to timing out.",
                MatchmakingEventType::MatchmakingTimedOut,
            );
        }
    }

    /// Ends a ticket that has not ended, wherever it is: out of the pool, or out of its match
    /// (the match's other tickets go back to the pool, its placement is stopped).
    pub(crate) fn end_ticket(
        &mut self,
        now: Seconds,
        id: &Arc<str>,
        status: TicketStatus,
        reason: &str,
        message: &str,
        event_type: MatchmakingEventType,
    ) {
        let Some(record) = self.tickets.get(id) else {
            return;
        };
        let configuration = record.configuration.clone();
        match (record.status, record.match_id.clone()) {
            (TicketStatus::Queued | TicketStatus::Searching, _) => self.leave_pool(id),
            (TicketStatus::RequiresAcceptance | TicketStatus::Placing, Some(match_id)) => {
                self.dissolve(now, &match_id, id);
            }
            (TicketStatus::RequiresAcceptance | TicketStatus::Placing, None) => {}
            _ => return,
        }
        let mut event = MatchmakingEvent::new(event_type, now, &configuration);
        self.finish_ticket(now, id, status, Some(reason), Some(message));
        let record = &self.tickets[id];
        event.tickets.push(event_ticket(record, false));
        event.match_id = record.match_id.as_deref().map(str::to_string);
        event.reason = Some(reason.to_string());
        event.message = Some(message.to_string());
        self.emit(event);
    }

    /// Marks a ticket final: its players may search again, its configuration has one active
    /// ticket fewer, and it is forgotten after the retention.
    pub(crate) fn finish_ticket(
        &mut self,
        now: Seconds,
        id: &Arc<str>,
        status: TicketStatus,
        reason: Option<&str>,
        message: Option<&str>,
    ) {
        let record = self.tickets.get_mut(id).expect("a ticket being finished");
        record.status = status;
        record.end_time = Some(now);
        record.status_reason = reason.map(str::to_string);
        record.status_message = message.map(str::to_string);
        for player in &record.request.players {
            if self.players.get(&*player.id) == Some(id) {
                self.players.remove(&*player.id);
            }
        }
        if let Some(arn) = &record.request.game_session_arn
            && self.backfills.get(&**arn) == Some(id)
        {
            self.backfills.remove(&**arn);
        }
        if let Some(state) = self.configs.get_mut(&*record.configuration) {
            state.active -= 1;
        }
        let forget_at = now + self.options.retention;
        self.set_timer(forget_at, Timer::Forget(id.clone()));
    }

    /// Takes a waiting ticket out of its pool, now or when the batch holding it returns.
    fn leave_pool(&mut self, id: &Arc<str>) {
        let configuration = self.tickets[id].configuration.clone();
        let state = self
            .configs
            .get_mut(&*configuration)
            .expect("a ticket's configuration outlives it");
        match &mut state.matchmaker {
            Some(matchmaker) => {
                if let Some(key) = matchmaker.pool().key_of(id) {
                    matchmaker.remove(key);
                }
            }
            None => state.leaving.push(id.clone()),
        }
    }

    /// Sends tickets of a match that fell through back to the pool, with their start times,
    /// and says so (`MatchmakingSearching`).
    pub(crate) fn return_to_pool(&mut self, now: Seconds, ids: &[Arc<str>], reason: &str) {
        let Some(first) = ids.first() else {
            return;
        };
        let configuration = self.tickets[first].configuration.clone();
        let mut event = MatchmakingEvent::new(
            MatchmakingEventType::MatchmakingSearching,
            now,
            &configuration,
        );
        for id in ids {
            let record = self.tickets.get_mut(id).expect("a ticket of the match");
            record.status = TicketStatus::Searching;
            record.status_reason = Some(reason.to_string());
            record.match_id = None;
            record.teams.clear();
            record.connection = None;
            record.round += 1;
            event.tickets.push(event_ticket(record, false));
            self.queue(&configuration, id.clone(), now);
        }
        event.reason = Some(reason.to_string());
        self.emit(event);
    }

    /// Records an event, with its configuration's custom data.
    pub(crate) fn emit(&mut self, mut event: MatchmakingEvent) {
        event.custom_event_data = self
            .configs
            .get(event.configuration_name.as_str())
            .and_then(|state| state.config.custom_event_data.clone());
        self.events.push(crate::events::Event::Matchmaking(event));
    }
}

/// A ticket as events list it: its players, with their teams once matched and, with
/// `sessions`, their player sessions.
pub(crate) fn event_ticket(record: &TicketRecord, sessions: bool) -> EventTicket {
    let session_of = |player_id: &str| {
        record.connection.as_ref().and_then(|c| {
            c.matched_player_sessions
                .iter()
                .find(|s| s.player_id == player_id)
                .map(|s| s.player_session_id.clone())
        })
    };
    EventTicket {
        ticket_id: record.id.to_string(),
        start_time: record.request.start_time,
        players: record
            .request
            .players
            .iter()
            .enumerate()
            .map(|(i, player)| EventPlayer {
                player_id: player.id.to_string(),
                team: record
                    .teams
                    .get(i)
                    .cloned()
                    .flatten()
                    .map(|t| t.to_string())
                    .or_else(|| player.team.as_deref().map(str::to_string)),
                player_session_id: if sessions {
                    session_of(&player.id)
                } else {
                    None
                },
                accepted: None,
            })
            .collect(),
    }
}
