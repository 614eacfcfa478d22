//! A recorded trace as a plan: each line's command as its gRPC call, due at its recorded
//! time (divided by `--speed`) from the first line's.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context as _;
use rally_engine::trace::parse_line;
use rally_engine::{AcceptanceType, Command};
use rally_server::proto::v1 as pb;

use super::calls::{Call, wire_players};
use super::plan::{Calls, Pace, Plan};
use super::tracker::TicketIds;

/// The trace at `path`, replayed at `speed` times its pace; and the ids of the tickets it
/// starts, for the tracker.
pub fn plan(path: &str, speed: f64) -> anyhow::Result<(Plan, TicketIds)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read `{path}`"))?;
    let mut calls = Vec::new();
    let mut times = Vec::new();
    let mut slots = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let entry = parse_line(line)
            .map_err(|error| anyhow::anyhow!("`{path}` line {}: {}", n + 1, error.0))?;
        anyhow::ensure!(
            entry.t.is_finite() && entry.t >= 0.0,
            "`{path}` line {}: `t` must be a finite number of seconds, 0 or more",
            n + 1
        );
        let call = call(entry.command);
        let slot = started_ticket(&call).map(|id| {
            let next = slots.len();
            *slots.entry(id.to_string()).or_insert(next)
        });
        times.push(entry.t);
        calls.push((call, slot));
    }
    let first = times.iter().copied().fold(f64::INFINITY, f64::min);
    let times: Vec<Duration> = times
        .iter()
        .map(|t| Duration::from_secs_f64((t - first) / speed))
        .collect();
    let span = times.iter().max().copied().unwrap_or_default();
    let plan = Plan {
        count: calls.len(),
        tickets: slots.len(),
        calls: Calls::Trace(calls),
        pace: Pace::Times(times),
        // A server that falls behind gets a tenth more time, then the rest goes unsent.
        deadline: span.mul_f64(1.1) + Duration::from_secs(1),
    };
    Ok((plan, TicketIds::Named(slots)))
}

/// The id of the ticket `call` starts, when it names one (events for a ticket the server
/// named cannot be told apart).
fn started_ticket(call: &Call) -> Option<&str> {
    let id = match call {
        Call::Start(request) => &request.ticket_id,
        Call::Backfill(request) => &request.ticket_id,
        _ => return None,
    };
    (!id.is_empty()).then_some(id.as_str())
}

fn call(command: Command) -> Call {
    match command {
        Command::StartMatchmaking(request) => Call::Start(pb::StartMatchmakingRequest {
            ticket_id: request.ticket_id.unwrap_or_default(),
            configuration_name: request.configuration_name,
            players: wire_players(&request.players),
        }),
        Command::StopMatchmaking { ticket_id } => {
            Call::Stop(pb::StopMatchmakingRequest { ticket_id })
        }
        Command::AcceptMatch(request) => {
            use pb::accept_match_request::AcceptanceType as Wire;
            let acceptance = match request.acceptance_type {
                AcceptanceType::Accept => Wire::Accept,
                AcceptanceType::Reject => Wire::Reject,
            };
            Call::Accept(pb::AcceptMatchRequest {
                ticket_id: request.ticket_id,
                player_ids: request.player_ids,
                acceptance_type: acceptance as i32,
            })
        }
        Command::StartMatchBackfill(request) => Call::Backfill(pb::StartMatchBackfillRequest {
            ticket_id: request.ticket_id.unwrap_or_default(),
            configuration_name: request.configuration_name,
            game_session_arn: request.game_session_arn.unwrap_or_default(),
            players: wire_players(&request.players),
        }),
    }
}
