//! `DurablePromises`: a message that tells a peer something durable is backed, at the instant
//! it leaves, by what a crash of its sender would leave. Each voter's disk is followed as it
//! syncs (the synced prefix only grows, so folding each newly synced record once is exact)
//! into the log and hard state a restart would recover, never the voter's own idea of it.
//!
//! An append ack may leave after a later Ready overwrote the entry it acknowledges: a voter
//! paused, then handed a batch of appends from successive terms, persists them in one fsync
//! and then sends every Ready's acks, the stale ones included (seeds 62 and 285 found this).
//! Such an ack is harmless: a voter of the newer leader's quorum that had acknowledged the
//! entry held it, in its working log, when it voted, and so refused a candidate lacking it;
//! the two quorums cannot meet, so no leader of the older term counts a quorum for the entry.
//! The promise is therefore "the entry is on disk, or a newer term is", exactly as a vote's.

use crate::node::{Promise, RaftNode, VOTERS};
use crate::recovery::DiskRecord;
use fencepost::sim::{NodeId, View, Violation};

/// What one voter's synced records add up to.
#[derive(Clone, Debug, Default)]
struct DurableState {
    /// Records folded so far.
    folded: usize,
    /// The term of each durable entry; index `i` at `terms[i - 1]`.
    terms: Vec<u64>,
    term: u64,
    vote: u64,
}

impl DurableState {
    fn fold(&mut self, records: &[DiskRecord]) {
        for record in &records[self.folded..] {
            match record {
                DiskRecord::Entries(entries) => {
                    let Some(first) = entries.first() else { continue };
                    debug_assert!(first.index as usize <= self.terms.len() + 1, "a gap in the log");
                    self.terms.truncate(first.index as usize - 1);
                    self.terms.extend(entries.iter().map(|e| e.term));
                }
                DiskRecord::HardState(state) => (self.term, self.vote) = (state.term, state.vote),
            }
        }
        self.folded = records.len();
    }

    fn holds(&self, index: u64, term: u64) -> bool {
        index == 0 || self.terms.get(index as usize - 1) == Some(&term)
    }

    fn describe(&self) -> String {
        let last = self.terms.len();
        let last_term = self.terms.last().copied().unwrap_or(0);
        format!("log ..={last}@t{last_term}, term {}, vote {}", self.term, self.vote)
    }
}

/// The durable state of every voter, as of the last check.
#[derive(Debug, Default)]
pub struct DurablePromises {
    durable: Vec<DurableState>,
}

impl DurablePromises {
    /// Holds each promise of the step against the voters' durable state right after it.
    pub fn check(
        &mut self,
        view: &View<'_, RaftNode>,
        promises: &[(NodeId, Promise)],
    ) -> Result<(), Violation> {
        self.durable.resize_with(VOTERS as usize, DurableState::default);
        for (id, state) in self.durable.iter_mut().enumerate() {
            let disk = view.disk(id as NodeId);
            state.fold(&disk.records()[..disk.synced_len()]);
        }
        promises.iter().try_for_each(|(from, promise)| self.check_one(*from, promise))
    }

    fn check_one(&self, from: NodeId, promise: &Promise) -> Result<(), Violation> {
        let durable = &self.durable[from as usize];
        let kept = match *promise {
            Promise::Vote { term, candidate } => {
                durable.term > term || (durable.term == term && durable.vote == candidate)
            }
            Promise::Appended { term, index, log_term } => {
                durable.term > term || durable.holds(index, log_term)
            }
            Promise::Acked { index, term, .. } => {
                let holders = self.durable.iter().filter(|d| d.holds(index, term)).count();
                holders > VOTERS as usize / 2
            }
        };
        if kept {
            return Ok(());
        }
        let disks: Vec<String> = self
            .durable
            .iter()
            .enumerate()
            .map(|(id, d)| format!("n{id}: {}", d.describe()))
            .collect();
        Err(Violation::new(
            "DurablePromises",
            format!(
                "n{from} sent {promise:?} but its disk does not back it; durable: {}",
                disks.join("; ")
            ),
        ))
    }
}
