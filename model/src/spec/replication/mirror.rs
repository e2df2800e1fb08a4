//! Each action of `Replication.tla` as an executable step on one node's variables: its guard,
//! checked on the state it starts from, and its effect on the mapped variables (the correct
//! protocol: `Canary = "None"`). Unmapped variables (`msgs`, `votes`, `heldGrants`) are left
//! out; a guard conjunct over them is the message's own business (its fields are arguments).

use super::actions::{Action, BadRangeMsg, EntriesMsg, HeartbeatMsg, ReportMsg, VoteRequestMsg};
use super::history::History;
use super::view::{term_at, DiskRecord, NodeVars};
use crate::replication::{AckPolicy, Role};
use crate::spec::{require, Taken};
use crate::NodeId;

/// What an action reads beyond its node: the constants and the history.
pub struct Env<'a> {
    /// How many members the replica set has.
    pub members: usize,
    /// The constant `AckPolicy`.
    pub ack_policy: AckPolicy,
    /// The operator `Transfers`.
    pub transfers: bool,
    /// `grants`, for `BecomeLeader` (which stands in for the unmapped `votes`).
    pub history: &'a History,
}

/// A mapped variable of one node, as the spec names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Var {
    Role,
    CurrentTerm,
    VotedFor,
    Leader,
    Log,
    LogFloor,
    Unsynced,
    DurableLog,
    DurableFloor,
    DurableVote,
    CommitIndex,
    Matched,
    Outstanding,
    NextRequest,
    Restarts,
    Acked,
}

impl Var {
    /// The spec variable's name.
    pub fn name(self) -> &'static str {
        match self {
            Var::Role => "role",
            Var::CurrentTerm => "currentTerm",
            Var::VotedFor => "votedFor",
            Var::Leader => "leader",
            Var::Log => "log",
            Var::LogFloor => "logFloor",
            Var::Unsynced => "unsynced",
            Var::DurableLog => "durableLog",
            Var::DurableFloor => "durableFloor",
            Var::DurableVote => "durableVote",
            Var::CommitIndex => "commitIndex",
            Var::Matched => "matched",
            Var::Outstanding => "outstanding",
            Var::NextRequest => "nextRequest",
            Var::Restarts => "restarts",
            Var::Acked => "acked",
        }
    }
}

fn role_is(vars: &NodeVars, role: Role) -> Taken {
    require(vars.role == role, || format!("its role is {:?}, not {role:?}", vars.role))
}

fn not_leader(vars: &NodeVars) -> Taken {
    require(vars.role != Role::Leader, || "it is Leader".to_string())
}

fn same_term(vars: &NodeVars, term: u64, what: &str) -> Taken {
    require(term == vars.current_term, || {
        format!("{what} is of term {term} and currentTerm is {}", vars.current_term)
    })
}

/// Leaves a node's roles in its term (`role`, `leader`; `matched` goes with a leadership).
fn set_role(vars: &mut NodeVars, role: Role, leader: Option<NodeId>) {
    vars.role = role;
    vars.leader = leader;
    if role != Role::Leader {
        vars.matched.clear();
    }
}

fn stand_in(vars: &mut NodeVars, n: NodeId, t: u64) {
    set_role(vars, Role::Candidate, None);
    vars.current_term = t;
    vars.voted_for = Some(n);
    vars.unsynced.push(DiskRecord::Vote { term: t, vote: Some(n) });
}

