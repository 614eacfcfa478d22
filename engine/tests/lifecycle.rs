//! The ticket lifecycle end to end in the engine, in virtual time: STANDALONE and WITH_QUEUE
//! matches, acceptance, cancellation, timeouts, placement timing out, duplicate players,
//! backfill, retention, batches running off the engine, determinism.

mod support;

use rally_base::ErrorKind;
use rally_engine::events::{Acceptance, Event, MatchmakingEventType as T};
use rally_engine::{AcceptMatch, AcceptanceType, Configuration, TicketStatus};

use support::Harness;

#[test]
fn a_standalone_match_completes_with_teams_and_locations() {
    let mut h = Harness::new();
    assert_eq!(
        h.start(0.0, "standalone", "a", 1000.0).status,
        TicketStatus::Queued
    );
    h.start(0.01, "standalone", "b", 1050.0);
    h.batch(0.1);
    let a = h.view(0.1, "a");
    assert_eq!(a.status, TicketStatus::Completed);
    assert_eq!(a.end_time, Some(0.1));
    let connection = a.connection.expect("connection info");
    assert_eq!(connection.locations, vec!["us-east-1".to_string()]);
    assert_eq!(connection.game_session_arn, None);
    let b = h.view(0.1, "b");
    assert_ne!(a.players[0].team, b.players[0].team);
    assert!(
        a.players[0]
            .team
            .as_deref()
            .unwrap()
            .starts_with("duelist_")
    );
    assert_eq!(
        h.types_for("a"),
        [
            "MatchmakingSearching",
            "PotentialMatchCreated",
            "MatchmakingSucceeded"
        ]
    );
    let created = &h.of_type(T::PotentialMatchCreated)[0];
    assert_eq!(created.acceptance_required, Some(false));
    let rules: Vec<&str> = created
        .rule_evaluation_metrics
        .iter()
        .map(|m| m.rule_name.as_str())
        .collect();
    assert_eq!(rules, ["SkillGap", "FairPing"]);
}

#[test]
fn tickets_too_far_apart_keep_searching_and_say_why() {
    let mut h = Harness::new();
    h.start(0.0, "standalone", "a", 1000.0);
    h.start(0.0, "standalone", "b", 1500.0);
    h.batch(0.1);
    assert_eq!(h.status(0.1, "a"), TicketStatus::Searching);
    let views = h
        .engine
        .describe_matchmaking(0.2, &["a".into()], true)
        .unwrap();
    assert!(!views[0].waiting_reasons.is_empty());
    let plain = h
        .engine
        .describe_matchmaking(0.2, &["a".into()], false)
        .unwrap();
    assert!(
        plain[0].waiting_reasons.is_empty(),
        "explanations only on request"
    );
}

#[test]
fn a_queued_match_is_placed_and_completes_with_connection_info() {
    let mut h = Harness::new();
    h.start(0.0, "queued", "a", 1000.0);
    h.start(0.0, "queued", "b", 1010.0);
    h.batch(0.1);
    let a = h.view(0.1, "a");
    assert_eq!(a.status, TicketStatus::Completed);
    let c = a.connection.expect("connection info");
    let arn = c.game_session_arn.expect("a game session");
    assert!(
        arn.starts_with("arn:aws:gamelift:us-east-1::gamesession/fleet-a/gsess-"),
        "{arn}"
    );
    assert_eq!(
        c.dns_name.as_deref(),
        Some("us-east-1.fleet-a.rally.internal")
    );
    assert!(c.ip_address.as_deref().unwrap().starts_with("10."));
    assert_eq!(c.port, Some(rally_engine::fleets::PORT_MIN));
    let players: Vec<&str> = c
        .matched_player_sessions
        .iter()
        .map(|s| s.player_id.as_str())
        .collect();
    assert_eq!(players, ["p-a", "p-b"]);
    assert!(
        c.matched_player_sessions
            .iter()
            .all(|s| s.player_session_id.starts_with("psess-"))
    );
    assert!(
        h.events
            .iter()
            .any(|e| e.type_name() == "PlacementFulfilled")
    );
    let succeeded = &h.of_type(T::MatchmakingSucceeded)[0];
    let info = succeeded.game_session_info.as_ref().unwrap();
    assert_eq!(info.game_session_arn.as_deref(), Some(arn.as_str()));
    assert!(
        succeeded
            .tickets
            .iter()
            .all(|t| t.players[0].player_session_id.is_some())
    );
}

