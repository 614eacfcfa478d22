//! What the placer places on: fleets, each location of a fleet as a slot with its sessions in
//! use, and queues with their candidates (each destination fleet in each of its locations),
//! and their administration at run time. An administrative call that is refused changes
//! nothing but the time; one that succeeds decides again the PENDING requests it may concern.

use std::sync::Arc;

use super::{Placer, listing};
use crate::error::PlacementError;
use crate::model::{
    CostBasis, Fleet, FleetLocation, FleetType, LatencySchedule, LocationId, LocationStatus,
    PlacementStatus, PriorityType, Queue, Seconds, Time,
};
use crate::reason::Reason;

/// `Slot::fleet` of a slot whose fleet location was deleted, free to be reused.
const NO_FLEET: u32 = u32::MAX;

/// One fleet in one location, with its game sessions in use, and what a decision reads of
/// the fleet location, copied here so that it reads one place.
#[derive(Clone, Debug)]
pub(crate) struct Slot {
    pub(crate) fleet: u32,
    /// Index into the fleet's locations.
    pub(crate) entry: u32,
    pub(crate) location: LocationId,
    pub(crate) fleet_id: Arc<str>,
    pub(crate) used: u64,
    pub(crate) capacity: u64,
    /// ACTIVE, and viable if Spot.
    pub(crate) open: bool,
    pub(crate) hourly_cost: f64,
}

impl Slot {
    /// Copies the fleet location's current state.
    fn refresh(&mut self, fleet: &Fleet) {
        let location = &fleet.locations[self.entry as usize];
        self.capacity = location.capacity();
        self.open = location.status == LocationStatus::Active
            && (fleet.fleet_type == FleetType::OnDemand || location.spot_viable);
        self.hourly_cost = location.hourly_cost;
    }

    /// Whether the slot takes a new game session now.
    pub(crate) fn has_room(&self) -> bool {
        self.open && self.used < self.capacity
    }
}

/// One of a queue's candidates: a destination fleet in one of its locations.
#[derive(Clone, Debug)]
pub(crate) struct Candidate {
    pub(crate) slot: u32,
    pub(crate) destination: u32,
    pub(crate) location: LocationId,
    pub(crate) allowed: bool,
    /// Index in the queue's `LocationOrder`; unlisted locations after, alphabetically.
    pub(crate) location_rank: u32,
    /// The COST key, by the queue's cost basis.
    pub(crate) cost: f64,
    pub(crate) max_players: u32,
}

#[derive(Clone, Debug)]
pub(crate) struct QueueState {
    pub(crate) queue: Queue,
    pub(crate) candidates: Vec<Candidate>,
    pub(crate) schedule: LatencySchedule,
}

/// What a fleet's definition must hold, whether given at the start or at run time.
fn check_fleet(fleet: &Fleet) -> Result<(), PlacementError> {
    for (l, location) in fleet.locations.iter().enumerate() {
        let field = |name: &str| format!("Locations[{l}].{name}");
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
    }
    Ok(())
}

/// Queue `q` of `queues`, which exists: a pending placement's, or one an id names. A free
/// function, so that it borrows only the queues.
pub(crate) fn live(queues: &[Option<QueueState>], q: u32) -> &QueueState {
    queues[q as usize]
        .as_ref()
        .expect("a pending placement's or a named queue exists")
}

impl Placer {
    pub(crate) fn queue_state(&self, queue: u32) -> &QueueState {
        live(&self.queues, queue)
    }

    pub(crate) fn live_queues(&self) -> impl Iterator<Item = &QueueState> {
        self.queues.iter().flatten()
    }

    fn fleet_list(&self) -> String {
        listing(self.fleets.iter().map(|f| f.id.as_str()))
    }

    /// Adds a fleet, checked, with a slot per location; the caller ranks new locations.
    pub(crate) fn insert_fleet(&mut self, fleet: Fleet) -> Result<(), PlacementError> {
        if self.fleet_ids.contains_key(&fleet.id) {
            return Err(PlacementError::already_exists(
                "FleetId",
                format!("fleet `{}` already exists", fleet.id),
            ));
        }
        check_fleet(&fleet)?;
        let f = self.fleets.len() as u32;
        let slots = (0..fleet.locations.len() as u32)
            .map(|l| self.new_slot(&fleet, f, l))
            .collect();
        self.fleet_ids.insert(fleet.id.clone(), f);
        self.fleet_slots.push(slots);
        self.fleets.push(fleet);
        Ok(())
    }

