//! `cluster`: the whole system. 3 to 5 members elect a leader, which takes the writer lease in
//! its term and replicates a client's writes with quorum acks, stamping each on a protected
//! resource with its fencing token; a coordinator hands the primary role over every few
//! seconds (random target, coordinated or forced, deadlines often too short). Under every
//! swarm fault: partitions, loss, crashes of members and of the coordinator (unplanned
//! failover: the lease expires, the set elects), pauses, clock drift within the lease's margin,
//! torn writes and object-store faults.
//!
//! Checked after every step: the invariants of `Failover.tla`, `Lease.tla` and
//! `Replication.tla` (see `checks.rs`). Liveness `WritesResume`: once faults heal, one member
//! is primary (it leads, holds the lease in its term, is not frozen) and every member holds
//! its log.
//!
//! Node ids: the members, then the coordinator (both within the faults' reach), then the client
//! and the protected resource (outside it).

mod checks;
mod coordinator;
mod member;

use crate::intruder::{Intruder, Intrusion, Untouchable};
use crate::lease::{SAFETY_MARGIN_NS, TTL_NS};
use coordinator::CoordinatorDriver;
use member::{MemberDriver, Peers};
use model::cluster::{Input, Member, MemberConfig};
use model::failover::{FailoverCanary, Reply, Request};
use model::lease::{FencingToken, LeaseConfig, ProtectedResource};
use model::moment::Moment;
use model::promise::Promise;
use model::replication::{self, Message, Node as ReplicaNode, ReplicationConfig, StableRecord};
use sim::faults::{FaultKind, FaultPlan, SwarmProfile};
use sim::rng::Stream;
use sim::storage::StorageReply;
use sim::time::{millis, secs};
use sim::{Context, Node, NodeId, RequestId, RunLimits, Scenario, View, Violation};

/// Messages between members, with the coordinator, the client and the resource.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ClusterMsg {
    Peer(Message),
    Request(Request),
    Reply(Reply),
    Write {
        write_id: u64,
        payload: u64,
    },
    Acked {
        write_id: u64,
    },
    Rejected {
        write_id: u64,
        leader_hint: Option<NodeId>,
    },
    Fenced {
        token: FencingToken,
        payload: u64,
    },
    /// A copy of a member's message that the stranger overheard on the wire.
    Overheard(Message),
}

/// A spec action a node of the cluster declares: of the replica set (`Replication.tla`), of
/// the lease (`Lease.tla`: a member's client, or the resource taking a write) or of a planned
/// handover (`Failover.tla`: the coordinator's, or a member's side of it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClusterAction {
    Replication(model::spec::replication::Action),
    Lease(model::spec::lease::Action),
    Failover(model::spec::failover::Action),
}

/// A node of the cluster scenario.
#[derive(Clone, Debug)]
pub enum ClusterNode {
    Member(Box<MemberDriver>),
    Coordinator(Box<CoordinatorDriver>),
    Client(Client),
    Resource(ProtectedResource),
    /// A node on the network that is no member (`FaultKind::Stranger`).
    Stranger(Intruder),
}

/// The client: a write every 10 to 60 ms to the member it believes is the primary.
#[derive(Clone, Debug, Default)]
pub struct Client {
    members: u32,
    primary_guess: NodeId,
    next_write_id: u64,
    writes_max: u64,
}

impl Client {
    fn tick(&mut self, cx: &mut Context<'_, ClusterNode>) {
        if self.next_write_id >= self.writes_max {
            return; // the plan's cap is reached
        }
        self.next_write_id += 1;
        let payload = cx.rng().below(1 << 32);
        cx.send(self.primary_guess, ClusterMsg::Write { write_id: self.next_write_id, payload });
        let next = cx.rng().between(millis(10), millis(60));
        cx.set_timer(next, 0);
    }

    fn on_reply(&mut self, cx: &mut Context<'_, ClusterNode>, from: NodeId, msg: ClusterMsg) {
        match msg {
            ClusterMsg::Acked { .. } => self.primary_guess = from,
            ClusterMsg::Rejected { leader_hint: Some(hint), .. } => self.primary_guess = hint,
            ClusterMsg::Rejected { .. } => {
                self.primary_guess = cx.rng().below(self.members.into()) as NodeId
            }
            _ => {}
        }
    }
}

