//! The replica's side of replication: pushed entries, applying a leader's entries to the log,
//! and reporting the durable tail back.
//!
//! Pushed entries are taken only from a sender whose term is at least ours: a message from a
//! lower term never truncates (nor appends). Entries from either path replace a conflicting
//! suffix (same index, different term) and extend the log; anything already held is kept.

use super::messages::{Entry, LogPosition, Message, Output, StableRecord};
use super::node::Node;
use super::{ReplicationCanary, Role};
use crate::spec::replication::{Action, EntriesMsg};
use crate::NodeId;

/// What applying a leader's entries did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Applied {
    /// Our log matched at `prev`; it now holds every entry sent.
    Applied,
    /// Our log does not hold `prev`: nothing changed.
    Mismatch,
}

impl Node {
    pub(super) fn on_append(
        &mut self,
        from: NodeId,
        term: u64,
        prev: LogPosition,
        entries: Vec<Entry>,
        commit: u64,
        out: &mut Vec<Output>,
    ) {
        if term < self.current_term {
            if !self.canary(ReplicationCanary::TruncateOnLowerTerm) {
                self.stats.rejected_appends += 1;
                return;
            }
            // Canary: the lower-term entries are applied below, as if from our leader.
        } else {
            if self.role == Role::Leader && term == self.current_term {
                self.stats.rejected_appends += 1;
                return; // another leader of our term: the heartbeats settle who leads
            }
            if term > self.current_term {
                self.adopt_term(term, out);
            }
            self.follow(from);
        }
        let (n, prev_term) = (self.id, prev.term);
        let terms = entries.iter().map(|e| e.term).collect();
        let m =
            EntriesMsg { from, term, id: 0, prev: prev.index, prev_term, entries: terms, commit };
        if self.persist_backlogged() {
            self.stats.rejected_appends += 1;
            // The disk is behind: catch-up fetches these later.
            return self.declare(Action::ReceiveAppend { n, m, apply: false }, out);
        }
        let declared = m.clone();
        let declare = || Action::ReceiveAppend { n, m: declared, apply: true };
        if self.apply_entries(prev, &entries, commit, declare, out) == Applied::Mismatch {
            self.stats.rejected_appends += 1; // catch-up will find where our logs part
            self.declare(Action::ReceiveAppend { n, m, apply: false }, out);
        }
    }

    /// Applies entries that follow `prev` in the sender's log, and the sender's commit point as
    /// far as our log now matches it, declaring the spec action `declare` makes when it does.
    /// The caller has vetted the sender.
    pub(super) fn apply_entries(
        &mut self,
        prev: LogPosition,
        entries: &[Entry],
        leader_commit: u64,
        declare: impl FnOnce() -> Action,
        out: &mut Vec<Output>,
    ) -> Applied {
        let base = self.log.base();
        if prev.index >= base.index {
            if !self.log.contains(prev) {
                return Applied::Mismatch;
            }
        } else if entries.iter().any(|e| e.index == base.index && e.term != base.term) {
            return Applied::Mismatch; // below our base: it must agree where our log starts
        }
        self.declare(declare(), out);
        let mut records = Vec::new();
        for entry in entries.iter().filter(|e| e.index > base.index) {
            match self.log.term_at(entry.index) {
                Some(term) if term == entry.term => continue,
                Some(_) => {
                    let after_index = entry.index - 1;
                    self.log.truncate_after(after_index);
                    records.push(StableRecord::Truncate { after_index });
                    self.stats.truncations += 1;
                }
                None => {}
            }
            if entry.index != self.log.last_index() + 1 {
                break; // a gap in the message: take nothing past it
            }
            self.log.append(entry.clone());
            records.push(StableRecord::Entry(entry.clone()));
        }
        if !records.is_empty() {
            self.persist(records, out);
            // Answers to our leader about the old log would be judged against this one. (Old
            // channels' requests stay, so their late answers are recognised and refused.)
            let (leader, term) = (self.leader, self.current_term);
            self.sync.outstanding.retain(|o| Some(o.to) != leader || o.term != term);
        }
        let covered = prev.index + entries.len() as u64;
        self.advance_commit(leader_commit.min(covered).min(self.log.last_index()), out);
        self.report_progress(out);
        Applied::Applied
    }

    /// Tells the leader our durable tail when it moved (only after `Persisted`: an append counts
    /// once it is durable; the canary `ack-before-durable` reports the working log at once).
    pub(super) fn report_progress(&mut self, out: &mut Vec<Output>) {
        let (Role::Replica, Some(leader)) = (self.role, self.leader) else { return };
        let durable = self.acked_tail();
        if durable == self.sync.last_reported {
            return;
        }
        self.sync.last_reported = durable;
        self.declare(Action::ReportProgress { n: self.id }, out);
        self.send(leader, Message::AppendAck { term: self.current_term, durable }, out);
    }
}
