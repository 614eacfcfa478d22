//! Administration: rule sets (created, replaced in place by a new version, deleted),
//! matchmaking configurations, game session queues and fleets, each checked as GameLift
//! checks it, with the references between them kept whole.

use std::sync::Arc;

use rally_base::Seconds;
use rally_matchmaker::standing::Matchmaker;
use rally_placement::model::Queue;

use super::Engine;
use super::{ConfigState, strip_arn};
use crate::config::Configuration;
use crate::error::EngineError;
use crate::fleets::{FleetSpec, PortPool};
use crate::rule_sets::{StoredRuleSet, compile};
use crate::tickets::TicketStatus;

impl Engine {
    /// `CreateMatchmakingRuleSet`.
    pub fn create_rule_set(
        &mut self,
        now: Seconds,
        name: &str,
        body: &str,
    ) -> Result<&StoredRuleSet, EngineError> {
        if self.rule_sets.contains_key(name) {
            return Err(EngineError::already_exists(
                "Name",
                format!("rule set `{name}` exists already"),
            ));
        }
        let (format, rule_set) = compile(name, body)?;
        let stored = StoredRuleSet {
            name: name.to_string(),
            body: body.to_string(),
            format,
            rule_set: Arc::new(rule_set),
            version: 1,
            creation_time: now,
            update_time: now,
        };
        Ok(self.rule_sets.entry(name.to_string()).or_insert(stored))
    }

    /// rally: replaces a rule set by a new version, atomically for every configuration that
    /// uses it; tickets searching go on under the new version (one that no longer fits it
    /// ends FAILED). A body that does not validate changes nothing.
    pub fn update_rule_set(
        &mut self,
        now: Seconds,
        name: &str,
        body: &str,
    ) -> Result<&StoredRuleSet, EngineError> {
        self.advance(now);
        let name = strip_arn(name, "matchmakingruleset/").to_string();
        if !self.rule_sets.contains_key(&name) {
            return Err(EngineError::not_found(
                "Name",
                format!("no rule set `{name}`"),
            ));
        }
        let (format, rule_set) = compile(&name, body)?;
        let rule_set = Arc::new(rule_set);
        let stored = self.rule_sets.get_mut(&name).expect("checked");
        stored.body = body.to_string();
        stored.format = format;
        stored.rule_set = rule_set.clone();
        stored.version += 1;
        stored.update_time = now;
        let users: Vec<String> = self
            .configs
            .iter()
            .filter(|(_, s)| s.config.rule_set_name == name)
            .map(|(n, _)| n.clone())
            .collect();
        for configuration in users {
            self.use_rule_set(now, &configuration, rule_set.clone());
        }
        Ok(&self.rule_sets[&name])
    }

    /// `DeleteMatchmakingRuleSet`: refused while a configuration uses it.
    pub fn delete_rule_set(&mut self, name: &str) -> Result<(), EngineError> {
        let name = strip_arn(name, "matchmakingruleset/");
        if !self.rule_sets.contains_key(name) {
            return Err(EngineError::not_found(
                "Name",
                format!("no rule set `{name}`"),
            ));
        }
        if let Some((user, _)) = self
            .configs
            .iter()
            .find(|(_, s)| s.config.rule_set_name == name)
        {
            return Err(EngineError::failed_precondition(
                "Name",
                format!("rule set `{name}` is used by matchmaking configuration `{user}`"),
            ));
        }
        self.rule_sets.remove(name);
        Ok(())
    }

    pub fn rule_set(&self, name: &str) -> Result<&StoredRuleSet, EngineError> {
        let name = strip_arn(name, "matchmakingruleset/");
        self.rule_sets
            .get(name)
            .ok_or_else(|| EngineError::not_found("Name", format!("no rule set `{name}`")))
    }

    /// Every rule set, by name.
    pub fn rule_sets(&self) -> impl Iterator<Item = &StoredRuleSet> {
        self.rule_sets.values()
    }

    /// `CreateMatchmakingConfiguration`.
    pub fn create_configuration(
        &mut self,
        now: Seconds,
        config: Configuration,
    ) -> Result<&Configuration, EngineError> {
        self.advance(now);
        config.validate()?;
        if self.configs.contains_key(&config.name) {
            return Err(EngineError::already_exists(
                "Name",
                format!("matchmaking configuration `{}` exists already", config.name),
            ));
        }
        let rule_set = self.checked_references(&config)?;
        let name = config.name.clone();
        self.configs
            .insert(name.clone(), ConfigState::new(config, rule_set));
        Ok(&self.configs[&name].config)
    }

