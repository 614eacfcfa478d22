//! The live index of a standing pool: per variant of the search, the pool's tickets in the
//! partitions a batch's index would put them in — equality values and each location under
//! the caps — ordered on the plan's axis, kept as tickets come and go. It answers one
//! question: whose search could a change at this place in the pool touch?
//!
//! A batch's search around an anchor reads only its own partitions, and in them only the
//! members within the plan's widest window on the axis, and (when the walk is not one that
//! starts beyond a negated spread) only the nearest [`REACH`] members on each side that can
//! take part in that variant. A ticket arriving, leaving or stepping to an expansion can
//! therefore change the searches of those members only: they are its *partners*.

use std::collections::BTreeSet;

use hashbrown::HashMap;
use smallvec::SmallVec;

use crate::filters::{Key, TicketFilters};
use crate::pool::{LocationId, TicketKey};
use crate::search::{SCAN_BUDGET, SORT_CHUNK};

/// Members on each side of an anchor that one walk may see: the scan budget, and one more,
/// which a member leaving brings into view.
pub(crate) const REACH: usize = if SCAN_BUDGET > SORT_CHUNK {
    SCAN_BUDGET + 1
} else {
    SORT_CHUNK + 1
};

/// Partitions holding more members than this are kept in a B-tree; smaller ones, which
/// most are when equality rules split the pool finely, in a sorted inline vector.
const SMALL: usize = 32;

/// A value on the axis, kept in 32 bits whose order is the values' order: an `f32` near the
/// value, its bits flipped so that they sort as numbers do. Rounding can only make two
/// values seem nearer or farther by a few parts in 10⁷; [`Axis::apart`] allows for it, so
/// the index may name a partner too many, never one too few.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Axis(u32);

impl Axis {
    fn of(value: f64) -> Axis {
        let bits = (value as f32).to_bits();
        Axis(if bits >> 31 == 1 {
            !bits
        } else {
            bits | 1 << 31
        })
    }

    fn value(self) -> f64 {
        let bits = if self.0 >> 31 == 1 {
            self.0 & !(1 << 31)
        } else {
            !self.0
        };
        f64::from(f32::from_bits(bits))
    }

    /// Whether the values are farther apart than `window`, even allowing for rounding.
    fn apart(self, other: Axis, window: f64) -> bool {
        let (a, b) = (self.value(), other.value());
        let rounding = (a.abs().max(b.abs()) + 1.0) * 4.0 * f64::from(f32::EPSILON);
        (a - b).abs() > window + rounding
    }
}

/// A member of a partition: its value on the axis, then its key (which only makes entries
/// distinct: the index answers with sets, so the key's order never reaches a result).
type Entry = (Axis, TicketKey);

/// Which partition of which variant.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Place {
    variant: u16,
    equal: SmallVec<[Option<Key>; 1]>,
    location: Option<LocationId>,
}

/// Where one ticket sits: a partition and its entry there.
#[derive(Clone, Debug)]
pub(crate) struct Seat {
    place: Place,
    entry: Entry,
}

#[derive(Debug)]
enum Members {
    Small(SmallVec<[Entry; 4]>),
    Large(BTreeSet<Entry>),
}

impl Members {
    fn insert(&mut self, entry: Entry) {
        match self {
            Members::Small(list) => {
                let at = list.partition_point(|e| *e < entry);
                list.insert(at, entry);
                if list.len() > SMALL {
                    *self = Members::Large(list.drain(..).collect());
                }
            }
            Members::Large(set) => {
                set.insert(entry);
            }
        }
    }

    fn remove(&mut self, entry: &Entry) {
        match self {
            Members::Small(list) => {
                if let Ok(at) = list.binary_search(entry) {
                    list.remove(at);
                }
            }
            Members::Large(set) => {
                set.remove(entry);
            }
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Members::Small(list) => list.is_empty(),
            Members::Large(set) => set.is_empty(),
        }
    }

    /// Visits the members below `from` (nearest first), then those above, while `visit`
    /// says to go on with that side.
    fn around(&self, from: &Entry, mut visit: impl FnMut(&Entry) -> bool) {
        match self {
            Members::Small(list) => {
                let at = list.partition_point(|e| e < from);
                for e in list[..at].iter().rev() {
                    if !visit(e) {
                        break;
                    }
                }
                for e in list[at..].iter().filter(|e| *e != from) {
                    if !visit(e) {
                        break;
                    }
                }
            }
            Members::Large(set) => {
                for e in set.range(..from).rev() {
                    if !visit(e) {
                        break;
                    }
                }
                for e in set.range(from..).filter(|e| *e != from) {
                    if !visit(e) {
                        break;
                    }
                }
            }
        }
    }
}

/// How far a change reaches in one variant.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reach {
    /// The widest window on the axis any walk uses, the tolerance included.
    pub(crate) window: f64,
    /// Whether walks stop after [`REACH`] members a side (they do unless they start beyond a
    /// negated spread, or partitions are ranked by how many they hold).
    pub(crate) counted: bool,
    /// Whether the variant is the one the first phase searches, each ticket at its nearest
    /// location only: a walk there counts only members whose nearest location it is.
    pub(crate) home: bool,
}

/// The live index itself.
#[derive(Debug, Default)]
pub(crate) struct LiveIndex {
    partitions: HashMap<Place, Members>,
}

