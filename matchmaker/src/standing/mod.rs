//! A standing pool: one matchmaking configuration's tickets kept from batch to batch, with a
//! live index of where each could find partners, so that a batch searches only around what
//! changed — tickets that arrived, left, or reached an expansion step — and costs what
//! changed, not the pool's size.
//!
//! A batch runs to a fixed point: tickets near the ones it matched search again, until a
//! round forms nothing. So after any batch, a from-scratch batch over the tickets left, at the
//! same time, finds no match ([`Matchmaker::scratch_batch`] is that batch, and the tests hold
//! every batch to it). What a batch finds depends on the tickets and the times of the batches,
//! never on the order tickets arrived in or on interned ids.

mod live;

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};
use std::sync::Arc;

use rally_base::{Seconds, Time};
use rally_rules::model::{BatchingPreference, RuleSet};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::batch::{
    BatchOptions, BatchResult, Calibration, Explain, Waiting, anchor_order, complete_alone,
    context, number, run_batch_over, sample_exclusions, search_profiles,
};
use crate::explain::Attempt;
use crate::matches::Match;
use crate::pool::{LocationId, Pool, Rejected, Ticket, TicketKey};
use crate::search::Bounds;
use crate::ticket::NewTicket;
use live::{Candidacy, LiveIndex, Reach, Seat};

/// Where a ticket of the pool is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    /// No ticket holds the key.
    Vacant,
    /// Inserted since the last batch.
    Arrived,
    /// Starts after the last batch's time.
    Future,
    /// Waiting for a match.
    Waiting,
    /// Matched by the last batch; readable until the next.
    Matched,
    /// Can never match (see [`Ticket::unmatchable`]).
    Unmatchable,
}

/// The calibration a standing pool searches with, and what it was made for.
#[derive(Debug)]
struct Tuning {
    calibration: Calibration,
    reaches: Vec<Reach>,
    /// Tickets waiting when it was made: a pool four times larger or smaller is calibrated
    /// again.
    waiting: usize,
    /// With `expansionAgeSelection: oldest`, the expansion steps the oldest ticket had
    /// reached: every search's bounds change when it reaches another.
    oldest_steps: usize,
}

/// One matchmaking configuration's standing pool and its batches.
#[derive(Debug)]
pub struct Matchmaker {
    pool: Pool,
    status: Vec<Status>,
    arrived: Vec<TicketKey>,
    /// Tickets inserted before their start time, by start time.
    future: BinaryHeap<Reverse<(Time, TicketKey)>>,
    /// The last batch's time: waiting tickets whose age crossed an expansion step since
    /// then search again.
    last_batch: Option<f64>,
    /// Waiting tickets by start time, the oldest first.
    by_start: BTreeSet<(Time, TicketKey)>,
    live: LiveIndex,
    tuning: Option<Tuning>,
    /// The seats of tickets that left since the last batch: their partners search again.
    vacated: Vec<Seat>,
    matched: Vec<TicketKey>,
    /// How many tickets are `Matched`.
    matched_count: usize,
}

/// Why a ticket waits, worked out on request.
#[derive(Clone, Debug)]
pub struct Explanation {
    /// What its search met, when it searched (a waiting ticket).
    pub attempt: Option<Attempt>,
    /// The same in words, as `rally match` prints them.
    pub reasons: Vec<String>,
}

impl Matchmaker {
    pub fn new(rule_set: Arc<RuleSet>) -> Matchmaker {
        Matchmaker {
            pool: Pool::new(rule_set),
            status: Vec::new(),
            arrived: Vec::new(),
            future: BinaryHeap::new(),
            last_batch: None,
            by_start: BTreeSet::new(),
            live: LiveIndex::default(),
            tuning: None,
            vacated: Vec::new(),
            matched: Vec::new(),
            matched_count: 0,
        }
    }

    /// The pool: its tickets, strings and rule set.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Tickets waiting for a match (those starting later and those that can never match
    /// included); a batch's matched tickets are not.
    pub fn waiting(&self) -> usize {
        self.pool.len() - self.matched_count
    }

    /// Adds a ticket; it takes part from the first batch at or after its start time.
    pub fn insert(&mut self, request: &NewTicket) -> Result<TicketKey, Rejected> {
        let key = self.pool.insert(request)?;
        self.set_status(key, Status::Arrived);
        self.arrived.push(key);
        Ok(key)
    }

