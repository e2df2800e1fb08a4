//! The refinement mapping's target: `Replication.tla`'s variables, per node, as the simulator
//! sees the real cluster. See the module documentation for which spec variable maps to what.

use crate::replication::{AckPolicy, DurableState, Log, Node, Role, StableRecord};
use crate::NodeId;

/// A record a node wrote to its disk, as the spec's `Record` has it (`VoteRecord`,
/// `EntryRecord`, ...): the implementation's [`StableRecord`] without payloads or base terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiskRecord {
    /// `VoteRecord(term, vote)`.
    Vote { term: u64, vote: Option<NodeId> },
    /// `EntryRecord(index, term)`.
    Entry { index: u64, term: u64 },
    /// `TruncateRecord(after)`: every entry past `after` goes.
    Truncate { after: u64 },
    /// `TrimRecord(floor)`: entries up to `floor` (whose last has term `term`) are trimmed.
    Trim { floor: u64, term: u64 },
    /// `ResetRecord(base)`: the log starts over after `floor` (an entry of term `term`:
    /// skip-ahead).
    Reset { floor: u64, term: u64 },
}

impl DiskRecord {
    /// The spec's record for what the implementation wrote.
    pub fn of(record: &StableRecord) -> DiskRecord {
        match record {
            StableRecord::Vote { term, voted_for } => {
                DiskRecord::Vote { term: *term, vote: *voted_for }
            }
            StableRecord::Entry(entry) => {
                DiskRecord::Entry { index: entry.index, term: entry.term }
            }
            StableRecord::Truncate { after_index } => DiskRecord::Truncate { after: *after_index },
            StableRecord::Trim { base } => DiskRecord::Trim { floor: base.index, term: base.term },
            StableRecord::Reset { base } => {
                DiskRecord::Reset { floor: base.index, term: base.term }
            }
        }
    }
}

/// One node's variables: `role[n]`, `currentTerm[n]`, ... Logs list the retained entries as
/// (index, term) in index order; the spec keeps trimmed entries in the sequence and marks them
/// with the floor, which the checks leave out of scope.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeVars {
    /// `role[n]`.
    pub role: Role,
    /// `currentTerm[n]`.
    pub current_term: u64,
    /// `votedFor[n]`.
    pub voted_for: Option<NodeId>,
    /// `leader[n]`.
    pub leader: Option<NodeId>,
    /// `log[n]` above `logFloor[n]`.
    pub log: Vec<(u64, u64)>,
    /// `logFloor[n]`.
    pub log_floor: u64,
    /// `log[n][logFloor[n]]`: the term of the last trimmed entry (the implementation keeps it
    /// as its log's base), 0 for none.
    pub floor_term: u64,
    /// `unsynced[n]`: the records written that no fsync covers yet, oldest first.
    pub unsynced: Vec<DiskRecord>,
    /// `durableLog[n]` above `durableFloor[n]`.
    pub durable_log: Vec<(u64, u64)>,
    /// `durableFloor[n]`.
    pub durable_floor: u64,
    /// `durableLog[n][durableFloor[n]]`, 0 for none.
    pub durable_floor_term: u64,
    /// `durableVote[n]`: (term, vote).
    pub durable_vote: (u64, Option<NodeId>),
    /// `commitIndex[n]`.
    pub commit_index: u64,
    /// `matched[n]`, per member, while n leads; empty otherwise (the spec keeps a former
    /// leader's figures, which nothing reads until `BecomeLeader` resets them).
    pub matched: Vec<u64>,
    /// `outstanding[n]`: (to, term, id) of each request awaiting an answer, by id.
    pub outstanding: Vec<(NodeId, u64, u64)>,
    /// `nextRequest[n]`: request ids handed out since the node (re)started.
    pub next_request: u64,
    /// `restarts[n]`.
    pub restarts: u64,
}

/// The spec's variables, indexed by node id (dense from 0), and its constants.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplicationView {
    /// Every node's variables.
    pub nodes: Vec<NodeVars>,
    /// `acked`: (index, term) of every acknowledged write (a checker may forget writes no
    /// check can fail on any more).
    pub acked: Vec<(u64, u64)>,
    /// The constant `AckPolicy`.
    pub ack_policy: AckPolicy,
    /// The operator `Transfers`: planned handovers happen (the cluster), or not.
    pub transfers: bool,
}

