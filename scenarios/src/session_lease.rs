//! `session-lease`: 2 to 5 contenders elect a leader by a lock bound to their store session plus
//! a lease row, refresh it, preempt zombies, resign, crash and restart, and the leader makes
//! protected writes to a resource (the last node) under swarm faults that include losing store
//! sessions. Checked after every step against true time: `AtMostOneActingLeader`,
//! `ZombieWritesRefused`, `RowWrittenUnderLock` and `NoValidLeasePreempted`
//! (`model::spec::session_lease`). Liveness `LeaderElected`: once faults heal, some contender
//! acts as leader within the bound.

use crate::lease::{from_sim, to_sim};
use crate::spec_check::check_step;
use model::moment::Moment;
use model::session_lease::{
    FencedResource, Input, LeaderEvent, LeaderTimer, LeaseRow, Output, SessionLeader,
    SessionLeaseCanary, SessionLeaseConfig, WriteStamp,
};
use model::session_store::{Guard, SessionReply, SessionRequest};
use model::spec::session_lease::{self as spec, RowView, SessionLeaseView};
use model::store::StoreError;
use sim::faults::{FaultKind, SwarmProfile};
use sim::rng::Stream;
use sim::session::{self as store, SessionEnd, SessionId, SessionOp};
use sim::storage::StorageError;
use sim::time::{millis, secs};
use sim::{Context, Node, NodeId, RequestId, RunLimits, Scenario, View, Violation};

/// The lock whose holder leads.
pub const LOCK: &str = "leader";
/// The store key of the lease row.
pub const ROW_KEY: &str = "leader-lease";
/// Lease length, local nanoseconds.
pub const TTL_NS: u64 = secs(1);
/// Covers the clock error between two nodes (offsets up to 40 ms each, drift up to 1,000 ppm
/// over a 30 s run: at most 140 ms apart, under twice the margin) and between a node and the
/// store (70 ms).
pub const MARGIN_NS: u64 = millis(100);
const CHECK_INTERVAL_NS: u64 = millis(250);
const TAG_WORKLOAD: u64 = 0;
const TAG_CHECK: u64 = 1;
const TAG_WAITED_OUT: u64 = 2;
/// Timer tags from here up release a write the application stalled on.
const TAG_STALLED_WRITE: u64 = 1_000;

/// Messages: protected writes to the resource.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SessionLeaseMsg {
    Write { stamp: WriteStamp, payload: u64 },
}

/// A contender: the real leader machine plus the driver glue and the workload's choices.
#[derive(Clone, Debug)]
pub struct Contender {
    pub machine: SessionLeader,
    /// Kernel request id -> the machine's request id, for the replies in flight.
    requests: Vec<(RequestId, u64)>,
    next_payload: u64,
    writes_max: u64,
    /// Writes the application stalled on after the machine stamped them: (timer tag, write).
    stalled: Vec<(u64, SessionLeaseMsg)>,
    next_stall_tag: u64,
    /// The application's idea of whether it leads, from the machine's last word; it asks the
    /// machine to write on it and relies on the machine to refuse once belief lapsed.
    thinks_it_leads: bool,
}

/// A node of the scenario.
#[derive(Clone, Debug)]
pub enum SessionLeaseNode {
    Contender(Box<Contender>),
    Resource(FencedResource),
}

impl Contender {
    fn drive(&mut self, cx: &mut Context<'_, SessionLeaseNode>, input: Input) {
        let mut out = Vec::new();
        self.machine.handle(cx.now_local_ns(), input, &mut out);
        for output in out {
            self.carry_out(cx, output);
        }
    }

    fn carry_out(&mut self, cx: &mut Context<'_, SessionLeaseNode>, output: Output) {
        match output {
            Output::Session { request_id, request } => {
                let kernel_id = cx.session(to_sim_session(request));
                self.requests.push((kernel_id, request_id));
            }
            Output::SetTimer { after_local_ns, timer } => {
                let tag = match timer {
                    LeaderTimer::Check => TAG_CHECK,
                    LeaderTimer::WaitedOut => TAG_WAITED_OUT,
                };
                cx.set_timer(after_local_ns, tag);
            }
            Output::ProtectedWrite { stamp, payload } => {
                let write = SessionLeaseMsg::Write { stamp, payload };
                cx.action(SessionLeaseAction::Write { tenure: stamp.tenure });
                // Applications stall between the check and the write (GC, slow work): the
                // window fencing tokens exist to close.
                if cx.rng().below(5) == 0 {
                    let stall = cx.rng().log_uniform(millis(1), secs(2));
                    self.next_stall_tag += 1;
                    let tag = TAG_STALLED_WRITE + self.next_stall_tag;
                    self.stalled.push((tag, write));
                    cx.set_timer(stall, tag);
                } else {
                    cx.send(cx.node_count() - 1, write);
                }
            }
            Output::Moment(moment) => cx.moment(moment.name()),
            Output::Event(event) => {
                self.thinks_it_leads = match event {
                    LeaderEvent::Led { .. } | LeaderEvent::Refreshed { .. } => true,
                    LeaderEvent::ValidationFailed
                    | LeaderEvent::SessionLost
                    | LeaderEvent::Resigned
                    | LeaderEvent::WriteRefused => false,
                    _ => self.thinks_it_leads,
                };
                probe(cx, &event);
            }
        }
    }

