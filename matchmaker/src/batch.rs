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

use rally_base::Seconds;
use rally_rules::model::BackfillPriority;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use smallvec::SmallVec;

use crate::analysis::Analysis;
use crate::explain::{Attempt, Exclusion, RuleMetrics};
use crate::filters::Key;
use crate::matches::{Match, MatchId};
use crate::parallel;
use crate::pool::{LocationId, Pool, TicketKey};
use crate::search::{Bounds, Context, GroupResult, Plan, Profile, Scope, variant_order};

/// Other tickets an unmatched ticket is compared with to say what stood in its way.
pub const EXPLAIN_SAMPLE: usize = 128;

#[derive(Clone, Debug, PartialEq)]
pub struct BatchOptions {
    /// The batch's time, on the tickets' clock (seconds).
    pub now: Seconds,
    /// Seeds the match ids; the same pool, time and seed give the same matches.
    pub seed: u64,
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

/// How a batch's search is shaped where the rule set leaves a choice: per variant, the
/// attribute partitions are sorted on, and the order variants are tried in. Both are read
/// from a sample of the pool, once; a standing pool keeps its calibration from batch to
/// batch, so that what a ticket's search sees never depends on which batch it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    plans: Vec<Plan>,
    order: Vec<usize>,
}

impl Calibration {
    /// The calibration for the tickets `profiles` (in anchor order) of `pool`, with the
    /// oldest ticket's age `oldest`.
    pub(crate) fn of(pool: &Pool, profiles: &[Profile], oldest: f64) -> Calibration {
        let plans: Vec<Plan> = (0..pool.variants().len())
            .map(|v| Plan::of(pool, profiles, v))
            .collect();
        let context = context(pool, &plans, vec![0], oldest);
        let order = variant_order(&context, profiles);
        Calibration { plans, order }
    }

    /// The plan of variant `variant`.
    pub(crate) fn plan(&self, variant: usize) -> &Plan {
        &self.plans[variant]
    }

    pub(crate) fn plans(&self) -> &[Plan] {
        &self.plans
    }

    /// The variants in the order they are tried.
    pub(crate) fn order(&self) -> &[usize] {
        &self.order
    }
}

/// What every search of a batch shares, for `pool` under `plans`.
pub(crate) fn context<'a>(
    pool: &'a Pool,
    plans: &'a [Plan],
    order: Vec<usize>,
    oldest: f64,
) -> Context<'a> {
    let rule_set = pool.rule_set();
    Context {
        pool,
        rule_set,
        variants: pool.variants(),
        plans,
        bounds: Bounds {
            table: pool.params_table(),
            selection: rule_set.algorithm.expansion_age_selection,
            oldest,
        },
        order,
    }
}

/// Forms matches from every ticket in `pool` that had started by `options.now`.
pub fn run_batch(pool: &Pool, options: &BatchOptions) -> BatchResult {
    let waiting = Waiting::of(pool, pool.keys(), options.now);
    let profiles = anchor_order(pool, &waiting.keys, options.now, |_| true);
    let calibration = Calibration::of(pool, &profiles, waiting.oldest);
    finish(
        pool,
        options,
        waiting,
        &profiles,
        &calibration,
        Explain::Everyone,
    )
}

/// [`run_batch`] over the tickets `keys` of `pool`, under a calibration made before (a
/// standing pool's): the from-scratch batch a standing pool's batches are held to.
pub(crate) fn run_batch_over(
    pool: &Pool,
    keys: impl Iterator<Item = TicketKey>,
    options: &BatchOptions,
    calibration: &Calibration,
    explain: Explain,
) -> BatchResult {
    let waiting = Waiting::of(pool, keys, options.now);
    let profiles = anchor_order(pool, &waiting.keys, options.now, |_| true);
    finish(pool, options, waiting, &profiles, calibration, explain)
}

/// Which of a batch's unmatched tickets are explained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Explain {
    /// Every one, with reasons (`rally match`).
    Everyone,
    /// None: the unmatched are listed without reasons (a standing pool explains on request).
    Nobody,
}

/// The tickets of a batch that can take part, and the rest with why not.
pub(crate) struct Waiting {
    pub(crate) keys: Vec<TicketKey>,
    pub(crate) unmatched: Vec<Unmatched>,
    /// The oldest waiting ticket's age (0 with none).
    pub(crate) oldest: f64,
}