/// What a step changed of one node's variables, found by one comparison per node and step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Change {
    /// A variable some invariant reads changed (role, terms, logs, floors, durable vote,
    /// commit index, restarts): the invariants need checking again.
    pub read_by_invariants: bool,
    /// Any mapped variable changed: a node that declared no action breaks `SpecConformance`.
    pub any: bool,
    /// `log` changed.
    pub log: bool,
    /// `durableLog` changed.
    pub durable_log: bool,
}

/// Brings `positions` to a log's retained entries, reusing its buffer and rewriting only from
/// the first entry that differs (most steps append or change nothing); true if anything did.
/// Copying and comparing in one pass is what keeps the every-step mapping cheap.
fn set_positions(positions: &mut Vec<(u64, u64)>, log: &Log) -> bool {
    let entries = log.entries();
    let same = positions.iter().zip(entries).take_while(|(p, e)| **p == (e.index, e.term)).count();
    if same == positions.len() && same == entries.len() {
        return false;
    }
    positions.truncate(same);
    positions.extend(entries[same..].iter().map(|e| (e.index, e.term)));
    true
}

impl NodeVars {
    /// Makes `self` a copy of `other`, reusing its buffers; `logs` says which of the two logs
    /// to copy, (`log`, `durableLog`): a log left out must already equal `other`'s. Logs are
    /// long and most steps change neither, so a checker keeping the step before copies only
    /// what the last step changed.
    pub fn copy_from(&mut self, other: &NodeVars, logs: (bool, bool)) {
        // Destructured, so a variable added to the view cannot be left out of the copy.
        let NodeVars {
            role,
            current_term,
            voted_for,
            leader,
            log,
            log_floor,
            floor_term,
            unsynced,
            durable_log,
            durable_floor,
            durable_floor_term,
            durable_vote,
            commit_index,
            matched,
            outstanding,
            next_request,
            restarts,
        } = other;
        (self.role, self.current_term, self.voted_for, self.leader) =
            (*role, *current_term, *voted_for, *leader);
        if logs.0 {
            self.log.clone_from(log);
        }
        (self.log_floor, self.floor_term) = (*log_floor, *floor_term);
        self.unsynced.clone_from(unsynced);
        if logs.1 {
            self.durable_log.clone_from(durable_log);
        }
        (self.durable_floor, self.durable_floor_term) = (*durable_floor, *durable_floor_term);
        (self.durable_vote, self.commit_index) = (*durable_vote, *commit_index);
        self.matched.clone_from(matched);
        self.outstanding.clone_from(outstanding);
        (self.next_request, self.restarts) = (*next_request, *restarts);
    }

    /// What changed from `before` to `self`, whose `log` and `durableLog` changed or not as
    /// `logs` says (the mapping knows that as it copies them, at no extra cost).
    pub fn change_from(&self, before: &NodeVars, logs: (bool, bool)) -> Change {
        let read_by_invariants = self.role != before.role
            || self.current_term != before.current_term
            || self.commit_index != before.commit_index
            || self.restarts != before.restarts
            || (self.log_floor, self.floor_term) != (before.log_floor, before.floor_term)
            || (self.durable_floor, self.durable_floor_term)
                != (before.durable_floor, before.durable_floor_term)
            || self.durable_vote != before.durable_vote
            || logs.0
            || logs.1;
        let any = read_by_invariants
            || self.voted_for != before.voted_for
            || self.leader != before.leader
            || self.next_request != before.next_request
            || self.unsynced != before.unsynced
            || !self.matched.iter().eq(&before.matched)
            || self.outstanding != before.outstanding;
        Change { read_by_invariants, any, log: logs.0, durable_log: logs.1 }
    }

    /// The term of the entry at `index`, if retained (logs are contiguous, so the offset from
    /// the first entry finds it at once; a search covers any gap).
    pub fn term_at(&self, index: u64) -> Option<u64> {
        term_at(&self.log, index)
    }

    /// `Holds(log[n], index, term)`, with entries at or below the floor taken as held: they
    /// are committed, out of scope (the spec keeps them and compares them).
    pub fn holds(&self, index: u64, term: u64) -> bool {
        index == 0 || index <= self.log_floor || self.term_at(index) == Some(term)
    }

    /// `Len(log[n])`.
    pub fn last_index(&self) -> u64 {
        self.log.last().map_or(self.log_floor, |(index, _)| *index)
    }

    /// `LastTerm(log[n])`: the last entry's term (the floor's with nothing retained).
    pub fn last_term(&self) -> u64 {
        self.log.last().map_or(self.floor_term, |(_, term)| *term)
    }

