//! Realistic tickets for any rule set, for `rally bench`, tests and benchmarks: skill, party
//! sizes and latencies drawn from the tables in `fixtures/data` (derived from published
//! measurements; see its README), and other attributes shaped by what the rules ask of them.
//!
//! The tables are compiled in, so generating reads no file; randomness comes from the RNG the
//! caller passes, so the same seed gives the same tickets.

use std::collections::BTreeMap;

use rally_rules::model::{
    Attribute, AttributeType, AttributeValue, CollectionRule, ComparisonOperation, ExprNode,
    RuleKind, RuleSet, SelectField, TypedExpr,
};
use rand::Rng;

use crate::analysis::{Analysis, Test, literal_reference};
use crate::ticket::{NewPlayer, NewTicket};

const REGION_RTT: &str = include_str!("../../fixtures/data/region_rtt_p50_ms.csv");
const REGION_SHARES: &str = include_str!("../../fixtures/data/region_player_shares.csv");
const SKILL_PERCENTILES: &str = include_str!("../../fixtures/data/skill_percentiles.csv");
const PARTY_SIZES: &str = include_str!("../../fixtures/data/party_sizes.csv");

/// Where players are, how far the regions are from each other, how good players are and how
/// they group.
#[derive(Clone, Debug, PartialEq)]
pub struct Population {
    pub regions: Vec<String>,
    pub region_shares: Vec<f64>,
    /// Round trip in ms between regions, `rtt[home][location]`.
    pub rtt: Vec<Vec<f64>>,
    /// (percentile, rating), ascending.
    pub skill: Vec<(f64, f64)>,
    /// (party size, share).
    pub party_sizes: Vec<(usize, f64)>,
    /// The last mile from a player to their nearest region, drawn uniformly in this range.
    pub last_mile_ms: (f64, f64),
}

fn csv_rows(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').collect())
}

impl Population {
    /// The tables in `fixtures/data`, compiled in.
    pub fn embedded() -> Population {
        let regions: Vec<String> = REGION_RTT
            .lines()
            .next()
            .expect("a header")
            .split(',')
            .skip(1)
            .map(str::to_string)
            .collect();
        let rtt: Vec<Vec<f64>> = csv_rows(REGION_RTT)
            .map(|row| {
                row[1..]
                    .iter()
                    .map(|v| v.parse().expect("a number"))
                    .collect()
            })
            .collect();
        let shares: BTreeMap<&str, f64> = csv_rows(REGION_SHARES)
            .map(|row| (row[0], row[1].parse().expect("a number")))
            .collect();
        let region_shares = regions
            .iter()
            .map(|r| shares.get(r.as_str()).copied().unwrap_or(0.0))
            .collect();
        let skill = csv_rows(SKILL_PERCENTILES)
            .map(|row| {
                (
                    row[0].parse().expect("a number"),
                    row[1].parse().expect("a number"),
                )
            })
            .collect();
        let party_sizes = csv_rows(PARTY_SIZES)
            .map(|row| {
                (
                    row[0].parse().expect("a size"),
                    row[1].parse().expect("a share"),
                )
            })
            .collect();
        Population {
            regions,
            region_shares,
            rtt,
            skill,
            party_sizes,
            last_mile_ms: (10.0, 35.0),
        }
    }

    /// A rating at percentile `p` (0–100): linear between the published percentiles, the
    /// tails extended by their neighbouring interval.
    pub fn skill_at(&self, p: f64) -> f64 {
        let points = &self.skill;
        let (first, last) = (points[0], points[points.len() - 1]);
        let below = (
            0.0,
            first.1 - (points[1].1 - first.1) * first.0 / (points[1].0 - first.0),
        );
        let above = (
            100.0,
            last.1
                + (last.1 - points[points.len() - 2].1) * (100.0 - last.0)
                    / (last.0 - points[points.len() - 2].0),
        );
        let all: Vec<(f64, f64)> = std::iter::once(below)
            .chain(points.iter().copied())
            .chain([above])
            .collect();
        let i = all
            .partition_point(|(q, _)| *q <= p)
            .clamp(1, all.len() - 1);
        let ((p0, r0), (p1, r1)) = (all[i - 1], all[i]);
        r0 + (r1 - r0) * (p - p0) / (p1 - p0)
    }

