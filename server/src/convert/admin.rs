//! The Admin service's messages and the engine's resources: rule sets and their diagnostics,
//! matchmaking configurations, game session queues (with rally's options) and fleets, by
//! the rules and defaults GameLift's JSON follows in `rally_placement::json`.

use rally_engine::error::RuleSetDiagnostic;
use rally_engine::fleets::{FleetSpec, InboundPermission, LocationAddress};
use rally_engine::rule_sets::StoredRuleSet;
use rally_engine::{BackfillMode, Configuration, EngineError, FlexMatchMode, GameProperty};
use rally_placement::json::parse_queue;
use rally_placement::model::{
    CostBasis, Fleet, FleetLocation, FleetType, LatencyRanking, LocationStatus, MissingLatency,
    PriorityType, Queue, QueueOptions, Spread, Unplaceable,
};
use rally_rules::Severity;
use serde_json::{Value, json};
use tonic::Status;

use super::{engine_status, enum_value, given, invalid, non_negative};
use crate::proto::v1;
use crate::proto::v1::{
    fleet, fleet_location, ip_permission, matchmaking_configuration, priority_configuration,
    rally_options,
};
use crate::shared::Shared;

/// A stored rule set as the API shows it.
pub(crate) fn rule_set(stored: &StoredRuleSet, shared: &Shared) -> v1::MatchmakingRuleSet {
    v1::MatchmakingRuleSet {
        name: stored.name.clone(),
        rule_set_body: stored.body.clone(),
        version: stored.version as i64,
        creation_time: Some(shared.timestamp(stored.creation_time)),
    }
}

pub(crate) fn diagnostic(diagnostic: &RuleSetDiagnostic) -> v1::Diagnostic {
    let severity = match diagnostic.severity {
        Severity::Error => v1::diagnostic::Severity::Error,
        Severity::Warning => v1::diagnostic::Severity::Warning,
    };
    v1::Diagnostic {
        code: diagnostic.code.clone(),
        severity: severity.into(),
        message: diagnostic.message.clone(),
        line: i32::try_from(diagnostic.line).unwrap_or(i32::MAX),
        column: i32::try_from(diagnostic.column).unwrap_or(i32::MAX),
        help: diagnostic.help.clone().unwrap_or_default(),
    }
}

/// A refused rule set: a body that does not validate lists every error, positioned, in the
/// message (the BadRequest field is `rule_set_body`).
pub(crate) fn rule_set_status(error: &EngineError) -> Status {
    if error.diagnostics.is_empty() {
        return engine_status(error);
    }
    let errors: Vec<String> = error
        .diagnostics
        .iter()
        .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
        .collect();
    let message = format!("rule set does not validate: {}", errors.join("; "));
    let mut error = error.clone();
    error.message = message;
    engine_status(&error)
}

/// A configuration's message as the engine's configuration. A batch interval of 0 is the
/// default; a mode not given is WITH_QUEUE when queues are named, STANDALONE otherwise.
pub(crate) fn configuration(
    message: v1::MatchmakingConfiguration,
) -> Result<Configuration, Status> {
    use matchmaking_configuration::{BackfillMode as Backfill, FlexMatchMode as Mode};
    let flex_match_mode = match enum_value::<Mode>(message.flex_match_mode, "flex_match_mode")? {
        Mode::Unspecified if message.game_session_queue_names.is_empty() => {
            FlexMatchMode::Standalone
        }
        Mode::Unspecified | Mode::WithQueue => FlexMatchMode::WithQueue,
        Mode::Standalone => FlexMatchMode::Standalone,
    };
    let backfill_mode = match enum_value::<Backfill>(message.backfill_mode, "backfill_mode")? {
        Backfill::Unspecified => None,
        Backfill::Manual => Some(BackfillMode::Manual),
    };
    let acceptance_timeout = non_negative(
        message.acceptance_timeout_seconds,
        "acceptance_timeout_seconds",
    )?;
    let batch_interval_ms = match message.batch_interval_ms {
        0 => rally_engine::config::DEFAULT_BATCH_INTERVAL_MS,
        ms => non_negative(ms, "batch_interval_ms")?,
    };
    Ok(Configuration {
        name: message.name,
        description: None,
        rule_set_name: message.rule_set_name,
        request_timeout_seconds: non_negative(
            message.request_timeout_seconds,
            "request_timeout_seconds",
        )?,
        acceptance_required: message.acceptance_required,
        acceptance_timeout_seconds: (acceptance_timeout != 0).then_some(acceptance_timeout),
        additional_player_count: non_negative(
            message.additional_player_count,
            "additional_player_count",
        )?,
        backfill_mode,
        flex_match_mode,
        game_session_queue_names: message.game_session_queue_names,
        custom_event_data: given(message.custom_event_data),
        game_properties: message
            .game_properties
            .into_iter()
            .map(|p| GameProperty {
                key: p.key,
                value: p.value,
            })
            .collect(),
        game_session_data: given(message.game_session_data),
        batch_interval_ms,
    })
}

