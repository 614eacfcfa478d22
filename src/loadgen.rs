//! `rally loadgen`: drives a live `rally serve` in real time (generated tickets at a rate,
//! or a recorded trace), and reports the rates sent and acknowledged, the refusals by code,
//! and ticket → PotentialMatchCreated and ticket → COMPLETED latencies from the event
//! stream. `--echo` sends the echo service's trivial call instead, the baseline.

mod calls;
mod drive;
mod events;
mod plan;
mod progress;
mod report;
mod trace;
mod tracker;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rally_matchmaker::generate::{GenerateOptions, Population, tickets};
use rally_server::proto::v1 as pb;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio::sync::watch;
use tonic::transport::{Channel, Endpoint};

use crate::input::{Color, OutputFormat};
use calls::Clients;
use plan::{Calls, Pace, Plan};
use tracker::{TicketIds, Tracker};

/// Generated tickets are drawn once, this many at most, and sent in turn under fresh ids:
/// drawing each anew would spend the client's CPU, which the server shares on one machine.
const TEMPLATES: usize = 10_000;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server, `HOST:PORT` (or a `http://` URI).
    #[arg(long, value_name = "ADDR")]
    target: String,
    /// The matchmaking configuration generated tickets join.
    #[arg(long, default_value = "duel")]
    configuration: String,
    /// Generated tickets per second; 0: as fast as the server answers.
    #[arg(
        long,
        value_name = "N",
        required_unless_present = "trace",
        requires = "duration"
    )]
    rate: Option<f64>,
    /// Seconds to send generated tickets for.
    #[arg(long, value_name = "S", requires = "rate", value_parser = crate::input::finite_seconds)]
    duration: Option<f64>,
    /// The rule set generated tickets fit: `.json` (FlexMatch) or `.rules` (rally DSL).
    #[arg(long, value_name = "FILE", required_unless_present_any = ["echo", "trace"])]
    rules: Option<String>,
    /// Replay a recorded trace (JSON Lines of `{"t", "op", "request"}`) instead.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["rate", "rules", "echo"])]
    trace: Option<String>,
    /// With `--trace`: replay this many times faster than recorded.
    #[arg(long, value_name = "X", default_value_t = 1.0)]
    speed: f64,
    /// Seeds the generated tickets.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Calls in flight at once (one worker each).
    #[arg(long, value_name = "N", default_value_t = 64)]
    concurrency: usize,
    /// HTTP/2 connections the workers share.
    #[arg(long, value_name = "K", default_value_t = 4)]
    connections: usize,
    /// Call `echo.v1.Echo/Ping` instead of StartMatchmaking: the baseline.
    #[arg(long, conflicts_with = "rules")]
    echo: bool,
    /// Seconds to wait for events after the last answer.
    #[arg(long, value_name = "S", default_value_t = 2.0, value_parser = crate::input::finite_seconds)]
    drain: f64,
    /// Do not subscribe to the event stream: the call rate alone, without the server
    /// streaming each ticket's events back (no latencies are reported then).
    #[arg(long)]
    no_events: bool,
    /// With `--rate 0`: at most this many calls.
    #[arg(long, value_name = "N", default_value_t = 2_000_000)]
    limit: usize,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
}

