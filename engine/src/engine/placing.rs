//! Game sessions: a WITH_QUEUE match turned into a placement request, the placer's events
//! turned into completed tickets (or tickets searching again), the address and port each
//! placed session gets, and the `Placement` API over the same placer.

use std::sync::Arc;

use rally_base::{LocationId, Seconds};
use rally_placement::EventKind;
use rally_placement::json::game_session_arn;
use rally_placement::model::{DesiredPlayerSession, PlacementRequest};
use rally_placement::placer::Placement;

use super::Engine;
use crate::error::EngineError;
use crate::events::{Event, MatchmakingEventType, PlacementEvent, PlacementEventType};
use crate::placements::PlacementView;
use crate::tickets::{ConnectionInfo, PlayerSession, TicketStatus};

/// Where a running game session is: its fleet location and port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Seat {
    pub(crate) fleet_id: String,
    pub(crate) location: String,
    pub(crate) port: Option<u16>,
    pub(crate) game_session_arn: String,
}

impl Engine {
    /// A WITH_QUEUE match goes to its configuration's first queue, the players' latencies
    /// with it; its tickets are PLACING until the placement ends.
    pub(crate) fn place_match(&mut self, now: Seconds, match_id: &Arc<str>) {
        let proposal = &self.proposals[match_id];
        let state = &self.configs[&*proposal.configuration];
        let config = &state.config;
        let queue = config
            .game_session_queue_names
            .first()
            .cloned()
            .unwrap_or_default();
        let max_players = (state.rule_set.max_players() + config.additional_player_count)
            .min(crate::tickets::MAX_PLAYERS_PER_SESSION);
        let mut request = PlacementRequest::new(match_id.to_string(), queue, max_players);
        request.game_session_data = config.game_session_data.clone();
        request.game_properties = config
            .game_properties
            .iter()
            .map(|p| rally_placement::model::GameProperty {
                key: p.key.clone(),
                value: p.value.clone(),
            })
            .collect();
        for id in &proposal.tickets {
            for player in &self.tickets[id].request.players {
                let latencies: Vec<(LocationId, f64)> = player
                    .latencies
                    .iter()
                    .filter_map(|(region, ms)| {
                        Some((self.placer.locations().id(region)?, f64::from(*ms)))
                    })
                    .collect();
                request = request.with_player(&player.id, &latencies);
                request.desired_player_sessions.push(DesiredPlayerSession {
                    player_id: player.id.to_string(),
                    player_data: None,
                });
            }
        }
        for id in proposal.tickets.clone() {
            self.tickets.get_mut(&id).expect("held").status = TicketStatus::Placing;
        }
        if let Err(error) = self.placer.start(request, now) {
            self.placement_failed(now, match_id, &error.to_string());
        }
        self.drain_placer(now);
    }

    /// Turns the placer's events into the engine's, and ends or returns the matches they
    /// placed.
    pub(crate) fn drain_placer(&mut self, now: Seconds) {
        for event in self.placer.take_events() {
            let placement_id = self
                .placer
                .placement(event.placement)
                .request
                .placement_id
                .clone();
            if event.kind == EventKind::Fulfilled {
                self.seat(&placement_id);
            }
            let view = self
                .placement_view(&placement_id)
                .expect("an event's placement is held");
            let proposal = self.proposals.get(placement_id.as_str());
            let configuration_name = proposal.map(|p| p.configuration.to_string());
            let event_type = match event.kind {
                EventKind::Fulfilled => PlacementEventType::PlacementFulfilled,
                EventKind::Cancelled => PlacementEventType::PlacementCancelled,
                EventKind::TimedOut => PlacementEventType::PlacementTimedOut,
                EventKind::Failed => PlacementEventType::PlacementFailed,
            };
            self.events.push(Event::Placement(PlacementEvent {
                event_type,
                time: event.time,
                placement: view.clone(),
                configuration_name,
            }));
            if proposal.is_some() {
                let match_id: Arc<str> = placement_id.as_str().into();
                self.placement_ended(now, &match_id, event.kind, view);
            }
        }
    }

