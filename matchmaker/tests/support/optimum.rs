//! The most matches a pool allows, computed exactly, for rule sets whose matches are two
//! tickets: a maximum matching of the graph whose edges are the pairs the checker accepts.

use petgraph::algo::maximum_matching;
use petgraph::graph::UnGraph;
use rally_matchmaker::ticket::json::TicketRequest;
use rally_rules::model::RuleSet;

use super::checker::{CheckedMatch, Checker};

/// The size of a maximum matching over `tickets` at `now`, when every valid match is two
/// tickets; pairs are tried on every assignment of the two to teams.
pub fn max_pairs(rule_set: &RuleSet, tickets: &[TicketRequest], now: f64) -> usize {
    let checker = Checker::new(rule_set, tickets, now);
    let teams = rule_set.teams.len();
    let mut graph = UnGraph::<(), ()>::new_undirected();
    let nodes: Vec<_> = tickets.iter().map(|_| graph.add_node(())).collect();
    for i in 0..tickets.len() {
        for j in i + 1..tickets.len() {
            let (a, b) = (&tickets[i].ticket_id, &tickets[j].ticket_id);
            let valid = (0..teams).any(|ta| {
                (0..teams).any(|tb| {
                    let mut lists = vec![Vec::new(); teams];
                    lists[ta].push(a.clone());
                    lists[tb].push(b.clone());
                    checker
                        .check_any_location(&CheckedMatch {
                            teams: lists,
                            locations: Vec::new(),
                        })
                        .is_ok()
                })
            });
            if valid {
                graph.add_edge(nodes[i], nodes[j], ());
            }
        }
    }
    maximum_matching(&graph).len()
}
