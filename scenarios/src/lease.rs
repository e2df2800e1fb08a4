//! `lease`: 3 to 7 contenders compete for one writer lease in the object store, renew it, do
//! fenced writes to a protected resource (the last node), release it, crash and restart, under
//! swarm faults. Checked after every step against true time: `LeaseUniqueness`,
//! `BeliefConsistency`, `FencingMonotonic` (the store record's token and the resource's accepted
//! tokens never decrease) and `RenewalRequiresOwnership`. Liveness `ExpiredLeaseClaimable`:
//! once faults heal, some contender holds the lease within the bound.
//!
//! `lease-unsafe-drift` is the same system with clock error beyond what the margin covers; it
//! is expected to find `BeliefConsistency`/`LeaseUniqueness` violations.

use crate::spec_check::check_step;
use crate::spec_trace::SpecTrace;
use model::lease::{
    FencingToken, Input, LeaseCanary, LeaseClient, LeaseConfig, LeaseError, LeaseEvent,
    LeaseRecord, LeaseTimer, Output, ProtectedResource,
};
use model::moment::Moment;
use model::promise::Promise;
use model::spec::lease::{self as spec, Action, Held, LeaseView, RecordView, Stored};
use model::store::{StoreError, StoreReply, StoreRequest};
use sim::faults::{FaultKind, SwarmProfile};
use sim::rng::Stream;
use sim::storage::{ObjectStore, StorageError, StorageOp, StorageReply};
use sim::time::{millis, secs};
use sim::{Context, Node, NodeId, RequestId, RunLimits, Scenario, View, Violation};

/// The store key of the lease.
pub const KEY: &str = "writer-lease";
/// Lease length, local nanoseconds.
pub const TTL_NS: u64 = secs(1);
/// The holder's safety margin: covers the clock error the safe variant allows.
pub const SAFETY_MARGIN_NS: u64 = millis(100);
const RENEW_INTERVAL_NS: u64 = millis(250);
const TAG_WORKLOAD: u64 = 0;
const TAG_RENEW: u64 = 1;
/// Timer tags from here up release a write the application stalled on.
const TAG_STALLED_WRITE: u64 = 1_000;

/// Messages: fenced writes to the protected resource.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LeaseMsg {
    Write { token: FencingToken, payload: u64 },
}

/// A contender: the real lease client plus the driver glue and the workload's choices.
#[derive(Clone, Debug)]
pub struct Contender {
    pub client: LeaseClient,
    /// Kernel request id -> the client's request id, for the replies in flight.
    requests: Vec<(RequestId, u64)>,
    next_payload: u64,
    /// The plan's cap on this contender's fenced writes.
    writes_max: u64,
    /// Writes the application stalled on after getting its token: (timer tag, write).
    stalled: Vec<(u64, LeaseMsg)>,
    next_stall_tag: u64,
    /// The application's own idea of whether it holds the lease, from the client's last word
    /// (acquired or renewed: yes; released, refused, stale or fenced: no). It asks the client
    /// to write on that idea and relies on the client to refuse once belief lapsed.
    thinks_it_holds: bool,
}

/// A node of the lease scenario.
#[derive(Clone, Debug)]
pub enum LeaseNode {
    Contender(Box<Contender>),
    Resource(ProtectedResource),
}

impl Contender {
    fn drive(&mut self, cx: &mut Context<'_, LeaseNode>, input: Input) {
        let mut out = Vec::new();
        self.client.handle(cx.now_local_ns(), input, &mut out);
        for output in out {
            self.carry_out(cx, output);
        }
    }

