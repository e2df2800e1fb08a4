//! Log replication: a leader ships an append-only log to replicas, as a replicated event log does
//! in production. Mirrors `tla/Replication.tla` (see `crate::spec::replication`).
//!
//! One [`Node`] per member of the replica set, driven sans-IO:
//! `handle(now_local_ns, input, &mut out)`. The protocol, in one paragraph per concern:
//!
//! - **Roles and terms.** A node is [`Role::Leader`], [`Role::Replica`] (it follows a believed
//!   leader of its current term), [`Role::Candidate`] (it lost its leader) or [`Role::Idle`]
//!   (it knows no leader: just started, or moved to a newer term). Every message carries the
//!   sender's term. A node adopts a newer term from leader heartbeats, votes, appends and sync
//!   traffic (never from a non-leader's heartbeat, which is gossip for the standing rule).
//! - **Heartbeats and elections** (`election.rs`). Every member broadcasts a heartbeat (role,
//!   term, tail, commit) every `heartbeat_interval_ns`. A non-leader that misses
//!   `miss_threshold` of its leader's heartbeats becomes a candidate; it stands at once only if
//!   it is the best of the peers heard from recently (most up-to-date log, then lowest id),
//!   otherwise after a delay derived from its id. Standing moves to term + 1 and votes for
//!   itself; the vote requests leave only once that vote is durable. A voter votes once per
//!   term, durably and before its reply leaves, and only for a log at least as up to date as
//!   its own (last term, then last index). A majority makes a leader, which appends a barrier
//!   entry of its term. Two leaders that meet converge: higher term, then higher tail, then
//!   lower id wins (equal terms are counted in [`ReplicationStats`]).
//! - **Writes** (`writes.rs`). The leader appends a client write, persists it, pushes it to the
//!   replicas and acknowledges it per [`AckPolicy`]. Replicas report their durable tail (in
//!   append acks and sync requests); the leader counts a report only when the reported
//!   (index, term) is in its own log, so a divergent replica never counts.
//! - **Replicas** (`replica.rs`). Pushed entries are taken only from a sender whose term is at
//!   least ours (a lower-term message never truncates); a conflicting suffix (same index,
//!   different term) is replaced by the leader's entries.
//! - **Catch-up** (`catchup.rs`). A replica behind its leader's advertised tail pulls with
//!   `SyncRequest`; answers are accepted only from the believed leader, in its term, for a
//!   request still outstanding. Empty answers while the leader says it has more back off
//!   exponentially; lost requests time out and are retried.
//! - **Durability** (`node.rs`). The node never writes to disk: it emits
//!   [`Output::Persist`] and learns of the fsync from [`Input::Persisted`]. Only then does an
//!   entry count as durably appended. [`Node::recover`] rebuilds a node from the records that
//!   survived a crash.
//! - **Retention** (`log.rs`, `writes.rs`). Once a log holds more than `retain_entries_max`
//!   entries, committed entries are trimmed from the front down to half that. A replica that
//!   asks below a leader's first retained entry is told so and skips ahead in one round trip.

mod catchup;
mod election;
mod handover;
mod log;
mod messages;
mod node;
mod replica;
#[cfg(test)]
mod tests;
mod writes;

pub use log::{DurableState, Log};
pub use messages::{
    Entry, Input, LogPosition, Message, NackReason, Output, ReplTimer, StableRecord,
};
pub use node::{AckedWrite, Node};

use crate::NodeId;

/// When the leader acknowledges a client write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum AckPolicy {
    /// Once the leader's own append is durable: fast, and a leader crash can lose the write.
    Leader,
    /// Once a majority of members, the leader included, have appended it durably (the write is
    /// committed). `AckedWritesDurable` holds under this policy.
    #[default]
    Quorum,
}

