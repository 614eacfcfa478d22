//! `rally trace generate`: writes a trace of realistic traffic (JSON Lines, the format `rally
//! serve --record` writes and `rally simulate` and `rally loadgen --trace` replay): arrivals
//! on a diurnal curve, tickets drawn for a rule set, players who give up.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use rally_engine::trace::write_line;
use rally_matchmaker::generate::Population;
use rally_sim::traffic::{DIURNAL_CCU, TrafficOptions, parse_curve, shape, traffic};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Generate realistic traffic as a trace.
    Generate(GenerateArgs),
}

/// The rule set tickets fit when none is given: the embedded 5v5.
const DEFAULT_RULES: &str = include_str!("../fixtures/rulesets/team_5v5.rules");

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Seconds of traffic.
    #[arg(long, value_name = "S", value_parser = crate::input::finite_seconds)]
    duration: f64,
    /// Mean tickets per second over a day, shaped by the diurnal curve (the bundled one,
    /// from Dota 2 and Counter-Strike 2 player counts, unless `--curve` or `--flat`).
    #[arg(long, value_name = "N", required_unless_present = "curve")]
    rate: Option<f64>,
    /// A table `hour_utc,<value>` (24 hours): its shape shapes the arrivals; without
    /// `--rate`, its values are tickets per second.
    #[arg(long, value_name = "FILE")]
    curve: Option<PathBuf>,
    /// With `--rate`: the same rate all day.
    #[arg(long, conflicts_with = "curve")]
    flat: bool,
    /// The UTC hour the trace starts at.
    #[arg(long, value_name = "H", default_value_t = 0.0)]
    start_hour: f64,
    /// The rule set tickets fit: `.json` (FlexMatch) or `.rules` (rally DSL)
    /// [default: fixtures/rulesets/team_5v5.rules].
    #[arg(long, value_name = "FILE")]
    rules: Option<String>,
    /// Only players near these regions (the population's regions: us-east-1, eu-west-1, …).
    #[arg(long, value_name = "REGION", num_args = 1.., value_delimiter = ',')]
    regions: Vec<String>,
    /// Seconds players wait before giving up, drawn uniformly between the two.
    #[arg(long, value_names = ["MIN", "MAX"], num_args = 2, default_values_t = [30.0, 300.0])]
    patience: Vec<f64>,
    /// The configuration the tickets name.
    #[arg(long, default_value = "team-5v5")]
    configuration: String,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The trace file to write.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

pub fn run(command: &Command, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    match command {
        Command::Generate(args) => generate(args, out),
    }
}

fn generate(args: &GenerateArgs, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let options = options(args)?;
    let rule_set = match &args.rules {
        Some(path) => crate::input::read(path, None)?,
        None => crate::input::Source {
            name: "team_5v5.rules".into(),
            text: DEFAULT_RULES.into(),
            format: rally_rules::SourceFormat::Dsl,
        },
    };
    let checked = rally_rules::check_source(&rule_set.text, rule_set.format);
    let Some(rule_set_model) = checked.rule_set else {
        anyhow::bail!(
            "`{}` is not a valid rule set (see `rally validate {}`)",
            rule_set.name,
            rule_set.name
        );
    };
    let population = population(&args.regions)?;
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
    }
    let file = std::fs::File::create(&args.out)
        .with_context(|| format!("cannot write `{}`", args.out.display()))?;
    let mut writer = BufWriter::new(file);
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let (mut starts, mut stops) = (0u64, 0u64);
    for entry in traffic(&rule_set_model, &population, &options, &mut rng) {
        match entry.command {
            rally_engine::Command::StartMatchmaking(_) => starts += 1,
            _ => stops += 1,
        }
        writeln!(writer, "{}", write_line(&entry))?;
    }
    writer.flush()?;
    writeln!(
        out,
        "{starts} tickets and {stops} give-ups over {} s to {}",
        args.duration,
        args.out.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

fn options(args: &GenerateArgs) -> anyhow::Result<TrafficOptions> {
    let raw = match &args.curve {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read `{}`", path.display()))?;
            parse_curve(&text).map_err(|e| anyhow::anyhow!("`{}`: {e}", path.display()))?
        }
        None if args.flat => vec![1.0],
        None => parse_curve(DIURNAL_CCU).map_err(anyhow::Error::msg)?,
    };
    let (mean, curve) = shape(&raw);
    let rate = args.rate.unwrap_or(mean);
    anyhow::ensure!(
        rate.is_finite() && rate > 0.0,
        "`--rate {rate}`: expected tickets per second above 0"
    );
    let (low, high) = (args.patience[0], args.patience[1]);
    anyhow::ensure!(
        low.is_finite() && high.is_finite() && 0.0 <= low && low <= high,
        "`--patience {low} {high}`: expected 0 ≤ MIN ≤ MAX"
    );
    Ok(TrafficOptions {
        curve,
        start_hour: args.start_hour,
        patience: (low, high),
        configuration_name: args.configuration.clone(),
        ..TrafficOptions::new(args.duration, rate)
    })
}

/// The embedded population, its players only near `regions` when some are named.
fn population(regions: &[String]) -> anyhow::Result<Population> {
    let mut population = Population::embedded();
    if regions.is_empty() {
        return Ok(population);
    }
    for region in regions {
        anyhow::ensure!(
            population.regions.contains(region),
            "`--regions {region}`: expected one of {}",
            population.regions.join(", ")
        );
    }
    for (share, name) in population.region_shares.iter_mut().zip(&population.regions) {
        if !regions.contains(name) {
            *share = 0.0;
        }
    }
    Ok(population)
}
