//! "Differences that matter": each variant after the first against the first, on the figures
//! a rule-set change is judged by, each marked better or worse when it moved past a threshold.

use rally_sim::Report;

use super::Variant;
use super::format::{escape, ms, percent, plain, usd};

/// A figure compared across variants; on every one of them, lower is better.
struct Measure {
    name: &'static str,
    value: fn(&Report) -> Option<f64>,
    show: fn(f64) -> String,
    /// How a change is written: as the value is, but a change in a share is in points.
    show_change: fn(f64) -> String,
    /// The smallest change that counts, whatever the baseline: without it a baseline near 0
    /// would make noise look like news.
    floor: f64,
}

/// A change counts past this share of the baseline (and the measure's floor).
const RELATIVE: f64 = 0.05;

const MEASURES: [Measure; 6] = [
    Measure {
        name: "wait p50",
        value: |r| r.time_to_match_ms.overall.p50,
        show: |v| ms(Some(v)),
        show_change: |v| ms(Some(v)),
        floor: 50.0,
    },
    Measure {
        name: "wait p90",
        value: |r| r.time_to_match_ms.overall.p90,
        show: |v| ms(Some(v)),
        show_change: |v| ms(Some(v)),
        floor: 50.0,
    },
    Measure {
        name: "timed out (share of tickets)",
        value: timed_out_share,
        show: percent,
        show_change: |v| format!("{:.1} pp", v * 100.0),
        floor: 0.005,
    },
    Measure {
        name: "team imbalance (mean)",
        value: |r| r.quality.team_imbalance.mean,
        show: |v| plain(Some(v)),
        show_change: |v| plain(Some(v)),
        floor: 0.5,
    },
    Measure {
        name: "average latency (mean)",
        value: |r| r.quality.average_latency_ms.mean,
        show: |v| ms(Some(v)),
        show_change: |v| ms(Some(v)),
        floor: 2.0,
    },
    Measure {
        name: "hosting cost",
        value: |r| Some(r.hosting_cost_usd),
        show: usd,
        show_change: usd,
        floor: 0.01,
    },
];

fn timed_out_share(report: &Report) -> Option<f64> {
    let t = &report.tickets;
    (t.submitted > 0).then(|| t.timed_out as f64 / t.submitted as f64)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Better,
    Worse,
    Same,
}

impl Verdict {
    fn of(baseline: f64, variant: f64, floor: f64) -> Verdict {
        let threshold = (baseline.abs() * RELATIVE).max(floor);
        let change = variant - baseline;
        if change > threshold {
            Verdict::Worse
        } else if change < -threshold {
            Verdict::Better
        } else {
            Verdict::Same
        }
    }

    fn class(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::Same => "same",
        }
    }
}

/// The section: a table per variant after the first; nothing with fewer than two.
pub(super) fn section(variants: &[Variant<'_>]) -> String {
    let Some(((base_label, baseline), others)) = variants.split_first() else {
        return String::new();
    };
    if others.is_empty() {
        return String::new();
    }
    let mut html = "<section id=\"differences\">\n<h2>Differences that matter</h2>\n".to_string();
    html.push_str(&format!(
        "<p>Against <strong>{}</strong>. Lower is better on each; a change past {:.0}% of \
         the baseline is marked <span class=\"worse\">worse</span> or \
         <span class=\"better\">better</span>.</p>\n",
        escape(base_label),
        RELATIVE * 100.0
    ));
    for (label, report) in others {
        html.push_str(&table(base_label, baseline, label, report));
    }
    html + "</section>\n"
}

fn table(base_label: &str, baseline: &Report, label: &str, report: &Report) -> String {
    let mut html = format!(
        "<table class=\"differences\">\n<caption>{} against {}</caption>\n<thead><tr><th></th>\
         <th class=\"num\">{}</th><th class=\"num\">{}</th><th class=\"num\">change</th>\
         </tr></thead>\n<tbody>\n",
        escape(label),
        escape(base_label),
        escape(base_label),
        escape(label)
    );
    for measure in &MEASURES {
        html.push_str(&row(measure, baseline, report));
    }
    html + "</tbody>\n</table>\n"
}

fn row(measure: &Measure, baseline: &Report, report: &Report) -> String {
    let (before, after) = ((measure.value)(baseline), (measure.value)(report));
    let shown = |v: Option<f64>| v.map_or("-".to_string(), measure.show);
    let (class, change) = match (before, after) {
        (Some(b), Some(a)) => (
            Verdict::of(b, a, measure.floor).class(),
            change(measure, b, a),
        ),
        _ => ("none", "-".to_string()),
    };
    format!(
        "<tr class=\"{class}\"><th>{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td>\
         <td class=\"num change\">{change}</td></tr>\n",
        measure.name,
        shown(before),
        shown(after)
    )
}

/// `+12 ms (+8.0%)`: the change in the measure's unit, then relative to the baseline.
fn change(measure: &Measure, before: f64, after: f64) -> String {
    let delta = after - before;
    let sign = if delta < 0.0 { "−" } else { "+" };
    let absolute = format!("{sign}{}", (measure.show_change)(delta.abs()));
    if before == 0.0 {
        return absolute;
    }
    format!("{absolute} ({sign}{:.1}%)", (delta / before).abs() * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_counts_past_five_percent_or_the_floor() {
        assert_eq!(Verdict::of(1000.0, 1040.0, 1.0), Verdict::Same);
        assert_eq!(Verdict::of(1000.0, 1060.0, 1.0), Verdict::Worse);
        assert_eq!(Verdict::of(1000.0, 940.0, 1.0), Verdict::Better);
        // Near zero the floor decides.
        assert_eq!(Verdict::of(0.0, 0.004, 0.005), Verdict::Same);
        assert_eq!(Verdict::of(0.0, 0.006, 0.005), Verdict::Worse);
    }

    #[test]
    fn a_change_is_shown_in_the_unit_and_relative() {
        let wait = &MEASURES[0];
        assert_eq!(change(wait, 1000.0, 1100.0), "+100 ms (+10.0%)");
        assert_eq!(change(wait, 1000.0, 750.0), "−250 ms (−25.0%)");
        let cost = &MEASURES[5];
        assert_eq!(change(cost, 0.0, 2.5), "+$2.50");
        let timed_out = &MEASURES[2];
        assert_eq!(change(timed_out, 0.02, 0.03), "+1.0 pp (+50.0%)");
    }
}
