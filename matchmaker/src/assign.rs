//! Putting a chosen set of tickets on teams.
//!
//! - Small matches: a depth-first search over tickets (largest parties first), trying for each
//!   the teams it may join — room left, the per-team tests of `analysis` passed — in an order
//!   that balances the teams (fewest players, then lowest total of the balance attribute). A
//!   complete assignment is judged by `eval`; the search stops at the first valid one or when
//!   its budget of judged assignments is spent.
//! - Large matches: FlexMatch's documented fill order — teams below `minPlayers` first, then the
//!   team with the most open slots — and then post-match balancing of the `balancedAttribute`.
//!
//! A backfill ticket's players are already on their teams and stay there.

use rally_rules::model::{AttributeId, TeamId};

use smallvec::SmallVec;

use crate::analysis::Analysis;
use crate::eval::{Evaluation, MatchView, evaluate};
use crate::filters::passes_somewhere;
use crate::params::Params;
use crate::pool::{Pool, Ticket, TicketKey, Value};
use rally_rules::numeric;

/// How many complete assignments a small-match search may judge before giving up.
pub(crate) const ASSIGNMENT_BUDGET: usize = 16;
/// How many partial assignments it may visit on the way.
pub(crate) const NODE_BUDGET: usize = 1_024;

/// The outcome of trying to put tickets on teams.
#[derive(Debug)]
pub(crate) enum Assigned {
    Valid(Vec<Vec<TicketKey>>, Evaluation),
    /// No assignment fits the team sizes and per-team tests.
    NoFit,
    /// Assignments fit, but none satisfied the rules.
    Invalid,
}

/// The sum of a ticket's players' values of a number attribute, and the player count.
fn attribute_total(ticket: &Ticket, attribute: AttributeId) -> f64 {
    ticket
        .players
        .iter()
        .map(|p| match p.values[attribute.0] {
            Value::Number(n) => n,
            _ => 0.0,
        })
        .sum()
}

/// Teams each non-backfill ticket may join: those whose per-team tests every one of its
/// players passes.
fn admissible_teams(
    pool: &Pool,
    ticket: &Ticket,
    params: &Params,
    analysis: &Analysis,
) -> Vec<bool> {
    let mut allowed = vec![true; pool.rule_set().teams.len()];
    for test in &analysis.player_tests {
        if !passes_somewhere(pool, ticket, test, std::slice::from_ref(params)) {
            for team in &test.teams {
                allowed[team.0] = false;
            }
        }
    }
    allowed
}

struct Search<'a> {
    pool: &'a Pool,
    params: &'a Params,
    backfill: Option<TicketKey>,
    /// The attribute teams are balanced on when an assignment fails (team averages).
    balance: Option<AttributeId>,
    tickets: Vec<TicketKey>,
    sizes: Vec<usize>,
    totals: Vec<f64>,
    allowed: Vec<Vec<bool>>,
    teams: Vec<Vec<TicketKey>>,
    counts: Vec<usize>,
    sums: Vec<f64>,
    budget: usize,
    nodes: usize,
    best_invalid: Option<Evaluation>,
    /// A valid assignment found by balancing, which replaces `teams`.
    balanced: Option<Vec<Vec<TicketKey>>>,
    on_judged: &'a mut dyn FnMut(&Evaluation),
}

