//! The examples in `docs/dsl.md` are checked here, so the page cannot drift from the language.

use rally_rules::{SourceFormat, check_source, print};

use crate::support::repo_root;

/// The fenced code blocks of a markdown page, with the heading above each and its language.
fn code_blocks(markdown: &str) -> Vec<(String, String, String)> {
    let mut blocks = Vec::new();
    let mut heading = String::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        if let Some(title) = line.strip_prefix('#') {
            heading = title.trim_start_matches('#').trim().to_string();
        } else if let Some(language) = line.strip_prefix("```") {
            let body: Vec<&str> = lines
                .by_ref()
                .take_while(|l| !l.starts_with("```"))
                .collect();
            blocks.push((
                heading.clone(),
                language.to_string(),
                body.join("\n") + "\n",
            ));
        }
    }
    blocks
}

/// What each section's examples need around them to be a whole rule set.
fn scaffold(section: &str) -> &'static str {
    match section {
        "Attributes" | "Teams" | "A first rule set" => "",
        "Algorithm" => "attribute map: string\nattribute skill: number\n",
        // The rules use the attributes the page declares above them (`attributes` is
        // prepended), so the two sections cannot contradict each other.
        "Rules" => {
            "team cowboys players 1..4\nteam aliens players 1..4\nteam monster players 1\n\
             team players players 1..4\n"
        }
        "Expansions" => {
            "attribute skill: number\nteam Red players 5..10\nteam Yellow players 5..10\n\
             rule FairTeamSkill: distance avg(teams[*].players.attributes[skill]) \
             to avg(flatten(teams[*].players.attributes[skill])) max 10\n\
             rule FastConnection: latency max 50ms\n"
        }
        other => panic!("docs/dsl.md has a code block under `{other}`; give it a scaffold here"),
    }
}

#[test]
fn every_dsl_example_in_the_docs_is_valid() {
    let markdown = std::fs::read_to_string(repo_root().join("docs/dsl.md")).unwrap();
    let blocks = code_blocks(&markdown);
    let attributes = blocks
        .iter()
        .find(|(section, language, _)| section == "Attributes" && language.is_empty())
        .map(|(_, _, body)| body.clone())
        .expect("an example under `Attributes`");
    let mut checked_blocks = 0;
    for (section, language, body) in blocks {
        if !language.is_empty() {
            continue;
        }
        let needs_team = !body.contains("team ");
        let mut text = scaffold(&section).to_string();
        if section == "Rules" {
            text = attributes.clone() + &text;
        }
        if needs_team && !text.contains("team ") {
            text.push_str("team solo players 1..2\n");
        }
        text.push_str(&body);
        let checked = check_source(&text, SourceFormat::Dsl);
        assert!(
            checked.is_valid(),
            "docs/dsl.md, section `{section}`:\n{text}\n{:#?}",
            checked.diagnostics
        );
        checked_blocks += 1;
    }
    assert!(
        checked_blocks >= 6,
        "only {checked_blocks} DSL examples found"
    );
}

#[test]
fn the_first_example_is_the_json_beside_it() {
    let markdown = std::fs::read_to_string(repo_root().join("docs/dsl.md")).unwrap();
    let blocks: Vec<_> = code_blocks(&markdown)
        .into_iter()
        .filter(|(section, _, _)| section == "A first rule set")
        .collect();
    let [(_, _, dsl), (_, json_language, json)] = blocks.as_slice() else {
        panic!("expected a DSL block and a JSON block under `A first rule set`");
    };
    assert_eq!(json_language, "json");
    let canonical = |text: &str, format| {
        let checked = check_source(text, format);
        assert!(checked.is_valid(), "{:#?}", checked.diagnostics);
        print::to_json(checked.ast.as_ref().unwrap())
    };
    assert_eq!(
        canonical(dsl, SourceFormat::Dsl),
        canonical(json, SourceFormat::Json)
    );
}

/// `docs/diagnostics.md` is generated from `Code::ALL`; `UPDATE_SNAPSHOTS=1` regenerates it.
#[test]
fn the_diagnostics_reference_lists_every_code() {
    let mut page = String::from(
        "# Diagnostic codes\n\n\
         Every finding of `rally validate` carries one of these codes. Codes are stable: tools may\n\
         match on them. Each has an example under `fixtures/rulesets/invalid/`, named after the\n\
         code, with rally's output beside it in a `.snap` file.\n\n\
         This page is generated from `rules/src/diagnostic.rs` by the test\n\
         `docs::the_diagnostics_reference_lists_every_code` (`UPDATE_SNAPSHOTS=1` rewrites it).\n\n\
         | code | severity | meaning |\n| --- | --- | --- |\n",
    );
    for code in rally_rules::Code::ALL {
        page.push_str(&format!(
            "| `{}` | {} | {} |\n",
            code.as_str(),
            code.severity().as_str(),
            code.summary()
        ));
    }
    let path = repo_root().join("docs/diagnostics.md");
    if let Some(mismatch) = crate::support::check_snapshot(&path, &page) {
        panic!("{mismatch}");
    }
}

