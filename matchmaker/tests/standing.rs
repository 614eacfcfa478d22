//! The standing pool (`standing::Matchmaker`) under streams of arrivals, cancellations and
//! batches: every match passes the independent checker; after every batch, a from-scratch
//! batch over the tickets left finds no match; and what the batches find depends neither on
//! the order tickets arrive in nor on the ids the pool interns.

mod support;

use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use rally_matchmaker::batch::{BatchOptions, run_batch};
use rally_matchmaker::generate::{GenerateOptions, Population, tickets};
use rally_matchmaker::pool::TicketKey;
use rally_matchmaker::standing::Matchmaker;
use rally_matchmaker::ticket::NewTicket;
use rally_matchmaker::ticket::json::TicketRequest;
use rally_rules::model::RuleSet;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use support::checker::{CheckedMatch, Checker, described};
use support::{corpus, groups, pool_of};

/// One step of a script.
#[derive(Clone, Debug)]
enum Step {
    /// Tickets arrive, starting from 10 s before to 10 s after the clock.
    Arrive { count: usize, heavy: bool },
    /// The `nth` waiting ticket (by id) is cancelled.
    Cancel { nth: usize },
    /// The clock moves on and a batch runs.
    Batch { after: f64 },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0usize..24, any::<bool>()).prop_map(|(count, heavy)| Step::Arrive { count, heavy }),
        1 => (0usize..64).prop_map(|nth| Step::Cancel { nth }),
        4 => prop_oneof![Just(0.0), 0.1..2.0f64, 2.0..20.0f64].prop_map(|after| Step::Batch { after }),
    ]
}

/// How a script's tickets reach the pool.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Arrival {
    /// In the order generated.
    InOrder,
    /// Each wave shuffled, into a pool whose interned locations and strings were numbered
    /// in another order first.
    Shuffled(u64),
}

/// The matches of each batch of a script, in the checker's terms (teams' ids sorted).
type Played = Vec<Vec<CheckedMatch>>;

/// Plays `script` on a standing pool, checking every batch; returns each batch's matches.
fn play(rule_set: &RuleSet, script: &[Step], seed: u64, arrival: Arrival) -> Played {
    let population = Population::embedded();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut matchmaker = Matchmaker::new(Arc::new(rule_set.clone()));
    if let Arrival::Shuffled(_) = arrival {
        scramble_interned_ids(&mut matchmaker, rule_set);
    }
    // What was sent, in the wire shape the checker reads.
    let mut sent: Vec<TicketRequest> = Vec::new();
    let mut now = 0.0;
    let mut played = Vec::new();
    for (wave, step) in script.iter().enumerate() {
        match step {
            Step::Arrive { count, heavy } => {
                let mut options = GenerateOptions::new(*count, 20.0);
                if *heavy {
                    options = options.party_heavy();
                }
                let mut arriving: Vec<NewTicket> =
                    tickets(rule_set, &population, options, &mut rng)
                        .map(|ticket| renamed(ticket, wave, now))
                        .collect();
                if let Arrival::Shuffled(order) = arrival {
                    arriving.shuffle(&mut ChaCha8Rng::seed_from_u64(order ^ wave as u64));
                }
                for ticket in &arriving {
                    matchmaker
                        .insert(ticket)
                        .unwrap_or_else(|e| panic!("{}: {e}", ticket.id));
                }
                sent.extend(arriving.iter().map(TicketRequest::from));
            }
            Step::Cancel { nth } => {
                let mut waiting: Vec<(String, TicketKey)> = matchmaker
                    .pool()
                    .keys()
                    .map(|key| (matchmaker.pool().ticket(key).id.to_string(), key))
                    .collect();
                waiting.sort();
                if !waiting.is_empty() {
                    let (_, key) = waiting[nth % waiting.len()];
                    matchmaker.remove(key);
                }
            }
            Step::Batch { after } => {
                now += after;
                let matches = matchmaker.run_batch(now, wave as u64);
                let mut checked = described(matchmaker.pool(), &matches);
                if let Err(error) = Checker::new(rule_set, &sent, now).check_all(&checked) {
                    panic!("batch at {now}s: {error}");
                }
                let again = matchmaker.scratch_batch(now, 0);
                assert!(
                    again.matches.is_empty(),
                    "after the batch at {now}s, a from-scratch batch still finds {:?}",
                    groups(&described(matchmaker.pool(), &again.matches))
                );
                for found in &mut checked {
                    found.teams.iter_mut().for_each(|team| team.sort());
                }
                played.push(checked);
            }
        }
    }
    played
}

