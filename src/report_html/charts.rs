//! The page's charts, drawn by plotters into SVG strings, one series per variant: the
//! wait-time CDF, the latency, team-imbalance and skill-spread distributions, the pool over
//! time, and placements and cost by region.

use std::collections::BTreeSet;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rally_sim::report::PoolSample;
use rally_sim::{Report, SAMPLE_INTERVAL};

use super::Variant;
use super::font;

/// A chart in half the page's width, and one across it.
const HALF: (u32, u32) = (600, 380);
const WIDE: u32 = 1200;

/// Series colours by variant, in order: the Okabe–Ito palette, told apart by colour-blind
/// readers too.
const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
];

const GRID: RGBColor = RGBColor(243, 243, 243);

/// More samples than this over time are averaged in buckets: a day at one sample a second
/// would otherwise put 86,400 points into the page.
const MAX_POINTS: usize = 600;

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Drawn = Result<(), Box<dyn std::error::Error>>;

pub(super) fn colour(variant: usize) -> RGBColor {
    PALETTE[variant % PALETTE.len()]
}

/// A quantile curve drawn as a CDF, under its legend label.
struct Curve<'a> {
    label: String,
    quantiles: &'a [f64],
    colour: RGBColor,
    dashed: bool,
}

/// A series' legend label: the variant's own, or what the series is when one variant has
/// several.
fn series_label(variants: &[Variant<'_>], label: &str, what: &str) -> String {
    match (variants.len(), what.is_empty()) {
        (_, true) => label.to_string(),
        (1, false) => what.to_string(),
        _ => format!("{label}: {what}"),
    }
}

/// Cut at the slowest variant's 99th percentile: a few tickets that waited until their
/// timeout would otherwise squash everyone else's waits against the axis.
pub(super) fn wait_cdf(variants: &[Variant<'_>]) -> String {
    let curves = solid_curves(variants, |r| &r.curves.time_to_match_ms);
    let p99s = curves.iter().filter_map(|c| c.quantiles.get(99).copied());
    let axis = Axis {
        desc: "wait (ms; the slowest 1% run off the right edge)",
        end: axis_end(p99s),
    };
    cdf("Time to match", axis, "share of matched tickets", &curves)
}

pub(super) fn imbalance_cdf(variants: &[Variant<'_>]) -> String {
    let curves = solid_curves(variants, |r| &r.curves.team_imbalance);
    let axis = Axis::whole("highest less lowest team average", &curves);
    cdf("Team imbalance", axis, "share of matches", &curves)
}

pub(super) fn skill_spread_cdf(variants: &[Variant<'_>]) -> String {
    let curves = solid_curves(variants, |r| &r.curves.skill_spread);
    let axis = Axis::whole("highest less lowest player skill", &curves);
    cdf("Skill spread", axis, "share of matches", &curves)
}

/// Average latency solid, worst dashed, in the variant's colour.
pub(super) fn latency_cdf(variants: &[Variant<'_>]) -> String {
    let mut curves = Vec::new();
    for (i, (label, report)) in variants.iter().enumerate() {
        let kinds = [
            ("average", &report.curves.average_latency_ms, false),
            ("worst", &report.curves.worst_latency_ms, true),
        ];
        for (what, quantiles, dashed) in kinds {
            curves.push(Curve {
                label: series_label(variants, label, &format!("{what} player")),
                quantiles,
                colour: colour(i),
                dashed,
            });
        }
    }
    let axis = Axis::whole("latency at the match's location (ms)", &curves);
    cdf(
        "Player latency in each match",
        axis,
        "share of matches",
        &curves,
    )
}

fn solid_curves<'a>(variants: &[Variant<'a>], curve: fn(&Report) -> &Vec<f64>) -> Vec<Curve<'a>> {
    variants
        .iter()
        .enumerate()
        .map(|(i, (label, report))| Curve {
            label: series_label(variants, label, ""),
            quantiles: curve(report),
            colour: colour(i),
            dashed: false,
        })
        .collect()
}

/// A CDF's value axis: its description, and where it ends.
struct Axis {
    desc: &'static str,
    end: f64,
}

impl Axis {
    /// An axis past every curve's highest value.
    fn whole(desc: &'static str, curves: &[Curve<'_>]) -> Axis {
        let highest = curves.iter().filter_map(|c| c.quantiles.last().copied());
        Axis {
            desc,
            end: axis_end(highest),
        }
    }
}

/// The curves as CDFs: x the value, y the share of records at that value or less.
fn cdf(title: &str, x: Axis, y_desc: &str, curves: &[Curve<'_>]) -> String {
    let (x_desc, x_max) = (x.desc, x.end);
    draw_svg(HALF, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (font::FAMILY, 20))
            .margin(14)
            .x_label_area_size(46)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..x_max, 0.0..1.0)?;
        chart
            .configure_mesh()
            .light_line_style(GRID)
            .x_desc(x_desc)
            .y_desc(y_desc)
            .x_label_formatter(&|v: &f64| axis_number(*v))
            .y_label_formatter(&|q: &f64| format!("{:.0}%", q * 100.0))
            .label_style((font::FAMILY, 13))
            .axis_desc_style((font::FAMILY, 14))
            .draw()?;
        let mut drawn = 0;
        for curve in curves.iter().filter(|c| !c.quantiles.is_empty()) {
            let points = cdf_points(curve.quantiles, x_max);
            let style = curve.colour.stroke_width(2);
            let label = curve.label.clone();
            if curve.dashed {
                let dashes = move |(x, y)| {
                    let dash = |from, to| PathElement::new(vec![(from, 0), (to, 0)], style);
                    EmptyElement::at((x, y)) + dash(0, 9) + dash(15, 24)
                };
                let series = DashedLineSeries::new(points, 7, 5, style);
                chart.draw_series(series)?.label(label).legend(dashes);
            } else {
                let series = LineSeries::new(points, style);
                chart
                    .draw_series(series)?
                    .label(label)
                    .legend(line_mark(style));
            }
            drawn += 1;
        }
        if drawn == 0 {
            chart.draw_series(std::iter::once(nothing_recorded((x_max / 2.0, 0.5))))?;
            return Ok(());
        }
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        Ok(())
    })
}

