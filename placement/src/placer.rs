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

use std::cmp::Reverse;
// foldhash (hashbrown's default): a decision looks up every reported location by name.
use hashbrown::HashMap;

use priority_queue::PriorityQueue;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::PlacementError;
use crate::model::{
    CostBasis, FallbackStrategy, Fleet, FleetLocation, FleetType, LatencyRanking, LatencySchedule,
    LocationStatus, MissingLatency, PlacementRequest, PlacementStatus, PriorityType, Queue,
    Seconds, Spread, Time,
};

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
    pub fleet_id: String,
    pub location: String,
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
    /// Why a FAILED placement failed.
    pub reason: Option<String>,
    queue: u32,
    /// Per location id: the players' latencies there, aggregated.
    latency: Box<[LocationLatency]>,
    has_latency: bool,
    order: u64,
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

/// One fleet in one location, with its game sessions in use.
#[derive(Clone, Debug)]
struct Slot {
    fleet: u32,
    /// Index into the fleet's locations.
    entry: u32,
    location: u32,
    used: u64,
}

/// One of a queue's candidates: a destination fleet in one of its locations.
#[derive(Clone, Debug)]
struct Candidate {
    slot: u32,
    destination: u32,
    location: u32,
    allowed: bool,
    /// Index in the queue's `LocationOrder`; unlisted locations after, alphabetically.
    location_rank: u32,
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
    /// Location names by id, and each name's alphabetical rank.
    locations: Vec<String>,
    location_ids: HashMap<String, u32>,
    alphabetical: Vec<u32>,
    slots: Vec<Slot>,
    queues: Vec<QueueState>,
    queue_ids: HashMap<String, u32>,
    placements: Vec<Placement>,
    placement_ids: HashMap<String, u32>,
    /// Per slot: the pending placements that could use it, oldest first.
    waiting: Vec<PriorityQueue<u32, Reverse<(Time, u64)>>>,
    /// Per pending placement: the slots it waits on.
    waits_on: HashMap<u32, Vec<u32>>,
    /// Per pending placement: when to look at it again (a cap relaxes, or it times out).
    timers: PriorityQueue<u32, Reverse<(Time, u64)>>,
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
            locations: Vec::new(),
            location_ids: HashMap::new(),
            alphabetical: Vec::new(),
            slots: Vec::new(),
            queues: Vec::new(),
            queue_ids: HashMap::new(),
            placements: Vec::new(),
            placement_ids: HashMap::new(),
            waiting: Vec::new(),
            waits_on: HashMap::new(),
            timers: PriorityQueue::new(),
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
                let id = placer.location_id(&location.location);
                placer.slots.push(Slot {
                    fleet: f as u32,
                    entry: l as u32,
                    location: id,
                    used: 0,
                });
                placer.waiting.push(PriorityQueue::new());
            }
            placer.fleet_ids.insert(fleet.id.clone(), f as u32);
            placer.fleets.push(fleet);
        }
        let mut by_name: Vec<u32> = (0..placer.locations.len() as u32).collect();
        by_name.sort_by(|a, b| placer.locations[*a as usize].cmp(&placer.locations[*b as usize]));
        placer.alphabetical = vec![0; by_name.len()];
        for (rank, id) in by_name.into_iter().enumerate() {
            placer.alphabetical[id as usize] = rank as u32;
        }
        Ok(placer)
    }

    fn location_id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.location_ids.get(name) {
            return *id;
        }
        let id = self.locations.len() as u32;
        self.locations.push(name.to_string());
        self.location_ids.insert(name.to_string(), id);
        id
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
                let name = &self.locations[state.location as usize];
                let allowed = queue
                    .allowed_locations
                    .as_ref()
                    .is_none_or(|allowed| allowed.iter().any(|a| a == name));
                let location_rank = match queue.location_order.iter().position(|l| l == name) {
                    Some(i) => i as u32,
                    None => {
                        queue.location_order.len() as u32
                            + self.alphabetical[state.location as usize]
                    }
                };
                candidates.push(Candidate {
                    slot: slot as u32,
                    destination: d as u32,
                    location: state.location,
                    allowed,
                    location_rank,
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

    pub fn placements(&self) -> &[Placement] {
        &self.placements
    }

    pub fn key_of(&self, placement_id: &str) -> Option<PlacementKey> {
        self.placement_ids
            .get(placement_id)
            .map(|k| PlacementKey(*k))
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
        Some((state.used, self.capacity(slot)))
    }

    /// How many placements are waiting.
    pub fn pending(&self) -> usize {
        self.timers.len()
    }

    /// The time at which the next pending placement must be looked at, if any.
    pub fn next_wake(&self) -> Option<Seconds> {
        self.timers.peek().map(|(_, Reverse((at, _)))| at.0)
    }

    /// `StartGameSessionPlacement` at time `now`: decided at once, or left PENDING.
    pub fn start(
        &mut self,
        request: PlacementRequest,
        now: Seconds,
    ) -> Result<PlacementKey, PlacementError> {
        let queue = self.check(&request)?;
        let (latency, has_latency) = self.aggregate(&request, queue);
        let key = self.placements.len() as u32;
        self.placement_ids.insert(request.placement_id.clone(), key);
        self.placements.push(Placement {
            request,
            start_time: now,
            status: PlacementStatus::Pending,
            end_time: None,
            session: None,
            reason: None,
            queue,
            latency,
            has_latency,
            order: self.next_order,
        });
        self.next_order += 1;
        if let Some(reason) = self.never_placeable(key) {
            self.finish(key, PlacementStatus::Failed, now);
            self.placements[key as usize].reason = Some(reason);
            return Ok(PlacementKey(key));
        }
        if !self.try_place(key, now) {
            self.wait(key, now);
        }
        Ok(PlacementKey(key))
    }

    /// Checks a request against GameLift's rules; returns its queue.
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
        if self.placement_ids.contains_key(id) {
            return Err(PlacementError::invalid(
                "PlacementId",
                format!("placement `{id}` already exists; ids cannot be reused"),
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
        for (i, latency) in request.player_latencies.iter().enumerate() {
            PlacementError::at_least_zero(
                latency.latency_ms,
                format!("PlayerLatencies[{i}].LatencyInMilliseconds"),
                "latency",
            )?;
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

    /// The players' latencies per location, aggregated as the queue ranks them.
    fn aggregate(
        &mut self,
        request: &PlacementRequest,
        queue: u32,
    ) -> (Box<[LocationLatency]>, bool) {
        let locations = self.locations.len();
        let mut aggregated = vec![LocationLatency::default(); locations].into_boxed_slice();
        if request.player_latencies.is_empty() {
            return (aggregated, false);
        }
        let options = self.queues[queue as usize].queue.options;
        // Players in the order they first appear.
        let mut players: Vec<&str> = Vec::new();
        for latency in &request.player_latencies {
            if !players.contains(&latency.player_id.as_str()) {
                players.push(&latency.player_id);
            }
        }
        let count = players.len();
        let scratch = &mut self.scratch;
        scratch.values.clear();
        scratch.values.resize(locations * count, f64::NAN);
        for latency in &request.player_latencies {
            // A location no fleet has cannot be a candidate; its latency does not matter.
            let Some(&location) = self.location_ids.get(&latency.location) else {
                continue;
            };
            // Requests usually list a player's locations together: try the last one first.
            let player = match players.last() {
                Some(last) if *last == latency.player_id => players.len() - 1,
                _ => players
                    .iter()
                    .position(|p| *p == latency.player_id)
                    .expect("collected above"),
            };
            // A repeated (player, location) pair: the later report stands.
            scratch.values[location as usize * count + player] = latency.latency_ms;
        }
        for (location, entry) in aggregated.iter_mut().enumerate() {
            let column = &mut scratch.column;
            column.clear();
            let mut complete = true;
            for value in &scratch.values[location * count..(location + 1) * count] {
                match (value.is_nan(), options.missing_latency) {
                    (false, _) => column.push(*value),
                    (true, MissingLatency::Assume(ms)) => column.push(ms),
                    (true, MissingLatency::Exclude) => complete = false,
                }
            }
            if !complete {
                continue;
            }
            let worst = column.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let average = column.iter().sum::<f64>() / column.len() as f64;
            let rank = match options.latency_ranking {
                LatencyRanking::Average => average,
                LatencyRanking::Worst => worst,
                LatencyRanking::Percentile(p) => {
                    column.sort_by(f64::total_cmp);
                    // Nearest rank: the smallest value with at least p % of players at or
                    // below it.
                    let rank = ((p / 100.0) * column.len() as f64).ceil() as usize;
                    column[rank.clamp(1, column.len()) - 1]
                }
            };
            *entry = LocationLatency {
                complete: true,
                worst,
                average,
                rank,
            };
        }
        (aggregated, true)
    }

    /// Why the placement can never be placed, whatever the time, capacity or status: every
    /// candidate fails a filter that never changes.
    fn never_placeable(&self, key: u32) -> Option<String> {
        let placement = &self.placements[key as usize];
        let state = &self.queues[placement.queue as usize];
        if state.candidates.is_empty() {
            return Some(format!("queue `{}` has no destinations", state.queue.name));
        }
        let loosest = state.schedule.loosest(state.queue.timeout);
        let usable = state
            .candidates
            .iter()
            .any(|c| self.statically_usable(placement, c, loosest));
        (!usable).then(|| {
            format!(
                "no destination of queue `{}` can ever host it: every location is filtered out, \
                 holds fewer than {} players, or is over the latency cap for some player",
                state.queue.name, placement.request.max_players
            )
        })
    }

    /// Whether `candidate` passes the filters that hold at latency cap `cap` and do not
    /// depend on capacity or status.
    fn statically_usable(
        &self,
        placement: &Placement,
        candidate: &Candidate,
        cap: Option<f64>,
    ) -> bool {
        if !candidate.allowed {
            return false;
        }
        if self.override_rank(placement, candidate).is_none() {
            return false;
        }
        let slot = &self.slots[candidate.slot as usize];
        let location = &self.fleets[slot.fleet as usize].locations[slot.entry as usize];
        if placement.request.max_players > location.max_players {
            return false;
        }
        if placement.has_latency {
            let latency = &placement.latency[candidate.location as usize];
            if !latency.complete || cap.is_some_and(|cap| latency.worst > cap) {
                return false;
            }
        }
        true
    }

    /// The candidate's LOCATION rank for this placement, `None` when an override without
    /// fallback leaves it out.
    fn override_rank(&self, placement: &Placement, candidate: &Candidate) -> Option<u32> {
        let Some(priority) = &placement.request.priority_override else {
            return Some(candidate.location_rank);
        };
        let name = &self.locations[candidate.location as usize];
        match priority.location_order.iter().position(|l| l == name) {
            Some(i) => Some(i as u32),
            None => match priority.fallback {
                FallbackStrategy::None => None,
                FallbackStrategy::DefaultAfterSinglePass => {
                    Some(priority.location_order.len() as u32 + candidate.location_rank)
                }
            },
        }
    }

    fn capacity(&self, slot: u32) -> u64 {
        let state = &self.slots[slot as usize];
        self.fleets[state.fleet as usize].locations[state.entry as usize].capacity()
    }

    /// Whether the slot takes new game sessions now: active, viable if Spot, and with room.
    fn has_room(&self, slot: u32) -> bool {
        let state = &self.slots[slot as usize];
        let fleet = &self.fleets[state.fleet as usize];
        let location = &fleet.locations[state.entry as usize];
        location.status == LocationStatus::Active
            && (fleet.fleet_type == FleetType::OnDemand || location.spot_viable)
            && state.used < location.capacity()
    }

    /// Decides a placement at `now`: reserves a session on the best candidate with room.
    fn try_place(&mut self, key: u32, now: Seconds) -> bool {
        let placement = &self.placements[key as usize];
        let state = &self.queues[placement.queue as usize];
        let queue = &state.queue;
        let cap = state.schedule.cap_at(placement.start_time, now);
        let mut ranked = std::mem::take(&mut self.scratch.ranked);
        ranked.clear();
        let mut best_latency = f64::INFINITY;
        for (i, candidate) in state.candidates.iter().enumerate() {
            if !self.statically_usable(placement, candidate, cap) || !self.has_room(candidate.slot)
            {
                continue;
            }
            let latency = if placement.has_latency {
                placement.latency[candidate.location as usize].rank
            } else {
                0.0
            };
            best_latency = best_latency.min(latency);
            let slot = &self.slots[candidate.slot as usize];
            let location = &self.fleets[slot.fleet as usize].locations[slot.entry as usize];
            let cost = match queue.options.cost_basis {
                CostBasis::Instance => location.hourly_cost,
                CostBasis::GameSession => {
                    location.hourly_cost / f64::from(location.sessions_per_instance)
                }
            };
            let location_rank = self
                .override_rank(placement, candidate)
                .expect("statically usable");
            let mut keys = [0.0; 4];
            for (k, priority) in keys.iter_mut().zip(queue.priority_order) {
                *k = match priority {
                    PriorityType::Latency => latency,
                    PriorityType::Cost => cost,
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
        let compare = |a: &[f64; 4], b: &[f64; 4]| {
            a.iter()
                .zip(b)
                .map(|(x, y)| x.total_cmp(y))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        };
        let mut best = 0;
        for i in 1..ranked.len() {
            if compare(&ranked[i].1, &ranked[best].1).is_lt() {
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
                    let slot = state.candidates[*i as usize].slot;
                    ties.push((*i, self.capacity(slot) - self.slots[slot as usize].used));
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
        let candidate =
            &self.queues[self.placements[key as usize].queue as usize].candidates[chosen as usize];
        let (slot, location) = (candidate.slot, candidate.location);
        self.reserve(key, slot, location, now);
        true
    }

    fn reserve(&mut self, key: u32, slot: u32, location: u32, now: Seconds) {
        let state = &mut self.slots[slot as usize];
        state.used += 1;
        let fleet = &self.fleets[state.fleet as usize];
        let entry = &fleet.locations[state.entry as usize];
        let placement = &mut self.placements[key as usize];
        placement.session = Some(GameSession {
            fleet_id: fleet.id.clone(),
            location: entry.location.clone(),
            number: self.next_session,
            average_latency: placement
                .has_latency
                .then(|| placement.latency[location as usize].average),
            hourly_cost: entry.hourly_cost,
            ended: false,
            slot,
        });
        self.next_session += 1;
        self.finish(key, PlacementStatus::Fulfilled, now);
    }

    /// Moves a placement to a final status and tells whoever listens.
    fn finish(&mut self, key: u32, status: PlacementStatus, now: Seconds) {
        let placement = &mut self.placements[key as usize];
        placement.status = status;
        placement.end_time = Some(now);
        if let Some(slots) = self.waits_on.remove(&key) {
            for slot in slots {
                self.waiting[slot as usize].remove(&key);
            }
        }
        self.timers.remove(&key);
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
        let placement = &self.placements[key as usize];
        let state = &self.queues[placement.queue as usize];
        let cap = state.schedule.cap_at(placement.start_time, now);
        let priority = Reverse((Time(placement.start_time), placement.order));
        let mut slots = self.waits_on.remove(&key).unwrap_or_default();
        for candidate in &state.candidates {
            if self.statically_usable(placement, candidate, cap) && !slots.contains(&candidate.slot)
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
        self.waits_on.insert(key, slots);
        self.timers
            .push(key, Reverse((Time(wake), placement.order)));
    }

    /// Moves virtual time to `now`: pending placements whose cap relaxes are decided again,
    /// and those whose queue's timeout has passed time out, each at its own moment.
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
                self.finish(key, PlacementStatus::TimedOut, timeout);
            } else if !self.try_place(key, at) {
                self.wait(key, at);
            }
        }
    }

    /// `StopGameSessionPlacement`: cancels a PENDING placement.
    pub fn stop(&mut self, placement_id: &str, now: Seconds) -> Result<(), PlacementError> {
        let key = self.existing(placement_id)?;
        let status = self.placements[key.0 as usize].status;
        if status != PlacementStatus::Pending {
            return Err(PlacementError::invalid(
                "PlacementId",
                format!(
                    "placement `{placement_id}` is {status}; only a PENDING one can be stopped"
                ),
            ));
        }
        self.finish(key.0, PlacementStatus::Cancelled, now);
        Ok(())
    }

    fn existing(&self, placement_id: &str) -> Result<PlacementKey, PlacementError> {
        self.key_of(placement_id).ok_or_else(|| {
            PlacementError::invalid("PlacementId", format!("no placement `{placement_id}`"))
        })
    }

    /// Ends the game session of a fulfilled placement; its slot goes to the oldest request
    /// waiting for it.
    pub fn release(&mut self, placement_id: &str, now: Seconds) -> Result<(), PlacementError> {
        let key = self.existing(placement_id)?;
        let placement = &mut self.placements[key.0 as usize];
        let Some(session) = placement.session.as_mut().filter(|s| !s.ended) else {
            return Err(PlacementError::invalid(
                "PlacementId",
                format!("placement `{placement_id}` holds no running game session"),
            ));
        };
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
            .position(|s| s.fleet == fleet && self.locations[s.location as usize] == location)
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
        let state = &self.slots[slot as usize];
        change(&mut self.fleets[state.fleet as usize].locations[state.entry as usize]);
        self.serve(slot, now);
        Ok(())
    }

    /// Gives a slot's room to the requests waiting for it, oldest first. Each is decided
    /// again in full, so it takes its best candidate with room, which may be another.
    fn serve(&mut self, slot: u32, now: Seconds) {
        // A request waits on a slot only if it may use it, and caps only relax, so each one
        // popped here is placed; any that is not waits again after the loop, not in it.
        let mut unplaced = Vec::new();
        while self.has_room(slot) {
            let Some((key, _)) = self.waiting[slot as usize].pop() else {
                break;
            };
            if let Some(slots) = self.waits_on.get_mut(&key) {
                slots.retain(|s| *s != slot);
            }
            if !self.try_place(key, now) {
                unplaced.push(key);
            }
        }
        for key in unplaced {
            self.wait(key, now);
        }
    }
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