/// A generated ticket as one of wave `wave`'s, starting near `now`.
fn renamed(mut ticket: NewTicket, wave: usize, now: f64) -> NewTicket {
    ticket.id = format!("w{wave}-{}", ticket.id);
    ticket.start_time = now + (ticket.start_time - 10.0);
    for player in &mut ticket.players {
        player.id = format!("w{wave}-{}", player.id);
    }
    ticket
}

/// Inserts and removes a ticket holding the rule set's attributes' strings and every
/// location in reverse order, so the pool numbers what comes next in another order.
fn scramble_interned_ids(matchmaker: &mut Matchmaker, rule_set: &RuleSet) {
    let population = Population::embedded();
    let mut rng = ChaCha8Rng::seed_from_u64(u64::MAX);
    let mut decoys: Vec<NewTicket> = tickets(
        rule_set,
        &population,
        GenerateOptions::new(8, 1.0),
        &mut rng,
    )
    .collect();
    decoys.reverse();
    let mut keys = Vec::new();
    for (i, mut decoy) in decoys.into_iter().enumerate() {
        decoy.id = format!("decoy{i}");
        for (j, player) in decoy.players.iter_mut().enumerate() {
            player.id = format!("decoy{i}-{j}");
            let mut regions: Vec<(String, u32)> = population
                .regions
                .iter()
                .rev()
                .map(|region| (region.clone(), 500))
                .collect();
            regions.truncate(8);
            player.latencies = regions.into_iter().collect();
        }
        if let Ok(key) = matchmaker.insert(&decoy) {
            keys.push(key);
        }
    }
    for key in keys.into_iter().rev() {
        matchmaker.remove(key);
    }
}

/// The small rule sets of the corpus (large ones need pools bigger than proptest's).
fn small_rule_sets() -> Vec<(String, RuleSet)> {
    corpus()
        .into_iter()
        .filter(|(_, r)| !r.is_large_match())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, rng_seed: RngSeed::Fixed(0x57a4_d146), ..ProptestConfig::default() })]

    /// The standing-pool invariant and the checker over arbitrary streams, and the same
    /// matches whatever order the tickets arrive in.
    #[test]
    fn batches_leave_nothing_a_scratch_batch_would_match_and_ignore_arrival_order(
        (name, rule_set) in prop::sample::select(small_rule_sets()),
        script in prop::collection::vec(step(), 1..14),
        seed in any::<u64>(),
    ) {
        let in_order = play(&rule_set, &script, seed, Arrival::InOrder);
        let shuffled = play(&rule_set, &script, seed, Arrival::Shuffled(seed.rotate_left(7)));
        prop_assert_eq!(in_order, shuffled, "{}: arrival order changed the matches", name);
    }
}

#[test]
fn a_fresh_matchmakers_first_batch_finds_what_a_scratch_batch_finds_and_then_some() {
    for (name, rule_set) in small_rule_sets() {
        let population = Population::embedded();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let generated: Vec<NewTicket> = tickets(
            &rule_set,
            &population,
            GenerateOptions::new(400, 30.0).party_heavy(),
            &mut rng,
        )
        .collect();
        let sent: Vec<TicketRequest> = generated.iter().map(TicketRequest::from).collect();
        let pool = pool_of(&rule_set, &sent);
        let scratch = run_batch(&pool, &BatchOptions { now: 30.0, seed: 3 });
        let mut matchmaker = Matchmaker::new(Arc::new(rule_set.clone()));
        for ticket in &generated {
            matchmaker.insert(ticket).unwrap();
        }
        let standing = matchmaker.run_batch(30.0, 3);
        let first = described(&pool, &scratch.matches);
        let found = described(matchmaker.pool(), &standing);
        assert!(
            found.len() >= first.len() && found[..first.len()] == first[..],
            "{name}: the first round is the scratch batch"
        );
        Checker::new(&rule_set, &sent, 30.0)
            .check_all(&found)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            matchmaker.scratch_batch(30.0, 0).matches.is_empty(),
            "{name}"
        );
    }
}

