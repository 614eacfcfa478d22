//! An independent checker of matches: a plain interpreter of a compiled rule set over the
//! tickets *as submitted*. It shares nothing with the matcher's evaluation path (`eval`,
//! `params`, `pool`, `filters`): it resolves attribute defaults, expansions, team membership
//! and latencies itself, in the simplest code that states the semantics, so that a bug in the
//! matcher's fast path cannot hide behind the same bug here.
//!
//! The semantics, from FlexMatch's guide (`shared/reference/flexmatch-spec.md` §1.4, §2.4):
//!
//! - **Every player is judged on their own values.** A party's `partyAggregation` never
//!   decides a rule: each player's own attributes and latencies are what the rules measure
//!   ("FlexMatch would then check that all of the individual players in the tickets fit").
//! - **An aggregate over nothing fails its rule.** `min`, `max`, `avg`, `median` and `stddev`
//!   of an empty list (a team nobody is on) have no value, and a rule that meets one fails;
//!   `count` and `sum` of nothing are 0.
//! - **Lists**: a comparison or distance over a list checks every element; without a
//!   reference, `=` means all values are equal and `!=` all are different.
//! - **Latency**: a location suits a rule when every player reports it, within `maxLatency`,
//!   and within `maxDistance` of the `min` or `avg` of all players' latencies there.
//! - **Numbers** are equal within a relative tolerance of 1e-9 (at least 1e-9 absolute), for
//!   values, distances and expansion wait times alike (`rally_rules::numeric` documents the
//!   same rule; this file states it again on its own).

use std::collections::{BTreeSet, HashMap};

use rally_matchmaker::ticket::json::{AttributeValueRequest, PlayerRequest, TicketRequest};
use rally_rules::model::{
    CollectionOperation, ComparisonOperation, DistanceReference, ExpansionAgeSelection,
    ExpansionTarget, ExprNode, Function, RuleKind, RuleProperty, RuleSet, SelectField, StepValue,
    TeamBound, Type, TypedExpr,
};

/// A match to check: for each team (by position in `rule_set.teams`), the ids of its tickets.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedMatch {
    pub teams: Vec<Vec<String>>,
    pub locations: Vec<String>,
}

pub struct Checker<'a> {
    rule_set: &'a RuleSet,
    tickets: HashMap<&'a str, &'a TicketRequest>,
    now: f64,
}

/// A value while interpreting an expression.
#[derive(Clone, Debug, PartialEq)]
enum X {
    Num(f64),
    Str(String),
    List(Vec<X>),
    /// A player or team, for `count`.
    Thing,
    /// No value (the aggregate of nothing).
    Nothing,
}

/// One player in a match: their request, their ticket, and the team they play on.
struct Seat<'a> {
    player: &'a PlayerRequest,
    ticket: &'a TicketRequest,
    team: usize,
}

