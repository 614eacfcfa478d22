//! `rally bench`: what a rule set costs to match. Generates a realistic pool that fits the rule
//! set, runs one batch and reports the matches, the batch time and the memory used.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use rally_matchmaker::batch::{BatchOptions, run_batch};
use rally_matchmaker::generate::{GenerateOptions, Population, tickets};
use rally_matchmaker::pool::Pool;
use rally_matchmaker::ticket::NewTicket;
use rally_matchmaker::ticket::json::TicketRequest;
use rally_rules::model::RuleSet;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::input::{Color, OutputFormat};
use crate::matching::load_rule_set;

/// What `rally bench` and `rally generate` share: the tickets to generate.
#[derive(Debug, clap::Args)]
pub struct PoolArgs {
    /// The rule set the tickets should fit: `.json` (FlexMatch) or `.rules` (rally DSL).
    #[arg(long, value_name = "FILE")]
    pub(crate) rules: String,
    /// How many tickets to generate.
    #[arg(long, value_name = "N")]
    pub(crate) tickets: usize,
    /// Seeds the generated tickets (and `bench`'s batch).
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// Tickets' start times spread over this many seconds (`bench` runs the batch at the end).
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS", value_parser = crate::input::finite_seconds)]
    pub(crate) window: f64,
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

impl PoolArgs {
    /// The rule set; `None` when it is invalid (its diagnostics are printed).
    fn rule_set(&self) -> anyhow::Result<Option<RuleSet>> {
        load_rule_set(&self.rules, self.color)
    }

    /// Generates the tickets for `rule_set`, handing each to `each`.
    pub(crate) fn generate(
        &self,
        rule_set: &RuleSet,
        mut each: impl FnMut(&NewTicket) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let options = GenerateOptions::new(self.tickets, self.window);
        self.generate_with(rule_set, options, &mut each)
    }

    /// Generates tickets as `options` say, handing each to `each`.
    pub(crate) fn generate_with(
        &self,
        rule_set: &RuleSet,
        options: GenerateOptions,
        mut each: impl FnMut(&NewTicket) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let population = Population::embedded();
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        for request in tickets(rule_set, &population, options, &mut rng) {
            each(&request)?;
        }
        Ok(())
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pool: PoolArgs,
    /// A standing pool: fill it with this many tickets and run batches until nothing more
    /// matches, then add `--tickets` new tickets before each of `--batches` batches.
    #[arg(long, value_name = "M")]
    standing: Option<usize>,
    /// With `--standing`: how many batches are measured.
    #[arg(long, value_name = "B", default_value_t = 10, requires = "standing")]
    pub(crate) batches: usize,
    /// With `--standing`: seconds between batches (0: every batch at the same time, so no
    /// expansion comes due).
    #[arg(long, value_name = "SECONDS", default_value_t = 0.1, requires = "standing", value_parser = crate::input::finite_seconds)]
    pub(crate) interval: f64,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
}

#[derive(Serialize)]
struct Report {
    tickets: usize,
    matches: usize,
    players_matched: usize,
    batch_ms: f64,
    tickets_per_sec: f64,
    peak_rss_bytes: Option<u64>,
}

pub fn run(args: &Args, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let Some(rule_set) = args.pool.rule_set()? else {
        return Ok(ExitCode::from(1));
    };
    if let Some(standing) = args.standing {
        let report = crate::bench_standing::run(&args.pool, &rule_set, standing, args)?;
        crate::bench_standing::print(&report, args.format, out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut pool = Pool::new(Arc::new(rule_set.clone()));
    args.pool.generate(&rule_set, |request| {
        pool.insert(request).map_err(|error| {
            anyhow::anyhow!("generated ticket `{}` was refused: {error}", request.id)
        })?;
        Ok(())
    })?;
    let started = Instant::now();
    let result = run_batch(
        &pool,
        &BatchOptions {
            now: args.pool.window,
            seed: args.pool.seed,
        },
    );
    let elapsed = started.elapsed().as_secs_f64();
    let players_matched = result
        .matches
        .iter()
        .flat_map(|m| m.tickets())
        .map(|key| pool.ticket(key).players.len())
        .sum();
    let report = Report {
        tickets: args.pool.tickets,
        matches: result.matches.len(),
        players_matched,
        batch_ms: elapsed * 1e3,
        tickets_per_sec: args.pool.tickets as f64 / elapsed.max(1e-9),
        peak_rss_bytes: peak_rss_bytes(),
    };
    match args.format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
        OutputFormat::Text => {
            writeln!(out, "tickets          {}", report.tickets)?;
            writeln!(out, "matches          {}", report.matches)?;
            writeln!(out, "players matched  {}", report.players_matched)?;
            writeln!(out, "batch            {:.1} ms", report.batch_ms)?;
            writeln!(out, "tickets/s        {:.0}", report.tickets_per_sec)?;
            write_peak_memory(out, report.peak_rss_bytes)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The text report's last line: the peak memory, when the system says.
pub fn write_peak_memory(out: &mut impl Write, bytes: Option<u64>) -> std::io::Result<()> {
    match bytes {
        Some(bytes) => writeln!(
            out,
            "peak memory      {:.1} MiB",
            bytes as f64 / (1024.0 * 1024.0)
        ),
        None => writeln!(out, "peak memory      unknown on this system"),
    }
}

/// The process's peak resident set size, from Linux's `/proc/self/status` (`VmHWM`).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// `rally generate`: the same generated tickets as `rally bench`, written as JSON Lines for
/// `rally match` (or a test, or a simulation).
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pool: PoolArgs,
}

pub fn generate(args: &GenerateArgs, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let Some(rule_set) = args.pool.rule_set()? else {
        return Ok(ExitCode::from(1));
    };
    args.pool.generate(&rule_set, |request| {
        writeln!(
            out,
            "{}",
            serde_json::to_string(&TicketRequest::from(request))?
        )?;
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