impl Node for ClusterNode {
    type Msg = ClusterMsg;
    type Value = Vec<u8>;
    type Record = StableRecord;
    type Promise = Promise;
    type Action = ClusterAction;

    /// The derived `Hash`: faster than the default `Debug` text, and the hashes the tests pin.
    fn hash_message(msg: &Self::Msg, hasher: &mut sim::trace::StableHasher) {
        std::hash::Hash::hash(msg, hasher);
    }

    fn hash_value(value: &Self::Value, hasher: &mut sim::trace::StableHasher) {
        std::hash::Hash::hash(value, hasher);
    }

    fn on_message(&mut self, cx: &mut Context<'_, Self>, from: NodeId, msg: ClusterMsg) {
        use replication::Input as Repl;
        match (self, msg) {
            (ClusterNode::Member(m), ClusterMsg::Peer(msg)) if Some(from) == m.tap_stranger() => {
                let (what, before) = (format!("{msg:?}"), Untouchable::of(m.member.node()));
                m.drive(cx, Input::Replication(Repl::Message { from, msg }));
                m.tap.judge(from, &what, before, Untouchable::of(m.member.node()));
            }
            (ClusterNode::Member(m), ClusterMsg::Peer(msg)) => {
                m.drive(cx, Input::Replication(Repl::Message { from, msg }))
            }
            (ClusterNode::Member(m), ClusterMsg::Request(request))
                if Some(from) == m.tap_stranger() =>
            {
                let (what, before) = (format!("{request:?}"), Untouchable::of(m.member.node()));
                m.drive(cx, Input::Replication(Repl::Failover { from, request }));
                m.tap.judge(from, &what, before, Untouchable::of(m.member.node()));
            }
            (ClusterNode::Member(m), ClusterMsg::Request(request)) => {
                m.drive(cx, Input::Replication(Repl::Failover { from, request }))
            }
            (ClusterNode::Stranger(stranger), ClusterMsg::Overheard(msg)) => stranger.overhear(msg),
            (ClusterNode::Member(m), ClusterMsg::Write { write_id, payload }) => {
                m.drive(cx, Input::Replication(Repl::ClientWrite { write_id, payload }))
            }
            (ClusterNode::Coordinator(c), ClusterMsg::Reply(reply)) => c.on_reply(cx, from, reply),
            (ClusterNode::Client(client), reply) => client.on_reply(cx, from, reply),
            (ClusterNode::Resource(resource), ClusterMsg::Fenced { token, payload }) => {
                // The delivery is the network's doing: declared here, for the resource.
                let deliver = model::spec::lease::Action::Deliver { from, w: token };
                cx.action(ClusterAction::Lease(deliver));
                let accepted = resource.write(token, payload);
                cx.sometimes(if accepted {
                    "fenced-write-accepted"
                } else {
                    "fenced-write-rejected"
                });
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, cx: &mut Context<'_, Self>, tag: u64) {
        match self {
            ClusterNode::Member(m) => m.on_timer(cx, tag),
            ClusterNode::Coordinator(c) => c.on_timer(cx, tag),
            ClusterNode::Client(client) => client.tick(cx),
            ClusterNode::Resource(_) => {}
            ClusterNode::Stranger(stranger) => {
                let (to, intrusion) = stranger.next(cx.rng(), true);
                let msg = match intrusion {
                    Intrusion::Peer(msg) => ClusterMsg::Peer(msg),
                    Intrusion::Failover(request) => ClusterMsg::Request(request),
                };
                cx.send(to, msg);
                if let Some(wait) = stranger.next_wait_ns(cx.rng()) {
                    cx.set_timer(wait, 0);
                }
            }
        }
    }

    fn on_storage(
        &mut self,
        cx: &mut Context<'_, Self>,
        request: RequestId,
        reply: StorageReply<Vec<u8>>,
    ) {
        if let ClusterNode::Member(m) = self {
            m.on_storage(cx, request, reply);
        }
    }

    fn on_disk_synced(&mut self, cx: &mut Context<'_, Self>, durable_len: usize) {
        if let ClusterNode::Member(m) = self {
            m.on_synced(cx, durable_len);
        }
    }

    fn label(&self) -> Option<String> {
        Some(match self {
            ClusterNode::Member(m) => {
                let node = m.member.node();
                let role = format!("{:?}", node.role()).to_lowercase();
                let tail = node.log().last();
                let lease = match m.member.lease().held_record() {
                    Some(record) => format!(", lease {}", record.token()),
                    None => String::new(),
                };
                let frozen = if node.frozen() { ", frozen" } else { "" };
                format!(
                    "{role} t{} tail {}@t{}{lease}{frozen}",
                    node.current_term(),
                    tail.index,
                    tail.term
                )
            }
            ClusterNode::Coordinator(_) => "coordinator".to_string(),
            ClusterNode::Client(_) => "client".to_string(),
            ClusterNode::Stranger(_) => "stranger".to_string(),
            ClusterNode::Resource(resource) => match resource.highest {
                Some(token) => format!("resource at {token}"),
                None => "resource".to_string(),
            },
        })
    }
}

/// The cluster scenario: its size and canary, and the checker.
pub struct ClusterScenario {
    pub members: u32,
    /// The client's writes at most (the plan's cap; unbounded by default).
    pub writes_max: u64,
    pub canary: Option<ClusterCanary>,
    /// A stranger joins the network, as node `members + 3` (the plan's `stranger`).
    pub stranger: bool,
    config: MemberConfig,
    checks: checks::Checks,
}

/// The cluster's canaries: the failover's, and the resource that skips the fence check (which
/// proves `StaleWriterFenced` can fail).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterCanary {
    Failover(FailoverCanary),
    UncheckedResource,
}

impl ClusterScenario {
    /// A scenario of `size` members, or as many as the seed's `workload` stream says (3 to 5).
    pub fn new(seed: u64, size: Option<u32>, canary: Option<ClusterCanary>) -> Self {
        let members = size.unwrap_or_else(|| Stream::fork(seed, "workload").between(3, 5) as u32);
        let failover_canary = match canary {
            Some(ClusterCanary::Failover(canary)) => Some(canary),
            _ => None,
        };
        let timing = crate::replication::election_timing(seed);
        let replication = ReplicationConfig {
            election_retry_ns: timing.retry_ns,
            election_stagger_ns: timing.stagger_ns,
            best_stands_at_once: timing.best_stands_at_once,
            sync_timeout_ns: secs(2),
            retain_entries_max: 64,
            sync_entries_max: 32,
            sync_responses_per_interval_max: 8,
            handover_canary: failover_canary,
            coordinator: Some(members),
            ..ReplicationConfig::new((0..members).collect())
        };
        let lease = LeaseConfig {
            key: crate::lease::KEY.to_string(),
            id: 0,
            ttl_ns: TTL_NS,
            safety_margin_ns: SAFETY_MARGIN_NS,
            renew_interval_ns: millis(250),
            canary: None,
        };
        let config = MemberConfig {
            replication,
            lease,
            freeze_ttl_ns: secs(3),
            lease_retry_ns: millis(100),
        };
        let checks = checks::Checks::new(&config);
        ClusterScenario { members, writes_max: u64::MAX, canary, stranger: false, config, checks }
    }

