//! One batch: forming matches from a pool at a moment in time.
//!
//! Tickets are taken as anchors in priority order (`backfillPriority`, then oldest first). For
//! each anchor the other unmatched tickets are filtered by what the rules imply for every pair
//! (a shared location under the latency caps, equal values, spreads — see `analysis`), ordered
//! by the sort rules or by closeness to the anchor, and added greedily towards the teams'
//! maximum. A full set is put on teams (`assign`) and judged (`eval`); if it fails, the last
//! addition is dropped and the search goes on. Without enough candidates for the maximum, the
//! largest set that meets every team's minimum is tried. The first valid match is taken.

use rally_rules::model::{
    BackfillPriority, ExpansionAgeSelection, MapKey, RuleId, RuleKind, RuleSet, SortDirection,
    SortRule,
};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::analysis::Analysis;
use crate::assign::{Assigned, assign_large, assign_small, balance, party_numbers};
use crate::eval::{Evaluation, MatchView, evaluate};
use crate::explain::{Attempt, Exclusion, RuleMetrics};
use crate::filters::FilterState;
use crate::params::{Params, ParamsTable, match_age};
use crate::pool::{LocationId, Pool, Ticket, TicketKey, Value};

/// How many full candidate sets one anchor may try before it waits for the next batch.
pub const MAX_SETS_PER_ANCHOR: usize = 16;

#[derive(Clone, Debug, PartialEq)]
pub struct BatchOptions {
    /// The batch's time, on the tickets' clock (seconds).
    pub now: f64,
    /// Seeds the match ids; the same pool, time and seed give the same matches.
    pub seed: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    pub id: String,
    /// The tickets on each team, by `TeamId`; a backfill ticket is listed on every team it
    /// has players on.
    pub teams: Vec<Vec<TicketKey>>,
    /// Where the match can be played, nearest first.
    pub locations: Vec<LocationId>,
    pub backfill: Option<TicketKey>,
    /// The age the rules were judged at (newest or oldest ticket, per the rule set).
    pub age: f64,
}

