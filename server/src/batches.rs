//! The batch loop: one batch per configuration at its interval, on tokio's clock (tests
//! pause it), run off the async executor so RPCs never wait for matching; tickets that
//! arrive during a batch wait for the next. It also wakes for the engine's timers.

use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::shared::Shared;

/// Runs batches until `stopping` turns true; a batch running then finishes first.
pub async fn run(shared: Arc<Shared>, mut stopping: watch::Receiver<bool>) {
    loop {
        if *stopping.borrow() {
            return;
        }
        let due = shared.act_quietly(|engine, now| engine.due_batches(now));
        if !due.is_empty() {
            run_batches(&shared, due).await;
            continue;
        }
        let wake = shared.read(|engine| engine.next_wake());
        let sleep = async {
            match wake {
                Some(at) => tokio::time::sleep_until(shared.instant(at)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = sleep => shared.act_quietly(|engine, now| engine.advance(now)),
            () = shared.wake.notified() => {}
            _ = stopping.changed() => {}
        }
    }
}

/// The due configurations' batches, side by side on the blocking pool.
async fn run_batches(shared: &Arc<Shared>, due: Vec<String>) {
    let mut running = JoinSet::new();
    for name in due {
        let begun = std::time::Instant::now();
        let Some(job) = shared.act_quietly(|engine, now| engine.begin_batch(now, &name)) else {
            continue;
        };
        let began = begun.elapsed();
        running.spawn_blocking(move || {
            let ran = std::time::Instant::now();
            let done = job.run();
            (done, began, ran.elapsed(), begun)
        });
    }
    while let Some(done) = running.join_next().await {
        match done {
            Ok((done, began, ran, begun)) => {
                let finishing = std::time::Instant::now();
                let matches = done.matches();
                shared.act_quietly(|engine, now| engine.finish_batch(now, done));
                tracing::debug!(
                    matches,
                    begin_ms = began.as_secs_f64() * 1e3,
                    run_ms = ran.as_secs_f64() * 1e3,
                    finish_ms = finishing.elapsed().as_secs_f64() * 1e3,
                    total_ms = begun.elapsed().as_secs_f64() * 1e3,
                    "batch"
                );
            }
            // The pool went with the panicking batch: the configuration stops matching,
            // and says so, while the rest of the service serves on.
            Err(error) => tracing::error!(%error, "a batch failed"),
        }
    }
}
