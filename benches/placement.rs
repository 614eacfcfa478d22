//! Placement decisions per second (issue 4's target: at least 1,000,000 on one core, with
//! 10 destinations × 4 locations and 10 players per request), and the same decisions with
//! 100,000 requests pending, which must not make them slower. Its baseline is a placer that
//! knows as many placements, all fulfilled: a placer indexes every placement by id, and a
//! larger index costs cache misses whether or not anything waits.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rally_placement::Placer;
use rally_placement::model::{
    Fleet, FleetLocation, FleetType, LatencyPolicy, LocationId, LocationStatus, PlacementRequest,
    PriorityType, Queue, QueueOptions,
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
const EARLIER: usize = 100_000;

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

/// Requests of ten players, each reporting all eight regions, numbered by `placer`.
fn requests(
    placer: &Placer,
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
                let latencies: Vec<(LocationId, f64)> = REGIONS
                    .iter()
                    .enumerate()
                    .map(|(r, region)| {
                        let distance = if r == home {
                            0.0
                        } else {
                            60.0 + 20.0 * r as f64
                        };
                        let id = placer.locations().id(region).expect("a fleet is there");
                        (id, distance + rng.random_range(10.0..35.0))
                    })
                    .collect();
                request = request.with_player(&format!("{prefix}{i}p{p}"), &latencies);
            }
            request
        })
        .collect()
}

/// What a placer has seen before the measured decisions.
#[derive(Clone, Copy)]
enum Before {
    Nothing,
    /// That many requests wait on a full location only they may use.
    Pending(usize),
    /// That many requests were fulfilled, on a fleet the measured decisions do not use: as
    /// many placements to know of as `Pending`, none waiting.
    Placed(usize),
}

fn placer(before: Before) -> Placer {
    let mut fleets = fleets();
    // fleet-0's first location (us-east-1) holds nothing: a backlog waits for it.
    fleets[0].locations[0].instances = 0;
    let (pending, placed) = match before {
        Before::Nothing => (0, 0),
        Before::Pending(n) => (n, 0),
        Before::Placed(n) => (0, n),
    };
    let mut archive = fleets[1].clone();
    archive.id = "archive".into();
    archive.locations.truncate(1);
    archive.locations[0].instances = placed as u32;
    archive.locations[0].sessions_per_instance = 1;
    fleets.push(archive);
    let mut placer = Placer::new(fleets, 1).unwrap();
    placer.add_queue(queue("main", None)).unwrap();
    let mut stuck = queue("stuck", Some(vec!["us-east-1".into()]));
    stuck.destinations = vec!["fleet-0".into()];
    placer.add_queue(stuck).unwrap();
    let mut archived = queue("archived", None);
    archived.destinations = vec!["archive".into()];
    archived.latency_policies.clear();
    placer.add_queue(archived).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let earlier = requests(&placer, "w", 1, "", &mut rng).remove(0);
    for i in 0..pending + placed {
        let mut request = earlier.clone();
        request.placement_id = format!("w{i}");
        request.queue = if i < pending { "stuck" } else { "archived" }.into();
        placer.start(request, 0.0).unwrap();
    }
    assert_eq!(placer.pending(), pending);
    assert_eq!(placer.placements().len(), pending + placed);
    placer
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("placement");
    group.throughput(Throughput::Elements(DECISIONS as u64));
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    // Every placer numbers the locations alike: they all start from the same fleets.
    let batch = requests(&placer(Before::Nothing), "p", DECISIONS, "main", &mut rng);
    let cases = [
        ("decide/10x4", Before::Nothing),
        ("decide/10x4/pending=100000", Before::Pending(EARLIER)),
        ("decide/10x4/placed=100000", Before::Placed(EARLIER)),
    ];
    for (name, before) in cases {
        group.bench_function(name, |b| {
            b.iter_batched(
                || (placer(before), batch.clone()),
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
