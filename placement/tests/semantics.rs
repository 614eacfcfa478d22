//! GameLift's documented placement rules, each with an expectation worked out by hand, and
//! rally's opt-in extensions.

use rally_placement::error::ErrorKind;
use rally_placement::model::{
    CostBasis, FallbackStrategy, Fleet, FleetLocation, FleetType, LatencyPolicy, LatencyRanking,
    LocationId, LocationStatus, MissingLatency, PlacementRequest, PlacementStatus, PlayerLatency,
    PriorityOverride, PriorityType, Queue, QueueOptions, Spread, Unplaceable,
};
use rally_placement::reason::Exclusion;
use rally_placement::{EventKind, PlacementError, Placer, Reason, Retention};

fn location(name: &str, cost: f64, sessions: u32) -> FleetLocation {
    FleetLocation {
        location: name.into(),
        hourly_cost: cost,
        instances: sessions,
        sessions_per_instance: 1,
        max_players: 10,
        status: LocationStatus::Active,
        spot_viable: true,
    }
}

fn fleet(id: &str, fleet_type: FleetType, locations: Vec<FleetLocation>) -> Fleet {
    Fleet {
        id: id.into(),
        fleet_type,
        instance_type: "c5.large".into(),
        locations,
    }
}

fn queue(name: &str, destinations: &[&str]) -> Queue {
    Queue {
        name: name.into(),
        destinations: destinations.iter().map(|d| d.to_string()).collect(),
        timeout: 60.0,
        latency_policies: Vec::new(),
        priority_order: PriorityType::DEFAULT_ORDER,
        location_order: Vec::new(),
        allowed_locations: None,
        options: QueueOptions::default(),
    }
}

/// Two fleets over three regions:
/// - `spot`: us-east-1 at 0.02/h, eu-west-1 at 0.03/h;
/// - `demand`: us-east-1 at 0.10/h, eu-west-1 at 0.12/h, ap-south-1 at 0.09/h.
fn two_fleets() -> Vec<Fleet> {
    vec![
        fleet(
            "spot",
            FleetType::Spot,
            vec![
                location("us-east-1", 0.02, 2),
                location("eu-west-1", 0.03, 2),
            ],
        ),
        fleet(
            "demand",
            FleetType::OnDemand,
            vec![
                location("us-east-1", 0.10, 2),
                location("eu-west-1", 0.12, 2),
                location("ap-south-1", 0.09, 2),
            ],
        ),
    ]
}

fn placer_with(queue: Queue) -> Placer {
    let mut placer = Placer::new(two_fleets(), 7).unwrap();
    placer.add_queue(queue).unwrap();
    placer
}

/// Where a placement went: `(fleet, location)`, or its status when it did not.
fn placed(placer: &Placer, id: &str) -> Result<(String, String), PlacementStatus> {
    let placement = placer.placement(placer.key_of(id).unwrap());
    match &placement.session {
        Some(s) => Ok((s.fleet_id.to_string(), s.location.to_string())),
        None => Err(placement.status),
    }
}

fn at(fleet: &str, location: &str) -> Result<(String, String), PlacementStatus> {
    Ok((fleet.into(), location.into()))
}

/// A request from two players, `a` and `b`, with their latencies per location.
fn request(
    placer: &Placer,
    id: &str,
    queue: &str,
    a: &[(&str, f64)],
    b: &[(&str, f64)],
) -> PlacementRequest {
    let locations = placer.locations();
    PlacementRequest::new(id, queue, 10)
        .with_player("a", &locations.resolve(a))
        .with_player("b", &locations.resolve(b))
}

#[test]
fn latency_first_by_average_then_the_cheapest_fleet_there() {
    let mut placer = placer_with(queue("q", &["demand", "spot"]));
    // Averages: us-east-1 (30+90)/2 = 60, eu-west-1 (80+50)/2 = 65, ap-south-1 100.
    let r = request(
        &placer,
        "p1",
        "q",
        &[
            ("us-east-1", 30.0),
            ("eu-west-1", 80.0),
            ("ap-south-1", 100.0),
        ],
        &[
            ("us-east-1", 90.0),
            ("eu-west-1", 50.0),
            ("ap-south-1", 100.0),
        ],
    );
    placer.start(r, 0.0).unwrap();
    // us-east-1 has the lowest average; there, spot (0.02) beats demand (0.10) although
    // demand is the first destination.
    assert_eq!(placed(&placer, "p1"), at("spot", "us-east-1"));
    let session = placer
        .placement(placer.key_of("p1").unwrap())
        .session
        .clone()
        .unwrap();
    assert_eq!(session.average_latency, Some(60.0));
    assert_eq!(session.hourly_cost, 0.02);
}

#[test]
fn without_latency_data_cost_then_destination_then_location_alphabetically() {
    // Default order with no latencies: every location ties on LATENCY, so COST decides:
    // spot us-east-1 at 0.02.
    let mut placer = placer_with(queue("q", &["demand", "spot"]));
    placer
        .start(PlacementRequest::new("p1", "q", 10), 0.0)
        .unwrap();
    assert_eq!(placed(&placer, "p1"), at("spot", "us-east-1"));

    // DESTINATION first: the first destination, then (COST next) its cheapest location.
    let mut q = queue("d", &["demand", "spot"]);
    q.priority_order = PriorityType::complete(&[PriorityType::Destination]);
    let mut placer = placer_with(q);
    placer
        .start(PlacementRequest::new("p1", "d", 10), 0.0)
        .unwrap();
    assert_eq!(placed(&placer, "p1"), at("demand", "ap-south-1"));

    // DESTINATION then LOCATION: the first destination's alphabetically first location.
    let mut q = queue("dl", &["demand", "spot"]);
    q.priority_order = PriorityType::complete(&[PriorityType::Destination, PriorityType::Location]);
    let mut placer = placer_with(q);
    placer
        .start(PlacementRequest::new("p1", "dl", 10), 0.0)
        .unwrap();
    assert_eq!(placed(&placer, "p1"), at("demand", "ap-south-1"));
    placer
        .start(PlacementRequest::new("p2", "dl", 10), 0.0)
        .unwrap();
    placer
        .start(PlacementRequest::new("p3", "dl", 10), 0.0)
        .unwrap();
    // ap-south-1 holds 2; then eu-west-1 (alphabetically before us-east-1).
    assert_eq!(placed(&placer, "p3"), at("demand", "eu-west-1"));
}

#[test]
fn location_order_ranks_listed_locations_first_then_the_rest_alphabetically() {
    let mut q = queue("l", &["spot", "demand"]);
    q.priority_order = PriorityType::complete(&[PriorityType::Location]);
    q.location_order = vec!["eu-west-1".into()];
    let mut placer = placer_with(q);
    placer
        .start(PlacementRequest::new("p1", "l", 10), 0.0)
        .unwrap();
    // eu-west-1 first; there COST picks spot (0.03 < 0.12).
    assert_eq!(placed(&placer, "p1"), at("spot", "eu-west-1"));
    for id in ["p2", "p3", "p4", "p5"] {
        placer
            .start(PlacementRequest::new(id, "l", 10), 0.0)
            .unwrap();
    }
    // eu-west-1 is full after four (2 spot + 2 demand); unlisted locations come
    // alphabetically: ap-south-1 before us-east-1.
    assert_eq!(placed(&placer, "p4"), at("demand", "eu-west-1"));
    assert_eq!(placed(&placer, "p5"), at("demand", "ap-south-1"));
}

