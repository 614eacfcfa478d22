//! Matchmaking tickets as a game backend submits them, in GameLift's `StartMatchmaking` and
//! `StartMatchBackfill` shapes and field names, and reading them from JSON Lines.
//!
//! ```json
//! {"TicketId":"t1","StartTime":0,"Players":[{"PlayerId":"p1",
//!   "PlayerAttributes":{"skill":{"N":1200},"modes":{"SL":["ctf"]}},
//!   "LatencyInMs":{"us-east-1":40,"eu-west-1":110}}]}
//! ```
//!
//! A backfill ticket adds `"GameSessionArn"` and gives each current player's `"Team"`.

use std::collections::BTreeMap;
use std::fmt;

use rally_base::ErrorKind;
use serde::{Deserialize, Serialize};

/// GameLift's limits on a matchmaking request (API model and service quotas).
pub mod limits {
    pub const TICKET_ID_MAX_CHARS: usize = 128;
    pub const PLAYERS_PER_TICKET: usize = 10;
    /// `StartMatchBackfill` carries the game's current players as well.
    pub const PLAYERS_PER_BACKFILL_TICKET: usize = 199;
    pub const PLAYER_ID_MAX_CHARS: usize = 1024;
    pub const ATTRIBUTES_PER_PLAYER: usize = 10;
    pub const STRING_MAX_CHARS: usize = 100;
    pub const STRING_LIST_MAX_ITEMS: usize = 100;
    pub const STRING_NUMBER_MAP_MAX_ENTRIES: usize = 10;
}

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

/// What is wrong with a ticket, and where: a path such as `Players[0].PlayerAttributes.skill`,
/// and what kind of refusal it is, for front ends to map to a status.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct TicketError {
    pub kind: ErrorKind,
    pub path: String,
    pub message: String,
}

impl TicketError {
    pub fn new(
        kind: ErrorKind,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> TicketError {
        TicketError {
            kind,
            path: path.into(),
            message: message.into(),
        }
    }

    /// The ticket is malformed or contradicts the configuration at `path`.
    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> TicketError {
        TicketError::new(ErrorKind::InvalidArgument, path, message)
    }
}

impl fmt::Display for TicketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "`{}`: {}", self.path, self.message)
        }
    }
}

