//! The matches that exist are found: batches measured against the most matches their pools
//! allow — an exact maximum matching (`support/optimum.rs`) for pairs, the pool's own
//! structure for larger matches — with every match judged by the independent checker.

mod support;

use std::collections::BTreeMap;

use rally_matchmaker::batch::{BatchOptions, BatchResult, run_batch};
use rally_matchmaker::ticket::json::{AttributeValueRequest, PlayerRequest, TicketRequest};
use rally_rules::model::RuleSet;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use support::checker::{Checker, described};
use support::optimum::max_pairs;
use support::{pool_of, rule_set};

const NOW: f64 = 100.0;

fn solo(i: usize, start: f64, attributes: &[(&str, AttributeValueRequest)]) -> TicketRequest {
    TicketRequest {
        ticket_id: format!("t{i}"),
        start_time: start,
        players: vec![PlayerRequest {
            player_id: format!("p{i}"),
            player_attributes: attributes
                .iter()
                .map(|(name, value)| (name.to_string(), value.clone()))
                .collect::<BTreeMap<_, _>>(),
            latency_in_ms: BTreeMap::new(),
            team: None,
        }],
        game_session_arn: None,
    }
}

/// One batch at [`NOW`], every match checked.
fn batch(rule_set: &RuleSet, tickets: &[TicketRequest]) -> BatchResult {
    let pool = pool_of(rule_set, tickets);
    let result = run_batch(&pool, &BatchOptions { now: NOW, seed: 1 });
    let matches = described(&pool, &result.matches);
    if let Err(error) = Checker::new(rule_set, tickets, NOW).check_all(&matches) {
        panic!("{error}");
    }
    result
}

/// Solo tickets with a uniformly drawn skill and a clan of `clan_size` (consecutive ids),
/// arriving in random order.
fn clans(count: usize, clan_size: usize, seed: u64) -> Vec<TicketRequest> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count)
        .map(|i| {
            let skill = rng.random_range(1000.0..3000.0f64).round();
            solo(
                i,
                rng.random_range(0.0..50.0),
                &[
                    ("skill", AttributeValueRequest::number(skill)),
                    (
                        "clan",
                        AttributeValueRequest::string(format!("c{}", i / clan_size)),
                    ),
                ],
            )
        })
        .collect()
}

const SKILL_AND_CLAN: &str = "attribute skill: number
attribute clan: string
rule SameClan: comparison flatten(teams[*].players.attributes[clan]) all equal
";

const SPREAD: &str = "distance max(flatten(teams[*].players.attributes[skill])) to min(flatten(teams[*].players.attributes[skill]))";

#[test]
fn a_compound_rules_matches_do_not_depend_on_the_order_of_its_operands() {
    // 100 clans of two: clan-mates can always play, close players sometimes. Taking close
    // players first strands clan-mates; a maximum matching pairs everyone.
    let tickets = clans(200, 2, 7);
    let rules = |statement: &str| {
        rule_set(&format!(
            "{SKILL_AND_CLAN}team duelist players 1 quantity 2\nrule Close: {SPREAD} max 10\nrule Either: compound {statement}\n"
        ))
    };
    let optimum = max_pairs(&rules("or(Close, SameClan)"), &tickets, NOW);
    assert_eq!(optimum, 100);
    for statement in ["or(Close, SameClan)", "or(SameClan, Close)"] {
        let formed = batch(&rules(statement), &tickets).matches.len();
        assert_eq!(formed, optimum, "{statement}");
    }
}

#[test]
fn a_compound_rule_over_larger_matches_finds_them_whatever_the_order() {
    // 2v2: 40 clans of four, any of which is a match; skill-close, fair foursomes also are.
    let tickets = clans(160, 4, 11);
    let rules = |statement: &str| {
        rule_set(&format!(
            "{SKILL_AND_CLAN}team red players 2\nteam blue players 2\n\
             rule Spread: {SPREAD} max 60\n\
             rule Fair: distance avg(teams[*].players.attributes[skill]) to avg(flatten(teams[*].players.attributes[skill])) max 10\n\
             rule Either: compound {statement}\n"
        ))
    };
    for statement in [
        "or(and(Spread, Fair), SameClan)",
        "or(SameClan, and(Spread, Fair))",
    ] {
        let formed = batch(&rules(statement), &tickets).matches.len();
        assert_eq!(formed, 40, "{statement}");
    }
}

