//! Why a placement ends without a game session: the rule that rules out each of its
//! candidates, worked out only when it ends unplaced, never in a decision.

use super::registry::{Candidate, Slot};
use super::request::LocationLatency;
use super::{Placement, Placer};
use crate::model::{
    LocationId, LocationStatus, MissingLatency, PlacementRequest, Seconds, Unplaceable,
};
use crate::reason::{self, Excluded, Exclusion, Reason};

impl Placer {
    /// Why the placement fails at once: only on a queue that fails unplaceable requests, and
    /// only when no candidate could ever host it, whatever the time, capacity or status (every
    /// one breaks a filter that never changes, under the loosest cap before the timeout).
    pub(crate) fn fails_fast(&self, key: u32, latency: &[LocationLatency]) -> Option<Reason> {
        let placement = &self.store[key];
        let state = self.queue_state(placement.queue);
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

    /// Why a PENDING placement times out at `at`: what rules out each candidate under the cap
    /// of its last decision, with capacity and status as they are then.
    #[cold]
    pub(crate) fn timed_out(&self, key: u32, at: Seconds) -> Reason {
        let placement = &self.store[key];
        let schedule = &self.queue_state(placement.queue).schedule;
        let cap = schedule.last_cap_before(placement.start_time, at);
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
        let placement = &self.store[key];
        let state = self.queue_state(placement.queue);
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
        let rule = self
            .queue_state(placement.queue)
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
