//! Properties over random fleets, queues and request streams: the placer never
//! over-allocates, never places where the latency policy in force forbids, and always takes
//! the best-ranked candidate with room (checked against a plain re-implementation of the
//! ranking written here). A request that is not placed stays PENDING until exactly its
//! queue's timeout and then times out, unless the queue fails unplaceable requests and the
//! oracle finds no location that could ever host it; every one that ends unplaced says what
//! ruled out each of its candidates. When a location's capacity changes, no request is left
//! waiting while a candidate it may use has room, and the room goes to the oldest that can use
//! it; ended placements are forgotten exactly when their retention has passed.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use rally_placement::model::{
    Fleet, FleetLocation, FleetType, LatencyPolicy, LocationStatus, PlacementRequest,
    PlacementStatus, PriorityType, Queue, QueueOptions, Unplaceable,
};
use rally_placement::{EventKind, Placer, Reason, Retention};

const REGIONS: [&str; 4] = ["ap-south-1", "eu-west-1", "us-east-1", "us-west-2"];

#[derive(Clone, Debug)]
struct Setup {
    fleets: Vec<Fleet>,
    queue: Queue,
    /// Per request: start time, players' latencies per region (None = not reported).
    requests: Vec<(f64, Vec<[Option<f64>; 4]>)>,
    /// Releases interleaved: after request i, end the session of request j (if any).
    releases: Vec<(usize, usize)>,
}

fn fleet_strategy(id: usize) -> impl Strategy<Value = Fleet> {
    (
        any::<bool>(),
        proptest::sample::subsequence(REGIONS.to_vec(), 1..=4),
        proptest::collection::vec((1u32..40, 0u32..3, any::<bool>(), 0u8..10, 0u8..8), 4),
    )
        .prop_map(move |(spot, regions, params)| Fleet {
            id: format!("f{id}"),
            fleet_type: if spot {
                FleetType::Spot
            } else {
                FleetType::OnDemand
            },
            instance_type: "c5.large".into(),
            locations: regions
                .iter()
                .zip(params)
                .map(
                    |(region, (cost, instances, viable, status, small))| FleetLocation {
                        location: region.to_string(),
                        // Costs from a small set, so that ties happen.
                        hourly_cost: f64::from(cost % 4) / 100.0,
                        instances,
                        sessions_per_instance: 1,
                        // Now and then too small for the requests' 10 players.
                        max_players: if small == 0 { 8 } else { 10 },
                        status: if status == 0 {
                            LocationStatus::Activating
                        } else {
                            LocationStatus::Active
                        },
                        spot_viable: viable || status > 2,
                    },
                )
                .collect(),
        })
}

fn setup_strategy() -> impl Strategy<Value = Setup> {
    (
        (1usize..4).prop_flat_map(|n| (0..n).map(fleet_strategy).collect::<Vec<_>>()),
        Just(PriorityType::DEFAULT_ORDER.to_vec()).prop_shuffle(),
        1usize..4,
        proptest::option::of(proptest::sample::subsequence(REGIONS.to_vec(), 1..=4)),
        proptest::collection::vec((40u32..200, proptest::option::of(1u32..20)), 0..3),
        proptest::collection::vec(
            (
                0u32..3,
                proptest::collection::vec(
                    proptest::array::uniform4(proptest::option::weighted(0.9, 10u32..250)),
                    0..4,
                ),
            ),
            1..40,
        ),
        proptest::collection::vec((0usize..40, 0usize..40), 0..10),
        any::<bool>(),
    )
        .prop_map(
            |(fleets, order, take, allowed, policies, requests, releases, fail)| {
                let destinations = fleets.iter().map(|f| f.id.clone()).collect();
                let mut time = 0.0;
                let requests = requests
                    .into_iter()
                    .map(|(gap, players)| {
                        time += f64::from(gap);
                        (
                            time,
                            players
                                .into_iter()
                                .map(|p| p.map(|ms| ms.map(f64::from)))
                                .collect(),
                        )
                    })
                    .collect();
                let order: Vec<PriorityType> = order.into_iter().take(take).collect();
                Setup {
                    queue: Queue {
                        name: "q".into(),
                        destinations,
                        timeout: 30.0,
                        latency_policies: policies
                            .into_iter()
                            .map(|(max, duration)| LatencyPolicy {
                                max_latency_ms: f64::from(max),
                                duration: duration.map(f64::from),
                            })
                            .collect(),
                        priority_order: PriorityType::complete(&order),
                        location_order: vec!["us-west-2".into(), "eu-west-1".into()],
                        allowed_locations: allowed
                            .map(|a| a.into_iter().map(String::from).collect()),
                        options: QueueOptions {
                            unplaceable: if fail {
                                Unplaceable::Fail
                            } else {
                                Unplaceable::Wait
                            },
                            ..QueueOptions::default()
                        },
                    },
                    fleets,
                    requests,
                    releases,
                }
            },
        )
}

