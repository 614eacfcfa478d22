//! The matcher on small, hand-written pools: one behaviour of FlexMatch's semantics per test
//! (compound rules, backfill, expansions, team filling), each match also judged by the
//! independent checker.

mod support;

use support::{groups, reasons, rule_set, run};

#[test]
fn a_compound_rule_matches_through_either_branch() {
    let rules = rule_set(
        r#"attribute map: string
attribute mode: string
attribute skill: number
team duelist players 1 quantity 2
rule same_map: comparison flatten(teams[*].players.attributes[map]) all equal
rule same_mode: comparison flatten(teams[*].players.attributes[mode]) all equal
rule close: distance max(flatten(teams[*].players.attributes[skill])) to min(flatten(teams[*].players.attributes[skill])) max 10
rule either: compound or(and(same_map, same_mode), close)
"#,
    );
    let (matches, _, result) = run(
        &rules,
        r#"{"TicketId":"a","StartTime":0,"Players":[{"PlayerId":"a","PlayerAttributes":{"map":{"S":"dust"},"mode":{"S":"ctf"},"skill":{"N":100}}}]}
{"TicketId":"b","StartTime":1,"Players":[{"PlayerId":"b","PlayerAttributes":{"map":{"S":"dust"},"mode":{"S":"ctf"},"skill":{"N":900}}}]}
{"TicketId":"c","StartTime":2,"Players":[{"PlayerId":"c","PlayerAttributes":{"map":{"S":"harbor"},"mode":{"S":"dm"},"skill":{"N":500}}}]}
{"TicketId":"d","StartTime":3,"Players":[{"PlayerId":"d","PlayerAttributes":{"map":{"S":"pit"},"mode":{"S":"ctf"},"skill":{"N":505}}}]}
{"TicketId":"e","StartTime":4,"Players":[{"PlayerId":"e","PlayerAttributes":{"map":{"S":"pit"},"mode":{"S":"dm"},"skill":{"N":2000}}}]}
"#,
        10.0,
    );
    // `a` and `b` share map and mode though 800 apart; `c` and `d` are 5 apart on different
    // maps; `e` fits neither branch with anyone.
    assert_eq!(groups(&matches), [vec!["a", "b"], vec!["c", "d"]]);
    assert_eq!(result.unmatched.len(), 1);
}

const BACKFILL_RULES: &str = r#"attribute skill: number = 1000
algorithm {
    backfillPriority: high
}
team red players 3
team blue players 3
rule spread: distance max(flatten(teams[*].players.attributes[skill])) to min(flatten(teams[*].players.attributes[skill])) max 500
"#;

#[test]
fn a_backfill_ticket_keeps_its_players_and_fills_its_open_slots() {
    let rules = rule_set(BACKFILL_RULES);
    // A running game: two on red and one on blue, so one red and two blue seats are open.
    let (matches, _, _) = run(
        &rules,
        r#"{"TicketId":"game","StartTime":5,"GameSessionArn":"arn:gs/1","Players":[{"PlayerId":"r1","Team":"red"},{"PlayerId":"r2","Team":"red"},{"PlayerId":"b1","Team":"blue"}]}
{"TicketId":"duo","StartTime":0,"Players":[{"PlayerId":"d1"},{"PlayerId":"d2"}]}
{"TicketId":"solo","StartTime":1,"Players":[{"PlayerId":"s1"}]}
"#,
        10.0,
    );
    assert_eq!(matches.len(), 1);
    // The duo only fits blue's two open seats; the backfill ticket is listed on both teams.
    assert_eq!(
        matches[0].teams,
        [vec!["game", "solo"], vec!["duo", "game"]]
    );
}

#[test]
fn a_match_holds_one_backfill_ticket_and_never_only_one() {
    let rules = rule_set(BACKFILL_RULES);
    let (matches, pool, result) = run(
        &rules,
        r#"{"TicketId":"old-game","StartTime":0,"GameSessionArn":"arn:gs/1","Players":[{"PlayerId":"a1","Team":"red"},{"PlayerId":"a2","Team":"red"},{"PlayerId":"a3","Team":"red"},{"PlayerId":"a4","Team":"blue"},{"PlayerId":"a5","Team":"blue"}]}
{"TicketId":"new-game","StartTime":3,"GameSessionArn":"arn:gs/2","Players":[{"PlayerId":"b1","Team":"blue"},{"PlayerId":"b2","Team":"blue"},{"PlayerId":"b3","Team":"blue"}]}
{"TicketId":"solo","StartTime":6,"Players":[{"PlayerId":"s1"}]}
"#,
        10.0,
    );
    // Both games could take the solo player: the older backfill ticket goes first. The other
    // game alone is no match, and two games never merge.
    assert_eq!(groups(&matches), [vec!["old-game", "solo"]]);
    let waiting: Vec<&str> = result
        .unmatched
        .iter()
        .map(|u| &*pool.ticket(u.ticket).id)
        .collect();
    assert_eq!(waiting, ["new-game"]);
}