impl Match {
    /// Every ticket of the match once.
    pub fn tickets(&self) -> Vec<TicketKey> {
        let mut keys: Vec<TicketKey> = self.teams.iter().flatten().copied().collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Unmatched {
    pub ticket: TicketKey,
    pub reasons: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BatchResult {
    pub matches: Vec<Match>,
    /// Every ticket not matched, with why, in anchor order.
    pub unmatched: Vec<Unmatched>,
    pub metrics: RuleMetrics,
}

/// What the batch knows about each ticket before pairing any: its age and filter state.
struct Profile {
    key: TicketKey,
    age: f64,
    players: usize,
    backfill: bool,
    /// What the ticket is in each variant of the search (see [`Analysis::variants`]).
    variants: Vec<VariantProfile>,
}

/// A ticket in one variant of the search.
struct VariantProfile {
    filters: FilterState,
    /// Values for ordering candidates: per closeness attribute, the ticket's average.
    closeness: Vec<f64>,
    /// A rule the ticket fails on its own, whatever the match.
    alone_fails: Option<RuleId>,
}

/// Forms matches from every ticket in `pool` that had started by `options.now`.
pub fn run_batch(pool: &Pool, options: &BatchOptions) -> BatchResult {
    let rule_set = pool.rule_set();
    let variants = Analysis::variants(rule_set);
    let table = ParamsTable::new(rule_set);
    let started: Vec<TicketKey> = pool
        .keys()
        .filter(|key| pool.ticket(*key).start_time <= options.now)
        .collect();
    let bounds = Bounds {
        table: &table,
        selection: rule_set.algorithm.expansion_age_selection,
        oldest: started
            .iter()
            .map(|key| pool.ticket(*key).age(options.now))
            .fold(0.0, f64::max),
    };
    let mut unmatched = Vec::new();
    let mut profiles = Vec::new();
    for key in pool.keys() {
        let ticket = pool.ticket(key);
        if ticket.start_time > options.now {
            unmatched.push(Unmatched {
                ticket: key,
                reasons: vec![format!(
                    "the ticket starts at {}s, after the batch time {}s",
                    ticket.start_time, options.now
                )],
            });
        } else if !ticket.unmatchable.is_empty() {
            unmatched.push(Unmatched {
                ticket: key,
                reasons: ticket.unmatchable.clone(),
            });
        } else {
            profiles.push(profile(pool, key, options.now, &variants, &bounds));
        }
    }
    let priority = rule_set.algorithm.backfill_priority;
    profiles.sort_by(|a, b| {
        let class = |p: &Profile| match (priority, p.backfill) {
            (BackfillPriority::High, true) | (BackfillPriority::Low, false) => 0,
            (BackfillPriority::High, false) | (BackfillPriority::Low, true) => 1,
            (BackfillPriority::Normal, _) => 0,
        };
        class(a)
            .cmp(&class(b))
            .then(b.age.total_cmp(&a.age))
            .then_with(|| pool.ticket(a.key).id.cmp(&pool.ticket(b.key).id))
    });

    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut matched = vec![false; profiles.len()];
    let mut metrics = RuleMetrics::new(rule_set.rules.len());
    let mut matches = Vec::new();
    let mut attempts: Vec<Option<Attempt>> = (0..profiles.len()).map(|_| None).collect();
    let mut search = Search {
        pool,
        rule_set,
        variants: &variants,
        bounds: &bounds,
        profiles: &profiles,
        metrics: &mut metrics,
    };
    for anchor in 0..profiles.len() {
        if matched[anchor] {
            continue;
        }
        let mut attempt = Attempt::default();
        match search.around(anchor, &matched, &mut attempt) {
            Some((members, mut found)) => {
                for member in members {
                    matched[member] = true;
                }
                found.id = match_id(&mut rng);
                matches.push(found);
            }
            None => attempts[anchor] = Some(attempt),
        }
    }
    for (index, profile) in profiles.iter().enumerate() {
        if matched[index] {
            continue;
        }
        let attempt = attempts[index].take().unwrap_or_default();
        let params = table.at(profile.age);
        unmatched.push(Unmatched {
            ticket: profile.key,
            reasons: attempt.reasons(rule_set, params),
        });
    }
    BatchResult {
        matches,
        unmatched,
        metrics,
    }
}

/// A UUID-shaped id, as GameLift's `matchId`, from the batch's seeded generator.
fn match_id(rng: &mut ChaCha8Rng) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn profile(
    pool: &Pool,
    key: TicketKey,
    now: f64,
    variants: &[Analysis],
    bounds: &Bounds<'_>,
) -> Profile {
    let ticket = pool.ticket(key);
    let age = ticket.age(now);
    let variants = variants
        .iter()
        .map(|analysis| {
            let (filters, alone_fails) =
                FilterState::of_ticket(pool, ticket, analysis, bounds.reach(age));
            let closeness = analysis
                .closeness
                .iter()
                .map(|attribute| {
                    let numbers = party_numbers(
                        ticket,
                        *attribute,
                        rally_rules::model::PartyAggregation::Avg,
                    );
                    numbers.iter().sum::<f64>() / numbers.len().max(1) as f64
                })
                .collect();
            VariantProfile {
                filters,
                closeness,
                alone_fails,
            }
        })
        .collect();
    Profile {
        key,
        age,
        players: ticket.players.len(),
        backfill: ticket.is_backfill(),
        variants,
    }
}

/// The relaxable values a set of tickets may be judged with, by the set's age so far.
struct Bounds<'t> {
    table: &'t ParamsTable,
    selection: ExpansionAgeSelection,
    /// The oldest ticket's age: with `oldest` selection, a match may reach it.
    oldest: f64,
}

impl Bounds<'_> {
    /// A set's age so far with one more ticket.
    fn combine(&self, age: f64, other: f64) -> f64 {
        match self.selection {
            ExpansionAgeSelection::Newest => age.min(other),
            ExpansionAgeSelection::Oldest => age.max(other),
        }
    }

    /// Every `Params` the match may yet be judged with, given the set's age so far. With the
    /// newest ticket's age, joining tickets can only make the match younger; with the
    /// oldest's, older, up to the oldest ticket in the pool. (Expansions usually relax with
    /// age, but nothing forbids a step that tightens, so every value in reach counts.)
    fn reach(&self, age: f64) -> &[Params] {
        match self.selection {
            ExpansionAgeSelection::Newest => self.table.up_to(age),
            ExpansionAgeSelection::Oldest => self.table.up_to(self.oldest.max(age)),
        }
    }
}

/// The state one anchor's search works on.
struct Search<'a> {
    pool: &'a Pool,
    rule_set: &'a RuleSet,
    variants: &'a [Analysis],
    bounds: &'a Bounds<'a>,
    profiles: &'a [Profile],
    metrics: &'a mut RuleMetrics,
}