#[test]
fn a_batch_with_nothing_new_and_no_expansion_due_searches_nothing() {
    let rule_set = support::rule_set(
        r#"attribute skill: number
attribute lobby: string
team red players 2
team blue players 2
rule SameLobby: comparison flatten(teams[*].players.attributes[lobby]) all equal
rule Close: distance max(flatten(teams[*].players.attributes[skill])) to min(flatten(teams[*].players.attributes[skill])) max 50
expand rules[Close].maxDistance: 10s -> 100
"#,
    );
    let mut matchmaker = Matchmaker::new(Arc::new(rule_set));
    let ticket = |id: &str, lobby: &str, skill: f64| {
        support::tickets(&format!(
            r#"{{"TicketId":"{id}","StartTime":0,"Players":[{{"PlayerId":"{id}","PlayerAttributes":{{"skill":{{"N":{skill}}},"lobby":{{"S":"{lobby}"}}}}}}]}}"#
        ))
        .remove(0)
        .into_ticket()
        .unwrap()
    };
    for (id, skill) in [("a", 1000.0), ("b", 1030.0), ("c", 1060.0), ("d", 1090.0)] {
        matchmaker.insert(&ticket(id, "l1", skill)).unwrap();
    }
    // Spread 90 > 50: no match until the 10 s step widens the window to 100.
    assert!(matchmaker.run_batch(1.0, 0).is_empty());
    assert!(matchmaker.run_batch(5.0, 0).is_empty());
    let key = matchmaker.pool().key_of("a").unwrap();
    let why = matchmaker.explain(key, 5.0).unwrap();
    assert!(
        why.reasons.iter().any(|r| r.contains("Close")),
        "{:?}",
        why.reasons
    );
    let matches = matchmaker.run_batch(10.0, 0);
    assert_eq!(matches.len(), 1, "the expansion step is a change");
    assert_eq!(matches[0].tickets().len(), 4);
    // Matched tickets stay readable until the next batch, then leave the pool.
    assert_eq!(matchmaker.waiting(), 0);
    assert_eq!(matchmaker.pool().len(), 4);
    assert!(matchmaker.run_batch(11.0, 0).is_empty());
    assert!(matchmaker.pool().is_empty());
}

#[test]
fn a_ticket_equally_near_two_locations_calls_the_first_by_name_its_home() {
    let rule_set = support::rule_set(
        r#"attribute skill: number = 1000
team red players 1
team blue players 1
rule Ping: latency max 100ms
"#,
    );
    let home_in = |first_seen: &str| {
        let mut pool = rally_matchmaker::pool::Pool::new(Arc::new(rule_set.clone()));
        let jsonl = format!(
            r#"{{"TicketId":"first","Players":[{{"PlayerId":"p0","LatencyInMs":{{"{first_seen}":10}}}}]}}
{{"TicketId":"tied","Players":[{{"PlayerId":"p1","LatencyInMs":{{"us-west-2":30,"eu-west-1":30,"ap-south-1":80}}}}]}}"#
        );
        for request in support::tickets(&jsonl) {
            pool.insert(&request.into_ticket().unwrap()).unwrap();
        }
        let key = pool.key_of("tied").unwrap();
        let home = pool.filters(key)[0].home().unwrap();
        pool.location_name(home[0].0).to_string()
    };
    assert_eq!(home_in("us-west-2"), "eu-west-1");
    assert_eq!(home_in("eu-west-1"), "eu-west-1");
}