    /// A match's placement ended: its tickets complete, search again or fail.
    fn placement_ended(
        &mut self,
        now: Seconds,
        match_id: &Arc<str>,
        kind: EventKind,
        view: PlacementView,
    ) {
        match kind {
            EventKind::Fulfilled => {
                let connection = ConnectionInfo {
                    game_session_arn: view.game_session_arn,
                    ip_address: view.ip_address,
                    dns_name: view.dns_name,
                    port: view.port,
                    matched_player_sessions: view.placed_player_sessions,
                    locations: self.proposals[match_id].locations.clone(),
                };
                self.complete(now, match_id, connection);
            }
            EventKind::TimedOut | EventKind::Cancelled => {
                let proposal = self.proposals.remove(match_id).expect("checked");
                let mut event = self.match_event(
                    MatchmakingEventType::MatchmakingPlacementTimedOut,
                    now,
                    &proposal.configuration,
                    match_id,
                    &proposal.tickets,
                    &proposal.locations,
                );
                let (reason, message) = placement_fell_through(kind);
                event.reason = Some(reason.into());
                event.message = Some(message.into());
                self.emit(event);
                self.return_to_pool(now, &proposal.tickets, reason);
            }
            EventKind::Failed => {
                let reason = view
                    .status_reason
                    .unwrap_or_else(|| "no game session".into());
                self.placement_failed(now, match_id, &reason);
            }
        }
    }

    /// A match that cannot be placed ends its tickets (FAILED, `UNEXPECTED_ERROR`).
    fn placement_failed(&mut self, now: Seconds, match_id: &Arc<str>, why: &str) {
        let Some(proposal) = self.proposals.remove(match_id) else {
            return;
        };
        let message = format!("An unexpected error was encountered during match placing: {why}");
        for id in &proposal.tickets {
            self.finish_ticket(
                now,
                id,
                TicketStatus::Failed,
                Some("UNEXPECTED_ERROR"),
                Some(&message),
            );
        }
        let mut event = self.match_event(
            MatchmakingEventType::MatchmakingFailed,
            now,
            &proposal.configuration,
            match_id,
            &proposal.tickets,
            &proposal.locations,
        );
        event.reason = Some("UNEXPECTED_ERROR".into());
        event.message = Some(message);
        self.emit(event);
    }

    /// A fulfilled placement's session gets its fleet location's lowest free port.
    fn seat(&mut self, placement_id: &str) {
        let Ok(placement) = self.placer.describe(placement_id) else {
            return;
        };
        let Some(session) = &placement.session else {
            return;
        };
        let arn = game_session_arn(&self.placer, placement).unwrap_or_default();
        let key = (session.fleet_id.to_string(), session.location.to_string());
        let port = match self.ports.get_mut(&key) {
            Some(pool) => pool.take(),
            None => None,
        };
        self.session_arns
            .insert(arn.clone(), placement_id.to_string());
        self.seats.insert(
            placement_id.to_string(),
            Seat {
                fleet_id: key.0,
                location: key.1,
                port,
                game_session_arn: arn,
            },
        );
    }

    /// What a placement looks like to callers, with its session's address and port.
    pub fn placement_view(&self, placement_id: &str) -> Option<PlacementView> {
        let placement = self.placer.describe(placement_id).ok()?;
        Some(self.view_of(placement))
    }

    fn view_of(&self, placement: &Placement) -> PlacementView {
        let id = &placement.request.placement_id;
        let seat = self.seats.get(id.as_str());
        let address = seat.and_then(|seat| {
            let spec = self.fleets.get(&seat.fleet_id)?;
            Some(spec.address(&seat.location))
        });
        let placed = placement.session.as_ref().map_or_else(Vec::new, |session| {
            placement
                .request
                .desired_player_sessions
                .iter()
                .enumerate()
                .map(|(i, p)| PlayerSession {
                    player_id: p.player_id.clone(),
                    player_session_id: format!("psess-{}-{}", session.number, i + 1),
                })
                .collect()
        });
        PlacementView {
            placement_id: id.clone(),
            game_session_queue_name: placement.request.queue.clone(),
            status: placement.status,
            status_reason: placement.reason.as_ref().map(|r| r.to_string()),
            game_session_name: placement.request.game_session_name.clone(),
            game_session_arn: seat.map(|s| s.game_session_arn.clone()),
            fleet_id: placement.session.as_ref().map(|s| s.fleet_id.to_string()),
            location: placement.session.as_ref().map(|s| s.location.to_string()),
            ip_address: address.as_ref().map(|a| a.1.clone()),
            dns_name: address.map(|a| a.0),
            port: seat.and_then(|s| s.port),
            placed_player_sessions: placed,
            maximum_player_session_count: placement.request.max_players,
            start_time: placement.start_time,
            end_time: placement.end_time,
        }
    }

