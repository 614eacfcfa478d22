//! The Matchmaking service's messages: players and their attribute values in, tickets and
//! events out.

use std::collections::BTreeMap;

use rally_base::ErrorKind;
use rally_engine::events::{Event, EventPlayer, GameSessionInfo, MatchmakingEvent};
use rally_engine::tickets::ConnectionInfo;
use rally_engine::{TicketStatus, TicketView};
use rally_matchmaker::ticket::NewPlayer;
use rally_rules::model::AttributeValue;
use tonic::Status;

use crate::proto::v1 as pb;
use crate::shared::Shared;
use crate::status::status;

/// Players off the wire, each value of exactly one shape and each latency positive.
pub(crate) fn players(players: Vec<pb::Player>) -> Result<Vec<NewPlayer>, Status> {
    players
        .into_iter()
        .enumerate()
        .map(|(i, player)| new_player(i, player))
        .collect()
}

fn new_player(i: usize, player: pb::Player) -> Result<NewPlayer, Status> {
    let mut attributes = BTreeMap::new();
    for (name, value) in player.player_attributes {
        let field = format!("players[{i}].player_attributes.{name}");
        attributes.insert(name, attribute_value(value, &field)?);
    }
    let mut latencies = BTreeMap::new();
    for (region, ms) in player.latency_in_ms {
        let ms = u32::try_from(ms).ok().filter(|ms| *ms > 0).ok_or_else(|| {
            let field = format!("players[{i}].latency_in_ms.{region}");
            invalid(
                &field,
                &format!("expected a positive number of milliseconds, found {ms}"),
            )
        })?;
        latencies.insert(region, ms);
    }
    Ok(NewPlayer {
        id: player.player_id,
        attributes,
        latencies,
        team: (!player.team.is_empty()).then_some(player.team),
    })
}

fn attribute_value(value: pb::AttributeValue, field: &str) -> Result<AttributeValue, Status> {
    use pb::attribute_value::Value;
    match value.value {
        Some(Value::S(s)) => Ok(AttributeValue::String(s)),
        Some(Value::N(n)) if n.is_finite() => Ok(AttributeValue::Number(n)),
        Some(Value::N(n)) => Err(invalid(
            field,
            &format!("expected a finite number, found {n}"),
        )),
        Some(Value::Sl(list)) => Ok(AttributeValue::StringList(list.values)),
        Some(Value::Sdm(map)) => {
            if let Some((key, n)) = map.values.iter().find(|(_, n)| !n.is_finite()) {
                return Err(invalid(
                    field,
                    &format!("`{key}`: expected a finite number, found {n}"),
                ));
            }
            Ok(AttributeValue::StringNumberMap(
                map.values.into_iter().collect(),
            ))
        }
        None => Err(invalid(field, "expected one of `s`, `n`, `sl` or `sdm`")),
    }
}

fn invalid(field: &str, message: &str) -> Status {
    status(ErrorKind::InvalidArgument, Some(field), message)
}

/// An attribute value as the protos carry it (the inverse of reading one).
pub fn wire_value(value: &AttributeValue) -> pb::AttributeValue {
    use pb::attribute_value::Value;
    let value = match value {
        AttributeValue::String(s) => Value::S(s.clone()),
        AttributeValue::Number(n) => Value::N(*n),
        AttributeValue::StringList(list) => Value::Sl(pb::StringList {
            values: list.clone(),
        }),
        AttributeValue::StringNumberMap(map) => Value::Sdm(pb::StringDoubleMap {
            values: map.iter().cloned().collect(),
        }),
    };
    pb::AttributeValue { value: Some(value) }
}

/// A ticket as `DescribeMatchmaking` and `StartMatchmaking` return it.
pub(crate) fn ticket(shared: &Shared, view: TicketView) -> pb::MatchmakingTicket {
    pb::MatchmakingTicket {
        ticket_id: view.ticket_id,
        configuration_name: view.configuration_name,
        status: ticket_status(view.status) as i32,
        status_reason: view.status_reason.unwrap_or_default(),
        status_message: view.status_message.unwrap_or_default(),
        start_time: Some(shared.timestamp(view.start_time)),
        end_time: view.end_time.map(|t| shared.timestamp(t)),
        players: view
            .players
            .into_iter()
            .map(|p| pb::Player {
                player_id: p.player.id,
                player_attributes: p
                    .player
                    .attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), wire_value(v)))
                    .collect(),
                team: p.team.unwrap_or_default(),
                latency_in_ms: p
                    .player
                    .latencies
                    .iter()
                    .map(|(k, v)| (k.clone(), *v as i32))
                    .collect(),
            })
            .collect(),
        game_session_connection_info: view.connection.map(connection),
        estimated_wait_time: 0,
        waiting_reasons: view.waiting_reasons,
    }
}

