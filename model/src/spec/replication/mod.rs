//! Mirror of `tla/Replication.tla`. [`ReplicationView`] is the spec's state as the simulator
//! sees the real cluster (a refinement mapping); each invariant is a function and each action
//! of `Next` an executable step ([`Action::take`]), registered under its TLA name.
//!
//! The mapping, variable by variable (spec variable in backticks), per node n:
//! - `role`, `currentTerm`, `votedFor`, `leader`, `commitIndex`: the node's own. A node that is
//!   down counts as just recovered (`Crash`): its durable state, `Idle`, commit index at its
//!   log's base.
//! - `log` and `logFloor`: the working log; the spec keeps trimmed entries in the sequence and
//!   marks them with the floor, the view lists the retained entries and the floor's term.
//! - `unsynced`, `durableLog`, `durableFloor`, `durableVote`: the node's disk itself (records
//!   written past the synced prefix; what the synced prefix rebuilds), never the node's own
//!   account of what it synced.
//! - `matched`: the leader's count of each replica's durable tail, while it leads (the spec
//!   keeps a former leader's figures, which nothing reads until `BecomeLeader` resets them).
//! - `outstanding`, `nextRequest`: the replica's sync requests awaiting an answer, and how many
//!   ids it handed out since it started.
//! - `acked`: the writes acknowledged ([`crate::replication::Output::Ack`]), cluster-wide;
//!   `restarts`: the driver's count of crashes.
//! - History variables: `committed` and `grants` ([`History`]), kept by the checker over the run.
//!
//! Not mapped: `msgs` (a received message's fields are the receiving action's arguments; what a
//! message promises durable is checked as it leaves, `DurablePromises`), `votes` (a candidate's
//! count: `BecomeLeader` counts the grants that left instead, from `grants`) and `heldGrants`
//! (grants waiting for their vote's fsync). `AckPolicy` and `Transfers` are constants.

mod actions;
mod conformance;
mod history;
mod invariants;
mod mirror;
#[cfg(test)]
mod tests;
mod view;

pub use actions::{
    Action, BadRangeMsg, EntriesMsg, HeartbeatMsg, ReportMsg, SyncRequestMsg, VoteRequestMsg,
    ACTIONS, NOT_TAKEN,
};
pub use conformance::{first_difference, Conformance, Step};
pub use history::History;
pub use invariants::{
    acked_writes_durable, durable_promises, durable_term_covers_log, election_safety,
    leader_completeness, log_matching, monotonic_commit, no_acked_write_lost, one_vote_per_term,
    state_machine_safety, up_to_date_logs_hold_committed,
};
pub use mirror::{Env, Var};
pub use view::{term_at, Change, DiskRecord, NodeVars, ReplicationView};

use super::{ActionProperty, HistoryInvariant, Invariant};

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

/// Every invariant and property of `Replication.tla` mirrored here; `TypeOK` holds by Rust's
/// types. (Actions: [`ACTIONS`].)
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
