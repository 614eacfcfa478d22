//! The JSON edge: tickets in GameLift's `StartMatchmaking` and `StartMatchBackfill` shapes and
//! field names, read from JSON Lines and turned into [`NewTicket`]s (and written back, for
//! `rally generate`). A wrong shape — an attribute value with both `S` and `N`, a latency
//! that is no whole number — is reported here, with its field; the limits every ticket
//! meets are [`NewTicket::validate`]'s.
//!
//! ```json
//! {"TicketId":"t1","StartTime":0,"Players":[{"PlayerId":"p1",
//!   "PlayerAttributes":{"skill":{"N":1200},"modes":{"SL":["ctf"]}},
//!   "LatencyInMs":{"us-east-1":40,"eu-west-1":110}}]}
//! ```
//!
//! A backfill ticket adds `"GameSessionArn"` and gives each current player's `"Team"`.

use std::collections::BTreeMap;

use rally_rules::model::AttributeValue;
use serde::{Deserialize, Serialize};

use super::{NewPlayer, NewTicket, TicketError};

/// One ticket as submitted.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct TicketRequest {
    pub ticket_id: String,
    /// Seconds on the caller's clock; the ticket's age is measured from it.
    #[serde(default)]
    pub start_time: f64,
    pub players: Vec<PlayerRequest>,
    /// Set on a backfill ticket: the running game session it fills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub game_session_arn: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct PlayerRequest {
    pub player_id: String,
    #[serde(default)]
    pub player_attributes: BTreeMap<String, AttributeValueRequest>,
    /// Round-trip latency in milliseconds to each location the player can reach.
    #[serde(default)]
    pub latency_in_ms: BTreeMap<String, f64>,
    /// On a backfill ticket, the team the player is already on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
}

/// GameLift's `AttributeValue`: exactly one of `S`, `N`, `SL` or `SDM`.
#[derive(Clone, Debug, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeValueRequest {
    #[serde(rename = "S", default, skip_serializing_if = "Option::is_none")]
    pub s: Option<String>,
    #[serde(rename = "N", default, skip_serializing_if = "Option::is_none")]
    pub n: Option<f64>,
    #[serde(rename = "SL", default, skip_serializing_if = "Option::is_none")]
    pub sl: Option<Vec<String>>,
    #[serde(rename = "SDM", default, skip_serializing_if = "Option::is_none")]
    pub sdm: Option<BTreeMap<String, f64>>,
}

impl AttributeValueRequest {
    pub fn number(value: f64) -> AttributeValueRequest {
        AttributeValueRequest {
            n: Some(value),
            ..AttributeValueRequest::default()
        }
    }

    pub fn string(value: impl Into<String>) -> AttributeValueRequest {
        AttributeValueRequest {
            s: Some(value.into()),
            ..AttributeValueRequest::default()
        }
    }

    pub fn string_list(
        values: impl IntoIterator<Item = impl Into<String>>,
    ) -> AttributeValueRequest {
        AttributeValueRequest {
            sl: Some(values.into_iter().map(Into::into).collect()),
            ..AttributeValueRequest::default()
        }
    }

    pub fn string_number_map(
        entries: impl IntoIterator<Item = (impl Into<String>, f64)>,
    ) -> AttributeValueRequest {
        AttributeValueRequest {
            sdm: Some(entries.into_iter().map(|(k, v)| (k.into(), v)).collect()),
            ..AttributeValueRequest::default()
        }
    }

    /// The value in the rule-set model's terms, or an error when not exactly one member is
    /// set.
    pub fn into_value(self) -> Result<AttributeValue, String> {
        self.kind()?;
        Ok(if let Some(text) = self.s {
            AttributeValue::String(text)
        } else if let Some(number) = self.n {
            AttributeValue::Number(number)
        } else if let Some(list) = self.sl {
            AttributeValue::StringList(list)
        } else {
            // A BTreeMap iterates in key order, as the model's maps are sorted.
            AttributeValue::StringNumberMap(self.sdm.unwrap_or_default().into_iter().collect())
        })
    }