    /// Where a backfill match's new players connect: the game session's address when the
    /// engine placed it, with a player session for each.
    pub(crate) fn backfill_connection(&mut self, arn: &str, match_id: &Arc<str>) -> ConnectionInfo {
        let proposal = &self.proposals[match_id];
        let backfill = proposal.backfill.clone();
        let new_players: Vec<String> = proposal
            .tickets
            .iter()
            .filter(|id| Some(*id) != backfill.as_ref())
            .flat_map(|id| {
                self.tickets[id]
                    .request
                    .players
                    .iter()
                    .map(|p| p.id.to_string())
            })
            .collect();
        let mut connection = ConnectionInfo {
            game_session_arn: (!arn.is_empty()).then(|| arn.to_string()),
            locations: proposal.locations.clone(),
            ..ConnectionInfo::default()
        };
        if let Some(view) = self
            .session_arns
            .get(arn)
            .and_then(|id| self.placement_view(id))
        {
            connection.ip_address = view.ip_address;
            connection.dns_name = view.dns_name;
            connection.port = view.port;
        }
        for player_id in new_players {
            let player_session_id = self.player_session_id();
            connection.matched_player_sessions.push(PlayerSession {
                player_id,
                player_session_id,
            });
        }
        connection
    }

    /// `StartGameSessionPlacement`.
    pub fn start_placement(
        &mut self,
        now: Seconds,
        request: PlacementRequest,
    ) -> Result<PlacementView, EngineError> {
        self.advance(now);
        let id = request.placement_id.clone();
        self.placer.start(request, now)?;
        self.drain_placer(now);
        Ok(self.placement_view(&id).expect("just started"))
    }

    /// `DescribeGameSessionPlacement`.
    pub fn describe_placement(
        &mut self,
        now: Seconds,
        placement_id: &str,
    ) -> Result<PlacementView, EngineError> {
        self.advance(now);
        let placement = self.placer.describe(placement_id)?;
        Ok(self.view_of(placement))
    }

    /// `StopGameSessionPlacement`; a match's placement stopped this way sends its tickets
    /// back to the pool.
    pub fn stop_placement(&mut self, now: Seconds, placement_id: &str) -> Result<(), EngineError> {
        self.advance(now);
        self.placer.stop(placement_id, now)?;
        self.drain_placer(now);
        Ok(())
    }

    /// A game session ended (by its ARN): its slot and port are free for the next.
    pub fn end_game_session(
        &mut self,
        now: Seconds,
        game_session_arn: &str,
    ) -> Result<(), EngineError> {
        self.advance(now);
        let placement_id = self
            .session_arns
            .get(game_session_arn)
            .cloned()
            .ok_or_else(|| {
                EngineError::not_found(
                    "GameSessionArn",
                    format!("no running game session `{game_session_arn}`"),
                )
            })?;
        self.placer.release(&placement_id, now)?;
        self.session_arns.remove(game_session_arn);
        if let Some(seat) = self.seats.remove(&placement_id)
            && let Some(port) = seat.port
            && let Some(pool) = self.ports.get_mut(&(seat.fleet_id, seat.location))
        {
            pool.give_back(port);
        }
        self.drain_placer(now);
        Ok(())
    }
}

/// Why a match's tickets search again after its placement ended unplaced, and in words.
fn placement_fell_through(kind: EventKind) -> (&'static str, &'static str) {
    match kind {
        EventKind::Cancelled => (
            "PlacementCancelled",
            "The game session placement was stopped.",
        ),
        _ => (
            "PlacementTimedOut",
            "The game session could not be placed in time; searching again.",
        ),
    }
}
