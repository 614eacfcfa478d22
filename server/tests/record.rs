//! `--record`: what arrived, refused commands too, lands in a trace the engine's reader
//! reads back, in arrival order.

use std::time::Duration;

use rally_engine::Command;
use rally_engine::trace::parse_line;
use rally_server::config::ServerConfig;
use rally_server::proto::v1 as pb;
use rally_server::proto::v1::matchmaking_client::MatchmakingClient;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

fn player(id: &str) -> pb::Player {
    pb::Player {
        player_id: id.into(),
        player_attributes: [(
            "skill".to_string(),
            pb::AttributeValue {
                value: Some(pb::attribute_value::Value::N(1500.0)),
            },
        )]
        .into_iter()
        .collect(),
        team: String::new(),
        latency_in_ms: [("us-east-1".to_string(), 40)].into_iter().collect(),
    }
}

#[tokio::test]
async fn the_traffic_commands_are_recorded_in_order() {
    let path = std::env::temp_dir().join(format!("rally-record-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut config = ServerConfig::embedded();
    config.record = Some(path.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(rally_server::run(listener, config, async {
        let _ = stopped.await;
    }));
    let mut client = MatchmakingClient::connect(format!("http://{address}"))
        .await
        .unwrap();
    let start = |id: &str, configuration: &str| pb::StartMatchmakingRequest {
        ticket_id: id.into(),
        configuration_name: configuration.into(),
        players: vec![player(&format!("p-{id}"))],
    };
    client.start_matchmaking(start("t1", "duel")).await.unwrap();
    client
        .start_matchmaking(start("t2", "nowhere"))
        .await
        .unwrap_err();
    client
        .stop_matchmaking(pb::StopMatchmakingRequest {
            ticket_id: "t1".into(),
        })
        .await
        .unwrap();
    drop(client);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    // The writer thread finishes once the last handle on the service is gone.
    let mut text = String::new();
    for _ in 0..100 {
        text = std::fs::read_to_string(&path).unwrap_or_default();
        if text.lines().count() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let entries: Vec<_> = text.lines().map(|l| parse_line(l).unwrap()).collect();
    assert_eq!(entries.len(), 3, "{text}");
    let ids: Vec<String> = entries
        .iter()
        .map(|e| match &e.command {
            Command::StartMatchmaking(s) => format!("start {}", s.ticket_id.clone().unwrap()),
            Command::StopMatchmaking { ticket_id } => format!("stop {ticket_id}"),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids, ["start t1", "start t2", "stop t1"]);
    assert!(entries.windows(2).all(|w| w[0].t <= w[1].t));
    assert!(text.contains(r#""ConfigurationName":"nowhere""#), "{text}");
    let _ = std::fs::remove_file(&path);
}