fn request(placer: &Placer, i: usize, players: &[[Option<f64>; 4]]) -> PlacementRequest {
    let mut request = PlacementRequest::new(format!("p{i}"), "q", 10);
    for (p, latencies) in players.iter().enumerate() {
        let reported: Vec<(&str, f64)> = REGIONS
            .iter()
            .zip(latencies)
            .filter_map(|(region, ms)| ms.map(|ms| (*region, ms)))
            .collect();
        // As `rally place` reads it: a player who reports only locations no fleet has is
        // still a player, missing a latency everywhere.
        let player = format!("player{p}");
        if !reported.is_empty() {
            request.player_index(&player);
        }
        request = request.with_player(&player, &placer.locations().resolve(&reported));
    }
    request
}

/// The ranking, re-implemented plainly: every usable (destination, location) with room at
/// `elapsed`, with its keys in the queue's priority order.
fn oracle_keys(
    setup: &Setup,
    players: &[[Option<f64>; 4]],
    elapsed: f64,
    used: &HashMap<(String, String), u64>,
) -> Vec<((String, String), Vec<f64>)> {
    let queue = &setup.queue;
    let cap = queue.latency_cap(elapsed);
    // A player who reports no latency at all is not in the request's `PlayerLatencies`.
    let players: Vec<&[Option<f64>; 4]> = players
        .iter()
        .filter(|p| p.iter().any(Option::is_some))
        .collect();
    let mut out = Vec::new();
    for (d, fleet) in setup.fleets.iter().enumerate() {
        for location in &fleet.locations {
            let name = location.location.clone();
            if let Some(allowed) = &queue.allowed_locations
                && !allowed.contains(&name)
            {
                continue;
            }
            if location.max_players < 10
                || location.status != LocationStatus::Active
                || (fleet.fleet_type == FleetType::Spot && !location.spot_viable)
            {
                continue;
            }
            let in_use = used
                .get(&(fleet.id.clone(), name.clone()))
                .copied()
                .unwrap_or(0);
            if in_use >= location.capacity() {
                continue;
            }
            let region = REGIONS.iter().position(|r| *r == name).unwrap();
            let latencies: Option<Vec<f64>> = players.iter().map(|p| p[region]).collect();
            let latency = if players.is_empty() {
                0.0
            } else {
                let Some(latencies) = latencies else { continue };
                if cap.is_some_and(|cap| latencies.iter().any(|l| *l > cap)) {
                    continue;
                }
                latencies.iter().sum::<f64>() / latencies.len() as f64
            };
            let location_rank = match queue.location_order.iter().position(|l| *l == name) {
                Some(i) => i as f64,
                None => {
                    let mut names: Vec<&str> = setup
                        .fleets
                        .iter()
                        .flat_map(|f| f.locations.iter().map(|l| l.location.as_str()))
                        .collect();
                    names.sort();
                    names.dedup();
                    (queue.location_order.len() + names.iter().position(|n| *n == name).unwrap())
                        as f64
                }
            };
            let keys = queue
                .priority_order
                .iter()
                .map(|p| match p {
                    PriorityType::Latency => latency,
                    PriorityType::Cost => location.hourly_cost,
                    PriorityType::Destination => d as f64,
                    PriorityType::Location => location_rank,
                })
                .collect();
            out.push(((fleet.id.clone(), name), keys));
        }
    }
    out
}

/// The loosest cap in force at any moment before the timeout, worked out from the policies
/// (by cap ascending, each for its duration); `None` if at some moment no cap applies.
fn loosest_cap(queue: &Queue) -> Option<f64> {
    let mut policies = queue.latency_policies.clone();
    policies.sort_by(|a, b| a.max_latency_ms.total_cmp(&b.max_latency_ms));
    let (mut begins, mut loosest) = (0.0, 0.0_f64);
    for policy in policies {
        if begins >= queue.timeout {
            return Some(loosest);
        }
        loosest = loosest.max(policy.max_latency_ms);
        match policy.duration {
            None => return Some(loosest),
            Some(duration) => begins += duration,
        }
    }
    (begins >= queue.timeout).then_some(loosest)
}

