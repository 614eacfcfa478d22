//! `rally simulate`: replays a trace through the engine in virtual time and writes what
//! happened to `DIR/report.json`, with a summary on standard output. The trace is read line
//! by line: memory follows the live pool, not the trace's length.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal as _, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rally_engine::fleets::FleetSpec;
use rally_engine::{Configuration, Engine, FlexMatchMode};
use rally_sim::{Behaviour, Report, Simulation};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The rule set every ticket of the trace joins (STANDALONE, or through `--queue`),
    /// whatever configuration it names: `.json` (FlexMatch) or `.rules` (rally DSL). Give it
    /// twice or more to compare: each runs the same trace with the same seed, and the report
    /// sets them side by side against the first.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "config",
        conflicts_with = "config"
    )]
    rules: Vec<String>,
    /// The trace: JSON Lines of `{"t", "op", "request"}`, in time order (`rally serve
    /// --record` writes them).
    #[arg(long, value_name = "FILE")]
    trace: PathBuf,
    /// Rule sets, configurations, fleets and queues from a `rally serve` configuration file;
    /// tickets join the configurations they name.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// With `--rules`: fleets (a JSON list) to place matches on, through `--queue`.
    #[arg(long, value_name = "FILE", requires = "queue", requires = "rules")]
    fleets: Option<PathBuf>,
    /// With `--fleets`: the queue (a `CreateGameSessionQueue` body) matches are placed
    /// through.
    #[arg(long, value_name = "FILE", requires = "fleets")]
    queue: Option<PathBuf>,
    /// Seeds the engine and the players' behaviour.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The chance a ticket's players accept a match that needs acceptance.
    #[arg(long, value_name = "P", default_value_t = 0.95, value_parser = probability)]
    accept_probability: f64,
    /// How long game sessions last, in minutes: drawn uniformly between the two.
    #[arg(long, value_names = ["MIN", "MAX"], num_args = 2, default_values_t = [20.0, 40.0])]
    session_minutes: Vec<f64>,
    /// The directory `report.json` and `report.html` are written to (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

fn probability(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("expected a probability from 0 to 1, not `{text}`")),
    }
}

pub fn run(args: &Args, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let behaviour = behaviour(args)?;
    let mut sims = match args.rules.len() {
        0 | 1 => vec![simulation(args, args.rules.first(), behaviour)?],
        _ => args
            .rules
            .iter()
            .map(|rules| simulation(args, Some(rules), behaviour.clone()))
            .collect::<anyhow::Result<Vec<_>>>()?,
    };
    replay(&args.trace, &mut sims)?;
    let name = args.trace.display().to_string();
    let reports = sims
        .into_iter()
        .map(|sim| sim.finish().with_context(|| format!("`{name}`")))
        .collect::<anyhow::Result<Vec<Report>>>()?;
    if let [report] = &reports[..] {
        let path = write_report(&args.out, report)?;
        write_page(&args.out, &[(&label(args), report)])?;
        summarise(report, &path, out)?;
    } else {
        let comparison = Comparison::of(&args.rules, reports);
        let path = write_comparison(&args.out, &comparison)?;
        let labels: Vec<String> = args.rules.iter().map(|r| file_name(Path::new(r))).collect();
        let variants: Vec<(&str, &Report)> = labels
            .iter()
            .zip(&comparison.variants)
            .map(|(label, v)| (label.as_str(), &v.report))
            .collect();
        write_page(&args.out, &variants)?;
        summarise_comparison(&comparison, &path, out)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Streams the trace through every simulation, each line read and parsed once.
fn replay(trace: &Path, sims: &mut [Simulation]) -> anyhow::Result<()> {
    let name = trace.display().to_string();
    let file = File::open(trace).with_context(|| format!("cannot read `{name}`"))?;
    let length = file.metadata().map(|m| m.len()).unwrap_or(0);
    let progress = Progress::new(length);
    let mut read = 0u64;
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read `{name}`"))?;
        read += line.len() as u64 + 1;
        let entry = rally_sim::read_line(i + 1, &line).with_context(|| format!("`{name}`"))?;
        if let Some(entry) = entry {
            for sim in sims.iter_mut() {
                sim.push(i + 1, entry.clone())
                    .with_context(|| format!("`{name}`"))?;
            }
        }
        if i % 4096 == 0 {
            progress.show(read, &sims[0]);
        }
    }
    progress.done();
    Ok(())
}

/// Variants of one trace and seed, and each one's differences from the first.
#[derive(Debug, serde::Serialize)]
struct Comparison {
    variants: Vec<Variant>,
    differences: Vec<VariantDifferences>,
}

#[derive(Debug, serde::Serialize)]
struct Variant {
    rules: String,
    report: Report,
}

#[derive(Debug, serde::Serialize)]
struct VariantDifferences {
    rules: String,
    against: String,
    differences: Vec<rally_sim::compare::Difference>,
}

impl Comparison {
    fn of(rules: &[String], reports: Vec<Report>) -> Comparison {
        let variants: Vec<Variant> = rules
            .iter()
            .zip(reports)
            .map(|(rules, report)| Variant {
                rules: rules.clone(),
                report,
            })
            .collect();
        let baseline = &variants[0];
        let differences = variants[1..]
            .iter()
            .map(|v| VariantDifferences {
                rules: v.rules.clone(),
                against: baseline.rules.clone(),
                differences: rally_sim::compare::differences(&baseline.report, &v.report),
            })
            .collect();
        Comparison {
            variants,
            differences,
        }
    }
}

fn write_comparison(dir: &Path, comparison: &Comparison) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let path = dir.join("report.json");
    let mut text = serde_json::to_string_pretty(comparison)?;
    text.push('\n');
    std::fs::write(&path, text).with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(path)
}

