//! The pool's tests: resolution, refusals, removal and what interned strings it keeps.

use super::*;
use crate::ticket::json::parse_ticket;
use rally_base::ErrorKind;
use rally_rules::model::TeamId;
use rally_rules::{SourceFormat, check_source};

fn pool(dsl: &str) -> Pool {
    let checked = check_source(dsl, SourceFormat::Dsl);
    assert!(checked.is_valid(), "{:?}", checked.diagnostics);
    Pool::new(Arc::new(checked.rule_set.unwrap()))
}

const RULES: &str = r#"attribute skill: number = 1000
attribute modes: string_list = ["ctf"]
attribute rank: number
team red players 1..3
team blue players 1..3
rule ping: latency max 100ms
"#;

#[test]
fn resolves_attributes_defaults_and_latencies() {
    let mut pool = pool(RULES);
    let key = pool
        .insert(&parse_ticket(r#"{"TicketId":"t1","StartTime":5,"Players":[{"PlayerId":"p1","PlayerAttributes":{"rank":{"N":3},"modes":{"SL":["tdm","ctf","tdm"]}},"LatencyInMs":{"us-east-1":40,"eu-west-1":90}}]}"#).unwrap())
        .unwrap();
    let ticket = pool.ticket(key);
    let player = &ticket.players[0];
    assert_eq!(player.values[0], Value::Number(1000.0), "default applied");
    let tdm = pool.symbol("tdm").unwrap();
    let ctf = pool.symbol("ctf").unwrap();
    assert_eq!(player.values[1], Value::StringList(vec![tdm, ctf].into()));
    assert_eq!(player.values[2], Value::Number(3.0));
    let us = LocationId(pool.locations().get("us-east-1").unwrap());
    assert_eq!(player.latency(us), Some(40));
    assert!(ticket.unmatchable().is_empty());
    assert_eq!(ticket.age(12.0), 7.0);
}

#[test]
fn tickets_that_can_never_match_say_why() {
    let mut pool = pool(RULES);
    let key = pool
        .insert(&parse_ticket(r#"{"TicketId":"t1","Players":[{"PlayerId":"p1"},{"PlayerId":"p2","PlayerAttributes":{"rank":{"N":1}}},{"PlayerId":"p3","PlayerAttributes":{"rank":{"N":1}}},{"PlayerId":"p4","PlayerAttributes":{"rank":{"N":1}}}]}"#).unwrap())
        .unwrap();
    let reasons = pool.ticket(key).unmatchable();
    assert!(
        reasons.contains(
            &"player `p1` has no `rank`, and the rule set gives it no default".to_string()
        ),
        "{reasons:?}"
    );
    assert!(reasons.contains(
        &"the rule set has a latency rule, and player `p2` reports no latency".to_string()
    ));
    assert!(
        reasons.contains(&"a party of 4 does not fit any team; the largest holds 3".to_string())
    );
}

#[test]
fn refuses_contradictions_and_keeps_the_pool_unchanged() {
    let mut pool = pool(RULES);
    let ok =
        r#"{"TicketId":"t1","Players":[{"PlayerId":"p1","PlayerAttributes":{"rank":{"N":1}}}]}"#;
    pool.insert(&parse_ticket(ok).unwrap()).unwrap();
    let again = pool.insert(&parse_ticket(ok).unwrap()).unwrap_err();
    assert_eq!(again.0.path, "TicketId");
    assert_eq!(again.kind(), ErrorKind::AlreadyExists);
    let same_player = r#"{"TicketId":"t2","Players":[{"PlayerId":"p1"}]}"#;
    let error = pool
        .insert(&parse_ticket(same_player).unwrap())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "`Players[0].PlayerId`: player `p1` is already in ticket `t1`"
    );
    assert_eq!(error.kind(), ErrorKind::AlreadyExists);
    let wrong_type = r#"{"TicketId":"t3","Players":[{"PlayerId":"p3","PlayerAttributes":{"skill":{"S":"high"}}}]}"#;
    let error = pool.insert(&parse_ticket(wrong_type).unwrap()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "`Players[0].PlayerAttributes.skill`: the rule set declares `skill` as a number (`N`), found `S`"
    );
    assert_eq!(error.kind(), ErrorKind::InvalidArgument);
    assert_eq!(pool.len(), 1);
    assert!(
        pool.symbol("high").is_none(),
        "a refused ticket leaves no strings behind"
    );
}

#[test]
fn attributes_the_rule_set_does_not_declare_are_found() {
    let rule_set = pool(RULES).rule_set().clone();
    let ticket = parse_ticket(r#"{"TicketId":"t1","Players":[{"PlayerId":"p1","PlayerAttributes":{"skil":{"N":3},"rank":{"N":1},"colour":{"S":"red"}}}]}"#).unwrap();
    let found: Vec<String> = undeclared_attributes(&rule_set, &ticket)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        found,
        [
            "`Players[0].PlayerAttributes.colour`: the rule set declares no attribute `colour`; it declares `skill`, `modes` and `rank`",
            "`Players[0].PlayerAttributes.skil`: the rule set declares no attribute `skil`; did you mean `skill`?",
        ]
    );
}

#[test]
fn backfill_players_keep_their_teams() {
    let mut pool = pool(RULES);
    let key = pool
        .insert(&parse_ticket(r#"{"TicketId":"b1","GameSessionArn":"arn:gs/1","Players":[{"PlayerId":"p1","Team":"red","PlayerAttributes":{"rank":{"N":1}},"LatencyInMs":{"a":1}},{"PlayerId":"p2","Team":"blue","PlayerAttributes":{"rank":{"N":1}},"LatencyInMs":{"a":1}}]}"#).unwrap())
        .unwrap();
    let ticket = pool.ticket(key);
    assert!(ticket.is_backfill());
    assert_eq!(ticket.players[0].team(), Some(TeamId(0)));
    assert_eq!(ticket.players[1].team(), Some(TeamId(1)));
    let unknown = r#"{"TicketId":"b2","GameSessionArn":"arn:gs/2","Players":[{"PlayerId":"q1","Team":"green"}]}"#;
    let error = pool.insert(&parse_ticket(unknown).unwrap()).unwrap_err();
    assert_eq!(error.0.path, "Players[0].Team");
    assert_eq!(error.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn removed_tickets_free_their_ids_and_slots() {
    let mut pool = pool(RULES);
    let t =
        r#"{"TicketId":"t1","Players":[{"PlayerId":"p1","PlayerAttributes":{"rank":{"N":1}}}]}"#;
    let key = pool.insert(&parse_ticket(t).unwrap()).unwrap();
    assert!(pool.remove(key).is_some());
    assert!(pool.is_empty());
    let again = pool.insert(&parse_ticket(t).unwrap()).unwrap();
    assert_eq!(again, key, "the slot is reused");
    assert_eq!(pool.keys().collect::<Vec<_>>(), [key]);
}

#[test]
fn strings_no_ticket_holds_are_forgotten() {
    let mut pool = pool(
        r#"attribute modes: string_list = ["ctf"]
attribute rank: number = 1
attribute BlockList: string_list = []
team red players 1
team blue players 1
rule blocks: collection flatten(teams[*].players.attributes[BlockList]) reference_intersection_count flatten(teams[*].players[playerId]) max 0
"#,
    );
    let baseline = pool.strings().len();
    let mut keys = Vec::new();
    for n in 0..50 {
        let ticket = format!(
            r#"{{"TicketId":"t{n}","Players":[{{"PlayerId":"p{n}","PlayerAttributes":{{"modes":{{"SL":["m{n}","m{n}","ctf"]}},"BlockList":{{"SL":["p{}"]}}}}}}]}}"#,
            n + 1
        );
        keys.push(pool.insert(&parse_ticket(&ticket).unwrap()).unwrap());
    }
    assert!(pool.symbol("m7").is_some() && pool.symbol("p7").is_some());
    // `p8` is both a player id and in `p7`'s block list: two holders.
    pool.remove(keys[8]);
    assert!(
        pool.symbol("p8").is_some(),
        "p7's block list still holds it"
    );
    for key in keys {
        pool.remove(key);
    }
    assert_eq!(
        pool.strings().len(),
        baseline,
        "only the rules' literals remain"
    );
    assert!(pool.symbol("m7").is_none() && pool.symbol("p8").is_none());
    // A refused ticket gives back what it interned before the error.
    let refused = r#"{"TicketId":"x","Players":[{"PlayerId":"q1","PlayerAttributes":{"modes":{"SL":["fresh"]},"rank":{"S":"high"}}}]}"#;
    assert!(pool.insert(&parse_ticket(refused).unwrap()).is_err());
    assert!(pool.symbol("fresh").is_none());
    assert_eq!(pool.strings().len(), baseline);
}

#[test]
fn a_ticket_built_in_code_is_checked_and_its_maps_sorted() {
    use crate::ticket::{NewPlayer, NewTicket};
    use rally_rules::model::AttributeValue;
    let mut pool = pool("attribute roles: string_number_map = {}\nteam red players 1\n");
    let mut player = NewPlayer::new("p1");
    player.attributes.insert(
        "roles".into(),
        AttributeValue::StringNumberMap(vec![("tank".into(), 2.0), ("heal".into(), 1.0)]),
    );
    let mut ticket = NewTicket {
        id: "t1".into(),
        start_time: f64::NAN,
        players: vec![player],
        game_session_arn: None,
    };
    let error = pool.insert(&ticket).unwrap_err();
    assert_eq!(error.0.path, "StartTime");
    assert_eq!(error.kind(), ErrorKind::InvalidArgument);
    assert!(pool.is_empty());
    ticket.start_time = 0.0;
    let key = pool.insert(&ticket).unwrap();
    let (heal, tank) = (pool.symbol("heal").unwrap(), pool.symbol("tank").unwrap());
    assert_eq!(
        pool.ticket(key).players[0].values[0],
        Value::StringNumberMap(vec![(heal, 1.0), (tank, 2.0)].into())
    );
}

#[test]
fn a_pool_out_of_location_ids_refuses_a_new_location_as_a_precondition() {
    use crate::ticket::{NewPlayer, NewTicket};
    let mut pool = pool("team red players 1\n");
    let solo = |id: &str, locations: std::ops::Range<u32>| {
        let mut player = NewPlayer::new(format!("{id}p"));
        player.latencies = locations.map(|l| (format!("l{l}"), 10)).collect();
        NewTicket {
            id: id.into(),
            start_time: 0.0,
            players: vec![player],
            game_session_arn: None,
        }
    };
    pool.insert(&solo("t1", 0..65_536)).unwrap();
    let error = pool.insert(&solo("t2", 65_536..65_537)).unwrap_err();
    assert_eq!(error.0.path, "Players[0].LatencyInMs.l65536");
    assert_eq!(error.kind(), ErrorKind::FailedPrecondition);
    assert!(
        pool.insert(&solo("t3", 0..2)).is_ok(),
        "locations it knows still do"
    );
}