    /// Keeps the run's spec trace (or not).
    pub fn keep_spec_trace(&mut self, keep: bool) {
        self.checks.trace = keep.then(crate::spec_trace::SpecTrace::default);
    }

    /// The run's spec trace, if kept: one JSON object a line.
    pub fn spec_trace(&self) -> Option<Vec<String>> {
        self.checks.trace.as_ref().map(|trace| trace.lines().to_vec())
    }

    fn failover_canary(&self) -> Option<FailoverCanary> {
        match self.canary {
            Some(ClusterCanary::Failover(canary)) => Some(canary),
            _ => None,
        }
    }

    fn coordinator_id(&self) -> NodeId {
        self.members
    }

    fn peers(&self) -> Peers {
        Peers {
            coordinator: self.members,
            client: self.members + 1,
            resource: self.members + 2,
            stranger: self.stranger.then_some(self.members + 3),
        }
    }
}

impl Scenario for ClusterScenario {
    type Node = ClusterNode;

    fn node_count(&self) -> u32 {
        self.members + 3 + u32::from(self.stranger)
    }

    fn boot(&self, id: NodeId, cx: &mut Context<'_, ClusterNode>) -> ClusterNode {
        let peers = self.peers();
        if id == self.coordinator_id() {
            let driver = CoordinatorDriver::boot(self.members, self.failover_canary(), cx);
            return ClusterNode::Coordinator(Box::new(driver));
        }
        if id == peers.client {
            cx.set_timer(millis(500), 0);
            let client =
                Client { members: self.members, writes_max: self.writes_max, ..Client::default() };
            return ClusterNode::Client(client);
        }
        if Some(id) == peers.stranger {
            cx.set_timer(millis(200), 0);
            return ClusterNode::Stranger(Intruder::new(self.members));
        }
        if id == peers.resource {
            let skip_check = self.canary == Some(ClusterCanary::UncheckedResource);
            return ClusterNode::Resource(ProtectedResource { skip_check, ..Default::default() });
        }
        if cx.disk().torn_tail() {
            cx.disk().discard_torn_tail();
            cx.sometimes("torn-tail-discarded");
        }
        let node = ReplicaNode::recover(self.config.replication.clone(), id, cx.disk().records());
        let lease = LeaseConfig { id, ..self.config.lease.clone() };
        let member = Member::new(MemberConfig { lease, ..self.config.clone() }, node);
        ClusterNode::Member(Box::new(MemberDriver::start(member, peers, cx)))
    }

