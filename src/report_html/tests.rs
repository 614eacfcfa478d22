//! The page as a whole: its charts, figures, labels and differences, its bytes run to run,
//! and an empty report.

use rally_sim::report::{FleetUse, PoolSample, RuleCounts, Summary};
use rally_sim::{Behaviour, Report, Simulation};

use super::render;

/// The charts the page draws: wait, latency, imbalance, spread, pool, regions.
const CHARTS: usize = 6;

/// What a simulation with no trace reports: every count 0, every list empty.
fn empty() -> Report {
    let rules = include_str!("../../fixtures/rulesets/ranked_duel.rules");
    let sim = Simulation::standalone(rules, Behaviour::default(), 0).unwrap();
    sim.finish().unwrap()
}

fn summary(count: u64, p50: f64, p90: f64, p99: f64) -> Summary {
    Summary {
        count,
        mean: Some((p50 + p90) / 2.0),
        p50: Some(p50),
        p90: Some(p90),
        p99: Some(p99),
        max: Some(p99 * 1.5),
    }
}

/// A curve rising evenly from 0 to `top`.
fn curve(top: f64) -> Vec<f64> {
    (0..=100).map(|q| top * f64::from(q) / 100.0).collect()
}

/// A placed run: 1,234 tickets, waits of 812 ms at the median, two locations.
fn sample() -> Report {
    let mut r = empty();
    r.simulated_seconds = 120.0;
    r.tickets.submitted = 1234;
    r.tickets.players = 2468;
    r.tickets.matched = 1200;
    r.tickets.timed_out = 30;
    r.tickets.cancelled = 3;
    r.tickets.failed = 1;
    r.time_to_match_ms.overall = summary(1200, 812.0, 2450.0, 9120.0);
    let by_location = &mut r.time_to_match_ms.by_location;
    by_location.insert("eu-west-1".into(), summary(500, 700.0, 2000.0, 8000.0));
    by_location.insert("us-east-1".into(), summary(700, 900.0, 2600.0, 9500.0));
    r.time_to_match_ms
        .by_party_size
        .insert(1, summary(1100, 800.0, 2400.0, 9000.0));
    r.time_to_match_ms
        .by_party_size
        .insert(10, summary(100, 1500.0, 3000.0, 9900.0));
    r.quality.team_imbalance = summary(600, 12.0, 40.0, 80.0);
    r.quality.average_latency_ms = summary(600, 45.0, 80.0, 120.0);
    r.placements.by_location.insert("eu-west-1".into(), 250);
    r.placements.by_location.insert("us-east-1".into(), 350);
    r.fleets = ["eu-west-1", "us-east-1"]
        .into_iter()
        .map(|location| FleetUse {
            fleet_id: "fleet-main".into(),
            location: location.into(),
            game_sessions: 300,
            session_hours: 150.0,
            capacity: 400,
            utilisation: 0.31,
            cost_usd: 21.5,
        })
        .collect();
    r.hosting_cost_usd = 43.0;
    r.pool = (0..120u32)
        .map(|t| PoolSample {
            t: f64::from(t),
            waiting: u64::from(t % 17) * 10,
            matches: u64::from(t % 5),
        })
        .collect();
    let counts = RuleCounts {
        passed: 590,
        failed: 10,
    };
    r.rules.insert("FairTeamSkill".into(), counts);
    r.curves.time_to_match_ms = curve(9120.0);
    r.curves.average_latency_ms = curve(120.0);
    r.curves.worst_latency_ms = curve(200.0);
    r.curves.team_imbalance = curve(80.0);
    r.curves.skill_spread = curve(300.0);
    r
}

#[test]
fn one_report_gives_a_page_of_charts_figures_and_tables() {
    let report = sample();
    let page = render(&[("team_5v5.rules", &report)]);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert_eq!(page.matches("<svg").count(), CHARTS, "one <svg> per chart");
    for figure in ["1,234", "1,200", "812 ms", "2450 ms", "9120 ms", "$43.00"] {
        assert!(page.contains(figure), "the headline shows {figure}");
    }
    assert!(page.contains("team_5v5.rules"));
    // The tables: rows by location, by party size (10 after 1), the rule, the fleet.
    assert!(page.contains("<th>eu-west-1</th>"));
    let (one, ten) = (
        page.find("<th>1</th>").unwrap(),
        page.find("<th>10</th>").unwrap(),
    );
    assert!(one < ten, "party sizes in numeric order");
    assert!(page.contains("<th>FairTeamSkill</th>"));
    assert!(page.contains("fleet-main (us-east-1)"));
    assert!(
        !page.contains("Differences that matter"),
        "nothing to compare"
    );
}

#[test]
fn two_reports_compare_the_second_against_the_first() {
    let baseline = sample();
    let mut slower = sample();
    slower.time_to_match_ms.overall = summary(1200, 1600.0, 2460.0, 9500.0);
    slower.hosting_cost_usd = 30.0;
    let page = render(&[("baseline.rules", &baseline), ("wider.rules", &slower)]);
    assert_eq!(
        page.matches("<svg").count(),
        CHARTS,
        "the same charts, both series"
    );
    assert!(page.contains("Differences that matter"));
    let differences =
        &page[page.find("id=\"differences\"").unwrap()..page.find("id=\"headline\"").unwrap()];
    assert!(differences.contains("wider.rules against baseline.rules"));
    // p50 doubled: worse; p90 moved 0.4%: the same; cost fell 30%: better.
    assert!(
        differences.contains("<tr class=\"worse\"><th>wait p50</th>"),
        "{differences}"
    );
    assert!(
        differences.contains("<tr class=\"same\"><th>wait p90</th>"),
        "{differences}"
    );
    assert!(
        differences.contains("<tr class=\"better\"><th>hosting cost</th>"),
        "{differences}"
    );
    assert!(differences.contains("+788 ms (+97.0%)"), "{differences}");
    // Each chart has a series per variant, named in its legend.
    let wait_chart = &page[page.find("<svg").unwrap()..page.find("</svg>").unwrap()];
    assert!(wait_chart.contains("baseline.rules") && wait_chart.contains("wider.rules"));
    // The tables have a column group per variant.
    assert!(page.contains("<th colspan=\"4\" class=\"variant v1\">wider.rules</th>"));
}

#[test]
fn the_same_reports_give_the_same_bytes() {
    let (a, b) = (sample(), empty());
    let first = render(&[("a", &a), ("b", &b)]);
    let second = render(&[("a", &a.clone()), ("b", &b.clone())]);
    assert_eq!(first, second);
}

#[test]
fn an_empty_report_still_renders() {
    let report = empty();
    assert_eq!(report.tickets.submitted, 0);
    let page = render(&[("empty.rules", &report)]);
    assert_eq!(page.matches("<svg").count(), CHARTS);
    assert!(page.contains("nothing recorded"));
    assert!(page.contains("Nothing recorded."), "empty tables say so");
}

#[test]
fn labels_are_escaped() {
    let report = empty();
    let page = render(&[("<b>&", &report), ("x\"y", &report)]);
    assert!(!page.contains("<b>&"));
    assert!(page.contains("&lt;b&gt;&amp;"));
}
