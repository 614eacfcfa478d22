//! One group's search: for each anchor in turn, candidates from the index around it,
//! gathered into a set towards the teams' maximum, put on teams and judged.

use rally_rules::model::{
    BatchingPreference, ExpansionAgeSelection, MapKey, PartyAggregation, RuleId, RuleKind, RuleSet,
    SortDirection, SortRule,
};
use rally_rules::numeric;
use smallvec::{SmallVec, smallvec};

use crate::analysis::Analysis;
use crate::assign::{Assigned, assign_large, assign_small, balance, fill_order_sized, team_lists};
use crate::compare::range;
use crate::eval::{Evaluation, MatchView, evaluate, order_by_average, order_by_latency};
use crate::explain::{Attempt, RuleMetrics};
use crate::filters::{
    FilterState, Latencies, TicketFilters, failed_player_test, own_numbers, widest,
};
use crate::index::{Placement, Slot, VariantIndex, Walk};
use crate::matches::{Match, MatchId, Teams};
use crate::params::{Params, ParamsTable, match_age};
use crate::pool::{LocationId, Pool, Ticket, TicketKey, Value};

mod pairs;

use pairs::Formed;

/// Full candidate sets one anchor may judge in one partition, and in all, before it waits
/// for the next batch.
pub(crate) const MAX_SETS_PER_PARTITION: usize = 16;
pub(crate) const MAX_SETS_PER_ANCHOR: usize = 64;
/// Members of a partition one walk may look at.
pub(crate) const SCAN_BUDGET: usize = 4096;
/// Candidates one anchor's search may consider in one partition, counting each time a
/// backtracking search considers one again.
pub(crate) const SEARCH_STEPS: usize = 8192;
/// Candidates taken from a walk and sorted when sort rules order them.
pub(crate) const SORT_CHUNK: usize = 256;

/// A ticket taking part in a batch.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Profile {
    pub key: TicketKey,
    pub age: f64,
    pub players: usize,
    pub backfill: bool,
    /// Its place in the batch's anchor order.
    pub rank: u32,
    /// Whether it looks for partners, or only waits to be found (a standing pool's batch
    /// searches around what changed; the tickets near it take part as candidates).
    pub anchor: bool,
}

/// How one variant of the search orders and bounds candidates.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Plan {
    axis: Axis,
    /// The negated spread (`analysis.negated.spreads[i]`) on the axis's attribute: the walk
    /// starts beyond its bound, where a match fails it.
    beyond: Option<usize>,
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
    pub(crate) fn of(pool: &Pool, profiles: &[Profile], variant: usize) -> Plan {
        let rule_set = pool.rule_set();
        let analysis = &pool.variants()[variant];
        let table = pool.params_table();
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
                .map(|p| pool.filters(p.key)[variant].state.ranges[i].0)
                .filter(|v| v.is_finite())
                .collect();
            sample.sort_unstable_by(f64::total_cmp);
            let spread = match sample.len() {
                0 => 0.0,
                n => sample[n * 9 / 10] - sample[n / 10],
            };
            widest(&analysis.spreads[i]) / spread.max(f64::MIN_POSITIVE)
        };
        // Without a spread to bound the walk, the attribute a negated spread wants far apart
        // orders it, if one does.
        let negated_closeness = analysis.negated.spreads.iter().find_map(|spread| {
            analysis
                .closeness
                .iter()
                .position(|a| *a == spread.attribute)
        });
        let axis = (0..analysis.spreads.len())
            .min_by(|a, b| selectivity(*a).total_cmp(&selectivity(*b)))
            .map(Axis::Spread)
            .or_else(|| negated_closeness.map(Axis::Closeness))
            .or_else(|| (!analysis.closeness.is_empty()).then_some(Axis::Closeness(0)))
            .unwrap_or(Axis::Rank);
        let axis_attribute = match axis {
            Axis::Spread(i) => Some(analysis.spreads[i].attribute),
            Axis::Closeness(i) => Some(analysis.closeness[i]),
            Axis::Rank => None,
        };
        let beyond = analysis
            .negated
            .spreads
            .iter()
            .position(|spread| Some(spread.attribute) == axis_attribute);
        Plan {
            axis,
            beyond,
            sorted_by_rules,
        }
    }

    /// The ticket's own value on the axis: `None` when partitions are sorted by anchor
    /// order, which is a batch's, not the ticket's.
    pub(crate) fn own_axis(&self, filters: &TicketFilters) -> Option<f64> {
        match self.axis {
            Axis::Spread(i) => Some(filters.state.ranges[i].0),
            Axis::Closeness(i) => Some(filters.closeness[i]),
            Axis::Rank => None,
        }
    }

    /// How far along the axis a walk of this plan may look from its anchor at any age, the
    /// tolerance included; infinity when nothing bounds it.
    pub(crate) fn widest_window(&self, analysis: &Analysis, table: &ParamsTable) -> f64 {
        match self.axis {
            Axis::Spread(i) => {
                let window = widest(table.all(), |p| Some(analysis.spreads[i].bound(p)), 0.0);
                window + numeric::slack(window, 0.0)
            }
            Axis::Closeness(_) | Axis::Rank => f64::INFINITY,
        }
    }

    /// Whether a walk starts beyond a negated spread's bound, skipping the members within
    /// it without counting them against the scan budget.
    pub(crate) fn walks_beyond(&self) -> bool {
        self.beyond.is_some()
    }

    fn axis_value(&self, filters: &TicketFilters, profile: &Profile) -> f64 {
        match self.axis {
            Axis::Spread(i) => filters.state.ranges[i].0,
            Axis::Closeness(i) => filters.closeness[i],
            Axis::Rank => f64::from(profile.rank),
        }
    }
}

