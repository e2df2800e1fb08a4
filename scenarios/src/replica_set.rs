//! The replica set's half of a checker, shared by `replication` and `cluster`: maps the
//! members onto `Replication.tla`'s variables every step and checks its invariants.

use crate::spec_check::check_step;
use model::replication::{
    AckPolicy, Node as Member, ReplicationConfig, ReplicationStats, StableRecord,
};
use model::spec::replication::{self as spec, ReplicationView};
use sim::disk::Disk;
use sim::faults::{FaultPlan, SwarmProfile};
use sim::rng::Stream;
use sim::time::{millis, MILLISECOND};
use sim::{Context, Node, Violation};

/// A member as a checker sees it: up (its state and the (index, term) of every write its
/// current incarnation acknowledged), or down.
pub enum Seen<'a> {
    Up(&'a Member, &'a [(u64, u64)]),
    Down(&'a Disk<StableRecord>),
}

/// The spec's view of the replica set, refreshed every step (buffers reused).
pub struct ReplicaSetView {
    config: ReplicationConfig,
    /// Per member: how many of its current incarnation's acks the view holds.
    collected: Vec<usize>,
    /// Per member: its state as recovered from disk while it is down (None while up).
    down: Vec<Option<Member>>,
    /// The spec's variables after the last step and the step before.
    pub current: ReplicationView,
    previous: ReplicationView,
    checked_once: bool,
}

impl ReplicaSetView {
    pub fn new(config: ReplicationConfig, ack_policy: AckPolicy) -> ReplicaSetView {
        let members = config.members.len();
        let view = ReplicationView::new(members, ack_policy);
        ReplicaSetView {
            config,
            collected: vec![0; members],
            down: vec![None; members],
            previous: view.clone(),
            current: view,
            checked_once: false,
        }
    }

    /// Maps the members onto the spec's variables in `self.current`: collects new acks, counts
    /// crashes (the spec's `Crash` increments `restarts`), and shows a down member as it would
    /// recover.
    pub fn refresh<'a>(&mut self, seen: impl Fn(u32) -> Seen<'a>) {
        std::mem::swap(&mut self.current, &mut self.previous);
        let spec_view = &mut self.current;
        spec_view.acked.clone_from(&self.previous.acked);
        for n in 0..self.collected.len() {
            let id = n as u32;
            let restarts = self.previous.restarts[n];
            match seen(id) {
                Seen::Up(member, acked) => {
                    if self.down[n].take().is_some() {
                        self.collected[n] = 0; // a new incarnation
                    }
                    spec_view.acked.extend_from_slice(&acked[self.collected[n]..]);
                    self.collected[n] = acked.len();
                    spec_view.set_node(member, restarts);
                }
                Seen::Down(disk) => {
                    let restarts = restarts + u64::from(self.down[n].is_none());
                    let recovered = self.down[n].get_or_insert_with(|| {
                        let durable = &disk.records()[..disk.synced_len()];
                        Member::recover(self.config.clone(), id, durable)
                    });
                    spec_view.set_node(recovered, restarts);
                }
            }
        }
        // Writes at or below every durable floor are out of both checks' scope for good
        // (durable floors never fall): forgetting them keeps each check short.
        let floor = spec_view.durable_floor.iter().copied().min().unwrap_or(0);
        spec_view.acked.retain(|(index, _)| *index > floor);
    }

    /// Member `id` as it would recover, while it is down.
    pub fn recovered(&self, id: u32) -> Option<&Member> {
        self.down[id as usize].as_ref()
    }

    /// Checks the spec's invariants and action properties on the refreshed view; skipped when
    /// nothing the spec sees changed (most steps: heartbeats).
    pub fn check(&mut self) -> Result<(), Violation> {
        let next = &self.current;
        if self.checked_once && *next == self.previous {
            return Ok(());
        }
        let previous = self.checked_once.then_some(&self.previous);
        check_step(spec::INVARIANTS, spec::ACTION_PROPERTIES, previous, next)?;
        self.checked_once = true;
        Ok(())
    }
}

/// Probes for the protocol's rarer paths, from the counters a step moved.
pub fn probe_stats<N: Node>(
    cx: &mut Context<'_, N>,
    before: &ReplicationStats,
    after: &ReplicationStats,
) {
    let moved = [
        (before.elections_started, after.elections_started, "election-started"),
        (before.truncations, after.truncations, "suffix-truncated"),
        (before.skip_aheads, after.skip_aheads, "skip-ahead"),
        (before.backoffs, after.backoffs, "sync-backoff"),
        (before.sync_timeouts, after.sync_timeouts, "sync-timeout"),
        (before.backpressure_sent, after.backpressure_sent, "backpressure-sent"),
        (before.rejected_appends, after.rejected_appends, "append-rejected"),
        (before.rejected_responses, after.rejected_responses, "sync-answer-rejected"),
    ];
    for (was, is, probe) in moved {
        if is > was {
            cx.sometimes(probe);
        }
    }
}

/// The seed's swarm plan under `profile`, with realistic fsyncs (0.5 to 10 ms), so crashes do
/// find unsynced records.
pub fn plan_with_fsyncs(seed: u64, profile: &SwarmProfile) -> FaultPlan {
    let mut plan = FaultPlan::swarm(&mut Stream::fork(seed, "faults"), profile);
    plan.disk.sync_latency_ns_min = MILLISECOND / 2;
    plan.disk.sync_latency_ns_max = millis(10);
    plan
}
