//! One batch: forming matches from a pool at a moment in time.
//!
//! Tickets are taken as anchors in priority order (`backfillPriority`, then oldest first). An
//! anchor looks for partners in the partitions of the `index` it sits in — tickets with the
//! values the equality rules want and a location under the latency caps in common — walking
//! outward along the partition's axis (nearest first, within the spread rules' window), or
//! in the order of the sort rules. Candidates that keep every filter of `analysis` satisfied
//! are added greedily towards the teams' maximum. A full set is put on teams (`assign`) and
//! judged (`eval`); if it fails, the last addition is dropped and the search goes on. Without
//! enough candidates for the maximum, the largest set that meets every team's minimum is
//! tried. The first valid match is taken. Compound rules split the search into variants (see
//! [`Analysis::variants`]), tried in turn.

use rally_rules::model::{
    BackfillPriority, BatchingPreference, ExpansionAgeSelection, MapKey, RuleId, RuleKind, RuleSet,
    SortDirection, SortRule, TeamId,
};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use smallvec::SmallVec;

use crate::analysis::Analysis;
use crate::assign::{Assigned, assign_large, assign_small, balance, party_numbers};
use crate::eval::{Evaluation, MatchView, evaluate};
use crate::explain::{Attempt, Exclusion, RuleMetrics};
use crate::filters::{FilterState, Latencies, failed_player_test, widest};
use crate::index::{Placement, Slot, VariantIndex, Walk};
use crate::params::{Params, ParamsTable, match_age};
use crate::pool::{LocationId, Pool, Ticket, TicketKey, Value};

/// Full candidate sets one anchor may judge in one partition, and in all, before it waits
/// for the next batch.
pub const MAX_SETS_PER_PARTITION: usize = 16;
pub const MAX_SETS_PER_ANCHOR: usize = 64;
/// Members of a partition one walk may look at.
pub const SCAN_BUDGET: usize = 4096;
/// Candidates one anchor's search may consider in one partition, counting each time a
/// backtracking search considers one again.
pub const SEARCH_STEPS: usize = 8192;
/// Candidates taken from a walk and sorted when sort rules order them.
pub const SORT_CHUNK: usize = 256;
/// Other tickets an unmatched ticket is compared with to say what stood in its way.
pub const EXPLAIN_SAMPLE: usize = 128;

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

/// What the batch knows about each ticket before pairing any: its age and, per variant of the
/// search, its filter state and where it sits in the index.
struct Profile {
    key: TicketKey,
    age: f64,
    players: usize,
    backfill: bool,
    /// What the ticket is in each variant of the search (see [`Analysis::variants`]).
    variants: SmallVec<[VariantProfile; 1]>,
}

/// A ticket in one variant of the search.
struct VariantProfile {
    filters: FilterState,
    /// Values for ordering candidates: per closeness attribute, the ticket's average.
    closeness: SmallVec<[f64; 2]>,
    /// A rule the ticket fails on its own, whatever the match.
    alone_fails: Option<RuleId>,
    /// The locations under every latency cap the ticket may be judged with, and its worst
    /// latency there; `None` when the variant has no latency rule.
    locations: Option<Latencies>,
}

/// How one variant of the search orders and bounds candidates.
struct Plan {
    axis: Axis,
    /// Sort rules order candidates, so a walk's candidates are gathered, then sorted.
    sorted_by_rules: bool,
}

/// The number partitions are sorted on.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Axis {
    /// The low end of the values of `analysis.spreads[i]`; the spread's bound is the window.
    Spread(usize),
    /// The value of `analysis.closeness[i]`.
    Closeness(usize),
    /// Anchor order: oldest first.
    Rank,
}

