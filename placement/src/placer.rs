//! The placer: fleets' capacity, queues, and each placement request from PENDING to its final
//! status — GameLift's queue algorithm, with rally's opt-in extensions per queue.
//!
//! A decision filters the queue's candidates (each destination fleet in each of its
//! locations), ranks them lexicographically by the queue's priority order, and reserves a game
//! session on the best one with room. A request that finds no room waits on every candidate it
//! could use under the latency cap in force, oldest first; when a candidate frees a session,
//! its oldest waiting request is decided again. A request is also decided again when its
//! latency cap relaxes, and times out when its queue's timeout passes. So the cost of a
//! decision does not grow with the number of requests waiting.
//!
//! As GameLift does, a request that cannot be placed stays PENDING until its queue's timeout,
//! even one that no candidate could ever host (unless its queue opts into
//! [`Unplaceable::Fail`]); one that ends unplaced carries a [`Reason`]. The timeout wins at
//! its own moment: nothing is placed at or after it, under a cap that would start then or in
//! a session freed then.

use std::cmp::Reverse;
use std::hash::BuildHasher;
use std::sync::Arc;

// foldhash, hashbrown's default: faster than SipHash on the short keys looked up here.
use hashbrown::hash_table::Entry;
use hashbrown::{DefaultHashBuilder, HashMap, HashTable};

use priority_queue::PriorityQueue;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::PlacementError;
use crate::model::{
    CostBasis, FallbackStrategy, Fleet, FleetLocation, FleetType, LatencyRanking, LatencySchedule,
    LocationId, LocationStatus, Locations, MissingLatency, PlacementRequest, PlacementStatus,
    PriorityType, Queue, Seconds, Spread, Time, Unplaceable,
};
use crate::reason::{self, Excluded, Exclusion, Reason};

/// Pending placements by `(start time, arrival)`: the oldest pops first.
type OldestFirst = PriorityQueue<u32, Reverse<(Time, u64)>, DefaultHashBuilder>;

/// GameLift's limit on players in one game session.
pub const MAX_PLAYERS_PER_SESSION: u32 = 200;

/// A placement's place in the placer; stays valid for the placer's life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PlacementKey(pub u32);

/// What happened to a placement, GameLift's four queue placement events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Fulfilled,
    Cancelled,
    TimedOut,
    Failed,
}

impl EventKind {
    /// The event's `detail.type`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Fulfilled => "PlacementFulfilled",
            EventKind::Cancelled => "PlacementCancelled",
            EventKind::TimedOut => "PlacementTimedOut",
            EventKind::Failed => "PlacementFailed",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlacementEvent {
    pub kind: EventKind,
    pub placement: PlacementKey,
    pub time: Seconds,
}

/// The game session a fulfilled placement reserved.
#[derive(Clone, Debug, PartialEq)]
pub struct GameSession {
    pub fleet_id: Arc<str>,
    pub location: Arc<str>,
    /// Numbers the session's id (`gsess-<n>`) and its player sessions.
    pub number: u64,
    /// The players' average latency at the location; `None` without latency data.
    pub average_latency: Option<f64>,
    /// The instance's hourly cost at the location.
    pub hourly_cost: f64,
    /// Whether the session has ended and given its slot back.
    pub ended: bool,
    slot: u32,
}

/// A placement request and what became of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Placement {
    pub request: PlacementRequest,
    pub start_time: Seconds,
    pub status: PlacementStatus,
    pub end_time: Option<Seconds>,
    pub session: Option<GameSession>,
    /// Why a placement that ended without a game session did: every CANCELLED, TIMED_OUT or
    /// FAILED one has a reason; PENDING and FULFILLED ones have none.
    pub reason: Option<Reason>,
    queue: u32,
    /// While PENDING, per location id: the players' latencies there, aggregated. Empty
    /// otherwise: a request decided at once never needs it stored.
    latency: Box<[LocationLatency]>,
    has_latency: bool,
    order: u64,
    /// While PENDING: the slots it waits on.
    waits_on: Vec<u32>,
    /// Whether it sits in the waiting lists and timers.
    queued: bool,
}

/// Where a request can use one of its queue's candidates, whatever the time, capacity and
/// status.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct LocationLatency {
    /// Every player has a latency here (reported or assumed).
    complete: bool,
    worst: f64,
    average: f64,
    /// The value the queue ranks by (average, worst or a percentile).
    rank: f64,
}

/// One fleet in one location, with its game sessions in use, and what a decision reads of
/// the fleet location, copied here so that it reads one place.
#[derive(Clone, Debug)]
struct Slot {
    fleet: u32,
    /// Index into the fleet's locations.
    entry: u32,
    location: LocationId,
    fleet_id: Arc<str>,
    used: u64,
    capacity: u64,
    /// ACTIVE, and viable if Spot.
    open: bool,
    hourly_cost: f64,
}

impl Slot {
    fn new(fleet: &Fleet, f: u32, entry: u32, location: LocationId) -> Slot {
        let mut slot = Slot {
            fleet: f,
            entry,
            location,
            fleet_id: fleet.id.as_str().into(),
            used: 0,
            capacity: 0,
            open: false,
            hourly_cost: 0.0,
        };
        slot.refresh(fleet);
        slot
    }

    /// Copies the fleet location's current state.
    fn refresh(&mut self, fleet: &Fleet) {
        let location = &fleet.locations[self.entry as usize];
        self.capacity = location.capacity();
        self.open = location.status == LocationStatus::Active
            && (fleet.fleet_type == FleetType::OnDemand || location.spot_viable);
        self.hourly_cost = location.hourly_cost;
    }

