//! Matches FlexMatch would refuse, and matches it would find: each case of issue 10 as a
//! small pool, judged by the independent checker (`support/checker.rs`) as well as by the
//! assertions here.

mod support;

use support::{groups, reasons, rule_set, run};

/// A ticket line: `players` as (id, attributes JSON, latencies JSON).
fn ticket(id: &str, start: f64, players: &[(&str, &str, &str)]) -> String {
    let players: Vec<String> = players
        .iter()
        .map(|(player, attributes, latency)| {
            format!(
                r#"{{"PlayerId":"{player}","PlayerAttributes":{{{attributes}}},"LatencyInMs":{{{latency}}}}}"#
            )
        })
        .collect();
    format!(
        r#"{{"TicketId":"{id}","StartTime":{start},"Players":[{}]}}"#,
        players.join(",")
    )
}

fn lines(tickets: &[String]) -> String {
    tickets.join("\n") + "\n"
}

const SPREAD_AND_PING: &str = r#"attribute skill: number
team a players 2
team b players 2
rule close: distance max(flatten(teams[*].players.attributes[skill])) to min(flatten(teams[*].players.attributes[skill])) max 100 party avg
rule ping: latency max 100ms party avg
"#;

#[test]
fn a_duo_is_judged_on_each_members_skill_and_latency() {
    let rules = rule_set(SPREAD_AND_PING);
    // The duo's average skill is 1200 and its average latency 95 ms, but its members are 400
    // skill apart and one of them is at 170 ms.
    let pool = lines(&[
        ticket(
            "duo",
            0.0,
            &[
                ("x", r#""skill":{"N":1000}"#, r#""us-east-1":20"#),
                ("y", r#""skill":{"N":1400}"#, r#""us-east-1":170"#),
            ],
        ),
        ticket(
            "s1",
            1.0,
            &[("s1", r#""skill":{"N":1200}"#, r#""us-east-1":50"#)],
        ),
        ticket(
            "s2",
            2.0,
            &[("s2", r#""skill":{"N":1200}"#, r#""us-east-1":50"#)],
        ),
    ]);
    let (matches, pool, result) = run(&rules, &pool, 10.0);
    assert!(matches.is_empty(), "{matches:?}");
    let why = &reasons(&pool, &result)["duo"];
    assert!(
        why.iter()
            .any(|r| r.contains("the ticket's own players fail it")),
        "{why:?}"
    );
}

#[test]
fn a_partys_maximum_does_not_lift_a_member_over_a_threshold() {
    let rules = rule_set(
        r#"attribute level: number
team squad players 2
rule veterans: comparison flatten(teams[*].players.attributes[level]) >= 10 party max
"#,
    );
    let pool = lines(&[
        ticket(
            "duo",
            0.0,
            &[
                ("x", r#""level":{"N":8}"#, ""),
                ("y", r#""level":{"N":14}"#, ""),
            ],
        ),
        ticket(
            "vets",
            1.0,
            &[
                ("v", r#""level":{"N":10}"#, ""),
                ("w", r#""level":{"N":12}"#, ""),
            ],
        ),
    ]);
    let (matches, pool, result) = run(&rules, &pool, 10.0);
    assert_eq!(groups(&matches), [vec!["vets"]]);
    assert_eq!(
        reasons(&pool, &result)["duo"],
        ["`veterans`: the ticket's own players fail it, whatever the match"]
    );
}

#[test]
fn a_partys_minimum_latency_does_not_bring_a_member_under_the_cap() {
    let rules = rule_set(
        r#"team squad players 2
rule ping: latency max 100ms party min
"#,
    );
    let pool = lines(&[
        ticket(
            "duo",
            0.0,
            &[
                ("x", "", r#""us-east-1":20"#),
                ("y", "", r#""us-east-1":140"#),
            ],
        ),
        ticket(
            "near",
            1.0,
            &[
                ("n", "", r#""us-east-1":30"#),
                ("m", "", r#""us-east-1":90"#),
            ],
        ),
    ]);
    let (matches, pool, result) = run(&rules, &pool, 10.0);
    assert_eq!(groups(&matches), [vec!["near"]]);
    assert_eq!(
        reasons(&pool, &result)["duo"],
        ["`ping`: the ticket's own players fail it, whatever the match"]
    );
}

#[test]
fn a_partys_union_does_not_choose_a_mode_for_its_members() {
    let rules = rule_set(
        r#"attribute modes: string_list
team squad players 2..4
rule shared_mode: collection flatten(teams[*].players.attributes[modes]) intersection min 1 party union
"#,
    );
    // The duo's union holds `ctf`, but only one of its members chose it.
    let pool = lines(&[
        ticket(
            "duo",
            0.0,
            &[
                ("x", r#""modes":{"SL":["ctf"]}"#, ""),
                ("y", r#""modes":{"SL":["deathmatch"]}"#, ""),
            ],
        ),
        ticket("s1", 1.0, &[("s1", r#""modes":{"SL":["ctf"]}"#, "")]),
        ticket("s2", 2.0, &[("s2", r#""modes":{"SL":["ctf"]}"#, "")]),
    ]);
    let (matches, pool, result) = run(&rules, &pool, 10.0);
    assert_eq!(groups(&matches), [vec!["s1", "s2"]]);
    assert_eq!(
        reasons(&pool, &result)["duo"],
        ["`shared_mode`: the ticket's own players fail it, whatever the match"]
    );
}

const FAIR_TEAMS_FROM_ZERO: &str = r#"attribute skill: number
team red players 0..2
team blue players 0..2
rule fair: distance avg(teams[*].players.attributes[skill]) to avg(flatten(teams[*].players.attributes[skill])) max 10
"#;

#[test]
fn a_rule_over_an_empty_team_fails() {
    let rules = rule_set(FAIR_TEAMS_FROM_ZERO);
    // Alone, or two on one team, the other team has no average: no match. One on each team
    // is fair (averages 1000 and 1010 around 1005).
    let pool = lines(&[
        ticket("a", 0.0, &[("a", r#""skill":{"N":1000}"#, "")]),
        ticket("b", 1.0, &[("b", r#""skill":{"N":1010}"#, "")]),
        ticket("c", 2.0, &[("c", r#""skill":{"N":3000}"#, "")]),
    ]);
    let (matches, _, result) = run(&rules, &pool, 10.0);
    assert_eq!(groups(&matches), [vec!["a", "b"]]);
    assert_eq!(
        matches[0].teams.iter().map(Vec::len).collect::<Vec<_>>(),
        [1, 1]
    );
    assert_eq!(result.unmatched.len(), 1, "`c` cannot play alone");
}

#[test]
fn string_and_list_rules_say_when_the_tickets_own_players_fail_them() {
    let rules = rule_set(
        r#"attribute queue: string
attribute character: string
attribute roles: string_list
team squad players 1..4 quantity 2
rule ranked: comparison flatten(teams[*].players.attributes[queue]) = "ranked"
rule unique: comparison flatten(teams[*].players.attributes[character]) all different
rule can_fight: collection flatten(teams[*].players.attributes[roles]) reference_intersection_count ["tank", "dps"] min 1
"#,
    );
    let player = |id: &str, queue: &str, character: &str, role: &str| {
        (
            id.to_string(),
            format!(
                r#""queue":{{"S":"{queue}"}},"character":{{"S":"{character}"}},"roles":{{"SL":["{role}"]}}"#
            ),
        )
    };
    let party = |id: &str, start: f64, members: &[(String, String)]| {
        let members: Vec<(&str, &str, &str)> = members
            .iter()
            .map(|(p, a)| (p.as_str(), a.as_str(), ""))
            .collect();
        ticket(id, start, &members)
    };
    let pool = lines(&[
        party(
            "casual",
            0.0,
            &[
                player("c1", "ranked", "elf", "tank"),
                player("c2", "casual", "orc", "tank"),
            ],
        ),
        party(
            "twins",
            1.0,
            &[
                player("t1", "ranked", "elf", "tank"),
                player("t2", "ranked", "elf", "dps"),
            ],
        ),
        party(
            "healers",
            2.0,
            &[
                player("h1", "ranked", "dwarf", "tank"),
                player("h2", "ranked", "gnome", "healer"),
            ],
        ),
        party("a", 3.0, &[player("a", "ranked", "elf", "tank")]),
        party("b", 4.0, &[player("b", "ranked", "orc", "dps")]),
    ]);
    let (matches, pool, result) = run(&rules, &pool, 10.0);
    assert_eq!(groups(&matches), [vec!["a", "b"]]);
    let reasons = reasons(&pool, &result);
    let own =
        |rule: &str| format!("`{rule}`: the ticket's own players fail it, whatever the match");
    assert_eq!(reasons["casual"], [own("ranked")]);
    assert_eq!(reasons["twins"], [own("unique")]);
    assert_eq!(reasons["healers"], [own("can_fight")]);
}

/// FlexMatch's own walkthrough of `minPlayers` expansions and the newest ticket's clock.
const LOBBY: &str = r#"team lobby players 4..8
expand teams[lobby].minPlayers: 30s -> 3, 40s -> 2, 45s -> 1
"#;

#[test]
fn a_newer_ticket_does_not_keep_an_older_one_from_its_expansion() {
    let rules = rule_set(LOBBY);
    let pool = lines(&[
        ticket("first", 0.0, &[("a", "", "")]),
        ticket("second", 10.0, &[("b", "", "")]),
    ]);
    // Together they are judged at the second ticket's age, 35 s: three players needed. The
    // first ticket alone has waited 45 s: one player will do.
    let at = |now: f64| {
        let (matches, _, _) = run(&rules, &pool, now);
        groups(&matches)
    };
    assert!(at(44.0).is_empty());
    assert_eq!(at(45.0), [vec!["first"]]);
    // Once the first has gone, the second waits until its own 45 s (FlexMatch forms the two
    // one-player matches at 45 s and 55 s).
    let alone = lines(&[ticket("second", 10.0, &[("b", "", "")])]);
    let alone_at = |now: f64| {
        let (matches, _, _) = run(&rules, &alone, now);
        groups(&matches)
    };
    assert!(alone_at(50.0).is_empty());
    assert_eq!(alone_at(55.0), [vec!["second"]]);
    // Both still waiting at 50 s: at the second's 40 s two players are enough.
    assert_eq!(at(50.0), [vec!["first", "second"]]);
}

#[test]
fn an_expansion_step_applies_at_its_wait_time_despite_float_rounding() {
    let rules = rule_set(
        r#"attribute skill: number
team duelist players 1 quantity 2
rule close: distance max(flatten(teams[*].players.attributes[skill])) to min(flatten(teams[*].players.attributes[skill])) max 0.3
expand rules[close].maxDistance: 15s -> 100
"#,
    );
    // Started at 1.06 s, the newer ticket is 14.999999999999998 s old at 16.06 s; 0.4 − 0.1
    // is 0.30000000000000004.
    let pool = lines(&[
        ticket("a", 0.0, &[("a", r#""skill":{"N":1000}"#, "")]),
        ticket("b", 1.06, &[("b", r#""skill":{"N":1050}"#, "")]),
        ticket("c", 0.5, &[("c", r#""skill":{"N":0.1}"#, "")]),
        ticket("d", 0.7, &[("d", r#""skill":{"N":0.4}"#, "")]),
    ]);
    let (matches, _, _) = run(&rules, &pool, 16.06);
    assert_eq!(groups(&matches), [vec!["a", "b"], vec!["c", "d"]]);
}

#[test]
fn a_waiting_reason_says_when_an_expansion_lets_the_ticket_pass() {
    let rules = rule_set(
        r#"attribute gamesPlayed: number = 0
team duelist players 1 quantity 2
rule Calibrated: comparison flatten(teams[*].players.attributes[gamesPlayed]) >= 10
expand rules[Calibrated].referenceValue: 60s -> 0
"#,
    );
    let pool = lines(&[ticket(
        "fresh",
        0.0,
        &[("f", r#""gamesPlayed":{"N":3}"#, "")],
    )]);
    let (_, pool, result) = run(&rules, &pool, 59.1);
    assert_eq!(
        reasons(&pool, &result)["fresh"],
        [
            "`Calibrated`: the ticket's own players fail it; it passes after the 60 s expansion, in 0.9 s"
        ]
    );
}