/// A quantile curve's points (value, quantile), up to where the axis ends: the segment that
/// crosses it stops at the edge.
fn cdf_points(quantiles: &[f64], x_end: f64) -> Vec<(f64, f64)> {
    let steps = (quantiles.len() - 1).max(1) as f64;
    let mut points = Vec::with_capacity(quantiles.len());
    for (i, &value) in quantiles.iter().enumerate() {
        let q = i as f64 / steps;
        if value <= x_end {
            points.push((value, q));
            continue;
        }
        if let Some(&(v0, q0)) = points.last() {
            let q_edge = q0 + (q - q0) * (x_end - v0) / (value - v0);
            points.push((x_end, q_edge));
        }
        break;
    }
    points
}

/// Tickets waiting (above) and matches formed per second (below), on one time axis.
pub(super) fn pool_over_time(variants: &[Variant<'_>]) -> String {
    let runs: Vec<Vec<Vec<Bucket>>> = variants.iter().map(|(_, r)| runs(&r.pool)).collect();
    let last_t = runs.iter().flatten().flatten().map(|b| b.t);
    let t_end = axis_end(last_t);
    let series = |value: fn(&Bucket) -> f64| -> Vec<TimeSeries> {
        (variants.iter().zip(&runs).enumerate())
            .map(|(i, ((label, _), runs))| TimeSeries {
                label: series_label(variants, label, ""),
                runs: (runs.iter())
                    .map(|run| run.iter().map(|b| (b.t, value(b))).collect())
                    .collect(),
                colour: colour(i),
            })
            .collect()
    };
    let (waiting, matches) = (series(|b| b.waiting), series(|b| b.matches_per_second));
    draw_svg((WIDE, 560), |root| {
        let (top, bottom) = root.split_vertically(280);
        over_time(&top, "Tickets waiting", "tickets", t_end, &waiting)?;
        over_time(&bottom, "Matches formed", "matches / s", t_end, &matches)
    })
}

/// Pool samples averaged: a point of the chart.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Bucket {
    t: f64,
    waiting: f64,
    matches_per_second: f64,
}

