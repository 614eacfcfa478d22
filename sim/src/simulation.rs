//! The discrete-event loop. Trace entries come in, in time order; between two of them the
//! simulation steps from one due moment to the next — an engine timer or batch, a player's
//! answer, a game session ending, a pool sample — and at each runs what is due, then reads
//! the engine's events into the metrics and the agenda. Nothing waits on a clock: a step
//! jumps straight to its time.

use hashbrown::HashMap;
use rally_base::{ErrorKind, Seconds};
use rally_engine::events::{MatchmakingEvent, MatchmakingEventType as T, PlacementEventType};
use rally_engine::trace::{TraceEntry, parse_line};
use rally_engine::{
    AcceptMatch, AcceptanceType, Command, Configuration, Engine, EngineOptions, Event, Reply,
};
use rally_matchmaker::ticket::NewPlayer;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::agenda::{Action, Agenda};
use crate::behaviour::Behaviour;
use crate::error::SimError;
use crate::facts::TicketFacts;
use crate::metrics::{Ended, LocationPrice, Metrics};
use crate::report::Report;

/// Seconds between two samples of the pool.
pub const SAMPLE_INTERVAL: Seconds = 1.0;

/// How long the simulated engine keeps finished tickets: nobody describes them, so briefly.
const RETENTION: Seconds = 1.0;

/// Steps at one moment before the loop is known to be stuck (each runs what is due, so the
/// next is later unless something is wrong).
const STEPS_AT_ONE_TIME: u32 = 10_000;

/// A simulation under way.
#[derive(Debug)]
pub struct Simulation {
    engine: Engine,
    behaviour: Behaviour,
    rng: ChaCha8Rng,
    agenda: Agenda,
    /// With one rule set and no configuration file, the configuration every ticket joins.
    route: Option<String>,
    /// The attribute quality is measured by, per configuration.
    attributes: HashMap<String, Option<String>>,
    /// The tickets submitted that have not ended.
    live: HashMap<String, TicketFacts>,
    metrics: Metrics,
    now: Seconds,
    last_entry: Option<Seconds>,
    next_sample: Seconds,
    /// The engine's events, kept for [`Simulation::take_events`] once asked for.
    kept: Option<Vec<Event>>,
}

impl Simulation {
    /// A simulation over `engine`, its resources created; with `route`, every ticket goes
    /// to that configuration whatever it names. `seed` seeds the players' behaviour.
    pub fn new(
        engine: Engine,
        route: Option<String>,
        behaviour: Behaviour,
        seed: u64,
    ) -> Simulation {
        let attributes = engine
            .configurations()
            .map(|c| (c.name.clone(), quality_attribute(&engine, c)))
            .collect();
        let first = engine.configurations().next().map(|c| c.name.clone());
        let measured = route.clone().or(first);
        let attribute = measured.and_then(|name| {
            let config = engine.configuration(&name).ok()?;
            quality_attribute(&engine, config)
        });
        Simulation {
            engine,
            behaviour,
            rng: ChaCha8Rng::seed_from_u64(seed),
            agenda: Agenda::default(),
            route,
            attributes,
            live: HashMap::new(),
            metrics: Metrics::new(attribute),
            now: 0.0,
            last_entry: None,
            next_sample: 0.0,
            kept: None,
        }
    }

    /// One rule set (the rally DSL or FlexMatch JSON) in a STANDALONE configuration, which
    /// every ticket of the trace joins.
    pub fn standalone(
        rules: &str,
        behaviour: Behaviour,
        seed: u64,
    ) -> Result<Simulation, SimError> {
        const NAME: &str = "simulated";
        let mut engine = Engine::new(Simulation::engine_options(seed));
        let setup = |e: rally_engine::EngineError| SimError::Setup(e.to_string());
        engine.create_rule_set(0.0, NAME, rules).map_err(setup)?;
        let config = Configuration::new(NAME, NAME);
        engine.create_configuration(0.0, config).map_err(setup)?;
        Ok(Simulation::new(engine, Some(NAME.into()), behaviour, seed))
    }

    /// The engine options a simulation runs under: seeded from `seed`, brief retention.
    pub fn engine_options(seed: u64) -> EngineOptions {
        EngineOptions {
            // Apart from the behaviour's stream, which `seed` itself seeds.
            seed: seed ^ 0x005e_ed0f_e19e,
            retention: RETENTION,
        }
    }

    /// The simulated time.
    pub fn now(&self) -> Seconds {
        self.now
    }

    /// Tickets submitted and not yet ended.
    pub fn live_tickets(&self) -> usize {
        self.live.len()
    }

