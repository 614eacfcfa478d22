//! `rally match` and `rally bench` run as a user runs them: the JSON and text reports, seeds,
//! the batch time, malformed tickets and missing files.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;

use crate::support::{rally, stderr, stdout, temp_dir};

const RANKED_DUEL: &str = "fixtures/rulesets/ranked_duel.rules";
const BENCH_1V1: &str = "fixtures/rulesets/bench_1v1.rules";

/// One solo ticket in GameLift's shape, calibrated (`gamesPlayed` 50) for `ranked_duel`.
fn ticket(id: u32, start_time: u32, skill: u32, latencies: &[(&str, u32)]) -> String {
    let latencies: Vec<String> = latencies
        .iter()
        .map(|(location, ms)| format!(r#""{location}":{ms}"#))
        .collect();
    format!(
        r#"{{"TicketId":"t{id}","StartTime":{start_time},"Players":[{{"PlayerId":"p{id}","PlayerAttributes":{{"skill":{{"N":{skill}}},"gamesPlayed":{{"N":50}}}},"LatencyInMs":{{{}}}}}]}}"#,
        latencies.join(",")
    )
}

/// Five solo tickets for `ranked_duel`: t1/t2 and t3/t4 are within its 100-point `SkillGap`
/// of each other and far from every other ticket; t5 is far from everyone. t1 and t2 can play
/// at both locations, nearer at `us-east-1` (so nearest first is not alphabetical order).
fn pool() -> String {
    [
        ticket(1, 0, 1200, &[("us-east-1", 40), ("eu-west-1", 90)]),
        ticket(2, 0, 1230, &[("us-east-1", 45), ("eu-west-1", 80)]),
        ticket(3, 0, 1600, &[("us-east-1", 50)]),
        ticket(4, 0, 1650, &[("us-east-1", 60)]),
        ticket(5, 0, 2500, &[("us-east-1", 40)]),
    ]
    .join("\n")
        + "\n"
}

/// A temporary folder holding `tickets.jsonl`, removed when dropped.
struct Tickets {
    dir: PathBuf,
    file: PathBuf,
}

impl Tickets {
    fn new(name: &str, lines: &str) -> Tickets {
        let dir = temp_dir(&format!("match-{name}"));
        let file = dir.join("tickets.jsonl");
        std::fs::write(&file, lines).unwrap();
        Tickets { dir, file }
    }

    fn path(&self) -> &str {
        self.file.to_str().unwrap()
    }
}

impl Drop for Tickets {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run_match(rules: &str, tickets: &Tickets, extra: &[&str]) -> Output {
    let mut args = vec!["match", "--rules", rules, "--tickets", tickets.path()];
    args.extend_from_slice(extra);
    rally(&args, None)
}

/// Runs `rally match --format json` and parses its report, insisting on success.
fn match_json(rules: &str, tickets: &Tickets, extra: &[&str]) -> (String, Value) {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    let output = run_match(rules, tickets, &args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    let report = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}:\n{text}"));
    (text, report)
}

fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn set<'a>(items: impl IntoIterator<Item = &'a str>) -> BTreeSet<&'a str> {
    items.into_iter().collect()
}

/// Lowercase hexadecimal in groups of 8-4-4-4-12.
fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .flat_map(|g| g.chars())
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

/// The ticket ids of each match, as sets, in the report's order.
fn matched_tickets(report: &Value) -> Vec<BTreeSet<String>> {
    report["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|found| {
            found["teams"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|team| team["players"].as_array().unwrap())
                .map(|player| player["ticketId"].as_str().unwrap().to_string())
                .collect()
        })
        .collect()
}

fn ids(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn unmatched<'a>(report: &'a Value, ticket_id: &str) -> Option<&'a Value> {
    report["unmatched"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["ticketId"] == ticket_id)
}

