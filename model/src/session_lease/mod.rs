//! Leadership by a session-bound lock plus a lease row, with zombie preemption (issue 22): the
//! design PostgreSQL advisory locks invite, and ZooKeeper ephemeral nodes and etcd leases alike.
//!
//! A node leads by taking a lock that belongs to its store session (a non-blocking try); the
//! server frees the lock when the session ends. The leader keeps a lease row (holder,
//! generation, acquired_at, lease_until) and refreshes it every check interval in one critical
//! section with the validation that its session still holds the lock. A standby whose try fails
//! but finds the row expired treats the holder as a zombie: it terminates the holder's session
//! (guarded by the row it read, so a holder that refreshed meanwhile is spared) and tries again.
//! `lease_until` is the writer's own clock plus the ttl.
//!
//! As described, that design lets two nodes act as leader at once: when the leader's session
//! ends (a cut past the keepalive, a connection reset) the lock is free at once and a standby
//! takes it, while the old leader acts on its last validation until its next one fails; a
//! paused leader wakes up a zombie. The harness finds it (canary `described-design`). The fix
//! here is both halves of the smallest closure: belief bounded by the lease (a leader acts only
//! until `lease_until - margin` of its last validated write; a new holder writes its row, and so
//! leads, only once the previous holder's row has run out plus the margin), and the row's
//! generation as a fencing token on every protected write, so a write sent in time but delivered
//! late is refused. The canaries `unbounded-belief` and `unfenced-writes` drop one half each.

mod machine;
mod refresh;
mod resource;
mod row;
mod takeover;
#[cfg(test)]
mod tests;

pub use machine::{Input, LeaderEvent, LeaderTimer, Output, SessionLeader, Tenure};
pub use resource::{FencedResource, WriteStamp};
pub use row::{LeaseRow, MalformedRow};

use crate::NodeId;

/// Fixed settings of one node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SessionLeaseConfig {
    pub id: NodeId,
    /// The lock whose holder leads.
    pub lock: String,
    /// The store key of the lease row.
    pub row_key: String,
    /// How long a lease runs from the write that takes or refreshes it, local nanoseconds.
    pub ttl_ns: u64,
    /// Covers the clock error between any two nodes (offsets plus drift over a run),
    /// nanoseconds: a leader stops acting this much before its `lease_until`, a new holder
    /// starts this much after the previous one's, and a standby preempts only this much after.
    pub margin_ns: u64,
    /// How often a leader validates and refreshes, and a standby tries the lock, local ns.
    pub check_interval_ns: u64,
    /// A deliberately broken variant, for proving the checks bite.
    pub canary: Option<SessionLeaseCanary>,
}

/// The design's known mistakes, and the design as described (without the fix).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SessionLeaseCanary {
    /// The design as the issue describes it: leadership lasts until a validation fails, a new
    /// holder leads at once, protected writes carry no token.
    DescribedDesign,
    /// The fix without its time bound: fenced writes, but belief as described.
    UnboundedBelief,
    /// The fix without its fencing token: bounded belief, unfenced writes.
    UnfencedWrites,
    /// A standby judges the holder's lease by `acquired_at + ttl`, ignoring its refreshes.
    PreemptValidLease,
    /// The leader refreshes its row on a pooled connection, never checking the lock.
    RefreshWithoutValidation,
    /// The leader validates on a pooled connection that *someone* holds the lock, then
    /// refreshes there.
    ValidateOnOtherConnection,
}

impl SessionLeaseCanary {
    pub const ALL: [SessionLeaseCanary; 6] = [
        SessionLeaseCanary::DescribedDesign,
        SessionLeaseCanary::UnboundedBelief,
        SessionLeaseCanary::UnfencedWrites,
        SessionLeaseCanary::PreemptValidLease,
        SessionLeaseCanary::RefreshWithoutValidation,
        SessionLeaseCanary::ValidateOnOtherConnection,
    ];

    /// The kebab-case name on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            SessionLeaseCanary::DescribedDesign => "described-design",
            SessionLeaseCanary::UnboundedBelief => "unbounded-belief",
            SessionLeaseCanary::UnfencedWrites => "unfenced-writes",
            SessionLeaseCanary::PreemptValidLease => "preempt-valid-lease",
            SessionLeaseCanary::RefreshWithoutValidation => "refresh-without-validation",
            SessionLeaseCanary::ValidateOnOtherConnection => "validate-on-other-connection",
        }
    }

    /// One line on the bug.
    pub const fn description(self) -> &'static str {
        match self {
            SessionLeaseCanary::DescribedDesign => {
                "the design as described: lead until a validation fails, at once, unfenced"
            }
            SessionLeaseCanary::UnboundedBelief => {
                "fenced writes, but lead until a validation fails and take over at once"
            }
            SessionLeaseCanary::UnfencedWrites => {
                "belief bounded by the lease, but protected writes carry no token"
            }
            SessionLeaseCanary::PreemptValidLease => {
                "a standby judges the lease by acquired_at + ttl, ignoring refreshes"
            }
            SessionLeaseCanary::RefreshWithoutValidation => {
                "the row is refreshed on a pooled connection without checking the lock"
            }
            SessionLeaseCanary::ValidateOnOtherConnection => {
                "validation asks a pooled connection whether anyone holds the lock"
            }
        }
    }

    /// True when the canary's leader acts until a validation fails, and a new holder leads as
    /// soon as it has the lock (the design as described).
    pub const fn unbounded_belief(canary: Option<Self>) -> bool {
        matches!(canary, Some(Self::DescribedDesign | Self::UnboundedBelief))
    }

    /// True when protected writes carry the row's generation as a fencing token.
    pub const fn fenced(canary: Option<Self>) -> bool {
        !matches!(canary, Some(Self::DescribedDesign | Self::UnfencedWrites))
    }
}
