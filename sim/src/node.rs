//! How a user's state machine plugs into the kernel: implement [`Node`] for it. The kernel calls
//! the node for each event addressed to it and hands it a [`Context`], the node's only window on
//! the world: its local clock, the network, timers, the object store, its disk and its own
//! random stream. A node never sees true time or another node's state.

use crate::disk::Disk;
use crate::faults::FaultKind;
use crate::kernel::StoreDeparture;
use crate::kernel::{Event, Kernel};
use crate::network::Transit;
use crate::rng::Stream;
use crate::storage::{StorageError, StorageOp, StorageReply};
use crate::trace::{hash_debug, Record, RecordKind, StableHasher};
use crate::NodeId;
use std::fmt::Debug;
use std::hash::Hasher;

/// Correlates a storage request with its reply; unique within a run.
pub type RequestId = u64;

/// A simulated process. Its volatile state is the value itself; its durable state is its
/// [`Disk`], which the kernel keeps across crashes (see `Scenario::boot`).
///
/// Stable Rust has no defaults for associated types, so a node names all five; `()` stands for
/// one it does not use (a node with no object store: `type Value = ();`).
pub trait Node: Sized {
    /// Messages between nodes. `Debug` feeds reports and, unless [`Node::hash_message`] says
    /// otherwise, the trace hash.
    type Msg: Clone + Debug;
    /// Values kept in the object store; `()` when the node uses none.
    type Value: Clone + Debug;
    /// Records of the node's durable log; `()` when it keeps none.
    type Record: Clone + Debug;
    /// What a node promises is durable when it sends something (see [`Context::promise`]);
    /// `()` for a scenario that checks no promises.
    type Promise: Clone + Debug;
    /// The spec actions a node declares it took (see [`Context::action`]), which the scenario
    /// holds against its spec's action definitions after the step; `()` for none.
    type Action: Clone + Debug;

    /// Feeds `msg` into the run's trace hash. The default hashes its `Debug` text, which every
    /// message has (generated protobuf types included); a type with a derived `Hash` can be
    /// hashed faster with `msg.hash(hasher)`. Either way the hash must depend on the content
    /// only, never on addresses.
    fn hash_message(msg: &Self::Msg, hasher: &mut StableHasher) {
        hash_debug(msg, hasher);
    }

    /// Feeds a stored value into the trace hash; as [`Node::hash_message`].
    fn hash_value(value: &Self::Value, hasher: &mut StableHasher) {
        hash_debug(value, hasher);
    }

