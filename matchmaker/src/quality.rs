//! Yardsticks for the matcher: how many matches a pool allows at most, to compare a batch's
//! result with. Used by tests and benchmarks, never by the matcher itself.

use crate::analysis::Analysis;
use crate::filters::{FilterState, widest};
use crate::index::{Placement, VariantIndex};
use crate::params::ParamsTable;
use crate::pool::Pool;

/// For a rule set whose matches are two solo players (a 1v1) and whose rules the filters
/// state exactly, an upper bound on the matches any matcher could form from the tickets
/// started by `now`: two tickets that may play each other are in one component of the
/// compatibility graph, and a component of `n` tickets holds at most `n / 2` pairs. `None`
/// for other rule sets.
pub fn pair_bound(pool: &Pool, now: f64) -> Option<usize> {
    let rule_set = pool.rule_set();
    let table = ParamsTable::new(rule_set);
    let every_age = table.all();
    let analysis = Analysis::of(rule_set);
    if !analysis.exact || every_age.iter().any(|p| p.max_players() != 2) {
        return None;
    }
    let mut states = Vec::new();
    for key in pool.keys() {
        let ticket = pool.ticket(key);
        if ticket.start_time > now || !ticket.unmatchable().is_empty() {
            continue;
        }
        if ticket.players.len() != 1 || ticket.is_backfill() {
            return None;
        }
        // With the widest values of every age: whatever the match's age, a compatible pair
        // passes these.
        let (filters, fails) = FilterState::of_ticket(pool, ticket, &analysis, every_age);
        if fails.is_none() {
            let locations = filters.feasible_locations(&analysis, every_age);
            states.push((filters, locations));
        }
    }
    let window = match analysis.spreads.first() {
        Some(spread) => widest(every_age, |p| Some(spread.bound(p)), 0.0),
        None => f64::INFINITY,
    };
    let placements: Vec<Option<Placement<'_>>> = states
        .iter()
        .map(|(filters, locations)| {
            Some(Placement {
                keys: &filters.equal,
                locations: locations.as_deref(),
                axis: filters.ranges.first().map_or(0.0, |r| r.0),
                players: 1,
            })
        })
        .collect();
    let index = VariantIndex::build(&placements, pool.locations().id_bound());
    let mut parent: Vec<usize> = (0..states.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (a, b) in index.neighbours(window) {
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        parent[ra.max(rb)] = ra.min(rb);
    }
    let mut sizes = vec![0usize; states.len()];
    for i in 0..states.len() {
        sizes[root(&mut parent, i)] += 1;
    }
    Some(sizes.iter().map(|n| n / 2).sum())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::ticket::json::parse_ticket;
    use rally_rules::{SourceFormat, check_source};

    #[test]
    fn counts_pairs_per_component_of_the_compatibility_graph() {
        let rule_set = check_source(
            "attribute skill: number\nteam duelist players 1 quantity 2\n\
             rule close: distance max(flatten(teams[*].players.attributes[skill])) to min(flatten(teams[*].players.attributes[skill])) max 100\n\
             rule ping: latency max 100ms\n",
            SourceFormat::Dsl,
        )
        .rule_set
        .unwrap();
        let mut pool = Pool::new(Arc::new(rule_set));
        // East: 1000, 1050, 1120 chain into one component of three; 1500 is alone. West:
        // 1000 and 1090 pair. The west 1000 and the east 1000 share no location.
        for (i, (skill, location)) in [
            (1000, "east"),
            (1050, "east"),
            (1120, "east"),
            (1500, "east"),
            (1000, "west"),
            (1090, "west"),
        ]
        .iter()
        .enumerate()
        {
            let json = format!(
                r#"{{"TicketId":"t{i}","StartTime":0,"Players":[{{"PlayerId":"p{i}","PlayerAttributes":{{"skill":{{"N":{skill}}}}},"LatencyInMs":{{"{location}":50}}}}]}}"#
            );
            pool.insert(&parse_ticket(&json).unwrap()).unwrap();
        }
        assert_eq!(pair_bound(&pool, 10.0), Some(1 + 1));
    }
}