#[test]
fn a_slot_freed_and_taken_again_between_batches_holds_only_the_new_ticket() {
    let rule_set = support::rule_set(
        r#"attribute skill: number = 1000
team red players 1
team blue players 1
rule Close: distance max(flatten(teams[*].players.attributes[skill])) to min(flatten(teams[*].players.attributes[skill])) max 10
"#,
    );
    let mut matchmaker = Matchmaker::new(Arc::new(rule_set.clone()));
    let ticket = |id: &str, skill: u32| {
        support::tickets(&format!(
            r#"{{"TicketId":"{id}","Players":[{{"PlayerId":"{id}","PlayerAttributes":{{"skill":{{"N":{skill}}}}}}}]}}"#
        ))
        .remove(0)
        .into_ticket()
        .unwrap()
    };
    // Inserted and cancelled before any batch, and its slot given to another ticket.
    let first = matchmaker.insert(&ticket("a", 1000)).unwrap();
    matchmaker.remove(first);
    let again = matchmaker.insert(&ticket("b", 1005)).unwrap();
    assert_eq!(again, first, "the slot is reused");
    matchmaker.insert(&ticket("c", 1000)).unwrap();
    let matches = matchmaker.run_batch(1.0, 0);
    let pool = matchmaker.pool();
    let ids: Vec<Vec<String>> = matches
        .iter()
        .map(|m| {
            m.tickets()
                .iter()
                .map(|k| pool.ticket(*k).id.to_string())
                .collect()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(matchmaker.waiting(), 0);
    // A matched ticket the caller removes leaves a slot the next ticket may take before the
    // next batch, which must not drop it.
    let b = pool.key_of("b").unwrap();
    matchmaker.remove(b);
    let d = matchmaker.insert(&ticket("d", 2000)).unwrap();
    assert_eq!(d, b);
    assert!(matchmaker.run_batch(2.0, 0).is_empty());
    assert_eq!(matchmaker.pool().ticket(d).id, "d");
    assert_eq!(matchmaker.waiting(), 1);
}

/// Locations are numbered as first seen and a number is freed when no ticket reports its
/// location: the index must size itself by the highest number held, not by how many are held.
/// (Found by `rally simulate`: a 5v5 pool panicked once players from two regions had left.)
#[test]
fn a_batch_after_locations_were_forgotten_indexes_the_ones_numbered_above_them() {
    let rule_set = support::rule_set(
        r#"attribute skill: number = 1000
team red players 1
team blue players 1
rule Ping: latency max 100ms
"#,
    );
    let mut matchmaker = Matchmaker::new(Arc::new(rule_set.clone()));
    let ticket = |id: &str, location: &str| {
        support::tickets(&format!(
            r#"{{"TicketId":"{id}","Players":[{{"PlayerId":"{id}","LatencyInMs":{{"{location}":20}}}}]}}"#
        ))
        .remove(0)
        .into_ticket()
        .unwrap()
    };
    // Numbered 0, 1 and 2; the first two are forgotten when their tickets leave.
    let a = matchmaker.insert(&ticket("a", "ap-south-1")).unwrap();
    let b = matchmaker.insert(&ticket("b", "sa-east-1")).unwrap();
    matchmaker.insert(&ticket("c", "eu-west-1")).unwrap();
    matchmaker.remove(a);
    matchmaker.remove(b);
    assert_eq!(matchmaker.pool().locations().len(), 1);
    assert_eq!(matchmaker.pool().locations().id_bound(), 3);
    matchmaker.insert(&ticket("d", "eu-west-1")).unwrap();
    let matches = matchmaker.run_batch(1.0, 0);
    assert_eq!(matches.len(), 1);
    let pool = matchmaker.pool();
    assert_eq!(pool.location_name(matches[0].locations[0]), "eu-west-1");
}

/// Tickets that fail a rule on their own at every age take no seat in the live index: they
/// change nobody's match, and a pool full of them costs a batch no more than an empty one
/// would (each walk used to step through all of them).
#[test]
fn tickets_that_can_never_match_change_no_one_elses_matches() {
    let rule_set = support::rule_set(
        r#"attribute skill: number
team red players 1
team blue players 1
rule Close: distance max(flatten(teams[*].players.attributes[skill])) to min(flatten(teams[*].players.attributes[skill])) max 30
rule Ranked: comparison flatten(teams[*].players.attributes[skill]) >= 0
"#,
    );
    let ticket = |id: String, skill: f64, start: f64| {
        support::tickets(&format!(
            r#"{{"TicketId":"{id}","StartTime":{start},"Players":[{{"PlayerId":"{id}","PlayerAttributes":{{"skill":{{"N":{skill}}}}}}}]}}"#
        ))
        .remove(0)
        .into_ticket()
        .unwrap()
    };
    let run = |with_unmatchable: bool| {
        let mut matchmaker = Matchmaker::new(Arc::new(rule_set.clone()));
        let mut found = Vec::new();
        for wave in 0..5 {
            let now = f64::from(wave);
            for i in 0..40 {
                let skill = f64::from((i * 37 + wave * 11) % 400);
                matchmaker
                    .insert(&ticket(format!("w{wave}-{i}"), skill, now))
                    .unwrap();
                if with_unmatchable {
                    // Between the others on the axis, but never matchable (negative skill
                    // fails `Ranked` at every age).
                    let id = format!("never{wave}-{i}");
                    matchmaker.insert(&ticket(id, -skill - 1.0, now)).unwrap();
                }
            }
            let pool_ids = |m: &rally_matchmaker::matches::Match, mm: &Matchmaker| {
                let mut ids: Vec<String> = m
                    .tickets()
                    .iter()
                    .map(|k| mm.pool().ticket(*k).id.to_string())
                    .collect();
                ids.sort();
                ids
            };
            let matches = matchmaker.run_batch(now + 0.5, 7);
            let mut ids: Vec<Vec<String>> =
                matches.iter().map(|m| pool_ids(m, &matchmaker)).collect();
            ids.sort();
            found.push(ids);
            assert!(
                matchmaker.scratch_batch(now + 0.5, 7).matches.is_empty(),
                "a scratch batch finds nothing the standing batch missed"
            );
        }
        found
    };
    let plain = run(false);
    assert!(plain.iter().map(Vec::len).sum::<usize>() > 40, "{plain:?}");
    assert_eq!(run(true), plain);
}
