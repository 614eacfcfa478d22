//! The pool's ticket storage: slots by key in fixed-size chunks.

use super::pooled::{Ticket, TicketKey};

/// Tickets by key, in chunks of a fixed size: a big pool never copies itself to grow, and
/// holds at most one chunk of slots it does not use.
#[derive(Clone, Debug, Default)]
pub(super) struct Slots {
    chunks: Vec<Vec<Option<Ticket>>>,
}

impl Slots {
    const CHUNK: usize = 1024;

    pub(super) fn len(&self) -> usize {
        self.chunks
            .last()
            .map_or(0, |last| (self.chunks.len() - 1) * Self::CHUNK + last.len())
    }

    pub(super) fn get(&self, key: TicketKey) -> Option<&Ticket> {
        let index = key.0 as usize;
        self.chunks
            .get(index / Self::CHUNK)?
            .get(index % Self::CHUNK)?
            .as_ref()
    }

    /// The slot at `key`; panics past the end, which is a caller's bug.
    pub(super) fn get_mut(&mut self, key: TicketKey) -> &mut Option<Ticket> {
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