#[test]
fn expansions_follow_the_newest_or_the_oldest_ticket() {
    let rules = |selection: &str| {
        rule_set(&format!(
            r#"attribute skill: number
algorithm {{
    expansionAgeSelection: {selection}
}}
team duelist players 1 quantity 2
rule close: distance max(flatten(teams[*].players.attributes[skill])) to min(flatten(teams[*].players.attributes[skill])) max 10
expand rules[close].maxDistance: 30s -> 100
"#
        ))
    };
    // At 40 s the old ticket has waited 40 s and the new one 5 s; they are 50 apart.
    let pool = r#"{"TicketId":"old","StartTime":0,"Players":[{"PlayerId":"o","PlayerAttributes":{"skill":{"N":1000}}}]}
{"TicketId":"new","StartTime":35,"Players":[{"PlayerId":"n","PlayerAttributes":{"skill":{"N":1050}}}]}
"#;
    let (oldest, _, _) = run(&rules("oldest"), pool, 40.0);
    assert_eq!(oldest.len(), 1, "the oldest ticket's wait widens the rule");
    let (newest, _, result) = run(&rules("newest"), pool, 40.0);
    assert!(newest.is_empty(), "the newest ticket has not waited 30 s");
    assert!(
        result.unmatched[0]
            .reasons
            .iter()
            .any(|r| r.contains("`close`")),
        "{:?}",
        result.unmatched[0].reasons
    );
    let (later, _, _) = run(&rules("newest"), pool, 65.0);
    assert_eq!(later.len(), 1, "once the newest ticket has waited too");
}

