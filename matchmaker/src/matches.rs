//! A match as the matcher forms it: its id, its tickets on teams, where it can be played.

use smallvec::SmallVec;

use crate::pool::{LocationId, Pool, TicketKey};

/// A match's id: a UUID, as GameLift's `matchId`, drawn from the batch's seeded generator.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MatchId(pub [u8; 16]);

impl std::fmt::Display for MatchId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Written into a buffer and out at once: a batch names hundreds of thousands of
        // matches, and formatting each byte apart costs more than the rest of naming them.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = [0u8; 36];
        let mut at = 0;
        for (i, byte) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                text[at] = b'-';
                at += 1;
            }
            text[at] = HEX[usize::from(byte >> 4)];
            text[at + 1] = HEX[usize::from(byte & 0xf)];
            at += 2;
        }
        f.write_str(std::str::from_utf8(&text).expect("ASCII"))
    }
}

impl std::fmt::Debug for MatchId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MatchId({self})")
    }
}

/// Tickets on teams, by `TeamId`, kept flat and inline (a batch forms hundreds of thousands
/// of matches). A backfill ticket is listed on every team it has players on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Teams {
    keys: SmallVec<[TicketKey; 8]>,
    /// Where each team's tickets end in `keys`.
    ends: SmallVec<[u32; 4]>,
}

impl Teams {
    pub fn from_lists(lists: &[Vec<TicketKey>]) -> Teams {
        let mut teams = Teams::default();
        for list in lists {
            teams.keys.extend_from_slice(list);
            teams.ends.push(teams.keys.len() as u32);
        }
        teams
    }

    /// How many teams.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The tickets on team `team`.
    pub fn team(&self, team: usize) -> &[TicketKey] {
        let start = if team == 0 { 0 } else { self.ends[team - 1] };
        &self.keys[start as usize..self.ends[team] as usize]
    }

    pub fn iter(&self) -> impl Iterator<Item = &[TicketKey]> + '_ {
        (0..self.len()).map(|team| self.team(team))
    }

    /// Teams from a fill-order placement (see `assign::fill_order`); a backfill ticket first
    /// on each team it has players on.
    pub fn from_placed(
        pool: &Pool,
        backfill: Option<TicketKey>,
        placed: &[(TicketKey, usize)],
    ) -> Teams {
        let mut teams = Teams::default();
        for team in 0..pool.rule_set().teams.len() {
            if let Some(key) = backfill
                && pool
                    .ticket(key)
                    .players
                    .iter()
                    .any(|p| p.team().is_some_and(|t| t.0 == team))
            {
                teams.keys.push(key);
            }
            teams
                .keys
                .extend(placed.iter().filter(|(_, t)| *t == team).map(|(k, _)| *k));
            teams.ends.push(teams.keys.len() as u32);
        }
        teams
    }

    pub fn to_lists(&self) -> Vec<Vec<TicketKey>> {
        self.iter().map(<[TicketKey]>::to_vec).collect()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    pub id: MatchId,
    pub teams: Teams,
    /// Where the match can be played, nearest first.
    pub locations: SmallVec<[LocationId; 8]>,
    pub backfill: Option<TicketKey>,
    /// The age the rules were judged at (newest or oldest ticket, per the rule set).
    pub age: f64,
}

impl Match {
    /// Every ticket of the match once.
    pub fn tickets(&self) -> Vec<TicketKey> {
        let mut keys: Vec<TicketKey> = self.teams.iter().flatten().copied().collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::MatchId;

    #[test]
    fn a_match_id_reads_as_a_uuid() {
        let id = MatchId([
            0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xf0, 0x0f, 0x10, 0x32, 0x54, 0x76,
            0x98, 0xba,
        ]);
        assert_eq!(id.to_string(), "01234567-89ab-cdef-f00f-1032547698ba");
        assert_eq!(
            format!("{id:?}"),
            "MatchId(01234567-89ab-cdef-f00f-1032547698ba)"
        );
    }
}
