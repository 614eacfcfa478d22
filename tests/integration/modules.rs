//! Each core crate's modules import one another without a cycle: reading its `src/` file by
//! file, every path through `crate::`, `super::` or a child module is an edge from the
//! importing module to the imported one, and the graph of the crate's modules, and within
//! each directory module the graph of its files (`mod.rs`, their parent, aside), must be
//! acyclic. Inline `#[cfg(test)]` modules are left out: a test may read any module it needs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A source file by its path under `src/` (`ast.rs`, `check/mod.rs`) and its text.
type Sources = Vec<(String, String)>;

/// A directed graph by node name.
type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn the_modules_of_each_core_crate_import_one_another_without_a_cycle() {
    // A file each crate has, and an edge it is known to have, so that a reader that finds
    // nothing cannot pass.
    let crates = [
        ("rules", "check/mod.rs", ("check", "expr")),
        ("matchmaker", "pool/mod.rs", ("pool", "filters")),
        ("placement", "placer/mod.rs", ("placer", "model")),
        ("base", "lib.rs", ("crate", "time")),
        ("engine", "engine/mod.rs", ("engine", "tickets")),
        ("sim", "simulation.rs", ("simulation", "agenda")),
    ];
    for (name, file, (from, to)) in crates {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
        let sources = read_sources(&root.join("src"));
        assert!(
            sources.iter().any(|(path, _)| path == file),
            "{name}: the sources were not found"
        );
        let graphs = module_graphs(&sources);
        let crate_graph = &graphs["crate"];
        let edge = crate_graph
            .get(from)
            .is_some_and(|to_all| to_all.contains(to))
            || (from == "crate" && crate_graph.contains_key(to));
        assert!(
            edge,
            "{name}: the edge {from} -> {to} was not found: {graphs:?}"
        );
        for (scope, graph) in &graphs {
            if let Some(cycle) = find_cycle(graph) {
                panic!("{name}: an import cycle in {scope}: {}", cycle.join(" -> "));
            }
        }
    }
}

#[test]
fn a_cycle_between_modules_is_found() {
    let sources = sources(&[
        ("lib.rs", "mod ast;\nmod expr;\nmod span;"),
        (
            "ast.rs",
            "use crate::expr::{Expr, Statement};\nuse crate::span::Span;",
        ),
        ("expr.rs", "use crate::{ast::{self, Target}, span};"),
        ("span.rs", "pub struct Span;"),
    ]);
    let cycle = find_cycle(&module_graphs(&sources)["crate"]);
    assert_eq!(cycle, Some(names(&["ast", "expr", "ast"])));
}

#[test]
fn a_cycle_through_a_path_in_code_is_found() {
    let sources = sources(&[
        ("lib.rs", "mod a;\nmod b;"),
        ("a.rs", "use crate::b::f;"),
        ("b.rs", "fn g() { crate::a::h(); }"),
    ]);
    let cycle = find_cycle(&module_graphs(&sources)["crate"]);
    assert_eq!(cycle, Some(names(&["a", "b", "a"])));
}

#[test]
fn a_cycle_between_the_files_of_a_directory_module_is_found() {
    let files = sources(&[
        ("lib.rs", "mod check;"),
        (
            "check/mod.rs",
            "mod rules;\nmod types;\nuse types::type_expr;",
        ),
        (
            "check/rules.rs",
            "use super::*;\nuse super::types::type_expr;",
        ),
        ("check/types.rs", "use super::rules::check_rule;"),
    ]);
    let graphs = module_graphs(&files);
    assert_eq!(find_cycle(&graphs["crate"]), None);
    assert_eq!(
        find_cycle(&graphs["check/"]),
        Some(names(&["rules", "types", "rules"]))
    );
    // Between a parent and its children, edges both ways are no cycle.
    let parent_and_child = sources(&[
        ("lib.rs", "mod check;"),
        ("check/mod.rs", "mod rules;\nuse rules::check_rule;"),
        ("check/rules.rs", "use super::Checker;"),
    ]);
    assert_eq!(
        find_cycle(&module_graphs(&parent_and_child)["check/"]),
        None
    );
}

#[test]
fn comments_strings_and_test_modules_are_no_imports() {
    let sources = sources(&[
        ("lib.rs", "mod a;\nmod b;"),
        (
            "a.rs",
            "//! Read by [`crate::b`].\nuse crate::b::f;\n/* crate::b */\nfn g() -> &'static str { \"crate::b\" }",
        ),
        (
            "b.rs",
            "fn f() { let c = '{'; }\n#[cfg(test)]\nmod tests {\n    use crate::a::g;\n    const S: &str = \"}\";\n}\n/// See crate::a.\nfn h() {}",
        ),
    ]);
    let graphs = module_graphs(&sources);
    assert_eq!(find_cycle(&graphs["crate"]), None, "{graphs:?}");
    assert_eq!(graphs["crate"]["a"], BTreeSet::from(["b".to_string()]));
}

