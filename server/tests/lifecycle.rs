//! The ticket lifecycle over real gRPC on loopback, on tokio's paused clock: tickets in,
//! events out, `DescribeMatchmaking` showing where players connect; acceptance, cancelling
//! while searching and placing, timeouts, a placement timing out, and bad input refused
//! with its field while the server serves on.

use std::net::SocketAddr;
use std::time::Duration;

use rally_server::config::ServerConfig;
use rally_server::proto::v1 as pb;
use rally_server::proto::v1::matchmaking_client::MatchmakingClient;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::Code;
use tonic::transport::Channel;
use tonic_types::StatusExt;

use pb::matchmaking_ticket::Status;

#[path = "../../matchmaker/tests/support/checker.rs"]
#[allow(dead_code)]
mod checker;

struct Running {
    client: MatchmakingClient<Channel>,
    address: SocketAddr,
    _stop: oneshot::Sender<()>,
}

async fn start(config: ServerConfig) -> Running {
    // On a paused clock, tokio jumps to the next timer whenever the runtime waits, also on a
    // socket: a timer every 10 ms keeps each jump that small, so the engine's far timers
    // (forgetting finished tickets after 10 minutes) fire only when the test waits for them.
    tokio::spawn(async {
        loop {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address: SocketAddr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(rally_server::run(listener, config, async {
        let _ = stopped.await;
    }));
    let channel = Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    Running {
        client: MatchmakingClient::new(channel),
        address,
        _stop: stop,
    }
}

/// The embedded defaults, each configuration changed by `edit`.
fn embedded_with(edit: impl Fn(&mut rally_engine::Configuration)) -> ServerConfig {
    let mut config = ServerConfig::embedded();
    config.configurations.iter_mut().for_each(edit);
    config
}

fn duelist(id: &str, skill: f64) -> pb::Player {
    let number = |n: f64| pb::AttributeValue {
        value: Some(pb::attribute_value::Value::N(n)),
    };
    pb::Player {
        player_id: format!("p-{id}"),
        player_attributes: [
            ("skill".to_string(), number(skill)),
            ("gamesPlayed".into(), number(20.0)),
        ]
        .into_iter()
        .collect(),
        team: String::new(),
        latency_in_ms: [("us-east-1".to_string(), 40)].into_iter().collect(),
    }
}

async fn start_ticket(
    client: &mut MatchmakingClient<Channel>,
    configuration: &str,
    id: &str,
    skill: f64,
) -> pb::MatchmakingTicket {
    client
        .start_matchmaking(pb::StartMatchmakingRequest {
            ticket_id: id.into(),
            configuration_name: configuration.into(),
            players: vec![duelist(id, skill)],
        })
        .await
        .unwrap()
        .into_inner()
        .matchmaking_ticket
        .unwrap()
}

async fn describe(client: &mut MatchmakingClient<Channel>, id: &str) -> pb::MatchmakingTicket {
    let list = client
        .describe_matchmaking(pb::DescribeMatchmakingRequest {
            ticket_ids: vec![id.into()],
            explain: false,
        })
        .await
        .unwrap()
        .into_inner()
        .ticket_list;
    list.into_iter()
        .next()
        .unwrap_or_else(|| panic!("no ticket `{id}`"))
}

/// A wire timestamp in seconds.
fn seconds(t: &Option<prost_types::Timestamp>) -> f64 {
    t.as_ref()
        .map_or(0.0, |t| t.seconds as f64 + f64::from(t.nanos) * 1e-9)
}

/// A ticket as the checker reads it: GameLift's JSON shape, from what the server describes.
fn checker_ticket(ticket: &pb::MatchmakingTicket) -> rally_matchmaker::ticket::json::TicketRequest {
    use pb::attribute_value::Value as V;
    let players: Vec<serde_json::Value> = ticket
        .players
        .iter()
        .map(|p| {
            let attributes: serde_json::Map<String, serde_json::Value> = p
                .player_attributes
                .iter()
                .map(|(name, value)| {
                    let value = match value.value.as_ref().expect("a value") {
                        V::S(s) => serde_json::json!({ "S": s }),
                        V::N(n) => serde_json::json!({ "N": n }),
                        V::Sl(list) => serde_json::json!({ "SL": list.values }),
                        V::Sdm(map) => serde_json::json!({ "SDM": map.values }),
                    };
                    (name.clone(), value)
                })
                .collect();
            serde_json::json!({
                "PlayerId": p.player_id,
                "PlayerAttributes": attributes,
                "LatencyInMs": p.latency_in_ms,
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({
        "TicketId": ticket.ticket_id,
        "StartTime": seconds(&ticket.start_time),
        "Players": players,
    }))
    .expect("a ticket the checker reads")
}

/// The tickets `ids`, COMPLETED together in one STANDALONE match, pass the matcher's
/// independent checker, at their end (when the match formed).
async fn check_match(client: &mut MatchmakingClient<Channel>, ids: &[&str]) {
    let rules = include_str!("../../fixtures/rulesets/ranked_duel.rules");
    let checked = rally_rules::check_source(rules, rally_rules::SourceFormat::Dsl);
    let rule_set = checked.rule_set.expect("the embedded duel is valid");
    let mut tickets = Vec::new();
    for id in ids {
        tickets.push(describe(client, id).await);
    }
    assert!(tickets.iter().all(|t| t.status() == Status::Completed));
    let sent: Vec<_> = tickets.iter().map(checker_ticket).collect();
    let mut teams: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for ticket in &tickets {
        teams
            .entry(ticket.players[0].team.as_str())
            .or_default()
            .push(ticket.ticket_id.clone());
    }
    let info = tickets[0]
        .game_session_connection_info
        .as_ref()
        .expect("connection info");
    let found = checker::CheckedMatch {
        teams: teams.into_values().collect(),
        locations: info.locations.clone(),
    };
    checker::Checker::new(&rule_set, &sent, seconds(&tickets[0].end_time))
        .check(&found)
        .unwrap_or_else(|e| panic!("the checker refuses {found:?}: {e}"));
}

async fn pause(seconds: f64) {
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
}

#[tokio::test(start_paused = true)]
async fn a_standalone_match_completes_and_its_events_stream() {
    let mut server = start(ServerConfig::embedded()).await;
    let mut events = server
        .client
        .stream_events(pb::StreamEventsRequest {
            configuration_name: "duel".into(),
            ticket_ids: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    let first = start_ticket(&mut server.client, "duel", "a", 1500.0).await;
    assert_eq!(first.status(), Status::Queued);
    start_ticket(&mut server.client, "duel", "b", 1520.0).await;
    pause(0.5).await;
    let a = describe(&mut server.client, "a").await;
    assert_eq!(a.status(), Status::Completed);
    let info = a.game_session_connection_info.unwrap();
    assert_eq!(info.locations, ["us-east-1"]);
    assert!(a.players[0].team.starts_with("duelist_"));
    check_match(&mut server.client, &["a", "b"]).await;
    let mut types = Vec::new();
    while types.last().map(String::as_str) != Some("MatchmakingSucceeded") {
        types.push(events.message().await.unwrap().unwrap().r#type);
    }
    // `a` and `b` may search in separate batches: each says it searches.
    types.dedup();
    assert_eq!(
        types,
        [
            "MatchmakingSearching",
            "PotentialMatchCreated",
            "MatchmakingSucceeded"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_queued_match_completes_with_connection_info() {
    let mut server = start(ServerConfig::embedded()).await;
    start_ticket(&mut server.client, "duel-placed", "a", 1500.0).await;
    start_ticket(&mut server.client, "duel-placed", "b", 1500.0).await;
    pause(0.5).await;
    let a = describe(&mut server.client, "a").await;
    assert_eq!(a.status(), Status::Completed);
    let info = a.game_session_connection_info.unwrap();
    assert!(
        info.game_session_arn
            .starts_with("arn:aws:gamelift:us-east-1::gamesession/")
    );
    assert!(
        info.dns_name.ends_with(".rally.internal"),
        "{}",
        info.dns_name
    );
    assert!(!info.ip_address.is_empty());
    assert!(info.port >= 1026);
    assert_eq!(info.matched_player_sessions.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn acceptance_accepted_rejected_and_timed_out() {
    let mut server = start(embedded_with(|c| {
        c.acceptance_required = true;
        c.acceptance_timeout_seconds = Some(10);
    }))
    .await;
    let client = &mut server.client;
    let answer =
        |id: &str, kind: pb::accept_match_request::AcceptanceType| pb::AcceptMatchRequest {
            ticket_id: id.into(),
            player_ids: vec![format!("p-{id}")],
            acceptance_type: kind as i32,
        };
    use pb::accept_match_request::AcceptanceType::{Accept, Reject};
    // Accepted.
    start_ticket(client, "duel", "a", 1500.0).await;
    start_ticket(client, "duel", "b", 1500.0).await;
    pause(0.5).await;
    assert_eq!(
        describe(client, "a").await.status(),
        Status::RequiresAcceptance
    );
    client.accept_match(answer("a", Accept)).await.unwrap();
    client.accept_match(answer("b", Accept)).await.unwrap();
    assert_eq!(describe(client, "a").await.status(), Status::Completed);
    check_match(client, &["a", "b"]).await;
    // Rejected: the accepting ticket searches again.
    start_ticket(client, "duel", "c", 1500.0).await;
    start_ticket(client, "duel", "d", 1500.0).await;
    pause(0.5).await;
    client.accept_match(answer("c", Accept)).await.unwrap();
    client.accept_match(answer("d", Reject)).await.unwrap();
    assert_eq!(describe(client, "c").await.status(), Status::Searching);
    assert_eq!(describe(client, "d").await.status(), Status::Cancelled);
    // Timed out: nobody answers `c` and `e`'s match in 10 s.
    start_ticket(client, "duel", "e", 1500.0).await;
    pause(0.5).await;
    assert_eq!(
        describe(client, "e").await.status(),
        Status::RequiresAcceptance
    );
    pause(10.0).await;
    assert_eq!(describe(client, "e").await.status(), Status::Cancelled);
    // Accepting a ticket not awaiting acceptance is refused.
    let error = client.accept_match(answer("e", Accept)).await.unwrap_err();
    assert_eq!(error.code(), Code::FailedPrecondition);
}

#[tokio::test(start_paused = true)]
async fn a_ticket_times_out_after_its_request_timeout() {
    let mut server = start(embedded_with(|c| c.request_timeout_seconds = 5)).await;
    start_ticket(&mut server.client, "duel", "a", 1500.0).await;
    pause(4.0).await;
    assert_eq!(
        describe(&mut server.client, "a").await.status(),
        Status::Searching
    );
    pause(1.5).await;
    let a = describe(&mut server.client, "a").await;
    assert_eq!(a.status(), Status::TimedOut);
    assert!(a.end_time.is_some());
}

/// No capacity anywhere: placements wait out the queue's timeout.
fn no_capacity() -> ServerConfig {
    let mut config = ServerConfig::embedded();
    for spec in &mut config.fleets {
        for location in &mut spec.fleet.locations {
            location.instances = 0;
        }
    }
    config
}

#[tokio::test(start_paused = true)]
async fn cancelling_while_searching_and_while_placing() {
    let mut server = start(no_capacity()).await;
    let client = &mut server.client;
    start_ticket(client, "duel-placed", "lonely", 100.0).await;
    pause(0.5).await;
    client
        .stop_matchmaking(pb::StopMatchmakingRequest {
            ticket_id: "lonely".into(),
        })
        .await
        .unwrap();
    assert_eq!(describe(client, "lonely").await.status(), Status::Cancelled);
    start_ticket(client, "duel-placed", "a", 1500.0).await;
    start_ticket(client, "duel-placed", "b", 1500.0).await;
    pause(0.5).await;
    assert_eq!(describe(client, "a").await.status(), Status::Placing);
    client
        .stop_matchmaking(pb::StopMatchmakingRequest {
            ticket_id: "a".into(),
        })
        .await
        .unwrap();
    assert_eq!(describe(client, "a").await.status(), Status::Cancelled);
    assert_eq!(describe(client, "b").await.status(), Status::Searching);
}

#[tokio::test(start_paused = true)]
async fn a_placement_timeout_returns_the_tickets_to_searching() {
    let mut config = no_capacity();
    // Long enough that nothing but the placement times out.
    config
        .configurations
        .iter_mut()
        .for_each(|c| c.request_timeout_seconds = 43_200);
    let mut server = start(config).await;
    let client = &mut server.client;
    let mut events = client
        .stream_events(pb::StreamEventsRequest {
            configuration_name: String::new(),
            ticket_ids: vec!["a".into()],
        })
        .await
        .unwrap()
        .into_inner();
    start_ticket(client, "duel-placed", "a", 1500.0).await;
    start_ticket(client, "duel-placed", "b", 1500.0).await;
    pause(0.5).await;
    assert_eq!(describe(client, "a").await.status(), Status::Placing);
    // The bundled queue times out after 120 s.
    pause(121.0).await;
    assert_ne!(describe(client, "a").await.status(), Status::Completed);
    let mut types = Vec::new();
    while !types.iter().any(|t| t == "MatchmakingPlacementTimedOut") {
        types.push(events.message().await.unwrap().unwrap().r#type);
    }
    // Back in the pool, they match again at once, and wait for a placement again.
    assert_ne!(describe(client, "a").await.status(), Status::Completed);
}

#[tokio::test(start_paused = true)]
async fn bad_input_is_refused_with_its_field_and_nothing_is_lost() {
    let mut server = start(ServerConfig::embedded()).await;
    let client = &mut server.client;
    start_ticket(client, "duel", "kept", 1500.0).await;
    let mut wrong = duelist("x", 1.0);
    wrong.player_attributes.insert(
        "skill".into(),
        pb::AttributeValue {
            value: Some(pb::attribute_value::Value::S("high".into())),
        },
    );
    let request = |players, configuration: &str, id: &str| pb::StartMatchmakingRequest {
        ticket_id: id.into(),
        configuration_name: configuration.into(),
        players,
    };
    let error = client
        .start_matchmaking(request(vec![wrong], "duel", "x"))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument);
    let violations = error.get_details_bad_request().unwrap().field_violations;
    assert_eq!(violations[0].field, "players[0].player_attributes.skill");
    let eleven: Vec<pb::Player> = (0..11).map(|i| duelist(&format!("m{i}"), 1.0)).collect();
    let error = client
        .start_matchmaking(request(eleven, "duel", "y"))
        .await
        .unwrap_err();
    assert_eq!(
        error.get_details_bad_request().unwrap().field_violations[0].field,
        "players"
    );
    let error = client
        .start_matchmaking(request(vec![duelist("z", 1.0)], "nowhere", "z"))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::NotFound);
    let error = client
        .start_matchmaking(request(vec![duelist("q", 1.0)], "duel", "kept"))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::AlreadyExists);
    let error = client
        .start_matchmaking(request(vec![duelist("bad id", 1.0)], "duel", "bad id"))
        .await
        .unwrap_err();
    assert_eq!(
        error.get_details_bad_request().unwrap().field_violations[0].field,
        "ticket_id"
    );
    let error = client
        .describe_matchmaking(pb::DescribeMatchmakingRequest {
            ticket_ids: (0..11).map(|i| i.to_string()).collect(),
            explain: false,
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument);
    let huge = "x".repeat(rally_server::MAX_DECODING_MESSAGE_SIZE + 1);
    let error = client
        .start_matchmaking(request(vec![], "duel", &huge))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::OutOfRange, "{error}");
    // The server serves on, and what it accepted is intact.
    assert_eq!(describe(client, "kept").await.status(), Status::Searching);
}

#[tokio::test(start_paused = true)]
async fn searching_tickets_continue_under_a_rule_set_replaced_in_place() {
    use rally_server::proto::v1::admin_client::AdminClient;
    let mut server = start(ServerConfig::embedded()).await;
    let channel = Channel::from_shared(format!("http://{}", server.address))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut admin = AdminClient::new(channel);
    let client = &mut server.client;
    start_ticket(client, "duel", "a", 1500.0).await;
    start_ticket(client, "duel", "b", 1800.0).await;
    pause(0.5).await;
    assert_eq!(describe(client, "a").await.status(), Status::Searching);
    let body = include_str!("../../fixtures/rulesets/ranked_duel.rules");
    let refused = admin
        .update_matchmaking_rule_set(pb::UpdateMatchmakingRuleSetRequest {
            name: "ranked-duel".into(),
            rule_set_body: body.replace("max 100", "max oops"),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    pause(0.5).await;
    assert_eq!(describe(client, "a").await.status(), Status::Searching);
    let updated = admin
        .update_matchmaking_rule_set(pb::UpdateMatchmakingRuleSetRequest {
            name: "ranked-duel".into(),
            rule_set_body: body.replace("max 100", "max 400"),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.rule_set.unwrap().version, 2);
    pause(0.5).await;
    let a = describe(client, "a").await;
    assert_eq!(a.status(), Status::Completed);
}
