//! The engine's state and its clock: what it holds (rule sets, configurations and their
//! standing pools, the placer, tickets, proposed matches), the timers it keeps, and the
//! queries over them. What happens to tickets is in `lifecycle`, `matching` and `placing`;
//! administration in `admin`.

mod admin;
mod lifecycle;
mod matching;
mod placing;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

// foldhash, seeded per map: a lookup by ticket id costs a fraction of SipHash's, and
// client-chosen ids still cannot aim at a bucket. Nothing here iterates these maps.
use hashbrown::HashMap;
use std::sync::Arc;

use rally_base::{Seconds, Time};
use rally_matchmaker::standing::Matchmaker;
use rally_placement::{Placer, Retention};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::config::Configuration;
use crate::error::EngineError;
use crate::events::Event;
use crate::fleets::{FleetSpec, PortPool};
use crate::rule_sets::StoredRuleSet;
use crate::tickets::{TicketRecord, TicketView};
use matching::Proposal;
use placing::Seat;

pub use lifecycle::{
    AcceptMatch, AcceptanceType, Command, DUPLICATE_PLAYER, Reply, StartMatchBackfill,
    StartMatchmaking,
};
pub use matching::{BatchDone, BatchJob};

/// How an engine runs: its seed and how long it remembers what ended.
#[derive(Clone, Debug, PartialEq)]
pub struct EngineOptions {
    /// Seeds ticket ids, match ids, batches and player sessions: the same commands at the
    /// same times with the same seed give the same events.
    pub seed: u64,
    /// How long finished tickets and placements stay describable (GameLift: a while;
    /// rally's default is 10 minutes).
    pub retention: Seconds,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            seed: 0,
            retention: 600.0,
        }
    }
}

/// How close to a batch's grid time counts as on it (batch times are sums of decimal
/// fractions of a second, which binary floating point rounds).
pub(crate) const GRID_SLACK: Seconds = 1e-9;

/// One configuration's standing pool and what waits to go in or out of it.
#[derive(Debug)]
pub(crate) struct ConfigState {
    pub(crate) config: Configuration,
    pub(crate) name: Arc<str>,
    pub(crate) rule_set: Arc<rally_rules::RuleSet>,
    /// `None` while a batch holds it (see [`Engine::begin_batch`]).
    pub(crate) matchmaker: Option<Matchmaker>,
    /// Tickets to insert at the next batch: new ones (QUEUED) and ones going back (SEARCHING).
    pub(crate) queued: Vec<Arc<str>>,
    /// Tickets that ended while a batch held the pool, to take out when it comes back.
    pub(crate) leaving: Vec<Arc<str>>,
    /// When the next batch is due, once there is something to search.
    pub(crate) next_batch: Seconds,
    /// The rule set changed while a batch held the pool: rebuild it when it comes back.
    pub(crate) rebuild: bool,
    /// Tickets of this configuration not yet in a final status.
    pub(crate) active: usize,
}

impl ConfigState {
    pub(crate) fn new(config: Configuration, rule_set: Arc<rally_rules::RuleSet>) -> ConfigState {
        ConfigState {
            name: config.name.as_str().into(),
            matchmaker: Some(Matchmaker::new(rule_set.clone())),
            rule_set,
            config,
            queued: Vec::new(),
            leaving: Vec::new(),
            next_batch: 0.0,
            rebuild: false,
            active: 0,
        }
    }

    /// Whether a batch would search anything: tickets queued or waiting.
    pub(crate) fn has_work(&self) -> bool {
        !self.queued.is_empty() || self.matchmaker.as_ref().is_some_and(|m| m.waiting() > 0)
    }

    /// The first batch time on the configuration's grid at or after `now`.
    pub(crate) fn grid_at_or_after(&self, now: Seconds) -> Seconds {
        let interval = self.config.batch_interval();
        // 0.3 / 0.1 is 2.9999999999999996: a time a hair past a grid point is on it.
        ((now - GRID_SLACK) / interval).ceil() * interval
    }
}

/// What a timer is for; checked when it fires, so a timer for what changed since is
/// dropped then.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    RequestTimeout(Arc<str>),
    AcceptanceTimeout(Arc<str>),
    Forget(Arc<str>),
}

