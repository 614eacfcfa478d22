//! "Differences that matter": each variant after the first against the first, on the figures
//! a rule-set change is judged by, each marked better or worse when it moved past a threshold.

use rally_sim::Report;
use rally_sim::compare::{Difference, THRESHOLD, Verdict, differences};

use super::Variant;
use super::format::{escape, ms, percent, plain, usd};

/// How a compared figure is shown; the figures, their order and their verdicts are
/// `rally_sim::compare`'s, as in `report.json`.
struct Measure {
    name: &'static str,
    show: fn(f64) -> String,
    /// How a change is written: as the value is, but a change in a share is in points.
    show_change: fn(f64) -> String,
}

/// In `compare::METRICS`' order.
const MEASURES: [Measure; 6] = [
    Measure {
        name: "wait p50",
        show: |v| ms(Some(v)),
        show_change: |v| ms(Some(v)),
    },
    Measure {
        name: "wait p90",
        show: |v| ms(Some(v)),
        show_change: |v| ms(Some(v)),
    },
    Measure {
        name: "timed out (share of tickets)",
        show: percent,
        show_change: |v| format!("{:.1} pp", v * 100.0),
    },
    Measure {
        name: "team imbalance (mean)",
        show: |v| plain(Some(v)),
        show_change: |v| plain(Some(v)),
    },
    Measure {
        name: "average latency (mean)",
        show: |v| ms(Some(v)),
        show_change: |v| ms(Some(v)),
    },
    Measure {
        name: "hosting cost",
        show: usd,
        show_change: usd,
    },
];

fn class(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Better => "better",
        Verdict::Worse => "worse",
        Verdict::Same => "same",
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
        THRESHOLD * 100.0
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
    for (measure, difference) in MEASURES.iter().zip(differences(baseline, report)) {
        html.push_str(&row(measure, &difference));
    }
    html + "</tbody>\n</table>\n"
}

fn row(measure: &Measure, difference: &Difference) -> String {
    let shown = |v: Option<f64>| v.map_or("-".to_string(), measure.show);
    let (class, change) = match (difference.baseline, difference.value) {
        (Some(b), Some(a)) => (class(difference.verdict), change(measure, b, a)),
        _ => ("none", "-".to_string()),
    };
    format!(
        "<tr class=\"{class}\"><th>{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td>\
         <td class=\"num change\">{change}</td></tr>\n",
        measure.name,
        shown(difference.baseline),
        shown(difference.value)
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
