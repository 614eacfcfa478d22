//! The simulator placing matches through a queue: players accepting as the behaviour says,
//! game sessions holding their slot for their duration, and what that hosting cost.

use rally_engine::fleets::FleetSpec;
use rally_engine::{Configuration, Engine, FlexMatchMode};
use rally_placement::json::{parse_fleets, parse_queue};
mod support;

use rally_sim::{Behaviour, Simulation};

const DUEL: &str = r#"
ruleset "duel"
attribute skill: number
team duelist players 1 quantity 2
rule SkillGap: distance max(flatten(teams[*].players.attributes[skill]))
    to min(flatten(teams[*].players.attributes[skill]))
    max 100
"#;

/// One game session at a time, at $0.36 an hour.
const FLEETS: &str = r#"[{"FleetId": "fleet-a", "FleetType": "ON_DEMAND", "InstanceType": "c5.large",
  "Locations": [{"Location": "us-east-1", "HourlyCost": 0.36, "Instances": 1,
  "GameSessionsPerInstance": 1, "MaxPlayers": 10, "Status": "ACTIVE", "SpotViable": true}]}]"#;

const QUEUE: &str = r#"{"Name": "main", "TimeoutInSeconds": 600,
  "Destinations": [{"DestinationArn": "arn:aws:gamelift:us-east-1::fleet/fleet-a"}]}"#;

fn engine(seed: u64) -> Engine {
    let mut engine = Engine::new(Simulation::engine_options(seed));
    engine.create_rule_set(0.0, "duel", DUEL).unwrap();
    for fleet in parse_fleets(FLEETS).unwrap() {
        engine.create_fleet(0.0, FleetSpec::new(fleet)).unwrap();
    }
    engine
        .create_queue(0.0, parse_queue(QUEUE).unwrap())
        .unwrap();
    let mut config = Configuration::new("ranked", "duel");
    config.flex_match_mode = FlexMatchMode::WithQueue;
    config.game_session_queue_names = vec!["main".into()];
    config.acceptance_required = true;
    config.acceptance_timeout_seconds = Some(30);
    engine.create_configuration(0.0, config).unwrap();
    engine
}

fn start(t: f64, id: &str, skill: f64) -> String {
    format!(
        r#"{{"t": {t}, "op": "StartMatchmaking", "request": {{"TicketId": "{id}", "ConfigurationName": "ranked", "Players": [{{"PlayerId": "p-{id}", "PlayerAttributes": {{"skill": {{"N": {skill}}}}}, "LatencyInMs": {{"us-east-1": 30}}}}]}}}}"#
    )
}

/// The report, every match proposed held to the checker.
fn run(behaviour: Behaviour) -> rally_sim::Report {
    let sim = Simulation::new(engine(4), None, behaviour, 4);
    let lines = [
        start(0.0, "a", 1000.0),
        start(0.0, "b", 1010.0),
        start(0.0, "c", 2000.0),
        start(0.0, "d", 2010.0),
    ];
    let (report, checked) = support::run_checked(sim, &support::rule_set(DUEL), &lines).unwrap();
    assert_eq!(checked, 2, "both matches were proposed and checked");
    report
}

#[test]
fn a_second_match_waits_for_the_first_session_to_end() {
    let report = run(Behaviour {
        accept_probability: 1.0,
        accept_delay: (2.0, 2.0),
        session_duration: (60.0, 60.0),
    });
    assert_eq!(report.tickets.matched, 4);
    // The batch at 0 holds `a` alone (the rest arrive after it); both matches form in the
    // next, at 0.1 s, and are accepted at 2.1 s; one slot: the first session runs 2.1 → 62.1
    // s, the second 62.1 → 122.1 s.
    assert_eq!(report.simulated_seconds, 122.1);
    assert_eq!(report.placements.by_location["us-east-1"], 2);
    assert_eq!(report.placements.by_fleet["fleet-a"], 2);
    let fleet = &report.fleets[0];
    assert_eq!(
        (fleet.fleet_id.as_str(), fleet.location.as_str()),
        ("fleet-a", "us-east-1")
    );
    assert_eq!((fleet.game_sessions, fleet.capacity), (2, 1));
    assert_eq!(fleet.session_hours, 0.033);
    // 120 session-seconds of 122.1 capacity-seconds; 120 s at $0.36 an hour.
    assert_eq!(fleet.utilisation, 0.983);
    assert_eq!(fleet.cost_usd, 0.012);
    assert_eq!(report.hosting_cost_usd, 0.012);
    assert_eq!(report.quality.worst_latency_ms.max, Some(30.0));
}

#[test]
fn players_who_never_accept_find_no_match() {
    let report = run(Behaviour {
        accept_probability: 0.0,
        accept_delay: (1.0, 1.0),
        session_duration: (60.0, 60.0),
    });
    assert_eq!(report.tickets.matched, 0);
    // A rejection ends the rejecting tickets: every ticket rejects, so all four.
    assert_eq!(report.tickets.cancelled, 4);
    assert!(report.placements.by_location.is_empty());
}