/// A growing candidate set.
#[derive(Clone)]
struct Gathering {
    members: Vec<usize>,
    players: usize,
    backfill: Option<usize>,
    /// The set's age so far (its newest or oldest member's, per the rule set).
    age: f64,
    filters: FilterState,
}

impl Search<'_> {
    /// Tries to form a match around `anchor`; returns its members (profile indices) and the
    /// match, or records in `attempt` what stood in the way.
    fn around(
        &mut self,
        anchor: usize,
        matched: &[bool],
        attempt: &mut Attempt,
    ) -> Option<(Vec<usize>, Match)> {
        let a = &self.profiles[anchor];
        if a.variants.iter().all(|v| v.alone_fails.is_some()) {
            attempt.alone_fails = a.variants[0].alone_fails;
            return None;
        }
        (0..self.variants.len())
            .filter(|v| a.variants[*v].alone_fails.is_none())
            .find_map(|v| self.around_in(v, anchor, matched, attempt))
    }

    /// [`Search::around`] in one variant of the search.
    fn around_in(
        &mut self,
        variant: usize,
        anchor: usize,
        matched: &[bool],
        attempt: &mut Attempt,
    ) -> Option<(Vec<usize>, Match)> {
        let a = &self.profiles[anchor];
        let analysis = &self.variants[variant];
        let candidates = self.candidates(variant, anchor, matched, attempt);
        attempt.compatible = attempt.compatible.max(candidates.len());
        let mut gathering = Gathering {
            members: vec![anchor],
            players: a.players,
            backfill: a.backfill.then_some(anchor),
            age: a.age,
            filters: a.variants[variant].filters.clone(),
        };
        attempt.players_needed = self.params_for(&gathering.members).min_players() as usize;
        attempt.most_players = a.players;
        let mut sets_tried = 0;
        for &candidate in &candidates {
            let c = &self.profiles[candidate];
            if c.backfill && gathering.backfill.is_some() {
                continue;
            }
            let age = self.bounds.combine(gathering.age, c.age);
            let max_players = self.bounds.table.at(age).max_players() as usize;
            if gathering.players + c.players > max_players {
                continue;
            }
            let Ok(filters) = gathering.filters.join(
                &c.variants[variant].filters,
                analysis,
                self.rule_set,
                self.bounds.reach(age),
            ) else {
                continue;
            };
            let before = gathering.clone();
            gathering.members.push(candidate);
            gathering.players += c.players;
            gathering.age = age;
            gathering.filters = filters;
            if c.backfill {
                gathering.backfill = Some(candidate);
            }
            attempt.most_players = attempt.most_players.max(gathering.players);
            if gathering.players == max_players {
                sets_tried += 1;
                if let Some(found) = self.finalize(analysis, &gathering, attempt) {
                    return Some((gathering.members, found));
                }
                // Drop the candidate that completed the set and look further.
                gathering = before;
                if sets_tried >= MAX_SETS_PER_ANCHOR {
                    break;
                }
            }
        }
        // Not enough for the maximum: the largest set that meets the minimums will do — the
        // anchor alone, if the teams allow it.
        while sets_tried < MAX_SETS_PER_ANCHOR {
            let params = self.params_for(&gathering.members);
            if gathering.players < params.min_players() as usize {
                break;
            }
            sets_tried += 1;
            if let Some(found) = self.finalize(analysis, &gathering, attempt) {
                return Some((gathering.members, found));
            }
            if gathering.members.len() == 1 {
                break;
            }
            let last = gathering.members.pop().expect("more than the anchor");
            gathering.players -= self.profiles[last].players;
            if gathering.backfill == Some(last) {
                gathering.backfill = None;
            }
        }
        None
    }

    /// The other unmatched tickets that pass every filter with the anchor, in the order the
    /// anchor should try them.
    fn candidates(
        &self,
        variant: usize,
        anchor: usize,
        matched: &[bool],
        attempt: &mut Attempt,
    ) -> Vec<usize> {
        let a = &self.profiles[anchor];
        let mut candidates = Vec::new();
        for (index, c) in self.profiles.iter().enumerate() {
            if index == anchor || matched[index] || c.variants[variant].alone_fails.is_some() {
                continue;
            }
            if a.backfill && c.backfill {
                attempt.exclude(Exclusion::Backfill);
                continue;
            }
            let reach = self.bounds.reach(self.bounds.combine(a.age, c.age));
            match a.variants[variant].filters.join(
                &c.variants[variant].filters,
                &self.variants[variant],
                self.rule_set,
                reach,
            ) {
                Ok(_) => candidates.push(index),
                Err(why) => attempt.exclude(why),
            }
        }
        self.order(variant, anchor, &mut candidates);
        candidates
    }

    fn order(&self, variant: usize, anchor: usize, candidates: &mut [usize]) {
        let a = &self.profiles[anchor];
        let anchor_ticket = self.pool.ticket(a.key);
        let sort_rules: Vec<(&SortRule, bool)> = self
            .rule_set
            .rules
            .iter()
            .filter_map(|rule| match &rule.kind {
                RuleKind::AbsoluteSort(sort) => Some((sort, false)),
                RuleKind::DistanceSort(sort) => Some((sort, true)),
                _ => None,
            })
            .collect();
        let sort_keys = |index: usize| -> Vec<f64> {
            let ticket = self.pool.ticket(self.profiles[index].key);
            sort_rules
                .iter()
                .map(|(rule, by_distance)| {
                    let value = sort_value(ticket, anchor_ticket, rule);
                    let key = match (by_distance, value) {
                        (_, None) => return f64::INFINITY,
                        (true, Some(v)) => {
                            (v - sort_value(anchor_ticket, anchor_ticket, rule).unwrap_or(v)).abs()
                        }
                        (false, Some(v)) => v,
                    };
                    if rule.direction == SortDirection::Descending {
                        -key
                    } else {
                        key
                    }
                })
                .collect()
        };
        let mut keyed: Vec<(usize, Vec<f64>)> =
            candidates.iter().map(|i| (*i, sort_keys(*i))).collect();
        keyed.sort_by(|(x, kx), (y, ky)| {
            let (px, py) = (&self.profiles[*x], &self.profiles[*y]);
            let by_sort = kx
                .iter()
                .zip(ky)
                .map(|(a, b)| a.total_cmp(b))
                .find(|o| o.is_ne());
            let (ax, cx, cy) = (
                &a.variants[variant].closeness,
                &px.variants[variant].closeness,
                &py.variants[variant].closeness,
            );
            let by_closeness = ax
                .iter()
                .enumerate()
                .map(|(i, v)| (cx[i] - v).abs().total_cmp(&(cy[i] - v).abs()))
                .find(|o| o.is_ne());
            by_sort
                .or(by_closeness)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(py.age.total_cmp(&px.age))
                .then_with(|| {
                    self.pool
                        .ticket(px.key)
                        .id
                        .cmp(&self.pool.ticket(py.key).id)
                })
        });
        for (slot, (index, _)) in candidates.iter_mut().zip(keyed) {
            *slot = index;
        }
    }

    fn params_for(&self, members: &[usize]) -> &Params {
        let age = match_age(
            self.rule_set.algorithm.expansion_age_selection,
            members.iter().map(|m| self.profiles[*m].age),
        );
        self.bounds.table.at(age)
    }

    /// Puts the gathered tickets on teams and judges the result.
    fn finalize(
        &mut self,
        analysis: &Analysis,
        gathering: &Gathering,
        attempt: &mut Attempt,
    ) -> Option<Match> {
        if gathering.backfill.is_some() && gathering.members.len() < 2 {
            return None; // a backfill ticket needs at least one other ticket
        }
        let age = match_age(
            self.rule_set.algorithm.expansion_age_selection,
            gathering.members.iter().map(|m| self.profiles[*m].age),
        );
        let params = self.bounds.table.at(age);
        let keys: Vec<TicketKey> = gathering
            .members
            .iter()
            .map(|m| self.profiles[*m].key)
            .collect();
        let backfill = gathering.backfill.map(|m| self.profiles[m].key);
        let (teams, evaluation) = if self.rule_set.is_large_match() {
            let Some(teams) = assign_large(
                self.pool,
                &keys,
                backfill,
                params,
                self.rule_set.algorithm.balanced_attribute,
            ) else {
                attempt.no_fit += 1;
                return None;
            };
            let evaluation = evaluate(
                MatchView {
                    pool: self.pool,
                    teams: &teams,
                },
                params,
            );
            self.metrics.record(&evaluation);
            attempt.record(&evaluation);
            if !evaluation.is_valid(self.rule_set) {
                return None;
            }
            (teams, evaluation)
        } else {
            let metrics = &mut *self.metrics;
            let mut judged = |evaluation: &Evaluation| {
                metrics.record(evaluation);
                attempt.record(evaluation);
            };
            match assign_small(self.pool, &keys, backfill, params, analysis, &mut judged) {
                Assigned::Valid(teams, evaluation) => {
                    self.balance_small(teams, evaluation, backfill, params)
                }
                Assigned::NoFit => {
                    attempt.no_fit += 1;
                    return None;
                }
                Assigned::Invalid(_) => return None,
            }
        };
        Some(Match {
            id: String::new(),
            teams,
            locations: evaluation.locations,
            backfill,
            age,
        })
    }

    /// A small match with a `balancedAttribute` (a "balanced" rule set rally runs as
    /// exhaustiveSearch) is balanced after it forms, as long as it stays valid.
    fn balance_small(
        &mut self,
        teams: Vec<Vec<TicketKey>>,
        evaluation: Evaluation,
        backfill: Option<TicketKey>,
        params: &Params,
    ) -> (Vec<Vec<TicketKey>>, Evaluation) {
        let Some(attribute) = self.rule_set.algorithm.balanced_attribute else {
            return (teams, evaluation);
        };
        let mut balanced = teams.clone();
        balance(self.pool, &mut balanced, backfill, attribute);
        if balanced == teams {
            return (teams, evaluation);
        }
        let rebalanced = evaluate(
            MatchView {
                pool: self.pool,
                teams: &balanced,
            },
            params,
        );
        self.metrics.record(&rebalanced);
        if rebalanced.is_valid(self.rule_set) {
            (balanced, rebalanced)
        } else {
            (teams, evaluation)
        }
    }
}

