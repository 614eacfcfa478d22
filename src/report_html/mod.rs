//! `report.html`: a simulation's report as one self-contained page (inline CSS and SVG, no
//! script, nothing fetched), or several reports side by side for an A/B comparison.
//!
//! | module | what lives there |
//! | --- | --- |
//! | `mod.rs` | [`render`]: the page, its sections in order, and its style |
//! | `headline` | the headline figures |
//! | `differences` | "differences that matter": variants against the first |
//! | `charts` | the plotters charts, as SVG |
//! | `tables` | the tables, a group of columns per variant |
//! | `format` | how figures and names are written |
//! | `font` | the font chart text is measured with |

mod charts;
mod differences;
mod font;
mod format;
mod headline;
mod tables;
#[cfg(test)]
mod tests;

use rally_sim::Report;

use format::escape;

/// A report and the label it is shown under (its rule set's file name, say).
pub type Variant<'a> = (&'a str, &'a Report);

/// The page for `variants`; the first is the baseline the others are compared with. Same
/// reports in, same bytes out.
pub fn render(variants: &[Variant<'_>]) -> String {
    let labels: Vec<String> = variants.iter().map(|(label, _)| escape(label)).collect();
    let mut page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>rally simulate: {}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n\
         <h1>rally simulate</h1>\n<p class=\"labels\">{}</p>\n",
        labels.join(" vs "),
        legend(&labels)
    );
    page.push_str(&differences::section(variants));
    page.push_str(&headline::section(variants));
    page.push_str(&charts_section(variants));
    page.push_str(&tables_section(variants));
    page.push_str("</main>\n</body>\n</html>\n");
    page
}

/// The variants' labels, each beside its series colour.
fn legend(labels: &[String]) -> String {
    let swatches = labels.iter().enumerate().map(|(v, label)| {
        let plotters::style::RGBColor(r, g, b) = charts::colour(v);
        format!(
            "<span class=\"label\"><span class=\"swatch\" \
             style=\"background:rgb({r},{g},{b})\"></span>{label}</span>"
        )
    });
    swatches.collect::<Vec<_>>().join(" ")
}

/// The charts, two abreast where they are half the page's width.
fn charts_section(variants: &[Variant<'_>]) -> String {
    let figures = [
        (
            "half",
            charts::wait_cdf(variants),
            "The share of matched tickets matched within each wait.",
        ),
        (
            "half",
            charts::latency_cdf(variants),
            "Each match's average and worst player latency at the location it plays in.",
        ),
        (
            "half",
            charts::imbalance_cdf(variants),
            "The gap between the strongest and weakest team's average skill, in matches of \
             two teams or more.",
        ),
        (
            "half",
            charts::skill_spread_cdf(variants),
            "Highest less lowest skill among each match's players.",
        ),
        (
            "wide",
            charts::pool_over_time(variants),
            "Tickets waiting (QUEUED or SEARCHING) and matches proposed, sampled each \
             simulated second.",
        ),
        (
            "wide",
            charts::regions(variants),
            "Matches placed and what their game sessions cost, by fleet location.",
        ),
    ];
    let mut html = "<section id=\"charts\">\n<h2>Charts</h2>\n<div class=\"charts\">\n".to_string();
    for (width, svg, caption) in figures {
        html.push_str(&format!(
            "<figure class=\"{width}\">\n{svg}<figcaption>{caption}</figcaption>\n</figure>\n"
        ));
    }
    html + "</div>\n</section>\n"
}

fn tables_section(variants: &[Variant<'_>]) -> String {
    let mut html = "<section id=\"tables\">\n<h2>Tables</h2>\n".to_string();
    html.push_str(&tables::by_location(variants));
    html.push_str(&tables::by_party_size(variants));
    html.push_str(&tables::rules(variants));
    html.push_str(&tables::fleets(variants));
    html + "</section>\n"
}

const STYLE: &str = include_str!("style.css");
