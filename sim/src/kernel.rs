//! The kernel's state and its event handlers. [`World::step`] reads as a table of contents: pop
//! the next event, jump the clock to it, and hand it to the one handler that owns it.

use crate::clock::Clock;
use crate::disk::Disk;
use crate::faults::{Fault, FaultKind, FaultPlan};
use crate::network::{Network, STORE};
use crate::node::message_hash;
use crate::node::{Context, Node, RequestId};
use crate::queue::{Queue, QueueFull};
use crate::rng::{Ratio, Stream};
use crate::run::Scenario;
use crate::storage::{ObjectStore, StorageError, StorageOp, StorageReply};
use crate::time::SimTime;
use crate::trace::{RecordKind, Trace, NO_ENDPOINT};
use crate::NodeId;
use serde::Serialize;
use std::collections::BTreeMap;

/// Something scheduled to happen at a true time.
#[derive(Debug)]
pub(crate) enum Event<N: Node> {
    Deliver {
        from: NodeId,
        to: NodeId,
        sent_at: SimTime,
        msg: N::Msg,
    },
    Timer {
        node: NodeId,
        incarnation: u32,
        tag: u64,
    },
    /// A storage request reaches the store. `answered`: its caller already got a timeout.
    StoreArrive {
        node: NodeId,
        incarnation: u32,
        request: RequestId,
        op: StorageOp<N::Value>,
        timeout_at: SimTime,
        answered: bool,
    },
    StoreReply {
        node: NodeId,
        incarnation: u32,
        request: RequestId,
        reply: StorageReply<N::Value>,
    },
    DiskSynced {
        node: NodeId,
        incarnation: u32,
        len: usize,
    },
    FaultBegin(usize),
    FaultEnd(usize),
    /// A session request reaches the store (`crate::session_kernel`); the request itself waits
    /// in `slot`, so events stay as small and as cheap to drop as before sessions.
    SessionArrive {
        node: NodeId,
        incarnation: u32,
        request: RequestId,
        slot: u32,
        timeout_at: SimTime,
        answered: bool,
    },
    /// A session reply reaches its node; the reply waits in `slot`.
    SessionReply {
        node: NodeId,
        incarnation: u32,
        request: RequestId,
        slot: u32,
    },
    /// The keepalive of `node`'s sessions runs out, unless its link healed since watch `epoch`.
    KeepaliveCheck {
        node: NodeId,
        epoch: u64,
    },
}

/// How often each fault kind actually fired, each "sometimes" probe was hit and each moment
/// was struck by an aimed fault.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Times each fault kind fired.
    pub faults: BTreeMap<FaultKind, u64>,
    /// Times each "sometimes" probe was hit (`Context::sometimes`).
    pub probes: BTreeMap<&'static str, u64>,
    /// Times each moment was struck by an aimed fault.
    pub strikes: BTreeMap<String, u64>,
}

impl Coverage {
    pub(crate) fn fault(&mut self, kind: FaultKind) {
        *self.faults.entry(kind).or_insert(0) += 1;
    }
    pub(crate) fn probe(&mut self, name: &'static str) {
        *self.probes.entry(name).or_insert(0) += 1;
    }
    pub(crate) fn strike(&mut self, moment: &str) {
        self.fault(FaultKind::AimedStrike);
        match self.strikes.get_mut(moment) {
            Some(count) => *count += 1,
            None => drop(self.strikes.insert(moment.to_string(), 1)),
        }
    }
    /// Adds another run's counts to these.
    pub fn merge(&mut self, other: &Coverage) {
        for (kind, count) in &other.faults {
            *self.faults.entry(*kind).or_insert(0) += count;
        }
        for (probe, count) in &other.probes {
            *self.probes.entry(probe).or_insert(0) += count;
        }
        for (moment, count) in &other.strikes {
            *self.strikes.entry(moment.clone()).or_insert(0) += count;
        }
    }
}

/// What the kernel is running at the moment: a node's handler, a scenario's check, or its own
/// code. Kept so a panic can say where it happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Acting {
    Kernel,
    Node { node: NodeId, handler: &'static str },
    Check,
}

impl Acting {
    /// "n2 on_message", "check", "kernel".
    pub(crate) fn describe(self) -> String {
        match self {
            Acting::Kernel => "kernel".to_string(),
            Acting::Node { node, handler } => format!("n{node} {handler}"),
            Acting::Check => "check".to_string(),
        }
    }