    /// Takes a ticket out (a cancellation, or a matched ticket the caller is done with).
    pub fn remove(&mut self, key: TicketKey) -> Option<Ticket> {
        match self.status_of(key) {
            Status::Vacant => return None,
            Status::Waiting => {
                let seats = self.leave(key);
                self.vacated.extend(seats);
            }
            // Their lists are read by status, so a key left in one costs nothing.
            Status::Matched | Status::Arrived | Status::Future | Status::Unmatchable => {}
        }
        self.set_status(key, Status::Vacant);
        self.pool.remove(key)
    }

    /// Forms matches among the tickets started by `now`, searching only around what changed
    /// since the last batch; the tickets matched leave the search at once, and the pool when
    /// the next batch starts (their keys stay readable until then). Match ids come from
    /// `seed`.
    pub fn run_batch(&mut self, now: Seconds, seed: u64) -> Vec<Match> {
        self.drop_matched();
        let changed = self.changes(now);
        if self.by_start.is_empty() {
            self.vacated.clear();
            return Vec::new();
        }
        let oldest = self.oldest_age(now);
        let anchors = self.first_anchors(changed, now, oldest);
        self.rounds(anchors, now, oldest, seed)
    }

    /// The last batch's matched tickets leave the pool.
    fn drop_matched(&mut self) {
        for key in std::mem::take(&mut self.matched) {
            // Unless the caller removed it already (and the key went to another ticket).
            if self.is(key, Status::Matched) {
                self.set_status(key, Status::Vacant);
                self.pool.remove(key);
            }
        }
    }

    /// The tickets that changed since the last batch: arrived, started, or stepped to an
    /// expansion.
    fn changes(&mut self, now: Seconds) -> Vec<TicketKey> {
        let mut changed = Vec::new();
        self.admit(now, &mut changed);
        self.start_due(now, &mut changed);
        self.find_stepped(now, &mut changed);
        self.last_batch = Some(now);
        changed
    }

    /// The first round's anchors: the changed tickets, and the partners of those and of the
    /// tickets that left; every waiting ticket when the pool is calibrated anew.
    fn first_anchors(
        &mut self,
        mut changed: Vec<TicketKey>,
        now: Seconds,
        oldest: f64,
    ) -> Vec<TicketKey> {
        if self.tune(now, oldest) {
            changed = self.by_start.iter().map(|(_, key)| *key).collect();
            self.vacated.clear();
        }
        let mut seats = std::mem::take(&mut self.vacated);
        for key in &changed {
            seats.extend(self.seats(*key));
        }
        let mut anchors = self.partners(&seats, now, oldest);
        anchors.extend(changed);
        self.waiting_only(anchors)
    }

