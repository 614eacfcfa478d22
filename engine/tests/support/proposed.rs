//! A proposed match as the matcher's independent checker reads it: each ticket on its
//! players' team, the match's locations. Shared by the engine's and the simulator's tests.

use std::collections::BTreeMap;

use rally_engine::events::MatchmakingEvent;

use super::checker::CheckedMatch;

/// The match a PotentialMatchCreated event proposes.
pub fn proposed_match(event: &MatchmakingEvent) -> CheckedMatch {
    let mut teams: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for ticket in &event.tickets {
        let team = ticket.players[0]
            .team
            .clone()
            .expect("a matched player's team");
        teams
            .entry(team)
            .or_default()
            .push(ticket.ticket_id.clone());
    }
    let info = event
        .game_session_info
        .as_ref()
        .expect("a match's session info");
    CheckedMatch {
        teams: teams.into_values().collect(),
        locations: info.locations.clone(),
    }
}
