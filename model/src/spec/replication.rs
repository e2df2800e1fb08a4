//! Mirror of `tla/Replication.tla`. [`ReplicationView`] is the spec's state as the simulator
//! sees the real cluster (a refinement mapping); each function is one operator of the spec,
//! registered under its TLA name.
//!
//! The mapping, field by field (spec variable in backticks):
//! - `role[n]`, `currentTerm[n]`, `commitIndex[n]`: [`Node::role`], [`Node::current_term`],
//!   [`Node::commit_index`]. A node that is down counts as just recovered (`Crash` in the
//!   spec): its durable state, `Idle`, commit index at its log's base.
//! - `log[n]` and `logFloor[n]`: the working log, [`Node::log`]. The spec keeps trimmed entries
//!   in the sequence and marks them with the floor; the view lists only the retained entries.
//! - `durableLog[n]` and `durableFloor[n]`: what a crash would leave, as the node's disk itself
//!   holds it (set with [`ReplicationView::set_durable`]; a checker follows the disk rather than
//!   trust [`Node::durable_log`], the node's own account).
//! - `durableVote[n][1]`: the term the node's disk gives back ([`DurableState::vote`]).
//! - `acked`: every acknowledged write, cluster-wide and for the whole run, as (index, term):
//!   the driver collects [`crate::replication::Output::Ack`].
//! - `restarts[n]`: how often node n crashed and came back (the driver counts).
//! - `AckPolicy` (a constant): [`crate::replication::ReplicationConfig::ack_policy`].

use super::{ActionProperty, HistoryInvariant, Invariant};
use crate::promise::Promise;
use crate::replication::{AckPolicy, DurableState, Log, LogPosition, Node, Role};
use crate::NodeId;
use std::collections::BTreeMap;

/// The spec's variables, indexed by node id (dense from 0).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplicationView {
    /// `role`.
    pub role: Vec<Role>,
    /// `currentTerm`.
    pub current_term: Vec<u64>,
    /// `log`, retained entries only, as (index, term) in index order.
    pub log: Vec<Vec<(u64, u64)>>,
    /// `logFloor`: entries at or below it are trimmed (or skipped over) and out of scope.
    pub log_floor: Vec<u64>,
    /// `durableLog`, retained entries only, as (index, term) in index order.
    pub durable_log: Vec<Vec<(u64, u64)>>,
    /// `durableFloor`.
    pub durable_floor: Vec<u64>,
    /// `durableVote[n][1]`: the term a crash would leave.
    pub durable_term: Vec<u64>,
    /// `commitIndex`.
    pub commit_index: Vec<u64>,
    /// `acked`: (index, term) of every acknowledged write.
    pub acked: Vec<(u64, u64)>,
    /// The constant `AckPolicy`.
    pub ack_policy: AckPolicy,
    /// `restarts`.
    pub restarts: Vec<u64>,
}

fn set_positions(positions: &mut Vec<(u64, u64)>, log: &Log) {
    positions.clear();
    positions.extend(log.entries().iter().map(|e| (e.index, e.term)));
}

impl ReplicationView {
    /// A view of `nodes` members under `ack_policy`, every node idle at term 0 until set.
    pub fn new(nodes: usize, ack_policy: AckPolicy) -> ReplicationView {
        ReplicationView {
            role: vec![Role::Idle; nodes],
            current_term: vec![0; nodes],
            log: vec![Vec::new(); nodes],
            log_floor: vec![0; nodes],
            durable_log: vec![Vec::new(); nodes],
            durable_floor: vec![0; nodes],
            durable_term: vec![0; nodes],
            commit_index: vec![0; nodes],
            acked: Vec::new(),
            ack_policy,
            restarts: vec![0; nodes],
        }
    }