impl Action {
    /// The mapped variables the action may change (the rest it leaves UNCHANGED).
    pub fn writes(&self) -> &'static [Var] {
        use Var::*;
        match self {
            Action::UpdateTerm { .. } => &[CurrentTerm, VotedFor, Role, Leader, Unsynced, Matched],
            Action::Timeout { .. }
            | Action::StepDown { .. }
            | Action::FollowPromoted { .. }
            | Action::LeadersMeet { .. } => &[Role, Leader, Matched],
            Action::Stand { .. } | Action::StandTransfer { .. } => {
                &[Role, Leader, CurrentTerm, VotedFor, Unsynced, Matched]
            }
            Action::GrantVote { .. } => &[VotedFor, Unsynced],
            Action::BecomeLeader { .. } => &[Role, Leader, Log, Unsynced, Matched],
            Action::Follow { .. } => &[Role, Leader, CommitIndex, Matched],
            Action::ClientWrite { .. } => &[Log, Unsynced],
            Action::Persisted { .. } => &[Unsynced, DurableLog, DurableFloor, DurableVote],
            Action::CountAppended { .. } => &[Matched],
            Action::AdvanceCommit { .. } => &[CommitIndex],
            Action::AckWrite { .. } => &[Acked],
            Action::Trim { .. } => &[LogFloor, Log, Unsynced],
            Action::Crash { .. } => &[
                Restarts,
                Role,
                Leader,
                Log,
                LogFloor,
                Unsynced,
                CurrentTerm,
                VotedFor,
                CommitIndex,
                Matched,
                Outstanding,
                NextRequest,
            ],
            Action::ReceiveAppend { .. } => {
                &[Role, Leader, Matched, Log, CommitIndex, Unsynced, Outstanding]
            }
            Action::ReceiveSyncResponse { .. } => &[Log, CommitIndex, Unsynced, Outstanding],
            Action::ReceiveBadRange { .. } => &[Log, LogFloor, CommitIndex, Unsynced, Outstanding],
            Action::RequestSync { .. } => &[NextRequest, Outstanding],
            Action::ForgetRequest { .. } => &[Outstanding],
            Action::RequestVotes { .. }
            | Action::SendGrant { .. }
            | Action::ReceiveGrant { .. }
            | Action::Heartbeat { .. }
            | Action::ReportProgress { .. }
            | Action::Push { .. }
            | Action::AnswerSync { .. } => &[],
        }
    }

    /// Takes the action on `vars` (the node's variables before it): `Err` if its guard fails,
    /// naming the conjunct and the values; else `vars` as the spec leaves them. Acknowledged
    /// writes go to `acked`.
    pub fn take(&self, vars: &mut NodeVars, env: &Env<'_>, acked: &mut Vec<(u64, u64)>) -> Taken {
        match self {
            Action::UpdateTerm { t, .. } => {
                require(*t > vars.current_term, || {
                    format!("term {t} is not newer than currentTerm {}", vars.current_term)
                })?;
                vars.current_term = *t;
                vars.voted_for = None;
                set_role(vars, Role::Idle, None);
                vars.unsynced.push(DiskRecord::Vote { term: *t, vote: None });
                Ok(())
            }
            Action::Timeout { .. } => {
                require(!matches!(vars.role, Role::Leader | Role::Candidate), || {
                    format!("its role is {:?}", vars.role)
                })?;
                set_role(vars, Role::Candidate, None);
                Ok(())
            }
            Action::StepDown { .. } => {
                set_role(vars, Role::Idle, None);
                Ok(())
            }
            Action::Stand { n } => {
                not_leader(vars)?;
                stand_in(vars, *n, vars.current_term + 1);
                Ok(())
            }
            Action::StandTransfer { n, t } => {
                require(env.transfers, || "Transfers is FALSE (no handovers here)".into())?;
                require(*t > vars.current_term, || {
                    format!("term {t} is not newer than currentTerm {}", vars.current_term)
                })?;
                stand_in(vars, *n, *t);
                Ok(())
            }
            Action::RequestVotes { n, transfer } => {
                role_is(vars, Role::Candidate)?;
                let own = (vars.current_term, Some(*n));
                require(vars.durable_vote == own, || {
                    format!("durableVote is {:?}, not its own vote in {}", vars.durable_vote, own.0)
                })?;
                require(!transfer || env.transfers, || "Transfers is FALSE".into())
            }
            Action::GrantVote { n, m } => grant_vote(vars, *n, m, env),
            Action::SendGrant { c, t, .. } => {
                let (durable_term, vote) = vars.durable_vote;
                let backed = durable_term > *t || (durable_term == *t && vote == Some(*c));
                require(backed, || {
                    format!(
                        "durableVote is {:?}, which does not back a vote for n{c} in {t}",
                        vars.durable_vote
                    )
                })
            }
            Action::ReceiveGrant { term, .. } => {
                role_is(vars, Role::Candidate)?;
                same_term(vars, *term, "the grant")
            }
            Action::BecomeLeader { n } => become_leader(vars, *n, env),
            Action::Heartbeat { .. } => role_is(vars, Role::Leader),
            Action::Follow { n, m } => follow(vars, *n, m),
            Action::LeadersMeet { n, m } => leaders_meet(vars, *n, m),
            Action::FollowPromoted { n, q } => {
                require(env.transfers, || "Transfers is FALSE (no handovers here)".into())?;
                require(q != n, || "it is the target itself".into())?;
                not_leader(vars)?;
                set_role(vars, Role::Replica, Some(*q));
                Ok(())
            }
            Action::ClientWrite { .. } => {
                role_is(vars, Role::Leader)?;
                let index = vars.last_index() + 1;
                vars.log.push((index, vars.current_term));
                vars.unsynced.push(DiskRecord::Entry { index, term: vars.current_term });
                Ok(())
            }
            Action::Persisted { k, .. } => persisted(vars, *k),
            Action::ReportProgress { .. } => {
                role_is(vars, Role::Replica)?;
                require(vars.leader.is_some(), || "it follows no leader".into())
            }
            Action::CountAppended { m, .. } => count_appended(vars, m),
            Action::AdvanceCommit { n, i } => advance_commit(vars, *n, *i, env),
            Action::AckWrite { i, .. } => ack_write(vars, *i, env, acked),
            Action::Trim { i, .. } => trim(vars, *i),
            Action::Crash { .. } => {
                crash(vars);
                Ok(())
            }
            Action::Push { l, n, p } => {
                role_is(vars, Role::Leader)?;
                require(l != n, || "it pushes to itself".into())?;
                require(*p >= vars.log_floor && *p < vars.last_index(), || {
                    format!(
                        "{p} is not in logFloor {}..Len(log) {}",
                        vars.log_floor,
                        vars.last_index()
                    )
                })
            }
            Action::ReceiveAppend { m, apply, .. } => {
                same_term(vars, m.term, "the append")?;
                not_leader(vars)?;
                set_role(vars, Role::Replica, Some(m.from));
                if *apply {
                    apply_entries(vars, m, None)?;
                }
                Ok(())
            }
            Action::RequestSync { since, .. } => {
                role_is(vars, Role::Replica)?;
                let Some(to) = vars.leader else { return Err("it follows no leader".into()) };
                require(*since >= vars.log_floor && *since <= vars.last_index(), || {
                    format!(
                        "{since} is not in logFloor {}..Len(log) {}",
                        vars.log_floor,
                        vars.last_index()
                    )
                })?;
                vars.next_request += 1;
                vars.outstanding.push((to, vars.current_term, vars.next_request));
                Ok(())
            }
            Action::ForgetRequest { id, .. } => {
                let at = vars.outstanding.iter().position(|o| o.2 == *id);
                let Some(at) = at else { return Err(format!("no request {id} is outstanding")) };
                vars.outstanding.remove(at);
                Ok(())
            }
            Action::AnswerSync { m, .. } => {
                role_is(vars, Role::Leader)?;
                require(m.term <= vars.current_term, || {
                    format!(
                        "the request is of term {} and currentTerm is {}",
                        m.term, vars.current_term
                    )
                })
            }
            Action::ReceiveSyncResponse { m, .. } => {
                vetted(vars, m.from, m.term, m.id)?;
                apply_entries(vars, m, Some((m.from, m.term, m.id)))
            }
            Action::ReceiveBadRange { m, .. } => receive_bad_range(vars, m),
        }
    }
}