    /// A slot for location `entry` of `fleet` (which is or will be fleet `f`), in a free place
    /// if there is one.
    fn new_slot(&mut self, fleet: &Fleet, f: u32, entry: u32) -> u32 {
        let location = self
            .locations
            .intern(&fleet.locations[entry as usize].location);
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
        match self.free_slots.pop() {
            Some(free) => {
                self.slots[free as usize] = slot;
                free
            }
            None => {
                self.slots.push(slot);
                self.waiting.push(Default::default());
                self.slots.len() as u32 - 1
            }
        }
    }

    /// Frees a slot whose fleet location is gone; the requests waiting on it stop waiting on
    /// it.
    fn free_slot(&mut self, slot: u32) {
        for (key, _) in std::mem::take(&mut self.waiting[slot as usize]) {
            self.store[key].waits_on.retain(|s| *s != slot);
        }
        let state = &mut self.slots[slot as usize];
        state.fleet = NO_FLEET;
        state.open = false;
        state.capacity = 0;
        self.free_slots.push(slot);
    }

    /// Ranks every location alphabetically again after new ones appeared, and with the
    /// ranks every queue's candidates.
    fn rank_new_locations(&mut self) {
        self.alphabetical = self.locations.alphabetical_ranks();
        for q in 0..self.queues.len() as u32 {
            self.rebuild_candidates(q);
        }
    }

    fn rebuild_candidates(&mut self, q: u32) {
        let Some(state) = &self.queues[q as usize] else {
            return;
        };
        let candidates = self
            .candidates_of(&state.queue)
            .expect("a queue's destinations are fleets of the placer");
        self.queues[q as usize]
            .as_mut()
            .expect("checked above")
            .candidates = candidates;
    }

    /// `CreateFleet` at `now`: a fleet whose locations take placements from the queues that
    /// list it (none yet: a queue names only fleets that exist).
    pub fn add_fleet(&mut self, fleet: Fleet, now: Seconds) -> Result<(), PlacementError> {
        self.advance(now);
        let known = self.locations.len();
        self.insert_fleet(fleet)?;
        if self.locations.len() > known {
            self.rank_new_locations();
        }
        Ok(())
    }

    /// Replaces a fleet's definition at `now`: its type, and its locations with their
    /// capacity, prices, sizes and statuses. A location kept keeps its sessions in use; one
    /// left out must host none (refused otherwise). The PENDING requests of every queue that
    /// lists the fleet are decided again, oldest first, so room it gained is used at once; a
    /// location that shrinks or goes ends no game session.
    pub fn update_fleet(&mut self, fleet: Fleet, now: Seconds) -> Result<(), PlacementError> {
        self.advance(now);
        let Some(&f) = self.fleet_ids.get(&fleet.id) else {
            return Err(self.no_fleet("FleetId", &fleet.id));
        };
        check_fleet(&fleet)?;
        let old = &self.fleets[f as usize].locations;
        for (l, location) in old.iter().enumerate() {
            let used = self.slots[self.fleet_slots[f as usize][l] as usize].used;
            if used > 0
                && !fleet
                    .locations
                    .iter()
                    .any(|n| n.location == location.location)
            {
                return Err(PlacementError::failed_precondition(
                    "Locations",
                    format!(
                        "fleet `{}` hosts {used} game sessions in `{}`; a location can go once \
                         its sessions have ended",
                        fleet.id, location.location
                    ),
                ));
            }
        }
        let known = self.locations.len();
        self.replace_locations(f, fleet);
        if self.locations.len() > known {
            self.rank_new_locations();
        }
        let listing: Vec<bool> = self.queues.iter().map(|q| self.lists(q, f)).collect();
        for q in 0..self.queues.len() as u32 {
            if listing[q as usize] {
                self.rebuild_candidates(q);
            }
        }
        self.redecide(|q| listing[q as usize], now);
        Ok(())
    }

    /// Whether queue `q` lists fleet `f` as a destination.
    fn lists(&self, q: &Option<QueueState>, f: u32) -> bool {
        let id = &self.fleets[f as usize].id;
        q.as_ref()
            .is_some_and(|state| state.queue.destinations.contains(id))
    }

