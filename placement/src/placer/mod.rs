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
//!
//! | file | what lives there |
//! | --- | --- |
//! | `registry.rs` | fleets, their locations' slots, queues and their candidates; run-time administration |
//! | `store.rs` | the placements held, by key and by id, and when ended ones are forgotten |
//! | `request.rs` | a request's checks and its latencies aggregated per location |
//! | `decision.rs` | the decision: filter, rank, reserve |
//! | `waiting.rs` | PENDING requests: waiting per slot, timers, deciding again |
//! | `events.rs` | final statuses and the events that report them |
//! | `explain.rs` | the reasons of placements that end unplaced |
//!
//! [`Unplaceable::Fail`]: crate::model::Unplaceable::Fail

mod decision;
mod events;
mod explain;
mod registry;
mod request;
mod store;
mod waiting;

use std::cmp::Reverse;

use hashbrown::{DefaultHashBuilder, HashMap};
use priority_queue::PriorityQueue;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::PlacementError;
use crate::model::{Fleet, Locations, Queue, Seconds, Time};
use crate::reason::Reason;

pub use events::{EventKind, PlacementEvent};
pub use store::{GameSession, Placement, PlacementKey, Retention};

use decision::Scratch;
use registry::{QueueState, Slot};
use store::Store;

/// Placements by `(time, arrival)`: the oldest pops first.
pub(crate) type OldestFirst = PriorityQueue<u32, Reverse<(Time, u64)>, DefaultHashBuilder>;

/// GameLift's limit on players in one game session.
pub const MAX_PLAYERS_PER_SESSION: u32 = 200;

/// Fleets, queues and placements. Every operation takes the current time; the placer reads
/// no clock and draws randomness (for weighted spreading only) from its seeded generator.
#[derive(Debug)]
pub struct Placer {
    /// In the order they were added.
    fleets: Vec<Fleet>,
    fleet_ids: HashMap<String, u32>,
    /// Per fleet, per location in the fleet's order: its slot.
    fleet_slots: Vec<Vec<u32>>,
    locations: Locations,
    /// Each location's alphabetical rank, by id.
    alphabetical: Vec<u32>,
    /// Fleet locations; a deleted one's place is reused (see `free_slots`).
    slots: Vec<Slot>,
    free_slots: Vec<u32>,
    /// `None` where a queue was deleted; its place is reused (see `free_queues`).
    queues: Vec<Option<QueueState>>,
    free_queues: Vec<u32>,
    queue_ids: HashMap<String, u32>,
    store: Store,
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
    /// A placer over `fleets`; `seed` seeds weighted spreading. Ended placements are kept
    /// for the placer's life until [`Placer::set_retention`] says otherwise.
    pub fn new(fleets: Vec<Fleet>, seed: u64) -> Result<Placer, PlacementError> {
        let mut placer = Placer {
            fleets: Vec::new(),
            fleet_ids: HashMap::new(),
            fleet_slots: Vec::new(),
            locations: Locations::default(),
            alphabetical: Vec::new(),
            slots: Vec::new(),
            free_slots: Vec::new(),
            queues: Vec::new(),
            free_queues: Vec::new(),
            queue_ids: HashMap::new(),
            store: Store::default(),
            waiting: Vec::new(),
            timers: OldestFirst::default(),
            events: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            next_order: 0,
            next_session: 1,
            scratch: Scratch::default(),
        };
        for (f, fleet) in fleets.into_iter().enumerate() {
            placer
                .insert_fleet(fleet)
                .map_err(|error| error.within(&format!("[{f}]")))?;
        }
        placer.alphabetical = placer.locations.alphabetical_ranks();
        Ok(placer)
    }

    /// The locations the fleets cover: requests name them by number.
    pub fn locations(&self) -> &Locations {
        &self.locations
    }

    /// The fleets, in the order they were added.
    pub fn fleets(&self) -> &[Fleet] {
        &self.fleets
    }