#[test]
fn filters_allowed_locations_inactive_locations_non_viable_spot_and_small_sessions() {
    let mut fleets = two_fleets();
    fleets[0].locations[0].spot_viable = false; // spot us-east-1
    fleets[1].locations[0].status = LocationStatus::Activating; // demand us-east-1
    fleets[1].locations[2].max_players = 4; // demand ap-south-1
    let mut placer = Placer::new(fleets, 1).unwrap();
    let mut q = queue("q", &["spot", "demand"]);
    q.allowed_locations = Some(vec![
        "us-east-1".into(),
        "ap-south-1".into(),
        "eu-west-1".into(),
    ]);
    placer.add_queue(q).unwrap();
    let mut only_east = queue("east", &["spot", "demand"]);
    only_east.allowed_locations = Some(vec!["us-east-1".into()]);
    placer.add_queue(only_east).unwrap();

    // us-east-1 is out on both fleets (non-viable spot, activating demand); ap-south-1 holds
    // 4 players, fewer than the 10 asked for: eu-west-1, cheapest there is spot.
    placer
        .start(PlacementRequest::new("p1", "q", 10), 0.0)
        .unwrap();
    assert_eq!(placed(&placer, "p1"), at("spot", "eu-west-1"));
    placer
        .start(PlacementRequest::new("p2", "q", 4), 0.0)
        .unwrap();
    // Four players fit ap-south-1 (0.09), still dearer than spot eu-west-1 (0.03).
    assert_eq!(placed(&placer, "p2"), at("spot", "eu-west-1"));
    placer
        .start(PlacementRequest::new("p3", "q", 4), 0.0)
        .unwrap();
    assert_eq!(placed(&placer, "p3"), at("demand", "ap-south-1"));

    // The east-only queue has nothing usable now: PENDING until the location activates.
    placer
        .start(PlacementRequest::new("p4", "east", 10), 1.0)
        .unwrap();
    assert_eq!(placed(&placer, "p4"), Err(PlacementStatus::Pending));
    placer
        .set_status("demand", "us-east-1", LocationStatus::Active, 2.0)
        .unwrap();
    assert_eq!(placed(&placer, "p4"), at("demand", "us-east-1"));
    // A viable spot location wins again on cost.
    placer
        .set_spot_viable("spot", "us-east-1", true, 3.0)
        .unwrap();
    placer
        .start(PlacementRequest::new("p5", "east", 10), 3.0)
        .unwrap();
    assert_eq!(placed(&placer, "p5"), at("spot", "us-east-1"));
}

#[test]
fn latency_policies_filter_by_each_player_and_relax_over_time() {
    let mut q = queue("q", &["spot", "demand"]);
    q.timeout = 100.0;
    q.latency_policies = vec![
        LatencyPolicy {
            max_latency_ms: 150.0,
            duration: None,
        },
        LatencyPolicy {
            max_latency_ms: 60.0,
            duration: Some(10.0),
        },
        LatencyPolicy {
            max_latency_ms: 100.0,
            duration: Some(20.0),
        },
    ];
    let mut placer = placer_with(q);
    // Average at us-east-1 is 45 (best), but player b has 80 there: over the 60 ms cap for
    // the first 10 s. eu-west-1 has worst 70, ap-south-1 worst 120.
    let r = request(
        &placer,
        "p1",
        "q",
        &[
            ("us-east-1", 10.0),
            ("eu-west-1", 70.0),
            ("ap-south-1", 120.0),
        ],
        &[
            ("us-east-1", 80.0),
            ("eu-west-1", 65.0),
            ("ap-south-1", 110.0),
        ],
    );
    placer.start(r, 0.0).unwrap();
    assert_eq!(placed(&placer, "p1"), Err(PlacementStatus::Pending));
    assert_eq!(placer.next_wake(), Some(10.0), "woken when the cap relaxes");
    placer.advance(9.9);
    assert_eq!(placed(&placer, "p1"), Err(PlacementStatus::Pending));
    // At 10 s the cap is 100 ms: us-east-1 (average 45) is allowed and best.
    placer.advance(10.0);
    assert_eq!(placed(&placer, "p1"), at("spot", "us-east-1"));
    let events = placer.take_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::Fulfilled);
    assert_eq!(events[0].time, 10.0);
}

#[test]
fn a_missing_latency_excludes_the_location_unless_the_queue_assumes_one() {
    let r = |placer: &Placer, id: &str, queue: &str| {
        request(
            placer,
            id,
            queue,
            &[("us-east-1", 20.0), ("eu-west-1", 90.0)],
            // b reports nothing for us-east-1.
            &[("eu-west-1", 40.0)],
        )
    };
    let mut placer = placer_with(queue("q", &["spot", "demand"]));
    let mut assume = queue("assume", &["spot", "demand"]);
    assume.options.missing_latency = MissingLatency::Assume(50.0);
    placer.add_queue(assume).unwrap();
    placer.start(r(&placer, "p1", "q"), 0.0).unwrap();
    assert_eq!(placed(&placer, "p1"), at("spot", "eu-west-1"));
    // Assumed 50: us-east-1 averages 35, better than eu-west-1's 65.
    placer.start(r(&placer, "p2", "assume"), 0.0).unwrap();
    assert_eq!(placed(&placer, "p2"), at("spot", "us-east-1"));
}

#[test]
fn no_capacity_keeps_a_request_pending_until_a_session_ends_oldest_first() {
    let mut q = queue("q", &["spot"]);
    q.allowed_locations = Some(vec!["us-east-1".into()]);
    let mut placer = placer_with(q);
    for (i, id) in ["p1", "p2", "p3", "p4"].into_iter().enumerate() {
        placer
            .start(PlacementRequest::new(id, "q", 10), i as f64)
            .unwrap();
    }
    // Two sessions fit spot us-east-1.
    assert_eq!(placed(&placer, "p2"), at("spot", "us-east-1"));
    assert_eq!(placed(&placer, "p3"), Err(PlacementStatus::Pending));
    assert_eq!(placer.usage("spot", "us-east-1"), Some((2, 2)));
    placer.release("p1", 5.0).unwrap();
    // The oldest waiting request takes the freed session; the younger still waits.
    assert_eq!(placed(&placer, "p3"), at("spot", "us-east-1"));
    assert_eq!(placed(&placer, "p4"), Err(PlacementStatus::Pending));
    assert!(placer.release("p1", 6.0).is_err(), "a session ends once");
    // More instances serve the rest.
    placer.set_instances("spot", "us-east-1", 3, 7.0).unwrap();
    assert_eq!(placed(&placer, "p4"), at("spot", "us-east-1"));
    assert_eq!(placer.usage("spot", "us-east-1"), Some((3, 3)));
}

