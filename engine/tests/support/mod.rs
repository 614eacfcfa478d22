//! A harness for driving the engine in tests: a rule set, fleets and a queue, tickets built
//! in GameLift's shape, batches run at given times, and every proposed match held to the
//! matcher's independent checker.

#![allow(dead_code)]

#[path = "../../../matchmaker/tests/support/checker.rs"]
pub mod checker;
pub mod proposed;

use rally_engine::events::{Event, MatchmakingEvent, MatchmakingEventType};
use rally_engine::fleets::FleetSpec;
use rally_engine::{
    Configuration, Engine, EngineOptions, FlexMatchMode, StartMatchBackfill, StartMatchmaking,
    TicketStatus, TicketView,
};
use rally_matchmaker::ticket::json::{TicketRequest, read_request};
use rally_placement::json::{parse_fleets, parse_queue};

use checker::Checker;

pub const DUEL: &str = r#"
ruleset "duel"
attribute skill: number
team duelist players 1 quantity 2
rule SkillGap: distance max(flatten(teams[*].players.attributes[skill]))
    to min(flatten(teams[*].players.attributes[skill]))
    max 100
rule FairPing: latency max 150ms
"#;

pub const FLEETS: &str = r#"[{"FleetId": "fleet-a", "FleetType": "ON_DEMAND", "InstanceType": "c5.large",
  "Locations": [{"Location": "us-east-1", "HourlyCost": 0.1, "Instances": 2,
  "GameSessionsPerInstance": 1, "MaxPlayers": 10, "Status": "ACTIVE", "SpotViable": true}]}]"#;

pub const QUEUE: &str = r#"{"Name": "main", "TimeoutInSeconds": 30,
  "Destinations": [{"DestinationArn": "arn:aws:gamelift:us-east-1::fleet/fleet-a"}]}"#;

/// The engine, the tickets sent (for the checker) and every event seen.
pub struct Harness {
    pub engine: Engine,
    pub sent: Vec<TicketRequest>,
    pub events: Vec<Event>,
}

impl Harness {
    /// An engine with the duel rule set, `fleet-a` behind queue `main`, and configurations
    /// `standalone` and `queued` (WITH_QUEUE).
    pub fn new() -> Harness {
        Harness::with(|_| {})
    }

    /// The same, each configuration changed by `edit` before it is created.
    pub fn with(edit: impl Fn(&mut Configuration)) -> Harness {
        let mut engine = Engine::new(EngineOptions {
            seed: 7,
            retention: 600.0,
        });
        engine.create_rule_set(0.0, "duel", DUEL).unwrap();
        for fleet in parse_fleets(FLEETS).unwrap() {
            engine.create_fleet(0.0, FleetSpec::new(fleet)).unwrap();
        }
        engine
            .create_queue(0.0, parse_queue(QUEUE).unwrap())
            .unwrap();
        let mut standalone = Configuration::new("standalone", "duel");
        edit(&mut standalone);
        engine.create_configuration(0.0, standalone).unwrap();
        let mut queued = Configuration::new("queued", "duel");
        queued.flex_match_mode = FlexMatchMode::WithQueue;
        queued.game_session_queue_names = vec!["main".into()];
        edit(&mut queued);
        engine.create_configuration(0.0, queued).unwrap();
        Harness {
            engine,
            sent: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Sends a one-player ticket with `skill` and a latency to us-east-1.
    pub fn start(&mut self, now: f64, configuration: &str, id: &str, skill: f64) -> TicketView {
        let json = format!(
            r#"{{"TicketId": "{id}", "StartTime": {now}, "Players": [{{"PlayerId": "p-{id}",
              "PlayerAttributes": {{"skill": {{"N": {skill}}}}},
              "LatencyInMs": {{"us-east-1": 40}}}}]}}"#
        );
        self.start_json(now, configuration, &json).unwrap()
    }

    /// Sends a ticket written in GameLift's JSON shape.
    pub fn start_json(
        &mut self,
        now: f64,
        configuration: &str,
        json: &str,
    ) -> Result<TicketView, rally_engine::EngineError> {
        let request = read_request(json).unwrap();
        let ticket = request.clone().into_ticket().unwrap();
        let view = self.engine.start_matchmaking(
            now,
            StartMatchmaking {
                ticket_id: Some(ticket.id),
                configuration_name: configuration.into(),
                players: ticket.players,
            },
        );
        if view.is_ok() {
            self.sent.push(request);
        }
        self.collect(now);
        view
    }

    /// Sends a backfill ticket written in GameLift's JSON shape (with `GameSessionArn`).
    pub fn backfill_json(
        &mut self,
        now: f64,
        configuration: &str,
        json: &str,
    ) -> Result<TicketView, rally_engine::EngineError> {
        let request = read_request(json).unwrap();
        let ticket = request.clone().into_ticket().unwrap();
        let view = self.engine.start_match_backfill(
            now,
            StartMatchBackfill {
                ticket_id: Some(ticket.id),
                configuration_name: configuration.into(),
                game_session_arn: ticket.game_session_arn,
                players: ticket.players,
            },
        );
        if view.is_ok() {
            self.sent.push(request);
        }
        self.collect(now);
        view
    }

    /// Runs the batches due at `now` and collects the events, checking every match.
    pub fn batch(&mut self, now: f64) {
        self.engine.run_due_batches(now);
        self.collect(now);
    }

    /// Moves the clock and collects the events.
    pub fn advance(&mut self, now: f64) {
        self.engine.advance(now);
        self.collect(now);
    }

    /// Takes the engine's events; every proposed match must pass the checker at its time.
    pub fn collect(&mut self, now: f64) {
        for event in self.engine.take_events() {
            if let Event::Matchmaking(e) = &event
                && e.event_type == MatchmakingEventType::PotentialMatchCreated
            {
                self.check(e, now);
            }
            self.events.push(event);
        }
    }

    fn check(&self, event: &MatchmakingEvent, now: f64) {
        let found = proposed::proposed_match(event);
        let rule_set = self.engine.rule_set("duel").unwrap().rule_set.clone();
        Checker::new(&rule_set, &self.sent, now)
            .check(&found)
            .unwrap_or_else(|e| panic!("the checker refuses {found:?}: {e}"));
    }

    pub fn status(&mut self, now: f64, id: &str) -> TicketStatus {
        self.view(now, id).status
    }

    pub fn view(&mut self, now: f64, id: &str) -> TicketView {
        let views = self
            .engine
            .describe_matchmaking(now, &[id.to_string()], false)
            .unwrap();
        views
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no ticket `{id}`"))
    }

    /// The types of the events seen for ticket `id`, in order.
    pub fn types_for(&self, id: &str) -> Vec<&'static str> {
        self.events
            .iter()
            .filter(|e| match e {
                Event::Matchmaking(m) => m.names_ticket(id),
                Event::Placement(_) => false,
            })
            .map(Event::type_name)
            .collect()
    }

    /// The matchmaking events of one type.
    pub fn of_type(&self, event_type: MatchmakingEventType) -> Vec<&MatchmakingEvent> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Matchmaking(m) if m.event_type == event_type => Some(m),
                _ => None,
            })
            .collect()
    }
}
