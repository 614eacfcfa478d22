//! The fixture corpus: `fixtures/rulesets/*.{json,rules}` must be valid and round-trip, and
//! each file in `fixtures/rulesets/invalid/` must yield the diagnostic its name gives
//! (`<code>.json`, or `<code>--<variant>.rules`) with output matching its `.snap` file.

use std::collections::BTreeSet;

use rally_rules::diagnostic::{RenderStyle, render};
use rally_rules::{Code, SourceFormat, check_source};

use crate::support::{assert_round_trip, check_snapshot, files_in, read, repo_root};

#[test]
fn valid_fixtures_validate_without_warnings_and_round_trip() {
    let dir = repo_root().join("fixtures/rulesets");
    let files = files_in(&dir, &["json", "rules"]);
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (text, format) = read(&path);
        let checked = check_source(&text, format);
        assert!(
            checked.diagnostics.is_empty(),
            "{name}: {:?}",
            checked.diagnostics
        );
        assert_round_trip(&name, &text, format);
    }
}

/// `x.json` and `x.rules` side by side are the same rule set written twice.
#[test]
fn json_and_dsl_twins_are_the_same_rule_set() {
    let dir = repo_root().join("fixtures/rulesets");
    for json_path in files_in(&dir, &["json"]) {
        let dsl_path = json_path.with_extension("rules");
        if !dsl_path.exists() {
            continue;
        }
        let (json_text, _) = read(&json_path);
        let (dsl_text, _) = read(&dsl_path);
        let from_json = check_source(&json_text, SourceFormat::Json);
        let from_dsl = check_source(&dsl_text, SourceFormat::Dsl);
        assert_eq!(
            rally_rules::print::to_json(from_json.ast.as_ref().unwrap()),
            rally_rules::print::to_json(from_dsl.ast.as_ref().unwrap()),
            "{} and its .rules twin differ",
            json_path.display()
        );
    }
}

fn expected_code(file_name: &str) -> Option<Code> {
    let stem = file_name.split('.').next()?;
    let code = stem.split("--").next()?;
    Code::ALL.iter().copied().find(|c| c.as_str() == code)
}

#[test]
fn each_invalid_fixture_yields_its_diagnostic_and_matches_its_snapshot() {
    let dir = repo_root().join("fixtures/rulesets/invalid");
    let mut failures = Vec::new();
    for path in files_in(&dir, &["json", "rules"]) {
        let file_name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(code) = expected_code(&file_name) else {
            failures.push(format!(
                "{file_name}: the name does not start with a diagnostic code"
            ));
            continue;
        };
        let (text, format) = read(&path);
        let checked = check_source(&text, format);
        if !checked.diagnostics.iter().any(|d| d.code == code) {
            failures.push(format!(
                "{file_name}: expected `{code}`, found {:?}",
                checked
                    .diagnostics
                    .iter()
                    .map(|d| d.code.as_str())
                    .collect::<Vec<_>>()
            ));
        }
        if code.severity() == rally_rules::Severity::Error && checked.is_valid() {
            failures.push(format!("{file_name}: expected to be invalid"));
        }
        let display_name = format!("fixtures/rulesets/invalid/{file_name}");
        let rendered = render(
            &checked.diagnostics,
            &display_name,
            &text,
            RenderStyle::default(),
        );
        let snapshot = path.with_file_name(format!("{file_name}.snap"));
        failures.extend(check_snapshot(&snapshot, &rendered));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_diagnostic_code_has_an_invalid_fixture() {
    let dir = repo_root().join("fixtures/rulesets/invalid");
    let covered: BTreeSet<Code> = files_in(&dir, &["json", "rules"])
        .iter()
        .filter_map(|path| expected_code(&path.file_name()?.to_string_lossy()))
        .collect();
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|code| !covered.contains(code))
        .map(|code| code.as_str())
        .collect();
    assert!(missing.is_empty(), "no fixture for: {}", missing.join(", "));
}

#[test]
fn every_snapshot_belongs_to_a_fixture() {
    let dir = repo_root().join("fixtures/rulesets/invalid");
    for snapshot in files_in(&dir, &["snap"]) {
        let fixture = snapshot.with_extension("");
        assert!(fixture.exists(), "{} has no fixture", snapshot.display());
    }
}