/// Searches for a valid assignment of a small match. `on_judged` sees every judged assignment
/// (for rule metrics and explanations).
pub(crate) fn assign_small(
    pool: &Pool,
    tickets: &[TicketKey],
    backfill: Option<TicketKey>,
    params: &Params,
    analysis: &Analysis,
    on_judged: &mut dyn FnMut(&Evaluation),
) -> Assigned {
    let team_count = pool.rule_set().teams.len();
    let balance = analysis.closeness.first().copied();
    let mut teams: Vec<Vec<TicketKey>> = vec![Vec::new(); team_count];
    let mut counts = vec![0usize; team_count];
    let mut sums = vec![0.0; team_count];
    if let Some(key) = backfill {
        let ticket = pool.ticket(key);
        for (team, players) in teams.iter_mut().enumerate() {
            let on_team: Vec<usize> = ticket
                .players
                .iter()
                .enumerate()
                .filter(|(_, p)| p.team() == Some(TeamId(team)))
                .map(|(i, _)| i)
                .collect();
            if !on_team.is_empty() {
                players.push(key);
                counts[team] += on_team.len();
                if let Some(attribute) = balance {
                    sums[team] += on_team
                        .iter()
                        .map(|i| match ticket.players[*i].values[attribute.0] {
                            Value::Number(n) => n,
                            _ => 0.0,
                        })
                        .sum::<f64>();
                }
            }
        }
    }
    // Largest parties first: they have the fewest places to go.
    let mut order: Vec<TicketKey> = tickets
        .iter()
        .copied()
        .filter(|k| Some(*k) != backfill)
        .collect();
    order.sort_by(|a, b| {
        let (ta, tb) = (pool.ticket(*a), pool.ticket(*b));
        tb.players.len().cmp(&ta.players.len()).then_with(|| {
            let value = |t: &Ticket| balance.map_or(0.0, |attr| attribute_total(t, attr));
            value(tb).total_cmp(&value(ta))
        })
    });
    let sizes: Vec<usize> = order
        .iter()
        .map(|k| pool.ticket(*k).players.len())
        .collect();
    let totals: Vec<f64> = order
        .iter()
        .map(|k| balance.map_or(0.0, |attr| attribute_total(pool.ticket(*k), attr)))
        .collect();
    let allowed: Vec<Vec<bool>> = order
        .iter()
        .map(|k| admissible_teams(pool, pool.ticket(*k), params, analysis))
        .collect();
    let mut search = Search {
        pool,
        params,
        backfill,
        balance,
        tickets: order,
        sizes,
        totals,
        allowed,
        teams,
        counts,
        sums,
        budget: ASSIGNMENT_BUDGET,
        nodes: NODE_BUDGET,
        best_invalid: None,
        balanced: None,
        on_judged,
    };
    match search.place(0) {
        Some(evaluation) => {
            Assigned::Valid(search.balanced.take().unwrap_or(search.teams), evaluation)
        }
        None => match search.best_invalid {
            Some(_) => Assigned::Invalid,
            None => Assigned::NoFit,
        },
    }
}

impl Search<'_> {
    /// Places tickets `next..`; returns the evaluation of the first valid assignment found.
    fn place(&mut self, next: usize) -> Option<Evaluation> {
        if self.budget == 0 || self.nodes == 0 {
            return None;
        }
        self.nodes -= 1;
        if next == self.tickets.len() {
            return self.judge();
        }
        if self.cannot_fill(next) {
            return None;
        }
        let size = self.sizes[next];
        let key = self.tickets[next];
        for team in self.choices(next) {
            self.teams[team].push(key);
            self.counts[team] += size;
            self.sums[team] += self.totals[next];
            let found = self.place(next + 1);
            if found.is_some() {
                // Leave every placement on the way down in place: the caller reads `teams`.
                return found;
            }
            self.teams[team].pop();
            self.counts[team] -= size;
            self.sums[team] -= self.totals[next];
            if self.budget == 0 || self.nodes == 0 {
                return None;
            }
        }
        None
    }

    /// Judges the complete assignment in `teams` when it fits the team sizes; an invalid one
    /// is kept as the best invalid, and its balanced version judged once.
    fn judge(&mut self) -> Option<Evaluation> {
        let params = self.params;
        let fits = (0..self.teams.len()).all(|t| {
            self.counts[t] >= params.team_min[t] as usize
                && self.counts[t] <= params.team_max[t] as usize
        });
        if !fits {
            return None;
        }
        self.budget -= 1;
        let evaluation = evaluate(
            MatchView {
                pool: self.pool,
                teams: &self.teams,
            },
            params,
        );
        (self.on_judged)(&evaluation);
        if evaluation.is_valid(self.pool.rule_set()) {
            return Some(evaluation);
        }
        self.best_invalid = Some(evaluation);
        // Team averages are the usual culprit: try the balanced version of this
        // assignment once before searching on.
        if let Some(attribute) = self.balance
            && self.budget > 0
        {
            return self.judge_balanced(attribute);
        }
        None
    }

    /// Judges the assignment in `teams` balanced on `attribute`, when balancing changes it;
    /// a valid one is kept in `balanced`.
    fn judge_balanced(&mut self, attribute: AttributeId) -> Option<Evaluation> {
        let mut balanced = self.teams.clone();
        balance(self.pool, &mut balanced, self.backfill, attribute);
        if balanced == self.teams {
            return None;
        }
        self.budget -= 1;
        let evaluation = evaluate(
            MatchView {
                pool: self.pool,
                teams: &balanced,
            },
            self.params,
        );
        (self.on_judged)(&evaluation);
        if !evaluation.is_valid(self.pool.rule_set()) {
            return None;
        }
        self.balanced = Some(balanced);
        Some(evaluation)
    }

    /// Whether the players still to place, tickets `next..`, are too few to fill every team
    /// to its minimum.
    fn cannot_fill(&self, next: usize) -> bool {
        let params = self.params;
        let remaining: usize = self.sizes[next..].iter().sum();
        let shortfall: usize = (0..self.teams.len())
            .map(|t| (params.team_min[t] as usize).saturating_sub(self.counts[t]))
            .sum();
        shortfall > remaining
    }

    /// The teams ticket `next` may join, in the order to try them.
    fn choices(&self, next: usize) -> Vec<usize> {
        let params = self.params;
        let size = self.sizes[next];
        let rule_set = self.pool.rule_set();
        let mut choices: Vec<usize> = (0..self.teams.len())
            .filter(|t| {
                self.allowed[next][*t] && self.counts[*t] + size <= params.team_max[*t] as usize
            })
            .collect();
        // Copies of one definition that are still empty are interchangeable: try one of them.
        let mut seen_empty = Vec::new();
        choices.retain(|t| {
            if !self.teams[*t].is_empty() {
                return true;
            }
            let definition = rule_set.teams[*t].definition;
            let first = !seen_empty.contains(&definition);
            seen_empty.push(definition);
            first
        });
        // Balance as we go: the emptiest team relative to its maximum, then the lowest total.
        choices.sort_by(|a, b| {
            let fill = |t: usize| self.counts[t] as f64 / params.team_max[t].max(1) as f64;
            fill(*a)
                .total_cmp(&fill(*b))
                .then_with(|| self.sums[*a].total_cmp(&self.sums[*b]))
                .then(a.cmp(b))
        });
        choices
    }
}