/// The engine's configuration as the API shows it (the engine keeps no creation time).
pub(crate) fn configuration_message(config: &Configuration) -> v1::MatchmakingConfiguration {
    use matchmaking_configuration::{BackfillMode as Backfill, FlexMatchMode as Mode};
    let mode = match config.flex_match_mode {
        FlexMatchMode::Standalone => Mode::Standalone,
        FlexMatchMode::WithQueue => Mode::WithQueue,
    };
    let backfill = match config.backfill_mode {
        None => Backfill::Unspecified,
        Some(BackfillMode::Manual) => Backfill::Manual,
    };
    v1::MatchmakingConfiguration {
        name: config.name.clone(),
        rule_set_name: config.rule_set_name.clone(),
        request_timeout_seconds: saturating(config.request_timeout_seconds),
        acceptance_required: config.acceptance_required,
        acceptance_timeout_seconds: config.acceptance_timeout_seconds.map_or(0, saturating),
        additional_player_count: saturating(config.additional_player_count),
        backfill_mode: backfill.into(),
        flex_match_mode: mode.into(),
        game_session_queue_names: config.game_session_queue_names.clone(),
        custom_event_data: config.custom_event_data.clone().unwrap_or_default(),
        game_properties: config
            .game_properties
            .iter()
            .map(|p| v1::GameProperty {
                key: p.key.clone(),
                value: p.value.clone(),
            })
            .collect(),
        game_session_data: config.game_session_data.clone().unwrap_or_default(),
        batch_interval_ms: saturating(config.batch_interval_ms),
        creation_time: None,
    }
}

fn saturating(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// A queue's message as the placer's queue: written as the `CreateGameSessionQueue` body it
/// stands for and read by `rally_placement::json::parse_queue`, so that a queue is checked
/// the same way whether it comes as JSON (`rally place`, `--config`) or over gRPC; refusals
/// name the proto's fields. Its custom event data is not kept: the placer's queue has no
/// place for it.
pub(crate) fn queue(message: v1::GameSessionQueue) -> Result<Queue, Status> {
    let body = queue_body(message)?;
    parse_queue(&body.to_string()).map_err(|error| engine_status(&EngineError::from(error)))
}

/// The `CreateGameSessionQueue` body a message stands for; only enum numbers no enum has are
/// refused here, everything else by the reader.
fn queue_body(message: v1::GameSessionQueue) -> Result<Value, Status> {
    let mut body = json!({ "Name": message.name });
    if let Some(seconds) = message.timeout_in_seconds {
        body["TimeoutInSeconds"] = json!(seconds);
    }
    let policies: Vec<Value> = message
        .player_latency_policies
        .iter()
        .map(|p| {
            let mut policy = json!({
                "MaximumIndividualPlayerLatencyMilliseconds":
                    p.maximum_individual_player_latency_milliseconds
            });
            if let Some(seconds) = p.policy_duration_seconds {
                policy["PolicyDurationSeconds"] = json!(seconds);
            }
            policy
        })
        .collect();
    body["PlayerLatencyPolicies"] = json!(policies);
    let destinations: Vec<Value> = message
        .destinations
        .iter()
        .map(|d| json!({ "DestinationArn": d.destination_arn }))
        .collect();
    body["Destinations"] = json!(destinations);
    if let Some(filter) = message.filter_configuration {
        body["FilterConfiguration"] = json!({ "AllowedLocations": filter.allowed_locations });
    }
    if let Some(priority) = message.priority_configuration {
        let order = priority
            .priority_order
            .iter()
            .enumerate()
            .map(|(i, value)| {
                let field = format!("priority_configuration.priority_order[{i}]");
                let priority: priority_configuration::PriorityType = enum_value(*value, &field)?;
                Ok(priority.as_str_name())
            })
            .collect::<Result<Vec<_>, Status>>()?;
        body["PriorityConfiguration"] =
            json!({ "PriorityOrder": order, "LocationOrder": priority.location_order });
    }
    if let Some(options) = message.rally_options {
        body["RallyOptions"] = rally_options_body(&options)?;
    }
    Ok(body)
}

/// 1 to `max` characters of letters, digits and `-`.
fn check_id(id: &str, field: &str, max: usize) -> Result<(), Status> {
    if id.is_empty() || id.len() > max {
        return Err(invalid(
            field,
            &format!("expected 1 to {max} characters, found `{id}`"),
        ));
    }
    if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(invalid(
            field,
            &format!("expected letters, digits and `-`, found `{id}`"),
        ));
    }
    Ok(())
}

