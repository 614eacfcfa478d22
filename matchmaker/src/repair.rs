//! Repairing a batch's pairs: an unmatched ticket looks for an augmenting path — a partner
//! already matched whose mate can pair with someone else, and so on until a ticket that is
//! still free — and the pairs along it are swapped, so that every ticket matched before
//! stays matched and two more are. Anchors taken oldest first each pair with their nearest
//! partner; on a sparse pool that strands tickets a maximum matching would pair, and this
//! pass gives most of them back.
//!
//! The graph is asked for, never built: [`Pairs`] names a ticket's nearby candidates and
//! judges one pair. Paths are found depth first without contracting odd cycles, so a path
//! may be missed (never a wrong one taken); depth and judging are bounded per ticket.

use smallvec::SmallVec;

/// How far a path may go, in matched pairs it passes through.
pub(crate) const MAX_DEPTH: usize = 64;
/// Pairs one unmatched ticket's search may judge.
pub(crate) const JUDGE_BUDGET: usize = 256;

/// The pairs a repair may form.
pub(crate) trait Pairs {
    /// What a valid pair becomes (a match).
    type Found;
    /// Tickets near `ticket` that might pair with it, nearest first, matched or not.
    fn near(&mut self, ticket: usize) -> SmallVec<[usize; 16]>;
    /// The match `a` and `b` make, if they make a valid one.
    fn judge(&mut self, a: usize, b: usize) -> Option<Self::Found>;
}

/// The state of the batch's pairs: each ticket's mate in a two-ticket match (`u32::MAX`:
/// none), and which tickets are free (unmatched, and able to match).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pairing<'a> {
    pub mate: &'a [u32],
    pub free: &'a [bool],
}

/// A path from `start` (free) to another free ticket: the pairs to form, in order; every
/// ticket on it but the two ends leaves its old pair for a new one.
pub(crate) fn augmenting_path<P: Pairs>(
    pairs: &mut P,
    pairing: Pairing<'_>,
    start: usize,
) -> Option<Vec<(usize, usize, P::Found)>> {
    let mut search = PathSearch {
        pairing,
        visited: vec![start],
        budget: JUDGE_BUDGET,
        path: Vec::new(),
    };
    search.extend(pairs, start, 0).then_some(search.path)
}

struct PathSearch<'a, F> {
    pairing: Pairing<'a>,
    visited: Vec<usize>,
    budget: usize,
    path: Vec<(usize, usize, F)>,
}

impl<F> PathSearch<'_, F> {
    /// Extends the path from `from`, which needs a new partner: a free one ends it, a matched
    /// one passes it on to that one's mate.
    fn extend<P: Pairs<Found = F>>(&mut self, pairs: &mut P, from: usize, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        let near = pairs.near(from);
        // Free partners first: the shortest path.
        for free_pass in [true, false] {
            for &next in &near {
                let free = self.pairing.free[next];
                if free != free_pass || next == from || self.visited.contains(&next) {
                    continue;
                }
                let mate =
                    Some(self.pairing.mate[next] as usize).filter(|m| *m != u32::MAX as usize);
                if !free && mate.is_none_or(|m| self.visited.contains(&m)) {
                    continue;
                }
                if self.budget == 0 {
                    return false;
                }
                self.budget -= 1;
                let Some(found) = pairs.judge(from, next) else {
                    continue;
                };
                self.path.push((from, next, found));
                match mate {
                    _ if free => return true,
                    Some(mate) => {
                        self.visited.extend([next, mate]);
                        if self.extend(pairs, mate, depth + 1) {
                            return true;
                        }
                    }
                    None => {}
                }
                self.path.pop();
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: u32 = u32::MAX;

    /// Tickets on a line, each pairing with its neighbours.
    struct Line(usize);

    impl Pairs for Line {
        type Found = (usize, usize);
        fn near(&mut self, ticket: usize) -> SmallVec<[usize; 16]> {
            [ticket.wrapping_sub(1), ticket + 1]
                .into_iter()
                .filter(|t| *t < self.0)
                .collect()
        }
        fn judge(&mut self, a: usize, b: usize) -> Option<(usize, usize)> {
            (a.abs_diff(b) == 1).then_some((a, b))
        }
    }

    #[test]
    fn a_path_through_matched_pairs_frees_both_ends() {
        // 0 1=2 3=4 5: 0 and 5 are stranded; 0-1, 2-3, 4-5 pairs everyone.
        let pairing = Pairing {
            mate: &[NONE, 2, 1, 4, 3, NONE],
            free: &[true, false, false, false, false, true],
        };
        let path = augmenting_path(&mut Line(6), pairing, 0).expect("a path");
        let pairs: Vec<(usize, usize)> = path.iter().map(|(a, b, _)| (*a, *b)).collect();
        assert_eq!(pairs, [(0, 1), (2, 3), (4, 5)]);
    }

    #[test]
    fn no_path_without_a_second_free_ticket() {
        let pairing = Pairing {
            mate: &[NONE, 2, 1],
            free: &[true, false, false],
        };
        assert!(augmenting_path(&mut Line(3), pairing, 0).is_none());
    }
}
