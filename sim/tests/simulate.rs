//! The simulator end to end on traces small enough to work out by hand, on generated traffic
//! for determinism, and on bad traces.

mod support;

use rally_sim::{Behaviour, SimError, Simulation};

const DUEL: &str = r#"
ruleset "duel"
attribute skill: number
team duelist players 1 quantity 2
rule SkillGap: distance max(flatten(teams[*].players.attributes[skill]))
    to min(flatten(teams[*].players.attributes[skill]))
    max 100
rule FairPing: latency max 150ms
"#;

fn start(t: f64, id: &str, skill: f64, latency: u32) -> String {
    format!(
        r#"{{"t": {t}, "op": "StartMatchmaking", "request": {{"TicketId": "{id}", "ConfigurationName": "anything", "Players": [{{"PlayerId": "p-{id}", "PlayerAttributes": {{"skill": {{"N": {skill}}}}}, "LatencyInMs": {{"us-east-1": {latency}}}}}]}}}}"#
    )
}

fn stop(t: f64, id: &str) -> String {
    format!(r#"{{"t": {t}, "op": "StopMatchmaking", "request": {{"TicketId": "{id}"}}}}"#)
}

/// The report of `lines` through the duel, every match it proposed held to the checker.
fn simulate(lines: &[String], seed: u64) -> Result<rally_sim::Report, SimError> {
    let sim = Simulation::standalone(DUEL, Behaviour::default(), seed)?;
    let (report, checked) = support::run_checked(sim, &support::rule_set(DUEL), lines)?;
    let proposed: u64 = report.pool.iter().map(|s| s.matches).sum();
    assert_eq!(checked as u64, proposed, "every proposed match was checked");
    Ok(report)
}

/// `a` (t 0) and `b` (t 0.05) match in the 0.1 s batch; `c` is far from everyone and times
/// out at 0.3 + 120 s; `d` is stopped.
fn hand_trace() -> Vec<String> {
    vec![
        start(0.0, "a", 1000.0, 40),
        start(0.05, "b", 1050.0, 60),
        start(0.3, "c", 5000.0, 20),
        start(0.5, "d", 2000.0, 30),
        String::new(),
        stop(1.0, "d"),
    ]
}

#[test]
fn every_figure_of_a_hand_worked_trace() {
    let report = simulate(&hand_trace(), 1).unwrap();
    let t = &report.tickets;
    assert_eq!(
        (
            t.submitted,
            t.players,
            t.matched,
            t.timed_out,
            t.cancelled,
            t.failed
        ),
        (4, 4, 2, 1, 1, 0)
    );
    assert!(t.refused.is_empty());
    assert_eq!(report.simulated_seconds, 120.3);
    // Waits: `a` 100 ms (0 → 0.1), `b` 50 ms.
    let waits = &report.time_to_match_ms.overall;
    assert_eq!(waits.count, 2);
    assert_eq!(waits.mean, Some(75.0));
    assert_eq!(waits.p50, Some(50.0));
    assert_eq!(waits.max, Some(100.0));
    assert_eq!(report.time_to_match_ms.by_location["us-east-1"].count, 2);
    let curve = &report.curves.time_to_match_ms;
    assert_eq!(
        (curve.len(), curve[0], curve[50], curve[100]),
        (101, 50.0, 50.0, 100.0)
    );
    assert_eq!(report.curves.skill_spread, vec![50.0; 101]);
    assert_eq!(report.time_to_match_ms.by_party_size[&1].mean, Some(75.0));
    let q = &report.quality;
    assert_eq!(q.attribute.as_deref(), Some("skill"));
    assert_eq!(q.skill_spread.max, Some(50.0));
    assert_eq!(q.team_imbalance.max, Some(50.0));
    assert_eq!(q.average_latency_ms.mean, Some(50.0));
    assert_eq!(q.worst_latency_ms.max, Some(60.0));
    assert_eq!((q.parties, q.parties_kept_together), (0, 0));
    // STANDALONE: nothing placed, nothing hosted.
    assert!(report.placements.by_location.is_empty());
    assert!(report.fleets.is_empty());
    assert_eq!(report.hosting_cost_usd.to_string(), "0");
    for rule in ["SkillGap", "FairPing"] {
        assert_eq!(report.rules[rule].passed, 1, "{rule}");
        assert_eq!(report.rules[rule].failed, 0, "{rule}");
    }
    // The pool, once a second while tickets live: empty at 0 (sampled before `a` arrives);
    // `c` and `d` at 1 s (`d` is stopped after the sample), with the match formed since;
    // `c` alone from 2 s until it times out.
    let pool: Vec<(f64, u64, u64)> = report
        .pool
        .iter()
        .take(3)
        .map(|s| (s.t, s.waiting, s.matches))
        .collect();
    assert_eq!(pool, [(0.0, 0, 0), (1.0, 2, 1), (2.0, 1, 0)]);
    let last = report.pool.last().unwrap();
    assert_eq!((last.t, last.waiting), (120.0, 1));
    assert_eq!(report.pool.len(), 121);
}

#[test]
fn the_same_trace_and_seed_give_the_same_report() {
    let lines = hand_trace();
    let first = serde_json::to_string(&simulate(&lines, 9).unwrap()).unwrap();
    let second = serde_json::to_string(&simulate(&lines, 9).unwrap()).unwrap();
    assert_eq!(first, second);
}

#[test]
fn a_line_out_of_time_order_is_refused_with_its_number() {
    let lines = vec![start(1.0, "a", 1000.0, 40), start(0.5, "b", 1000.0, 40)];
    let error = simulate(&lines, 1).unwrap_err();
    assert_eq!(
        error,
        SimError::OutOfOrder {
            line: 2,
            t: 0.5,
            previous: 1.0
        }
    );
    assert_eq!(
        error.to_string(),
        "line 2: `t` is 0.5, before the previous line's 1: lines must be in time order"
    );
}

#[test]
fn a_malformed_line_is_refused_with_its_number() {
    let lines = vec![
        start(0.0, "a", 1000.0, 40),
        String::new(),
        r#"{"t": 1, "op": "Dance", "request": {}}"#.to_string(),
    ];
    let error = simulate(&lines, 1).unwrap_err();
    let SimError::BadLine { line, message } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(*line, 3);
    assert!(message.contains("Dance"), "{message}");
}

#[test]
fn a_player_giving_up_after_the_match_is_no_refusal() {
    let lines = vec![
        start(0.0, "a", 1000.0, 40),
        start(0.01, "b", 1000.0, 40),
        stop(5.0, "a"),
    ];
    let report = simulate(&lines, 1).unwrap();
    assert_eq!(report.tickets.stops_after_end, 1);
    assert!(report.tickets.refused.is_empty());
    assert_eq!(report.tickets.matched, 2);
}

#[test]
fn a_command_the_engine_refuses_is_counted_by_kind() {
    let accept = r#"{"t": 0.5, "op": "AcceptMatch", "request": {"TicketId": "a", "PlayerIds": ["p-a"], "AcceptanceType": "ACCEPT"}}"#;
    let lines = vec![start(0.0, "a", 1000.0, 40), accept.to_string()];
    let report = simulate(&lines, 1).unwrap();
    assert_eq!(report.tickets.refused["FailedPrecondition"], 1);
    assert_eq!(report.tickets.submitted, 1);
}

/// A day's traffic of parties through a 5v5 with expansions: every match the simulation
/// proposes is one the independent checker accepts at its time.
#[test]
fn generated_5v5_traffic_only_forms_matches_the_checker_accepts() {
    use rally_engine::trace::write_line;
    use rally_matchmaker::generate::Population;
    use rally_sim::traffic::{TrafficOptions, traffic};
    use rand::SeedableRng;

    let source = include_str!("../../fixtures/rulesets/team_5v5.rules");
    let rules = support::rule_set(source);
    let mut options = TrafficOptions::new(60.0, 8.0);
    options.configuration_name = "team-5v5".into();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
    let population = Population::embedded();
    let lines: Vec<String> = traffic(&rules, &population, &options, &mut rng)
        .map(|entry| write_line(&entry))
        .collect();
    let sim = Simulation::standalone(source, Behaviour::default(), 21).unwrap();
    let (report, checked) = support::run_checked(sim, &rules, &lines).unwrap();
    assert!(checked >= 20, "{checked} matches");
    assert!(report.quality.parties > 0, "parties among the matched");
    assert_eq!(report.quality.parties, report.quality.parties_kept_together);
}
