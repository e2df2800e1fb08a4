//! The coordinator of a planned, zero-RPO handover of the primary role (sans-IO).
//!
//! One handover, step by step, every step a message or a timer (so each can be lost, delayed or
//! cut off by a crash, and is retried until answered):
//! 1. **Freeze** the primary: it stops minting and answers with its frontier (its last index).
//! 2. **Catch up**: poll the target's durable frontier until it covers the frozen one, up to the
//!    deadline. A target already caught up at the freeze is handed over at once.
//! 3. **Promote** the target in term + 1 (it takes the writer lease under that term, which
//!    fences the old primary's token, and leads), then **demote** the old primary to a replica.
//! 4. At the deadline, `Coordinated` mode **aborts**: the old primary resumes and the target is
//!    left alone (`CatchUpTimedOut`). `Force` mode hands over anyway and reports exactly the
//!    range it skipped.
//!
//! Replies carry the handover id; a reply of another handover, or one the current step does not
//! wait for, is ignored. Mirrors `tla/Failover.tla` once that spec exists (issue 5).

#[cfg(test)]
mod tests;

use crate::NodeId;
use std::fmt;

/// What happens when the target has not caught up by the deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Abort and resume the old primary: no acknowledged write is ever lost.
    Coordinated,
    /// Hand over anyway; the writes the target lacks are reported as skipped.
    Force,
}

/// A handover to carry out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandoverPlan {
    pub primary: NodeId,
    pub target: NodeId,
    pub mode: Mode,
    /// How long the catch-up may take once the primary is frozen, local nanoseconds.
    pub deadline_ns: u64,
}

/// Coordinator to member.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Request {
    /// Stop minting and report your term and frontier.
    Freeze { handover: u64 },
    /// Report your term and frontier, minting on (only the canary `no-freeze` asks this).
    ReadFrontier { handover: u64 },
    /// Report your durable frontier.
    QueryProgress { handover: u64 },
    /// Take the writer lease in `term` and lead.
    Promote { handover: u64, term: u64 },
    /// Step down and replicate from `new_primary`, which leads `term`.
    Demote { handover: u64, new_primary: NodeId, term: u64 },
    /// The handover is off: mint again.
    Resume { handover: u64 },
}

/// Member to coordinator.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reply {
    /// The primary's term and its last minted index (frozen there, after a `Freeze`).
    Frontier {
        handover: u64,
        term: u64,
        frontier: u64,
    },
    /// The durable frontier: the last index held durably.
    Progress {
        handover: u64,
        durable: u64,
    },
    Promoted {
        handover: u64,
        term: u64,
    },
    Demoted {
        handover: u64,
    },
    Resumed {
        handover: u64,
    },
}

impl Reply {
    fn handover(&self) -> u64 {
        match self {
            Reply::Frontier { handover, .. }
            | Reply::Progress { handover, .. }
            | Reply::Promoted { handover, .. }
            | Reply::Demoted { handover }
            | Reply::Resumed { handover } => *handover,
        }
    }
}

/// The coordinator's timers; each names its handover and step, so a stale one is ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailoverTimer {
    /// Ask again: the step's request or its answer may have been lost.
    Retry { handover: u64, step: u64 },
    /// The catch-up deadline.
    Deadline { handover: u64 },
}

/// What drives the coordinator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Start(HandoverPlan),
    Reply { from: NodeId, reply: Reply },
    Timer(FailoverTimer),
}

/// What the coordinator asks its driver to do, or reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    Send { to: NodeId, request: Request },
    SetTimer { after_local_ns: u64, timer: FailoverTimer },
    Done(HandoverResult),
}

/// How a handover ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandoverResult {
    /// The target leads `term`. `skipped` writes (indices `reached + 1 ..= frontier`) did not
    /// reach it: always 0 in `Coordinated` mode.
    HandedOver { term: u64, frontier: u64, reached: u64, skipped: u64, waited_ns: u64 },
    /// `Coordinated` mode gave up at the deadline; the old primary mints again.
    CatchUpTimedOut { frontier: u64, reached: u64, waited_ns: u64 },
    /// A handover was already under way.
    Busy,
}

impl fmt::Display for HandoverResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandoverResult::HandedOver { term, frontier, waited_ns, skipped: 0, .. } => {
                write!(f, "handed over in term {term} at frontier {frontier} after {waited_ns} ns")
            }
            HandoverResult::HandedOver { term, frontier, reached, skipped, .. } => write!(
                f,
                "forced over in term {term}: skipped {skipped} writes ({} to {frontier})",
                reached + 1
            ),
            HandoverResult::CatchUpTimedOut { frontier, reached, waited_ns } => write!(
                f,
                "catch-up timed out after {waited_ns} ns at {reached} of {frontier}; primary resumed"
            ),
            HandoverResult::Busy => write!(f, "a handover is already under way"),
        }
    }
}

/// Deliberately broken variants, each at the place the real bug lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailoverCanary {
    NoFreeze,
    CommitBeforeFrontier,
    NoTermBump,
    UnderReportSkipped,
    OldPrimaryNotDemoted,
}

impl FailoverCanary {
    pub const ALL: [FailoverCanary; 5] = [
        FailoverCanary::NoFreeze,
        FailoverCanary::CommitBeforeFrontier,
        FailoverCanary::NoTermBump,
        FailoverCanary::UnderReportSkipped,
        FailoverCanary::OldPrimaryNotDemoted,
    ];

    /// The kebab-case name on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            FailoverCanary::NoFreeze => "no-freeze",
            FailoverCanary::CommitBeforeFrontier => "commit-before-frontier",
            FailoverCanary::NoTermBump => "no-term-bump",
            FailoverCanary::UnderReportSkipped => "under-report-skipped",
            FailoverCanary::OldPrimaryNotDemoted => "old-primary-not-demoted",
        }
    }

    /// One line on the bug.
    pub const fn description(self) -> &'static str {
        match self {
            FailoverCanary::NoFreeze => "reads the frontier without freezing: writes keep coming",
            FailoverCanary::CommitBeforeFrontier => {
                "coordinated mode hands over before the target reaches the frontier"
            }
            FailoverCanary::NoTermBump => "promotes the target in the old primary's term",
            FailoverCanary::UnderReportSkipped => "forced mode reports one write fewer skipped",
            FailoverCanary::OldPrimaryNotDemoted => "never tells the old primary to step down",
        }
    }
}

/// Settings of the coordinator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoordinatorConfig {
    /// How long to wait for an answer before asking again, and the catch-up poll interval,
    /// local nanoseconds.
    pub retry_ns: u64,
    pub canary: Option<FailoverCanary>,
}

/// Where a handover stands.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    Freezing,
    CatchingUp { term: u64, frontier: u64, reached: u64, frozen_at_ns: u64 },
    Promoting { term: u64, frontier: u64, reached: u64, waited_ns: u64 },
    Demoting { result: HandoverResult },
    Resuming { result: HandoverResult },
}

mod coordinator;
pub use coordinator::Coordinator;