/// The engine: commands in (`handle` and the typed methods), events out (`take_events`),
/// time as a parameter (`advance`, `next_wake`), batches run where the caller chooses
/// (`begin_batch` → [`BatchJob::run`] → `finish_batch`, or `run_due_batches`).
#[derive(Debug)]
pub struct Engine {
    pub(crate) options: EngineOptions,
    pub(crate) rule_sets: BTreeMap<String, StoredRuleSet>,
    pub(crate) configs: BTreeMap<String, ConfigState>,
    pub(crate) placer: Placer,
    pub(crate) fleets: BTreeMap<String, FleetSpec>,
    /// Per fleet and location, the ports of its sessions.
    pub(crate) ports: BTreeMap<(String, String), PortPool>,
    /// Running game sessions by placement id, and placement ids by game session ARN.
    pub(crate) seats: HashMap<String, Seat>,
    pub(crate) session_arns: HashMap<String, String>,
    /// Boxed: a table of a million tickets grows by doubling, and its empty slots should cost
    /// a pointer each, not a whole record.
    pub(crate) tickets: HashMap<Arc<str>, Box<TicketRecord>>,
    /// Players of tickets not yet final, and their ticket.
    pub(crate) players: HashMap<Arc<str>, Arc<str>>,
    /// Matches proposed or placing, by match id (a match's placement has its id).
    pub(crate) proposals: HashMap<Arc<str>, Proposal>,
    /// The backfill ticket in flight for each game session.
    pub(crate) backfills: HashMap<String, Arc<str>>,
    timers: BinaryHeap<Reverse<(Time, u64, Timer)>>,
    timer_count: u64,
    pub(crate) events: Vec<Event>,
    pub(crate) rng: ChaCha8Rng,
    pub(crate) now: Seconds,
}

impl Engine {
    pub fn new(options: EngineOptions) -> Engine {
        let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
        let mut placer =
            Placer::new(Vec::new(), rng.next_u64()).expect("a placer with no fleets is valid");
        placer
            .set_retention(Retention::For(options.retention))
            .expect("the retention is a finite number of seconds");
        Engine {
            options,
            rule_sets: BTreeMap::new(),
            configs: BTreeMap::new(),
            placer,
            fleets: BTreeMap::new(),
            ports: BTreeMap::new(),
            seats: HashMap::new(),
            session_arns: HashMap::new(),
            tickets: HashMap::new(),
            players: HashMap::new(),
            proposals: HashMap::new(),
            backfills: HashMap::new(),
            timers: BinaryHeap::new(),
            timer_count: 0,
            events: Vec::new(),
            rng,
            now: 0.0,
        }
    }

    /// The events since the last call, in the order they happened.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// When the engine next has something to do by itself: a timer, a placement decision or
    /// a batch of a configuration with tickets to search.
    pub fn next_wake(&self) -> Option<Seconds> {
        let timer = self.timers.peek().map(|Reverse((at, _, _))| at.0);
        let batch = self
            .configs
            .values()
            .filter(|state| state.has_work())
            .map(|state| state.next_batch)
            .min_by(f64::total_cmp);
        [timer, batch, self.placer.next_wake()]
            .into_iter()
            .flatten()
            .min_by(f64::total_cmp)
    }

    /// Moves the clock to `now`: timers due by then fire (request and acceptance timeouts,
    /// forgetting what ended), and the placer decides what it had waiting. Batches are the
    /// caller's to run (`due_batches`). Every command advances first.
    pub fn advance(&mut self, now: Seconds) {
        self.now = self.now.max(now);
        while let Some(Reverse((at, _, _))) = self.timers.peek() {
            if at.0 > now {
                break;
            }
            let Some(Reverse((at, _, timer))) = self.timers.pop() else {
                break;
            };
            self.fire(timer, at.0);
        }
        self.placer.advance(now);
        self.drain_placer(now);
    }

    pub(crate) fn set_timer(&mut self, at: Seconds, timer: Timer) {
        self.timer_count += 1;
        self.timers
            .push(Reverse((Time(at), self.timer_count, timer)));
    }

    fn fire(&mut self, timer: Timer, at: Seconds) {
        match timer {
            Timer::RequestTimeout(id) => self.request_timed_out(&id, at),
            Timer::AcceptanceTimeout(match_id) => self.acceptance_timed_out(&match_id, at),
            Timer::Forget(id) => self.forget(&id, at),
        }
    }

