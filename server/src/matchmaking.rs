//! The `Matchmaking` service: tickets in, tickets and the event stream out, every call one
//! engine command at the service's current time.

use std::sync::Arc;

use rally_engine::{AcceptMatch, AcceptanceType, Command, StartMatchBackfill, StartMatchmaking};
use tokio::sync::watch;
use tonic::{Request, Response, Status};

use crate::convert::engine_status;
use crate::convert::matchmaking::{players, ticket};
use crate::event_stream::{self, EventStream};
use crate::proto::v1 as pb;
use crate::proto::v1::matchmaking_server::{Matchmaking, MatchmakingServer};
use crate::shared::Shared;

#[derive(Debug)]
pub struct MatchmakingService {
    shared: Arc<Shared>,
    /// Turns true when the server shuts down: event streams end.
    stopping: watch::Receiver<bool>,
}

pub fn server(
    shared: Arc<Shared>,
    stopping: watch::Receiver<bool>,
) -> MatchmakingServer<MatchmakingService> {
    MatchmakingServer::new(MatchmakingService { shared, stopping })
        .max_decoding_message_size(crate::MAX_DECODING_MESSAGE_SIZE)
}

fn optional(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

#[tonic::async_trait]
impl Matchmaking for MatchmakingService {
    async fn start_matchmaking(
        &self,
        request: Request<pb::StartMatchmakingRequest>,
    ) -> Result<Response<pb::StartMatchmakingResponse>, Status> {
        let request = request.into_inner();
        let command = StartMatchmaking {
            ticket_id: optional(request.ticket_id),
            configuration_name: request.configuration_name,
            players: players(request.players)?,
        };
        let view = self
            .shared
            .command(
                Command::StartMatchmaking(command),
                |engine, now, command| {
                    let Command::StartMatchmaking(command) = command else {
                        unreachable!("the command given")
                    };
                    engine.start_matchmaking(now, command)
                },
            )
            .map_err(|e| engine_status(&e))?;
        Ok(Response::new(pb::StartMatchmakingResponse {
            matchmaking_ticket: Some(ticket(&self.shared, view)),
        }))
    }

    async fn describe_matchmaking(
        &self,
        request: Request<pb::DescribeMatchmakingRequest>,
    ) -> Result<Response<pb::DescribeMatchmakingResponse>, Status> {
        let request = request.into_inner();
        let views = self
            .shared
            .act(|engine, now| {
                engine.describe_matchmaking(now, &request.ticket_ids, request.explain)
            })
            .map_err(|e| engine_status(&e))?;
        Ok(Response::new(pb::DescribeMatchmakingResponse {
            ticket_list: views.into_iter().map(|v| ticket(&self.shared, v)).collect(),
        }))
    }

    async fn stop_matchmaking(
        &self,
        request: Request<pb::StopMatchmakingRequest>,
    ) -> Result<Response<pb::StopMatchmakingResponse>, Status> {
        let ticket_id = request.into_inner().ticket_id;
        self.shared
            .command(
                Command::StopMatchmaking { ticket_id },
                |engine, now, command| engine.handle(now, command),
            )
            .map_err(|e| engine_status(&e))?;
        Ok(Response::new(pb::StopMatchmakingResponse {}))
    }

    async fn accept_match(
        &self,
        request: Request<pb::AcceptMatchRequest>,
    ) -> Result<Response<pb::AcceptMatchResponse>, Status> {
        use pb::accept_match_request::AcceptanceType as Wire;
        let request = request.into_inner();
        let acceptance_type = match Wire::try_from(request.acceptance_type) {
            Ok(Wire::Accept) => AcceptanceType::Accept,
            Ok(Wire::Reject) => AcceptanceType::Reject,
            _ => {
                return Err(crate::status::status(
                    rally_base::ErrorKind::InvalidArgument,
                    Some("acceptance_type"),
                    "expected `ACCEPT` or `REJECT`",
                ));
            }
        };
        let command = AcceptMatch {
            ticket_id: request.ticket_id,
            player_ids: request.player_ids,
            acceptance_type,
        };
        self.shared
            .command(Command::AcceptMatch(command), |engine, now, command| {
                engine.handle(now, command)
            })
            .map_err(|e| engine_status(&e))?;
        Ok(Response::new(pb::AcceptMatchResponse {}))
    }

    async fn start_match_backfill(
        &self,
        request: Request<pb::StartMatchBackfillRequest>,
    ) -> Result<Response<pb::StartMatchBackfillResponse>, Status> {
        let request = request.into_inner();
        let command = StartMatchBackfill {
            ticket_id: optional(request.ticket_id),
            configuration_name: request.configuration_name,
            game_session_arn: optional(request.game_session_arn),
            players: players(request.players)?,
        };
        let view = self
            .shared
            .command(
                Command::StartMatchBackfill(command),
                |engine, now, command| {
                    let Command::StartMatchBackfill(command) = command else {
                        unreachable!("the command given")
                    };
                    engine.start_match_backfill(now, command)
                },
            )
            .map_err(|e| engine_status(&e))?;
        Ok(Response::new(pb::StartMatchBackfillResponse {
            matchmaking_ticket: Some(ticket(&self.shared, view)),
        }))
    }

    type StreamEventsStream = EventStream;

    /// Events from now on, filtered by configuration and tickets (either optional).
    async fn stream_events(
        &self,
        request: Request<pb::StreamEventsRequest>,
    ) -> Result<Response<EventStream>, Status> {
        let filter = request.into_inner();
        let stream = event_stream::subscribe(self.shared.clone(), filter, self.stopping.clone());
        Ok(Response::new(stream))
    }
}
