//! What the filters of `analysis` know about one ticket, or about a growing set of tickets,
//! and how two such states join. A join fails as soon as the set could no longer be part of
//! any valid match — whatever else joins it — with the relaxable values in force at any age
//! the match could be judged at. Every state is built from each player's own values, as the
//! rules judge them.

use rally_rules::model::{RuleId, RuleSet};
use rally_rules::numeric;

use crate::analysis::{Analysis, CollectionKind, Literal, PlayerTest, Test};
use crate::compare::{compare_numbers, range, within_distance};
use crate::params::{Params, ParamsTable, RuleParams};
use crate::pooled::{LocationId, Lookup, Symbol, Ticket, Value};
use smallvec::{SmallVec, smallvec};

/// Which filter ruled other tickets out as partners.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exclusion {
    /// No location within the latency rule's cap in common.
    Latency(RuleId),
    /// A different value where the rule wants everyone's equal.
    Equal(RuleId),
    /// Too far apart where the rule bounds the spread.
    Spread(RuleId),
    /// A collection rule that only gets harder as players join would fail.
    Collection(RuleId),
    /// A value someone already has where the rule wants everyone's different.
    Distinct(RuleId),
    /// Too many players who may join only some teams for those teams' seats.
    Teams,
    /// Both backfill tickets: a match holds at most one.
    Backfill,
}

impl Exclusion {
    /// The rule that excludes, when one does.
    pub fn rule(self) -> Option<RuleId> {
        match self {
            Exclusion::Latency(rule)
            | Exclusion::Equal(rule)
            | Exclusion::Spread(rule)
            | Exclusion::Collection(rule)
            | Exclusion::Distinct(rule) => Some(rule),
            Exclusion::Teams | Exclusion::Backfill => None,
        }
    }
}

/// A string everyone in a match must share.
pub(crate) type Key = Symbol;

/// A value no two players of a match may share.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    Number(f64),
    Symbol(Symbol),
}

impl Scalar {
    /// The same value: numbers within the tolerance of `rally_rules::numeric`.
    fn same(self, other: Scalar) -> bool {
        match (self, other) {
            (Scalar::Number(a), Scalar::Number(b)) => numeric::eq(a, b),
            (a, b) => a == b,
        }
    }
}

/// What a collection filter tracks.
#[derive(Clone, Debug, PartialEq)]
pub enum CollectionState {
    /// The strings every player's list holds.
    Shared(Symbols),
    /// How many players' lists hold one of the rule's strings.
    Contains(usize),
    /// Each player's block list with how many of the set's ids it holds, and the set's ids.
    Blocks {
        lists: Vec<(Vec<Symbol>, usize)>,
        ids: Symbols,
    },
}

/// A few strings, inline: a player's modes, a party's ids (a set of tickets whose state
/// needs more spills to the heap; a ticket's own rarely does).
pub(crate) type Symbols = SmallVec<[Symbol; 4]>;

/// Each location every member can use, with the worst member latency there. Inline up to
/// the number of locations a typical latency cap leaves a player (two or three of eight
/// regions under 100 ms).
pub(crate) type Latencies = SmallVec<[(LocationId, f32); 4]>;

/// The state is kept inline (no allocation) for the common rule sets: a million tickets each
/// hold one, and every join of a candidate builds one.
#[derive(Clone, Debug, PartialEq)]
pub struct FilterState {
    /// Per latency filter: each location every member can use, with the worst member latency.
    pub latency: SmallVec<[Latencies; 1]>,
    /// Per equality filter: the shared value; `None` when the set's players disagree.
    pub equal: SmallVec<[Option<Key>; 1]>,
    /// Per spread filter: the lowest and highest value.
    pub ranges: SmallVec<[(f64, f64); 1]>,
    /// Per distinct filter: every member's value.
    pub distinct: Box<[SmallVec<[Scalar; 4]>]>,
    pub collections: Box<[CollectionState]>,
    /// Players by the set of teams they may join (a bit per team; all bits when unknown).
    pub by_allowed: SmallVec<[(u64, usize); 1]>,
}

/// The widest value of a bound over `bound`, for a filter that must never reject what a later
/// age would allow.
pub(crate) fn widest(
    bound: &[Params],
    value: impl Fn(&Params) -> Option<f64>,
    unbounded: f64,
) -> f64 {
    bound
        .iter()
        .map(|p| value(p).unwrap_or(unbounded))
        .fold(f64::NEG_INFINITY, f64::max)
}