    /// Gives fleet `f` its new definition: slots kept by location name, new ones for new
    /// locations, the others freed.
    fn replace_locations(&mut self, f: u32, fleet: Fleet) {
        let old_slots = std::mem::take(&mut self.fleet_slots[f as usize]);
        let old: Vec<String> = self.fleets[f as usize]
            .locations
            .iter()
            .map(|l| l.location.clone())
            .collect();
        for (slot, name) in old_slots.iter().zip(&old) {
            if !fleet.locations.iter().any(|l| l.location == *name) {
                self.free_slot(*slot);
            }
        }
        let mut slots = Vec::with_capacity(fleet.locations.len());
        for (l, location) in fleet.locations.iter().enumerate() {
            let slot = match old.iter().position(|name| *name == location.location) {
                Some(kept) => {
                    let slot = old_slots[kept];
                    self.slots[slot as usize].entry = l as u32;
                    slot
                }
                None => self.new_slot(&fleet, f, l as u32),
            };
            self.slots[slot as usize].refresh(&fleet);
            slots.push(slot);
        }
        self.fleet_slots[f as usize] = slots;
        self.fleets[f as usize] = fleet;
    }

    /// `DeleteFleet` at `now`. Refused while a queue lists the fleet (take it out of the queue
    /// first, so that no request waits on it) or while it hosts game sessions.
    pub fn delete_fleet(&mut self, fleet_id: &str, now: Seconds) -> Result<(), PlacementError> {
        self.advance(now);
        let Some(&f) = self.fleet_ids.get(fleet_id) else {
            return Err(self.no_fleet("FleetId", fleet_id));
        };
        if let Some(state) = self.queues.iter().find(|q| self.lists(q, f)) {
            let name = &state.as_ref().expect("a queue that lists it").queue.name;
            return Err(PlacementError::failed_precondition(
                "FleetId",
                format!("fleet `{fleet_id}` is a destination of queue `{name}`"),
            ));
        }
        let used: u64 = self.fleet_slots[f as usize]
            .iter()
            .map(|s| self.slots[*s as usize].used)
            .sum();
        if used > 0 {
            return Err(PlacementError::failed_precondition(
                "FleetId",
                format!("fleet `{fleet_id}` hosts {used} game sessions"),
            ));
        }
        for slot in self.fleet_slots.remove(f as usize) {
            self.free_slot(slot);
        }
        self.fleets.remove(f as usize);
        self.fleet_ids.remove(fleet_id);
        for index in self.fleet_ids.values_mut() {
            *index -= u32::from(*index > f);
        }
        for slot in &mut self.slots {
            slot.fleet -= u32::from(slot.fleet != NO_FLEET && slot.fleet > f);
        }
        Ok(())
    }

    fn no_fleet(&self, field: impl Into<String>, fleet_id: &str) -> PlacementError {
        PlacementError::not_found(
            field,
            format!(
                "no fleet `{fleet_id}`; the fleets are {}",
                self.fleet_list()
            ),
        )
    }

    /// `CreateGameSessionQueue`; its destinations must name fleets of the placer.
    pub fn add_queue(&mut self, queue: Queue) -> Result<(), PlacementError> {
        if self.queue_ids.contains_key(&queue.name) {
            return Err(PlacementError::already_exists(
                "Name",
                format!("queue `{}` already exists", queue.name),
            ));
        }
        let candidates = self.check_queue(&queue)?;
        let state = QueueState {
            schedule: queue.latency_schedule(),
            queue,
            candidates,
        };
        let q = match self.free_queues.pop() {
            Some(q) => q,
            None => {
                self.queues.push(None);
                self.queues.len() as u32 - 1
            }
        };
        self.queue_ids.insert(state.queue.name.clone(), q);
        self.queues[q as usize] = Some(state);
        Ok(())
    }

    /// `UpdateGameSessionQueue` at `now`: the queue's whole definition is replaced, as
    /// GameLift's update replaces lists rather than patching them. Its PENDING requests
    /// follow the new definition from `now`, oldest first: latencies ranked and capped as it
    /// says (caps and the timeout still count from each request's start, so one whose new
    /// timeout has passed times out now), on its new candidates.
    pub fn update_queue(&mut self, queue: Queue, now: Seconds) -> Result<(), PlacementError> {
        self.advance(now);
        let q = self.queue_index(&queue.name, "Name")?;
        let candidates = self.check_queue(&queue)?;
        self.queues[q as usize] = Some(QueueState {
            schedule: queue.latency_schedule(),
            queue,
            candidates,
        });
        self.redecide(|other| other == q, now);
        Ok(())
    }

