//! `rally convert`: rewrites a rule set as FlexMatch JSON or in the rally DSL.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context as _;
use rally_rules::diagnostic::{RenderStyle, render};
use rally_rules::{MAX_BODY_CHARS, SourceFormat, check_source, print};

use crate::input::{self, Color, Format};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The rule set to convert; `-` reads standard input.
    #[arg(value_name = "FILE")]
    file: String,
    /// The format to write.
    #[arg(long, value_enum)]
    to: Format,
    /// Read the input as this format instead of guessing from its extension.
    #[arg(long, value_enum)]
    from: Option<Format>,
    /// Write here instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<String>,
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

/// Converts only a valid rule set: an invalid one could lose what the designer meant. Warnings
/// go to standard error and the conversion still happens.
pub fn run(args: &Args, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let source = input::read(&args.file, args.from.map(Into::into))?;
    let checked = check_source(&source.text, source.format);
    let style = RenderStyle {
        color: args.color.for_stderr(),
    };
    eprint!(
        "{}",
        render(&checked.diagnostics, &source.name, &source.text, style)
    );
    let (true, Some(ast)) = (checked.is_valid(), &checked.ast) else {
        eprintln!(
            "error: `{}` is not a valid rule set; nothing converted",
            source.name
        );
        return Ok(ExitCode::from(1));
    };
    let text = match SourceFormat::from(args.to) {
        SourceFormat::Json => print::to_json(ast),
        SourceFormat::Dsl => print::to_dsl(ast),
    };
    // A compact JSON source can grow past FlexMatch's limit once laid out canonically.
    let chars = text.chars().count();
    if args.to == Format::Json && chars > MAX_BODY_CHARS {
        eprintln!(
            "warning: the converted rule set is {chars} characters long; FlexMatch allows at most {MAX_BODY_CHARS}"
        );
    }
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("cannot write `{path}`"))?
        }
        None => write!(out, "{text}")?,
    }
    Ok(ExitCode::SUCCESS)
}
