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
        "Rules" => {
            "attribute skill: number\nattribute desiredSkillOfMonster: number\n\
             attribute gameMode: string\nattribute modes: string_list\nattribute map: string\nattribute character: string_list\n\
             attribute BlockList: string_list\nattribute mapPreference: string_number_map\n\
             team cowboys players 1..4\nteam aliens players 1..4\nteam monster players 1\n\
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
    let mut checked_blocks = 0;
    for (section, language, body) in code_blocks(&markdown) {
        if !language.is_empty() {
            continue;
        }
        let needs_team = !body.contains("team ");
        let mut text = scaffold(&section).to_string();
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