    /// One workload tick: write while the application thinks it leads (the machine refuses
    /// once belief lapsed), and now and then step down.
    fn tick(&mut self, cx: &mut Context<'_, SessionLeaseNode>) {
        let roll = cx.rng().below(100);
        if self.thinks_it_leads && roll < 2 {
            self.drive(cx, Input::Resign);
        } else if self.thinks_it_leads && self.next_payload < self.writes_max {
            self.next_payload += 1;
            let payload = ((cx.id() as u64) << 32) | self.next_payload;
            self.drive(cx, Input::Write { payload });
        }
        let next = cx.rng().between(millis(50), millis(300));
        cx.set_timer(next, TAG_WORKLOAD);
    }
}

/// The `SessionLease.tla` actions a step took, as the nodes declare them (recorded in captured
/// traces; the scenario checks the spec's invariants and properties, not yet each action).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionLeaseAction {
    /// `TryLock`: the node took the session lock.
    TryLock,
    /// `Take`: the node wrote the lease row and leads, with the row's generation.
    Take { generation: u64 },
    /// `Refresh`: a validated refresh of the row.
    Refresh { generation: u64 },
    /// `Preempt`: the node terminated a zombie's session.
    Preempt,
    /// `Write`: a protected write left, stamped with its tenure.
    Write { tenure: u64 },
    /// `Deliver`: the resource judged a write.
    Deliver { tenure: u64, accepted: bool },
}

/// Names the event's spec action in the trace and hits its probe.
fn probe(cx: &mut Context<'_, SessionLeaseNode>, event: &LeaderEvent) {
    let name = match event {
        LeaderEvent::LockTaken => {
            cx.action(SessionLeaseAction::TryLock);
            "lock-taken"
        }
        LeaderEvent::LockHeld { .. } => "lock-held",
        LeaderEvent::WaitingOut { .. } => "waiting-out",
        LeaderEvent::Led { generation, .. } => {
            cx.action(SessionLeaseAction::Take { generation: *generation });
            "leadership-taken"
        }
        LeaderEvent::Refreshed { generation, .. } => {
            cx.action(SessionLeaseAction::Refresh { generation: *generation });
            "refreshed"
        }
        LeaderEvent::Preempted { was_alive: true, .. } => {
            cx.action(SessionLeaseAction::Preempt);
            "zombie-preempted"
        }
        LeaderEvent::PreemptRefused => "preempt-refused",
        LeaderEvent::SessionLost => "session-lost-seen",
        LeaderEvent::Resigned => "resigned",
        LeaderEvent::StoreFailed(StoreError::Timeout) => "storage-timeout-seen",
        _ => return,
    };
    cx.sometimes(name);
}

fn to_sim_guard(guard: Guard) -> store::Guard {
    match guard {
        Guard::Always => store::Guard::Always,
        Guard::HoldsLock { lock } => store::Guard::HoldsLock { lock },
        Guard::RowAt { key, version } => store::Guard::ObjectAt { key, version },
    }
}

/// A machine's session request as the simulator's store takes it.
pub fn to_sim_session(request: SessionRequest) -> SessionOp<Vec<u8>> {
    match request {
        SessionRequest::Open => SessionOp::Open,
        SessionRequest::TryLock { session, lock } => SessionOp::TryLock { session, lock },
        SessionRequest::Apply { session, guard, op } => {
            SessionOp::Apply { session, guard: to_sim_guard(guard), op: to_sim(op) }
        }
        SessionRequest::Holder { session, lock } => SessionOp::Holder { session, lock },
        SessionRequest::Terminate { session, target, guard } => {
            SessionOp::Terminate { session, target, guard: to_sim_guard(guard) }
        }
        SessionRequest::Close { session } => SessionOp::Close { session },
    }
}

/// The simulator's session reply as the machine takes it.
pub fn from_sim_session(reply: store::SessionReply<Vec<u8>>) -> SessionReply {
    use store::SessionReply as Sim;
    match reply {
        Sim::Opened { session } => SessionReply::Opened { session },
        Sim::Locked => SessionReply::Locked,
        Sim::HeldBy { holder } => SessionReply::HeldBy { holder },
        Sim::Holder { holder } => SessionReply::Holder { holder },
        Sim::Applied(reply) => SessionReply::Applied(from_sim(reply)),
        Sim::Terminated { was_alive } => SessionReply::Terminated { was_alive },
        Sim::Closed => SessionReply::Closed,
        Sim::GuardFailed => SessionReply::GuardFailed,
        Sim::SessionDead => SessionReply::SessionDead,
        Sim::Failed(error) => SessionReply::Failed(match error {
            StorageError::Timeout => StoreError::Timeout,
            StorageError::Transient => StoreError::Transient,
            StorageError::Unavailable => StoreError::Unavailable,
        }),
    }
}

