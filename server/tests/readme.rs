//! The README's grpcurl example, run as written against a server on embedded defaults: each
//! `grpcurl` line of the `rally serve` section, its address swapped for the test server's.

use std::time::Duration;

use rally_server::config::ServerConfig;
use rally_server::grpcurl;
use tokio::net::TcpListener;

/// The `grpcurl …` lines of the README's `rally serve` section.
fn readme_commands() -> Vec<String> {
    let readme = include_str!("../../README.md");
    let section = readme
        .split("## `rally serve`")
        .nth(1)
        .expect("the README has a `rally serve` section");
    let section = section.split("\n## ").next().unwrap();
    section
        .lines()
        .filter(|line| line.starts_with("grpcurl "))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn the_readme_grpcurl_example_completes_a_ticket() {
    let commands = readme_commands();
    assert_eq!(commands.len(), 3, "{commands:?}");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(rally_server::run(
        listener,
        ServerConfig::embedded(),
        std::future::pending(),
    ));
    let run = |line: &str| {
        let words = grpcurl::split_words(&line.replace("127.0.0.1:50051", &address)).unwrap();
        async move { grpcurl::run(&words[1..], "").await }
    };
    for line in &commands[..2] {
        let out = run(line).await.unwrap();
        assert!(out.contains("\"status\": \"QUEUED\""), "{out}");
    }
    // The batch runs every 100 ms; look until the ticket completes, a bounded number of times.
    let mut out = String::new();
    for _ in 0..100 {
        out = run(&commands[2]).await.unwrap();
        if out.contains("COMPLETED") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(out.contains("\"status\": \"COMPLETED\""), "{out}");
    assert!(out.contains("\"us-east-1\""), "{out}");
    assert!(out.contains("\"team\": \"duelist_"), "{out}");
}

/// The first fenced block of `lang` in the README's `rally serve` section.
fn readme_block(lang: &str) -> String {
    let readme = include_str!("../../README.md");
    let section = readme.split("## `rally serve`").nth(1).unwrap();
    let section = section.split("\n## ").next().unwrap();
    let fence = format!("```{lang}\n");
    let start = section.find(&fence).expect("a fenced block") + fence.len();
    section[start..].split("```").next().unwrap().to_string()
}

#[test]
fn the_readme_configuration_file_starts_a_server() {
    let text = readme_block("toml");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let loaded =
        rally_server::config_file::parse(&text, std::path::Path::new("README.md"), &root).unwrap();
    assert_eq!(loaded.listen.as_deref(), Some("127.0.0.1:50051"));
    let engine = loaded.server.build().unwrap();
    let placed = engine.configuration("duel-placed").unwrap();
    assert!(placed.acceptance_required);
    assert_eq!(
        placed.flex_match_mode,
        rally_engine::FlexMatchMode::WithQueue
    );
    assert_eq!(
        engine.configuration("duel").unwrap().flex_match_mode,
        rally_engine::FlexMatchMode::Standalone
    );
}

#[test]
fn the_readme_trace_line_is_a_trace_line() {
    let text = readme_block("json");
    let entry = rally_engine::trace::parse_line(text.trim()).unwrap();
    let rally_engine::Command::StartMatchmaking(start) = entry.command else {
        panic!("{entry:?}");
    };
    assert_eq!(start.configuration_name, "duel");
    assert_eq!(
        rally_engine::trace::write_line(&rally_engine::trace::TraceEntry {
            t: 0.412,
            command: rally_engine::Command::StartMatchmaking(start)
        }),
        text.trim()
    );
}

#[test]
fn the_bench_configuration_starts_a_server() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/serve/bench.toml");
    let loaded = rally_server::config_file::load(&path).unwrap();
    let engine = loaded.server.build().unwrap();
    assert_eq!(
        engine.configuration("bench-1v1").unwrap().rule_set_name,
        "bench-1v1"
    );
    assert_eq!(
        engine
            .configuration("bench-waiting")
            .unwrap()
            .request_timeout_seconds,
        43_200
    );
}