    fn pick<R: Rng>(weights: &[f64], rng: &mut R) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = rng.random::<f64>() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct GenerateOptions {
    pub count: usize,
    /// `StartTime`s spread evenly over this many seconds, oldest first.
    pub start_window: f64,
    /// The skill percentiles players are drawn from: (0, 100) for everyone, narrower for a
    /// bracket (a ranked queue that admits one band of players).
    pub skill_percentiles: (f64, f64),
    pub parties: PartyMix,
    /// How many lobby (or room) codes tickets draw theirs from; `None`: a quarter as many as
    /// the tickets, so that about four tickets share each.
    pub codes: Option<usize>,
}

impl GenerateOptions {
    pub fn new(count: usize, start_window: f64) -> GenerateOptions {
        GenerateOptions {
            count,
            start_window,
            skill_percentiles: (0.0, 100.0),
            parties: PartyMix::Published,
            codes: None,
        }
    }

    /// The same, with most tickets parties whose members differ widely.
    pub fn party_heavy(self) -> GenerateOptions {
        GenerateOptions {
            parties: PartyMix::Heavy,
            ..self
        }
    }
}

/// How players group into tickets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartyMix {
    /// Party sizes as published (`fixtures/data/party_sizes.csv`, mostly solo players);
    /// friends within a few skill percentiles of each other.
    Published,
    /// Four tickets in five are parties, of every size the teams allow, and a party's members
    /// lie up to a quarter of the skill range apart and choose their other values on their
    /// own: the pools that show whether each player is judged on their own values.
    Heavy,
}

impl PartyMix {
    /// The party sizes and their weights, up to `largest`.
    fn sizes(self, population: &Population, largest: usize) -> Vec<(usize, f64)> {
        match self {
            PartyMix::Published => population
                .party_sizes
                .iter()
                .copied()
                .filter(|(size, _)| *size <= largest)
                .collect(),
            PartyMix::Heavy if largest < 2 => vec![(1, 1.0)],
            PartyMix::Heavy => std::iter::once((1, 0.2))
                .chain((2..=largest).map(|size| (size, 0.8 / (largest - 1) as f64)))
                .collect(),
        }
    }

    /// How many skill percentiles a party member may lie from the party's own level.
    fn member_spread(self, band: f64) -> f64 {
        match self {
            PartyMix::Published => (band / 12.0).min(8.0),
            PartyMix::Heavy => band / 4.0,
        }
    }
}

/// How one attribute's values are drawn.
#[derive(Clone, Debug)]
enum Shape {
    /// A rating from the skill table.
    Skill,
    /// A small whole number: a league or tier derived from the player's skill percentile.
    Tier(f64),
    /// One of these numbers, with weights.
    Numbers(Vec<(f64, f64)>),
    /// One of these strings, with weights.
    Strings(Vec<(String, f64)>),
    /// Each of these strings with the given probability (at least one kept).
    List(Vec<String>, f64),
    /// Empty: a block list (filled with other players' ids, it would rarely be realistic).
    Empty,
    /// Strings from the vocabulary, plus each capped string with the given probability.
    Capped(Vec<String>, Vec<String>, f64),
    /// Numbers for each key.
    Map(Vec<String>),
    /// A number a rule tests against a literal for every player (`gamesPlayed >= 10`):
    /// most players pass, some do not (fresh accounts), so expansions have work to do.
    Threshold(Threshold),
    /// A code a party shares, one of `GenerateOptions::codes` (a lobby or room code
    /// every player of a match must share: most tickets wait, as in a queue at peak).
    Code(String),
}

