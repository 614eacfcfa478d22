//! The candidate index of one batch: the tickets of one search variant partitioned by what
//! every ticket of a match must share — the values of the equality rules, and a location
//! under every latency cap — and sorted within each partition along one number attribute
//! (the *axis*, usually the one a spread rule bounds). An anchor looks for partners in its own
//! partitions only, nearest on the axis first, and stops where the spread rule's window
//! ends, instead of scanning the pool.
//!
//! A ticket with several locations under the caps sits in one partition per location. Every
//! valid match has a location all its tickets share, so all of them sit in that location's
//! partition: partitioning loses no match.
//!
//! Matched tickets leave every partition they sit in; the walk skips them through a
//! union-find over positions, so a partition never needs compacting within a batch.

use std::collections::HashMap;

use rally_rules::numeric;
use rayon::prelude::*;
use smallvec::SmallVec;

use crate::filters::Key;
use crate::pool::LocationId;

/// Where one ticket sits in one partition.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Slot {
    pub partition: u32,
    pub position: u32,
    /// The ticket's worst latency at the partition's location (0 without latency rules), so
    /// that a ticket tries its nearest locations first.
    pub latency: f32,
}

/// What the index needs to know of one ticket in one variant.
#[derive(Clone, Debug)]
pub(crate) struct Placement<'a> {
    /// The values the equality rules compare, all known.
    pub keys: &'a [Option<Key>],
    /// The locations under every latency cap with the ticket's worst latency there; `None`
    /// when the variant has no latency rule.
    pub locations: Option<&'a [(LocationId, f32)]>,
    pub axis: f64,
    pub players: usize,
}

#[derive(Debug)]
pub(crate) struct Partition {
    pub location: Option<LocationId>,
    /// Profile indices, ascending on the axis (ties in anchor order).
    members: Vec<u32>,
    axis: Vec<f64>,
    /// `next[i]` leads to the first alive position at or after `i` (`members.len()` if none):
    /// a union-find with path halving.
    next: Vec<u32>,
    /// The same downwards, shifted by one: `prev[i + 1]` leads to the last alive position at
    /// or before `i`, plus one; 0 if none.
    prev: Vec<u32>,
    /// The players of the members still unmatched, for `largestPopulation`.
    pub players_alive: usize,
}

impl Partition {
    fn first_alive_from(&mut self, mut i: u32) -> Option<u32> {
        while self.next[i as usize] != i {
            let skip = self.next[self.next[i as usize] as usize];
            self.next[i as usize] = skip;
            i = skip;
        }
        ((i as usize) < self.members.len()).then_some(i)
    }

    /// The last alive position strictly before `position`.
    fn last_alive_before(&mut self, position: u32) -> Option<u32> {
        let mut i = position;
        while self.prev[i as usize] != i {
            let skip = self.prev[self.prev[i as usize] as usize];
            self.prev[i as usize] = skip;
            i = skip;
        }
        i.checked_sub(1)
    }

    fn remove(&mut self, position: u32, players: usize) {
        self.next[position as usize] = position + 1;
        self.prev[position as usize + 1] = position;
        self.players_alive -= players;
    }

    /// Sorts the members along the axis, ties in the order they entered, and readies the
    /// union-finds; returns, by position, the axis value there and the member's order of entry.
    fn sort_along_axis(&mut self) -> Vec<(f64, u32)> {
        let mut order: Vec<(f64, u32)> = self
            .axis
            .iter()
            .enumerate()
            .map(|(i, axis)| (*axis, i as u32))
            .collect();
        order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let members = std::mem::take(&mut self.members);
        self.members = order.iter().map(|(_, i)| members[*i as usize]).collect();
        self.axis = order.iter().map(|(axis, _)| *axis).collect();
        let len = self.members.len() as u32;
        self.next = (0..=len).collect();
        self.prev = (0..=len).collect();
        order
    }
}

/// One variant's partitions, and where each ticket sits in them.
#[derive(Debug, Default)]
pub(crate) struct VariantIndex {
    pub partitions: Vec<Partition>,
    /// The slots of profile `p` are `slots[starts[p]..starts[p + 1]]`.
    starts: Vec<u32>,
    slots: Vec<Slot>,
}

