//! The event stream's side of the measurement: the time from sending a ticket to its
//! `PotentialMatchCreated` and to its `MatchmakingSucceeded` (COMPLETED), in histograms.

use std::sync::Arc;
use std::time::Instant;

use hdrhistogram::Histogram;
use rally_server::proto::v1 as pb;
use tokio::sync::watch;
use tonic::Streaming;

use super::tracker::{Milestone, Tracker};

/// Latencies in microseconds, from a microsecond to an hour, to three significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

/// What the stream told by the time it was let go.
#[derive(Debug)]
pub struct Latencies {
    pub potential_match: Histogram<u64>,
    pub completed: Histogram<u64>,
    /// The server's own share of the first: the event's time less the ticket's start time,
    /// both on the server's clock (the rest is the network and the two ends' queues).
    pub potential_match_in_server: Histogram<u64>,
    /// Why the stream ended early, if it did (the server dropping a slow reader, say).
    pub ended: Option<String>,
}

/// Reads `events` until `stop` turns true or the stream ends, recording each tracked
/// ticket's milestones.
pub async fn record(
    mut events: Streaming<pb::Event>,
    tracker: Arc<Tracker>,
    mut stop: watch::Receiver<bool>,
) -> Latencies {
    let mut latencies = Latencies {
        potential_match: histogram(),
        completed: histogram(),
        potential_match_in_server: histogram(),
        ended: None,
    };
    loop {
        let message = tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return latencies,
            message = events.message() => message,
        };
        match message {
            Ok(Some(event)) => latencies.add(&event, &tracker, Instant::now()),
            Ok(None) => {
                latencies.ended = Some("the server ended the event stream".into());
                return latencies;
            }
            Err(status) => {
                latencies.ended = Some(format!("the event stream failed: {}", status.message()));
                return latencies;
            }
        }
    }
}

impl Latencies {
    fn add(&mut self, event: &pb::Event, tracker: &Tracker, now: Instant) {
        let (milestone, histogram) = match event.r#type.as_str() {
            "PotentialMatchCreated" => (Milestone::PotentialMatch, &mut self.potential_match),
            "MatchmakingSucceeded" => (Milestone::Completed, &mut self.completed),
            _ => return,
        };
        for ticket in &event.tickets {
            if let Some(micros) = tracker.reached(&ticket.ticket_id, milestone, now) {
                histogram.saturating_record(micros.max(1));
                if milestone == Milestone::PotentialMatch
                    && let Some(micros) = server_micros(event, ticket)
                {
                    self.potential_match_in_server
                        .saturating_record(micros.max(1));
                }
            }
        }
    }
}

/// Microseconds from the ticket's start to the event, as the server stamped both.
fn server_micros(event: &pb::Event, ticket: &pb::EventTicket) -> Option<u64> {
    let (at, start) = (event.time.as_ref()?, ticket.start_time.as_ref()?);
    let micros = |seconds: i64, nanos: i32| seconds * 1_000_000 + i64::from(nanos) / 1_000;
    let elapsed = micros(at.seconds, at.nanos) - micros(start.seconds, start.nanos);
    u64::try_from(elapsed).ok()
}