#[test]
fn a_second_session_gets_the_next_port_and_an_ended_one_gives_it_back() {
    let mut h = Harness::new();
    for (id, skill) in [("a", 1000.0), ("b", 1000.0), ("c", 2000.0), ("d", 2000.0)] {
        h.start(0.0, "queued", id, skill);
    }
    h.batch(0.1);
    let ports: Vec<u16> = ["a", "c"]
        .iter()
        .map(|id| h.view(0.1, id).connection.unwrap().port.unwrap())
        .collect();
    let mut sorted = ports.clone();
    sorted.sort();
    assert_eq!(sorted, [1026, 1027]);
    let arn = h
        .view(0.1, "a")
        .connection
        .unwrap()
        .game_session_arn
        .unwrap();
    h.engine.end_game_session(1.0, &arn).unwrap();
    h.start(2.0, "queued", "e", 500.0);
    h.start(2.0, "queued", "f", 500.0);
    h.batch(2.0);
    let port = h.view(2.0, "e").connection.unwrap().port.unwrap();
    assert_eq!(port, ports[0], "the freed port goes to the next session");
}

#[test]
fn every_player_accepting_lets_the_match_go_on() {
    let mut h = Harness::with(|c| {
        c.acceptance_required = true;
        c.acceptance_timeout_seconds = Some(10);
    });
    h.start(0.0, "standalone", "a", 1000.0);
    h.start(0.0, "standalone", "b", 1000.0);
    h.batch(0.1);
    assert_eq!(h.status(0.1, "a"), TicketStatus::RequiresAcceptance);
    let created = &h.of_type(T::PotentialMatchCreated)[0];
    assert_eq!(
        (created.acceptance_required, created.acceptance_timeout),
        (Some(true), Some(10))
    );
    for id in ["a", "b"] {
        h.engine
            .accept_match(
                1.0,
                AcceptMatch {
                    ticket_id: id.into(),
                    player_ids: vec![format!("p-{id}")],
                    acceptance_type: AcceptanceType::Accept,
                },
            )
            .unwrap();
        h.collect(1.0);
    }
    assert_eq!(h.status(1.0, "a"), TicketStatus::Completed);
    let accepts = h.of_type(T::AcceptMatch);
    assert_eq!(accepts.len(), 2);
    assert_eq!(
        accepts[0]
            .tickets
            .iter()
            .filter(|t| t.players[0].accepted == Some(true))
            .count(),
        1
    );
    let completed = h.of_type(T::AcceptMatchCompleted);
    assert_eq!(completed[0].acceptance, Some(Acceptance::Accepted));
}

#[test]
fn a_rejection_sends_the_accepting_ticket_back_with_its_start_time() {
    let mut h = Harness::with(|c| c.acceptance_required = true);
    h.start(0.0, "standalone", "a", 1000.0);
    h.start(0.5, "standalone", "b", 1000.0);
    h.batch(0.6);
    let accept = |id: &str, kind| AcceptMatch {
        ticket_id: id.into(),
        player_ids: vec![format!("p-{id}")],
        acceptance_type: kind,
    };
    h.engine
        .accept_match(1.0, accept("a", AcceptanceType::Accept))
        .unwrap();
    h.engine
        .accept_match(1.0, accept("b", AcceptanceType::Reject))
        .unwrap();
    h.collect(1.0);
    let a = h.view(1.0, "a");
    assert_eq!((a.status, a.start_time), (TicketStatus::Searching, 0.0));
    let b = h.view(1.0, "b");
    assert_eq!(b.status, TicketStatus::Cancelled);
    assert_eq!(b.status_reason.as_deref(), Some("Rejected"));
    assert_eq!(
        h.of_type(T::AcceptMatchCompleted)[0].acceptance,
        Some(Acceptance::Rejected)
    );
    // The returning ticket matches again with a newcomer.
    h.start(2.0, "standalone", "c", 1000.0);
    h.batch(2.0);
    assert_eq!(h.status(2.0, "a"), TicketStatus::RequiresAcceptance);
}

