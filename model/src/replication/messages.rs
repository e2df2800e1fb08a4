//! What crosses a node's boundary: messages between members, inputs, outputs, timers and the
//! records a node asks its caller to make durable.

use super::{AckPolicy, Role};
use crate::promise::Promise;
use crate::NodeId;
use serde::{Deserialize, Serialize};

/// A position in a log: an index and the term of the entry there. The derived order is Raft's
/// "at least as up to date" order on log tails: last term first, then last index.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct LogPosition {
    pub term: u64,
    pub index: u64,
}

impl LogPosition {
    /// The position before the first entry of an empty log.
    pub const ZERO: LogPosition = LogPosition { term: 0, index: 0 };
}

/// One log entry. `(index, term)` identifies it: two logs holding the same pair agree on every
/// entry up to it (`LogMatching`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entry {
    pub index: u64,
    pub term: u64,
    /// The client's id for the write; None for a leader's barrier entry.
    pub write_id: Option<u64>,
    /// Opaque to the protocol.
    pub payload: u64,
}

impl Entry {
    /// The entry's position.
    pub fn position(&self) -> LogPosition {
        LogPosition { term: self.term, index: self.index }
    }
}

/// Why a leader (or a node taken for one) refused a sync request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NackReason {
    /// The addressee is not the leader (of any term).
    NotLeader,
    /// The entries asked for were trimmed: the leader's log starts at `first_retained`, and
    /// `base_term` is the term of the entry just before it (which the replica needs to compare
    /// logs in elections once it treats its log as starting there).
    BadRange { first_retained: u64, base_term: u64 },
    /// The leader is answering too many sync requests; ask again after a backoff.
    Backpressure,
}

/// A message between members. Every message carries the sender's term.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Message {
    /// Broadcast by every member every heartbeat interval.
    Heartbeat { term: u64, role: Role, tail: LogPosition, commit: u64 },
    /// A candidate asks for a vote in `term` (its candidacy's term). A `transfer` candidate
    /// was promoted by a planned handover: voters waive the up-to-date check (the coordinator
    /// froze the old primary and reports any writes the candidate lacks), never the one vote
    /// per term.
    RequestVote { term: u64, last: LogPosition, transfer: bool },
    /// A voter's answer; a grant carries the term voted in.
    VoteReply { term: u64, granted: bool },
    /// The leader pushes new entries that follow `prev` in its log.
    Append { term: u64, prev: LogPosition, entries: Vec<Entry>, commit: u64 },
    /// A replica reports the tail of its durable log to its leader.
    AppendAck { term: u64, durable: LogPosition },
    /// A replica asks its leader for the entries after index `since`, and reports its tail.
    SyncRequest { term: u64, request_id: u64, since: u64, durable: LogPosition },
    /// The leader's entries after `prev` (at most `sync_entries_max`), echoing the request.
    SyncResponse {
        term: u64,
        request_id: u64,
        since: u64,
        prev: LogPosition,
        entries: Vec<Entry>,
        commit: u64,
    },
    /// The leader refused the request `request_id`.
    SyncNack { term: u64, request_id: u64, since: u64, reason: NackReason },
}

impl Message {
    /// The sender's term.
    pub fn term(&self) -> u64 {
        match self {
            Message::Heartbeat { term, .. }
            | Message::RequestVote { term, .. }
            | Message::VoteReply { term, .. }
            | Message::Append { term, .. }
            | Message::AppendAck { term, .. }
            | Message::SyncRequest { term, .. }
            | Message::SyncResponse { term, .. }
            | Message::SyncNack { term, .. } => *term,
        }
    }
}

/// A record the caller must make durable, in output order. Replaying the durable prefix through
/// [`super::Node::recover`] rebuilds the node's durable state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StableRecord {
    /// The current term and the vote cast in it (the latest record wins).
    Vote { term: u64, voted_for: Option<NodeId> },
    /// Append this entry (its index is the log's last index + 1).
    Entry(Entry),
    /// Drop every entry after `after_index` (a conflicting suffix).
    Truncate { after_index: u64 },
    /// Retention: drop the entries up to `base` (committed), keep the rest.
    Trim { base: LogPosition },
    /// Skip-ahead: drop every entry; the log continues after `base`.
    Reset { base: LogPosition },
}

/// A node's timers. Each carries what makes a stale firing recognisable, so there is no
/// cancellation: a firing that no longer matches is ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReplTimer {
    /// Every heartbeat interval: heartbeats, missed-heartbeat count, leader's answer budget.
    Tick { generation: u64 },
    /// A candidate stands (again).
    Election { generation: u64 },
    /// A sync request went unanswered.
    SyncTimeout { request_id: u64 },
    /// A catch-up backoff ends.
    SyncBackoff { generation: u64 },
}