    pub(crate) fn node(self) -> Option<NodeId> {
        match self {
            Acting::Node { node, .. } => Some(node),
            _ => None,
        }
    }
}

/// A store request on its way out: its id, and the times the kernel judges it by.
pub(crate) struct StoreDeparture {
    pub(crate) request: RequestId,
    pub(crate) incarnation: u32,
    /// When the caller gives up and sees a timeout.
    pub(crate) timeout_at: u64,
    /// When it would reach the store.
    pub(crate) arrive_at: u64,
    pub(crate) reaches_store: bool,
    /// Already answered with a timeout (cut off, or slower than the caller's patience).
    pub(crate) answered: bool,
}

/// A message waiting for its node's disk (`Context::send_when_synced`).
pub(crate) struct HeldSend<N: Node> {
    /// How many records must be synced before it leaves.
    pub(crate) needed: usize,
    pub(crate) to: NodeId,
    pub(crate) msg: N::Msg,
    /// What it promises and the moment it marks, declared as it leaves.
    pub(crate) promise: Option<N::Promise>,
    pub(crate) moment: Option<&'static str>,
}

/// Everything in a run except the nodes themselves.
pub struct Kernel<N: Node> {
    pub(crate) now: SimTime,
    pub(crate) step: u64,
    pub(crate) queue: Queue<Event<N>>,
    pub(crate) overflow: Option<QueueFull>,
    pub(crate) plan: FaultPlan,
    pub(crate) clocks: Vec<Clock>,
    pub(crate) network: Network,
    pub(crate) store: ObjectStore<N::Value>,
    pub(crate) store_outages: u32,
    pub(crate) session_server: crate::session_kernel::SessionServer<N::Value>,
    pub(crate) disks: Vec<Disk<N::Record>>,
    pub(crate) incarnations: Vec<u32>,
    pub(crate) paused: Vec<bool>,
    pub(crate) deferred: Vec<Vec<Event<N>>>,
    /// The discrete faults: the plan's schedule, then the strikes aimed during the run.
    pub(crate) faults: Vec<Fault>,
    /// Per fault: began and not yet ended.
    pub(crate) fault_active: Vec<bool>,
    /// Per aimed moment (in the plan's order): the strikes made there so far.
    pub(crate) strikes_made: Vec<u32>,
    /// Where the kernel's own moments stand among the aimed ones, looked up once.
    pub(crate) fsync_window_aim: Option<usize>,
    pub(crate) after_send_aim: Option<usize>,
    /// Per node: the least and most its fsyncs usually take, nanoseconds.
    pub(crate) sync_bounds_ns: Vec<(u64, u64)>,
    /// The message sent last, kept only when the plan may deliver it again late (`aim`).
    pub(crate) last_sent: Option<crate::aim::LastSent<N::Msg>>,
    pub(crate) keep_last_sent: bool,
    /// Durable promises the nodes made during the current step, for the scenario to verify.
    pub(crate) promises: Vec<(NodeId, N::Promise)>,
    /// Spec actions the nodes declared during the current step, for the scenario to check.
    pub(crate) actions: Vec<(NodeId, N::Action)>,
    /// Per node: messages waiting for the disk to sync, as (records that must be synced, to,
    /// message), in the order they were sent (`Context::send_when_synced`).
    pub(crate) held_sends: Vec<Vec<HeldSend<N>>>,
    /// Per node: peers it reconnected with while paused, told when it resumes.
    pub(crate) reconnected_while_paused: Vec<Vec<NodeId>>,
    pub(crate) healed: bool,
    /// What runs now, for a panic's report.
    pub(crate) acting: Acting,
    /// The last label recorded per node (capture only).
    pub(crate) labels: Vec<Option<String>>,
    pub(crate) next_request: RequestId,
    pub(crate) rng_net: Stream,
    pub(crate) rng_storage: Stream,
    pub(crate) rng_disk: Stream,
    pub(crate) rng_strikes: Stream,
    pub(crate) rng_nodes: Vec<Stream>,
    pub(crate) trace: Trace,
    pub(crate) coverage: Coverage,
}

