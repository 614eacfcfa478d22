//! Every match a simulation proposes, held to the matcher's independent checker: the trace's
//! tickets as the checker reads them, and each PotentialMatchCreated judged at its time.

#![allow(dead_code)]

#[path = "../../../matchmaker/tests/support/checker.rs"]
pub mod checker;
#[path = "../../../engine/tests/support/proposed.rs"]
pub mod proposed;

use rally_engine::events::{Event, MatchmakingEventType};
use rally_matchmaker::ticket::json::TicketRequest;
use rally_rules::model::RuleSet;
use rally_rules::{SourceFormat, check_source};
use rally_sim::{Report, SimError, Simulation};
use serde_json::Value;

use checker::Checker;
use proposed::proposed_match;

pub fn rule_set(source: &str) -> RuleSet {
    check_source(source, SourceFormat::Dsl)
        .rule_set
        .expect("a valid rule set")
}

/// The StartMatchmaking lines of a trace as the checker's tickets, started at their `t`.
pub fn tickets(lines: &[String]) -> Vec<TicketRequest> {
    lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|line| {
            let mut entry: Value = serde_json::from_str(line).ok()?;
            if entry["op"] != "StartMatchmaking" {
                return None;
            }
            let t = entry["t"].as_f64()?;
            let request = entry["request"].as_object_mut()?;
            request.remove("ConfigurationName");
            request.insert("StartTime".into(), t.into());
            serde_json::from_value(Value::Object(request.clone())).ok()
        })
        .collect()
}

/// Every proposed match among `events` passes the checker at its time; how many there were.
pub fn check_matches(rule_set: &RuleSet, sent: &[TicketRequest], events: &[Event]) -> usize {
    let mut checked = 0;
    for event in events {
        let Event::Matchmaking(e) = event else {
            continue;
        };
        if e.event_type != MatchmakingEventType::PotentialMatchCreated {
            continue;
        }
        let found = proposed_match(e);
        Checker::new(rule_set, sent, e.time)
            .check(&found)
            .unwrap_or_else(|error| panic!("the checker refuses {found:?}: {error}"));
        checked += 1;
    }
    checked
}

/// Runs `sim` over `lines`, holds every match it proposes to the checker, and reports.
pub fn run_checked(
    mut sim: Simulation,
    rules: &RuleSet,
    lines: &[String],
) -> Result<(Report, usize), SimError> {
    sim.keep_events();
    for (i, line) in lines.iter().enumerate() {
        sim.push_line(i + 1, line)?;
    }
    sim.run_to_end()?;
    let events = sim.take_events();
    let checked = check_matches(rules, &tickets(lines), &events);
    Ok((sim.finish()?, checked))
}
