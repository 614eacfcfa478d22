//! The progress bar: on standard error when it is a terminal, hidden otherwise.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::watch;

use super::drive::Counts;

/// Shows `counts` against `planned` calls (`None`: an unpaced run, no end known) until
/// `stop` turns true.
pub async fn show(planned: Option<u64>, counts: Arc<Counts>, mut stop: watch::Receiver<bool>) {
    if !std::io::stderr().is_terminal() {
        return;
    }
    let bar = ProgressBar::with_draw_target(planned, ProgressDrawTarget::stderr());
    let template = match planned {
        Some(_) => "{elapsed_precise} [{wide_bar}] {pos}/{len} sent, {per_sec} {msg}",
        None => "{elapsed_precise} {pos} sent, {per_sec} {msg}",
    };
    bar.set_style(ProgressStyle::with_template(template).expect("a valid progress template"));
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        bar.set_position(counts.sent.load(Ordering::Relaxed));
        bar.set_message(format!(
            "({} acknowledged, {} refused)",
            counts.acknowledged.load(Ordering::Relaxed),
            counts.failed.load(Ordering::Relaxed)
        ));
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|stop| *stop) => break,
        }
    }
    bar.finish_and_clear();
}
