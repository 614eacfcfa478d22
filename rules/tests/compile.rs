//! What a valid rule set compiles to: typed expressions, defaults, team copies, algorithm
//! defaults and expansion values — the model the matcher will evaluate.

use rally_rules::model::*;
use rally_rules::{Code, SourceFormat, check_source};

fn compile(dsl: &str) -> RuleSet {
    let checked = check_source(dsl, SourceFormat::Dsl);
    assert!(checked.is_valid(), "{:#?}", checked.diagnostics);
    checked.rule_set.expect("a valid rule set compiles")
}

fn codes(dsl: &str) -> Vec<Code> {
    check_source(dsl, SourceFormat::Dsl)
        .diagnostics
        .iter()
        .map(|d| d.code)
        .collect()
}

fn measurement_type(rule_set: &RuleSet, rule: &str) -> Type {
    let rule = rule_set.rule(rule_set.rule_id(rule).unwrap());
    match &rule.kind {
        RuleKind::Comparison(c) => c.measurement.ty.clone(),
        RuleKind::Distance(d) => d.measurement.ty.clone(),
        RuleKind::Collection(c) => c.measurement.ty.clone(),
        other => panic!("{other:?} has no measurement"),
    }
}

#[test]
fn expressions_are_typed_as_flexmatch_describes() {
    let rule_set = compile(
        r#"attribute skill: number = 1000
attribute modes: string_list = ["ctf"]
team red players 1..5
team blue players 1..5
rule per_team: distance avg(teams[*].players.attributes[skill]) to 1000 max 100
rule one_team: comparison count(teams[red].players) = count(teams[blue].players)
rule everyone: distance flatten(teams[*].players.attributes[skill]) to avg(flatten(teams[*].players.attributes[skill])) max 500
rule ids: collection flatten(teams[*].players.attributes[modes]) reference_intersection_count flatten(teams[*].players[playerId]) max 0
"#,
    );
    let number = Type::Number;
    let numbers = Type::list(Type::Number);
    assert_eq!(measurement_type(&rule_set, "per_team"), numbers);
    assert_eq!(measurement_type(&rule_set, "one_team"), number);
    assert_eq!(measurement_type(&rule_set, "everyone"), numbers);
    assert_eq!(
        measurement_type(&rule_set, "ids"),
        Type::list(Type::list(Type::String))
    );
    // `teams[*]` keeps one list per team: the selection is grouped over both teams.
    let RuleKind::Distance(per_team) = &rule_set.rules[0].kind else {
        unreachable!()
    };
    let ExprNode::Call { function, arg } = &per_team.measurement.node else {
        panic!("not a call")
    };
    assert_eq!(*function, Function::Avg);
    assert_eq!(
        arg.node,
        ExprNode::Select {
            teams: vec![TeamId(0), TeamId(1)],
            grouped: true,
            field: SelectField::Attribute(AttributeId(0)),
        }
    );
}

#[test]
fn quantity_makes_numbered_copies_and_a_group() {
    let rule_set = compile(
        "attribute skill: number = 1
team trio players 3..5 quantity 3
team solo players 1
rule sizes: distance max(count(teams[trio].players)) to min(count(teams[trio].players)) max 1
rule first: comparison count(teams[trio_1].players) >= 3
",
    );
    let names: Vec<&str> = rule_set.teams.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["trio_1", "trio_2", "trio_3", "solo"]);
    assert_eq!(rule_set.team_definitions[0].teams, 0..3);
    assert_eq!(rule_set.max_players(), 16);
    // The definition stands for its copies (a group); a copy's name stands for one team.
    assert_eq!(
        measurement_type(&rule_set, "sizes"),
        Type::Number,
        "max over the per-copy counts"
    );
    assert_eq!(measurement_type(&rule_set, "first"), Type::Number);
}

#[test]
fn defaults_are_normalised() {
    let rule_set = compile(
        r#"attribute modes: string_list = ["ctf", "tdm", "ctf"]
attribute maps: string_number_map = {"nuke": 1, "dust": 2}
attribute skill: number
team solo players 1..2
"#,
    );
    assert_eq!(
        rule_set.attributes[0].default,
        Some(AttributeValue::StringList(vec!["ctf".into(), "tdm".into()]))
    );
    assert_eq!(
        rule_set.attributes[1].default,
        Some(AttributeValue::StringNumberMap(vec![
            ("dust".into(), 2.0),
            ("nuke".into(), 1.0)
        ]))
    );
    assert_eq!(rule_set.attributes[2].default, None);
}