fn grant_vote(vars: &mut NodeVars, n: NodeId, m: &VoteRequestMsg, env: &Env<'_>) -> Taken {
    require(m.from != n, || "the request is its own".into())?;
    same_term(vars, m.term, "the request")?;
    require(vars.voted_for.is_none() || vars.voted_for == Some(m.from), || {
        format!("votedFor is n{} in term {}", vars.voted_for.unwrap_or_default(), m.term)
    })?;
    let (last_term, last_index) = (vars.last_term(), vars.last_index());
    let up_to_date =
        m.last_term > last_term || (m.last_term == last_term && m.last_index >= last_index);
    require((m.transfer && env.transfers) || up_to_date, || {
        format!(
            "the candidate's log ends at {}@t{}, behind its own at {last_index}@t{last_term}",
            m.last_index, m.last_term
        )
    })?;
    vars.voted_for = Some(m.from);
    vars.unsynced.push(DiskRecord::Vote { term: m.term, vote: Some(m.from) });
    Ok(())
}

fn become_leader(vars: &mut NodeVars, n: NodeId, env: &Env<'_>) -> Taken {
    role_is(vars, Role::Candidate)?;
    let granted = env.history.grants_for(n, vars.current_term, env.members);
    require(granted * 2 > env.members, || {
        format!("only {granted} of {} members granted it term {}", env.members, vars.current_term)
    })?;
    set_role(vars, Role::Leader, Some(n));
    vars.matched = vec![0; env.members];
    let (index, term) = (vars.last_index() + 1, vars.current_term);
    vars.log.push((index, term));
    vars.unsynced.push(DiskRecord::Entry { index, term });
    Ok(())
}