#[derive(Clone, Debug)]
struct Threshold {
    /// Values that pass lie in `pass`, values that fail in `fail` (either may be empty).
    pass: (f64, f64),
    fail: (f64, f64),
}

/// The share of players that pass a threshold test.
const THRESHOLD_PASS_SHARE: f64 = 0.85;

impl Threshold {
    /// The ranges for a test `value <operation> reference` (or within `max` of `reference`).
    fn of(test: &Test, reference: f64, max_distance: Option<f64>) -> Option<Threshold> {
        // Whole numbers: counts, levels and ranks are what such rules test.
        let width = reference.abs().max(10.0);
        let below = (reference - width, reference);
        let above = (reference + 1.0, reference + width);
        let (pass, fail) = match test {
            Test::Compare(ComparisonOperation::GreaterOrEqual) => {
                ((reference, reference + width), below)
            }
            Test::Compare(ComparisonOperation::Greater) => {
                (above, (reference - width, reference + 1.0))
            }
            Test::Compare(ComparisonOperation::LessOrEqual) => {
                ((reference - width, reference + 1.0), above)
            }
            Test::Compare(ComparisonOperation::Less) => (below, (reference, reference + width)),
            Test::Compare(ComparisonOperation::NotEqual) => (above, (reference, reference + 1.0)),
            Test::Compare(ComparisonOperation::Equal) => ((reference, reference + 1.0), above),
            Test::Distance => {
                let max = max_distance.unwrap_or(width);
                (
                    (reference - max, reference + max),
                    (reference + max + 1.0, reference + max + width),
                )
            }
            // A count of strings in a list: no number to draw.
            Test::ListCount => return None,
        };
        Some(Threshold { pass, fail })
    }

    fn draw<R: Rng>(&self, rng: &mut R) -> f64 {
        let (low, high) = if rng.random_bool(THRESHOLD_PASS_SHARE) {
            self.pass
        } else {
            self.fail
        };
        let value = if high > low {
            rng.random_range(low..high)
        } else {
            low
        };
        // Non-negative whole numbers unless the rule asks for negatives.
        let value = value.floor();
        if low >= 0.0 { value.max(0.0) } else { value }
    }
}

/// Generates tickets one at a time (a million fit in the pool, not twice in memory).
pub fn tickets<'a, R: Rng>(
    rule_set: &'a RuleSet,
    population: &'a Population,
    options: GenerateOptions,
    rng: &'a mut R,
) -> impl Iterator<Item = NewTicket> + 'a {
    let shapes = shapes(rule_set);
    let largest_team = rule_set
        .teams
        .iter()
        .map(|t| t.max_players as usize)
        .max()
        .unwrap_or(1)
        .min(crate::ticket::limits::PLAYERS_PER_TICKET);
    let party_sizes = options.parties.sizes(population, largest_team);
    let party_weights: Vec<f64> = party_sizes.iter().map(|(_, w)| *w).collect();
    let has_latency = rule_set
        .rules
        .iter()
        .any(|r| matches!(r.kind, RuleKind::Latency(_)));
    (0..options.count).map(move |i| {
        let size = party_sizes[Population::pick(&party_weights, rng)].0;
        let home = Population::pick(&population.region_shares, rng);
        // Friends play together: a party shares a home region and a rough skill level.
        let (low, high) = options.skill_percentiles;
        let percentile: f64 = if high > low {
            rng.random_range(low..high)
        } else {
            low
        };
        // Drawn only for rule sets with codes, so that other rule sets' tickets stay the same.
        let code = shapes
            .iter()
            .any(|shape| matches!(shape, Shape::Code(_)))
            .then(|| rng.random_range(0..options.codes.unwrap_or(options.count / 4).max(1)));
        let players = (0..size)
            .map(|j| {
                let mut attributes = BTreeMap::new();
                for (attribute, shape) in rule_set.attributes.iter().zip(&shapes) {
                    let spread = options.parties.member_spread(high - low);
                    let own = if spread > 0.0 {
                        (percentile + rng.random_range(-spread..spread)).clamp(low, high)
                    } else {
                        percentile
                    };
                    let drawn = match (shape, code) {
                        (Shape::Code(prefix), Some(code)) => {
                            Some(AttributeValue::String(format!("{prefix}_{code}")))
                        }
                        _ => draw(shape, attribute.ty, own, population, rng),
                    };
                    if let Some(value) = drawn {
                        attributes.insert(attribute.name.clone(), value);
                    }
                }
                let mut latencies = BTreeMap::new();
                for (location, region) in population.regions.iter().enumerate() {
                    let (low, high) = population.last_mile_ms;
                    let ms = population.rtt[home][location] + rng.random_range(low..high);
                    latencies.insert(region.clone(), ms.round().max(1.0) as u32);
                }
                if !has_latency && rng.random_bool(0.5) {
                    latencies.clear();
                }
                NewPlayer {
                    id: format!("t{i}p{j}"),
                    attributes,
                    latencies,
                    team: None,
                }
            })
            .collect();
        NewTicket {
            id: format!("t{i}"),
            start_time: options.start_window * (i as f64 + rng.random::<f64>())
                / options.count.max(1) as f64,
            players,
            game_session_arn: None,
        }
    })
}