    /// Whether the slot takes a new game session now.
    fn has_room(&self) -> bool {
        self.open && self.used < self.capacity
    }
}

/// One of a queue's candidates: a destination fleet in one of its locations.
#[derive(Clone, Debug)]
struct Candidate {
    slot: u32,
    destination: u32,
    location: LocationId,
    allowed: bool,
    /// Index in the queue's `LocationOrder`; unlisted locations after, alphabetically.
    location_rank: u32,
    /// The COST key, by the queue's cost basis.
    cost: f64,
    max_players: u32,
}

#[derive(Clone, Debug)]
struct QueueState {
    queue: Queue,
    candidates: Vec<Candidate>,
    schedule: LatencySchedule,
}

/// Reusable buffers for one decision, so that a decision allocates nothing of its own.
#[derive(Clone, Debug, Default)]
struct Scratch {
    /// Per location id: the request being started's latencies, aggregated.
    latency: Vec<LocationLatency>,
    /// `values[location * players + player]`, NaN where the player reported nothing.
    values: Vec<f64>,
    column: Vec<f64>,
    ranked: Vec<(u32, [f64; 4])>,
    /// Candidates tied with the best, with their free game sessions.
    ties: Vec<(u32, u64)>,
}

/// Fleets, queues and placements. Every operation takes the current time; the placer reads
/// no clock and draws randomness (for weighted spreading only) from its seeded generator.
#[derive(Debug)]
pub struct Placer {
    fleets: Vec<Fleet>,
    fleet_ids: HashMap<String, u32>,
    locations: Locations,
    /// Each location's alphabetical rank, by id.
    alphabetical: Vec<u32>,
    slots: Vec<Slot>,
    queues: Vec<QueueState>,
    queue_ids: HashMap<String, u32>,
    placements: Vec<Placement>,
    /// Placement keys, hashed by the placement ids the placements hold (no second copy).
    placement_ids: HashTable<u32>,
    hasher: DefaultHashBuilder,
    /// Per slot: the pending placements that could use it, oldest first.
    waiting: Vec<OldestFirst>,
    /// Per pending placement: when to look at it again (a cap relaxes, or it times out).
    timers: OldestFirst,
    events: Vec<PlacementEvent>,
    rng: ChaCha8Rng,
    next_order: u64,
    next_session: u64,
    scratch: Scratch,
}

impl Placer {
    /// A placer over `fleets`; `seed` seeds weighted spreading.
    pub fn new(fleets: Vec<Fleet>, seed: u64) -> Result<Placer, PlacementError> {
        let mut placer = Placer {
            fleets: Vec::new(),
            fleet_ids: HashMap::new(),
            locations: Locations::default(),
            alphabetical: Vec::new(),
            slots: Vec::new(),
            queues: Vec::new(),
            queue_ids: HashMap::new(),
            placements: Vec::new(),
            placement_ids: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            waiting: Vec::new(),
            timers: OldestFirst::default(),
            events: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            next_order: 0,
            next_session: 1,
            scratch: Scratch::default(),
        };
        for (f, fleet) in fleets.into_iter().enumerate() {
            let at = |field: &str| format!("[{f}].{field}");
            if placer.fleet_ids.contains_key(&fleet.id) {
                return Err(PlacementError::invalid(
                    at("FleetId"),
                    format!("fleet `{}` is listed twice", fleet.id),
                ));
            }
            for (l, location) in fleet.locations.iter().enumerate() {
                let field = |name: &str| at(&format!("Locations[{l}].{name}"));
                if fleet.locations[..l]
                    .iter()
                    .any(|other| other.location == location.location)
                {
                    return Err(PlacementError::invalid(
                        field("Location"),
                        format!(
                            "fleet `{}` lists location `{}` twice",
                            fleet.id, location.location
                        ),
                    ));
                }
                PlacementError::at_least_zero(location.hourly_cost, field("HourlyCost"), "cost")?;
                if location.sessions_per_instance == 0 {
                    return Err(PlacementError::invalid(
                        field("GameSessionsPerInstance"),
                        "expected at least 1 game session per instance".to_string(),
                    ));
                }
                let id = placer.locations.intern(&location.location);
                placer.slots.push(Slot::new(&fleet, f as u32, l as u32, id));
                placer.waiting.push(OldestFirst::default());
            }
            placer.fleet_ids.insert(fleet.id.clone(), f as u32);
            placer.fleets.push(fleet);
        }
        placer.alphabetical = placer.locations.alphabetical_ranks();
        Ok(placer)
    }

    /// The locations the fleets cover: requests name them by number.
    pub fn locations(&self) -> &Locations {
        &self.locations
    }

