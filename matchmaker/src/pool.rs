//! The ticket pool of one matchmaking configuration: tickets resolved against its compiled
//! rule set — attributes by id with defaults applied, strings and locations interned — and
//! checked for what would keep them from ever matching. Each ticket also carries what the
//! matcher's filters know of it (`filters::TicketFilters`), worked out once when it joins,
//! since a ticket waits through many batches.

use std::hash::BuildHasher;
use std::sync::Arc;

use compact_str::CompactString;
use hashbrown::{DefaultHashBuilder, HashTable};

use rally_rules::model::{
    AttributeType, AttributeValue, ExprNode, RuleKind, RuleSet, SelectField, TeamId, TypedExpr,
};

use smallvec::SmallVec;
use thin_vec::ThinVec;

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

/// Strings numbered as they are first seen, each with a count of the tickets that hold it.
/// A string no ticket holds any more is forgotten and its number reused, so a pool that runs
/// for weeks does not grow with every player id and attribute value it has ever seen.
/// The text is stored once; the lookup table holds numbers only, and nothing iterates it.
#[derive(Clone, Debug, Default)]
pub struct Interner {
    ids: HashTable<u32>,
    hasher: DefaultHashBuilder,
    entries: Vec<Entry>,
    free: Vec<u32>,
}

#[derive(Clone, Debug)]
struct Entry {
    /// `None` once forgotten.
    text: Option<Box<str>>,
    holders: u32,
}

impl Interner {
    /// The number of `text`, counting one more holder of it. Strings interned and never
    /// released (the rule set's literals) stay for the pool's life.
    pub fn intern(&mut self, text: &str) -> u32 {
        self.intern_under(text, u32::MAX)
            .expect("fewer than 2^32 distinct strings")
    }

    /// Like [`Interner::intern`], unless that would need a number above `limit`.
    pub fn intern_under(&mut self, text: &str, limit: u32) -> Option<u32> {
        let hash = self.hasher.hash_one(text);
        if let Some(&id) = self.ids.find(hash, |id| self.text(*id) == text) {
            self.entries[id as usize].holders += 1;
            return Some(id);
        }
        let entry = Entry {
            text: Some(text.into()),
            holders: 1,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.entries[id as usize] = entry;
                id
            }
            None => {
                let id = u32::try_from(self.entries.len())
                    .ok()
                    .filter(|id| *id <= limit)?;
                self.entries.push(entry);
                id
            }
        };
        let (entries, hasher) = (&self.entries, &self.hasher);
        self.ids.insert_unique(hash, id, |id| {
            hasher.hash_one(entries[*id as usize].text.as_deref().unwrap_or(""))
        });
        Some(id)
    }

    /// One holder of `id` lets go of it; the last one forgets the string.
    pub fn release(&mut self, id: u32) {
        let entry = &mut self.entries[id as usize];
        entry.holders -= 1;
        if entry.holders == 0 {
            let hash = self.hasher.hash_one(self.text(id));
            if let Ok(found) = self.ids.find_entry(hash, |other| *other == id) {
                found.remove();
            }
            self.entries[id as usize].text = None;
            self.free.push(id);
        }
    }

    pub fn get(&self, text: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(text);
        self.ids.find(hash, |id| self.text(*id) == text).copied()
    }

    /// The text of a held string; panics on a forgotten one, which is a caller's bug.
    pub fn resolve(&self, id: u32) -> &str {
        self.entries[id as usize]
            .text
            .as_deref()
            .expect("the string is still held")
    }

    /// The text of `id`, or "" once forgotten (which no lookup then matches).
    fn text(&self, id: u32) -> &str {
        self.entries[id as usize].text.as_deref().unwrap_or("")
    }

    /// How many strings are held.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// A player attribute's value, resolved: strings interned, lists deduplicated in first-seen
/// order, maps sorted by key.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Number(f64),
    String(Symbol),
    // Thin vectors keep the value at 16 bytes; ten attributes per player add up.
    StringList(ThinVec<Symbol>),
    StringNumberMap(ThinVec<(Symbol, f64)>),
    /// Not sent and without a default: the ticket can never match.
    Missing,
}

