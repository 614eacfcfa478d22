//! The senders: workers that take the next call of the plan, wait until it is due, send it
//! over one of the connections and tally the answer.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use hdrhistogram::Histogram;
use tonic::Code;

use super::calls::{Call, Clients};
use super::events::histogram;
use super::plan::Plan;
use super::tracker::Tracker;

/// Running counts, read by the progress bar while the workers add to them.
#[derive(Debug, Default)]
pub struct Counts {
    pub sent: AtomicU64,
    pub acknowledged: AtomicU64,
    pub failed: AtomicU64,
    /// Acknowledged StartMatchmaking calls: the tickets that can have events.
    pub tickets: AtomicU64,
}

/// Refusals by status code.
pub type Errors = BTreeMap<i32, u64>;

/// What the workers saw: the refusals, and each call's time from sending to its answer.
#[derive(Debug)]
pub struct Outcome {
    pub errors: Errors,
    pub answered: Histogram<u64>,
}

/// Sends the plan with `concurrency` workers over `connections`.
pub async fn run(
    plan: Arc<Plan>,
    connections: &[Clients],
    concurrency: usize,
    tracker: Arc<Tracker>,
    counts: Arc<Counts>,
) -> Outcome {
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..concurrency)
        .map(|w| {
            let worker = Worker {
                plan: plan.clone(),
                clients: connections[w % connections.len()].clone(),
                next: next.clone(),
                tracker: tracker.clone(),
                counts: counts.clone(),
            };
            tokio::spawn(worker.run())
        })
        .collect();
    let mut outcome = Outcome {
        errors: Errors::new(),
        answered: histogram(),
    };
    for worker in workers {
        let found = worker.await.expect("a load generator worker panicked");
        for (code, n) in found.errors {
            *outcome.errors.entry(code).or_default() += n;
        }
        outcome
            .answered
            .add(&found.answered)
            .expect("histograms of the same bounds");
    }
    outcome
}

struct Worker {
    plan: Arc<Plan>,
    clients: Clients,
    next: Arc<AtomicUsize>,
    tracker: Arc<Tracker>,
    counts: Arc<Counts>,
}

impl Worker {
    async fn run(mut self) -> Outcome {
        let start = tokio::time::Instant::from_std(self.tracker.start());
        let deadline = start + self.plan.deadline;
        let mut outcome = Outcome {
            errors: Errors::new(),
            answered: histogram(),
        };
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.plan.count {
                return outcome;
            }
            // A call already due goes at once, without a trip through the timer.
            if let Some(due) = self.plan.pace.due(i).map(|due| start + due)
                && due > tokio::time::Instant::now()
            {
                tokio::time::sleep_until(due).await;
            }
            if tokio::time::Instant::now() > deadline {
                return outcome;
            }
            let (call, slot) = self.plan.call(i);
            let sent = std::time::Instant::now();
            let result = self.send(call, slot).await;
            let micros = sent.elapsed().as_micros() as u64;
            outcome.answered.saturating_record(micros.max(1));
            if let Err(code) = result {
                *outcome.errors.entry(code as i32).or_default() += 1;
            }
        }
    }

    async fn send(&mut self, call: Call, slot: Option<usize>) -> Result<(), Code> {
        if let Some(slot) = slot {
            self.tracker.sent(slot);
        }
        self.counts.sent.fetch_add(1, Ordering::Relaxed);
        match self.clients.send(call).await {
            Ok(()) => {
                self.counts.acknowledged.fetch_add(1, Ordering::Relaxed);
                if slot.is_some() {
                    self.counts.tickets.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            }
            Err(status) => {
                self.counts.failed.fetch_add(1, Ordering::Relaxed);
                Err(status.code())
            }
        }
    }
}
