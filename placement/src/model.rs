//! Fleets, queues and placement requests: what the placer decides over, resolved from
//! GameLift's shapes (see [`crate::json`]) and free of them.

use std::fmt;
use std::sync::Arc;

use hashbrown::HashMap;

/// Seconds on the caller's clock, shared with the matchmaker. The placer reads no clock: every
/// call says what time it is.
pub use rally_base::{Seconds, Time};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FleetType {
    OnDemand,
    Spot,
}

/// A fleet location's status, GameLift's `FleetStatus`. Only `Active` takes placements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocationStatus {
    New,
    Downloading,
    Validating,
    Building,
    Activating,
    Active,
    Deleting,
    Error,
    Terminated,
    NotFound,
    Expired,
}

impl LocationStatus {
    pub const ALL: [LocationStatus; 11] = [
        LocationStatus::New,
        LocationStatus::Downloading,
        LocationStatus::Validating,
        LocationStatus::Building,
        LocationStatus::Activating,
        LocationStatus::Active,
        LocationStatus::Deleting,
        LocationStatus::Error,
        LocationStatus::Terminated,
        LocationStatus::NotFound,
        LocationStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LocationStatus::New => "NEW",
            LocationStatus::Downloading => "DOWNLOADING",
            LocationStatus::Validating => "VALIDATING",
            LocationStatus::Building => "BUILDING",
            LocationStatus::Activating => "ACTIVATING",
            LocationStatus::Active => "ACTIVE",
            LocationStatus::Deleting => "DELETING",
            LocationStatus::Error => "ERROR",
            LocationStatus::Terminated => "TERMINATED",
            LocationStatus::NotFound => "NOT_FOUND",
            LocationStatus::Expired => "EXPIRED",
        }
    }

    pub fn parse(text: &str) -> Option<LocationStatus> {
        LocationStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A fleet: one instance type in one or more locations.
#[derive(Clone, Debug, PartialEq)]
pub struct Fleet {
    pub id: String,
    pub fleet_type: FleetType,
    pub instance_type: String,
    pub locations: Vec<FleetLocation>,
}

/// A fleet's capacity and price in one location.
#[derive(Clone, Debug, PartialEq)]
pub struct FleetLocation {
    pub location: String,
    /// USD per instance-hour (the Spot price for a Spot fleet).
    pub hourly_cost: f64,
    pub instances: u32,
    pub sessions_per_instance: u32,
    /// The most players one game session here can hold.
    pub max_players: u32,
    pub status: LocationStatus,
    /// Whether a Spot location's interruption risk is acceptable (always true on demand).
    pub spot_viable: bool,
}

impl FleetLocation {
    /// Game sessions the location can host at once.
    pub fn capacity(&self) -> u64 {
        u64::from(self.instances) * u64::from(self.sessions_per_instance)
    }
}

/// One step of a queue's sliding latency cap.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatencyPolicy {
    pub max_latency_ms: f64,
    /// `None`: in force until the request times out.
    pub duration: Option<Seconds>,
}

/// A ranking criterion of `PriorityConfiguration.PriorityOrder`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriorityType {
    Latency,
    Cost,
    Destination,
    Location,
}

impl PriorityType {
    /// GameLift's default order; a configured order is completed with the criteria it
    /// leaves out, in this order.
    pub const DEFAULT_ORDER: [PriorityType; 4] = [
        PriorityType::Latency,
        PriorityType::Cost,
        PriorityType::Destination,
        PriorityType::Location,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PriorityType::Latency => "LATENCY",
            PriorityType::Cost => "COST",
            PriorityType::Destination => "DESTINATION",
            PriorityType::Location => "LOCATION",
        }
    }

    /// `order` completed with the missing criteria in the default order.
    pub fn complete(order: &[PriorityType]) -> [PriorityType; 4] {
        let mut full = [PriorityType::Latency; 4];
        let rest = PriorityType::DEFAULT_ORDER
            .into_iter()
            .filter(|p| !order.contains(p));
        for (slot, priority) in full.iter_mut().zip(order.iter().copied().chain(rest)) {
            *slot = priority;
        }
        full
    }
}

