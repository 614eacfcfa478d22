//! What the simulated players and game servers will do, by time: answers to acceptance and
//! game sessions ending. Ties go in the order they were scheduled.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rally_base::{Seconds, Time};

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Action {
    /// A ticket's players answer the match they were asked to accept.
    Answer {
        ticket_id: String,
        player_ids: Vec<String>,
        accept: bool,
    },
    /// A game session ends; its slot is free.
    EndSession { game_session_arn: String },
}

#[derive(Debug, Default)]
pub(crate) struct Agenda {
    due: BinaryHeap<Reverse<(Time, u64, Action)>>,
    scheduled: u64,
}

impl Agenda {
    pub(crate) fn schedule(&mut self, at: Seconds, action: Action) {
        self.due.push(Reverse((Time(at), self.scheduled, action)));
        self.scheduled += 1;
    }

    pub(crate) fn next_at(&self) -> Option<Seconds> {
        self.due.peek().map(|Reverse((at, _, _))| at.0)
    }

    /// The next action due by `now`.
    pub(crate) fn pop_due(&mut self, now: Seconds) -> Option<(Seconds, Action)> {
        if self.next_at()? > now {
            return None;
        }
        self.due
            .pop()
            .map(|Reverse((at, _, action))| (at.0, action))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(arn: &str) -> Action {
        Action::EndSession {
            game_session_arn: arn.into(),
        }
    }

    #[test]
    fn actions_come_due_in_time_order_ties_as_scheduled() {
        let mut agenda = Agenda::default();
        agenda.schedule(5.0, end("b"));
        agenda.schedule(1.0, end("z"));
        agenda.schedule(5.0, end("a"));
        assert_eq!(agenda.next_at(), Some(1.0));
        assert_eq!(agenda.pop_due(0.5), None);
        assert_eq!(agenda.pop_due(1.0), Some((1.0, end("z"))));
        assert_eq!(agenda.pop_due(4.9), None);
        assert_eq!(agenda.pop_due(9.0), Some((5.0, end("b"))));
        assert_eq!(agenda.pop_due(9.0), Some((5.0, end("a"))));
        assert_eq!(agenda.next_at(), None);
    }
}