    /// The GameLift member that is set, or an error when not exactly one is.
    pub fn kind(&self) -> Result<&'static str, String> {
        let set: Vec<&'static str> = [
            ("S", self.s.is_some()),
            ("N", self.n.is_some()),
            ("SL", self.sl.is_some()),
            ("SDM", self.sdm.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect();
        match set.as_slice() {
            [one] => Ok(one),
            [] => Err("set exactly one of `S`, `N`, `SL` or `SDM`, found none".to_string()),
            many => Err(format!(
                "set exactly one of `S`, `N`, `SL` or `SDM`, found {}",
                many.iter()
                    .map(|name| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            )),
        }
    }
}

/// Reads one ticket from JSON, then checks it against GameLift's limits.
pub fn parse_ticket(json: &str) -> Result<NewTicket, TicketError> {
    read_request(json)?.into_ticket()
}

/// Reads one ticket from JSON in GameLift's shape, unchecked: a line that is no object, is
/// cut short, or holds a field of the wrong JSON type is an error.
pub fn read_request(json: &str) -> Result<TicketRequest, TicketError> {
    if let Some(found) = not_an_object(json) {
        return Err(TicketError::invalid(
            "",
            format!("expected a ticket, a JSON object `{{…}}` on one line; found {found}"),
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let ticket: TicketRequest =
        serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            let path = error.path().to_string();
            let inner = error.into_inner();
            let path = if path == "." { String::new() } else { path };
            if inner.is_eof() {
                // Cut off inside a value, the path ends in a field not read yet: `?`.
                let path = path.trim_end_matches('?').trim_end_matches('.').to_string();
                return TicketError::invalid(
                    path,
                    format!(
                        "the line ends in the middle of the ticket (after {} characters): it \
                         looks cut short",
                        json.trim_end().chars().count()
                    ),
                );
            }
            // serde_json appends "at line L column C"; the caller names the line already.
            let message = inner.to_string();
            let message = match message.rfind(" at line ") {
                Some(at) => message[..at].to_string(),
                None => message,
            };
            TicketError::invalid(path, message)
        })?;
    deserializer
        .end()
        .map_err(|_| TicketError::invalid("", "unexpected text after the ticket"))?;
    Ok(ticket)
}

/// What a line that is not a JSON object holds instead, in words; `None` for an object.
fn not_an_object(json: &str) -> Option<String> {
    let text = json.trim_start();
    let first = text.chars().next()?;
    Some(match first {
        '{' => return None,
        '\u{FEFF}' => {
            "a byte-order mark (U+FEFF) before it; save the file as UTF-8 without one".to_string()
        }
        '[' => "an array".to_string(),
        '"' => "a string".to_string(),
        '-' | '0'..='9' => "a number".to_string(),
        't' | 'f' if text.starts_with("true") || text.starts_with("false") => {
            "a boolean".to_string()
        }
        'n' if text.starts_with("null") => "`null`".to_string(),
        _ => {
            let start: String = text.chars().take(12).flat_map(char::escape_debug).collect();
            format!("text that is not JSON, starting `{start}`")
        }
    })
}

/// A ticket that could not be read from a JSON Lines file: which line, and what.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {error}")]
pub struct LineError {
    pub line: usize,
    pub error: TicketError,
}

/// Reads tickets from JSON Lines, one ticket per line; blank lines are skipped. The first
/// malformed line is an error, and no ticket is returned.
pub fn parse_ticket_lines(text: &str) -> Result<Vec<(usize, NewTicket)>, LineError> {
    let mut tickets = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let ticket = parse_ticket(line).map_err(|error| LineError {
            line: index + 1,
            error,
        })?;
        tickets.push((index + 1, ticket));
    }
    Ok(tickets)
}

impl TicketRequest {
    pub fn is_backfill(&self) -> bool {
        self.game_session_arn.is_some()
    }