#[test]
fn a_negated_rule_is_searched_where_it_fails() {
    // Far apart in different clans, or close in the same clan: almost every pair of this pool
    // is the first kind, which a nearest-first search never looks at.
    let tickets = clans(200, 2, 7);
    let rules = |statement: &str| {
        rule_set(&format!(
            "{SKILL_AND_CLAN}team duelist players 1 quantity 2\nrule TightSkill: {SPREAD} max 100\nrule X: compound {statement}\n"
        ))
    };
    let optimum = max_pairs(&rules("xor(not(TightSkill), SameClan)"), &tickets, NOW);
    assert_eq!(optimum, 100);
    for statement in [
        "xor(not(TightSkill), SameClan)",
        "xor(SameClan, not(TightSkill))",
    ] {
        let formed = batch(&rules(statement), &tickets).matches.len();
        assert_eq!(formed, optimum, "{statement}");
    }
}

#[test]
fn waiting_reasons_name_the_compound_rule() {
    let rules = rule_set(&format!(
        "{SKILL_AND_CLAN}team duelist players 1 quantity 2\nrule Close: {SPREAD} max 10\nrule Either: compound or(Close, SameClan)\n"
    ));
    let skill = |s: f64| AttributeValueRequest::number(s);
    let clan = |c: &str| AttributeValueRequest::string(c);
    let tickets = [
        solo(0, 0.0, &[("skill", skill(1000.0)), ("clan", clan("a"))]),
        solo(1, 1.0, &[("skill", skill(2000.0)), ("clan", clan("b"))]),
    ];
    let result = batch(&rules, &tickets);
    assert!(result.matches.is_empty());
    for waiting in &result.unmatched {
        assert!(
            waiting.reasons.iter().any(|r| r.contains("`Either`")),
            "{:?}",
            waiting.reasons
        );
        let names = |operand: &str| {
            waiting
                .reasons
                .iter()
                .any(|r| r.starts_with(&format!("`{operand}` (part of `Either`)")))
        };
        assert!(names("Close") && names("SameClan"), "{:?}", waiting.reasons);
    }
}

const DUEL: &str = "attribute skill: number\nteam duelist players 1 quantity 2\n";

#[test]
fn a_chain_of_evenly_spaced_players_is_paired_whole() {
    // Skills 0, 10, 20, … 2990 with a cap of 10: only neighbours may play, and pairing
    // neighbours from one end pairs everyone. Anchors come in random order.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut starts: Vec<f64> = (0..300).map(|i| i as f64 * 0.1).collect();
    for i in (1..starts.len()).rev() {
        starts.swap(i, rng.random_range(0..=i));
    }
    let tickets: Vec<TicketRequest> = (0..300)
        .map(|i| {
            solo(
                i,
                starts[i],
                &[("skill", AttributeValueRequest::number(10.0 * i as f64))],
            )
        })
        .collect();
    let rules = rule_set(&format!("{DUEL}rule Close: {SPREAD} max 10\n"));
    let formed = batch(&rules, &tickets).matches.len();
    assert!(formed * 100 >= 99 * 150, "{formed} of 150 pairs");
}

#[test]
fn sparse_1v1_pools_pair_at_least_99_percent_of_a_maximum_matching() {
    let rules = rule_set(&format!("{DUEL}rule Close: {SPREAD} max 25\n"));
    let (mut formed, mut optimum) = (0, 0);
    for seed in 0..24 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let tickets: Vec<TicketRequest> = (0..60)
            .map(|i| {
                let skill = rng.random_range(0.0..1500.0f64).round();
                solo(
                    i,
                    rng.random_range(0.0..50.0),
                    &[("skill", AttributeValueRequest::number(skill))],
                )
            })
            .collect();
        formed += batch(&rules, &tickets).matches.len();
        optimum += max_pairs(&rules, &tickets, NOW);
    }
    assert!(
        optimum > 400,
        "the pools allow {optimum} pairs: too few to judge"
    );
    assert!(
        formed * 100 >= 99 * optimum,
        "{formed} pairs of a maximum of {optimum}"
    );
}