/// Whether no location of the queue could ever host the request, whatever capacity, status
/// and time: each is filtered out, too small, or missing a player's latency or over the
/// loosest cap for one.
fn never_placeable(setup: &Setup, players: &[[Option<f64>; 4]]) -> bool {
    let queue = &setup.queue;
    let cap = loosest_cap(queue);
    let players: Vec<&[Option<f64>; 4]> = players
        .iter()
        .filter(|p| p.iter().any(Option::is_some))
        .collect();
    !setup.fleets.iter().any(|fleet| {
        fleet.locations.iter().any(|location| {
            let name = &location.location;
            let region = REGIONS.iter().position(|r| r == name).unwrap();
            let allowed = queue
                .allowed_locations
                .as_ref()
                .is_none_or(|allowed| allowed.contains(name));
            let latencies_fit = players
                .iter()
                .all(|p| p[region].is_some_and(|ms| cap.is_none_or(|cap| ms <= cap)));
            allowed && location.max_players >= 10 && latencies_fit
        })
    })
}

/// Fleet locations the queue's destinations cover: every fleet is a destination, once.
fn candidates(setup: &Setup) -> u32 {
    setup.fleets.iter().map(|f| f.locations.len() as u32).sum()
}

fn lexicographic(a: &[f64], b: &[f64]) -> std::cmp::Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.total_cmp(y))
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn placements_respect_capacity_policy_and_ranking(setup in setup_strategy()) {
        let mut placer = Placer::new(setup.fleets.clone(), 1).unwrap();
        placer.add_queue(setup.queue.clone()).unwrap();
        let mut used: HashMap<(String, String), u64> = HashMap::new();
        let capacity: HashMap<(String, String), u64> = setup
            .fleets
            .iter()
            .flat_map(|f| f.locations.iter().map(|l| ((f.id.clone(), l.location.clone()), l.capacity())))
            .collect();
        for (i, (time, players)) in setup.requests.iter().enumerate() {
            placer.advance(*time);
            // Sessions placed while time advanced.
            for event in placer.take_events() {
                check_event(&placer, &setup, &event, &mut used, &capacity)?;
            }
            let before = used.clone();
            let key = placer.start(request(&placer, i, players), *time).unwrap();
            let placement = placer.placement(key);
            let fails = setup.queue.options.unplaceable == Unplaceable::Fail
                && never_placeable(&setup, players);
            prop_assert_eq!(
                placement.status == PlacementStatus::Failed,
                fails,
                "FAILED at once exactly when the queue fails what no location can ever host"
            );
            let expected = oracle_keys(&setup, players, 0.0, &before);
            let best = expected.iter().min_by(|a, b| lexicographic(&a.1, &b.1));
            match (&placement.session, best) {
                (Some(session), Some(best)) => {
                    let chosen = expected
                        .iter()
                        .find(|(at, _)| *at == (session.fleet_id.to_string(), session.location.to_string()));
                    prop_assert!(chosen.is_some(), "placed where the oracle sees no room or a filter forbids");
                    prop_assert_eq!(&chosen.unwrap().1, &best.1, "not the best-ranked candidate");
                }
                (None, Some(best)) => prop_assert!(false, "left waiting though {:?} had room", best.0),
                (None, None) if fails => {}
                (None, None) => prop_assert_eq!(placement.status, PlacementStatus::Pending),
                (Some(session), None) => prop_assert!(false, "placed at {} though nothing was usable", session.location),
            }
            for event in placer.take_events() {
                check_event(&placer, &setup, &event, &mut used, &capacity)?;
            }
            for (after, target) in &setup.releases {
                if *after == i && let Some(k) = placer.key_of(&format!("p{target}"))
                    && placer.placement(k).session.as_ref().is_some_and(|s| !s.ended)
                {
                    let s = placer.placement(k).session.clone().unwrap();
                    placer.release(&format!("p{target}"), *time).unwrap();
                    *used.get_mut(&(s.fleet_id.to_string(), s.location.to_string())).unwrap() -= 1;
                    for event in placer.take_events() {
                        check_event(&placer, &setup, &event, &mut used, &capacity)?;
                    }
                }
            }
        }
        placer.advance(f64::INFINITY);
        for event in placer.take_events() {
            check_event(&placer, &setup, &event, &mut used, &capacity)?;
        }
        prop_assert_eq!(placer.pending(), 0);
        for placement in placer.placements() {
            prop_assert_eq!(
                placement.reason.is_none(),
                placement.status == PlacementStatus::Fulfilled,
                "exactly the placements that end unplaced say why"
            );
        }
    }
}