/// Fixed settings of one member. Every member of a replica set must use the same `members`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicationConfig {
    /// The replica set. Messages from anyone else are dropped and counted.
    pub members: Vec<NodeId>,
    /// How often every member broadcasts its heartbeat, local nanoseconds.
    pub heartbeat_interval_ns: u64,
    /// How many consecutive heartbeat intervals without a heartbeat from its leader make a
    /// non-leader a candidate; also how many intervals a peer counts as "heard recently".
    pub miss_threshold: u32,
    /// How long a candidate waits before standing (again) when it was not the best choice or
    /// its election failed, local nanoseconds; `election_stagger_ns` per member rank is added.
    pub election_retry_ns: u64,
    /// Added to `election_retry_ns` once per rank of the node's id among the members, local
    /// nanoseconds: the deterministic backoff that keeps candidates from duelling.
    pub election_stagger_ns: u64,
    /// A node that lost its leader stands at once when it is the best choice among the peers
    /// heard recently (else it waits like the others): fast failover, fewer split votes.
    pub best_stands_at_once: bool,
    /// How long a replica waits for the answer to a sync request before asking again, local
    /// nanoseconds.
    pub sync_timeout_ns: u64,
    /// The first backoff after empty sync answers, local nanoseconds.
    pub sync_backoff_ns_min: u64,
    /// The longest backoff, local nanoseconds; each backoff doubles the next up to this.
    pub sync_backoff_ns_max: u64,
    /// At most this many entries in one sync response.
    pub sync_entries_max: usize,
    /// A leader answers at most this many sync requests per heartbeat interval; beyond that it
    /// answers `Backpressure`.
    pub sync_responses_per_interval_max: u32,
    /// Once a log holds more than this many entries, committed entries are trimmed from the
    /// front until half of it remains (never an uncommitted entry). At least 1.
    pub retain_entries_max: usize,
    /// A leader holds at most this many unacknowledged client writes; beyond that it rejects.
    pub pending_writes_max: usize,
    /// At most this many `Persist` outputs awaiting their `Persisted`; beyond that a leader
    /// rejects writes and a replica drops pushed entries (it catches up later).
    pub unsynced_persists_max: usize,
    /// When client writes are acknowledged.
    pub ack_policy: AckPolicy,
    /// A deliberately broken variant, for proving the checks bite.
    pub canary: Option<ReplicationCanary>,
    /// A broken variant of the handover, on the member's side of it (`no-term-bump`).
    pub handover_canary: Option<crate::failover::FailoverCanary>,
    /// The failover coordinator: the only node whose handover requests a member takes (None:
    /// the member takes part in no handover and drops every request).
    pub coordinator: Option<NodeId>,
}

impl ReplicationConfig {
    /// Defaults for a replica set: 100 ms heartbeats, 3 misses, 1 s to 30 s sync backoff.
    pub fn new(members: Vec<NodeId>) -> ReplicationConfig {
        const MS: u64 = 1_000_000;
        ReplicationConfig {
            members,
            heartbeat_interval_ns: 100 * MS,
            miss_threshold: 3,
            election_retry_ns: 300 * MS,
            election_stagger_ns: 150 * MS,
            best_stands_at_once: true,
            sync_timeout_ns: 500 * MS,
            sync_backoff_ns_min: 1_000 * MS,
            sync_backoff_ns_max: 30_000 * MS,
            sync_entries_max: 64,
            sync_responses_per_interval_max: 64,
            retain_entries_max: 1_024,
            pending_writes_max: 256,
            unsynced_persists_max: 1_024,
            ack_policy: AckPolicy::Quorum,
            canary: None,
            handover_canary: None,
            coordinator: None,
        }
    }

    /// How many members make a majority.
    pub fn quorum(&self) -> usize {
        self.members.len() / 2 + 1
    }
}

/// What a node is doing.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
pub enum Role {
    Leader,
    Replica,
    Candidate,
    /// Knows no leader: just started, or moved to a newer term.
    #[default]
    Idle,
}

/// Counters of events worth reporting; none of them steers the protocol.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ReplicationStats {
    /// Messages from outside the replica set, dropped.
    pub dropped_non_member: u64,
    /// Two leaders of the same term met (the votes should make this impossible).
    pub equal_term_leader_meetings: u64,
    /// Sync responses and nacks refused: not from the believed leader in its term, or not for a
    /// request still outstanding on that channel.
    pub rejected_responses: u64,
    /// Pushed entries refused: from a lower term, or not matching our log at `prev`.
    pub rejected_appends: u64,
    /// Catch-up backoffs started (after empty responses or a `Backpressure` nack).
    pub backoffs: u64,
    /// Skip-aheads after a `BadRange` nack.
    pub skip_aheads: u64,
    /// Sync requests that timed out unanswered.
    pub sync_timeouts: u64,
    /// Conflicting suffixes replaced by a leader's entries.
    pub truncations: u64,
    /// Elections this node stood in.
    pub elections_started: u64,
    /// Votes this node granted.
    pub votes_granted: u64,
    /// Vote requests of another candidate for the very term this node stands in (same-term
    /// contention: two or more candidates split one term's votes).
    pub contended_elections: u64,
    /// `Backpressure` nacks this node sent as leader.
    pub backpressure_sent: u64,
    /// `NotLeader` nacks this node received.
    pub not_leader_received: u64,
    /// `Persisted` inputs naming a persist id never issued (ignored).
    pub unknown_persisted: u64,
}

/// Deliberately broken variants, each at the place the real bug lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReplicationCanary {
    AcceptFromNonLeader,
    SkipRequestIdCorrelation,
    NoDualLeaderConvergence,
    TruncateOnLowerTerm,
    AckBeforeDurable,
    ElectionWithoutTermBump,
    GrantBeforeDurable,
    RecoverForgetsVote,
    VoteWithoutLogCheck,
    CountOwnUnsyncedAppend,
    TermNotDurable,
    NoPeerAuth,
}

