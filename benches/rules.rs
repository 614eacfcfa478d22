//! Parse + validate + compile: the largest published FlexMatch example (JSON and as DSL), and
//! a generated rule set of just under FlexMatch's 65,535-character limit.
//!
//! Targets (issue 2): under 1 ms for the largest published example, under 20 ms for 65,535
//! characters. Run with `cargo bench --bench rules`.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use rally_rules::{MAX_BODY_CHARS, SourceFormat, check_source, print};

/// The largest of FlexMatch's published examples, or of rally's fixtures when the examples
/// folder is not beside the repository.
fn largest_example() -> (String, String) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dirs = [
        root.join("../shared/flexmatch-examples"),
        root.join("fixtures/rulesets"),
    ];
    let dir = dirs
        .iter()
        .find(|dir| dir.is_dir())
        .expect("an examples folder");
    let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| (std::fs::metadata(&path).unwrap().len(), path))
        .collect();
    files.sort();
    let (_, path) = files.pop().expect("at least one JSON rule set");
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    (name, std::fs::read_to_string(path).unwrap())
}

/// A valid rule set of just under `MAX_BODY_CHARS` characters: a 5v5 with many rules of every
/// small-match type and an expansion for each distance rule.
fn generated_max_size() -> String {
    let header = r#"{
    "name": "generated_max_size",
    "ruleLanguageVersion": "1.0",
    "playerAttributes": [
        {"name": "skill", "type": "number", "default": 1500},
        {"name": "modes", "type": "string_list", "default": ["ctf", "tdm"]},
        {"name": "maps", "type": "string_number_map", "default": {"dust": 100}},
        {"name": "blocked", "type": "string_list", "default": []},
        {"name": "region", "type": "string", "default": "eu"}
    ],
    "algorithm": {"strategy": "exhaustiveSearch", "batchingPreference": "sorted", "sortByAttributes": ["region", "skill"]},
    "teams": [{"name": "red", "minPlayers": 4, "maxPlayers": 5}, {"name": "blue", "minPlayers": 4, "maxPlayers": 5}],
    "rules": [
"#;
    let rule = |i: usize| -> String {
        match i % 5 {
            0 => format!(
                r#"        {{"name": "fair_{i}", "description": "team averages within {i} of the match average", "type": "distance", "measurements": ["avg(teams[*].players.attributes[skill])"], "referenceValue": "avg(flatten(teams[*].players.attributes[skill]))", "maxDistance": {i}}}"#
            ),
            1 => format!(
                r#"        {{"name": "sizes_{i}", "type": "comparison", "measurements": ["count(teams[red].players)"], "referenceValue": "count(teams[blue].players)", "operation": "="}}"#
            ),
            2 => format!(
                r#"        {{"name": "modes_{i}", "type": "collection", "operation": "intersection", "measurements": ["flatten(teams[*].players.attributes[modes])"], "minCount": 1}}"#
            ),
            3 => format!(
                r#"        {{"name": "blocks_{i}", "type": "collection", "operation": "reference_intersection_count", "measurements": ["flatten(teams[*].players.attributes[blocked])"], "referenceValue": "flatten(teams[*].players[playerId])", "maxCount": 0}}"#
            ),
            _ => format!(
                r#"        {{"name": "ping_{i}", "type": "latency", "maxLatency": {}}}"#,
                50 + i
            ),
        }
    };
    let expansion = |i: usize| -> String {
        format!(
            r#"        {{"target": "rules[fair_{i}].maxDistance", "steps": [{{"waitTimeSeconds": 5, "value": {}}}, {{"waitTimeSeconds": 15, "value": {}}}]}}"#,
            i + 50,
            i + 100
        )
    };
    let build = |n: usize| -> String {
        let mut text = header.to_string();
        let rules: Vec<String> = (0..n).map(rule).collect();
        text.push_str(&rules.join(",\n"));
        text.push_str("\n    ],\n    \"expansions\": [\n");
        let expansions: Vec<String> = (0..n).filter(|i| i % 5 == 0).map(expansion).collect();
        text.push_str(&expansions.join(",\n"));
        text.push_str("\n    ]\n}\n");
        text
    };
    let mut n = 1;
    while build(n + 1).chars().count() <= MAX_BODY_CHARS {
        n += 1;
    }
    let mut text = build(n);
    // Pad with whitespace to land exactly on the limit.
    let missing = MAX_BODY_CHARS - text.chars().count();
    let _ = write!(text, "{}", " ".repeat(missing));
    text
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_validate_compile");

    let (name, example) = largest_example();
    let checked = check_source(&example, SourceFormat::Json);
    assert!(checked.is_valid(), "{name}: {:?}", checked.diagnostics);
    let example_dsl = print::to_dsl(checked.ast.as_ref().unwrap());
    group.bench_function(format!("largest_example_json/{name}"), |b| {
        b.iter(|| check_source(black_box(&example), SourceFormat::Json))
    });
    group.bench_function(format!("largest_example_dsl/{name}"), |b| {
        b.iter(|| check_source(black_box(&example_dsl), SourceFormat::Dsl))
    });

    let generated = generated_max_size();
    assert_eq!(generated.chars().count(), MAX_BODY_CHARS);
    let checked = check_source(&generated, SourceFormat::Json);
    assert!(checked.is_valid(), "{:?}", checked.diagnostics);
    let rules = checked.rule_set.as_ref().unwrap().rules.len();
    let generated_dsl = print::to_dsl(checked.ast.as_ref().unwrap());
    group.bench_function(format!("65535_chars_json/{rules}_rules"), |b| {
        b.iter(|| check_source(black_box(&generated), SourceFormat::Json))
    });
    group.bench_function(format!("65535_chars_as_dsl/{rules}_rules"), |b| {
        b.iter(|| check_source(black_box(&generated_dsl), SourceFormat::Dsl))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
