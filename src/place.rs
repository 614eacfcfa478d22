//! `rally place`: replays placement requests through a queue in virtual time and prints where
//! each game session went, or why none did, with each placement's start and end, and a
//! summary per location.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use anyhow::Context as _;
use rally_placement::json::{game_session_arn, parse_fleets, parse_queue, parse_request_lines};
use rally_placement::{PlacementError, Placer};
use serde::Serialize;

use crate::input::OutputFormat;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Fleets: a JSON list of `{FleetId, FleetType, InstanceType, Locations}`.
    #[arg(long, value_name = "FILE")]
    fleets: String,
    /// A `CreateGameSessionQueue` JSON body; repeat for several queues.
    #[arg(long, value_name = "FILE", required = true)]
    queue: Vec<String>,
    /// `StartGameSessionPlacement` bodies, one per line, with an optional `StartTime` (s).
    #[arg(long, value_name = "FILE")]
    requests: String,
    /// Seeds weighted spreading (queues that opt into it).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
}

/// One placement's final state, in GameLift's field names (times in seconds of the trace, to
/// the millisecond), and rally's reason for one that ended without a game session.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PlacementOut {
    placement_id: String,
    status: &'static str,
    start_time: f64,
    end_time: Option<f64>,
    fleet_id: Option<String>,
    location: Option<String>,
    game_session_id: Option<String>,
    average_player_latency: Option<f64>,
    hourly_cost: Option<f64>,
    reason: Option<String>,
}

/// What one location hosted.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct LocationOut {
    location: String,
    game_sessions: u64,
    capacity: u64,
    average_player_latency: Option<f64>,
    hourly_cost: f64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Report {
    placements: Vec<PlacementOut>,
    locations: Vec<LocationOut>,
    statuses: BTreeMap<&'static str, usize>,
}

fn read(path: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read `{path}`"))
}

fn report_error(path: &str, error: &PlacementError) -> ExitCode {
    eprintln!("error: `{path}` {error}");
    ExitCode::from(1)
}