    /// Adds a queue; its destinations must name fleets of the placer.
    pub fn add_queue(&mut self, queue: Queue) -> Result<(), PlacementError> {
        if self.queue_ids.contains_key(&queue.name) {
            return Err(PlacementError::invalid(
                "Name",
                format!("queue `{}` already exists", queue.name),
            ));
        }
        if queue.priority_order[0] == PriorityType::Location && queue.location_order.is_empty() {
            return Err(PlacementError::invalid(
                "PriorityConfiguration.LocationOrder",
                "a queue that ranks by LOCATION first needs a `LocationOrder`".to_string(),
            ));
        }
        let mut candidates = Vec::new();
        for (d, fleet_id) in queue.destinations.iter().enumerate() {
            let Some(&fleet) = self.fleet_ids.get(fleet_id) else {
                return Err(PlacementError::invalid(
                    format!("Destinations[{d}].DestinationArn"),
                    format!(
                        "no fleet `{fleet_id}`; the fleets are {}",
                        self.fleet_list()
                    ),
                ));
            };
            for (slot, state) in self.slots.iter().enumerate() {
                if state.fleet != fleet {
                    continue;
                }
                let name = &**self.locations.name(state.location);
                let allowed = queue
                    .allowed_locations
                    .as_ref()
                    .is_none_or(|allowed| allowed.iter().any(|a| a == name));
                let location_rank = match queue.location_order.iter().position(|l| l == name) {
                    Some(i) => i as u32,
                    None => {
                        queue.location_order.len() as u32
                            + self.alphabetical[state.location.0 as usize]
                    }
                };
                let location = &self.fleets[fleet as usize].locations[state.entry as usize];
                let cost = match queue.options.cost_basis {
                    CostBasis::Instance => location.hourly_cost,
                    CostBasis::GameSession => {
                        location.hourly_cost / f64::from(location.sessions_per_instance)
                    }
                };
                candidates.push(Candidate {
                    slot: slot as u32,
                    destination: d as u32,
                    location: state.location,
                    allowed,
                    location_rank,
                    cost,
                    max_players: location.max_players,
                });
            }
        }
        let id = self.queues.len() as u32;
        self.queue_ids.insert(queue.name.clone(), id);
        self.queues.push(QueueState {
            schedule: queue.latency_schedule(),
            queue,
            candidates,
        });
        Ok(())
    }

    fn fleet_list(&self) -> String {
        listing(self.fleets.iter().map(|f| f.id.as_str()))
    }

    pub fn fleets(&self) -> &[Fleet] {
        &self.fleets
    }

    pub fn queue(&self, name: &str) -> Option<&Queue> {
        Some(&self.queues[*self.queue_ids.get(name)? as usize].queue)
    }

    pub fn placement(&self, key: PlacementKey) -> &Placement {
        &self.placements[key.0 as usize]
    }

    /// Every placement, in the order they started.
    pub fn placements(&self) -> &[Placement] {
        &self.placements
    }

    pub fn key_of(&self, placement_id: &str) -> Option<PlacementKey> {
        let hash = self.hasher.hash_one(placement_id);
        self.placement_ids
            .find(hash, |k| id_of(&self.placements, *k) == placement_id)
            .map(|k| PlacementKey(*k))
    }

    /// Indexes placement `key` under its id, which must be new; `key` need not be stored yet.
    fn record_id(&mut self, id: &str, key: u32) -> Result<(), PlacementError> {
        let (placements, hasher) = (&self.placements, &self.hasher);
        match self.placement_ids.entry(
            hasher.hash_one(id),
            |k| id_of(placements, *k) == id,
            |k| hasher.hash_one(id_of(placements, *k)),
        ) {
            Entry::Occupied(_) => Err(PlacementError::invalid(
                "PlacementId",
                format!("placement `{id}` already exists; ids cannot be reused"),
            )),
            Entry::Vacant(vacant) => {
                vacant.insert(key);
                Ok(())
            }
        }
    }

    /// Events since the last call, in the order they happened.
    pub fn take_events(&mut self) -> Vec<PlacementEvent> {
        std::mem::take(&mut self.events)
    }

    /// Game sessions in use and the most the location can host, for `fleet_id` at
    /// `location`.
    pub fn usage(&self, fleet_id: &str, location: &str) -> Option<(u64, u64)> {
        let slot = self.slot_of(fleet_id, location).ok()?;
        let state = &self.slots[slot as usize];
        Some((state.used, state.capacity))
    }

    /// How many placements are waiting.
    pub fn pending(&self) -> usize {
        self.timers.len()
    }

    /// The time at which the next pending placement must be looked at, if any.
    pub fn next_wake(&self) -> Option<Seconds> {
        self.timers.peek().map(|(_, Reverse((at, _)))| at.0)
    }

    /// `StartGameSessionPlacement` at time `now`: decided at once, or left PENDING (FAILED at
    /// once only on a queue that fails unplaceable requests). What was due by `now` happens
    /// first (see [`Placer::advance`]), so an older request whose cap relaxes now is decided
    /// before this one.
    pub fn start(
        &mut self,
        request: PlacementRequest,
        now: Seconds,
    ) -> Result<PlacementKey, PlacementError> {
        self.advance(now);
        let queue = self.check(&request)?;
        // Taken while the decision borrows the placer; a refused request just leaves the
        // next one to allocate it again.
        let mut latency = std::mem::take(&mut self.scratch.latency);
        let has_latency = self.aggregate(&request, queue, &mut latency)?;
        let key = self.placements.len() as u32;
        self.record_id(&request.placement_id, key)?;
        self.placements.push(Placement {
            request,
            start_time: now,
            status: PlacementStatus::Pending,
            end_time: None,
            session: None,
            reason: None,
            queue,
            latency: Box::default(),
            has_latency,
            order: self.next_order,
            waits_on: Vec::new(),
            queued: false,
        });
        self.next_order += 1;
        if !self.try_place(key, &latency, now) {
            if let Some(reason) = self.fails_fast(key, &latency) {
                self.finish(key, PlacementStatus::Failed, Some(reason), now);
            } else {
                self.placements[key as usize].latency = latency.as_slice().into();
                self.wait(key, now);
            }
        }
        self.scratch.latency = latency;
        Ok(PlacementKey(key))
    }