#[test]
fn shrinking_a_location_never_over_allocates() {
    let mut q = queue("q", &["spot"]);
    q.allowed_locations = Some(vec!["us-east-1".into()]);
    let mut placer = placer_with(q);
    placer
        .start(PlacementRequest::new("p1", "q", 10), 0.0)
        .unwrap();
    placer
        .start(PlacementRequest::new("p2", "q", 10), 0.0)
        .unwrap();
    placer.set_instances("spot", "us-east-1", 1, 1.0).unwrap();
    placer
        .start(PlacementRequest::new("p3", "q", 10), 1.0)
        .unwrap();
    placer.release("p1", 2.0).unwrap();
    // One session in use of one: still no room for p3.
    assert_eq!(placer.usage("spot", "us-east-1"), Some((1, 1)));
    assert_eq!(placed(&placer, "p3"), Err(PlacementStatus::Pending));
    placer.release("p2", 3.0).unwrap();
    assert_eq!(placed(&placer, "p3"), at("spot", "us-east-1"));
}

#[test]
fn timeout_and_cancel_end_pending_requests_with_their_events() {
    let mut q = queue("q", &["spot"]);
    q.timeout = 30.0;
    q.allowed_locations = Some(vec!["us-east-1".into()]);
    let mut placer = placer_with(q);
    for id in ["p1", "p2", "p3", "p4"] {
        placer
            .start(PlacementRequest::new(id, "q", 10), 0.0)
            .unwrap();
    }
    placer.take_events();
    placer.stop("p3", 5.0).unwrap();
    assert_eq!(placed(&placer, "p3"), Err(PlacementStatus::Cancelled));
    assert!(
        placer.stop("p1", 5.0).is_err(),
        "a fulfilled placement cannot be stopped"
    );
    placer.advance(29.0);
    assert_eq!(placed(&placer, "p4"), Err(PlacementStatus::Pending));
    placer.advance(1000.0);
    assert_eq!(placed(&placer, "p4"), Err(PlacementStatus::TimedOut));
    let events = placer.take_events();
    let kinds: Vec<(EventKind, f64)> = events.iter().map(|e| (e.kind, e.time)).collect();
    assert_eq!(
        kinds,
        [(EventKind::Cancelled, 5.0), (EventKind::TimedOut, 30.0)]
    );
    assert_eq!(placer.pending(), 0);
    let reason = |id: &str| {
        let placement = placer.placement(placer.key_of(id).unwrap());
        placement.reason.as_ref().map(ToString::to_string)
    };
    assert_eq!(reason("p1"), None, "a fulfilled placement has no reason");
    assert_eq!(
        reason("p3").as_deref(),
        Some("cancelled by `StopGameSessionPlacement`")
    );
    assert_eq!(
        reason("p4").as_deref(),
        Some(
            "no fleet location could host it before the timeout: \
             1 filtered out by `AllowedLocations` (`spot` in `eu-west-1`); \
             1 full (`spot` in `us-east-1`)"
        )
    );
    // A released session no longer goes to the timed-out or cancelled requests.
    placer.release("p1", 1001.0).unwrap();
    assert_eq!(placer.usage("spot", "us-east-1"), Some((1, 2)));
}

#[test]
fn location_override_with_and_without_fallback() {
    let mut q = queue("o", &["spot", "demand"]);
    q.priority_order = PriorityType::complete(&[PriorityType::Location]);
    q.location_order = vec!["us-east-1".into(), "eu-west-1".into(), "ap-south-1".into()];
    let mut placer = placer_with(q);
    let with = |id: &str, order: &[&str], fallback| {
        let mut r = PlacementRequest::new(id, "o", 10);
        r.priority_override = Some(PriorityOverride {
            location_order: order.iter().map(|l| l.to_string()).collect(),
            fallback,
        });
        r
    };
    placer
        .start(with("p1", &["ap-south-1"], FallbackStrategy::None), 0.0)
        .unwrap();
    assert_eq!(placed(&placer, "p1"), at("demand", "ap-south-1"));
    placer
        .start(with("p2", &["ap-south-1"], FallbackStrategy::None), 0.0)
        .unwrap();
    // ap-south-1 is now full and NONE allows nothing else.
    placer
        .start(with("p3", &["ap-south-1"], FallbackStrategy::None), 0.0)
        .unwrap();
    assert_eq!(placed(&placer, "p3"), Err(PlacementStatus::Pending));
    // With the default fallback, the queue's own order follows: us-east-1, cheapest spot.
    placer
        .start(
            with(
                "p4",
                &["ap-south-1"],
                FallbackStrategy::DefaultAfterSinglePass,
            ),
            0.0,
        )
        .unwrap();
    assert_eq!(placed(&placer, "p4"), at("spot", "us-east-1"));

    // An override needs a LOCATION-first queue and no latencies.
    let mut r = with("p5", &["ap-south-1"], FallbackStrategy::None);
    let reported = request(&placer, "x", "o", &[("us-east-1", 1.0)], &[]);
    (r.players, r.player_latencies) = (reported.players, reported.player_latencies);
    let error = placer.start(r, 0.0).unwrap_err();
    assert_eq!(error.field, "PriorityConfigurationOverride");
    placer.add_queue(queue("plain", &["spot"])).unwrap();
    let mut r = with("p6", &["ap-south-1"], FallbackStrategy::None);
    r.queue = "plain".into();
    assert!(placer.start(r, 0.0).is_err());
    assert!(
        placer.key_of("p6").is_none(),
        "a refused request leaves nothing behind"
    );
}

#[test]
fn bad_requests_say_which_field_and_change_nothing() {
    let mut placer = placer_with(queue("q", &["spot"]));
    placer
        .start(PlacementRequest::new("p1", "q", 10), 0.0)
        .unwrap();
    let cases = [
        (
            PlacementRequest::new("p1", "q", 10),
            "PlacementId",
            "already exists",
        ),
        (
            PlacementRequest::new("bad id!", "q", 10),
            "PlacementId",
            "`bad id!`",
        ),
        (
            PlacementRequest::new("p2", "nope", 10),
            "GameSessionQueueName",
            "`nope`",
        ),
        (
            PlacementRequest::new("p3", "q", 500),
            "MaximumPlayerSessionCount",
            "`500`",
        ),
        (
            PlacementRequest::new("p4", "q", 10).with_player("a", &[(LocationId(0), -3.0)]),
            "PlayerLatencies[0].LatencyInMilliseconds",
            "`-3`",
        ),
        (
            PlacementRequest {
                player_latencies: vec![PlayerLatency {
                    player: 1,
                    location: LocationId(0),
                    latency_ms: 10.0,
                }],
                players: vec!["a".into()],
                ..PlacementRequest::new("p5", "q", 10)
            },
            "PlayerLatencies[0].PlayerId",
            "below 1, found `1`",
        ),
        (
            PlacementRequest::new("p6", "q", 10).with_player("a", &[(LocationId(3), 10.0)]),
            "PlayerLatencies[0].RegionIdentifier",
            "below 3, found `3`",
        ),
    ];
    for (request, field, says) in cases {
        let error = placer.start(request, 1.0).unwrap_err();
        assert_eq!(error.field, field);
        assert!(error.message.contains(says), "{error}");
    }
    assert_eq!(placer.placements().len(), 1);
    assert_eq!(placer.usage("spot", "us-east-1"), Some((1, 2)));
}