#[test]
fn an_acceptance_timeout_cancels_the_silent_and_returns_the_rest() {
    let mut h = Harness::with(|c| {
        c.acceptance_required = true;
        c.acceptance_timeout_seconds = Some(5);
    });
    h.start(0.0, "standalone", "a", 1000.0);
    h.start(0.0, "standalone", "b", 1000.0);
    h.batch(0.1);
    h.engine
        .accept_match(
            1.0,
            AcceptMatch {
                ticket_id: "a".into(),
                player_ids: vec!["p-a".into()],
                acceptance_type: AcceptanceType::Accept,
            },
        )
        .unwrap();
    h.advance(5.09);
    assert_eq!(h.status(5.09, "b"), TicketStatus::RequiresAcceptance);
    h.advance(5.1);
    assert_eq!(h.status(5.1, "a"), TicketStatus::Searching);
    assert_eq!(h.status(5.1, "b"), TicketStatus::Cancelled);
    assert_eq!(
        h.of_type(T::AcceptMatchCompleted)[0].acceptance,
        Some(Acceptance::TimedOut)
    );
}

#[test]
fn accepting_a_ticket_not_awaiting_acceptance_is_refused() {
    let mut h = Harness::new();
    h.start(0.0, "standalone", "a", 1000.0);
    let error = h
        .engine
        .accept_match(
            0.0,
            AcceptMatch {
                ticket_id: "a".into(),
                player_ids: vec!["p-a".into()],
                acceptance_type: AcceptanceType::Accept,
            },
        )
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::FailedPrecondition);
    let error = h
        .engine
        .accept_match(
            0.0,
            AcceptMatch {
                ticket_id: "nope".into(),
                player_ids: vec!["p".into()],
                acceptance_type: AcceptanceType::Accept,
            },
        )
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotFound);
}

#[test]
fn stopping_a_searching_ticket_cancels_it() {
    let mut h = Harness::new();
    h.start(0.0, "standalone", "a", 1000.0);
    h.batch(0.1);
    h.engine.stop_matchmaking(0.2, "a").unwrap();
    h.collect(0.2);
    let a = h.view(0.2, "a");
    assert_eq!(a.status, TicketStatus::Cancelled);
    assert_eq!(a.status_message.as_deref(), Some("Cancelled by request."));
    assert_eq!(h.types_for("a").last(), Some(&"MatchmakingCancelled"));
    // Gone from the pool: a newcomer does not match it.
    h.start(0.3, "standalone", "b", 1000.0);
    h.batch(0.3);
    assert_eq!(h.status(0.3, "b"), TicketStatus::Searching);
    let again = h.engine.stop_matchmaking(0.4, "a").unwrap_err();
    assert_eq!(again.kind, ErrorKind::FailedPrecondition);
}

#[test]
fn a_ticket_stopped_before_its_first_batch_is_never_matched() {
    let mut h = Harness::new();
    h.start(0.0, "standalone", "a", 1000.0);
    h.start(0.01, "standalone", "b", 1000.0);
    h.start(0.02, "standalone", "c", 1050.0);
    h.engine.stop_matchmaking(0.05, "a").unwrap();
    h.batch(0.1);
    assert_eq!(h.status(0.1, "a"), TicketStatus::Cancelled);
    assert_eq!(h.types_for("a"), ["MatchmakingCancelled"]);
    // Had `a` stayed in the pool, the oldest, it would have taken `b` (the nearer) into a
    // match that falls through, and `c` would wait.
    assert_eq!(h.status(0.1, "b"), TicketStatus::Completed);
    assert_eq!(h.status(0.1, "c"), TicketStatus::Completed);
}

#[test]
fn a_queued_ticket_replaced_by_a_duplicate_player_leaves_the_pool() {
    let mut h = Harness::new();
    h.start(0.0, "standalone", "a", 1000.0);
    let json = r#"{"TicketId": "a2", "Players": [{"PlayerId": "p-a",
        "PlayerAttributes": {"skill": {"N": 3000}}, "LatencyInMs": {"us-east-1": 40}}]}"#;
    h.start_json(0.02, "standalone", json).unwrap();
    h.start(0.03, "standalone", "b", 1000.0);
    h.start(0.04, "standalone", "c", 1050.0);
    h.batch(0.1);
    // `a`, the oldest, would have taken `b` into a match that falls through.
    assert_eq!(h.status(0.1, "a"), TicketStatus::Cancelled);
    assert_eq!(h.status(0.1, "b"), TicketStatus::Completed);
    assert_eq!(h.status(0.1, "c"), TicketStatus::Completed);
    assert_eq!(h.status(0.1, "a2"), TicketStatus::Searching);
}

