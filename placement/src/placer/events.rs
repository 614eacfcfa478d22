//! Final statuses and the events that report them, GameLift's four queue placement events.

use super::{PlacementKey, Placer};
use crate::model::{PlacementStatus, Seconds};
use crate::reason::Reason;

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

impl Placer {
    /// Moves a placement to a final status, with the reason when it ends unplaced, and tells
    /// whoever listens.
    pub(crate) fn finish(
        &mut self,
        key: u32,
        status: PlacementStatus,
        reason: Option<Reason>,
        now: Seconds,
    ) {
        self.unqueue(key);
        let placement = &mut self.store[key];
        placement.status = status;
        placement.end_time = Some(now);
        placement.reason = reason;
        placement.latency = Box::default();
        let kind = match status {
            PlacementStatus::Fulfilled => EventKind::Fulfilled,
            PlacementStatus::Cancelled => EventKind::Cancelled,
            PlacementStatus::TimedOut => EventKind::TimedOut,
            PlacementStatus::Failed => EventKind::Failed,
            PlacementStatus::Pending => unreachable!("a placement finishes in a final status"),
        };
        self.events.push(PlacementEvent {
            kind,
            placement: self.store.key(key),
            time: now,
        });
    }
}