#[test]
fn match_json_reports_pairs_unmatched_tickets_and_rule_metrics() {
    let tickets = Tickets::new("json-shape", &pool());
    let (_, report) = match_json(RANKED_DUEL, &tickets, &[]);

    assert_eq!(
        keys(&report),
        set(["matches", "unmatched", "ruleEvaluationMetrics"]),
        "{report:#}"
    );

    // The close pairs play each other; nobody else is matched.
    assert_eq!(
        matched_tickets(&report),
        vec![ids(&["t1", "t2"]), ids(&["t3", "t4"])],
        "{report:#}"
    );

    let matches = report["matches"].as_array().unwrap();
    let mut match_ids = BTreeSet::new();
    for found in matches {
        assert_eq!(
            keys(found),
            set(["matchId", "teams", "locations"]),
            "{found:#}"
        );
        let id = found["matchId"].as_str().expect("matchId is a string");
        assert!(is_uuid(id), "matchId `{id}` is not UUID-shaped");
        assert!(match_ids.insert(id), "matchId `{id}` is repeated");

        let teams = found["teams"].as_array().unwrap();
        let names: Vec<&str> = teams.iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["duelist_1", "duelist_2"], "{found:#}");
        for team in teams {
            assert_eq!(keys(team), set(["name", "players"]), "{team:#}");
            let players = team["players"].as_array().unwrap();
            assert_eq!(
                players.len(),
                1,
                "a duelist team holds one player: {team:#}"
            );
            for player in players {
                assert_eq!(keys(player), set(["playerId", "ticketId"]), "{player:#}");
                let player_id = player["playerId"].as_str().unwrap();
                let ticket_id = player["ticketId"].as_str().unwrap();
                // Each test ticket `tN` carries the one player `pN`.
                assert_eq!(&player_id[1..], &ticket_id[1..], "{player:#}");
                assert!(player_id.starts_with('p') && ticket_id.starts_with('t'));
            }
        }
    }

    // Locations are names, nearest (lowest average latency) first; t3/t4 share only one.
    assert_eq!(
        matches[0]["locations"],
        serde_json::json!(["us-east-1", "eu-west-1"])
    );
    assert_eq!(matches[1]["locations"], serde_json::json!(["us-east-1"]));

    let waiting = report["unmatched"].as_array().unwrap();
    assert_eq!(waiting.len(), 1, "{report:#}");
    let t5 = unmatched(&report, "t5").expect("t5 is unmatched");
    assert_eq!(keys(t5), set(["ticketId", "reasons"]), "{t5:#}");
    let reasons = t5["reasons"].as_array().unwrap();
    assert!(!reasons.is_empty(), "{t5:#}");
    assert!(
        reasons
            .iter()
            .all(|r| r.as_str().is_some_and(|r| !r.trim().is_empty())),
        "{t5:#}"
    );

    // Every rule that passes or fails is reported, in the rule set's order; the sort rule
    // (`ClosestRatingFirst`) neither passes nor fails.
    let metrics = report["ruleEvaluationMetrics"].as_array().unwrap();
    let rule_names: Vec<&str> = metrics
        .iter()
        .map(|m| m["ruleName"].as_str().unwrap())
        .collect();
    assert_eq!(rule_names, ["SkillGap", "Calibrated", "FairPing"]);
    for metric in metrics {
        assert_eq!(
            keys(metric),
            set(["ruleName", "passedCount", "failedCount"]),
            "{metric:#}"
        );
        let passed = metric["passedCount"].as_u64();
        let failed = metric["failedCount"].as_u64();
        assert!(passed.is_some() && failed.is_some(), "{metric:#}");
        // Both matches passed every rule.
        assert!(passed.unwrap() >= 2, "{metric:#}");
    }
}

