//! The `tikv-raft` scenario: three voters and a client under swarm faults, checked after
//! every step, converging once the faults heal.

use crate::canary::RaftCanary;
use crate::checks::Checks;
use crate::client::Client;
use crate::node::{Promise, RaftNode, CLIENT, VOTERS};
use crate::promises::DurablePromises;
use crate::voter::Voter;
use fencepost::sim::aim::{AFTER_SEND, FSYNC_WINDOW};
use fencepost::sim::faults::{FaultKind, SwarmProfile};
use fencepost::sim::time::{millis, secs};
use fencepost::sim::{Context, NodeId, RunLimits, Scenario, View, Violation};

/// Faults strike within this window, true ns.
const FAULT_WINDOW_NS: u64 = secs(10);
/// The safety phase: the faults' window and a little more, true ns. The client starts no
/// write after it (by its own clock).
const SAFETY_NS: u64 = secs(12);
/// How long the cluster may take to converge once everything healed, true ns.
const LIVENESS_NS: u64 = secs(10);

/// The moments the voters mark (see `crate::voter`) and the kernel's own, for aimed strikes.
pub const MOMENTS: [&str; 6] =
    [FSYNC_WINDOW, AFTER_SEND, "vote-granted", "append-acked", "became-leader", "write-acked"];

/// The situations the scenario exists to create: a seed range that never reaches one fails.
pub const PROBES: [&str; 7] = [
    "leader-elected",
    "write-acked",
    "write-redirected",
    "write-retried",
    "restarted-from-disk",
    "torn-tail-discarded",
    "suffix-overwritten",
];

/// One run's cluster and its checker.
pub struct RaftScenario {
    canary: Option<RaftCanary>,
    writes_max: u64,
    checks: Checks,
    promises: DurablePromises,
    promises_checked: bool,
}

impl RaftScenario {
    /// The cluster with `canary` switched on, the client starting at most `writes_max` writes.
    pub fn new(canary: Option<RaftCanary>, writes_max: Option<u64>) -> RaftScenario {
        RaftScenario {
            canary,
            writes_max: writes_max.unwrap_or(u64::MAX),
            checks: Checks::default(),
            promises: DurablePromises::default(),
            promises_checked: true,
        }
    }

    /// The same cluster with `DurablePromises` off, to measure what the state checks catch
    /// alone (acknowledged writes are still recorded for `NoAckedWriteLost`).
    pub fn without_promise_checks(mut self) -> RaftScenario {
        self.promises_checked = false;
        self
    }
}

impl Scenario for RaftScenario {
    type Node = RaftNode;

    fn node_count(&self) -> u32 {
        VOTERS + 1
    }

    fn boot(&self, id: NodeId, cx: &mut Context<'_, RaftNode>) -> RaftNode {
        if id == CLIENT {
            return RaftNode::Client(Client::boot(cx, SAFETY_NS, self.writes_max));
        }
        RaftNode::Voter(Box::new(Voter::boot(cx, self.canary)))
    }

    fn check(&mut self, view: &View<'_, RaftNode>) -> Result<(), Violation> {
        self.checks.check(view)
    }

    fn check_promises(
        &mut self,
        view: &View<'_, RaftNode>,
        promises: &[(NodeId, Promise)],
    ) -> Result<(), Violation> {
        if self.promises_checked {
            self.promises.check(view, promises)?;
        }
        self.checks.record_acks(promises);
        Ok(())
    }

    fn converged(&mut self, view: &View<'_, RaftNode>) -> Result<(), Violation> {
        crate::liveness::converged(view)
    }
}

/// Every fault the kernel has for nodes with disks, at the voters (the client is out of
/// reach): loss, duplication, reordering, partitions, clogged links, crashes that lose the
/// unsynced tail or tear it, pauses, clock drift and jumps, slow fsyncs, strikes at moments.
pub fn swarm_profile() -> SwarmProfile {
    let kinds = [
        &FaultKind::NETWORK[..],
        &FaultKind::PROCESS,
        &[FaultKind::ClockDrift, FaultKind::ClockJump, FaultKind::TornWrite],
        &[FaultKind::SlowFsync, FaultKind::AimedStrike],
    ]
    .concat();
    let mut profile = SwarmProfile::new(VOTERS, kinds);
    profile.window_ns = FAULT_WINDOW_NS;
    profile.faults_max = 10;
    profile.drift_ppm_max = 10_000;
    profile.clock_offset_ns_max = millis(500);
    profile.clock_jump_ns_max = secs(1);
    profile.disruption_ns_max = secs(3);
    profile.moments = MOMENTS.to_vec();
    profile
}

/// The run's phases.
pub fn limits() -> RunLimits {
    RunLimits::phases(SAFETY_NS, LIVENESS_NS)
}
