//! The actions of `Replication.tla`'s `Next`, as a replica-set member declares it takes them
//! (a sans-IO output, [`crate::replication::Output::Action`]): one variant per action operator,
//! named as in the spec, with the spec's arguments. A received message travels as its fields
//! (the spec's `m`), since `msgs` is not mapped.

use crate::NodeId;
use std::fmt;

/// A leader's heartbeat, as `Follow` and `LeadersMeet` take it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HeartbeatMsg {
    pub from: NodeId,
    pub term: u64,
    pub tail_index: u64,
    pub tail_term: u64,
    pub commit: u64,
}

/// A vote request, as `GrantVote` takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VoteRequestMsg {
    pub from: NodeId,
    pub term: u64,
    pub last_index: u64,
    pub last_term: u64,
    pub transfer: bool,
}

/// Entries following (`prev`, `prev_term`) in the sender's log, with its commit point: an
/// `Append` (`ReceiveAppend`) or a `SyncResponse` (`ReceiveSyncResponse`, which also names the
/// request it answers).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EntriesMsg {
    pub from: NodeId,
    pub term: u64,
    /// The request answered (0 for a pushed `Append`).
    pub id: u64,
    pub prev: u64,
    pub prev_term: u64,
    /// The entries' terms, from index `prev + 1` on.
    pub entries: Vec<u64>,
    pub commit: u64,
}

/// A leader's `BadRange` answer: its log now starts after `floor` (an entry of `floor_term`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BadRangeMsg {
    pub from: NodeId,
    pub term: u64,
    pub id: u64,
    pub since: u64,
    pub floor: u64,
    pub floor_term: u64,
}

/// A replica's report of its durable tail (an `AppendAck` or a `SyncRequest`), as
/// `CountAppended` takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReportMsg {
    pub from: NodeId,
    pub term: u64,
    pub index: u64,
    pub last: u64,
}

/// A sync request, as `AnswerSync` takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SyncRequestMsg {
    pub from: NodeId,
    pub term: u64,
    pub id: u64,
    pub since: u64,
}

/// One action of `Replication.tla`, taken by node `n` (the leader `l` for the leader's sends).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    UpdateTerm {
        n: NodeId,
        t: u64,
    },
    Timeout {
        n: NodeId,
    },
    StepDown {
        n: NodeId,
    },
    Stand {
        n: NodeId,
    },
    StandTransfer {
        n: NodeId,
        t: u64,
    },
    RequestVotes {
        n: NodeId,
        transfer: bool,
    },
    GrantVote {
        n: NodeId,
        m: VoteRequestMsg,
    },
    SendGrant {
        n: NodeId,
        c: NodeId,
        t: u64,
    },
    ReceiveGrant {
        n: NodeId,
        from: NodeId,
        term: u64,
    },
    BecomeLeader {
        n: NodeId,
    },
    Heartbeat {
        n: NodeId,
    },
    Follow {
        n: NodeId,
        m: HeartbeatMsg,
    },
    LeadersMeet {
        n: NodeId,
        m: HeartbeatMsg,
    },
    FollowPromoted {
        n: NodeId,
        q: NodeId,
    },
    ClientWrite {
        n: NodeId,
    },
    /// An fsync covered the first `k` unsynced records (inferred from the disk by the checker).
    Persisted {
        n: NodeId,
        k: usize,
    },
    ReportProgress {
        n: NodeId,
    },
    CountAppended {
        n: NodeId,
        m: ReportMsg,
    },
    AdvanceCommit {
        n: NodeId,
        i: u64,
    },
    AckWrite {
        n: NodeId,
        i: u64,
    },
    Trim {
        n: NodeId,
        i: u64,
    },
    /// The node went down (inferred by the checker).
    Crash {
        n: NodeId,
    },
    Push {
        l: NodeId,
        n: NodeId,
        p: u64,
    },
    ReceiveAppend {
        n: NodeId,
        m: EntriesMsg,
        apply: bool,
    },
    RequestSync {
        n: NodeId,
        since: u64,
    },
    ForgetRequest {
        n: NodeId,
        id: u64,
    },
    AnswerSync {
        l: NodeId,
        m: SyncRequestMsg,
    },
    ReceiveSyncResponse {
        n: NodeId,
        m: EntriesMsg,
    },
    ReceiveBadRange {
        n: NodeId,
        m: BadRangeMsg,
    },
}