/// How a location's latency is ranked. GameLift ranks by the players' average.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LatencyRanking {
    Average,
    /// The worst player's latency: nobody is left with a bad game to please the rest.
    Worst,
    /// The given percentile (0–100) of the players' latencies, nearest rank.
    Percentile(f64),
}

/// What the COST criterion compares. GameLift compares the instance's hourly price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CostBasis {
    Instance,
    /// Hourly price ÷ game sessions per instance: what one more game actually costs.
    GameSession,
}

/// What a player who reports no latency for a location means for it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MissingLatency {
    /// The location is not a candidate (the default, as FlexMatch does for matches).
    Exclude,
    /// The player is taken to have this latency there.
    Assume(f64),
}

/// How the placer chooses among candidates that rank exactly equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spread {
    /// The first in GameLift's tie-break order (destination, then location name).
    None,
    /// Candidates equal on every criterion ranked before DESTINATION are chosen at random,
    /// weighted by their free game sessions, from the placer's seeded generator (as Agones
    /// spreads over clusters of equal priority by weight).
    Weighted,
}

/// What becomes of a request that none of its queue's candidates could ever host, whatever
/// capacity comes free: one that breaks a filter that never changes (allowed locations, the
/// override, players per session, a missing latency or one over the loosest cap) everywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unplaceable {
    /// PENDING until the queue's timeout, then TIMED_OUT, as GameLift does.
    Wait,
    /// FAILED at once, with the reason: the caller learns now what it would learn at the
    /// timeout.
    Fail,
}

/// rally's opt-in extensions to a queue; the defaults are GameLift's behaviour.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QueueOptions {
    pub latency_ranking: LatencyRanking,
    pub cost_basis: CostBasis,
    /// Locations within this many milliseconds of the best rank as equal on latency, so the
    /// next criterion (usually cost) decides among them.
    pub latency_tolerance_ms: f64,
    pub missing_latency: MissingLatency,
    pub spread: Spread,
    pub unplaceable: Unplaceable,
}

impl Default for QueueOptions {
    fn default() -> Self {
        QueueOptions {
            latency_ranking: LatencyRanking::Average,
            cost_basis: CostBasis::Instance,
            latency_tolerance_ms: 0.0,
            missing_latency: MissingLatency::Exclude,
            spread: Spread::None,
            unplaceable: Unplaceable::Wait,
        }
    }
}

/// A game session queue.
#[derive(Clone, Debug, PartialEq)]
pub struct Queue {
    pub name: String,
    /// Fleet ids, in the queue's order of preference.
    pub destinations: Vec<String>,
    pub timeout: Seconds,
    /// As configured; they apply in order of their caps, lowest first.
    pub latency_policies: Vec<LatencyPolicy>,
    /// Complete: the configured order followed by the criteria it leaves out.
    pub priority_order: [PriorityType; 4],
    pub location_order: Vec<String>,
    /// `None`: every location of the destinations.
    pub allowed_locations: Option<Vec<String>>,
    pub options: QueueOptions,
}

impl Queue {
    /// The latency cap in force `elapsed` seconds after a request started (see
    /// [`LatencySchedule`]).
    pub fn latency_cap(&self, elapsed: Seconds) -> Option<f64> {
        self.latency_schedule().cap_at(0.0, elapsed)
    }

    /// Elapsed times at which the cap changes, ascending.
    pub fn cap_changes(&self) -> Vec<Seconds> {
        self.latency_schedule().changes().collect()
    }

    /// The loosest cap a request can ever face (`None`: at some point, none).
    pub fn loosest_cap(&self) -> Option<f64> {
        self.latency_schedule().loosest(self.timeout)
    }

    /// The policies in the order they apply, worked out once.
    pub fn latency_schedule(&self) -> LatencySchedule {
        LatencySchedule::of(&self.latency_policies)
    }
}