    /// `DeleteGameSessionQueue` at `now`: as GameLift does, its PENDING requests fail (FAILED,
    /// [`Reason::QueueDeleted`]), oldest first.
    pub fn delete_queue(&mut self, name: &str, now: Seconds) -> Result<(), PlacementError> {
        self.advance(now);
        let q = self.queue_index(name, "Name")?;
        let mut pending: Vec<(Time, u64, u32)> = self
            .timers
            .iter()
            .map(|(&key, _)| key)
            .filter(|&key| self.store[key].queue == q)
            .map(|key| {
                let placement = &self.store[key];
                (Time(placement.start_time), placement.order, key)
            })
            .collect();
        pending.sort_unstable();
        for (_, _, key) in pending {
            let reason = Some(Reason::QueueDeleted);
            self.finish(key, PlacementStatus::Failed, reason, now);
        }
        self.queues[q as usize] = None;
        self.queue_ids.remove(name);
        self.free_queues.push(q);
        Ok(())
    }

    fn queue_index(&self, name: &str, field: &str) -> Result<u32, PlacementError> {
        self.queue_ids.get(name).copied().ok_or_else(|| {
            PlacementError::not_found(
                field,
                format!(
                    "no queue `{name}`; the queues are {}",
                    listing(self.live_queues().map(|q| q.queue.name.as_str()))
                ),
            )
        })
    }

    /// Checks a queue's definition; returns its candidates.
    fn check_queue(&self, queue: &Queue) -> Result<Vec<Candidate>, PlacementError> {
        if queue.priority_order[0] == PriorityType::Location && queue.location_order.is_empty() {
            return Err(PlacementError::invalid(
                "PriorityConfiguration.LocationOrder",
                "a queue that ranks by LOCATION first needs a `LocationOrder`".to_string(),
            ));
        }
        self.candidates_of(queue)
    }

    /// Every destination fleet of the queue in each of its locations, in the queue's order of
    /// fleets and each fleet's order of locations.
    fn candidates_of(&self, queue: &Queue) -> Result<Vec<Candidate>, PlacementError> {
        let mut candidates = Vec::new();
        for (d, fleet_id) in queue.destinations.iter().enumerate() {
            let Some(&f) = self.fleet_ids.get(fleet_id) else {
                let field = format!("Destinations[{d}].DestinationArn");
                return Err(self.no_fleet(field, fleet_id));
            };
            let fleet = &self.fleets[f as usize];
            for (location, &slot) in fleet.locations.iter().zip(&self.fleet_slots[f as usize]) {
                candidates.push(self.candidate(queue, d as u32, location, slot));
            }
        }
        Ok(candidates)
    }

    fn candidate(
        &self,
        queue: &Queue,
        destination: u32,
        at: &FleetLocation,
        slot: u32,
    ) -> Candidate {
        let id = self.slots[slot as usize].location;
        let name = &at.location;
        let allowed = queue
            .allowed_locations
            .as_ref()
            .is_none_or(|allowed| allowed.iter().any(|a| a == name));
        let location_rank = match queue.location_order.iter().position(|l| l == name) {
            Some(i) => i as u32,
            None => queue.location_order.len() as u32 + self.alphabetical[id.0 as usize],
        };
        let cost = match queue.options.cost_basis {
            CostBasis::Instance => at.hourly_cost,
            CostBasis::GameSession => at.hourly_cost / f64::from(at.sessions_per_instance),
        };
        Candidate {
            slot,
            destination,
            location: id,
            allowed,
            location_rank,
            cost,
            max_players: at.max_players,
        }
    }

    pub(crate) fn slot_of(&self, fleet_id: &str, location: &str) -> Result<u32, PlacementError> {
        let Some(&f) = self.fleet_ids.get(fleet_id) else {
            return Err(self.no_fleet("FleetId", fleet_id));
        };
        self.fleets[f as usize]
            .locations
            .iter()
            .position(|l| l.location == location)
            .map(|l| self.fleet_slots[f as usize][l])
            .ok_or_else(|| {
                PlacementError::not_found(
                    "Location",
                    format!("fleet `{fleet_id}` has no location `{location}`"),
                )
            })
    }

    /// `UpdateFleetCapacity` for one location: resizes it to `instances`. Room it gains goes
    /// to the requests waiting for it, oldest first; shrinking below the sessions in use ends
    /// none of them, the location just takes no new ones until enough have ended.
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

    /// Changes a fleet location at run time in what no candidate copies (capacity, status),
    /// then gives any room it gained to the requests waiting for it.
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
}