/// A fulfilled event: the location had room, before the timeout, and every player was under
/// the cap in force. A timed-out one: exactly at the timeout, with every candidate ruled out.
/// A failed one: at the start, with every candidate ruled out for good.
fn check_event(
    placer: &Placer,
    setup: &Setup,
    event: &rally_placement::PlacementEvent,
    used: &mut HashMap<(String, String), u64>,
    capacity: &HashMap<(String, String), u64>,
) -> Result<(), TestCaseError> {
    let placement = placer.placement(event.placement);
    let timeout = placement.start_time + setup.queue.timeout;
    let ruled_out =
        |reason: &Reason| -> u32 { reason.excluded().iter().map(|e| e.candidates).sum() };
    match event.kind {
        EventKind::Fulfilled => {
            prop_assert!(event.time < timeout, "placed at or after the timeout")
        }
        EventKind::TimedOut => {
            prop_assert_eq!(event.time, timeout);
            let reason = placement.reason.as_ref().unwrap();
            prop_assert!(matches!(reason, Reason::TimedOut(_)));
            prop_assert_eq!(ruled_out(reason), candidates(setup), "{}", reason);
            return Ok(());
        }
        EventKind::Failed => {
            prop_assert_eq!(event.time, placement.start_time);
            let reason = placement.reason.as_ref().unwrap();
            prop_assert!(matches!(reason, Reason::NeverPlaceable(_)));
            prop_assert_eq!(ruled_out(reason), candidates(setup), "{}", reason);
            return Ok(());
        }
        EventKind::Cancelled => return Ok(()),
    }
    let session = placement.session.as_ref().unwrap();
    let at = (session.fleet_id.to_string(), session.location.to_string());
    let count = used.entry(at.clone()).or_default();
    *count += 1;
    prop_assert!(*count <= capacity[&at], "over-allocated {:?}", at);
    let cap = setup
        .queue
        .latency_schedule()
        .cap_at(placement.start_time, event.time);
    if let Some(cap) = cap {
        for latency in &placement.request.player_latencies {
            if **placer.locations().name(latency.location) == *session.location {
                prop_assert!(latency.latency_ms <= cap, "placed over the cap in force");
            }
        }
    }
    Ok(())
}

/// Where the request of `players` could go at `now` if it started at `start`, by the oracle,
/// given the sessions in `used`.
fn usable_with(
    setup: &Setup,
    players: &[[Option<f64>; 4]],
    start: f64,
    now: f64,
    used: &HashMap<(String, String), u64>,
) -> Vec<(String, String)> {
    oracle_keys(setup, players, now - start, used)
        .into_iter()
        .map(|(at, _)| at)
        .collect()
}

