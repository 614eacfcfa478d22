//! `rally simulate` run as a designer runs it: a small trace, STANDALONE and placed through
//! the fixture queue, the same report twice, and bad traces refused with their line.

use std::path::Path;

use serde_json::Value;

use crate::support::{rally, stderr, stdout, temp_dir};

const RULES: &str = "fixtures/rulesets/ranked_duel.rules";

/// Pairs of players 20 rating points apart arriving over a minute, some from Europe, each
/// with 20 games played; one player far above everyone, who times out.
fn trace() -> String {
    let mut lines = Vec::new();
    for i in 0..200u32 {
        let t = f64::from(i) * 0.3;
        let skill = 1000 + (i / 2) * 300 + (i % 2) * 20;
        let location = if i % 4 < 2 { "us-east-1" } else { "eu-west-1" };
        lines.push(format!(
            r#"{{"t": {t}, "op": "StartMatchmaking", "request": {{"TicketId": "t{i}", "ConfigurationName": "ranked", "Players": [{{"PlayerId": "p{i}", "PlayerAttributes": {{"skill": {{"N": {skill}}}, "gamesPlayed": {{"N": 20}}}}, "LatencyInMs": {{"{location}": 40}}}}]}}}}"#
        ));
    }
    lines.push(
        r#"{"t": 61, "op": "StartMatchmaking", "request": {"TicketId": "alone", "ConfigurationName": "ranked", "Players": [{"PlayerId": "top", "PlayerAttributes": {"skill": {"N": 99000}, "gamesPlayed": {"N": 20}}, "LatencyInMs": {"us-east-1": 40}}]}}"#
            .into(),
    );
    lines.join("\n") + "\n"
}

fn simulate(dir: &Path, trace: &str, extra: &[&str]) -> std::process::Output {
    let trace_path = dir.join("trace.jsonl");
    std::fs::write(&trace_path, trace).unwrap();
    let out = dir.join("out");
    let mut args = vec![
        "simulate",
        "--rules",
        RULES,
        "--trace",
        trace_path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--seed",
        "3",
    ];
    args.extend_from_slice(extra);
    rally(&args, None)
}

fn report(dir: &Path) -> (String, Value) {
    let text = std::fs::read_to_string(dir.join("out/report.json")).unwrap();
    let value = serde_json::from_str(&text).unwrap();
    (text, value)
}

#[test]
fn a_standalone_replay_reports_every_ticket() {
    let dir = temp_dir("simulate-standalone");
    let output = simulate(&dir, &trace(), &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let (_, report) = report(&dir);
    let tickets = &report["tickets"];
    assert_eq!(tickets["submitted"], 201);
    assert_eq!(tickets["matched"], 200);
    assert_eq!(tickets["timed_out"], 1);
    // Each pair's second ticket arrives 0.3 s after the first: its partner's wait is at
    // most that plus a batch interval.
    let waits = &report["time_to_match_ms"]["overall"];
    assert_eq!(waits["count"], 200);
    assert!(waits["max"].as_f64().unwrap() <= 400.0, "{waits}");
    assert_eq!(report["quality"]["skill_spread"]["max"], 20.0);
    assert_eq!(
        report["time_to_match_ms"]["by_location"]["eu-west-1"]["count"],
        100
    );
    let text = stdout(&output);
    assert!(text.contains("201 tickets (201 players)"), "{text}");
    assert!(text.contains("matched 200, timed out 1"), "{text}");
    assert_page_is_self_contained(&dir.join("out/report.html"));
}

/// `report.html` beside `report.json`: the charts inline, and nothing a browser would fetch.
fn assert_page_is_self_contained(path: &Path) {
    let page = std::fs::read_to_string(path).expect("report.html is written");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert_eq!(page.matches("<svg").count(), 6, "six charts");
    for chart in [
        "Time to match",
        "Player latency",
        "Tickets waiting",
        "Matches placed",
    ] {
        assert!(page.contains(chart), "the page holds the {chart} chart");
    }
    assert!(page.contains("ranked_duel.rules"), "the run is named");
    let tickets = "<div class=\"name\">tickets</div><div class=\"value\">201</div>";
    assert!(page.contains(tickets), "the headline counts the tickets");
    let lower = page.to_lowercase();
    for reference in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
        "url(http",
    ] {
        assert!(!lower.contains(reference), "{reference} in the page");
    }
    assert!(!lower.contains("<script"), "no script, inline or fetched");
    assert!(!lower.contains("<link"), "no stylesheet or font fetched");
}