    /// A finished ticket is dropped once its retention has passed.
    fn forget(&mut self, id: &Arc<str>, at: Seconds) {
        let due = self.tickets.get(id).is_some_and(|record| {
            record.status.is_final()
                && record
                    .end_time
                    .is_some_and(|end| end + self.options.retention <= at)
        });
        if due {
            self.tickets.remove(id);
        }
    }

    /// A configuration by name or ARN (`arn:aws:gamelift:…:matchmakingconfiguration/<name>`).
    pub(crate) fn config_named(
        &self,
        name: &str,
        field: &str,
    ) -> Result<&ConfigState, EngineError> {
        let name = strip_arn(name, "matchmakingconfiguration/");
        self.configs.get(name).ok_or_else(|| {
            EngineError::not_found(field, format!("no matchmaking configuration `{name}`"))
        })
    }

    /// A fresh UUID from the engine's generator (ticket ids, player sessions).
    pub(crate) fn uuid(&mut self) -> String {
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        rally_matchmaker::matches::MatchId(bytes).to_string()
    }

    /// The tickets asked for that the engine still holds, in the order asked; with
    /// `explain`, a searching ticket says why it waits.
    pub fn describe_matchmaking(
        &mut self,
        now: Seconds,
        ticket_ids: &[String],
        explain: bool,
    ) -> Result<Vec<TicketView>, EngineError> {
        self.advance(now);
        if ticket_ids.is_empty() || ticket_ids.len() > crate::tickets::DESCRIBE_MAX_TICKETS {
            return Err(EngineError::invalid(
                "TicketIds",
                format!(
                    "expected 1 to {} ticket ids, found {}",
                    crate::tickets::DESCRIBE_MAX_TICKETS,
                    ticket_ids.len()
                ),
            ));
        }
        Ok(ticket_ids
            .iter()
            .filter_map(|id| self.tickets.get(id.as_str()))
            .map(|record| {
                let mut view = record.view();
                if explain {
                    view.waiting_reasons = self.waiting_reasons(record, now);
                }
                view
            })
            .collect())
    }

    fn waiting_reasons(&self, record: &TicketRecord, now: Seconds) -> Vec<String> {
        match record.status {
            crate::tickets::TicketStatus::Queued => vec!["queued for the next batch".to_string()],
            crate::tickets::TicketStatus::Searching => {
                let Some(state) = self.configs.get(&*record.configuration) else {
                    return Vec::new();
                };
                let Some(matchmaker) = &state.matchmaker else {
                    return vec!["a batch is searching now".to_string()];
                };
                match matchmaker.pool().key_of(&record.id) {
                    Some(key) => matchmaker
                        .explain(key, now)
                        .map(|e| e.reasons)
                        .unwrap_or_default(),
                    None => vec!["queued for the next batch".to_string()],
                }
            }
            _ => Vec::new(),
        }
    }

    /// How many tickets wait for a configuration's matches (QUEUED or SEARCHING, in its pool
    /// or queued for it); `None` for no such configuration or while a batch holds its pool.
    pub fn waiting(&self, configuration: &str) -> Option<usize> {
        let state = self.configs.get(configuration)?;
        let matchmaker = state.matchmaker.as_ref()?;
        let queued_apart = state
            .queued
            .iter()
            .filter(|id| {
                self.tickets.get(*id).is_some_and(|r| !r.status.is_final())
                    && matchmaker.pool().key_of(id).is_none()
            })
            .count();
        Some(matchmaker.waiting() + queued_apart)
    }

    /// How many tickets the engine holds (finished ones within their retention included).
    pub fn ticket_count(&self) -> usize {
        self.tickets.len()
    }

    /// The placer, for reading fleets, queues and placements.
    pub fn placer(&self) -> &Placer {
        &self.placer
    }
}

/// `name` out of an ARN whose resource part starts with `kind` (`matchmakingconfiguration/`),
/// or `name` itself.
pub(crate) fn strip_arn<'a>(name: &'a str, kind: &str) -> &'a str {
    if name.starts_with("arn:")
        && let Some(at) = name.find(kind)
    {
        return &name[at + kind.len()..];
    }
    name
}
