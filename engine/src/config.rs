//! Matchmaking configurations as the engine holds them (GameLift's
//! `CreateMatchmakingConfiguration` members plus rally's batch interval), and the checks
//! GameLift applies to them.

use rally_base::Seconds;

use crate::error::EngineError;

/// How a configuration's matches end: with teams (STANDALONE) or placed through a queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlexMatchMode {
    Standalone,
    WithQueue,
}

impl FlexMatchMode {
    pub fn as_str(self) -> &'static str {
        match self {
            FlexMatchMode::Standalone => "STANDALONE",
            FlexMatchMode::WithQueue => "WITH_QUEUE",
        }
    }
}

/// How backfill tickets come: only MANUAL (`StartMatchBackfill`) so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackfillMode {
    Manual,
}

/// A key-value pair handed to the game session (`GameProperties`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GameProperty {
    pub key: String,
    pub value: String,
}

/// A matchmaking configuration: which rule set, how long tickets may search, whether
/// players must accept, and where matches go.
#[derive(Clone, Debug, PartialEq)]
pub struct Configuration {
    pub name: String,
    pub description: Option<String>,
    pub rule_set_name: String,
    pub request_timeout_seconds: u32,
    pub acceptance_required: bool,
    pub acceptance_timeout_seconds: Option<u32>,
    pub additional_player_count: u32,
    pub backfill_mode: Option<BackfillMode>,
    pub flex_match_mode: FlexMatchMode,
    pub game_session_queue_names: Vec<String>,
    pub custom_event_data: Option<String>,
    pub game_properties: Vec<GameProperty>,
    pub game_session_data: Option<String>,
    /// rally: milliseconds between batches.
    pub batch_interval_ms: u32,
}

pub const NAME_MAX_CHARS: usize = 128;
pub const REQUEST_TIMEOUT_MAX_SECONDS: u32 = 43_200;
pub const ACCEPTANCE_TIMEOUT_MAX_SECONDS: u32 = 600;
pub const CUSTOM_EVENT_DATA_MAX_CHARS: usize = 256;
pub const GAME_PROPERTIES_MAX: usize = 16;
pub const GAME_PROPERTY_KEY_MAX_CHARS: usize = 32;
pub const GAME_PROPERTY_VALUE_MAX_CHARS: usize = 96;
pub const GAME_SESSION_DATA_MAX_CHARS: usize = 4096;
pub const DESCRIPTION_MAX_CHARS: usize = 1024;
pub const DEFAULT_BATCH_INTERVAL_MS: u32 = 100;
/// A batch at least every minute, at most every millisecond.
pub const BATCH_INTERVAL_MAX_MS: u32 = 60_000;

impl Configuration {
    /// A STANDALONE configuration with GameLift's defaults and rally's 100 ms batches.
    pub fn new(name: impl Into<String>, rule_set_name: impl Into<String>) -> Configuration {
        Configuration {
            name: name.into(),
            description: None,
            rule_set_name: rule_set_name.into(),
            request_timeout_seconds: 120,
            acceptance_required: false,
            acceptance_timeout_seconds: None,
            additional_player_count: 0,
            backfill_mode: None,
            flex_match_mode: FlexMatchMode::Standalone,
            game_session_queue_names: Vec::new(),
            custom_event_data: None,
            game_properties: Vec::new(),
            game_session_data: None,
            batch_interval_ms: DEFAULT_BATCH_INTERVAL_MS,
        }
    }

    pub fn request_timeout(&self) -> Seconds {
        f64::from(self.request_timeout_seconds)
    }

    /// How long players have to accept (GameLift's limit when the configuration gives none).
    pub fn acceptance_timeout(&self) -> Seconds {
        f64::from(
            self.acceptance_timeout_seconds
                .unwrap_or(ACCEPTANCE_TIMEOUT_MAX_SECONDS),
        )
    }

    pub fn batch_interval(&self) -> Seconds {
        f64::from(self.batch_interval_ms) / 1000.0
    }

