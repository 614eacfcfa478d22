//! The page's tables, a group of columns per variant: time to match by location and by party
//! size, rule pass and fail counts, fleet use.

use std::collections::BTreeSet;

use rally_sim::Report;
use rally_sim::report::{FleetUse, Summary};

use super::Variant;
use super::format::{count, escape, ms, percent, usd};

/// A table's rows by name, each with its cells per variant (`None` where the variant has no
/// such row).
struct Grouped {
    caption: &'static str,
    row_header: &'static str,
    columns: &'static [&'static str],
    rows: Vec<(String, Vec<Option<Vec<String>>>)>,
}

const SUMMARY_COLUMNS: &[&str] = &["matched", "p50", "p90", "p99"];

pub(super) fn by_location(variants: &[Variant<'_>]) -> String {
    let rows = rows(variants, |r| {
        let by = &r.time_to_match_ms.by_location;
        by.iter().map(|(k, s)| (k.clone(), summary(s))).collect()
    });
    render(
        &labels(variants),
        &Grouped {
            caption: "Time to match by home location",
            row_header: "location",
            columns: SUMMARY_COLUMNS,
            rows,
        },
    )
}

pub(super) fn by_party_size(variants: &[Variant<'_>]) -> String {
    let rows = rows(variants, |r| {
        let by = &r.time_to_match_ms.by_party_size;
        by.iter().map(|(k, s)| (*k, summary(s))).collect()
    });
    render(
        &labels(variants),
        &Grouped {
            caption: "Time to match by party size",
            row_header: "players",
            columns: SUMMARY_COLUMNS,
            rows,
        },
    )
}

pub(super) fn rules(variants: &[Variant<'_>]) -> String {
    let rows = rows(variants, |r| {
        let counts = r.rules.iter();
        counts
            .map(|(name, c)| (name.clone(), vec![count(c.passed), count(c.failed)]))
            .collect()
    });
    render(
        &labels(variants),
        &Grouped {
            caption: "Rules over the matches proposed",
            row_header: "rule",
            columns: &["passed", "failed"],
            rows,
        },
    )
}

pub(super) fn fleets(variants: &[Variant<'_>]) -> String {
    let rows = rows(variants, |r| {
        let fleets = r.fleets.iter();
        fleets
            .map(|f| (format!("{} ({})", f.fleet_id, f.location), fleet_use(f)))
            .collect()
    });
    render(
        &labels(variants),
        &Grouped {
            caption: "Fleet use",
            row_header: "fleet (location)",
            columns: &["game sessions", "session hours", "utilisation", "cost"],
            rows,
        },
    )
}

fn summary(s: &Summary) -> Vec<String> {
    vec![count(s.count), ms(s.p50), ms(s.p90), ms(s.p99)]
}

fn fleet_use(f: &FleetUse) -> Vec<String> {
    vec![
        count(f.game_sessions),
        format!("{:.1}", f.session_hours),
        percent(f.utilisation),
        usd(f.cost_usd),
    ]
}

/// Every row any variant has, in key order (party sizes as numbers), with each variant's
/// cells.
fn rows<K: Ord + ToString>(
    variants: &[Variant<'_>],
    cells: impl Fn(&Report) -> Vec<(K, Vec<String>)>,
) -> Vec<(String, Vec<Option<Vec<String>>>)> {
    let per_variant: Vec<Vec<(K, Vec<String>)>> = variants.iter().map(|(_, r)| cells(r)).collect();
    let keys: BTreeSet<&K> = per_variant.iter().flatten().map(|(k, _)| k).collect();
    keys.into_iter()
        .map(|key| {
            let find = |rows: &Vec<(K, Vec<String>)>| {
                rows.iter().find(|(k, _)| k == key).map(|(_, c)| c.clone())
            };
            (key.to_string(), per_variant.iter().map(find).collect())
        })
        .collect()
}

fn labels<'a>(variants: &[Variant<'a>]) -> Vec<&'a str> {
    variants.iter().map(|(label, _)| *label).collect()
}

/// The table, with a header row of variant labels over their columns when there are
/// several; a line saying there is nothing when there are no rows.
fn render(labels: &[&str], table: &Grouped) -> String {
    let mut html = format!("<h3>{}</h3>\n", table.caption);
    if table.rows.is_empty() {
        html.push_str("<p class=\"empty\">Nothing recorded.</p>\n");
        return html;
    }
    let variants = labels.len();
    html.push_str("<table>\n<thead>\n");
    if variants > 1 {
        html.push_str(&variant_header(table.columns.len(), labels));
    }
    html.push_str(&format!("<tr><th>{}</th>", table.row_header));
    for _ in 0..variants {
        for column in table.columns {
            html.push_str(&format!("<th class=\"num\">{column}</th>"));
        }
    }
    html.push_str("</tr>\n</thead>\n<tbody>\n");
    for (name, cells) in &table.rows {
        html.push_str(&format!("<tr><th>{}</th>", escape(name)));
        for variant in cells {
            for i in 0..table.columns.len() {
                let cell = variant.as_ref().map_or("-", |c| c[i].as_str());
                html.push_str(&format!("<td class=\"num\">{cell}</td>"));
            }
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody>\n</table>\n");
    html
}

/// The row naming each variant over its group of columns.
fn variant_header(columns: usize, labels: &[&str]) -> String {
    let mut row = "<tr><th></th>".to_string();
    for (v, label) in labels.iter().enumerate() {
        let label = escape(label);
        row.push_str(&format!(
            "<th colspan=\"{columns}\" class=\"variant v{v}\">{label}</th>"
        ));
    }
    row + "</tr>\n"
}