#[test]
fn an_inline_module_is_part_of_its_file() {
    let sources = sources(&[
        ("lib.rs", "mod a;\nmod b;"),
        (
            "a.rs",
            "fn f() {}\nmod inner {\n    use super::f;\n    fn g() { crate::b::h(); }\n}",
        ),
        ("b.rs", "pub fn h() {}"),
    ]);
    let graph = &module_graphs(&sources)["crate"];
    assert_eq!(graph["a"], BTreeSet::from(["b".to_string()]));
    assert_eq!(graph["crate"], BTreeSet::new());
}

fn names(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| name.to_string()).collect()
}

fn sources(files: &[(&str, &str)]) -> Sources {
    files
        .iter()
        .map(|(path, text)| (path.to_string(), text.to_string()))
        .collect()
}

/// Every `.rs` file under `dir`, by its path relative to `dir` with `/` separators.
fn read_sources(dir: &Path) -> Sources {
    let mut sources = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).expect("src/ is readable") {
            let path = entry.expect("src/ is readable").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let relative = path.strip_prefix(dir).expect("under src/");
                let name = relative
                    .components()
                    .map(|part| part.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                let text = std::fs::read_to_string(&path).expect("a source file is readable");
                sources.push((name, text));
            }
        }
    }
    sources.sort();
    sources
}

/// Where a file sits: its top-level module (`crate` for `lib.rs`) and, inside a directory
/// module, its file (`mod` for `mod.rs`).
struct Place {
    top: String,
    file: Option<String>,
}

fn place(path: &str) -> Place {
    let parts: Vec<&str> = path.trim_end_matches(".rs").split('/').collect();
    match parts.as_slice() {
        ["lib"] => Place {
            top: "crate".to_string(),
            file: None,
        },
        [top] => Place {
            top: top.to_string(),
            file: None,
        },
        [top, file, ..] => Place {
            top: top.to_string(),
            file: Some(file.to_string()),
        },
        [] => unreachable!("a path has a name"),
    }
}

/// The crate's graph under the key `crate`, and each directory module's graph of its files
/// under `<dir>/`. Every module and file is a node, edges or not.
fn module_graphs(sources: &Sources) -> BTreeMap<String, Graph> {
    let mut children: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut tops: BTreeSet<String> = BTreeSet::new();
    for (path, _) in sources {
        let place = place(path);
        if let Some(file) = place.file {
            children.entry(place.top.clone()).or_default().insert(file);
        }
        tops.insert(place.top);
    }
    let mut graphs: BTreeMap<String, Graph> = BTreeMap::new();
    let crate_graph = graphs.entry("crate".to_string()).or_default();
    for top in &tops {
        crate_graph.entry(top.clone()).or_default();
    }
    for (dir, files) in &children {
        let graph = graphs.entry(format!("{dir}/")).or_default();
        for file in files {
            graph.entry(file.clone()).or_default();
        }
    }
    let no_children = BTreeSet::new();
    for (path, text) in sources {
        let place = place(path);
        let siblings = children.get(&place.top).unwrap_or(&no_children);
        for path in paths(&strip_tests(&blank_comments_and_literals(text))) {
            let Some((top, file)) = resolve(&place, siblings, &tops, &path) else {
                continue;
            };
            if top != place.top {
                add_edge(&mut graphs, "crate", &place.top, &top);
            } else if let (Some(from), Some(to)) = (&place.file, file) {
                // A directory module's `mod.rs` is its files' parent: they may read its
                // items (`super::`), and it theirs; the cycles that matter are among them.
                if from != "mod" && to != "mod" {
                    add_edge(&mut graphs, &format!("{top}/"), from, &to);
                }
            }
        }
    }
    graphs
}

fn add_edge(graphs: &mut BTreeMap<String, Graph>, scope: &str, from: &str, to: &str) {
    if from != to {
        let graph = graphs.get_mut(scope).expect("every scope has a graph");
        graph
            .get_mut(from)
            .expect("every file is a node")
            .insert(to.to_string());
    }
}