impl Value {
    /// The interned strings the value holds.
    pub fn symbols(&self) -> impl Iterator<Item = Symbol> + '_ {
        let (one, list, map): (Option<Symbol>, &[Symbol], &[(Symbol, f64)]) = match self {
            Value::String(symbol) => (Some(*symbol), &[], &[]),
            Value::StringList(list) => (None, list, &[]),
            Value::StringNumberMap(map) => (None, &[], map),
            Value::Number(_) | Value::Missing => (None, &[], &[]),
        };
        one.into_iter()
            .chain(list.iter().copied())
            .chain(map.iter().map(|(key, _)| *key))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Player {
    /// Read through [`Pool::player_id`].
    id: PlayerId,
    /// Indexed by `AttributeId`.
    pub values: Box<[Value]>,
    /// Milliseconds to each location the player reported, sorted by location.
    pub latencies: Box<[(LocationId, u32)]>,
    /// On a backfill ticket, the team the player already plays on; `NO_TEAM` otherwise.
    team: u16,
}

/// A player's id: its text, or, when some rule compares player ids (block lists), its
/// number among the pool's strings, which then hold the text once for both uses.
#[derive(Clone, Debug, PartialEq)]
enum PlayerId {
    Text(Box<str>),
    Interned(Symbol),
}

const NO_TEAM: u16 = u16::MAX;

impl Player {
    /// The id as a string value, for rules that compare ids; `None` when no rule reads
    /// player ids.
    pub fn id_symbol(&self) -> Option<Symbol> {
        match self.id {
            PlayerId::Text(_) => None,
            PlayerId::Interned(symbol) => Some(symbol),
        }
    }

    /// On a backfill ticket, the team the player already plays on.
    pub fn team(&self) -> Option<TeamId> {
        (self.team != NO_TEAM).then_some(TeamId(usize::from(self.team)))
    }