#[test]
fn algorithm_defaults_follow_the_strategy() {
    let small = compile("team a players 1..2\n");
    assert_eq!(small.algorithm.strategy, Strategy::ExhaustiveSearch);
    assert_eq!(
        small.algorithm.batching_preference,
        BatchingPreference::Random
    );
    assert_eq!(small.algorithm.backfill_priority, BackfillPriority::Normal);
    assert_eq!(
        small.algorithm.expansion_age_selection,
        ExpansionAgeSelection::Newest
    );

    let large = compile(
        "attribute skill: number = 1
algorithm {
    strategy: balanced
    balancedAttribute: skill
}
team everyone players 50..100
",
    );
    assert_eq!(large.algorithm.strategy, Strategy::Balanced);
    assert_eq!(
        large.algorithm.batching_preference,
        BatchingPreference::LargestPopulation
    );
    assert_eq!(large.algorithm.balanced_attribute, Some(AttributeId(0)));
}

#[test]
fn balanced_on_a_small_match_runs_exhaustive_search_and_keeps_the_attribute() {
    let text = "attribute skill: number = 1
algorithm {
    strategy: balanced
    balancedAttribute: skill
    batchingPreference: fastestRegion
}
team red players 5
team blue players 5
";
    assert_eq!(codes(text), [Code::BalancedSmallMatch]);
    let rule_set = check_source(text, SourceFormat::Dsl).rule_set.unwrap();
    assert_eq!(rule_set.algorithm.strategy, Strategy::ExhaustiveSearch);
    assert_eq!(rule_set.algorithm.balanced_attribute, Some(AttributeId(0)));
}

#[test]
fn literal_string_and_list_references_can_be_expanded() {
    let rule_set = compile(
        r#"attribute mode: string = "ranked"
attribute modes: string_list = ["ctf"]
team red players 2
team blue players 2
// "5" is a string here: the measurement is a string, so the reference is too.
rule mode_is: comparison flatten(teams[*].players.attributes[mode]) = "5"
rule plays_featured: collection flatten(teams[*].players.attributes[modes]) reference_intersection_count ["ctf"] min 1
expand rules[mode_is].referenceValue: 30s -> "casual"
expand rules[plays_featured].referenceValue: 20s -> ["ctf", "tdm"]
"#,
    );
    assert_eq!(
        rule_set.expansions[0].value_at(31.0),
        Some(&StepValue::String("casual".into()))
    );
    assert_eq!(
        rule_set.expansions[1].value_at(25.0),
        Some(&StepValue::StringList(vec!["ctf".into(), "tdm".into()]))
    );
}

#[test]
fn team_bounds_are_checked_at_every_step_in_time() {
    // maxPlayers rises first, so minPlayers may follow it past the old maximum.
    let in_order = "team hunters players 4
team monster players 1
expand teams[hunters].maxPlayers: 5s -> 6
expand teams[hunters].minPlayers: 10s -> 5
";
    assert!(codes(in_order).is_empty(), "{:?}", codes(in_order));
    // The other way round the minimum passes the maximum between 5 s and 10 s.
    let crossed = "team hunters players 4
team monster players 1
expand teams[hunters].maxPlayers: 10s -> 6
expand teams[hunters].minPlayers: 5s -> 5
";
    assert_eq!(codes(crossed), [Code::MinExceedsMax]);
}

#[test]
fn expansions_that_grow_the_match_count_towards_its_size() {
    let rule_set = compile(
        "attribute skill: number = 1
algorithm {
    strategy: balanced
    balancedAttribute: skill
}
team red players 10..20
team blue players 10..20
expand teams[red, blue].maxPlayers: 30s -> 30
",
    );
    assert_eq!(rule_set.max_players(), 40);
    assert_eq!(rule_set.max_players_with_expansions, 60);
    assert!(rule_set.is_large_match());
}

