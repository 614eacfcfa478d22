//! The engine's share of a served batch (issue 12's latency target): 1,000 `bench_1v1`
//! tickets arrive over one 100 ms batch interval (what 10,000 tickets/s brings), then the
//! batch takes them in, matches them and proposes the matches, whose events are taken. Each
//! phase is measured apart, as the server runs them: `start` (the tickets' StartMatchmaking
//! calls), `begin` (under the engine's lock), `run` (off it) and `finish` (under it).
//!
//! `waiting_100k`: the same batch over a pool already holding 100,000 tickets that can never
//! match (each 200 rating points from the next, far above everyone else): the target holds
//! there too.
//!
//! `never_100k`: `fixtures/serve/waiting.rules`' pool (`bench-waiting`, tickets that can never
//! match) holding 100,000 tickets, and a batch after 1,000 more arrive: a pool that only
//! grows must cost a batch what arrived, not its size.
//!
//! Run with `cargo bench --bench engine`.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rally_engine::{Configuration, Engine, EngineOptions, StartMatchmaking};
use rally_matchmaker::generate::{GenerateOptions, Population, tickets};
use rally_matchmaker::ticket::NewPlayer;
use rally_rules::model::AttributeValue;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const ARRIVALS: usize = 1_000;
const BATCH_AT: f64 = 0.1;

fn engine() -> Engine {
    let mut engine = Engine::new(EngineOptions::default());
    let rules = include_str!("../fixtures/rulesets/bench_1v1.rules");
    engine.create_rule_set(0.0, "bench-1v1", rules).unwrap();
    engine
        .create_configuration(0.0, Configuration::new("bench-1v1", "bench-1v1"))
        .unwrap();
    engine
}

fn requests(engine: &Engine) -> Vec<StartMatchmaking> {
    let rule_set = engine.rule_set("bench-1v1").unwrap().rule_set.clone();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    tickets(
        &rule_set,
        &Population::embedded(),
        GenerateOptions::new(ARRIVALS, 0.0),
        &mut rng,
    )
    .map(|ticket| StartMatchmaking {
        ticket_id: Some(ticket.id),
        configuration_name: "bench-1v1".into(),
        players: ticket.players,
    })
    .collect()
}

/// An engine whose tickets arrived and wait for the batch.
fn arrived() -> Engine {
    arrived_in(engine())
}

/// An engine whose pool holds `WAITING` tickets that can never match, searched once.
fn waiting() -> Engine {
    let mut engine = engine();
    for i in 0..WAITING {
        let mut player = NewPlayer::new(format!("waiting-{i}"));
        let skill = 1_000_000.0 + 200.0 * i as f64;
        player
            .attributes
            .insert("skill".into(), AttributeValue::Number(skill));
        player.latencies.insert("us-east-1".into(), 50);
        let request = StartMatchmaking {
            ticket_id: Some(format!("w{i}")),
            configuration_name: "bench-1v1".into(),
            players: vec![player],
        };
        engine.start_matchmaking(0.0, request).unwrap();
    }
    engine.run_due_batches(0.0);
    drop(engine.take_events());
    engine
}

const WAITING: usize = 100_000;

fn arrived_in(mut engine: Engine) -> Engine {
    for (i, request) in requests(&engine).into_iter().enumerate() {
        let at = BATCH_AT * i as f64 / ARRIVALS as f64;
        engine.start_matchmaking(at, request).unwrap();
    }
    engine
}

fn phases(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine_1v1_1000");
    group.sample_size(20);
    group.bench_function("start", |b| {
        b.iter_batched(
            || {
                let engine = engine();
                let requests = requests(&engine);
                (engine, requests)
            },
            |(mut engine, requests)| {
                for request in requests {
                    black_box(engine.start_matchmaking(0.0, request).unwrap());
                }
                engine
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("begin", |b| {
        b.iter_batched(
            arrived,
            |mut engine| {
                let job = engine.begin_batch(BATCH_AT, "bench-1v1").unwrap();
                (engine, job)
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("run", |b| {
        b.iter_batched(
            || {
                let mut engine = arrived();
                let job = engine.begin_batch(BATCH_AT, "bench-1v1").unwrap();
                (engine, job)
            },
            |(engine, job)| (engine, job.run()),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("finish", |b| {
        b.iter_batched(
            || {
                let mut engine = arrived();
                let done = engine.begin_batch(BATCH_AT, "bench-1v1").unwrap().run();
                (engine, done)
            },
            |(mut engine, done)| {
                engine.finish_batch(BATCH_AT, done);
                black_box(engine.take_events());
                engine
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn over_a_waiting_pool(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine_1v1_1000_waiting_100k");
    group.sample_size(10);
    group.bench_function("run", |b| {
        b.iter_batched(
            || {
                let mut engine = arrived_in(waiting());
                let job = engine.begin_batch(BATCH_AT, "bench-1v1").unwrap();
                (engine, job)
            },
            |(engine, job)| (engine, job.run()),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// An engine over `waiting.rules` whose pool holds `count` tickets that can never match,
/// searched once, then 1,000 more arrivals.
fn never_matching(count: usize) -> Engine {
    let mut engine = Engine::new(EngineOptions::default());
    let rules = include_str!("../fixtures/serve/waiting.rules");
    engine.create_rule_set(0.0, "waiting", rules).unwrap();
    let mut config = Configuration::new("waiting", "waiting");
    config.request_timeout_seconds = 43_200;
    engine.create_configuration(0.0, config).unwrap();
    let start = |engine: &mut Engine, n: usize, at: f64| {
        let mut player = NewPlayer::new(format!("p{n}"));
        let skill = ((n * 7919) % 100_000) as f64 + 0.5;
        player
            .attributes
            .insert("skill".into(), AttributeValue::Number(skill));
        player.latencies.insert("us-east-1".into(), 40);
        let request = StartMatchmaking {
            ticket_id: Some(format!("t{n}")),
            configuration_name: "waiting".into(),
            players: vec![player],
        };
        engine.start_matchmaking(at, request).unwrap();
    };
    for n in 0..count {
        start(&mut engine, n, 0.0);
    }
    engine.run_due_batches(0.0);
    drop(engine.take_events());
    for n in count..count + ARRIVALS {
        start(&mut engine, n, BATCH_AT * 0.5);
    }
    engine
}

fn over_a_never_matching_pool(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine_1000_arrivals_never_100k");
    group.sample_size(10);
    group.bench_function("batch", |b| {
        b.iter_batched(
            || never_matching(WAITING),
            |mut engine| {
                engine.run_due_batches(BATCH_AT);
                engine
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(
    benches,
    phases,
    over_a_waiting_pool,
    over_a_never_matching_pool
);
criterion_main!(benches);
