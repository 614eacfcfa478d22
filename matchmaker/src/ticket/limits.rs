//! GameLift's limits on a matchmaking request (API model and service quotas), and checking a
//! ticket against them.

use rally_rules::model::AttributeValue;

use super::{NewTicket, TicketError};

pub const TICKET_ID_MAX_CHARS: usize = 128;
pub const PLAYERS_PER_TICKET: usize = 10;
/// `StartMatchBackfill` carries the game's current players as well.
pub const PLAYERS_PER_BACKFILL_TICKET: usize = 199;
pub const PLAYER_ID_MAX_CHARS: usize = 1024;
pub const ATTRIBUTES_PER_PLAYER: usize = 10;
pub const STRING_MAX_CHARS: usize = 100;
pub const STRING_LIST_MAX_ITEMS: usize = 100;
pub const STRING_NUMBER_MAP_MAX_ENTRIES: usize = 10;

impl NewTicket {
    /// Checks GameLift's limits on ids, player counts and attribute values, and that only a
    /// backfill ticket gives players' teams. Every error is `InvalidArgument`.
    pub fn validate(&self) -> Result<(), TicketError> {
        self.validate_header()?;
        for i in 0..self.players.len() {
            self.validate_player(i)?;
        }
        Ok(())
    }

    /// The ticket's own fields: id, start time, how many players, game session.
    fn validate_header(&self) -> Result<(), TicketError> {
        let id = &self.id;
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
        Ok(())
    }

    /// Player `i`: id, attributes, latencies and team.
    fn validate_player(&self, i: usize) -> Result<(), TicketError> {
        let player = &self.players[i];
        let at = |field: &str| format!("Players[{i}].{field}");
        let id_chars = player.id.chars().count();
        if id_chars == 0 || id_chars > PLAYER_ID_MAX_CHARS {
            return Err(TicketError::invalid(
                at("PlayerId"),
                format!("expected 1 to {PLAYER_ID_MAX_CHARS} characters, found {id_chars}"),
            ));
        }
        if let Some(other) = self.players[..i].iter().position(|p| p.id == player.id) {
            return Err(TicketError::invalid(
                at("PlayerId"),
                format!("player `{}` is also `Players[{other}]`", player.id),
            ));
        }
        if player.attributes.len() > ATTRIBUTES_PER_PLAYER {
            return Err(TicketError::invalid(
                at("PlayerAttributes"),
                format!(
                    "expected at most {ATTRIBUTES_PER_PLAYER} attributes, found {}",
                    player.attributes.len()
                ),
            ));
        }
        for (name, value) in &player.attributes {
            validate_attribute(value).map_err(|message| {
                TicketError::invalid(at(&format!("PlayerAttributes.{name}")), message)
            })?;
        }
        for (location, ms) in &player.latencies {
            if *ms == 0 {
                return Err(TicketError::invalid(
                    at(&format!("LatencyInMs.{location}")),
                    "expected a positive whole number of milliseconds, found `0`",
                ));
            }
        }
        match (&player.team, self.is_backfill()) {
            (None, true) => Err(TicketError::invalid(
                at("Team"),
                "a backfill ticket gives each player's current team",
            )),
            (Some(_), false) => Err(TicketError::invalid(
                at("Team"),
                "only backfill tickets (with a `GameSessionArn`) give players' teams",
            )),
            _ => Ok(()),
        }
    }
}

fn validate_attribute(value: &AttributeValue) -> Result<(), String> {
    match value {
        AttributeValue::String(text) => check_string(text),
        AttributeValue::Number(number) if !number.is_finite() => {
            Err("expected a finite number".to_string())
        }
        AttributeValue::Number(_) => Ok(()),
        AttributeValue::StringList(list) => {
            if list.len() > STRING_LIST_MAX_ITEMS {
                return Err(format!(
                    "a string list holds at most {STRING_LIST_MAX_ITEMS} strings, found {}",
                    list.len()
                ));
            }
            list.iter().try_for_each(|text| check_string(text))
        }
        AttributeValue::StringNumberMap(map) => {
            if map.len() > STRING_NUMBER_MAP_MAX_ENTRIES {
                return Err(format!(
                    "a string-number map holds at most {STRING_NUMBER_MAP_MAX_ENTRIES} entries, found {}",
                    map.len()
                ));
            }
            for (i, (key, number)) in map.iter().enumerate() {
                check_string(key)?;
                if !number.is_finite() {
                    return Err(format!("the value of `{key}` must be a finite number"));
                }
                if map[..i].iter().any(|(earlier, _)| earlier == key) {
                    return Err(format!("the key `{key}` appears twice"));
                }
            }
            Ok(())
        }
    }
}

fn check_string(text: &str) -> Result<(), String> {
    let chars = text.chars().count();
    if chars == 0 || chars > STRING_MAX_CHARS {
        Err(format!(
            "strings hold 1 to {STRING_MAX_CHARS} characters, found {chars}"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ticket::NewPlayer;
    use rally_base::ErrorKind;

    fn solo(player: NewPlayer) -> NewTicket {
        NewTicket {
            id: "t1".into(),
            start_time: 0.0,
            players: vec![player],
            game_session_arn: None,
        }
    }

    #[test]
    fn values_no_json_could_hold_are_refused_with_their_field() {
        let mut nan_time = solo(NewPlayer::new("p1"));
        nan_time.start_time = f64::NAN;
        let mut nan_skill = NewPlayer::new("p1");
        nan_skill
            .attributes
            .insert("skill".into(), AttributeValue::Number(f64::INFINITY));
        let mut twice = NewPlayer::new("p1");
        twice.attributes.insert(
            "m".into(),
            AttributeValue::StringNumberMap(vec![("k".into(), 1.0), ("k".into(), 2.0)]),
        );
        let mut no_time = NewPlayer::new("p1");
        no_time.latencies.insert("a".into(), 0);
        let cases = [
            (nan_time, "`StartTime`: expected a finite number of seconds"),
            (
                solo(nan_skill),
                "`Players[0].PlayerAttributes.skill`: expected a finite number",
            ),
            (
                solo(twice),
                "`Players[0].PlayerAttributes.m`: the key `k` appears twice",
            ),
            (
                solo(no_time),
                "`Players[0].LatencyInMs.a`: expected a positive whole number of milliseconds, found `0`",
            ),
        ];
        for (ticket, message) in cases {
            let error = ticket.validate().unwrap_err();
            assert_eq!(error.to_string(), message);
            assert_eq!(error.kind, ErrorKind::InvalidArgument);
        }
        assert!(solo(NewPlayer::new("p1")).validate().is_ok());
    }
}