#[test]
fn rally_rankings_worst_player_and_percentile() {
    // a: us-east-1 10, eu-west-1 50; b: us-east-1 100, eu-west-1 55.
    // Average: us-east-1 55 > eu-west-1 52.5 → eu. Worst: 100 vs 55 → eu.
    // p50 (nearest rank of two players = the lower): 10 vs 50 → us-east-1.
    let r = |placer: &Placer, id: &str, q: &str| {
        request(
            placer,
            id,
            q,
            &[("us-east-1", 10.0), ("eu-west-1", 50.0)],
            &[("us-east-1", 100.0), ("eu-west-1", 55.0)],
        )
    };
    let mut placer = placer_with(queue("avg", &["spot"]));
    let mut worst = queue("worst", &["spot"]);
    worst.options.latency_ranking = LatencyRanking::Worst;
    let mut median = queue("median", &["spot"]);
    median.options.latency_ranking = LatencyRanking::Percentile(50.0);
    placer.add_queue(worst).unwrap();
    placer.add_queue(median).unwrap();
    placer.start(r(&placer, "p1", "avg"), 0.0).unwrap();
    placer.start(r(&placer, "p2", "worst"), 0.0).unwrap();
    placer.start(r(&placer, "p3", "median"), 0.0).unwrap();
    assert_eq!(placed(&placer, "p1"), at("spot", "eu-west-1"));
    assert_eq!(placed(&placer, "p2"), at("spot", "eu-west-1"));
    assert_eq!(placed(&placer, "p3"), at("spot", "us-east-1"));
}

#[test]
fn rally_cost_per_game_session_and_latency_tolerance() {
    let mut fleets = two_fleets();
    // demand us-east-1 packs 8 sessions per instance: 0.10 / 8 = 0.0125 per session,
    // cheaper per game than spot's 0.02.
    fleets[1].locations[0].sessions_per_instance = 8;
    let mut placer = Placer::new(fleets, 3).unwrap();
    let mut per_session = queue("session", &["spot", "demand"]);
    per_session.options.cost_basis = CostBasis::GameSession;
    per_session.priority_order = PriorityType::complete(&[PriorityType::Cost]);
    placer.add_queue(per_session).unwrap();
    placer
        .start(PlacementRequest::new("p1", "session", 10), 0.0)
        .unwrap();
    assert_eq!(placed(&placer, "p1"), at("demand", "us-east-1"));

    // Tolerance: eu-west-1 averages 40, us-east-1 50. Plain latency-first takes eu-west-1;
    // with 15 ms tolerance both count as 40 and COST picks spot us-east-1 (0.02 < 0.03).
    let r = |placer: &Placer, id: &str, q: &str| {
        request(
            placer,
            id,
            q,
            &[("us-east-1", 50.0), ("eu-west-1", 40.0)],
            &[("us-east-1", 50.0), ("eu-west-1", 40.0)],
        )
    };
    placer.add_queue(queue("plain", &["spot"])).unwrap();
    let mut tolerant = queue("tolerant", &["spot"]);
    tolerant.options.latency_tolerance_ms = 15.0;
    placer.add_queue(tolerant).unwrap();
    placer.start(r(&placer, "p2", "plain"), 0.0).unwrap();
    placer.start(r(&placer, "p3", "tolerant"), 0.0).unwrap();
    assert_eq!(placed(&placer, "p2"), at("spot", "eu-west-1"));
    assert_eq!(placed(&placer, "p3"), at("spot", "us-east-1"));
}

#[test]
fn rally_weighted_spread_shares_equal_candidates_by_free_room() {
    // Two identical on-demand fleets in one location; GameLift would always take the first
    // destination. Spreading shares them, and the same seed gives the same choices.
    let twin = |id: &str| {
        let mut l = location("us-east-1", 0.1, 100);
        l.sessions_per_instance = 1;
        fleet(id, FleetType::OnDemand, vec![l])
    };
    let run = |spread: Spread, seed: u64| {
        let mut placer = Placer::new(vec![twin("a"), twin("b")], seed).unwrap();
        let mut q = queue("q", &["a", "b"]);
        q.options.spread = spread;
        placer.add_queue(q).unwrap();
        for i in 0..100 {
            placer
                .start(PlacementRequest::new(format!("p{i}"), "q", 10), 0.0)
                .unwrap();
        }
        (
            placer.usage("a", "us-east-1").unwrap().0,
            placer.usage("b", "us-east-1").unwrap().0,
        )
    };
    assert_eq!(run(Spread::None, 1), (100, 0));
    let (a, b) = run(Spread::Weighted, 1);
    assert_eq!(a + b, 100);
    assert!((30..=70).contains(&a), "{a} and {b}");
    assert_eq!(run(Spread::Weighted, 1), (a, b), "same seed, same spread");
}

#[test]
fn a_cap_relaxing_at_an_inexact_time_is_seen_when_the_request_wakes() {
    // 6.4 + 10.0 - 6.4 rounds below 10.0: the wake-up and the cap must agree on when the
    // first policy ends, or the request would be woken at the same moment forever.
    let mut q = queue("q", &["spot"]);
    q.latency_policies = vec![
        LatencyPolicy {
            max_latency_ms: 60.0,
            duration: Some(10.0),
        },
        LatencyPolicy {
            max_latency_ms: 100.0,
            duration: None,
        },
    ];
    let mut placer = placer_with(q);
    let r = request(
        &placer,
        "p1",
        "q",
        &[("us-east-1", 80.0)],
        &[("us-east-1", 20.0)],
    );
    placer.start(r, 6.4).unwrap();
    assert_eq!(placed(&placer, "p1"), Err(PlacementStatus::Pending));
    placer.advance(100.0);
    assert_eq!(placed(&placer, "p1"), at("spot", "us-east-1"));
    assert_eq!(placer.take_events()[0].time, 6.4 + 10.0);
}

fn policy(max_latency_ms: f64, duration: Option<f64>) -> LatencyPolicy {
    LatencyPolicy {
        max_latency_ms,
        duration,
    }
}