/// The module and file a path names, or `None` for a path outside the crate or inside its file.
fn resolve(
    place: &Place,
    siblings: &BTreeSet<String>,
    tops: &BTreeSet<String>,
    path: &FoundPath,
) -> Option<(String, Option<String>)> {
    // In an inline module, each leading `super` up to its depth stays in the file.
    let supers = path.segments.iter().take_while(|s| *s == "super").count();
    let stays_in_file = (supers > 0 && supers <= path.inline_depth) || path.segments[0] == "self";
    if path.inline_depth > 0 && stays_in_file {
        return None;
    }
    let skip = supers.min(path.inline_depth);
    let segments = &path.segments[skip..];
    let in_crate = |rest: &[String]| match rest.first() {
        Some(top) if tops.contains(top) && top != "crate" => {
            let file = rest.get(1).filter(|_| top == &place.top).cloned();
            (top.clone(), Some(file_or_mod(file, siblings)))
        }
        _ => ("crate".to_string(), None),
    };
    let in_mod_rs = place.file.as_deref() == Some("mod");
    let in_child_file = place.file.is_some() && !in_mod_rs;
    let rest = &segments[1..];
    match segments[0].as_str() {
        "crate" => Some(in_crate(rest)),
        "super" if in_child_file => Some((
            place.top.clone(),
            Some(file_or_mod(rest.first().cloned(), siblings)),
        )),
        // A top-level file's parent is the crate root.
        "super" => Some(in_crate(rest)),
        "self" if in_mod_rs => rest
            .first()
            .filter(|child| siblings.contains(*child))
            .map(|child| (place.top.clone(), Some(child.clone()))),
        child if in_mod_rs && siblings.contains(child) => {
            Some((place.top.clone(), Some(child.to_string())))
        }
        top if place.top == "crate" && tops.contains(top) => Some((top.to_string(), None)),
        _ => None,
    }
}

/// A directory module's file a path enters, or its `mod.rs` when the path names an item there.
fn file_or_mod(name: Option<String>, siblings: &BTreeSet<String>) -> String {
    name.filter(|name| siblings.contains(name))
        .unwrap_or_else(|| "mod".to_string())
}

/// The text with comments, string and character literals replaced by spaces.
fn blank_comments_and_literals(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let rest = &chars[i..];
        let skip = if rest.starts_with(&['/', '/']) {
            rest.iter().position(|&c| c == '\n').unwrap_or(rest.len())
        } else if rest.starts_with(&['/', '*']) {
            block_comment_len(rest)
        } else if rest[0] == '"' {
            quoted_len(rest)
        } else if rest[0] == 'r' {
            raw_string_len(rest).unwrap_or(0)
        } else if rest[0] == '\'' {
            char_literal_len(rest).unwrap_or(0)
        } else {
            0
        };
        if skip == 0 {
            out.push(chars[i]);
            i += 1;
        } else {
            out.extend(
                rest[..skip]
                    .iter()
                    .map(|&c| if c == '\n' { '\n' } else { ' ' }),
            );
            i += skip;
        }
    }
    out
}

