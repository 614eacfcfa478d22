//! Placement decisions per second (issue 4's target: at least 1,000,000 on one core, with
//! 10 destinations × 4 locations and 10 players per request), and the same decisions with
//! 100,000 requests pending, which must not make them slower.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rally_placement::Placer;
use rally_placement::model::{
    Fleet, FleetLocation, FleetType, LatencyPolicy, LocationStatus, PlacementRequest, PriorityType,
    Queue, QueueOptions,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const REGIONS: [&str; 8] = [
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-northeast-1",
    "ap-southeast-1",
    "sa-east-1",
    "ap-south-1",
];
const DECISIONS: usize = 10_000;
const BACKLOG: usize = 100_000;

/// Ten fleets, each in four of the eight regions, with room for every decision.
fn fleets() -> Vec<Fleet> {
    (0..10)
        .map(|f| Fleet {
            id: format!("fleet-{f}"),
            fleet_type: if f % 2 == 0 {
                FleetType::Spot
            } else {
                FleetType::OnDemand
            },
            instance_type: "c5.large".into(),
            locations: (0..4)
                .map(|l| FleetLocation {
                    location: REGIONS[(f + l * 2) % 8].into(),
                    hourly_cost: 0.02 + 0.01 * ((f * 7 + l * 3) % 10) as f64,
                    instances: 1_000,
                    sessions_per_instance: 2,
                    max_players: 10,
                    status: LocationStatus::Active,
                    spot_viable: true,
                })
                .collect(),
        })
        .collect()
}

fn queue(name: &str, allowed: Option<Vec<String>>) -> Queue {
    Queue {
        name: name.into(),
        destinations: (0..10).map(|f| format!("fleet-{f}")).collect(),
        timeout: 600.0,
        latency_policies: vec![
            LatencyPolicy {
                max_latency_ms: 100.0,
                duration: Some(30.0),
            },
            LatencyPolicy {
                max_latency_ms: 250.0,
                duration: None,
            },
        ],
        priority_order: PriorityType::DEFAULT_ORDER,
        location_order: Vec::new(),
        allowed_locations: allowed,
        options: QueueOptions::default(),
    }
}

/// Requests of ten players, each reporting all eight regions.
fn requests(
    prefix: &str,
    count: usize,
    queue: &str,
    rng: &mut ChaCha8Rng,
) -> Vec<PlacementRequest> {
    (0..count)
        .map(|i| {
            let mut request = PlacementRequest::new(format!("{prefix}{i}"), queue, 10);
            let home = rng.random_range(0..8);
            for p in 0..10 {
                let latencies: Vec<(&str, f64)> = REGIONS
                    .iter()
                    .enumerate()
                    .map(|(r, region)| {
                        let distance = if r == home {
                            0.0
                        } else {
                            60.0 + 20.0 * r as f64
                        };
                        (*region, distance + rng.random_range(10.0..35.0))
                    })
                    .collect();
                request = request.with_player(&format!("{prefix}{i}p{p}"), &latencies);
            }
            request
        })
        .collect()
}

/// A placer; with `backlog`, that many requests wait on a full location they alone may use.
fn placer(backlog: usize) -> Placer {
    let mut fleets = fleets();
    // fleet-0's first location (us-east-1) holds nothing: the backlog waits for it.
    fleets[0].locations[0].instances = 0;
    let mut placer = Placer::new(fleets, 1).unwrap();
    placer.add_queue(queue("main", None)).unwrap();
    let mut stuck = queue("stuck", Some(vec!["us-east-1".into()]));
    stuck.destinations = vec!["fleet-0".into()];
    placer.add_queue(stuck).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for request in requests("w", backlog.min(1), "stuck", &mut rng)
        .into_iter()
        .cycle()
        .take(backlog)
        .enumerate()
        .map(|(i, mut r)| {
            r.placement_id = format!("w{i}");
            r
        })
    {
        placer.start(request, 0.0).unwrap();
    }
    assert_eq!(placer.pending(), backlog);
    placer
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("placement");
    group.throughput(Throughput::Elements(DECISIONS as u64));
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let batch = requests("p", DECISIONS, "main", &mut rng);
    for backlog in [0, BACKLOG] {
        group.bench_function(format!("decide/10x4/pending={backlog}"), |b| {
            b.iter_batched(
                || (placer(backlog), batch.clone()),
                |(mut placer, batch)| {
                    for request in batch {
                        placer.start(request, 1.0).unwrap();
                    }
                    placer
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