fn summarise_comparison(
    comparison: &Comparison,
    path: &Path,
    out: &mut impl Write,
) -> std::io::Result<()> {
    for variant in &comparison.variants {
        writeln!(out, "{}:", variant.rules)?;
        let mut figures = Vec::new();
        summarise_figures(&variant.report, &mut figures)?;
        for line in String::from_utf8_lossy(&figures).lines() {
            writeln!(out, "  {line}")?;
        }
    }
    for variant in &comparison.differences {
        writeln!(out, "{} against {}:", variant.rules, variant.against)?;
        for d in &variant.differences {
            let show = |v: Option<f64>| v.map_or("-".to_string(), |v| v.to_string());
            writeln!(
                out,
                "  {:<26} {} → {} ({:?})",
                d.metric,
                show(d.baseline),
                show(d.value),
                d.verdict
            )?;
        }
    }
    writeln!(out, "report: {}", path.display())
}

fn behaviour(args: &Args) -> anyhow::Result<Behaviour> {
    let (low, high) = (args.session_minutes[0], args.session_minutes[1]);
    anyhow::ensure!(
        low.is_finite() && high.is_finite() && 0.0 <= low && low <= high,
        "`--session-minutes {low} {high}`: expected 0 ≤ MIN ≤ MAX"
    );
    Ok(Behaviour {
        accept_probability: args.accept_probability,
        session_duration: (low * 60.0, high * 60.0),
        ..Behaviour::default()
    })
}

/// The engine the trace runs through: the configuration file's resources, or one rule set
/// (placed through a queue when fleets and a queue are given).
fn simulation(
    args: &Args,
    rules: Option<&String>,
    behaviour: Behaviour,
) -> anyhow::Result<Simulation> {
    if let Some(path) = &args.config {
        let loaded = rally_server::config_file::load(path)?;
        let mut server = loaded.server;
        server.engine = Simulation::engine_options(args.seed);
        let engine = server
            .build()
            .with_context(|| format!("`{}`", path.display()))?;
        return Ok(Simulation::new(engine, None, behaviour, args.seed));
    }
    let rules_path = rules.expect("clap requires --rules without --config");
    let rules = crate::input::read(rules_path, None)?;
    let (Some(fleets), Some(queue)) = (&args.fleets, &args.queue) else {
        return Simulation::standalone(&rules.text, behaviour, args.seed)
            .with_context(|| format!("`{rules_path}`"));
    };
    let engine = placed_engine(args.seed, &rules.text, fleets, queue)
        .with_context(|| format!("`{rules_path}`"))?;
    Ok(Simulation::new(
        engine,
        Some(PLACED.into()),
        behaviour,
        args.seed,
    ))
}