/// Asserts that placement `id`, started at `start` on a queue with a 60 s timeout, stays
/// PENDING while time passes and ends TIMED_OUT exactly at the timeout, with its event;
/// returns its reason, as text.
fn times_out_at_the_timeout(placer: &mut Placer, id: &str, start: f64) -> String {
    placer.take_events();
    assert_eq!(placed(placer, id), Err(PlacementStatus::Pending));
    placer.advance(start + 59.9);
    assert_eq!(placed(placer, id), Err(PlacementStatus::Pending));
    assert_eq!(placer.next_wake(), Some(start + 60.0));
    placer.advance(start + 1000.0);
    assert_eq!(placed(placer, id), Err(PlacementStatus::TimedOut));
    let events: Vec<(EventKind, f64)> = placer
        .take_events()
        .iter()
        .map(|e| (e.kind, e.time))
        .collect();
    assert_eq!(events, [(EventKind::TimedOut, start + 60.0)]);
    let placement = placer.placement(placer.key_of(id).unwrap());
    assert_eq!(placement.end_time, Some(start + 60.0));
    let reason = placement
        .reason
        .as_ref()
        .expect("a timed-out placement says why");
    assert!(matches!(reason, Reason::TimedOut(_)), "{reason:?}");
    reason.to_string()
}

/// Asserts that placement `id`, started at `start`, FAILED then, with its event; returns its
/// reason, as text.
fn failed_at_once(placer: &mut Placer, id: &str, start: f64) -> String {
    assert_eq!(placed(placer, id), Err(PlacementStatus::Failed));
    let events: Vec<(EventKind, f64)> = placer
        .take_events()
        .iter()
        .map(|e| (e.kind, e.time))
        .collect();
    assert_eq!(events, [(EventKind::Failed, start)]);
    assert_eq!(placer.pending(), 0);
    let placement = placer.placement(placer.key_of(id).unwrap());
    let reason = placement
        .reason
        .as_ref()
        .expect("a failed placement says why");
    assert!(matches!(reason, Reason::NeverPlaceable(_)), "{reason:?}");
    reason.to_string()
}

/// Case (a): player `a` is over even the loosest cap (100 ms) in both of spot's locations.
/// Starts `p1` at 5 s.
fn over_the_loosest_cap(unplaceable: Unplaceable) -> Placer {
    let mut q = queue("q", &["spot"]);
    q.latency_policies = vec![policy(50.0, Some(10.0)), policy(100.0, None)];
    q.options.unplaceable = unplaceable;
    let mut placer = placer_with(q);
    let r = request(
        &placer,
        "p1",
        "q",
        &[("us-east-1", 150.0), ("eu-west-1", 120.0)],
        &[("us-east-1", 20.0), ("eu-west-1", 30.0)],
    );
    placer.start(r, 5.0).unwrap();
    placer
}

/// Case (b): 80 ms fits the 100 ms cap that starts at 60 s, the moment the request times out.
/// Starts `p1` at 0 s.
fn under_a_cap_starting_at_the_timeout(unplaceable: Unplaceable) -> Placer {
    let mut q = queue("q", &["spot"]);
    q.latency_policies = vec![policy(50.0, Some(60.0)), policy(100.0, None)];
    q.options.unplaceable = unplaceable;
    let mut placer = placer_with(q);
    let r = request(
        &placer,
        "p1",
        "q",
        &[("us-east-1", 80.0)],
        &[("us-east-1", 20.0)],
    );
    placer.start(r, 0.0).unwrap();
    placer
}

/// Case (c): an override with fallback NONE whose only location the queue filters out.
/// Starts `p1` at 2 s.
fn overriding_to_a_filtered_location(unplaceable: Unplaceable) -> Placer {
    let mut q = queue("o", &["spot", "demand"]);
    q.priority_order = PriorityType::complete(&[PriorityType::Location]);
    q.location_order = vec!["us-east-1".into(), "eu-west-1".into(), "ap-south-1".into()];
    q.allowed_locations = Some(vec!["us-east-1".into(), "eu-west-1".into()]);
    q.options.unplaceable = unplaceable;
    let mut placer = placer_with(q);
    let mut r = PlacementRequest::new("p1", "o", 10);
    r.priority_override = Some(PriorityOverride {
        location_order: vec!["ap-south-1".into()],
        fallback: FallbackStrategy::None,
    });
    placer.start(r, 2.0).unwrap();
    placer
}

/// Case (d): 12 players, and every location's sessions hold 10. Starts `p1` at 0 s.
fn more_players_than_any_session_holds(unplaceable: Unplaceable) -> Placer {
    let mut q = queue("q", &["spot", "demand"]);
    q.options.unplaceable = unplaceable;
    let mut placer = placer_with(q);
    placer
        .start(PlacementRequest::new("p1", "q", 12), 0.0)
        .unwrap();
    placer
}

const OVER_THE_LOOSEST_CAP: &str = "2 over the 100 ms latency cap \
    (nearest: player `a` at 120 ms to `spot` in `eu-west-1`)";
// The cap of the last decision (50 ms), not the one that would start at the timeout.
const UNDER_A_CAP_STARTING_AT_THE_TIMEOUT: &str = "1 without a latency from every player \
    (none from player `a` for `spot` in `eu-west-1`); \
    1 over the 50 ms latency cap (nearest: player `a` at 80 ms to `spot` in `us-east-1`)";
const OVERRIDING_TO_A_FILTERED_LOCATION: &str = "1 filtered out by `AllowedLocations` \
    (`demand` in `ap-south-1`); 4 not in the override's `LocationOrder` (e.g. `spot` in `us-east-1`)";
const MORE_PLAYERS_THAN_ANY_SESSION_HOLDS: &str =
    "5 too small for 12 players (e.g. `spot` in `us-east-1` holds 10)";

fn timed_out_because(why: &str) -> String {
    format!("no fleet location could host it before the timeout: {why}")
}

#[test]
fn a_player_over_the_loosest_cap_waits_until_the_timeout() {
    let mut placer = over_the_loosest_cap(Unplaceable::Wait);
    assert_eq!(
        placer.next_wake(),
        Some(15.0),
        "retried when the cap relaxes"
    );
    let reason = times_out_at_the_timeout(&mut placer, "p1", 5.0);
    assert_eq!(reason, timed_out_because(OVER_THE_LOOSEST_CAP));
}

#[test]
fn a_cap_that_relaxes_exactly_at_the_timeout_never_applies() {
    let mut placer = under_a_cap_starting_at_the_timeout(Unplaceable::Wait);
    let reason = times_out_at_the_timeout(&mut placer, "p1", 0.0);
    assert_eq!(placer.usage("spot", "us-east-1"), Some((0, 2)));
    assert_eq!(
        reason,
        timed_out_because(UNDER_A_CAP_STARTING_AT_THE_TIMEOUT)
    );
}

#[test]
fn an_override_whose_only_location_is_filtered_out_waits_until_the_timeout() {
    let mut placer = overriding_to_a_filtered_location(Unplaceable::Wait);
    let reason = times_out_at_the_timeout(&mut placer, "p1", 2.0);
    assert_eq!(reason, timed_out_because(OVERRIDING_TO_A_FILTERED_LOCATION));
}

