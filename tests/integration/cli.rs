//! `rally validate` and `rally convert` run as a user runs them: exit statuses, output shapes,
//! standard input.

use crate::support::{rally, stderr, stdout, temp_dir};

const VALID: &str = r#"{"ruleLanguageVersion": "1.0",
  "playerAttributes": [{"name": "skill", "type": "number", "default": 1000}],
  "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 1},
            {"name": "blue", "minPlayers": 1, "maxPlayers": 1}],
  "rules": [{"name": "close", "type": "distance",
             "measurements": ["flatten(teams[*].players.attributes[skill])"],
             "referenceValue": "avg(flatten(teams[*].players.attributes[skill]))",
             "maxDistance": 100}]}"#;

const INVALID: &str = r#"{"ruleLanguageVersion": "1.0",
  "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 1}],
  "rules": [{"name": "close", "type": "distance",
             "measurements": ["flatten(teams[*].players.attributes[skil])"],
             "referenceValue": 3, "maxDistance": 100}]}"#;

#[test]
fn validate_exits_zero_for_valid_rule_sets() {
    let output = rally(&["validate", "-", "--from", "json"], Some(VALID));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "<stdin>: valid\n");
}

#[test]
fn validate_exits_one_and_explains_invalid_rule_sets() {
    let output = rally(&["validate", "-", "--from", "json"], Some(INVALID));
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.starts_with(
            "error[unknown-attribute]: unknown player attribute `skil`\n --> <stdin>:4:68\n"
        ),
        "{text}"
    );
    assert!(text.ends_with("<stdin>: invalid (1 error)\n"), "{text}");
    assert!(!text.contains('\x1b'), "no colour when not a terminal");
}

#[test]
fn validate_json_output_has_the_documented_shape() {
    let output = rally(
        &["validate", "--format", "json", "-", "--from", "json"],
        Some(INVALID),
    );
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let file = &report["files"][0];
    assert_eq!(file["file"], "<stdin>");
    assert_eq!(file["valid"], false);
    let diagnostic = &file["diagnostics"][0];
    assert_eq!(diagnostic["severity"], "error");
    assert_eq!(diagnostic["code"], "unknown-attribute");
    assert_eq!(diagnostic["line"], 4);
    assert_eq!(diagnostic["column"], 68);
    assert_eq!(diagnostic["end_line"], 4);
    assert_eq!(diagnostic["end_column"], 72);
    assert!(diagnostic["message"].as_str().unwrap().contains("`skil`"));
    assert_eq!(diagnostic["help"], "declare it in `playerAttributes`");
}

#[test]
fn validate_reports_every_file_and_fails_if_any_is_invalid() {
    let dir = temp_dir("validate-many");
    let valid = dir.join("valid.json");
    let invalid = dir.join("invalid.json");
    std::fs::write(&valid, VALID).unwrap();
    std::fs::write(&invalid, INVALID).unwrap();
    let (valid, invalid) = (valid.to_str().unwrap(), invalid.to_str().unwrap());

    let output = rally(&["validate", valid, invalid], None);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains(&format!("{valid}: valid\n")), "{text}");
    assert!(
        text.contains(&format!("{invalid}: invalid (1 error)\n")),
        "{text}"
    );

    // An unreadable file is an I/O error: exit 2, reported on stderr, the others still checked.
    let missing = dir.join("missing.json");
    let output = rally(&["validate", invalid, missing.to_str().unwrap()], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cannot read"),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).contains(&format!("{invalid}: invalid")));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn validate_without_files_is_a_usage_error() {
    let output = rally(&["validate"], None);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn convert_round_trips_through_the_dsl_on_stdin() {
    let to_dsl = rally(
        &["convert", "-", "--from", "json", "--to", "dsl"],
        Some(VALID),
    );
    assert_eq!(to_dsl.status.code(), Some(0), "{}", stderr(&to_dsl));
    let dsl = stdout(&to_dsl);
    assert!(
        dsl.contains("rule close: distance flatten(teams[*].players.attributes[skill])"),
        "{dsl}"
    );
    let back = rally(&["convert", "-", "--to", "json"], Some(&dsl));
    assert_eq!(back.status.code(), Some(0), "{}", stderr(&back));
    let direct = rally(
        &["convert", "-", "--from", "json", "--to", "json"],
        Some(VALID),
    );
    assert_eq!(stdout(&back), stdout(&direct));
}

#[test]
fn convert_refuses_invalid_rule_sets() {
    let output = rally(
        &["convert", "-", "--from", "json", "--to", "dsl"],
        Some(INVALID),
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).is_empty());
    assert!(stderr(&output).contains("unknown-attribute"));
    assert!(stderr(&output).contains("nothing converted"));
}

#[test]
fn convert_writes_to_a_file_when_asked() {
    let dir = temp_dir("convert-output");
    let out = dir.join("out.rules");
    let output = rally(
        &[
            "convert",
            "-",
            "--from",
            "json",
            "--to",
            "dsl",
            "-o",
            out.to_str().unwrap(),
        ],
        Some(VALID),
    );
    assert_eq!(output.status.code(), Some(0));
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.contains("team red players 1\n"), "{written}");
    std::fs::remove_dir_all(&dir).unwrap();
}