impl<N: Node> Kernel<N> {
    pub(crate) fn new(
        seed: u64,
        nodes: u32,
        plan: FaultPlan,
        queue_len_max: usize,
        trace: Trace,
    ) -> Kernel<N> {
        let mut rng_clock = Stream::fork(seed, "clock");
        let clocks: Vec<Clock> = (0..nodes)
            .map(|_| {
                let offset = plan.clock.offset_ns_max as i64;
                let drift = plan.clock.drift_ppm_max as i64;
                let offset_ns = rng_clock.between_signed(-offset, offset);
                Clock::new(offset_ns, rng_clock.between_signed(-drift, drift))
            })
            .collect();
        let mut coverage = Coverage::default();
        if clocks.iter().any(|c| *c != Clock::default()) {
            coverage.fault(FaultKind::ClockDrift);
        }
        if plan.stranger {
            coverage.fault(FaultKind::Stranger);
        }
        let n = nodes as usize;
        let mut rng_disk_speed = Stream::fork(seed, "disk-speed");
        let sync_bounds_ns = (0..n).map(|_| plan.disk.node_bounds(&mut rng_disk_speed)).collect();
        Kernel {
            now: 0,
            step: 0,
            queue: Queue::new(queue_len_max),
            overflow: None,
            faults: plan.schedule.iter().map(|s| s.fault.clone()).collect(),
            fault_active: vec![false; plan.schedule.len()],
            strikes_made: vec![0; plan.aim.moments.len()],
            fsync_window_aim: plan.aim.position(crate::aim::FSYNC_WINDOW),
            after_send_aim: plan.aim.position(crate::aim::AFTER_SEND),
            sync_bounds_ns,
            last_sent: None,
            keep_last_sent: !plan.aim.late_copy_ratio.is_never() && !plan.aim.is_off(),
            promises: Vec::new(),
            actions: Vec::new(),
            held_sends: (0..n).map(|_| Vec::new()).collect(),
            reconnected_while_paused: (0..n).map(|_| Vec::new()).collect(),
            plan,
            clocks,
            network: Network::new(n),
            store: ObjectStore::default(),
            store_outages: 0,
            session_server: Default::default(),
            disks: (0..n).map(|_| Disk::default()).collect(),
            incarnations: vec![0; n],
            paused: vec![false; n],
            deferred: (0..n).map(|_| Vec::new()).collect(),
            healed: false,
            acting: Acting::Kernel,
            labels: vec![None; n],
            next_request: 0,
            rng_net: Stream::fork(seed, "net"),
            rng_storage: Stream::fork(seed, "storage"),
            rng_disk: Stream::fork(seed, "disk"),
            rng_strikes: Stream::fork(seed, "strikes"),
            rng_nodes: (0..nodes).map(|id| Stream::for_node(seed, id)).collect(),
            trace,
            coverage,
        }
    }

    /// Queues `event` at `at`; a full queue is remembered and ends the run as a bound.
    #[inline]
    pub(crate) fn schedule(&mut self, at: SimTime, event: Event<N>) {
        debug_assert!(at >= self.now, "an event is never scheduled in the past");
        if let Err(full) = self.queue.push(at, event) {
            self.overflow.get_or_insert(full);
        }
    }

    /// Adds a discrete fault (a strike) to the run's list; returns its index.
    pub(crate) fn add_fault(&mut self, fault: Fault) -> usize {
        self.faults.push(fault);
        self.fault_active.push(false);
        self.faults.len() - 1
    }

    /// The store's clock: perfect, and in the same frame as node clocks (the local epoch), so a
    /// record's expiry written by a node compares with it directly.
    pub(crate) fn store_time_ns(&self) -> u64 {
        Clock::default().local_ns(self.now)
    }

    pub(crate) fn storage_latency(&mut self, from: NodeId, to: NodeId) -> u64 {
        let options = &self.plan.storage;
        let latency = self.rng_storage.between(options.latency_ns_min, options.latency_ns_max);
        latency + self.network.clog_delay_ns(from, to)
    }

    /// Draws the way out of a store request `node` sends now (the same draws, in the same
    /// order, for object-store and session requests). A request slower than the caller's
    /// patience still applies when it lands, but the caller has already seen a timeout: the
    /// ambiguity real object stores have.
    pub(crate) fn store_departure(&mut self, node: NodeId) -> StoreDeparture {
        self.next_request += 1;
        let request = self.next_request;
        let incarnation = self.incarnations[node as usize];
        let timeout_at = self.now + self.plan.storage.timeout_ns;
        let arrive_at = self.now + self.storage_latency(node, STORE);
        let reaches_store = self.network.link_open(node, STORE);
        let answered = !reaches_store || arrive_at > timeout_at;
        StoreDeparture { request, incarnation, timeout_at, arrive_at, reaches_store, answered }
    }

