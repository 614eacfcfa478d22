//! Why a ticket is still waiting, and how often each rule passed and failed in a batch (like
//! FlexMatch's `ruleEvaluationMetrics`, but with reasons per ticket, which FlexMatch users ask
//! for and cannot get).

use rally_rules::model::{CompoundRule, RuleId, RuleKind, RuleSet};

use crate::eval::Evaluation;
pub use crate::filters::Exclusion;
use crate::params::Params;

/// Passes and failures per rule, over every match judged in a batch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleMetrics {
    /// Indexed by `RuleId`.
    pub passed: Vec<u64>,
    pub failed: Vec<u64>,
}

impl RuleMetrics {
    pub fn new(rules: usize) -> RuleMetrics {
        RuleMetrics {
            passed: vec![0; rules],
            failed: vec![0; rules],
        }
    }

    pub fn record(&mut self, evaluation: &Evaluation) {
        for (rule, outcome) in evaluation.outcomes.iter().enumerate() {
            match outcome {
                Some(true) => self.passed[rule] += 1,
                Some(false) => self.failed[rule] += 1,
                None => {}
            }
        }
    }

    /// One match judged without evaluating it rule by rule: every deciding rule passed, or
    /// all but `failed`.
    pub fn record_judged(&mut self, rule_set: &RuleSet, failed: Option<RuleId>) {
        for (id, _) in rule_set.deciding_rules() {
            if Some(id) == failed {
                self.failed[id.0] += 1;
            } else {
                self.passed[id.0] += 1;
            }
        }
    }

    /// A candidate set that `rule` ruled out before it was complete.
    pub fn record_excluded(&mut self, why: Exclusion) {
        if let Some(rule) = why.rule() {
            self.failed[rule.0] += 1;
        }
    }

    pub fn add(&mut self, other: &RuleMetrics) {
        for (mine, theirs) in self.passed.iter_mut().zip(&other.passed) {
            *mine += theirs;
        }
        for (mine, theirs) in self.failed.iter_mut().zip(&other.failed) {
            *mine += theirs;
        }
    }
}

/// Seconds for people: to a tenth, without a trailing `.0`.
fn seconds(value: f64) -> String {
    let tenths = (value * 10.0).round() / 10.0;
    if tenths.fract() == 0.0 {
        format!("{tenths:.0}")
    } else {
        format!("{tenths:.1}")
    }
}

/// A rule's name as reasons give it: a part of a compound rule names the compound rule too,
/// since it decides only through it.
fn label(rule_set: &RuleSet, rule: RuleId) -> String {
    let name = &rule_set.rule(rule).name;
    let compound = rule_set.rules.iter().find(|r| match &r.kind {
        RuleKind::Compound(c) => c.condition.rules().contains(&rule),
        _ => false,
    });
    match compound {
        Some(compound) if rule_set.rule(rule).in_compound => {
            format!("`{name}` (part of `{}`)", compound.name)
        }
        _ => format!("`{name}`"),
    }
}

/// What one ticket's attempt to form a match around it ran into.
#[derive(Clone, Debug, Default)]
pub struct Attempt {
    /// Other tickets compared with this one (a sample near it in the queue), and how many
    /// of them passed every filter.
    pub sampled: usize,
    pub compatible: usize,
    pub excluded: Vec<(Exclusion, usize)>,
    /// The most players any candidate set reached, and the fewest the teams need.
    pub most_players: usize,
    pub players_needed: usize,
    /// Candidate matches judged, and how often each rule failed among them.
    pub judged: usize,
    pub rule_failures: Vec<u32>,
    /// Candidate sets whose tickets fit no team (sizes, per-team rules).
    pub no_fit: usize,
    pub no_common_location: usize,
    /// The ticket itself fails a rule whatever its partners (a per-player test).
    pub alone_fails: Option<RuleId>,
    /// When it fails one only until an expansion: the expansion's wait time, and how much
    /// longer the ticket has to wait for it (seconds).
    pub alone_until: Option<(f64, f64)>,
}