#[test]
fn teams_fill_towards_the_maximum_and_settle_for_the_minimum() {
    let rules = rule_set(
        r#"attribute skill: number = 1000
team red players 2..4
team blue players 2..4
rule even: comparison count(teams[red].players) = count(teams[blue].players)
"#,
    );
    let solo = |i: usize| {
        format!(r#"{{"TicketId":"t{i}","StartTime":{i},"Players":[{{"PlayerId":"p{i}"}}]}}"#)
    };
    let ten: Vec<String> = (0..10).map(solo).collect();
    let (matches, _, _) = run(&rules, &ten.join("\n"), 20.0);
    // Ten players: a full 4v4 first, and the two left over cannot make 2v2.
    assert_eq!(matches.len(), 1);
    assert_eq!(
        matches[0].teams.iter().map(Vec::len).collect::<Vec<_>>(),
        [4, 4]
    );
    let five: Vec<String> = (0..5).map(solo).collect();
    let (matches, _, _) = run(&rules, &five.join("\n"), 20.0);
    // Five: no 4v4, so the largest even match that meets the minimum, 2v2.
    assert_eq!(matches.len(), 1);
    assert_eq!(
        matches[0].teams.iter().map(Vec::len).collect::<Vec<_>>(),
        [2, 2]
    );
}

#[test]
fn unmatched_tickets_say_which_rules_keep_them_waiting() {
    let rules = rule_set(
        r#"attribute skill: number
attribute mode: string = "ranked"
team duelist players 1 quantity 2
rule same_mode: comparison flatten(teams[*].players.attributes[mode]) all equal
rule close: distance max(flatten(teams[*].players.attributes[skill])) to min(flatten(teams[*].players.attributes[skill])) max 100
rule ping: latency max 100ms
"#,
    );
    let (matches, pool, result) = run(
        &rules,
        r#"{"TicketId":"a","StartTime":0,"Players":[{"PlayerId":"a","PlayerAttributes":{"skill":{"N":1000}},"LatencyInMs":{"us-east-1":40}}]}
{"TicketId":"b","StartTime":1,"Players":[{"PlayerId":"b","PlayerAttributes":{"skill":{"N":1050}},"LatencyInMs":{"us-east-1":60}}]}
{"TicketId":"far","StartTime":2,"Players":[{"PlayerId":"far","PlayerAttributes":{"skill":{"N":3000}},"LatencyInMs":{"us-east-1":40}}]}
{"TicketId":"away","StartTime":3,"Players":[{"PlayerId":"away","PlayerAttributes":{"skill":{"N":3010}},"LatencyInMs":{"eu-west-1":30}}]}
{"TicketId":"casual","StartTime":4,"Players":[{"PlayerId":"casual","PlayerAttributes":{"skill":{"N":3020},"mode":{"S":"casual"}},"LatencyInMs":{"us-east-1":40}}]}
{"TicketId":"no-skill","StartTime":5,"Players":[{"PlayerId":"ns","LatencyInMs":{"us-east-1":40}}]}
{"TicketId":"slow","StartTime":6,"Players":[{"PlayerId":"slow","PlayerAttributes":{"skill":{"N":1000}},"LatencyInMs":{"us-east-1":400}}]}
"#,
        10.0,
    );
    assert_eq!(groups(&matches), [vec!["a", "b"]]);
    let reasons = reasons(&pool, &result);
    let has = |ticket: &str, text: &str| {
        assert!(
            reasons[ticket].iter().any(|r| r.contains(text)),
            "{ticket}: no reason mentions {text:?} in {:?}",
            reasons[ticket]
        )
    };
    // `far` is too far from everyone in the latency-compatible pool, and `away` shares no
    // location with it; `casual` plays another mode.
    has("far", "`close`");
    has("far", "too far from it");
    has("far", "`ping`");
    has("away", "no location under 100 ms with it");
    has("casual", "`same_mode`");
    has("casual", "a different value");
    assert_eq!(
        reasons["no-skill"],
        ["player `ns` has no `skill`, and the rule set gives it no default"]
    );
    has(
        "slow",
        "`ping`: the ticket's own players fail it, whatever the match",
    );
    assert!(!reasons.contains_key("a") && !reasons.contains_key("b"));
    // Every rule's counts add up, and the formed match passed each rule.
    for (rule, passed) in result.metrics.passed.iter().enumerate() {
        assert!(*passed >= 1, "rule {rule} passed {passed} times");
    }
}

#[test]
fn backfill_priority_decides_whether_games_or_new_matches_come_first() {
    let rules = |priority: &str| {
        rule_set(&format!(
            "attribute skill: number = 1000\nalgorithm {{\n    backfillPriority: {priority}\n}}\nteam red players 1\nteam blue players 1\n"
        ))
    };
    // A running game with one open seat, and two players who could instead start a game.
    let tickets = |game_start: u32| {
        format!(
            r#"{{"TicketId":"game","StartTime":{game_start},"GameSessionArn":"arn:gs/1","Players":[{{"PlayerId":"g1","Team":"red"}}]}}
{{"TicketId":"a","StartTime":1,"Players":[{{"PlayerId":"a"}}]}}
{{"TicketId":"b","StartTime":2,"Players":[{{"PlayerId":"b"}}]}}
"#
        )
    };
    let formed = |priority: &str, game_start: u32| {
        let (matches, _, _) = run(&rules(priority), &tickets(game_start), 10.0);
        groups(&matches)
    };
    // `high`: the game takes the oldest player whatever its own age; `low`: new matches
    // first, the game waits; `normal`: the oldest ticket anchors first.
    assert_eq!(formed("high", 5), [vec!["a", "game"]]);
    assert_eq!(formed("low", 0), [vec!["a", "b"]]);
    assert_eq!(formed("normal", 5), [vec!["a", "b"]]);
    assert_eq!(formed("normal", 0), [vec!["a", "game"]]);
}

#[test]
fn a_ticket_that_fails_a_rule_on_its_own_says_so_and_counts_against_it() {
    // No latency rule: the matcher searches once, and must still explain the ticket it skips.
    let rules = rule_set(
        r#"attribute skill: number
attribute gamesPlayed: number = 0
team duelist players 1 quantity 2
rule calibrated: comparison flatten(teams[*].players.attributes[gamesPlayed]) >= 10
rule close: distance max(flatten(teams[*].players.attributes[skill])) to min(flatten(teams[*].players.attributes[skill])) max 100
"#,
    );
    let (matches, pool, result) = run(
        &rules,
        r#"{"TicketId":"a","StartTime":0,"Players":[{"PlayerId":"a","PlayerAttributes":{"skill":{"N":1000},"gamesPlayed":{"N":20}}}]}
{"TicketId":"b","StartTime":1,"Players":[{"PlayerId":"b","PlayerAttributes":{"skill":{"N":1010},"gamesPlayed":{"N":30}}}]}
{"TicketId":"new","StartTime":2,"Players":[{"PlayerId":"new","PlayerAttributes":{"skill":{"N":1005}}}]}
"#,
        10.0,
    );
    assert_eq!(groups(&matches), [vec!["a", "b"]]);
    assert_eq!(
        reasons(&pool, &result)["new"],
        ["`calibrated`: the ticket's own players fail it, whatever the match"]
    );
    assert_eq!(
        result.metrics.failed[0], 1,
        "the new player's ticket counts once"
    );
    assert!(result.metrics.passed[0] >= 1);
}