#[test]
fn more_players_than_any_location_holds_waits_until_the_timeout() {
    let mut placer = more_players_than_any_session_holds(Unplaceable::Wait);
    let reason = times_out_at_the_timeout(&mut placer, "p1", 0.0);
    assert_eq!(
        reason,
        timed_out_because(MORE_PLAYERS_THAN_ANY_SESSION_HOLDS)
    );
}

#[test]
fn rally_unplaceable_fail_fails_at_once_what_no_location_can_ever_host() {
    let cases = [
        (
            over_the_loosest_cap(Unplaceable::Fail),
            5.0,
            OVER_THE_LOOSEST_CAP,
        ),
        (
            under_a_cap_starting_at_the_timeout(Unplaceable::Fail),
            0.0,
            UNDER_A_CAP_STARTING_AT_THE_TIMEOUT,
        ),
        (
            overriding_to_a_filtered_location(Unplaceable::Fail),
            2.0,
            OVERRIDING_TO_A_FILTERED_LOCATION,
        ),
        (
            more_players_than_any_session_holds(Unplaceable::Fail),
            0.0,
            MORE_PLAYERS_THAN_ANY_SESSION_HOLDS,
        ),
    ];
    for (mut placer, start, why) in cases {
        let reason = failed_at_once(&mut placer, "p1", start);
        assert_eq!(reason, format!("no fleet location can ever host it: {why}"));
    }
}

#[test]
fn rally_unplaceable_fail_still_waits_for_capacity_and_status() {
    // Capacity, status and Spot viability change at run time: a request they alone keep out
    // waits even on a queue that fails unplaceable requests.
    let mut fleets = two_fleets();
    fleets[0].locations[0].spot_viable = false; // spot us-east-1
    fleets[1].locations[0].status = LocationStatus::Activating; // demand us-east-1
    let mut placer = Placer::new(fleets, 1).unwrap();
    let mut q = queue("east", &["spot", "demand"]);
    q.allowed_locations = Some(vec!["us-east-1".into()]);
    q.options.unplaceable = Unplaceable::Fail;
    placer.add_queue(q).unwrap();
    placer
        .start(PlacementRequest::new("p1", "east", 10), 0.0)
        .unwrap();
    let reason = times_out_at_the_timeout(&mut placer, "p1", 0.0);
    assert_eq!(
        reason,
        timed_out_because(
            "3 filtered out by `AllowedLocations` (e.g. `spot` in `eu-west-1`); \
             1 not ACTIVE (`demand` in `us-east-1` is ACTIVATING); \
             1 Spot and not viable (`spot` in `us-east-1`)"
        )
    );
}

#[test]
fn a_queue_without_destinations_times_out_or_with_fail_fails() {
    let mut placer = placer_with(queue("empty", &[]));
    let mut failing = queue("failing", &[]);
    failing.options.unplaceable = Unplaceable::Fail;
    placer.add_queue(failing).unwrap();
    placer
        .start(PlacementRequest::new("p1", "failing", 10), 0.0)
        .unwrap();
    let reason = failed_at_once(&mut placer, "p1", 0.0);
    assert_eq!(reason, "its queue has no destinations");
    placer
        .start(PlacementRequest::new("p2", "empty", 10), 0.0)
        .unwrap();
    let reason = times_out_at_the_timeout(&mut placer, "p2", 0.0);
    assert_eq!(reason, "its queue has no destinations");
}

#[test]
fn a_session_freed_exactly_at_the_timeout_goes_to_no_timed_out_request() {
    let mut q = queue("q", &["spot"]);
    q.allowed_locations = Some(vec!["us-east-1".into()]);
    let mut placer = placer_with(q);
    for id in ["p1", "p2", "p3"] {
        placer
            .start(PlacementRequest::new(id, "q", 10), 0.0)
            .unwrap();
    }
    placer.take_events();
    // The caller frees a session at 60 s without advancing first: the timeout still wins.
    placer.release("p1", 60.0).unwrap();
    assert_eq!(placed(&placer, "p3"), Err(PlacementStatus::TimedOut));
    assert_eq!(placer.usage("spot", "us-east-1"), Some((1, 2)));
    let events: Vec<(EventKind, f64)> = placer
        .take_events()
        .iter()
        .map(|e| (e.kind, e.time))
        .collect();
    assert_eq!(events, [(EventKind::TimedOut, 60.0)]);
    let placement = placer.placement(placer.key_of("p3").unwrap());
    let excluded = placement.reason.as_ref().unwrap().excluded();
    assert_eq!(excluded.last().unwrap().exclusion, Exclusion::Full);
    // Nor can a request be stopped once its timeout has come: p4 takes the free session,
    // p5 waits from 61 s to 121 s.
    for id in ["p4", "p5"] {
        placer
            .start(PlacementRequest::new(id, "q", 10), 61.0)
            .unwrap();
    }
    assert_eq!(placed(&placer, "p5"), Err(PlacementStatus::Pending));
    let error = placer.stop("p5", 121.0).unwrap_err();
    assert!(error.message.contains("is TIMED_OUT"), "{error}");
    assert_eq!(placed(&placer, "p5"), Err(PlacementStatus::TimedOut));
}

#[test]
fn two_latencies_for_one_player_and_location_are_refused() {
    let mut placer = placer_with(queue("q", &["spot"]));
    let east = placer.locations().id("us-east-1").unwrap();
    let west = placer.locations().id("eu-west-1").unwrap();
    let r = PlacementRequest::new("p1", "q", 10)
        .with_player("a", &[(east, 20.0), (west, 30.0)])
        .with_player("b", &[(east, 25.0)])
        .with_player("a", &[(east, 90.0)]);
    let error = placer.start(r, 0.0).unwrap_err();
    assert_eq!(error.field, "PlayerLatencies[3]");
    assert_eq!(
        error.message,
        "player `a` reports location `us-east-1` twice, here and at `PlayerLatencies[0]`"
    );
    assert!(placer.key_of("p1").is_none(), "nothing is kept");
    assert_eq!(placer.placements().len(), 0);
    assert_eq!(placer.usage("spot", "us-east-1"), Some((0, 2)));
}

/// The kind of a refusal, and that nothing changed but the time.
fn refused<T: std::fmt::Debug>(result: Result<T, PlacementError>) -> ErrorKind {
    result.unwrap_err().kind()
}

/// A placer whose queue `q` takes only `spot` in us-east-1 (2 sessions), with `p1` and `p2`
/// placed there at 0 and 1, and `p3` and `p4` waiting since 2 and 3.
fn east_full() -> Placer {
    let mut q = queue("q", &["spot"]);
    q.allowed_locations = Some(vec!["us-east-1".into()]);
    let mut placer = placer_with(q);
    for (i, id) in ["p1", "p2", "p3", "p4"].into_iter().enumerate() {
        placer
            .start(PlacementRequest::new(id, "q", 10), i as f64)
            .unwrap();
    }
    assert_eq!(placer.pending(), 2);
    placer.take_events();
    placer
}

