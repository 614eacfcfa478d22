//! Resolving a ticket against the pool's rule set: attributes by id with defaults applied,
//! strings and locations interned (and given back if the ticket is refused), teams by name,
//! and the reasons a ticket can never match.

use smallvec::SmallVec;
use thin_vec::ThinVec;

use rally_rules::model::AttributeValue;
use rally_rules::numeric;

use crate::interner::Interner;
use crate::pooled::{LocationId, NO_TEAM, Player, PlayerId, Rare, Symbol, Ticket, Value};
use rally_base::ErrorKind;

use super::{Pool, Rejected};
use crate::ticket::{NewPlayer, NewTicket, TicketError};

impl Pool {
    /// Resolves a ticket with the pool's interners; whatever a refused ticket interned is
    /// released again.
    pub(super) fn resolve_or_give_back(&mut self, request: &NewTicket) -> Result<Ticket, Rejected> {
        // The interners are taken out while the ticket resolves, since resolving reads the
        // rest of the pool.
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
        resolved
    }

    /// The ticket as the pool holds it, or why the pool refuses it. What it interns is
    /// counted in `taken`, for the caller to give back if the ticket is refused.
    fn resolve(&self, request: &NewTicket, taken: &mut Taken<'_>) -> Result<Ticket, Rejected> {
        let mut unmatchable = Vec::new();
        let mut players = SmallVec::with_capacity(request.players.len());
        for (i, player) in request.players.iter().enumerate() {
            players.push(self.resolve_player(i, player, taken, &mut unmatchable)?);
        }
        if !request.is_backfill() && players.len() > self.largest_team as usize {
            unmatchable.push(format!(
                "a party of {} does not fit any team; the largest holds {}",
                players.len(),
                self.largest_team
            ));
        }
        Ok(Ticket {
            id: request.id.as_str().into(),
            start_time: request.start_time,
            players,
            rare: (request.game_session_arn.is_some() || !unmatchable.is_empty()).then(|| {
                Box::new(Rare {
                    game_session_arn: request.game_session_arn.as_deref().map(Box::from),
                    unmatchable,
                })
            }),
        })
    }

    /// Player `i` of a ticket: its values, latencies, team and id, in that order of
    /// interning.
    fn resolve_player(
        &self,
        i: usize,
        player: &NewPlayer,
        taken: &mut Taken<'_>,
        unmatchable: &mut Vec<String>,
    ) -> Result<Player, Rejected> {
        let values = self.resolve_values(player, &mut taken.strings, unmatchable);
        let latencies = resolve_latencies(i, player, self.unusable_latency, &mut taken.locations)?;
        if self.has_latency_rule && player.latencies.is_empty() {
            unmatchable.push(format!(
                "the rule set has a latency rule, and player `{}` reports no latency",
                player.id
            ));
        }
        let team = match &player.team {
            None => NO_TEAM,
            Some(name) => self.resolve_team(name),
        };
        let id = if self.reads_player_ids {
            PlayerId::Interned(Symbol(taken.strings.intern(&player.id)))
        } else {
            PlayerId::Text(player.id.as_str().into())
        };
        Ok(Player {
            id,
            values,
            latencies,
            team,
        })
    }

    /// A player's values by `AttributeId`: as sent, else the rule set's default, else
    /// [`Value::Missing`] with the reason noted.
    fn resolve_values(
        &self,
        player: &NewPlayer,
        strings: &mut Tally<'_>,
        unmatchable: &mut Vec<String>,
    ) -> Box<[Value]> {
        let mut values = Vec::with_capacity(self.rule_set.attributes.len());
        for attribute in &self.rule_set.attributes {
            let value = match player.attributes.get(&attribute.name) {
                // `insert` has checked the types (`check_conforms`).
                Some(sent) => resolve_value(sent, strings),
                None => match &attribute.default {
                    Some(default) => resolve_value(default, strings),
                    None => {
                        unmatchable.push(format!(
                            "player `{}` has no `{}`, and the rule set gives it no default",
                            player.id, attribute.name
                        ));
                        Value::Missing
                    }
                },
            };
            values.push(value);
        }
        values.into_boxed_slice()
    }

    /// The number of the team a backfill ticket's player is on (`insert` has checked that
    /// the rule set has it).
    fn resolve_team(&self, name: &str) -> u16 {
        self.rule_set
            .teams
            .iter()
            .position(|team| team.name == name)
            .map_or(NO_TEAM, |team| {
                u16::try_from(team).expect("a rule set holds at most 200 players and teams")
            })
    }
}

/// A player's latencies by location, sorted by location; those no latency rule could accept
/// (above `unusable`) are left out.
fn resolve_latencies(
    i: usize,
    player: &NewPlayer,
    unusable: Option<f64>,
    locations: &mut Tally<'_>,
) -> Result<Box<[(LocationId, u32)]>, Rejected> {
    let usable = |ms: u32| unusable.is_none_or(|cap| numeric::le(f64::from(ms), cap));
    let mut latencies: Vec<(LocationId, u32)> = Vec::with_capacity(player.latencies.len());
    for (location, ms) in player.latencies.iter().filter(|(_, ms)| usable(**ms)) {
        let id = locations
            .intern_under(location, u32::from(u16::MAX))
            .ok_or_else(|| {
                Rejected(TicketError::new(
                    ErrorKind::FailedPrecondition,
                    format!("Players[{i}].LatencyInMs.{location}"),
                    format!(
                        "the pool already knows {} locations, the most it can hold",
                        u32::from(u16::MAX) + 1
                    ),
                ))
            })?;
        latencies.push((LocationId(id), *ms));
    }
    latencies.sort_unstable();
    Ok(latencies.into_boxed_slice())
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

/// A value, sent or a default, as the pool holds it.
fn resolve_value(value: &AttributeValue, strings: &mut Tally<'_>) -> Value {
    match value {
        AttributeValue::String(text) => Value::String(Symbol(strings.intern(text))),
        AttributeValue::Number(number) => Value::Number(*number),
        AttributeValue::StringList(list) => {
            Value::StringList(dedup_symbols(list.iter().map(String::as_str), strings))
        }
        AttributeValue::StringNumberMap(map) => Value::StringNumberMap(sorted_map(map, strings)),
    }
}

/// A map's entries in key order. Maps read from JSON and the rule set's defaults come
/// sorted; a ticket built another way may not.
fn sorted_map(map: &[(String, f64)], strings: &mut Tally<'_>) -> ThinVec<(Symbol, f64)> {
    let resolve = |(key, number): &(String, f64), strings: &mut Tally<'_>| {
        (Symbol(strings.intern(key)), *number)
    };
    if map.is_sorted_by(|a, b| a.0 < b.0) {
        return map.iter().map(|entry| resolve(entry, strings)).collect();
    }
    let mut entries: Vec<&(String, f64)> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries
        .into_iter()
        .map(|entry| resolve(entry, strings))
        .collect()
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
