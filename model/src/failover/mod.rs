//! The coordinator of a planned, zero-RPO handover of the primary role (sans-IO).
//!
//! One handover, step by step, every step a message or a timer (so each can be lost, delayed or
//! cut off by a crash, and is retried until answered or its step deadline passes):
//! 1. **Freeze** the primary: it stops minting and answers with its frontier (its last log
//!    position). A member that is not the primary says so, and the handover ends there.
//! 2. **Catch up**: poll the target's durable frontier until it covers the frozen one, up to the
//!    deadline. A target already caught up at the freeze goes on at once.
//! 3. **Demote** the old primary: it gives up the lease, moves to term + 1 and follows the
//!    target. Only then is the target **promoted**: it wins term + 1 (a transfer election, in
//!    which voters waive the up-to-date check) and takes the writer lease under that term, which
//!    fences the old primary's token. Demoting first means the two are never primary at once.
//! 4. At the deadline, `Coordinated` mode **aborts**: the old primary resumes and the target is
//!    left alone (`CatchUpTimedOut`). `Force` mode hands over anyway and reports exactly the
//!    range it skipped; it refuses (and aborts) a target holding nothing of the primary's term,
//!    whose log may have diverged where no count of skipped writes would be exact. Force skips
//!    only writes never acknowledged: if the target lacks any the old primary committed by the
//!    time it stepped down, nothing is promoted (`ForceRefused`) and the replica set elects.
//!
//! A frozen primary that hears nothing more steps down on its own (see `crate::cluster`), so a
//! coordinator that crashes or gives up never leaves the cluster frozen. Replies carry the
//! handover id; a reply of another handover, or one the current step does not wait for, is
//! ignored. Mirrors `tla/Failover.tla` (see `crate::spec::failover`).

use crate::replication::LogPosition;
use crate::NodeId;
use std::fmt;

/// What happens when the target has not caught up by the deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// Give up the lease and follow `new_primary`, which is to lead `term`.
    Demote { handover: u64, new_primary: NodeId, term: u64 },
    /// Win `term`, take the writer lease under it, and lead.
    Promote { handover: u64, term: u64 },
    /// The handover is off: mint again.
    Resume { handover: u64 },
}

/// Member to coordinator.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reply {
    /// The primary's term and its last log position (frozen there, after a `Freeze`).
    Frontier {
        handover: u64,
        term: u64,
        frontier: LogPosition,
    },
    /// Asked to freeze, a member that is not the primary; it names the leader it knows of.
    NotPrimary {
        handover: u64,
        leader_hint: Option<NodeId>,
    },
    /// The durable frontier: the last log position held durably.
    Progress {
        handover: u64,
        durable: LogPosition,
    },
    /// The old primary stepped down; `committed` is its commit index then (final: it commits
    /// nothing more of its own), or None if it no longer led when the demotion came (it
    /// restarted, stepped down, or an election overtook it).
    Demoted {
        handover: u64,
        committed: Option<u64>,
    },
    /// The target leads `term` and holds the lease under it; `led_from` is its log's tail when
    /// it took the lead (what it holds of the old primary's log).
    Promoted {
        handover: u64,
        term: u64,
        led_from: LogPosition,
    },
    Resumed {
        handover: u64,
    },
}