/// A fleet with no capacity: placements wait until the queue's 30 s timeout.
fn full_harness() -> Harness {
    let mut h = Harness::new();
    let mut spec = h.engine.fleet("fleet-a").unwrap().clone();
    spec.fleet.locations[0].instances = 0;
    h.engine.update_fleet(0.0, spec).unwrap();
    h
}

#[test]
fn stopping_a_placing_ticket_cancels_the_placement_and_returns_the_other() {
    let mut h = full_harness();
    h.start(0.0, "queued", "a", 1000.0);
    h.start(0.0, "queued", "b", 1000.0);
    h.batch(0.1);
    assert_eq!(h.status(0.1, "a"), TicketStatus::Placing);
    h.engine.stop_matchmaking(1.0, "a").unwrap();
    h.collect(1.0);
    assert_eq!(h.status(1.0, "a"), TicketStatus::Cancelled);
    assert_eq!(h.status(1.0, "b"), TicketStatus::Searching);
    assert!(
        h.events
            .iter()
            .any(|e| e.type_name() == "PlacementCancelled")
    );
}

#[test]
fn a_placement_timeout_returns_the_tickets_to_the_pool_and_says_so() {
    let mut h = full_harness();
    h.start(0.0, "queued", "a", 1000.0);
    h.start(0.0, "queued", "b", 1000.0);
    h.batch(0.1);
    h.advance(30.0);
    assert_eq!(h.status(30.0, "a"), TicketStatus::Placing);
    h.advance(30.1);
    assert_eq!(h.status(30.1, "a"), TicketStatus::Searching);
    assert_eq!(h.of_type(T::MatchmakingPlacementTimedOut).len(), 1);
    assert!(
        h.events
            .iter()
            .any(|e| e.type_name() == "PlacementTimedOut")
    );
    // Capacity arrives; the next batch matches and places them.
    let mut spec = h.engine.fleet("fleet-a").unwrap().clone();
    spec.fleet.locations[0].instances = 1;
    h.engine.update_fleet(31.0, spec).unwrap();
    h.batch(31.0);
    assert_eq!(h.status(31.0, "a"), TicketStatus::Completed);
}

#[test]
fn a_ticket_times_out_at_exactly_its_request_timeout() {
    let mut h = Harness::with(|c| c.request_timeout_seconds = 20);
    h.start(1.0, "standalone", "a", 1000.0);
    h.batch(1.0);
    h.advance(20.99);
    assert_eq!(h.status(20.99, "a"), TicketStatus::Searching);
    h.advance(21.0);
    let a = h.view(21.0, "a");
    assert_eq!((a.status, a.end_time), (TicketStatus::TimedOut, Some(21.0)));
    let timed_out = &h.of_type(T::MatchmakingTimedOut)[0];
    assert_eq!(
        timed_out.message.as_deref(),
        Some("Removed from matchmaking due to timing out.")
    );
}

#[test]
fn a_new_ticket_for_a_searching_player_cancels_the_old_one() {
    let mut h = Harness::new();
    h.start(0.0, "standalone", "a", 1000.0);
    let json = r#"{"TicketId": "a2", "Players": [{"PlayerId": "p-a",
        "PlayerAttributes": {"skill": {"N": 1000}}, "LatencyInMs": {"us-east-1": 40}}]}"#;
    h.start_json(1.0, "standalone", json).unwrap();
    let a = h.view(1.0, "a");
    assert_eq!(a.status, TicketStatus::Cancelled);
    assert_eq!(
        a.status_message.as_deref(),
        Some(rally_engine::DUPLICATE_PLAYER)
    );
    assert_eq!(h.status(1.0, "a2"), TicketStatus::Queued);
}

