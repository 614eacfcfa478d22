//! The matcher, judged by the independent checker (`support/checker.rs`): on generated pools
//! for every rule set of the corpus, on proptest-generated pools, and against an exhaustive
//! oracle on small pools.

mod support;

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use rally_matchmaker::batch::{BatchOptions, BatchResult, run_batch};
use rally_matchmaker::generate::{GenerateOptions, PartyMix, Population, tickets};
use rally_matchmaker::ticket::json::{AttributeValueRequest, PlayerRequest, TicketRequest};
use rally_rules::model::{AttributeType, RuleSet};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use support::checker::{CheckedMatch, Checker, described};
use support::{corpus, pool_of};

/// Runs one batch over `tickets` at `now` and checks every match; returns the result.
fn batch_checked(rule_set: &RuleSet, tickets: &[TicketRequest], now: f64) -> BatchResult {
    checked_batch(rule_set, tickets, now).unwrap_or_else(|error| panic!("{error}"))
}

/// One batch, every match checked; the first match the checker refuses is the error.
fn checked_batch(
    rule_set: &RuleSet,
    tickets: &[TicketRequest],
    now: f64,
) -> Result<BatchResult, String> {
    let pool = pool_of(rule_set, tickets);
    let result = run_batch(&pool, &BatchOptions { now, seed: 1 });
    let matches = described(&pool, &result.matches);
    Checker::new(rule_set, tickets, now).check_all(&matches)?;
    let matched: usize = result.matches.iter().map(|m| m.tickets().len()).sum();
    assert_eq!(
        matched + result.unmatched.len(),
        tickets.len(),
        "every ticket is matched or waiting"
    );
    assert!(
        result.unmatched.iter().all(|u| !u.reasons.is_empty()),
        "every waiting ticket says why"
    );
    Ok(result)
}

fn generated(rule_set: &RuleSet, options: GenerateOptions, seed: u64) -> Vec<TicketRequest> {
    let population = Population::embedded();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // In GameLift's shape, as the checker reads tickets.
    tickets(rule_set, &population, options, &mut rng)
        .map(|ticket| TicketRequest::from(&ticket))
        .collect()
}

#[test]
fn every_rule_set_of_the_corpus_forms_valid_matches_on_a_pool_that_fits_it() {
    corpus_forms_valid_matches(PartyMix::Published);
}

/// Parties whose members differ: each player must pass every rule on their own values,
/// whatever the party's average, minimum or maximum.
#[test]
fn every_rule_set_of_the_corpus_forms_valid_matches_on_a_party_heavy_pool() {
    corpus_forms_valid_matches(PartyMix::Heavy);
}

/// Whether a rule bounds how far apart players' values may be (a distance or batchDistance
/// rule): the large matches that need a dense bracket of players to form.
fn bounds_a_spread(rule_set: &RuleSet) -> bool {
    use rally_rules::model::RuleKind;
    rule_set.rules.iter().any(|rule| {
        matches!(
            rule.kind,
            RuleKind::Distance(_) | RuleKind::BatchDistance(_)
        )
    })
}

/// Every rule set's batch on a generated pool; the rule sets whose matches the checker
/// refuses are listed together, so one failure does not hide the next.
fn corpus_forms_valid_matches(parties: PartyMix) {
    let corpus = corpus();
    assert!(corpus.len() >= 12, "the fixtures at least");
    let mut refused = Vec::new();
    for (name, rule_set) in corpus {
        let large = rule_set.is_large_match();
        let mut options = GenerateOptions::new(if large { 3_000 } else { 800 }, 60.0);
        options.parties = parties;
        // A large match batched on tight skill windows needs a dense bracket of players, as
        // a ranked queue for one league would be.
        if large && bounds_a_spread(&rule_set) {
            options.skill_percentiles = (48.0, 52.0);
        }
        let tickets = generated(&rule_set, options, 3);
        let result = match checked_batch(&rule_set, &tickets, 60.0) {
            Ok(result) => result,
            Err(error) => {
                refused.push(format!("{name}: {error}"));
                continue;
            }
        };
        assert!(!result.matches.is_empty(), "{name}: no match formed");
        let parties_fit = rule_set.teams.iter().any(|t| t.max_players > 1);
        if parties == PartyMix::Heavy && parties_fit {
            let pool = pool_of(&rule_set, &tickets);
            let parties_matched = result
                .matches
                .iter()
                .flat_map(|m| m.tickets())
                .filter(|key| pool.ticket(*key).players.len() > 1)
                .count();
            assert!(parties_matched > 0, "{name}: no party matched");
        }
    }
    assert!(refused.is_empty(), "{}", refused.join("\n"));
}