fn ticket_status(status: TicketStatus) -> pb::matchmaking_ticket::Status {
    use pb::matchmaking_ticket::Status as S;
    match status {
        TicketStatus::Queued => S::Queued,
        TicketStatus::Searching => S::Searching,
        TicketStatus::RequiresAcceptance => S::RequiresAcceptance,
        TicketStatus::Placing => S::Placing,
        TicketStatus::Completed => S::Completed,
        TicketStatus::Failed => S::Failed,
        TicketStatus::Cancelled => S::Cancelled,
        TicketStatus::TimedOut => S::TimedOut,
    }
}

fn connection(c: ConnectionInfo) -> pb::GameSessionConnectionInfo {
    pb::GameSessionConnectionInfo {
        game_session_arn: c.game_session_arn.unwrap_or_default(),
        ip_address: c.ip_address.unwrap_or_default(),
        dns_name: c.dns_name.unwrap_or_default(),
        port: c.port.map_or(0, i32::from),
        matched_player_sessions: c
            .matched_player_sessions
            .into_iter()
            .map(|s| pb::MatchedPlayerSession {
                player_id: s.player_id,
                player_session_id: s.player_session_id,
            })
            .collect(),
        locations: c.locations,
    }
}

/// An engine event as the stream sends it.
pub(crate) fn event(shared: &Shared, event: &Event) -> pb::Event {
    match event {
        Event::Matchmaking(e) => matchmaking_event(shared, e),
        Event::Placement(e) => pb::Event {
            r#type: e.event_type.as_str().to_string(),
            time: Some(shared.timestamp(e.time)),
            configuration_name: e.configuration_name.clone().unwrap_or_default(),
            placement_id: e.placement.placement_id.clone(),
            placement: Some(super::placement::placement(shared, e.placement.clone())),
            ..pb::Event::default()
        },
    }
}

fn matchmaking_event(shared: &Shared, e: &MatchmakingEvent) -> pb::Event {
    pb::Event {
        r#type: e.event_type.as_str().to_string(),
        time: Some(shared.timestamp(e.time)),
        configuration_name: e.configuration_name.clone(),
        custom_event_data: e.custom_event_data.clone().unwrap_or_default(),
        tickets: e
            .tickets
            .iter()
            .map(|t| pb::EventTicket {
                ticket_id: t.ticket_id.clone(),
                start_time: Some(shared.timestamp(t.start_time)),
                players: t.players.iter().map(event_player).collect(),
            })
            .collect(),
        match_id: e.match_id.clone().unwrap_or_default(),
        acceptance_required: e.acceptance_required.unwrap_or(false),
        acceptance_timeout: e.acceptance_timeout.map_or(0, |t| t as i32),
        rule_evaluation_metrics: e
            .rule_evaluation_metrics
            .iter()
            .map(|m| pb::RuleEvaluationMetric {
                rule_name: m.rule_name.clone(),
                passed_count: m.passed_count as i32,
                failed_count: m.failed_count as i32,
            })
            .collect(),
        game_session_info: e.game_session_info.as_ref().map(session_info),
        acceptance: e
            .acceptance
            .map(|a| a.as_str().to_string())
            .unwrap_or_default(),
        reason: e.reason.clone().unwrap_or_default(),
        message: e.message.clone().unwrap_or_default(),
        estimated_wait_millis: e.estimated_wait_seconds.map_or(0, |s| s as i64),
        placement_id: String::new(),
        placement: None,
    }
}

fn event_player(p: &EventPlayer) -> pb::EventPlayer {
    pb::EventPlayer {
        player_id: p.player_id.clone(),
        team: p.team.clone().unwrap_or_default(),
        player_session_id: p.player_session_id.clone().unwrap_or_default(),
        accepted: p.accepted,
    }
}

fn session_info(info: &GameSessionInfo) -> pb::GameSessionInfo {
    pb::GameSessionInfo {
        game_session_arn: info.game_session_arn.clone().unwrap_or_default(),
        ip_address: info.ip_address.clone().unwrap_or_default(),
        dns_name: info.dns_name.clone().unwrap_or_default(),
        port: info.port.map_or(0, i32::from),
        players: info.players.iter().map(event_player).collect(),
        locations: info.locations.clone(),
    }
}