impl<'a> Checker<'a> {
    pub fn new(rule_set: &'a RuleSet, tickets: &'a [TicketRequest], now: f64) -> Checker<'a> {
        Checker {
            rule_set,
            tickets: tickets.iter().map(|t| (t.ticket_id.as_str(), t)).collect(),
            now,
        }
    }

    /// Checks every match and that no ticket is in two of them.
    pub fn check_all(&self, matches: &[CheckedMatch]) -> Result<(), String> {
        let mut seen = BTreeSet::new();
        for (i, found) in matches.iter().enumerate() {
            let ids: BTreeSet<&String> = found.teams.iter().flatten().collect();
            for id in ids {
                if !seen.insert(id.clone()) {
                    return Err(format!(
                        "ticket `{id}` is in two matches (the second is match {i})"
                    ));
                }
            }
            self.check(found)
                .map_err(|e| format!("match {i} {:?}: {e}", found.teams))?;
        }
        Ok(())
    }

    /// Checks one match against every rule, team size and structural requirement, and that
    /// each location it reports suits every latency rule.
    pub fn check(&self, found: &CheckedMatch) -> Result<(), String> {
        self.check_with(found, true)
    }

    /// Checks a match whose locations are not chosen yet: the latency rules must accept some
    /// location in common.
    pub fn check_any_location(&self, found: &CheckedMatch) -> Result<(), String> {
        self.check_with(found, false)
    }

    fn check_with(&self, found: &CheckedMatch, reported: bool) -> Result<(), String> {
        let rule_set = self.rule_set;
        if found.teams.len() != rule_set.teams.len() {
            return Err("wrong number of teams".into());
        }
        let ids: BTreeSet<&String> = found.teams.iter().flatten().collect();
        let tickets: Vec<&TicketRequest> = ids
            .iter()
            .map(|id| {
                self.tickets
                    .get(id.as_str())
                    .copied()
                    .ok_or(format!("unknown ticket `{id}`"))
            })
            .collect::<Result<_, _>>()?;
        if tickets
            .iter()
            .filter(|t| t.game_session_arn.is_some())
            .count()
            > 1
        {
            return Err("more than one backfill ticket".into());
        }
        if tickets.iter().any(|t| t.game_session_arn.is_some()) && tickets.len() < 2 {
            return Err("a backfill ticket alone".into());
        }
        // Seats: a regular ticket is listed on exactly one team, whole; a backfill ticket's
        // players sit on the teams they name.
        let mut seats: Vec<Seat<'_>> = Vec::new();
        for ticket in &tickets {
            let listed: Vec<usize> = (0..found.teams.len())
                .filter(|t| found.teams[*t].contains(&ticket.ticket_id))
                .collect();
            if ticket.game_session_arn.is_some() {
                for player in &ticket.players {
                    let team_name = player
                        .team
                        .as_deref()
                        .ok_or("backfill player without team")?;
                    let team = rule_set
                        .teams
                        .iter()
                        .position(|t| t.name == team_name)
                        .ok_or(format!("unknown team `{team_name}`"))?;
                    if !listed.contains(&team) {
                        return Err(format!(
                            "backfill player `{}` is not on their team `{team_name}`",
                            player.player_id
                        ));
                    }
                    seats.push(Seat {
                        player,
                        ticket,
                        team,
                    });
                }
            } else {
                let [team] = listed.as_slice() else {
                    return Err(format!(
                        "ticket `{}` is on {} teams",
                        ticket.ticket_id,
                        listed.len()
                    ));
                };
                for player in &ticket.players {
                    seats.push(Seat {
                        player,
                        ticket,
                        team: *team,
                    });
                }
            }
        }
        for (i, a) in seats.iter().enumerate() {
            if seats[i + 1..]
                .iter()
                .any(|b| b.player.player_id == a.player.player_id)
            {
                return Err(format!("player `{}` twice", a.player.player_id));
            }
        }

        let ages = tickets.iter().map(|t| self.now - t.start_time);
        let age = match rule_set.algorithm.expansion_age_selection {
            ExpansionAgeSelection::Newest => ages.fold(f64::INFINITY, f64::min),
            ExpansionAgeSelection::Oldest => ages.fold(f64::NEG_INFINITY, f64::max),
        };
        let expanded = |target: &ExpansionTarget| -> Option<&StepValue> {
            rule_set
                .expansions
                .iter()
                .filter(|e| &e.target == target)
                .flat_map(|e| &e.steps)
                .filter(|s| at_most(s.wait_time_seconds, age))
                .max_by(|a, b| a.wait_time_seconds.total_cmp(&b.wait_time_seconds))
                .map(|s| &s.value)
        };
        // Team sizes at the match's age.
        for (t, team) in rule_set.teams.iter().enumerate() {
            let bound = |property: TeamBound, base: u32| {
                rule_set
                    .expansions
                    .iter()
                    .filter(|e| matches!(&e.target, ExpansionTarget::Teams { definitions, property: p } if *p == property && definitions.contains(&team.definition)))
                    .flat_map(|e| &e.steps)
                    .filter(|s| at_most(s.wait_time_seconds, age))
                    .max_by(|a, b| a.wait_time_seconds.total_cmp(&b.wait_time_seconds))
                    .and_then(|s| match s.value {
                        StepValue::Number(n) => Some(n as u32),
                        _ => None,
                    })
                    .unwrap_or(base)
            };
            let (min, max) = (
                bound(TeamBound::MinPlayers, team.min_players),
                bound(TeamBound::MaxPlayers, team.max_players),
            );
            let n = seats.iter().filter(|s| s.team == t).count() as u32;
            if n < min || n > max {
                return Err(format!(
                    "team `{}` has {n} players, allowed {min}..={max}",
                    team.name
                ));
            }
        }

        // Each rule's outcome, in order (compound rules name earlier rules).
        let mut outcomes: Vec<Option<bool>> = Vec::new();
        let mut latency_ok: Vec<BTreeSet<String>> = Vec::new();
        for (r, rule) in rule_set.rules.iter().enumerate() {
            let number = |property: RuleProperty, base: Option<f64>| -> Option<f64> {
                match expanded(&ExpansionTarget::Rule {
                    rule: rally_rules::model::RuleId(r),
                    property,
                }) {
                    Some(StepValue::Number(n)) => Some(*n),
                    _ => base,
                }
            };
            let replaced_reference = || {
                expanded(&ExpansionTarget::Rule {
                    rule: rally_rules::model::RuleId(r),
                    property: RuleProperty::ReferenceValue,
                })
                .map(|v| match v {
                    StepValue::Number(n) => X::Num(*n),
                    StepValue::String(s) => X::Str(s.clone()),
                    StepValue::StringList(l) => {
                        X::List(l.iter().map(|s| X::Str(s.clone())).collect())
                    }
                })
            };
            let outcome = match &rule.kind {
                RuleKind::Comparison(c) => {
                    let measured = self.eval(&c.measurement, &seats);
                    let reference = replaced_reference()
                        .or_else(|| c.reference.as_ref().map(|e| self.eval(e, &seats)));
                    Some(comparison(measured, c.operation, reference))
                }
                RuleKind::Distance(d) => {
                    let reference =
                        replaced_reference().unwrap_or_else(|| self.eval(&d.reference, &seats));
                    let measured = self.eval(&d.measurement, &seats);
                    let (min, max) = (
                        number(RuleProperty::MinDistance, d.min_distance),
                        number(RuleProperty::MaxDistance, d.max_distance),
                    );
                    Some(distance(measured, reference, min, max))
                }
                RuleKind::Collection(c) => {
                    let measured = self.eval(&c.measurement, &seats);
                    let reference = replaced_reference()
                        .or_else(|| c.reference.as_ref().map(|e| self.eval(e, &seats)));
                    let (min, max) = (
                        number(RuleProperty::MinCount, c.min_count.map(f64::from)),
                        number(RuleProperty::MaxCount, c.max_count.map(f64::from)),
                    );
                    Some(collection(measured, c.operation, reference, min, max))
                }
                RuleKind::Latency(l) => {
                    let cap = number(RuleProperty::MaxLatency, l.max_latency);
                    let distance = number(RuleProperty::MaxDistance, l.max_distance);
                    let accepted: BTreeSet<String> = self
                        .locations(&seats)
                        .into_iter()
                        .filter(|location| {
                            // Every player's own latency, whatever their party.
                            let Some(latencies) = seats
                                .iter()
                                .map(|s| s.player.latency_in_ms.get(location).copied())
                                .collect::<Option<Vec<f64>>>()
                            else {
                                return false;
                            };
                            let under_cap =
                                cap.is_none_or(|cap| latencies.iter().all(|x| at_most(*x, cap)));
                            let close = match (distance, l.distance_reference) {
                                (Some(d), Some(reference)) => {
                                    let base = match reference {
                                        DistanceReference::Min => {
                                            latencies.iter().cloned().fold(f64::INFINITY, f64::min)
                                        }
                                        DistanceReference::Avg => {
                                            latencies.iter().sum::<f64>() / latencies.len() as f64
                                        }
                                    };
                                    latencies.iter().all(|x| at_most(x - base, d))
                                }
                                _ => true,
                            };
                            under_cap && close
                        })
                        .collect();
                    let passed = !accepted.is_empty();
                    latency_ok.push(accepted);
                    Some(passed)
                }
                RuleKind::BatchDistance(b) => {
                    let values: Vec<X> = seats
                        .iter()
                        .map(|s| self.value_of(s, b.attribute.0))
                        .collect();
                    let max = number(RuleProperty::MaxDistance, b.max_distance).unwrap_or(0.0);
                    Some(match numbers(&values) {
                        Some(numbers) => {
                            let spread = numbers.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
                                - numbers.iter().cloned().fold(f64::INFINITY, f64::min);
                            numbers.is_empty() || at_most(spread, max)
                        }
                        None => values.iter().all(|v| same(v, &values[0])),
                    })
                }
                RuleKind::AbsoluteSort(_) | RuleKind::DistanceSort(_) => None,
                RuleKind::Compound(c) => {
                    Some(c.condition.evaluate(&mut |id| outcomes[id.0] == Some(true)))
                }
            };
            outcomes.push(outcome);
        }
        for (id, rule) in rule_set.deciding_rules() {
            if outcomes[id.0] != Some(true) {
                return Err(format!("rule `{}` fails", rule.name));
            }
        }
        // The match's locations must suit every latency rule; with latency rules, some must.
        if !latency_ok.is_empty() && !reported {
            let common = latency_ok[0]
                .iter()
                .filter(|l| latency_ok.iter().all(|a| a.contains(*l)))
                .count();
            if common == 0 {
                return Err("the latency rules share no location".into());
            }
        } else if !latency_ok.is_empty() {
            if found.locations.is_empty() {
                return Err("no location, but the rule set has latency rules".into());
            }
            for location in &found.locations {
                if latency_ok
                    .iter()
                    .any(|accepted| !accepted.contains(location))
                {
                    return Err(format!(
                        "location `{location}` does not suit every latency rule"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Every location some player reported.
    fn locations(&self, seats: &[Seat<'_>]) -> BTreeSet<String> {
        seats
            .iter()
            .flat_map(|s| s.player.latency_in_ms.keys().cloned())
            .collect()
    }

    /// A player's own value of an attribute: sent, or the rule set's default.
    fn value_of(&self, seat: &Seat<'_>, attribute: usize) -> X {
        let declared = &self.rule_set.attributes[attribute];
        match seat.player.player_attributes.get(&declared.name) {
            Some(value) => from_request(value),
            None => declared.default.as_ref().map_or(X::Nothing, from_default),
        }
    }

    fn eval(&self, expr: &TypedExpr, seats: &[Seat<'_>]) -> X {
        match &expr.node {
            ExprNode::Number(n) => X::Num(*n),
            ExprNode::String(s) => X::Str(s.clone()),
            ExprNode::List(items) => X::List(items.iter().map(|i| self.eval(i, seats)).collect()),
            ExprNode::Select {
                teams,
                grouped,
                field,
            } => {
                let team = |t: usize| -> X {
                    X::List(
                        seats
                            .iter()
                            .filter(|s| s.team == t)
                            .map(|s| match field {
                                SelectField::Teams | SelectField::Players => X::Thing,
                                SelectField::PlayerId => X::Str(s.player.player_id.clone()),
                                SelectField::Attribute(a) => self.value_of(s, a.0),
                            })
                            .collect(),
                    )
                };
                if matches!(field, SelectField::Teams) {
                    return if *grouped {
                        X::List(teams.iter().map(|_| X::Thing).collect())
                    } else {
                        X::Thing
                    };
                }
                if *grouped {
                    X::List(teams.iter().map(|t| team(t.0)).collect())
                } else {
                    team(teams[0].0)
                }
            }
            ExprNode::Call { function, arg } => call(*function, self.eval(arg, seats), &arg.ty),
        }
    }
}

/// `a ≤ b` within the tolerance the module doc states.
fn at_most(a: f64, b: f64) -> bool {
    a <= b || close(a, b)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Equal values: numbers within the tolerance, anything else exactly.
fn same(a: &X, b: &X) -> bool {
    match (a, b) {
        (X::Num(a), X::Num(b)) => close(*a, *b),
        _ => a == b,
    }
}

/// Whether a value holds an aggregate of nothing, anywhere inside.
fn has_nothing(x: &X) -> bool {
    match x {
        X::Nothing => true,
        X::List(items) => items.iter().any(has_nothing),
        _ => false,
    }
}

/// All numbers, or `None` when some value is not one.
fn numbers(values: &[X]) -> Option<Vec<f64>> {
    values
        .iter()
        .map(|v| match v {
            X::Num(n) => Some(*n),
            _ => None,
        })
        .collect()
}

fn comparison(measured: X, operation: ComparisonOperation, reference: Option<X>) -> bool {
    if has_nothing(&measured) || reference.as_ref().is_some_and(has_nothing) {
        return false;
    }
    let values = elements(measured);
    match reference {
        None => match operation {
            ComparisonOperation::Equal => match numbers(&values) {
                Some(n) if !n.is_empty() => {
                    let spread = n.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
                        - n.iter().cloned().fold(f64::INFINITY, f64::min);
                    close(spread, 0.0)
                }
                _ => values.iter().all(|v| same(v, &values[0])),
            },
            _ => (0..values.len())
                .all(|i| (i + 1..values.len()).all(|j| !same(&values[i], &values[j]))),
        },
        Some(reference) => values.iter().all(|v| compare(v, operation, &reference)),
    }
}

fn distance(measured: X, reference: X, min: Option<f64>, max: Option<f64>) -> bool {
    if has_nothing(&measured) || has_nothing(&reference) {
        return false;
    }
    let X::Num(reference) = reference else {
        return true;
    };
    elements(measured).iter().all(|v| match v {
        X::Num(v) => {
            let distance = (v - reference).abs();
            min.is_none_or(|m| at_most(m, distance)) && max.is_none_or(|m| at_most(distance, m))
        }
        _ => true,
    })
}

fn collection(
    measured: X,
    operation: CollectionOperation,
    reference: Option<X>,
    min: Option<f64>,
    max: Option<f64>,
) -> bool {
    if has_nothing(&measured) || reference.as_ref().is_some_and(has_nothing) {
        return false;
    }
    let lists: Vec<Vec<String>> = elements(measured).into_iter().map(strings).collect();
    let reference: Vec<String> = reference.map(strings).unwrap_or_default();
    let within = |n: usize| min.is_none_or(|m| n as f64 >= m) && max.is_none_or(|m| n as f64 <= m);
    match operation {
        CollectionOperation::Intersection => {
            lists.is_empty()
                || within(
                    lists[0]
                        .iter()
                        .filter(|s| lists.iter().all(|l| l.contains(s)))
                        .count(),
                )
        }
        CollectionOperation::Contains => within(
            lists
                .iter()
                .filter(|l| reference.iter().any(|r| l.contains(r)))
                .count(),
        ),
        CollectionOperation::ReferenceIntersectionCount => lists
            .iter()
            .all(|l| within(l.iter().filter(|s| reference.contains(s)).count())),
    }
}

fn from_request(value: &AttributeValueRequest) -> X {
    if let Some(s) = &value.s {
        X::Str(s.clone())
    } else if let Some(n) = value.n {
        X::Num(n)
    } else if let Some(list) = &value.sl {
        let mut unique: Vec<String> = Vec::new();
        for s in list {
            if !unique.contains(s) {
                unique.push(s.clone());
            }
        }
        X::List(unique.into_iter().map(X::Str).collect())
    } else {
        X::Nothing
    }
}

fn from_default(value: &rally_rules::model::AttributeValue) -> X {
    use rally_rules::model::AttributeValue as A;
    match value {
        A::String(s) => X::Str(s.clone()),
        A::Number(n) => X::Num(*n),
        A::StringList(l) => X::List(l.iter().map(|s| X::Str(s.clone())).collect()),
        A::StringNumberMap(_) => X::Nothing,
    }
}

/// The values a rule checks: a list's elements, or the one value.
fn elements(x: X) -> Vec<X> {
    match x {
        X::List(items) => items,
        other => vec![other],
    }
}

fn strings(x: X) -> Vec<String> {
    match x {
        X::List(items) => items
            .into_iter()
            .filter_map(|i| match i {
                X::Str(s) => Some(s),
                _ => None,
            })
            .collect(),
        X::Str(s) => vec![s],
        _ => Vec::new(),
    }
}

fn compare(value: &X, operation: ComparisonOperation, reference: &X) -> bool {
    use ComparisonOperation as O;
    match (value, reference) {
        (X::Num(a), X::Num(b)) => match operation {
            O::Equal => close(*a, *b),
            O::NotEqual => !close(*a, *b),
            O::Less => a < b && !close(*a, *b),
            O::LessOrEqual => at_most(*a, *b),
            O::Greater => a > b && !close(*a, *b),
            O::GreaterOrEqual => at_most(*b, *a),
        },
        (X::Str(a), X::Str(b)) => match operation {
            O::Equal => a == b,
            O::NotEqual => a != b,
            _ => false,
        },
        _ => true,
    }
}

/// FlexMatch's functions, applied to the innermost list they take and mapped over the lists
/// around it.
fn call(function: Function, value: X, ty: &Type) -> X {
    let X::List(items) = value else {
        return X::Nothing;
    };
    let element = ty.element().expect("a list");
    let maps = match function {
        Function::Flatten => false,
        Function::SetIntersection => element.depth() > 1,
        _ => element.depth() > 0,
    };
    if maps {
        return X::List(
            items
                .into_iter()
                .map(|i| call(function, i, element))
                .collect(),
        );
    }
    match function {
        Function::Flatten => X::List(
            items
                .into_iter()
                .flat_map(|i| match i {
                    X::List(inner) => inner,
                    other => vec![other],
                })
                .collect(),
        ),
        Function::Count => X::Num(items.len() as f64),
        Function::SetIntersection => {
            let lists: Vec<Vec<String>> = items.into_iter().map(strings).collect();
            match lists.first() {
                None => X::List(Vec::new()),
                Some(first) => X::List(
                    first
                        .iter()
                        .filter(|s| lists.iter().all(|l| l.contains(s)))
                        .map(|s| X::Str(s.clone()))
                        .collect(),
                ),
            }
        }
        numeric => {
            let Some(mut n) = numbers(&items) else {
                return X::Nothing;
            };
            if n.is_empty() {
                return if numeric == Function::Sum {
                    X::Num(0.0)
                } else {
                    X::Nothing
                };
            }
            let len = n.len() as f64;
            X::Num(match numeric {
                Function::Min => n.iter().cloned().fold(f64::INFINITY, f64::min),
                Function::Max => n.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
                Function::Sum => n.iter().sum(),
                Function::Avg => n.iter().sum::<f64>() / len,
                Function::Median => {
                    n.sort_by(f64::total_cmp);
                    let m = n.len() / 2;
                    if n.len().is_multiple_of(2) {
                        (n[m - 1] + n[m]) / 2.0
                    } else {
                        n[m]
                    }
                }
                Function::Stddev => {
                    let mean = n.iter().sum::<f64>() / len;
                    (n.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / len).sqrt()
                }
                _ => unreachable!(),
            })
        }
    }
}

/// The matches of a batch in the checker's terms.
pub fn described(
    pool: &rally_matchmaker::pool::Pool,
    matches: &[rally_matchmaker::matches::Match],
) -> Vec<CheckedMatch> {
    matches
        .iter()
        .map(|m| CheckedMatch {
            teams: m
                .teams
                .iter()
                .map(|keys| {
                    keys.iter()
                        .map(|k| pool.ticket(*k).id.to_string())
                        .collect()
                })
                .collect(),
            locations: m
                .locations
                .iter()
                .map(|l| pool.location_name(*l).to_string())
                .collect(),
        })
        .collect()
}