    /// Rounds until one forms nothing: the tickets a round matches leave the search, and
    /// their partners are the next round's anchors.
    fn rounds(
        &mut self,
        mut anchors: Vec<TicketKey>,
        now: Seconds,
        oldest: f64,
        seed: u64,
    ) -> Vec<Match> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut matches = Vec::new();
        while !anchors.is_empty() {
            let found = self.round(&anchors, now, oldest);
            if found.is_empty() {
                break;
            }
            let taken: Vec<TicketKey> = found.iter().flat_map(|(_, m)| m.tickets()).collect();
            let mut seats = Vec::new();
            for key in &taken {
                seats.extend(self.leave(*key));
                self.set_status(*key, Status::Matched);
            }
            self.matched.extend(taken);
            anchors = self.waiting_only(self.partners(&seats, now, oldest));
            matches.extend(number(found, &mut rng));
        }
        matches
    }

    /// The batch a pool with the same tickets would run from scratch at `now`, under this
    /// pool's calibration: after any [`Matchmaker::run_batch`], it finds no match. Its
    /// unmatched tickets carry no reasons (see [`Matchmaker::explain`]).
    pub fn scratch_batch(&self, now: Seconds, seed: u64) -> BatchResult {
        let options = BatchOptions { now, seed };
        let keys = self.pool.keys().filter(|k| !self.is(*k, Status::Matched));
        let calibration = self.calibration_at(now);
        run_batch_over(&self.pool, keys, &options, &calibration, Explain::Nobody)
    }

    /// The pool's calibration; for a pool not yet tuned, one on every ticket waiting at `now`.
    fn calibration_at(&self, now: f64) -> Cow<'_, Calibration> {
        if let Some(tuning) = &self.tuning {
            return Cow::Borrowed(&tuning.calibration);
        }
        let waiting = Waiting::of(&self.pool, self.pool.keys(), now);
        let profiles = anchor_order(&self.pool, &waiting.keys, now, |_| true);
        Cow::Owned(Calibration::of(&self.pool, &profiles, waiting.oldest))
    }

    /// Why the ticket at `key` is waiting at `now`: its search then, among the tickets
    /// near it, with what stood in its way. `None` for a key the pool does not hold or a
    /// ticket matched by the last batch.
    pub fn explain(&self, key: TicketKey, now: Seconds) -> Option<Explanation> {
        let ticket = self.pool.get(key)?;
        match self.status_of(key) {
            Status::Vacant | Status::Matched => return None,
            Status::Unmatchable => {
                return Some(Explanation {
                    attempt: None,
                    reasons: ticket.unmatchable().to_vec(),
                });
            }
            _ if ticket.start_time > now => {
                return Some(Explanation {
                    attempt: None,
                    reasons: vec![format!(
                        "the ticket starts at {}s, after the batch time {}s",
                        ticket.start_time, now
                    )],
                });
            }
            _ => {}
        }
        let oldest = self.oldest_age(now).max(ticket.age(now));
        let calibration = self.calibration_at(now);
        let reaches = reaches(&self.pool, &calibration);
        let seats = self.seats_under(key, &calibration);
        let mut keys = self.candidates_near(&seats, &reaches, now, oldest);
        keys.push(key);
        keys.sort_unstable();
        keys.dedup();
        let profiles = anchor_order(&self.pool, &keys, now, |k| k == key);
        let context = context(
            &self.pool,
            calibration.plans(),
            calibration.order().to_vec(),
            oldest,
        );
        let mut searched = search_profiles(&context, &profiles);
        let profile = profiles.iter().find(|p| p.key == key).copied()?;
        if searched.matched[profile.rank as usize] {
            return Some(Explanation {
                attempt: None,
                reasons: vec!["a match is ready for the next batch".into()],
            });
        }
        let mut attempt = searched.attempts.remove(&profile.rank).unwrap_or_default();
        complete_alone(&context, &profile, &mut attempt);
        sample_exclusions(&context, &profiles, profile.rank as usize, &mut attempt);
        let params = self.pool.params_table().at(profile.age);
        let reasons = attempt.reasons(self.pool.rule_set(), params);
        Some(Explanation {
            attempt: Some(attempt),
            reasons,
        })
    }

    /// One round of a batch: `anchors` search, the tickets near them as candidates.
    fn round(&self, anchors: &[TicketKey], now: f64, oldest: f64) -> Vec<(u32, Match)> {
        let tuning = self
            .tuning
            .as_ref()
            .expect("a batch with waiting tickets is tuned");
        let mut seats = Vec::new();
        for key in anchors {
            seats.extend(self.seats(*key));
        }
        let mut keys = self.partners(&seats, now, oldest);
        keys.extend_from_slice(anchors);
        keys.sort_unstable();
        keys.dedup();
        let profiles = anchor_order(&self.pool, &keys, now, |k| {
            anchors.binary_search(&k).is_ok()
        });
        let context = context(
            &self.pool,
            tuning.calibration.plans(),
            tuning.calibration.order().to_vec(),
            oldest,
        );
        search_profiles(&context, &profiles).found
    }

    /// Tickets inserted since the last batch join the search, or wait for their start.
    fn admit(&mut self, now: f64, changed: &mut Vec<TicketKey>) {
        for key in std::mem::take(&mut self.arrived) {
            // A key removed since, or listed twice because its slot went to another ticket.
            if !self.is(key, Status::Arrived) {
                continue;
            }
            let ticket = self.pool.ticket(key);
            let start = ticket.start_time;
            if !ticket.unmatchable().is_empty() {
                self.set_status(key, Status::Unmatchable);
            } else if start > now {
                self.set_status(key, Status::Future);
                self.future.push(Reverse((Time(start), key)));
            } else {
                self.join(key);
                changed.push(key);
            }
        }
    }

    /// Tickets whose start time came.
    fn start_due(&mut self, now: f64, changed: &mut Vec<TicketKey>) {
        while let Some(Reverse((Time(at), key))) = self.future.peek().copied() {
            if at > now {
                break;
            }
            self.future.pop();
            // A key whose ticket left (or was reused) since is no longer due.
            if self.is(key, Status::Future) && self.pool.ticket(key).start_time == at {
                self.join(key);
                changed.push(key);
            }
        }
    }

    /// Waiting tickets whose age crossed an expansion step since the last batch: those
    /// whose start lies a step's wait before an instant in between, found by start time.
    fn find_stepped(&self, now: f64, changed: &mut Vec<TicketKey>) {
        let Some(last) = self.last_batch else {
            return;
        };
        let table = self.pool.params_table();
        let steps = |age: f64| table.up_to(age).len();
        let mut wait = 0.0;
        while let Some(step) = table.next_change_after(wait) {
            wait = step;
            // Widened by the tolerance the table compares ages with; then judged exactly.
            let slack = rally_rules::numeric::slack(now, step) * 4.0;
            let from = Time(last - step - slack);
            let to = Time(now - step + slack);
            let crossed = self
                .by_start
                .range((from, TicketKey(0))..=(to, TicketKey(u32::MAX)))
                .map(|(Time(start), key)| (*start, *key))
                .filter(|(start, _)| steps(now - start) != steps(last - start));
            changed.extend(crossed.map(|(_, key)| key));
        }
    }

    /// A ticket starts waiting: into the live index.
    fn join(&mut self, key: TicketKey) {
        self.set_status(key, Status::Waiting);
        self.by_start
            .insert((Time(self.pool.ticket(key).start_time), key));
        let seats = self.seats(key);
        self.live.insert(&seats);
    }

    /// A waiting ticket leaves the search; returns the seats it left.
    fn leave(&mut self, key: TicketKey) -> Vec<Seat> {
        self.by_start
            .remove(&(Time(self.pool.ticket(key).start_time), key));
        let seats = self.seats(key);
        self.live.remove(&seats);
        seats
    }

    fn oldest_age(&self, now: f64) -> f64 {
        self.by_start
            .first()
            .map_or(0.0, |(Time(start), _)| (now - start).max(0.0))
    }

    /// Calibrates again when the pool has grown or shrunk fourfold since the last time;
    /// returns whether every waiting ticket must search again: the calibration changed, or
    /// (with `oldest` selection) the oldest ticket reached another expansion step, which
    /// changes every search's bounds.
    fn tune(&mut self, now: f64, oldest: f64) -> bool {
        let waiting = self.by_start.len();
        let oldest_steps = self.oldest_steps(oldest);
        let stale = match &self.tuning {
            None => true,
            Some(tuning) => {
                waiting > tuning.waiting.saturating_mul(4)
                    || waiting.saturating_mul(4) < tuning.waiting
            }
        };
        if !stale {
            let tuning = self.tuning.as_mut().expect("tuned");
            let stepped = tuning.oldest_steps != oldest_steps;
            tuning.oldest_steps = oldest_steps;
            return stepped;
        }
        let keys: Vec<TicketKey> = self.by_start.iter().map(|(_, key)| *key).collect();
        let profiles = anchor_order(&self.pool, &keys, now, |_| true);
        let calibration = Calibration::of(&self.pool, &profiles, oldest);
        if let Some(tuning) = &mut self.tuning
            && tuning.calibration == calibration
        {
            let stepped = tuning.oldest_steps != oldest_steps;
            tuning.waiting = waiting;
            tuning.oldest_steps = oldest_steps;
            return stepped;
        }
        let reaches = reaches(&self.pool, &calibration);
        self.tuning = Some(Tuning {
            calibration,
            reaches,
            waiting,
            oldest_steps,
        });
        self.live = LiveIndex::default();
        for key in keys {
            let seats = self.seats(key);
            self.live.insert(&seats);
        }
        true
    }

    /// With `oldest` selection, how many expansion steps the oldest ticket has reached (0
    /// otherwise: then no search's bounds depend on the oldest ticket).
    fn oldest_steps(&self, oldest: f64) -> usize {
        use rally_rules::model::ExpansionAgeSelection;
        match self.pool.rule_set().algorithm.expansion_age_selection {
            ExpansionAgeSelection::Oldest => self.pool.params_table().up_to(oldest).len(),
            ExpansionAgeSelection::Newest => 0,
        }
    }

    /// Where the ticket at `key` sits in the live index (nowhere before the first tuning).
    fn seats(&self, key: TicketKey) -> Vec<Seat> {
        match &self.tuning {
            Some(tuning) => self.seats_under(key, &tuning.calibration),
            None => Vec::new(),
        }
    }

    fn seats_under(&self, key: TicketKey, calibration: &Calibration) -> Vec<Seat> {
        LiveIndex::seats(key, self.pool.filters(key), |variant, filters| {
            calibration.plan(variant).own_axis(filters).unwrap_or(0.0)
        })
    }

    /// The waiting tickets whose search a change at `seats` could touch.
    fn partners(&self, seats: &[Seat], now: f64, oldest: f64) -> Vec<TicketKey> {
        match &self.tuning {
            Some(tuning) => self.candidates_near(seats, &tuning.reaches, now, oldest),
            None => Vec::new(),
        }
    }

    /// The waiting tickets near `seats` (see [`LiveIndex::partners`]), each once; every
    /// waiting ticket when the walks would cost more than searching them all.
    fn candidates_near(
        &self,
        seats: &[Seat],
        reaches: &[Reach],
        now: f64,
        oldest: f64,
    ) -> Vec<TicketKey> {
        if seats.is_empty() {
            return Vec::new();
        }
        let rule_set = self.pool.rule_set();
        let candidacy = Pooled {
            pool: &self.pool,
            now,
            bounds: Bounds {
                table: self.pool.params_table(),
                selection: rule_set.algorithm.expansion_age_selection,
                oldest,
            },
        };
        let waiting = self.by_start.len();
        // A set, not a flag per slot: a batch costs what changed, not the pool's size.
        let mut seen: hashbrown::HashSet<TicketKey> = hashbrown::HashSet::new();
        let mut out = Vec::new();
        let mut visits = 0usize;
        let mut found = |key: TicketKey| {
            visits += 1;
            if seen.insert(key) {
                out.push(key);
            }
            visits <= waiting.saturating_mul(4) && out.len() < waiting
        };
        let everything = seats
            .iter()
            .any(|seat| !self.live.partners(seat, reaches, &candidacy, &mut found));
        if everything {
            return self.by_start.iter().map(|(_, key)| *key).collect();
        }
        out
    }

    /// `keys` sorted, once each, those waiting only.
    fn waiting_only(&self, mut keys: Vec<TicketKey>) -> Vec<TicketKey> {
        keys.sort_unstable();
        keys.dedup();
        keys.retain(|key| self.is(*key, Status::Waiting));
        keys
    }

    fn status_of(&self, key: TicketKey) -> Status {
        self.status
            .get(key.0 as usize)
            .copied()
            .unwrap_or(Status::Vacant)
    }

    fn is(&self, key: TicketKey, status: Status) -> bool {
        self.status_of(key) == status
    }

    fn set_status(&mut self, key: TicketKey, status: Status) {
        let index = key.0 as usize;
        if index >= self.status.len() {
            self.status.resize(index + 1, Status::Vacant);
        }
        let was = std::mem::replace(&mut self.status[index], status);
        match (was == Status::Matched, status == Status::Matched) {
            (false, true) => self.matched_count += 1,
            (true, false) => self.matched_count -= 1,
            _ => {}
        }
    }
}