impl Plan {
    fn of(
        analysis: &Analysis,
        rule_set: &RuleSet,
        table: &ParamsTable,
        profiles: &[Profile],
        variant: usize,
    ) -> Plan {
        let sorted_by_rules = rule_set.rules.iter().any(|r| r.kind.is_sort());
        // The most selective spread: the narrowest bound relative to how widely the
        // attribute's values spread (10th to 90th percentile of a sample).
        let widest = |spread: &crate::analysis::Spread| {
            table
                .all()
                .iter()
                .map(|p| spread.bound(p))
                .fold(0.0, f64::max)
        };
        let selectivity = |i: usize| {
            let stride = (profiles.len() / 1024).max(1);
            let mut sample: Vec<f64> = profiles
                .iter()
                .step_by(stride)
                .map(|p| p.variants[variant].filters.ranges[i].0)
                .filter(|v| v.is_finite())
                .collect();
            sample.sort_unstable_by(f64::total_cmp);
            let spread = match sample.len() {
                0 => 0.0,
                n => sample[n * 9 / 10] - sample[n / 10],
            };
            widest(&analysis.spreads[i]) / spread.max(f64::MIN_POSITIVE)
        };
        let axis = (0..analysis.spreads.len())
            .min_by(|a, b| selectivity(*a).total_cmp(&selectivity(*b)))
            .map(Axis::Spread)
            .or_else(|| (!analysis.closeness.is_empty()).then_some(Axis::Closeness(0)))
            .unwrap_or(Axis::Rank);
        Plan {
            axis,
            sorted_by_rules,
        }
    }