fn events(placer: &mut Placer) -> Vec<(EventKind, String, f64)> {
    let events = placer.take_events();
    events
        .iter()
        .map(|e| {
            let id = placer.placement(e.placement).request.placement_id.clone();
            (e.kind, id, e.time)
        })
        .collect()
}

#[test]
fn every_refusal_has_its_kind() {
    use ErrorKind::*;
    let mut twice = two_fleets();
    twice.push(twice[0].clone());
    let error = Placer::new(twice, 1).unwrap_err();
    assert_eq!(
        (error.kind(), error.field.as_str()),
        (AlreadyExists, "[2].FleetId")
    );
    let mut doubled = two_fleets();
    doubled[1].locations[2].location = "us-east-1".into();
    let error = Placer::new(doubled, 1).unwrap_err();
    assert_eq!(
        (error.kind(), error.field.as_str()),
        (InvalidArgument, "[1].Locations[2].Location")
    );

    let mut placer = east_full();
    assert_eq!(
        refused(placer.add_queue(queue("q", &["spot"]))),
        AlreadyExists
    );
    let error = placer.add_queue(queue("r", &["spot", "gone"])).unwrap_err();
    assert_eq!(
        (error.kind(), error.field.as_str()),
        (NotFound, "Destinations[1].DestinationArn")
    );
    let mut by_location = queue("r", &["spot"]);
    by_location.priority_order = PriorityType::complete(&[PriorityType::Location]);
    assert_eq!(refused(placer.add_queue(by_location)), InvalidArgument);

    let start = |placer: &mut Placer, id: &str, queue: &str, players: u32| {
        placer.start(PlacementRequest::new(id, queue, players), 4.0)
    };
    assert_eq!(refused(start(&mut placer, "p5", "nowhere", 10)), NotFound);
    assert_eq!(refused(start(&mut placer, "p 5", "q", 10)), InvalidArgument);
    assert_eq!(refused(start(&mut placer, "p5", "q", 201)), InvalidArgument);
    assert_eq!(refused(start(&mut placer, "p1", "q", 10)), AlreadyExists);

    assert_eq!(refused(placer.stop("p9", 4.0)), NotFound);
    assert_eq!(refused(placer.stop("p1", 4.0)), FailedPrecondition);
    assert_eq!(refused(placer.release("p9", 4.0)), NotFound);
    assert_eq!(refused(placer.release("p3", 4.0)), FailedPrecondition);
    assert_eq!(refused(placer.describe("p9")), NotFound);

    assert_eq!(
        refused(placer.set_instances("gone", "us-east-1", 3, 4.0)),
        NotFound
    );
    let error = placer
        .set_instances("spot", "ap-south-1", 3, 4.0)
        .unwrap_err();
    assert_eq!((error.kind(), error.field.as_str()), (NotFound, "Location"));
    let stranger = fleet("gone", FleetType::OnDemand, vec![location("x-1", 0.1, 1)]);
    assert_eq!(refused(placer.update_fleet(stranger, 4.0)), NotFound);
    let mut costly = two_fleets().remove(0);
    costly.locations[1].hourly_cost = -1.0;
    let error = placer.update_fleet(costly, 4.0).unwrap_err();
    assert_eq!(
        (error.kind(), error.field.as_str()),
        (InvalidArgument, "Locations[1].HourlyCost")
    );
    assert_eq!(
        refused(placer.add_fleet(two_fleets().remove(0), 4.0)),
        AlreadyExists
    );
    assert_eq!(refused(placer.delete_fleet("gone", 4.0)), NotFound);
    assert_eq!(
        refused(placer.delete_fleet("spot", 4.0)),
        FailedPrecondition
    );
    assert_eq!(refused(placer.update_queue(queue("r", &[]), 4.0)), NotFound);
    assert_eq!(
        refused(placer.update_queue(queue("q", &["gone"]), 4.0)),
        NotFound
    );
    assert_eq!(refused(placer.delete_queue("r", 4.0)), NotFound);
    assert_eq!(
        refused(placer.set_retention(Retention::For(-1.0))),
        InvalidArgument
    );

    // Nothing changed: the same two placed, the same two waiting.
    assert_eq!(placer.usage("spot", "us-east-1"), Some((2, 2)));
    assert_eq!(placer.pending(), 2);
    assert_eq!(placer.retained(), 4);
    assert_eq!(placer.queue("q").unwrap().destinations, ["spot"]);
    assert!(placer.take_events().is_empty());
}

#[test]
fn a_capacity_increase_places_the_oldest_waiting_and_a_decrease_evicts_nobody() {
    let mut placer = east_full();
    placer.set_instances("spot", "us-east-1", 3, 5.0).unwrap();
    assert_eq!(
        events(&mut placer),
        [(EventKind::Fulfilled, "p3".into(), 5.0)]
    );
    assert_eq!(placed(&placer, "p4"), Err(PlacementStatus::Pending));
    // Down to 1: three sessions keep running; the one freed at 7 leaves 2 for 1 of room.
    placer.set_instances("spot", "us-east-1", 1, 6.0).unwrap();
    assert_eq!(placer.usage("spot", "us-east-1"), Some((3, 1)));
    placer.release("p1", 7.0).unwrap();
    assert_eq!(placer.usage("spot", "us-east-1"), Some((2, 1)));
    assert_eq!(placed(&placer, "p4"), Err(PlacementStatus::Pending));
    assert!(placer.take_events().is_empty());
    // Back to 3: p4 takes the room.
    placer.set_instances("spot", "us-east-1", 3, 8.0).unwrap();
    assert_eq!(
        events(&mut placer),
        [(EventKind::Fulfilled, "p4".into(), 8.0)]
    );
}

#[test]
fn a_fleet_update_gives_new_room_to_the_waiting_and_keeps_running_sessions() {
    let mut placer = east_full();
    // spot gains 1 session in us-east-1 and a location the queue does not allow.
    let mut spot = two_fleets().remove(0);
    spot.locations[0].instances = 3;
    spot.locations.push(location("ap-south-1", 0.01, 5));
    placer.update_fleet(spot.clone(), 5.0).unwrap();
    assert_eq!(
        events(&mut placer),
        [(EventKind::Fulfilled, "p3".into(), 5.0)]
    );
    assert_eq!(placer.usage("spot", "us-east-1"), Some((3, 3)));
    assert_eq!(placer.usage("spot", "ap-south-1"), Some((0, 5)));
    // us-east-1 cannot go while it hosts sessions; the refusal changes nothing.
    let mut without_east = spot.clone();
    without_east.locations.remove(0);
    let error = placer.update_fleet(without_east.clone(), 6.0).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::FailedPrecondition);
    assert_eq!(
        error.message,
        "fleet `spot` hosts 3 game sessions in `us-east-1`; a location can go once its \
         sessions have ended"
    );
    assert_eq!(placer.usage("spot", "us-east-1"), Some((3, 3)));
    for id in ["p1", "p2", "p3"] {
        placer.release(id, 7.0).unwrap();
    }
    // p4 took the first session freed; once it has ended, us-east-1 can go, and p5 can
    // then never be placed: it waits until its timeout, with nothing left to wait on.
    assert_eq!(
        events(&mut placer),
        [(EventKind::Fulfilled, "p4".into(), 7.0)]
    );
    placer.release("p4", 8.0).unwrap();
    placer.update_fleet(without_east, 8.0).unwrap();
    assert_eq!(placer.usage("spot", "us-east-1"), None);
    placer
        .start(PlacementRequest::new("p5", "q", 10), 9.0)
        .unwrap();
    let reason = times_out_at_the_timeout(&mut placer, "p5", 9.0);
    assert_eq!(
        reason,
        timed_out_because("2 filtered out by `AllowedLocations` (e.g. `spot` in `eu-west-1`)")
    );
}

