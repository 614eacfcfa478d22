//! PENDING requests: each waits on every candidate it could use under the cap in force, oldest
//! first per slot, with one timer for when its cap relaxes or it times out; a slot that gains
//! room, a cap that relaxes, or a change to its queue or fleets decides it again.

use std::cmp::Reverse;

use super::Placer;
use super::registry::live;
use super::request::aggregate;
use crate::model::{PlacementStatus, Seconds, Time};

impl Placer {
    /// Leaves a placement PENDING at `now`: waiting on every candidate it could use under the
    /// cap in force, and woken when the cap relaxes or the queue times out.
    pub(crate) fn wait(&mut self, key: u32, now: Seconds) {
        let mut slots = std::mem::take(&mut self.store[key].waits_on);
        let placement = &self.store[key];
        let state = live(&self.queues, placement.queue);
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
        let placement = &mut self.store[key];
        placement.waits_on = slots;
        placement.queued = true;
    }

    /// Takes a placement out of the waiting lists and timers, if it is in them.
    pub(crate) fn unqueue(&mut self, key: u32) {
        let placement = &mut self.store[key];
        if placement.queued {
            placement.queued = false;
            for slot in std::mem::take(&mut placement.waits_on) {
                self.waiting[slot as usize].remove(&key);
            }
            self.timers.remove(&key);
        }
    }

    /// Decides a PENDING placement again at `now`; returns whether it was placed. If it was
    /// not, it keeps its latencies and the caller makes it wait again.
    fn retry(&mut self, key: u32, now: Seconds) -> bool {
        let latency = std::mem::take(&mut self.store[key].latency);
        let placed = self.try_place(key, &latency, now);
        if !placed {
            self.store[key].latency = latency;
        }
        placed
    }

    /// Moves virtual time to `now`: pending placements whose cap relaxes are decided again,
    /// and those whose queue's timeout has passed time out, each at its own moment; then
    /// ended placements whose retention has passed are forgotten. Every other operation at
    /// `now` does this first, so its order among calls never lets a request be placed at or
    /// after its timeout.
    pub fn advance(&mut self, now: Seconds) {
        while let Some((&key, &Reverse((Time(at), _)))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            let placement = &self.store[key];
            let timeout = placement.start_time + self.queue_state(placement.queue).queue.timeout;
            if at >= timeout {
                let reason = self.timed_out(key, timeout);
                self.finish(key, PlacementStatus::TimedOut, Some(reason), timeout);
            } else if !self.retry(key, at) {
                self.wait(key, at);
            }
        }
        self.store.forget_due(now);
    }

    /// Gives a slot's room to the requests waiting for it, oldest first. Each is decided
    /// again in full, so it takes its best candidate with room, which may be another.
    pub(crate) fn serve(&mut self, slot: u32, now: Seconds) {
        // A request waits on a slot only if it may use it, and caps only relax, so each one
        // popped here is placed; any that is not waits again after the loop, not in it.
        let mut unplaced = Vec::new();
        while self.slots[slot as usize].has_room() {
            let Some((key, _)) = self.waiting[slot as usize].pop() else {
                break;
            };
            self.store[key].waits_on.retain(|s| *s != slot);
            if !self.retry(key, now) {
                unplaced.push(key);
            }
        }
        for key in unplaced {
            self.wait(key, now);
        }
    }

    /// Decides again at `now`, oldest first, every PENDING placement of the queues for which
    /// `affected` holds, after their queue or its fleets changed: each is taken out of the
    /// waiting lists, its latencies aggregated anew as its queue now ranks them, and it times
    /// out now if its queue's timeout has passed, is placed on its best candidate with room,
    /// or waits again on the candidates it may now use. So the invariant holds again: a
    /// PENDING request waits on every candidate it may use, and none has room.
    pub(crate) fn redecide(&mut self, affected: impl Fn(u32) -> bool, now: Seconds) {
        let mut keys: Vec<(Time, u64, u32)> = self
            .timers
            .iter()
            .map(|(&key, _)| key)
            .filter(|&key| affected(self.store[key].queue))
            .map(|key| {
                let placement = &self.store[key];
                (Time(placement.start_time), placement.order, key)
            })
            .collect();
        keys.sort_unstable();
        for (_, _, key) in keys {
            self.unqueue(key);
            self.reaggregate(key);
            let placement = &self.store[key];
            if now >= placement.start_time + self.queue_state(placement.queue).queue.timeout {
                let reason = self.timed_out(key, now);
                self.finish(key, PlacementStatus::TimedOut, Some(reason), now);
            } else if !self.retry(key, now) {
                self.wait(key, now);
            }
        }
    }

    /// Aggregates a PENDING placement's latencies anew, by its queue's options and over every
    /// location the placer now knows. Its latencies were checked when it started.
    fn reaggregate(&mut self, key: u32) {
        let placement = &self.store[key];
        let options = self.queue_state(placement.queue).queue.options;
        let mut latency = std::mem::take(&mut self.scratch.latency);
        let checked = aggregate(
            &placement.request,
            options,
            &self.locations,
            &mut self.scratch.aggregation,
            &mut latency,
        );
        debug_assert!(
            checked.is_ok(),
            "a started request's latencies were checked"
        );
        self.store[key].latency = latency.as_slice().into();
        self.scratch.latency = latency;
    }
}