    fn check(&mut self, view: &View<'_, ClusterNode>) -> Result<(), Violation> {
        crate::intruder::check_untouched(self.members, |id| match view.node(id) {
            Some(ClusterNode::Member(m)) => Some(&m.tap),
            _ => None,
        })?;
        self.checks.check(view, self.members, self.coordinator_id(), self.peers().resource)
    }

    fn check_promises(
        &mut self,
        view: &View<'_, ClusterNode>,
        promises: &[(NodeId, Promise)],
    ) -> Result<(), Violation> {
        self.checks.check_promises(view, promises)
    }

    fn converged(&mut self, view: &View<'_, ClusterNode>) -> Result<(), Violation> {
        checks::writes_resume(view, self.members)
    }
}

/// Faults: the lease scenario's (every kind, clock error within what the lease's margin covers:
/// offset up to 40 ms, drift up to 1,000 ppm, no jumps) plus torn writes and fsyncs that vary
/// per node with slow outliers. The coordinator is in reach (node id `members`); crashes tear
/// unsynced tails. Aimed strikes hit the replica set's moments and the handover's steps.
pub fn swarm_profile(members: u32) -> SwarmProfile {
    let mut profile = crate::lease::swarm_profile(members);
    profile.nodes = members + 1; // the coordinator too
    let drift = profile.kinds.iter().position(|kind| *kind == FaultKind::ClockDrift);
    profile.kinds.insert(drift.map_or(0, |at| at + 1), FaultKind::TornWrite);
    profile.kinds.extend([FaultKind::SlowFsync, FaultKind::Stranger]);
    let own = [Moment::HandoverStep.name(), Moment::LeaseRenewing.name()];
    profile.moments = [crate::replication::MOMENTS, &own].concat();
    profile
}

/// The seed's swarm plan.
pub fn plan(seed: u64, members: u32) -> FaultPlan {
    FaultPlan::swarm(&mut Stream::fork(seed, "faults"), &swarm_profile(members))
}

/// 20 s of faults, then up to 15 s for writes to resume everywhere (a lease to expire, an
/// election, a catch-up).
pub fn limits() -> RunLimits {
    RunLimits::phases(secs(20), secs(15))
}