impl ReplicationCanary {
    pub const ALL: [ReplicationCanary; 12] = [
        ReplicationCanary::AcceptFromNonLeader,
        ReplicationCanary::SkipRequestIdCorrelation,
        ReplicationCanary::NoDualLeaderConvergence,
        ReplicationCanary::TruncateOnLowerTerm,
        ReplicationCanary::AckBeforeDurable,
        ReplicationCanary::ElectionWithoutTermBump,
        ReplicationCanary::GrantBeforeDurable,
        ReplicationCanary::RecoverForgetsVote,
        ReplicationCanary::VoteWithoutLogCheck,
        ReplicationCanary::CountOwnUnsyncedAppend,
        ReplicationCanary::TermNotDurable,
        ReplicationCanary::NoPeerAuth,
    ];

    /// The kebab-case name on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            ReplicationCanary::AcceptFromNonLeader => "accept-from-non-leader",
            ReplicationCanary::SkipRequestIdCorrelation => "skip-request-id-correlation",
            ReplicationCanary::NoDualLeaderConvergence => "no-dual-leader-convergence",
            ReplicationCanary::TruncateOnLowerTerm => "truncate-on-lower-term",
            ReplicationCanary::AckBeforeDurable => "ack-before-durable",
            ReplicationCanary::ElectionWithoutTermBump => "election-without-term-bump",
            ReplicationCanary::GrantBeforeDurable => "grant-before-durable",
            ReplicationCanary::RecoverForgetsVote => "recover-forgets-vote",
            ReplicationCanary::VoteWithoutLogCheck => "vote-without-log-check",
            ReplicationCanary::CountOwnUnsyncedAppend => "count-own-unsynced-append",
            ReplicationCanary::TermNotDurable => "term-not-durable",
            ReplicationCanary::NoPeerAuth => "no-peer-auth",
        }
    }

    /// The value of the `Canary` constant in `tla/Replication_<name>.cfg`.
    pub const fn spec_name(self) -> &'static str {
        match self {
            ReplicationCanary::AcceptFromNonLeader => "AcceptFromNonLeader",
            ReplicationCanary::SkipRequestIdCorrelation => "SkipRequestIdCorrelation",
            ReplicationCanary::NoDualLeaderConvergence => "NoDualLeaderConvergence",
            ReplicationCanary::TruncateOnLowerTerm => "TruncateOnLowerTerm",
            ReplicationCanary::AckBeforeDurable => "AckBeforeDurable",
            ReplicationCanary::ElectionWithoutTermBump => "ElectionWithoutTermBump",
            ReplicationCanary::GrantBeforeDurable => "GrantBeforeDurable",
            ReplicationCanary::RecoverForgetsVote => "RecoverForgetsVote",
            ReplicationCanary::VoteWithoutLogCheck => "VoteWithoutLogCheck",
            ReplicationCanary::CountOwnUnsyncedAppend => "CountOwnUnsyncedAppend",
            ReplicationCanary::TermNotDurable => "TermNotDurable",
            ReplicationCanary::NoPeerAuth => "NoPeerAuth",
        }
    }

    /// One line on the bug.
    pub const fn description(self) -> &'static str {
        match self {
            ReplicationCanary::AcceptFromNonLeader => {
                "a replica applies a sync response from a peer that is not its leader"
            }
            ReplicationCanary::SkipRequestIdCorrelation => {
                "a replica applies sync answers without matching them to an outstanding request"
            }
            ReplicationCanary::NoDualLeaderConvergence => {
                "leaders that meet both keep leading (the loser only adopts the winner's term)"
            }
            ReplicationCanary::TruncateOnLowerTerm => {
                "a replica applies pushed entries from a lower term, truncating its suffix"
            }
            ReplicationCanary::AckBeforeDurable => {
                "appends count as acknowledged (leader and replicas) before they are durable"
            }
            ReplicationCanary::ElectionWithoutTermBump => {
                "a candidate stands in its current term instead of term + 1"
            }
            ReplicationCanary::GrantBeforeDurable => {
                "a voter's grant leaves before its vote is on disk"
            }
            ReplicationCanary::RecoverForgetsVote => {
                "a restarted node recovers its term but not the vote it cast in it"
            }
            ReplicationCanary::VoteWithoutLogCheck => {
                "a voter grants without checking the candidate's log is as up to date as its own"
            }
            ReplicationCanary::CountOwnUnsyncedAppend => {
                "the leader counts its own append towards the quorum before its fsync"
            }
            ReplicationCanary::TermNotDurable => {
                "a node adopting a newer term without a vote never writes the term to disk"
            }
            ReplicationCanary::NoPeerAuth => {
                "the peer-authentication gate lets in messages from nodes outside the replica set"
            }
        }
    }
}
