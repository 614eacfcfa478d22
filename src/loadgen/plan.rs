//! What a run sends and when: the n-th call and its due time, for generated tickets, echo
//! pings or a recorded trace.

use std::time::Duration;

use rally_server::echo::v1::PingRequest;
use rally_server::proto::v1 as pb;

use super::calls::{Call, with_ids};

/// The calls of a run, in the order they are due.
#[derive(Debug)]
pub struct Plan {
    pub calls: Calls,
    pub pace: Pace,
    /// How many calls at most.
    pub count: usize,
    /// How many tickets the calls start that can be told by their ids (the tracker's size).
    pub tickets: usize,
    /// No call is started after this long (a server that cannot keep up leaves the rest
    /// unsent rather than stretching the run).
    pub deadline: Duration,
}

#[derive(Debug)]
pub enum Calls {
    /// StartMatchmaking with the templates in turn, ticket `n` named `<prefix><n>`.
    Generated {
        templates: Vec<pb::StartMatchmakingRequest>,
        prefix: String,
    },
    /// Echo pings carrying the same ids as generated tickets would.
    Echo { prefix: String },
    /// A trace's calls, each with the slot of the ticket it starts, if it starts one.
    Trace(Vec<(Call, Option<usize>)>),
}

/// When each call is due, from the start of the run.
#[derive(Debug)]
pub enum Pace {
    /// `n` per second: call `i` is due at `i / n` seconds, a token bucket that holds as
    /// many tokens as there are workers.
    Rate(f64),
    /// Every call as soon as a worker is free.
    Unpaced,
    /// Each call at its recorded time.
    Times(Vec<Duration>),
}

impl Pace {
    pub fn due(&self, i: usize) -> Option<Duration> {
        match self {
            Pace::Rate(per_second) => Some(Duration::from_secs_f64(i as f64 / per_second)),
            Pace::Unpaced => None,
            Pace::Times(times) => times.get(i).copied(),
        }
    }
}

impl Plan {
    /// Call `i`, and the tracker slot of the ticket it starts.
    pub fn call(&self, i: usize) -> (Call, Option<usize>) {
        match &self.calls {
            Calls::Generated { templates, prefix } => {
                let template = &templates[i % templates.len()];
                (with_ids(template, format!("{prefix}{i}")), Some(i))
            }
            Calls::Echo { prefix } => (
                Call::Ping(PingRequest {
                    message: format!("{prefix}{i}"),
                }),
                None,
            ),
            Calls::Trace(calls) => calls[i].clone(),
        }
    }
}
