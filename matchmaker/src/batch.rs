//! One batch: forming matches from a pool at a moment in time.
//!
//! Tickets are taken as anchors in priority order (`backfillPriority`, then oldest first). An
//! anchor looks for partners in the partitions of the `index` it sits in — tickets with the
//! values the equality rules want and a location under the latency caps in common — walking
//! outward along the partition's axis (nearest first, within the spread rules' window), or
//! in the order of the sort rules. Candidates that keep every filter of `analysis` satisfied
//! are added towards the teams' maximum; a full set is put on teams (`assign`) and judged
//! (`eval`); without enough candidates for the maximum, the largest set that meets every
//! team's minimum is tried. The first valid match is taken (see `search`).
//!
//! The batch runs in two phases. First each ticket looks only among the tickets whose
//! nearest location (and equality values) it shares: these groups share no ticket, so they
//! are searched side by side on every core, and most tickets match here. Then the tickets
//! left look everywhere: at every location under the caps, and in every variant of the
//! search that compound rules call for (see [`Analysis::variants`]). Results are merged in
//! anchor order, so the same pool, time and seed give the same matches on any machine.

use std::collections::HashMap;

use rally_rules::model::BackfillPriority;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use smallvec::SmallVec;

use crate::analysis::Analysis;
use crate::explain::{Attempt, Exclusion, RuleMetrics};
use crate::filters::Key;
use crate::pool::{LocationId, Pool, TicketKey};
use crate::search::{Bounds, Context, GroupResult, Plan, Profile, Scope, variant_order};

/// Other tickets an unmatched ticket is compared with to say what stood in its way.
pub const EXPLAIN_SAMPLE: usize = 128;

#[derive(Clone, Debug, PartialEq)]
pub struct BatchOptions {
    /// The batch's time, on the tickets' clock (seconds).
    pub now: f64,
    /// Seeds the match ids; the same pool, time and seed give the same matches.
    pub seed: u64,
}

/// A match's id: a UUID, as GameLift's `matchId`, drawn from the batch's seeded generator.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MatchId(pub [u8; 16]);

impl std::fmt::Display for MatchId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for MatchId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MatchId({self})")
    }
}

/// Tickets on teams, by `TeamId`, kept flat and inline (a batch forms hundreds of thousands
/// of matches). A backfill ticket is listed on every team it has players on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Teams {
    keys: SmallVec<[TicketKey; 8]>,
    /// Where each team's tickets end in `keys`.
    ends: SmallVec<[u32; 4]>,
}

impl Teams {
    pub fn from_lists(lists: &[Vec<TicketKey>]) -> Teams {
        let mut teams = Teams::default();
        for list in lists {
            teams.keys.extend_from_slice(list);
            teams.ends.push(teams.keys.len() as u32);
        }
        teams
    }

    /// How many teams.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The tickets on team `team`.
    pub fn team(&self, team: usize) -> &[TicketKey] {
        let start = if team == 0 { 0 } else { self.ends[team - 1] };
        &self.keys[start as usize..self.ends[team] as usize]
    }