/// A queue's latency policies in force one after another: by cap ascending, each for its
/// duration; a policy without one lasts until the timeout. When every policy has a duration
/// and all have passed, no cap applies (GameLift's "and then no policy for the remainder of
/// the placement").
#[derive(Clone, Debug, PartialEq)]
pub struct LatencySchedule {
    /// Each cap with the elapsed time it ends at (`None`: never); the steps after one that
    /// never ends are dropped.
    steps: Vec<(f64, Option<Seconds>)>,
}

impl LatencySchedule {
    pub fn of(policies: &[LatencyPolicy]) -> LatencySchedule {
        let mut sorted = policies.to_vec();
        sorted.sort_by(|a, b| a.max_latency_ms.total_cmp(&b.max_latency_ms));
        let mut steps = Vec::new();
        let mut end = 0.0;
        for policy in sorted {
            match policy.duration {
                None => {
                    steps.push((policy.max_latency_ms, None));
                    break;
                }
                Some(duration) => {
                    end += duration;
                    steps.push((policy.max_latency_ms, Some(end)));
                }
            }
        }
        LatencySchedule { steps }
    }

    /// The cap in force at `now` for a request that started at `started`. Ends are compared
    /// as `started + end`, the same sum a wake-up time is made of, so a request woken at a
    /// change sees the new cap (`now - started` may round below the end).
    pub fn cap_at(&self, started: Seconds, now: Seconds) -> Option<f64> {
        self.steps
            .iter()
            .find(|(_, end)| end.is_none_or(|end| now < started + end))
            .map(|(cap, _)| *cap)
    }

    /// Elapsed times at which the cap changes, ascending.
    pub fn changes(&self) -> impl Iterator<Item = Seconds> + '_ {
        self.steps.iter().filter_map(|(_, end)| *end)
    }

    /// The cap of the last decision before `deadline` of a request that started at
    /// `started`: the one in force at the last change before it, or at the start. A cap that
    /// would start exactly at the deadline never applies: the timeout wins.
    pub fn last_cap_before(&self, started: Seconds, deadline: Seconds) -> Option<f64> {
        let last_change = self
            .changes()
            .map(|change| started + change)
            .take_while(|at| *at < deadline)
            .last()
            .unwrap_or(started);
        self.cap_at(started, last_change)
    }

    /// The loosest cap before `timeout` (`None`: at some point, none).
    pub fn loosest(&self, timeout: Seconds) -> Option<f64> {
        std::iter::once(0.0)
            .chain(self.changes())
            .filter(|at| *at < timeout)
            .try_fold(0.0, |loosest: f64, at| {
                self.cap_at(0.0, at).map(|cap| loosest.max(cap))
            })
    }
}

/// A location's number in a placer (`rally_base`'s, shared with the matchmaker). Requests
/// carry latencies by number, so that a decision never looks a location up by name;
/// [`Locations`] converts at the edge.
pub use rally_base::LocationId;

/// The locations a placer's fleets cover, numbered in the order the fleets list them.
#[derive(Clone, Debug, Default)]
pub struct Locations {
    names: Vec<Arc<str>>,
    ids: HashMap<Arc<str>, LocationId>,
}

impl Locations {
    /// The location's number, `None` for a location no fleet has.
    pub fn id(&self, name: &str) -> Option<LocationId> {
        self.ids.get(name).copied()
    }