impl Action {
    /// The operator's name in `Replication.tla`.
    pub fn name(&self) -> &'static str {
        match self {
            Action::UpdateTerm { .. } => "UpdateTerm",
            Action::Timeout { .. } => "Timeout",
            Action::StepDown { .. } => "StepDown",
            Action::Stand { .. } => "Stand",
            Action::StandTransfer { .. } => "StandTransfer",
            Action::RequestVotes { .. } => "RequestVotes",
            Action::GrantVote { .. } => "GrantVote",
            Action::SendGrant { .. } => "SendGrant",
            Action::ReceiveGrant { .. } => "ReceiveGrant",
            Action::BecomeLeader { .. } => "BecomeLeader",
            Action::Heartbeat { .. } => "Heartbeat",
            Action::Follow { .. } => "Follow",
            Action::LeadersMeet { .. } => "LeadersMeet",
            Action::FollowPromoted { .. } => "FollowPromoted",
            Action::ClientWrite { .. } => "ClientWrite",
            Action::Persisted { .. } => "Persisted",
            Action::ReportProgress { .. } => "ReportProgress",
            Action::CountAppended { .. } => "CountAppended",
            Action::AdvanceCommit { .. } => "AdvanceCommit",
            Action::AckWrite { .. } => "AckWrite",
            Action::Trim { .. } => "Trim",
            Action::Crash { .. } => "Crash",
            Action::Push { .. } => "Push",
            Action::ReceiveAppend { .. } => "ReceiveAppend",
            Action::RequestSync { .. } => "RequestSync",
            Action::ForgetRequest { .. } => "ForgetRequest",
            Action::AnswerSync { .. } => "AnswerSync",
            Action::ReceiveSyncResponse { .. } => "ReceiveSyncResponse",
            Action::ReceiveBadRange { .. } => "ReceiveBadRange",
        }
    }

    /// The node whose variables the action reads and writes.
    pub fn node(&self) -> NodeId {
        match *self {
            Action::UpdateTerm { n, .. }
            | Action::Timeout { n }
            | Action::StepDown { n }
            | Action::Stand { n }
            | Action::StandTransfer { n, .. }
            | Action::RequestVotes { n, .. }
            | Action::GrantVote { n, .. }
            | Action::SendGrant { n, .. }
            | Action::ReceiveGrant { n, .. }
            | Action::BecomeLeader { n }
            | Action::Heartbeat { n }
            | Action::Follow { n, .. }
            | Action::LeadersMeet { n, .. }
            | Action::FollowPromoted { n, .. }
            | Action::ClientWrite { n }
            | Action::Persisted { n, .. }
            | Action::ReportProgress { n }
            | Action::CountAppended { n, .. }
            | Action::AdvanceCommit { n, .. }
            | Action::AckWrite { n, .. }
            | Action::Trim { n, .. }
            | Action::Crash { n }
            | Action::ReceiveAppend { n, .. }
            | Action::RequestSync { n, .. }
            | Action::ForgetRequest { n, .. }
            | Action::ReceiveSyncResponse { n, .. }
            | Action::ReceiveBadRange { n, .. } => n,
            Action::Push { l, .. } | Action::AnswerSync { l, .. } => l,
        }
    }
}

/// Every action operator of `Replication.tla`'s `Next` the implementation takes, as mirrored
/// by [`Action`] (`tests/spec_mirror.rs` checks them against the spec).
pub const ACTIONS: &[&str] = &[
    "UpdateTerm",
    "Timeout",
    "StepDown",
    "Stand",
    "StandTransfer",
    "RequestVotes",
    "GrantVote",
    "SendGrant",
    "ReceiveGrant",
    "BecomeLeader",
    "Heartbeat",
    "Follow",
    "LeadersMeet",
    "FollowPromoted",
    "ClientWrite",
    "Persisted",
    "ReportProgress",
    "CountAppended",
    "AdvanceCommit",
    "AckWrite",
    "Trim",
    "Crash",
    "Push",
    "ReceiveAppend",
    "RequestSync",
    "ForgetRequest",
    "AnswerSync",
    "ReceiveSyncResponse",
    "ReceiveBadRange",
];