/// `RallyOptions` as the reader takes them: an unspecified enum is left out (the default).
fn rally_options_body(options: &v1::RallyOptions) -> Result<Value, Status> {
    use v1::rally_options as o;
    let mut body = json!({});
    let mut put_enum = |key: &str, name: Option<&'static str>| {
        if let Some(name) = name {
            body[key] = json!(name);
        }
    };
    let field = |name: &str| format!("rally_options.{name}");
    let ranking: o::LatencyRanking =
        enum_value(options.latency_ranking, &field("latency_ranking"))?;
    let cost: o::CostBasis = enum_value(options.cost_basis, &field("cost_basis"))?;
    let missing: o::MissingLatency =
        enum_value(options.missing_latency, &field("missing_latency"))?;
    let spread: o::Spread = enum_value(options.spread, &field("spread"))?;
    let unplaceable: o::Unplaceable = enum_value(options.unplaceable, &field("unplaceable"))?;
    let given = |value: i32, name: &'static str| (value != 0).then_some(name);
    put_enum(
        "LatencyRanking",
        given(options.latency_ranking, ranking.as_str_name()),
    );
    put_enum("CostBasis", given(options.cost_basis, cost.as_str_name()));
    put_enum(
        "MissingLatency",
        given(options.missing_latency, missing.as_str_name()),
    );
    put_enum("Spread", given(options.spread, spread.as_str_name()));
    put_enum(
        "Unplaceable",
        given(options.unplaceable, unplaceable.as_str_name()),
    );
    for (key, value) in [
        ("LatencyPercentile", options.latency_percentile),
        ("LatencyToleranceMs", options.latency_tolerance_ms),
        ("AssumedLatencyMs", options.assumed_latency_ms),
    ] {
        if let Some(value) = value {
            body[key] = json!(value);
        }
    }
    Ok(body)
}

/// The placer's queue as the API shows it: the priority order complete, destinations as
/// fleet ids, and rally's options only when they differ from GameLift's behaviour.
pub(crate) fn queue_message(queue: &Queue) -> v1::GameSessionQueue {
    v1::GameSessionQueue {
        name: queue.name.clone(),
        timeout_in_seconds: Some(queue.timeout as i32),
        player_latency_policies: queue
            .latency_policies
            .iter()
            .map(|policy| v1::PlayerLatencyPolicy {
                maximum_individual_player_latency_milliseconds: policy.max_latency_ms as i32,
                policy_duration_seconds: policy.duration.map(|d| d as i32),
            })
            .collect(),
        destinations: queue
            .destinations
            .iter()
            .map(|fleet_id| v1::GameSessionQueueDestination {
                destination_arn: fleet_id.clone(),
            })
            .collect(),
        filter_configuration: queue
            .allowed_locations
            .clone()
            .map(|allowed_locations| v1::FilterConfiguration { allowed_locations }),
        priority_configuration: Some(v1::PriorityConfiguration {
            priority_order: queue
                .priority_order
                .iter()
                .map(|p| priority_type(*p).into())
                .collect(),
            location_order: queue.location_order.clone(),
        }),
        custom_event_data: String::new(),
        rally_options: (queue.options != QueueOptions::default())
            .then(|| rally_options_message(&queue.options)),
    }
}