#[test]
fn compound_parts_are_decided_only_through_the_compound_rule() {
    let rule_set = compile(
        "attribute skill: number = 1
team red players 2
team blue players 2
rule close: distance flatten(teams[*].players.attributes[skill]) to avg(flatten(teams[*].players.attributes[skill])) max 50
rule fast: latency max 80ms
rule sorted_by_skill: distanceSort skill ascending
rule either: compound or(close, not(fast))
",
    );
    let deciding: Vec<&str> = rule_set
        .deciding_rules()
        .map(|(_, rule)| rule.name.as_str())
        .collect();
    assert_eq!(deciding, ["either"]);
    let RuleKind::Compound(compound) = &rule_set.rules[3].kind else {
        unreachable!()
    };
    let outcome = |close: bool, fast: bool| {
        compound
            .condition
            .evaluate(&mut |rule| if rule.0 == 0 { close } else { fast })
    };
    assert!(outcome(true, true));
    assert!(outcome(false, false));
    assert!(!outcome(false, true));
}

#[test]
fn messages_use_the_words_of_the_format_written() {
    let dsl = check_source(
        "team a players 1..2\nrule r: distance teams[a].players[playerId] to 1\n",
        SourceFormat::Dsl,
    );
    let json = check_source(
        r#"{"ruleLanguageVersion": "1.0", "teams": [{"name": "a", "minPlayers": 1, "maxPlayers": 2}],
            "rules": [{"name": "r", "type": "latency"}]}"#,
        SourceFormat::Json,
    );
    let message = |checked: &rally_rules::Checked| checked.diagnostics[0].message.clone();
    assert_eq!(message(&dsl), "rule `r` needs a `max` or `min` bound");
    assert_eq!(
        message(&json),
        "rule `r` needs a `maxLatency`, a `maxDistance` or both"
    );
}

#[test]
fn a_misplaced_property_is_one_error_with_a_suggestion() {
    let checked = check_source(
        r#"{"ruleLanguageVersion": "1.0", "teams": [{"name": "a", "minPlayers": 1, "maxPlayers": 2}],
            "playerAttributes": [{"name": "skill", "type": "number"}],
            "rules": [{"name": "r", "type": "distance",
                       "measurements": ["flatten(teams[*].players.attributes[skill])"],
                       "referenceValue": 5, "maxCount": 10}]}"#,
        SourceFormat::Json,
    );
    let found: Vec<(Code, Option<&str>)> = checked
        .diagnostics
        .iter()
        .map(|d| (d.code, d.help.as_deref()))
        .collect();
    assert_eq!(
        found,
        [(
            Code::PropertyNotApplicable,
            Some("did you mean `maxDistance`? `maxCount` belongs to `collection` rules")
        )]
    );
}

/// Found by the mutation proptest: a latency rule whose `maxDistance` only an expansion gives
/// still needs its `distanceReference` to survive conversion to the DSL and back.
#[test]
fn a_reference_waiting_for_its_expanded_distance_converts_both_ways() {
    let json = r#"{"ruleLanguageVersion": "1.0",
        "teams": [{"name": "duelist", "minPlayers": 1, "maxPlayers": 1, "quantity": 2}],
        "rules": [{"name": "FairPing", "type": "latency", "maxLatency": 120, "distanceReference": "min"}],
        "expansions": [{"target": "rules[FairPing].maxDistance", "steps": [{"waitTimeSeconds": 20, "value": 60}]}]}"#;
    let checked = check_source(json, SourceFormat::Json);
    assert!(checked.is_valid(), "{:#?}", checked.diagnostics);
    let dsl = rally_rules::print::to_dsl(checked.ast.as_ref().unwrap());
    assert!(
        dsl.contains("rule FairPing: latency max 120ms distance from min\n"),
        "{dsl}"
    );
    let back = check_source(&dsl, SourceFormat::Dsl);
    assert_eq!(back.rule_set, checked.rule_set);
    let RuleKind::Latency(latency) = &back.rule_set.unwrap().rules[0].kind else {
        unreachable!()
    };
    assert_eq!(latency.distance_reference, Some(DistanceReference::Min));
    assert_eq!(latency.max_distance, None);
}