    /// When the store's answer to `node` arrives, or None when the way back is cut or slower
    /// than the caller's patience (it sees a timeout then).
    pub(crate) fn store_return_at(&mut self, node: NodeId, timeout_at: u64) -> Option<u64> {
        let arrive_at = self.now + self.storage_latency(STORE, node);
        let lost = !self.network.link_open(STORE, node) || arrive_at > timeout_at;
        (!lost).then_some(arrive_at)
    }

    /// A store request left `node`: an aimed strike may follow (never a late copy, which
    /// replays messages only).
    pub(crate) fn after_store_send(&mut self, node: NodeId) {
        let aimed = self.after_send_aim;
        self.last_sent = None;
        self.maybe_strike(node, node, aimed, 0);
    }

    fn store_arrive(&mut self, event: Event<N>) {
        let Event::StoreArrive { node, incarnation, request, op, timeout_at, answered } = event
        else {
            unreachable!("store_arrive handles StoreArrive only")
        };
        if !self.network.link_open(node, STORE) {
            // Caught in flight by a partition, as a message would be: lost, never applied.
            let hash = op.fingerprint(N::hash_value);
            let record = self.record(RecordKind::Drop, STORE, node, request, hash);
            self.trace.record(record, || format!("{op:?} (in flight)"));
            if !answered {
                let reply = StorageReply::Failed(StorageError::Timeout);
                self.schedule(timeout_at, Event::StoreReply { node, incarnation, request, reply });
            }
            return;
        }
        let hash = op.fingerprint(N::hash_value);
        let record = self.record(RecordKind::StoreApply, node, STORE, request, hash);
        self.trace.record(record, || format!("{op:?}"));
        let reply = if self.store_outages > 0 {
            StorageReply::Failed(StorageError::Unavailable)
        } else if self.rng_storage.chance(self.plan.storage.transient_error_ratio) {
            self.coverage.fault(FaultKind::StorageTransientError);
            StorageReply::Failed(StorageError::Transient)
        } else {
            let reply = self.store.apply(self.store_time_ns(), op);
            if !answered && self.rng_storage.chance(self.plan.storage.ambiguous_ratio) {
                self.coverage.fault(FaultKind::StorageAmbiguousWrite);
                StorageReply::Failed(StorageError::Timeout)
            } else {
                reply
            }
        };
        if answered {
            return;
        }
        let (at, reply) = match (reply, self.store_return_at(node, timeout_at)) {
            (reply @ StorageReply::Failed(StorageError::Timeout), _) => (timeout_at, reply),
            (_, None) => (timeout_at, StorageReply::Failed(StorageError::Timeout)),
            (reply, Some(arrive_at)) => (arrive_at, reply),
        };
        self.schedule(at, Event::StoreReply { node, incarnation, request, reply });
    }
}

/// The kernel plus the nodes: what one run is made of.
pub struct World<N: Node> {
    pub(crate) kernel: Kernel<N>,
    /// `None` while a node is crashed.
    pub(crate) nodes: Vec<Option<N>>,
}

impl<N: Node> World<N> {
    /// Runs the next event. Returns false when nothing is left to run.
    pub(crate) fn step<S: Scenario<Node = N>>(&mut self, scenario: &S) -> bool {
        let Some((time, event)) = self.kernel.queue.pop() else {
            return false;
        };
        self.kernel.now = time;
        self.kernel.step += 1;
        // Actions declared outside a step (at boot, while healing) belong to no step's check.
        self.kernel.actions.clear();
        self.kernel.acting = Acting::Kernel;
        if let Some(node) = self.addressee(&event) {
            if self.kernel.paused[node as usize] {
                self.kernel.deferred[node as usize].push(event);
                return true;
            }
        }
        match event {
            Event::Deliver { .. } => self.deliver(event),
            Event::Timer { .. } => self.fire_timer(event),
            Event::StoreArrive { .. } => self.kernel.store_arrive(event),
            Event::StoreReply { .. } => self.storage_reply(event),
            Event::DiskSynced { .. } => self.disk_synced(event),
            Event::FaultBegin(index) => self.begin_fault(index, scenario),
            Event::FaultEnd(index) => self.end_fault(index, scenario),
            Event::SessionArrive { .. } => self.kernel.session_arrive(event),
            Event::SessionReply { .. } => self.session_reply(event),
            Event::KeepaliveCheck { node, epoch } => self.kernel.keepalive_check(node, epoch),
        }
        if self.kernel.trace.capturing() {
            self.record_labels();
        }
        true
    }