    /// Sets member `n`'s `durableLog`, `durableFloor` and durable term from `durable`, what
    /// its disk would give back (a checker that follows the disk knows better than the node's
    /// own account).
    pub fn set_durable(&mut self, n: usize, durable: &DurableState) {
        set_positions(&mut self.durable_log[n], &durable.log);
        self.durable_floor[n] = durable.log.base().index;
        self.durable_term[n] = durable.vote.0;
    }

    /// Sets member `node.id()` from the node (all but its durable log: [`Self::set_durable`]);
    /// `restarts` is the driver's count. For a node that is down, pass [`Node::recover`] of its
    /// durable records. Reuses the view's buffers, so a
    /// checker can refresh one view every step without allocating.
    pub fn set_node(&mut self, node: &Node, restarts: u64) {
        let n = node.id() as usize;
        self.role[n] = node.role();
        self.current_term[n] = node.current_term();
        set_positions(&mut self.log[n], node.log());
        self.log_floor[n] = node.log().base().index;
        self.commit_index[n] = node.commit_index();
        self.restarts[n] = restarts;
    }
}

/// `ElectionSafety`: at most one leader per term.
pub fn election_safety(view: &ReplicationView) -> Result<(), String> {
    let leaders: Vec<(usize, u64)> = (0..view.role.len())
        .filter(|n| view.role[*n] == Role::Leader)
        .map(|n| (n, view.current_term[n]))
        .collect();
    for (i, (a, term)) in leaders.iter().enumerate() {
        if let Some((b, _)) = leaders[i + 1..].iter().find(|(_, t)| t == term) {
            return Err(format!("n{a} and n{b} both lead term {term}"));
        }
    }
    Ok(())
}

/// `DurableTermCoversLog`: no disk holds an entry of a term newer than the term it holds. A
/// node restarted from such a disk would take a deposed leader's word and could truncate
/// entries it had reported as its own: a term is durable before any entry of it.
pub fn durable_term_covers_log(view: &ReplicationView) -> Result<(), String> {
    for (n, (log, &durable_term)) in view.durable_log.iter().zip(&view.durable_term).enumerate() {
        if let Some((index, term)) = log.last().filter(|(_, term)| *term > durable_term) {
            return Err(format!(
                "n{n}'s disk holds entry {index}@t{term} but only term {durable_term}"
            ));
        }
    }
    Ok(())
}

/// The first index (above both floors) where two logs agree after having disagreed below it.
fn matching_broken(a: &[(u64, u64)], b: &[(u64, u64)], floor: u64) -> Option<(u64, u64)> {
    let (mut i, mut j) = (0, 0);
    let mut disagreed_at = None;
    while i < a.len() && j < b.len() {
        let ((index_a, term_a), (index_b, term_b)) = (a[i], b[j]);
        if index_a < index_b {
            i += 1;
        } else if index_b < index_a {
            j += 1;
        } else {
            if index_a > floor {
                match disagreed_at {
                    None if term_a != term_b => disagreed_at = Some(index_a),
                    Some(below) if term_a == term_b => return Some((below, index_a)),
                    _ => {}
                }
            }
            i += 1;
            j += 1;
        }
    }
    None
}

/// `LogMatching`: two logs holding an entry of the same index and term agree on every entry
/// up to it (above both floors: trimmed entries are out of scope).
pub fn log_matching(view: &ReplicationView) -> Result<(), String> {
    for a in 0..view.log.len() {
        for b in a + 1..view.log.len() {
            let floor = view.log_floor[a].max(view.log_floor[b]);
            if let Some((below, at)) = matching_broken(&view.log[a], &view.log[b], floor) {
                return Err(format!(
                    "n{a} and n{b} agree on entry {at} but differ at entry {below} before it"
                ));
            }
        }
    }
    Ok(())
}

