//! The invariants and properties of `Replication.tla`, one function each, under the spec's
//! names.

use super::history::History;
use super::view::{term_at, NodeVars, ReplicationView};
use crate::promise::Promise;
use crate::replication::{AckPolicy, DurableState, LogPosition, Role};
use crate::NodeId;

/// `ElectionSafety`: at most one leader per term.
pub fn election_safety(view: &ReplicationView) -> Result<(), String> {
    let leaders: Vec<(usize, u64)> = (view.nodes.iter().enumerate())
        .filter(|(_, vars)| vars.role == Role::Leader)
        .map(|(n, vars)| (n, vars.current_term))
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
    for (n, vars) in view.nodes.iter().enumerate() {
        let durable_term = vars.durable_vote.0;
        let last = vars.durable_log.last();
        if let Some((index, term)) = last.filter(|(_, term)| *term > durable_term) {
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
    let nodes = &view.nodes;
    for a in 0..nodes.len() {
        for b in a + 1..nodes.len() {
            let floor = nodes[a].log_floor.max(nodes[b].log_floor);
            if let Some((below, at)) = matching_broken(&nodes[a].log, &nodes[b].log, floor) {
                return Err(format!(
                    "n{a} and n{b} agree on entry {at} but differ at entry {below} before it"
                ));
            }
        }
    }
    Ok(())
}

/// True if the node's durable log holds (index, term), or trimmed it (trimmed entries are out
/// of scope: a node trims only committed entries).
fn durably_holds(vars: &NodeVars, (index, term): (u64, u64)) -> bool {
    index <= vars.durable_floor || term_at(&vars.durable_log, index) == Some(term)
}

/// `AckedWritesDurable`: under the `Quorum` policy, every acknowledged write is on a majority
/// of durable logs (a node that trimmed the entry counts as holding it).
pub fn acked_writes_durable(view: &ReplicationView) -> Result<(), String> {
    if view.ack_policy != AckPolicy::Quorum {
        return Ok(());
    }
    let nodes = view.nodes.len();
    for write in &view.acked {
        // Counted without allocating: this runs for every acknowledged write on most steps.
        if view.nodes.iter().filter(|vars| durably_holds(vars, *write)).count() * 2 > nodes {
            continue;
        }
        let holders: Vec<usize> =
            (0..nodes).filter(|n| durably_holds(&view.nodes[*n], *write)).collect();
        return Err(format!(
            "acknowledged write at index {} term {} is durable only on {holders:?} of {nodes}",
            write.0, write.1
        ));
    }
    Ok(())
}

/// `NoAckedWriteLost`: no node commits another entry where an acknowledged write stood. Holds
/// under the `Quorum` policy. Under `Leader` acks a leader that crashes before replicating
/// loses the write to the next leader's log: the `replication-leader-ack` scenario shows it.
pub fn no_acked_write_lost(view: &ReplicationView) -> Result<(), String> {
    for (index, term) in &view.acked {
        for (n, vars) in view.nodes.iter().enumerate() {
            if *index > vars.commit_index || *index <= vars.log_floor {
                continue;
            }
            let held = vars.term_at(*index);
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
    for (n, (before, after)) in previous.nodes.iter().zip(&next.nodes).enumerate() {
        let restarted = before.restarts != after.restarts;
        if !restarted && after.commit_index < before.commit_index {
            return Err(format!(
                "n{n}'s commit index went from {} to {}",
                before.commit_index, after.commit_index
            ));
        }
    }
    Ok(())
}

/// `StateMachineSafety` (Raft): a committed entry never changes. Every entry a node holds at or
/// below its commit index is the entry first committed at that index, on every node, for the
/// whole run (the history outlives crashes, truncations and trims).
pub fn state_machine_safety(view: &ReplicationView, history: &History) -> Result<(), String> {
    for (n, vars) in view.nodes.iter().enumerate() {
        let commit = vars.commit_index;
        for &(index, term) in vars.log.iter().take_while(|(index, _)| *index <= commit) {
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
    for (n, vars) in view.nodes.iter().enumerate().filter(|(_, v)| v.role == Role::Leader) {
        let term = vars.current_term;
        for index in vars.log_floor + 1..=history.committed_through() {
            let Some((committed, in_term)) = history.committed(index) else { continue };
            if in_term < term && vars.term_at(index) != Some(committed) {
                let held =
                    vars.term_at(index).map_or("nothing".to_string(), |t| format!("term {t}"));
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
    for (n, vars) in view.nodes.iter().enumerate() {
        let Some(&(index, term)) = vars.log.last() else { continue };
        let up_to_date = (term, index) >= (committed, top);
        if up_to_date && vars.log_floor < top && vars.term_at(top) != Some(committed) {
            return Err(format!(
                "n{n}'s log ends at {index}@t{term}, as up to date as the entry committed at \
                 {top}@t{committed}, yet does not hold it: a majority could elect it"
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