#[test]
fn match_output_depends_only_on_input_and_seed() {
    let tickets = Tickets::new("seed", &pool());
    let (first, first_report) = match_json(RANKED_DUEL, &tickets, &["--seed", "7"]);
    let (again, _) = match_json(RANKED_DUEL, &tickets, &["--seed", "7"]);
    assert_eq!(first, again, "the same input and seed print the same bytes");

    let (other, other_report) = match_json(RANKED_DUEL, &tickets, &["--seed", "8"]);
    assert_ne!(first, other, "another seed gives other match ids");

    let match_ids = |report: &Value| -> Vec<String> {
        report["matches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["matchId"].as_str().unwrap().to_string())
            .collect()
    };
    let (ids_7, ids_8) = (match_ids(&first_report), match_ids(&other_report));
    assert_eq!(ids_7.len(), 2);
    assert!(
        ids_7.iter().all(|id| !ids_8.contains(id)),
        "{ids_7:?} {ids_8:?}"
    );

    // With the match ids blanked out, the reports are identical: same pairs, teams,
    // locations, unmatched tickets and metrics.
    let without_ids = |mut report: Value| {
        for found in report["matches"].as_array_mut().unwrap() {
            found["matchId"] = Value::Null;
        }
        report
    };
    assert_eq!(without_ids(first_report), without_ids(other_report));
}

#[test]
fn match_leaves_tickets_that_start_after_the_batch_unmatched() {
    let lines = [
        ticket(1, 0, 1200, &[("us-east-1", 40)]),
        ticket(2, 10, 1220, &[("us-east-1", 45)]),
    ]
    .join("\n");
    let tickets = Tickets::new("at", &lines);

    // By default the batch runs at the latest StartTime, when both have started.
    let (_, report) = match_json(RANKED_DUEL, &tickets, &[]);
    assert_eq!(
        matched_tickets(&report),
        vec![ids(&["t1", "t2"])],
        "{report:#}"
    );
    let (_, report) = match_json(RANKED_DUEL, &tickets, &["--at", "10"]);
    assert_eq!(matched_tickets(&report), vec![ids(&["t1", "t2"])]);

    // At 5 s, t2 (StartTime 10) has not started yet.
    let (_, report) = match_json(RANKED_DUEL, &tickets, &["--at", "5"]);
    assert!(matched_tickets(&report).is_empty(), "{report:#}");
    let t2 = unmatched(&report, "t2").expect("t2 is unmatched");
    let reasons: Vec<&str> = t2["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("after the batch time") && r.contains("10s")),
        "{reasons:?}"
    );
    assert!(unmatched(&report, "t1").is_some(), "{report:#}");
}

/// Five tickets with `bad_line` as line `line`.
fn pool_with_bad_line(line: usize, bad_line: &str) -> String {
    let mut lines: Vec<String> = pool().lines().map(str::to_string).collect();
    lines[line - 1] = bad_line.to_string();
    lines.join("\n") + "\n"
}

/// Exit 1, nothing on standard output, whatever the format.
fn assert_refused(tickets: &Tickets) -> String {
    let mut messages = Vec::new();
    for format in ["json", "text"] {
        let output = run_match(RANKED_DUEL, tickets, &["--format", format]);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert_eq!(stdout(&output), "", "no partial output");
        messages.push(stderr(&output));
    }
    assert_eq!(messages[0], messages[1]);
    messages.swap_remove(0)
}

#[test]
fn match_refuses_a_ticket_with_a_mistyped_field() {
    let bad = r#"{"TicketId":"t3","StartTime":0,"Players":[{"PlayerId":"p3","PlayerAttributes":{"skill":{"N":"high"}}}]}"#;
    let tickets = Tickets::new("bad-field", &pool_with_bad_line(3, bad));
    let message = assert_refused(&tickets);
    assert!(message.contains(tickets.path()), "{message}");
    assert!(message.contains("line 3"), "{message}");
    assert!(
        message.contains("Players[0].PlayerAttributes.skill.N"),
        "{message}"
    );
}

#[test]
fn match_refuses_a_line_that_is_not_json() {
    let bad = r#"{"TicketId":"t2","StartTime":zero,"Players":[{"PlayerId":"p2"}]}"#;
    let tickets = Tickets::new("bad-json", &pool_with_bad_line(2, bad));
    let message = assert_refused(&tickets);
    assert!(message.contains(tickets.path()), "{message}");
    assert!(message.contains("line 2"), "{message}");
    assert!(message.contains("`StartTime`"), "{message}");
}

#[test]
fn match_explains_a_byte_order_mark_a_cut_off_line_and_a_line_that_is_no_object() {
    let cases = [
        (
            1,
            format!("\u{FEFF}{}", ticket(1, 0, 1200, &[("us-east-1", 40)])),
            "line 1: expected a ticket, a JSON object `{…}` on one line; found a byte-order mark (U+FEFF) before it; save the file as UTF-8 without one",
        ),
        (
            4,
            r#"{"TicketId":"t4","StartTime":0,"Players":[{"PlayerId":"p4","#.to_string(),
            "line 4: `Players[0]`: the line ends in the middle of the ticket (after 59 characters): it looks cut short",
        ),
        (
            5,
            r#"["t5"]"#.to_string(),
            "line 5: expected a ticket, a JSON object `{…}` on one line; found an array",
        ),
    ];
    for (line, bad, expected) in cases {
        let tickets = Tickets::new(
            &format!("unreadable-{line}"),
            &pool_with_bad_line(line, &bad),
        );
        let message = assert_refused(&tickets);
        assert_eq!(message, format!("error: `{}` {expected}\n", tickets.path()));
    }
}

#[test]
fn match_warns_of_attributes_the_rule_set_does_not_declare() {
    let misspelt = r#"{"TicketId":"t6","StartTime":0,"Players":[{"PlayerId":"p6","PlayerAttributes":{"skil":{"N":1200},"gamesPlayed":{"N":50}},"LatencyInMs":{"us-east-1":40}}]}"#;
    let tickets = Tickets::new("undeclared", &format!("{}{misspelt}\n", pool()));
    let output = run_match(RANKED_DUEL, &tickets, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        format!(
            "warning: `{}` line 6: `Players[0].PlayerAttributes.skil`: the rule set declares no attribute `skil`; did you mean `skill`?\n",
            tickets.path()
        )
    );
    // The ticket still waits, for the attribute it lacks.
    assert!(
        stdout(&output).contains("unmatched t6"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn match_text_output_lists_matches_and_counts_them() {
    let tickets = Tickets::new("text", &pool());
    let output = run_match(RANKED_DUEL, &tickets, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    let match_lines = text.lines().filter(|l| l.starts_with("match ")).count();
    assert_eq!(match_lines, 2, "{text}");
    assert!(text.contains("  duelist_1: "), "{text}");
    assert!(text.contains("  duelist_2: "), "{text}");
    assert!(text.contains("unmatched t5\n"), "{text}");
    let summary = text.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with("2 matches, 4 players matched"),
        "{text}"
    );
}

#[test]
fn match_exits_zero_when_nothing_matches() {
    let tickets = Tickets::new("none", &ticket(1, 0, 1200, &[("us-east-1", 40)]));
    let (_, report) = match_json(RANKED_DUEL, &tickets, &[]);
    assert_eq!(report["matches"], serde_json::json!([]));
    assert!(unmatched(&report, "t1").is_some(), "{report:#}");
}

#[test]
fn bench_standing_reports_a_standing_pools_batches_beside_one_from_scratch() {
    let output = rally(
        &[
            "bench",
            "--rules",
            "fixtures/rulesets/bench_standing.rules",
            "--standing",
            "600",
            "--tickets",
            "50",
            "--batches",
            "3",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        keys(&report),
        set([
            "tickets",
            "standing",
            "batches",
            "matches",
            "incremental_batch_ms",
            "incremental_batch_max_ms",
            "scratch_batch_ms",
            "peak_rss_bytes",
        ]),
        "{report:#}"
    );
    assert_eq!(report["tickets"], 50);
    assert_eq!(report["batches"], 3);
    let standing = report["standing"].as_u64().unwrap();
    assert!(
        standing > 300 && standing <= 600,
        "most tickets wait, as the fixture intends: {report:#}"
    );
    let median = report["incremental_batch_ms"].as_f64().unwrap();
    let most = report["incremental_batch_max_ms"].as_f64().unwrap();
    assert!(0.0 <= median && median <= most, "{report:#}");
    assert!(report["scratch_batch_ms"].as_f64().unwrap() > 0.0);
    // Batches need a standing pool to measure.
    let output = rally(
        &[
            "bench",
            "--rules",
            BENCH_1V1,
            "--tickets",
            "10",
            "--batches",
            "3",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--standing"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn bench_json_reports_the_documented_numbers() {
    let output = rally(
        &[
            "bench",
            "--rules",
            BENCH_1V1,
            "--tickets",
            "2000",
            "--seed",
            "3",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        keys(&report),
        set([
            "tickets",
            "matches",
            "players_matched",
            "batch_ms",
            "tickets_per_sec",
            "peak_rss_bytes",
        ]),
        "{report:#}"
    );
    let count = |key: &str| {
        report[key]
            .as_u64()
            .unwrap_or_else(|| panic!("`{key}` is not a whole number: {report:#}"))
    };
    let number = |key: &str| {
        assert!(report[key].is_number(), "`{key}`: {report:#}");
        report[key].as_f64().unwrap()
    };
    let (tickets, matches, players) =
        (count("tickets"), count("matches"), count("players_matched"));
    assert_eq!(tickets, 2000);
    assert!(matches > 0, "{report:#}");
    assert_eq!(players, 2 * matches, "1v1: two players a match");
    assert!(players <= tickets, "{report:#}");
    assert!(number("batch_ms") >= 0.0, "{report:#}");
    assert!(number("tickets_per_sec") > 0.0, "{report:#}");
    if cfg!(target_os = "linux") {
        assert!(count("peak_rss_bytes") > 0, "{report:#}");
    } else {
        // Measured from /proc: elsewhere it may be unknown.
        assert!(
            report["peak_rss_bytes"].is_null() || count("peak_rss_bytes") > 0,
            "{report:#}"
        );
    }
}

fn assert_missing_file_named(output: &Output, path: &str) {
    assert_ne!(output.status.code(), Some(0), "{}", stderr(output));
    assert!(output.status.code().is_some(), "rally exited, not killed");
    assert_eq!(stdout(output), "");
    assert!(stderr(output).contains(path), "{}", stderr(output));
}

#[test]
fn match_and_bench_name_a_missing_file() {
    let tickets = Tickets::new("missing", &pool());
    let missing = tickets.dir.join("no-such.rules");
    let missing = missing.to_str().unwrap();

    let output = run_match(missing, &tickets, &[]);
    assert_missing_file_named(&output, missing);

    let no_tickets = tickets.dir.join("no-such.jsonl");
    let no_tickets = no_tickets.to_str().unwrap();
    let output = rally(
        &["match", "--rules", RANKED_DUEL, "--tickets", no_tickets],
        None,
    );
    assert_missing_file_named(&output, no_tickets);

    let output = rally(&["bench", "--rules", missing, "--tickets", "10"], None);
    assert_missing_file_named(&output, missing);
}

#[test]
fn a_batch_time_that_is_not_a_finite_number_is_a_usage_error() {
    let tickets = Tickets::new("at-nan", &pool());
    for at in ["NaN", "inf", "-infinity", "soon"] {
        let output = run_match(RANKED_DUEL, &tickets, &[&format!("--at={at}")]);
        assert_eq!(output.status.code(), Some(2), "--at {at}");
        assert!(stdout(&output).is_empty());
        assert!(
            stderr(&output).contains(&format!("`{at}`")),
            "{}",
            stderr(&output)
        );
    }
}