#[test]
fn strings_with_brackets_stay_strings_unless_they_read_as_expressions() {
    let json = r#"{"ruleLanguageVersion": "1.0",
        "playerAttributes": [{"name": "roles", "type": "string_list", "default": ["flex"]}],
        "teams": [{"name": "squad", "minPlayers": 4, "maxPlayers": 4}],
        "rules": [{"name": "HasMedic", "type": "collection", "operation": "contains",
                   "measurements": ["flatten(teams[*].players.attributes[roles])"],
                   "referenceValue": "medic (field)", "minCount": 1}]}"#;
    let checked = check_source(json, SourceFormat::Json);
    assert!(checked.is_valid(), "{:#?}", checked.diagnostics);
    let RuleKind::Collection(rule) = &checked.rule_set.as_ref().unwrap().rules[0].kind else {
        unreachable!()
    };
    let reference = &rule.reference.as_ref().unwrap().node;
    assert_eq!(reference, &ExprNode::String("medic (field)".into()));
    // It prints back as the same plain JSON string, and as a quoted string in the DSL.
    let ast = checked.ast.as_ref().unwrap();
    assert!(rally_rules::print::to_json(ast).contains(r#""referenceValue": "medic (field)""#));
    assert!(rally_rules::print::to_dsl(ast).contains(r#"contains "medic (field)""#));
}

#[test]
fn a_negative_reference_value_can_be_relaxed_further() {
    let rule_set = compile(
        "attribute trend: number = 0
team a players 2
rule Rising: comparison min(flatten(teams[*].players.attributes[trend])) >= -5
expand rules[Rising].referenceValue: 30s -> -10
",
    );
    assert_eq!(
        rule_set.expansions[0].value_at(30.0),
        Some(&StepValue::Number(-10.0))
    );
}

/// FlexMatch's size limit is on the JSON it receives: DSL comments are free, and a DSL rule
/// set too big as JSON is caught before `rally convert` writes a file FlexMatch would refuse.
#[test]
fn a_dsl_rule_set_is_measured_as_the_json_it_converts_to() {
    let mut commented = String::from("team a players 2\nrule r: latency max 100ms\n");
    for _ in 0..2_000 {
        commented.push_str("// a long comment that FlexMatch never sees, repeated many times\n");
    }
    assert!(commented.len() > rally_rules::MAX_BODY_CHARS);
    assert!(codes(&commented).is_empty(), "{:?}", codes(&commented));

    let mut many_rules = String::from("attribute skill: number = 1\nteam a players 2\n");
    for i in 0..1_000 {
        many_rules.push_str(&format!(
            "rule r{i}: distance flatten(teams[*].players.attributes[skill]) to {i} max 5\n"
        ));
    }
    assert!(many_rules.len() < rally_rules::MAX_BODY_CHARS * 2);
    assert_eq!(codes(&many_rules), [Code::BodyTooLarge]);
}

#[test]
fn an_aggregate_over_a_team_that_may_be_empty_is_a_warning() {
    let teams = "attribute skill: number = 1000\nteam red players 0..5\nteam blue players 1..5\n";
    let warned = |rule: &str| codes(&format!("{teams}{rule}\n")) == [Code::AggregateOverEmptyTeam];
    // One average per team: red's may not exist.
    assert!(warned(
        "rule fair: distance avg(teams[*].players.attributes[skill]) to 1000 max 100"
    ));
    assert!(warned(
        "rule strong: comparison max(teams[red].players.attributes[skill]) >= 10"
    ));
    // Everyone's average exists while blue has a player; counts and sums always exist.
    for quiet in [
        "rule all: distance flatten(teams[*].players.attributes[skill]) to avg(flatten(teams[*].players.attributes[skill])) max 500",
        "rule even: comparison count(teams[red].players) = count(teams[blue].players)",
        "rule total: comparison sum(teams[red].players.attributes[skill]) <= 5000",
        "rule blue: comparison avg(teams[blue].players.attributes[skill]) >= 10",
    ] {
        assert!(codes(&format!("{teams}{quiet}\n")).is_empty(), "{quiet}");
    }
    // An expansion that lowers a minimum to 0 makes a team one that may be empty.
    assert_eq!(
        codes(&format!(
            "{teams}rule blue: comparison avg(teams[blue].players.attributes[skill]) >= 10\nexpand teams[blue].minPlayers: 30s -> 0\n"
        )),
        [Code::AggregateOverEmptyTeam]
    );
}