fn priority_type(priority: PriorityType) -> priority_configuration::PriorityType {
    use priority_configuration::PriorityType as Criterion;
    match priority {
        PriorityType::Latency => Criterion::Latency,
        PriorityType::Cost => Criterion::Cost,
        PriorityType::Destination => Criterion::Destination,
        PriorityType::Location => Criterion::Location,
    }
}

fn rally_options_message(options: &QueueOptions) -> v1::RallyOptions {
    use rally_options::{
        CostBasis as Cost, LatencyRanking as Ranking, MissingLatency as Missing,
        Spread as SpreadOption, Unplaceable as UnplaceableOption,
    };
    let (ranking, percentile) = match options.latency_ranking {
        LatencyRanking::Average => (Ranking::Average, None),
        LatencyRanking::Worst => (Ranking::Worst, None),
        LatencyRanking::Percentile(p) => (Ranking::Percentile, Some(p)),
    };
    let (missing, assumed) = match options.missing_latency {
        MissingLatency::Exclude => (Missing::Exclude, None),
        MissingLatency::Assume(ms) => (Missing::Assume, Some(ms)),
    };
    v1::RallyOptions {
        latency_ranking: ranking.into(),
        latency_percentile: percentile,
        cost_basis: match options.cost_basis {
            CostBasis::Instance => Cost::Instance,
            CostBasis::GameSession => Cost::GameSession,
        }
        .into(),
        latency_tolerance_ms: (options.latency_tolerance_ms != 0.0)
            .then_some(options.latency_tolerance_ms),
        missing_latency: missing.into(),
        assumed_latency_ms: assumed,
        spread: match options.spread {
            Spread::None => SpreadOption::None,
            Spread::Weighted => SpreadOption::Weighted,
        }
        .into(),
        unplaceable: match options.unplaceable {
            Unplaceable::Wait => UnplaceableOption::Wait,
            Unplaceable::Fail => UnplaceableOption::Fail,
        }
        .into(),
    }
}

/// A fleet's message as the engine's fleet: its type ON_DEMAND when not given, a location's
/// status ACTIVE, its Spot viability true; a location's address only where one is given.
pub(crate) fn fleet_spec(message: v1::Fleet) -> Result<FleetSpec, Status> {
    check_id(&message.fleet_id, "fleet_id", 128)?;
    let fleet_type = match enum_value::<fleet::FleetType>(message.fleet_type, "fleet_type")? {
        fleet::FleetType::Unspecified | fleet::FleetType::OnDemand => FleetType::OnDemand,
        fleet::FleetType::Spot => FleetType::Spot,
    };
    let mut locations = Vec::with_capacity(message.locations.len());
    let mut addresses = Vec::new();
    for (i, location) in message.locations.into_iter().enumerate() {
        let at = |field: &str| format!("locations[{i}].{field}");
        let address = LocationAddress {
            location: location.location.clone(),
            dns_name: given(location.dns_name),
            ip_address: given(location.ip_address),
        };
        if address.dns_name.is_some() || address.ip_address.is_some() {
            addresses.push(address);
        }
        locations.push(FleetLocation {
            location: location.location,
            hourly_cost: location.hourly_cost,
            instances: non_negative(location.instances, &at("instances"))?,
            sessions_per_instance: non_negative(
                location.game_sessions_per_instance,
                &at("game_sessions_per_instance"),
            )?,
            max_players: non_negative(location.max_players, &at("max_players"))?,
            status: location_status(enum_value(location.status, &at("status"))?),
            spot_viable: location.spot_viable.unwrap_or(true),
        });
    }
    let inbound_permissions = message
        .ec2_inbound_permissions
        .into_iter()
        .enumerate()
        .map(|(i, permission)| inbound_permission(i, permission))
        .collect::<Result<_, _>>()?;
    Ok(FleetSpec {
        fleet: Fleet {
            id: message.fleet_id,
            fleet_type,
            instance_type: message.instance_type,
            locations,
        },
        addresses,
        inbound_permissions,
    })
}

