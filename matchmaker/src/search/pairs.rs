//! Repairing one group's pairs (see [`crate::repair`]): what the search has formed, and
//! the search as the graph a repair walks — nearby candidates from the indexes, a pair
//! judged as any match is.

use smallvec::{SmallVec, smallvec};

use super::{Gathering, Search};
use crate::explain::Attempt;
use crate::matches::Match;
use crate::repair::{Pairing, Pairs, augmenting_path};

/// The matches one group's search has formed, and where each of its tickets is.
pub(super) struct Formed {
    /// By formation; `None` once a repair has broken it up.
    pub(super) matches: Vec<Option<(u32, Match)>>,
    /// Per profile, the index of its match (`u32::MAX`: unmatched).
    pub(super) match_of: Vec<u32>,
    /// Per profile, its mate in a match of two tickets (`u32::MAX`: none).
    pub(super) mate: Vec<u32>,
}

impl Formed {
    /// Records a match of `members`, keyed by `rank` (its anchor's).
    pub(super) fn add(&mut self, members: &[usize], rank: u32, found: Match) {
        if let [a, b] = members[..] {
            (self.mate[a], self.mate[b]) = (b as u32, a as u32);
        }
        for member in members {
            self.match_of[*member] = self.matches.len() as u32;
        }
        self.matches.push(Some((rank, found)));
    }
}

impl Search<'_> {
    /// Gives stranded tickets a partner through augmenting paths over the matches of two
    /// formed so far (see [`repair`]): every ticket matched stays matched, and each path
    /// found matches two more.
    pub(super) fn repair(&mut self, formed: &mut Formed) {
        let profiles = self.profiles;
        let mut free: Vec<bool> = (0..profiles.len())
            .map(|p| formed.match_of[p] == u32::MAX && !profiles[p].backfill && self.can_match(p))
            .collect();
        if free.iter().filter(|f| **f).count() < 2 {
            return;
        }
        for start in 0..profiles.len() {
            if !free[start] {
                continue;
            }
            let pairing = Pairing {
                mate: &formed.mate,
                free: &free,
            };
            let Some(path) = augmenting_path(self, pairing, start) else {
                continue;
            };
            for (a, b, found) in path {
                for old in [a, b] {
                    if let Some(slot) = formed.matches.get_mut(formed.match_of[old] as usize) {
                        *slot = None;
                    }
                }
                let rank = profiles[a].rank.min(profiles[b].rank);
                formed.add(&[a, b], rank, found);
                free[a] = false;
                free[b] = false;
            }
        }
    }

    /// Whether `profile` passes some variant in scope on its own.
    fn can_match(&self, profile: usize) -> bool {
        self.order
            .iter()
            .any(|v| self.fails_alone(profile, *v).is_none())
    }
}

/// Candidates the repair looks at around one ticket, per partition.
const REPAIR_NEIGHBOURS: usize = 16;

impl Pairs for Search<'_> {
    type Found = Match;

    fn near(&mut self, ticket: usize) -> SmallVec<[usize; 16]> {
        let p = self.profiles[ticket];
        let mut out: SmallVec<[usize; 16]> = SmallVec::new();
        for &variant in self.order {
            if self.fails_alone(ticket, variant).is_some() {
                continue;
            }
            let window = self.window(variant, p.age);
            let index = self.index(variant);
            for slot in index.slots(ticket) {
                for other in index.near(slot, window, REPAIR_NEIGHBOURS) {
                    if !out.contains(&other) {
                        out.push(other);
                    }
                }
            }
        }
        out
    }

    fn judge(&mut self, a: usize, b: usize) -> Option<Match> {
        let (pa, pb) = (self.profiles[a], self.profiles[b]);
        if pa.backfill || pb.backfill {
            return None;
        }
        for &variant in self.order {
            if self.fails_alone(a, variant).is_some() || self.fails_alone(b, variant).is_some() {
                continue;
            }
            let age = self.bounds.combine(pa.age, pb.age);
            let analysis = &self.variants[variant];
            let Ok(filters) = self.own(a, variant).state.join(
                &self.own(b, variant).state,
                analysis,
                self.rule_set,
                self.bounds.reach(age),
            ) else {
                continue;
            };
            let gathering = Gathering {
                members: smallvec![a, b],
                players: pa.players + pb.players,
                backfill: None,
                age,
                filters,
            };
            if let Some(found) = self.finalize(variant, &gathering, &mut Attempt::default()) {
                return Some(found);
            }
        }
        None
    }
}