    /// `AppendedLen(n)`: the highest index at which the durable log and the working log agree
    /// (the durable tail the node counts and reports), or the higher floor when none does.
    pub fn appended_len(&self) -> u64 {
        let floor = self.log_floor.max(self.durable_floor);
        let mut at = self.last_index().min(durable_last(self));
        while at > floor {
            match (term_at(&self.log, at), term_at(&self.durable_log, at)) {
                (Some(a), Some(b)) if a == b => return at,
                _ => at -= 1,
            }
        }
        floor.min(self.last_index()).min(durable_last(self))
    }
}

fn durable_last(vars: &NodeVars) -> u64 {
    vars.durable_log.last().map_or(vars.durable_floor, |(index, _)| *index)
}

/// The term of the entry at `index` in `log` (sorted by index, in practice contiguous).
pub fn term_at(log: &[(u64, u64)], index: u64) -> Option<u64> {
    let first = log.first()?.0;
    let offset = usize::try_from(index.checked_sub(first)?).ok()?;
    match log.get(offset) {
        Some(&(at, term)) if at == index => Some(term),
        _ => log.binary_search_by_key(&index, |e| e.0).ok().map(|at| log[at].1),
    }
}

impl ReplicationView {
    /// A view of `nodes` members under `ack_policy`, every node idle at term 0 until set.
    pub fn new(nodes: usize, ack_policy: AckPolicy, transfers: bool) -> ReplicationView {
        let nodes = vec![NodeVars::default(); nodes];
        ReplicationView { nodes, acked: Vec::new(), ack_policy, transfers }
    }

    /// Sets member `n`'s durable variables from `durable`, what its disk would give back (a
    /// checker that follows the disk knows better than the node's own account), and
    /// `unsynced` from the records its disk holds past what is synced. `durable` may have
    /// changed since the last call, or not (`maybe_changed` false: its log is not compared
    /// again). True if `durableLog` changed.
    pub fn set_disk(
        &mut self,
        n: usize,
        durable: &DurableState,
        maybe_changed: bool,
        unsynced: &[StableRecord],
    ) -> bool {
        let vars = &mut self.nodes[n];
        let changed = maybe_changed && set_positions(&mut vars.durable_log, &durable.log);
        vars.durable_floor = durable.log.base().index;
        vars.durable_floor_term = durable.log.base().term;
        vars.durable_vote = durable.vote;
        vars.unsynced.clear();
        vars.unsynced.extend(unsynced.iter().map(DiskRecord::of));
        changed
    }

    /// Sets member `node.id()`'s working variables from the node; `restarts` is the driver's
    /// count. For a node that is down, pass [`Node::recover`] of its durable records. Reuses
    /// the view's buffers, so a checker can refresh one view every step without allocating.
    /// True if `log` changed.
    pub fn set_node(&mut self, node: &Node, restarts: u64) -> bool {
        let members = self.nodes.len();
        let vars = &mut self.nodes[node.id() as usize];
        vars.role = node.role();
        vars.current_term = node.current_term();
        vars.voted_for = node.voted_for();
        vars.leader = node.leader();
        let changed = set_positions(&mut vars.log, node.log());
        vars.log_floor = node.log().base().index;
        vars.floor_term = node.log().base().term;
        vars.commit_index = node.commit_index();
        vars.matched.clear();
        if let Some(matched) = node.matched() {
            vars.matched.resize(members, 0);
            for (member, index) in matched {
                if let Some(slot) = vars.matched.get_mut(*member as usize) {
                    *slot = *index;
                }
            }
        }
        vars.outstanding.clear();
        vars.outstanding.extend(node.outstanding_requests());
        vars.outstanding.sort_unstable_by_key(|(_, _, id)| *id);
        vars.next_request = node.requests_handed_out();
        vars.restarts = restarts;
        changed
    }

    /// Makes `self` a copy of `other`, reusing every buffer (the derived `clone_from` of a
    /// node's variables would allocate them anew), where `self` was `other` before the step
    /// whose changes are `changes` (one per node): the logs that step left alone are not
    /// copied again. A checker keeps the step before this way.
    pub fn copy_from(&mut self, other: &ReplicationView, changes: &[Change]) {
        let ReplicationView { nodes, acked, ack_policy, transfers } = other;
        self.nodes.resize_with(nodes.len(), NodeVars::default);
        for (n, (mine, theirs)) in self.nodes.iter_mut().zip(nodes).enumerate() {
            let change = changes.get(n).map_or((true, true), |c| (c.log, c.durable_log));
            mine.copy_from(theirs, change);
        }
        self.acked.clone_from(acked);
        (self.ack_policy, self.transfers) = (*ack_policy, *transfers);
    }
}