/// An index being built: tickets entered into their partitions in anchor order, the
/// partitions not yet sorted.
struct Entries<'p> {
    /// Locations in the batch; the column past the last is for rule sets without latency
    /// rules.
    locations: usize,
    columns: usize,
    /// Tickets with equal keys form a group; a group has a partition per column.
    groups: HashMap<&'p [Option<Key>], u32>,
    /// Tickets next to each other in anchor order mostly share their keys (a home group's
    /// all do): the last group found spares most lookups.
    last: Option<(&'p [Option<Key>], u32)>,
    /// By group and column, the partition's id.
    partition_of: Vec<u32>,
    partitions: Vec<Partition>,
    /// Per partition, the slot of each member in the order they entered.
    entered: Vec<Vec<u32>>,
    starts: Vec<u32>,
    slots: Vec<Slot>,
}

impl<'p> Entries<'p> {
    /// Enters profile `profile` into its group's partition at each of its locations.
    fn enter(&mut self, profile: usize, placement: &Placement<'p>) {
        let group = self.group(placement.keys);
        match placement.locations {
            None => self.enter_at(group, None, 0.0, profile, placement),
            Some(locations) => {
                for (location, latency) in locations {
                    self.enter_at(group, Some(*location), *latency, profile, placement);
                }
            }
        }
    }

    /// The group of tickets with keys `keys`, a new one (with its columns) if none has them.
    fn group(&mut self, keys: &'p [Option<Key>]) -> u32 {
        match self.last {
            Some((last, group)) if last == keys => group,
            _ => {
                let next = self.groups.len() as u32;
                let group = *self.groups.entry(keys).or_insert(next);
                if group == next {
                    self.partition_of
                        .resize(self.partition_of.len() + self.columns, u32::MAX);
                }
                self.last = Some((keys, group));
                group
            }
        }
    }

    /// Enters profile `profile` into the partition of group `group` at `location`, with its
    /// worst latency there.
    fn enter_at(
        &mut self,
        group: u32,
        location: Option<LocationId>,
        latency: f32,
        profile: usize,
        placement: &Placement<'_>,
    ) {
        let column = location.map_or(self.locations, |l| l.0 as usize);
        let id = &mut self.partition_of[group as usize * self.columns + column];
        if *id == u32::MAX {
            *id = self.partitions.len() as u32;
            self.partitions.push(Partition {
                location,
                members: Vec::new(),
                axis: Vec::new(),
                next: Vec::new(),
                prev: Vec::new(),
                players_alive: 0,
            });
            self.entered.push(Vec::new());
        }
        let id = *id;
        let partition = &mut self.partitions[id as usize];
        partition.members.push(profile as u32);
        partition.axis.push(placement.axis);
        partition.players_alive += placement.players;
        self.entered[id as usize].push(self.slots.len() as u32);
        self.slots.push(Slot {
            partition: id,
            position: 0,
            latency,
        });
    }
}

/// A walk outward from an anchor along the axis of its partition.
#[derive(Clone, Debug)]
pub(crate) struct Walk {
    partition: u32,
    left: Option<u32>,
    right: Option<u32>,
    axis: f64,
    /// Members farther than this from the anchor on the axis cannot join it (the window,
    /// widened by the tolerance of `rally_rules::numeric`).
    window: f64,
}

impl VariantIndex {
    /// Partitions the tickets `placements` (indexed by profile; `None` for a ticket that
    /// cannot match in this variant) over `locations` locations.
    pub(crate) fn build(placements: &[Option<Placement<'_>>], locations: usize) -> VariantIndex {
        let mut entries = Entries {
            locations,
            columns: locations + 1,
            groups: HashMap::new(),
            last: None,
            partition_of: Vec::new(),
            partitions: Vec::new(),
            entered: Vec::new(),
            starts: Vec::with_capacity(placements.len() + 1),
            slots: Vec::with_capacity(placements.len()),
        };
        for (profile, placement) in placements.iter().enumerate() {
            entries.starts.push(entries.slots.len() as u32);
            if let Some(placement) = placement {
                entries.enter(profile, placement);
            }
        }
        let Entries {
            mut partitions,
            entered,
            mut starts,
            mut slots,
            ..
        } = entries;
        starts.push(slots.len() as u32);
        // Each partition sorted along the axis, ties in anchor order (the order members
        // entered in); the order says where each entry went.
        let orders: Vec<Vec<(f64, u32)>> = if crate::parallel::worth_it(slots.len()) {
            partitions
                .par_iter_mut()
                .map(Partition::sort_along_axis)
                .collect()
        } else {
            partitions
                .iter_mut()
                .map(Partition::sort_along_axis)
                .collect()
        };
        // Each slot learns its position once the partitions are sorted.
        for (order, entered) in orders.iter().zip(&entered) {
            for (position, (_, i)) in order.iter().enumerate() {
                slots[entered[*i as usize] as usize].position = position as u32;
            }
        }
        VariantIndex {
            partitions,
            starts,
            slots,
        }
    }

    /// Members next to each other in a partition and within `window` on the axis, as profile
    /// pairs. Two tickets that can share a match are joined by a chain of such pairs (every
    /// member between them on the axis is nearer than they are to each other).
    #[cfg(feature = "tools")]
    pub(crate) fn neighbours(&self, window: f64) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.partitions.iter().flat_map(move |partition| {
            (1..partition.members.len())
                .filter(move |i| partition.axis[*i] - partition.axis[i - 1] <= window)
                .map(|i| {
                    (
                        partition.members[i - 1] as usize,
                        partition.members[i] as usize,
                    )
                })
        })
    }