fn block_comment_len(rest: &[char]) -> usize {
    let mut depth = 0;
    let mut i = 0;
    while i < rest.len() {
        if rest[i..].starts_with(&['/', '*']) {
            depth += 1;
            i += 2;
        } else if rest[i..].starts_with(&['*', '/']) {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    rest.len()
}

fn quoted_len(rest: &[char]) -> usize {
    let mut i = 1;
    while i < rest.len() {
        match rest[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            _ => i += 1,
        }
    }
    rest.len()
}

/// `r"…"`, `r#"…"#` and so on, when `rest` starts one.
fn raw_string_len(rest: &[char]) -> Option<usize> {
    let hashes = rest[1..].iter().take_while(|&&c| c == '#').count();
    if rest.get(1 + hashes) != Some(&'"') {
        return None;
    }
    let closing: Vec<char> = std::iter::once('"')
        .chain(std::iter::repeat_n('#', hashes))
        .collect();
    let body = 2 + hashes;
    let end = (body..rest.len()).find(|&i| rest[i..].starts_with(&closing))?;
    Some(end + closing.len())
}

/// `'x'`, `'\n'`, `'\u{7f}'`, but not a lifetime such as `'a`.
fn char_literal_len(rest: &[char]) -> Option<usize> {
    if rest.get(1) == Some(&'\\') {
        let end = (3..rest.len().min(12)).find(|&i| rest[i] == '\'')?;
        return Some(end + 1);
    }
    (rest.get(2) == Some(&'\'')).then_some(3)
}

/// The text without its `#[cfg(test)] mod … { … }` blocks (comments and literals blanked).
fn strip_tests(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = skip_attributes(&rest[at + "#[cfg(test)]".len()..]);
        let is_inline_mod = after.trim_start().starts_with("mod ")
            && after
                .find(['{', ';'])
                .is_some_and(|end| after.as_bytes()[end] == b'{');
        if !is_inline_mod {
            rest = after;
            continue;
        }
        let open = after.find('{').expect("an inline module has a body");
        let mut depth = 0;
        let mut end = after.len();
        for (i, c) in after[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The text after any attributes (`#[…]`) at its start.
fn skip_attributes(mut text: &str) -> &str {
    while let Some(attribute) = text.trim_start().strip_prefix("#[") {
        let mut depth = 1;
        let end = attribute.char_indices().find_map(|(i, c)| {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                _ => {}
            }
            (depth == 0).then_some(i + 1)
        });
        text = &attribute[end.unwrap_or(attribute.len())..];
    }
    text
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Ident(String),
    PathSep,
    Other(char),
}

fn tokens(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphabetic() || c == '_' {
            let len = chars[i..]
                .iter()
                .take_while(|c| c.is_alphanumeric() || **c == '_')
                .count();
            tokens.push(Token::Ident(chars[i..i + len].iter().collect()));
            i += len;
        } else if chars[i..].starts_with(&[':', ':']) {
            tokens.push(Token::PathSep);
            i += 2;
        } else {
            if !c.is_whitespace() {
                tokens.push(Token::Other(c));
            }
            i += 1;
        }
    }
    tokens
}

/// A path as written, and how many inline modules (`mod x { … }`) it sits in.
struct FoundPath {
    segments: Vec<String>,
    inline_depth: usize,
}

/// Every path of two or more segments in the text, with `use` groups expanded:
/// `crate::{a::{self, B}, c}` gives `crate a self`, `crate a B` and `crate c`.
fn paths(text: &str) -> Vec<FoundPath> {
    let tokens = tokens(text);
    let mut paths = Vec::new();
    let mut braces = 0;
    // The brace depth at which each enclosing inline module opened.
    let mut inline_modules: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Other('{') => {
                braces += 1;
                let opens_a_module = i >= 2 && tokens[i - 2] == Token::Ident("mod".to_string());
                if opens_a_module && matches!(tokens[i - 1], Token::Ident(_)) {
                    inline_modules.push(braces);
                }
                i += 1;
            }
            Token::Other('}') => {
                if inline_modules.last() == Some(&braces) {
                    inline_modules.pop();
                }
                braces = braces.saturating_sub(1);
                i += 1;
            }
            Token::Ident(_) if i == 0 || tokens[i - 1] != Token::PathSep => {
                let mut found = Vec::new();
                i = path_at(&tokens, i, Vec::new(), &mut found);
                paths.extend(
                    found
                        .into_iter()
                        .filter(|segments| segments.len() >= 2)
                        .map(|segments| FoundPath {
                            segments,
                            inline_depth: inline_modules.len(),
                        }),
                );
            }
            _ => i += 1,
        }
    }
    paths
}

/// Reads one path (or use tree) starting at `tokens[i]` after `prefix`; returns where it ends.
fn path_at(
    tokens: &[Token],
    mut i: usize,
    prefix: Vec<String>,
    out: &mut Vec<Vec<String>>,
) -> usize {
    let mut path = prefix;
    loop {
        match tokens.get(i) {
            Some(Token::Ident(name)) => path.push(name.clone()),
            Some(Token::Other('*')) => {
                path.push("*".to_string());
                out.push(path);
                return i + 1;
            }
            Some(Token::Other('{')) => return group_at(tokens, i, &path, out),
            _ => {
                out.push(path);
                return i;
            }
        }
        if tokens.get(i + 1) != Some(&Token::PathSep) {
            out.push(path);
            return i + 1;
        }
        i += 2;
    }
}

/// Reads a `{ a, b::c, … }` group at `tokens[i]` after `prefix`; returns where it ends.
fn group_at(
    tokens: &[Token],
    mut i: usize,
    prefix: &[String],
    out: &mut Vec<Vec<String>>,
) -> usize {
    i += 1;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Other('}') => return i + 1,
            Token::Other(',') => i += 1,
            Token::Ident(word) if word == "as" => i += 2,
            Token::Ident(_) | Token::Other('*') | Token::Other('{') => {
                i = path_at(tokens, i, prefix.to_vec(), out);
            }
            _ => i += 1,
        }
    }
    i
}

/// A cycle in the graph, as the nodes along it with the first repeated at the end.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        done: &mut BTreeSet<String>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = stack.iter().position(|on| on == node) {
            let mut cycle = stack[start..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, done, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut done, &mut Vec::new()))
}
