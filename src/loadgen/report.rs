//! The load generator's report: what was sent and answered, how fast, the refusals by
//! status code and the latency percentiles, as text or JSON.

use std::collections::BTreeMap;
use std::io::Write;

use hdrhistogram::Histogram;
use serde::Serialize;
use tonic::Code;

use crate::input::OutputFormat;

#[derive(Debug, Serialize)]
pub struct Report {
    /// `start_matchmaking`, `echo` or `trace`.
    pub mode: &'static str,
    pub target: String,
    pub connections: usize,
    pub concurrency: usize,
    /// Calls the plan held (for an unpaced run, the most it could send).
    pub planned: u64,
    pub sent: u64,
    pub acknowledged: u64,
    /// Refusals by gRPC code name (`NOT_FOUND`).
    pub errors: BTreeMap<String, u64>,
    /// From the first call to the last answer.
    pub send_seconds: f64,
    pub sent_per_second: f64,
    pub acknowledged_per_second: f64,
    /// Each call's time from sending to its answer.
    pub answered: Percentiles,
    /// Acknowledged StartMatchmaking calls.
    pub tickets: u64,
    pub potential_match: Percentiles,
    pub completed: Percentiles,
    /// The part of `potential_match` spent in the server, by its own timestamps.
    pub potential_match_in_server: Percentiles,
    /// Tickets with no PotentialMatchCreated, and with no MatchmakingSucceeded, by the end.
    pub without_potential_match: u64,
    pub without_completed: u64,
    /// Why the event stream ended before the run did, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_stream: Option<String>,
}

/// A latency distribution in microseconds.
#[derive(Debug, Serialize)]
pub struct Percentiles {
    pub count: u64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

impl From<&Histogram<u64>> for Percentiles {
    fn from(histogram: &Histogram<u64>) -> Percentiles {
        Percentiles {
            count: histogram.len(),
            p50_us: histogram.value_at_quantile(0.50),
            p90_us: histogram.value_at_quantile(0.90),
            p99_us: histogram.value_at_quantile(0.99),
            max_us: histogram.max(),
        }
    }
}

/// Refusals by code number as gRPC's code names.
pub fn error_names(errors: &BTreeMap<i32, u64>) -> BTreeMap<String, u64> {
    errors
        .iter()
        .map(|(code, n)| (code_name(Code::from_i32(*code)).to_string(), *n))
        .collect()
}

/// The canonical name gRPC gives a status code.
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

pub fn print(report: &Report, format: OutputFormat, out: &mut impl Write) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(report)?)?,
        OutputFormat::Text => print_text(report, out)?,
    }
    Ok(())
}

fn print_text(r: &Report, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{} against {} ({} connections, {} in flight)",
        r.mode, r.target, r.connections, r.concurrency
    )?;
    writeln!(out, "sent          {} of {} planned", r.sent, r.planned)?;
    writeln!(out, "acknowledged  {}", r.acknowledged)?;
    writeln!(
        out,
        "rate          {:.0} sent/s, {:.0} acknowledged/s over {:.2} s",
        r.sent_per_second, r.acknowledged_per_second, r.send_seconds
    )?;
    write_latency(out, "answered", &r.answered, None)?;
    if r.errors.is_empty() {
        writeln!(out, "errors        none")?;
    }
    for (code, n) in &r.errors {
        writeln!(out, "errors        {n} {code}")?;
    }
    if r.tickets > 0 {
        write_latency(
            out,
            "potential match",
            &r.potential_match,
            Some(r.without_potential_match),
        )?;
        write_latency(
            out,
            "  in the server",
            &r.potential_match_in_server,
            Some(r.without_potential_match),
        )?;
        write_latency(out, "completed", &r.completed, Some(r.without_completed))?;
    }
    if let Some(ended) = &r.event_stream {
        writeln!(
            out,
            "warning: {ended}; latencies cover the events before it"
        )?;
    }
    Ok(())
}

fn write_latency(
    out: &mut impl Write,
    name: &str,
    p: &Percentiles,
    without: Option<u64>,
) -> std::io::Result<()> {
    let ms = |us: u64| us as f64 / 1000.0;
    let (what, without) = match without {
        Some(n) => ("tickets", format!(" ({n} without)")),
        None => ("calls", String::new()),
    };
    if p.count == 0 {
        return writeln!(out, "{name:<16}none of the {what}{without}");
    }
    writeln!(
        out,
        "{name:<16}{} {what}: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms{without}",
        p.count,
        ms(p.p50_us),
        ms(p.p90_us),
        ms(p.p99_us),
        ms(p.max_us)
    )
}
