//! When work goes to rayon's pool and when it stays on the calling thread.
//!
//! Handing work to the pool costs a wake-up and a wait on each side; for a few thousand
//! tickets that costs more than the cores save, and a served batch shares its cores with the
//! RPCs coming in. Results are the same either way: maps keep their order, and sorts here
//! are by total orders (ties broken by ticket id), so stable or not, serial or not, they agree.

use rayon::prelude::*;

/// Fewer items than this stay on the calling thread.
pub(crate) const PARALLEL_FROM: usize = 4_096;

/// Whether `items` items are worth the pool.
pub(crate) fn worth_it(items: usize) -> bool {
    items >= PARALLEL_FROM
}

/// `items.iter().map(f).collect()`, on the pool when there are enough of them.
pub(crate) fn map<T, R>(items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R>
where
    T: Sync,
    R: Send,
{
    if worth_it(items.len()) {
        items.par_iter().map(f).collect()
    } else {
        items.iter().map(f).collect()
    }
}

/// `items.sort_unstable_by(compare)`, on the pool when there are enough of them; `compare`
/// must be a total order for the result not to depend on which.
pub(crate) fn sort_unstable_by<T: Send>(
    items: &mut [T],
    compare: impl Fn(&T, &T) -> std::cmp::Ordering + Sync,
) {
    if worth_it(items.len()) {
        items.par_sort_unstable_by(compare);
    } else {
        items.sort_unstable_by(compare);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_inputs_give_the_same_results() {
        for n in [0, 10, PARALLEL_FROM - 1, PARALLEL_FROM, 3 * PARALLEL_FROM] {
            let items: Vec<u64> = (0..n as u64).map(|i| (i * 7919) % 1_000_003).collect();
            let mapped = map(&items, |x| x * 2 + 1);
            assert_eq!(mapped, items.iter().map(|x| x * 2 + 1).collect::<Vec<_>>());
            let mut sorted = items.clone();
            sort_unstable_by(&mut sorted, |a, b| b.cmp(a));
            let mut expected = items;
            expected.sort_by(|a, b| b.cmp(a));
            assert_eq!(sorted, expected);
        }
    }

    #[test]
    fn the_pool_is_used_from_the_threshold_on() {
        assert!(!worth_it(PARALLEL_FROM - 1));
        assert!(worth_it(PARALLEL_FROM));
    }
}
