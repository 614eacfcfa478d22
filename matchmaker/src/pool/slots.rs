//! The pool's ticket storage: slots by key in fixed-size chunks.

use smallvec::SmallVec;

use crate::filters::TicketFilters;
use crate::pooled::{Ticket, TicketKey};

/// A ticket in its slot, with what the matcher's filters know of it, per variant of the
/// search (see [`Pool::variants`](super::Pool::variants)); no filters for a ticket that can
/// never match.
#[derive(Clone, Debug)]
pub(super) struct Held {
    pub(super) ticket: Ticket,
    pub(super) filters: SmallVec<[TicketFilters; 1]>,
}

/// Tickets by key, in chunks of a fixed size: a big pool never copies itself to grow, and
/// holds at most one chunk of slots it does not use.
#[derive(Clone, Debug, Default)]
pub(super) struct Slots {
    chunks: Vec<Vec<Option<Held>>>,
}

impl Slots {
    const CHUNK: usize = 1024;

    pub(super) fn len(&self) -> usize {
        self.chunks
            .last()
            .map_or(0, |last| (self.chunks.len() - 1) * Self::CHUNK + last.len())
    }

    pub(super) fn get(&self, key: TicketKey) -> Option<&Ticket> {
        self.held(key).map(|held| &held.ticket)
    }

    pub(super) fn held(&self, key: TicketKey) -> Option<&Held> {
        let index = key.0 as usize;
        self.chunks
            .get(index / Self::CHUNK)?
            .get(index % Self::CHUNK)?
            .as_ref()
    }

    /// The slot at `key`; panics past the end, which is a caller's bug.
    pub(super) fn get_mut(&mut self, key: TicketKey) -> &mut Option<Held> {
        let index = key.0 as usize;
        &mut self.chunks[index / Self::CHUNK][index % Self::CHUNK]
    }

    /// Adds an empty slot at the end.
    pub(super) fn push_empty(&mut self) -> TicketKey {
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

    pub(super) fn keys(&self) -> impl Iterator<Item = TicketKey> + '_ {
        self.chunks
            .iter()
            .flatten()
            .enumerate()
            .filter(|(_, slot)| slot.is_some())
            .map(|(i, _)| TicketKey(i as u32))
    }
}
