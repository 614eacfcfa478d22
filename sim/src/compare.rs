//! A/B: the differences that matter between variants run on the same trace and seed — the
//! waits, how many gave up on the queue, fairness, latency and cost — each against the first
//! variant, the baseline.

use serde::Serialize;

use crate::report::{Report, round};

/// One figure of one variant against the baseline's.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Difference {
    /// What is compared (`time_to_match_p50_ms`).
    pub metric: &'static str,
    pub baseline: Option<f64>,
    pub value: Option<f64>,
    /// `value - baseline`, when both exist.
    pub change: Option<f64>,
    /// The change relative to the baseline (0.1: 10 % more).
    pub relative_change: Option<f64>,
    /// `better` or `worse` beyond the threshold, else `same`; every figure here is better
    /// lower.
    pub verdict: Verdict,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Better,
    Worse,
    Same,
}

/// Changes within this share of the baseline (or the figure's floor, if more) are `same`.
pub const THRESHOLD: f64 = 0.05;

/// How a compared figure is read off a report.
type Figure = fn(&Report) -> Option<f64>;

/// The figures compared, each better lower, in this order; with each, the smallest change
/// that counts whatever the baseline (near 0, a share of the baseline would make noise news).
pub const METRICS: [(&str, Figure, f64); 6] = [
    (
        "time_to_match_p50_ms",
        |r| r.time_to_match_ms.overall.p50,
        50.0,
    ),
    (
        "time_to_match_p90_ms",
        |r| r.time_to_match_ms.overall.p90,
        50.0,
    ),
    ("timed_out_share", timed_out_share, 0.005),
    (
        "team_imbalance_mean",
        |r| r.quality.team_imbalance.mean,
        0.5,
    ),
    (
        "average_latency_mean_ms",
        |r| r.quality.average_latency_ms.mean,
        2.0,
    ),
    ("hosting_cost_usd", |r| Some(r.hosting_cost_usd), 0.01),
];

fn timed_out_share(report: &Report) -> Option<f64> {
    let t = &report.tickets;
    (t.submitted > 0).then(|| round(t.timed_out as f64 / t.submitted as f64))
}

/// `variant` against `baseline`, figure by figure.
pub fn differences(baseline: &Report, variant: &Report) -> Vec<Difference> {
    METRICS
        .iter()
        .map(|(metric, read, floor)| difference(metric, read(baseline), read(variant), *floor))
        .collect()
}

fn difference(
    metric: &'static str,
    baseline: Option<f64>,
    value: Option<f64>,
    floor: f64,
) -> Difference {
    let change = baseline.zip(value).map(|(b, v)| round(v - b));
    let relative_change = baseline
        .zip(change)
        .filter(|(b, _)| *b != 0.0)
        .map(|(b, c)| round(c / b));
    let verdict = match (baseline, change) {
        (Some(b), Some(c)) => {
            let threshold = (THRESHOLD * b.abs()).max(floor);
            if c > threshold {
                Verdict::Worse
            } else if c < -threshold {
                Verdict::Better
            } else {
                Verdict::Same
            }
        }
        _ => Verdict::Same,
    };
    Difference {
        metric,
        baseline,
        value,
        change,
        relative_change,
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_is_better_beyond_the_threshold() {
        let worse = difference("x", Some(100.0), Some(120.0), 1.0);
        assert_eq!(worse.change, Some(20.0));
        assert_eq!(worse.relative_change, Some(0.2));
        assert_eq!(worse.verdict, Verdict::Worse);
        let verdict = |b, v, floor| difference("x", Some(b), Some(v), floor).verdict;
        assert_eq!(verdict(100.0, 80.0, 1.0), Verdict::Better);
        assert_eq!(verdict(100.0, 104.0, 1.0), Verdict::Same);
        assert_eq!(verdict(0.0, 0.0, 1.0), Verdict::Same);
        // Near 0 the floor decides.
        assert_eq!(verdict(0.0, 0.004, 0.005), Verdict::Same);
        let from_zero = difference("x", Some(0.0), Some(0.006), 0.005);
        assert_eq!(
            (from_zero.verdict, from_zero.relative_change),
            (Verdict::Worse, None)
        );
        let missing = difference("x", None, Some(3.0), 1.0);
        assert_eq!((missing.change, missing.verdict), (None, Verdict::Same));
    }
}