    /// Checks a request against GameLift's rules; returns its queue. Its latencies are
    /// checked as they are aggregated, and its id's uniqueness as it is recorded.
    fn check(&self, request: &PlacementRequest) -> Result<u32, PlacementError> {
        let id = &request.placement_id;
        if id.is_empty()
            || id.len() > 48
            || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(PlacementError::invalid(
                "PlacementId",
                format!("expected 1 to 48 letters, digits or `-`, found `{id}`"),
            ));
        }
        let Some(&queue) = self.queue_ids.get(&request.queue) else {
            return Err(PlacementError::invalid(
                "GameSessionQueueName",
                format!(
                    "no queue `{}`; the queues are {}",
                    request.queue,
                    listing(self.queues.iter().map(|q| q.queue.name.as_str()))
                ),
            ));
        };
        if request.max_players > MAX_PLAYERS_PER_SESSION {
            return Err(PlacementError::invalid(
                "MaximumPlayerSessionCount",
                format!(
                    "expected at most {MAX_PLAYERS_PER_SESSION} players, found `{}`",
                    request.max_players
                ),
            ));
        }
        if let Some(priority) = &request.priority_override {
            let state = &self.queues[queue as usize];
            if state.queue.priority_order[0] != PriorityType::Location {
                return Err(PlacementError::invalid(
                    "PriorityConfigurationOverride",
                    format!(
                        "queue `{}` does not rank by LOCATION first, so it takes no override",
                        state.queue.name
                    ),
                ));
            }
            if !request.player_latencies.is_empty() {
                return Err(PlacementError::invalid(
                    "PriorityConfigurationOverride",
                    "a request with `PlayerLatencies` cannot override the location order"
                        .to_string(),
                ));
            }
            let order = &priority.location_order;
            if order.is_empty() || order.len() > 10 {
                return Err(PlacementError::invalid(
                    "PriorityConfigurationOverride.LocationOrder",
                    format!("expected 1 to 10 locations, found {}", order.len()),
                ));
            }
            for (i, location) in order.iter().enumerate() {
                if order[..i].contains(location) {
                    return Err(PlacementError::invalid(
                        format!("PriorityConfigurationOverride.LocationOrder[{i}]"),
                        format!("location `{location}` is listed twice"),
                    ));
                }
            }
        }
        Ok(queue)
    }

    /// Aggregates the players' latencies per location, as the queue ranks them, into
    /// `aggregated`; returns whether the request reports any latency, or the first latency
    /// that is not one.
    fn aggregate(
        &mut self,
        request: &PlacementRequest,
        queue: u32,
        aggregated: &mut Vec<LocationLatency>,
    ) -> Result<bool, PlacementError> {
        let locations = self.locations.len();
        aggregated.clear();
        aggregated.resize(locations, LocationLatency::default());
        // A player who reports latencies only for locations no fleet has still counts.
        if request.players.is_empty() {
            return Ok(false);
        }
        let options = self.queues[queue as usize].queue.options;
        let players = request.players.len();
        let Scratch { values, column, .. } = &mut self.scratch;
        values.clear();
        values.resize(locations * players, f64::NAN);
        for (i, latency) in request.player_latencies.iter().enumerate() {
            let (player, location) = (latency.player as usize, latency.location.0 as usize);
            let ms = latency.latency_ms;
            // Also false for NaN.
            if player >= players || location >= locations || !(ms >= 0.0 && ms.is_finite()) {
                return Err(latency_error(request, i, locations));
            }
            // A latency is never NaN, so a value there is an earlier report of the same pair:
            // which of the two the player meant is not for the placer to guess.
            let value = &mut values[location * players + player];
            if !value.is_nan() {
                return Err(repeated_latency(request, i, &self.locations));
            }
            *value = ms;
        }
        for (location, entry) in aggregated.iter_mut().enumerate() {
            let row = &mut values[location * players..(location + 1) * players];
            match options.missing_latency {
                MissingLatency::Exclude => {
                    if row.iter().any(|value| value.is_nan()) {
                        continue;
                    }
                }
                MissingLatency::Assume(ms) => {
                    for value in row.iter_mut().filter(|value| value.is_nan()) {
                        *value = ms;
                    }
                }
            }
            let worst = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let average = row.iter().sum::<f64>() / players as f64;
            let rank = match options.latency_ranking {
                LatencyRanking::Average => average,
                LatencyRanking::Worst => worst,
                LatencyRanking::Percentile(p) => percentile(column, row, p),
            };
            *entry = LocationLatency {
                complete: true,
                worst,
                average,
                rank,
            };
        }
        Ok(true)
    }

    /// Why the placement fails at once: only on a queue that fails unplaceable requests, and
    /// only when no candidate could ever host it, whatever the time, capacity or status (every
    /// one breaks a filter that never changes, under the loosest cap before the timeout).
    fn fails_fast(&self, key: u32, latency: &[LocationLatency]) -> Option<Reason> {
        let placement = &self.placements[key as usize];
        let state = &self.queues[placement.queue as usize];
        if state.queue.options.unplaceable == Unplaceable::Wait {
            return None;
        }
        let loosest = state.schedule.loosest(state.queue.timeout);
        let usable = state
            .candidates
            .iter()
            .any(|c| self.usable_rank(placement, latency, c, loosest).is_some());
        (!usable).then(|| Reason::NeverPlaceable(self.excluded(key, latency, loosest, false)))
    }

    /// Why a PENDING placement times out: what rules out each candidate under the cap of its
    /// last decision, with capacity and status as they are at the timeout.
    #[cold]
    fn timed_out(&self, key: u32, timeout: Seconds) -> Reason {
        let placement = &self.placements[key as usize];
        let schedule = &self.queues[placement.queue as usize].schedule;
        let cap = schedule.last_cap_before(placement.start_time, timeout);
        Reason::TimedOut(self.excluded(key, &placement.latency, cap, true))
    }

    /// What rules out each of the placement's candidates at cap `cap` (and, when `live`, by
    /// status and room), gathered by rule. A candidate nothing rules out is left out.
    #[cold]
    fn excluded(
        &self,
        key: u32,
        latency: &[LocationLatency],
        cap: Option<f64>,
        live: bool,
    ) -> Vec<Excluded> {
        let placement = &self.placements[key as usize];
        let state = &self.queues[placement.queue as usize];
        reason::gather(state.candidates.iter().filter_map(|candidate| {
            let exclusion = self.exclusion(placement, latency, candidate, cap, live)?;
            let fleet_id = self.slots[candidate.slot as usize].fleet_id.clone();
            let location = self.locations.name(candidate.location).clone();
            Some((exclusion, fleet_id, location))
        }))
    }

    /// The first rule that rules the candidate out for this placement, of those `usable_rank`
    /// and then `Slot::has_room` apply, in the order [`Exclusion`] lists them; `None` if it
    /// could host it. The decision never calls this: it only explains, naming the players the
    /// decision need not know.
    fn exclusion(
        &self,
        placement: &Placement,
        latency: &[LocationLatency],
        candidate: &Candidate,
        cap: Option<f64>,
        live: bool,
    ) -> Option<Exclusion> {
        let request = &placement.request;
        if !candidate.allowed {
            return Some(Exclusion::NotAllowed);
        }
        if self.override_rank(placement, candidate).is_none() {
            return Some(Exclusion::NotInOverride);
        }
        if request.max_players > candidate.max_players {
            return Some(Exclusion::TooFewPlayers {
                max_players: candidate.max_players,
                requested: request.max_players,
            });
        }
        if placement.has_latency {
            let aggregated = &latency[candidate.location.0 as usize];
            if let Some(exclusion) = self.latency_exclusion(placement, aggregated, candidate, cap) {
                return Some(exclusion);
            }
        }
        let slot = &self.slots[candidate.slot as usize];
        if !live || slot.has_room() {
            return None;
        }
        Some(self.slot_exclusion(slot))
    }

    /// Why the players' latencies at the candidate's location rule it out at cap `cap`, naming
    /// the player: one who reports none, or the worst one over the cap.
    fn latency_exclusion(
        &self,
        placement: &Placement,
        aggregated: &LocationLatency,
        candidate: &Candidate,
        cap: Option<f64>,
    ) -> Option<Exclusion> {
        let request = &placement.request;
        let rule = self.queues[placement.queue as usize]
            .queue
            .options
            .missing_latency;
        let reported = player_latencies_at(request, candidate.location, rule);
        let player = |p: usize| request.players[p].clone();
        if !aggregated.complete {
            let silent = reported.iter().position(Option::is_none).unwrap_or(0);
            return Some(Exclusion::NoLatency {
                player: player(silent),
            });
        }
        let cap_ms = cap.filter(|cap| aggregated.worst > *cap)?;
        let (worst, latency_ms) = worst_player(&reported);
        Some(Exclusion::OverLatencyCap {
            player: player(worst),
            latency_ms,
            cap_ms,
        })
    }

    /// Why a slot with no room now has none: its status, its Spot viability, or every session
    /// in use.
    fn slot_exclusion(&self, slot: &Slot) -> Exclusion {
        let location = &self.fleets[slot.fleet as usize].locations[slot.entry as usize];
        if location.status != LocationStatus::Active {
            Exclusion::NotActive(location.status)
        } else if !slot.open {
            Exclusion::SpotNotViable
        } else {
            Exclusion::Full
        }
    }

    /// The candidate's LOCATION rank for this placement if it passes the filters that hold
    /// at latency cap `cap` and do not depend on capacity or status; `None` if it does not.
    fn usable_rank(
        &self,
        placement: &Placement,
        latency: &[LocationLatency],
        candidate: &Candidate,
        cap: Option<f64>,
    ) -> Option<u32> {
        if !candidate.allowed || placement.request.max_players > candidate.max_players {
            return None;
        }
        if placement.has_latency {
            let latency = &latency[candidate.location.0 as usize];
            if !latency.complete || cap.is_some_and(|cap| latency.worst > cap) {
                return None;
            }
        }
        self.override_rank(placement, candidate)
    }

    /// The candidate's LOCATION rank for this placement, `None` when an override without
    /// fallback leaves it out.
    fn override_rank(&self, placement: &Placement, candidate: &Candidate) -> Option<u32> {
        let Some(priority) = &placement.request.priority_override else {
            return Some(candidate.location_rank);
        };
        let name = self.locations.name(candidate.location);
        match priority.location_order.iter().position(|l| **l == **name) {
            Some(i) => Some(i as u32),
            None => match priority.fallback {
                FallbackStrategy::None => None,
                FallbackStrategy::DefaultAfterSinglePass => {
                    Some(priority.location_order.len() as u32 + candidate.location_rank)
                }
            },
        }
    }

    /// Decides a placement at `now`: reserves a session on the best candidate with room.
    /// `latency` is the placement's, aggregated.
    fn try_place(&mut self, key: u32, latency: &[LocationLatency], now: Seconds) -> bool {
        let placement = &self.placements[key as usize];
        let state = &self.queues[placement.queue as usize];
        let queue = &state.queue;
        let cap = state.schedule.cap_at(placement.start_time, now);
        let mut ranked = std::mem::take(&mut self.scratch.ranked);
        ranked.clear();
        let mut best_latency = f64::INFINITY;
        for (i, candidate) in state.candidates.iter().enumerate() {
            if !self.slots[candidate.slot as usize].has_room() {
                continue;
            }
            let Some(location_rank) = self.usable_rank(placement, latency, candidate, cap) else {
                continue;
            };
            let latency = if placement.has_latency {
                latency[candidate.location.0 as usize].rank
            } else {
                0.0
            };
            best_latency = best_latency.min(latency);
            let mut keys = [0.0; 4];
            for (k, priority) in keys.iter_mut().zip(queue.priority_order) {
                *k = match priority {
                    PriorityType::Latency => latency,
                    PriorityType::Cost => candidate.cost,
                    PriorityType::Destination => f64::from(candidate.destination),
                    PriorityType::Location => f64::from(location_rank),
                };
            }
            ranked.push((i as u32, keys));
        }
        if ranked.is_empty() {
            self.scratch.ranked = ranked;
            return false;
        }
        // Within the tolerance of the best, latencies count as equal.
        let tolerance = queue.options.latency_tolerance_ms;
        if tolerance > 0.0
            && let Some(position) = queue
                .priority_order
                .iter()
                .position(|p| *p == PriorityType::Latency)
        {
            for (_, keys) in &mut ranked {
                if keys[position] <= best_latency + tolerance {
                    keys[position] = best_latency;
                }
            }
        }
        let mut best = 0;
        for i in 1..ranked.len() {
            if lexicographic(&ranked[i].1, &ranked[best].1).is_lt() {
                best = i;
            }
        }
        let mut chosen = ranked[best].0;
        if queue.options.spread == Spread::Weighted {
            let best_keys = ranked[best].1;
            // Equal means equal on every criterion ranked before DESTINATION: the queue's
            // order of fleets is the tie-break that spreading replaces.
            let before = queue
                .priority_order
                .iter()
                .position(|p| *p == PriorityType::Destination)
                .unwrap_or(4);
            let mut ties = std::mem::take(&mut self.scratch.ties);
            ties.clear();
            for (i, keys) in &ranked {
                if keys[..before] == best_keys[..before] {
                    let slot = &self.slots[state.candidates[*i as usize].slot as usize];
                    ties.push((*i, slot.capacity - slot.used));
                }
            }
            if ties.len() > 1 {
                let total: u64 = ties.iter().map(|(_, room)| room).sum();
                let mut pick = self.rng.random_range(0..total);
                for (i, room) in &ties {
                    if pick < *room {
                        chosen = *i;
                        break;
                    }
                    pick -= room;
                }
            }
            self.scratch.ties = ties;
        }
        self.scratch.ranked = ranked;
        let placement = &self.placements[key as usize];
        let candidate = &self.queues[placement.queue as usize].candidates[chosen as usize];
        let slot = candidate.slot;
        let average = placement
            .has_latency
            .then(|| latency[candidate.location.0 as usize].average);
        self.reserve(key, slot, average, now);
        true
    }

    fn reserve(&mut self, key: u32, slot: u32, average_latency: Option<f64>, now: Seconds) {
        let slot_state = &mut self.slots[slot as usize];
        slot_state.used += 1;
        self.placements[key as usize].session = Some(GameSession {
            fleet_id: slot_state.fleet_id.clone(),
            location: self.locations.name(slot_state.location).clone(),
            number: self.next_session,
            average_latency,
            hourly_cost: slot_state.hourly_cost,
            ended: false,
            slot,
        });
        self.next_session += 1;
        self.finish(key, PlacementStatus::Fulfilled, None, now);
    }

    /// Moves a placement to a final status, with the reason when it ends unplaced, and tells
    /// whoever listens.
    fn finish(&mut self, key: u32, status: PlacementStatus, reason: Option<Reason>, now: Seconds) {
        let placement = &mut self.placements[key as usize];
        placement.status = status;
        placement.end_time = Some(now);
        placement.reason = reason;
        if placement.queued {
            placement.queued = false;
            placement.latency = Box::default();
            for slot in std::mem::take(&mut placement.waits_on) {
                self.waiting[slot as usize].remove(&key);
            }
            self.timers.remove(&key);
        }
        let kind = match status {
            PlacementStatus::Fulfilled => EventKind::Fulfilled,
            PlacementStatus::Cancelled => EventKind::Cancelled,
            PlacementStatus::TimedOut => EventKind::TimedOut,
            PlacementStatus::Failed => EventKind::Failed,
            PlacementStatus::Pending => unreachable!("a placement finishes in a final status"),
        };
        self.events.push(PlacementEvent {
            kind,
            placement: PlacementKey(key),
            time: now,
        });
    }

    /// Leaves a placement PENDING at `now`: waiting on every candidate it could use under the
    /// cap in force, and woken when the cap relaxes or the queue times out.
    fn wait(&mut self, key: u32, now: Seconds) {
        let mut slots = std::mem::take(&mut self.placements[key as usize].waits_on);
        let placement = &self.placements[key as usize];
        let state = &self.queues[placement.queue as usize];
        let cap = state.schedule.cap_at(placement.start_time, now);
        let priority = Reverse((Time(placement.start_time), placement.order));
        for candidate in &state.candidates {
            if self
                .usable_rank(placement, &placement.latency, candidate, cap)
                .is_some()
                && !slots.contains(&candidate.slot)
            {
                slots.push(candidate.slot);
                self.waiting[candidate.slot as usize].push(key, priority);
            }
        }
        let timeout = placement.start_time + state.queue.timeout;
        let relax = state
            .schedule
            .changes()
            .map(|change| placement.start_time + change)
            .find(|at| *at > now)
            .filter(|at| *at < timeout);
        let wake = relax.unwrap_or(timeout);
        self.timers
            .push(key, Reverse((Time(wake), placement.order)));
        let placement = &mut self.placements[key as usize];
        placement.waits_on = slots;
        placement.queued = true;
    }

    /// Decides a PENDING placement again at `now`; returns whether it was placed. If it was
    /// not, it keeps its latencies and the caller makes it wait again.
    fn retry(&mut self, key: u32, now: Seconds) -> bool {
        let latency = std::mem::take(&mut self.placements[key as usize].latency);
        let placed = self.try_place(key, &latency, now);
        if !placed {
            self.placements[key as usize].latency = latency;
        }
        placed
    }

    /// Moves virtual time to `now`: pending placements whose cap relaxes are decided again,
    /// and those whose queue's timeout has passed time out, each at its own moment. Every
    /// other operation at `now` does this first, so its order among calls never lets a
    /// request be placed at or after its timeout.
    pub fn advance(&mut self, now: Seconds) {
        while let Some((&key, &Reverse((Time(at), _)))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            let placement = &self.placements[key as usize];
            let timeout =
                placement.start_time + self.queues[placement.queue as usize].queue.timeout;
            if at >= timeout {
                let reason = self.timed_out(key, timeout);
                self.finish(key, PlacementStatus::TimedOut, Some(reason), timeout);
            } else if !self.retry(key, at) {
                self.wait(key, at);
            }
        }
    }

    /// `StopGameSessionPlacement`: cancels a PENDING placement; one whose timeout has come
    /// by `now` has timed out and cannot be stopped.
    pub fn stop(&mut self, placement_id: &str, now: Seconds) -> Result<(), PlacementError> {
        let key = self.existing(placement_id)?;
        self.advance(now);
        let status = self.placements[key.0 as usize].status;
        if status != PlacementStatus::Pending {
            return Err(PlacementError::invalid(
                "PlacementId",
                format!(
                    "placement `{placement_id}` is {status}; only a PENDING one can be stopped"
                ),
            ));
        }
        self.finish(
            key.0,
            PlacementStatus::Cancelled,
            Some(Reason::Cancelled),
            now,
        );
        Ok(())
    }

    fn existing(&self, placement_id: &str) -> Result<PlacementKey, PlacementError> {
        self.key_of(placement_id).ok_or_else(|| {
            PlacementError::invalid("PlacementId", format!("no placement `{placement_id}`"))
        })
    }

    /// Ends the game session of a fulfilled placement; its slot goes to the oldest request
    /// waiting for it that has not timed out by `now`.
    pub fn release(&mut self, placement_id: &str, now: Seconds) -> Result<(), PlacementError> {
        let key = self.existing(placement_id)?;
        let running = &self.placements[key.0 as usize].session;
        if running.as_ref().is_none_or(|s| s.ended) {
            return Err(PlacementError::invalid(
                "PlacementId",
                format!("placement `{placement_id}` holds no running game session"),
            ));
        }
        self.advance(now);
        let session = self.placements[key.0 as usize]
            .session
            .as_mut()
            .expect("checked above; advancing ends no session");
        session.ended = true;
        let slot = session.slot;
        self.slots[slot as usize].used -= 1;
        self.serve(slot, now);
        Ok(())
    }

    fn slot_of(&self, fleet_id: &str, location: &str) -> Result<u32, PlacementError> {
        let Some(&fleet) = self.fleet_ids.get(fleet_id) else {
            return Err(PlacementError::invalid(
                "FleetId",
                format!(
                    "no fleet `{fleet_id}`; the fleets are {}",
                    self.fleet_list()
                ),
            ));
        };
        self.slots
            .iter()
            .position(|s| s.fleet == fleet && Some(s.location) == self.locations.id(location))
            .map(|s| s as u32)
            .ok_or_else(|| {
                PlacementError::invalid(
                    "Location",
                    format!("fleet `{fleet_id}` has no location `{location}`"),
                )
            })
    }

    /// Resizes a fleet location. Shrinking below the sessions in use ends none of them; the
    /// location just takes no new ones until enough have ended.
    pub fn set_instances(
        &mut self,
        fleet_id: &str,
        location: &str,
        instances: u32,
        now: Seconds,
    ) -> Result<(), PlacementError> {
        self.update_location(fleet_id, location, now, |entry| entry.instances = instances)
    }

    /// Activates or drains a fleet location (only ACTIVE takes placements).
    pub fn set_status(
        &mut self,
        fleet_id: &str,
        location: &str,
        status: LocationStatus,
        now: Seconds,
    ) -> Result<(), PlacementError> {
        self.update_location(fleet_id, location, now, |entry| entry.status = status)
    }

    /// Marks a Spot location viable or not.
    pub fn set_spot_viable(
        &mut self,
        fleet_id: &str,
        location: &str,
        viable: bool,
        now: Seconds,
    ) -> Result<(), PlacementError> {
        self.update_location(fleet_id, location, now, |entry| entry.spot_viable = viable)
    }

    /// Changes a fleet location at run time, then gives any room it gained to the requests
    /// waiting for it.
    fn update_location(
        &mut self,
        fleet_id: &str,
        location: &str,
        now: Seconds,
        change: impl FnOnce(&mut FleetLocation),
    ) -> Result<(), PlacementError> {
        let slot = self.slot_of(fleet_id, location)?;
        self.advance(now);
        let state = &mut self.slots[slot as usize];
        let fleet = &mut self.fleets[state.fleet as usize];
        change(&mut fleet.locations[state.entry as usize]);
        state.refresh(fleet);
        self.serve(slot, now);
        Ok(())
    }

    /// Gives a slot's room to the requests waiting for it, oldest first. Each is decided
    /// again in full, so it takes its best candidate with room, which may be another.
    fn serve(&mut self, slot: u32, now: Seconds) {
        // A request waits on a slot only if it may use it, and caps only relax, so each one
        // popped here is placed; any that is not waits again after the loop, not in it.
        let mut unplaced = Vec::new();
        while self.slots[slot as usize].has_room() {
            let Some((key, _)) = self.waiting[slot as usize].pop() else {
                break;
            };
            self.placements[key as usize]
                .waits_on
                .retain(|s| *s != slot);
            if !self.retry(key, now) {
                unplaced.push(key);
            }
        }
        for key in unplaced {
            self.wait(key, now);
        }
    }
}

