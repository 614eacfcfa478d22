//! GameLift's JSON shapes, read into the model and written from it: a fleet list, a
//! `CreateGameSessionQueue` body, `StartGameSessionPlacement` bodies (JSON Lines), and the
//! queue placement events' `detail`.

use hashbrown::HashMap;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::PlacementError;
use crate::model::{
    CostBasis, DesiredPlayerSession, FallbackStrategy, Fleet, FleetLocation, FleetType,
    GameProperty, LatencyPolicy, LatencyRanking, LocationStatus, Locations, MissingLatency,
    PlacementRequest, PlayerLatency, PriorityOverride, PriorityType, Queue, QueueOptions, Seconds,
    Spread, Unplaceable,
};
use crate::placer::{EventKind, PlacementEvent, Placer};

/// GameLift's documented default queue timeout.
pub const DEFAULT_TIMEOUT: Seconds = 600.0;

/// Reads one JSON value, naming the field and line of the first thing wrong.
fn parse<T: DeserializeOwned>(text: &str) -> Result<T, PlacementError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let line = inner.line();
        // serde_json appends "at line L column C"; the error names the line itself.
        let message = inner.to_string();
        let message = match message.rfind(" at line ") {
            Some(at) => message[..at].to_string(),
            None => message,
        };
        PlacementError::invalid(if path == "." { String::new() } else { path }, message)
            .at_line(line)
    })?;
    deserializer.end().map_err(|error| {
        PlacementError::invalid("", "unexpected text after the JSON value").at_line(error.line())
    })?;
    Ok(value)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct FleetJson {
    fleet_id: String,
    fleet_type: FleetTypeJson,
    instance_type: String,
    locations: Vec<FleetLocationJson>,
}