/// How far a change reaches in each variant under `calibration`.
fn reaches(pool: &Pool, calibration: &Calibration) -> Vec<Reach> {
    let rule_set = pool.rule_set();
    // Partitions ranked by how many they hold: a change anywhere in one reorders them.
    let by_population = rule_set.is_large_match()
        && rule_set.algorithm.batching_preference == BatchingPreference::LargestPopulation;
    pool.variants()
        .iter()
        .enumerate()
        .map(|(variant, analysis)| {
            let plan = calibration.plan(variant);
            Reach {
                window: if by_population {
                    f64::INFINITY
                } else {
                    plan.widest_window(analysis, pool.params_table())
                },
                counted: !plan.walks_beyond() && !by_population,
                home: calibration.order()[0] == variant && !analysis.latency.is_empty(),
            }
        })
        .collect()
}

/// What the live index asks of the pool's tickets during a batch at `now`.
struct Pooled<'a> {
    pool: &'a Pool,
    now: f64,
    bounds: Bounds<'a>,
}

impl Candidacy for Pooled<'_> {
    fn takes_part(&self, key: TicketKey, variant: usize) -> bool {
        let ticket = self.pool.ticket(key);
        let age = self.bounds.latest(ticket.age(self.now));
        self.pool.filters(key)[variant]
            .fails_alone_by(age)
            .is_none()
    }

    fn is_home(&self, key: TicketKey, variant: usize, location: Option<LocationId>) -> bool {
        let home = self.pool.filters(key)[variant].home();
        matches!(home, Some([(at, _)]) if Some(*at) == location)
    }
}