/// The term of the entry at `index` in `log` (sorted by index, and in practice contiguous, so
/// the offset from the first entry finds it at once; a search covers any gap).
fn term_at(log: &[(u64, u64)], index: u64) -> Option<u64> {
    let first = log.first()?.0;
    let offset = usize::try_from(index.checked_sub(first)?).ok()?;
    match log.get(offset) {
        Some(&(at, term)) if at == index => Some(term),
        _ => log.binary_search_by_key(&index, |e| e.0).ok().map(|at| log[at].1),
    }
}

/// True if node n's durable log holds (index, term), or trimmed it (trimmed entries are out of
/// scope: a node trims only committed entries).
fn durably_holds(view: &ReplicationView, n: usize, (index, term): (u64, u64)) -> bool {
    index <= view.durable_floor[n] || term_at(&view.durable_log[n], index) == Some(term)
}

/// `AckedWritesDurable`: under the `Quorum` policy, every acknowledged write is on a majority
/// of durable logs (a node that trimmed the entry counts as holding it).
pub fn acked_writes_durable(view: &ReplicationView) -> Result<(), String> {
    if view.ack_policy != AckPolicy::Quorum {
        return Ok(());
    }
    let nodes = view.durable_log.len();
    for write in &view.acked {
        // Counted without allocating: this runs for every acknowledged write on most steps.
        if (0..nodes).filter(|n| durably_holds(view, *n, *write)).count() * 2 > nodes {
            continue;
        }
        let holders: Vec<usize> = (0..nodes).filter(|n| durably_holds(view, *n, *write)).collect();
        if holders.len() * 2 <= nodes {
            return Err(format!(
                "acknowledged write at index {} term {} is durable only on {holders:?} of {nodes}",
                write.0, write.1
            ));
        }
    }
    Ok(())
}

/// `NoAckedWriteLost`: no node commits another entry where an acknowledged write stood. Holds
/// under the `Quorum` policy. Under `Leader` acks a leader that crashes before replicating
/// loses the write to the next leader's log: the `replication-leader-ack` scenario shows it.
pub fn no_acked_write_lost(view: &ReplicationView) -> Result<(), String> {
    for (index, term) in &view.acked {
        for n in 0..view.log.len() {
            if *index > view.commit_index[n] || *index <= view.log_floor[n] {
                continue;
            }
            let held = term_at(&view.log[n], *index);
            if held != Some(*term) {
                let held = held.map_or("nothing".to_string(), |t| format!("term {t}"));
                let write = format!("write acknowledged at index {index} term {term}");
                return Err(format!("{write} is lost: n{n} committed {held} there"));
            }
        }
    }
    Ok(())
}

/// `MonotonicCommit`: a node's commit index never decreases, except across a restart.
pub fn monotonic_commit(previous: &ReplicationView, next: &ReplicationView) -> Result<(), String> {
    let nodes = previous.commit_index.len().min(next.commit_index.len());
    for n in 0..nodes {
        let restarted = previous.restarts.get(n) != next.restarts.get(n);
        if !restarted && next.commit_index[n] < previous.commit_index[n] {
            return Err(format!(
                "n{n}'s commit index went from {} to {}",
                previous.commit_index[n], next.commit_index[n]
            ));
        }
    }
    Ok(())
}

/// The history variables of `Replication.tla`, kept by the refinement mapping over the whole
/// run: `committed` (every entry any node ever counted committed, with the term in which it
/// was first seen committed) and `grants` (every vote ever granted). Updated incrementally and
/// never cloned per step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// At `index - 1`: (the entry's term, the term it was first seen committed in); (0, 0) for
    /// an index no node showed while it held the entry.
    committed: Vec<(u64, u64)>,
    /// Per node: the commit index up to which its entries are recorded.
    recorded_through: Vec<u64>,
    /// (voter, term) -> the candidate granted.
    grants: BTreeMap<(NodeId, u64), NodeId>,
}

impl History {
    /// The entry committed at `index`, as (term, term it was first seen committed in).
    pub fn committed(&self, index: u64) -> Option<(u64, u64)> {
        let at = usize::try_from(index.checked_sub(1)?).ok()?;
        self.committed.get(at).copied().filter(|(term, _)| *term > 0)
    }

