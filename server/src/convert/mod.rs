//! Wire types to the engine's domain types and back, at the edge: requests are read into
//! the engine's commands (each refusal naming the request's field), views and events are
//! written as the protos' messages.

pub(crate) mod matchmaking;
pub(crate) mod placement;

use rally_engine::EngineError;
use tonic::Status;

use crate::status::status;

/// An engine refusal as a status, its GameLift member path (`Players[0].PlayerAttributes.x`)
/// written as the proto's field path (`players[0].player_attributes.x`).
pub(crate) fn engine_status(error: &EngineError) -> Status {
    let field = error.field.as_deref().map(proto_path);
    status(error.kind, field.as_deref(), &error.message)
}

/// `Players[0].PlayerAttributes.gamesPlayed` → `players[0].player_attributes.gamesPlayed`:
/// each member in snake_case, map keys (after `PlayerAttributes` and `LatencyInMs`) as given.
pub(crate) fn proto_path(path: &str) -> String {
    let mut out = Vec::new();
    let mut keep_next = false;
    for segment in path.split('.') {
        if keep_next {
            out.push(segment.to_string());
            keep_next = false;
            continue;
        }
        let (name, index) = segment.split_at(segment.find('[').unwrap_or(segment.len()));
        keep_next = matches!(name, "PlayerAttributes" | "LatencyInMs");
        out.push(format!("{}{index}", snake_case(name)));
    }
    out.join(".")
}

fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let chars: Vec<char> = name.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let after_lower = i > 0 && !chars[i - 1].is_ascii_uppercase();
            let before_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if i > 0 && (after_lower || before_lower) {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(*c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::proto_path;

    #[test]
    fn gamelift_paths_become_proto_paths() {
        assert_eq!(
            proto_path("Players[0].PlayerAttributes.gamesPlayed"),
            "players[0].player_attributes.gamesPlayed"
        );
        assert_eq!(
            proto_path("Players[3].LatencyInMs.us-east-1"),
            "players[3].latency_in_ms.us-east-1"
        );
        assert_eq!(proto_path("TicketId"), "ticket_id");
        assert_eq!(
            proto_path("GameProperties[2].Key"),
            "game_properties[2].key"
        );
        assert_eq!(proto_path("PlayerIds[1]"), "player_ids[1]");
    }
}
