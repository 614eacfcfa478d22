//! Conversions between the rally.v1 messages and the engine's domain types, and how a
//! refusal's field path is named in the proto's terms.

pub(crate) mod admin;
pub(crate) mod matchmaking;
pub(crate) mod placement;

use rally_base::ErrorKind;
use rally_engine::EngineError;
use tonic::Status;

use crate::status;

/// An engine refusal as a status, its field renamed from GameLift's member path to the
/// request's proto field path (see [`proto_field`]).
pub(crate) fn engine_status(error: &EngineError) -> Status {
    let field = error
        .field
        .as_deref()
        .filter(|field| !field.is_empty())
        .map(proto_field);
    status::status(error.kind, field.as_deref(), &error.message)
}

/// Map members whose keys are the caller's own names (attribute names, locations): what
/// follows them in a path is a key, kept as given.
const MAP_MEMBERS: [&str; 2] = ["PlayerAttributes", "LatencyInMs"];

/// Members whose proto field is not their name in snake_case: rally takes queue names where
/// GameLift takes queue ARNs.
const RENAMED: [(&str, &str); 1] = [("GameSessionQueueArns", "game_session_queue_names")];

/// A GameLift member path (`GameProperties[2].Key`) as the proto's field path
/// (`game_properties[2].key`); map keys after `PlayerAttributes` and `LatencyInMs` are kept
/// verbatim (`Players[0].PlayerAttributes.gamesPlayed` → `players[0].player_attributes.gamesPlayed`).
pub(crate) fn proto_field(path: &str) -> String {
    let mut fields = Vec::new();
    let mut rest = Some(path);
    while let Some(current) = rest {
        let (segment, tail) = match current.split_once('.') {
            Some((segment, tail)) => (segment, Some(tail)),
            None => (current, None),
        };
        let (name, index) = segment.split_at(segment.find('[').unwrap_or(segment.len()));
        fields.push(format!("{}{index}", member_field(name)));
        if MAP_MEMBERS.contains(&name)
            && let Some(key) = tail
        {
            fields.push(key.to_string());
            break;
        }
        rest = tail;
    }
    fields.join(".")
}

/// One member's proto field name.
fn member_field(name: &str) -> String {
    match RENAMED.iter().find(|(member, _)| *member == name) {
        Some((_, field)) => field.to_string(),
        None => snake_case(name),
    }
}

/// `PascalCase` as `snake_case`: a word starts at a capital after a lowercase letter or a
/// digit (`Ec2Inbound` → `ec2_inbound`), or at the last capital of an acronym followed by a
/// lowercase letter (`DNSName` → `dns_name`).
fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let previous = i.checked_sub(1).map(|p| chars[p]);
            let after_word = previous.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit());
            let ends_acronym = previous.is_some_and(|p| p.is_ascii_uppercase())
                && chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            if after_word || ends_acronym {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// INVALID_ARGUMENT naming the request field at fault.
pub(crate) fn invalid(field: &str, message: &str) -> Status {
    status::status(ErrorKind::InvalidArgument, Some(field), message)
}

/// A proto enum field's value, refused when it is no value of the enum.
pub(crate) fn enum_value<E: TryFrom<i32>>(value: i32, field: &str) -> Result<E, Status> {
    E::try_from(value).map_err(|_| invalid(field, &format!("unknown value `{value}`")))
}

/// A count or duration that cannot be negative.
pub(crate) fn non_negative(value: i32, field: &str) -> Result<u32, Status> {
    u32::try_from(value)
        .map_err(|_| invalid(field, &format!("expected at least 0, found `{value}`")))
}

/// An optional string: empty means not given.
pub(crate) fn given(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_become_snake_case_fields() {
        let cases = [
            ("RuleSetName", "rule_set_name"),
            ("Name", "name"),
            ("GameProperties[2].Key", "game_properties[2].key"),
            ("GameSessionQueueArns[1]", "game_session_queue_names[1]"),
            ("GameSessionQueueArns", "game_session_queue_names"),
            ("Ec2InboundPermissions[0]", "ec2_inbound_permissions[0]"),
            (
                "PlayerLatencyPolicies[1].PolicyDurationSeconds",
                "player_latency_policies[1].policy_duration_seconds",
            ),
            (
                "Destinations[0].DestinationArn",
                "destinations[0].destination_arn",
            ),
            (
                "PriorityConfiguration.LocationOrder[3]",
                "priority_configuration.location_order[3]",
            ),
            ("Locations[0].IpAddress", "locations[0].ip_address"),
            ("DNSName", "dns_name"),
            ("BatchIntervalMs", "batch_interval_ms"),
            ("[0].FleetId", "[0].fleet_id"),
            ("already_snake", "already_snake"),
        ];
        for (member, field) in cases {
            assert_eq!(proto_field(member), field, "{member}");
        }
    }

    #[test]
    fn map_keys_are_kept_verbatim() {
        let cases = [
            (
                "Players[0].PlayerAttributes.gamesPlayed",
                "players[0].player_attributes.gamesPlayed",
            ),
            (
                "Players[3].LatencyInMs.us-east-1",
                "players[3].latency_in_ms.us-east-1",
            ),
            (
                "Players[1].PlayerAttributes.Skill.Level",
                "players[1].player_attributes.Skill.Level",
            ),
            (
                "Players[0].PlayerAttributes",
                "players[0].player_attributes",
            ),
        ];
        for (member, field) in cases {
            assert_eq!(proto_field(member), field, "{member}");
        }
    }

    #[test]
    fn an_engine_error_keeps_its_kind_and_message() {
        let error = EngineError::invalid("GameProperties[2].Key", "expected 1 to 32 characters");
        let status = engine_status(&error);
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert_eq!(status.message(), "expected 1 to 32 characters");
        let details = tonic_types::StatusExt::get_error_details(&status);
        let violation = &details
            .bad_request()
            .expect("a BadRequest")
            .field_violations[0];
        assert_eq!(violation.field, "game_properties[2].key");

        let error = EngineError::not_found("RuleSetName", "no rule set `x`");
        assert_eq!(engine_status(&error).code(), tonic::Code::NotFound);
        let unnamed = EngineError::new(ErrorKind::InvalidArgument, Some(""), "bad");
        let details = tonic_types::StatusExt::get_error_details(&engine_status(&unnamed));
        assert!(details.bad_request().is_none(), "an empty field names none");
    }
}