    pub fn iter(&self) -> impl Iterator<Item = &[TicketKey]> + '_ {
        (0..self.len()).map(|team| self.team(team))
    }

    /// Teams from a fill-order placement (see `assign::fill_order`); a backfill ticket first
    /// on each team it has players on.
    pub fn from_placed(
        pool: &Pool,
        backfill: Option<TicketKey>,
        placed: &[(TicketKey, usize)],
    ) -> Teams {
        let mut teams = Teams::default();
        for team in 0..pool.rule_set().teams.len() {
            if let Some(key) = backfill
                && pool
                    .ticket(key)
                    .players
                    .iter()
                    .any(|p| p.team().is_some_and(|t| t.0 == team))
            {
                teams.keys.push(key);
            }
            teams
                .keys
                .extend(placed.iter().filter(|(_, t)| *t == team).map(|(k, _)| *k));
            teams.ends.push(teams.keys.len() as u32);
        }
        teams
    }

    pub fn to_lists(&self) -> Vec<Vec<TicketKey>> {
        self.iter().map(<[TicketKey]>::to_vec).collect()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    pub id: MatchId,
    pub teams: Teams,
    /// Where the match can be played, nearest first.
    pub locations: SmallVec<[LocationId; 8]>,
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

/// Forms matches from every ticket in `pool` that had started by `options.now`.
pub fn run_batch(pool: &Pool, options: &BatchOptions) -> BatchResult {
    let rule_set = pool.rule_set();
    let table = pool.params_table();
    let mut unmatched = Vec::new();
    let mut waiting = Vec::new();
    let mut oldest: f64 = 0.0;
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
        } else if !ticket.unmatchable().is_empty() {
            unmatched.push(Unmatched {
                ticket: key,
                reasons: ticket.unmatchable().to_vec(),
            });
        } else {
            oldest = oldest.max(ticket.age(options.now));
            waiting.push(key);
        }
    }
    let profiles = anchor_order(pool, &waiting, options.now);
    let plans: Vec<Plan> = (0..pool.variants().len())
        .map(|v| Plan::of(pool, &profiles, v))
        .collect();
    let mut context = Context {
        pool,
        rule_set,
        variants: pool.variants(),
        plans: &plans,
        bounds: Bounds {
            table,
            selection: rule_set.algorithm.expansion_age_selection,
            oldest,
        },
        order: vec![0],
    };
    context.order = variant_order(&context, &profiles);

    // Phase one: each ticket among those sharing its nearest location, groups side by side.
    let groups = home_groups(&context, &profiles);
    let home: Vec<GroupResult> = groups
        .par_iter()
        .map(|group| context.search(group, Scope::Home))
        .collect();
    let mut matched = vec![false; profiles.len()];
    let mut found: Vec<(u32, Match)> = Vec::new();
    // Only waiting anchors have attempts: a map, not a slot per ticket.
    let mut attempts: HashMap<u32, Attempt> = HashMap::new();
    let mut metrics = RuleMetrics::new(rule_set.rules.len());
    for result in home {
        absorb(
            result,
            &mut matched,
            &mut found,
            &mut attempts,
            &mut metrics,
        );
    }

    // Phase two: the tickets left, at every location and in every variant. Without latency
    // rules or compound variants it would repeat phase one.
    let everywhere = pool.variants().len() > 1 || !pool.variants()[0].latency.is_empty();
    if everywhere {
        // Tickets that fail every variant on their own can match nowhere.
        let left: Vec<Profile> = profiles
            .iter()
            .filter(|p| !matched[p.rank as usize])
            .filter(|p| {
                context
                    .order
                    .iter()
                    .any(|v| context.fails_alone(p, *v).is_none())
            })
            .copied()
            .collect();
        let result = context.search(&left, Scope::Everywhere);
        absorb(
            result,
            &mut matched,
            &mut found,
            &mut attempts,
            &mut metrics,
        );
    }

    found.sort_by_key(|(rank, _)| *rank);
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let matches: Vec<Match> = found
        .into_iter()
        .map(|(_, mut found)| {
            found.id = match_id(&mut rng);
            found
        })
        .collect();
    for profile in &profiles {
        let rank = profile.rank as usize;
        if matched[rank] {
            continue;
        }
        let mut attempt = attempts.remove(&profile.rank).unwrap_or_default();
        if attempt.alone_fails.is_none() {
            attempt.alone_fails = context
                .order
                .iter()
                .map(|v| context.fails_alone(profile, *v))
                .collect::<Option<Vec<_>>>()
                .map(|fails| fails[0]);
        }
        if attempt.alone_fails.is_some() {
            // The earliest expansion after which the ticket passes on its own, if any.
            attempt.alone_until = context
                .order
                .iter()
                .map(|v| context.filters(profile, *v).alone_from)
                .filter(|from| from.is_finite())
                .min_by(f64::total_cmp)
                .map(|from| (from, from - context.bounds.latest(profile.age)));
        }
        // A ticket whose own players fail a rule counts once against it, as the one potential
        // match it could be part of.
        if let Some(rule) = attempt.alone_fails {
            metrics.failed[rule.0] += 1;
        }
        sample_exclusions(&context, &profiles, rank, &mut attempt);
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

/// The waiting tickets in anchor order: backfill tickets first or last per
/// `backfillPriority`, then the oldest first, then by ticket id so that the order never
/// depends on the pool's.
fn anchor_order(pool: &Pool, waiting: &[TicketKey], now: f64) -> Vec<Profile> {
    let priority = pool.rule_set().algorithm.backfill_priority;
    // Each ticket is read once, in pool order: its class and start time to sort by, and
    // what its profile needs, carried through the sort.
    let mut order: Vec<(u8, f64, Profile)> = waiting
        .par_iter()
        .map(|key| {
            let ticket = pool.ticket(*key);
            let backfill = ticket.is_backfill();
            let class = match (priority, backfill) {
                (BackfillPriority::High, true) | (BackfillPriority::Low, false) => 0,
                (BackfillPriority::High, false) | (BackfillPriority::Low, true) => 1,
                (BackfillPriority::Normal, _) => 0,
            };
            let profile = Profile {
                key: *key,
                age: ticket.age(now),
                players: ticket.players.len(),
                backfill,
                rank: 0,
            };
            (class, ticket.start_time, profile)
        })
        .collect();
    order.par_sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then(a.1.total_cmp(&b.1))
            .then_with(|| pool.ticket(a.2.key).id.cmp(&pool.ticket(b.2.key).id))
    });
    order
        .into_par_iter()
        .enumerate()
        .map(|(rank, (_, _, profile))| Profile {
            rank: rank as u32,
            ..profile
        })
        .collect()
}

/// What a phase-one group shares: equality values and the nearest location.
type HomeKey<'a> = (&'a [Option<Key>], Option<LocationId>);