/// Reads one ticket from JSON, then checks it against GameLift's limits.
pub fn parse_ticket(json: &str) -> Result<TicketRequest, TicketError> {
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
    ticket.validate()?;
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
pub fn parse_ticket_lines(text: &str) -> Result<Vec<(usize, TicketRequest)>, LineError> {
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

    /// Checks GameLift's limits on ids, player counts and attribute values.
    pub fn validate(&self) -> Result<(), TicketError> {
        use limits::*;
        let id = &self.ticket_id;
        if id.is_empty() || id.chars().count() > TICKET_ID_MAX_CHARS {
            return Err(TicketError::invalid(
                "TicketId",
                format!(
                    "expected 1 to {TICKET_ID_MAX_CHARS} characters, found {}",
                    id.chars().count()
                ),
            ));
        }
        if let Some(bad) = id
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.')))
        {
            return Err(TicketError::invalid(
                "TicketId",
                format!("`{id}` holds `{bad}`; ticket ids use letters, digits, `-` and `.`"),
            ));
        }
        if !self.start_time.is_finite() {
            return Err(TicketError::invalid(
                "StartTime",
                "expected a finite number of seconds",
            ));
        }
        let max_players = if self.is_backfill() {
            PLAYERS_PER_BACKFILL_TICKET
        } else {
            PLAYERS_PER_TICKET
        };
        if self.players.is_empty() || self.players.len() > max_players {
            return Err(TicketError::invalid(
                "Players",
                format!(
                    "expected 1 to {max_players} players, found {}",
                    self.players.len()
                ),
            ));
        }
        if let Some(arn) = &self.game_session_arn
            && arn.is_empty()
        {
            return Err(TicketError::invalid(
                "GameSessionArn",
                "expected a game session ARN, found an empty string",
            ));
        }
        for (i, player) in self.players.iter().enumerate() {
            let at = |field: &str| format!("Players[{i}].{field}");
            let id_chars = player.player_id.chars().count();
            if id_chars == 0 || id_chars > PLAYER_ID_MAX_CHARS {
                return Err(TicketError::invalid(
                    at("PlayerId"),
                    format!("expected 1 to {PLAYER_ID_MAX_CHARS} characters, found {id_chars}"),
                ));
            }
            if let Some(other) = self.players[..i]
                .iter()
                .position(|p| p.player_id == player.player_id)
            {
                return Err(TicketError::invalid(
                    at("PlayerId"),
                    format!("player `{}` is also `Players[{other}]`", player.player_id),
                ));
            }
            if player.player_attributes.len() > ATTRIBUTES_PER_PLAYER {
                return Err(TicketError::invalid(
                    at("PlayerAttributes"),
                    format!(
                        "expected at most {ATTRIBUTES_PER_PLAYER} attributes, found {}",
                        player.player_attributes.len()
                    ),
                ));
            }
            for (name, value) in &player.player_attributes {
                let path = at(&format!("PlayerAttributes.{name}"));
                validate_attribute(value).map_err(|message| TicketError::invalid(path, message))?;
            }
            for (location, latency) in &player.latency_in_ms {
                if !(latency.is_finite() && *latency > 0.0 && latency.fract() == 0.0) {
                    return Err(TicketError::invalid(
                        at(&format!("LatencyInMs.{location}")),
                        format!(
                            "expected a positive whole number of milliseconds, found `{latency}`"
                        ),
                    ));
                }
            }
            match (&player.team, self.is_backfill()) {
                (None, true) => {
                    return Err(TicketError::invalid(
                        at("Team"),
                        "a backfill ticket gives each player's current team",
                    ));
                }
                (Some(_), false) => {
                    return Err(TicketError::invalid(
                        at("Team"),
                        "only backfill tickets (with a `GameSessionArn`) give players' teams",
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

fn validate_attribute(value: &AttributeValueRequest) -> Result<(), String> {
    use limits::*;
    value.kind()?;
    let check_string = |text: &str| {
        let chars = text.chars().count();
        if chars == 0 || chars > STRING_MAX_CHARS {
            Err(format!(
                "strings hold 1 to {STRING_MAX_CHARS} characters, found {chars}"
            ))
        } else {
            Ok(())
        }
    };
    if let Some(text) = &value.s {
        check_string(text)?;
    }
    if let Some(number) = value.n
        && !number.is_finite()
    {
        return Err("expected a finite number".to_string());
    }
    if let Some(list) = &value.sl {
        if list.len() > STRING_LIST_MAX_ITEMS {
            return Err(format!(
                "a string list holds at most {STRING_LIST_MAX_ITEMS} strings, found {}",
                list.len()
            ));
        }
        for text in list {
            check_string(text)?;
        }
    }
    if let Some(map) = &value.sdm {
        if map.len() > STRING_NUMBER_MAP_MAX_ENTRIES {
            return Err(format!(
                "a string-number map holds at most {STRING_NUMBER_MAP_MAX_ENTRIES} entries, found {}",
                map.len()
            ));
        }
        for (key, number) in map {
            check_string(key)?;
            if !number.is_finite() {
                return Err(format!("the value of `{key}` must be a finite number"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_gamelift_shape() {
        let ticket = parse_ticket(
            r#"{"TicketId":"t1","StartTime":3,"Players":[{"PlayerId":"p1","PlayerAttributes":{"skill":{"N":1200},"modes":{"SL":["ctf"]}},"LatencyInMs":{"us-east-1":40,"eu-west-1":110}}]}"#,
        )
        .unwrap();
        assert_eq!(ticket.ticket_id, "t1");
        assert_eq!(ticket.start_time, 3.0);
        let player = &ticket.players[0];
        assert_eq!(
            player.player_attributes["skill"],
            AttributeValueRequest::number(1200.0)
        );
        assert_eq!(
            player.player_attributes["modes"],
            AttributeValueRequest::string_list(["ctf"])
        );
        assert_eq!(player.latency_in_ms["eu-west-1"], 110.0);
        assert!(!ticket.is_backfill());
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