impl Attempt {
    pub fn exclude(&mut self, why: Exclusion) {
        match self.excluded.iter_mut().find(|(e, _)| *e == why) {
            Some((_, count)) => *count += 1,
            None => self.excluded.push((why, 1)),
        }
    }

    /// A candidate match judged without evaluating it rule by rule, which failed `rule`.
    pub fn record_failure(&mut self, rule: RuleId, rules: usize) {
        self.judged += 1;
        if self.rule_failures.len() < rules {
            self.rule_failures.resize(rules, 0);
        }
        self.rule_failures[rule.0] += 1;
    }

    pub fn record(&mut self, evaluation: &Evaluation) {
        self.judged += 1;
        if self.rule_failures.len() < evaluation.outcomes.len() {
            self.rule_failures.resize(evaluation.outcomes.len(), 0);
        }
        for (rule, outcome) in evaluation.outcomes.iter().enumerate() {
            if *outcome == Some(false) {
                self.rule_failures[rule] += 1;
            }
        }
        if evaluation.no_common_location {
            self.no_common_location += 1;
        }
    }

    /// How often each part of a compound rule failed, as `` (`a` failed for 3, `b` for 2)``.
    fn part_failures(&self, rule_set: &RuleSet, compound: &CompoundRule) -> String {
        let mut parts = compound.condition.rules();
        parts.dedup();
        let counted: Vec<String> = parts
            .iter()
            .enumerate()
            .map(|(i, part)| {
                let count = self.rule_failures.get(part.0).copied().unwrap_or(0);
                let verb = if i == 0 { " failed" } else { "" };
                format!("`{}`{verb} for {count}", rule_set.rule(*part).name)
            })
            .collect();
        format!(" ({})", counted.join(", "))
    }

    /// The reasons, most telling first, e.g. ``fair_skill failed for 97 candidate matches``.
    pub fn reasons(&self, rule_set: &RuleSet, params: &Params) -> Vec<String> {
        let mut reasons = Vec::new();
        reasons.extend(self.alone_reason(rule_set));
        reasons.extend(self.rule_failure_reasons(rule_set));
        reasons.extend(self.no_location_reason());
        reasons.extend(self.no_fit_reason());
        reasons.extend(self.exclusion_reasons(rule_set, params));
        reasons.extend(self.too_few_players_reason());
        if reasons.is_empty() {
            reasons.push("no valid match was found in this batch".to_string());
        }
        reasons
    }

    /// The rule the ticket's own players fail, whoever its partners.
    fn alone_reason(&self, rule_set: &RuleSet) -> Option<String> {
        let rule = self.alone_fails?;
        let name = label(rule_set, rule);
        Some(match self.alone_until {
            Some((step, wait)) => format!(
                "{name}: the ticket's own players fail it; it passes after the {} s expansion, in {} s",
                seconds(step),
                seconds(wait)
            ),
            None => format!("{name}: the ticket's own players fail it, whatever the match"),
        })
    }