    /// `UpdateMatchmakingConfiguration`: applies to matches formed from now on; a new rule
    /// set takes the searching tickets with it.
    pub fn update_configuration(
        &mut self,
        now: Seconds,
        config: Configuration,
    ) -> Result<&Configuration, EngineError> {
        self.advance(now);
        config.validate()?;
        let Some(state) = self.configs.get(&config.name) else {
            return Err(EngineError::not_found(
                "Name",
                format!("no matchmaking configuration `{}`", config.name),
            ));
        };
        let old_rule_set = state.config.rule_set_name.clone();
        let rule_set = self.checked_references(&config)?;
        let name = config.name.clone();
        let state = self.configs.get_mut(&name).expect("checked");
        state.config = config;
        if state.config.rule_set_name != old_rule_set {
            self.use_rule_set(now, &name, rule_set);
        }
        Ok(&self.configs[&name].config)
    }

    /// `DeleteMatchmakingConfiguration`: refused while tickets are active under it.
    pub fn delete_configuration(&mut self, name: &str) -> Result<(), EngineError> {
        let state = self.config_named(name, "Name")?;
        if state.active > 0 {
            return Err(EngineError::failed_precondition(
                "Name",
                format!(
                    "matchmaking configuration `{}` has {} active tickets",
                    state.name, state.active
                ),
            ));
        }
        let name = state.name.to_string();
        self.configs.remove(&name);
        Ok(())
    }

    pub fn configuration(&self, name: &str) -> Result<&Configuration, EngineError> {
        Ok(&self.config_named(name, "Name")?.config)
    }

    /// Every configuration, by name.
    pub fn configurations(&self) -> impl Iterator<Item = &Configuration> {
        self.configs.values().map(|state| &state.config)
    }

    /// The rule set and queues a configuration names, which must exist.
    fn checked_references(
        &self,
        config: &Configuration,
    ) -> Result<Arc<rally_rules::RuleSet>, EngineError> {
        let rule_set_name = strip_arn(&config.rule_set_name, "matchmakingruleset/");
        let rule_set = self.rule_sets.get(rule_set_name).ok_or_else(|| {
            EngineError::not_found("RuleSetName", format!("no rule set `{rule_set_name}`"))
        })?;
        for (i, queue) in config.game_session_queue_names.iter().enumerate() {
            let queue = strip_arn(queue, "gamesessionqueue/");
            if self.placer.queue(queue).is_none() {
                return Err(EngineError::not_found(
                    &format!("GameSessionQueueArns[{i}]"),
                    format!("no game session queue `{queue}`"),
                ));
            }
        }
        Ok(rule_set.rule_set.clone())
    }

    /// A configuration searches under a new rule set from now: its pool is rebuilt, now or
    /// when the batch holding it returns.
    fn use_rule_set(
        &mut self,
        now: Seconds,
        configuration: &str,
        rule_set: Arc<rally_rules::RuleSet>,
    ) {
        let state = self
            .configs
            .get_mut(configuration)
            .expect("a configuration");
        state.rule_set = rule_set;
        if state.matchmaker.is_some() {
            self.rebuild_pool(now, configuration);
        } else {
            state.rebuild = true;
        }
    }

    /// Moves a configuration's searching tickets into a pool under its current rule set,
    /// oldest first; one the new version refuses ends FAILED, saying why.
    pub(crate) fn rebuild_pool(&mut self, now: Seconds, configuration: &str) {
        let state = self
            .configs
            .get_mut(configuration)
            .expect("a configuration");
        let old = state
            .matchmaker
            .replace(Matchmaker::new(state.rule_set.clone()))
            .expect("the pool is home");
        let pool = old.pool();
        let mut waiting: Vec<(f64, Arc<str>)> = pool
            .keys()
            .map(|key| {
                let ticket = pool.ticket(key);
                (ticket.start_time, Arc::from(&*ticket.id))
            })
            .collect();
        waiting.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        for (_, id) in waiting {
            let Some(record) = self.tickets.get(&id) else {
                continue;
            };
            if record.status != TicketStatus::Searching {
                continue;
            }
            let state = self
                .configs
                .get_mut(configuration)
                .expect("a configuration");
            let matchmaker = state.matchmaker.as_mut().expect("just made");
            if let Err(rejected) = matchmaker.insert(&record.request.ticket(&record.id)) {
                let message = format!("the new rule set refuses the ticket: {}", rejected.0);
                self.end_ticket(
                    now,
                    &id,
                    TicketStatus::Failed,
                    "RuleSetChanged",
                    &message,
                    crate::events::MatchmakingEventType::MatchmakingFailed,
                );
            }
        }
    }

