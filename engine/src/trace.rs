//! The trace format: the traffic commands a service received, one per line with its arrival
//! time, as `rally serve --record` writes them and `rally loadgen --trace` and the simulator
//! replay them. JSON Lines, each `{"t": seconds, "op": "StartMatchmaking" |
//! "StopMatchmaking" | "AcceptMatch" | "StartMatchBackfill", "request": {…}}`, the request in
//! GameLift's shape (PascalCase members, attribute values as `{"N": 1200}`), as `rally
//! match` reads tickets. Text in, text out: reading files is the caller's.

use rally_base::Seconds;
use rally_matchmaker::ticket::json::PlayerRequest;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::engine::{AcceptMatch, AcceptanceType, Command, StartMatchBackfill, StartMatchmaking};

/// One recorded command and when it arrived (seconds since the recording began).
#[derive(Clone, Debug, PartialEq)]
pub struct TraceEntry {
    pub t: Seconds,
    pub command: Command,
}

/// A line that is not a trace entry: what is wrong, in one line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TraceError(pub String);

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    t: f64,
    op: String,
    request: Value,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct StartJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ticket_id: Option<String>,
    configuration_name: String,
    players: Vec<PlayerRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    game_session_arn: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct StopJson {
    ticket_id: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct AcceptJson {
    ticket_id: String,
    player_ids: Vec<String>,
    acceptance_type: String,
}

/// One entry as a line (no newline).
pub fn write_line(entry: &TraceEntry) -> String {
    let (op, request) = match &entry.command {
        Command::StartMatchmaking(c) => (
            "StartMatchmaking",
            start_json(&c.ticket_id, &c.configuration_name, &c.players, None),
        ),
        Command::StartMatchBackfill(c) => (
            "StartMatchBackfill",
            start_json(
                &c.ticket_id,
                &c.configuration_name,
                &c.players,
                c.game_session_arn.clone(),
            ),
        ),
        Command::StopMatchmaking { ticket_id } => (
            "StopMatchmaking",
            serde_json::to_value(StopJson {
                ticket_id: ticket_id.clone(),
            }),
        ),
        Command::AcceptMatch(c) => (
            "AcceptMatch",
            serde_json::to_value(AcceptJson {
                ticket_id: c.ticket_id.clone(),
                player_ids: c.player_ids.clone(),
                acceptance_type: match c.acceptance_type {
                    AcceptanceType::Accept => "ACCEPT".into(),
                    AcceptanceType::Reject => "REJECT".into(),
                },
            }),
        ),
    };
    let line = Line {
        t: entry.t,
        op: op.to_string(),
        request: request.expect("a request serialises"),
    };
    serde_json::to_string(&line).expect("a trace line serialises")
}

fn start_json(
    ticket_id: &Option<String>,
    configuration_name: &str,
    players: &[rally_matchmaker::ticket::NewPlayer],
    game_session_arn: Option<String>,
) -> serde_json::Result<Value> {
    serde_json::to_value(StartJson {
        ticket_id: ticket_id.clone(),
        configuration_name: configuration_name.to_string(),
        players: players.iter().map(PlayerRequest::from).collect(),
        game_session_arn,
    })
}

/// One line read back; errors name the member at fault.
pub fn parse_line(text: &str) -> Result<TraceEntry, TraceError> {
    let line: Line = serde_json::from_str(text).map_err(|e| TraceError(e.to_string()))?;
    if !line.t.is_finite() || line.t < 0.0 {
        return Err(TraceError(format!(
            "`t`: expected seconds of 0 or more, found {}",
            line.t
        )));
    }
    let command = match line.op.as_str() {
        "StartMatchmaking" => {
            let request: StartJson = read(line.request)?;
            Command::StartMatchmaking(StartMatchmaking {
                ticket_id: request.ticket_id,
                configuration_name: request.configuration_name,
                players: players(request.players)?,
            })
        }
        "StartMatchBackfill" => {
            let request: StartJson = read(line.request)?;
            Command::StartMatchBackfill(StartMatchBackfill {
                ticket_id: request.ticket_id,
                configuration_name: request.configuration_name,
                game_session_arn: request.game_session_arn,
                players: players(request.players)?,
            })
        }
        "StopMatchmaking" => {
            let request: StopJson = read(line.request)?;
            Command::StopMatchmaking {
                ticket_id: request.ticket_id,
            }
        }
        "AcceptMatch" => {
            let request: AcceptJson = read(line.request)?;
            let acceptance_type = match request.acceptance_type.as_str() {
                "ACCEPT" => AcceptanceType::Accept,
                "REJECT" => AcceptanceType::Reject,
                other => {
                    return Err(TraceError(format!(
                        "`request.AcceptanceType`: expected `ACCEPT` or `REJECT`, found `{other}`"
                    )));
                }
            };
            Command::AcceptMatch(AcceptMatch {
                ticket_id: request.ticket_id,
                player_ids: request.player_ids,
                acceptance_type,
            })
        }
        other => {
            return Err(TraceError(format!(
                "`op`: expected `StartMatchmaking`, `StopMatchmaking`, `AcceptMatch` or \
                 `StartMatchBackfill`, found `{other}`"
            )));
        }
    };
    Ok(TraceEntry { t: line.t, command })
}

fn read<T: serde::de::DeserializeOwned>(request: Value) -> Result<T, TraceError> {
    serde_json::from_value(request).map_err(|e| TraceError(format!("`request`: {e}")))
}

fn players(
    players: Vec<PlayerRequest>,
) -> Result<Vec<rally_matchmaker::ticket::NewPlayer>, TraceError> {
    players
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            p.into_player(i)
                .map_err(|e| TraceError(format!("`request.{}`: {}", e.path, e.message)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rally_matchmaker::ticket::NewPlayer;
    use rally_rules::model::AttributeValue;

    #[test]
    fn every_command_round_trips() {
        let mut player = NewPlayer::new("p1");
        player
            .attributes
            .insert("skill".into(), AttributeValue::Number(1200.0));
        player.latencies.insert("us-east-1".into(), 40);
        let commands = [
            Command::StartMatchmaking(StartMatchmaking {
                ticket_id: Some("t1".into()),
                configuration_name: "duel".into(),
                players: vec![player.clone()],
            }),
            Command::StartMatchBackfill(StartMatchBackfill {
                ticket_id: None,
                configuration_name: "duel".into(),
                game_session_arn: Some("arn:aws:gamelift:us-east-1::gamesession/f/gsess-1".into()),
                players: vec![NewPlayer {
                    team: Some("red".into()),
                    ..player
                }],
            }),
            Command::StopMatchmaking {
                ticket_id: "t1".into(),
            },
            Command::AcceptMatch(AcceptMatch {
                ticket_id: "t1".into(),
                player_ids: vec!["p1".into()],
                acceptance_type: AcceptanceType::Reject,
            }),
        ];
        for (i, command) in commands.into_iter().enumerate() {
            let entry = TraceEntry {
                t: i as f64 * 0.25,
                command,
            };
            let line = write_line(&entry);
            assert!(!line.contains('\n'));
            assert_eq!(parse_line(&line).unwrap(), entry, "{line}");
        }
    }

    #[test]
    fn the_shape_is_gamelifts() {
        let line = r#"{"t": 1.5, "op": "StartMatchmaking", "request": {"ConfigurationName": "duel", "Players": [{"PlayerId": "p", "PlayerAttributes": {"skill": {"N": 10}}, "LatencyInMs": {"us-east-1": 30}}]}}"#;
        let entry = parse_line(line).unwrap();
        assert_eq!(entry.t, 1.5);
        let Command::StartMatchmaking(start) = entry.command else {
            panic!("{entry:?}")
        };
        assert_eq!(start.ticket_id, None);
        assert_eq!(start.players[0].latencies["us-east-1"], 30);
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        let cases = [
            (
                r#"{"t": -1, "op": "StopMatchmaking", "request": {"TicketId": "a"}}"#,
                "`t`",
            ),
            (r#"{"t": 1, "op": "Dance", "request": {}}"#, "`op`"),
            (
                r#"{"t": 1, "op": "StopMatchmaking", "request": {}}"#,
                "`request`",
            ),
            (
                r#"{"t": 1, "op": "AcceptMatch", "request": {"TicketId": "a", "PlayerIds": [], "AcceptanceType": "MAYBE"}}"#,
                "AcceptanceType",
            ),
            (
                r#"{"t": 1, "op": "StartMatchmaking", "request": {"ConfigurationName": "d", "Players": [{"PlayerId": "p", "LatencyInMs": {"x": 0.5}}]}}"#,
                "LatencyInMs.x",
            ),
        ];
        for (line, expected) in cases {
            let error = parse_line(line).unwrap_err();
            assert!(error.0.contains(expected), "{line}: {error}");
        }
    }
}
