//! The replicated log: contiguous entries after a base position. The base is where the log
//! starts: (0, 0) for a full log, else the last entry trimmed by retention or skipped over after
//! a `BadRange` nack. Everything at or below the base is committed and no longer held.

use super::messages::{Entry, LogPosition, StableRecord};

/// A log of entries `base.index + 1 ..= last_index()`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Log {
    base: LogPosition,
    entries: Vec<Entry>,
}

impl Log {
    /// The position the log starts after (trimmed or skipped entries end there).
    pub fn base(&self) -> LogPosition {
        self.base
    }

    /// The entries held, oldest first.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The position of the last entry, or the base when no entry is held.
    pub fn last(&self) -> LogPosition {
        self.entries.last().map_or(self.base, Entry::position)
    }

    /// The index of the last entry (the base's when empty).
    pub fn last_index(&self) -> u64 {
        self.last().index
    }

    /// The entry at `index`, if held.
    pub fn entry(&self, index: u64) -> Option<&Entry> {
        let offset = index.checked_sub(self.base.index + 1)?;
        self.entries.get(usize::try_from(offset).ok()?)
    }

    /// The term at `index`: the base's term at the base, None below the base or past the end.
    pub fn term_at(&self, index: u64) -> Option<u64> {
        if index == self.base.index {
            return Some(self.base.term);
        }
        self.entry(index).map(|entry| entry.term)
    }

    /// True if the log holds `position` (or starts right after it).
    pub fn contains(&self, position: LogPosition) -> bool {
        self.term_at(position.index) == Some(position.term)
    }

    /// Up to `max` entries from index `first` on, cloned.
    pub fn slice(&self, first: u64, last: u64, max: usize) -> Vec<Entry> {
        let first = first.max(self.base.index + 1);
        let last = last.min(self.last_index());
        (first..=last).take(max).filter_map(|index| self.entry(index).cloned()).collect()
    }

    /// Appends the entry right after the last one.
    pub(super) fn append(&mut self, entry: Entry) {
        debug_assert_eq!(entry.index, self.last_index() + 1, "appends must be contiguous");
        self.entries.push(entry);
    }

    /// Drops every entry after `after_index` (no-op past the end; the base stays).
    pub(super) fn truncate_after(&mut self, after_index: u64) {
        let keep = after_index.saturating_sub(self.base.index);
        self.entries.truncate(usize::try_from(keep).unwrap_or(usize::MAX));
    }

    /// Retention: forgets the entries up to `base`, keeps the rest.
    pub(super) fn trim(&mut self, base: LogPosition) {
        if base.index <= self.base.index {
            return;
        }
        debug_assert!(self.contains(base), "trim to {base:?}, which the log does not hold");
        let drop = usize::try_from(base.index - self.base.index).unwrap_or(usize::MAX);
        self.entries.drain(..drop.min(self.entries.len()));
        self.base = base;
    }

    /// Skip-ahead: forgets every entry; the log continues after `base`.
    pub(super) fn reset(&mut self, base: LogPosition) {
        self.entries.clear();
        self.base = base;
    }

    /// Replays one durable record (votes are not the log's business).
    pub(super) fn apply(&mut self, record: &StableRecord) {
        match record {
            StableRecord::Vote { .. } => {}
            StableRecord::Entry(entry) => {
                // Replay keeps entries even if a torn record left a gap, it just cannot
                // happen: the caller persists records in order and fsyncs a prefix.
                if entry.index == self.last_index() + 1 {
                    self.append(entry.clone());
                }
            }
            StableRecord::Truncate { after_index } => self.truncate_after(*after_index),
            StableRecord::Trim { base } => self.trim(*base),
            StableRecord::Reset { base } => self.reset(*base),
        }
    }
}

/// What a node's durable records rebuild: the log and the (term, vote) a crash would leave.
/// Folding records one at a time, in the order they were persisted, gives the same state as
/// [`DurableState::from_records`] over all of them, so a checker can follow a disk as it syncs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct DurableState {
    pub log: Log,
    /// The current term and the vote cast in it.
    pub vote: (u64, Option<crate::NodeId>),
}

impl DurableState {
    /// The state `records` rebuild, in order.
    pub fn from_records(records: &[StableRecord]) -> DurableState {
        let mut state = DurableState::default();
        records.iter().for_each(|record| state.apply(record));
        state
    }

    /// Folds one more durable record in.
    pub fn apply(&mut self, record: &StableRecord) {
        match record {
            StableRecord::Vote { term, voted_for } => self.vote = (*term, *voted_for),
            other => self.log.apply(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(index: u64, term: u64) -> Entry {
        Entry { index, term, write_id: Some(index), payload: index * 10 }
    }

    fn log_of(terms: &[u64]) -> Log {
        let mut log = Log::default();
        for (i, term) in terms.iter().enumerate() {
            log.append(entry(i as u64 + 1, *term));
        }
        log
    }

    #[test]
    fn positions_terms_and_slices() {
        let log = log_of(&[1, 1, 2]);
        assert_eq!(log.last(), LogPosition { term: 2, index: 3 });
        assert_eq!(log.term_at(0), Some(0));
        assert_eq!(log.term_at(2), Some(1));
        assert_eq!(log.term_at(4), None);
        assert!(log.contains(LogPosition { term: 1, index: 2 }));
        assert!(!log.contains(LogPosition { term: 2, index: 2 }));
        let indexes: Vec<u64> = log.slice(2, 9, 5).iter().map(|e| e.index).collect();
        assert_eq!(indexes, vec![2, 3]);
        assert_eq!(log.slice(1, 3, 1).len(), 1);
    }

    #[test]
    fn truncate_trim_and_reset_move_the_ends() {
        let mut log = log_of(&[1, 1, 2, 2]);
        log.truncate_after(2);
        assert_eq!(log.last(), LogPosition { term: 1, index: 2 });
        log.append(entry(3, 3));
        log.trim(LogPosition { term: 1, index: 2 });
        assert_eq!(log.base(), LogPosition { term: 1, index: 2 });
        assert_eq!(log.entries().len(), 1);
        assert_eq!(log.term_at(1), None, "trimmed entries are gone");
        assert_eq!(log.term_at(2), Some(1), "the base keeps its term");
        log.reset(LogPosition { term: 4, index: 10 });
        assert_eq!(log.last(), LogPosition { term: 4, index: 10 });
        assert!(log.entries().is_empty());
    }

    #[test]
    fn replaying_records_rebuilds_the_log() {
        let records = [
            StableRecord::Entry(entry(1, 1)),
            StableRecord::Entry(entry(2, 1)),
            StableRecord::Truncate { after_index: 1 },
            StableRecord::Entry(entry(2, 2)),
            StableRecord::Trim { base: LogPosition { term: 1, index: 1 } },
        ];
        let mut log = Log::default();
        records.iter().for_each(|r| log.apply(r));
        assert_eq!(log.base().index, 1);
        assert_eq!(log.entries(), &[entry(2, 2)]);
    }
}
