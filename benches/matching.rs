//! One batch at scale, for the matcher's targets (issue 3), each on a generated pool that
//! fits its rule set (`fixtures/rulesets/bench_*.rules`):
//!
//! - `1v1`: 1,000,000 solo tickets, a skill distance and a 100 ms latency cap over 8
//!   locations; the batch within 3× the time to sort 1,000,000 f64 keys (measured beside
//!   it), matching at least 99% of the optimal number of pairs (printed; the bound is
//!   `quality::pair_bound`).
//! - `5v5`: 200,000 tickets with parties of 1–5, example 1's fair teams and a latency cap;
//!   one batch within 1 s.
//! - `2x50`: 1,000,000 tickets, two teams of 50 balanced on skill, batchDistance and a
//!   latency cap; one batch within 1.5 s.
//!
//! - `standing`: a standing pool (`standing::Matchmaker`) of 100,000 `bench_standing` tickets,
//!   most waiting for their lobby to fill: a batch after 1,000 arrivals, and a batch with
//!   nothing new and no expansion due, beside one batch from scratch over the same pool.
//!
//! Run with `cargo bench --bench matching`; `RALLY_BENCH_SCALE=0.1` runs a tenth of each size.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rally_matchmaker::batch::{BatchOptions, run_batch};
use rally_matchmaker::generate::{GenerateOptions, Population, tickets};
use rally_matchmaker::pool::Pool;
use rally_matchmaker::quality::pair_bound;
use rally_matchmaker::standing::Matchmaker;
use rally_rules::model::RuleSet;
use rally_rules::{SourceFormat, check_source};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The batch runs at the end of the generated tickets' 60 s of arrivals.
const NOW: f64 = 60.0;

fn rule_set(source: &str) -> RuleSet {
    let checked = check_source(source, SourceFormat::Dsl);
    checked.rule_set.expect("a valid bench rule set")
}

fn scaled(count: usize) -> usize {
    let scale: f64 = std::env::var("RALLY_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    ((count as f64 * scale) as usize).max(100)
}

fn pool(rule_set: &RuleSet, count: usize) -> Pool {
    let population = Population::embedded();
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut pool = Pool::new(Arc::new(rule_set.clone()));
    for ticket in tickets(
        rule_set,
        &population,
        GenerateOptions::new(count, NOW),
        &mut rng,
    ) {
        pool.insert(&ticket)
            .expect("generated tickets fit the rule set");
    }
    pool
}

fn options() -> BatchOptions {
    BatchOptions { now: NOW, seed: 7 }
}

fn one_v_one(c: &mut Criterion) {
    let rules = rule_set(include_str!("../fixtures/rulesets/bench_1v1.rules"));
    let count = scaled(1_000_000);
    let pool = pool(&rules, count);
    // Uniformly random keys: the textbook sort (the pool's ratings repeat too often to be a
    // fair yardstick; sorting them is several times faster).
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let keys: Vec<f64> = (0..count).map(|_| rng.random::<f64>()).collect();
    let result = run_batch(&pool, &options());
    let bound = pair_bound(&pool, NOW).expect("a 1v1 rule set");
    eprintln!(
        "1v1: {count} tickets, {} pairs of at most {bound} ({:.3}%)",
        result.matches.len(),
        100.0 * result.matches.len() as f64 / bound.max(1) as f64
    );
    let mut group = c.benchmark_group("1v1");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("sort f64 keys", |b| {
        b.iter_batched_ref(
            || keys.clone(),
            |keys| keys.sort_unstable_by(f64::total_cmp),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("batch", |b| {
        b.iter(|| black_box(run_batch(&pool, &options())))
    });
    group.finish();
}

fn five_v_five(c: &mut Criterion) {
    let rules = rule_set(include_str!("../fixtures/rulesets/bench_5v5.rules"));
    let count = scaled(200_000);
    let pool = pool(&rules, count);
    let result = run_batch(&pool, &options());
    eprintln!("5v5: {count} tickets, {} matches", result.matches.len());
    let mut group = c.benchmark_group("5v5");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("batch", |b| {
        b.iter(|| black_box(run_batch(&pool, &options())))
    });
    group.finish();
}

fn large(c: &mut Criterion) {
    let rules = rule_set(include_str!("../fixtures/rulesets/bench_2x50.rules"));
    let count = scaled(1_000_000);
    let pool = pool(&rules, count);
    let result = run_batch(&pool, &options());
    eprintln!("2x50: {count} tickets, {} matches", result.matches.len());
    let mut group = c.benchmark_group("2x50");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.bench_function("batch", |b| {
        b.iter(|| black_box(run_batch(&pool, &options())))
    });
    group.finish();
}

fn standing(c: &mut Criterion) {
    let rules = rule_set(include_str!("../fixtures/rulesets/bench_standing.rules"));
    let count = scaled(100_000);
    let arrivals = scaled(1_000);
    // Arrivals for every measured batch from one lazy stream, with lobby codes as many as
    // the standing pool, so most tickets wait.
    let total = count * 64;
    let population = Population::embedded();
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let options = GenerateOptions {
        codes: Some(count),
        ..GenerateOptions::new(total, NOW)
    };
    let mut stream = tickets(&rules, &population, options, &mut rng);
    let mut matchmaker = Matchmaker::new(Arc::new(rules.clone()));
    for ticket in stream.by_ref().take(count) {
        matchmaker.insert(&ticket).expect("generated tickets fit");
    }
    let mut now = NOW;
    while !matchmaker.run_batch(now, 7).is_empty() {}
    eprintln!("standing: {} of {count} tickets wait", matchmaker.waiting());
    let mut group = c.benchmark_group("standing");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("scratch batch", |b| {
        b.iter(|| black_box(matchmaker.scratch_batch(now, 7)))
    });
    group.bench_function("batch, nothing new", |b| {
        b.iter(|| black_box(matchmaker.run_batch(now, 7)))
    });
    // The pool keeps its size: after each batch, the oldest arrivals still waiting give up.
    let mut arrived: std::collections::VecDeque<String> = Default::default();
    group.bench_function("batch after arrivals", |b| {
        b.iter_custom(|iterations| {
            let mut spent = Duration::ZERO;
            for _ in 0..iterations {
                now += 0.1;
                for mut ticket in stream.by_ref().take(arrivals) {
                    ticket.start_time = now;
                    matchmaker.insert(&ticket).expect("generated tickets fit");
                    arrived.push_back(ticket.id);
                }
                let started = std::time::Instant::now();
                black_box(matchmaker.run_batch(now, 7));
                spent += started.elapsed();
                while arrived.len() > count / 2 {
                    let id = arrived.pop_front().expect("more than half the pool");
                    if let Some(key) = matchmaker.pool().key_of(&id) {
                        matchmaker.remove(key);
                    }
                }
            }
            spent
        })
    });
    group.finish();
}

criterion_group!(matching, one_v_one, five_v_five, large, standing);
criterion_main!(matching);
