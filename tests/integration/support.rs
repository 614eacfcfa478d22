//! Helpers shared by the integration tests: paths, snapshots, round trips and running the
//! `rally` binary.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use rally_rules::{Checked, SourceFormat, check_source, print};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the `rally` binary from the repository root, without colour, feeding it `stdin`.
pub fn rally(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rally"))
        .args(args)
        .current_dir(repo_root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run rally");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("rally finishes")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// A fresh folder of this test process's own.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rally-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The files in `dir` with one of `extensions`, sorted so failures read in a stable order.
pub fn files_in(dir: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| {
            path.extension()
                .and_then(|ext| ext.to_str())
                .is_some_and(|ext| extensions.contains(&ext))
        })
        .collect();
    files.sort();
    files
}

/// Compares `actual` with the snapshot file; `UPDATE_SNAPSHOTS=1` rewrites it instead.
/// Returns a description of the mismatch, if any.
pub fn check_snapshot(snapshot: &Path, actual: &str) -> Option<String> {
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(snapshot, actual).expect("write snapshot");
        return None;
    }
    match std::fs::read_to_string(snapshot) {
        Ok(expected) if expected == actual => None,
        Ok(expected) => Some(format!(
            "{} differs (UPDATE_SNAPSHOTS=1 rewrites it)\n--- expected\n{expected}\n--- actual\n{actual}",
            snapshot.display()
        )),
        Err(_) => Some(format!(
            "{} is missing (UPDATE_SNAPSHOTS=1 writes it)\n--- actual\n{actual}",
            snapshot.display()
        )),
    }
}

pub fn read(path: &Path) -> (String, SourceFormat) {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    let format = SourceFormat::detect(Some(path), &text);
    (text, format)
}

fn describe_errors(checked: &Checked) -> String {
    checked
        .diagnostics
        .iter()
        .map(|d| format!("{}[{}] {}", d.severity.as_str(), d.code, d.message))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Checks that a valid rule set converts to the DSL and back without changing meaning:
/// the canonical JSON and the compiled rule set are identical both ways round, and
/// canonical JSON reads back as itself. Returns the canonical JSON.
pub fn assert_round_trip(name: &str, text: &str, format: SourceFormat) -> String {
    let original = check_source(text, format);
    assert!(
        original.is_valid(),
        "{name} is not valid:\n{}",
        describe_errors(&original)
    );
    let ast = original.ast.as_ref().expect("a valid rule set has a model");
    let json = print::to_json(ast);
    let dsl = print::to_dsl(ast);

    let from_dsl = check_source(&dsl, SourceFormat::Dsl);
    assert!(
        from_dsl.is_valid(),
        "{name}: the DSL it converts to is not valid:\n{}\n{dsl}",
        describe_errors(&from_dsl)
    );
    let json_again = print::to_json(from_dsl.ast.as_ref().expect("model"));
    assert_eq!(
        json, json_again,
        "{name}: JSON → DSL → JSON changed it; the DSL was:\n{dsl}"
    );
    assert_eq!(
        original.rule_set, from_dsl.rule_set,
        "{name}: the DSL compiles to a different rule set"
    );

    let from_json = check_source(&json, SourceFormat::Json);
    assert!(from_json.is_valid(), "{name}: canonical JSON is not valid");
    assert_eq!(
        print::to_json(from_json.ast.as_ref().expect("model")),
        json,
        "{name}: canonical JSON is not stable"
    );
    assert_eq!(print::to_dsl(from_json.ast.as_ref().expect("model")), dsl);
    json
}
