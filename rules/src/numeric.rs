//! How rally compares the numbers of a rule set — times, distances, latencies and attribute
//! values — with one tolerance everywhere.
//!
//! Numbers arrive as binary floating point, so arithmetic a designer reads as exact is not:
//! a ticket started at 1.06 s is 14.999999999999998 s old at 16.06 s, and 0.4 − 0.1 is
//! 0.30000000000000004. Two numbers within [`RELATIVE_TOLERANCE`] of each other, relative to
//! the larger of them (and never less than that tolerance itself), are equal: an expansion
//! step at 15 s applies at that age, a spread of 0.4 − 0.1 passes `maxDistance 0.3`, and `=`
//! holds between 0.1 + 0.2 and 0.3. Orderings follow: `a < b` only when `a` is below `b` and
//! not equal to it.

/// The tolerance, relative to the magnitude of the numbers compared (absolute below 1).
pub const RELATIVE_TOLERANCE: f64 = 1e-9;

/// How far apart `a` and `b` may be and still be equal.
#[inline]
pub fn slack(a: f64, b: f64) -> f64 {
    RELATIVE_TOLERANCE * a.abs().max(b.abs()).max(1.0)
}

/// `a = b` within the tolerance. An infinity equals only itself.
#[inline]
pub fn eq(a: f64, b: f64) -> bool {
    a == b || (a.is_finite() && b.is_finite() && (a - b).abs() <= slack(a, b))
}

/// `a ≤ b` within the tolerance.
#[inline]
pub fn le(a: f64, b: f64) -> bool {
    a <= b || eq(a, b)
}

/// `a < b`, and not equal within the tolerance.
#[inline]
pub fn lt(a: f64, b: f64) -> bool {
    a < b && !eq(a, b)
}

/// `a ≥ b` within the tolerance.
#[inline]
pub fn ge(a: f64, b: f64) -> bool {
    le(b, a)
}

/// `a > b`, and not equal within the tolerance.
#[inline]
pub fn gt(a: f64, b: f64) -> bool {
    lt(b, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_rounding_is_equality() {
        assert!(ge(16.06 - 1.06, 15.0), "an age of 14.999999999999998 s");
        assert!(le(0.4 - 0.1, 0.3));
        assert!(eq(0.1 + 0.2, 0.3));
        assert!(!lt(0.3, 0.1 + 0.2) && !gt(0.1 + 0.2, 0.3));
    }

    #[test]
    fn real_differences_still_count() {
        assert!(!le(0.31, 0.3));
        assert!(lt(0.3, 0.31));
        assert!(!eq(1_000_000.0, 1_000_000.01));
        assert!(eq(1e12, 1e12 + 1.0), "relative to the numbers' size");
        assert!(gt(2.0, 1.0) && ge(2.0, 2.0) && !gt(2.0, 2.0));
        assert!(!eq(f64::NAN, f64::NAN));
        assert!(!ge(60.0, f64::INFINITY) && !le(f64::INFINITY, 1e300));
        assert!(le(1e300, f64::INFINITY) && eq(f64::INFINITY, f64::INFINITY));
    }
}
