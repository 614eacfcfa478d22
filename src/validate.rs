//! `rally validate`: checks rule sets and reports every problem, as text or JSON.

use std::io::Write;
use std::process::ExitCode;

use rally_rules::diagnostic::{DiagnosticRecord, RenderStyle, render};
use rally_rules::span::LineIndex;
use rally_rules::{Severity, check_source};
use serde::Serialize;

use crate::input::{self, Color, Format, OutputFormat};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rule-set files: `.json` (FlexMatch) or `.rules` (rally DSL); `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
    /// How to print the findings.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
    /// Read every file as this format instead of guessing from its extension.
    #[arg(long, value_enum)]
    from: Option<Format>,
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

#[derive(Serialize)]
struct Report {
    files: Vec<FileReport>,
}

#[derive(Serialize)]
struct FileReport {
    file: String,
    valid: bool,
    diagnostics: Vec<DiagnosticRecord>,
}

/// 0 when every file is valid (warnings allowed), 1 when any is invalid, 2 when a file
/// cannot be read.
pub fn run(args: &Args, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let style = RenderStyle {
        color: args.color.for_stdout(),
    };
    let mut report = Report { files: Vec::new() };
    let mut any_invalid = false;
    let mut any_unreadable = false;
    for path in &args.files {
        let source = match input::read(path, args.from.map(Into::into)) {
            Ok(source) => source,
            Err(error) => {
                eprintln!("error: {error:#}");
                any_unreadable = true;
                continue;
            }
        };
        let checked = check_source(&source.text, source.format);
        let valid = checked.is_valid();
        any_invalid |= !valid;
        match args.format {
            OutputFormat::Text => {
                let rendered = render(&checked.diagnostics, &source.name, &source.text, style);
                write!(out, "{rendered}")?;
                writeln!(
                    out,
                    "{}",
                    summary(&source.name, valid, &checked.diagnostics)
                )?;
            }
            OutputFormat::Json => {
                let index = LineIndex::new(&source.text);
                report.files.push(FileReport {
                    file: source.name,
                    valid,
                    diagnostics: checked
                        .diagnostics
                        .iter()
                        .map(|diagnostic| DiagnosticRecord::new(diagnostic, &index))
                        .collect(),
                });
            }
        }
    }
    if args.format == OutputFormat::Json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    }
    Ok(if any_unreadable {
        ExitCode::from(2)
    } else if any_invalid {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `file: valid` or `file: invalid (2 errors, 1 warning)`.
fn summary(name: &str, valid: bool, diagnostics: &[rally_rules::Diagnostic]) -> String {
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diagnostics.len() - errors;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut counts = Vec::new();
    if errors > 0 {
        counts.push(plural(errors, "error"));
    }
    if warnings > 0 {
        counts.push(plural(warnings, "warning"));
    }
    let verdict = if valid { "valid" } else { "invalid" };
    if counts.is_empty() {
        format!("{name}: {verdict}")
    } else {
        format!("{name}: {verdict} ({})", counts.join(", "))
    }
}
