//! Where a server keeps its administered resources — rule sets, matchmaking
//! configurations, queues and fleets — so that a restarted server serves the same ones: the
//! `Store` trait, its in-memory implementation, and the suite of tests every store must
//! pass. Tickets are not stored: they live in the engine, bounded by live traffic.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::Mutex;

use rally_engine::fleets::FleetSpec;
use rally_engine::{Configuration, Engine};
use rally_placement::model::Queue;

/// A store that could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[error("the store failed: {0}")]
pub struct StoreError(pub String);

/// What a store holds, each kind by name (fleets by id).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Resources {
    /// Rule-set bodies as sent.
    pub rule_sets: BTreeMap<String, String>,
    pub configurations: BTreeMap<String, Configuration>,
    pub queues: BTreeMap<String, Queue>,
    pub fleets: BTreeMap<String, FleetSpec>,
}

impl Resources {
    pub fn is_empty(&self) -> bool {
        self.rule_sets.is_empty()
            && self.configurations.is_empty()
            && self.queues.is_empty()
            && self.fleets.is_empty()
    }

    /// What an engine holds now.
    pub fn of(engine: &Engine) -> Resources {
        Resources {
            rule_sets: engine
                .rule_sets()
                .map(|r| (r.name.clone(), r.body.clone()))
                .collect(),
            configurations: engine
                .configurations()
                .map(|c| (c.name.clone(), c.clone()))
                .collect(),
            queues: engine
                .placer()
                .queues()
                .map(|q| (q.name.clone(), q.clone()))
                .collect(),
            fleets: engine
                .fleet_specs()
                .map(|f| (f.fleet.id.clone(), f.clone()))
                .collect(),
        }
    }
}

/// One resource to write.
#[derive(Clone, Debug, PartialEq)]
pub enum Resource {
    RuleSet { name: String, body: String },
    Configuration(Configuration),
    Queue(Queue),
    Fleet(FleetSpec),
}

/// A kind of resource, to remove one by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    RuleSet,
    Configuration,
    Queue,
    Fleet,
}

/// Durable administered state. Writes are per resource, so a store backed by a database
/// writes what changed; `load` gives everything back at start.
pub trait Store: Send + Sync + Debug {
    fn load(&self) -> Result<Resources, StoreError>;
    /// Creates or replaces.
    fn put(&self, resource: Resource) -> Result<(), StoreError>;
    /// Removes, if held.
    fn remove(&self, kind: Kind, name: &str) -> Result<(), StoreError>;
}

/// A store in the server's memory: it lasts as long as the process.
#[derive(Debug, Default)]
pub struct MemoryStore {
    held: Mutex<Resources>,
}

impl Store for MemoryStore {
    fn load(&self) -> Result<Resources, StoreError> {
        Ok(self.lock().clone())
    }

    fn put(&self, resource: Resource) -> Result<(), StoreError> {
        let mut held = self.lock();
        match resource {
            Resource::RuleSet { name, body } => {
                held.rule_sets.insert(name, body);
            }
            Resource::Configuration(c) => {
                held.configurations.insert(c.name.clone(), c);
            }
            Resource::Queue(q) => {
                held.queues.insert(q.name.clone(), q);
            }
            Resource::Fleet(f) => {
                held.fleets.insert(f.fleet.id.clone(), f);
            }
        }
        Ok(())
    }

    fn remove(&self, kind: Kind, name: &str) -> Result<(), StoreError> {
        let mut held = self.lock();
        match kind {
            Kind::RuleSet => drop(held.rule_sets.remove(name)),
            Kind::Configuration => drop(held.configurations.remove(name)),
            Kind::Queue => drop(held.queues.remove(name)),
            Kind::Fleet => drop(held.fleets.remove(name)),
        }
        Ok(())
    }
}