    /// Capture only: records every node whose label changed during the step.
    pub(crate) fn record_labels(&mut self) {
        for (id, node) in self.nodes.iter().enumerate() {
            self.kernel.acting = Acting::Node { node: id as NodeId, handler: "label" };
            let label = node.as_ref().and_then(|n| n.label());
            if label != self.kernel.labels[id] {
                let record = self.kernel.record(RecordKind::State, id as NodeId, NO_ENDPOINT, 0, 0);
                let detail = label.clone().unwrap_or_else(|| "down".to_string());
                self.kernel.trace.annotate(record, detail);
                self.kernel.labels[id] = label;
            }
        }
    }

    /// The node an event is for, if it waits while that node is paused.
    fn addressee(&self, event: &Event<N>) -> Option<NodeId> {
        match event {
            Event::Deliver { to, .. } => Some(*to),
            Event::Timer { node, .. }
            | Event::StoreReply { node, .. }
            | Event::DiskSynced { node, .. }
            | Event::SessionReply { node, .. } => Some(*node),
            _ => None,
        }
    }

    fn current(&self, node: NodeId, incarnation: u32) -> bool {
        self.kernel.incarnations[node as usize] == incarnation
    }

    fn deliver(&mut self, event: Event<N>) {
        let Event::Deliver { from, to, sent_at, msg } = event else { unreachable!() };
        let kernel = &mut self.kernel;
        let hash = message_hash::<N>(&msg);
        let up = self.nodes[to as usize].is_some();
        if !up || !kernel.network.link_open(from, to) {
            let record = kernel.record(RecordKind::Drop, to, from, sent_at, hash);
            kernel.trace.record(record, || format!("{msg:?} (in flight)"));
            return;
        }
        let record = kernel.record(RecordKind::Deliver, to, from, sent_at, hash);
        kernel.trace.record(record, || format!("{msg:?}"));
        let node = self.nodes[to as usize].as_mut().expect("checked up");
        kernel.acting = Acting::Node { node: to, handler: "on_message" };
        node.on_message(&mut Context { kernel, node: to }, from, msg);
    }

    fn fire_timer(&mut self, event: Event<N>) {
        let Event::Timer { node: id, incarnation, tag } = event else { unreachable!() };
        if !self.current(id, incarnation) {
            return;
        }
        let kernel = &mut self.kernel;
        let record = kernel.record(RecordKind::Timer, id, NO_ENDPOINT, tag, 0);
        kernel.trace.record(record, || format!("timer {tag}"));
        let node = self.nodes[id as usize].as_mut().expect("a current incarnation is up");
        kernel.acting = Acting::Node { node: id, handler: "on_timer" };
        node.on_timer(&mut Context { kernel, node: id }, tag);
    }

    fn storage_reply(&mut self, event: Event<N>) {
        let Event::StoreReply { node: id, incarnation, request, reply } = event else {
            unreachable!()
        };
        if !self.current(id, incarnation) {
            return;
        }
        let kernel = &mut self.kernel;
        let hash = reply.fingerprint(N::hash_value);
        let record = kernel.record(RecordKind::StoreReply, id, STORE, request, hash);
        kernel.trace.record(record, || format!("{reply:?}"));
        let node = self.nodes[id as usize].as_mut().expect("a current incarnation is up");
        kernel.acting = Acting::Node { node: id, handler: "on_storage" };
        node.on_storage(&mut Context { kernel, node: id }, request, reply);
    }

