//! The `rally` command line: a thin front end over the library crates. Each subcommand lives
//! in its own module and returns the process exit code.

mod convert;
mod input;
mod validate;

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
}

/// Exit status: 0 success, 1 invalid input, 2 usage or I/O error.
fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Convert(args) => convert::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
