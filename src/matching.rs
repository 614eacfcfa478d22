//! `rally match`: runs one batch of the matcher over tickets from a JSON Lines file and prints
//! the matches, why the rest wait, and how each rule fared.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use rally_matchmaker::batch::{BatchOptions, BatchResult, run_batch};
use rally_matchmaker::pool::{Pool, undeclared_attributes};
use rally_matchmaker::ticket::json::parse_ticket_lines;
use rally_rules::diagnostic::{RenderStyle, render};
use rally_rules::model::{RuleKind, RuleSet};
use serde::Serialize;

use crate::input::{self, Color, OutputFormat};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The rule set: `.json` (FlexMatch) or `.rules` (rally DSL).
    #[arg(long, value_name = "FILE")]
    rules: String,
    /// Tickets, one `StartMatchmaking`-shaped JSON object per line.
    #[arg(long, value_name = "FILE")]
    tickets: String,
    /// The batch's time in seconds, on the tickets' `StartTime` clock [default: the latest
    /// `StartTime`].
    #[arg(long, value_name = "SECONDS", value_parser = input::finite_seconds)]
    at: Option<f64>,
    /// Seeds the match ids; the same input and seed give the same output.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

/// Reads and compiles a rule set, printing its diagnostics to standard error. `None` when it is
/// invalid (the caller exits 1).
pub fn load_rule_set(path: &str, color: Color) -> anyhow::Result<Option<RuleSet>> {
    let source = input::read(path, None)?;
    let checked = rally_rules::check_source(&source.text, source.format);
    let style = RenderStyle {
        color: color.for_stderr(),
    };
    eprint!(
        "{}",
        render(&checked.diagnostics, &source.name, &source.text, style)
    );
    if !checked.is_valid() {
        eprintln!("error: `{}` is not a valid rule set", source.name);
        return Ok(None);
    }
    Ok(checked.rule_set)
}

pub fn run(args: &Args, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let Some(rule_set) = load_rule_set(&args.rules, args.color)? else {
        return Ok(ExitCode::from(1));
    };
    let text = std::fs::read_to_string(&args.tickets)
        .with_context(|| format!("cannot read `{}`", args.tickets))?;
    let requests = match parse_ticket_lines(&text) {
        Ok(requests) => requests,
        Err(error) => {
            eprintln!("error: `{}` {error}", args.tickets);
            return Ok(ExitCode::from(1));
        }
    };
    let mut pool = Pool::new(Arc::new(rule_set));
    for (line, request) in &requests {
        for finding in undeclared_attributes(pool.rule_set(), request) {
            eprintln!("warning: `{}` line {line}: {finding}", args.tickets);
        }
        if let Err(error) = pool.insert(request) {
            eprintln!("error: `{}` line {line}: {error}", args.tickets);
            return Ok(ExitCode::from(1));
        }
    }
    let now = args.at.unwrap_or_else(|| {
        requests
            .iter()
            .map(|(_, r)| r.start_time)
            .fold(0.0, f64::max)
    });
    let result = run_batch(
        &pool,
        &BatchOptions {
            now,
            seed: args.seed,
        },
    );
    let report = Report::new(&pool, &result);
    match args.format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
        OutputFormat::Text => write!(out, "{}", report.text())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The batch's outcome in the shape `rally match --format json` prints.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    matches: Vec<MatchReport>,
    unmatched: Vec<UnmatchedReport>,
    rule_evaluation_metrics: Vec<RuleMetricReport>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MatchReport {
    match_id: String,
    teams: Vec<TeamReport>,
    locations: Vec<String>,
}

#[derive(Serialize)]
struct TeamReport {
    name: String,
    players: Vec<PlayerReport>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlayerReport {
    player_id: String,
    ticket_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UnmatchedReport {
    ticket_id: String,
    reasons: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleMetricReport {
    rule_name: String,
    passed_count: u64,
    failed_count: u64,
}

impl Report {
    fn new(pool: &Pool, result: &BatchResult) -> Report {
        let rule_set = pool.rule_set();
        let matches = result
            .matches
            .iter()
            .map(|found| MatchReport {
                match_id: found.id.to_string(),
                teams: found
                    .teams
                    .iter()
                    .enumerate()
                    .map(|(team, keys)| TeamReport {
                        name: rule_set.teams[team].name.clone(),
                        players: keys
                            .iter()
                            .flat_map(|key| {
                                let ticket = pool.ticket(*key);
                                let backfill = ticket.is_backfill();
                                ticket
                                    .players
                                    .iter()
                                    .filter(move |p| {
                                        !backfill || p.team().map(|t| t.0) == Some(team)
                                    })
                                    .map(|p| PlayerReport {
                                        player_id: pool.player_id(p).to_string(),
                                        ticket_id: ticket.id.to_string(),
                                    })
                            })
                            .collect(),
                    })
                    .collect(),
                locations: found
                    .locations
                    .iter()
                    .map(|l| pool.location_name(*l).to_string())
                    .collect(),
            })
            .collect();
        let unmatched = result
            .unmatched
            .iter()
            .map(|u| UnmatchedReport {
                ticket_id: pool.ticket(u.ticket).id.to_string(),
                reasons: u.reasons.clone(),
            })
            .collect();
        let rule_evaluation_metrics = rule_set
            .rules
            .iter()
            .enumerate()
            .filter(|(_, rule)| {
                !matches!(
                    rule.kind,
                    RuleKind::AbsoluteSort(_) | RuleKind::DistanceSort(_)
                )
            })
            .map(|(i, rule)| RuleMetricReport {
                rule_name: rule.name.clone(),
                passed_count: result.metrics.passed[i],
                failed_count: result.metrics.failed[i],
            })
            .collect();
        Report {
            matches,
            unmatched,
            rule_evaluation_metrics,
        }
    }

    fn text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for found in &self.matches {
            let locations = if found.locations.is_empty() {
                String::new()
            } else {
                format!(" at {}", found.locations.join(", "))
            };
            let _ = writeln!(out, "match {}{locations}", found.match_id);
            for team in &found.teams {
                let players: Vec<String> = team
                    .players
                    .iter()
                    .map(|p| format!("{} ({})", p.player_id, p.ticket_id))
                    .collect();
                let _ = writeln!(out, "  {}: {}", team.name, players.join(", "));
            }
        }
        for waiting in &self.unmatched {
            let _ = writeln!(out, "unmatched {}", waiting.ticket_id);
            for reason in &waiting.reasons {
                let _ = writeln!(out, "  - {reason}");
            }
        }
        if !self.rule_evaluation_metrics.is_empty() {
            let _ = writeln!(out, "rules:");
            for metric in &self.rule_evaluation_metrics {
                let _ = writeln!(
                    out,
                    "  {}: {} passed, {} failed",
                    metric.rule_name, metric.passed_count, metric.failed_count
                );
            }
        }
        let players: usize = self
            .matches
            .iter()
            .flat_map(|m| &m.teams)
            .map(|t| t.players.len())
            .sum();
        let count = |n: usize, one: &str, many: &str| match n {
            1 => format!("1 {one}"),
            n => format!("{n} {many}"),
        };
        let _ = writeln!(
            out,
            "{}, {} matched, {} waiting",
            count(self.matches.len(), "match", "matches"),
            count(players, "player", "players"),
            count(self.unmatched.len(), "ticket", "tickets")
        );
        out
    }
}