    /// GameLift's constraints on the members, each refusal naming its member.
    pub fn validate(&self) -> Result<(), EngineError> {
        check_name("Name", &self.name)?;
        check_name("RuleSetName", &self.rule_set_name)?;
        check_optional_length(
            "Description",
            self.description.as_deref(),
            DESCRIPTION_MAX_CHARS,
        )?;
        check_range(
            "RequestTimeoutSeconds",
            self.request_timeout_seconds,
            1,
            REQUEST_TIMEOUT_MAX_SECONDS,
        )?;
        if let Some(seconds) = self.acceptance_timeout_seconds {
            check_range(
                "AcceptanceTimeoutSeconds",
                seconds,
                1,
                ACCEPTANCE_TIMEOUT_MAX_SECONDS,
            )?;
        }
        check_range(
            "BatchIntervalMs",
            self.batch_interval_ms,
            1,
            BATCH_INTERVAL_MAX_MS,
        )?;
        check_optional_length(
            "CustomEventData",
            self.custom_event_data.as_deref(),
            CUSTOM_EVENT_DATA_MAX_CHARS,
        )?;
        check_optional_length(
            "GameSessionData",
            self.game_session_data.as_deref(),
            GAME_SESSION_DATA_MAX_CHARS,
        )?;
        self.validate_game_properties()?;
        self.validate_mode()
    }

    fn validate_game_properties(&self) -> Result<(), EngineError> {
        if self.game_properties.len() > GAME_PROPERTIES_MAX {
            return Err(EngineError::invalid(
                "GameProperties",
                format!(
                    "expected at most {GAME_PROPERTIES_MAX} properties, found {}",
                    self.game_properties.len()
                ),
            ));
        }
        for (i, property) in self.game_properties.iter().enumerate() {
            let key = format!("GameProperties[{i}].Key");
            check_length(&key, &property.key, GAME_PROPERTY_KEY_MAX_CHARS)?;
            let value = format!("GameProperties[{i}].Value");
            check_length(&value, &property.value, GAME_PROPERTY_VALUE_MAX_CHARS)?;
        }
        Ok(())
    }

    /// STANDALONE takes no queue and no additional players; WITH_QUEUE needs a queue.
    fn validate_mode(&self) -> Result<(), EngineError> {
        match self.flex_match_mode {
            FlexMatchMode::Standalone if !self.game_session_queue_names.is_empty() => {
                Err(EngineError::invalid(
                    "GameSessionQueueArns",
                    "a STANDALONE configuration takes no game session queue",
                ))
            }
            FlexMatchMode::WithQueue if self.game_session_queue_names.is_empty() => {
                Err(EngineError::invalid(
                    "GameSessionQueueArns",
                    "a WITH_QUEUE configuration needs a game session queue",
                ))
            }
            _ => Ok(()),
        }
    }
}

/// A resource name: 1 to 128 characters of `[a-zA-Z0-9-.]`.
pub fn check_name(field: &str, name: &str) -> Result<(), EngineError> {
    check_length(field, name, NAME_MAX_CHARS)?;
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
    {
        return Err(EngineError::invalid(
            field,
            format!("expected only letters, digits, `-` and `.`, found `{bad}` in `{name}`"),
        ));
    }
    Ok(())
}

/// 1 to `max` characters.
pub fn check_length(field: &str, text: &str, max: usize) -> Result<(), EngineError> {
    let count = text.chars().count();
    if count == 0 || count > max {
        return Err(EngineError::invalid(
            field,
            format!("expected 1 to {max} characters, found {count}"),
        ));
    }
    Ok(())
}

fn check_optional_length(field: &str, text: Option<&str>, max: usize) -> Result<(), EngineError> {
    match text {
        Some(text) => check_length(field, text, max),
        None => Ok(()),
    }
}

fn check_range(field: &str, value: u32, min: u32, max: u32) -> Result<(), EngineError> {
    if value < min || value > max {
        return Err(EngineError::invalid(
            field,
            format!("expected {min} to {max}, found {value}"),
        ));
    }
    Ok(())
}
