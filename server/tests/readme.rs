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
