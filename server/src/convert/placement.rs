//! The Placement service's messages: a `StartGameSessionPlacement` read through the
//! placement crate's GameLift reader (so its limits and messages are the same as `rally
//! place`'s), and placements written back.

use rally_engine::PlacementView;
use rally_placement::model::{Locations, PlacementRequest, PlacementStatus};
use serde_json::{Value, json};
use tonic::Status;

use crate::proto::v1 as pb;
use crate::shared::Shared;

/// A request off the wire, in the placer's terms; refusals name GameLift's members (the
/// caller maps them to proto paths).
pub(crate) fn request(
    request: pb::StartGameSessionPlacementRequest,
    locations: &Locations,
) -> Result<PlacementRequest, rally_placement::PlacementError> {
    let mut body = json!({
        "PlacementId": request.placement_id,
        "GameSessionQueueName": request.game_session_queue_name,
        "MaximumPlayerSessionCount": request.maximum_player_session_count,
    });
    let object = body.as_object_mut().expect("an object");
    let mut put = |key: &str, value: Value| {
        object.insert(key.to_string(), value);
    };
    if !request.game_session_name.is_empty() {
        put("GameSessionName", json!(request.game_session_name));
    }
    if !request.game_session_data.is_empty() {
        put("GameSessionData", json!(request.game_session_data));
    }
    if !request.game_properties.is_empty() {
        let properties: Vec<Value> = request
            .game_properties
            .iter()
            .map(|p| json!({"Key": p.key, "Value": p.value}))
            .collect();
        put("GameProperties", json!(properties));
    }
    if !request.player_latencies.is_empty() {
        let latencies: Vec<Value> = request
            .player_latencies
            .iter()
            .map(|l| {
                json!({"PlayerId": l.player_id, "RegionIdentifier": l.region_identifier,
                       "LatencyInMilliseconds": l.latency_in_milliseconds})
            })
            .collect();
        put("PlayerLatencies", json!(latencies));
    }
    if !request.desired_player_sessions.is_empty() {
        let sessions: Vec<Value> = request
            .desired_player_sessions
            .iter()
            .map(|s| match s.player_data.is_empty() {
                true => json!({"PlayerId": s.player_id}),
                false => json!({"PlayerId": s.player_id, "PlayerData": s.player_data}),
            })
            .collect();
        put("DesiredPlayerSessions", json!(sessions));
    }
    if let Some(o) = request.priority_configuration_override {
        use pb::priority_configuration_override::PlacementFallbackStrategy as F;
        let mut value = json!({"LocationOrder": o.location_order});
        match F::try_from(o.placement_fallback_strategy) {
            Ok(F::DefaultAfterSinglePass) => {
                value["PlacementFallbackStrategy"] = json!("DEFAULT_AFTER_SINGLE_PASS");
            }
            Ok(F::None) => value["PlacementFallbackStrategy"] = json!("NONE"),
            _ => {}
        }
        put("PriorityConfigurationOverride", value);
    }
    let (_, request) = rally_placement::json::parse_request(&body.to_string(), locations)?;
    Ok(request)
}

/// A placement error's field as the proto's path.
pub(crate) fn placement_status(error: &rally_placement::PlacementError) -> Status {
    super::engine_status(&rally_engine::EngineError::from(error.clone()))
}

/// A placement as the service returns it.
pub(crate) fn placement(shared: &Shared, view: PlacementView) -> pb::GameSessionPlacement {
    use pb::game_session_placement::Status as S;
    let status = match view.status {
        PlacementStatus::Pending => S::Pending,
        PlacementStatus::Fulfilled => S::Fulfilled,
        PlacementStatus::Cancelled => S::Cancelled,
        PlacementStatus::TimedOut => S::TimedOut,
        PlacementStatus::Failed => S::Failed,
    };
    pb::GameSessionPlacement {
        placement_id: view.placement_id,
        game_session_queue_name: view.game_session_queue_name,
        status: status as i32,
        game_session_arn: view.game_session_arn.unwrap_or_default(),
        game_session_name: view.game_session_name.unwrap_or_default(),
        ip_address: view.ip_address.unwrap_or_default(),
        dns_name: view.dns_name.unwrap_or_default(),
        port: view.port.map_or(0, i32::from),
        fleet_id: view.fleet_id.unwrap_or_default(),
        location: view.location.unwrap_or_default(),
        placed_player_sessions: view
            .placed_player_sessions
            .into_iter()
            .map(|s| pb::PlacedPlayerSession {
                player_id: s.player_id,
                player_session_id: s.player_session_id,
            })
            .collect(),
        start_time: Some(shared.timestamp(view.start_time)),
        end_time: view.end_time.map(|t| shared.timestamp(t)),
        status_reason: view.status_reason.unwrap_or_default(),
    }
}