/// The request index of placement `p<i>`.
fn index_of(id: &str) -> usize {
    id[1..].parse().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn capacity_changes_place_the_oldest_that_can_use_the_room_and_retention_forgets_on_time(
        setup in setup_strategy(),
        changes in proptest::collection::vec((0usize..40, 0usize..3, 0usize..4, 0u32..4), 0..12),
        retention in proptest::option::of(0u32..40),
    ) {
        let mut setup = setup;
        let mut placer = Placer::new(setup.fleets.clone(), 1).unwrap();
        placer.add_queue(setup.queue.clone()).unwrap();
        if let Some(keep) = retention {
            placer.set_retention(Retention::For(f64::from(keep))).unwrap();
        }
        let mut used: HashMap<(String, String), u64> = HashMap::new();
        let mut capacity: HashMap<(String, String), u64> = setup
            .fleets
            .iter()
            .flat_map(|f| f.locations.iter().map(|l| ((f.id.clone(), l.location.clone()), l.capacity())))
            .collect();
        // By id: when it ended, and whether its session still runs.
        let mut ended: HashMap<String, f64> = HashMap::new();
        let mut running: HashSet<String> = HashSet::new();
        let requests = setup.requests.clone();
        for (i, (time, players)) in requests.iter().enumerate() {
            let time = *time;
            placer.start(request(&placer, i, players), time).unwrap();
            for event in placer.take_events() {
                check_event(&placer, &setup, &event, &mut used, &capacity)?;
                note_end(&placer, &event, &mut ended, &mut running);
            }
            for (after, target) in &setup.releases {
                let id = format!("p{target}");
                if *after == i && running.contains(&id) {
                    let s = placer.describe(&id).unwrap().session.clone().unwrap();
                    placer.release(&id, time).unwrap();
                    running.remove(&id);
                    *used.get_mut(&(s.fleet_id.to_string(), s.location.to_string())).unwrap() -= 1;
                    for event in placer.take_events() {
                        check_event(&placer, &setup, &event, &mut used, &capacity)?;
                        note_end(&placer, &event, &mut ended, &mut running);
                    }
                }
            }
            for (after, f, l, instances) in &changes {
                if *after != i || *f >= setup.fleets.len() || *l >= setup.fleets[*f].locations.len() {
                    continue;
                }
                let at = (setup.fleets[*f].id.clone(), setup.fleets[*f].locations[*l].location.clone());
                let waiting: Vec<String> = placer
                    .placements()
                    .iter()
                    .filter(|p| p.status == PlacementStatus::Pending)
                    .map(|p| p.request.placement_id.clone())
                    .collect();
                placer.set_instances(&at.0, &at.1, *instances, time).unwrap();
                setup.fleets[*f].locations[*l].instances = *instances;
                capacity.insert(at.clone(), setup.fleets[*f].locations[*l].capacity());
                let mut placed_now = Vec::new();
                for event in placer.take_events() {
                    check_event(&placer, &setup, &event, &mut used, &capacity)?;
                    note_end(&placer, &event, &mut ended, &mut running);
                    if event.kind == EventKind::Fulfilled {
                        let placement = placer.placement(event.placement);
                        let session = placement.session.as_ref().unwrap();
                        placed_now.push((
                            placement.request.placement_id.clone(),
                            (session.fleet_id.to_string(), session.location.to_string()),
                        ));
                    }
                }
                // Oldest first: one still waiting, older than one just placed, could not use
                // the place the younger took, whatever its room.
                for older in &waiting {
                    let placement = placer.describe(older).unwrap();
                    if placement.status != PlacementStatus::Pending {
                        continue;
                    }
                    let usable = usable_with(
                        &setup, &setup.requests[index_of(older)].1, placement.start_time, time, &HashMap::new(),
                    );
                    for (younger, at) in &placed_now {
                        if index_of(younger) > index_of(older) {
                            prop_assert!(!usable.contains(at), "{} took {:?} before the older {}", younger, at, older);
                        }
                    }
                }
            }
            // No request waits while a candidate it may use has room.
            for placement in placer.placements() {
                if placement.status == PlacementStatus::Pending {
                    let id = &placement.request.placement_id;
                    let usable = usable_with(
                        &setup, &setup.requests[index_of(id)].1, placement.start_time, time, &used,
                    );
                    prop_assert!(usable.is_empty(), "{} waits though {:?} has room", id, usable);
                }
            }
            // Held exactly while not yet due to be forgotten.
            placer.advance(time);
            prop_assert!(placer.take_events().is_empty());
            for j in 0..=i {
                let id = format!("p{j}");
                let due = match (retention, ended.get(&id)) {
                    (Some(keep), Some(end)) => !running.contains(&id) && end + f64::from(keep) <= time,
                    _ => false,
                };
                prop_assert_eq!(placer.key_of(&id).is_none(), due, "{} held {}", id, !due);
            }
            prop_assert_eq!(placer.retained(), (0..=i).filter(|j| placer.key_of(&format!("p{j}")).is_some()).count());
        }
    }
}

/// Records a final event: when the placement ended, and whether its session runs.
fn note_end(
    placer: &Placer,
    event: &rally_placement::PlacementEvent,
    ended: &mut HashMap<String, f64>,
    running: &mut HashSet<String>,
) {
    let id = placer
        .placement(event.placement)
        .request
        .placement_id
        .clone();
    ended.insert(id.clone(), event.time);
    if event.kind == EventKind::Fulfilled {
        running.insert(id);
    }
}
