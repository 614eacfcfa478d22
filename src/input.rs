//! Reading rule-set files (or standard input) and choosing how to print diagnostics.

use std::io::{IsTerminal, Read};
use std::path::Path;

use anyhow::Context as _;
use rally_rules::SourceFormat;

/// A rule-set text and the name to show for it.
pub struct Source {
    pub name: String,
    pub text: String,
    pub format: SourceFormat,
}

/// Reads `path`, or standard input for `-`; `format` overrides detection.
pub fn read(path: &str, format: Option<SourceFormat>) -> anyhow::Result<Source> {
    let (name, text) = if path == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read standard input")?;
        ("<stdin>".to_string(), text)
    } else {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read `{path}`"))?;
        (path.to_string(), text)
    };
    let detected_from = (path != "-").then(|| Path::new(path));
    let format = format.unwrap_or_else(|| SourceFormat::detect(detected_from, &text));
    Ok(Source { name, text, format })
}

/// How a subcommand prints its results: for people, or for programs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    /// Colour when writing to a terminal and `NO_COLOR` is unset.
    Auto,
    Always,
    Never,
}

impl Color {
    pub fn enabled(self, stream_is_terminal: bool) -> bool {
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => stream_is_terminal && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    pub fn for_stdout(self) -> bool {
        self.enabled(std::io::stdout().is_terminal())
    }

    pub fn for_stderr(self) -> bool {
        self.enabled(std::io::stderr().is_terminal())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Dsl,
}

impl From<Format> for SourceFormat {
    fn from(format: Format) -> SourceFormat {
        match format {
            Format::Json => SourceFormat::Json,
            Format::Dsl => SourceFormat::Dsl,
        }
    }
}

/// A command-line number of seconds: finite, since a batch time or window of NaN or
/// infinity means nothing.
pub fn finite_seconds(text: &str) -> Result<f64, String> {
    let seconds: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("expected a number of seconds, found `{text}`"))?;
    if seconds.is_finite() {
        Ok(seconds)
    } else {
        Err(format!(
            "expected a finite number of seconds, found `{text}`"
        ))
    }
}