/// Each ticket placed by [`fill_order`] with its team, and the players on each team.
pub(crate) type Filled = (SmallVec<[(TicketKey, usize); 8]>, SmallVec<[usize; 4]>);

/// FlexMatch's documented fill order: a backfill ticket's players stay on their teams; the
/// other tickets, larger parties first, go to a team below its minimum if any, else to the
/// team with the most open slots. Returns each other ticket's team and the players per team;
/// `None` when a party fits no team.
pub(crate) fn fill_order(
    pool: &Pool,
    tickets: &[TicketKey],
    backfill: Option<TicketKey>,
    params: &Params,
) -> Option<Filled> {
    let sized: SmallVec<[(TicketKey, usize); 8]> = tickets
        .iter()
        .map(|k| (*k, pool.ticket(*k).players.len()))
        .collect();
    fill_order_sized(pool, &sized, backfill, params)
}

/// [`fill_order`] for tickets given with their number of players, as the search knows them
/// (so that placing a set reads no ticket but a backfill one).
pub(crate) fn fill_order_sized(
    pool: &Pool,
    tickets: &[(TicketKey, usize)],
    backfill: Option<TicketKey>,
    params: &Params,
) -> Option<Filled> {
    let team_count = pool.rule_set().teams.len();
    let mut counts: SmallVec<[usize; 4]> = smallvec::smallvec![0; team_count];
    if let Some(key) = backfill {
        for player in &pool.ticket(key).players {
            counts[player.team().expect("backfill players have teams").0] += 1;
        }
    }
    // Larger parties first (first-fit decreasing): in arrival order, a party of four can find
    // every team one seat short. Within a size the given order stands.
    let mut order: SmallVec<[(TicketKey, usize); 8]> = tickets
        .iter()
        .filter(|(k, _)| Some(*k) != backfill)
        .copied()
        .collect();
    order.sort_by_key(|(_, size)| std::cmp::Reverse(*size));
    let mut placed = SmallVec::new();
    for (key, size) in order {
        let open = |t: usize| (params.team_max[t] as usize).saturating_sub(counts[t]);
        let below_min = |t: usize| counts[t] < params.team_min[t] as usize;
        // Teams below their minimum first; among those, then all, the most open slots.
        let team = (0..team_count)
            .filter(|t| open(*t) >= size)
            .max_by(|a, b| {
                below_min(*a)
                    .cmp(&below_min(*b))
                    .then(open(*a).cmp(&open(*b)))
                    .then(b.cmp(a))
            })?;
        placed.push((key, team));
        counts[team] += size;
    }
    Some((placed, counts))
}