fn draw<R: Rng>(
    shape: &Shape,
    ty: AttributeType,
    percentile: f64,
    population: &Population,
    rng: &mut R,
) -> Option<AttributeValue> {
    let number = AttributeValue::Number;
    Some(match (shape, ty) {
        (Shape::Skill, _) => number(population.skill_at(percentile).round()),
        (Shape::Tier(top), _) => number((percentile / 100.0 * top).floor().min(top - 1.0) + 1.0),
        (Shape::Numbers(choices), _) => {
            let weights: Vec<f64> = choices.iter().map(|(_, w)| *w).collect();
            number(choices[Population::pick(&weights, rng)].0)
        }
        (Shape::Strings(choices), AttributeType::String) => {
            let weights: Vec<f64> = choices.iter().map(|(_, w)| *w).collect();
            AttributeValue::String(choices[Population::pick(&weights, rng)].0.clone())
        }
        (Shape::List(vocabulary, p), _) => {
            let mut chosen: Vec<&String> =
                vocabulary.iter().filter(|_| rng.random_bool(*p)).collect();
            if chosen.is_empty() {
                chosen.push(&vocabulary[rng.random_range(0..vocabulary.len())]);
            }
            AttributeValue::StringList(chosen.into_iter().cloned().collect())
        }
        (Shape::Empty, _) => AttributeValue::StringList(Vec::new()),
        (Shape::Capped(vocabulary, capped, share), _) => {
            let mut chosen: Vec<String> =
                vec![vocabulary[rng.random_range(0..vocabulary.len())].clone()];
            chosen.extend(capped.iter().filter(|_| rng.random_bool(*share)).cloned());
            AttributeValue::StringList(chosen)
        }
        (Shape::Map(keys), _) => {
            // In key order, the last of a repeated key kept, as a JSON object reads.
            let map: BTreeMap<String, f64> = keys
                .iter()
                .map(|k| (k.clone(), f64::from(rng.random_range(1..=5))))
                .collect();
            AttributeValue::StringNumberMap(map.into_iter().collect())
        }
        (Shape::Threshold(threshold), _) => number(threshold.draw(rng)),
        (Shape::Strings(choices), _) => AttributeValue::String(choices[0].0.clone()),
        // Drawn per ticket, where the ticket is generated.
        (Shape::Code(prefix), _) => AttributeValue::String(format!("{prefix}_0")),
    })
}