/// The relaxable values a set of tickets may be judged with, by the set's age so far.
#[derive(Clone, Debug)]
pub(crate) struct Bounds<'t> {
    pub table: &'t ParamsTable,
    pub selection: ExpansionAgeSelection,
    /// The oldest ticket's age: with `oldest` selection, a match may reach it.
    pub oldest: f64,
}

impl Bounds<'_> {
    /// A set's age so far with one more ticket.
    pub(crate) fn combine(&self, age: f64, other: f64) -> f64 {
        match self.selection {
            ExpansionAgeSelection::Newest => age.min(other),
            ExpansionAgeSelection::Oldest => age.max(other),
        }
    }

    /// Every `Params` the match may yet be judged with, given the set's age so far. With the
    /// newest ticket's age, joining tickets can only make the match younger; with the
    /// oldest's, older, up to the oldest ticket in the pool. (Expansions usually relax with
    /// age, but nothing forbids a step that tightens, so every value in reach counts.)
    pub(crate) fn reach(&self, age: f64) -> &[Params] {
        match self.selection {
            ExpansionAgeSelection::Newest => self.table.up_to(age),
            ExpansionAgeSelection::Oldest => self.table.up_to(self.oldest.max(age)),
        }
    }

    /// The latest age a match holding a ticket of age `age` may be judged at.
    pub(crate) fn latest(&self, age: f64) -> f64 {
        match self.selection {
            ExpansionAgeSelection::Newest => age,
            ExpansionAgeSelection::Oldest => self.oldest.max(age),
        }
    }
}

/// What every search of a batch shares.
#[derive(Debug)]
pub(crate) struct Context<'a> {
    pub pool: &'a Pool,
    pub rule_set: &'a RuleSet,
    pub variants: &'a [Analysis],
    pub plans: &'a [Plan],
    pub bounds: Bounds<'a>,
    /// The order variants are tried in, the most selective first (see [`variant_order`]).
    pub order: Vec<usize>,
}

impl Context<'_> {
    pub(crate) fn filters(&self, profile: &Profile, variant: usize) -> &TicketFilters {
        &self.pool.filters(profile.key)[variant]
    }

    /// The rule `profile`'s ticket fails on its own in variant `variant` in this batch.
    #[inline]
    pub(crate) fn fails_alone(&self, profile: &Profile, variant: usize) -> Option<RuleId> {
        self.filters(profile, variant)
            .fails_alone_by(self.bounds.latest(profile.age))
    }
}

/// Which partitions a group of tickets is searched in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Scope {
    /// The first variant in the order only, each ticket at its nearest location: groups
    /// that share no ticket, searched side by side.
    Home,
    /// Every variant, each ticket at every location under the caps.
    Everywhere,
}

/// What searching one group of tickets found.
#[derive(Debug, Default)]
pub(crate) struct GroupResult {
    /// Each match with its anchor's rank, in the order formed; `None` where a repair broke
    /// one up (handed over as formed, so that a batch of pairs never copies its matches to
    /// drop the gaps).
    pub matches: Vec<Option<(u32, Match)>>,
    /// The ranks of the tickets matched.
    pub matched: Vec<u32>,
    /// Why each anchor that formed no match waits, by rank.
    pub attempts: Vec<(u32, Attempt)>,
    pub metrics: RuleMetrics,
}