/// The configuration every ticket joins when matches are placed.
const PLACED: &str = "simulated";

fn placed_engine(seed: u64, rules: &str, fleets: &Path, queue: &Path) -> anyhow::Result<Engine> {
    let read = |path: &Path| {
        std::fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))
    };
    let mut engine = Engine::new(Simulation::engine_options(seed));
    engine.create_rule_set(0.0, PLACED, rules)?;
    let fleets_text = read(fleets)?;
    for fleet in rally_placement::json::parse_fleets(&fleets_text)
        .with_context(|| format!("`{}`", fleets.display()))?
    {
        engine.create_fleet(0.0, FleetSpec::new(fleet))?;
    }
    let queue = rally_placement::json::parse_queue(&read(queue)?)
        .with_context(|| format!("`{}`", queue.display()))?;
    let mut config = Configuration::new(PLACED, PLACED);
    config.flex_match_mode = FlexMatchMode::WithQueue;
    config.game_session_queue_names = vec![queue.name.clone()];
    engine.create_queue(0.0, queue)?;
    engine.create_configuration(0.0, config)?;
    Ok(engine)
}

fn write_report(dir: &Path, report: &Report) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let path = dir.join("report.json");
    let mut text = serde_json::to_string_pretty(report)?;
    text.push('\n');
    std::fs::write(&path, text).with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(path)
}

/// `DIR/report.html`, beside `report.json`: the report as a page.
fn write_page(dir: &Path, variants: &[(&str, &Report)]) -> anyhow::Result<()> {
    let path = dir.join("report.html");
    let page = crate::report_html::render(variants);
    std::fs::write(&path, page).with_context(|| format!("cannot write `{}`", path.display()))
}

/// What the page calls the run: the rule set's file name, or the configuration file's.
fn label(args: &Args) -> String {
    let path = args.rules.first().map(Path::new);
    file_name(path.or(args.config.as_deref()).unwrap_or(Path::new("-")))
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn summarise(report: &Report, path: &Path, out: &mut impl Write) -> std::io::Result<()> {
    summarise_figures(report, out)?;
    writeln!(out, "report: {}", path.display())
}

fn summarise_figures(report: &Report, out: &mut impl Write) -> std::io::Result<()> {
    let t = &report.tickets;
    let waits = &report.time_to_match_ms.overall;
    let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.0} ms"));
    writeln!(
        out,
        "simulated {:.1} s: {} tickets ({} players)",
        report.simulated_seconds, t.submitted, t.players
    )?;
    writeln!(
        out,
        "matched {}, timed out {}, cancelled {}, failed {}",
        t.matched, t.timed_out, t.cancelled, t.failed
    )?;
    writeln!(
        out,
        "time to match: p50 {}, p90 {}, p99 {}",
        ms(waits.p50),
        ms(waits.p90),
        ms(waits.p99)
    )?;
    writeln!(out, "hosting cost: ${:.2}", report.hosting_cost_usd)
}

/// The progress bar: the trace read so far, simulated time and tickets; on standard error
/// when it is a terminal, hidden otherwise.
struct Progress(Option<ProgressBar>);

impl Progress {
    fn new(length: u64) -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = ProgressBar::with_draw_target(Some(length), ProgressDrawTarget::stderr());
        let template = "{elapsed_precise} [{wide_bar}] {percent}% {msg}";
        bar.set_style(ProgressStyle::with_template(template).expect("a valid progress template"));
        Progress(Some(bar))
    }

    fn show(&self, read: u64, sim: &Simulation) {
        if let Some(bar) = &self.0 {
            bar.set_position(read);
            bar.set_message(format!(
                "simulated {:.0} s, {} tickets waiting",
                sim.now(),
                sim.live_tickets()
            ));
        }
    }

    fn done(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
