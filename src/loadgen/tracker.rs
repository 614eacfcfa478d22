//! Which tickets were sent when, and which have had their events: shared by the workers
//! that send and the task that reads the event stream, without a lock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Instant;

/// How event ticket ids map back to the tickets sent.
#[derive(Debug)]
pub enum TicketIds {
    /// Generated tickets: `<prefix><n>` is ticket `n`.
    Numbered { prefix: String },
    /// A trace's tickets, by their own ids.
    Named(HashMap<String, usize>),
}

impl TicketIds {
    pub fn slot(&self, ticket_id: &str) -> Option<usize> {
        match self {
            TicketIds::Numbered { prefix } => ticket_id.strip_prefix(prefix)?.parse().ok(),
            TicketIds::Named(slots) => slots.get(ticket_id).copied(),
        }
    }
}

/// The milestones a ticket's events mark, as bits of its `seen` byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Milestone {
    PotentialMatch = 1,
    Completed = 2,
}

#[derive(Debug)]
pub struct Tracker {
    pub ids: TicketIds,
    start: Instant,
    /// Microseconds after `start` each ticket was sent, plus one (0: not sent).
    sent_at: Vec<AtomicU64>,
    seen: Vec<AtomicU8>,
    completed: AtomicU64,
}

impl Tracker {
    pub fn new(ids: TicketIds, tickets: usize, start: Instant) -> Tracker {
        Tracker {
            ids,
            start,
            sent_at: (0..tickets).map(|_| AtomicU64::new(0)).collect(),
            seen: (0..tickets).map(|_| AtomicU8::new(0)).collect(),
            completed: AtomicU64::new(0),
        }
    }

    pub fn start(&self) -> Instant {
        self.start
    }

    /// Ticket `slot` is being sent now.
    pub fn sent(&self, slot: usize) {
        let micros = self.start.elapsed().as_micros() as u64 + 1;
        self.sent_at[slot].store(micros, Ordering::Release);
    }

    /// Ticket `ticket_id` reached `milestone` now: the microseconds since it was sent, the
    /// first time only, and only for a ticket this run sent.
    pub fn reached(&self, ticket_id: &str, milestone: Milestone, now: Instant) -> Option<u64> {
        let slot = self.ids.slot(ticket_id)?;
        let sent = self
            .sent_at
            .get(slot)?
            .load(Ordering::Acquire)
            .checked_sub(1)?;
        let bit = milestone as u8;
        if self.seen[slot].fetch_or(bit, Ordering::AcqRel) & bit != 0 {
            return None;
        }
        if milestone == Milestone::Completed {
            self.completed.fetch_add(1, Ordering::Relaxed);
        }
        let at = now.saturating_duration_since(self.start).as_micros() as u64;
        Some(at.saturating_sub(sent))
    }

    /// How many tickets have completed.
    pub fn completed(&self) -> u64 {
        self.completed.load(Ordering::Relaxed)
    }
}