/// Teams as lists of tickets from [`fill_order`]'s placement; a backfill ticket first on
/// each team it has players on.
pub(crate) fn team_lists(
    pool: &Pool,
    backfill: Option<TicketKey>,
    placed: &[(TicketKey, usize)],
) -> Vec<Vec<TicketKey>> {
    let mut teams: Vec<Vec<TicketKey>> = vec![Vec::new(); pool.rule_set().teams.len()];
    if let Some(key) = backfill {
        for player in &pool.ticket(key).players {
            let team = player.team().expect("backfill players have teams").0;
            if !teams[team].contains(&key) {
                teams[team].push(key);
            }
        }
    }
    for (key, team) in placed {
        teams[*team].push(*key);
    }
    teams
}

/// Large matches: FlexMatch's fill order, then balancing. Returns `None` when a party fits no
/// team. The result is not judged here.
pub(crate) fn assign_large(
    pool: &Pool,
    tickets: &[TicketKey],
    backfill: Option<TicketKey>,
    params: &Params,
    balanced: Option<AttributeId>,
) -> Option<Vec<Vec<TicketKey>>> {
    let (placed, _) = fill_order(pool, tickets, backfill, params)?;
    let mut teams = team_lists(pool, backfill, &placed);
    if let Some(attribute) = balanced {
        balance(pool, &mut teams, backfill, attribute);
    }
    Some(teams)
}

/// Post-match balancing: swaps same-size parties between the teams with the highest and the
/// lowest average of `attribute` while that narrows the gap. Team sizes never change and
/// backfill players stay put.
pub(crate) fn balance(
    pool: &Pool,
    teams: &mut [Vec<TicketKey>],
    backfill: Option<TicketKey>,
    attribute: AttributeId,
) {
    // Each ticket's players on its team and their total, read from the pool once.
    let mut entries: Vec<Vec<Entry>> = teams
        .iter()
        .enumerate()
        .map(|(team, keys)| {
            keys.iter()
                .map(|key| Entry::of(pool.ticket(*key), team, Some(*key) == backfill, attribute))
                .collect()
        })
        .collect();
    let mut stats: Vec<(f64, f64)> = entries
        .iter()
        .map(|team| {
            team.iter().fold((0.0, 0.0), |(sum, count), e| {
                (sum + e.total, count + e.counted)
            })
        })
        .collect();
    let average = |(sum, count): (f64, f64)| if count > 0.0 { sum / count } else { f64::NAN };
    // Each pass makes one swap; the gap shrinks every time, so this ends.
    for _ in 0..teams.iter().map(Vec::len).sum::<usize>() {
        let averages: Vec<f64> = stats.iter().map(|s| average(*s)).collect();
        let ranked = (0..teams.len()).filter(|t| !averages[*t].is_nan());
        let (Some(high), Some(low)) = (
            ranked
                .clone()
                .max_by(|a, b| averages[*a].total_cmp(&averages[*b])),
            ranked.min_by(|a, b| averages[*a].total_cmp(&averages[*b])),
        ) else {
            return;
        };
        let gap = averages[high] - averages[low];
        if gap <= 0.0 {
            return;
        }
        let mut best: Option<(usize, usize, f64)> = None;
        for (i, a) in entries[high].iter().enumerate() {
            for (j, b) in entries[low].iter().enumerate() {
                if a.backfill || b.backfill || a.size != b.size {
                    continue;
                }
                let moved = a.total - b.total;
                let new_high = (stats[high].0 - moved) / stats[high].1;
                let new_low = (stats[low].0 + moved) / stats[low].1;
                let new_gap = (new_high - new_low).abs();
                if numeric::lt(new_gap, gap) && best.is_none_or(|(_, _, g)| new_gap < g) {
                    best = Some((i, j, new_gap));
                }
            }
        }
        let Some((i, j, _)) = best else { return };
        let moved = entries[high][i].total - entries[low][j].total;
        stats[high].0 -= moved;
        stats[low].0 += moved;
        let key = teams[high][i];
        teams[high][i] = teams[low][j];
        teams[low][j] = key;
        let entry = entries[high][i];
        entries[high][i] = entries[low][j];
        entries[low][j] = entry;
    }
}