#[test]
fn the_same_trace_and_seed_write_the_same_report() {
    let first = temp_dir("simulate-first");
    let second = temp_dir("simulate-second");
    for dir in [&first, &second] {
        let output = simulate(
            dir,
            &trace(),
            &[
                "--fleets",
                "fixtures/placement/fleets.json",
                "--queue",
                "fixtures/placement/queue_latency_first.json",
            ],
        );
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let (a, placed) = report(&first);
    let (b, _) = report(&second);
    assert_eq!(a, b);
    let page = |dir: &Path| std::fs::read(dir.join("out/report.html")).unwrap();
    assert!(
        page(&first) == page(&second),
        "the same page, byte for byte"
    );
    // Placed through the queue: each match hosted where its players are.
    let by_location = &placed["placements"]["by_location"];
    assert_eq!(by_location["us-east-1"], 50, "{by_location}");
    assert_eq!(by_location["eu-west-1"], 50, "{by_location}");
    assert!(placed["hosting_cost_usd"].as_f64().unwrap() > 0.0);
}

#[test]
fn a_bad_trace_line_is_refused_with_its_number() {
    let dir = temp_dir("simulate-bad");
    let mut lines = trace();
    lines.push_str("{\"t\": 70, \"op\": \"StopMatchmaking\"}\n");
    let output = simulate(&dir, &lines, &[]);
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(text.contains("line 202"), "{text}");
    assert!(text.contains("trace.jsonl"), "{text}");
    let out_of_order =
        "{\"t\": 5, \"op\": \"StopMatchmaking\", \"request\": {\"TicketId\": \"t1\"}}\n";
    let output = simulate(&dir, &(trace() + out_of_order), &[]);
    let text = stderr(&output);
    assert!(
        text.contains("line 202: `t` is 5, before the previous line's 61"),
        "{text}"
    );
}

#[test]
fn two_rule_sets_are_compared_on_the_same_trace() {
    let dir = temp_dir("simulate-ab");
    // The same duel, but players at most 10 rating points apart (15 once relaxed): the
    // trace's pairs are 20 apart, so under B nobody matches and every ticket times out.
    let strict = std::fs::read_to_string(RULES)
        .unwrap()
        .replace("max 100", "max 10")
        .replace("15s -> 200, 30s -> 350, 60s -> 500", "15s -> 15");
    assert_ne!(strict, std::fs::read_to_string(RULES).unwrap());
    let strict_path = dir.join("strict.rules");
    std::fs::write(&strict_path, strict).unwrap();
    let output = simulate(&dir, &trace(), &["--rules", strict_path.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let (_, report) = report(&dir);
    let variants = report["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 2);
    assert_eq!(variants[0]["rules"], RULES);
    assert_eq!(variants[0]["report"]["tickets"]["matched"], 200);
    assert_eq!(variants[1]["report"]["tickets"]["matched"], 0);
    assert_eq!(variants[1]["report"]["tickets"]["timed_out"], 201);
    let differences = &report["differences"][0];
    assert_eq!(differences["against"], RULES);
    let timed_out = differences["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["metric"] == "timed_out_share")
        .unwrap();
    assert_eq!(timed_out["baseline"], 0.005);
    assert_eq!(timed_out["value"], 1.0);
    assert_eq!(timed_out["verdict"], "worse");
    let text = stdout(&output);
    assert!(text.contains("timed_out_share"), "{text}");
    assert!(text.contains("(Worse)"), "{text}");
    // One page sets them side by side, the differences first.
    let page = std::fs::read_to_string(dir.join("out/report.html")).unwrap();
    assert!(page.contains("Differences that matter"));
    assert!(page.contains("ranked_duel.rules") && page.contains("strict.rules"));
    assert!(page.contains("class=\"worse\""));
}

#[test]
fn a_server_configuration_file_routes_each_ticket_to_the_configuration_it_names() {
    let dir = temp_dir("simulate-config");
    let rules = crate::support::repo_root().join(RULES);
    let config = format!(
        "[[rule_sets]]\nname = \"duel\"\nfile = \"{}\"\n\n[[configurations]]\nname = \"ranked\"\nrule_set_name = \"duel\"\n",
        rules.display()
    );
    let config_path = dir.join("rally.toml");
    std::fs::write(&config_path, config).unwrap();
    // One more ticket, for a configuration the file does not have.
    let elsewhere = r#"{"t": 62, "op": "StartMatchmaking", "request": {"TicketId": "lost", "ConfigurationName": "casual", "Players": [{"PlayerId": "x", "PlayerAttributes": {"skill": {"N": 1}}, "LatencyInMs": {"us-east-1": 40}}]}}"#;
    let trace_path = dir.join("trace.jsonl");
    std::fs::write(&trace_path, trace() + elsewhere + "\n").unwrap();
    let out = dir.join("out");
    let output = rally(
        &[
            "simulate",
            "--config",
            config_path.to_str().unwrap(),
            "--trace",
            trace_path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let (_, report) = report(&dir);
    assert_eq!(report["tickets"]["submitted"], 201);
    assert_eq!(report["tickets"]["matched"], 200);
    assert_eq!(report["tickets"]["refused"]["NotFound"], 1);
    assert_eq!(report["quality"]["attribute"], "skill");
}

fn generate(dir: &Path, extra: &[&str]) -> (std::process::Output, String) {
    let out = dir.join("generated.jsonl");
    let mut args = vec![
        "trace",
        "generate",
        "--duration",
        "30",
        "--rate",
        "10",
        "--flat",
        "--seed",
        "3",
        "--rules",
        RULES,
        "--configuration",
        "ranked",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let output = rally(&args, None);
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    (output, text)
}

#[test]
fn a_generated_trace_is_in_time_order_repeats_with_its_seed_and_replays() {
    let dir = temp_dir("trace-generate");
    let (output, text) = generate(&dir, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let entries: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let starts = entries
        .iter()
        .filter(|e| e["op"] == "StartMatchmaking")
        .count();
    let stops = entries
        .iter()
        .filter(|e| e["op"] == "StopMatchmaking")
        .count();
    assert_eq!(starts + stops, entries.len());
    // 300 expected at 10 a second; a Poisson count's deviation is about 17.
    assert!((230..370).contains(&starts), "{starts}");
    let times: Vec<f64> = entries.iter().map(|e| e["t"].as_f64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    assert!(entries.iter().all(|e| e["op"] != "StartMatchmaking"
        || e["request"]["ConfigurationName"] == "ranked"));
    assert_eq!(
        stdout(&output).trim(),
        format!(
            "{starts} tickets and {stops} give-ups over 30 s to {}",
            dir.join("generated.jsonl").display()
        )
    );
    let (_, again) = generate(&dir, &[]);
    assert_eq!(text, again, "the same seed, the same trace");
    // The trace replays as it is.
    let replay = simulate(&dir, &text, &[]);
    assert!(replay.status.success(), "{}", stderr(&replay));
    let (_, report) = report(&dir);
    assert_eq!(report["tickets"]["submitted"].as_u64(), Some(starts as u64));
}

#[test]
fn generated_players_come_only_from_the_regions_named() {
    let dir = temp_dir("trace-regions");
    let (output, text) = generate(&dir, &["--regions", "eu-west-1,eu-central-1"]);
    assert!(output.status.success(), "{}", stderr(&output));
    for line in text.lines().filter(|l| l.contains("StartMatchmaking")) {
        let entry: Value = serde_json::from_str(line).unwrap();
        for player in entry["request"]["Players"].as_array().unwrap() {
            let latencies = player["LatencyInMs"].as_object().unwrap();
            let nearest = latencies
                .iter()
                .min_by(|a, b| a.1.as_f64().unwrap().total_cmp(&b.1.as_f64().unwrap()))
                .unwrap()
                .0;
            assert!(nearest.starts_with("eu-"), "{nearest}: {line}");
        }
    }
    let (output, _) = generate(&dir, &["--regions", "mars-1"]);
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.contains("`--regions mars-1`: expected one of"),
        "{text}"
    );
    assert!(text.contains("us-east-1"), "{text}");
}
