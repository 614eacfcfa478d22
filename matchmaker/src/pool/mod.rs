//! The ticket pool of one matchmaking configuration: tickets resolved against its compiled
//! rule set — attributes by id with defaults applied, strings and locations interned — and
//! checked for what would keep them from ever matching. Each ticket also carries what the
//! matcher's filters know of it (`filters::TicketFilters`), worked out once when it joins,
//! since a ticket waits through many batches.
//!
//! | file | what lives there |
//! | --- | --- |
//! | `mod.rs` | [`Pool`]: insert, remove, lookups |
//! | `pooled.rs` | a ticket as the pool holds it: [`Ticket`], [`Player`], [`Value`], keys |
//! | `resolve.rs` | a request resolved against the rule set, or refused |
//! | `interner.rs` | [`Interner`]: strings numbered and counted by holder |
//! | `ids.rs` | where each ticket id and player id is |
//! | `slots.rs` | tickets by key, in chunks |
//! | `rule_set.rs` | what the pool reads off its rule set once |
//! | `undeclared.rs` | [`undeclared_attributes`] |

mod ids;
mod resolve;
mod rule_set;
mod slots;
#[cfg(test)]
mod tests;
mod undeclared;

use std::sync::Arc;

use rally_base::ErrorKind;
use rally_rules::model::{RuleKind, RuleSet};
use smallvec::SmallVec;

use crate::analysis::Analysis;
use crate::filters::TicketFilters;
use crate::params::ParamsTable;
use crate::ticket::{NewTicket, TicketError, check_conforms};

pub use crate::interner::Interner;
pub use crate::pooled::{LocationId, Lookup, Player, Symbol, Ticket, TicketKey, Value};
use ids::IdIndex;
use rule_set::{largest_expanded_team, reads_player_ids, rule_exprs, rule_literals};
use slots::{Held, Slots};
pub use undeclared::undeclared_attributes;

/// A ticket the pool refuses: it contradicts the rule set or another ticket.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Rejected(pub TicketError);

impl Rejected {
    /// What kind of refusal it is: `AlreadyExists` for a ticket id or player the pool holds
    /// already, `InvalidArgument` for a ticket that contradicts the rule set.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }
}

/// One configuration's tickets, resolved against its rule set, with the analysis and
/// relaxable values the matcher reads for them.
#[derive(Clone, Debug)]
pub struct Pool {
    rule_set: Arc<RuleSet>,
    strings: Interner,
    locations: Interner,
    slots: Slots,
    free: Vec<u32>,
    ids: IdIndex,
    has_latency_rule: bool,
    /// A latency over which every latency rule refuses a location at any age: a player's
    /// latencies above it are not kept (with rules of no cap, `None`: all are).
    unusable_latency: Option<f64>,
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
        let unusable_latency = unusable_latency(&rule_set, &table);
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
            unusable_latency,
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
        self.locations.resolve(location.0)
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

    /// What the filters know of the ticket at `key`, per variant of the search (none for a
    /// ticket that can never match); panics if it was removed, which is a caller's bug.
    pub fn filters(&self, key: TicketKey) -> &[TicketFilters] {
        &self
            .slots
            .held(key)
            .expect("the ticket is in the pool")
            .filters
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

    /// Checks a ticket against GameLift's limits, resolves it against the rule set and adds
    /// it. A ticket that can never match is added too, with its reasons, so that matching can
    /// report it; a ticket that breaks a limit or contradicts the rule set or another ticket
    /// is refused and nothing changes.
    pub fn insert(&mut self, new: &NewTicket) -> Result<TicketKey, Rejected> {
        new.validate().map_err(Rejected)?;
        check_conforms(&self.rule_set, new).map_err(Rejected)?;
        self.check_ids_are_new(new)?;
        let ticket = self.resolve_or_give_back(new)?;
        let filters = if ticket.unmatchable().is_empty() {
            self.variants
                .iter()
                .map(|analysis| TicketFilters::of(self, &ticket, analysis, &self.table))
                .collect()
        } else {
            SmallVec::new()
        };
        let key = match self.free.pop() {
            Some(slot) => TicketKey(slot),
            None => self.slots.push_empty(),
        };
        *self.slots.get_mut(key) = Some(Held { ticket, filters });
        self.ids.add(&self.slots, &self.strings, key);
        Ok(key)
    }

    /// Refuses a ticket whose id is in the pool already, or one of whose players is in
    /// another ticket (`validate` has refused a player twice in this one).
    fn check_ids_are_new(&self, ticket: &NewTicket) -> Result<(), Rejected> {
        if self.key_of(&ticket.id).is_some() {
            return Err(Rejected(TicketError::new(
                ErrorKind::AlreadyExists,
                "TicketId",
                format!("ticket `{}` is already in the pool", ticket.id),
            )));
        }
        for (i, player) in ticket.players.iter().enumerate() {
            if let Some(other) = self.ids.player(&self.slots, &self.strings, &player.id) {
                return Err(Rejected(TicketError::new(
                    ErrorKind::AlreadyExists,
                    format!("Players[{i}].PlayerId"),
                    format!(
                        "player `{}` is already in ticket `{}`",
                        player.id,
                        self.ticket(other).id
                    ),
                )));
            }
        }
        Ok(())
    }

    /// Removes a ticket, e.g. once it is matched or cancelled, and lets go of its strings.
    pub fn remove(&mut self, key: TicketKey) -> Option<Ticket> {
        self.slots.get(key)?;
        self.ids.remove(&self.slots, &self.strings, key);
        let ticket = self.slots.get_mut(key).take()?.ticket;
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
                self.locations.release(location.0);
            }
        }
        self.free.push(key.0);
        Some(ticket)
    }
}

impl Lookup for Pool {
    fn rule_set(&self) -> &RuleSet {
        &self.rule_set
    }

    fn symbol(&self, text: &str) -> Option<Symbol> {
        Pool::symbol(self, text)
    }

    fn location_name(&self, location: LocationId) -> &str {
        Pool::location_name(self, location)
    }
}

/// The loosest cap, at any age, of the latency rule whose loosest cap is highest, when every
/// latency rule has one: a location where a player's latency exceeds it fails every latency
/// rule, so no match with the player can be played there.
fn unusable_latency(rule_set: &RuleSet, table: &ParamsTable) -> Option<f64> {
    let mut highest: Option<f64> = None;
    for (i, rule) in rule_set.rules.iter().enumerate() {
        if !matches!(rule.kind, RuleKind::Latency(_)) {
            continue;
        }
        let loosest =
            crate::filters::widest(table.all(), |p| p.rules[i].max_latency, f64::INFINITY);
        highest = Some(highest.map_or(loosest, |h| h.max(loosest)));
    }
    highest.filter(|cap| cap.is_finite())
}
