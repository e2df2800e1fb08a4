//! `session-lease`: 2 to 5 contenders elect a leader by a lock bound to their store session plus
//! a lease row, refresh it, preempt zombies, resign, crash and restart, and the leader makes
//! protected writes to a resource (the last node) under swarm faults that include losing store
//! sessions. Checked after every step against true time: `AtMostOneActingLeader`,
//! `ZombieWritesRefused`, `RowWrittenUnderLock` and `NoValidLeasePreempted`
//! (`model::spec::session_lease`), after `SpecConformance`: every step is the spec actions the
//! machines declare and the store's and the kernel's the checker infers. Liveness
//! `LeaderElected`: once faults heal, some contender acts as leader within the bound.

use crate::lease::{from_sim, to_sim};
use crate::spec_check::check_step;
use model::moment::Moment;
use model::session_lease::{
    FencedResource, Input, LeaderEvent, LeaderTimer, LeaseRow, Output, SessionLeader,
    SessionLeaseCanary, SessionLeaseConfig, WriteStamp,
};
use model::session_store::{Guard, SessionReply, SessionRequest};
use model::spec::session_lease::{self as spec, Action, Role, RowView, SessionLeaseView};
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
            Output::Action(action) => cx.action(action),
            Output::ProtectedWrite { stamp, payload } => {
                let write = SessionLeaseMsg::Write { stamp, payload };
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

/// Hits the event's probe.
fn probe(cx: &mut Context<'_, SessionLeaseNode>, event: &LeaderEvent) {
    let name = match event {
        LeaderEvent::LockTaken => "lock-taken",
        LeaderEvent::LockHeld { .. } => "lock-held",
        LeaderEvent::WaitingOut { .. } => "waiting-out",
        LeaderEvent::Led { .. } => "leadership-taken",
        LeaderEvent::Refreshed { .. } => "refreshed",
        LeaderEvent::Preempted { was_alive: true, .. } => "zombie-preempted",
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
    type Action = Action;

    /// The derived `Hash`: faster than the default `Debug` text.
    fn hash_message(msg: &Self::Msg, hasher: &mut sim::trace::StableHasher) {
        std::hash::Hash::hash(msg, hasher);
    }

    fn hash_value(value: &Self::Value, hasher: &mut sim::trace::StableHasher) {
        std::hash::Hash::hash(value, hasher);
    }

    fn on_message(&mut self, cx: &mut Context<'_, Self>, from: NodeId, msg: SessionLeaseMsg) {
        let (SessionLeaseNode::Resource(resource), SessionLeaseMsg::Write { stamp, .. }) =
            (self, msg)
        else {
            return;
        };
        // The delivery is the network's doing: declared here, for the resource.
        cx.action(Action::Deliver { from, w: stamp.tenure });
        let accepted = resource.write(stamp);
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
    conformance: Conformance,
}

/// Holds each step against `SessionLease.tla`'s actions (`SpecConformance`): the machines'
/// declared ones; the store's inferred from what changed (a lock granted, a row written, a
/// session terminated or ended by the server), a crash from a node gone.
#[derive(Debug, Default)]
struct Conformance {
    /// Per contender: up at the last step.
    up: Vec<bool>,
    /// The step's actions, in the order they are taken.
    taken: Vec<Action>,
}

impl Conformance {
    fn check(
        &mut self,
        before: &SessionLeaseView,
        after: &SessionLeaseView,
        view: &View<'_, SessionLeaseNode>,
        canary: Option<SessionLeaseCanary>,
    ) -> Result<(), Violation> {
        let conformance = |seen| Violation::new("SpecConformance", seen);
        let sessions = view.sessions();
        self.taken.clear();
        let node_of = |s: SessionId| sessions.info(s).map_or(0, |info| info.node);
        // The server's: sessions ended (a preemption is the preemptor's), then a crash.
        for &s in &before.live {
            if after.live.binary_search(&s).is_ok() {
                continue;
            }
            self.taken.push(match sessions.info(s).and_then(|info| info.end) {
                Some((SessionEnd::Terminated { by }, _)) => Action::Preempt { n: node_of(by) },
                _ => Action::EndSession { n: node_of(s), s },
            });
        }
        self.up.resize(after.role.len(), true);
        for n in 0..after.role.len() {
            let up = view.node(n as NodeId).is_some();
            if std::mem::replace(&mut self.up[n], up) && !up && before.role[n] != Role::Standby {
                self.taken.push(Action::StepDown { n: n as NodeId });
            }
        }
        if let Some(s) = after.lock_session.filter(|s| before.lock_session != Some(*s)) {
            self.taken.push(Action::TryLock { n: node_of(s) });
        }
        let row = spec::infer_row_write(before.row, after.row, TTL_NS).map_err(conformance)?;
        self.taken.extend(row);
        self.taken.extend(view.actions().iter().map(|(_, action)| *action));
        // A session its node adopted this step that the server had already ended.
        for (n, s) in after.sess.iter().enumerate() {
            let Some(s) = *s else { continue };
            if before.sess[n] != Some(s) && after.live.binary_search(&s).is_err() {
                self.taken.push(Action::EndSession { n: n as NodeId, s });
            }
        }
        let env = spec::Env { local: &after.local, ttl: TTL_NS, margin: MARGIN_NS, canary };
        spec::check_step(before, after, self.taken.iter(), &env).map_err(conformance)
    }
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
            conformance: Conformance::default(),
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
        let contenders = self.contenders as usize;
        let (mut acting, mut role) =
            (Vec::with_capacity(contenders), Vec::with_capacity(contenders));
        let mut local = Vec::with_capacity(contenders);
        let mut sess = match &self.previous {
            Some(previous) => previous.sess.clone(),
            None => vec![None; contenders],
        };
        for id in 0..self.contenders {
            let clock = view.local_ns(id);
            local.push(clock);
            match view.node(id) {
                Some(SessionLeaseNode::Contender(c)) => {
                    acting.push(c.machine.acting(clock));
                    role.push(c.machine.spec_role());
                    if let Some(s) = c.machine.session() {
                        sess[id as usize] = Some(s);
                    }
                }
                _ => {
                    acting.push(None);
                    role.push(Role::Standby);
                }
            }
        }
        // `live`: the sessions ever adopted that the server has not ended.
        let mut live: Vec<SessionId> = match &self.previous {
            Some(previous) => previous.live.clone(),
            None => Vec::new(),
        };
        for s in sess.iter().flatten() {
            if let Err(index) = live.binary_search(s) {
                live.insert(index, *s);
            }
        }
        live.retain(|s| sessions.info(*s).is_some_and(|info| info.is_live()));
        let (last_accepted, accepted_max) = match view.node(self.resource_id()) {
            Some(SessionLeaseNode::Resource(r)) => (r.last_tenure, r.highest_tenure),
            _ => (None, None),
        };
        // `written`: the last row each node's write put in the store.
        let mut written = match &self.previous {
            Some(previous) => previous.written.clone(),
            None => vec![None; contenders],
        };
        let before = self.previous.as_ref().and_then(|p| p.row);
        if let Some(row) = row.filter(|r| before.map(|b| b.fields()) != Some(r.fields())) {
            if let Some(slot) = written.get_mut(row.holder as usize) {
                *slot = Some(row);
            }
        }
        let now = view.store_time_ns();
        Ok(SessionLeaseView {
            now,
            acting,
            local,
            role,
            sess,
            live,
            written,
            lock_session: holder,
            lock,
            row,
            last_accepted,
            accepted_max,
            preempted,
        })
    }

    /// `Init`: no session, no lock, no row, every node a standby, nothing accepted.
    fn init_view(&self) -> SessionLeaseView {
        let contenders = self.contenders as usize;
        SessionLeaseView {
            acting: vec![None; contenders],
            local: vec![0; contenders],
            role: vec![Role::Standby; contenders],
            sess: vec![None; contenders],
            written: vec![None; contenders],
            ..SessionLeaseView::default()
        }
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
                let acquired = row.acquired_at;
                self.decoded =
                    Some(RowView { holder, generation, acquired, until, version: *version });
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
        // The cause first: a step the spec does not allow, then the damage it did. The first
        // step starts from `Init`.
        let init;
        let before = match &self.previous {
            Some(previous) => previous,
            None => {
                init = self.init_view();
                &init
            }
        };
        self.conformance.check(before, &next, view, self.canary)?;
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
