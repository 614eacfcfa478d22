//! `rally bench --standing M`: what a standing pool's batches cost. The pool is filled with M
//! generated tickets and batched until nothing more matches; then, before each of the
//! measured batches, `--tickets` new tickets arrive. Each batch is timed, and one batch from
//! scratch over the pool the last one saw is timed beside it.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use rally_matchmaker::generate::{GenerateOptions, Population, tickets};
use rally_matchmaker::standing::Matchmaker;
use rally_matchmaker::ticket::NewTicket;
use rally_rules::model::RuleSet;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::bench::{Args, PoolArgs, peak_rss_bytes, write_peak_memory};
use crate::input::OutputFormat;

#[derive(Debug, Serialize)]
pub struct Report {
    /// Tickets arriving before each measured batch.
    tickets: usize,
    /// Tickets waiting before the first measured batch.
    standing: usize,
    batches: usize,
    /// Matches the measured batches formed, in all.
    matches: usize,
    /// The median of the measured batches' times.
    incremental_batch_ms: f64,
    /// The slowest measured batch.
    incremental_batch_max_ms: f64,
    /// One batch from scratch over the pool the last measured batch saw.
    scratch_batch_ms: f64,
    peak_rss_bytes: Option<u64>,
}

pub fn run(
    pool: &PoolArgs,
    rule_set: &RuleSet,
    standing: usize,
    args: &Args,
) -> anyhow::Result<Report> {
    let arrivals = pool.tickets;
    let total = standing + arrivals * args.batches;
    let population = Population::embedded();
    let mut rng = ChaCha8Rng::seed_from_u64(pool.seed);
    // Lobby codes (where the rule set has them) from a space as large as the pool grows,
    // so that most tickets wait, as in a queue at peak.
    let options = GenerateOptions {
        codes: Some(total.max(1)),
        ..GenerateOptions::new(total, pool.window)
    };
    let mut stream = tickets(rule_set, &population, options, &mut rng);
    let mut matchmaker = Matchmaker::new(Arc::new(rule_set.clone()));
    // The standing tickets started over the window, oldest first.
    let stretch = total as f64 / standing.max(1) as f64;
    for mut ticket in stream.by_ref().take(standing) {
        ticket.start_time *= stretch;
        insert(&mut matchmaker, &ticket)?;
    }
    let mut now = pool.window;
    while !matchmaker.run_batch(now, pool.seed).is_empty() {}
    let waiting = matchmaker.waiting();

    let mut times = Vec::with_capacity(args.batches);
    let mut matches = 0;
    let mut scratch_batch_ms = 0.0;
    for batch in 0..args.batches {
        now += args.interval;
        for (i, mut ticket) in stream.by_ref().take(arrivals).enumerate() {
            // Arrived since the last batch, evenly.
            ticket.start_time = now - args.interval * (1.0 - i as f64 / arrivals as f64);
            insert(&mut matchmaker, &ticket)?;
        }
        if batch + 1 == args.batches {
            let started = Instant::now();
            std::hint::black_box(matchmaker.scratch_batch(now, pool.seed));
            scratch_batch_ms = started.elapsed().as_secs_f64() * 1e3;
        }
        let started = Instant::now();
        matches += matchmaker.run_batch(now, pool.seed).len();
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let max = times.iter().copied().fold(0.0, f64::max);
    times.sort_by(f64::total_cmp);
    Ok(Report {
        tickets: arrivals,
        standing: waiting,
        batches: args.batches,
        matches,
        incremental_batch_ms: times.get(times.len() / 2).copied().unwrap_or(0.0),
        incremental_batch_max_ms: max,
        scratch_batch_ms,
        peak_rss_bytes: peak_rss_bytes(),
    })
}

fn insert(matchmaker: &mut Matchmaker, ticket: &NewTicket) -> anyhow::Result<()> {
    matchmaker.insert(ticket).map_err(|error| {
        anyhow::anyhow!("generated ticket `{}` was refused: {error}", ticket.id)
    })?;
    Ok(())
}

pub fn print(report: &Report, format: OutputFormat, out: &mut impl Write) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(report)?)?,
        OutputFormat::Text => {
            writeln!(out, "standing         {}", report.standing)?;
            writeln!(
                out,
                "arrivals         {} before each of {} batches",
                report.tickets, report.batches
            )?;
            writeln!(out, "matches          {}", report.matches)?;
            writeln!(
                out,
                "batch            {:.2} ms median, {:.2} ms at most",
                report.incremental_batch_ms, report.incremental_batch_max_ms
            )?;
            writeln!(out, "from scratch     {:.1} ms", report.scratch_batch_ms)?;
            write_peak_memory(out, report.peak_rss_bytes)?;
        }
    }
    Ok(())
}