pub fn run(args: &Args, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let fleets = match parse_fleets(&read(&args.fleets)?) {
        Ok(fleets) => fleets,
        Err(error) => return Ok(report_error(&args.fleets, &error)),
    };
    let mut placer = match Placer::new(fleets, args.seed) {
        Ok(placer) => placer,
        Err(error) => return Ok(report_error(&args.fleets, &error)),
    };
    for path in &args.queue {
        let added = parse_queue(&read(path)?).and_then(|queue| placer.add_queue(queue));
        if let Err(error) = added {
            return Ok(report_error(path, &error));
        }
    }
    let mut requests = match parse_request_lines(&read(&args.requests)?, placer.locations()) {
        Ok(requests) => requests,
        Err(error) => return Ok(report_error(&args.requests, &error)),
    };
    // In time order; requests without a `StartTime` arrive at 0, in file order.
    requests.sort_by(|a, b| {
        a.start_time
            .unwrap_or(0.0)
            .total_cmp(&b.start_time.unwrap_or(0.0))
    });
    for timed in requests {
        let now = timed.start_time.unwrap_or(0.0);
        placer.advance(now);
        if let Err(error) = placer.start(timed.request, now) {
            return Ok(report_error(&args.requests, &error.at_line(timed.line)));
        }
    }
    // No session ends during a run: what waits is placed as caps relax, or times out.
    placer.advance(f64::INFINITY);

    let report = report(&placer);
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        OutputFormat::Text => write_text(&report, out)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// A time as the trace gives them, to the millisecond: a sum such as 77.854 + 120 prints as
/// 197.854, not 197.85399999999998.
fn to_the_millisecond(time: f64) -> f64 {
    (time * 1000.0).round() / 1000.0
}

fn report(placer: &Placer) -> Report {
    let mut statuses = BTreeMap::new();
    let placements: Vec<PlacementOut> = placer
        .placements()
        .iter()
        .map(|placement| {
            *statuses.entry(placement.status.as_str()).or_insert(0) += 1;
            let session = placement.session.as_ref();
            PlacementOut {
                placement_id: placement.request.placement_id.clone(),
                status: placement.status.as_str(),
                start_time: to_the_millisecond(placement.start_time),
                end_time: placement.end_time.map(to_the_millisecond),
                fleet_id: session.map(|s| s.fleet_id.to_string()),
                location: session.map(|s| s.location.to_string()),
                game_session_id: game_session_arn(placer, placement),
                average_player_latency: session.and_then(|s| s.average_latency),
                hourly_cost: session.map(|s| s.hourly_cost),
                reason: placement.reason.as_ref().map(ToString::to_string),
            }
        })
        .collect();
    // Per location: sessions hosted, capacity over every fleet there, the players' average
    // latency over sessions with latency data, and the hourly cost of the sessions' share of
    // their instances.
    let mut locations: BTreeMap<String, LocationOut> = BTreeMap::new();
    for fleet in placer.fleets() {
        for location in &fleet.locations {
            let entry = locations
                .entry(location.location.clone())
                .or_insert_with(|| LocationOut {
                    location: location.location.clone(),
                    game_sessions: 0,
                    capacity: 0,
                    average_player_latency: None,
                    hourly_cost: 0.0,
                });
            entry.capacity += location.capacity();
        }
    }
    let mut latency_sums: BTreeMap<String, (f64, u64)> = BTreeMap::new();
    for placement in placer.placements() {
        let Some(session) = &placement.session else {
            continue;
        };
        let entry = locations
            .get_mut(&*session.location)
            .expect("a session is in a fleet's location");
        entry.game_sessions += 1;
        let per_instance = placer
            .fleets()
            .iter()
            .find(|f| *f.id == *session.fleet_id)
            .and_then(|f| {
                f.locations
                    .iter()
                    .find(|l| *l.location == *session.location)
            })
            .map_or(1, |l| l.sessions_per_instance);
        entry.hourly_cost += session.hourly_cost / f64::from(per_instance);
        if let Some(latency) = session.average_latency {
            let sum = latency_sums
                .entry(session.location.to_string())
                .or_default();
            sum.0 += latency;
            sum.1 += 1;
        }
    }
    for (location, (sum, count)) in latency_sums {
        if let Some(entry) = locations.get_mut(&location) {
            entry.average_player_latency = Some(sum / count as f64);
        }
    }
    Report {
        placements,
        locations: locations.into_values().collect(),
        statuses,
    }
}

/// Seconds to the millisecond, without trailing zeros: `0.015`, `16.4`, `120`.
fn seconds(time: f64) -> String {
    let text = format!("{time:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn write_text(report: &Report, out: &mut impl Write) -> anyhow::Result<()> {
    for p in &report.placements {
        let span = match p.end_time {
            Some(end) => format!("{}–{} s", seconds(p.start_time), seconds(end)),
            None => format!("since {} s", seconds(p.start_time)),
        };
        let head = format!("{} {} {span}", p.placement_id, p.status);
        match (&p.fleet_id, &p.location, &p.reason) {
            (Some(fleet), Some(location), _) => {
                let latency = p
                    .average_player_latency
                    .map_or(String::new(), |l| format!(", {l:.1} ms average"));
                writeln!(out, "{head} on {fleet} in {location}{latency}")?;
            }
            (_, _, Some(reason)) => writeln!(out, "{head}: {reason}")?,
            _ => writeln!(out, "{head}")?,
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:<16} {:>9} {:>9} {:>12} {:>10}",
        "location", "sessions", "capacity", "avg latency", "cost/h"
    )?;
    for l in &report.locations {
        let latency = l
            .average_player_latency
            .map_or("-".to_string(), |v| format!("{v:.1} ms"));
        writeln!(
            out,
            "{:<16} {:>9} {:>9} {:>12} {:>10.4}",
            l.location, l.game_sessions, l.capacity, latency, l.hourly_cost
        )?;
    }
    let statuses: Vec<String> = report
        .statuses
        .iter()
        .map(|(status, count)| format!("{count} {status}"))
        .collect();
    writeln!(out)?;
    writeln!(out, "{}", statuses.join(", "))?;
    Ok(())
}