impl Context<'_> {
    /// Forms matches among `profiles` (in anchor order), each anchor in turn.
    pub(crate) fn search(&self, profiles: &[Profile], scope: Scope) -> GroupResult {
        let in_scope = match scope {
            Scope::Home => &self.order[..1],
            Scope::Everywhere => &self.order[..],
        };
        // Each ticket's filters, read once in anchor order (the pool's order, mostly), with
        // what the index needs of them: the search then finds a candidate's state without
        // reading its ticket's slot.
        let (own, indexes): (Vec<Vec<&TicketFilters>>, Vec<Option<VariantIndex>>) =
            (0..self.variants.len())
                .map(|v| match in_scope.contains(&v) {
                    true => {
                        let (own, seats) = self.read(profiles, v, scope);
                        let index = self.index(profiles, &own, &seats, scope);
                        (own, Some(index))
                    }
                    false => (Vec::new(), None),
                })
                .unzip();
        let mut search = Search {
            pool: self.pool,
            rule_set: self.rule_set,
            context: self,
            variants: self.variants,
            order: in_scope,
            plans: self.plans,
            indexes,
            own,
            bounds: &self.bounds,
            profiles,
            metrics: RuleMetrics::new(self.rule_set.rules.len()),
        };
        let mut formed = Formed {
            // Room for a match of two per two tickets: pages never written are never touched,
            // and a batch of pairs grows no vector of matches by copying it.
            matches: Vec::with_capacity(profiles.len() / 2),
            match_of: vec![u32::MAX; profiles.len()],
            mate: vec![u32::MAX; profiles.len()],
        };
        let mut attempts: Vec<(usize, Attempt)> = Vec::new();
        for anchor in 0..profiles.len() {
            if formed.match_of[anchor] != u32::MAX || !profiles[anchor].anchor {
                continue;
            }
            let mut attempt = Attempt::default();
            match search.around(anchor, &mut attempt) {
                Some((members, found)) => {
                    for member in &members {
                        for index in search.indexes.iter_mut().flatten() {
                            index.remove(*member, profiles[*member].players);
                        }
                    }
                    formed.add(&members, profiles[anchor].rank, found);
                }
                None => attempts.push((anchor, attempt)),
            }
        }
        if self.pairs_only() {
            search.repair(&mut formed);
        }
        let matched = |p: usize| formed.match_of[p] != u32::MAX;
        GroupResult {
            matched: (0..profiles.len())
                .filter(|p| matched(*p))
                .map(|p| profiles[p].rank)
                .collect(),
            attempts: attempts
                .into_iter()
                .filter(|(p, _)| !matched(*p))
                .map(|(p, attempt)| (profiles[p].rank, attempt))
                .collect(),
            matches: formed.matches,
            metrics: search.metrics,
        }
    }

    /// Whether every match is two players, at every age: the batches [`repair`] improves.
    fn pairs_only(&self) -> bool {
        self.bounds.table.all().iter().all(|p| p.max_players() == 2)
    }

    /// Each of `profiles`' filters in variant `variant`, and what the index needs of it (the
    /// home copied out), read in one pass so that building the index never goes back to the
    /// pool for it.
    fn read(
        &self,
        profiles: &[Profile],
        variant: usize,
        scope: Scope,
    ) -> (Vec<&TicketFilters>, Vec<Option<Seat>>) {
        let mut own = Vec::with_capacity(profiles.len());
        let mut seats = Vec::with_capacity(profiles.len());
        for p in profiles {
            let filters = self.filters(p, variant);
            own.push(filters);
            if filters.fails_alone_by(self.bounds.latest(p.age)).is_some() {
                seats.push(None);
                continue;
            }
            let home = match scope {
                Scope::Home => filters.home().map(|list| list.first().copied()),
                Scope::Everywhere => None,
            };
            seats.push(Some(Seat {
                axis: self.plans[variant].axis_value(filters, p),
                home,
            }));
        }
        (own, seats)
    }

    /// The candidate index over `profiles`, from their filters and seats (see
    /// [`Context::read`]).
    fn index(
        &self,
        profiles: &[Profile],
        own: &[&TicketFilters],
        seats: &[Option<Seat>],
        scope: Scope,
    ) -> VariantIndex {
        let placements: Vec<Option<Placement<'_>>> = seats
            .iter()
            .zip(profiles.iter().zip(own))
            .map(|(seat, (p, filters))| {
                let seat = seat.as_ref()?;
                let locations = match scope {
                    Scope::Home => seat
                        .home
                        .as_ref()
                        .map(|home| home.as_ref().map_or(&[][..], std::slice::from_ref)),
                    Scope::Everywhere => filters.locations(),
                };
                Some(Placement {
                    keys: &filters.state.equal,
                    locations,
                    axis: seat.axis,
                    players: p.players,
                })
            })
            .collect();
        VariantIndex::build(&placements, self.pool.locations().id_bound())
    }
}

/// What a ticket's place in an index is built from, read once from its filters.
struct Seat {
    axis: f64,
    /// In phase one, the ticket's nearest location under the caps (`Some(None)`: none is;
    /// `None`: no latency rule).
    home: Option<Option<(LocationId, f32)>>,
}