    /// The highest index known committed.
    pub fn committed_through(&self) -> u64 {
        self.committed.len() as u64
    }

    /// Records the entries each node newly counts committed (its commit index moved past them
    /// and it holds them); the first node to show an index decides what was committed there.
    /// Only each node's new commits are read: the cost follows the commits, not the history.
    pub fn record_commits(&mut self, view: &ReplicationView) {
        let nodes = view.commit_index.len();
        self.recorded_through.resize(nodes, 0);
        for n in 0..nodes {
            let commit = view.commit_index[n];
            let from = self.recorded_through[n].max(view.log_floor[n]);
            self.recorded_through[n] = commit; // a restart lowers it: record again from there
            for index in from + 1..=commit {
                let Some(term) = term_at(&view.log[n], index) else { continue };
                let at = (index - 1) as usize;
                if self.committed.len() <= at {
                    self.committed.resize(at + 1, (0, 0));
                }
                if self.committed[at].0 == 0 {
                    self.committed[at] = (term, view.current_term[n]);
                }
            }
        }
    }

    /// Records that `voter` granted `candidate` its vote in `term`; `Err` names the candidate
    /// an earlier grant of the same term went to.
    pub fn record_grant(
        &mut self,
        voter: NodeId,
        term: u64,
        candidate: NodeId,
    ) -> Result<(), NodeId> {
        match *self.grants.entry((voter, term)).or_insert(candidate) {
            earlier if earlier != candidate => Err(earlier),
            _ => Ok(()),
        }
    }
}