impl Reply {
    fn handover(&self) -> u64 {
        match self {
            Reply::Frontier { handover, .. }
            | Reply::NotPrimary { handover, .. }
            | Reply::Progress { handover, .. }
            | Reply::Promoted { handover, .. }
            | Reply::Demoted { handover, .. }
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
    /// The step `phase` went unanswered for `step_timeout_ns`.
    GiveUp { handover: u64, phase: u64 },
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
    Send {
        to: NodeId,
        request: Request,
    },
    SetTimer {
        after_local_ns: u64,
        timer: FailoverTimer,
    },
    Done(HandoverResult),
    /// The spec action (`tla/Failover.tla`) the coordinator just took: a pure statement of the
    /// step, for a checker to hold against the spec; nothing to carry out.
    Action(crate::spec::failover::Action),
}

/// How a handover ended.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HandoverResult {
    /// The target leads `term`. `skipped` writes (indices `reached + 1 ..= frontier`) did not
    /// reach it: always 0 in `Coordinated` mode.
    HandedOver { term: u64, frontier: u64, reached: u64, skipped: u64, waited_ns: u64 },
    /// The old primary was demoted and the target told to lead `term`, but it never confirmed.
    /// Should it win `term` after all, it holds `reached` and `skipped` writes are lost.
    PromotionUnconfirmed { term: u64, frontier: u64, reached: u64, skipped: u64 },
    /// The catch-up missed its deadline (or, forced, the target held nothing of the primary's
    /// term); the old primary mints again.
    CatchUpTimedOut { frontier: u64, reached: u64, waited_ns: u64 },
    /// The member asked to freeze is not the primary.
    NotPrimary { asked: NodeId, leader_hint: Option<NodeId> },
    /// A step went unanswered past its deadline (`freeze` or `demote`); nothing was promoted.
    Abandoned { step: &'static str },
    /// Forced, but the target lacked writes the old primary had committed (acknowledged) by
    /// the time it stepped down: forcing would lose them, so nothing was promoted and the
    /// replica set elects a new primary.
    ForceRefused { committed: u64, reached: u64 },
    /// The old primary no longer led when it was demoted (a crash, or an election overtook the
    /// handover): the replica set has moved on, so nothing was promoted.
    Overtaken,
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
            HandoverResult::PromotionUnconfirmed { term, skipped, .. } => write!(
                f,
                "old primary demoted; the target never confirmed leading term {term} \
                 (it would skip {skipped} writes)"
            ),
            HandoverResult::CatchUpTimedOut { frontier, reached, waited_ns } => write!(
                f,
                "catch-up timed out after {waited_ns} ns at {reached} of {frontier}; primary resumed"
            ),
            HandoverResult::NotPrimary { asked, leader_hint: Some(hint) } => {
                write!(f, "node {asked} is not the primary (it follows node {hint})")
            }
            HandoverResult::NotPrimary { asked, leader_hint: None } => {
                write!(f, "node {asked} is not the primary")
            }
            HandoverResult::Abandoned { step } => {
                write!(f, "abandoned: the {step} step went unanswered; nothing was promoted")
            }
            HandoverResult::ForceRefused { committed, reached } => write!(
                f,
                "force refused: the target holds {reached} of {committed} committed writes; \
                 the old primary stepped down and the set elects"
            ),
            HandoverResult::Overtaken => write!(
                f,
                "overtaken: the old primary had lost its lead before the demotion; nothing was \
                 promoted"
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
    PromoteBeforeDemoted,
    ProgressFromWorkingLog,
}

impl FailoverCanary {
    pub const ALL: [FailoverCanary; 7] = [
        FailoverCanary::NoFreeze,
        FailoverCanary::CommitBeforeFrontier,
        FailoverCanary::NoTermBump,
        FailoverCanary::UnderReportSkipped,
        FailoverCanary::OldPrimaryNotDemoted,
        FailoverCanary::PromoteBeforeDemoted,
        FailoverCanary::ProgressFromWorkingLog,
    ];

    /// The kebab-case name on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            FailoverCanary::NoFreeze => "no-freeze",
            FailoverCanary::CommitBeforeFrontier => "commit-before-frontier",
            FailoverCanary::NoTermBump => "no-term-bump",
            FailoverCanary::UnderReportSkipped => "under-report-skipped",
            FailoverCanary::OldPrimaryNotDemoted => "old-primary-not-demoted",
            FailoverCanary::PromoteBeforeDemoted => "promote-before-demoted",
            FailoverCanary::ProgressFromWorkingLog => "progress-from-working-log",
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
            FailoverCanary::PromoteBeforeDemoted => {
                "promotes the target as it demotes the old primary, not once the demotion is done"
            }
            FailoverCanary::ProgressFromWorkingLog => {
                "the target reports its working log as caught up, before its fsync"
            }
        }
    }
}

/// Settings of the coordinator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoordinatorConfig {
    /// How long to wait for an answer before asking again, and the catch-up poll interval,
    /// local nanoseconds.
    pub retry_ns: u64,
    /// How long a step other than the catch-up may go unanswered before the coordinator gives
    /// up on it, local nanoseconds.
    pub step_timeout_ns: u64,
    /// Distinguishes this coordinator's handover ids from an earlier incarnation's (draw it at
    /// random at start): a late answer to a crashed coordinator must not pass for an answer.
    pub incarnation: u32,
    pub canary: Option<FailoverCanary>,
}

/// Where a handover stands. `term` is the term the target is to lead.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    Freezing,
    CatchingUp { term: u64, frontier: LogPosition, reached: LogPosition, frozen_at_ns: u64 },
    Demoting { handover: Handover },
    Promoting { handover: Handover },
    Resuming { result: HandoverResult },
}

/// A handover decided on: the target leads `term`; `reached` is what it held at the decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Handover {
    term: u64,
    frontier: LogPosition,
    reached: LogPosition,
    waited_ns: u64,
}

mod coordinator;
pub use coordinator::Coordinator;
