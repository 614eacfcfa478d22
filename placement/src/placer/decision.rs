//! The decision: a request's candidates filtered (allowed, override, players, latency cap,
//! room), ranked lexicographically by the queue's priority order, and a game session reserved
//! on the best, or on one of the best drawn by weight when the queue spreads.

use rand::Rng;

use super::registry::{Candidate, live};
use super::request::{LatencyScratch, LocationLatency};
use super::{GameSession, Placement, Placer};
use crate::model::{FallbackStrategy, PlacementStatus, PriorityType, Seconds, Spread};

/// Reusable buffers for one decision, so that a decision allocates nothing of its own.
#[derive(Clone, Debug, Default)]
pub(crate) struct Scratch {
    /// Per location id: the request being started's latencies, aggregated.
    pub(crate) latency: Vec<LocationLatency>,
    pub(crate) aggregation: LatencyScratch,
    ranked: Vec<(u32, [f64; 4])>,
    /// Candidates tied with the best, with their free game sessions.
    ties: Vec<(u32, u64)>,
}

impl Placer {
    /// Decides a placement at `now`: reserves a session on the best candidate with room.
    /// `latency` is the placement's, aggregated.
    pub(crate) fn try_place(
        &mut self,
        key: u32,
        latency: &[LocationLatency],
        now: Seconds,
    ) -> bool {
        let mut ranked = std::mem::take(&mut self.scratch.ranked);
        self.rank(key, latency, now, &mut ranked);
        if ranked.is_empty() {
            self.scratch.ranked = ranked;
            return false;
        }
        let best = best_of(&ranked);
        let chosen = self.spread(key, &ranked, best);
        self.scratch.ranked = ranked;
        let placement = &self.store[key];
        let candidate = &self.queue_state(placement.queue).candidates[chosen as usize];
        let slot = candidate.slot;
        let average = placement
            .has_latency
            .then(|| latency[candidate.location.0 as usize].average);
        self.reserve(key, slot, average, now);
        true
    }

    /// Every candidate with room the placement may use at `now`, with its keys in the queue's
    /// priority order (latencies within the queue's tolerance of the best counted as equal).
    fn rank(
        &self,
        key: u32,
        latency: &[LocationLatency],
        now: Seconds,
        ranked: &mut Vec<(u32, [f64; 4])>,
    ) {
        let placement = &self.store[key];
        let state = self.queue_state(placement.queue);
        let queue = &state.queue;
        let cap = state.schedule.cap_at(placement.start_time, now);
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
        // Within the tolerance of the best, latencies count as equal.
        let tolerance = queue.options.latency_tolerance_ms;
        if tolerance > 0.0
            && let Some(position) = queue
                .priority_order
                .iter()
                .position(|p| *p == PriorityType::Latency)
        {
            for (_, keys) in ranked.iter_mut() {
                if keys[position] <= best_latency + tolerance {
                    keys[position] = best_latency;
                }
            }
        }
    }

    /// The candidate to take of `ranked`, whose best is at `best`: that one, or on a queue
    /// that spreads, one of those tied with it drawn by their free game sessions.
    fn spread(&mut self, key: u32, ranked: &[(u32, [f64; 4])], best: usize) -> u32 {
        let state = live(&self.queues, self.store[key].queue);
        let queue = &state.queue;
        let chosen = ranked[best].0;
        if queue.options.spread != Spread::Weighted {
            return chosen;
        }
        let best_keys = ranked[best].1;
        // Equal means equal on every criterion ranked before DESTINATION: the queue's order
        // of fleets is the tie-break that spreading replaces.
        let before = queue
            .priority_order
            .iter()
            .position(|p| *p == PriorityType::Destination)
            .unwrap_or(4);
        let mut ties = std::mem::take(&mut self.scratch.ties);
        ties.clear();
        for (i, keys) in ranked {
            if keys[..before] == best_keys[..before] {
                let slot = &self.slots[state.candidates[*i as usize].slot as usize];
                ties.push((*i, slot.capacity - slot.used));
            }
        }
        let mut chosen = chosen;
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
        chosen
    }

    fn reserve(&mut self, key: u32, slot: u32, average_latency: Option<f64>, now: Seconds) {
        let slot_state = &mut self.slots[slot as usize];
        slot_state.used += 1;
        self.store[key].session = Some(GameSession {
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

    /// The candidate's LOCATION rank for this placement if it passes the filters that hold
    /// at latency cap `cap` and do not depend on capacity or status; `None` if it does not.
    pub(crate) fn usable_rank(
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
    pub(crate) fn override_rank(
        &self,
        placement: &Placement,
        candidate: &Candidate,
    ) -> Option<u32> {
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
}

/// The position of the best-ranked candidate, the first of equals.
fn best_of(ranked: &[(u32, [f64; 4])]) -> usize {
    let mut best = 0;
    for i in 1..ranked.len() {
        if lexicographic(&ranked[i].1, &ranked[best].1).is_lt() {
            best = i;
        }
    }
    best
}

/// Orders candidates' keys, the first that differs deciding.
fn lexicographic(a: &[f64; 4], b: &[f64; 4]) -> std::cmp::Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.total_cmp(y))
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}
