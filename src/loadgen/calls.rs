//! What the load generator sends: one gRPC call, the clients it goes through, and generated
//! tickets written as StartMatchmaking requests.

use std::collections::BTreeMap;

use rally_matchmaker::ticket::{NewPlayer, NewTicket};
use rally_server::echo::v1::PingRequest;
use rally_server::echo::v1::echo_client::EchoClient;
use rally_server::proto::v1 as pb;
use rally_server::proto::v1::matchmaking_client::MatchmakingClient;
use rally_server::wire_value;
use tonic::transport::Channel;

/// One request, ready to send.
#[derive(Clone, Debug)]
pub enum Call {
    Start(pb::StartMatchmakingRequest),
    Stop(pb::StopMatchmakingRequest),
    Accept(pb::AcceptMatchRequest),
    Backfill(pb::StartMatchBackfillRequest),
    Ping(PingRequest),
}

/// The clients of one connection: both share its channel, so a worker sends whichever call
/// comes next over the same HTTP/2 connection.
#[derive(Clone, Debug)]
pub struct Clients {
    matchmaking: MatchmakingClient<Channel>,
    echo: EchoClient<Channel>,
}

impl Clients {
    pub fn new(channel: Channel) -> Clients {
        Clients {
            matchmaking: MatchmakingClient::new(channel.clone()),
            echo: EchoClient::new(channel),
        }
    }

    /// Sends `call` and waits for its answer; the answer's body is dropped.
    pub async fn send(&mut self, call: Call) -> Result<(), tonic::Status> {
        let client = &mut self.matchmaking;
        match call {
            Call::Start(request) => client.start_matchmaking(request).await.map(drop),
            Call::Stop(request) => client.stop_matchmaking(request).await.map(drop),
            Call::Accept(request) => client.accept_match(request).await.map(drop),
            Call::Backfill(request) => client.start_match_backfill(request).await.map(drop),
            Call::Ping(request) => self.echo.ping(request).await.map(drop),
        }
    }
}

/// A generated ticket as a StartMatchmaking request for `configuration`. Ids are left to
/// [`with_ids`], since one ticket is sent many times over under different ids.
pub fn start_request(ticket: &NewTicket, configuration: &str) -> pb::StartMatchmakingRequest {
    pb::StartMatchmakingRequest {
        ticket_id: String::new(),
        configuration_name: configuration.to_string(),
        players: wire_players(&ticket.players),
    }
}

/// Players as the protos carry them.
pub fn wire_players(players: &[NewPlayer]) -> Vec<pb::Player> {
    players
        .iter()
        .map(|player| pb::Player {
            player_id: player.id.clone(),
            player_attributes: player
                .attributes
                .iter()
                .map(|(name, value)| (name.clone(), wire_value(value)))
                .collect(),
            team: player.team.clone().unwrap_or_default(),
            latency_in_ms: latencies(&player.latencies),
        })
        .collect()
}

/// `template` as ticket `ticket_id`, its players `<ticket_id>-<n>`: a player may be in one
/// ticket of a configuration only.
pub fn with_ids(template: &pb::StartMatchmakingRequest, ticket_id: String) -> Call {
    let mut request = template.clone();
    for (n, player) in request.players.iter_mut().enumerate() {
        player.player_id = format!("{ticket_id}-{n}");
    }
    request.ticket_id = ticket_id;
    Call::Start(request)
}

fn latencies(latencies: &BTreeMap<String, u32>) -> std::collections::HashMap<String, i32> {
    latencies
        .iter()
        .map(|(location, ms)| (location.clone(), i32::try_from(*ms).unwrap_or(i32::MAX)))
        .collect()
}