    fn axis_value(&self, profile: &VariantProfile, rank: usize) -> f64 {
        match self.axis {
            Axis::Spread(i) => profile.filters.ranges[i].0,
            Axis::Closeness(i) => profile.closeness[i],
            Axis::Rank => rank as f64,
        }
    }
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
    let mut waiting = Vec::new();
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
            waiting.push(key);
        }
    }
    // Anchor order: backfill tickets first or last per `backfillPriority`, then the oldest
    // first, then by ticket id so that the order never depends on the pool's.
    let priority = rule_set.algorithm.backfill_priority;
    let mut order: Vec<(u8, f64, TicketKey)> = waiting
        .iter()
        .map(|key| {
            let ticket = pool.ticket(*key);
            let class = match (priority, ticket.is_backfill()) {
                (BackfillPriority::High, true) | (BackfillPriority::Low, false) => 0,
                (BackfillPriority::High, false) | (BackfillPriority::Low, true) => 1,
                (BackfillPriority::Normal, _) => 0,
            };
            (class, ticket.start_time, *key)
        })
        .collect();
    order.par_sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then(a.1.total_cmp(&b.1))
            .then_with(|| pool.ticket(a.2).id.cmp(&pool.ticket(b.2).id))
    });
    let profiles: Vec<Profile> = order
        .par_iter()
        .map(|(_, _, key)| profile(pool, *key, options.now, &variants, &bounds))
        .collect();

    let plans: Vec<Plan> = (0..variants.len())
        .map(|v| Plan::of(&variants[v], rule_set, &table, &profiles, v))
        .collect();
    let locations = pool.locations().len();
    let mut indexes: Vec<VariantIndex> = plans
        .iter()
        .enumerate()
        .map(|(v, plan)| {
            let placements: Vec<Option<Placement<'_>>> = profiles
                .iter()
                .enumerate()
                .map(|(rank, p)| {
                    let vp = &p.variants[v];
                    vp.alone_fails.is_none().then(|| Placement {
                        keys: &vp.filters.equal,
                        locations: vp.locations.as_deref(),
                        axis: plan.axis_value(vp, rank),
                        players: p.players,
                    })
                })
                .collect();
            VariantIndex::build(&placements, locations)
        })
        .collect();

    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut matched = vec![false; profiles.len()];
    let mut metrics = RuleMetrics::new(rule_set.rules.len());
    let mut matches = Vec::new();
    let mut attempts: Vec<Option<Attempt>> = (0..profiles.len()).map(|_| None).collect();
    let mut search = Search {
        pool,
        rule_set,
        variants: &variants,
        plans: &plans,
        indexes: &mut indexes,
        bounds: &bounds,
        profiles: &profiles,
        metrics: &mut metrics,
    };
    for anchor in 0..profiles.len() {
        if matched[anchor] {
            continue;
        }
        let mut attempt = Attempt::default();
        match search.around(anchor, &mut attempt) {
            Some((members, mut found)) => {
                for member in members {
                    matched[member] = true;
                    let players = profiles[member].players;
                    for index in search.indexes.iter_mut() {
                        index.remove(member, players);
                    }
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
        let mut attempt = attempts[index].take().unwrap_or_default();
        search.sample_exclusions(index, &mut attempt);
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
            let locations = filters.feasible_locations(analysis, bounds.reach(age));
            VariantProfile {
                filters,
                closeness,
                alone_fails,
                locations,
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
    plans: &'a [Plan],
    indexes: &'a mut [VariantIndex],
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

/// Where one partition's candidates come from: straight from the walk, nearest first, or
/// (when sort rules order candidates) from a chunk of the walk sorted by those rules.
struct Source {
    walk: Walk,
    sorted: Option<std::vec::IntoIter<usize>>,
    scanned: usize,
}

impl Source {
    fn next(&mut self, index: &mut VariantIndex) -> Option<usize> {
        if let Some(sorted) = &mut self.sorted {
            return sorted.next();
        }
        if self.scanned >= SCAN_BUDGET {
            return None;
        }
        self.scanned += 1;
        index.step(&mut self.walk)
    }
}

/// Full candidate sets judged so far for one anchor, in all and in the current partition.
#[derive(Default)]
struct SetsTried {
    anchor: usize,
    partition: usize,
}

impl SetsTried {
    fn count(&mut self) {
        self.anchor += 1;
        self.partition += 1;
    }

    fn exhausted(&self) -> bool {
        self.anchor >= MAX_SETS_PER_ANCHOR || self.partition >= MAX_SETS_PER_PARTITION
    }
}

impl Search<'_> {
    /// Tries to form a match around `anchor`; returns its members (profile indices) and the
    /// match, or records in `attempt` what stood in the way.
    fn around(&mut self, anchor: usize, attempt: &mut Attempt) -> Option<(Vec<usize>, Match)> {
        let a = &self.profiles[anchor];
        if a.variants.iter().all(|v| v.alone_fails.is_some()) {
            attempt.alone_fails = a.variants[0].alone_fails;
            return None;
        }
        let mut tried = SetsTried::default();
        for variant in 0..self.variants.len() {
            if a.variants[variant].alone_fails.is_some() {
                continue;
            }
            let mut slots = self.indexes[variant].slots(anchor).to_vec();
            self.prefer(variant, &mut slots);
            for slot in slots {
                tried.partition = 0;
                if tried.exhausted() {
                    return None;
                }
                if let Some(found) = self.gather(variant, anchor, &slot, attempt, &mut tried) {
                    return Some(found);
                }
            }
        }
        None
    }

    /// Orders an anchor's partitions: the most populated first for a large match batched by
    /// `largestPopulation`, otherwise the anchor's nearest location first.
    fn prefer(&self, variant: usize, slots: &mut [Slot]) {
        let by_population = self.rule_set.is_large_match()
            && self.rule_set.algorithm.batching_preference == BatchingPreference::LargestPopulation;
        let index = &self.indexes[variant];
        slots.sort_by(|x, y| {
            let population = if by_population {
                index
                    .partition(y)
                    .players_alive
                    .cmp(&index.partition(x).players_alive)
            } else {
                std::cmp::Ordering::Equal
            };
            population
                .then(x.latency.total_cmp(&y.latency))
                .then(x.partition.cmp(&y.partition))
        });
    }

    /// Gathers candidates around `anchor` in one partition greedily towards the teams'
    /// maximum, judging each full set; without enough for the maximum, the largest set that
    /// meets the minimums.
    fn gather(
        &mut self,
        variant: usize,
        anchor: usize,
        slot: &Slot,
        attempt: &mut Attempt,
        tried: &mut SetsTried,
    ) -> Option<(Vec<usize>, Match)> {
        let variants = self.variants;
        let analysis = &variants[variant];
        let profiles = self.profiles;
        let a = &profiles[anchor];
        let window = match self.plans[variant].axis {
            Axis::Spread(i) => widest(
                self.bounds.reach(a.age),
                |p| Some(analysis.spreads[i].bound(p)),
                0.0,
            ),
            Axis::Closeness(_) | Axis::Rank => f64::INFINITY,
        };
        let mut source = Source {
            walk: self.indexes[variant].walk(slot, window),
            sorted: None,
            scanned: 0,
        };
        if self.plans[variant].sorted_by_rules {
            let mut chunk = Vec::new();
            while chunk.len() < SORT_CHUNK {
                let Some(candidate) = source.next(&mut self.indexes[variant]) else {
                    break;
                };
                chunk.push(candidate);
            }
            self.order(variant, anchor, &mut chunk);
            source.sorted = Some(chunk.into_iter());
        }

        let mut gathering = Gathering {
            members: vec![anchor],
            players: a.players,
            backfill: a.backfill.then_some(anchor),
            age: a.age,
            filters: a.variants[variant].filters.clone(),
        };
        attempt.players_needed = self.params_for(&gathering.members).min_players() as usize;
        attempt.most_players = attempt.most_players.max(a.players);
        // A depth-first search over the candidates in order: the first path is the greedy
        // one (take every candidate that fits); a full set that fails, or the end of the
        // candidates short of the maximum, backtracks to try the next candidate instead of
        // the last one taken — so parties that did not fit get their turn.
        let mut seen: Vec<usize> = Vec::new();
        // Per member after the anchor: its position in `seen` and the set before it joined.
        let mut taken: Vec<(usize, Gathering)> = Vec::new();
        let mut fallback: Option<Gathering> = None;
        // Players of every candidate seen: when they cannot fill the teams, no other path can.
        let mut seen_players = a.players;
        let most = self
            .bounds
            .reach(a.age)
            .iter()
            .map(|p| p.max_players() as usize)
            .max()
            .unwrap_or(0);
        let mut position = 0;
        let mut steps = 0;
        loop {
            if position == seen.len()
                && let Some(candidate) = source.next(&mut self.indexes[variant])
            {
                seen.push(candidate);
                seen_players += profiles[candidate].players;
            }
            let Some(&candidate) = seen.get(position) else {
                // The end of the candidates: keep the first (greedy) set for the fallback,
                // then backtrack.
                if fallback.is_none() {
                    fallback = Some(gathering.clone());
                    if seen_players < most {
                        break;
                    }
                }
                let Some((at, before)) = taken.pop() else {
                    break;
                };
                gathering = before;
                position = at + 1;
                continue;
            };
            steps += 1;
            if steps > SEARCH_STEPS {
                break;
            }
            position += 1;
            let c = &profiles[candidate];
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
                tried.count();
                if let Some(found) = self.finalize(analysis, &gathering, attempt) {
                    return Some((gathering.members, found));
                }
                // Drop the candidate that completed the set and look further.
                gathering = before;
                if tried.exhausted() {
                    break;
                }
            } else {
                taken.push((position - 1, before));
            }
        }
        let mut gathering = fallback.unwrap_or(gathering);
        // Not enough for the maximum: the largest set that meets the minimums will do — the
        // anchor alone, if the teams allow it.
        while !tried.exhausted() {
            let params = self.params_for(&gathering.members);
            if gathering.players < params.min_players() as usize {
                break;
            }
            tried.count();
            if let Some(found) = self.finalize(analysis, &gathering, attempt) {
                return Some((gathering.members, found));
            }
            if gathering.members.len() == 1 {
                break;
            }
            let last = gathering.members.pop().expect("more than the anchor");
            gathering.players -= profiles[last].players;
            if gathering.backfill == Some(last) {
                gathering.backfill = None;
            }
        }
        None
    }

    /// Compares an unmatched ticket with the tickets nearest it in anchor order, to say which
    /// filters rule partners out (a sample: comparing with the whole pool would cost as much
    /// as the batch).
    fn sample_exclusions(&self, anchor: usize, attempt: &mut Attempt) {
        let a = &self.profiles[anchor];
        let Some(variant) = (0..self.variants.len()).find(|v| a.variants[*v].alone_fails.is_none())
        else {
            return;
        };
        let low = anchor.saturating_sub(EXPLAIN_SAMPLE / 2);
        let high = (low + EXPLAIN_SAMPLE + 1).min(self.profiles.len());
        for (index, c) in self.profiles[low..high].iter().enumerate() {
            if low + index == anchor || c.variants[variant].alone_fails.is_some() {
                continue;
            }
            attempt.sampled += 1;
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
                Ok(_) => attempt.compatible += 1,
                Err(why) => attempt.exclude(why),
            }
        }
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
        if analysis.exact
            && let Some(judged) =
                self.finalize_exact(analysis, gathering, params, &keys, backfill, attempt)
        {
            return judged.map(|(teams, locations)| Match {
                id: String::new(),
                teams,
                locations,
                backfill,
                age,
            });
        }
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

    /// Judges a set when the filters say all the rules say ([`Analysis::exact`]): the filters
    /// at the match's own age, then teams in FlexMatch's fill order. Returns the teams and
    /// locations of a valid match, `Some(None)` for an invalid one, and `None` when the fill
    /// order misses a team's bounds and the full team search should decide.
    #[allow(clippy::type_complexity)]
    fn finalize_exact(
        &mut self,
        analysis: &Analysis,
        gathering: &Gathering,
        params: &Params,
        keys: &[TicketKey],
        backfill: Option<TicketKey>,
        attempt: &mut Attempt,
    ) -> Option<Option<(Vec<Vec<TicketKey>>, Vec<LocationId>)>> {
        let rule_set = self.rule_set;
        let mut evaluation = Evaluation {
            outcomes: rule_set
                .rules
                .iter()
                .map(|rule| (!rule.kind.is_sort()).then_some(true))
                .collect(),
            teams_out_of_bounds: Vec::new(),
            locations: Vec::new(),
            no_common_location: false,
        };
        let failed = match gathering
            .filters
            .check(analysis, rule_set, std::slice::from_ref(params))
        {
            Err(
                Exclusion::Latency(rule)
                | Exclusion::Equal(rule)
                | Exclusion::Spread(rule)
                | Exclusion::Collection(rule),
            ) => Some(rule),
            Err(Exclusion::Teams | Exclusion::Backfill) => return None,
            Ok(()) => keys.iter().find_map(|key| {
                failed_player_test(self.pool, self.pool.ticket(*key), analysis, params)
            }),
        };
        if let Some(rule) = failed {
            evaluation.outcomes[rule.0] = Some(false);
            self.metrics.record(&evaluation);
            attempt.record(&evaluation);
            return Some(None);
        }
        let teams = assign_large(
            self.pool,
            keys,
            backfill,
            params,
            rule_set.algorithm.balanced_attribute,
        )?;
        let view = MatchView {
            pool: self.pool,
            teams: &teams,
        };
        let sizes_hold = teams.iter().enumerate().all(|(team, tickets)| {
            let players: usize = tickets
                .iter()
                .map(|k| view.players_on(self.pool.ticket(*k), TeamId(team)).count())
                .sum();
            (params.team_min[team] as usize..=params.team_max[team] as usize).contains(&players)
        });
        if !sizes_hold {
            return None;
        }
        evaluation.locations = match (analysis.latency.first(), gathering.filters.latency.first()) {
            (Some(cap), Some(latencies)) => {
                let cap = params.rules[cap.rule.0]
                    .max_latency
                    .unwrap_or(f64::INFINITY);
                view.order_by_latency(
                    latencies
                        .iter()
                        .filter(|(_, worst)| f64::from(*worst) <= cap)
                        .map(|(location, _)| *location)
                        .collect(),
                )
            }
            _ => view.common_locations(),
        };
        self.metrics.record(&evaluation);
        attempt.record(&evaluation);
        Some(Some((teams, evaluation.locations)))
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