    fn carry_out(&mut self, cx: &mut Context<'_, LeaseNode>, output: Output) {
        if let Some(promise) = output.promise() {
            cx.promise(promise);
        }
        match output {
            Output::Store { request_id, request } => {
                let kernel_id = cx.storage(to_sim(request));
                self.requests.push((kernel_id, request_id));
            }
            Output::SetTimer { after_local_ns, timer: LeaseTimer::Renew } => {
                cx.set_timer(after_local_ns, TAG_RENEW)
            }
            Output::Action(action) => cx.action(action),
            Output::FencedWrite { token, payload } => {
                let write = LeaseMsg::Write { token, payload };
                // Applications stall between taking the token and writing (GC, slow work):
                // the window fencing tokens exist to close.
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
                self.thinks_it_holds = match event {
                    LeaseEvent::Acquired { .. } | LeaseEvent::Renewed { .. } => true,
                    LeaseEvent::Released { .. }
                    | LeaseEvent::WriteRefused
                    | LeaseEvent::RenewFailed(LeaseError::Stale | LeaseError::Fenced { .. }) => {
                        false
                    }
                    _ => self.thinks_it_holds,
                };
                probe(cx, &event)
            }
        }
    }

    /// One workload tick: try to acquire when the application thinks it does not hold the
    /// lease, else write (the client refuses if belief lapsed), sometimes release.
    fn tick(&mut self, cx: &mut Context<'_, LeaseNode>) {
        let holding = self.thinks_it_holds;
        let roll = cx.rng().below(100);
        if !holding && !self.client.busy() {
            // Usually the newest term known; sometimes a new epoch, as after a failover.
            let known = self.client.highest_term_seen().max(1);
            let term = if roll < 5 { known + 1 } else { known };
            self.drive(cx, Input::Acquire { term });
        } else if holding && roll < 3 {
            self.drive(cx, Input::Release);
        } else if holding && self.next_payload < self.writes_max {
            self.next_payload += 1;
            let payload = ((cx.id() as u64) << 32) | self.next_payload;
            self.drive(cx, Input::Write { payload });
        }
        let next = cx.rng().between(millis(50), millis(300));
        cx.set_timer(next, TAG_WORKLOAD);
    }
}

/// Hits the event's probe.
pub fn probe<N: Node>(cx: &mut Context<'_, N>, event: &LeaseEvent) {
    let name = match event {
        LeaseEvent::Acquired { .. } => "lease-acquired",
        LeaseEvent::Renewed { .. } => "lease-renewed",
        LeaseEvent::Released { .. } => "lease-released",
        LeaseEvent::AcquireFailed(LeaseError::Held { .. }) => "acquire-refused-held",
        LeaseEvent::AcquireFailed(LeaseError::Fenced { .. }) => "acquire-fenced",
        LeaseEvent::AcquireFailed(LeaseError::LostRace) => "acquire-lost-race",
        LeaseEvent::RenewFailed(LeaseError::Stale) => "renew-stale",
        _ => return,
    };
    cx.sometimes(name);
}

/// A lease store request as the simulator's object store takes it.
pub fn to_sim(request: StoreRequest) -> StorageOp<Vec<u8>> {
    match request {
        StoreRequest::Get { key } => StorageOp::Get { key },
        StoreRequest::PutIfAbsent { key, value } => StorageOp::PutIfAbsent { key, value },
        StoreRequest::PutIfVersion { key, value, version } => {
            StorageOp::PutIfVersion { key, value, version }
        }
        StoreRequest::DeleteIfVersion { key, version } => {
            StorageOp::DeleteIfVersion { key, version }
        }
    }
}

/// The simulator's store reply as the lease client takes it.
pub fn from_sim(reply: StorageReply<Vec<u8>>) -> StoreReply {
    match reply {
        StorageReply::Got { object, store_time_ns } => StoreReply::Got { object, store_time_ns },
        StorageReply::Written { version } => StoreReply::Written { version },
        StorageReply::Deleted => StoreReply::Deleted,
        StorageReply::ConditionFailed => StoreReply::ConditionFailed,
        StorageReply::Failed(error) => StoreReply::Failed(match error {
            StorageError::Timeout => StoreError::Timeout,
            StorageError::Transient => StoreError::Transient,
            StorageError::Unavailable => StoreError::Unavailable,
        }),
    }
}

impl Node for LeaseNode {
    type Msg = LeaseMsg;
    type Value = Vec<u8>;
    type Record = ();
    type Promise = Promise;
    type Action = Action;