    /// `CreateGameSessionQueue`.
    pub fn create_queue(&mut self, now: Seconds, queue: Queue) -> Result<(), EngineError> {
        self.advance(now);
        self.placer.add_queue(queue)?;
        Ok(())
    }

    /// `UpdateGameSessionQueue`: pending placements are decided again under it.
    pub fn update_queue(&mut self, now: Seconds, queue: Queue) -> Result<(), EngineError> {
        self.advance(now);
        self.placer.update_queue(queue, now)?;
        self.drain_placer(now);
        Ok(())
    }

    /// `DeleteGameSessionQueue`: refused while a configuration places through it.
    pub fn delete_queue(&mut self, now: Seconds, name: &str) -> Result<(), EngineError> {
        self.advance(now);
        let name = strip_arn(name, "gamesessionqueue/");
        if let Some(state) = self.configs.values().find(|s| {
            s.config
                .game_session_queue_names
                .iter()
                .any(|q| strip_arn(q, "gamesessionqueue/") == name)
        }) {
            return Err(EngineError::failed_precondition(
                "Name",
                format!(
                    "queue `{name}` is used by matchmaking configuration `{}`",
                    state.name
                ),
            ));
        }
        self.placer.delete_queue(name, now)?;
        self.drain_placer(now);
        Ok(())
    }

    /// `CreateFleet` (rally's admin shape): capacity, addresses and ports.
    pub fn create_fleet(&mut self, now: Seconds, spec: FleetSpec) -> Result<(), EngineError> {
        self.advance(now);
        spec.validate()?;
        if self.fleets.contains_key(&spec.fleet.id) {
            return Err(EngineError::already_exists(
                "FleetId",
                format!("fleet `{}` exists already", spec.fleet.id),
            ));
        }
        self.placer.add_fleet(spec.fleet.clone(), now)?;
        self.add_ports(&spec);
        self.fleets.insert(spec.fleet.id.clone(), spec);
        self.drain_placer(now);
        Ok(())
    }

    /// `UpdateFleet…`: new capacity goes to the oldest placements waiting for it.
    pub fn update_fleet(&mut self, now: Seconds, spec: FleetSpec) -> Result<(), EngineError> {
        self.advance(now);
        spec.validate()?;
        let Some(old) = self.fleets.get(&spec.fleet.id) else {
            return Err(EngineError::not_found(
                "FleetId",
                format!("no fleet `{}`", spec.fleet.id),
            ));
        };
        if old.ports() != spec.ports() && self.seats.values().any(|s| s.fleet_id == spec.fleet.id) {
            return Err(EngineError::failed_precondition(
                "Ec2InboundPermissions",
                format!(
                    "fleet `{}` hosts game sessions; its ports change only once they end",
                    spec.fleet.id
                ),
            ));
        }
        self.placer.update_fleet(spec.fleet.clone(), now)?;
        if old.ports() != spec.ports() {
            self.ports.retain(|(fleet, _), _| *fleet != spec.fleet.id);
        }
        self.add_ports(&spec);
        self.fleets.insert(spec.fleet.id.clone(), spec);
        self.drain_placer(now);
        Ok(())
    }

    /// `DeleteFleet`: refused while it hosts sessions or a queue lists it.
    pub fn delete_fleet(&mut self, now: Seconds, fleet_id: &str) -> Result<(), EngineError> {
        self.advance(now);
        self.placer.delete_fleet(fleet_id, now)?;
        self.fleets.remove(fleet_id);
        self.ports.retain(|(fleet, _), _| fleet != fleet_id);
        Ok(())
    }

    pub fn fleet(&self, fleet_id: &str) -> Result<&FleetSpec, EngineError> {
        self.fleets
            .get(fleet_id)
            .ok_or_else(|| EngineError::not_found("FleetId", format!("no fleet `{fleet_id}`")))
    }

    /// Every fleet, by id.
    pub fn fleet_specs(&self) -> impl Iterator<Item = &FleetSpec> {
        self.fleets.values()
    }

    /// A port pool for each location the fleet has and the engine has none for.
    fn add_ports(&mut self, spec: &FleetSpec) {
        for location in &spec.fleet.locations {
            self.ports
                .entry((spec.fleet.id.clone(), location.location.clone()))
                .or_insert_with(|| PortPool::new(spec.ports()));
        }
    }
}