    pub fn latency(&self, location: LocationId) -> Option<u32> {
        self.latencies
            .binary_search_by_key(&location, |(l, _)| *l)
            .ok()
            .map(|i| self.latencies[i].1)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Ticket {
    /// Inline up to 24 bytes, as most ids are (UUIDs are 36).
    pub id: CompactString,
    pub start_time: f64,
    /// Inline for a solo player, the most common ticket.
    pub players: SmallVec<[Player; 1]>,
    /// What few tickets have (a backfill ticket's game session, why a ticket can never
    /// match), boxed so that the rest pay a pointer for it.
    rare: Option<Box<Rare>>,
    /// What the matcher's filters know of the ticket, per variant of the search (see
    /// [`Pool::variants`]); empty for a ticket that can never match.
    pub filters: SmallVec<[TicketFilters; 1]>,
}

#[derive(Clone, Debug, PartialEq)]
struct Rare {
    game_session_arn: Option<Box<str>>,
    unmatchable: Vec<String>,
}

impl Ticket {
    /// Why the ticket can never match; empty when it can.
    pub fn unmatchable(&self) -> &[String] {
        self.rare.as_ref().map_or(&[], |rare| &rare.unmatchable)
    }

    /// The running game session a backfill ticket fills.
    pub fn game_session_arn(&self) -> Option<&str> {
        self.rare.as_ref()?.game_session_arn.as_deref()
    }

    pub fn is_backfill(&self) -> bool {
        self.game_session_arn().is_some()
    }

    /// Seconds the ticket has waited at `now`.
    pub fn age(&self, now: f64) -> f64 {
        now - self.start_time
    }
}

/// Attributes a ticket sends that the rule set does not declare, each as a finding naming the
/// field: no rule can read them, and most are a misspelt name. `rally match` warns of them;
/// the service refuses them.
pub fn undeclared_attributes(rule_set: &RuleSet, request: &TicketRequest) -> Vec<TicketError> {
    let declared: Vec<&str> = rule_set
        .attributes
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    let mut found = Vec::new();
    for (i, player) in request.players.iter().enumerate() {
        for name in player.player_attributes.keys() {
            if declared.contains(&name.as_str()) {
                continue;
            }
            let message = match rally_rules::suggest::did_you_mean(name, declared.iter().copied()) {
                Some(help) => format!("the rule set declares no attribute `{name}`; {help}"),
                None if declared.is_empty() => {
                    format!("the rule set declares no attribute `{name}`, nor any other")
                }
                None => format!(
                    "the rule set declares no attribute `{name}`; it declares {}",
                    rally_rules::suggest::list_all(&declared)
                ),
            };
            found.push(TicketError::new(
                format!("Players[{i}].PlayerAttributes.{name}"),
                message,
            ));
        }
    }
    found
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
    slots: Slots,
    free: Vec<u32>,
    ids: IdIndex,
    has_latency_rule: bool,
    /// Whether some rule reads player ids, which are then interned as strings.
    reads_player_ids: bool,
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
        let exprs = rule_exprs(&rule_set);
        for text in rule_literals(&rule_set, &exprs) {
            strings.intern(text);
        }
        let reads_player_ids = exprs.iter().any(|expr| reads_player_ids(expr));
        let variants = Analysis::variants(&rule_set).into();
        let table = Arc::new(ParamsTable::new(&rule_set));
        Pool {
            variants,
            table,
            rule_set,
            strings,
            locations: Interner::default(),
            slots: Slots::default(),
            free: Vec::new(),
            ids: IdIndex::default(),
            has_latency_rule,
            reads_player_ids,
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

    /// A player's id.
    pub fn player_id<'a>(&'a self, player: &'a Player) -> &'a str {
        player.id_text(&self.strings)
    }

    pub fn string(&self, symbol: Symbol) -> &str {
        self.strings.resolve(symbol.0)
    }

    pub fn symbol(&self, text: &str) -> Option<Symbol> {
        self.strings.get(text).map(Symbol)
    }

    pub fn len(&self) -> usize {
        self.ids.tickets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.tickets.is_empty()
    }

    pub fn get(&self, key: TicketKey) -> Option<&Ticket> {
        self.slots.get(key)
    }

    /// The ticket at `key`; panics if it was removed, which is a caller's bug.
    pub fn ticket(&self, key: TicketKey) -> &Ticket {
        self.get(key).expect("the ticket is in the pool")
    }

    pub fn key_of(&self, ticket_id: &str) -> Option<TicketKey> {
        self.ids.ticket(&self.slots, ticket_id)
    }

    /// Every ticket in the pool, in key order.
    pub fn keys(&self) -> impl Iterator<Item = TicketKey> + '_ {
        self.slots.keys()
    }

    /// Resolves a ticket against the rule set and adds it. A ticket that can never match is
    /// added too, with its reasons, so that matching can report it; a ticket that contradicts
    /// the rule set or another ticket is refused and nothing changes.
    pub fn insert(&mut self, request: &TicketRequest) -> Result<TicketKey, Rejected> {
        let reject = |path: String, message: String| Rejected(TicketError::new(path, message));
        if self.key_of(&request.ticket_id).is_some() {
            return Err(reject(
                "TicketId".into(),
                format!("ticket `{}` is already in the pool", request.ticket_id),
            ));
        }
        for (i, player) in request.players.iter().enumerate() {
            if let Some(other) = self
                .ids
                .player(&self.slots, &self.strings, &player.player_id)
            {
                return Err(reject(
                    format!("Players[{i}].PlayerId"),
                    format!(
                        "player `{}` is already in ticket `{}`",
                        player.player_id,
                        self.ticket(other).id
                    ),
                ));
            }
            if request.players[..i]
                .iter()
                .any(|earlier| earlier.player_id == player.player_id)
            {
                return Err(reject(
                    format!("Players[{i}].PlayerId"),
                    format!("player `{}` is in the ticket twice", player.player_id),
                ));
            }
        }
        // The interners are taken out while the ticket resolves (it reads the rest of the
        // pool); whatever a refused ticket interned is released again.
        let mut strings = std::mem::take(&mut self.strings);
        let mut locations = std::mem::take(&mut self.locations);
        let mut taken = Taken {
            strings: Tally::new(&mut strings),
            locations: Tally::new(&mut locations),
        };
        let resolved = self.resolve(request, &mut taken);
        if resolved.is_err() {
            taken.strings.release_all();
            taken.locations.release_all();
        }
        self.strings = strings;
        self.locations = locations;
        let mut ticket = resolved?;
        if ticket.unmatchable().is_empty() {
            ticket.filters = self
                .variants
                .iter()
                .map(|analysis| TicketFilters::of(self, &ticket, analysis, &self.table))
                .collect();
        }

        let key = match self.free.pop() {
            Some(slot) => TicketKey(slot),
            None => self.slots.push_empty(),
        };
        *self.slots.get_mut(key) = Some(ticket);
        self.ids.add(&self.slots, &self.strings, key);
        Ok(key)
    }

    /// Removes a ticket, e.g. once it is matched or cancelled, and lets go of its strings.
    pub fn remove(&mut self, key: TicketKey) -> Option<Ticket> {
        self.slots.get(key)?;
        self.ids.remove(&self.slots, &self.strings, key);
        let ticket = self.slots.get_mut(key).take()?;
        for player in &ticket.players {
            if let Some(symbol) = player.id_symbol() {
                self.strings.release(symbol.0);
            }
            for value in &player.values {
                for symbol in value.symbols() {
                    self.strings.release(symbol.0);
                }
            }
            for (location, _) in &player.latencies {
                self.locations.release(u32::from(location.0));
            }
        }
        self.free.push(key.0);
        Some(ticket)
    }

    fn resolve(&self, request: &TicketRequest, taken: &mut Taken<'_>) -> Result<Ticket, Rejected> {
        let rule_set = &self.rule_set;
        let mut unmatchable = Vec::new();
        let mut players = SmallVec::with_capacity(request.players.len());
        for (i, player) in request.players.iter().enumerate() {
            let mut values = Vec::with_capacity(rule_set.attributes.len());
            for attribute in &rule_set.attributes {
                let value = match player.player_attributes.get(&attribute.name) {
                    Some(sent) => resolve_value(sent, attribute.ty, &mut taken.strings)
                        .ok_or_else(|| {
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
                        Some(default) => resolve_default(default, &mut taken.strings),
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
            let mut latencies: Vec<(LocationId, u32)> =
                Vec::with_capacity(player.latency_in_ms.len());
            for (location, ms) in &player.latency_in_ms {
                let id = taken
                    .locations
                    .intern_under(location, u32::from(u16::MAX))
                    .ok_or_else(|| {
                        Rejected(TicketError::new(
                            format!("Players[{i}].LatencyInMs.{location}"),
                            format!(
                                "the pool already knows {} locations, the most it can hold",
                                u32::from(u16::MAX) + 1
                            ),
                        ))
                    })?;
                latencies.push((LocationId(id as u16), *ms as u32));
            }
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
                id: if self.reads_player_ids {
                    PlayerId::Interned(Symbol(taken.strings.intern(&player.player_id)))
                } else {
                    PlayerId::Text(player.player_id.as_str().into())
                },
                values: values.into_boxed_slice(),
                latencies: latencies.into_boxed_slice(),
                team: team.map_or(NO_TEAM, |t| {
                    u16::try_from(t.0).expect("a rule set holds at most 200 players and teams")
                }),
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
            id: request.ticket_id.as_str().into(),
            start_time: request.start_time,
            players,
            rare: (request.game_session_arn.is_some() || !unmatchable.is_empty()).then(|| {
                Box::new(Rare {
                    game_session_arn: request.game_session_arn.as_deref().map(Box::from),
                    unmatchable,
                })
            }),
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
                .filter(|player| player.team() == Some(TeamId(position)))
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

/// The interners a ticket draws on while it resolves.
struct Taken<'a> {
    strings: Tally<'a>,
    locations: Tally<'a>,
}

/// An interner, remembering what one ticket took from it so that a refused ticket can give
/// it all back.
struct Tally<'a> {
    interner: &'a mut Interner,
    taken: Vec<u32>,
}

impl<'a> Tally<'a> {
    fn new(interner: &'a mut Interner) -> Tally<'a> {
        Tally {
            interner,
            taken: Vec::new(),
        }
    }

    fn intern(&mut self, text: &str) -> u32 {
        let id = self.interner.intern(text);
        self.taken.push(id);
        id
    }

    fn intern_under(&mut self, text: &str, limit: u32) -> Option<u32> {
        let id = self.interner.intern_under(text, limit)?;
        self.taken.push(id);
        Some(id)
    }

    /// Gives back the string taken last.
    fn release_last(&mut self) {
        if let Some(id) = self.taken.pop() {
            self.interner.release(id);
        }
    }

    fn release_all(&mut self) {
        while !self.taken.is_empty() {
            self.release_last();
        }
    }
}

/// Where each ticket id and player id is in the pool. The ids live in the tickets; the
/// tables hold keys (and a player's place in the ticket) only.
#[derive(Clone, Debug, Default)]
struct IdIndex {
    tickets: HashTable<TicketKey>,
    players: HashTable<(TicketKey, u32)>,
    hasher: DefaultHashBuilder,
}

impl IdIndex {
    fn ticket(&self, slots: &Slots, id: &str) -> Option<TicketKey> {
        let hash = self.hasher.hash_one(id);
        self.tickets
            .find(hash, |key| slots.get(*key).is_some_and(|t| &*t.id == id))
            .copied()
    }

    fn player(&self, slots: &Slots, strings: &Interner, id: &str) -> Option<TicketKey> {
        let hash = self.hasher.hash_one(id);
        self.players
            .find(hash, |(key, i)| {
                player_id(slots, strings, *key, *i) == Some(id)
            })
            .map(|(key, _)| *key)
    }

    /// Indexes the ticket at `key`, already in its slot.
    fn add(&mut self, slots: &Slots, strings: &Interner, key: TicketKey) {
        let hasher = &self.hasher;
        let ticket = slots.get(key).expect("the ticket is in its slot");
        self.tickets
            .insert_unique(hasher.hash_one(&*ticket.id), key, |key| {
                hasher.hash_one(slots.get(*key).map_or("", |t| &*t.id))
            });
        for (i, player) in ticket.players.iter().enumerate() {
            self.players.insert_unique(
                hasher.hash_one(player.id_text(strings)),
                (key, i as u32),
                |(key, i)| hasher.hash_one(player_id(slots, strings, *key, *i).unwrap_or("")),
            );
        }
    }

    /// Forgets the ticket at `key`, still in its slot.
    fn remove(&mut self, slots: &Slots, strings: &Interner, key: TicketKey) {
        let Some(ticket) = slots.get(key) else {
            return;
        };
        let hash = self.hasher.hash_one(&*ticket.id);
        if let Ok(found) = self.tickets.find_entry(hash, |other| *other == key) {
            found.remove();
        }
        for (i, player) in ticket.players.iter().enumerate() {
            let hash = self.hasher.hash_one(player.id_text(strings));
            if let Ok(found) = self
                .players
                .find_entry(hash, |other| *other == (key, i as u32))
            {
                found.remove();
            }
        }
    }
}

fn player_id<'a>(
    slots: &'a Slots,
    strings: &'a Interner,
    key: TicketKey,
    player: u32,
) -> Option<&'a str> {
    let ticket = slots.get(key)?;
    Some(ticket.players.get(player as usize)?.id_text(strings))
}

impl Player {
    /// The id's text, from the pool's strings when it is interned.
    fn id_text<'a>(&'a self, strings: &'a Interner) -> &'a str {
        match &self.id {
            PlayerId::Text(text) => text,
            PlayerId::Interned(symbol) => strings.resolve(symbol.0),
        }
    }
}

/// Tickets by key, in chunks of a fixed size: a big pool never copies itself to grow, and
/// holds at most one chunk of slots it does not use.
#[derive(Clone, Debug, Default)]
struct Slots {
    chunks: Vec<Vec<Option<Ticket>>>,
}

impl Slots {
    const CHUNK: usize = 1024;

    fn len(&self) -> usize {
        self.chunks
            .last()
            .map_or(0, |last| (self.chunks.len() - 1) * Self::CHUNK + last.len())
    }

    fn get(&self, key: TicketKey) -> Option<&Ticket> {
        let index = key.0 as usize;
        self.chunks
            .get(index / Self::CHUNK)?
            .get(index % Self::CHUNK)?
            .as_ref()
    }

    /// The slot at `key`; panics past the end, which is a caller's bug.
    fn get_mut(&mut self, key: TicketKey) -> &mut Option<Ticket> {
        let index = key.0 as usize;
        &mut self.chunks[index / Self::CHUNK][index % Self::CHUNK]
    }

    /// Adds an empty slot at the end.
    fn push_empty(&mut self) -> TicketKey {
        let key = TicketKey(u32::try_from(self.len()).expect("fewer than 2^32 tickets"));
        match self.chunks.last_mut() {
            Some(last) if last.len() < Self::CHUNK => last.push(None),
            _ => {
                let mut chunk = Vec::with_capacity(Self::CHUNK);
                chunk.push(None);
                self.chunks.push(chunk);
            }
        }
        key
    }

    fn keys(&self) -> impl Iterator<Item = TicketKey> + '_ {
        self.chunks
            .iter()
            .flatten()
            .enumerate()
            .filter(|(_, slot)| slot.is_some())
            .map(|(i, _)| TicketKey(i as u32))
    }
}

/// The expressions of the rules that have them.
fn rule_exprs(rule_set: &RuleSet) -> Vec<&TypedExpr> {
    let mut out = Vec::new();
    for rule in &rule_set.rules {
        match &rule.kind {
            RuleKind::Comparison(c) => {
                out.extend(std::iter::once(&c.measurement).chain(&c.reference))
            }
            RuleKind::Distance(d) => out.extend([&d.measurement, &d.reference]),
            RuleKind::Collection(c) => {
                out.extend(std::iter::once(&c.measurement).chain(&c.reference))
            }
            _ => {}
        }
    }
    out
}

/// Whether `expr` reads player ids (`players[playerId]`).
fn reads_player_ids(expr: &TypedExpr) -> bool {
    match &expr.node {
        ExprNode::Select { field, .. } => *field == SelectField::PlayerId,
        ExprNode::List(items) => items.iter().any(reads_player_ids),
        ExprNode::Call { arg, .. } => reads_player_ids(arg),
        ExprNode::String(_) | ExprNode::Number(_) => false,
    }
}

/// The string literals of the rules' expressions and of expansion steps.
fn rule_literals<'a>(rule_set: &'a RuleSet, exprs: &[&'a TypedExpr]) -> Vec<&'a str> {
    use rally_rules::model::StepValue;
    fn walk<'a>(expr: &'a TypedExpr, out: &mut Vec<&'a str>) {
        match &expr.node {
            ExprNode::String(text) => out.push(text),
            ExprNode::List(items) => items.iter().for_each(|item| walk(item, out)),
            ExprNode::Call { arg, .. } => walk(arg, out),
            ExprNode::Number(_) | ExprNode::Select { .. } => {}
        }
    }
    let mut out = Vec::new();
    for expr in exprs {
        walk(expr, &mut out);
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
    strings: &mut Tally<'_>,
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

fn resolve_default(default: &AttributeValue, strings: &mut Tally<'_>) -> Value {
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
    strings: &mut Tally<'_>,
) -> ThinVec<Symbol> {
    let mut symbols: ThinVec<Symbol> = ThinVec::new();
    for item in items {
        let symbol = Symbol(strings.intern(item));
        if symbols.contains(&symbol) {
            // The list holds the string once, so it holds it once.
            strings.release_last();
        } else {
            symbols.push(symbol);
        }
    }
    symbols.shrink_to_fit();
    symbols
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
        assert!(ticket.unmatchable().is_empty());
        assert_eq!(ticket.age(12.0), 7.0);
    }

    #[test]
    fn tickets_that_can_never_match_say_why() {
        let mut pool = pool(RULES);
        let key = pool
            .insert(&parse_ticket(r#"{"TicketId":"t1","Players":[{"PlayerId":"p1"},{"PlayerId":"p2","PlayerAttributes":{"rank":{"N":1}}},{"PlayerId":"p3","PlayerAttributes":{"rank":{"N":1}}},{"PlayerId":"p4","PlayerAttributes":{"rank":{"N":1}}}]}"#).unwrap())
            .unwrap();
        let reasons = pool.ticket(key).unmatchable();
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
    fn attributes_the_rule_set_does_not_declare_are_found() {
        let rule_set = pool(RULES).rule_set().clone();
        let ticket = parse_ticket(r#"{"TicketId":"t1","Players":[{"PlayerId":"p1","PlayerAttributes":{"skil":{"N":3},"rank":{"N":1},"colour":{"S":"red"}}}]}"#).unwrap();
        let found: Vec<String> = undeclared_attributes(&rule_set, &ticket)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            [
                "`Players[0].PlayerAttributes.colour`: the rule set declares no attribute `colour`; it declares `skill`, `modes` and `rank`",
                "`Players[0].PlayerAttributes.skil`: the rule set declares no attribute `skil`; did you mean `skill`?",
            ]
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
        assert_eq!(ticket.players[0].team(), Some(TeamId(0)));
        assert_eq!(ticket.players[1].team(), Some(TeamId(1)));
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

    #[test]
    fn strings_no_ticket_holds_are_forgotten() {
        let mut pool = pool(
            r#"attribute modes: string_list = ["ctf"]
attribute rank: number = 1
attribute BlockList: string_list = []
team red players 1
team blue players 1
rule blocks: collection flatten(teams[*].players.attributes[BlockList]) reference_intersection_count flatten(teams[*].players[playerId]) max 0
"#,
        );
        let baseline = pool.strings().len();
        let mut keys = Vec::new();
        for n in 0..50 {
            let ticket = format!(
                r#"{{"TicketId":"t{n}","Players":[{{"PlayerId":"p{n}","PlayerAttributes":{{"modes":{{"SL":["m{n}","m{n}","ctf"]}},"BlockList":{{"SL":["p{}"]}}}}}}]}}"#,
                n + 1
            );
            keys.push(pool.insert(&parse_ticket(&ticket).unwrap()).unwrap());
        }
        assert!(pool.symbol("m7").is_some() && pool.symbol("p7").is_some());
        // `p8` is both a player id and in `p7`'s block list: two holders.
        pool.remove(keys[8]);
        assert!(
            pool.symbol("p8").is_some(),
            "p7's block list still holds it"
        );
        for key in keys {
            pool.remove(key);
        }
        assert_eq!(
            pool.strings().len(),
            baseline,
            "only the rules' literals remain"
        );
        assert!(pool.symbol("m7").is_none() && pool.symbol("p8").is_none());
        // A refused ticket gives back what it interned before the error.
        let refused = r#"{"TicketId":"x","Players":[{"PlayerId":"q1","PlayerAttributes":{"modes":{"SL":["fresh"]},"rank":{"S":"high"}}}]}"#;
        assert!(pool.insert(&parse_ticket(refused).unwrap()).is_err());
        assert!(pool.symbol("fresh").is_none());
        assert_eq!(pool.strings().len(), baseline);
    }
}