/// What the filters know of one ticket that stays true while it waits, for one variant of
/// the search: worked out once, when the ticket joins the pool.
#[derive(Clone, Debug, PartialEq)]
pub struct TicketFilters {
    /// The ticket's state; the teams it may join are those of any age.
    pub state: FilterState,
    /// Per closeness attribute of the variant, the ticket's average: an order for
    /// candidates, never a test.
    pub closeness: SmallVec<[f64; 2]>,
    /// With several latency rules, the locations under every cap at its loosest, with the
    /// ticket's worst latency there (with one rule, `state.latency[0]` is that list; see
    /// [`TicketFilters::locations`]).
    intersected: Option<Box<Latencies>>,
    /// From which age of its match the ticket passes the filters on its own (infinity: at
    /// no age), and the rule it fails before then.
    pub alone_from: f64,
    /// The rule it fails before then (`RuleId`'s number: a rule set has at most a few
    /// hundred rules, and the space beside it holds `home`).
    alone_fails: u32,
    /// Where in `locations()` the ticket's nearest location is (ties by name, never by
    /// interned id); `u16::MAX` without one.
    home: u16,
}

impl TicketFilters {
    pub fn of(
        pool: &impl Lookup,
        ticket: &Ticket,
        analysis: &Analysis,
        table: &ParamsTable,
    ) -> Self {
        let (mut state, _) = FilterState::of_ticket(pool, ticket, analysis, table.all());
        // A location over a cap at its loosest can hold no match with this ticket in it.
        for (list, cap) in state.latency.iter_mut().zip(&analysis.latency) {
            let loosest = widest(
                table.all(),
                |p| p.rules[cap.rule.0].max_latency,
                f64::INFINITY,
            );
            list.retain(|(_, worst)| numeric::le(f64::from(*worst), loosest));
            // Back inline when the locations left fit: most tickets have a few near them.
            list.shrink_to_fit();
        }
        let closeness = analysis
            .closeness
            .iter()
            .map(|attribute| {
                let numbers = own_numbers(ticket, attribute.0);
                numbers.iter().sum::<f64>() / numbers.len().max(1) as f64
            })
            .collect();
        let intersected = if analysis.latency.len() > 1 {
            state
                .feasible_locations(analysis, table.all())
                .map(Box::new)
        } else {
            None
        };
        let mut alone_from = f64::INFINITY;
        let mut alone_fails = None;
        for (start, params) in table.steps() {
            match state.fails_alone(pool, ticket, analysis, std::slice::from_ref(params)) {
                None => {
                    alone_from = start;
                    break;
                }
                Some(rule) => {
                    alone_fails.get_or_insert(rule);
                }
            }
        }
        TicketFilters {
            state,
            closeness,
            intersected,
            alone_from,
            alone_fails: alone_fails.unwrap_or(RuleId(0)).0 as u32,
            home: u16::MAX,
        }
        .with_home(pool)
    }

    /// The locations under every latency cap at its loosest, with the ticket's worst latency
    /// there; `None` when the variant has no latency rule.
    pub fn locations(&self) -> Option<&[(LocationId, f32)]> {
        match &self.intersected {
            Some(list) => Some(list),
            None => self.state.latency.first().map(|list| &list[..]),
        }
    }

    /// The rule the ticket fails on its own in a match judged at an age of at most `age`;
    /// `None` when it passes at some such age: such a match may be judged with the values of
    /// any expansion step started by then, so the first step the ticket passes at decides.
    pub fn fails_alone_by(&self, age: f64) -> Option<RuleId> {
        (!numeric::ge(age, self.alone_from)).then_some(RuleId(self.alone_fails as usize))
    }

    /// The location under the caps where the ticket's worst latency is lowest, as a
    /// one-entry list of `locations` (empty when none is under the caps); `None` without
    /// latency rules.
    pub fn home(&self) -> Option<&[(LocationId, f32)]> {
        let locations = self.locations()?;
        let at = usize::from(self.home);
        Some(locations.get(at..=at).unwrap_or(&[]))
    }

