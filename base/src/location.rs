//! Locations as the core numbers them: AWS Regions and custom locations, by a number the
//! component holding their names gives out, so that hot paths compare and index numbers,
//! never names.

/// A location's number. Each component that meets location names (a pool's tickets, a
/// placer's fleets) numbers them as it first sees them and converts names at its edge;
/// nothing may order results by the number, which follows first-seen order: ties between
/// locations go by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocationId(pub u32);

impl LocationId {
    /// The number as an index into a table of locations.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}