impl Node for SessionLeaseNode {
    type Msg = SessionLeaseMsg;
    type Value = Vec<u8>;
    type Record = ();
    type Promise = ();
    type Action = SessionLeaseAction;

    /// The derived `Hash`: faster than the default `Debug` text.
    fn hash_message(msg: &Self::Msg, hasher: &mut sim::trace::StableHasher) {
        std::hash::Hash::hash(msg, hasher);
    }

    fn hash_value(value: &Self::Value, hasher: &mut sim::trace::StableHasher) {
        std::hash::Hash::hash(value, hasher);
    }

    fn on_message(&mut self, cx: &mut Context<'_, Self>, _from: NodeId, msg: SessionLeaseMsg) {
        let (SessionLeaseNode::Resource(resource), SessionLeaseMsg::Write { stamp, .. }) =
            (self, msg)
        else {
            return;
        };
        let accepted = resource.write(stamp);
        cx.action(SessionLeaseAction::Deliver { tenure: stamp.tenure, accepted });
        cx.sometimes(if accepted { "write-accepted" } else { "write-refused" });
    }

    fn on_timer(&mut self, cx: &mut Context<'_, Self>, tag: u64) {
        let SessionLeaseNode::Contender(contender) = self else { return };
        match tag {
            TAG_WORKLOAD => contender.tick(cx),
            TAG_CHECK => contender.drive(cx, Input::Timer(LeaderTimer::Check)),
            TAG_WAITED_OUT => contender.drive(cx, Input::Timer(LeaderTimer::WaitedOut)),
            stalled => {
                if let Some(index) = contender.stalled.iter().position(|(t, _)| *t == stalled) {
                    let (_, write) = contender.stalled.swap_remove(index);
                    cx.send(cx.node_count() - 1, write);
                }
            }
        }
    }

    fn on_session(
        &mut self,
        cx: &mut Context<'_, Self>,
        request: RequestId,
        reply: store::SessionReply<Vec<u8>>,
    ) {
        let SessionLeaseNode::Contender(contender) = self else { return };
        let Some(index) = contender.requests.iter().position(|(kernel, _)| *kernel == request)
        else {
            return;
        };
        let (_, request_id) = contender.requests.swap_remove(index);
        contender.drive(cx, Input::Session { request_id, reply: from_sim_session(reply) });
    }

    fn label(&self) -> Option<String> {
        Some(match self {
            SessionLeaseNode::Resource(resource) => match resource.highest_tenure {
                Some(tenure) => format!("resource at generation {tenure}"),
                None => "resource".to_string(),
            },
            SessionLeaseNode::Contender(c) => match c.machine.tenure() {
                Some(t) => format!("leads g{} until {}", t.generation, t.lead_until),
                None => "standby".to_string(),
            },
        })
    }
}

/// The scenario: how many contenders, which canary, and what the checks carry between steps.
pub struct SessionLeaseScenario {
    pub contenders: u32,
    /// Protected writes per contender at most (the plan's cap; unbounded by default).
    pub writes_max: u64,
    pub canary: Option<SessionLeaseCanary>,
    previous: Option<SessionLeaseView>,
    /// The session that held the lock at the previous step, to tell a preemption.
    lock_session: Option<SessionId>,
    /// The row decoded at its version: decoding once per write, not once per step.
    decoded: Option<RowView>,
}

impl SessionLeaseScenario {
    /// A scenario whose size comes from the seed's `workload` stream.
    pub fn new(seed: u64, canary: Option<SessionLeaseCanary>) -> SessionLeaseScenario {
        let contenders = Stream::fork(seed, "workload").between(2, 5) as u32;
        SessionLeaseScenario {
            contenders,
            writes_max: u64::MAX,
            canary,
            previous: None,
            lock_session: None,
            decoded: None,
        }
    }

    fn resource_id(&self) -> NodeId {
        self.contenders
    }

    fn config(&self, id: NodeId) -> SessionLeaseConfig {
        SessionLeaseConfig {
            id,
            lock: LOCK.to_string(),
            row_key: ROW_KEY.to_string(),
            ttl_ns: TTL_NS,
            margin_ns: MARGIN_NS,
            check_interval_ns: CHECK_INTERVAL_NS,
            canary: self.canary,
        }
    }

