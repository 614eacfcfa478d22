//! The ticket pool of one matchmaking configuration: tickets resolved against its compiled
//! rule set — attributes by id with defaults applied, strings and locations interned — and
//! checked for what would keep them from ever matching. Each ticket also carries what the
//! matcher's filters know of it (`filters::TicketFilters`), worked out once when it joins,
//! since a ticket waits through many batches.

use std::collections::HashMap;
use std::sync::Arc;

use rally_rules::model::{AttributeType, AttributeValue, RuleKind, RuleSet, TeamId};

use smallvec::SmallVec;

use crate::analysis::Analysis;
use crate::filters::TicketFilters;
use crate::params::ParamsTable;
use crate::ticket::{AttributeValueRequest, TicketError, TicketRequest};

/// An interned string: attribute values, map keys, player ids in block lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol(pub u32);

/// An interned location (an AWS Region or custom location name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocationId(pub u16);

/// A ticket's place in the pool; stays valid until the ticket is removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TicketKey(pub u32);

/// Strings numbered in the order they are first seen; lookups by text go through a map,
/// but nothing iterates it.
#[derive(Clone, Debug, Default)]
pub struct Interner {
    ids: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Interner {
    pub fn intern(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = u32::try_from(self.names.len()).expect("fewer than 2^32 distinct strings");
        self.names.push(text.into());
        self.ids.insert(text.into(), id);
        id
    }

    pub fn get(&self, text: &str) -> Option<u32> {
        self.ids.get(text).copied()
    }

    pub fn resolve(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// A player attribute's value, resolved: strings interned, lists deduplicated in first-seen
/// order, maps sorted by key.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Number(f64),
    String(Symbol),
    StringList(Box<[Symbol]>),
    StringNumberMap(Box<[(Symbol, f64)]>),
    /// Not sent and without a default: the ticket can never match.
    Missing,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Player {
    pub id: String,
    /// The id as a string value, for rules that compare ids (block lists).
    pub id_symbol: Symbol,
    /// Indexed by `AttributeId`.
    pub values: Box<[Value]>,
    /// Milliseconds to each location the player reported, sorted by location.
    pub latencies: Box<[(LocationId, u32)]>,
    /// On a backfill ticket, the team the player already plays on.
    pub team: Option<TeamId>,
}

impl Player {
    pub fn latency(&self, location: LocationId) -> Option<u32> {
        self.latencies
            .binary_search_by_key(&location, |(l, _)| *l)
            .ok()
            .map(|i| self.latencies[i].1)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Ticket {
    pub id: String,
    pub start_time: f64,
    pub players: Vec<Player>,
    /// The running game session a backfill ticket fills.
    pub game_session_arn: Option<String>,
    /// Why the ticket can never match, when it cannot.
    pub unmatchable: Vec<String>,
    /// What the matcher's filters know of the ticket, per variant of the search (see
    /// [`Pool::variants`]); empty for a ticket that can never match.
    pub filters: SmallVec<[TicketFilters; 1]>,
}

impl Ticket {
    pub fn is_backfill(&self) -> bool {
        self.game_session_arn.is_some()
    }

    /// Whether the players are a party, whose values a rule's `partyAggregation` combines. A
    /// backfill ticket's players are a game's current players, each on their own.
    pub fn is_party(&self) -> bool {
        !self.is_backfill() && self.players.len() > 1
    }

    /// Seconds the ticket has waited at `now`.
    pub fn age(&self, now: f64) -> f64 {
        now - self.start_time
    }
}

/// A ticket the pool refuses: it contradicts the rule set or another ticket.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Rejected(pub TicketError);

#[derive(Clone, Debug)]
pub struct Pool {
    rule_set: Arc<RuleSet>,
    strings: Interner,
    locations: Interner,
    slots: Vec<Option<Ticket>>,
    free: Vec<u32>,
    by_ticket_id: HashMap<String, TicketKey>,
    by_player_id: HashMap<String, TicketKey>,
    has_latency_rule: bool,
    largest_team: u32,
    /// The rule set's filters, one analysis per variant of the search.
    variants: Arc<[Analysis]>,
    table: Arc<ParamsTable>,
}

impl Pool {
    pub fn new(rule_set: Arc<RuleSet>) -> Pool {
        let has_latency_rule = rule_set
            .rules
            .iter()
            .any(|rule| matches!(rule.kind, RuleKind::Latency(_)));
        // The largest team a party could join, once expansions have grown teams.
        let largest_team = rule_set
            .team_definitions
            .iter()
            .map(|definition| definition.max_players)
            .max()
            .unwrap_or(0)
            .max(largest_expanded_team(&rule_set));
        // Every string the rules compare with gets a symbol, so evaluation never looks text up.
        let mut strings = Interner::default();
        for text in rule_literals(&rule_set) {
            strings.intern(text);
        }
        let variants = Analysis::variants(&rule_set).into();
        let table = Arc::new(ParamsTable::new(&rule_set));
        Pool {
            variants,
            table,
            rule_set,
            strings,
            locations: Interner::default(),
            slots: Vec::new(),
            free: Vec::new(),
            by_ticket_id: HashMap::new(),
            by_player_id: HashMap::new(),
            has_latency_rule,
            largest_team,
        }
    }

    pub fn rule_set(&self) -> &Arc<RuleSet> {
        &self.rule_set
    }

    /// The filters the rule set implies, per variant of the search (one unless compound
    /// rules split it; see [`Analysis::variants`]).
    pub fn variants(&self) -> &[Analysis] {
        &self.variants
    }

    /// The rule set's relaxable values at every age.
    pub fn params_table(&self) -> &ParamsTable {
        &self.table
    }

    pub fn strings(&self) -> &Interner {
        &self.strings
    }

    pub fn locations(&self) -> &Interner {
        &self.locations
    }

    pub fn location_name(&self, location: LocationId) -> &str {
        self.locations.resolve(u32::from(location.0))
    }

    pub fn string(&self, symbol: Symbol) -> &str {
        self.strings.resolve(symbol.0)
    }

    pub fn symbol(&self, text: &str) -> Option<Symbol> {
        self.strings.get(text).map(Symbol)
    }

    pub fn len(&self) -> usize {
        self.by_ticket_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_ticket_id.is_empty()
    }

    pub fn get(&self, key: TicketKey) -> Option<&Ticket> {
        self.slots.get(key.0 as usize).and_then(Option::as_ref)
    }

    /// The ticket at `key`; panics if it was removed, which is a caller's bug.
    pub fn ticket(&self, key: TicketKey) -> &Ticket {
        self.get(key).expect("the ticket is in the pool")
    }

    pub fn key_of(&self, ticket_id: &str) -> Option<TicketKey> {
        self.by_ticket_id.get(ticket_id).copied()
    }

    /// Every ticket in the pool, in key order.
    pub fn keys(&self) -> impl Iterator<Item = TicketKey> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| slot.is_some())
            .map(|(i, _)| TicketKey(i as u32))
    }

    /// Resolves a ticket against the rule set and adds it. A ticket that can never match is
    /// added too, with its reasons, so that matching can report it; a ticket that contradicts
    /// the rule set or another ticket is refused and nothing changes.
    pub fn insert(&mut self, request: &TicketRequest) -> Result<TicketKey, Rejected> {
        let reject = |path: String, message: String| Rejected(TicketError::new(path, message));
        if self.by_ticket_id.contains_key(&request.ticket_id) {
            return Err(reject(
                "TicketId".into(),
                format!("ticket `{}` is already in the pool", request.ticket_id),
            ));
        }
        for (i, player) in request.players.iter().enumerate() {
            if let Some(other) = self.by_player_id.get(&player.player_id) {
                return Err(reject(
                    format!("Players[{i}].PlayerId"),
                    format!(
                        "player `{}` is already in ticket `{}`",
                        player.player_id,
                        self.ticket(*other).id
                    ),
                ));
            }
        }
        // Resolve into a scratch copy of the interners first, so a refused ticket leaves none
        // of its strings behind.
        let mut strings = std::mem::take(&mut self.strings);
        let mut locations = std::mem::take(&mut self.locations);
        let resolved = self.resolve(request, &mut strings, &mut locations);
        self.strings = strings;
        self.locations = locations;
        let mut ticket = resolved?;
        if ticket.unmatchable.is_empty() {
            ticket.filters = self
                .variants
                .iter()
                .map(|analysis| TicketFilters::of(self, &ticket, analysis, &self.table))
                .collect();
        }

        let key = match self.free.pop() {
            Some(slot) => TicketKey(slot),
            None => {
                self.slots.push(None);
                TicketKey(u32::try_from(self.slots.len() - 1).expect("fewer than 2^32 tickets"))
            }
        };
        self.by_ticket_id.insert(ticket.id.clone(), key);
        for player in &ticket.players {
            self.by_player_id.insert(player.id.clone(), key);
        }
        self.slots[key.0 as usize] = Some(ticket);
        Ok(key)
    }

    /// Removes a ticket, e.g. once it is matched or cancelled.
    pub fn remove(&mut self, key: TicketKey) -> Option<Ticket> {
        let ticket = self.slots.get_mut(key.0 as usize)?.take()?;
        self.by_ticket_id.remove(&ticket.id);
        for player in &ticket.players {
            self.by_player_id.remove(&player.id);
        }
        self.free.push(key.0);
        Some(ticket)
    }

    fn resolve(
        &self,
        request: &TicketRequest,
        strings: &mut Interner,
        locations: &mut Interner,
    ) -> Result<Ticket, Rejected> {
        let rule_set = &self.rule_set;
        let mut unmatchable = Vec::new();
        let mut players = Vec::with_capacity(request.players.len());
        for (i, player) in request.players.iter().enumerate() {
            let mut values = Vec::with_capacity(rule_set.attributes.len());
            for attribute in &rule_set.attributes {
                let value = match player.player_attributes.get(&attribute.name) {
                    Some(sent) => resolve_value(sent, attribute.ty, strings).ok_or_else(|| {
                        Rejected(TicketError::new(
                            format!("Players[{i}].PlayerAttributes.{}", attribute.name),
                            format!(
                                "the rule set declares `{}` as {}, found `{}`",
                                attribute.name,
                                describe_type(attribute.ty),
                                sent.kind().unwrap_or("?")
                            ),
                        ))
                    })?,
                    None => match &attribute.default {
                        Some(default) => resolve_default(default, strings),
                        None => {
                            unmatchable.push(format!(
                                "player `{}` has no `{}`, and the rule set gives it no default",
                                player.player_id, attribute.name
                            ));
                            Value::Missing
                        }
                    },
                };
                values.push(value);
            }
            let mut latencies: Vec<(LocationId, u32)> = player
                .latency_in_ms
                .iter()
                .map(|(location, ms)| {
                    let id = u16::try_from(locations.intern(location))
                        .expect("fewer than 65,536 locations");
                    (LocationId(id), *ms as u32)
                })
                .collect();
            latencies.sort_unstable();
            if self.has_latency_rule && latencies.is_empty() {
                unmatchable.push(format!(
                    "the rule set has a latency rule, and player `{}` reports no latency",
                    player.player_id
                ));
            }
            let team = match &player.team {
                None => None,
                Some(name) => Some(self.team_named(name).ok_or_else(|| {
                    let names: Vec<&str> = rule_set.teams.iter().map(|t| t.name.as_str()).collect();
                    Rejected(TicketError::new(
                        format!("Players[{i}].Team"),
                        format!("unknown team `{name}`; the teams are {}", names.join(", ")),
                    ))
                })?),
            };
            players.push(Player {
                id: player.player_id.clone(),
                id_symbol: Symbol(strings.intern(&player.player_id)),
                values: values.into_boxed_slice(),
                latencies: latencies.into_boxed_slice(),
                team,
            });
        }
        if request.is_backfill() {
            self.check_backfill_teams(&players)?;
        } else if players.len() > self.largest_team as usize {
            unmatchable.push(format!(
                "a party of {} does not fit any team; the largest holds {}",
                players.len(),
                self.largest_team
            ));
        }
        Ok(Ticket {
            id: request.ticket_id.clone(),
            start_time: request.start_time,
            players,
            game_session_arn: request.game_session_arn.clone(),
            unmatchable,
            filters: SmallVec::new(),
        })
    }

    fn team_named(&self, name: &str) -> Option<TeamId> {
        self.rule_set
            .teams
            .iter()
            .position(|team| team.name == name)
            .map(TeamId)
    }

    /// A backfill ticket's players already fill their teams; no team may hold more than it can.
    fn check_backfill_teams(&self, players: &[Player]) -> Result<(), Rejected> {
        for (position, team) in self.rule_set.teams.iter().enumerate() {
            let on_team = players
                .iter()
                .filter(|player| player.team == Some(TeamId(position)))
                .count();
            if on_team > team.max_players as usize {
                return Err(Rejected(TicketError::new(
                    "Players",
                    format!(
                        "{on_team} players are on team `{}`, which holds at most {}",
                        team.name, team.max_players
                    ),
                )));
            }
        }
        Ok(())
    }
}

/// The string literals of the rules' expressions and of expansion steps.
fn rule_literals(rule_set: &RuleSet) -> Vec<&str> {
    use rally_rules::model::{ExprNode, StepValue, TypedExpr};
    fn walk<'a>(expr: &'a TypedExpr, out: &mut Vec<&'a str>) {
        match &expr.node {
            ExprNode::String(text) => out.push(text),
            ExprNode::List(items) => items.iter().for_each(|item| walk(item, out)),
            ExprNode::Call { arg, .. } => walk(arg, out),
            ExprNode::Number(_) | ExprNode::Select { .. } => {}
        }
    }
    let mut out = Vec::new();
    for rule in &rule_set.rules {
        let exprs: Vec<&TypedExpr> = match &rule.kind {
            RuleKind::Comparison(c) => std::iter::once(&c.measurement)
                .chain(&c.reference)
                .collect(),
            RuleKind::Distance(d) => vec![&d.measurement, &d.reference],
            RuleKind::Collection(c) => std::iter::once(&c.measurement)
                .chain(&c.reference)
                .collect(),
            _ => Vec::new(),
        };
        for expr in exprs {
            walk(expr, &mut out);
        }
    }
    for step in rule_set.expansions.iter().flat_map(|e| &e.steps) {
        match &step.value {
            StepValue::String(text) => out.push(text),
            StepValue::StringList(list) => out.extend(list.iter().map(String::as_str)),
            StepValue::Number(_) => {}
        }
    }
    out
}

/// The largest `maxPlayers` any expansion gives a team.
fn largest_expanded_team(rule_set: &RuleSet) -> u32 {
    use rally_rules::model::{ExpansionTarget, TeamBound};
    rule_set
        .expansions
        .iter()
        .filter(|expansion| {
            matches!(
                expansion.target,
                ExpansionTarget::Teams {
                    property: TeamBound::MaxPlayers,
                    ..
                }
            )
        })
        .flat_map(|expansion| &expansion.steps)
        .filter_map(|step| step.value.as_number())
        .fold(0, |most, value| most.max(value as u32))
}

fn describe_type(ty: AttributeType) -> &'static str {
    match ty {
        AttributeType::String => "a string (`S`)",
        AttributeType::Number => "a number (`N`)",
        AttributeType::StringList => "a string list (`SL`)",
        AttributeType::StringNumberMap => "a string-number map (`SDM`)",
    }
}

/// A sent value of the declared type, or `None` when the types differ.
fn resolve_value(
    sent: &AttributeValueRequest,
    ty: AttributeType,
    strings: &mut Interner,
) -> Option<Value> {
    Some(match ty {
        AttributeType::String => Value::String(Symbol(strings.intern(sent.s.as_deref()?))),
        AttributeType::Number => Value::Number(sent.n?),
        AttributeType::StringList => Value::StringList(dedup_symbols(
            sent.sl.as_ref()?.iter().map(String::as_str),
            strings,
        )),
        AttributeType::StringNumberMap => Value::StringNumberMap(
            // A BTreeMap already iterates in key order.
            sent.sdm
                .as_ref()?
                .iter()
                .map(|(key, number)| (Symbol(strings.intern(key)), *number))
                .collect(),
        ),
    })
}

fn resolve_default(default: &AttributeValue, strings: &mut Interner) -> Value {
    match default {
        AttributeValue::String(text) => Value::String(Symbol(strings.intern(text))),
        AttributeValue::Number(number) => Value::Number(*number),
        AttributeValue::StringList(list) => {
            Value::StringList(dedup_symbols(list.iter().map(String::as_str), strings))
        }
        AttributeValue::StringNumberMap(map) => Value::StringNumberMap(
            map.iter()
                .map(|(key, number)| (Symbol(strings.intern(key)), *number))
                .collect(),
        ),
    }
}

/// FlexMatch ignores a string list's repeats after the first.
fn dedup_symbols<'a>(
    items: impl Iterator<Item = &'a str>,
    strings: &mut Interner,
) -> Box<[Symbol]> {
    let mut symbols: Vec<Symbol> = Vec::new();
    for item in items {
        let symbol = Symbol(strings.intern(item));
        if !symbols.contains(&symbol) {
            symbols.push(symbol);
        }
    }
    symbols.into_boxed_slice()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ticket::parse_ticket;
    use rally_rules::{SourceFormat, check_source};

    fn pool(dsl: &str) -> Pool {
        let checked = check_source(dsl, SourceFormat::Dsl);
        assert!(checked.is_valid(), "{:?}", checked.diagnostics);
        Pool::new(Arc::new(checked.rule_set.unwrap()))
    }

    const RULES: &str = r#"attribute skill: number = 1000
attribute modes: string_list = ["ctf"]
attribute rank: number
team red players 1..3
team blue players 1..3
rule ping: latency max 100ms
"#;

    #[test]
    fn resolves_attributes_defaults_and_latencies() {
        let mut pool = pool(RULES);
        let key = pool
            .insert(&parse_ticket(r#"{"TicketId":"t1","StartTime":5,"Players":[{"PlayerId":"p1","PlayerAttributes":{"rank":{"N":3},"modes":{"SL":["tdm","ctf","tdm"]}},"LatencyInMs":{"us-east-1":40,"eu-west-1":90}}]}"#).unwrap())
            .unwrap();
        let ticket = pool.ticket(key);
        let player = &ticket.players[0];
        assert_eq!(player.values[0], Value::Number(1000.0), "default applied");
        let tdm = pool.symbol("tdm").unwrap();
        let ctf = pool.symbol("ctf").unwrap();
        assert_eq!(player.values[1], Value::StringList(vec![tdm, ctf].into()));
        assert_eq!(player.values[2], Value::Number(3.0));
        let us = LocationId(pool.locations().get("us-east-1").unwrap() as u16);
        assert_eq!(player.latency(us), Some(40));
        assert!(ticket.unmatchable.is_empty());
        assert_eq!(ticket.age(12.0), 7.0);
    }

    #[test]
    fn tickets_that_can_never_match_say_why() {
        let mut pool = pool(RULES);
        let key = pool
            .insert(&parse_ticket(r#"{"TicketId":"t1","Players":[{"PlayerId":"p1"},{"PlayerId":"p2","PlayerAttributes":{"rank":{"N":1}}},{"PlayerId":"p3","PlayerAttributes":{"rank":{"N":1}}},{"PlayerId":"p4","PlayerAttributes":{"rank":{"N":1}}}]}"#).unwrap())
            .unwrap();
        let reasons = &pool.ticket(key).unmatchable;
        assert!(
            reasons.contains(
                &"player `p1` has no `rank`, and the rule set gives it no default".to_string()
            ),
            "{reasons:?}"
        );
        assert!(reasons.contains(
            &"the rule set has a latency rule, and player `p2` reports no latency".to_string()
        ));
        assert!(
            reasons
                .contains(&"a party of 4 does not fit any team; the largest holds 3".to_string())
        );
    }

    #[test]
    fn refuses_contradictions_and_keeps_the_pool_unchanged() {
        let mut pool = pool(RULES);
        let ok = r#"{"TicketId":"t1","Players":[{"PlayerId":"p1","PlayerAttributes":{"rank":{"N":1}}}]}"#;
        pool.insert(&parse_ticket(ok).unwrap()).unwrap();
        let again = pool.insert(&parse_ticket(ok).unwrap()).unwrap_err();
        assert_eq!(again.0.path, "TicketId");
        let same_player = r#"{"TicketId":"t2","Players":[{"PlayerId":"p1"}]}"#;
        let error = pool
            .insert(&parse_ticket(same_player).unwrap())
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "`Players[0].PlayerId`: player `p1` is already in ticket `t1`"
        );
        let wrong_type = r#"{"TicketId":"t3","Players":[{"PlayerId":"p3","PlayerAttributes":{"skill":{"S":"high"}}}]}"#;
        let error = pool.insert(&parse_ticket(wrong_type).unwrap()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`Players[0].PlayerAttributes.skill`: the rule set declares `skill` as a number (`N`), found `S`"
        );
        assert_eq!(pool.len(), 1);
        assert!(
            pool.symbol("high").is_none(),
            "a refused ticket leaves no strings behind"
        );
    }

    #[test]
    fn backfill_players_keep_their_teams() {
        let mut pool = pool(RULES);
        let key = pool
            .insert(&parse_ticket(r#"{"TicketId":"b1","GameSessionArn":"arn:gs/1","Players":[{"PlayerId":"p1","Team":"red","PlayerAttributes":{"rank":{"N":1}},"LatencyInMs":{"a":1}},{"PlayerId":"p2","Team":"blue","PlayerAttributes":{"rank":{"N":1}},"LatencyInMs":{"a":1}}]}"#).unwrap())
            .unwrap();
        let ticket = pool.ticket(key);
        assert!(ticket.is_backfill());
        assert_eq!(ticket.players[0].team, Some(TeamId(0)));
        assert_eq!(ticket.players[1].team, Some(TeamId(1)));
        let unknown = r#"{"TicketId":"b2","GameSessionArn":"arn:gs/2","Players":[{"PlayerId":"q1","Team":"green"}]}"#;
        let error = pool.insert(&parse_ticket(unknown).unwrap()).unwrap_err();
        assert_eq!(error.0.path, "Players[0].Team");
    }

    #[test]
    fn removed_tickets_free_their_ids_and_slots() {
        let mut pool = pool(RULES);
        let t = r#"{"TicketId":"t1","Players":[{"PlayerId":"p1","PlayerAttributes":{"rank":{"N":1}}}]}"#;
        let key = pool.insert(&parse_ticket(t).unwrap()).unwrap();
        assert!(pool.remove(key).is_some());
        assert!(pool.is_empty());
        let again = pool.insert(&parse_ticket(t).unwrap()).unwrap();
        assert_eq!(again, key, "the slot is reused");
        assert_eq!(pool.keys().collect::<Vec<_>>(), [key]);
    }
}
