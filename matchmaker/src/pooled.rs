//! A ticket as the pool holds it: keys, interned symbols and locations, players' resolved
//! values, and what few tickets have (a backfill ticket's game session, why a ticket can
//! never match); and [`Lookup`], what reading one needs of its pool. Below the pool and the
//! filters both, so that neither imports the other's module to name a ticket.

use compact_str::CompactString;
use smallvec::SmallVec;
use thin_vec::ThinVec;

use rally_base::Seconds;
use rally_rules::model::TeamId;

use rally_rules::model::RuleSet;

use crate::interner::Interner;

/// An interned string: attribute values, map keys, player ids in block lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol(pub u32);

/// An interned location (an AWS Region or custom location name): `rally_base`'s, shared
/// with placement.
pub use rally_base::LocationId;

/// A ticket's place in the pool; stays valid until the ticket is removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TicketKey(pub u32);

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
    pub(crate) id: PlayerId,
    /// Indexed by `AttributeId`.
    pub values: Box<[Value]>,
    /// Milliseconds to each location the player reported, sorted by location.
    pub latencies: Box<[(LocationId, u32)]>,
    /// On a backfill ticket, the team the player already plays on; `NO_TEAM` otherwise.
    pub(crate) team: u16,
}

/// A player's id: its text, or, when some rule compares player ids (block lists), its
/// number among the pool's strings, which then hold the text once for both uses.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum PlayerId {
    Text(Box<str>),
    Interned(Symbol),
}

pub(crate) const NO_TEAM: u16 = u16::MAX;

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
    pub start_time: Seconds,
    /// Inline for a solo player, the most common ticket.
    pub players: SmallVec<[Player; 1]>,
    /// What few tickets have (a backfill ticket's game session, why a ticket can never
    /// match), boxed so that the rest pay a pointer for it.
    pub(crate) rare: Option<Box<Rare>>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Rare {
    pub(crate) game_session_arn: Option<Box<str>>,
    pub(crate) unmatchable: Vec<String>,
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
    pub fn age(&self, now: Seconds) -> Seconds {
        now - self.start_time
    }
}

impl Player {
    /// The id's text, from the pool's strings when it is interned.
    pub(crate) fn id_text<'a>(&'a self, strings: &'a Interner) -> &'a str {
        match &self.id {
            PlayerId::Text(text) => text,
            PlayerId::Interned(symbol) => strings.resolve(symbol.0),
        }
    }
}

/// What reading a pooled ticket needs of the pool holding it: the rule set it was resolved
/// against, and the strings and locations it interned. The filters work through this, not
/// through the pool, which computes them.
pub trait Lookup {
    fn rule_set(&self) -> &RuleSet;
    /// The symbol of `text`, if any ticket or rule holds it.
    fn symbol(&self, text: &str) -> Option<Symbol>;
    fn location_name(&self, location: LocationId) -> &str;
}