    pub fn queue(&self, name: &str) -> Option<&Queue> {
        Some(&self.queue_state(*self.queue_ids.get(name)?).queue)
    }

    /// The queues, in no particular order.
    pub fn queues(&self) -> impl Iterator<Item = &Queue> {
        self.live_queues().map(|state| &state.queue)
    }

    /// The placement `key` names. Panics if it was forgotten (see [`Placer::get`]).
    pub fn placement(&self, key: PlacementKey) -> &Placement {
        self.get(key)
            .expect("a key of this placer whose placement is still retained")
    }

    /// The placement `key` names, `None` once it has been forgotten.
    pub fn get(&self, key: PlacementKey) -> Option<&Placement> {
        self.store.get(key)
    }

    /// `DescribeGameSessionPlacement`: the placement started with this id, while retained.
    pub fn describe(&self, placement_id: &str) -> Result<&Placement, PlacementError> {
        Ok(&self.store[self.existing(placement_id)?.index])
    }

    /// Every placement retained, in the order they started.
    pub fn placements(&self) -> Vec<&Placement> {
        self.store.in_start_order()
    }

    /// How many placements the placer holds (PENDING, and ended ones not yet forgotten).
    pub fn retained(&self) -> usize {
        self.store.len()
    }

    pub fn key_of(&self, placement_id: &str) -> Option<PlacementKey> {
        self.store.key_of(placement_id)
    }

    /// Events since the last call, in the order they happened. A placement that has ended is
    /// forgotten only after its event has been taken, so every event can be looked up.
    pub fn take_events(&mut self) -> Vec<PlacementEvent> {
        let events = std::mem::take(&mut self.events);
        for event in &events {
            self.store.event_taken(event.placement.index);
        }
        events
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

    /// The time at which the next pending placement must be looked at, or the next ended one
    /// forgotten, if any.
    pub fn next_wake(&self) -> Option<Seconds> {
        let timer = self.timers.peek().map(|(_, Reverse((at, _)))| at.0);
        match (timer, self.store.next_forget()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// How long ended placements are kept; applies at once to those already ended.
    pub fn set_retention(&mut self, retention: Retention) -> Result<(), PlacementError> {
        self.store.set_retention(retention)
    }

    /// `StopGameSessionPlacement`: cancels a PENDING placement; one whose timeout has come
    /// by `now` has timed out and cannot be stopped.
    pub fn stop(&mut self, placement_id: &str, now: Seconds) -> Result<(), PlacementError> {
        self.advance(now);
        let key = self.existing(placement_id)?.index;
        let status = self.store[key].status;
        if status != crate::model::PlacementStatus::Pending {
            return Err(PlacementError::failed_precondition(
                "PlacementId",
                format!(
                    "placement `{placement_id}` is {status}; only a PENDING one can be stopped"
                ),
            ));
        }
        self.finish(
            key,
            crate::model::PlacementStatus::Cancelled,
            Some(Reason::Cancelled),
            now,
        );
        Ok(())
    }

    /// Ends the game session of a fulfilled placement; its slot goes to the oldest request
    /// waiting for it that has not timed out by `now`.
    pub fn release(&mut self, placement_id: &str, now: Seconds) -> Result<(), PlacementError> {
        self.advance(now);
        let key = self.existing(placement_id)?.index;
        let Some(session) = self.store[key].session.as_mut().filter(|s| !s.ended) else {
            return Err(PlacementError::failed_precondition(
                "PlacementId",
                format!("placement `{placement_id}` holds no running game session"),
            ));
        };
        session.ended = true;
        let slot = session.slot;
        self.store.session_ended(key);
        self.slots[slot as usize].used -= 1;
        self.serve(slot, now);
        Ok(())
    }

    fn existing(&self, placement_id: &str) -> Result<PlacementKey, PlacementError> {
        self.key_of(placement_id).ok_or_else(|| {
            PlacementError::not_found("PlacementId", format!("no placement `{placement_id}`"))
        })
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
