//! The simulation's figures, as `report.json` holds them: tickets and how they ended, time to
//! match, match quality, placements, fleet use and cost, the pool over time, rule counts.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// Seconds of simulated time, from 0 to the last thing that happened.
    pub simulated_seconds: f64,
    pub tickets: TicketCounts,
    /// From StartMatchmaking to the PotentialMatchCreated of the match the ticket completed
    /// in, in milliseconds.
    pub time_to_match_ms: TimeToMatch,
    pub quality: Quality,
    pub placements: Placements,
    /// Each fleet location that hosted a game session.
    pub fleets: Vec<FleetUse>,
    pub hosting_cost_usd: f64,
    /// Tickets waiting (QUEUED or SEARCHING) and matches formed, sampled over time.
    pub pool: Vec<PoolSample>,
    /// Each rule's pass and fail counts over the matches proposed.
    pub rules: BTreeMap<String, RuleCounts>,
    /// The distributions behind the charts, as quantile curves.
    pub curves: Curves,
}

/// Quantile curves: each holds the values at quantiles 0, 0.01, …, 1 (101 of them), or
/// nothing when nothing was recorded. Read as a CDF: the value at `q` or less has `q` of the
/// records.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Curves {
    pub time_to_match_ms: Vec<f64>,
    pub average_latency_ms: Vec<f64>,
    pub worst_latency_ms: Vec<f64>,
    pub team_imbalance: Vec<f64>,
    pub skill_spread: Vec<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TicketCounts {
    pub submitted: u64,
    pub players: u64,
    /// COMPLETED.
    pub matched: u64,
    pub timed_out: u64,
    pub cancelled: u64,
    pub failed: u64,
    /// StopMatchmaking for tickets no longer live (players giving up after their match
    /// formed): a real client would not send them, so they are not refusals.
    pub stops_after_end: u64,
    /// Trace commands the engine refused, by error kind (`InvalidArgument`).
    pub refused: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimeToMatch {
    pub overall: Summary,
    /// By the ticket's home: the location where its worst player latency is lowest.
    pub by_location: BTreeMap<String, Summary>,
    /// By the number of players on the ticket.
    pub by_party_size: BTreeMap<usize, Summary>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Quality {
    /// The attribute skill is read from: the rule set's balanced attribute, else its first
    /// number attribute.
    pub attribute: Option<String>,
    /// Highest less lowest value in each match.
    pub skill_spread: Summary,
    /// Highest less lowest team average in each match of two teams or more.
    pub team_imbalance: Summary,
    /// Each match's average and worst player latency at the location it plays in (ms).
    pub average_latency_ms: Summary,
    pub worst_latency_ms: Summary,
    /// Tickets of two players or more matched, and those whose players all share a team.
    pub parties: u64,
    pub parties_kept_together: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Placements {
    pub by_location: BTreeMap<String, u64>,
    pub by_fleet: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FleetUse {
    pub fleet_id: String,
    pub location: String,
    pub game_sessions: u64,
    pub session_hours: f64,
    /// Game sessions the location can host at once.
    pub capacity: u64,
    /// Session hours over capacity × simulated hours.
    pub utilisation: f64,
    /// Session hours at the location's hourly cost per instance, shared by its sessions.
    pub cost_usd: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PoolSample {
    pub t: f64,
    pub waiting: u64,
    /// Matches proposed since the previous sample.
    pub matches: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RuleCounts {
    pub passed: u64,
    pub failed: u64,
}

/// A distribution's count, mean, percentiles and maximum.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub count: u64,
    pub mean: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
}

/// Values recorded to three significant digits (thousandths of a unit at least), summarised;
/// the mean is exact.
#[derive(Clone, Debug)]
pub(crate) struct Distribution {
    histogram: Histogram<u64>,
    sum: f64,
}

/// Values are kept in thousandths.
const SCALE: f64 = 1000.0;

impl Default for Distribution {
    fn default() -> Distribution {
        Distribution {
            // Up to 10^12 units (thousandths kept): far beyond any wait, spread or latency.
            histogram: Histogram::new_with_bounds(1, 1 << 50, 3).expect("valid bounds"),
            sum: 0.0,
        }
    }
}

impl Distribution {
    /// Records `value` (negative values count as 0).
    pub(crate) fn record(&mut self, value: f64) {
        let value = value.max(0.0);
        self.sum += value;
        self.histogram
            .saturating_record((value * SCALE).round() as u64);
    }

    /// The values at quantiles 0, 0.01, …, 1; empty when nothing was recorded.
    pub(crate) fn curve(&self) -> Vec<f64> {
        if self.histogram.is_empty() {
            return Vec::new();
        }
        (0..=100)
            .map(|q| {
                let at = self.histogram.value_at_quantile(f64::from(q) / 100.0);
                significant(self.histogram.median_equivalent(at) as f64 / SCALE)
            })
            .collect()
    }

    pub(crate) fn summary(&self) -> Summary {
        let count = self.histogram.len();
        let value = |v: u64| significant(self.histogram.median_equivalent(v) as f64 / SCALE);
        let at = |q: f64| (count > 0).then(|| value(self.histogram.value_at_quantile(q)));
        Summary {
            count,
            mean: (count > 0).then(|| round(self.sum / count as f64)),
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            max: (count > 0).then(|| value(self.histogram.max())),
        }
    }
}

/// To three significant digits (and the thousandth), as the histogram keeps values.
fn significant(value: f64) -> f64 {
    if value == 0.0 {
        return 0.0;
    }
    let unit = 10f64.powi(value.abs().log10().floor() as i32 - 2);
    round((value / unit).round() * unit)
}

/// To the thousandth: what the report shows, and the same on every platform.
pub(crate) fn round(value: f64) -> f64 {
    (value * SCALE).round() / SCALE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_distribution_summarises_what_it_was_given() {
        let mut d = Distribution::default();
        assert_eq!(d.summary().count, 0);
        assert_eq!(d.summary().p50, None);
        for v in [100.0, 200.0, 300.0, 400.0] {
            d.record(v);
        }
        d.record(-5.0);
        let s = d.summary();
        assert_eq!(s.count, 5);
        assert_eq!(s.mean, Some(200.0));
        assert_eq!(s.p50, Some(200.0));
        assert_eq!(s.max, Some(400.0));
        assert_eq!(s.p99, Some(400.0));
    }

    #[test]
    fn a_curve_rises_through_the_quantiles() {
        let mut d = Distribution::default();
        assert!(d.curve().is_empty());
        for v in 1..=100 {
            d.record(f64::from(v));
        }
        let curve = d.curve();
        assert_eq!(curve.len(), 101);
        assert_eq!(curve[0], 1.0);
        assert_eq!(curve[50], 50.0);
        assert_eq!(curve[100], 100.0);
        assert!(curve.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn values_keep_three_significant_digits() {
        let mut d = Distribution::default();
        d.record(1.25);
        d.record(12_345.0);
        let s = d.summary();
        assert_eq!(s.p50, Some(1.25));
        assert_eq!(s.max, Some(12_300.0));
        assert_eq!(s.mean, Some(6_173.125));
    }
}