/// Tickets for a small rule set with values from tiny domains, so that equal, clashing and
/// missing values, parties and absent latencies all occur.
fn arbitrary_tickets(
    rule_set: &RuleSet,
    largest_party: usize,
) -> impl Strategy<Value = Vec<TicketRequest>> + use<> {
    let attributes: Vec<(String, AttributeType)> = rule_set
        .attributes
        .iter()
        .map(|a| (a.name.clone(), a.ty))
        .collect();
    let value = |ty: AttributeType| -> BoxedStrategy<Option<AttributeValueRequest>> {
        let sent = match ty {
            AttributeType::Number => (0u8..6)
                .prop_map(|n| AttributeValueRequest::number(f64::from(n) * 10.0))
                .boxed(),
            AttributeType::String => prop::sample::select(vec!["a", "b"])
                .prop_map(AttributeValueRequest::string)
                .boxed(),
            AttributeType::StringList => {
                prop::sample::subsequence(vec!["a", "b", "c", "medic"], 0..=3)
                    .prop_map(AttributeValueRequest::string_list)
                    .boxed()
            }
            AttributeType::StringNumberMap => (1u8..5, 1u8..5)
                .prop_map(|(a, b)| {
                    AttributeValueRequest::string_number_map([
                        ("a", f64::from(a)),
                        ("b", f64::from(b)),
                    ])
                })
                .boxed(),
        };
        // Usually sent; sometimes left to the default (or missing without one).
        prop_oneof![9 => sent.prop_map(Some), 1 => Just(None)].boxed()
    };
    let player = move |attributes: Vec<(String, AttributeType)>| {
        let values: Vec<BoxedStrategy<Option<AttributeValueRequest>>> =
            attributes.iter().map(|(_, ty)| value(*ty)).collect();
        (
            values,
            prop::collection::btree_map(
                prop::sample::select(vec!["us-east-1", "eu-west-1", "ap-south-1"]),
                10u32..250,
                0..=3,
            ),
        )
            .prop_map(move |(values, latency)| {
                let player_attributes: BTreeMap<String, AttributeValueRequest> = attributes
                    .iter()
                    .zip(values)
                    .filter_map(|((name, _), v)| v.map(|v| (name.clone(), v)))
                    .collect();
                PlayerRequest {
                    player_id: String::new(),
                    player_attributes,
                    latency_in_ms: latency
                        .into_iter()
                        .map(|(l, ms)| (l.to_string(), f64::from(ms)))
                        .collect(),
                    team: None,
                }
            })
    };
    let ticket = (
        prop::collection::vec(player(attributes), 1..=largest_party),
        0u8..30,
    );
    prop::collection::vec(ticket, 1..14).prop_map(|tickets| {
        tickets
            .into_iter()
            .enumerate()
            .map(|(i, (mut players, start))| {
                for (j, player) in players.iter_mut().enumerate() {
                    player.player_id = format!("t{i}p{j}");
                }
                TicketRequest {
                    ticket_id: format!("t{i}"),
                    start_time: f64::from(start),
                    players,
                    game_session_arn: None,
                }
            })
            .collect()
    })
}

/// The small rule sets of the corpus (large ones need pools bigger than proptest's).
fn small_rule_sets() -> Vec<(String, RuleSet)> {
    corpus()
        .into_iter()
        .filter(|(_, r)| !r.is_large_match())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, rng_seed: RngSeed::Fixed(0x0a7c_4e55), ..ProptestConfig::default() })]

    #[test]
    fn every_match_on_an_arbitrary_pool_is_valid(
        (rule_set, tickets) in prop::sample::select(small_rule_sets()).prop_flat_map(|(_, rule_set)| {
            let largest = rule_set.teams.iter().map(|t| t.max_players as usize).max().unwrap_or(1).min(3);
            (Just(rule_set.clone()), arbitrary_tickets(&rule_set, largest))
        }),
        now in 0.0..60.0f64,
    ) {
        batch_checked(&rule_set, &tickets, now);
    }
}

/// Every way to put `tickets` on the teams, each ticket whole on one team.
fn assignments(teams: usize, tickets: &[String]) -> Vec<Vec<Vec<String>>> {
    let mut out = vec![vec![Vec::new(); teams]];
    for ticket in tickets {
        out = out
            .into_iter()
            .flat_map(|partial| {
                (0..teams).map(move |t| {
                    let mut next = partial.clone();
                    next[t].push(ticket.clone());
                    next
                })
            })
            .collect();
    }
    out
}