/// The `p`th percentile of `values`, nearest rank: the smallest value with at least p % of
/// them at or below it. Kept out of line: inlined, its arithmetic was hoisted into every
/// aggregation, percentile or not.
#[inline(never)]
fn percentile(sorted: &mut Vec<f64>, values: &[f64], p: f64) -> f64 {
    sorted.clear();
    sorted.extend_from_slice(values);
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, values.len()) - 1]
}

/// The id placement `key` was started with.
fn id_of(placements: &[Placement], key: u32) -> &str {
    &placements[key as usize].request.placement_id
}

/// Orders candidates' keys, the first that differs deciding.
fn lexicographic(a: &[f64; 4], b: &[f64; 4]) -> std::cmp::Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.total_cmp(y))
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}

/// What is wrong with the request's latency `i`: a player or location out of range, or a
/// value that is not a latency.
#[cold]
fn latency_error(request: &PlacementRequest, i: usize, locations: usize) -> PlacementError {
    let latency = &request.player_latencies[i];
    let at = |field: &str| format!("PlayerLatencies[{i}].{field}");
    let players = request.players.len();
    if latency.player as usize >= players {
        PlacementError::invalid(
            at("PlayerId"),
            format!(
                "expected a player index below {players}, found `{}`",
                latency.player
            ),
        )
    } else if latency.location.0 as usize >= locations {
        PlacementError::invalid(
            at("RegionIdentifier"),
            format!(
                "expected a location id below {locations}, found `{}`",
                latency.location.0
            ),
        )
    } else {
        PlacementError::at_least_zero(latency.latency_ms, at("LatencyInMilliseconds"), "latency")
            .expect_err("only a bad latency is left")
    }
}