    /// A trace line (its number for errors); blank lines are skipped.
    pub fn push_line(&mut self, line: usize, text: &str) -> Result<(), SimError> {
        match read_line(line, text)? {
            Some(entry) => self.push(line, entry),
            None => Ok(()),
        }
    }

    /// A trace entry: the simulation runs up to its time, then submits it.
    pub fn push(&mut self, line: usize, entry: TraceEntry) -> Result<(), SimError> {
        if let Some(previous) = self.last_entry
            && entry.t < previous
        {
            return Err(SimError::OutOfOrder {
                line,
                t: entry.t,
                previous,
            });
        }
        self.last_entry = Some(entry.t);
        self.run_until(entry.t, false)?;
        self.submit(entry.t, entry.command);
        self.absorb_events();
        Ok(())
    }

    /// Keeps the engine's events from now on, for [`Simulation::take_events`]: the tests
    /// hold every match to an independent checker.
    pub fn keep_events(&mut self) {
        self.kept.get_or_insert_with(Vec::new);
    }

    /// The events kept since the last call.
    pub fn take_events(&mut self) -> Vec<Event> {
        self.kept.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Runs until every ticket has ended and every game session with it.
    pub fn run_to_end(&mut self) -> Result<(), SimError> {
        self.run_until(f64::INFINITY, true)
    }

    /// Runs to the end, and reports.
    pub fn finish(mut self) -> Result<Report, SimError> {
        self.run_to_end()?;
        let span = self.now.max(self.last_entry.unwrap_or(0.0));
        let engine = &self.engine;
        let price = |fleet_id: &str, location: &str| -> Option<LocationPrice> {
            let spec = engine.fleet(fleet_id).ok()?;
            let at = spec
                .fleet
                .locations
                .iter()
                .find(|l| l.location == location)?;
            Some(LocationPrice {
                hourly_cost: at.hourly_cost,
                sessions_per_instance: at.sessions_per_instance,
                capacity: at.capacity(),
            })
        };
        Ok(self.metrics.report(span, price))
    }

    /// Steps to each due moment up to `until`. Finishing, the engine's own timers count only
    /// while tickets live (it forgets finished ones on timers of its own).
    fn run_until(&mut self, until: Seconds, finishing: bool) -> Result<(), SimError> {
        let mut steps_here = 0;
        while let Some(at) = self.next_due(finishing).filter(|at| *at <= until) {
            if at > self.now {
                steps_here = 0;
            }
            steps_here += 1;
            if steps_here > STEPS_AT_ONE_TIME {
                return Err(SimError::Setup(format!(
                    "the simulation is stuck at {at} s: nothing it runs there moves it on"
                )));
            }
            self.step(at.max(self.now));
        }
        Ok(())
    }

    fn next_due(&self, finishing: bool) -> Option<Seconds> {
        let live = !self.live.is_empty();
        let engine = if live || !finishing {
            self.engine.next_wake()
        } else {
            None
        };
        let sample = (live || !finishing).then_some(self.next_sample);
        [engine, self.agenda.next_at(), sample]
            .into_iter()
            .flatten()
            .min_by(f64::total_cmp)
    }

    fn step(&mut self, at: Seconds) {
        self.now = at;
        self.engine.advance(at);
        while let Some((_, action)) = self.agenda.pop_due(at) {
            self.act(at, action);
        }
        self.engine.run_due_batches(at);
        self.absorb_events();
        if at >= self.next_sample {
            let waiting = self
                .attributes
                .keys()
                .filter_map(|name| self.engine.waiting(name))
                .sum();
            self.metrics.sample(at, waiting);
            self.next_sample = at + SAMPLE_INTERVAL;
        }
    }

    fn act(&mut self, at: Seconds, action: Action) {
        match action {
            Action::Answer {
                ticket_id,
                player_ids,
                accept,
            } => {
                let acceptance_type = if accept {
                    AcceptanceType::Accept
                } else {
                    AcceptanceType::Reject
                };
                // A match that fell through meanwhile refuses the answer; nothing to do.
                let _ = self.engine.accept_match(
                    at,
                    AcceptMatch {
                        ticket_id,
                        player_ids,
                        acceptance_type,
                    },
                );
            }
            Action::EndSession { game_session_arn } => {
                let _ = self.engine.end_game_session(at, &game_session_arn);
                self.metrics.session_ended(&game_session_arn, at);
            }
        }
    }

    fn submit(&mut self, at: Seconds, mut command: Command) {
        if let Some(route) = &self.route {
            match &mut command {
                Command::StartMatchmaking(c) => c.configuration_name = route.clone(),
                Command::StartMatchBackfill(c) => c.configuration_name = route.clone(),
                _ => {}
            }
        }
        let stopping = matches!(command, Command::StopMatchmaking { .. });
        // What the report needs of a new ticket, read before the command goes to the engine
        // (a new ticket starts now).
        let facts = match &command {
            Command::StartMatchmaking(c) => {
                Some(self.facts_of(at, &c.configuration_name, &c.players))
            }
            Command::StartMatchBackfill(c) => {
                Some(self.facts_of(at, &c.configuration_name, &c.players))
            }
            _ => None,
        };
        match self.engine.handle(at, command) {
            Ok(Reply::Ticket(view)) => {
                if let Some(facts) = facts {
                    self.metrics.submitted(facts.party_size());
                    self.live.insert(view.ticket_id, facts);
                }
            }
            Ok(Reply::Done) => {}
            // Ended, or ended and forgotten: the player gave up after the match.
            Err(error)
                if stopping
                    && matches!(
                        error.kind,
                        ErrorKind::FailedPrecondition | ErrorKind::NotFound
                    ) =>
            {
                self.metrics.stop_after_end();
            }
            Err(error) => self.metrics.refused(&format!("{:?}", error.kind)),
        }
    }

    fn facts_of(&self, at: Seconds, configuration: &str, players: &[NewPlayer]) -> TicketFacts {
        let attribute = self.attributes.get(configuration).cloned().flatten();
        TicketFacts::of(at, players, attribute.as_deref())
    }

    fn absorb_events(&mut self) {
        for event in self.engine.take_events() {
            if let Some(kept) = &mut self.kept {
                kept.push(event.clone());
            }
            match event {
                Event::Matchmaking(event) => self.matchmaking_event(&event),
                Event::Placement(event) => {
                    if event.event_type == PlacementEventType::PlacementFulfilled
                        && let Some(arn) = event.placement.game_session_arn.clone()
                    {
                        self.metrics.placed(&event.placement, event.time);
                        let ends = event.time + self.behaviour.session(&mut self.rng);
                        let action = Action::EndSession {
                            game_session_arn: arn,
                        };
                        self.agenda.schedule(ends, action);
                    }
                }
            }
        }
    }

    fn matchmaking_event(&mut self, event: &MatchmakingEvent) {
        let ended = match event.event_type {
            T::PotentialMatchCreated => {
                self.metrics.proposed(event);
                if event.acceptance_required == Some(true) {
                    self.ask_to_accept(event);
                }
                return;
            }
            T::MatchmakingSucceeded => {
                self.metrics.succeeded(event, &self.live);
                None
            }
            T::MatchmakingTimedOut => Some(Ended::TimedOut),
            T::MatchmakingCancelled => Some(Ended::Cancelled),
            T::MatchmakingFailed => Some(Ended::Failed),
            _ => return,
        };
        for ticket in &event.tickets {
            if let Some(ended) = ended {
                self.metrics.ended(&ticket.ticket_id, ended);
            }
            self.live.remove(&ticket.ticket_id);
        }
    }

    /// Each ticket's players answer as one, when and as the behaviour draws.
    fn ask_to_accept(&mut self, event: &MatchmakingEvent) {
        for ticket in &event.tickets {
            let (accept, delay) = self.behaviour.answer(&mut self.rng);
            let action = Action::Answer {
                ticket_id: ticket.ticket_id.clone(),
                player_ids: ticket.players.iter().map(|p| p.player_id.clone()).collect(),
                accept,
            };
            self.agenda.schedule(event.time + delay, action);
        }
    }
}

/// A trace line as an entry (`None` for a blank line); errors carry its number.
pub fn read_line(line: usize, text: &str) -> Result<Option<TraceEntry>, SimError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    parse_line(text)
        .map(Some)
        .map_err(|e| SimError::BadLine { line, message: e.0 })
}

/// The attribute a configuration's matches are measured by: its rule set's balanced
/// attribute, else its first number attribute.
fn quality_attribute(engine: &Engine, config: &Configuration) -> Option<String> {
    let rule_set = &engine.rule_set(&config.rule_set_name).ok()?.rule_set;
    if let Some(id) = rule_set.algorithm.balanced_attribute {
        return rule_set.attributes.get(id.0).map(|a| a.name.clone());
    }
    rule_set
        .attributes
        .iter()
        .find(|a| a.ty == rally_rules::model::AttributeType::Number)
        .map(|a| a.name.clone())
}
