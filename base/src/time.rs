//! Time as the core sees it: seconds on the engine's clock, passed in, never read from the
//! machine. Tickets' start times, batch times and placement deadlines are all on this clock.

use std::cmp::Ordering;

/// A duration or a point on the engine's clock, in seconds.
pub type Seconds = f64;

/// A point on the engine's clock that orders totally (NaN after everything), so it can key
/// priority queues and ordered maps.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Time(pub Seconds);

impl Eq for Time {}

impl PartialOrd for Time {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Time {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_order_totally() {
        let mut times = [Time(3.0), Time(-1.0), Time(f64::INFINITY), Time(0.5)];
        times.sort();
        assert_eq!(
            times,
            [Time(-1.0), Time(0.5), Time(3.0), Time(f64::INFINITY)]
        );
        assert_eq!(Time(2.0).cmp(&Time(2.0)), Ordering::Equal);
    }
}