fn inbound_permission(i: usize, permission: v1::IpPermission) -> Result<InboundPermission, Status> {
    let at = |field: &str| format!("ec2_inbound_permissions[{i}].{field}");
    let port = |value: i32, field: &str| {
        u16::try_from(value).map_err(|_| {
            invalid(
                &at(field),
                &format!("expected a port of 0 to 65535, found `{value}`"),
            )
        })
    };
    let protocol =
        match enum_value::<ip_permission::Protocol>(permission.protocol, &at("protocol"))? {
            ip_permission::Protocol::Unspecified => {
                return Err(invalid(
                    &at("protocol"),
                    "expected `TCP` or `UDP`, found none",
                ));
            }
            ip_permission::Protocol::Tcp => "TCP",
            ip_permission::Protocol::Udp => "UDP",
        };
    Ok(InboundPermission {
        from_port: port(permission.from_port, "from_port")?,
        to_port: port(permission.to_port, "to_port")?,
        ip_range: permission.ip_range,
        protocol: protocol.to_string(),
    })
}

fn location_status(status: fleet_location::Status) -> LocationStatus {
    use fleet_location::Status;
    match status {
        Status::Unspecified | Status::Active => LocationStatus::Active,
        Status::New => LocationStatus::New,
        Status::Downloading => LocationStatus::Downloading,
        Status::Validating => LocationStatus::Validating,
        Status::Building => LocationStatus::Building,
        Status::Activating => LocationStatus::Activating,
        Status::Deleting => LocationStatus::Deleting,
        Status::Error => LocationStatus::Error,
        Status::Terminated => LocationStatus::Terminated,
        Status::NotFound => LocationStatus::NotFound,
        Status::Expired => LocationStatus::Expired,
    }
}

fn status_message(status: LocationStatus) -> fleet_location::Status {
    use fleet_location::Status;
    match status {
        LocationStatus::Active => Status::Active,
        LocationStatus::New => Status::New,
        LocationStatus::Downloading => Status::Downloading,
        LocationStatus::Validating => Status::Validating,
        LocationStatus::Building => Status::Building,
        LocationStatus::Activating => Status::Activating,
        LocationStatus::Deleting => Status::Deleting,
        LocationStatus::Error => Status::Error,
        LocationStatus::Terminated => Status::Terminated,
        LocationStatus::NotFound => Status::NotFound,
        LocationStatus::Expired => Status::Expired,
    }
}

/// The engine's fleet as the API shows it: addresses as configured (empty where the
/// default applies).
pub(crate) fn fleet_message(spec: &FleetSpec) -> v1::Fleet {
    let fleet_type = match spec.fleet.fleet_type {
        FleetType::OnDemand => fleet::FleetType::OnDemand,
        FleetType::Spot => fleet::FleetType::Spot,
    };
    let locations = spec
        .fleet
        .locations
        .iter()
        .map(|location| {
            let address = spec
                .addresses
                .iter()
                .find(|a| a.location == location.location);
            v1::FleetLocation {
                location: location.location.clone(),
                hourly_cost: location.hourly_cost,
                instances: saturating(location.instances),
                game_sessions_per_instance: saturating(location.sessions_per_instance),
                max_players: saturating(location.max_players),
                status: status_message(location.status).into(),
                spot_viable: Some(location.spot_viable),
                dns_name: address.and_then(|a| a.dns_name.clone()).unwrap_or_default(),
                ip_address: address
                    .and_then(|a| a.ip_address.clone())
                    .unwrap_or_default(),
            }
        })
        .collect();
    v1::Fleet {
        fleet_id: spec.fleet.id.clone(),
        fleet_type: fleet_type.into(),
        instance_type: spec.fleet.instance_type.clone(),
        locations,
        ec2_inbound_permissions: spec
            .inbound_permissions
            .iter()
            .map(|p| v1::IpPermission {
                from_port: i32::from(p.from_port),
                to_port: i32::from(p.to_port),
                ip_range: p.ip_range.clone(),
                protocol: match p.protocol.as_str() {
                    "TCP" => ip_permission::Protocol::Tcp,
                    "UDP" => ip_permission::Protocol::Udp,
                    _ => ip_permission::Protocol::Unspecified,
                }
                .into(),
            })
            .collect(),
    }
}