/// The order to try a batch's variants in: the most selective first, judged by how many of
/// a sample of tickets' pairs each variant's filters let join. An anchor that can match
/// through a rare branch of a compound rule (a clan-mate) takes it before a common one (any
/// close player), whose partners have other chances; and the order never depends on how the
/// designer ordered the operands. Ties keep the variants' own order.
pub(crate) fn variant_order(context: &Context<'_>, profiles: &[Profile]) -> Vec<usize> {
    const SAMPLE: usize = 128;
    let count = context.variants.len();
    if count == 1 {
        return vec![0];
    }
    let stride = (profiles.len() / SAMPLE).max(1);
    let sample: Vec<&Profile> = profiles.iter().step_by(stride).take(SAMPLE).collect();
    let degree = |variant: usize| -> f64 {
        let alive: Vec<&&Profile> = sample
            .iter()
            .filter(|p| context.fails_alone(p, variant).is_none())
            .collect();
        let mut joined = 0usize;
        for (i, a) in alive.iter().enumerate() {
            for b in &alive[i + 1..] {
                let reach = context.bounds.reach(context.bounds.combine(a.age, b.age));
                let state = &context.filters(a, variant).state;
                if state
                    .join(
                        &context.filters(b, variant).state,
                        &context.variants[variant],
                        context.rule_set,
                        reach,
                    )
                    .is_ok()
                {
                    joined += 1;
                }
            }
        }
        joined as f64 / alive.len().max(1) as f64
    };
    let degrees: Vec<f64> = (0..count).map(degree).collect();
    let mut order: Vec<usize> = (0..count).collect();
    order.sort_by(|a, b| degrees[*a].total_cmp(&degrees[*b]).then(a.cmp(b)));
    order
}

/// The state one group's search works on.
struct Search<'a> {
    pool: &'a Pool,
    rule_set: &'a RuleSet,
    context: &'a Context<'a>,
    variants: &'a [Analysis],
    /// The variants in scope, in the order they are tried.
    order: &'a [usize],
    plans: &'a [Plan],
    /// Per variant, its index when in scope.
    indexes: Vec<Option<VariantIndex>>,
    /// Per variant in scope, each profile's filters (see [`Search::own`]).
    own: Vec<Vec<&'a TicketFilters>>,
    bounds: &'a Bounds<'a>,
    profiles: &'a [Profile],
    metrics: RuleMetrics,
}

/// The profiles of a candidate set, the anchor first.
type Members = SmallVec<[usize; 8]>;

/// A growing candidate set.
#[derive(Clone)]
struct Gathering {
    members: Members,
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

/// A candidate set grown by one candidate: full (at the teams' maximum, to be judged) or
/// short of it (to grow further).
enum Grown {
    Full(Gathering),
    Short(Gathering),
}

/// Where the depth-first search over one partition's candidates stands.
struct Path {
    /// The candidates taken from the source so far, in order.
    seen: SmallVec<[usize; 16]>,
    /// Per member after the anchor: its position in `seen` and the set before it joined.
    taken: Vec<(usize, Gathering)>,
    /// The first (greedy) set, kept at the end of the candidates.
    fallback: Option<Gathering>,
    /// Players of every candidate seen: when they cannot fill the teams, no other path can.
    seen_players: usize,
    /// The most players a match around the anchor may have at any age in reach.
    most: usize,
    /// The next candidate to consider, in `seen`.
    position: usize,
    /// Candidates considered so far, counting each one considered again.
    steps: usize,
}

impl Path {
    /// At the end of the candidates: keeps the first (greedy) set for the fallback, then
    /// goes back to the set before the last candidate taken, to try the ones after it.
    /// Returns whether the search goes on.
    fn backtrack(&mut self, gathering: &mut Gathering, rule_set: &RuleSet) -> bool {
        if self.fallback.is_none() {
            self.fallback = Some(gathering.clone());
            // Another path through a large match's candidates is as hopeless as it is long
            // (and FlexMatch fills large matches in one pass too).
            if self.seen_players < self.most || rule_set.is_large_match() {
                return false;
            }
        }
        let Some((at, before)) = self.taken.pop() else {
            return false;
        };
        *gathering = before;
        self.position = at + 1;
        true
    }
}

impl<'a> Search<'a> {
    /// Profile `profile`'s filters in variant `variant` (in scope), as
    /// [`Context::filters`] has them.
    fn own(&self, profile: usize, variant: usize) -> &'a TicketFilters {
        self.own[variant][profile]
    }

    /// The rule profile `profile` fails on its own in variant `variant` (in scope), as
    /// [`Context::fails_alone`] says.
    fn fails_alone(&self, profile: usize, variant: usize) -> Option<RuleId> {
        self.own(profile, variant)
            .fails_alone_by(self.bounds.latest(self.profiles[profile].age))
    }
}