/// A ticket's value for a sort rule: its (party-aggregated) number, or for a map the value
/// at the anchor's lowest or highest key.
fn sort_value(ticket: &Ticket, anchor: &Ticket, rule: &SortRule) -> Option<f64> {
    let attribute = rule.attribute.0;
    match &ticket.players.first()?.values[attribute] {
        Value::Number(_) => {
            let numbers = party_numbers(ticket, rule.attribute, rule.party_aggregation);
            numbers.first().copied()
        }
        Value::StringNumberMap(_) => {
            let Value::StringNumberMap(anchor_map) = &anchor.players.first()?.values[attribute]
            else {
                return None;
            };
            let chosen = match rule.map_key? {
                MapKey::MinValue => anchor_map.iter().min_by(|a, b| a.1.total_cmp(&b.1)),
                MapKey::MaxValue => anchor_map.iter().max_by(|a, b| a.1.total_cmp(&b.1)),
            }?
            .0;
            let values: Vec<f64> = ticket
                .players
                .iter()
                .filter_map(|p| match &p.values[attribute] {
                    Value::StringNumberMap(map) => {
                        map.iter().find(|(k, _)| *k == chosen).map(|(_, v)| *v)
                    }
                    _ => None,
                })
                .collect();
            (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
        }
        _ => None,
    }
}