#[test]
fn a_fleet_can_be_deleted_once_no_queue_lists_it_and_it_hosts_nothing() {
    let mut placer = east_full();
    placer.update_queue(queue("q", &["demand"]), 4.0).unwrap();
    // p3 and p4 follow the new queue: demand, cheapest first (ap-south-1 at 0.09).
    assert_eq!(
        events(&mut placer),
        [
            (EventKind::Fulfilled, "p3".into(), 4.0),
            (EventKind::Fulfilled, "p4".into(), 4.0)
        ]
    );
    assert_eq!(placed(&placer, "p3"), at("demand", "ap-south-1"));
    let error = placer.delete_fleet("spot", 5.0).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::FailedPrecondition);
    assert_eq!(error.message, "fleet `spot` hosts 2 game sessions");
    placer.release("p1", 6.0).unwrap();
    placer.release("p2", 6.0).unwrap();
    placer.delete_fleet("spot", 7.0).unwrap();
    assert_eq!(placer.fleets().len(), 1);
    assert_eq!(placer.usage("spot", "us-east-1"), None);
    // The fleet after it still works, and its id can be used again.
    assert_eq!(placer.usage("demand", "ap-south-1"), Some((2, 2)));
    placer.release("p3", 8.0).unwrap();
    assert_eq!(placer.usage("demand", "ap-south-1"), Some((1, 2)));
    placer.add_fleet(two_fleets().remove(0), 9.0).unwrap();
    assert_eq!(placer.usage("spot", "us-east-1"), Some((0, 2)));
}

#[test]
fn a_queue_update_applies_to_its_waiting_requests_from_now() {
    let mut placer = east_full();
    // A 5 s timeout: p3 (started at 2) and p4 (at 3) are past it at 10, and time out then.
    let mut short = queue("q", &["spot"]);
    short.allowed_locations = Some(vec!["us-east-1".into()]);
    short.timeout = 5.0;
    placer.update_queue(short, 10.0).unwrap();
    assert_eq!(
        events(&mut placer),
        [
            (EventKind::TimedOut, "p3".into(), 10.0),
            (EventKind::TimedOut, "p4".into(), 10.0)
        ]
    );
    let placement = placer.describe("p3").unwrap();
    assert_eq!(placement.end_time, Some(10.0));
    assert!(matches!(placement.reason, Some(Reason::TimedOut(_))));
    // One started now waits its 5 s.
    placer
        .start(PlacementRequest::new("p5", "q", 10), 11.0)
        .unwrap();
    assert_eq!(placer.next_wake(), Some(16.0));
}

#[test]
fn deleting_a_queue_fails_its_waiting_requests_oldest_first() {
    let mut placer = east_full();
    placer.add_queue(queue("other", &["demand"])).unwrap();
    placer.delete_queue("q", 7.0).unwrap();
    assert_eq!(
        events(&mut placer),
        [
            (EventKind::Failed, "p3".into(), 7.0),
            (EventKind::Failed, "p4".into(), 7.0)
        ]
    );
    assert_eq!(
        placer.describe("p4").unwrap().reason,
        Some(Reason::QueueDeleted)
    );
    assert_eq!(placer.pending(), 0);
    assert_eq!(placer.next_wake(), None);
    let error = placer
        .start(PlacementRequest::new("p5", "q", 10), 8.0)
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert_eq!(error.message, "no queue `q`; the queues are `other`");
    // Placed sessions run on; the name can be used again, by a queue that works.
    assert_eq!(placer.usage("spot", "us-east-1"), Some((2, 2)));
    placer.add_queue(queue("q", &["demand"])).unwrap();
    placer
        .start(PlacementRequest::new("p5", "q", 10), 9.0)
        .unwrap();
    assert_eq!(placed(&placer, "p5"), at("demand", "ap-south-1"));
    assert_eq!(placer.queue("other").unwrap().destinations, ["demand"]);
}

#[test]
fn an_ended_placement_is_kept_for_its_retention_then_forgotten() {
    let mut placer = east_full();
    placer.set_retention(Retention::For(30.0)).unwrap();
    placer.stop("p3", 4.0).unwrap();
    let cancelled = placer.key_of("p3").unwrap();
    placer.take_events();
    let error = placer
        .start(PlacementRequest::new("p3", "q", 10), 20.0)
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AlreadyExists);
    assert_eq!(placer.next_wake(), Some(34.0));
    placer.advance(33.9);
    assert_eq!(
        placer.describe("p3").unwrap().status,
        PlacementStatus::Cancelled
    );
    placer.advance(34.0);
    assert_eq!(refused(placer.describe("p3")), ErrorKind::NotFound);
    assert_eq!(placer.get(cancelled), None);
    assert_eq!(refused(placer.stop("p3", 34.0)), ErrorKind::NotFound);
    // p4 times out at 63; until its event is taken it is kept, whatever the time.
    placer.advance(200.0);
    assert_eq!(
        placer.describe("p4").unwrap().status,
        PlacementStatus::TimedOut
    );
    placer.take_events();
    placer.advance(200.0);
    assert_eq!(refused(placer.describe("p4")), ErrorKind::NotFound);
    // p1 and p2 hold running sessions and are kept while they run; a new request may take
    // the forgotten id `p3`, and is a new placement.
    assert_eq!(placer.retained(), 2);
    placer
        .start(PlacementRequest::new("p3", "q", 10), 201.0)
        .unwrap();
    assert_eq!(placer.describe("p3").unwrap().start_time, 201.0);
    assert_ne!(placer.key_of("p3"), Some(cancelled));
    // p1's session ends at 210 (p3 takes it); p1 ended at 0, so it goes at once.
    placer.release("p1", 210.0).unwrap();
    assert_eq!(placed(&placer, "p3"), at("spot", "us-east-1"));
    placer.advance(210.0);
    assert_eq!(refused(placer.describe("p1")), ErrorKind::NotFound);
    let ids: Vec<&str> = placer
        .placements()
        .iter()
        .map(|p| p.request.placement_id.as_str())
        .collect();
    assert_eq!(ids, ["p2", "p3"]);
}