#[test]
fn bad_requests_are_refused_with_their_kind_and_field_and_change_nothing() {
    let mut h = Harness::new();
    h.start(0.0, "standalone", "a", 1000.0);
    let ticket = |id: &str, value: &str| {
        format!(
            r#"{{"TicketId": "{id}", "Players": [{{"PlayerId": "p-{id}",
            "PlayerAttributes": {{"skill": {value}}}}}]}}"#
        )
    };
    let unknown = h
        .start_json(0.0, "nowhere", &ticket("x", r#"{"N": 1}"#))
        .unwrap_err();
    assert_eq!(
        (unknown.kind, unknown.field.as_deref()),
        (ErrorKind::NotFound, Some("ConfigurationName"))
    );
    let duplicate = h
        .start_json(0.0, "standalone", &ticket("a", r#"{"N": 1}"#))
        .unwrap_err();
    assert_eq!(
        (duplicate.kind, duplicate.field.as_deref()),
        (ErrorKind::AlreadyExists, Some("TicketId"))
    );
    let mistyped = h
        .start_json(0.0, "standalone", &ticket("y", r#"{"S": "high"}"#))
        .unwrap_err();
    assert_eq!(mistyped.kind, ErrorKind::InvalidArgument);
    assert_eq!(
        mistyped.field.as_deref(),
        Some("Players[0].PlayerAttributes.skill")
    );
    let too_many: Vec<String> = (0..11).map(|i| i.to_string()).collect();
    let error = h
        .engine
        .describe_matchmaking(0.0, &too_many, false)
        .unwrap_err();
    assert_eq!(
        (error.kind, error.field.as_deref()),
        (ErrorKind::InvalidArgument, Some("TicketIds"))
    );
    // Nothing accepted was lost: `a` still searches, and the refused ids were never taken.
    assert_eq!(h.status(0.0, "a"), TicketStatus::Queued);
    assert_eq!(h.engine.ticket_count(), 1);
}

#[test]
fn a_rule_set_in_use_cannot_be_deleted_and_an_invalid_update_changes_nothing() {
    let mut h = Harness::new();
    let error = h.engine.delete_rule_set("duel").unwrap_err();
    assert_eq!(error.kind, ErrorKind::FailedPrecondition);
    let error = h
        .engine
        .update_rule_set(0.0, "duel", "ruleset \"duel\"\nteam")
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidArgument);
    assert!(!error.diagnostics.is_empty());
    assert_eq!(h.engine.rule_set("duel").unwrap().version, 1);
}

#[test]
fn searching_tickets_continue_under_a_new_rule_set_version() {
    let mut h = Harness::new();
    h.start(0.0, "standalone", "a", 1000.0);
    h.start(0.0, "standalone", "b", 1300.0);
    h.batch(0.1);
    assert_eq!(h.status(0.1, "a"), TicketStatus::Searching);
    let wider = support::DUEL.replace("max 100", "max 400");
    let stored = h.engine.update_rule_set(1.0, "duel", &wider).unwrap();
    assert_eq!(stored.version, 2);
    h.batch(1.0);
    assert_eq!(h.status(1.0, "a"), TicketStatus::Completed);
    assert_eq!(h.view(1.0, "a").start_time, 0.0);
}

#[test]
fn a_backfill_ticket_fills_its_game_session() {
    let mut h = Harness::new();
    h.start(0.0, "queued", "a", 1000.0);
    h.start(0.0, "queued", "b", 1000.0);
    h.batch(0.1);
    let arn = h
        .view(0.1, "a")
        .connection
        .unwrap()
        .game_session_arn
        .unwrap();
    // Player b left; the game asks for a replacement on b's team.
    let team = h.view(0.1, "a").players[0].team.clone().unwrap();
    let json = format!(
        r#"{{"TicketId": "fill", "GameSessionArn": "{arn}", "Players": [{{"PlayerId": "p-a",
            "PlayerAttributes": {{"skill": {{"N": 1000}}}}, "LatencyInMs": {{"us-east-1": 40}},
            "Team": "{team}"}}]}}"#
    );
    let view = h.backfill_json(1.0, "queued", &json).unwrap();
    assert_eq!(view.status, TicketStatus::Queued);
    h.collect(1.0);
    h.start(1.0, "queued", "c", 1020.0);
    h.batch(1.0);
    let c = h.view(1.0, "c");
    assert_eq!(c.status, TicketStatus::Completed);
    let connection = c.connection.unwrap();
    assert_eq!(connection.game_session_arn.as_deref(), Some(arn.as_str()));
    let players: Vec<&str> = connection
        .matched_player_sessions
        .iter()
        .map(|s| s.player_id.as_str())
        .collect();
    assert_eq!(players, ["p-c"], "only new players get a player session");
    assert_eq!(h.status(1.0, "fill"), TicketStatus::Completed);
}

#[test]
fn finished_tickets_are_forgotten_after_the_retention() {
    let mut h = Harness::new();
    h.start(0.0, "standalone", "a", 1000.0);
    h.engine.stop_matchmaking(1.0, "a").unwrap();
    h.advance(600.9);
    assert_eq!(h.engine.ticket_count(), 1);
    h.advance(601.0);
    assert_eq!(h.engine.ticket_count(), 0);
    // Its id is free again.
    h.start(602.0, "standalone", "a", 1000.0);
}