    fn disk_synced(&mut self, event: Event<N>) {
        let Event::DiskSynced { node: id, incarnation, len } = event else { unreachable!() };
        if !self.current(id, incarnation) {
            return;
        }
        let kernel = &mut self.kernel;
        kernel.disks[id as usize].sync_through(len);
        let durable = kernel.disks[id as usize].synced_len();
        let record = kernel.record(RecordKind::DiskSync, id, NO_ENDPOINT, durable as u64, 0);
        kernel.trace.record(record, || format!("synced {durable} records"));
        kernel.acting = Acting::Node { node: id, handler: "on_disk_synced" };
        let held = &mut kernel.held_sends[id as usize];
        if held.first().is_some_and(|send| send.needed <= durable) {
            let covered = held.partition_point(|send| send.needed <= durable);
            let released: Vec<HeldSend<N>> = held.drain(..covered).collect();
            let mut cx = Context { kernel, node: id };
            for send in released {
                cx.declare_and_send(send.to, send.msg, send.promise, send.moment);
            }
        }
        let node = self.nodes[id as usize].as_mut().expect("a current incarnation is up");
        node.on_disk_synced(&mut Context { kernel: &mut self.kernel, node: id }, durable);
    }

    /// Starts node `id` from its durable state (first boot or restart).
    pub(crate) fn boot<S: Scenario<Node = N>>(&mut self, id: NodeId, scenario: &S) {
        let kernel = &mut self.kernel;
        let incarnation = kernel.incarnations[id as usize] as u64;
        let record = kernel.record(RecordKind::Boot, id, NO_ENDPOINT, incarnation, 0);
        kernel.trace.record(record, || format!("boot incarnation {incarnation}"));
        kernel.acting = Acting::Node { node: id, handler: "boot" };
        let node = scenario.boot(id, &mut Context { kernel, node: id });
        self.nodes[id as usize] = Some(node);
    }

    fn crash(&mut self, id: NodeId) {
        let kernel = &mut self.kernel;
        let index = id as usize;
        let ended = kernel.incarnations[index] as u64;
        let record = kernel.record(RecordKind::Crash, id, NO_ENDPOINT, ended, 0);
        kernel.trace.record(record, || format!("crash of incarnation {ended}"));
        self.nodes[index] = None;
        kernel.incarnations[index] += 1;
        kernel.paused[index] = false;
        kernel.clear_deferred(index);
        kernel.held_sends[index].clear();
        kernel.reconnected_while_paused[index].clear();
        let tear = kernel.rng_disk.chance(kernel.plan.disk.torn_write_ratio);
        kernel.disks[index].crash(tear);
        if kernel.disks[index].torn_tail() {
            kernel.coverage.fault(FaultKind::TornWrite);
        }
        kernel.end_sessions(id, crate::session::SessionEnd::Crashed);
    }

    fn resume(&mut self, id: NodeId) {
        let kernel = &mut self.kernel;
        kernel.paused[id as usize] = false;
        // Held events were due before anything due now: they go first, in their order.
        let waiting = std::mem::take(&mut kernel.deferred[id as usize]);
        if let Err(full) = kernel.queue.push_before(kernel.now, waiting) {
            kernel.overflow.get_or_insert(full);
        }
        for peer in std::mem::take(&mut self.kernel.reconnected_while_paused[id as usize]) {
            self.tell_reconnected(id, peer);
        }
    }

    /// Heals what `heal` heals in the network, then tells both ends of every link that works
    /// both ways again (`Node::on_reconnect`).
    fn heal_links(&mut self, heal: impl FnOnce(&mut crate::network::Network)) {
        let before = self.kernel.network.cut_pairs();
        heal(&mut self.kernel.network);
        if before.is_empty() {
            return;
        }
        let after = self.kernel.network.cut_pairs();
        for (a, b) in before.into_iter().filter(|pair| !after.contains(pair)) {
            self.tell_reconnected(a, b);
            self.tell_reconnected(b, a);
        }
    }

    /// Tells `node` (if it is a node, up and not paused; a paused one hears it on resuming)
    /// that its link with `peer` works again.
    fn tell_reconnected(&mut self, node: NodeId, peer: NodeId) {
        let Some(state) = self.nodes.get_mut(node as usize).and_then(Option::as_mut) else {
            return;
        };
        let kernel = &mut self.kernel;
        if kernel.paused[node as usize] {
            return kernel.reconnected_while_paused[node as usize].push(peer);
        }
        if kernel.trace.capturing() {
            let record = kernel.record(RecordKind::Reconnect, node, peer, 0, 0);
            kernel.trace.annotate(
                record,
                format!("reconnected with {}", crate::network::endpoint_name(peer)),
            );
        }
        kernel.acting = Acting::Node { node, handler: "on_reconnect" };
        state.on_reconnect(&mut Context { kernel, node }, peer);
    }