/// The actions of `Next` the implementation never takes, and why.
pub const NOT_TAKEN: &[(&str, &str)] = &[
    ("ReportUnsynced", "canary AckBeforeDurable only: a correct replica reports its durable tail"),
    ("Drop", "the network's: the simulator loses messages; msgs is not mapped"),
];

fn write_entries(f: &mut fmt::Formatter<'_>, entries: &[u64]) -> fmt::Result {
    match entries {
        [] => write!(f, "no entries"),
        [one] => write!(f, "entry t{one}"),
        [first, .., last] => write!(f, "{} entries t{first}..t{last}", entries.len()),
    }
}

impl fmt::Display for EntriesMsg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "from n{} in term {}", self.from, self.term)?;
        if self.id > 0 {
            write!(f, " for request {}", self.id)?;
        }
        write!(f, ": after {}@t{}, ", self.prev, self.prev_term)?;
        write_entries(f, &self.entries)?;
        write!(f, ", commit {}", self.commit)
    }
}

impl fmt::Display for HeartbeatMsg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let HeartbeatMsg { from, term, tail_index, tail_term, commit } = self;
        write!(f, "heartbeat of n{from} in term {term}, tail {tail_index}@t{tail_term}, ")?;
        write!(f, "commit {commit}")
    }
}

impl fmt::Display for Action {
    /// As the spec writes the action: `AdvanceCommit(n2, 7)`, a message by its fields.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name();
        match self {
            Action::UpdateTerm { n, t } | Action::StandTransfer { n, t } => {
                write!(f, "{name}(n{n}, {t})")
            }
            Action::RequestVotes { n, transfer } => write!(f, "{name}(n{n}, {transfer})"),
            Action::GrantVote { n, m } => {
                let VoteRequestMsg { from, term, last_index, last_term, transfer } = m;
                let kind = if *transfer { "transfer request" } else { "request" };
                write!(f, "{name}(n{n}, {kind} of n{from} in term {term}, ")?;
                write!(f, "last {last_index}@t{last_term})")
            }
            Action::SendGrant { n, c, t } => write!(f, "{name}(n{n}, n{c}, {t})"),
            Action::ReceiveGrant { n, from, term } => {
                write!(f, "{name}(n{n}, grant of n{from} in term {term})")
            }
            Action::Follow { n, m } | Action::LeadersMeet { n, m } => {
                write!(f, "{name}(n{n}, {m})")
            }
            Action::FollowPromoted { n, q } => write!(f, "{name}(n{n}, n{q})"),
            Action::Persisted { n, k } => write!(f, "{name}(n{n}, {k})"),
            Action::CountAppended { n, m } => {
                let ReportMsg { from, term, index, last } = m;
                write!(f, "{name}(n{n}, report of n{from} in term {term}: {index}@t{last})")
            }
            Action::AdvanceCommit { n, i } | Action::AckWrite { n, i } | Action::Trim { n, i } => {
                write!(f, "{name}(n{n}, {i})")
            }
            Action::Push { l, n, p } => write!(f, "{name}(n{l}, n{n}, {p})"),
            Action::ReceiveAppend { n, m, apply } => {
                let applied = if *apply { "" } else { ", not applied" };
                write!(f, "{name}(n{n}, append {m}{applied})")
            }
            Action::RequestSync { n, since } => write!(f, "{name}(n{n}, {since})"),
            Action::ForgetRequest { n, id } => write!(f, "{name}(n{n}, {id})"),
            Action::AnswerSync { l, m } => {
                let SyncRequestMsg { from, term, id, since } = m;
                write!(f, "{name}(n{l}, request {id} of n{from} in term {term} after {since})")
            }
            Action::ReceiveSyncResponse { n, m } => write!(f, "{name}(n{n}, response {m})"),
            Action::ReceiveBadRange { n, m } => {
                let BadRangeMsg { from, term, id, since, floor, floor_term } = m;
                write!(f, "{name}(n{n}, BadRange of n{from} in term {term} for request {id} ")?;
                write!(f, "after {since}: floor {floor}@t{floor_term})")
            }
            Action::Timeout { n }
            | Action::StepDown { n }
            | Action::Stand { n }
            | Action::BecomeLeader { n }
            | Action::Heartbeat { n }
            | Action::ClientWrite { n }
            | Action::ReportProgress { n }
            | Action::Crash { n } => write!(f, "{name}(n{n})"),
        }
    }
}
