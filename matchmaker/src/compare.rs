//! How a rule compares numbers: an operation between two, a distance within a rule's bounds,
//! the range of a list. The judge (`eval`) and the filters (`filters`) share these, so that
//! a candidate the filters let through is compared exactly as the judge will compare it.

use rally_rules::model::ComparisonOperation;
use rally_rules::numeric;

use crate::params::RuleParams;

/// Whether `distance` lies within the rule's `minDistance` and `maxDistance`.
pub(crate) fn within_distance(distance: f64, params: &RuleParams) -> bool {
    params
        .min_distance
        .is_none_or(|min| numeric::ge(distance, min))
        && params
            .max_distance
            .is_none_or(|max| numeric::le(distance, max))
}

/// The lowest and highest of `numbers` (infinities for none).
pub(crate) fn range(numbers: &[f64]) -> (f64, f64) {
    numbers
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), n| {
            (low.min(*n), high.max(*n))
        })
}

/// `a operation b` on numbers, within the tolerance of `rally_rules::numeric`.
pub(crate) fn compare_numbers(a: f64, operation: ComparisonOperation, b: f64) -> bool {
    use ComparisonOperation as Op;
    match operation {
        Op::Equal => numeric::eq(a, b),
        Op::NotEqual => !numeric::eq(a, b),
        Op::Less => numeric::lt(a, b),
        Op::LessOrEqual => numeric::le(a, b),
        Op::Greater => numeric::gt(a, b),
        Op::GreaterOrEqual => numeric::ge(a, b),
    }
}