/// Each player's latency at `location` as the queue reads it (assumed where the player
/// reports none, if the queue assumes one), by player index; `None` where missing.
#[cold]
fn player_latencies_at(
    request: &PlacementRequest,
    location: LocationId,
    missing: MissingLatency,
) -> Vec<Option<f64>> {
    let assumed = match missing {
        MissingLatency::Exclude => None,
        MissingLatency::Assume(ms) => Some(ms),
    };
    let mut latencies = vec![assumed; request.players.len()];
    for latency in &request.player_latencies {
        if latency.location == location {
            latencies[latency.player as usize] = Some(latency.latency_ms);
        }
    }
    latencies
}

/// The player with the highest latency, the first of equals, and that latency.
fn worst_player(latencies: &[Option<f64>]) -> (usize, f64) {
    latencies
        .iter()
        .enumerate()
        .filter_map(|(p, ms)| Some((p, (*ms)?)))
        .fold((0, f64::NEG_INFINITY), |worst, (p, ms)| {
            if ms > worst.1 { (p, ms) } else { worst }
        })
}

/// The error for latency `i`, which repeats an earlier one's player and location.
#[cold]
fn repeated_latency(request: &PlacementRequest, i: usize, locations: &Locations) -> PlacementError {
    let latency = &request.player_latencies[i];
    let first = request
        .player_latencies
        .iter()
        .position(|l| l.player == latency.player && l.location == latency.location)
        .unwrap_or(i);
    PlacementError::invalid(
        format!("PlayerLatencies[{i}]"),
        format!(
            "player `{}` reports location `{}` twice, here and at `PlayerLatencies[{first}]`",
            request.players[latency.player as usize],
            locations.name(latency.location)
        ),
    )
}

/// Names for an error message: `` `a`, `b` ``, or "none".
fn listing<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<String> = names.map(|name| format!("`{name}`")).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}