impl ReplTimer {
    /// Packs the timer into one u64 tag (kind in the low 2 bits), for drivers keyed by tags.
    pub fn tag(self) -> u64 {
        let (kind, value) = match self {
            ReplTimer::Tick { generation } => (0, generation),
            ReplTimer::Election { generation } => (1, generation),
            ReplTimer::SyncTimeout { request_id } => (2, request_id),
            ReplTimer::SyncBackoff { generation } => (3, generation),
        };
        debug_assert!(value < 1 << 62, "timer value {value} does not fit a tag");
        value << 2 | kind
    }

    /// The inverse of [`ReplTimer::tag`].
    pub fn from_tag(tag: u64) -> ReplTimer {
        let value = tag >> 2;
        match tag & 3 {
            0 => ReplTimer::Tick { generation: value },
            1 => ReplTimer::Election { generation: value },
            2 => ReplTimer::SyncTimeout { request_id: value },
            _ => ReplTimer::SyncBackoff { generation: value },
        }
    }
}

/// What drives a node. Named after the spec's actions where one exists.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Input {
    /// A message from member `from` (anyone else is dropped and counted).
    Message { from: NodeId, msg: Message },
    /// A timer set with [`Output::SetTimer`] fired.
    Timer(ReplTimer),
    /// Every [`Output::Persist`] with `id <= through` is durable (an fsync covers everything
    /// written before it). Spec action `Persisted`.
    Persisted { through: u64 },
    /// A client asks the leader to append a write. Spec action `ClientWrite`.
    ClientWrite { write_id: u64, payload: u64 },
    /// A request from `from`, taken only if it is the failover coordinator (this node's side
    /// of a planned handover; anyone else's is dropped and counted).
    Failover { from: NodeId, request: crate::failover::Request },
}

/// What a node asks its driver to do, or reports.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Output {
    Send {
        to: NodeId,
        msg: Message,
    },
    SetTimer {
        after_local_ns: u64,
        timer: ReplTimer,
    },
    /// Append `records` to the node's durable log, in order, then fsync and answer with
    /// [`Input::Persisted`]. Ids increase by one from 1 in each incarnation.
    Persist {
        id: u64,
        records: Vec<StableRecord>,
    },
    /// The write is acknowledged per the ack policy, at `(index, term)`.
    Ack {
        write_id: u64,
        index: u64,
        term: u64,
    },
    /// The write was refused: this node is not the leader (`leader_hint` is the leader it
    /// believes in, if any), or it is the leader and is overloaded (`leader_hint` = itself).
    Reject {
        write_id: u64,
        leader_hint: Option<NodeId>,
    },
    /// The answer to a [`Input::Failover`] request, for the coordinator.
    Failover(crate::failover::Reply),
    /// A moment worth a fault (see [`crate::moment`]); nothing to carry out.
    Moment(crate::moment::Moment),
    /// The spec action (`tla/Replication.tla`) the node just took, in the order taken: a pure
    /// statement of the step, for a checker to hold against the spec; nothing to carry out.
    Action(crate::spec::replication::Action),
    /// The same for the node's side of a planned handover (`tla/Failover.tla`).
    FailoverAction(crate::spec::failover::Action),
}

impl Output {
    /// What this output promises is durable when it leaves (see [`crate::promise`]): a vote
    /// grant its vote, an append ack or sync request its reported tail, a caught-up answer its
    /// durable frontier, and under `Quorum` acks an acknowledgement a majority's logs. A vote
    /// request promises the candidate's vote for itself.
    pub fn promise(&self, ack_policy: AckPolicy) -> Option<Promise> {
        let holds = |position: LogPosition| {
            (position != LogPosition::ZERO).then_some(Promise::LogHolds { position })
        };
        match self {
            Output::Send { to, msg: Message::VoteReply { term, granted: true } } => {
                Some(Promise::Vote { term: *term, candidate: *to })
            }
            // A candidate's request carries its own vote (each copy promises the same).
            Output::Send { msg: Message::RequestVote { term, .. }, .. } => {
                Some(Promise::SelfVote { term: *term })
            }
            Output::Send { msg: Message::AppendAck { durable, .. }, .. }
            | Output::Send { msg: Message::SyncRequest { durable, .. }, .. } => holds(*durable),
            Output::Failover(crate::failover::Reply::Progress { durable, .. }) => holds(*durable),
            Output::Ack { index, term, .. } if ack_policy == AckPolicy::Quorum => {
                let position = LogPosition { term: *term, index: *index };
                Some(Promise::QuorumHolds { position })
            }
            _ => None,
        }
    }
}