/// Whether any valid match holds `anchor`, by trying every set of other tickets and every
/// assignment, judged by the checker.
fn a_match_exists(rule_set: &RuleSet, tickets: &[TicketRequest], anchor: &str, now: f64) -> bool {
    let checker = Checker::new(rule_set, tickets, now);
    let others: Vec<&TicketRequest> = tickets.iter().filter(|t| t.ticket_id != anchor).collect();
    let seats = rule_set.max_players_with_expansions as usize;
    let anchor_players = tickets
        .iter()
        .find(|t| t.ticket_id == anchor)
        .unwrap()
        .players
        .len();
    for mask in 0u32..(1 << others.len()) {
        let chosen: Vec<&TicketRequest> = (0..others.len())
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| others[i])
            .collect();
        if anchor_players + chosen.iter().map(|t| t.players.len()).sum::<usize>() > seats {
            continue;
        }
        let ids: Vec<String> = std::iter::once(anchor.to_string())
            .chain(chosen.iter().map(|t| t.ticket_id.clone()))
            .collect();
        for teams in assignments(rule_set.teams.len(), &ids) {
            // Locations are the matcher's to report: any the latency rules all accept will do.
            if checker
                .check_any_location(&CheckedMatch {
                    teams,
                    locations: Vec::new(),
                })
                .is_ok()
            {
                return true;
            }
        }
    }
    false
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, rng_seed: RngSeed::Fixed(0x0ac1_e5ee), ..ProptestConfig::default() })]

    /// On small pools the search is complete: if any valid match holds the first anchor (the
    /// oldest ticket), the batch matches it.
    #[test]
    fn when_a_match_exists_for_the_anchor_the_matcher_finds_one(
        (rule_set, tickets) in prop::sample::select(oracle_rule_sets()).prop_flat_map(|rule_set| {
            (Just(rule_set.clone()), arbitrary_tickets(&rule_set, 2).prop_map(|t| t.into_iter().take(9).collect::<Vec<_>>()))
        }),
    ) {
        let now = 40.0;
        let pool = pool_of(&rule_set, &tickets);
        let eligible: Vec<&TicketRequest> = tickets
            .iter()
            .filter(|t| pool.ticket(pool.key_of(&t.ticket_id).unwrap()).unmatchable().is_empty())
            .collect();
        let Some(anchor) = eligible.iter().min_by(|a, b| a.start_time.total_cmp(&b.start_time).then(a.ticket_id.cmp(&b.ticket_id))) else {
            return Ok(());
        };
        let eligible: Vec<TicketRequest> = eligible.iter().map(|t| (*t).clone()).collect();
        if a_match_exists(&rule_set, &eligible, &anchor.ticket_id, now) {
            let result = run_batch(&pool, &BatchOptions { now, seed: 0 });
            let key = pool.key_of(&anchor.ticket_id).unwrap();
            prop_assert!(
                result.matches.iter().any(|m| m.tickets().contains(&key)),
                "a match exists for `{}`, but the batch left it waiting: {:?}",
                anchor.ticket_id,
                result.unmatched.iter().find(|u| u.ticket == key).map(|u| &u.reasons)
            );
        }
    }
}

/// Small rule sets whose matches the oracle can enumerate (at most six seats).
fn oracle_rule_sets() -> Vec<RuleSet> {
    small_rule_sets()
        .into_iter()
        .map(|(_, r)| r)
        .filter(|r| r.max_players_with_expansions <= 6 && r.teams.len() <= 3)
        .collect()
}

#[test]
fn the_same_pool_time_and_seed_give_the_same_batch() {
    for (name, rule_set) in small_rule_sets().into_iter().take(6) {
        let tickets = generated(&rule_set, GenerateOptions::new(300, 30.0), 9);
        let pool = pool_of(&rule_set, &tickets);
        let first = run_batch(&pool, &BatchOptions { now: 30.0, seed: 5 });
        let second = run_batch(&pool, &BatchOptions { now: 30.0, seed: 5 });
        assert_eq!(first, second, "{name}");
        let other_seed = run_batch(&pool, &BatchOptions { now: 30.0, seed: 6 });
        let teams = |r: &BatchResult| {
            r.matches
                .iter()
                .map(|m| m.teams.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            teams(&first),
            teams(&other_seed),
            "{name}: the seed only names matches"
        );
    }
}

#[test]
fn a_1v1_batch_forms_at_least_99_percent_of_the_pairs_possible() {
    let rule_set =
        support::rule_set_from(&support::repo_root().join("fixtures/rulesets/bench_1v1.rules"));
    let requests = generated(&rule_set, GenerateOptions::new(20_000, 60.0), 11);
    let pool = pool_of(&rule_set, &requests);
    let result = run_batch(&pool, &BatchOptions { now: 60.0, seed: 1 });
    let bound = rally_matchmaker::quality::pair_bound(&pool, 60.0).expect("a 1v1 rule set");
    let formed = result.matches.len();
    assert!(
        bound > 5_000,
        "the pool allows {bound} pairs: too few to judge"
    );
    assert!(
        formed as f64 >= 0.99 * bound as f64,
        "{formed} pairs of at most {bound}"
    );
}
