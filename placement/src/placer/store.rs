//! The placements a placer holds, by key and by id, and when ended ones are forgotten: kept
//! for the retention after they end, so that ids stay unique and placements can be described
//! for a while, and memory stays bounded under an endless stream of requests.

use std::cmp::Reverse;
use std::hash::BuildHasher;
use std::ops::{Index, IndexMut};
use std::sync::Arc;

use hashbrown::hash_table::Entry;
use hashbrown::{DefaultHashBuilder, HashTable};

use super::OldestFirst;
use super::request::LocationLatency;
use crate::error::PlacementError;
use crate::model::{PlacementRequest, PlacementStatus, Seconds, Time};
use crate::reason::Reason;

/// A placement's place in the placer, valid until the placement is forgotten; a key kept
/// after that names nothing (a later placement in the same place has another key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PlacementKey {
    pub(crate) index: u32,
    generation: u32,
}

/// How long a placer keeps a placement after it ends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Retention {
    /// For the placer's life (a trace replayed by `rally place`).
    Forever,
    /// This many seconds after it ends, as GameLift lets a placement be described for a while
    /// after it ends. A placement whose game session still runs is kept until it ends, and
    /// one whose event has not been taken until it has been.
    For(Seconds),
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
    pub(crate) slot: u32,
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
    /// Its queue's place while PENDING; read only then (a deleted queue's place is reused).
    pub(crate) queue: u32,
    /// While PENDING, per location id: the players' latencies there, aggregated. Empty
    /// otherwise: a request decided at once never needs it stored.
    pub(crate) latency: Box<[LocationLatency]>,
    pub(crate) has_latency: bool,
    pub(crate) order: u64,
    /// While PENDING: the slots it waits on.
    pub(crate) waits_on: Vec<u32>,
    /// Whether it sits in the waiting lists and timers.
    pub(crate) queued: bool,
    /// Whether the caller has taken its final event.
    pub(crate) event_taken: bool,
}

impl Placement {
    fn holds_running_session(&self) -> bool {
        self.session.as_ref().is_some_and(|s| !s.ended)
    }
}

#[derive(Clone, Debug, Default)]
struct Place {
    generation: u32,
    placement: Option<Placement>,
}

/// Placements by key (a slab whose free places are reused) and by id, and the ended ones
/// due to be forgotten.
#[derive(Debug)]
pub(crate) struct Store {
    entries: Vec<Place>,
    free: Vec<u32>,
    /// Placement keys, hashed by the placement ids the placements hold (no second copy).
    ids: HashTable<u32>,
    hasher: DefaultHashBuilder,
    retention: Retention,
    /// Ended placements to forget, by when.
    expiry: OldestFirst,
    len: usize,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            entries: Vec::new(),
            free: Vec::new(),
            ids: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            retention: Retention::Forever,
            expiry: OldestFirst::default(),
            len: 0,
        }
    }
}

/// The id of the placement at `index`, which is held.
fn id_of(entries: &[Place], index: u32) -> &str {
    &entries[index as usize]
        .placement
        .as_ref()
        .expect("an indexed placement is held")
        .request
        .placement_id
}

