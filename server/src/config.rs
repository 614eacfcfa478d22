//! What a server starts with: the engine's options and the resources to create before it
//! serves — rule sets, fleets, queues and matchmaking configurations. `embedded()` is the
//! set `rally serve` starts with when given no configuration file, read from `fixtures/` at
//! build time so the binary needs no files at run time.

use rally_engine::fleets::FleetSpec;
use rally_engine::{Configuration, Engine, EngineError, EngineOptions, FlexMatchMode};
use rally_placement::json::{parse_fleets, parse_queue};
use rally_placement::model::Queue;

/// A server's starting state.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub engine: EngineOptions,
    /// Rule sets by name, each body FlexMatch JSON or the rally DSL.
    pub rule_sets: Vec<(String, String)>,
    pub fleets: Vec<FleetSpec>,
    pub queues: Vec<Queue>,
    pub configurations: Vec<Configuration>,
    /// Where to append the traffic commands received (`--record`).
    pub record: Option<std::path::PathBuf>,
    /// Where administered resources are kept; `None`: in memory, for this run. A store that
    /// holds resources already starts the server with them instead of the ones above.
    pub store: Option<std::sync::Arc<dyn crate::store::Store>>,
}

const DUEL_RULES: &str = include_str!("../../fixtures/rulesets/ranked_duel.rules");
const TEAM_RULES: &str = include_str!("../../fixtures/rulesets/team_5v5.json");
const FLEETS: &str = include_str!("../../fixtures/placement/fleets.json");
const QUEUE: &str = include_str!("../../fixtures/placement/queue_latency_first.json");

impl ServerConfig {
    /// Nothing but the engine's defaults.
    pub fn empty() -> ServerConfig {
        ServerConfig {
            engine: EngineOptions::default(),
            rule_sets: Vec::new(),
            fleets: Vec::new(),
            queues: Vec::new(),
            configurations: Vec::new(),
            record: None,
            store: None,
        }
    }

    /// The embedded defaults: the `ranked-duel` and `team-5v5` rule sets; the six fleets of
    /// `fixtures/placement/fleets.json` behind the `latency-first` queue; configurations
    /// `duel` (STANDALONE), `duel-placed` and `team-5v5` (WITH_QUEUE).
    pub fn embedded() -> ServerConfig {
        let fleets = parse_fleets(FLEETS).expect("the bundled fleets parse");
        let queue = parse_queue(QUEUE).expect("the bundled queue parses");
        let placed = |name: &str, rule_set: &str| {
            let mut config = Configuration::new(name, rule_set);
            config.flex_match_mode = FlexMatchMode::WithQueue;
            config.game_session_queue_names = vec![queue.name.clone()];
            config
        };
        ServerConfig {
            engine: EngineOptions::default(),
            rule_sets: vec![
                ("ranked-duel".into(), DUEL_RULES.into()),
                ("team-5v5".into(), TEAM_RULES.into()),
            ],
            fleets: fleets.into_iter().map(FleetSpec::new).collect(),
            configurations: vec![
                Configuration::new("duel", "ranked-duel"),
                placed("duel-placed", "ranked-duel"),
                placed("team-5v5", "team-5v5"),
            ],
            queues: vec![queue],
            record: None,
            store: None,
        }
    }

    /// An engine holding the resources, created in dependency order (rule sets, fleets,
    /// queues, configurations), or the first refusal.
    pub fn build(&self) -> Result<Engine, EngineError> {
        let mut engine = Engine::new(self.engine.clone());
        for (name, body) in &self.rule_sets {
            engine.create_rule_set(0.0, name, body)?;
        }
        for fleet in &self.fleets {
            engine.create_fleet(0.0, fleet.clone())?;
        }
        for queue in &self.queues {
            engine.create_queue(0.0, queue.clone())?;
        }
        for config in &self.configurations {
            engine.create_configuration(0.0, config.clone())?;
        }
        Ok(engine)
    }

    /// An engine holding what a store kept, under this configuration's engine options.
    pub fn build_from(&self, held: &crate::store::Resources) -> Result<Engine, EngineError> {
        let mut from = ServerConfig::empty();
        from.engine = self.engine.clone();
        from.rule_sets = held
            .rule_sets
            .iter()
            .map(|(n, b)| (n.clone(), b.clone()))
            .collect();
        from.fleets = held.fleets.values().cloned().collect();
        from.queues = held.queues.values().cloned().collect();
        from.configurations = held.configurations.values().cloned().collect();
        from.build()
    }

    /// One line per resource kind, for the log at start.
    pub fn summary(&self) -> Vec<String> {
        let names = |items: Vec<&str>| items.join(", ");
        vec![
            format!(
                "rule sets: {}",
                names(self.rule_sets.iter().map(|(n, _)| n.as_str()).collect())
            ),
            format!(
                "fleets: {}",
                names(self.fleets.iter().map(|f| f.fleet.id.as_str()).collect())
            ),
            format!(
                "queues: {}",
                names(self.queues.iter().map(|q| q.name.as_str()).collect())
            ),
            format!(
                "matchmaking configurations: {}",
                names(
                    self.configurations
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect()
                )
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_defaults_build_an_engine() {
        let config = ServerConfig::embedded();
        let engine = config.build().expect("the embedded defaults are valid");
        let names: Vec<&str> = engine.configurations().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["duel", "duel-placed", "team-5v5"]);
        assert_eq!(engine.fleet_specs().count(), 6);
    }
}