fn follow(vars: &mut NodeVars, n: NodeId, m: &HeartbeatMsg) -> Taken {
    require(m.from != n, || "the heartbeat is its own".into())?;
    same_term(vars, m.term, "the heartbeat")?;
    not_leader(vars)?;
    set_role(vars, Role::Replica, Some(m.from));
    if vars.holds(m.tail_index, m.tail_term) {
        vars.commit_index = vars.commit_index.max(m.commit.min(m.tail_index));
    }
    Ok(())
}

fn leaders_meet(vars: &mut NodeVars, n: NodeId, m: &HeartbeatMsg) -> Taken {
    require(m.from != n, || "the heartbeat is its own".into())?;
    role_is(vars, Role::Leader)?;
    same_term(vars, m.term, "the heartbeat")?;
    let theirs = (m.tail_term, m.tail_index, std::cmp::Reverse(m.from));
    let ours = (vars.last_term(), vars.last_index(), std::cmp::Reverse(n));
    require(theirs > ours, || {
        format!(
            "its tail {}@t{} wins over n{}'s {}@t{}",
            ours.1, ours.0, m.from, m.tail_index, m.tail_term
        )
    })?;
    set_role(vars, Role::Replica, Some(m.from));
    Ok(())
}

/// `Replay` of the first `k` unsynced records onto the durable variables.
fn persisted(vars: &mut NodeVars, k: usize) -> Taken {
    require(k >= 1 && k <= vars.unsynced.len(), || {
        format!("{k} records synced, but {} were unsynced", vars.unsynced.len())
    })?;
    for record in vars.unsynced.drain(..k) {
        match record {
            DiskRecord::Vote { term, vote } => vars.durable_vote = (term, vote),
            DiskRecord::Entry { index, term } => {
                let last = vars.durable_log.last().map_or(vars.durable_floor, |e| e.0);
                if index == last + 1 {
                    vars.durable_log.push((index, term));
                }
            }
            DiskRecord::Truncate { after } => vars.durable_log.retain(|(index, _)| *index <= after),
            DiskRecord::Trim { floor, term } => {
                if floor > vars.durable_floor {
                    vars.durable_log.retain(|(index, _)| *index > floor);
                    (vars.durable_floor, vars.durable_floor_term) = (floor, term);
                }
            }
            DiskRecord::Reset { floor, term } => {
                vars.durable_log.clear();
                (vars.durable_floor, vars.durable_floor_term) = (floor, term);
            }
        }
    }
    Ok(())
}

fn count_appended(vars: &mut NodeVars, m: &ReportMsg) -> Taken {
    role_is(vars, Role::Leader)?;
    same_term(vars, m.term, "the report")?;
    require(vars.holds(m.index, m.last), || {
        let held = vars.term_at(m.index).map_or("nothing".into(), |t| format!("term {t}"));
        format!("log[{}] holds {held}, not the reported term {}", m.index, m.last)
    })?;
    if let Some(slot) = vars.matched.get_mut(m.from as usize) {
        *slot = (*slot).max(m.index);
    }
    Ok(())
}

fn advance_commit(vars: &mut NodeVars, n: NodeId, i: u64, env: &Env<'_>) -> Taken {
    role_is(vars, Role::Leader)?;
    require(i > vars.commit_index && i <= vars.last_index(), || {
        format!("{i} is not in commitIndex {}..Len(log) {}", vars.commit_index, vars.last_index())
    })?;
    let term = vars.term_at(i).unwrap_or_default();
    require(term == vars.current_term, || {
        format!("log[{i}] has term {term} and currentTerm is {}", vars.current_term)
    })?;
    let own = usize::from(vars.appended_len() >= i);
    let others = (vars.matched.iter().enumerate())
        .filter(|(k, index)| *k != n as usize && **index >= i)
        .count();
    require((own + others) * 2 > env.members, || {
        format!(
            "only {} of {} members hold it durably (matched {:?}, own durable tail {})",
            own + others,
            env.members,
            vars.matched,
            vars.appended_len()
        )
    })?;
    vars.commit_index = i;
    Ok(())
}