pub fn run(args: &Args, out: &mut impl std::io::Write) -> anyhow::Result<ExitCode> {
    check(args)?;
    let (plan, ids) = match (&args.trace, args.rate, args.duration) {
        (Some(path), _, _) => trace::plan(path, args.speed)?,
        (None, Some(rate), Some(duration)) => match generated_plan(args, rate, duration)? {
            Some(planned) => planned,
            None => return Ok(ExitCode::from(1)),
        },
        _ => anyhow::bail!("give `--trace FILE` or `--rate N --duration S`"),
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let report = runtime.block_on(drive(args, plan, ids))?;
    report::print(&report, args.format, out)?;
    Ok(ExitCode::SUCCESS)
}

fn check(args: &Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.rate.is_none_or(|rate| rate >= 0.0 && rate.is_finite()),
        "`--rate` must be a finite number of calls per second, 0 or more"
    );
    anyhow::ensure!(
        args.duration.is_none_or(|duration| duration > 0.0),
        "`--duration` must be more than 0 seconds"
    );
    anyhow::ensure!(
        args.speed > 0.0 && args.speed.is_finite(),
        "`--speed` must be a finite number more than 0"
    );
    anyhow::ensure!(args.drain >= 0.0, "`--drain` must be 0 seconds or more");
    anyhow::ensure!(args.concurrency > 0, "`--concurrency` must be 1 or more");
    anyhow::ensure!(args.connections > 0, "`--connections` must be 1 or more");
    Ok(())
}

/// Generated tickets (or echo pings) at `rate` for `duration`, and how their ids number
/// them; `None` when the rule set is invalid (its diagnostics are printed).
fn generated_plan(
    args: &Args,
    rate: f64,
    duration: f64,
) -> anyhow::Result<Option<(Plan, TicketIds)>> {
    let (count, pace, deadline) = if rate > 0.0 {
        let count = (rate * duration).round() as usize;
        // A server that falls behind gets a tenth more time, then the rest goes unsent.
        let deadline = Duration::from_secs_f64(duration * 1.1 + 1.0);
        (count, Pace::Rate(rate), deadline)
    } else {
        let deadline = Duration::from_secs_f64(duration);
        (args.limit, Pace::Unpaced, deadline)
    };
    let prefix = ticket_prefix();
    let ids = TicketIds::Numbered {
        prefix: prefix.clone(),
    };
    let (calls, tickets) = match &args.rules {
        None => (Calls::Echo { prefix }, 0),
        Some(rules) => {
            let Some(rule_set) = crate::matching::load_rule_set(rules, Color::Auto)? else {
                return Ok(None);
            };
            let options = GenerateOptions::new(count.clamp(1, TEMPLATES), 60.0);
            let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
            let templates = tickets(&rule_set, &Population::embedded(), options, &mut rng)
                .map(|ticket| calls::start_request(&ticket, &args.configuration))
                .collect();
            (Calls::Generated { templates, prefix }, count)
        }
    };
    let plan = Plan {
        calls,
        pace,
        count,
        tickets,
        deadline,
    };
    Ok(Some((plan, ids)))
}

/// Ticket ids no earlier run against the same server used: `lg-<time>-<process>-`.
fn ticket_prefix() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("lg-{seconds:x}-{:x}-", std::process::id())
}

async fn drive(args: &Args, plan: Plan, ids: TicketIds) -> anyhow::Result<report::Report> {
    let mut connections = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        connections.push(Clients::new(connect(&args.target).await?));
    }
    // A trace's tickets may join any configuration: its stream is every configuration's.
    let configuration = match plan.calls {
        Calls::Trace(_) => "",
        _ => args.configuration.as_str(),
    };
    let events = match plan.calls {
        Calls::Echo { .. } => None,
        _ if args.no_events => None,
        _ => Some(subscribe(&args.target, configuration).await?),
    };
    let planned = plan.count as u64;
    let bar_length = (!matches!(plan.pace, Pace::Unpaced)).then_some(planned);
    let tracker = Arc::new(Tracker::new(ids, plan.tickets, Instant::now()));
    let counts = Arc::new(drive::Counts::default());
    let (stop, stopping) = watch::channel(false);
    let recording = events
        .map(|events| tokio::spawn(events::record(events, tracker.clone(), stopping.clone())));
    let bar = tokio::spawn(progress::show(bar_length, counts.clone(), stopping));
    let outcome = drive::run(
        Arc::new(plan),
        &connections,
        args.concurrency,
        tracker.clone(),
        counts.clone(),
    )
    .await;
    let send_seconds = tracker.start().elapsed().as_secs_f64();
    if recording.is_some() {
        drain(&tracker, &counts, Duration::from_secs_f64(args.drain)).await;
    }
    let _ = stop.send(true);
    let _ = bar.await;
    let latencies = match recording {
        Some(task) => Some(task.await.context("the event reader panicked")?),
        None => None,
    };
    Ok(build_report(
        args,
        planned,
        send_seconds,
        &counts,
        &outcome,
        latencies,
    ))
}