    /// Finds the nearest location once: by the ticket's worst latency, ties by location
    /// name, so that it never depends on the order the pool first saw locations in.
    fn with_home(mut self, pool: &impl Lookup) -> Self {
        let nearest = self.locations().and_then(|locations| {
            (0..locations.len()).min_by(|a, b| {
                let (a, b) = (locations[*a], locations[*b]);
                a.1.total_cmp(&b.1)
                    .then_with(|| pool.location_name(a.0).cmp(pool.location_name(b.0)))
            })
        });
        self.home = nearest.map_or(u16::MAX, |i| i as u16);
        self
    }
}

impl FilterState {
    /// One ticket's state, and the first rule it fails on its own, whatever its partners.
    pub fn of_ticket(
        pool: &impl Lookup,
        ticket: &Ticket,
        analysis: &Analysis,
        bound: &[Params],
    ) -> (FilterState, Option<RuleId>) {
        let players = &ticket.players;
        let latency = analysis
            .latency
            .iter()
            .map(|_| worst_latencies(ticket))
            .collect();
        let equal = analysis
            .equal
            .iter()
            .map(|key| {
                let mut values = players.iter().map(|p| match p.values[key.attribute.0] {
                    Value::String(symbol) => Some(symbol),
                    _ => None,
                });
                let first = values.next().flatten()?;
                values.all(|v| v == Some(first)).then_some(first)
            })
            .collect();
        let ranges = analysis
            .spreads
            .iter()
            .map(|spread| range(&own_numbers(ticket, spread.attribute.0)))
            .collect();
        let distinct = analysis
            .distinct
            .iter()
            .map(|d| {
                players
                    .iter()
                    .filter_map(|p| match p.values[d.attribute.0] {
                        Value::Number(n) => Some(Scalar::Number(n)),
                        Value::String(s) => Some(Scalar::Symbol(s)),
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        let collections = analysis
            .collections
            .iter()
            .map(|collection| {
                collection_state(pool, ticket, collection.attribute.0, &collection.kind)
            })
            .collect();
        let by_allowed = smallvec![(
            allowed_teams(pool, ticket, analysis, bound),
            ticket.players.len(),
        )];
        let state = FilterState {
            latency,
            equal,
            ranges,
            distinct,
            collections,
            by_allowed,
        };
        let fails = state.fails_alone(pool, ticket, analysis, bound);
        (state, fails)
    }

    /// The first rule a ticket whose state this is fails on its own, whatever its partners,
    /// when the match may be judged with any of `bound`.
    fn fails_alone(
        &self,
        pool: &impl Lookup,
        ticket: &Ticket,
        analysis: &Analysis,
        bound: &[Params],
    ) -> Option<RuleId> {
        let rule_set = pool.rule_set();
        // A ticket is a set of one: it fails alone what it fails joined with nothing.
        if let Err(why) = self.check(analysis, rule_set, bound) {
            return Some(
                why.rule()
                    .unwrap_or_else(|| analysis.latency.first().map_or(RuleId(0), |c| c.rule)),
            );
        }
        if let Some(i) = self.equal.iter().position(Option::is_none) {
            return Some(analysis.equal[i].rule);
        }
        if let Some(i) = self
            .distinct
            .iter()
            .position(|values| !all_distinct(values))
        {
            return Some(analysis.distinct[i].rule);
        }
        analysis
            .player_tests
            .iter()
            .filter(|t| t.teams.len() == rule_set.teams.len())
            .find(|test| !passes_somewhere(pool, ticket, test, bound))
            .map(|test| test.rule)
    }

    /// The locations under every latency cap in `bound`, with the set's worst latency there;
    /// `None` without latency filters.
    pub fn feasible_locations(&self, analysis: &Analysis, bound: &[Params]) -> Option<Latencies> {
        let (first, others) = self.latency.split_first()?;
        let caps: Vec<f64> = analysis
            .latency
            .iter()
            .map(|cap| widest(bound, |p| p.rules[cap.rule.0].max_latency, f64::INFINITY))
            .collect();
        Some(
            first
                .iter()
                .filter(|(_, worst)| numeric::le(f64::from(*worst), caps[0]))
                .filter_map(|(location, worst)| {
                    let mut worst = *worst;
                    for (i, list) in others.iter().enumerate() {
                        let (_, there) = list.iter().find(|(l, _)| l == location)?;
                        if !numeric::le(f64::from(*there), caps[i + 1]) {
                            return None;
                        }
                        worst = worst.max(*there);
                    }
                    Some((*location, worst))
                })
                .collect(),
        )
    }

    /// The state of this set joined with `other`, or which filter forbids the join.
    pub fn join(
        &self,
        other: &FilterState,
        analysis: &Analysis,
        rule_set: &RuleSet,
        bound: &[Params],
    ) -> Result<FilterState, Exclusion> {
        for (i, (mine, theirs)) in self.equal.iter().zip(&other.equal).enumerate() {
            if mine != theirs {
                return Err(Exclusion::Equal(analysis.equal[i].rule));
            }
        }
        for (i, (mine, theirs)) in self.distinct.iter().zip(&other.distinct).enumerate() {
            if mine.iter().any(|a| theirs.iter().any(|b| a.same(*b))) {
                return Err(Exclusion::Distinct(analysis.distinct[i].rule));
            }
        }
        let ranges: SmallVec<[(f64, f64); 1]> = self
            .ranges
            .iter()
            .zip(&other.ranges)
            .map(|(a, b)| (a.0.min(b.0), a.1.max(b.1)))
            .collect();
        // The spreads first: they are cheap, and the commonest reason a join fails.
        check_ranges(&ranges, analysis, bound)?;
        let latency = self
            .latency
            .iter()
            .zip(&other.latency)
            .map(|(mine, theirs)| merge_latencies(mine, theirs))
            .collect();
        let distinct = self
            .distinct
            .iter()
            .zip(&other.distinct)
            .map(|(a, b)| a.iter().chain(b).copied().collect())
            .collect();
        let collections = self
            .collections
            .iter()
            .zip(&other.collections)
            .map(|(mine, theirs)| join_collections(mine, theirs))
            .collect();
        let mut by_allowed = self.by_allowed.clone();
        for (mask, players) in &other.by_allowed {
            match by_allowed.iter_mut().find(|(m, _)| m == mask) {
                Some((_, count)) => *count += players,
                None => by_allowed.push((*mask, *players)),
            }
        }
        let joined = FilterState {
            latency,
            equal: self.equal.clone(),
            ranges,
            distinct,
            collections,
            by_allowed,
        };
        joined.check(analysis, rule_set, bound)?;
        Ok(joined)
    }

    /// Whether the set can still be part of a valid match under the widest bounds in `bound`.
    pub fn check(
        &self,
        analysis: &Analysis,
        rule_set: &RuleSet,
        bound: &[Params],
    ) -> Result<(), Exclusion> {
        for (i, locations) in self.latency.iter().enumerate() {
            let rule = analysis.latency[i].rule;
            let cap = widest(bound, |p| p.rules[rule.0].max_latency, f64::INFINITY);
            if !locations
                .iter()
                .any(|(_, worst)| numeric::le(f64::from(*worst), cap))
            {
                return Err(Exclusion::Latency(rule));
            }
        }
        check_ranges(&self.ranges, analysis, bound)?;
        for (i, state) in self.collections.iter().enumerate() {
            let rule = analysis.collections[i].rule;
            if !collection_holds(state, rule, bound) {
                return Err(Exclusion::Collection(rule));
            }
        }
        self.check_team_seats(rule_set, bound)
    }

    /// Players who may join only some teams must fit in those teams' seats (Hall's
    /// condition, checked for each set of teams some ticket is limited to).
    fn check_team_seats(&self, rule_set: &RuleSet, bound: &[Params]) -> Result<(), Exclusion> {
        if self.by_allowed.iter().all(|(mask, _)| *mask == u64::MAX) {
            return Ok(());
        }
        let seats =
            |team: usize| bound.iter().map(|p| p.team_max[team]).max().unwrap_or(0) as usize;
        for (mask, _) in &self.by_allowed {
            let players: usize = self
                .by_allowed
                .iter()
                .filter(|(m, _)| m & !mask == 0)
                .map(|(_, n)| n)
                .sum();
            let capacity: usize = (0..rule_set.teams.len().min(64))
                .filter(|t| mask & (1 << t) != 0)
                .map(seats)
                .sum();
            if players > capacity {
                return Err(Exclusion::Teams);
            }
        }
        Ok(())
    }
}

/// Whether each spread's lowest and highest value lie within its widest bound in `bound`.
fn check_ranges(
    ranges: &[(f64, f64)],
    analysis: &Analysis,
    bound: &[Params],
) -> Result<(), Exclusion> {
    for ((low, high), spread) in ranges.iter().zip(&analysis.spreads) {
        let allowed = widest(bound, |p| Some(spread.bound(p)), 0.0);
        if !numeric::le(high - low, allowed) {
            return Err(Exclusion::Spread(spread.rule));
        }
    }
    Ok(())
}

/// A collection filter's state for one ticket, from its players' own lists.
fn collection_state(
    pool: &impl Lookup,
    ticket: &Ticket,
    attribute: usize,
    kind: &CollectionKind,
) -> CollectionState {
    let lists: Vec<&[Symbol]> = ticket
        .players
        .iter()
        .map(|p| match &p.values[attribute] {
            Value::StringList(list) => &list[..],
            _ => &[],
        })
        .collect();
    match kind {
        CollectionKind::Shared => {
            let mut shared: Symbols = lists.first().map_or_else(Symbols::new, |l| (*l).into());
            shared.retain(|s| lists.iter().all(|l| l.contains(s)));
            CollectionState::Shared(shared)
        }
        CollectionKind::Contains(strings) => {
            let symbols: Vec<Symbol> = strings.iter().filter_map(|s| pool.symbol(s)).collect();
            CollectionState::Contains(
                lists
                    .iter()
                    .filter(|l| l.iter().any(|s| symbols.contains(s)))
                    .count(),
            )
        }
        CollectionKind::Blocks => {
            let ids: Symbols = ticket
                .players
                .iter()
                .filter_map(|p| p.id_symbol())
                .collect();
            CollectionState::Blocks {
                // An empty block list blocks nobody, and is most players'.
                lists: lists
                    .into_iter()
                    .filter(|list| !list.is_empty())
                    .map(|list| {
                        let count = list.iter().filter(|s| ids.contains(s)).count();
                        (list.to_vec(), count)
                    })
                    .collect(),
                ids,
            }
        }
    }
}

fn join_collections(mine: &CollectionState, theirs: &CollectionState) -> CollectionState {
    match (mine, theirs) {
        (CollectionState::Shared(a), CollectionState::Shared(b)) => {
            CollectionState::Shared(a.iter().copied().filter(|s| b.contains(s)).collect())
        }
        (CollectionState::Contains(a), CollectionState::Contains(b)) => {
            CollectionState::Contains(a + b)
        }
        (
            CollectionState::Blocks {
                lists: a,
                ids: a_ids,
            },
            CollectionState::Blocks {
                lists: b,
                ids: b_ids,
            },
        ) => {
            let count_in =
                |list: &[Symbol], ids: &[Symbol]| list.iter().filter(|s| ids.contains(s)).count();
            let lists = a
                .iter()
                .map(|(list, count)| (list.clone(), count + count_in(list, b_ids)))
                .chain(
                    b.iter()
                        .map(|(list, count)| (list.clone(), count + count_in(list, a_ids))),
                )
                .collect();
            CollectionState::Blocks {
                lists,
                ids: a_ids.iter().chain(b_ids).copied().collect(),
            }
        }
        _ => unreachable!("states of one filter have one kind"),
    }
}

/// Whether a collection filter's state can still pass under the widest bounds in `bound`.
fn collection_holds(state: &CollectionState, rule: RuleId, bound: &[Params]) -> bool {
    match state {
        CollectionState::Shared(shared) => {
            // The smallest minimum in reach (expansions lower it).
            let min = -widest(
                bound,
                |p| p.rules[rule.0].min_count.map(|m| -m),
                f64::INFINITY,
            );
            shared.len() as f64 >= min
        }
        CollectionState::Contains(count) => {
            *count as f64 <= widest(bound, |p| p.rules[rule.0].max_count, f64::INFINITY)
        }
        CollectionState::Blocks { lists, .. } => {
            let max = widest(bound, |p| p.rules[rule.0].max_count, f64::INFINITY);
            lists.iter().all(|(_, count)| *count as f64 <= max)
        }
    }
}

fn all_distinct(values: &[Scalar]) -> bool {
    values
        .iter()
        .enumerate()
        .all(|(i, a)| values[i + 1..].iter().all(|b| !a.same(*b)))
}

fn merge_latencies(a: &[(LocationId, f32)], b: &[(LocationId, f32)]) -> Latencies {
    let mut merged = Latencies::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                merged.push((a[i].0, a[i].1.max(b[j].1)));
                i += 1;
                j += 1;
            }
        }
    }
    merged
}

/// Each location every player of the ticket reports, with the worst of their latencies
/// there: every player must be within a cap.
fn worst_latencies(ticket: &Ticket) -> Latencies {
    let Some(first) = ticket.players.first() else {
        return Latencies::new();
    };
    first
        .latencies
        .iter()
        .filter_map(|(location, _)| {
            ticket
                .players
                .iter()
                .map(|p| p.latency(*location))
                .try_fold(0u32, |worst, l| Some(worst.max(l?)))
                .map(|worst| (*location, worst as f32))
        })
        .collect()
}

/// The ticket's players' own numbers for `attribute`.
pub(crate) fn own_numbers(ticket: &Ticket, attribute: usize) -> SmallVec<[f64; 4]> {
    ticket
        .players
        .iter()
        .filter_map(|p| match p.values[attribute] {
            Value::Number(n) => Some(n),
            _ => None,
        })
        .collect()
}

/// The teams (as bits) whose per-team tests the ticket's players pass at some age in reach;
/// all bits when no test limits it.
fn allowed_teams(
    pool: &impl Lookup,
    ticket: &Ticket,
    analysis: &Analysis,
    bound: &[Params],
) -> u64 {
    let rule_set = pool.rule_set();
    if rule_set.teams.len() > 64 {
        return u64::MAX;
    }
    let mut allowed = u64::MAX;
    for test in &analysis.player_tests {
        if test.teams.len() == rule_set.teams.len() || passes_somewhere(pool, ticket, test, bound) {
            continue;
        }
        for team in &test.teams {
            allowed &= !(1u64 << team.0);
        }
    }
    allowed
}

/// The first per-player test over every team that a player of `ticket` fails with `params`.
pub(crate) fn failed_player_test(
    pool: &impl Lookup,
    ticket: &Ticket,
    analysis: &Analysis,
    params: &Params,
) -> Option<RuleId> {
    let rule_set = pool.rule_set();
    analysis
        .player_tests
        .iter()
        .filter(|t| t.teams.len() == rule_set.teams.len())
        .find(|t| !passes_somewhere(pool, ticket, t, std::slice::from_ref(params)))
        .map(|t| t.rule)
}

/// Whether every player of `ticket` passes `test` with some `Params` of `bound`.
pub(crate) fn passes_somewhere(
    pool: &impl Lookup,
    ticket: &Ticket,
    test: &PlayerTest,
    bound: &[Params],
) -> bool {
    let rule_set = pool.rule_set();
    bound.iter().any(|params| {
        let rule_params = &params.rules[test.rule.0];
        test.reference(rule_set, params).is_none_or(|reference| {
            ticket.players.iter().all(|player| {
                player_passes(
                    pool,
                    test,
                    &player.values[test.attribute.0],
                    rule_params,
                    &reference,
                )
            })
        })
    })
}

/// Whether one player's own `value` passes `test` against `reference`.
fn player_passes(
    pool: &impl Lookup,
    test: &PlayerTest,
    value: &Value,
    params: &RuleParams,
    reference: &Literal,
) -> bool {
    use rally_rules::model::ComparisonOperation as Op;
    match (&test.test, value, reference) {
        (Test::Compare(operation), Value::Number(n), Literal::Number(r)) => {
            compare_numbers(*n, *operation, *r)
        }
        (Test::Compare(operation), Value::String(s), Literal::String(r)) => {
            let same = pool.symbol(r) == Some(*s);
            match operation {
                Op::Equal => same,
                Op::NotEqual => !same,
                // The checker allows only `=` and `!=` on strings.
                _ => false,
            }
        }
        (Test::Distance, Value::Number(n), Literal::Number(r)) => {
            within_distance((n - r).abs(), params)
        }
        (Test::ListCount, Value::StringList(list), Literal::Strings(_) | Literal::String(_)) => {
            let strings: &[String] = match reference {
                Literal::Strings(strings) => strings,
                Literal::String(one) => std::slice::from_ref(one),
                Literal::Number(_) => &[],
            };
            let count = list
                .iter()
                .filter(|s| strings.iter().any(|r| pool.symbol(r) == Some(**s)))
                .count() as f64;
            params.min_count.is_none_or(|min| count >= min)
                && params.max_count.is_none_or(|max| count <= max)
        }
        // A value of another type than the rule's reference (the checker allows none).
        _ => true,
    }
}
