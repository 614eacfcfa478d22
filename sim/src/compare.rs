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

/// Changes smaller than this share of the baseline are `same`.
pub const THRESHOLD: f64 = 0.05;

/// How a compared figure is read off a report.
type Figure = fn(&Report) -> Option<f64>;

/// The figures compared, each better lower.
const METRICS: [(&str, Figure); 6] = [
    ("time_to_match_p50_ms", |r| r.time_to_match_ms.overall.p50),
    ("time_to_match_p90_ms", |r| r.time_to_match_ms.overall.p90),
    ("timed_out_share", timed_out_share),
    ("team_imbalance_mean", |r| r.quality.team_imbalance.mean),
    ("average_latency_mean_ms", |r| {
        r.quality.average_latency_ms.mean
    }),
    ("hosting_cost_usd", |r| Some(r.hosting_cost_usd)),
];

fn timed_out_share(report: &Report) -> Option<f64> {
    let t = &report.tickets;
    (t.submitted > 0).then(|| round(t.timed_out as f64 / t.submitted as f64))
}

/// `variant` against `baseline`, figure by figure.
pub fn differences(baseline: &Report, variant: &Report) -> Vec<Difference> {
    METRICS
        .iter()
        .map(|(metric, read)| difference(metric, read(baseline), read(variant)))
        .collect()
}

fn difference(metric: &'static str, baseline: Option<f64>, value: Option<f64>) -> Difference {
    let change = baseline.zip(value).map(|(b, v)| round(v - b));
    let relative_change = baseline
        .zip(change)
        .filter(|(b, _)| *b != 0.0)
        .map(|(b, c)| round(c / b));
    let verdict = match (baseline, change) {
        (Some(b), Some(c)) if c.abs() > THRESHOLD * b.abs() && c != 0.0 => {
            if c < 0.0 {
                Verdict::Better
            } else {
                Verdict::Worse
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
        let worse = difference("x", Some(100.0), Some(120.0));
        assert_eq!(worse.change, Some(20.0));
        assert_eq!(worse.relative_change, Some(0.2));
        assert_eq!(worse.verdict, Verdict::Worse);
        assert_eq!(
            difference("x", Some(100.0), Some(80.0)).verdict,
            Verdict::Better
        );
        assert_eq!(
            difference("x", Some(100.0), Some(104.0)).verdict,
            Verdict::Same
        );
        assert_eq!(difference("x", Some(0.0), Some(0.0)).verdict, Verdict::Same);
        // From nothing to something is worse, whatever the share.
        let from_zero = difference("x", Some(0.0), Some(3.0));
        assert_eq!(
            (from_zero.verdict, from_zero.relative_change),
            (Verdict::Worse, None)
        );
        let missing = difference("x", None, Some(3.0));
        assert_eq!((missing.change, missing.verdict), (None, Verdict::Same));
    }
}
