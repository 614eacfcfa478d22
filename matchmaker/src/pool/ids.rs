//! Where each ticket id and player id is in the pool: hash tables of keys, with the ids
//! themselves read from the tickets.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

use super::slots::Slots;
use crate::interner::Interner;
use crate::pooled::TicketKey;

/// Where each ticket id and player id is in the pool. The ids live in the tickets; the
/// tables hold keys (and a player's place in the ticket) only.
#[derive(Clone, Debug, Default)]
pub(super) struct IdIndex {
    pub(super) tickets: HashTable<TicketKey>,
    players: HashTable<(TicketKey, u32)>,
    hasher: DefaultHashBuilder,
}

impl IdIndex {
    pub(super) fn ticket(&self, slots: &Slots, id: &str) -> Option<TicketKey> {
        let hash = self.hasher.hash_one(id);
        self.tickets
            .find(hash, |key| slots.get(*key).is_some_and(|t| &*t.id == id))
            .copied()
    }

    pub(super) fn player(&self, slots: &Slots, strings: &Interner, id: &str) -> Option<TicketKey> {
        let hash = self.hasher.hash_one(id);
        self.players
            .find(hash, |(key, i)| {
                player_id(slots, strings, *key, *i) == Some(id)
            })
            .map(|(key, _)| *key)
    }

    /// Indexes the ticket at `key`, already in its slot.
    pub(super) fn add(&mut self, slots: &Slots, strings: &Interner, key: TicketKey) {
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
    pub(super) fn remove(&mut self, slots: &Slots, strings: &Interner, key: TicketKey) {
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