/// `StateMachineSafety` (Raft): a committed entry never changes. Every entry a node holds at or
/// below its commit index is the entry first committed at that index, on every node, for the
/// whole run (the history outlives crashes, truncations and trims).
pub fn state_machine_safety(view: &ReplicationView, history: &History) -> Result<(), String> {
    for n in 0..view.log.len() {
        let commit = view.commit_index[n];
        for &(index, term) in view.log[n].iter().take_while(|(index, _)| *index <= commit) {
            match history.committed(index) {
                Some((committed, _)) if committed != term => {
                    return Err(format!(
                        "n{n} holds term {term} at index {index}, at or below its commit index \
                         {commit}, where term {committed} was committed"
                    ));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// `LeaderCompleteness` (Raft): a leader's log holds every entry committed in an earlier term
/// (above its floor: trimmed entries were committed and are out of scope).
pub fn leader_completeness(view: &ReplicationView, history: &History) -> Result<(), String> {
    for n in (0..view.role.len()).filter(|n| view.role[*n] == Role::Leader) {
        let term = view.current_term[n];
        for index in view.log_floor[n] + 1..=history.committed_through() {
            let Some((committed, in_term)) = history.committed(index) else { continue };
            if in_term < term && term_at(&view.log[n], index) != Some(committed) {
                let held = term_at(&view.log[n], index)
                    .map_or("nothing".to_string(), |t| format!("term {t}"));
                return Err(format!(
                    "n{n} leads term {term} holding {held} at index {index}, where term \
                     {committed} was committed in term {in_term}"
                ));
            }
        }
    }
    Ok(())
}

/// `UpToDateLogsHoldCommitted`: every log at least as up to date as the highest committed
/// entry holds it. A majority could elect such a log, and a leader lacking the entry would
/// overwrite it; so a commit that leaves one (Raft's Figure 8: an older term's entry committed
/// by counting replicas) is caught when it happens, not only once a crash lets it be lost.
pub fn up_to_date_logs_hold_committed(
    view: &ReplicationView,
    history: &History,
) -> Result<(), String> {
    let top = history.committed_through();
    let Some((committed, _)) = history.committed(top) else { return Ok(()) };
    for (n, log) in view.log.iter().enumerate() {
        let Some(&(index, term)) = log.last() else { continue };
        let up_to_date = (term, index) >= (committed, top);
        if up_to_date && view.log_floor[n] < top && term_at(log, top) != Some(committed) {
            return Err(format!(
                "n{n}'s log ends at {index}@t{term}, as up to date as the entry committed at                  {top}@t{committed}, yet does not hold it: a majority could elect it"
            ));
        }
    }
    Ok(())
}

/// `OneVotePerTerm`: a voter grants at most one candidate per term, across crashes. Checked on
/// each grant as it leaves, against every grant of the run.
pub fn one_vote_per_term(
    history: &mut History,
    voter: NodeId,
    term: u64,
    candidate: NodeId,
) -> Result<(), String> {
    history.record_grant(voter, term, candidate).map_err(|earlier| {
        format!("n{voter} granted its vote in term {term} to n{earlier}, then to n{candidate}")
    })
}

/// True if `durable` holds `position`, or trimmed it (trimmed entries are committed).
fn durable_holds(durable: &DurableState, position: LogPosition) -> bool {
    position.index <= durable.log.base().index || durable.log.contains(position)
}

/// What `durable` holds, for a violation.
fn describe(durable: &DurableState) -> String {
    let (base, last) = (durable.log.base(), durable.log.last());
    let vote = match durable.vote {
        (term, Some(candidate)) => format!("term {term}, vote for n{candidate}"),
        (term, None) => format!("term {term}, no vote"),
    };
    format!("log {}@t{} ..= {}@t{}, {vote}", base.index, base.term, last.index, last.term)
}

/// `DurablePromises`: a message that promises something durable is backed, as it leaves, by
/// what a crash would leave (`durable`, per node): a vote grant by the voter's durable vote (or
/// a newer durable term), a progress report by the sender's durable log, a quorum
/// acknowledgement by a majority's durable logs.
pub fn durable_promises(
    durable: &[DurableState],
    from: NodeId,
    promise: &Promise,
) -> Result<(), String> {
    let sender = &durable[from as usize];
    let promise = &promise.as_grant(from);
    let backed = match *promise {
        Promise::SelfVote { .. } => unreachable!("a self vote is checked as a grant"),
        Promise::Vote { term, candidate } => {
            let (durable_term, vote) = sender.vote;
            durable_term > term || (durable_term == term && vote == Some(candidate))
        }
        Promise::LogHolds { position } => durable_holds(sender, position),
        Promise::QuorumHolds { position } => {
            let holders = durable.iter().filter(|d| durable_holds(d, position)).count();
            if holders * 2 > durable.len() {
                return Ok(());
            }
            return Err(format!(
                "n{from}'s {} ({promise}) is backed by {holders} of {} disks",
                promise.name(),
                durable.len()
            ));
        }
        Promise::LeaseHeld { .. } => true, // the lease's promise: `spec::lease`
    };
    if backed {
        return Ok(());
    }
    Err(format!(
        "n{from}'s {} ({promise}) is not on its disk: {}",
        promise.name(),
        describe(sender)
    ))
}

/// Invariants of `Replication.tla` over its history variables.
pub const HISTORY_INVARIANTS: &[HistoryInvariant<ReplicationView, History>] = &[
    HistoryInvariant { name: "StateMachineSafety", check: state_machine_safety },
    HistoryInvariant { name: "LeaderCompleteness", check: leader_completeness },
    HistoryInvariant { name: "UpToDateLogsHoldCommitted", check: up_to_date_logs_hold_committed },
];

/// State invariants of `Replication.tla`.
pub const INVARIANTS: &[Invariant<ReplicationView>] = &[
    Invariant { name: "ElectionSafety", check: election_safety },
    Invariant { name: "LogMatching", check: log_matching },
    Invariant { name: "AckedWritesDurable", check: acked_writes_durable },
    Invariant { name: "NoAckedWriteLost", check: no_acked_write_lost },
    Invariant { name: "DurableTermCoversLog", check: durable_term_covers_log },
];

/// Action properties of `Replication.tla`, checked on every (previous, next) pair of steps.
pub const ACTION_PROPERTIES: &[ActionProperty<ReplicationView>] =
    &[ActionProperty { name: "MonotonicCommit", check: monotonic_commit }];

/// Every operator of `Replication.tla` mirrored here; `TypeOK` holds by Rust's types.
pub const MIRRORED: &[&str] = &[
    "ElectionSafety",
    "LogMatching",
    "AckedWritesDurable",
    "NoAckedWriteLost",
    "MonotonicCommit",
    "StateMachineSafety",
    "LeaderCompleteness",
    "OneVotePerTerm",
    "DurablePromises",
    "DurableTermCoversLog",
    "UpToDateLogsHoldCommitted",
    "TypeOK",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Three nodes with the given logs (term lists from index 1), all durable, no floors.
    fn view(logs: &[&[u64]]) -> ReplicationView {
        let to_positions =
            |terms: &&[u64]| terms.iter().enumerate().map(|(i, t)| (i as u64 + 1, *t)).collect();
        let log: Vec<Vec<(u64, u64)>> = logs.iter().map(to_positions).collect();
        let n = logs.len();
        ReplicationView {
            role: vec![Role::Replica; n],
            current_term: vec![1; n],
            durable_log: log.clone(),
            log,
            log_floor: vec![0; n],
            durable_floor: vec![0; n],
            durable_term: vec![1; n],
            commit_index: vec![0; n],
            acked: vec![],
            ack_policy: AckPolicy::Quorum,
            restarts: vec![0; n],
        }
    }

    #[test]
    fn election_safety_allows_one_leader_per_term() {
        let mut v = view(&[&[], &[], &[]]);
        v.role = vec![Role::Leader, Role::Leader, Role::Replica];
        v.current_term = vec![1, 2, 2];
        assert!(election_safety(&v).is_ok());
        v.current_term = vec![2, 2, 2];
        assert!(election_safety(&v).is_err());
    }

    #[test]
    fn log_matching_flags_agreement_above_a_disagreement() {
        assert!(log_matching(&view(&[&[1, 1, 2], &[1, 1, 3, 3], &[1]])).is_ok());
        assert!(log_matching(&view(&[&[1, 2, 2], &[1, 3, 2], &[]])).is_err());
        // Below a floor, a disagreement is out of scope.
        let mut v = view(&[&[1, 2, 2], &[1, 3, 2], &[]]);
        v.log_floor = vec![2, 0, 0];
        v.log[0].drain(..2);
        assert!(log_matching(&v).is_ok());
    }

    #[test]
    fn acked_writes_durable_needs_a_durable_majority() {
        let mut v = view(&[&[1, 1], &[1], &[1, 2]]);
        v.acked = vec![(1, 1)];
        assert!(acked_writes_durable(&v).is_ok());
        v.acked = vec![(2, 1)];
        assert!(acked_writes_durable(&v).is_err(), "only n0 holds (2, 1)");
        v.durable_floor[1] = 2;
        assert!(acked_writes_durable(&v).is_ok(), "n1 trimmed it: out of scope there");
        v.durable_floor[1] = 0;
        v.log[1].push((2, 1)); // in memory only: does not count
        assert!(acked_writes_durable(&v).is_err());
        v.ack_policy = AckPolicy::Leader;
        assert!(acked_writes_durable(&v).is_ok(), "checked under the Quorum policy only");
    }

    #[test]
    fn no_acked_write_lost_flags_another_committed_entry_at_an_acked_index() {
        let mut v = view(&[&[1, 1], &[1, 2], &[1, 2]]);
        v.acked = vec![(2, 1)];
        assert!(no_acked_write_lost(&v).is_ok(), "nobody committed index 2 yet");
        v.commit_index = vec![2, 1, 1];
        assert!(no_acked_write_lost(&v).is_ok(), "n0 committed the acknowledged entry itself");
        v.commit_index = vec![2, 2, 1];
        assert!(no_acked_write_lost(&v).is_err(), "n1 committed (2, 2) over it");
        v.log_floor[1] = 2;
        v.log[1].drain(..2);
        assert!(no_acked_write_lost(&v).is_ok(), "trimmed at n1: out of scope");
    }

    #[test]
    fn monotonic_commit_allows_a_restart_only() {
        let mut before = view(&[&[1], &[1], &[1]]);
        before.commit_index = vec![1, 1, 1];
        let mut after = before.clone();
        after.commit_index = vec![2, 1, 1];
        assert!(monotonic_commit(&before, &after).is_ok());
        after.commit_index = vec![2, 0, 1];
        assert!(monotonic_commit(&before, &after).is_err());
        after.restarts = vec![0, 1, 0];
        assert!(monotonic_commit(&before, &after).is_ok(), "n1 restarted");
    }

    #[test]
    fn state_machine_safety_remembers_what_was_committed_across_a_truncation() {
        let mut v = view(&[&[1, 1], &[1, 1], &[1]]);
        v.commit_index = vec![2, 0, 0];
        let mut history = History::default();
        history.record_commits(&v);
        assert_eq!(history.committed(2), Some((1, 1)));
        assert!(state_machine_safety(&v, &history).is_ok());
        // n1 replaces index 2 with another term and, later, counts it committed.
        v.log[1] = vec![(1, 1), (2, 3)];
        assert!(state_machine_safety(&v, &history).is_ok(), "not committed at n1 yet");
        v.commit_index[1] = 2;
        history.record_commits(&v);
        assert_eq!(history.committed(2), Some((1, 1)), "the first commit stands");
        assert!(state_machine_safety(&v, &history).is_err());
        // n0 crashes: its commit index falls to its floor, the history stays.
        v.commit_index = vec![0, 0, 0];
        v.log[1] = vec![(1, 1), (2, 3)];
        v.commit_index[1] = 2;
        assert!(state_machine_safety(&v, &history).is_err(), "the history outlives the node");
    }

    #[test]
    fn leader_completeness_needs_every_entry_committed_in_an_earlier_term() {
        let mut v = view(&[&[1, 1, 1], &[1, 1], &[1]]);
        v.commit_index = vec![3, 0, 0];
        let mut history = History::default();
        history.record_commits(&v); // committed in term 1 (the view's current terms)
        v.role[2] = Role::Leader;
        v.current_term[2] = 2;
        let error = leader_completeness(&v, &history).unwrap_err();
        assert!(error.contains("n2 leads term 2 holding nothing at index 2"), "{error}");
        v.log[2] = vec![(1, 1), (2, 1), (3, 1), (4, 2)];
        assert!(leader_completeness(&v, &history).is_ok());
        v.log[2] = vec![(3, 1), (4, 2)];
        v.log_floor[2] = 2;
        assert!(leader_completeness(&v, &history).is_ok(), "trimmed entries are out of scope");
        v.current_term[2] = 1;
        v.log[2] = vec![];
        v.log_floor[2] = 0;
        assert!(leader_completeness(&v, &history).is_ok(), "committed in its own term");
    }

    #[test]
    fn up_to_date_logs_hold_committed_catches_figure_8_at_the_commit() {
        // n0 (term 3) counts index 2 of term 1 committed on n0 and n1; n2 holds a term-2 entry
        // there, so its log is more up to date than the committed entry it lacks.
        let mut v = view(&[&[1, 1], &[1, 1], &[1, 2]]);
        v.current_term = vec![3, 3, 2];
        let mut history = History::default();
        assert!(up_to_date_logs_hold_committed(&v, &history).is_ok(), "nothing committed yet");
        v.commit_index[0] = 2;
        history.record_commits(&v);
        let error = up_to_date_logs_hold_committed(&v, &history).unwrap_err();
        assert!(error.starts_with("n2's log ends at 2@t2"), "{error}");
        // Committed by n0's own term-3 entry instead, n2's log is behind it: nothing to flag.
        v.log[0].push((3, 3));
        v.log[1].push((3, 3));
        v.commit_index[0] = 3;
        history.record_commits(&v);
        assert!(up_to_date_logs_hold_committed(&v, &history).is_ok());
        // Trimmed past the committed entry, a log is out of scope.
        v.log_floor[2] = 3;
        v.log[2].clear();
        assert!(up_to_date_logs_hold_committed(&v, &history).is_ok());
    }

    #[test]
    fn one_vote_per_term_outlives_a_restart() {
        let mut history = History::default();
        assert!(one_vote_per_term(&mut history, 2, 5, 0).is_ok());
        assert!(one_vote_per_term(&mut history, 2, 5, 0).is_ok(), "the same grant again");
        assert!(one_vote_per_term(&mut history, 2, 6, 1).is_ok(), "another term");
        let error = one_vote_per_term(&mut history, 2, 5, 1).unwrap_err();
        assert_eq!(error, "n2 granted its vote in term 5 to n0, then to n1");
    }

    #[test]
    fn durable_promises_hold_what_a_crash_would_leave() {
        use crate::replication::{Entry, StableRecord};
        let entry =
            |index, term| StableRecord::Entry(Entry { index, term, write_id: None, payload: 0 });
        let vote = |term, voted_for| StableRecord::Vote { term, voted_for };
        let n0 = DurableState::from_records(&[vote(3, Some(1)), entry(1, 1), entry(2, 3)]);
        let n1 = DurableState::from_records(&[entry(1, 1)]);
        let n2 = DurableState::default();
        let disks = [n0, n1, n2];
        let at = |index, term| LogPosition { index, term };
        let check = |from, promise| durable_promises(&disks, from, &promise);
        assert!(check(0, Promise::Vote { term: 3, candidate: 1 }).is_ok());
        assert!(check(0, Promise::Vote { term: 2, candidate: 2 }).is_ok(), "a newer durable term");
        let error = check(0, Promise::Vote { term: 3, candidate: 2 }).unwrap_err();
        assert!(error.contains("term 3, vote for n1"), "{error}");
        assert!(check(0, Promise::SelfVote { term: 4 }).is_err());
        assert!(check(0, Promise::LogHolds { position: at(2, 3) }).is_ok());
        assert!(check(1, Promise::LogHolds { position: at(2, 3) }).is_err());
        assert!(check(0, Promise::QuorumHolds { position: at(1, 1) }).is_ok(), "n0 and n1");
        let error = check(0, Promise::QuorumHolds { position: at(2, 3) }).unwrap_err();
        assert!(error.contains("backed by 1 of 3 disks"), "{error}");
    }

    #[test]
    fn durable_term_covers_log_needs_the_term_on_disk_first() {
        let mut v = view(&[&[1, 1], &[1], &[]]);
        assert!(durable_term_covers_log(&v).is_ok());
        v.durable_log[1] = vec![(1, 1), (2, 2)];
        let error = durable_term_covers_log(&v).unwrap_err();
        assert_eq!(error, "n1's disk holds entry 2@t2 but only term 1");
        v.durable_term[1] = 2;
        assert!(durable_term_covers_log(&v).is_ok());
    }

    #[test]
    fn the_tables_name_every_check() {
        let names: Vec<&str> = INVARIANTS
            .iter()
            .map(|i| i.name)
            .chain(ACTION_PROPERTIES.iter().map(|p| p.name))
            .chain(HISTORY_INVARIANTS.iter().map(|h| h.name))
            .collect();
        assert!(names.iter().all(|name| MIRRORED.contains(name)));
    }
}
