//! Helpers shared by the matcher's integration tests.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

pub mod checker;
pub mod optimum;

use std::path::PathBuf;
use std::sync::Arc;

use rally_matchmaker::batch::{BatchOptions, BatchResult, run_batch};
use rally_matchmaker::pool::Pool;
use rally_matchmaker::ticket::json::{TicketRequest, read_request};
use rally_rules::model::RuleSet;
use rally_rules::{SourceFormat, check_source};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Compiles a rule set from a file (JSON or DSL by extension).
pub fn rule_set_from(path: &std::path::Path) -> RuleSet {
    let text = std::fs::read_to_string(path).unwrap();
    let checked = check_source(&text, SourceFormat::detect(Some(path), &text));
    checked
        .rule_set
        .unwrap_or_else(|| panic!("{}: {:?}", path.display(), checked.diagnostics))
}

/// Tickets from JSON Lines in GameLift's shape, as the checker reads them; panics on a
/// malformed line (`pool_of` checks the rest).
pub fn tickets(jsonl: &str) -> Vec<TicketRequest> {
    jsonl
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| read_request(line).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

/// Compiles a rule set written in the DSL; panics on an error.
pub fn rule_set(dsl: &str) -> RuleSet {
    let checked = check_source(dsl, SourceFormat::Dsl);
    checked
        .rule_set
        .unwrap_or_else(|| panic!("{:?}", checked.diagnostics))
}

/// A pool holding `tickets`; panics if one is refused.
pub fn pool_of(rule_set: &RuleSet, tickets: &[TicketRequest]) -> Pool {
    let mut pool = Pool::new(Arc::new(rule_set.clone()));
    for request in tickets {
        let ticket = request
            .clone()
            .into_ticket()
            .unwrap_or_else(|e| panic!("{}: {e}", request.ticket_id));
        pool.insert(&ticket)
            .unwrap_or_else(|e| panic!("{}: {e}", request.ticket_id));
    }
    pool
}

/// The rule sets of the corpus: the project's JSON fixtures, and FlexMatch's published
/// examples when `../shared` is present (the rules crate's tests require them in CI).
pub fn corpus() -> Vec<(String, RuleSet)> {
    let root = repo_root();
    let mut out = Vec::new();
    for dir in [
        root.join("fixtures/rulesets"),
        root.join("../shared/flexmatch-examples"),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
        {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            out.push((name, rule_set_from(&path)));
        }
    }
    out
}

/// One batch at `now` over tickets in JSON Lines; every match is checked. Returns the matches
/// as ticket ids per team (each team's ids sorted), the pool and the raw result.
pub fn run(
    rule_set: &RuleSet,
    jsonl: &str,
    now: f64,
) -> (Vec<checker::CheckedMatch>, Pool, BatchResult) {
    let tickets = tickets(jsonl);
    let pool = pool_of(rule_set, &tickets);
    let result = run_batch(&pool, &BatchOptions { now, seed: 9 });
    let mut matches = checker::described(&pool, &result.matches);
    if let Err(error) = checker::Checker::new(rule_set, &tickets, now).check_all(&matches) {
        panic!("{error}");
    }
    for found in &mut matches {
        found.teams.iter_mut().for_each(|team| team.sort());
    }
    (matches, pool, result)
}

/// The tickets of each match, sorted, for comparing matches regardless of teams.
pub fn groups(matches: &[checker::CheckedMatch]) -> Vec<Vec<String>> {
    let mut groups: Vec<Vec<String>> = matches
        .iter()
        .map(|m| {
            let mut ids: Vec<String> = m.teams.concat();
            ids.sort();
            ids.dedup();
            ids
        })
        .collect();
    groups.sort();
    groups
}

/// Why each unmatched ticket waits, by ticket id.
pub fn reasons(
    pool: &Pool,
    result: &BatchResult,
) -> std::collections::BTreeMap<String, Vec<String>> {
    result
        .unmatched
        .iter()
        .map(|u| (pool.ticket(u.ticket).id.to_string(), u.reasons.clone()))
        .collect()
}