    /// The derived `Hash`: faster than the default `Debug` text, and the hashes the tests pin.
    fn hash_message(msg: &Self::Msg, hasher: &mut sim::trace::StableHasher) {
        std::hash::Hash::hash(msg, hasher);
    }

    fn hash_value(value: &Self::Value, hasher: &mut sim::trace::StableHasher) {
        std::hash::Hash::hash(value, hasher);
    }

    fn on_message(&mut self, cx: &mut Context<'_, Self>, from: NodeId, msg: LeaseMsg) {
        let (LeaseNode::Resource(resource), LeaseMsg::Write { token, payload }) = (self, msg)
        else {
            return;
        };
        // The delivery is the network's doing: declared here, for the resource.
        cx.action(Action::Deliver { from, w: token });
        let accepted = resource.write(token, payload);
        cx.sometimes(if accepted { "fenced-write-accepted" } else { "fenced-write-rejected" });
    }

    fn on_timer(&mut self, cx: &mut Context<'_, Self>, tag: u64) {
        let LeaseNode::Contender(contender) = self else { return };
        match tag {
            TAG_WORKLOAD => contender.tick(cx),
            TAG_RENEW => contender.drive(cx, Input::Timer(LeaseTimer::Renew)),
            stalled => {
                if let Some(index) = contender.stalled.iter().position(|(t, _)| *t == stalled) {
                    let (_, write) = contender.stalled.swap_remove(index);
                    cx.send(cx.node_count() - 1, write);
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
        let LeaseNode::Contender(contender) = self else { return };
        let Some(index) = contender.requests.iter().position(|(kernel, _)| *kernel == request)
        else {
            return;
        };
        let (_, request_id) = contender.requests.swap_remove(index);
        if matches!(reply, StorageReply::Failed(StorageError::Timeout)) {
            cx.sometimes("storage-timeout-seen");
        }
        contender.drive(cx, Input::Store { request_id, reply: from_sim(reply) });
    }

    fn label(&self) -> Option<String> {
        match self {
            LeaseNode::Resource(resource) => Some(match resource.highest {
                Some(token) => format!("resource at {token}"),
                None => "resource".to_string(),
            }),
            LeaseNode::Contender(c) => Some(match c.client.held_record() {
                Some(record) => format!("holds {} until {}", record.token(), record.expires_at),
                None => "contender".to_string(),
            }),
        }
    }
}

/// The lease scenario: how many contenders, which canary, and the spec view of the previous
/// step (for the action properties).
pub struct LeaseScenario {
    pub contenders: u32,
    /// Fenced writes per contender at most (the plan's cap; unbounded by default).
    pub writes_max: u64,
    pub canary: Option<LeaseCanary>,
    previous: Option<LeaseView>,
    /// The store record decoded at its version: decoding once per write, not once per step.
    decoded: Option<(u64, RecordView)>,
    conformance: LeaseConformance,
    /// The run's spec trace, when it is kept (captured runs).
    pub trace: Option<SpecTrace>,
}

/// Holds each step against `Lease.tla`'s actions (`SpecConformance`): the clients' declared
/// ones, the store's write inferred from its record, a crash inferred from a client gone.
#[derive(Debug, Default)]
pub struct LeaseConformance {
    stored: Stored,
    /// Per contender: up at the last step.
    up: Vec<bool>,
    inferred: Vec<Action>,
}

impl LeaseConformance {
    /// Checks the step from `previous` to `next`, whose contenders are `up` now, `declared`
    /// the clients' and the resource's actions; `takeovers` when planned handovers run.
    pub fn check<'a>(
        &mut self,
        previous: Option<&LeaseView>,
        next: &LeaseView,
        up: impl Iterator<Item = bool>,
        declared: impl Iterator<Item = &'a Action> + Clone,
        takeovers: bool,
        trace: Option<(&mut SpecTrace, u64)>,
    ) -> Result<(), Violation> {
        let conformance = |seen| Violation::new("SpecConformance", seen);
        self.inferred.clear();
        let members = next.held.len();
        self.up.resize(members, false);
        for (n, up) in up.enumerate().take(members) {
            if std::mem::replace(&mut self.up[n], up) && !up {
                self.inferred.push(Action::Crash { n: n as NodeId });
            }
        }
        let result = match previous {
            None => Ok(()),
            Some(previous) => {
                let (before, after) = (previous.record, next.record);
                let store =
                    spec::infer_store_action(before, after, &self.stored, next.now, takeovers)
                        .map_err(conformance)?;
                self.inferred.splice(0..0, store);
                if let Some((trace, step)) = trace {
                    trace.lease(step, self.inferred.iter(), declared.clone(), next);
                }
                let env = spec::Env {
                    now: next.now,
                    local: &next.local,
                    ttl: TTL_NS,
                    margin: SAFETY_MARGIN_NS,
                    takeovers,
                    stored: &self.stored,
                };
                spec::check_step(previous, next, &self.inferred, declared, &env)
                    .map_err(conformance)
            }
        };
        self.stored.note(next.record);
        result
    }
}

impl LeaseScenario {
    /// A scenario whose size comes from the seed's `workload` stream.
    pub fn new(seed: u64, canary: Option<LeaseCanary>) -> LeaseScenario {
        let contenders = Stream::fork(seed, "workload").between(3, 7) as u32;
        LeaseScenario {
            contenders,
            writes_max: u64::MAX,
            canary,
            previous: None,
            decoded: None,
            conformance: LeaseConformance::default(),
            trace: None,
        }
    }

    fn resource_id(&self) -> NodeId {
        self.contenders
    }

    fn config(&self, id: NodeId) -> LeaseConfig {
        LeaseConfig {
            key: KEY.to_string(),
            id,
            ttl_ns: TTL_NS,
            safety_margin_ns: SAFETY_MARGIN_NS,
            renew_interval_ns: RENEW_INTERVAL_NS,
            canary: self.canary,
        }
    }

    /// The refinement mapping: the real cluster as `Lease.tla` sees it.
    fn spec_view(&mut self, view: &View<'_, LeaseNode>) -> Result<LeaseView, Violation> {
        let record = record_view(view.store(), &mut self.decoded)?;
        let held: Vec<Option<Held>> = (0..self.contenders)
            .map(|id| match view.node(id) {
                Some(LeaseNode::Contender(c)) => c.client.held_belief(),
                _ => None,
            })
            .collect();
        let local = (0..self.contenders).map(|id| view.local_ns(id)).collect();
        let last_accepted = match view.node(self.resource_id()) {
            Some(LeaseNode::Resource(resource)) => resource.accepted.last().map(|(t, _)| *t),
            _ => None,
        };
        let now = view.store_time_ns();
        let previous = self.previous.as_ref();
        Ok(LeaseView::new(now, record, held, local, last_accepted, previous))
    }
}

/// The store's lease record as the spec sees it; `decoded` caches the last decoding by version,
/// so a record is decoded once per write, not once per step.
pub fn record_view(
    store: &ObjectStore<Vec<u8>>,
    decoded: &mut Option<(u64, RecordView)>,
) -> Result<Option<RecordView>, Violation> {
    match store.get(KEY) {
        None => Ok(None),
        Some((_, version)) if decoded.is_some_and(|(v, _)| v == *version) => {
            Ok(decoded.map(|(_, record)| record))
        }
        Some((bytes, version)) => {
            let record = LeaseRecord::decode(bytes).map_err(|e| {
                Violation::new("WellFormedRecord", format!("stored record: {}", e.0))
            })?;
            let (holder, token, expires) = (record.holder, record.token(), record.expires_at);
            let record = RecordView { holder, token, expires, acquired: record.acquired_at };
            *decoded = Some((*version, record));
            Ok(Some(record))
        }
    }
}

impl Scenario for LeaseScenario {
    type Node = LeaseNode;

    fn node_count(&self) -> u32 {
        self.contenders + 1
    }

    fn boot(&self, id: NodeId, cx: &mut Context<'_, LeaseNode>) -> LeaseNode {
        if id == self.resource_id() {
            let skip_check = self.canary == Some(LeaseCanary::UncheckedResource);
            return LeaseNode::Resource(ProtectedResource { skip_check, ..Default::default() });
        }
        let first_tick = cx.rng().between(0, millis(200));
        cx.set_timer(first_tick, TAG_WORKLOAD);
        let client = LeaseClient::new(self.config(id));
        LeaseNode::Contender(Box::new(Contender {
            client,
            requests: Vec::new(),
            next_payload: 0,
            writes_max: self.writes_max,
            stalled: Vec::new(),
            next_stall_tag: 0,
            thinks_it_holds: false,
        }))
    }

    fn check(&mut self, view: &View<'_, LeaseNode>) -> Result<(), Violation> {
        let next = self.spec_view(view)?;
        // The cause first: a step the spec does not allow, then the damage it did.
        let up = (0..self.contenders).map(|id| view.node(id).is_some());
        let declared = view.actions().iter().map(|(_, action)| action);
        let trace = self.trace.as_mut().map(|trace| (trace, view.step()));
        self.conformance.check(self.previous.as_ref(), &next, up, declared, false, trace)?;
        let (invariants, properties) = (spec::INVARIANTS, spec::ACTION_PROPERTIES);
        check_step(invariants, properties, self.previous.as_ref(), &next)?;
        self.previous = Some(next);
        Ok(())
    }

    fn check_promises(
        &mut self,
        view: &View<'_, LeaseNode>,
        promises: &[(NodeId, Promise)],
    ) -> Result<(), Violation> {
        let record = record_view(view.store(), &mut self.decoded)?;
        let lease = LeaseView { now: view.store_time_ns(), record, ..LeaseView::default() };
        for (from, promise) in promises {
            spec::durable_promises(&lease, *from, promise)
                .map_err(|seen| Violation::new("DurablePromises", seen))?;
        }
        Ok(())
    }

    fn converged(&mut self, view: &View<'_, LeaseNode>) -> Result<(), Violation> {
        let held = self.spec_view(view)?.believes.iter().any(Option::is_some);
        if held {
            Ok(())
        } else {
            Err(Violation::new("ExpiredLeaseClaimable", "no contender holds the lease"))
        }
    }
}

/// Faults of the safe variant: everything, with clock error inside what the margin covers
/// (offset up to 40 ms, drift up to 1,000 ppm: at most 41 ms over a ttl, under the 100 ms
/// margin). Clock jumps are left out: a backward step can exceed any margin. The faults reach
/// the contenders, not the protected resource: it is the lease's environment, and its fence
/// (the highest token it accepted) must outlive anything (a crash used to reset it, after which
/// it took any token).
pub fn swarm_profile(contenders: u32) -> SwarmProfile {
    let kinds = [
        &FaultKind::NETWORK[..],
        &FaultKind::PROCESS,
        &[FaultKind::ClockDrift],
        &FaultKind::STORAGE,
        &[FaultKind::AimedStrike],
    ]
    .concat();
    let mut profile = SwarmProfile::new(contenders, kinds);
    profile.window_ns = secs(15);
    profile.faults_max = 10;
    profile.drift_ppm_max = 1_000;
    profile.clock_offset_ns_max = millis(40);
    profile.clock_jump_ns_max = 0;
    profile.disruption_ns_max = secs(3);
    profile.moments = vec![sim::aim::AFTER_SEND, Moment::LeaseRenewing.name()];
    profile
}

/// Faults of `lease-unsafe-drift`: the same, with clock offset up to 500 ms, drift up to 10%
/// and backward or forward jumps up to 1 s, all far past the 100 ms margin.
pub fn unsafe_swarm_profile(contenders: u32) -> SwarmProfile {
    let mut profile = swarm_profile(contenders);
    profile.kinds.push(FaultKind::ClockJump);
    profile.drift_ppm_max = 100_000;
    profile.clock_offset_ns_max = millis(500);
    profile.clock_jump_ns_max = secs(1);
    profile
}

/// 20 s of faults, then up to 10 s for some contender to hold the lease.
pub fn limits() -> RunLimits {
    RunLimits::phases(secs(20), secs(10))
}
