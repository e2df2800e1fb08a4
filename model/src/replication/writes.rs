//! The leader's side of writes: appending client writes, pushing them, counting durable appends
//! towards the commit index, acknowledging per the ack policy, and log retention.
//!
//! A replica's report counts only if the reported (index, term) is in the leader's log: by
//! `LogMatching` the replica then holds the leader's entries up to there, durably. The commit
//! index moves only to an entry of the leader's own term (earlier entries commit with it).

use super::messages::{Entry, LogPosition, Message, Output, StableRecord};
use super::node::{AckedWrite, Node};
use super::{AckPolicy, ReplicationCanary};
use crate::spec::replication::{Action, ReportMsg};
use crate::NodeId;
use std::collections::{BTreeMap, VecDeque};

/// A write appended by this leader and not yet acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct PendingWrite {
    pub(super) write_id: u64,
    pub(super) index: u64,
    pub(super) term: u64,
}

/// What a leader keeps while it leads (lost when it steps down or crashes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct LeaderState {
    /// Per replica: the highest index it reported durable that is in our log.
    pub(super) matched: BTreeMap<NodeId, u64>,
    /// Writes awaiting their acknowledgement, in log order (at most `pending_writes_max`).
    pub(super) pending: VecDeque<PendingWrite>,
    /// Sync requests answered since the last heartbeat tick.
    pub(super) answered_this_interval: u32,
}

impl Node {
    pub(super) fn on_client_write(&mut self, write_id: u64, payload: u64, out: &mut Vec<Output>) {
        let Some(leading) = self.leading.as_ref() else {
            return out.push(Output::Reject { write_id, leader_hint: self.leader });
        };
        let overloaded = leading.pending.len() >= self.config.pending_writes_max;
        if overloaded || self.frozen || self.persist_backlogged() {
            return out.push(Output::Reject { write_id, leader_hint: Some(self.id) });
        }
        self.declare(Action::ClientWrite { n: self.id }, out);
        let index = self.append_as_leader(Some(write_id), payload, out);
        let term = self.current_term;
        if let Some(leading) = self.leading.as_mut() {
            leading.pending.push_back(PendingWrite { write_id, index, term });
        }
        self.update_commit(out);
        self.release_acks(out);
    }

    /// Appends an entry of the current term, persists it and pushes it to every replica.
    /// Returns its index.
    pub(super) fn append_as_leader(
        &mut self,
        write_id: Option<u64>,
        payload: u64,
        out: &mut Vec<Output>,
    ) -> u64 {
        let prev = self.log.last();
        let term = self.current_term;
        let entry = Entry { index: prev.index + 1, term, write_id, payload };
        self.log.append(entry.clone());
        self.persist(vec![StableRecord::Entry(entry.clone())], out);
        let msg = Message::Append { term, prev, entries: vec![entry], commit: self.commit_index };
        for to in self.config.members.iter().filter(|member| **member != self.id) {
            self.declare(Action::Push { l: self.id, n: *to, p: prev.index }, out);
        }
        self.broadcast(&msg, out);
        prev.index + 1
    }

    pub(super) fn on_append_ack(
        &mut self,
        from: NodeId,
        term: u64,
        durable: LogPosition,
        out: &mut Vec<Output>,
    ) {
        if term > self.current_term {
            return self.adopt_term(term, out);
        }
        if term == self.current_term {
            self.note_durable(from, term, durable, out);
        }
    }

    /// Counts a replica's durable tail, reported in `term`, if it is a position of our log.
    pub(super) fn note_durable(
        &mut self,
        from: NodeId,
        term: u64,
        durable: LogPosition,
        out: &mut Vec<Output>,
    ) {
        if !self.log.contains(durable) {
            return; // diverged (or trimmed): proves nothing about our entries
        }
        if self.leading.is_none() {
            return;
        }
        let (index, last) = (durable.index, durable.term);
        self.declare(
            Action::CountAppended { n: self.id, m: ReportMsg { from, term, index, last } },
            out,
        );
        let Some(leading) = self.leading.as_mut() else { return };
        let matched = leading.matched.entry(from).or_insert(0);
        *matched = (*matched).max(durable.index);
        self.update_commit(out);
        self.release_acks(out);
    }

    /// Moves the commit index to the highest entry of our term that a majority (this node
    /// included) holds durably.
    pub(super) fn update_commit(&mut self, out: &mut Vec<Output>) {
        let Some(leading) = self.leading.as_ref() else { return };
        let own = if self.canary(ReplicationCanary::CountOwnUnsyncedAppend) {
            self.log.last_index() // canary: its own append counts before its fsync
        } else {
            self.acked_tail().index
        };
        let mut tails: Vec<u64> = self
            .config
            .members
            .iter()
            .map(|m| if *m == self.id { own } else { leading.matched.get(m).copied().unwrap_or(0) })
            .collect();
        tails.sort_unstable_by(|a, b| b.cmp(a));
        let majority_holds = tails[self.config.quorum() - 1];
        if self.log.term_at(majority_holds) == Some(self.current_term) {
            if majority_holds > self.commit_index {
                self.declare(Action::AdvanceCommit { n: self.id, i: majority_holds }, out);
            }
            self.advance_commit(majority_holds, out);
        }
    }

    /// Acknowledges the pending writes the policy allows: durable on the leader (`Leader`), or
    /// committed (`Quorum`).
    pub(super) fn release_acks(&mut self, out: &mut Vec<Output>) {
        let threshold = match self.config.ack_policy {
            AckPolicy::Leader => self.acked_tail().index,
            AckPolicy::Quorum => self.commit_index,
        };
        let retained_after = self.log.base().index;
        let Some(leading) = self.leading.as_mut() else { return };
        while let Some(write) = leading.pending.front().copied() {
            if write.index > threshold {
                break;
            }
            leading.pending.pop_front();
            let PendingWrite { write_id, index, term } = write;
            out.push(Output::Action(Action::AckWrite { n: self.id, i: index }));
            out.push(Output::Ack { write_id, index, term });
            if index > retained_after {
                self.acked.push(AckedWrite { write_id, index, term });
            }
        }
    }

    /// Retention: once more than `retain_entries_max` entries are held, trims committed entries
    /// from the front until half of that remains.
    pub(super) fn trim_to_retention(&mut self, out: &mut Vec<Output>) {
        let retain = self.config.retain_entries_max;
        if self.log.entries().len() <= retain {
            return;
        }
        let keep = (retain / 2) as u64;
        let target = self.commit_index.min(self.log.last_index().saturating_sub(keep));
        let Some(term) = self.log.term_at(target) else { return };
        if target <= self.log.base().index {
            return;
        }
        let base = LogPosition { term, index: target };
        self.declare(Action::Trim { n: self.id, i: target }, out);
        self.log.trim(base);
        self.persist(vec![StableRecord::Trim { base }], out);
        self.acked.retain(|write| write.index > target);
    }
}