/// Phase one's groups: the tickets that pass the first variant's filters on their own,
/// grouped by their equality values and nearest location under the caps, each group in
/// anchor order; the largest groups first, so that the cores searching them side by side
/// finish together (which group is searched first changes no result: they share no ticket,
/// and their matches are merged in anchor order).
fn home_groups(context: &Context<'_>, profiles: &[Profile]) -> Vec<Vec<Profile>> {
    let first = context.order[0];
    // Each ticket's group key, worked out side by side; `None` for a ticket with no home.
    let homes: Vec<Option<HomeKey<'_>>> = profiles
        .par_iter()
        .map(|profile| {
            if context.fails_alone(profile, first).is_some() {
                return None;
            }
            let filters = context.filters(profile, first);
            let home = match filters.home() {
                None => None,
                Some([(location, _)]) => Some(*location),
                Some(_) => return None,
            };
            Some((&filters.state.equal[..], home))
        })
        .collect();
    // Groups numbered as first seen; each sized before it is filled, so that no group grows
    // by copying.
    let mut group_of: hashbrown::HashMap<HomeKey<'_>, u32> = hashbrown::HashMap::new();
    let mut sizes: Vec<usize> = Vec::new();
    let numbers: Vec<u32> = homes
        .iter()
        .map(|home| {
            let Some(home) = home else {
                return u32::MAX;
            };
            let next = sizes.len() as u32;
            let group = *group_of.entry(*home).or_insert(next);
            if group == next {
                sizes.push(0);
            }
            sizes[group as usize] += 1;
            group
        })
        .collect();
    let mut groups: Vec<Vec<Profile>> = sizes.iter().map(|n| Vec::with_capacity(*n)).collect();
    for (profile, group) in profiles.iter().zip(numbers) {
        if group != u32::MAX {
            groups[group as usize].push(*profile);
        }
    }
    groups.sort_by_key(|group| std::cmp::Reverse(group.len()));
    groups
}

fn absorb(
    result: GroupResult,
    matched: &mut [bool],
    found: &mut Vec<(u32, Match)>,
    attempts: &mut HashMap<u32, Attempt>,
    metrics: &mut RuleMetrics,
) {
    for rank in result.matched {
        matched[rank as usize] = true;
    }
    // Few anchors wait, and most tickets match: clearing the waiting ones just matched costs
    // less than a lookup per match.
    attempts.retain(|rank, _| !matched[*rank as usize]);
    if found.capacity() == 0 {
        // Room for a match per two tickets from the start (pages never written cost
        // nothing), so that a batch of pairs does not copy its matches as they come in.
        found.reserve(matched.len() / 2);
    }
    found.extend(result.matches);
    attempts.extend(result.attempts);
    metrics.add(&result.metrics);
}

/// Compares an unmatched ticket with the tickets nearest it in anchor order, to say which
/// filters rule partners out (a sample: comparing with the whole pool would cost as much as
/// the batch). A partner every variant rules out counts against each variant's filter.
fn sample_exclusions(
    context: &Context<'_>,
    profiles: &[Profile],
    anchor: usize,
    attempt: &mut Attempt,
) {
    let a = &profiles[anchor];
    let variants: Vec<usize> = context
        .order
        .iter()
        .copied()
        .filter(|v| context.fails_alone(a, *v).is_none())
        .collect();
    if variants.is_empty() {
        return;
    }
    let low = anchor.saturating_sub(EXPLAIN_SAMPLE / 2);
    let high = (low + EXPLAIN_SAMPLE + 1).min(profiles.len());
    for (index, c) in profiles[low..high].iter().enumerate() {
        let usable: Vec<usize> = variants
            .iter()
            .copied()
            .filter(|v| context.fails_alone(c, *v).is_none())
            .collect();
        if low + index == anchor || usable.is_empty() {
            continue;
        }
        attempt.sampled += 1;
        if a.backfill && c.backfill {
            attempt.exclude(Exclusion::Backfill);
            continue;
        }
        let bounds = &context.bounds;
        let reach = bounds.reach(bounds.combine(a.age, c.age));
        let mut excluded: SmallVec<[Exclusion; 2]> = SmallVec::new();
        for variant in usable {
            let analysis: &Analysis = &context.variants[variant];
            match context.filters(a, variant).state.join(
                &context.filters(c, variant).state,
                analysis,
                context.rule_set,
                reach,
            ) {
                Ok(_) => {
                    excluded.clear();
                    break;
                }
                Err(why) => {
                    if !excluded.contains(&why) {
                        excluded.push(why);
                    }
                }
            }
        }
        if excluded.is_empty() {
            attempt.compatible += 1;
        }
        for why in excluded {
            attempt.exclude(why);
        }
    }
}

/// A version-4 UUID from the batch's seeded generator.
fn match_id(rng: &mut ChaCha8Rng) -> MatchId {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    MatchId(bytes)
}