    pub fn name(&self, id: LocationId) -> &Arc<str> {
        &self.names[id.0 as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// `(location, ms)` pairs by number; locations no fleet has are left out, since no
    /// candidate is there and their latencies cannot matter.
    pub fn resolve(&self, latencies: &[(&str, f64)]) -> Vec<(LocationId, f64)> {
        latencies
            .iter()
            .filter_map(|(name, ms)| Some((self.id(name)?, *ms)))
            .collect()
    }

    /// Numbers `name`, if it has no number yet.
    pub(crate) fn intern(&mut self, name: &str) -> LocationId {
        if let Some(id) = self.id(name) {
            return id;
        }
        let id = LocationId(self.names.len() as u32);
        let name: Arc<str> = name.into();
        self.names.push(name.clone());
        self.ids.insert(name, id);
        id
    }

    /// Each location's rank in alphabetical order, by number.
    pub(crate) fn alphabetical_ranks(&self) -> Vec<u32> {
        let mut by_name: Vec<usize> = (0..self.names.len()).collect();
        by_name.sort_by(|a, b| self.names[*a].cmp(&self.names[*b]));
        let mut ranks = vec![0; by_name.len()];
        for (rank, id) in by_name.into_iter().enumerate() {
            ranks[id] = rank as u32;
        }
        ranks
    }
}

/// One player's round trip to one location, as the request reports it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlayerLatency {
    /// Index into the request's `players`.
    pub player: u32,
    pub location: LocationId,
    pub latency_ms: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DesiredPlayerSession {
    pub player_id: String,
    pub player_data: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GameProperty {
    pub key: String,
    pub value: String,
}

/// What to do once every location of an override list has been tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FallbackStrategy {
    /// Try the queue's other locations next (GameLift's default).
    DefaultAfterSinglePass,
    /// Only the listed locations.
    None,
}

impl FallbackStrategy {
    pub fn as_str(self) -> &'static str {
        match self {
            FallbackStrategy::DefaultAfterSinglePass => "DEFAULT_AFTER_SINGLE_PASS",
            FallbackStrategy::None => "NONE",
        }
    }
}

/// A request's own location order (`PriorityConfigurationOverride`).
#[derive(Clone, Debug, PartialEq)]
pub struct PriorityOverride {
    pub location_order: Vec<String>,
    pub fallback: FallbackStrategy,
}

/// A `StartGameSessionPlacement` request.
#[derive(Clone, Debug, PartialEq)]
pub struct PlacementRequest {
    pub placement_id: String,
    pub queue: String,
    pub max_players: u32,
    /// The players who report latencies, each once; one who reports only locations no fleet
    /// has is here too, with no `player_latencies`, and is missing a latency everywhere.
    pub players: Vec<String>,
    pub player_latencies: Vec<PlayerLatency>,
    pub desired_player_sessions: Vec<DesiredPlayerSession>,
    pub game_properties: Vec<GameProperty>,
    pub game_session_name: Option<String>,
    pub game_session_data: Option<String>,
    pub priority_override: Option<PriorityOverride>,
}

impl PlacementRequest {
    /// A request with no latencies and nothing optional, to build on.
    pub fn new(
        placement_id: impl Into<String>,
        queue: impl Into<String>,
        max_players: u32,
    ) -> Self {
        PlacementRequest {
            placement_id: placement_id.into(),
            queue: queue.into(),
            max_players,
            players: Vec::new(),
            player_latencies: Vec::new(),
            desired_player_sessions: Vec::new(),
            game_properties: Vec::new(),
            game_session_name: None,
            game_session_data: None,
            priority_override: None,
        }
    }

    /// Adds one player's latencies, `(location, ms)`; a player already added gets more, and
    /// one with none is not added (see `players`).
    pub fn with_player(mut self, player_id: &str, latencies: &[(LocationId, f64)]) -> Self {
        if latencies.is_empty() {
            return self;
        }
        let player = self.player_index(player_id);
        self.player_latencies
            .extend(latencies.iter().map(|(location, ms)| PlayerLatency {
                player,
                location: *location,
                latency_ms: *ms,
            }));
        self
    }

    /// The player's index in `players`, adding the player if new.
    pub fn player_index(&mut self, player_id: &str) -> u32 {
        // Requests usually list a player's locations together: try the last one first.
        let found = match self.players.last() {
            Some(last) if last == player_id => Some(self.players.len() - 1),
            _ => self.players.iter().position(|p| p == player_id),
        };
        let index = found.unwrap_or_else(|| {
            self.players.push(player_id.to_string());
            self.players.len() - 1
        });
        index as u32
    }
}

/// A placement's status, GameLift's `GameSessionPlacementState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PlacementStatus {
    Pending,
    Fulfilled,
    Cancelled,
    TimedOut,
    Failed,
}