    /// The ticket in the matcher's terms, checked against GameLift's limits
    /// ([`NewTicket::validate`]).
    pub fn into_ticket(self) -> Result<NewTicket, TicketError> {
        let players = self
            .players
            .into_iter()
            .enumerate()
            .map(|(i, player)| player.into_player(i))
            .collect::<Result<_, _>>()?;
        let ticket = NewTicket {
            id: self.ticket_id,
            start_time: self.start_time,
            players,
            game_session_arn: self.game_session_arn,
        };
        ticket.validate()?;
        Ok(ticket)
    }
}

impl PlayerRequest {
    /// Player `i` of a ticket, each attribute value of one shape and each latency a whole
    /// number of milliseconds.
    pub fn into_player(self, i: usize) -> Result<NewPlayer, TicketError> {
        let attributes = self
            .player_attributes
            .into_iter()
            .map(|(name, value)| match value.into_value() {
                Ok(value) => Ok((name, value)),
                Err(message) => Err(TicketError::invalid(
                    format!("Players[{i}].PlayerAttributes.{name}"),
                    message,
                )),
            })
            .collect::<Result<_, _>>()?;
        let latencies = self
            .latency_in_ms
            .into_iter()
            .map(|(location, ms)| match whole_milliseconds(ms) {
                Ok(ms) => Ok((location, ms)),
                Err(message) => Err(TicketError::invalid(
                    format!("Players[{i}].LatencyInMs.{location}"),
                    message,
                )),
            })
            .collect::<Result<_, _>>()?;
        Ok(NewPlayer {
            id: self.player_id,
            attributes,
            latencies,
            team: self.team,
        })
    }
}

/// A latency as the matcher holds it: a whole number of milliseconds, at least 1.
fn whole_milliseconds(ms: f64) -> Result<u32, String> {
    if !(ms.is_finite() && ms > 0.0 && ms.fract() == 0.0) {
        return Err(format!(
            "expected a positive whole number of milliseconds, found `{ms}`"
        ));
    }
    if ms > f64::from(u32::MAX) {
        return Err(format!(
            "expected at most {} milliseconds, found `{ms}`",
            u32::MAX
        ));
    }
    Ok(ms as u32)
}

impl From<&NewTicket> for TicketRequest {
    fn from(ticket: &NewTicket) -> TicketRequest {
        TicketRequest {
            ticket_id: ticket.id.clone(),
            start_time: ticket.start_time,
            players: ticket.players.iter().map(PlayerRequest::from).collect(),
            game_session_arn: ticket.game_session_arn.clone(),
        }
    }
}

impl From<&NewPlayer> for PlayerRequest {
    fn from(player: &NewPlayer) -> PlayerRequest {
        PlayerRequest {
            player_id: player.id.clone(),
            player_attributes: player
                .attributes
                .iter()
                .map(|(name, value)| (name.clone(), AttributeValueRequest::from(value)))
                .collect(),
            latency_in_ms: player
                .latencies
                .iter()
                .map(|(location, ms)| (location.clone(), f64::from(*ms)))
                .collect(),
            team: player.team.clone(),
        }
    }
}

impl From<&AttributeValue> for AttributeValueRequest {
    fn from(value: &AttributeValue) -> AttributeValueRequest {
        match value {
            AttributeValue::String(text) => AttributeValueRequest::string(text.as_str()),
            AttributeValue::Number(number) => AttributeValueRequest::number(*number),
            AttributeValue::StringList(list) => {
                AttributeValueRequest::string_list(list.iter().map(String::as_str))
            }
            AttributeValue::StringNumberMap(map) => AttributeValueRequest::string_number_map(
                map.iter().map(|(key, number)| (key.as_str(), *number)),
            ),
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use rally_base::ErrorKind;

    #[test]
    fn reads_the_gamelift_shape() {
        let ticket = parse_ticket(
            r#"{"TicketId":"t1","StartTime":3,"Players":[{"PlayerId":"p1","PlayerAttributes":{"skill":{"N":1200},"modes":{"SL":["ctf"]}},"LatencyInMs":{"us-east-1":40,"eu-west-1":110}}]}"#,
        )
        .unwrap();
        assert_eq!(ticket.id, "t1");
        assert_eq!(ticket.start_time, 3.0);
        let player = &ticket.players[0];
        assert_eq!(player.attributes["skill"], AttributeValue::Number(1200.0));
        assert_eq!(
            player.attributes["modes"],
            AttributeValue::StringList(vec!["ctf".into()])
        );
        assert_eq!(player.latencies["eu-west-1"], 110);
        assert!(!ticket.is_backfill());
    }

    #[test]
    fn a_value_of_no_one_shape_is_refused_with_its_field() {
        let cases = [
            (
                r#"{"TicketId":"t1","Players":[{"PlayerId":"p1","PlayerAttributes":{"skill":{}}}]}"#,
                "`Players[0].PlayerAttributes.skill`: set exactly one of `S`, `N`, `SL` or `SDM`, found none",
            ),
            (
                r#"{"TicketId":"t1","Players":[{"PlayerId":"p1","PlayerAttributes":{"skill":{"S":"a","N":1}}}]}"#,
                "`Players[0].PlayerAttributes.skill`: set exactly one of `S`, `N`, `SL` or `SDM`, found `S` and `N`",
            ),
            (
                r#"{"TicketId":"t1","Players":[{"PlayerId":"p1","LatencyInMs":{"a":1.5}}]}"#,
                "`Players[0].LatencyInMs.a`: expected a positive whole number of milliseconds, found `1.5`",
            ),
            (
                r#"{"TicketId":"t1","Players":[{"PlayerId":"p1","LatencyInMs":{"a":1e12}}]}"#,
                "`Players[0].LatencyInMs.a`: expected at most 4294967295 milliseconds, found `1000000000000`",
            ),
        ];
        for (json, message) in cases {
            let error = parse_ticket(json).unwrap_err();
            assert_eq!(error.to_string(), message);
            assert_eq!(error.kind, ErrorKind::InvalidArgument);
        }
    }

    #[test]
    fn a_ticket_written_back_reads_the_same() {
        let json = r#"{"TicketId":"b1","StartTime":2.5,"Players":[{"PlayerId":"p1","PlayerAttributes":{"m":{"SDM":{"y":2,"x":1}},"name":{"S":"ann"},"skill":{"N":3},"tags":{"SL":["a","a"]}},"LatencyInMs":{"a":40},"Team":"red"}],"GameSessionArn":"arn:gs/1"}"#;
        let ticket = parse_ticket(json).unwrap();
        let written = serde_json::to_string(&TicketRequest::from(&ticket)).unwrap();
        assert_eq!(parse_ticket(&written).unwrap(), ticket);
        assert_eq!(
            ticket.players[0].attributes["m"],
            AttributeValue::StringNumberMap(vec![("x".into(), 1.0), ("y".into(), 2.0)])
        );
        assert!(written.contains(r#""LatencyInMs":{"a":40.0}"#), "{written}");
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                r#"{"TicketId":"t1","Players":[{"PlayerId":"p1","PlayerAttributes":{"skill":{"N":"high"}}}]}"#,
                "Players[0].PlayerAttributes.skill.N",
            ),
            (
                r#"{"TicketId":"t1","Players":[{"PlayerId":"p1","PlayerAttributes":{"skill":{"N":1,"S":"x"}}}]}"#,
                "Players[0].PlayerAttributes.skill",
            ),
            (
                r#"{"TicketId":"t1","Players":[{"PlayerId":"p1","Latency":{}}]}"#,
                "Players[0].Latency",
            ),
            (r#"{"TicketId":"t1","Players":[]}"#, "Players"),
            (
                r#"{"TicketId":"t 1","Players":[{"PlayerId":"p1"}]}"#,
                "TicketId",
            ),
            (
                r#"{"TicketId":"t1","Players":[{"PlayerId":"p1","LatencyInMs":{"us-east-1":-4}}]}"#,
                "Players[0].LatencyInMs.us-east-1",
            ),
            (
                r#"{"TicketId":"t1","Players":[{"PlayerId":"p1","Team":"red"}]}"#,
                "Players[0].Team",
            ),
            (
                r#"{"TicketId":"t1","Players":[{"PlayerId":"p1"},{"PlayerId":"p1"}]}"#,
                "Players[1].PlayerId",
            ),
        ];
        for (json, path) in cases {
            let error = parse_ticket(json).expect_err(json);
            assert_eq!(error.path, path, "{json}: {error}");
            assert_eq!(error.kind, ErrorKind::InvalidArgument, "{json}");
            assert!(!error.message.contains(" at line "), "{}", error.message);
        }
        let missing = parse_ticket(r#"{"Players":[{"PlayerId":"p1"}]}"#).unwrap_err();
        assert_eq!(missing.to_string(), "missing field `TicketId`");
    }

    #[test]
    fn lines_that_are_no_ticket_say_what_they_are() {
        let cases = [
            (
                "\u{FEFF}{\"TicketId\":\"t1\",\"Players\":[{\"PlayerId\":\"p1\"}]}",
                "expected a ticket, a JSON object `{…}` on one line; found a byte-order mark (U+FEFF) before it; save the file as UTF-8 without one",
            ),
            (
                r#"[{"TicketId":"t1"}]"#,
                "expected a ticket, a JSON object `{…}` on one line; found an array",
            ),
            (
                "ticket t1",
                "expected a ticket, a JSON object `{…}` on one line; found text that is not JSON, starting `ticket t1`",
            ),
            (
                r#"{"TicketId":"t1","Players":[{"PlayerId":"p1""#,
                "`Players[0]`: the line ends in the middle of the ticket (after 44 characters): it looks cut short",
            ),
        ];
        for (line, message) in cases {
            assert_eq!(
                parse_ticket(line).unwrap_err().to_string(),
                message,
                "{line}"
            );
        }
    }

    #[test]
    fn lines_are_numbered_and_blank_lines_skipped() {
        let text =
            "\n{\"TicketId\":\"a\",\"Players\":[{\"PlayerId\":\"p\"}]}\n\n{\"TicketId\":\"b\"}\n";
        let error = parse_ticket_lines(text).unwrap_err();
        assert_eq!(error.line, 4);
        assert_eq!(error.to_string(), "line 4: missing field `Players`");
    }
}