#[derive(Deserialize)]
enum FleetTypeJson {
    #[serde(rename = "ON_DEMAND")]
    OnDemand,
    #[serde(rename = "SPOT")]
    Spot,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct FleetLocationJson {
    location: String,
    hourly_cost: f64,
    instances: u32,
    game_sessions_per_instance: u32,
    max_players: u32,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    spot_viable: Option<bool>,
}

/// A fleet list: `[{"FleetId", "FleetType", "InstanceType", "Locations": [...]}]`.
pub fn parse_fleets(text: &str) -> Result<Vec<Fleet>, PlacementError> {
    let fleets: Vec<FleetJson> = parse(text)?;
    fleets
        .into_iter()
        .enumerate()
        .map(|(f, fleet)| {
            check_id(&fleet.fleet_id, "FleetId").map_err(|e| e.within(&format!("[{f}]")))?;
            let locations = fleet
                .locations
                .into_iter()
                .enumerate()
                .map(|(l, location)| {
                    let at = format!("[{f}].Locations[{l}]");
                    let status = match &location.status {
                        None => LocationStatus::Active,
                        Some(text) => LocationStatus::parse(text).ok_or_else(|| {
                            let known: Vec<&str> =
                                LocationStatus::ALL.iter().map(|s| s.as_str()).collect();
                            PlacementError::invalid(
                                "Status",
                                format!(
                                    "unknown status `{text}`; expected one of {}",
                                    known.join(", ")
                                ),
                            )
                            .within(&at)
                        })?,
                    };
                    Ok(FleetLocation {
                        location: location.location,
                        hourly_cost: location.hourly_cost,
                        instances: location.instances,
                        sessions_per_instance: location.game_sessions_per_instance,
                        max_players: location.max_players,
                        status,
                        spot_viable: location.spot_viable.unwrap_or(true),
                    })
                })
                .collect::<Result<Vec<_>, PlacementError>>()?;
            Ok(Fleet {
                id: fleet.fleet_id,
                fleet_type: match fleet.fleet_type {
                    FleetTypeJson::OnDemand => FleetType::OnDemand,
                    FleetTypeJson::Spot => FleetType::Spot,
                },
                instance_type: fleet.instance_type,
                locations,
            })
        })
        .collect()
}

fn check_id(id: &str, field: &str) -> Result<(), PlacementError> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(PlacementError::invalid(
            field,
            format!("expected letters, digits and `-`, found `{id}`"),
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct QueueJson {
    name: String,
    #[serde(default)]
    timeout_in_seconds: Option<f64>,
    #[serde(default)]
    player_latency_policies: Vec<PolicyJson>,
    #[serde(default)]
    destinations: Vec<DestinationJson>,
    #[serde(default)]
    filter_configuration: Option<FilterJson>,
    #[serde(default)]
    priority_configuration: Option<PriorityJson>,
    // Accepted so that a GameLift body reads unchanged; placement does not use them.
    #[serde(default)]
    #[allow(dead_code)]
    custom_event_data: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    notification_target: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    tags: Option<Value>,
    /// rally's extensions; absent, the queue behaves as GameLift's.
    #[serde(default)]
    rally_options: Option<OptionsJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct PolicyJson {
    maximum_individual_player_latency_milliseconds: f64,
    #[serde(default)]
    policy_duration_seconds: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct DestinationJson {
    destination_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct FilterJson {
    #[serde(default)]
    allowed_locations: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct PriorityJson {
    #[serde(default)]
    priority_order: Vec<PriorityTypeJson>,
    #[serde(default)]
    location_order: Vec<String>,
}

#[derive(Clone, Copy, Deserialize, PartialEq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum PriorityTypeJson {
    Latency,
    Cost,
    Destination,
    Location,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct OptionsJson {
    #[serde(default)]
    latency_ranking: Option<RankingJson>,
    #[serde(default)]
    latency_percentile: Option<f64>,
    #[serde(default)]
    cost_basis: Option<CostBasisJson>,
    #[serde(default)]
    latency_tolerance_ms: Option<f64>,
    #[serde(default)]
    missing_latency: Option<MissingJson>,
    #[serde(default)]
    assumed_latency_ms: Option<f64>,
    #[serde(default)]
    spread: Option<SpreadJson>,
    #[serde(default)]
    unplaceable: Option<UnplaceableJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum RankingJson {
    Average,
    Worst,
    Percentile,
}

#[derive(Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum CostBasisJson {
    Instance,
    GameSession,
}

#[derive(Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum MissingJson {
    Exclude,
    Assume,
}

#[derive(Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum SpreadJson {
    None,
    Weighted,
}

#[derive(Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum UnplaceableJson {
    Wait,
    Fail,
}

/// The fleet id a `DestinationArn` names (`arn:aws:gamelift:<region>::fleet/<id>`, or a
/// bare id).
fn fleet_id_of(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// A `CreateGameSessionQueue` body, with rally's optional `RallyOptions`.
pub fn parse_queue(text: &str) -> Result<Queue, PlacementError> {
    let body: QueueJson = parse(text)?;
    let name = body.name;
    check_queue_name(&name)?;
    let timeout = PlacementError::at_least_zero(
        body.timeout_in_seconds.unwrap_or(DEFAULT_TIMEOUT),
        "TimeoutInSeconds",
        "timeout in seconds",
    )?;
    let latency_policies = latency_policies(&body.player_latency_policies)?;
    let priority = body.priority_configuration.unwrap_or(PriorityJson {
        priority_order: Vec::new(),
        location_order: Vec::new(),
    });
    let order = priority_order(&priority.priority_order)?;
    check_location_order(&order, &priority.location_order)?;
    // "To remove an existing filter configuration, pass in an empty set."
    let allowed_locations = body
        .filter_configuration
        .map(|filter| filter.allowed_locations)
        .filter(|allowed| !allowed.is_empty());
    let options = match body.rally_options {
        None => QueueOptions::default(),
        Some(options) => queue_options(options)?,
    };
    Ok(Queue {
        name,
        destinations: body
            .destinations
            .iter()
            .map(|d| fleet_id_of(&d.destination_arn).to_string())
            .collect(),
        timeout,
        latency_policies,
        priority_order: PriorityType::complete(&order),
        location_order: priority.location_order,
        allowed_locations,
        options,
    })
}

fn check_queue_name(name: &str) -> Result<(), PlacementError> {
    if name.is_empty() || name.len() > 128 {
        return Err(PlacementError::invalid(
            "Name",
            format!("expected 1 to 128 characters, found `{name}`"),
        ));
    }
    check_id(name, "Name")
}

fn latency_policies(policies: &[PolicyJson]) -> Result<Vec<LatencyPolicy>, PlacementError> {
    policies
        .iter()
        .enumerate()
        .map(|(i, policy)| {
            let at = |field: &str| format!("PlayerLatencyPolicies[{i}].{field}");
            let max = PlacementError::at_least_zero(
                policy.maximum_individual_player_latency_milliseconds,
                at("MaximumIndividualPlayerLatencyMilliseconds"),
                "latency",
            )?;
            let duration = policy
                .policy_duration_seconds
                .map(|d| PlacementError::at_least_zero(d, at("PolicyDurationSeconds"), "duration"))
                .transpose()?;
            Ok(LatencyPolicy {
                max_latency_ms: max,
                duration,
            })
        })
        .collect()
}

/// The criteria as given (at most four, each once), before [`PriorityType::complete`] adds
/// the rest.
fn priority_order(criteria: &[PriorityTypeJson]) -> Result<Vec<PriorityType>, PlacementError> {
    if criteria.len() > 4 {
        return Err(PlacementError::invalid(
            "PriorityConfiguration.PriorityOrder",
            format!("expected 1 to 4 criteria, found {}", criteria.len()),
        ));
    }
    let mut order = Vec::new();
    for (i, criterion) in criteria.iter().enumerate() {
        let criterion = match criterion {
            PriorityTypeJson::Latency => PriorityType::Latency,
            PriorityTypeJson::Cost => PriorityType::Cost,
            PriorityTypeJson::Destination => PriorityType::Destination,
            PriorityTypeJson::Location => PriorityType::Location,
        };
        if order.contains(&criterion) {
            return Err(PlacementError::invalid(
                format!("PriorityConfiguration.PriorityOrder[{i}]"),
                format!("`{}` is listed twice", criterion.as_str()),
            ));
        }
        order.push(criterion);
    }
    Ok(order)
}

/// A `LocationOrder` is needed when `order` ranks by location, and names each location once.
fn check_location_order(
    order: &[PriorityType],
    locations: &[String],
) -> Result<(), PlacementError> {
    if order.contains(&PriorityType::Location) && locations.is_empty() {
        return Err(PlacementError::invalid(
            "PriorityConfiguration.LocationOrder",
            "a priority order with `LOCATION` needs a `LocationOrder`",
        ));
    }
    for (i, location) in locations.iter().enumerate() {
        if locations[..i].contains(location) {
            return Err(PlacementError::invalid(
                format!("PriorityConfiguration.LocationOrder[{i}]"),
                format!("location `{location}` is listed twice"),
            ));
        }
    }
    Ok(())
}

fn queue_options(options: OptionsJson) -> Result<QueueOptions, PlacementError> {
    let at = |field: &str| format!("RallyOptions.{field}");
    let latency_ranking = match options.latency_ranking {
        None | Some(RankingJson::Average) => LatencyRanking::Average,
        Some(RankingJson::Worst) => LatencyRanking::Worst,
        Some(RankingJson::Percentile) => match options.latency_percentile {
            Some(p) if p > 0.0 && p <= 100.0 => LatencyRanking::Percentile(p),
            Some(p) => {
                return Err(PlacementError::invalid(
                    at("LatencyPercentile"),
                    format!("expected a percentile above 0 and at most 100, found `{p}`"),
                ));
            }
            None => {
                return Err(PlacementError::invalid(
                    at("LatencyPercentile"),
                    "`PERCENTILE` ranking needs a `LatencyPercentile`",
                ));
            }
        },
    };
    let missing_latency = match options.missing_latency {
        None | Some(MissingJson::Exclude) => MissingLatency::Exclude,
        Some(MissingJson::Assume) => match options.assumed_latency_ms {
            Some(ms) => MissingLatency::Assume(PlacementError::at_least_zero(
                ms,
                at("AssumedLatencyMs"),
                "latency",
            )?),
            None => {
                return Err(PlacementError::invalid(
                    at("AssumedLatencyMs"),
                    "`ASSUME` needs an `AssumedLatencyMs`",
                ));
            }
        },
    };
    let latency_tolerance_ms = PlacementError::at_least_zero(
        options.latency_tolerance_ms.unwrap_or(0.0),
        at("LatencyToleranceMs"),
        "tolerance",
    )?;
    Ok(QueueOptions {
        latency_ranking,
        cost_basis: match options.cost_basis {
            None | Some(CostBasisJson::Instance) => CostBasis::Instance,
            Some(CostBasisJson::GameSession) => CostBasis::GameSession,
        },
        latency_tolerance_ms,
        missing_latency,
        spread: match options.spread {
            None | Some(SpreadJson::None) => Spread::None,
            Some(SpreadJson::Weighted) => Spread::Weighted,
        },
        unplaceable: match options.unplaceable {
            None | Some(UnplaceableJson::Wait) => Unplaceable::Wait,
            Some(UnplaceableJson::Fail) => Unplaceable::Fail,
        },
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RequestJson {
    placement_id: String,
    game_session_queue_name: String,
    maximum_player_session_count: u32,
    #[serde(default)]
    player_latencies: Vec<PlayerLatencyJson>,
    #[serde(default)]
    desired_player_sessions: Vec<DesiredJson>,
    #[serde(default)]
    game_properties: Vec<GamePropertyJson>,
    #[serde(default)]
    game_session_name: Option<String>,
    #[serde(default)]
    game_session_data: Option<String>,
    #[serde(default)]
    priority_configuration_override: Option<OverrideJson>,
    /// rally's addition for replaying requests: when the request arrives, in seconds.
    #[serde(default)]
    start_time: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct PlayerLatencyJson {
    player_id: String,
    region_identifier: String,
    latency_in_milliseconds: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct DesiredJson {
    player_id: String,
    #[serde(default)]
    player_data: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct GamePropertyJson {
    key: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct OverrideJson {
    #[serde(default)]
    placement_fallback_strategy: Option<FallbackJson>,
    location_order: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum FallbackJson {
    DefaultAfterSinglePass,
    None,
}

/// A request read from one line, with its `StartTime` when it gives one.
#[derive(Clone, Debug, PartialEq)]
pub struct TimedRequest {
    pub line: usize,
    pub start_time: Option<Seconds>,
    pub request: PlacementRequest,
}

/// `StartGameSessionPlacement` bodies, one per line, their regions numbered by `locations`
/// (a placer's); blank lines are skipped. The first malformed line is an error, and nothing
/// is returned.
pub fn parse_request_lines(
    text: &str,
    locations: &Locations,
) -> Result<Vec<TimedRequest>, PlacementError> {
    let mut requests = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let number = index + 1;
        let (start_time, request) = parse_request(line, locations).map_err(|mut error| {
            error.line = Some(number);
            error
        })?;
        requests.push(TimedRequest {
            line: number,
            start_time,
            request,
        });
    }
    Ok(requests)
}

/// One `StartGameSessionPlacement` body, its regions numbered by `locations`. Latencies to a
/// region no fleet has are checked, then left out: no candidate is there. A player who
/// reports one region twice is an error, wherever the region is.
pub fn parse_request(
    text: &str,
    locations: &Locations,
) -> Result<(Option<Seconds>, PlacementRequest), PlacementError> {
    let body: RequestJson = parse(text)?;
    check_request_limits(&body)?;
    let mut request = PlacementRequest {
        placement_id: body.placement_id,
        queue: queue_name_of(&body.game_session_queue_name).to_string(),
        max_players: body.maximum_player_session_count,
        players: Vec::new(),
        player_latencies: Vec::new(),
        desired_player_sessions: body
            .desired_player_sessions
            .into_iter()
            .map(|d| DesiredPlayerSession {
                player_id: d.player_id,
                player_data: d.player_data,
            })
            .collect(),
        game_properties: body
            .game_properties
            .into_iter()
            .map(|p| GameProperty {
                key: p.key,
                value: p.value,
            })
            .collect(),
        game_session_name: body.game_session_name,
        game_session_data: body.game_session_data,
        priority_override: body.priority_configuration_override.map(priority_override),
    };
    add_player_latencies(&mut request, &body.player_latencies, locations)?;
    Ok((body.start_time, request))
}

fn check_request_limits(body: &RequestJson) -> Result<(), PlacementError> {
    if body.game_properties.len() > 16 {
        return Err(PlacementError::invalid(
            "GameProperties",
            format!(
                "expected at most 16 properties, found {}",
                body.game_properties.len()
            ),
        ));
    }
    if let Some(start) = body.start_time
        && !start.is_finite()
    {
        return Err(PlacementError::invalid(
            "StartTime",
            format!("expected seconds, found `{start}`"),
        ));
    }
    Ok(())
}

/// A queue's name, from its name or its ARN.
fn queue_name_of(name_or_arn: &str) -> &str {
    name_or_arn
        .rsplit("gamesessionqueue/")
        .next()
        .unwrap_or(name_or_arn)
}

fn priority_override(body: OverrideJson) -> PriorityOverride {
    PriorityOverride {
        location_order: body.location_order,
        fallback: match body.placement_fallback_strategy {
            None | Some(FallbackJson::DefaultAfterSinglePass) => {
                FallbackStrategy::DefaultAfterSinglePass
            }
            Some(FallbackJson::None) => FallbackStrategy::None,
        },
    }
}

/// Numbers the players as their latencies first name them; a region `locations` does not
/// know is checked but dropped, since no fleet can be there.
fn add_player_latencies(
    request: &mut PlacementRequest,
    latencies: &[PlayerLatencyJson],
    locations: &Locations,
) -> Result<(), PlacementError> {
    // Looked up only: no order of this map reaches a result.
    let mut reported: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, latency) in latencies.iter().enumerate() {
        let ms = PlacementError::at_least_zero(
            latency.latency_in_milliseconds,
            format!("PlayerLatencies[{i}].LatencyInMilliseconds"),
            "latency",
        )?;
        let pair = (
            latency.player_id.as_str(),
            latency.region_identifier.as_str(),
        );
        if let Some(first) = reported.insert(pair, i) {
            return Err(PlacementError::invalid(
                format!("PlayerLatencies[{i}]"),
                format!(
                    "player `{}` reports region `{}` twice, here and at `PlayerLatencies[{first}]`",
                    pair.0, pair.1
                ),
            ));
        }
        let player = request.player_index(&latency.player_id);
        if let Some(location) = locations.id(&latency.region_identifier) {
            request.player_latencies.push(PlayerLatency {
                player,
                location,
                latency_ms: ms,
            });
        }
    }
    Ok(())
}

/// A game session's id (its ARN, as GameLift's `GameSessionId`): the location appears only
/// for a fleet's remote locations.
pub fn game_session_arn(
    placer: &Placer,
    event_placement: &crate::placer::Placement,
) -> Option<String> {
    let session = event_placement.session.as_ref()?;
    let fleet = placer
        .fleets()
        .iter()
        .find(|f| *f.id == *session.fleet_id)?;
    let home = &fleet.locations.first()?.location;
    let location = if **home == *session.location {
        String::new()
    } else {
        format!("{}/", session.location)
    };
    Some(format!(
        "arn:aws:gamelift:{home}::gamesession/{}/{location}gsess-{}",
        session.fleet_id, session.number
    ))
}

/// An event's `detail`, in GameLift's shape (times in seconds on the caller's clock).
pub fn event_detail(placer: &Placer, event: &PlacementEvent) -> Value {
    let placement = placer.placement(event.placement);
    let mut detail = json!({
        "type": event.kind.as_str(),
        "placementId": placement.request.placement_id,
        "startTime": placement.start_time,
        "endTime": event.time,
    });
    if event.kind == EventKind::Fulfilled
        && let Some(session) = &placement.session
    {
        let number = session.number;
        let sessions: Vec<Value> = placement
            .request
            .desired_player_sessions
            .iter()
            .enumerate()
            .map(|(i, p)| json!({"playerId": p.player_id, "playerSessionId": format!("psess-{number}-{i}")}))
            .collect();
        detail["gameSessionArn"] = json!(game_session_arn(placer, placement));
        detail["gameSessionRegion"] = json!(&*session.location);
        detail["placedPlayerSessions"] = Value::Array(sessions);
        // Connection details come from the game server that hosts the session; the placer
        // decides where, and knows none.
        detail["ipAddress"] = Value::Null;
        detail["dnsName"] = Value::Null;
        detail["port"] = Value::Null;
    }
    if event.kind == EventKind::Failed
        && let Some(reason) = &placement.reason
    {
        detail["reason"] = json!(reason.to_string());
    }
    detail
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LocationId;

    #[test]
    fn reads_a_gamelift_queue_body() {
        let queue = parse_queue(
            r#"{"Name":"q","TimeoutInSeconds":300,
                "PlayerLatencyPolicies":[{"MaximumIndividualPlayerLatencyMilliseconds":50,"PolicyDurationSeconds":60}],
                "Destinations":[{"DestinationArn":"arn:aws:gamelift:us-east-1::fleet/fleet-1"},{"DestinationArn":"f2"}],
                "PriorityConfiguration":{"PriorityOrder":["COST"]},
                "FilterConfiguration":{"AllowedLocations":[]},
                "Tags":[{"Key":"team","Value":"core"}]}"#,
        )
        .unwrap();
        assert_eq!(queue.destinations, ["fleet-1", "f2"]);
        assert_eq!(queue.timeout, 300.0);
        assert_eq!(
            queue.priority_order,
            [
                PriorityType::Cost,
                PriorityType::Latency,
                PriorityType::Destination,
                PriorityType::Location
            ]
        );
        assert_eq!(
            queue.allowed_locations, None,
            "an empty filter is no filter"
        );
        assert_eq!(queue.options, QueueOptions::default());
        assert_eq!(
            parse_queue(r#"{"Name":"q"}"#).unwrap().timeout,
            DEFAULT_TIMEOUT
        );
    }

    #[test]
    fn names_the_field_and_line_of_bad_input() {
        let error = parse_queue(
            "{\"Name\":\"q\",\n\"PriorityConfiguration\":{\"PriorityOrder\":[\"SPEED\"]}}",
        )
        .unwrap_err();
        assert_eq!(error.field, "PriorityConfiguration.PriorityOrder[0]");
        assert_eq!(error.line, Some(2));
        assert!(error.message.contains("unknown variant `SPEED`"), "{error}");

        let error =
            parse_queue(r#"{"Name":"q","PriorityConfiguration":{"PriorityOrder":["LOCATION"]}}"#)
                .unwrap_err();
        assert_eq!(error.field, "PriorityConfiguration.LocationOrder");

        let error = parse_fleets(
            r#"[{"FleetId":"f","FleetType":"SPOT","InstanceType":"c5.large","Locations":[{"Location":"x","HourlyCost":1,"Instances":1,"GameSessionsPerInstance":1,"MaxPlayers":10,"Status":"RUNNING"}]}]"#,
        )
        .unwrap_err();
        assert_eq!(error.field, "[0].Locations[0].Status");
        assert!(error.message.contains("`RUNNING`"), "{error}");

        let error = parse_request_lines(
            "{\"PlacementId\":\"a\",\"GameSessionQueueName\":\"q\",\"MaximumPlayerSessionCount\":2}\n\n\
             {\"PlacementId\":\"b\",\"GameSessionQueueName\":\"q\",\"MaximumPlayerSessionCount\":\"ten\"}",
            &Locations::default(),
        )
        .unwrap_err();
        assert_eq!(error.line, Some(3));
        assert_eq!(error.field, "MaximumPlayerSessionCount");

        let error = parse_queue(r#"{"Name":"q","RallyOptions":{"LatencyRanking":"PERCENTILE"}}"#)
            .unwrap_err();
        assert_eq!(error.field, "RallyOptions.LatencyPercentile");
    }

    #[test]
    fn reads_rally_options() {
        let queue = parse_queue(
            r#"{"Name":"q","RallyOptions":{"LatencyRanking":"PERCENTILE","LatencyPercentile":90,
                "CostBasis":"GAME_SESSION","LatencyToleranceMs":15,"MissingLatency":"ASSUME",
                "AssumedLatencyMs":250,"Spread":"WEIGHTED","Unplaceable":"FAIL"}}"#,
        )
        .unwrap();
        assert_eq!(
            queue.options,
            QueueOptions {
                latency_ranking: LatencyRanking::Percentile(90.0),
                cost_basis: CostBasis::GameSession,
                latency_tolerance_ms: 15.0,
                missing_latency: MissingLatency::Assume(250.0),
                spread: Spread::Weighted,
                unplaceable: Unplaceable::Fail,
            }
        );
        let error =
            parse_queue(r#"{"Name":"q","RallyOptions":{"Unplaceable":"DROP"}}"#).unwrap_err();
        assert_eq!(error.field, "RallyOptions.Unplaceable");
        assert!(error.message.contains("unknown variant `DROP`"), "{error}");
    }

    #[test]
    fn reads_a_request_with_an_override_and_a_queue_arn() {
        let (start, request) = parse_request(
            r#"{"PlacementId":"p1","GameSessionQueueName":"arn:aws:gamelift:us-east-1::gamesessionqueue/q",
                "MaximumPlayerSessionCount":10,"StartTime":4.5,
                "PriorityConfigurationOverride":{"LocationOrder":["eu-west-1"],"PlacementFallbackStrategy":"NONE"}}"#,
            &Locations::default(),
        )
        .unwrap();
        assert_eq!(start, Some(4.5));
        assert_eq!(request.queue, "q");
        let priority = request.priority_override.unwrap();
        assert_eq!(priority.fallback, FallbackStrategy::None);
        assert_eq!(priority.location_order, ["eu-west-1"]);
    }

    #[test]
    fn numbers_reported_regions_and_leaves_out_those_no_fleet_has() {
        let mut locations = Locations::default();
        let east = locations.intern("us-east-1");
        let west = locations.intern("eu-west-1");
        let latency = |player: &str, region: &str, ms: f64| {
            format!(
                r#"{{"PlayerId":"{player}","RegionIdentifier":"{region}","LatencyInMilliseconds":{ms}}}"#
            )
        };
        let line = format!(
            r#"{{"PlacementId":"p1","GameSessionQueueName":"q","MaximumPlayerSessionCount":10,"PlayerLatencies":[{},{},{},{}]}}"#,
            latency("a", "eu-west-1", 80.0),
            latency("b", "mars-north-1", 5.0),
            latency("a", "us-east-1", 30.0),
            latency("b", "us-east-1", 40.0),
        );
        let (_, request) = parse_request(&line, &locations).unwrap();
        assert_eq!(request.players, ["a", "b"]);
        let reported: Vec<(u32, LocationId, f64)> = request
            .player_latencies
            .iter()
            .map(|l| (l.player, l.location, l.latency_ms))
            .collect();
        assert_eq!(
            reported,
            [(0, west, 80.0), (0, east, 30.0), (1, east, 40.0)]
        );

        // A region no fleet has is still checked.
        let bad = line.replace(
            &latency("b", "mars-north-1", 5.0),
            &latency("b", "mars-north-1", -5.0),
        );
        let error = parse_request(&bad, &locations).unwrap_err();
        assert_eq!(error.field, "PlayerLatencies[1].LatencyInMilliseconds");

        // One player reporting one region twice, a region a fleet has or not.
        for (player, region, first) in [("a", "us-east-1", 2), ("b", "mars-north-1", 1)] {
            let twice = line.replace(
                &latency("b", "us-east-1", 40.0),
                &latency(player, region, 35.0),
            );
            let error = parse_request(&twice, &locations).unwrap_err();
            assert_eq!(error.field, "PlayerLatencies[3]");
            let says = format!(
                "player `{player}` reports region `{region}` twice, here and at `PlayerLatencies[{first}]`"
            );
            assert_eq!(error.message, says);
        }
    }
}
