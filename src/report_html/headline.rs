//! The headline figures, a row of cards per variant: tickets and how they ended, time to
//! match, hosting cost.

use rally_sim::Report;

use super::Variant;
use super::format::{count, escape, ms, percent, usd};

pub(super) fn section(variants: &[Variant<'_>]) -> String {
    let mut html = "<section id=\"headline\">\n<h2>Headline</h2>\n".to_string();
    for (v, (label, report)) in variants.iter().enumerate() {
        html.push_str(&format!(
            "<h3 class=\"variant v{v}\">{}</h3>\n<div class=\"cards\">\n",
            escape(label)
        ));
        for (name, value, detail) in figures(report) {
            html.push_str(&format!(
                "<div class=\"card\"><div class=\"name\">{name}</div>\
                 <div class=\"value\">{value}</div><div class=\"detail\">{detail}</div></div>\n"
            ));
        }
        html.push_str("</div>\n");
    }
    html + "</section>\n"
}

/// Each card's name, value and the line under it.
fn figures(report: &Report) -> Vec<(&'static str, String, String)> {
    let t = &report.tickets;
    let waits = &report.time_to_match_ms.overall;
    let share = |n: u64| {
        if t.submitted == 0 {
            String::new()
        } else {
            percent(n as f64 / t.submitted as f64)
        }
    };
    vec![
        (
            "tickets",
            count(t.submitted),
            format!(
                "{} players, {:.0} s simulated",
                count(t.players),
                report.simulated_seconds
            ),
        ),
        ("matched", count(t.matched), share(t.matched)),
        ("timed out", count(t.timed_out), share(t.timed_out)),
        ("cancelled", count(t.cancelled), share(t.cancelled)),
        ("failed", count(t.failed), share(t.failed)),
        ("wait p50", ms(waits.p50), "time to match".to_string()),
        ("wait p90", ms(waits.p90), "time to match".to_string()),
        ("wait p99", ms(waits.p99), "time to match".to_string()),
        (
            "hosting cost",
            usd(report.hosting_cost_usd),
            format!("{} game sessions", count(sessions(report))),
        ),
    ]
}

fn sessions(report: &Report) -> u64 {
    report.fleets.iter().map(|f| f.game_sessions).sum()
}