/// Decides how each attribute is drawn, from its name, type and default and from the rules.
fn shapes(rule_set: &RuleSet) -> Vec<Shape> {
    let analysis = Analysis::of(rule_set);
    let literals = string_literals(rule_set);
    rule_set
        .attributes
        .iter()
        .enumerate()
        .map(|(id, attribute)| {
            let name = attribute.name.to_lowercase();
            match attribute.ty {
                AttributeType::Number => number_shape(rule_set, &analysis, id, attribute, &name),
                AttributeType::String => string_shape(rule_set, id, attribute, name),
                AttributeType::StringList => list_shape(rule_set, id, attribute, &name, &literals),
                AttributeType::StringNumberMap => map_shape(attribute, &name),
            }
        })
        .collect()
}

/// Whether an attribute's (lowercased) name holds one of `words`.
fn named_like(name: &str, words: &[&str]) -> bool {
    words.iter().any(|w| name.contains(w))
}

fn number_shape(
    rule_set: &RuleSet,
    analysis: &Analysis,
    id: usize,
    attribute: &Attribute,
    name: &str,
) -> Shape {
    if let Some(choices) = team_values(rule_set, analysis, id) {
        Shape::Numbers(choices)
    } else if named_like(
        name,
        &["skill", "rating", "mmr", "elo", "experience", "kills"],
    ) {
        Shape::Skill
    } else if named_like(name, &["league", "tier", "rank", "level", "division"]) {
        Shape::Tier(10.0)
    } else if let Some(threshold) = threshold(rule_set, analysis, id) {
        Shape::Threshold(threshold)
    } else {
        match &attribute.default {
            Some(AttributeValue::Number(d)) => {
                Shape::Numbers(vec![(*d, 3.0), (d + 1.0, 1.0), ((d - 1.0).max(0.0), 1.0)])
            }
            _ => Shape::Tier(5.0),
        }
    }
}

/// Tests per team with equal literals (`teams[monster]...wantsToBeMonster = 1`): each value
/// weighted by its team's seats, so it is as often drawn as it is needed.
fn team_values(rule_set: &RuleSet, analysis: &Analysis, id: usize) -> Option<Vec<(f64, f64)>> {
    let team_values: Vec<(f64, u32)> = analysis
        .player_tests
        .iter()
        .filter(|t| t.attribute.0 == id && t.test == Test::Compare(ComparisonOperation::Equal))
        .filter_map(|t| {
            let value = literal_reference(rule_set, t.rule)?;
            Some((
                value,
                t.teams
                    .iter()
                    .map(|team| rule_set.teams[team.0].max_players)
                    .sum(),
            ))
        })
        .collect();
    (!team_values.is_empty()).then(|| {
        team_values
            .into_iter()
            .map(|(v, n)| (v, f64::from(n)))
            .collect()
    })
}

fn string_shape(rule_set: &RuleSet, id: usize, attribute: &Attribute, name: String) -> Shape {
    if must_differ(rule_set, id) {
        // Every player of a match needs their own value (a hero pick): a roster several
        // times the match's size, picked evenly.
        let roster = (rule_set.max_players() as usize * 4).clamp(8, 400);
        return Shape::Strings((1..=roster).map(|i| (format!("{name}_{i}"), 1.0)).collect());
    }
    if named_like(&name, &["lobby", "room", "code"]) {
        return Shape::Code(name);
    }
    let mut values: Vec<String> = match &attribute.default {
        Some(AttributeValue::String(d)) => vec![d.clone()],
        _ => Vec::new(),
    };
    values.extend(vocabulary(&name));
    values.dedup();
    // The first value (the default, or the most popular) dominates, as in life.
    Shape::Strings(
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (v.clone(), if i == 0 { 4.0 } else { 1.0 }))
            .collect(),
    )
}

