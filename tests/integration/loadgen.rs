//! `rally loadgen` against servers started in this process on loopback: a bounded run's
//! JSON report (counts, refusals by code, latencies from the event stream), and the echo
//! baseline.

use std::future::Future;
use std::net::SocketAddr;

use rally_server::config::ServerConfig;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::support::{rally, stderr, stdout};

/// A server on 127.0.0.1, on a runtime of its own, until the returned sender is dropped.
struct Running {
    address: SocketAddr,
    _stop: oneshot::Sender<()>,
    _runtime: tokio::runtime::Runtime,
}

fn start<F, Fut>(serve: F) -> Running
where
    F: FnOnce(TcpListener, oneshot::Receiver<()>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel();
    runtime.spawn(serve(listener, stopped));
    Running {
        address,
        _stop: stop,
        _runtime: runtime,
    }
}

fn rally_server() -> Running {
    start(|listener, stopped| async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        rally_server::run(listener, ServerConfig::embedded(), shutdown)
            .await
            .unwrap();
    })
}

fn echo_server() -> Running {
    start(|listener, stopped| async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        rally_server::echo::run(listener, shutdown).await.unwrap();
    })
}

/// Runs `rally loadgen --format json` with `args` against `server`; its report.
fn loadgen(server: &Running, args: &[&str]) -> Value {
    let target = server.address.to_string();
    let mut all = vec!["loadgen", "--target", &target, "--format", "json"];
    all.extend_from_slice(args);
    let output = rally(&all, None);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_str(&stdout(&output)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&output)))
}

const RANKED_DUEL: [&str; 6] = [
    "--rate",
    "200",
    "--duration",
    "1",
    "--rules",
    "fixtures/rulesets/ranked_duel.rules",
];

#[test]
fn a_paced_run_sends_its_tickets_and_times_their_matches() {
    let server = rally_server();
    let report = loadgen(&server, &RANKED_DUEL);
    assert_eq!(report["mode"], "start_matchmaking");
    assert_eq!(report["planned"], 200);
    assert_eq!(report["sent"], 200);
    assert_eq!(report["acknowledged"], 200);
    assert_eq!(report["tickets"], 200);
    assert_eq!(report["errors"], serde_json::json!({}));
    for milestone in ["potential_match", "completed"] {
        let latency = &report[milestone];
        assert!(latency["count"].as_u64().unwrap() > 0, "{report:#}");
        assert!(latency["p50_us"].as_u64() <= latency["p99_us"].as_u64());
        assert!(latency["p99_us"].as_u64() <= latency["max_us"].as_u64());
    }
    let matched = report["potential_match"]["count"].as_u64().unwrap();
    assert_eq!(
        report["without_potential_match"].as_u64(),
        Some(200 - matched)
    );
    // The server's share is timed for the same tickets, and is part of the whole.
    let in_server = &report["potential_match_in_server"];
    assert_eq!(in_server["count"].as_u64(), Some(matched));
    assert!(in_server["p50_us"].as_u64() <= report["potential_match"]["max_us"].as_u64());
    assert_eq!(report["answered"]["count"], 200);
}

#[test]
fn refusals_are_counted_by_code() {
    let server = rally_server();
    let mut args = RANKED_DUEL.to_vec();
    args.extend(["--configuration", "nowhere", "--drain", "0"]);
    let report = loadgen(&server, &args);
    assert_eq!(report["sent"], 200);
    assert_eq!(report["acknowledged"], 0);
    assert_eq!(report["errors"], serde_json::json!({"NOT_FOUND": 200}));
    assert_eq!(report["tickets"], 0);
    assert_eq!(report["potential_match"]["count"], 0);
}

#[test]
fn the_echo_baseline_goes_through_the_same_client() {
    let server = echo_server();
    let report = loadgen(&server, &["--echo", "--rate", "200", "--duration", "1"]);
    assert_eq!(report["mode"], "echo");
    assert_eq!(report["sent"], 200);
    assert_eq!(report["acknowledged"], 200);
    assert_eq!(report["errors"], serde_json::json!({}));
    assert_eq!(report["tickets"], 0);
}

#[test]
fn an_unpaced_run_stops_at_its_limit() {
    let server = echo_server();
    let report = loadgen(
        &server,
        &[
            "--echo",
            "--rate",
            "0",
            "--duration",
            "30",
            "--limit",
            "300",
        ],
    );
    assert_eq!(report["planned"], 300);
    assert_eq!(report["sent"], 300);
    assert_eq!(report["acknowledged"], 300);
}

/// A trace line starting ticket `id` for `duel` with one player of `skill`.
fn start_line(t: f64, id: &str, skill: u32) -> String {
    format!(
        r#"{{"t": {t}, "op": "StartMatchmaking", "request": {{"TicketId": "{id}", "ConfigurationName": "duel", "Players": [{{"PlayerId": "p-{id}", "PlayerAttributes": {{"skill": {{"N": {skill}}}, "gamesPlayed": {{"N": 20}}}}, "LatencyInMs": {{"us-east-1": 40}}}}]}}}}"#
    )
}

#[test]
fn a_trace_replays_its_calls_and_times_its_tickets() {
    let server = rally_server();
    let dir = crate::support::temp_dir("loadgen-trace");
    let trace = dir.join("trace.jsonl");
    let lines = [
        start_line(0.0, "a", 1500),
        start_line(0.1, "b", 1510),
        start_line(0.2, "c", 1800),
        r#"{"t": 0.3, "op": "StopMatchmaking", "request": {"TicketId": "c"}}"#.to_string(),
        // No such ticket: refused.
        r#"{"t": 0.4, "op": "StopMatchmaking", "request": {"TicketId": "nobody"}}"#.to_string(),
    ];
    std::fs::write(&trace, lines.join("\n") + "\n").unwrap();
    let report = loadgen(
        &server,
        &["--trace", trace.to_str().unwrap(), "--speed", "2"],
    );
    assert_eq!(report["mode"], "trace");
    assert_eq!(report["planned"], 5);
    assert_eq!(report["sent"], 5);
    assert_eq!(report["acknowledged"], 4);
    assert_eq!(report["errors"], serde_json::json!({"NOT_FOUND": 1}));
    assert_eq!(report["tickets"], 3);
    assert_eq!(report["completed"]["count"], 2, "{report:#}");
    assert_eq!(report["without_completed"], 1);
}
