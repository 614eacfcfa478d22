//! What the engine tells listeners: FlexMatch's matchmaking events with their payloads, the
//! placement events, and rally's event for a match whose placement timed out (GameLift stays
//! silent there; users asked for one).

use rally_base::Seconds;

/// A matchmaking event's `detail.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatchmakingEventType {
    MatchmakingSearching,
    PotentialMatchCreated,
    AcceptMatch,
    AcceptMatchCompleted,
    MatchmakingSucceeded,
    MatchmakingTimedOut,
    MatchmakingCancelled,
    MatchmakingFailed,
    /// rally: the match's game session could not be placed in time; its tickets search again.
    MatchmakingPlacementTimedOut,
}

impl MatchmakingEventType {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchmakingEventType::MatchmakingSearching => "MatchmakingSearching",
            MatchmakingEventType::PotentialMatchCreated => "PotentialMatchCreated",
            MatchmakingEventType::AcceptMatch => "AcceptMatch",
            MatchmakingEventType::AcceptMatchCompleted => "AcceptMatchCompleted",
            MatchmakingEventType::MatchmakingSucceeded => "MatchmakingSucceeded",
            MatchmakingEventType::MatchmakingTimedOut => "MatchmakingTimedOut",
            MatchmakingEventType::MatchmakingCancelled => "MatchmakingCancelled",
            MatchmakingEventType::MatchmakingFailed => "MatchmakingFailed",
            MatchmakingEventType::MatchmakingPlacementTimedOut => "MatchmakingPlacementTimedOut",
        }
    }
}

/// A player as an event lists them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventPlayer {
    pub player_id: String,
    pub team: Option<String>,
    pub player_session_id: Option<String>,
    /// In acceptance events: the player's answer so far (`None`: not yet).
    pub accepted: Option<bool>,
}

/// A ticket as an event lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct EventTicket {
    pub ticket_id: String,
    pub start_time: Seconds,
    pub players: Vec<EventPlayer>,
}

/// `ruleEvaluationMetrics`: how often each rule passed and failed for the event's tickets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleMetric {
    pub rule_name: String,
    pub passed_count: u64,
    pub failed_count: u64,
}

/// `gameSessionInfo`: the match's players and, once placed, where they connect.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GameSessionInfo {
    pub game_session_arn: Option<String>,
    pub ip_address: Option<String>,
    pub dns_name: Option<String>,
    pub port: Option<u16>,
    pub players: Vec<EventPlayer>,
    /// rally: where the match can be played, nearest first.
    pub locations: Vec<String>,
}

/// How an acceptance ended (`AcceptMatchCompleted.acceptance`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acceptance {
    Accepted,
    Rejected,
    TimedOut,
}

impl Acceptance {
    pub fn as_str(self) -> &'static str {
        match self {
            Acceptance::Accepted => "Accepted",
            Acceptance::Rejected => "Rejected",
            Acceptance::TimedOut => "TimedOut",
        }
    }
}

/// A matchmaking event, FlexMatch's `detail` with the configuration it belongs to.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchmakingEvent {
    pub event_type: MatchmakingEventType,
    pub time: Seconds,
    pub configuration_name: String,
    pub custom_event_data: Option<String>,
    pub tickets: Vec<EventTicket>,
    pub match_id: Option<String>,
    pub acceptance_required: Option<bool>,
    /// Seconds players have to accept.
    pub acceptance_timeout: Option<u32>,
    pub acceptance: Option<Acceptance>,
    pub rule_evaluation_metrics: Vec<RuleMetric>,
    pub game_session_info: Option<GameSessionInfo>,
    /// Why tickets ended or went back (`TimedOut`, `Cancelled`, `UNEXPECTED_ERROR`, ...).
    pub reason: Option<String>,
    pub message: Option<String>,
    /// `MatchmakingSearching`: the configuration's recent median wait, in seconds (FlexMatch's
    /// `estimatedWaitMillis` is seconds despite the name), when it has one.
    pub estimated_wait_seconds: Option<u64>,
}

impl MatchmakingEvent {
    pub(crate) fn new(
        event_type: MatchmakingEventType,
        time: Seconds,
        configuration_name: &str,
    ) -> MatchmakingEvent {
        MatchmakingEvent {
            event_type,
            time,
            configuration_name: configuration_name.to_string(),
            custom_event_data: None,
            tickets: Vec::new(),
            match_id: None,
            acceptance_required: None,
            acceptance_timeout: None,
            acceptance: None,
            rule_evaluation_metrics: Vec::new(),
            game_session_info: None,
            reason: None,
            message: None,
            estimated_wait_seconds: None,
        }
    }

    /// Whether the event concerns `ticket_id`.
    pub fn names_ticket(&self, ticket_id: &str) -> bool {
        self.tickets.iter().any(|t| t.ticket_id == ticket_id)
    }
}

/// GameLift's queue placement events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlacementEventType {
    PlacementFulfilled,
    PlacementCancelled,
    PlacementTimedOut,
    PlacementFailed,
}

impl PlacementEventType {
    pub fn as_str(self) -> &'static str {
        match self {
            PlacementEventType::PlacementFulfilled => "PlacementFulfilled",
            PlacementEventType::PlacementCancelled => "PlacementCancelled",
            PlacementEventType::PlacementTimedOut => "PlacementTimedOut",
            PlacementEventType::PlacementFailed => "PlacementFailed",
        }
    }
}

/// A placement event, with the placement as it ended.
#[derive(Clone, Debug, PartialEq)]
pub struct PlacementEvent {
    pub event_type: PlacementEventType,
    pub time: Seconds,
    pub placement: crate::placements::PlacementView,
    /// The matchmaking configuration whose match it placed, if any.
    pub configuration_name: Option<String>,
}

/// Everything the engine reports, in the order it happened.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Matchmaking(MatchmakingEvent),
    Placement(PlacementEvent),
}

impl Event {
    pub fn time(&self) -> Seconds {
        match self {
            Event::Matchmaking(event) => event.time,
            Event::Placement(event) => event.time,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Event::Matchmaking(event) => event.event_type.as_str(),
            Event::Placement(event) => event.event_type.as_str(),
        }
    }

    pub fn configuration_name(&self) -> Option<&str> {
        match self {
            Event::Matchmaking(event) => Some(&event.configuration_name),
            Event::Placement(event) => event.configuration_name.as_deref(),
        }
    }
}
