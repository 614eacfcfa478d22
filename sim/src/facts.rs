//! What the report needs to know of each live ticket once its match forms: when it started,
//! its players' ids, skill and latencies. Kept from StartMatchmaking until the ticket ends,
//! so memory follows the live pool, not the trace.

use rally_base::Seconds;
use rally_matchmaker::ticket::NewPlayer;
use rally_rules::model::AttributeValue;

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TicketFacts {
    pub(crate) start: Seconds,
    pub(crate) players: Vec<PlayerFacts>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PlayerFacts {
    pub(crate) id: String,
    /// The value of the attribute the report measures quality by, if the player has one.
    pub(crate) skill: Option<f64>,
    /// Round trip in ms to each location the player reported, by location name.
    pub(crate) latencies: Vec<(String, u32)>,
}

impl TicketFacts {
    /// A ticket's facts; `skill` names the attribute quality is measured by.
    pub(crate) fn of(start: Seconds, players: &[NewPlayer], skill: Option<&str>) -> TicketFacts {
        let players = players
            .iter()
            .map(|player| PlayerFacts {
                id: player.id.clone(),
                skill: skill.and_then(|name| match player.attributes.get(name) {
                    Some(AttributeValue::Number(n)) => Some(*n),
                    _ => None,
                }),
                latencies: player
                    .latencies
                    .iter()
                    .map(|(location, ms)| (location.clone(), *ms))
                    .collect(),
            })
            .collect();
        TicketFacts { start, players }
    }

    pub(crate) fn party_size(&self) -> usize {
        self.players.len()
    }

    /// Where the ticket plays best: the location with the lowest worst latency among its
    /// players, ties by name; `None` when its players share no location.
    pub(crate) fn home(&self) -> Option<&str> {
        let first = self.players.first()?;
        first
            .latencies
            .iter()
            .filter_map(|(location, _)| {
                let worst = self
                    .players
                    .iter()
                    .map(|p| p.latency(location))
                    .try_fold(0, |worst, ms| ms.map(|ms| worst.max(ms)))?;
                Some((worst, location.as_str()))
            })
            .min()
            .map(|(_, location)| location)
    }
}

impl PlayerFacts {
    pub(crate) fn latency(&self, location: &str) -> Option<u32> {
        self.latencies
            .iter()
            .find(|(name, _)| name == location)
            .map(|(_, ms)| *ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn player(id: &str, skill: f64, latencies: &[(&str, u32)]) -> NewPlayer {
        let mut player = NewPlayer::new(id);
        player
            .attributes
            .insert("skill".into(), AttributeValue::Number(skill));
        for (location, ms) in latencies {
            player.latencies.insert(location.to_string(), *ms);
        }
        player
    }

    #[test]
    fn a_party_is_at_home_where_its_worst_latency_is_lowest() {
        let players = [
            player("a", 1000.0, &[("eu-west-1", 20), ("us-east-1", 90)]),
            player("b", 1200.0, &[("eu-west-1", 150), ("us-east-1", 80)]),
        ];
        let facts = TicketFacts::of(3.0, &players, Some("skill"));
        assert_eq!(facts.home(), Some("us-east-1"));
        assert_eq!(facts.party_size(), 2);
        assert_eq!(facts.players[1].skill, Some(1200.0));
        assert_eq!(facts.players[0].latency("eu-west-1"), Some(20));
        let unmeasured = TicketFacts::of(3.0, &players, Some("rank"));
        assert_eq!(unmeasured.players[0].skill, None);
    }

    #[test]
    fn ties_go_by_name_and_a_party_sharing_no_location_has_no_home() {
        let tied = [player("a", 1.0, &[("us-west-2", 50), ("ap-south-1", 50)])];
        assert_eq!(TicketFacts::of(0.0, &tied, None).home(), Some("ap-south-1"));
        let apart = [
            player("a", 1.0, &[("us-west-2", 50)]),
            player("b", 1.0, &[("eu-west-1", 50)]),
        ];
        assert_eq!(TicketFacts::of(0.0, &apart, None).home(), None);
    }
}