fn connect_uri(target: &str) -> String {
    if target.contains("://") {
        target.to_string()
    } else {
        format!("http://{target}")
    }
}

/// The HTTP/2 flow-control window loadgen offers the server, per stream and per connection.
const STREAM_WINDOW: u32 = 8 << 20;

/// One HTTP/2 connection of its own to `target`.
async fn connect(target: &str) -> anyhow::Result<Channel> {
    Endpoint::from_shared(connect_uri(target))
        .with_context(|| format!("`{target}` is not an address"))?
        // A batch's events arrive at once, hundreds of kilobytes: HTTP/2's 64 KiB default
        // window would hold the server to a round trip per 64 KiB of them.
        .initial_stream_window_size(Some(STREAM_WINDOW))
        .initial_connection_window_size(Some(STREAM_WINDOW))
        .tcp_nodelay(true)
        .connect()
        .await
        .with_context(|| format!("cannot connect to `{target}`"))
}

/// The configuration's event stream, subscribed before any ticket is sent.
async fn subscribe(
    target: &str,
    configuration: &str,
) -> anyhow::Result<tonic::Streaming<pb::Event>> {
    let channel = connect(target).await?;
    let mut client = pb::matchmaking_client::MatchmakingClient::new(channel);
    let stream = client
        .stream_events(pb::StreamEventsRequest {
            configuration_name: configuration.to_string(),
            ticket_ids: vec![],
        })
        .await
        .context("cannot subscribe to the event stream")?;
    Ok(stream.into_inner())
}

/// Waits up to `grace` for the tickets still without MatchmakingSucceeded.
async fn drain(tracker: &Tracker, counts: &drive::Counts, grace: Duration) {
    let until = tokio::time::Instant::now() + grace;
    while tokio::time::Instant::now() < until
        && tracker.completed() < counts.tickets.load(Ordering::Relaxed)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn build_report(
    args: &Args,
    planned: u64,
    send_seconds: f64,
    counts: &drive::Counts,
    outcome: &drive::Outcome,
    latencies: Option<events::Latencies>,
) -> report::Report {
    let sent = counts.sent.load(Ordering::Relaxed);
    let acknowledged = counts.acknowledged.load(Ordering::Relaxed);
    let tickets = counts.tickets.load(Ordering::Relaxed);
    let empty = events::histogram();
    let (potential, in_server, completed, ended) = match &latencies {
        Some(l) => (
            &l.potential_match,
            &l.potential_match_in_server,
            &l.completed,
            l.ended.clone(),
        ),
        None => (&empty, &empty, &empty, None),
    };
    let per_second = |n: u64| n as f64 / send_seconds.max(1e-9);
    report::Report {
        mode: match (&args.trace, args.echo) {
            (Some(_), _) => "trace",
            (None, true) => "echo",
            (None, false) => "start_matchmaking",
        },
        target: args.target.clone(),
        connections: args.connections,
        concurrency: args.concurrency,
        planned,
        sent,
        acknowledged,
        errors: report::error_names(&outcome.errors),
        answered: (&outcome.answered).into(),
        send_seconds,
        sent_per_second: per_second(sent),
        acknowledged_per_second: per_second(acknowledged),
        tickets,
        potential_match: potential.into(),
        potential_match_in_server: in_server.into(),
        completed: completed.into(),
        without_potential_match: tickets.saturating_sub(potential.len()),
        without_completed: tickets.saturating_sub(completed.len()),
        event_stream: ended,
    }
}