impl Search<'_> {
    /// Variant `variant`'s index; the search asks only for variants in scope.
    fn index(&self, variant: usize) -> &VariantIndex {
        self.indexes[variant]
            .as_ref()
            .expect("variants in scope have an index")
    }

    /// How far along the axis a walk of `variant` around a ticket of age `age` looks: the
    /// axis spread's widest bound in reach, or everywhere.
    fn window(&self, variant: usize, age: f64) -> f64 {
        match self.plans[variant].axis {
            Axis::Spread(i) => widest(
                self.bounds.reach(age),
                |p| Some(self.variants[variant].spreads[i].bound(p)),
                0.0,
            ),
            Axis::Closeness(_) | Axis::Rank => f64::INFINITY,
        }
    }

    fn index_mut(&mut self, variant: usize) -> &mut VariantIndex {
        self.indexes[variant]
            .as_mut()
            .expect("variants in scope have an index")
    }

    /// Tries to form a match around `anchor`; returns its members (profile indices) and the
    /// match, or records in `attempt` what stood in the way.
    fn around(&mut self, anchor: usize, attempt: &mut Attempt) -> Option<(Members, Match)> {
        let fails: SmallVec<[Option<RuleId>; 1]> = self
            .order
            .iter()
            .map(|v| self.fails_alone(anchor, *v))
            .collect();
        if fails.iter().all(Option::is_some) {
            attempt.alone_fails = fails[0];
            return None;
        }
        let mut tried = SetsTried::default();
        for (k, &variant) in self.order.iter().enumerate() {
            if fails[k].is_some() {
                continue;
            }
            let mut slots: SmallVec<[Slot; 8]> = self.index(variant).slots(anchor).into();
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
        let index = self.index(variant);
        slots.sort_by(|x, y| {
            let population = if by_population {
                index
                    .partition(y)
                    .players_alive
                    .cmp(&index.partition(x).players_alive)
            } else {
                std::cmp::Ordering::Equal
            };
            // Ties by location name: interned ids follow the order locations were first seen.
            let name = |slot: &Slot| {
                index
                    .partition(slot)
                    .location
                    .map(|l| self.pool.location_name(l))
            };
            population
                .then(x.latency.total_cmp(&y.latency))
                .then_with(|| name(x).cmp(&name(y)))
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
    ) -> Option<(Members, Match)> {
        let mut source = self.source(variant, anchor, slot);
        let mut gathering = self.start(variant, anchor, attempt);
        if let Some(found) = self.fill(variant, &mut source, &mut gathering, attempt, tried) {
            return Some(found);
        }
        // A younger partner must not keep an older ticket from the expansions it has waited
        // for: when the newest ticket's wait sets the clock and the set is short of the
        // minimums at its age, the oldest tickets that meet the minimums at theirs will do.
        if self.rule_set.algorithm.expansion_age_selection == ExpansionAgeSelection::Newest
            && let Some(older) = self.settle_for_age(variant, &gathering)
        {
            gathering = older;
        }
        self.shrink(variant, gathering, attempt, tried)
    }

    /// Where `anchor`'s candidates in the partition of `slot` come from: a walk along the
    /// axis within the window, its first chunk sorted when sort rules order candidates.
    fn source(&mut self, variant: usize, anchor: usize, slot: &Slot) -> Source {
        let analysis = &self.variants[variant];
        let age = self.profiles[anchor].age;
        let window = self.window(variant, age);
        // A negated spread fails only beyond its widest bound in reach.
        let beyond = self.plans[variant].beyond.map(|i| {
            widest(
                self.bounds.reach(age),
                |p| Some(analysis.negated.spreads[i].bound(p)),
                0.0,
            )
        });
        let mut source = Source {
            walk: self.index_mut(variant).walk_beyond(slot, beyond, window),
            sorted: None,
            scanned: 0,
        };
        if self.plans[variant].sorted_by_rules {
            let mut chunk = Vec::new();
            while chunk.len() < SORT_CHUNK {
                let Some(candidate) = source.next(self.index_mut(variant)) else {
                    break;
                };
                chunk.push(candidate);
            }
            self.order(variant, anchor, &mut chunk);
            source.sorted = Some(chunk.into_iter());
        }
        source
    }

    /// The set of `anchor` alone, noting in `attempt` the players it needs and has.
    fn start(&self, variant: usize, anchor: usize, attempt: &mut Attempt) -> Gathering {
        let a = &self.profiles[anchor];
        let gathering = Gathering {
            members: smallvec![anchor],
            players: a.players,
            backfill: a.backfill.then_some(anchor),
            age: a.age,
            filters: self.own(anchor, variant).state.clone(),
        };
        attempt.players_needed = self.params_for(&gathering.members).min_players() as usize;
        attempt.most_players = attempt.most_players.max(a.players);
        gathering
    }

    /// A depth-first search over the candidates in order, from the anchor's set in
    /// `gathering`: the first path is the greedy one (take every candidate that fits); a full
    /// set that fails, or the end of the candidates short of the maximum, backtracks to try
    /// the next candidate instead of the last one taken — so parties that did not fit get
    /// their turn. Returns the first full set that makes a match; otherwise leaves in
    /// `gathering` the set to settle for (the greedy one, when the search got to its end).
    fn fill(
        &mut self,
        variant: usize,
        source: &mut Source,
        gathering: &mut Gathering,
        attempt: &mut Attempt,
        tried: &mut SetsTried,
    ) -> Option<(Members, Match)> {
        let a = &self.profiles[gathering.members[0]];
        let mut path = Path {
            seen: SmallVec::new(),
            taken: Vec::new(),
            fallback: None,
            seen_players: a.players,
            most: self
                .bounds
                .reach(a.age)
                .iter()
                .map(|p| p.max_players() as usize)
                .max()
                .unwrap_or(0),
            position: 0,
            steps: 0,
        };
        loop {
            if path.position == path.seen.len()
                && let Some(candidate) = source.next(self.index_mut(variant))
            {
                path.seen.push(candidate);
                path.seen_players += self.profiles[candidate].players;
            }
            let Some(&candidate) = path.seen.get(path.position) else {
                if path.backtrack(gathering, self.rule_set) {
                    continue;
                }
                break;
            };
            path.steps += 1;
            if path.steps > SEARCH_STEPS {
                break;
            }
            path.position += 1;
            match self.grow(variant, gathering, candidate, attempt) {
                None => {}
                Some(Grown::Full(next)) => {
                    tried.count();
                    if let Some(found) = self.finalize(variant, &next, attempt) {
                        return Some((next.members, found));
                    }
                    // Drop the candidate that completed the set and look further.
                    if tried.exhausted() {
                        break;
                    }
                }
                Some(Grown::Short(next)) => {
                    let before = std::mem::replace(gathering, next);
                    path.taken.push((path.position - 1, before));
                }
            }
        }
        if let Some(fallback) = path.fallback {
            *gathering = fallback;
        }
        None
    }

    /// The set `gathering` with `candidate` joined (the set without it stays as it was, to
    /// go back to); `None` when the candidate does not fit or the filters turn it away.
    fn grow(
        &mut self,
        variant: usize,
        gathering: &Gathering,
        candidate: usize,
        attempt: &mut Attempt,
    ) -> Option<Grown> {
        let analysis = &self.variants[variant];
        let c = &self.profiles[candidate];
        if c.backfill && gathering.backfill.is_some() {
            return None;
        }
        let age = self.bounds.combine(gathering.age, c.age);
        let max_players = self.bounds.table.at(age).max_players() as usize;
        if gathering.players + c.players > max_players {
            return None;
        }
        let filters = match gathering.filters.join(
            &self.own(candidate, variant).state,
            analysis,
            self.rule_set,
            self.bounds.reach(age),
        ) {
            Ok(filters) => filters,
            Err(why) => {
                // FlexMatch counts a rule's failures on potential matches; a candidate
                // the filters turn away is one.
                self.metrics.record_excluded(why);
                return None;
            }
        };
        let mut members = gathering.members.clone();
        members.push(candidate);
        let next = Gathering {
            members,
            players: gathering.players + c.players,
            backfill: if c.backfill {
                Some(candidate)
            } else {
                gathering.backfill
            },
            age,
            filters,
        };
        attempt.most_players = attempt.most_players.max(next.players);
        if next.players < max_players {
            return Some(Grown::Short(next));
        }
        if self.keeps_negated_equal(analysis, &next) {
            // Everyone shares a value this variant needs someone to break: not a match.
            return None;
        }
        Some(Grown::Full(next))
    }

    /// Not enough for the maximum: the largest set that meets the minimums will do — the
    /// anchor alone, if the teams allow it — dropping the last members in turn.
    fn shrink(
        &mut self,
        variant: usize,
        mut gathering: Gathering,
        attempt: &mut Attempt,
        tried: &mut SetsTried,
    ) -> Option<(Members, Match)> {
        while !tried.exhausted() {
            let params = self.params_for(&gathering.members);
            if gathering.players < params.min_players() as usize {
                break;
            }
            tried.count();
            if let Some(found) = self.finalize(variant, &gathering, attempt) {
                return Some((gathering.members, found));
            }
            if gathering.members.len() == 1 {
                break;
            }
            // The smaller set keeps the larger one's filter state: it can only rule out more.
            let last = gathering.members.pop().expect("more than the anchor");
            gathering.players -= self.profiles[last].players;
            if gathering.backfill == Some(last) {
                gathering.backfill = None;
            }
        }
        None
    }
    /// For a set short of the minimums at its (newest ticket's) age: the anchor with the
    /// most of its oldest partners that meet the minimums at their own age, with its state
    /// worked out again; `None` when the set is not short, or no such set exists.
    fn settle_for_age(&self, variant: usize, gathering: &Gathering) -> Option<Gathering> {
        let profiles = self.profiles;
        let anchor = &profiles[gathering.members[0]];
        let needed = |age: f64| self.bounds.table.at(age).min_players() as usize;
        let now_needed = needed(gathering.age);
        // Only a smaller minimum at an older age can help.
        let helps = self
            .bounds
            .table
            .up_to(anchor.age)
            .iter()
            .any(|p| (p.min_players() as usize) < now_needed);
        if gathering.players >= now_needed || !helps {
            return None;
        }
        let mut by_age: SmallVec<[usize; 8]> = gathering.members[1..].into();
        by_age.sort_by(|a, b| profiles[*b].age.total_cmp(&profiles[*a].age));
        // Keeping the `keep` oldest partners: the set's age is the youngest of them.
        let mut players = anchor.players;
        let mut best = if players >= needed(anchor.age) {
            Some(0)
        } else {
            None
        };
        for (keep, member) in by_age.iter().enumerate() {
            players += profiles[*member].players;
            let age = anchor.age.min(profiles[*member].age);
            if players >= needed(age) {
                best = Some(keep + 1);
            }
        }
        let kept = &by_age[..best?];
        let mut members: Members = smallvec![gathering.members[0]];
        members.extend(
            gathering.members[1..]
                .iter()
                .copied()
                .filter(|m| kept.contains(m)),
        );
        self.rebuilt(variant, members)
    }

    /// A set of `members` (the anchor first) with its state worked out again. They joined
    /// once as part of a larger set, so they join again (the filters only get harder as a
    /// set grows); `None` if they somehow do not.
    fn rebuilt(&self, variant: usize, members: Members) -> Option<Gathering> {
        let analysis = &self.variants[variant];
        let first = &self.profiles[members[0]];
        let mut gathering = Gathering {
            members: smallvec![members[0]],
            players: first.players,
            backfill: first.backfill.then_some(members[0]),
            age: first.age,
            filters: self.context.filters(first, variant).state.clone(),
        };
        for member in &members[1..] {
            let p = &self.profiles[*member];
            let age = self.bounds.combine(gathering.age, p.age);
            gathering.filters = gathering
                .filters
                .join(
                    &self.context.filters(p, variant).state,
                    analysis,
                    self.rule_set,
                    self.bounds.reach(age),
                )
                .ok()?;
            gathering.age = age;
            gathering.players += p.players;
            gathering.members.push(*member);
            if p.backfill {
                gathering.backfill = Some(*member);
            }
        }
        Some(gathering)
    }

    /// Whether every player of the set shares the value of an equality the variant needs
    /// broken (a negated rule), so that the set fails it.
    fn keeps_negated_equal(&self, analysis: &Analysis, gathering: &Gathering) -> bool {
        analysis.negated.equal.iter().any(|key| {
            let mut values = gathering
                .members
                .iter()
                .flat_map(|m| &self.pool.ticket(self.profiles[*m].key).players)
                .map(|player| &player.values[key.attribute.0]);
            let first = values.next();
            values.all(|value| Some(value) == first)
        })
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
                &self.context.filters(a, variant).closeness,
                &self.context.filters(px, variant).closeness,
                &self.context.filters(py, variant).closeness,
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
        variant: usize,
        gathering: &Gathering,
        attempt: &mut Attempt,
    ) -> Option<Match> {
        let analysis = &self.variants[variant];
        if gathering.backfill.is_some() && gathering.members.len() < 2 {
            return None; // a backfill ticket needs at least one other ticket
        }
        let age = match_age(
            self.rule_set.algorithm.expansion_age_selection,
            gathering.members.iter().map(|m| self.profiles[*m].age),
        );
        let params = self.bounds.table.at(age);
        let keys: SmallVec<[TicketKey; 8]> = gathering
            .members
            .iter()
            .map(|m| self.profiles[*m].key)
            .collect();
        let backfill = gathering.backfill.map(|m| self.profiles[m].key);
        if analysis.exact
            && let Some(judged) =
                self.finalize_exact(variant, gathering, params, &keys, backfill, attempt)
        {
            return judged.map(|(teams, locations)| Match {
                id: MatchId::default(),
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
            let metrics = &mut self.metrics;
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
                Assigned::Invalid => return None,
            }
        };
        Some(Match {
            id: MatchId::default(),
            teams: Teams::from_lists(&teams),
            locations: evaluation.locations.into_iter().collect(),
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
        variant: usize,
        gathering: &Gathering,
        params: &Params,
        keys: &[TicketKey],
        backfill: Option<TicketKey>,
        attempt: &mut Attempt,
    ) -> Option<Option<(Teams, SmallVec<[LocationId; 8]>)>> {
        let rule_set = self.rule_set;
        if let Some(rule) = self.exact_failure(variant, gathering, params, keys)? {
            self.metrics.record_judged(rule_set, Some(rule));
            attempt.record_failure(rule, rule_set.rules.len());
            return Some(None);
        }
        let teams = self.exact_teams(gathering, params, backfill)?;
        let locations = self.exact_locations(variant, gathering, params, keys);
        self.metrics.record_judged(rule_set, None);
        attempt.judged += 1;
        Some(Some((teams, locations)))
    }

    /// The rule an exact set fails at the match's own age, by its filters, then by each
    /// player's per-team tests (`Some(None)`: none); `None` when the filters fail it without
    /// naming a rule, and the full team search should decide.
    fn exact_failure(
        &self,
        variant: usize,
        gathering: &Gathering,
        params: &Params,
        keys: &[TicketKey],
    ) -> Option<Option<RuleId>> {
        let analysis = &self.variants[variant];
        let pool = self.pool;
        match gathering
            .filters
            .check(analysis, self.rule_set, std::slice::from_ref(params))
        {
            Err(why) => why.rule().map(Some),
            // Without per-player tests no ticket need be read.
            Ok(()) if analysis.player_tests.is_empty() => Some(None),
            Ok(()) => Some(
                keys.iter()
                    .find_map(|key| failed_player_test(pool, pool.ticket(*key), analysis, params)),
            ),
        }
    }

    /// An exact set's teams in FlexMatch's fill order, balanced on the `balancedAttribute`
    /// if there is one; `None` when the fill order misses a team's bounds.
    fn exact_teams(
        &self,
        gathering: &Gathering,
        params: &Params,
        backfill: Option<TicketKey>,
    ) -> Option<Teams> {
        let pool = self.pool;
        let sized: SmallVec<[(TicketKey, usize); 8]> = gathering
            .members
            .iter()
            .map(|m| (self.profiles[*m].key, self.profiles[*m].players))
            .collect();
        let (placed, counts) = fill_order_sized(pool, &sized, backfill, params)?;
        let sizes_hold = counts.iter().enumerate().all(|(team, players)| {
            (params.team_min[team] as usize..=params.team_max[team] as usize).contains(players)
        });
        if !sizes_hold {
            return None;
        }
        Some(match self.rule_set.algorithm.balanced_attribute {
            Some(attribute) => {
                let mut lists = team_lists(pool, backfill, &placed);
                balance(pool, &mut lists, backfill, attribute);
                Teams::from_lists(&lists)
            }
            None => Teams::from_placed(pool, backfill, &placed),
        })
    }

    /// Where an exact set may play, nearest first: the locations under the latency cap, or
    /// without latency rules those every player reports.
    fn exact_locations(
        &self,
        variant: usize,
        gathering: &Gathering,
        params: &Params,
        keys: &[TicketKey],
    ) -> SmallVec<[LocationId; 8]> {
        let analysis = &self.variants[variant];
        let pool = self.pool;
        let tickets =
            || -> SmallVec<[&Ticket; 8]> { keys.iter().map(|k| pool.ticket(*k)).collect() };
        let latency_filtered = !analysis.latency.is_empty();
        let mut locations: SmallVec<[LocationId; 8]> =
            match (analysis.latency.first(), gathering.filters.latency.first()) {
                (Some(cap), Some(latencies)) => {
                    let cap = params.rules[cap.rule.0]
                        .max_latency
                        .unwrap_or(f64::INFINITY);
                    under_cap(latencies, cap)
                }
                // Without latency rules: the locations every player reports.
                _ => reported_by_all(&tickets()),
            };
        let solo = gathering
            .members
            .iter()
            .all(|m| self.profiles[*m].players == 1);
        if latency_filtered && solo {
            self.order_by_own_latency(variant, gathering, &mut locations);
        } else {
            order_by_latency(pool, &tickets(), &mut locations);
        }
        locations
    }

    /// Orders a set of solo tickets' locations by their average latency. A solo ticket's
    /// worst latency is its player's own: the states know the average without reading any
    /// player's latencies.
    fn order_by_own_latency(
        &self,
        variant: usize,
        gathering: &Gathering,
        locations: &mut [LocationId],
    ) {
        let own: SmallVec<[&Latencies; 8]> = gathering
            .members
            .iter()
            .map(|m| &self.own(*m, variant).state.latency[0])
            .collect();
        order_by_average(self.pool, locations, |location| {
            let (sum, count) = own
                .iter()
                .filter_map(|list| list.iter().find(|(l, _)| *l == location))
                .fold((0u64, 0u64), |(sum, count), (_, l)| {
                    (sum + *l as u64, count + 1)
                });
            sum as f64 / count.max(1) as f64
        });
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

/// The locations of `latencies` (each with a set's worst latency there) within `cap`.
fn under_cap(latencies: &Latencies, cap: f64) -> SmallVec<[LocationId; 8]> {
    latencies
        .iter()
        .filter(|(_, worst)| f64::from(*worst) <= cap)
        .map(|(location, _)| *location)
        .collect()
}

/// The locations every player of `tickets` reports a latency for, in the order the first
/// player reports them.
fn reported_by_all(tickets: &[&Ticket]) -> SmallVec<[LocationId; 8]> {
    match tickets.first().and_then(|t| t.players.first()) {
        None => SmallVec::new(),
        Some(first) => first
            .latencies
            .iter()
            .map(|(location, _)| *location)
            .filter(|location| {
                tickets
                    .iter()
                    .flat_map(|t| &t.players)
                    .all(|p| p.latency(*location).is_some())
            })
            .collect(),
    }
}

/// A ticket's value for a sort rule: its number, combined across a party by the rule's
/// `partyAggregation` (sorting is what FlexMatch uses the aggregate for), or for a map the
/// value at the anchor's lowest or highest key.
fn sort_value(ticket: &Ticket, anchor: &Ticket, rule: &SortRule) -> Option<f64> {
    let attribute = rule.attribute.0;
    match &ticket.players.first()?.values[attribute] {
        Value::Number(_) => {
            let numbers = own_numbers(ticket, attribute);
            Some(match rule.party_aggregation {
                PartyAggregation::Min => range(&numbers).0,
                PartyAggregation::Max => range(&numbers).1,
                PartyAggregation::Avg => numbers.iter().sum::<f64>() / numbers.len() as f64,
            })
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