/// `literals` are the rule set's string literals, which lists hold alongside the vocabulary.
fn list_shape(
    rule_set: &RuleSet,
    id: usize,
    attribute: &Attribute,
    name: &str,
    literals: &[String],
) -> Shape {
    if name.contains("block") || is_block_list(rule_set, id) {
        return Shape::Empty;
    }
    // A string a rule caps (`contains "medic" max 5`) is as common as the cap allows: about
    // half the capped share of a full match.
    if let Some(share) = capped_share(rule_set, id) {
        return Shape::Capped(vocabulary(name), literals.to_vec(), share);
    }
    let mut values: Vec<String> = match &attribute.default {
        Some(AttributeValue::StringList(d)) => d.clone(),
        _ => Vec::new(),
    };
    values.extend(literals.iter().cloned());
    values.extend(vocabulary(name));
    let mut seen = Vec::new();
    values.retain(|v| {
        let new = !seen.contains(v);
        seen.push(v.clone());
        new
    });
    Shape::List(values, 0.6)
}

fn map_shape(attribute: &Attribute, name: &str) -> Shape {
    let mut keys: Vec<String> = match &attribute.default {
        Some(AttributeValue::StringNumberMap(d)) => d.iter().map(|(k, _)| k.clone()).collect(),
        _ => Vec::new(),
    };
    keys.extend(vocabulary(name));
    keys.dedup();
    Shape::Map(keys)
}

/// A test every player must pass against a literal (`flatten(teams[*]...gamesPlayed) >= 10`).
fn threshold(rule_set: &RuleSet, analysis: &Analysis, attribute: usize) -> Option<Threshold> {
    analysis
        .player_tests
        .iter()
        .filter(|t| t.attribute.0 == attribute && t.teams.len() == rule_set.teams.len())
        .find_map(|t| match &rule_set.rule(t.rule).kind {
            RuleKind::Distance(d) => match d.reference.node {
                ExprNode::Number(r) => Threshold::of(&t.test, r, d.max_distance),
                _ => None,
            },
            _ => Threshold::of(&t.test, literal_reference(rule_set, t.rule)?, None),
        })
}

/// An attribute every player of a match must hold a different value of (`all different`).
fn must_differ(rule_set: &RuleSet, attribute: usize) -> bool {
    rule_set.rules.iter().any(|rule| match &rule.kind {
        RuleKind::Comparison(c) => {
            c.reference.is_none()
                && c.operation == ComparisonOperation::NotEqual
                && first_select_attribute(&c.measurement) == Some(attribute)
        }
        _ => false,
    })
}

fn vocabulary(name: &str) -> Vec<String> {
    let words: &[&str] = if name.contains("mode") {
        &["ctf", "deathmatch", "conquest"]
    } else if name.contains("map") || name.contains("arena") {
        &["dust", "harbor", "neon_pit"]
    } else if name.contains("role") || name.contains("character") {
        &["tank", "medic", "support", "scout"]
    } else if name.contains("lang") {
        &["en", "de", "es"]
    } else {
        &["alpha", "beta", "gamma"]
    };
    words.iter().map(|w| w.to_string()).collect()
}

/// For a string-list attribute a `contains` rule caps: the share of players that may hold the
/// capped strings (half the cap over the match's seats).
fn capped_share(rule_set: &RuleSet, attribute: usize) -> Option<f64> {
    let seats = rule_set.max_players().max(1) as f64;
    rule_set.rules.iter().find_map(|rule| match &rule.kind {
        RuleKind::Collection(c)
            if c.operation == rally_rules::model::CollectionOperation::Contains
                && c.max_count.is_some()
                && first_select_attribute(&c.measurement) == Some(attribute) =>
        {
            Some((0.5 * f64::from(c.max_count?) / seats).clamp(0.02, 0.5))
        }
        _ => None,
    })
}

fn first_select_attribute(expr: &TypedExpr) -> Option<usize> {
    match &expr.node {
        ExprNode::Select {
            field: SelectField::Attribute(a),
            ..
        } => Some(a.0),
        ExprNode::Call { arg, .. } => first_select_attribute(arg),
        _ => None,
    }
}