impl PlacementStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PlacementStatus::Pending => "PENDING",
            PlacementStatus::Fulfilled => "FULFILLED",
            PlacementStatus::Cancelled => "CANCELLED",
            PlacementStatus::TimedOut => "TIMED_OUT",
            PlacementStatus::Failed => "FAILED",
        }
    }
}

impl fmt::Display for PlacementStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(policies: &[(f64, Option<f64>)], timeout: f64) -> Queue {
        Queue {
            name: "q".into(),
            destinations: Vec::new(),
            timeout,
            latency_policies: policies
                .iter()
                .map(|(max, duration)| LatencyPolicy {
                    max_latency_ms: *max,
                    duration: *duration,
                })
                .collect(),
            priority_order: PriorityType::DEFAULT_ORDER,
            location_order: Vec::new(),
            allowed_locations: None,
            options: QueueOptions::default(),
        }
    }

    #[test]
    fn policies_apply_by_cap_ascending_each_for_its_duration() {
        // Listed out of order on purpose: GameLift orders them by cap.
        let q = queue(
            &[(200.0, None), (50.0, Some(120.0)), (100.0, Some(120.0))],
            300.0,
        );
        assert_eq!(q.latency_cap(0.0), Some(50.0));
        assert_eq!(q.latency_cap(119.9), Some(50.0));
        assert_eq!(q.latency_cap(120.0), Some(100.0));
        assert_eq!(q.latency_cap(240.0), Some(200.0));
        assert_eq!(q.latency_cap(10_000.0), Some(200.0));
        assert_eq!(q.cap_changes(), [120.0, 240.0]);
        assert_eq!(q.loosest_cap(), Some(200.0));
    }

    #[test]
    fn after_the_last_timed_policy_no_cap_applies() {
        let q = queue(&[(60.0, Some(60.0)), (120.0, Some(30.0))], 300.0);
        assert_eq!(q.latency_cap(89.0), Some(120.0));
        assert_eq!(q.latency_cap(90.0), None);
        assert_eq!(q.loosest_cap(), None);
        // Unless the timeout comes first.
        let short = queue(&[(60.0, Some(60.0)), (120.0, Some(30.0))], 90.0);
        assert_eq!(short.loosest_cap(), Some(120.0));
        assert_eq!(queue(&[], 60.0).latency_cap(0.0), None);
    }

    #[test]
    fn the_last_cap_before_a_timeout_is_the_one_its_last_decision_saw() {
        let schedule = LatencySchedule::of(&[
            LatencyPolicy {
                max_latency_ms: 50.0,
                duration: Some(60.0),
            },
            LatencyPolicy {
                max_latency_ms: 100.0,
                duration: None,
            },
        ]);
        // Started at 5: the cap relaxes at 65.
        assert_eq!(schedule.last_cap_before(5.0, 100.0), Some(100.0));
        assert_eq!(
            schedule.last_cap_before(5.0, 65.0),
            Some(50.0),
            "a cap starting at the timeout never applies"
        );
        assert_eq!(schedule.last_cap_before(5.0, 5.0), Some(50.0));
        assert_eq!(LatencySchedule::of(&[]).last_cap_before(0.0, 60.0), None);
    }

    #[test]
    fn a_partial_priority_order_is_completed_in_the_default_order() {
        use PriorityType::*;
        assert_eq!(
            PriorityType::complete(&[Destination]),
            [Destination, Latency, Cost, Location]
        );
        assert_eq!(
            PriorityType::complete(&[Location, Cost]),
            [Location, Cost, Latency, Destination]
        );
        assert_eq!(PriorityType::complete(&[]), PriorityType::DEFAULT_ORDER);
    }
}