    /// The partitions profile `profile` sits in.
    pub(crate) fn slots(&self, profile: usize) -> &[Slot] {
        &self.slots[self.starts[profile] as usize..self.starts[profile + 1] as usize]
    }

    pub(crate) fn partition(&self, slot: &Slot) -> &Partition {
        &self.partitions[slot.partition as usize]
    }

    /// Takes a matched ticket out of every partition.
    #[inline]
    pub(crate) fn remove(&mut self, profile: usize, players: usize) {
        let range = self.starts[profile] as usize..self.starts[profile + 1] as usize;
        for slot in &self.slots[range] {
            self.partitions[slot.partition as usize].remove(slot.position, players);
        }
    }

    /// A walk from the ticket at `slot` over the members within `window` of it on the axis.
    #[cfg(test)]
    pub(crate) fn walk(&mut self, slot: &Slot, window: f64) -> Walk {
        self.walk_beyond(slot, None, window)
    }

    /// A walk from the ticket at `slot` over the members farther than `beyond` from it on
    /// the axis (when given) and within `window`: the candidates of a search that needs its
    /// match spread wider than `beyond`.
    pub(crate) fn walk_beyond(&mut self, slot: &Slot, beyond: Option<f64>, window: f64) -> Walk {
        let partition = &mut self.partitions[slot.partition as usize];
        let axis = partition.axis[slot.position as usize];
        let (below, above) = match beyond {
            None => (slot.position, slot.position + 1),
            Some(gap) => (
                partition
                    .axis
                    .partition_point(|v| *v < axis - gap && !numeric::eq(*v, axis - gap))
                    as u32,
                partition
                    .axis
                    .partition_point(|v| *v <= axis + gap || numeric::eq(*v, axis + gap))
                    as u32,
            ),
        };
        let left = partition.last_alive_before(below);
        let right = partition.first_alive_from(above);
        Walk {
            partition: slot.partition,
            left,
            right,
            axis,
            window: window + numeric::slack(window, 0.0),
        }
    }