    fn begin_fault<S: Scenario<Node = N>>(&mut self, index: usize, _scenario: &S) {
        if self.kernel.healed {
            return;
        }
        let fault = self.kernel.faults[index].clone();
        let applies = match &fault {
            Fault::Crash { node, .. } | Fault::Pause { node, .. } => {
                self.nodes[*node as usize].is_some() && !self.kernel.paused[*node as usize]
            }
            Fault::SessionLoss { node } => self.kernel.session_server.sessions.has_live(*node),
            _ => true,
        };
        let kernel = &mut self.kernel;
        let record =
            kernel.record(RecordKind::FaultBegin, NO_ENDPOINT, NO_ENDPOINT, index as u64, 0);
        kernel
            .trace
            .record(record, || format!("{fault:?}{}", if applies { "" } else { " (moot)" }));
        if !applies {
            return;
        }
        kernel.coverage.fault(fault.kind());
        kernel.fault_active[index] = true;
        let id = index as u64;
        match fault {
            Fault::Partition { partition, .. } => {
                kernel.network.partition(id, partition);
                kernel.watch_session_links();
            }
            Fault::Clog { from, to, extra_latency_ns, .. } => {
                kernel.network.clog(id, from, to, extra_latency_ns)
            }
            Fault::Crash { node, .. } => self.crash(node),
            Fault::Pause { node, .. } => kernel.paused[node as usize] = true,
            Fault::ClockJump { node, delta_ns } => kernel.clocks[node as usize].jump(delta_ns),
            Fault::StoreOutage { .. } => kernel.store_outages += 1,
            Fault::SessionLoss { node } => {
                kernel.end_sessions(node, crate::session::SessionEnd::Lost);
            }
        }
        let end_at = self.kernel.now + self.kernel.faults[index].duration_ns();
        self.kernel.schedule(end_at, Event::FaultEnd(index));
    }

    fn end_fault<S: Scenario<Node = N>>(&mut self, index: usize, scenario: &S) {
        if !std::mem::replace(&mut self.kernel.fault_active[index], false) {
            return;
        }
        let kernel = &mut self.kernel;
        let record = kernel.record(RecordKind::FaultEnd, NO_ENDPOINT, NO_ENDPOINT, index as u64, 0);
        kernel.trace.record(record, || format!("end of {:?}", kernel.faults[index]));
        self.undo_fault(index, scenario);
    }

    fn undo_fault<S: Scenario<Node = N>>(&mut self, index: usize, scenario: &S) {
        match self.kernel.faults[index].clone() {
            Fault::Partition { .. } => {
                self.heal_links(|network| network.heal(index as u64));
                self.kernel.watch_session_links();
            }
            Fault::Clog { .. } => self.kernel.network.heal(index as u64),
            Fault::Crash { node, .. } => self.boot(node, scenario),
            Fault::Pause { node, .. } => self.resume(node),
            Fault::ClockJump { .. } | Fault::SessionLoss { .. } => {}
            Fault::StoreOutage { .. } => self.kernel.store_outages -= 1,
        }
    }

    /// Ends every fault at once, for the liveness phase: links heal, crashed nodes restart,
    /// paused nodes resume, random loss and storage errors stop. Clock drift, a property of the
    /// hardware, stays.
    pub(crate) fn heal_all<S: Scenario<Node = N>>(&mut self, scenario: &S) {
        let kernel = &mut self.kernel;
        kernel.healed = true;
        let record = kernel.record(RecordKind::HealAll, NO_ENDPOINT, NO_ENDPOINT, 0, 0);
        kernel.trace.record(record, || "heal all faults".to_string());
        let network = &mut kernel.plan.network;
        network.drop_ratio = Ratio::NEVER;
        network.duplicate_ratio = Ratio::NEVER;
        network.reorder_ratio = Ratio::NEVER;
        kernel.plan.storage.transient_error_ratio = Ratio::NEVER;
        kernel.plan.storage.ambiguous_ratio = Ratio::NEVER;
        kernel.plan.disk.torn_write_ratio = Ratio::NEVER;
        kernel.plan.disk.slow_sync_ratio = Ratio::NEVER;
        for index in 0..kernel.faults.len() {
            if std::mem::replace(&mut self.kernel.fault_active[index], false) {
                self.undo_fault(index, scenario);
            }
        }
        self.heal_links(|network| network.heal_all());
        self.kernel.watch_session_links();
    }
}