impl MemoryStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, Resources> {
        self.held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The writes that take a store from `before` to `after`: changed and new resources put,
/// gone ones removed.
pub fn changes(before: &Resources, after: &Resources) -> (Vec<Resource>, Vec<(Kind, String)>) {
    let mut puts = Vec::new();
    let mut removes = Vec::new();
    diff(
        &before.rule_sets,
        &after.rule_sets,
        Kind::RuleSet,
        &mut removes,
        |name, body| {
            puts.push(Resource::RuleSet {
                name: name.clone(),
                body: body.clone(),
            });
        },
    );
    diff(
        &before.configurations,
        &after.configurations,
        Kind::Configuration,
        &mut removes,
        |_, c| {
            puts.push(Resource::Configuration(c.clone()));
        },
    );
    diff(
        &before.queues,
        &after.queues,
        Kind::Queue,
        &mut removes,
        |_, q| {
            puts.push(Resource::Queue(q.clone()));
        },
    );
    diff(
        &before.fleets,
        &after.fleets,
        Kind::Fleet,
        &mut removes,
        |_, f| {
            puts.push(Resource::Fleet(f.clone()));
        },
    );
    (puts, removes)
}

fn diff<T: PartialEq>(
    before: &BTreeMap<String, T>,
    after: &BTreeMap<String, T>,
    kind: Kind,
    removes: &mut Vec<(Kind, String)>,
    mut put: impl FnMut(&String, &T),
) {
    for (name, value) in after {
        if before.get(name) != Some(value) {
            put(name, value);
        }
    }
    removes.extend(
        before
            .keys()
            .filter(|n| !after.contains_key(*n))
            .map(|n| (kind, n.clone())),
    );
}

/// The suite every store passes (run against each implementation in its tests).
pub mod suite {
    use super::*;

    /// A configuration, a rule set, a queue and a fleet to store.
    fn samples() -> (Configuration, Queue, FleetSpec) {
        let queue = rally_placement::json::parse_queue(
            r#"{"Name": "q", "Destinations": [{"DestinationArn": "arn:aws:gamelift:us-east-1::fleet/f"}]}"#,
        )
        .expect("a queue");
        let fleet = rally_placement::json::parse_fleets(
            r#"[{"FleetId": "f", "FleetType": "ON_DEMAND", "InstanceType": "c5.large", "Locations": [{"Location": "us-east-1", "HourlyCost": 0.1, "Instances": 1, "GameSessionsPerInstance": 1, "MaxPlayers": 10, "Status": "ACTIVE", "SpotViable": true}]}]"#,
        )
        .expect("a fleet")
        .remove(0);
        (Configuration::new("c", "r"), queue, FleetSpec::new(fleet))
    }

    /// Puts replace, removes remove, `load` gives back exactly what was written.
    pub fn run(store: &dyn Store) {
        assert!(
            store.load().unwrap().is_empty(),
            "a new store holds nothing"
        );
        let (config, queue, fleet) = samples();
        store
            .put(Resource::RuleSet {
                name: "r".into(),
                body: "v1".into(),
            })
            .unwrap();
        store
            .put(Resource::RuleSet {
                name: "r".into(),
                body: "v2".into(),
            })
            .unwrap();
        store.put(Resource::Configuration(config.clone())).unwrap();
        store.put(Resource::Queue(queue.clone())).unwrap();
        store.put(Resource::Fleet(fleet.clone())).unwrap();
        let held = store.load().unwrap();
        assert_eq!(held.rule_sets["r"], "v2");
        assert_eq!(held.configurations["c"], config);
        assert_eq!(held.queues["q"], queue);
        assert_eq!(held.fleets["f"], fleet);
        store.remove(Kind::Queue, "q").unwrap();
        store.remove(Kind::Queue, "never-held").unwrap();
        let held = store.load().unwrap();
        assert!(held.queues.is_empty());
        assert_eq!(held.fleets.len(), 1);
        for (kind, name) in [
            (Kind::RuleSet, "r"),
            (Kind::Configuration, "c"),
            (Kind::Fleet, "f"),
        ] {
            store.remove(kind, name).unwrap();
        }
        assert!(store.load().unwrap().is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_store_passes_the_suite() {
        suite::run(&MemoryStore::default());
    }

    #[test]
    fn changes_put_what_differs_and_remove_what_went() {
        let mut before = Resources::default();
        before.rule_sets.insert("a".into(), "1".into());
        before.rule_sets.insert("b".into(), "1".into());
        let mut after = before.clone();
        after.rule_sets.insert("a".into(), "2".into());
        after.rule_sets.remove("b");
        after.rule_sets.insert("c".into(), "1".into());
        let (puts, removes) = changes(&before, &after);
        assert_eq!(
            puts,
            [
                Resource::RuleSet {
                    name: "a".into(),
                    body: "2".into()
                },
                Resource::RuleSet {
                    name: "c".into(),
                    body: "1".into()
                }
            ]
        );
        assert_eq!(removes, [(Kind::RuleSet, "b".to_string())]);
    }
}
