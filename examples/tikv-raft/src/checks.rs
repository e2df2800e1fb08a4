//! The checks, after every step, over the voters' real raft state (named as in the Raft paper
//! and this repository's `tla/Replication.tla`). They keep history (TLA+'s history
//! variables): a leader that crashed still held its term, an entry committed on a node that
//! crashed since is still committed. Every check is incremental: each committed entry is
//! folded once, and each leader is held against each entry once per term.
//!
//! - `ElectionSafety`: at most one leader per term, ever.
//! - `StateMachineSafety`: every node that commits index `i` commits the same entry there.
//! - `LeaderCompleteness`: a leader holds every entry committed in an earlier term.
//! - `NoAckedWriteLost`: a write acknowledged to the client is in the log of every leader of a
//!   later term (and, being committed, `StateMachineSafety` keeps every commit there equal).

use crate::node::{Promise, RaftNode, VOTERS};
use crate::voter::write_of;
use fencepost::sim::{NodeId, View, Violation};
use raft::storage::MemStorage;
use raft::{GetEntriesContext, Raft, StateRole};
use std::collections::BTreeMap;

/// An entry known committed: its term and write, and the term of the node that was first
/// seen committing it (at least the term it was committed in, so "earlier" is never
/// overstated).
#[derive(Clone, Copy, Debug)]
struct Committed {
    term: u64,
    write: Option<u64>,
    seen_in_term: u64,
}

/// A write the leader of `leader_term` acknowledged at (`index`, `term`).
#[derive(Clone, Copy, Debug)]
struct Acked {
    write: u64,
    index: u64,
    term: u64,
    leader_term: u64,
}

/// How far a leader was checked in its term: committed entries and acked writes.
#[derive(Clone, Copy, Debug, Default)]
struct LeaderChecked {
    term: u64,
    committed: usize,
    acked: usize,
}

/// The checker's history.
#[derive(Debug, Default)]
pub struct Checks {
    /// The leader of each term, once seen.
    leaders: BTreeMap<u64, NodeId>,
    /// Every entry committed anywhere, ever; index `i` at `committed[i - 1]`.
    committed: Vec<Committed>,
    /// Per voter, the highest commit index folded into `committed`.
    folded: Vec<u64>,
    /// Every write acknowledged to the client.
    acked: Vec<Acked>,
    leader_checked: Vec<LeaderChecked>,
}

impl Checks {
    /// Every check, over every voter that is up.
    pub fn check(&mut self, view: &View<'_, RaftNode>) -> Result<(), Violation> {
        self.folded.resize(VOTERS as usize, 0);
        self.leader_checked.resize(VOTERS as usize, LeaderChecked::default());
        for id in 0..VOTERS {
            let Some(raft) = view.node(id).and_then(RaftNode::voter).map(|v| v.raft()) else {
                continue;
            };
            self.election_safety(id, raft)?;
            self.state_machine_safety(id, raft)?;
            if raft.state == StateRole::Leader {
                self.leader_completeness(id, raft)?;
            }
        }
        Ok(())
    }

    /// Records the writes acknowledged in this step (from their promises, so a dropped ack
    /// message cannot hide a lost write).
    pub fn record_acks(&mut self, promises: &[(NodeId, Promise)]) {
        for (_, promise) in promises {
            if let Promise::Acked { write, index, term, leader_term } = *promise {
                self.acked.push(Acked { write, index, term, leader_term });
            }
        }
    }

    /// Writes acknowledged so far.
    pub fn acked_writes(&self) -> usize {
        self.acked.len()
    }

    fn election_safety(&mut self, id: NodeId, raft: &Raft<MemStorage>) -> Result<(), Violation> {
        if raft.state != StateRole::Leader {
            return Ok(());
        }
        let leader = *self.leaders.entry(raft.term).or_insert(id);
        if leader == id {
            return Ok(());
        }
        Err(Violation::new(
            "ElectionSafety",
            format!("n{leader} and n{id} both led term {}", raft.term),
        ))
    }

    fn state_machine_safety(
        &mut self,
        id: NodeId,
        raft: &Raft<MemStorage>,
    ) -> Result<(), Violation> {
        let commit = raft.raft_log.committed;
        // A restart recovers a lower commit index; what it had committed was folded already.
        let folded = self.folded[id as usize].min(commit);
        self.folded[id as usize] = commit;
        if commit == folded {
            return Ok(());
        }
        let entries = raft
            .raft_log
            .slice(folded + 1, commit + 1, None, GetEntriesContext::empty(false))
            .expect("committed entries are in the log (nothing is compacted)");
        for entry in entries {
            let seen =
                Committed { term: entry.term, write: write_of(&entry), seen_in_term: raft.term };
            let index = entry.index as usize;
            match self.committed.get(index - 1) {
                None => {
                    debug_assert_eq!(self.committed.len(), index - 1, "commits are contiguous");
                    self.committed.push(seen);
                }
                Some(known) if known.term == seen.term && known.write == seen.write => {}
                Some(known) => {
                    return Err(Violation::new(
                        "StateMachineSafety",
                        format!(
                            "n{id} committed {:?}@t{} at index {index}, where {:?}@t{} was \
                             committed before",
                            seen.write, seen.term, known.write, known.term
                        ),
                    ))
                }
            }
        }
        Ok(())
    }

    fn leader_completeness(
        &mut self,
        id: NodeId,
        raft: &Raft<MemStorage>,
    ) -> Result<(), Violation> {
        let term = raft.term;
        let checked = &mut self.leader_checked[id as usize];
        if checked.term != term {
            *checked = LeaderChecked { term, ..LeaderChecked::default() };
        }
        let log_term = |index: u64| raft.raft_log.term(index).unwrap_or(0);
        for (offset, entry) in self.committed[checked.committed..].iter().enumerate() {
            let index = (checked.committed + offset + 1) as u64;
            if entry.seen_in_term < term && log_term(index) != entry.term {
                return Err(Violation::new(
                    "LeaderCompleteness",
                    format!(
                        "n{id} leads term {term} without {:?}@t{} at index {index}, committed \
                         by term {} (its log has t{} there)",
                        entry.write,
                        entry.term,
                        entry.seen_in_term,
                        log_term(index)
                    ),
                ));
            }
        }
        checked.committed = self.committed.len();
        for acked in &self.acked[checked.acked..] {
            if acked.leader_term < term && log_term(acked.index) != acked.term {
                return Err(Violation::new(
                    "NoAckedWriteLost",
                    format!(
                        "n{id} leads term {term} without write {} acknowledged at {}@t{} by \
                         the leader of term {} (its log has t{} there)",
                        acked.write,
                        acked.index,
                        acked.term,
                        acked.leader_term,
                        log_term(acked.index)
                    ),
                ));
            }
        }
        checked.acked = self.acked.len();
        Ok(())
    }
}