/// The samples in runs without a gap (the simulation samples only while something can
/// happen: a line across a gap would invent a pool), up to the last with a ticket waiting or
/// a match formed (game sessions can outlast the pool by an hour), each run averaged in
/// buckets of equal count, at most `MAX_POINTS` in all.
fn runs(pool: &[PoolSample]) -> Vec<Vec<Bucket>> {
    let busy = pool.iter().rposition(|s| s.waiting > 0 || s.matches > 0);
    let pool = &pool[..busy.map_or(0, |last| last + 1)];
    let size = pool.len().div_ceil(MAX_POINTS).max(1);
    let mut runs: Vec<Vec<(&PoolSample, f64)>> = Vec::new();
    let mut previous = None;
    for sample in pool {
        // The time the sample covers: since the one before.
        let since = previous.map_or(SAMPLE_INTERVAL, |t| sample.t - t);
        previous = Some(sample.t);
        match runs.last_mut() {
            Some(run) if since <= 1.5 * SAMPLE_INTERVAL => run.push((sample, since)),
            _ => runs.push(vec![(sample, since)]),
        }
    }
    (runs.iter())
        .map(|run| run.chunks(size).map(bucket).collect())
        .collect()
}

fn bucket(chunk: &[(&PoolSample, f64)]) -> Bucket {
    let n = chunk.len() as f64;
    let matches: f64 = chunk.iter().map(|(s, _)| s.matches as f64).sum();
    let seconds: f64 = chunk.iter().map(|(_, since)| since).sum();
    Bucket {
        t: chunk[chunk.len() - 1].0.t,
        waiting: chunk.iter().map(|(s, _)| s.waiting as f64).sum::<f64>() / n,
        matches_per_second: if seconds > 0.0 {
            matches / seconds
        } else {
            0.0
        },
    }
}

/// A variant's points over time, in runs drawn apart.
struct TimeSeries {
    label: String,
    runs: Vec<Vec<(f64, f64)>>,
    colour: RGBColor,
}

fn over_time(
    area: &Area<'_>,
    title: &str,
    y_desc: &str,
    t_end: f64,
    series: &[TimeSeries],
) -> Drawn {
    let points = || series.iter().flat_map(|s| s.runs.iter().flatten());
    let y_max = axis_end(points().map(|p| p.1));
    let mut chart = ChartBuilder::on(area)
        .caption(title, (font::FAMILY, 20))
        .margin(14)
        .x_label_area_size(42)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..t_end, 0.0..y_max)?;
    chart
        .configure_mesh()
        .light_line_style(GRID)
        .x_desc("simulated time (s)")
        .y_desc(y_desc)
        .x_label_formatter(&|v: &f64| axis_number(*v))
        .y_label_formatter(&|v: &f64| axis_number(*v))
        .label_style((font::FAMILY, 13))
        .axis_desc_style((font::FAMILY, 14))
        .draw()?;
    if points().next().is_none() {
        chart.draw_series(std::iter::once(nothing_recorded((
            t_end / 2.0,
            y_max / 2.0,
        ))))?;
        return Ok(());
    }
    for s in series {
        let style = s.colour.stroke_width(2);
        for (i, run) in s.runs.iter().enumerate() {
            // A run of one sample is a dot: a line needs two.
            let dot = (run.len() == 1).then(|| Circle::new(run[0], 2, style.filled()));
            chart.draw_series(dot)?;
            let line = chart.draw_series(LineSeries::new(run.iter().copied(), style))?;
            if i == 0 {
                line.label(s.label.clone()).legend(line_mark(style));
            }
        }
    }
    draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    Ok(())
}

