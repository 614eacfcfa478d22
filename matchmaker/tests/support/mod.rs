//! Helpers shared by the matcher's integration tests.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

pub mod checker;

use std::path::PathBuf;
use std::sync::Arc;

use rally_matchmaker::pool::Pool;
use rally_matchmaker::ticket::TicketRequest;
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

/// Tickets from JSON Lines in GameLift's shape; panics on a malformed line.
pub fn tickets(jsonl: &str) -> Vec<TicketRequest> {
    rally_matchmaker::ticket::parse_ticket_lines(jsonl)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|(_, ticket)| ticket)
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
    for ticket in tickets {
        pool.insert(ticket)
            .unwrap_or_else(|e| panic!("{}: {e}", ticket.ticket_id));
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
