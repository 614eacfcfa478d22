//! "Did you mean …?": the closest known name to a misspelt one.

/// Words designers reach for that FlexMatch spells differently.
const SYNONYMS: &[(&str, &str)] = &[
    ("average", "avg"),
    ("mean", "avg"),
    ("asc", "ascending"),
    ("desc", "descending"),
    ("sort", "absoluteSort"),
    ("equals", "="),
    ("==", "="),
    ("<>", "!="),
    ("length", "count"),
    ("size", "count"),
];

/// The candidate closest to `unknown`, if one is close enough to be a likely slip: a known
/// synonym, a different case, a small edit, or a name that contains the other (`Mode` for
/// `GameMode`). Ties go to the alphabetically first candidate, so the answer never depends
/// on the order candidates come in.
pub fn closest<'a>(
    unknown: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let candidates: Vec<&'a str> = candidates.into_iter().filter(|c| *c != unknown).collect();
    let unknown_lower = unknown.to_lowercase();
    if let Some((_, meant)) = SYNONYMS.iter().find(|(word, _)| *word == unknown_lower)
        && let Some(found) = candidates.iter().find(|c| c.eq_ignore_ascii_case(meant))
    {
        return Some(found);
    }
    let mut best: Option<(f64, &'a str)> = None;
    for candidate in candidates {
        let candidate_lower = candidate.to_lowercase();
        let score = if candidate_lower == unknown_lower {
            2.0
        } else {
            strsim::jaro_winkler(&unknown_lower, &candidate_lower)
        };
        let within_edits = strsim::damerau_levenshtein(&unknown_lower, &candidate_lower)
            <= (unknown.chars().count() / 3).max(1);
        let contained = unknown_lower.chars().count() >= 3
            && (candidate_lower.contains(&unknown_lower)
                || unknown_lower.contains(&candidate_lower));
        if !(score >= 0.85 || within_edits || contained) {
            continue;
        }
        let better = match best {
            None => true,
            Some((best_score, best_name)) => {
                score > best_score || (score == best_score && candidate < best_name)
            }
        };
        if better {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, name)| name)
}

/// `did you mean `x`?` for the closest candidate, or `None`.
pub fn did_you_mean<'a>(
    unknown: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(unknown, candidates).map(|name| format!("did you mean `{name}`?"))
}

/// Help listing what is allowed, preferring a close match when there is one.
pub fn expected_one_of(unknown: &str, candidates: &[&str]) -> String {
    match closest(unknown, candidates.iter().copied()) {
        Some(name) => format!("did you mean `{name}`?"),
        None => format!("expected one of {}", list(candidates)),
    }
}

/// Formats alternatives as "`a`, `b` or `c`".
pub fn list(names: &[&str]) -> String {
    join(names, "or")
}

/// Formats a whole collection as "`a`, `b` and `c`".
pub fn list_all(names: &[&str]) -> String {
    join(names, "and")
}

fn join(names: &[&str], conjunction: &str) -> String {
    match names {
        [] => String::new(),
        [only] => format!("`{only}`"),
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(|name| format!("`{name}`")).collect();
            format!("{} {conjunction} `{last}`", init.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_and_case_slips() {
        let names = ["skill", "league", "map"];
        assert_eq!(closest("skil", names), Some("skill"));
        assert_eq!(closest("Skill", names), Some("skill"));
        assert_eq!(closest("leauge", names), Some("league"));
        assert_eq!(closest("mpa", names), Some("map"));
        assert_eq!(closest("colour", names), None);
    }

    #[test]
    fn knows_synonyms_and_contained_names() {
        assert_eq!(closest("mean", ["min", "median", "avg"]), Some("avg"));
        assert_eq!(closest("average", ["min", "max", "avg"]), Some("avg"));
        assert_eq!(
            closest("asc", ["ascending", "descending"]),
            Some("ascending")
        );
        assert_eq!(closest("Mode", ["GameMode", "skill"]), Some("GameMode"));
        assert_eq!(
            closest("skill", ["player_skill", "rank"]),
            Some("player_skill")
        );
    }

    #[test]
    fn ties_do_not_depend_on_candidate_order() {
        assert_eq!(closest("ab", ["ac", "aa"]), closest("ab", ["aa", "ac"]));
    }

    #[test]
    fn lists_read_naturally() {
        assert_eq!(list(&["a"]), "`a`");
        assert_eq!(list(&["a", "b", "c"]), "`a`, `b` or `c`");
        assert_eq!(list_all(&["a", "b"]), "`a` and `b`");
        assert_eq!(
            expected_one_of("zzz", &["min", "max"]),
            "expected one of `min` or `max`"
        );
        assert_eq!(
            expected_one_of("mix", &["min", "max"]),
            "did you mean `min`?"
        );
    }
}