#[test]
fn tickets_arriving_during_a_batch_wait_for_the_next_one() {
    let mut h = Harness::new();
    h.start(0.0, "standalone", "a", 1000.0);
    let job = h.engine.begin_batch(0.1, "standalone").expect("a batch");
    h.start(0.12, "standalone", "b", 1000.0);
    let done = job.run();
    h.engine.finish_batch(0.15, done);
    h.collect(0.15);
    assert_eq!(h.status(0.15, "a"), TicketStatus::Searching);
    assert_eq!(h.status(0.15, "b"), TicketStatus::Queued);
    h.batch(0.2);
    assert_eq!(h.status(0.2, "b"), TicketStatus::Completed);
}

#[test]
fn a_match_with_a_ticket_stopped_during_its_batch_falls_through() {
    let mut h = Harness::new();
    h.start(0.0, "standalone", "a", 1000.0);
    h.start(0.0, "standalone", "b", 1000.0);
    let job = h.engine.begin_batch(0.1, "standalone").expect("a batch");
    h.engine.stop_matchmaking(0.12, "a").unwrap();
    let done = job.run();
    assert_eq!(done.matches(), 1);
    h.engine.finish_batch(0.15, done);
    h.collect(0.15);
    assert_eq!(h.status(0.15, "a"), TicketStatus::Cancelled);
    assert_eq!(h.status(0.15, "b"), TicketStatus::Searching);
    assert!(h.of_type(T::PotentialMatchCreated).is_empty());
    h.start(0.2, "standalone", "c", 1000.0);
    h.batch(0.2);
    assert_eq!(h.status(0.2, "b"), TicketStatus::Completed);
}

#[test]
fn a_configuration_with_active_tickets_cannot_be_deleted() {
    let mut h = Harness::new();
    h.start(0.0, "standalone", "a", 1000.0);
    let error = h.engine.delete_configuration("standalone").unwrap_err();
    assert_eq!(error.kind, ErrorKind::FailedPrecondition);
    h.engine.stop_matchmaking(0.0, "a").unwrap();
    h.engine.delete_configuration("standalone").unwrap();
    let error = h
        .engine
        .create_configuration(0.0, Configuration::new("x", "missing"))
        .unwrap_err();
    assert_eq!(
        (error.kind, error.field.as_deref()),
        (ErrorKind::NotFound, Some("RuleSetName"))
    );
}

#[test]
fn the_same_commands_and_seed_give_the_same_events() {
    let run = || {
        let mut h = Harness::new();
        for i in 0..40 {
            let t = f64::from(i) * 0.05;
            h.start(
                t,
                if i % 2 == 0 { "standalone" } else { "queued" },
                &format!("t{i}"),
                1000.0 + f64::from(i % 7) * 30.0,
            );
            h.batch(t);
        }
        h.advance(10.0);
        h.events
    };
    let first = run();
    assert!(
        first
            .iter()
            .filter(
                |e| matches!(e, Event::Matchmaking(m) if m.event_type == T::MatchmakingSucceeded)
            )
            .count()
            >= 10
    );
    assert_eq!(first, run());
}

#[test]
fn waiting_counts_queued_and_searching_tickets_once() {
    let mut h = Harness::new();
    assert_eq!(h.engine.waiting("standalone"), Some(0));
    assert_eq!(h.engine.waiting("nowhere"), None);
    h.start(0.0, "standalone", "a", 1000.0);
    h.start(0.0, "standalone", "b", 3000.0);
    assert_eq!(h.engine.waiting("standalone"), Some(2));
    h.batch(0.1);
    assert_eq!(h.status(0.1, "a"), TicketStatus::Searching);
    assert_eq!(h.engine.waiting("standalone"), Some(2));
    h.start(0.15, "standalone", "c", 1020.0);
    assert_eq!(h.engine.waiting("standalone"), Some(3));
    h.batch(0.2);
    // `a` and `c` matched; `b` waits on.
    assert_eq!(h.engine.waiting("standalone"), Some(1));
    h.engine.stop_matchmaking(0.3, "b").unwrap();
    assert_eq!(h.engine.waiting("standalone"), Some(0));
}
