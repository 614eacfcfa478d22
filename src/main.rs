//! The `rally` command line: a thin front end over the library crates. Each subcommand lives
//! in its own module and returns the process exit code.

mod bench;
mod bench_standing;
mod convert;
mod input;
mod loadgen;
mod matching;
mod place;
mod report_html;
mod serve;
mod simulate;
mod trace;
mod validate;

use std::io::Write as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Matchmaking and game-session placement with FlexMatch-compatible rule sets.
#[derive(Debug, Parser)]
#[command(name = "rally", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check rule sets (FlexMatch JSON or rally DSL) and explain what is wrong.
    Validate(validate::Args),
    /// Convert a rule set between FlexMatch JSON and the rally DSL.
    Convert(convert::Args),
    /// Run one matchmaking batch over tickets from a JSON Lines file.
    Match(matching::Args),
    /// Place game sessions: replay placement requests through a queue over fleets.
    Place(place::Args),
    /// Measure what a rule set costs: generate a realistic pool, run one batch, report.
    Bench(bench::Args),
    /// Write realistic tickets for a rule set as JSON Lines (input for `rally match`).
    Generate(bench::GenerateArgs),
    /// Run the matchmaking service over gRPC, on embedded defaults.
    Serve(serve::Args),
    /// Drive a live `rally serve` in real time and report rates, refusals and latencies.
    Loadgen(loadgen::Args),
    /// Replay a trace through the engine in virtual time and report waits, quality and cost.
    Simulate(simulate::Args),
    /// Work with traces: generate realistic traffic.
    #[command(subcommand)]
    Trace(trace::Command),
}

/// Exit status: 0 success, 1 invalid input, 2 usage or I/O error.
fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = std::io::stdout().lock();
    let result = match cli.command {
        Command::Validate(args) => validate::run(&args, &mut out),
        Command::Convert(args) => convert::run(&args, &mut out),
        Command::Match(args) => matching::run(&args, &mut out),
        Command::Place(args) => place::run(&args, &mut out),
        Command::Bench(args) => bench::run(&args, &mut out),
        Command::Generate(args) => bench::generate(&args, &mut out),
        Command::Serve(args) => serve::run(&args),
        Command::Loadgen(args) => loadgen::run(&args, &mut out),
        Command::Simulate(args) => simulate::run(&args, &mut out),
        Command::Trace(command) => trace::run(&command, &mut out),
    };
    let result = result.and_then(|code| {
        out.flush()?;
        Ok(code)
    });
    match result {
        Ok(code) => code,
        // A reader that stops early (`rally validate … | head`) is not an error.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