    /// Up to `limit` members of the slot's partition within `window` of it on the axis,
    /// matched or not, nearest first: the neighbourhood a repair of the batch's pairs looks in.
    pub(crate) fn near(&self, slot: &Slot, window: f64, limit: usize) -> SmallVec<[usize; 16]> {
        let partition = &self.partitions[slot.partition as usize];
        let at = slot.position as usize;
        let axis = partition.axis[at];
        let (mut left, mut right) = (at, at + 1);
        let mut out = SmallVec::new();
        while out.len() < limit {
            let below = (left > 0)
                .then(|| axis - partition.axis[left - 1])
                .filter(|d| numeric::le(*d, window));
            let above = (right < partition.members.len())
                .then(|| partition.axis[right] - axis)
                .filter(|d| numeric::le(*d, window));
            let take_left = match (below, above) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(b), Some(a)) => b <= a,
            };
            if take_left {
                left -= 1;
                out.push(partition.members[left] as usize);
            } else {
                out.push(partition.members[right] as usize);
                right += 1;
            }
        }
        out
    }

    /// The next member of the walk, nearest to the anchor on the axis first.
    pub(crate) fn step(&mut self, walk: &mut Walk) -> Option<usize> {
        let partition = &mut self.partitions[walk.partition as usize];
        let below = walk
            .left
            .map(|i| walk.axis - partition.axis[i as usize])
            .filter(|d| *d <= walk.window);
        let above = walk
            .right
            .map(|i| partition.axis[i as usize] - walk.axis)
            .filter(|d| *d <= walk.window);
        let take_left = match (below, above) {
            (None, None) => return None,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(b), Some(a)) => b <= a,
        };
        if take_left {
            let i = walk.left.expect("a member below");
            walk.left = partition.last_alive_before(i);
            Some(partition.members[i as usize] as usize)
        } else {
            let i = walk.right.expect("a member above");
            walk.right = partition.first_alive_from(i + 1);
            Some(partition.members[i as usize] as usize)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placement(
        keys: &[Option<Key>],
        locations: Option<&'static [(LocationId, f32)]>,
        axis: f64,
    ) -> Option<Placement<'static>> {
        let keys: &'static [Option<Key>] = Box::leak(keys.to_vec().into_boxed_slice());
        Some(Placement {
            keys,
            locations,
            axis,
            players: 1,
        })
    }

    fn walk_all(index: &mut VariantIndex, profile: usize, window: f64) -> Vec<Vec<usize>> {
        let slots = index.slots(profile).to_vec();
        slots
            .iter()
            .map(|slot| {
                let mut walk = index.walk(slot, window);
                std::iter::from_fn(|| index.step(&mut walk)).collect()
            })
            .collect()
    }

    #[test]
    fn partitions_by_keys_and_locations_and_walks_nearest_first() {
        const EAST: &[(LocationId, f32)] = &[(LocationId(0), 20.0)];
        const BOTH: &[(LocationId, f32)] = &[(LocationId(0), 80.0), (LocationId(1), 30.0)];
        const WEST: &[(LocationId, f32)] = &[(LocationId(1), 25.0)];
        let ctf = [Some(crate::pool::Symbol(1))];
        let dm = [Some(crate::pool::Symbol(2))];
        let placements = vec![
            placement(&ctf, Some(BOTH), 1000.0), // 0: anchor, east and west
            placement(&ctf, Some(EAST), 1090.0), // 1
            placement(&ctf, Some(EAST), 950.0),  // 2
            placement(&ctf, Some(WEST), 1010.0), // 3
            placement(&dm, Some(BOTH), 1000.0),  // 4: another mode
            None,                                // 5: cannot match
            placement(&ctf, Some(EAST), 1400.0), // 6: out of the window
        ];
        let mut index = VariantIndex::build(&placements, 2);
        assert_eq!(
            index.partitions.len(),
            4,
            "ctf east, ctf west, dm east, dm west"
        );
        assert!(index.slots(5).is_empty());
        assert_eq!(walk_all(&mut index, 0, 200.0), [vec![2, 1], vec![3]]);
        assert_eq!(walk_all(&mut index, 1, f64::INFINITY), [vec![0, 2, 6]]);
        index.remove(2, 1);
        index.remove(0, 1);
        assert_eq!(walk_all(&mut index, 1, f64::INFINITY), [vec![6]]);
        assert_eq!(
            walk_all(&mut index, 3, f64::INFINITY),
            [Vec::<usize>::new()]
        );
        let east = index.slots(1)[0];
        assert_eq!(index.partition(&east).players_alive, 2);
    }

    #[test]
    fn a_walk_beyond_a_gap_starts_past_it() {
        let placements: Vec<Option<Placement<'_>>> = (0..10)
            .map(|i| placement(&[], None, f64::from(i) * 10.0))
            .collect();
        let mut index = VariantIndex::build(&placements, 0);
        index.remove(8, 1);
        let slot = index.slots(5)[0];
        // From 50, farther than 20 and within 40: 20, then 10 and 90 (80 is matched; 30 and
        // 70 are only 20 away), nearest first.
        let mut walk = index.walk_beyond(&slot, Some(20.0), 40.0);
        let seen: Vec<usize> = std::iter::from_fn(|| index.step(&mut walk)).collect();
        assert_eq!(seen, [2, 1, 9]);
    }

    #[test]
    fn removal_skips_runs_of_matched_members_both_ways() {
        let placements: Vec<Option<Placement<'_>>> = (0..100)
            .map(|i| placement(&[], None, f64::from(i)))
            .collect();
        let mut index = VariantIndex::build(&placements, 0);
        for i in (40..60).filter(|i| *i != 50) {
            index.remove(i, 1);
        }
        let slot = index.slots(50)[0];
        let mut walk = index.walk(&slot, 15.0);
        let seen: Vec<usize> = std::iter::from_fn(|| index.step(&mut walk)).collect();
        assert_eq!(seen, [60, 39, 61, 38, 62, 37, 63, 36, 64, 35, 65]);
    }
}
