//! The pool's interner: strings numbered as they are first seen and counted by holder, so
//! that a string no ticket holds any more is forgotten and its number reused.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

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

    /// One past the highest number given out: every held string's number is below it. Not
    /// [`Interner::len`], which counts only the strings held now — a forgotten string's
    /// number stays free while higher ones are held.
    pub fn id_bound(&self) -> usize {
        self.entries.len()
    }

    /// How many strings are held.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}