    /// The refinement mapping: the real cluster as `SessionLease.tla` sees it.
    fn spec_view(
        &mut self,
        view: &View<'_, SessionLeaseNode>,
    ) -> Result<SessionLeaseView, Violation> {
        let sessions = view.sessions();
        let holder = sessions.holder(LOCK);
        let preempted = self.lock_session.is_some_and(|s| {
            matches!(sessions.info(s).and_then(|s| s.end), Some((SessionEnd::Terminated { .. }, _)))
        });
        self.lock_session = holder;
        let lock = holder.and_then(|s| sessions.info(s)).map(|s| s.node);
        let row = self.row_view(view)?;
        let acting = (0..self.contenders)
            .map(|id| match view.node(id) {
                Some(SessionLeaseNode::Contender(c)) => c.machine.acting(view.local_ns(id)),
                _ => None,
            })
            .collect();
        let (last_accepted, accepted_max) = match view.node(self.resource_id()) {
            Some(SessionLeaseNode::Resource(r)) => (r.last_tenure, r.highest_tenure),
            _ => (None, None),
        };
        let now = view.store_time_ns();
        Ok(SessionLeaseView { now, acting, lock, row, last_accepted, accepted_max, preempted })
    }

    fn row_view(
        &mut self,
        view: &View<'_, SessionLeaseNode>,
    ) -> Result<Option<RowView>, Violation> {
        match view.store().get(ROW_KEY) {
            None => Ok(None),
            Some((_, version)) if self.decoded.is_some_and(|r| r.version == *version) => {
                Ok(self.decoded)
            }
            Some((bytes, version)) => {
                let row = LeaseRow::decode(bytes).map_err(|e| {
                    Violation::new("WellFormedRow", format!("stored lease row: {}", e.0))
                })?;
                let (holder, generation, until) = (row.holder, row.generation, row.lease_until);
                self.decoded = Some(RowView { holder, generation, until, version: *version });
                Ok(self.decoded)
            }
        }
    }
}

impl Scenario for SessionLeaseScenario {
    type Node = SessionLeaseNode;

    fn node_count(&self) -> u32 {
        self.contenders + 1
    }

    fn boot(&self, id: NodeId, cx: &mut Context<'_, SessionLeaseNode>) -> SessionLeaseNode {
        if id == self.resource_id() {
            return SessionLeaseNode::Resource(FencedResource::default());
        }
        let first_check = cx.rng().between(0, millis(200));
        cx.set_timer(first_check, TAG_CHECK);
        let first_tick = cx.rng().between(0, millis(200));
        cx.set_timer(first_tick, TAG_WORKLOAD);
        SessionLeaseNode::Contender(Box::new(Contender {
            machine: SessionLeader::new(self.config(id)),
            requests: Vec::new(),
            next_payload: 0,
            writes_max: self.writes_max,
            stalled: Vec::new(),
            next_stall_tag: 0,
            thinks_it_leads: false,
        }))
    }

    fn check(&mut self, view: &View<'_, SessionLeaseNode>) -> Result<(), Violation> {
        let next = self.spec_view(view)?;
        let (invariants, properties) = (spec::INVARIANTS, spec::ACTION_PROPERTIES);
        check_step(invariants, properties, self.previous.as_ref(), &next)?;
        self.previous = Some(next);
        Ok(())
    }

    fn converged(&mut self, view: &View<'_, SessionLeaseNode>) -> Result<(), Violation> {
        match self.spec_view(view)?.acting.iter().any(Option::is_some) {
            true => Ok(()),
            false => Err(Violation::new("LeaderElected", "no contender acts as leader")),
        }
    }
}

/// Faults: everything the lease scenario has (clock error inside the margin, no jumps), plus
/// session loss, by a fault or an aimed strike, and a keepalive drawn per seed (100 ms to 5 s,
/// on either side of the ttl: a cut leader loses its session before or after its lease runs
/// out). The resource is outside the faults.
pub fn swarm_profile(contenders: u32) -> SwarmProfile {
    let kinds = [
        &FaultKind::NETWORK[..],
        &FaultKind::PROCESS,
        &[FaultKind::ClockDrift],
        &FaultKind::STORAGE,
        &[FaultKind::AimedStrike, FaultKind::SessionLoss],
    ]
    .concat();
    let mut profile = SwarmProfile::new(contenders, kinds);
    profile.window_ns = secs(15);
    profile.faults_max = 10;
    profile.clock_offset_ns_max = millis(40);
    profile.disruption_ns_max = secs(3);
    profile.moments = vec![
        sim::aim::AFTER_SEND,
        Moment::LeaseRenewing.name(),
        Moment::LeadershipValidated.name(),
    ];
    profile
}

/// 20 s of faults, then up to 10 s for some contender to act as leader.
pub fn limits() -> RunLimits {
    RunLimits::phases(secs(20), secs(10))
}