fn ack_write(vars: &NodeVars, i: u64, env: &Env<'_>, acked: &mut Vec<(u64, u64)>) -> Taken {
    role_is(vars, Role::Leader)?;
    require(i >= 1 && i <= vars.last_index(), || format!("{i} is not in 1..Len(log)"))?;
    if i > vars.log_floor {
        let term = vars.term_at(i).unwrap_or_default();
        require(term == vars.current_term, || {
            format!("log[{i}] has term {term} and currentTerm is {}", vars.current_term)
        })?;
    }
    let (bound, what) = match env.ack_policy {
        AckPolicy::Quorum => (vars.commit_index, "commitIndex"),
        AckPolicy::Leader => (vars.appended_len(), "its durable tail"),
    };
    require(i <= bound, || format!("{i} is past {what} {bound}"))?;
    acked.push((i, vars.current_term));
    Ok(())
}

fn trim(vars: &mut NodeVars, i: u64) -> Taken {
    require(i > vars.log_floor && i <= vars.commit_index, || {
        format!("{i} is not in logFloor {}..commitIndex {}", vars.log_floor, vars.commit_index)
    })?;
    let term = vars.term_at(i).unwrap_or_default();
    vars.log.retain(|(index, _)| *index > i);
    (vars.log_floor, vars.floor_term) = (i, term);
    vars.unsynced.push(DiskRecord::Trim { floor: i, term });
    Ok(())
}

fn crash(vars: &mut NodeVars) {
    vars.restarts += 1;
    set_role(vars, Role::Idle, None);
    vars.log.clone_from(&vars.durable_log);
    (vars.log_floor, vars.floor_term) = (vars.durable_floor, vars.durable_floor_term);
    vars.unsynced.clear();
    (vars.current_term, vars.voted_for) = vars.durable_vote;
    vars.commit_index = vars.durable_floor;
    vars.outstanding.clear();
    vars.next_request = 0;
}

/// `Vetted(n, m)`: an answer from the believed leader in its term, for a request still
/// outstanding on that channel.
fn vetted(vars: &NodeVars, from: NodeId, term: u64, id: u64) -> Taken {
    require(vars.role == Role::Replica && vars.leader == Some(from), || {
        let leader = vars.leader.map_or("none".to_string(), |l| format!("n{l}"));
        format!("it is {:?} following {leader}, not a Replica of n{from}", vars.role)
    })?;
    same_term(vars, term, "the answer")?;
    require(vars.outstanding.contains(&(from, term, id)), || {
        format!(
            "request {id} to n{from} in term {term} is not outstanding ({:?})",
            vars.outstanding
        )
    })
}

/// `Apply`: the entries of `m` merged after its `prev` (which the log must hold), the commit
/// point as far as they cover, the records written; requests on the channel retired when the
/// log changed, and `consumed` in any case.
fn apply_entries(
    vars: &mut NodeVars,
    m: &EntriesMsg,
    consumed: Option<(NodeId, u64, u64)>,
) -> Taken {
    require(vars.holds(m.prev, m.prev_term), || {
        let held = vars.term_at(m.prev).map_or("nothing".into(), |t| format!("term {t}"));
        format!("log[{}] holds {held}, not {}", m.prev, m.prev_term)
    })?;
    let mut changed = false;
    for (offset, &term) in m.entries.iter().enumerate() {
        let index = m.prev + 1 + offset as u64;
        if index <= vars.log_floor {
            continue; // trimmed: committed, as the leader's
        }
        match term_at(&vars.log, index) {
            Some(held) if held == term => continue,
            Some(_) => {
                vars.log.retain(|(at, _)| *at < index);
                vars.unsynced.push(DiskRecord::Truncate { after: index - 1 });
            }
            None => {}
        }
        vars.log.push((index, term));
        vars.unsynced.push(DiskRecord::Entry { index, term });
        changed = true;
    }
    let covered = m.prev + m.entries.len() as u64;
    vars.commit_index = vars.commit_index.max(m.commit.min(covered));
    if let Some(request) = consumed {
        vars.outstanding.retain(|o| *o != request);
    }
    if changed {
        vars.outstanding.retain(|(to, term, _)| *to != m.from || *term != m.term);
    }
    Ok(())
}

fn receive_bad_range(vars: &mut NodeVars, m: &BadRangeMsg) -> Taken {
    vetted(vars, m.from, m.term, m.id)?;
    require(m.since < m.floor, || {
        format!("it asked after {} and the floor is {}", m.since, m.floor)
    })?;
    vars.log.clear();
    (vars.log_floor, vars.floor_term) = (m.floor, m.floor_term);
    vars.commit_index = vars.commit_index.max(m.floor);
    vars.unsynced.push(DiskRecord::Reset { floor: m.floor, term: m.floor_term });
    vars.outstanding.retain(|o| *o != (m.from, m.term, m.id));
    Ok(())
}