/// What the index asks of a member during a walk: whether it can take part in a variant
/// now, and whether a partition's location is its nearest.
pub(crate) trait Candidacy {
    fn takes_part(&self, key: TicketKey, variant: usize) -> bool;
    fn is_home(&self, key: TicketKey, variant: usize, location: Option<LocationId>) -> bool;
}

impl LiveIndex {
    /// The seats of a ticket with filters `filters` (per variant) and axis values `axes`.
    pub(crate) fn seats(
        key: TicketKey,
        filters: &[TicketFilters],
        axes: impl Fn(usize, &TicketFilters) -> f64,
    ) -> Vec<Seat> {
        let mut seats = Vec::new();
        for (variant, filters) in filters.iter().enumerate() {
            // A ticket that fails a rule on its own at every age can never take part in the
            // variant: seated, it would only lengthen every walk through its partition (a
            // pool of such tickets made each batch cost the pool's size).
            if filters.alone_from.is_infinite() {
                continue;
            }
            let entry = (Axis::of(axes(variant, filters)), key);
            let place = |location| Place {
                variant: variant as u16,
                equal: filters.state.equal.clone(),
                location,
            };
            match filters.locations() {
                None => seats.push(Seat {
                    place: place(None),
                    entry,
                }),
                Some(locations) => seats.extend(locations.iter().map(|(l, _)| Seat {
                    place: place(Some(*l)),
                    entry,
                })),
            }
        }
        seats
    }

    pub(crate) fn insert(&mut self, seats: &[Seat]) {
        for seat in seats {
            self.partitions
                .entry(seat.place.clone())
                .or_insert_with(|| Members::Small(SmallVec::new()))
                .insert(seat.entry);
        }
    }

    pub(crate) fn remove(&mut self, seats: &[Seat]) {
        for seat in seats {
            if let Some(members) = self.partitions.get_mut(&seat.place) {
                members.remove(&seat.entry);
                if members.is_empty() {
                    self.partitions.remove(&seat.place);
                }
            }
        }
    }

    /// Hands `found` the members whose search a change at `seat` could touch, under the
    /// reach of each variant (`reaches`) and what `pool` says of members; stops when
    /// `found` says to (returns `false` then).
    pub(crate) fn partners(
        &self,
        seat: &Seat,
        reaches: &[Reach],
        pool: &impl Candidacy,
        found: &mut impl FnMut(TicketKey) -> bool,
    ) -> bool {
        let Some(members) = self.partitions.get(&seat.place) else {
            return true;
        };
        let variant = usize::from(seat.place.variant);
        let reach = reaches[variant];
        let location = seat.place.location;
        let axis = seat.entry.0;
        // Per side: members that take part, and of those, the ones at home here.
        let mut side_below = None;
        let mut counts = (0usize, 0usize);
        let mut go_on = true;
        members.around(&seat.entry, |entry| {
            let below = entry < &seat.entry;
            if side_below != Some(below) {
                side_below = Some(below);
                counts = (0, 0);
            }
            if entry.0.apart(axis, reach.window) {
                return false;
            }
            let key = entry.1;
            if !pool.takes_part(key, variant) {
                return true;
            }
            if !found(key) {
                go_on = false;
                return false;
            }
            counts.0 += 1;
            if reach.home && pool.is_home(key, variant, location) {
                counts.1 += 1;
            }
            let seen_enough = counts.0 > REACH && (!reach.home || counts.1 > REACH);
            !(reach.counted && seen_enough)
        });
        go_on
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_values_sort_as_numbers_and_are_never_too_far_apart() {
        let values = [
            -1e12, -2500.5, -1.0, -1e-9, 0.0, 1e-9, 0.3, 1.0, 999.9999, 1000.0, 1000.0001, 3e9,
        ];
        for pair in values.windows(2) {
            assert!(Axis::of(pair[0]) <= Axis::of(pair[1]), "{pair:?}");
        }
        for a in values {
            for b in values {
                let distance = (a - b).abs();
                assert!(
                    !Axis::of(a).apart(Axis::of(b), distance),
                    "{a} and {b} are within {distance}"
                );
            }
        }
        assert!(Axis::of(1000.0).apart(Axis::of(1200.0), 100.0));
        assert!(!Axis::of(1000.0).apart(Axis::of(1200.0), f64::INFINITY));
    }

    #[test]
    fn small_partitions_grow_into_trees_and_walk_the_same() {
        let mut members = Members::Small(SmallVec::new());
        for key in (0..100u32).rev() {
            members.insert((Axis::of(f64::from(key % 10)), TicketKey(key)));
        }
        assert!(matches!(members, Members::Large(_)));
        let from = (Axis::of(5.0), TicketKey(55));
        let mut seen = Vec::new();
        members.around(&from, |entry| {
            seen.push(entry.1.0);
            seen.len() < 3 || entry.0 != Axis::of(4.0)
        });
        // Below, nearest first: the fives before key 55, then the fours, stopping at one.
        assert_eq!(&seen[..5], &[45, 35, 25, 15, 5]);
        assert!(seen.contains(&65) && !seen.contains(&55), "{seen:?}");
        for key in 0..100u32 {
            members.remove(&(Axis::of(f64::from(key % 10)), TicketKey(key)));
        }
        assert!(members.is_empty());
    }
}