/// String literals the rules compare with (`contains "medic"`), so generated lists hold them.
fn string_literals(rule_set: &RuleSet) -> Vec<String> {
    fn walk(expr: &TypedExpr, out: &mut Vec<String>) {
        match &expr.node {
            ExprNode::String(text) => out.push(text.clone()),
            ExprNode::List(items) => items.iter().for_each(|i| walk(i, out)),
            ExprNode::Call { arg, .. } => walk(arg, out),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for rule in &rule_set.rules {
        if let RuleKind::Collection(CollectionRule {
            reference: Some(reference),
            ..
        }) = &rule.kind
        {
            walk(reference, &mut out);
        }
    }
    out
}

/// An attribute measured against player ids (`reference_intersection_count` with
/// `players[playerId]`): a block list.
fn is_block_list(rule_set: &RuleSet, attribute: usize) -> bool {
    fn reads(expr: &TypedExpr, wanted: &dyn Fn(&SelectField) -> bool) -> bool {
        match &expr.node {
            ExprNode::Select { field, .. } => wanted(field),
            ExprNode::Call { arg, .. } => reads(arg, wanted),
            ExprNode::List(items) => items.iter().any(|i| reads(i, wanted)),
            _ => false,
        }
    }
    rule_set.rules.iter().any(|rule| match &rule.kind {
        RuleKind::Collection(c) => {
            reads(&c.measurement, &|f| {
                *f == SelectField::Attribute(rally_rules::model::AttributeId(attribute))
            }) && c
                .reference
                .as_ref()
                .is_some_and(|r| reads(r, &|f| *f == SelectField::PlayerId))
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rally_rules::{SourceFormat, check_source};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn skill_follows_the_published_percentiles() {
        let population = Population::embedded();
        assert_eq!(population.skill_at(50.0), 1670.9);
        assert_eq!(population.skill_at(90.0), 2113.1);
        assert!(population.skill_at(0.0) < 845.4 && population.skill_at(100.0) > 2447.9);
        assert!((population.skill_at(30.0) - (1137.2 + (1670.9 - 1137.2) * 0.5)).abs() < 1e-9);
    }

    #[test]
    fn tickets_fit_the_rule_set_and_repeat_with_the_seed() {
        let checked = check_source(
            r#"attribute skill: number
attribute wants: number = 0
attribute mode: string = "ranked"
attribute BlockList: string_list = []
team hunters players 5
team monster players 1
rule monster: comparison teams[monster].players.attributes[wants] = 1
rule hunters: comparison teams[hunters].players.attributes[wants] = 0
rule blocks: collection flatten(teams[*].players.attributes[BlockList]) reference_intersection_count flatten(teams[*].players[playerId]) max 0
rule ping: latency max 150ms
"#,
            SourceFormat::Dsl,
        );
        let rule_set = checked.rule_set.unwrap();
        let population = Population::embedded();
        let options = GenerateOptions::new(600, 60.0);
        let generate = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            tickets(&rule_set, &population, options.clone(), &mut rng).collect::<Vec<_>>()
        };
        let first = generate(7);
        assert_eq!(first, generate(7));
        assert_ne!(first, generate(8));
        let players: Vec<&NewPlayer> = first.iter().flat_map(|t| &t.players).collect();
        let monsters = players
            .iter()
            .filter(|p| p.attributes["wants"] == AttributeValue::Number(1.0))
            .count();
        // One seat in six is the monster's.
        let share = monsters as f64 / players.len() as f64;
        assert!((0.1..0.25).contains(&share), "{share}");
        assert!(
            players
                .iter()
                .all(|p| p.attributes["BlockList"] == AttributeValue::StringList(Vec::new()))
        );
        assert!(players.iter().all(|p| p.latencies.len() == 8));
        assert!(first.windows(2).all(|w| w[0].start_time <= w[1].start_time));
        assert!(first.iter().all(|t| t.validate().is_ok()));
        let solos = first.iter().filter(|t| t.players.len() == 1).count();
        assert!(solos > first.len() / 2, "mostly solo players");
    }
}
