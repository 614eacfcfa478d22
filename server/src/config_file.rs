//! `rally serve --config rally.toml`: a server's starting state from a file. Rule sets,
//! fleets and queues are files beside it (paths relative to the configuration file), in the
//! formats the other tools read: rule sets in FlexMatch JSON or the DSL, fleets and queues in
//! GameLift's JSON (`fixtures/placement/`); configurations are written inline.

use std::path::{Path, PathBuf};

use rally_engine::fleets::FleetSpec;
use rally_engine::{BackfillMode, Configuration, EngineOptions, FlexMatchMode, GameProperty};
use serde::Deserialize;

use crate::config::ServerConfig;

/// Why a configuration file cannot be used: which file, and what is wrong where.
#[derive(Debug, thiserror::Error)]
#[error("`{file}`: {message}")]
pub struct ConfigError {
    pub file: String,
    pub message: String,
}

/// The file's keys.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    /// Where to listen (`--listen` overrides it).
    listen: Option<String>,
    #[serde(default)]
    seed: u64,
    /// How long finished tickets stay describable.
    retention_seconds: Option<f64>,
    /// Where to append the traffic received (`--record` overrides it).
    record: Option<PathBuf>,
    #[serde(default)]
    rule_sets: Vec<RuleSetEntry>,
    /// GameLift-shaped JSON files, each a list of fleets.
    #[serde(default)]
    fleets: Vec<PathBuf>,
    /// GameLift-shaped JSON files, each a `CreateGameSessionQueue` body.
    #[serde(default)]
    queues: Vec<PathBuf>,
    #[serde(default)]
    configurations: Vec<ConfigurationEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSetEntry {
    name: String,
    file: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigurationEntry {
    name: String,
    rule_set_name: String,
    description: Option<String>,
    #[serde(default = "default_request_timeout")]
    request_timeout_seconds: u32,
    #[serde(default)]
    acceptance_required: bool,
    acceptance_timeout_seconds: Option<u32>,
    #[serde(default)]
    additional_player_count: u32,
    backfill_mode: Option<String>,
    flex_match_mode: Option<String>,
    #[serde(default)]
    game_session_queue_names: Vec<String>,
    custom_event_data: Option<String>,
    #[serde(default)]
    game_properties: Vec<PropertyEntry>,
    game_session_data: Option<String>,
    batch_interval_ms: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PropertyEntry {
    key: String,
    value: String,
}

fn default_request_timeout() -> u32 {
    120
}

/// What `rally serve` takes from a file: the starting state and where to listen.
#[derive(Debug)]
pub struct LoadedConfig {
    pub server: ServerConfig,
    pub listen: Option<String>,
}

/// Reads `path` and the files it names.
pub fn load(path: &Path) -> Result<LoadedConfig, ConfigError> {
    let text = read(path)?;
    parse(&text, path, path.parent().unwrap_or(Path::new(".")))
}

/// A configuration's text; `file` names it in errors, `dir` is where its paths start.
pub fn parse(text: &str, file: &Path, dir: &Path) -> Result<LoadedConfig, ConfigError> {
    let error = |message: String| ConfigError {
        file: file.display().to_string(),
        message,
    };
    let parsed: FileConfig = toml::from_str(text).map_err(|e| error(one_line(&e.to_string())))?;
    let mut server = ServerConfig::empty();
    server.engine = EngineOptions {
        seed: parsed.seed,
        retention: parsed.retention_seconds.unwrap_or(600.0),
    };
    if !(server.engine.retention.is_finite() && server.engine.retention >= 0.0) {
        return Err(error(
            "`retention_seconds`: expected 0 or more seconds".into(),
        ));
    }
    server.record = parsed.record.map(|p| dir.join(p));
    for entry in parsed.rule_sets {
        server
            .rule_sets
            .push((entry.name, read(&dir.join(&entry.file))?));
    }
    for file in parsed.fleets {
        let path = dir.join(&file);
        let fleets =
            rally_placement::json::parse_fleets(&read(&path)?).map_err(|e| ConfigError {
                file: path.display().to_string(),
                message: e.to_string(),
            })?;
        server.fleets.extend(fleets.into_iter().map(FleetSpec::new));
    }
    for file in parsed.queues {
        let path = dir.join(&file);
        let queue = rally_placement::json::parse_queue(&read(&path)?).map_err(|e| ConfigError {
            file: path.display().to_string(),
            message: e.to_string(),
        })?;
        server.queues.push(queue);
    }
    for (i, entry) in parsed.configurations.into_iter().enumerate() {
        let config =
            configuration(entry).map_err(|m| error(format!("`configurations[{i}]`.{m}")))?;
        server.configurations.push(config);
    }
    Ok(LoadedConfig {
        server,
        listen: parsed.listen,
    })
}

fn configuration(entry: ConfigurationEntry) -> Result<Configuration, String> {
    let mut config = Configuration::new(entry.name, entry.rule_set_name);
    config.flex_match_mode = match entry.flex_match_mode.as_deref() {
        None if entry.game_session_queue_names.is_empty() => FlexMatchMode::Standalone,
        None | Some("WITH_QUEUE") => FlexMatchMode::WithQueue,
        Some("STANDALONE") => FlexMatchMode::Standalone,
        Some(other) => {
            return Err(format!(
                "`flex_match_mode`: expected `STANDALONE` or `WITH_QUEUE`, found `{other}`"
            ));
        }
    };
    config.backfill_mode = match entry.backfill_mode.as_deref() {
        None => None,
        Some("MANUAL") => Some(BackfillMode::Manual),
        Some(other) => {
            return Err(format!(
                "`backfill_mode`: expected `MANUAL`, found `{other}`"
            ));
        }
    };
    config.description = entry.description;
    config.request_timeout_seconds = entry.request_timeout_seconds;
    config.acceptance_required = entry.acceptance_required;
    config.acceptance_timeout_seconds = entry.acceptance_timeout_seconds;
    config.additional_player_count = entry.additional_player_count;
    config.game_session_queue_names = entry.game_session_queue_names;
    config.custom_event_data = entry.custom_event_data;
    config.game_properties = entry
        .game_properties
        .into_iter()
        .map(|p| GameProperty {
            key: p.key,
            value: p.value,
        })
        .collect();
    config.game_session_data = entry.game_session_data;
    if let Some(ms) = entry.batch_interval_ms {
        config.batch_interval_ms = ms;
    }
    Ok(config)
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.display().to_string(),
        message: format!("cannot read it: {e}"),
    })
}

/// toml's messages quote the line with a caret over several lines; one line is kept.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_key_is_refused_with_where_it_is() {
        let error = parse(
            "seed = 1\nlisten_on = \"x\"\n",
            Path::new("rally.toml"),
            Path::new("."),
        )
        .unwrap_err();
        assert!(error.to_string().starts_with("`rally.toml`: "), "{error}");
        assert!(error.to_string().contains("listen_on"), "{error}");
        assert!(!error.to_string().contains('\n'));
    }

    #[test]
    fn a_bad_mode_names_its_configuration() {
        let text =
            "[[configurations]]\nname = \"a\"\nrule_set_name = \"r\"\nflex_match_mode = \"SOLO\"\n";
        let error = parse(text, Path::new("rally.toml"), Path::new(".")).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("`configurations[0]`.`flex_match_mode`"),
            "{error}"
        );
    }

    #[test]
    fn a_missing_file_is_named() {
        let text = "[[rule_sets]]\nname = \"r\"\nfile = \"no/such.rules\"\n";
        let error = parse(text, Path::new("rally.toml"), Path::new("/nonexistent")).unwrap_err();
        assert!(error.to_string().contains("no/such.rules"), "{error}");
    }
}