/// A ticket as balancing sees it on one team.
#[derive(Clone, Copy, Debug)]
struct Entry {
    /// A backfill ticket's players stay on their teams.
    backfill: bool,
    size: usize,
    /// Its players on the team, and the total of their values.
    counted: f64,
    total: f64,
}

impl Entry {
    fn of(ticket: &Ticket, team: usize, backfill: bool, attribute: AttributeId) -> Entry {
        let players = ticket
            .players
            .iter()
            .filter(|p| !backfill || p.team() == Some(TeamId(team)));
        let (total, counted) =
            players.fold((0.0, 0.0), |(sum, count), p| match p.values[attribute.0] {
                Value::Number(n) => (sum + n, count + 1.0),
                _ => (sum, count + 1.0),
            });
        Entry {
            backfill,
            size: ticket.players.len(),
            counted,
            total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ticket::json::parse_ticket;
    use rally_rules::{SourceFormat, check_source};
    use std::sync::Arc;

    /// A pool of solo tickets `t0`, `t1`, … with the given skills, and their keys.
    fn pool(dsl: &str, skills: &[f64]) -> (Pool, Vec<TicketKey>) {
        let checked = check_source(dsl, SourceFormat::Dsl);
        let mut pool = Pool::new(Arc::new(checked.rule_set.expect("valid rules")));
        let keys = skills
            .iter()
            .enumerate()
            .map(|(i, skill)| {
                let line = format!(
                    r#"{{"TicketId":"t{i}","Players":[{{"PlayerId":"p{i}","PlayerAttributes":{{"skill":{{"N":{skill}}}}}}}]}}"#
                );
                pool.insert(&parse_ticket(&line).unwrap()).unwrap()
            })
            .collect();
        (pool, keys)
    }

    #[test]
    fn teams_fill_in_flexmatchs_documented_order() {
        // The worked example of FlexMatch's large-match docs: Red and Blue hold 5 to 10,
        // Green 2 to 3.
        let (pool, keys) = pool(
            "attribute skill: number\nteam red players 5..10\nteam blue players 5..10\nteam green players 2..3\n",
            &[1000.0; 24],
        );
        let params = pool.params_table().at(0.0);
        let counts = |n: usize| {
            fill_order(&pool, &keys[..n], None, params).map(|(_, counts)| counts.to_vec())
        };
        // The first ten fill Red and Blue to their minimum, the next two Green's; then the
        // most open slots decide, and the last three take one seat each.
        assert_eq!(counts(10), Some(vec![5, 5, 0]));
        assert_eq!(counts(12), Some(vec![5, 5, 2]));
        assert_eq!(counts(20), Some(vec![9, 9, 2]));
        assert_eq!(counts(23), Some(vec![10, 10, 3]));
        assert_eq!(counts(24), None, "a 24th player fits no team");
    }

    #[test]
    fn post_match_balancing_evens_the_teams_without_resizing_them() {
        let (pool, keys) = pool(
            "attribute skill: number\nteam red players 4\nteam blue players 4\n",
            &[100.0, 110.0, 120.0, 130.0, 300.0, 310.0, 320.0, 330.0],
        );
        let average = |team: &[TicketKey]| {
            team.iter()
                .map(|k| match pool.ticket(*k).players[0].values[0] {
                    Value::Number(n) => n,
                    _ => unreachable!("every player sent a skill"),
                })
                .sum::<f64>()
                / team.len() as f64
        };
        let mut teams = vec![keys[..4].to_vec(), keys[4..].to_vec()];
        assert_eq!(average(&teams[1]) - average(&teams[0]), 200.0);
        balance(&pool, &mut teams, None, AttributeId(0));
        assert_eq!((teams[0].len(), teams[1].len()), (4, 4));
        let gap = (average(&teams[0]) - average(&teams[1])).abs();
        assert!(gap <= 5.0, "teams still {gap} apart: {teams:?}");
        let mut all: Vec<TicketKey> = teams.concat();
        all.sort();
        assert_eq!(all, keys, "every ticket still plays, once");
    }
}
