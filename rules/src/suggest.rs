//! "Did you mean …?": the closest known name to a misspelt one.

/// The candidate closest to `unknown`, if one is close enough to be a likely typo.
/// Case-only differences always count as close.
pub fn closest<'a>(
    unknown: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let unknown_lower = unknown.to_lowercase();
    let mut best: Option<(f64, &'a str)> = None;
    for candidate in candidates {
        if candidate == unknown {
            continue;
        }
        let score = if candidate.to_lowercase() == unknown_lower {
            1.0
        } else {
            strsim::jaro_winkler(&unknown_lower, &candidate.to_lowercase())
        };
        let within_edits = strsim::damerau_levenshtein(&unknown_lower, &candidate.to_lowercase())
            <= (unknown.chars().count() / 3).max(1);
        if (score >= 0.85 || within_edits) && best.is_none_or(|(best_score, _)| score > best_score)
        {
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

/// Formats names as "`a`, `b` or `c`".
pub fn list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [only] => format!("`{only}`"),
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(|name| format!("`{name}`")).collect();
            format!("{} or `{last}`", init.join(", "))
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
    fn lists_read_naturally() {
        assert_eq!(list(&["a"]), "`a`");
        assert_eq!(list(&["a", "b", "c"]), "`a`, `b` or `c`");
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