/// Matches placed (left) and hosting cost (right) by fleet location, a bar per variant.
pub(super) fn regions(variants: &[Variant<'_>]) -> String {
    let locations: Vec<&str> = variants
        .iter()
        .flat_map(|(_, r)| {
            let placed = r.placements.by_location.keys().map(String::as_str);
            placed.chain(r.fleets.iter().map(|f| f.location.as_str()))
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let bars_of = |value: &dyn Fn(&Report, &str) -> f64| -> Vec<Bars> {
        (variants.iter().enumerate())
            .map(|(i, (label, report))| Bars {
                label: label.to_string(),
                values: locations.iter().map(|l| value(report, l)).collect(),
                colour: colour(i),
            })
            .collect()
    };
    let placed = bars_of(&|r, l| r.placements.by_location.get(l).copied().unwrap_or(0) as f64);
    let cost = bars_of(&|r, l| {
        let at = r.fleets.iter().filter(|f| f.location == l);
        at.map(|f| f.cost_usd).sum()
    });
    let rows = locations.len().max(1) as u32;
    let height = 130 + rows * (18 + 14 * variants.len() as u32);
    draw_svg((WIDE, height), |root| {
        let (left, right) = root.split_horizontally(WIDE / 2);
        let legend = variants.len() > 1;
        bars(
            &left,
            "Matches placed",
            "matches",
            &locations,
            &placed,
            legend,
        )?;
        bars(&right, "Hosting cost", "USD", &locations, &cost, legend)
    })
}

/// One variant's bars, a value per category.
struct Bars {
    label: String,
    values: Vec<f64>,
    colour: RGBColor,
}

/// Horizontal bars, grouped by category (the first at the top), so that long names never
/// overlap.
fn bars(
    area: &Area<'_>,
    title: &str,
    x_desc: &str,
    categories: &[&str],
    variants: &[Bars],
    legend: bool,
) -> Drawn {
    let n = categories.len();
    let x_max = axis_end(variants.iter().flat_map(|b| b.values.iter().copied()));
    let y_range = Rows(n);
    let widest = categories
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(0);
    let mut chart = ChartBuilder::on(area)
        .caption(title, (font::FAMILY, 20))
        .margin(14)
        .x_label_area_size(42)
        .y_label_area_size(16 + 8 * widest as u32)
        .build_cartesian_2d(0.0..x_max, y_range)?;
    let name = |y: &f64| {
        let row = y.round() as usize;
        if row < n {
            categories[n - 1 - row].to_string()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(GRID)
        .x_desc(x_desc)
        .x_label_formatter(&|v: &f64| axis_number(*v))
        .y_label_formatter(&name)
        .label_style((font::FAMILY, 13))
        .axis_desc_style((font::FAMILY, 14))
        .draw()?;
    if n == 0 {
        let note = nothing_recorded((x_max / 2.0, 0.0));
        chart.draw_series(std::iter::once(note))?;
        return Ok(());
    }
    let band = 0.8 / variants.len() as f64;
    for (v, bars) in variants.iter().enumerate() {
        let style = bars.colour.filled();
        let rects = bars.values.iter().enumerate().map(move |(i, &value)| {
            let top = (n - 1 - i) as f64 + 0.4 - v as f64 * band;
            Rectangle::new([(0.0, top), (value, top - band)], style)
        });
        chart
            .draw_series(rects)?
            .label(bars.label.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], style));
    }
    if legend {
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    }
    Ok(())
}

/// A bar chart's category axis: category `i` of `n` centred on y = n - 1 - i, the first at the
/// top, a label on each and no tick between.
#[derive(Clone, Copy, Debug)]
struct Rows(usize);

impl Ranged for Rows {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let range = self.range();
        let share = (value - range.start) / (range.end - range.start);
        limit.0 + (f64::from(limit.1 - limit.0) * share).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        (0..self.0).map(|i| i as f64).collect()
    }

    fn range(&self) -> std::ops::Range<f64> {
        -0.5..(self.0.max(1) as f64 - 0.5)
    }
}

/// A chart's notice that there is nothing to draw, centred at `at`.
fn nothing_recorded<C>(at: C) -> Text<'static, C, &'static str> {
    let style = TextStyle::from((font::FAMILY, 16).into_font())
        .color(&RGBColor(110, 110, 110))
        .pos(Pos::new(HPos::Center, VPos::Center));
    Text::new("nothing recorded", at, style)
}

/// Where an axis from 0 ends: a little past the highest value, and 1 when there is none (a
/// range of zero width would put every point at NaN).
fn axis_end(values: impl Iterator<Item = f64>) -> f64 {
    let highest = values.filter(|v| v.is_finite()).fold(0.0, f64::max);
    if highest > 0.0 { highest * 1.05 } else { 1.0 }
}

/// A tick label: whole numbers with thousands as `k`, fractions to two places.
fn axis_number(v: f64) -> String {
    if v.abs() >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v.fract().abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Runs `draw` on an SVG canvas of `size` and returns the SVG.
/// The chart's legend, boxed, in its corner at `position`.
fn draw_legend<'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
    position: SeriesLabelPosition,
) -> Drawn {
    chart
        .configure_series_labels()
        .position(position)
        .label_font((font::FAMILY, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    Ok(())
}

/// A solid line series' mark in the legend.
fn line_mark(style: ShapeStyle) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style)
}

fn draw_svg(size: (u32, u32), draw: impl FnOnce(&Area<'_>) -> Drawn) -> String {
    font::register();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        let drawn = (root.fill(&WHITE).map_err(Into::into))
            .and_then(|()| draw(&root))
            .and_then(|()| root.present().map_err(Into::into));
        // Drawing into a String with the font built in fails only on a bug here.
        if let Err(error) = drawn {
            panic!("a chart could not be drawn: {error}");
        }
    }
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cdf_cut_short_stops_at_the_edge() {
        let quantiles = [0.0, 10.0, 20.0, 100.0, 1000.0];
        let points = cdf_points(&quantiles, 60.0);
        assert_eq!(
            points,
            vec![(0.0, 0.0), (10.0, 0.25), (20.0, 0.5), (60.0, 0.625)]
        );
        assert_eq!(cdf_points(&quantiles, 1000.0).len(), 5);
    }

    #[test]
    fn an_axis_ends_past_the_highest_value_or_at_one() {
        assert_eq!(axis_end([2.0, 10.0].into_iter()), 10.5);
        assert_eq!(axis_end(std::iter::empty()), 1.0);
        assert_eq!(axis_end([0.0, f64::NAN].into_iter()), 1.0);
    }

    #[test]
    fn pool_samples_are_averaged_past_the_point_budget() {
        let pool: Vec<PoolSample> = (0..1200u32)
            .map(|t| PoolSample {
                t: f64::from(t),
                waiting: u64::from(t % 2) * 10,
                matches: 4,
            })
            .collect();
        let runs = runs(&pool);
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].len(), MAX_POINTS);
        assert_eq!(runs[0][0].t, 1.0);
        assert_eq!(runs[0][0].waiting, 5.0);
        assert_eq!(runs[0][0].matches_per_second, 4.0);
        assert_eq!(super::runs(&pool[..10])[0].len(), 10);
    }

    #[test]
    fn a_gap_in_the_samples_splits_the_line_and_the_idle_end_is_left_off() {
        let sample = |t: f64, waiting: u64, matches: u64| PoolSample {
            t,
            waiting,
            matches,
        };
        let pool = [
            sample(0.0, 4, 0),
            sample(1.0, 4, 2),
            sample(2.0, 2, 2),
            // Nothing sampled for 8 s: the 8 matches were formed over them.
            sample(10.0, 1, 8),
            sample(11.0, 0, 1),
            sample(12.0, 0, 0),
            sample(13.0, 0, 0),
        ];
        let runs = runs(&pool);
        let shape: Vec<Vec<f64>> = runs
            .iter()
            .map(|r| r.iter().map(|b| b.t).collect())
            .collect();
        assert_eq!(shape, vec![vec![0.0, 1.0, 2.0], vec![10.0, 11.0]]);
        assert_eq!(runs[1][0].matches_per_second, 1.0);
        assert!(super::runs(&[sample(0.0, 0, 0)]).is_empty());
    }
}
