//! FlexMatch's 11 published example rule sets, read from `../shared/flexmatch-examples` (never
//! copied into this repository). CI sets `RALLY_FLEXMATCH_EXAMPLES`, which makes a missing
//! folder a failure rather than a skip.

use std::path::PathBuf;

use rally_rules::model::{BatchingPreference, Strategy};
use rally_rules::{Code, check_source};

use crate::support::{assert_round_trip, files_in, read, repo_root};

fn examples_dir() -> Option<PathBuf> {
    match std::env::var_os("RALLY_FLEXMATCH_EXAMPLES") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            assert!(
                dir.is_dir(),
                "RALLY_FLEXMATCH_EXAMPLES names {}, which is not a folder",
                dir.display()
            );
            Some(dir)
        }
        None => {
            let dir = repo_root().join("../shared/flexmatch-examples");
            if dir.is_dir() {
                Some(dir)
            } else {
                eprintln!(
                    "skipping: {} is missing and RALLY_FLEXMATCH_EXAMPLES is unset",
                    dir.display()
                );
                None
            }
        }
    }
}

#[test]
fn all_eleven_published_examples_validate_and_round_trip() {
    let Some(dir) = examples_dir() else { return };
    let files = files_in(&dir, &["json"]);
    assert_eq!(
        files.len(),
        11,
        "expected the 11 published examples in {}",
        dir.display()
    );
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (text, format) = read(&path);
        assert_round_trip(&name, &text, format);
    }
}

/// The published examples bend JSON and the docs in known ways; rally accepts each with a
/// warning that says so, and warns about nothing else.
#[test]
fn published_examples_warn_only_where_the_docs_bend() {
    let Some(dir) = examples_dir() else { return };
    let expected: &[(&str, &[Code])] = &[
        ("01-two-teams-evenly-matched.json", &[Code::JsonComment]),
        ("02-uneven-teams-hunters-vs-monster.json", &[]),
        (
            "03-team-requirements-and-latency-limits.json",
            &[Code::JsonComment],
        ),
        ("04-explicit-sorting.json", &[Code::JsonComment]),
        ("05-intersections-across-player-attributes.json", &[]),
        ("06-compare-attributes-across-players.json", &[]),
        ("07-large-match.json", &[Code::TrailingComma]),
        ("08-multi-team-large-match.json", &[]),
        ("09-large-match-similar-attributes-batchdistance.json", &[]),
        ("10-compound-rule.json", &[Code::BalancedSmallMatch]),
        ("11-player-block-list.json", &[]),
    ];
    for (file, codes) in expected {
        let (text, format) = read(&dir.join(file));
        let checked = check_source(&text, format);
        let found: Vec<Code> = checked.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(&found, codes, "{file}");
    }
}

#[test]
fn published_examples_compile_to_the_documented_structure() {
    let Some(dir) = examples_dir() else { return };
    let compile = |file: &str| {
        let (text, format) = read(&dir.join(file));
        check_source(&text, format).rule_set.expect(file)
    };
    // Example 3: `quantity: 3` makes three teams named `trio_1`..`trio_3`.
    let three_teams = compile("03-team-requirements-and-latency-limits.json");
    let names: Vec<&str> = three_teams.teams.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["trio_1", "trio_2", "trio_3"]);
    // Example 8 counts quantity when sizing: 10 × 15 hunters + 5 monsters = 155 players.
    let hunters = compile("08-multi-team-large-match.json");
    assert_eq!(hunters.max_players(), 155);
    assert!(hunters.is_large_match());
    // Example 10: the compound rule's parts are evaluated only through it.
    let compound = compile("10-compound-rule.json");
    let in_compound: Vec<bool> = compound.rules.iter().map(|r| r.in_compound).collect();
    assert_eq!(in_compound, [true, true, true, true, false]);
    assert_eq!(compound.deciding_rules().count(), 1);
    // ...and its `balanced` strategy for 40 players runs as exhaustiveSearch, keeping the
    // declared batching preference and the attribute to balance teams on.
    assert_eq!(compound.algorithm.strategy, Strategy::ExhaustiveSearch);
    assert_eq!(
        compound.algorithm.batching_preference,
        BatchingPreference::FastestRegion
    );
    assert_eq!(
        compound.algorithm.balanced_attribute,
        compound.attribute_id("skill")
    );
}