    /// Each rule that failed a candidate match, most failures first (then in rule order).
    fn rule_failure_reasons(&self, rule_set: &RuleSet) -> Vec<String> {
        let mut failures: Vec<(usize, u32)> = self
            .rule_failures
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, count)| *count > 0)
            .collect();
        failures.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        failures
            .into_iter()
            // A compound rule's parts decide only through it: they are named with it.
            .filter(|(rule, _)| !rule_set.rules[*rule].in_compound)
            .map(|(rule, count)| {
                let plural = if count == 1 { "" } else { "es" };
                let parts = match &rule_set.rules[rule].kind {
                    RuleKind::Compound(compound) => self.part_failures(rule_set, compound),
                    _ => String::new(),
                };
                format!(
                    "{} failed for {count} candidate match{plural}{parts}",
                    label(rule_set, RuleId(rule))
                )
            })
            .collect()
    }

    fn no_location_reason(&self) -> Option<String> {
        match self.no_common_location {
            0 => None,
            1 => Some(
                "the latency rules found no location suiting them all in 1 candidate match"
                    .to_string(),
            ),
            n => Some(format!(
                "the latency rules found no location suiting them all in {n} candidate matches"
            )),
        }
    }

    fn no_fit_reason(&self) -> Option<String> {
        match self.no_fit {
            0 => None,
            1 => Some(
                "1 candidate set of tickets fits no team assignment (team sizes, per-team rules)"
                    .to_string(),
            ),
            n => Some(format!(
                "{n} candidate sets of tickets fit no team assignment (team sizes, per-team rules)"
            )),
        }
    }

    /// Why compared tickets were ruled out, the most common reason first.
    fn exclusion_reasons(&self, rule_set: &RuleSet, params: &Params) -> Vec<String> {
        let mut excluded = self.excluded.clone();
        excluded.sort_by_key(|e| std::cmp::Reverse(e.1));
        excluded
            .into_iter()
            .map(|(why, count)| {
                let of = compared(count, self.sampled);
                exclusion_reason(rule_set, params, why, &of, count)
            })
            .collect()
    }

    fn too_few_players_reason(&self) -> Option<String> {
        if self.most_players >= self.players_needed {
            return None;
        }
        let gathered = match self.most_players {
            1 => "only the ticket's one player".to_string(),
            n => format!("only {n} players"),
        };
        Some(format!(
            "{gathered} could be gathered; the teams need at least {}",
            self.players_needed
        ))
    }
}

/// How many of the sampled tickets a reason is about: "97 of the 128 tickets compared", or
/// "all 128 tickets compared" / "the one ticket compared".
fn compared(count: usize, sampled: usize) -> String {
    match (count == sampled, sampled) {
        (true, 1) => "the one ticket compared".to_string(),
        (true, _) => format!("all {sampled} tickets compared"),
        (false, _) => format!("{count} of the {sampled} tickets compared"),
    }
}

/// Why `count` compared tickets (`of` says which) were ruled out for `why`.
fn exclusion_reason(
    rule_set: &RuleSet,
    params: &Params,
    why: Exclusion,
    of: &str,
    count: usize,
) -> String {
    let verb = |one: &'static str, many: &'static str| if count == 1 { one } else { many };
    let name = |rule: RuleId| label(rule_set, rule);
    match why {
        Exclusion::Latency(rule) => match latency_cap(rule_set, params, rule) {
            Some(cap) => format!(
                "{}: {of} {} no location under {cap} ms with it",
                name(rule),
                verb("shares", "share")
            ),
            None => format!(
                "{}: {of} {} no reported location with it",
                name(rule),
                verb("shares", "share")
            ),
        },
        Exclusion::Equal(rule) => format!(
            "{}: {of} {} a different value",
            name(rule),
            verb("has", "have")
        ),
        Exclusion::Spread(rule) => {
            format!("{}: {of} {} too far from it", name(rule), verb("is", "are"))
        }
        Exclusion::Collection(rule) => format!("{}: {of} would make it fail", name(rule)),
        Exclusion::Distinct(rule) => format!(
            "{}: {of} {} a value one of its players has",
            name(rule),
            verb("has", "have")
        ),
        Exclusion::Teams => {
            format!("{of} could join only teams already full of players limited like them")
        }
        Exclusion::Backfill => format!(
            "{of} {} backfill tickets too, and a match holds only one",
            verb("is", "are")
        ),
    }
}

/// The latency cap in force for `rule`, if it is a latency rule with one.
fn latency_cap(rule_set: &RuleSet, params: &Params, rule: RuleId) -> Option<f64> {
    match &rule_set.rule(rule).kind {
        RuleKind::Latency(_) => params.rules[rule.0].max_latency,
        _ => None,
    }
}