impl Store {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Places held, forgotten ones included (what the slab's memory follows).
    #[cfg(test)]
    pub(crate) fn places(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn get(&self, key: PlacementKey) -> Option<&Placement> {
        let entry = self.entries.get(key.index as usize)?;
        (entry.generation == key.generation)
            .then_some(entry.placement.as_ref())
            .flatten()
    }

    pub(crate) fn key(&self, index: u32) -> PlacementKey {
        PlacementKey {
            index,
            generation: self.entries[index as usize].generation,
        }
    }

    pub(crate) fn key_of(&self, placement_id: &str) -> Option<PlacementKey> {
        let hash = self.hasher.hash_one(placement_id);
        self.ids
            .find(hash, |k| id_of(&self.entries, *k) == placement_id)
            .map(|k| self.key(*k))
    }

    pub(crate) fn in_start_order(&self) -> Vec<&Placement> {
        let mut held: Vec<&Placement> = self
            .entries
            .iter()
            .filter_map(|e| e.placement.as_ref())
            .collect();
        // Already in order unless places were reused: the sort then only checks.
        held.sort_by_key(|p| p.order);
        held
    }

    /// Holds a new placement, whose id must be new among those held; returns its place.
    pub(crate) fn insert(&mut self, placement: Placement) -> Result<u32, PlacementError> {
        let index = self
            .free
            .last()
            .copied()
            .unwrap_or(self.entries.len() as u32);
        let id = placement.request.placement_id.as_str();
        let (entries, hasher) = (&self.entries, &self.hasher);
        match self.ids.entry(
            hasher.hash_one(id),
            |k| id_of(entries, *k) == id,
            |k| hasher.hash_one(id_of(entries, *k)),
        ) {
            Entry::Occupied(_) => {
                return Err(PlacementError::already_exists(
                    "PlacementId",
                    format!("placement `{id}` already exists; ids cannot be reused"),
                ));
            }
            Entry::Vacant(vacant) => {
                vacant.insert(index);
            }
        }
        if self.free.pop().is_none() {
            self.entries.push(Place::default());
        }
        self.entries[index as usize].placement = Some(placement);
        self.len += 1;
        Ok(index)
    }

    /// Its final event has been taken: an ended placement may now be forgotten.
    pub(crate) fn event_taken(&mut self, index: u32) {
        // Taken events name held placements: none is forgotten before.
        self[index].event_taken = true;
        self.arm(index);
    }

    /// Its game session has ended: the placement may now be forgotten.
    pub(crate) fn session_ended(&mut self, index: u32) {
        self.arm(index);
    }

    /// Schedules an ended placement to be forgotten, once nothing needs it.
    fn arm(&mut self, index: u32) {
        let Retention::For(keep) = self.retention else {
            return;
        };
        let placement = &self[index];
        if let Some(end) = placement.end_time
            && placement.event_taken
            && !placement.holds_running_session()
        {
            let order = placement.order;
            self.expiry.push(index, Reverse((Time(end + keep), order)));
        }
    }

    /// When the next ended placement is to be forgotten.
    pub(crate) fn next_forget(&self) -> Option<Seconds> {
        self.expiry.peek().map(|(_, Reverse((at, _)))| at.0)
    }

    /// Forgets the ended placements whose retention has passed by `now`.
    pub(crate) fn forget_due(&mut self, now: Seconds) {
        while let Some((&index, &Reverse((Time(at), _)))) = self.expiry.peek() {
            if at > now {
                break;
            }
            self.expiry.pop();
            let hash = self.hasher.hash_one(id_of(&self.entries, index));
            if let Ok(found) = self.ids.find_entry(hash, |k| *k == index) {
                found.remove();
            }
            let entry = &mut self.entries[index as usize];
            entry.placement = None;
            entry.generation = entry.generation.wrapping_add(1);
            self.free.push(index);
            self.len -= 1;
        }
    }

    pub(crate) fn set_retention(&mut self, retention: Retention) -> Result<(), PlacementError> {
        if let Retention::For(keep) = retention {
            PlacementError::at_least_zero(keep, "Retention", "number of seconds")?;
        }
        self.retention = retention;
        self.expiry.clear();
        for index in 0..self.entries.len() as u32 {
            if self.entries[index as usize].placement.is_some() {
                self.arm(index);
            }
        }
        Ok(())
    }
}

impl Index<u32> for Store {
    type Output = Placement;

    /// The placement at a place the placer holds one.
    fn index(&self, index: u32) -> &Placement {
        self.entries[index as usize]
            .placement
            .as_ref()
            .expect("a placement the placer holds")
    }
}

impl IndexMut<u32> for Store {
    fn index_mut(&mut self, index: u32) -> &mut Placement {
        self.entries[index as usize]
            .placement
            .as_mut()
            .expect("a placement the placer holds")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Placer;
    use crate::model::QueueOptions;
    use crate::model::{Fleet, FleetLocation, FleetType, LocationStatus, PriorityType, Queue};

    fn placer() -> Placer {
        let fleet = Fleet {
            id: "f".into(),
            fleet_type: FleetType::OnDemand,
            instance_type: "c5.large".into(),
            locations: vec![FleetLocation {
                location: "us-east-1".into(),
                hourly_cost: 0.1,
                instances: 4,
                sessions_per_instance: 1,
                max_players: 10,
                status: LocationStatus::Active,
                spot_viable: true,
            }],
        };
        let mut placer = Placer::new(vec![fleet], 1).unwrap();
        for (name, destinations) in [("q", vec!["f".to_string()]), ("stuck", Vec::new())] {
            placer
                .add_queue(Queue {
                    name: name.into(),
                    destinations,
                    timeout: 10.0,
                    latency_policies: Vec::new(),
                    priority_order: PriorityType::DEFAULT_ORDER,
                    location_order: Vec::new(),
                    allowed_locations: None,
                    options: QueueOptions::default(),
                })
                .unwrap();
        }
        placer
    }

    #[test]
    fn forgotten_places_are_reused_so_the_slab_stays_bounded() {
        let mut placer = placer();
        placer.set_retention(Retention::For(5.0)).unwrap();
        // One request a second: every other one placed and its session ended at once, the
        // others on a queue with no destinations, timing out after 10 s. At most 5 pending
        // and 6 s of ended ones are held at any moment.
        for i in 0..2_000u32 {
            let now = f64::from(i);
            let id = format!("p{i}");
            let queue = if i % 2 == 0 { "q" } else { "stuck" };
            placer
                .start(PlacementRequest::new(id.as_str(), queue, 10), now)
                .unwrap();
            if i % 2 == 0 {
                placer.release(&id, now).unwrap();
            }
            placer.take_events();
            assert!(
                placer.retained() <= 12,
                "{} held at {now}",
                placer.retained()
            );
        }
        assert!(
            placer.store.places() <= 13,
            "{} places",
            placer.store.places()
        );
        assert!(placer.key_of("p0").is_none(), "forgotten");
        assert!(placer.key_of("p1998").is_some(), "retained");
        assert_eq!(placer.store.ids.len(), placer.retained());
        assert!(placer.store.expiry.len() <= placer.retained());
    }
}