impl Waiting {
    pub(crate) fn of(pool: &Pool, keys: impl Iterator<Item = TicketKey>, now: f64) -> Waiting {
        let mut waiting = Waiting {
            keys: Vec::new(),
            unmatched: Vec::new(),
            oldest: 0.0,
        };
        for key in keys {
            let ticket = pool.ticket(key);
            if ticket.start_time > now {
                waiting.unmatched.push(Unmatched {
                    ticket: key,
                    reasons: vec![format!(
                        "the ticket starts at {}s, after the batch time {}s",
                        ticket.start_time, now
                    )],
                });
            } else if !ticket.unmatchable().is_empty() {
                waiting.unmatched.push(Unmatched {
                    ticket: key,
                    reasons: ticket.unmatchable().to_vec(),
                });
            } else {
                waiting.oldest = waiting.oldest.max(ticket.age(now));
                waiting.keys.push(key);
            }
        }
        waiting
    }
}

/// Searches, numbers the matches from the seed and explains every ticket left.
fn finish(
    pool: &Pool,
    options: &BatchOptions,
    waiting: Waiting,
    profiles: &[Profile],
    calibration: &Calibration,
    explain: Explain,
) -> BatchResult {
    let rule_set = pool.rule_set();
    let table = pool.params_table();
    let context = context(
        pool,
        &calibration.plans,
        calibration.order.clone(),
        waiting.oldest,
    );
    let Phases {
        found,
        matched,
        mut attempts,
        mut metrics,
    } = phases(&context, profiles);
    let mut unmatched = waiting.unmatched;
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut matches = Vec::with_capacity(found.count());
    found.in_anchor_order(|_, mut found| {
        found.id = match_id(&mut rng);
        matches.push(found);
    });
    for profile in profiles {
        let rank = profile.rank as usize;
        if matched[rank] {
            continue;
        }
        if explain == Explain::Nobody {
            unmatched.push(Unmatched {
                ticket: profile.key,
                reasons: Vec::new(),
            });
            continue;
        }
        let mut attempt = attempts.remove(&profile.rank).unwrap_or_default();
        complete_alone(&context, profile, &mut attempt);
        // A ticket whose own players fail a rule counts once against it, as the one potential
        // match it could be part of.
        if let Some(rule) = attempt.alone_fails {
            metrics.failed[rule.0] += 1;
        }
        sample_exclusions(&context, profiles, rank, &mut attempt);
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

/// Gives the matches, in the order found, ids from the batch's generator.
pub(crate) fn number(found: Vec<(u32, Match)>, rng: &mut ChaCha8Rng) -> Vec<Match> {
    found
        .into_iter()
        .map(|(_, mut found)| {
            found.id = match_id(rng);
            found
        })
        .collect()
}

/// What searching a batch's tickets found.
pub(crate) struct Searched {
    /// Each match with its anchor's rank, in anchor order.
    pub(crate) found: Vec<(u32, Match)>,
    /// By rank, whether the ticket was matched.
    pub(crate) matched: Vec<bool>,
    /// Why each anchor that formed no match waits, by rank.
    pub(crate) attempts: HashMap<u32, Attempt>,
}

/// The two phases over `profiles` (in anchor order; only those marked as anchors search).
pub(crate) fn search_profiles(context: &Context<'_>, profiles: &[Profile]) -> Searched {
    let Phases {
        found,
        matched,
        attempts,
        ..
    } = phases(context, profiles);
    let mut merged = Vec::with_capacity(found.count());
    found.in_anchor_order(|rank, found| merged.push((rank, found)));
    Searched {
        found: merged,
        matched,
        attempts,
    }
}

/// What the two phases found, before the matches are merged in anchor order.
struct Phases {
    found: Found,
    /// By rank, whether the ticket was matched.
    matched: Vec<bool>,
    /// Why each anchor that formed no match waits, by rank.
    attempts: HashMap<u32, Attempt>,
    metrics: RuleMetrics,
}

/// Phase one, then phase two (see [`search_profiles`]).
fn phases(context: &Context<'_>, profiles: &[Profile]) -> Phases {
    // Phase one: each ticket among those sharing its nearest location, groups side by side.
    let groups = home_groups(context, profiles);
    let search = |group: &Vec<Profile>| context.search(group, Scope::Home);
    let home: Vec<GroupResult> = if crate::parallel::worth_it(profiles.len()) {
        groups.par_iter().map(search).collect()
    } else {
        groups.iter().map(search).collect()
    };
    let mut phases = Phases {
        found: Found {
            groups: Vec::new(),
            ranks: profiles.len(),
        },
        matched: vec![false; profiles.len()],
        // Only waiting anchors have attempts: a map, not a slot per ticket.
        attempts: HashMap::new(),
        metrics: RuleMetrics::new(context.rule_set.rules.len()),
    };
    for result in home {
        phases.absorb(result);
    }

    // Phase two: the tickets left, at every location and in every variant. Without latency
    // rules or compound variants it would repeat phase one.
    let variants = context.variants;
    let everywhere = variants.len() > 1 || !variants[0].latency.is_empty();
    if everywhere {
        // Tickets that fail every variant on their own can match nowhere.
        let left: Vec<Profile> = profiles
            .iter()
            .filter(|p| !phases.matched[p.rank as usize])
            .filter(|p| {
                context
                    .order
                    .iter()
                    .any(|v| context.fails_alone(p, *v).is_none())
            })
            .copied()
            .collect();
        let result = context.search(&left, Scope::Everywhere);
        phases.absorb(result);
        let matched = &phases.matched;
        phases.attempts.retain(|rank, _| !matched[*rank as usize]);
    }
    phases
}

/// The matches of a batch's groups as each group formed them, keyed by their anchors' ranks.
struct Found {
    /// Per group searched, in the order searched, its matches (`None` where a repair broke
    /// one up).
    groups: Vec<Vec<Option<(u32, Match)>>>,
    /// How many ranks the batch gives out.
    ranks: usize,
}

impl Found {
    fn count(&self) -> usize {
        self.groups.iter().flatten().filter(|m| m.is_some()).count()
    }

    /// Hands `each` every match in anchor order (ties in the order found), moving each once:
    /// the matches are placed by counting their ranks, never sorted themselves (a batch of
    /// pairs forms half a million of them, each a few cache lines).
    fn in_anchor_order(mut self, mut each: impl FnMut(u32, Match)) {
        // `next[r]`: where the first match of rank `r` goes, once counted and summed.
        let mut next = vec![0u32; self.ranks + 1];
        for (rank, _) in self.groups.iter().flatten().flatten() {
            next[*rank as usize + 1] += 1;
        }
        for r in 1..next.len() {
            next[r] += next[r - 1];
        }
        // By place in anchor order, the group and position of the match there.
        let mut order = vec![(0u32, 0u32); next[self.ranks] as usize];
        for (group, matches) in self.groups.iter().enumerate() {
            for (position, found) in matches.iter().enumerate() {
                if let Some((rank, _)) = found {
                    let at = &mut next[*rank as usize];
                    order[*at as usize] = (group as u32, position as u32);
                    *at += 1;
                }
            }
        }
        for (group, position) in order {
            let taken = self.groups[group as usize][position as usize].take();
            let (rank, found) = taken.expect("each match is placed once");
            each(rank, found);
        }
    }
}

/// Completes what an unmatched ticket's attempt says of the ticket on its own: the rule its
/// players fail whatever their partners, and the expansion after which they pass, if any.
pub(crate) fn complete_alone(context: &Context<'_>, profile: &Profile, attempt: &mut Attempt) {
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
}

/// The waiting tickets in anchor order: backfill tickets first or last per
/// `backfillPriority`, then the oldest first, then by ticket id so that the order never
/// depends on the pool's.
pub(crate) fn anchor_order(
    pool: &Pool,
    waiting: &[TicketKey],
    now: f64,
    is_anchor: impl Fn(TicketKey) -> bool + Sync,
) -> Vec<Profile> {
    let priority = pool.rule_set().algorithm.backfill_priority;
    // Each ticket is read once, in pool order: its class and start time to sort by, and
    // what its profile needs, carried through the sort.
    let mut order: Vec<(u8, f64, Profile)> = parallel::map(waiting, |key| {
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
            anchor: is_anchor(*key),
        };
        (class, ticket.start_time, profile)
    });
    parallel::sort_unstable_by(&mut order, |a, b| {
        a.0.cmp(&b.0)
            .then(a.1.total_cmp(&b.1))
            .then_with(|| pool.ticket(a.2.key).id.cmp(&pool.ticket(b.2.key).id))
    });
    order
        .into_iter()
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
    let homes: Vec<Option<HomeKey<'_>>> = parallel::map(profiles, |profile| {
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
    });
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

impl Phases {
    fn absorb(&mut self, result: GroupResult) {
        for rank in result.matched {
            self.matched[rank as usize] = true;
        }
        // A group's attempts are its own anchors' that formed no match; phase one's groups
        // share no ticket, so only phase two can match a ticket with an attempt (see
        // `phases`, which forgets those once, not once per group: a pool split finely by
        // equality rules has as many groups as tickets).
        self.found.groups.push(result.matches);
        self.attempts.extend(result.attempts);
        self.metrics.add(&result.metrics);
    }
}

/// Compares an unmatched ticket with the tickets nearest it in anchor order, to say which
/// filters rule partners out (a sample: comparing with the whole pool would cost as much as
/// the batch). A partner every variant rules out counts against each variant's filter.
pub(crate) fn sample_exclusions(
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