/// A `$ rally …` command shown in a page (continued over lines ending in `\`), with the
/// output shown under it.
#[derive(Debug)]
struct Transcript {
    args: Vec<String>,
    expected: Vec<String>,
}

/// Every transcript in the fenced blocks of `markdown`.
fn transcripts(markdown: &str) -> Vec<Transcript> {
    let mut found = Vec::new();
    for (_, _, body) in code_blocks(markdown) {
        let mut lines = body.lines();
        let Some(first) = lines.next() else { continue };
        let Some(command) = first.strip_prefix("$ rally ") else {
            continue;
        };
        let mut command = command.to_string();
        while command.ends_with('\\') {
            command.pop();
            command.push(' ');
            command.push_str(lines.next().unwrap_or("").trim());
        }
        found.push(Transcript {
            args: command.split_whitespace().map(str::to_string).collect(),
            expected: lines.map(str::to_string).collect(),
        });
    }
    found
}

/// Whether one shown line stands for one printed line: equal, or with `…` standing for any
/// text within the line.
fn line_matches(shown: &str, printed: &str) -> bool {
    let parts: Vec<&str> = shown.split('…').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return shown == printed;
    };
    if parts.len() == 1 {
        return shown == printed;
    }
    let Some(mut rest) = printed.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// Whether the shown lines stand for the printed ones: in order, a line of only `…`
/// standing for any number of lines.
fn transcript_matches(shown: &[String], printed: &[&str]) -> bool {
    match shown.split_first() {
        None => printed.is_empty(),
        Some((first, rest)) if first == "…" => {
            (0..=printed.len()).any(|skip| transcript_matches(rest, &printed[skip..]))
        }
        Some((first, rest)) => printed.split_first().is_some_and(|(line, more)| {
            line_matches(first, line) && transcript_matches(rest, more)
        }),
    }
}

/// Every `$ rally …` transcript in the README and `docs/` is what rally prints for it (its
/// standard output, then its standard error).
#[test]
fn every_transcript_in_the_docs_is_what_rally_prints() {
    let mut pages = vec![repo_root().join("README.md")];
    pages.extend(crate::support::files_in(&repo_root().join("docs"), &["md"]));
    let mut checked = 0;
    for page in pages {
        let markdown = std::fs::read_to_string(&page).unwrap();
        for transcript in transcripts(&markdown) {
            let args: Vec<&str> = transcript.args.iter().map(String::as_str).collect();
            let output = crate::support::rally(&args, None);
            let printed = crate::support::stdout(&output) + &crate::support::stderr(&output);
            let printed: Vec<&str> = printed.lines().collect();
            assert!(
                transcript_matches(&transcript.expected, &printed),
                "{}: `rally {}` prints\n{}\nbut the page shows\n{}",
                page.display(),
                args.join(" "),
                printed.join("\n"),
                transcript.expected.join("\n")
            );
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} transcripts found");
}

#[test]
fn transcripts_match_with_elisions() {
    let shown = |lines: &[&str]| lines.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    let printed = [
        "match 1 at us-east-1",
        "  a: p1",
        "  b: p2",
        "2 matches, 40 ms",
    ];
    assert!(transcript_matches(
        &shown(&["match 1 at us-east-1", "…", "2 matches, … ms"]),
        &printed
    ));
    assert!(transcript_matches(&shown(&["…", "  b: p2", "…"]), &printed));
    assert!(!transcript_matches(
        &shown(&["match 1 at us-east-1"]),
        &printed
    ));
    assert!(!transcript_matches(
        &shown(&["…", "  c: p3", "…"]),
        &printed
    ));
    assert!(!transcript_matches(
        &shown(&["…", "3 matches, … ms"]),
        &printed
    ));
}

/// The README's main command works as shown (`cargo run --release --` is the binary): `rally
/// serve` starts on its embedded defaults, serves, and stops cleanly on SIGTERM. It listens
/// on a free port here (`--listen 127.0.0.1:0` added), so the test never meets a server
/// already on 50051.
#[test]
fn the_readmes_main_command_serves() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let block = code_blocks(&readme)
        .into_iter()
        .find(|(section, language, _)| section == "Two commands" && language == "sh")
        .expect("a `sh` block under `Two commands`");
    let commands: Vec<&str> = block
        .2
        .lines()
        .filter_map(|line| line.strip_prefix("cargo run --release -- "))
        .collect();
    assert_eq!(commands, ["serve"]);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rally"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(repo_root())
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run rally serve");
    let mut log = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    // The log ends when the process does: a server that never serves fails here, not hangs.
    while !seen.contains("serving gRPC") {
        let mut line = String::new();
        let read = std::io::BufRead::read_line(&mut log, &mut line).unwrap();
        assert!(read > 0, "rally serve stopped before serving:\n{seen}");
        seen.push_str(&line);
    }
    assert!(
        seen.contains("loaded matchmaking configurations: duel, duel-placed, team-5v5"),
        "{seen}"
    );
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut log, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}: {seen}{rest}");
    assert!(rest.contains("shutting down"), "{rest}");
}