    /// A message from `from` arrived.
    fn on_message(&mut self, cx: &mut Context<'_, Self>, from: NodeId, msg: Self::Msg);
    /// A timer set with `tag` fired.
    fn on_timer(&mut self, cx: &mut Context<'_, Self>, tag: u64);
    /// The answer to storage request `request` arrived (exactly one per request).
    fn on_storage(
        &mut self,
        _cx: &mut Context<'_, Self>,
        _request: RequestId,
        _reply: StorageReply<Self::Value>,
    ) {
    }
    /// An fsync completed: the first `durable_len` disk records survive a crash.
    fn on_disk_synced(&mut self, _cx: &mut Context<'_, Self>, _durable_len: usize) {}
    /// The answer to session request `request` arrived (exactly one per request; see
    /// [`Context::session`]).
    fn on_session(
        &mut self,
        _cx: &mut Context<'_, Self>,
        _request: RequestId,
        _reply: crate::session::SessionReply<Self::Value>,
    ) {
    }

    /// The link to `peer` (a node, or [`crate::network::STORE`]) works both ways again after a
    /// partition cut it: what a session layer's reconnect callback tells a real process. A node
    /// paused when it happened hears it as it resumes; a crashed one does not (it boots fresh).
    fn on_reconnect(&mut self, _cx: &mut Context<'_, Self>, _peer: NodeId) {}

    /// A short label of the node's state for trace viewers ("leader t3", "holds lease"), or
    /// None. Only read when a run captures its trace.
    fn label(&self) -> Option<String> {
        None
    }
}

/// A node's window on the simulated world during one event.
pub struct Context<'a, N: Node> {
    pub(crate) kernel: &'a mut Kernel<N>,
    pub(crate) node: NodeId,
}

impl<N: Node> Context<'_, N> {
    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.node
    }

    /// This node's local clock, in nanoseconds (drifted, offset, maybe jumped). Clocks read
    /// from an epoch of [`crate::clock::LOCAL_EPOCH_NS`] (1,000 s), not from 0, so a clock
    /// offset backwards never pins at zero: measure durations between two readings, never
    /// from 0.
    #[inline]
    pub fn now_local_ns(&self) -> u64 {
        self.kernel.clocks[self.node as usize].local_ns(self.kernel.now)
    }

    /// How many nodes the run has (ids `0..node_count`).
    pub fn node_count(&self) -> u32 {
        self.kernel.clocks.len() as u32
    }

    /// Sends `msg` to `to` over the simulated network: it may be delayed, lost, duplicated,
    /// reordered, or cut by a partition.
    #[inline]
    pub fn send(&mut self, to: NodeId, msg: N::Msg) {
        let kernel = &mut *self.kernel;
        let from = self.node;
        let last_copy = kernel.keep_last_sent.then(|| msg.clone());
        let transit = kernel.network.transit(&mut kernel.rng_net, &kernel.plan.network, from, to);
        let sent_at = kernel.now;
        match transit {
            Transit::Dropped => {
                if kernel.network.link_open(from, to) {
                    kernel.coverage.fault(FaultKind::MessageDrop);
                }
                let record =
                    kernel.record(RecordKind::Drop, to, from, sent_at, message_hash::<N>(&msg));
                kernel.trace.record(record, || format!("{msg:?}"));
            }
            Transit::Delivered { latency_ns, duplicate_ns, held_back } => {
                if held_back {
                    kernel.coverage.fault(FaultKind::MessageReorder);
                }
                if let Some(duplicate_ns) = duplicate_ns {
                    kernel.coverage.fault(FaultKind::MessageDuplicate);
                    let copy = Event::Deliver { from, to, sent_at, msg: msg.clone() };
                    kernel.schedule(sent_at + duplicate_ns, copy);
                }
                kernel.schedule(sent_at + latency_ns, Event::Deliver { from, to, sent_at, msg });
            }
        }
        if let Some(msg) = last_copy {
            let step = kernel.step;
            kernel.last_sent = Some(crate::aim::LastSent { step, from, to, msg });
        }
        let aimed = kernel.after_send_aim;
        kernel.maybe_strike(from, from, aimed, 0);
    }

    /// Fires [`Node::on_timer`] with `tag` after `after_local_ns` as measured by this node's
    /// clock (drift stretches it; clock jumps do not move it). Timers cannot be cancelled: a
    /// node ignores a stale one by its tag.
    #[inline]
    pub fn set_timer(&mut self, after_local_ns: u64, tag: u64) {
        let kernel = &mut *self.kernel;
        let node = self.node;
        let delay = kernel.clocks[node as usize].true_delay_ns(after_local_ns);
        let incarnation = kernel.incarnations[node as usize];
        kernel.schedule(kernel.now + delay, Event::Timer { node, incarnation, tag });
    }

    /// Sends an operation to the object store. Exactly one [`Node::on_storage`] answers it,
    /// unless this node crashes first; on `Failed(Timeout)` the operation may have applied.
    pub fn storage(&mut self, op: StorageOp<N::Value>) -> RequestId {
        let (kernel, node) = (&mut *self.kernel, self.node);
        let StoreDeparture { request, incarnation, timeout_at, arrive_at, reaches_store, answered } =
            kernel.store_departure(node);
        if answered {
            let reply = StorageReply::Failed(StorageError::Timeout);
            kernel.schedule(timeout_at, Event::StoreReply { node, incarnation, request, reply });
        }
        if reaches_store {
            let arrive =
                Event::StoreArrive { node, incarnation, request, op, timeout_at, answered };
            kernel.schedule(arrive_at, arrive);
        }
        kernel.after_store_send(node);
        request
    }

    /// This node's durable log. Appends are lost on a crash until [`Context::sync_disk`]
    /// completes; only the kernel marks records synced or crashes a disk.
    pub fn disk(&mut self) -> &mut Disk<N::Record> {
        &mut self.kernel.disks[self.node as usize]
    }

    /// Sends `msg` to `to` once every record appended to this node's disk so far is synced:
    /// at once if it already is, else when the fsync that covers them completes (before
    /// [`Node::on_disk_synced`] runs). A crash first loses the message, as a real process
    /// loses what it queued. For a message that promises what the disk holds (a vote, an
    /// append acknowledgement), this is the queue every such machine otherwise writes itself.
    pub fn send_when_synced(&mut self, to: NodeId, msg: N::Msg) {
        self.send_when_synced_declaring(to, msg, None, None);
    }

    /// [`Context::send_when_synced`] for a message that promises `promise` or marks `moment`
    /// (a vote grant, an append acknowledgement): both are declared ([`Context::promise`],
    /// [`Context::moment`]) in the step the message leaves, just before it, so the scenario
    /// holds the promise against the disks as they are then and an aimed fault strikes after
    /// the message, not while it waits.
    pub fn send_when_synced_declaring(
        &mut self,
        to: NodeId,
        msg: N::Msg,
        promise: Option<N::Promise>,
        moment: Option<&'static str>,
    ) {
        let disk = &self.kernel.disks[self.node as usize];
        let needed = disk.records().len();
        if disk.synced_len() >= needed {
            self.declare_and_send(to, msg, promise, moment);
            return;
        }
        let held = crate::kernel::HeldSend { needed, to, msg, promise, moment };
        self.kernel.held_sends[self.node as usize].push(held);
    }

    /// Declares what a message promises and marks, then sends it.
    pub(crate) fn declare_and_send(
        &mut self,
        to: NodeId,
        msg: N::Msg,
        promise: Option<N::Promise>,
        moment: Option<&'static str>,
    ) {
        if let Some(promise) = promise {
            self.promise(promise);
        }
        if let Some(moment) = moment {
            self.moment(moment);
        }
        self.send(to, msg);
    }

    /// Starts an fsync of everything appended so far; [`Node::on_disk_synced`] reports it.
    /// It takes as long as this node's disk usually does, or, as a slow outlier, longer.
    pub fn sync_disk(&mut self) {
        let kernel = &mut *self.kernel;
        let node = self.node;
        let len = kernel.disks[node as usize].records().len();
        let (least, most) = kernel.sync_bounds_ns[node as usize];
        let mut latency = kernel.rng_disk.between(least, most);
        let options = &kernel.plan.disk;
        if kernel.rng_disk.chance(options.slow_sync_ratio) {
            latency = kernel.rng_disk.between(most, options.slow_sync_ns_max.max(most));
            kernel.coverage.fault(FaultKind::SlowFsync);
        }
        let incarnation = kernel.incarnations[node as usize];
        kernel.schedule(kernel.now + latency, Event::DiskSynced { node, incarnation, len });
        let aimed = kernel.fsync_window_aim;
        kernel.maybe_strike(node, node, aimed, latency);
    }

    /// Marks a moment the state machine finds interesting (an election stood, a vote granted,
    /// a handover step): an aimed fault may strike this node right after it. The kernel decides
    /// from the seed; `moment` means nothing to it beyond its name.
    pub fn moment(&mut self, moment: &'static str) {
        self.moment_at(moment, self.node);
    }

    /// Marks a moment at which a fault would best hit another node, `node` (the leader a
    /// request just went to, say): an aimed fault may strike it right after.
    pub fn moment_at(&mut self, moment: &'static str, node: NodeId) {
        let aimed = self.kernel.plan.aim.position(moment);
        self.kernel.maybe_strike(self.node, node, aimed, 0);
    }

    /// Declares that what this node sends now relies on `promise` being durable (a vote grant
    /// on the durable vote, a progress report on the durable log). The scenario verifies every
    /// promise of a step right after it ([`crate::Scenario::check_promises`]), against the
    /// state that would survive a crash then: before anything else can change.
    pub fn promise(&mut self, promise: N::Promise) {
        self.kernel.promises.push((self.node, promise));
    }

    /// Declares that this step took spec action `action` (`AdvanceCommit(n, 7)`, say): the
    /// scenario reads the step's actions from [`crate::View::actions`] and holds the state
    /// before and after the step against the action's guard and effect. When the run captures
    /// its trace, the action is recorded too (never hashed).
    pub fn action(&mut self, action: N::Action) {
        let kernel = &mut *self.kernel;
        if kernel.trace.capturing() {
            let record =
                kernel.record(RecordKind::Action, self.node, crate::trace::NO_ENDPOINT, 0, 0);
            kernel.trace.annotate(record, format!("{action:?}"));
        }
        kernel.actions.push((self.node, action));
    }

    /// This node's own random stream (for workload choices; never for the protocol itself).
    pub fn rng(&mut self) -> &mut Stream {
        &mut self.kernel.rng_nodes[self.node as usize]
    }

    /// Notes that a situation the scenario exists to create happened ("sometimes" coverage).
    pub fn sometimes(&mut self, probe: &'static str) {
        self.kernel.coverage.probe(probe);
    }
}

/// The trace fingerprint of a message, as its node type hashes it.
#[inline]
pub(crate) fn message_hash<N: Node>(msg: &N::Msg) -> u64 {
    let mut hasher = StableHasher::default();
    N::hash_message(msg, &mut hasher);
    hasher.finish()
}

/// Builds a record of the current step (used by the kernel and by `Context`).
impl<N: Node> Kernel<N> {
    #[inline]
    pub(crate) fn record(
        &self,
        kind: RecordKind,
        node: NodeId,
        peer: NodeId,
        aux: u64,
        payload_hash: u64,
    ) -> Record {
        Record { step: self.step, time_ns: self.now, kind, node, peer, aux, payload_hash }
    }
}
