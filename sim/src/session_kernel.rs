//! The kernel's side of sessions (`crate::session`): session requests travel to the store and
//! back as storage requests do (latency, partitions, outages, transient errors, ambiguous
//! timeouts), and the kernel ends sessions when their node crashes, when a session-loss fault
//! strikes, and when a node's link to the store stays cut past the keepalive. A run that never
//! opens a session pays nothing: every hook returns at once until the first `Open` applies.

use crate::faults::FaultKind;
use crate::kernel::StoreDeparture;
use crate::kernel::{Event, Kernel, World};
use crate::network::STORE;
use crate::node::{Context, Node, RequestId};
use crate::session::{SessionEnd, SessionOp, SessionReply, Sessions};
use crate::storage::StorageError;
use crate::trace::RecordKind;
use crate::NodeId;

/// The probe a run hits each time a keepalive ends a node's sessions.
pub const KEEPALIVE_EXPIRED: &str = "session-keepalive-expired";

/// The store's sessions, the keepalive watch on each node's link to the store, and the session
/// requests and replies in flight.
#[derive(Debug)]
pub(crate) struct SessionServer<V> {
    pub(crate) sessions: Sessions,
    /// Bumped for every watch begun, so a check left over from an earlier cut is ignored.
    epoch: u64,
    /// Per node: the watch under way while its link is cut and it has live sessions.
    watching: Vec<Option<u64>>,
    /// Requests and replies in flight, by slot. Events carry only the slot, so the kernel's
    /// events keep no heap fields (nor their drop glue) for the runs that never use sessions.
    parked: Vec<Option<InFlight<V>>>,
    free_slots: Vec<u32>,
}

#[derive(Debug)]
enum InFlight<V> {
    Request(SessionOp<V>),
    Reply(SessionReply<V>),
}

impl<V> Default for SessionServer<V> {
    fn default() -> Self {
        SessionServer {
            sessions: Sessions::default(),
            epoch: 0,
            watching: Vec::new(),
            parked: Vec::new(),
            free_slots: Vec::new(),
        }
    }
}

impl<V> SessionServer<V> {
    fn park(&mut self, item: InFlight<V>) -> u32 {
        match self.free_slots.pop() {
            Some(slot) => {
                self.parked[slot as usize] = Some(item);
                slot
            }
            None => {
                self.parked.push(Some(item));
                (self.parked.len() - 1) as u32
            }
        }
    }

    fn unpark(&mut self, slot: u32) -> InFlight<V> {
        self.free_slots.push(slot);
        self.parked[slot as usize].take().expect("a parked slot is taken once")
    }

    fn park_reply(&mut self, reply: SessionReply<V>) -> u32 {
        self.park(InFlight::Reply(reply))
    }
}

impl<N: Node> Kernel<N> {
    /// A session request reaches the store: applied atomically now unless a partition caught
    /// it in flight or the caller's process is gone, then answered like a storage request.
    #[inline(never)] // kept out of the kernel's hot loop, which runs without sessions
    pub(crate) fn session_arrive(&mut self, event: Event<N>) {
        let Event::SessionArrive { node, incarnation, request, slot, timeout_at, answered } = event
        else {
            unreachable!("session_arrive handles SessionArrive only")
        };
        let InFlight::Request(op) = self.session_server.unpark(slot) else {
            unreachable!("an arriving slot holds a request")
        };
        let gone = self.incarnations[node as usize] != incarnation;
        if gone || !self.network.link_open(node, STORE) {
            // Lost in flight, or its connection died with its process: never applied.
            let hash = op.fingerprint(N::hash_value);
            let record = self.record(RecordKind::Drop, STORE, node, request, hash);
            self.trace.record(record, || format!("{op:?} (in flight)"));
            if !answered && !gone {
                let timeout = SessionReply::Failed(StorageError::Timeout);
                let slot = self.session_server.park_reply(timeout);
                self.schedule(timeout_at, Event::SessionReply { node, incarnation, request, slot });
            }
            return;
        }
        let hash = op.fingerprint(N::hash_value);
        let record = self.record(RecordKind::StoreApply, node, STORE, request, hash);
        self.trace.record(record, || format!("{op:?}"));
        let reply = self.session_apply(node, incarnation, op, answered);
        if answered {
            return;
        }
        let (at, reply) = match (reply, self.store_return_at(node, timeout_at)) {
            (reply @ SessionReply::Failed(StorageError::Timeout), _) => (timeout_at, reply),
            (_, None) => (timeout_at, SessionReply::Failed(StorageError::Timeout)),
            (reply, Some(arrive_at)) => (arrive_at, reply),
        };
        let slot = self.session_server.park_reply(reply);
        self.schedule(at, Event::SessionReply { node, incarnation, request, slot });
    }

    /// The store's answer to `op`, with the store's own faults drawn as for storage requests.
    fn session_apply(
        &mut self,
        node: NodeId,
        incarnation: u32,
        op: SessionOp<N::Value>,
        answered: bool,
    ) -> SessionReply<N::Value> {
        if self.store_outages > 0 {
            return SessionReply::Failed(StorageError::Unavailable);
        }
        if self.rng_storage.chance(self.plan.storage.transient_error_ratio) {
            self.coverage.fault(FaultKind::StorageTransientError);
            return SessionReply::Failed(StorageError::Transient);
        }
        let opens_or_ends =
            matches!(op, SessionOp::Open | SessionOp::Terminate { .. } | SessionOp::Close { .. });
        let (now, store_time_ns) = (self.now, self.store_time_ns());
        let server = &mut self.session_server.sessions;
        let reply = server.apply(&mut self.store, now, store_time_ns, (node, incarnation), op);
        if opens_or_ends {
            // A session opened across a one-way cut is watched from now; a node left without
            // sessions stops being watched, so its next session gets a keepalive of its own.
            self.watch_session_links();
        }
        if !answered && self.rng_storage.chance(self.plan.storage.ambiguous_ratio) {
            self.coverage.fault(FaultKind::StorageAmbiguousWrite);
            return SessionReply::Failed(StorageError::Timeout);
        }
        reply
    }

    /// Forgets the events held for paused node `index` (it crashed), with the session replies
    /// parked for them.
    pub(crate) fn clear_deferred(&mut self, index: usize) {
        let server = &mut self.session_server;
        for event in self.deferred[index].drain(..) {
            if let Event::SessionReply { slot, .. } = event {
                server.unpark(slot);
            }
        }
    }

    /// Ends every live session of `node` for `end`, releasing their locks; returns how many.
    #[inline(never)] // kept out of the kernel's hot loop, which runs without sessions
    pub(crate) fn end_sessions(&mut self, node: NodeId, end: SessionEnd) -> usize {
        if self.session_server.sessions.never_used() {
            return 0;
        }
        let ended = self.session_server.sessions.end_node(node, end, self.now);
        if ended > 0 {
            let record = self.record(RecordKind::SessionEnd, node, STORE, ended as u64, 0);
            self.trace.record(record, || format!("{ended} session(s) ended: {end:?}"));
            self.watch_session_links();
        }
        ended
    }

    /// Starts a keepalive watch for each node that has live sessions and whose link to the
    /// store is cut (either way), and drops the watch of every other node. Called whenever the
    /// links or the sessions change.
    #[inline(never)] // kept out of the kernel's hot loop, which runs without sessions
    pub(crate) fn watch_session_links(&mut self) {
        if self.session_server.sessions.never_used() {
            return;
        }
        let nodes = self.incarnations.len();
        self.session_server.watching.resize(nodes, None);
        for index in 0..nodes {
            let node = index as NodeId;
            let cut = !self.network.link_open(node, STORE) || !self.network.link_open(STORE, node);
            let watched = cut && self.session_server.sessions.has_live(node);
            match (watched, self.session_server.watching[index]) {
                (true, None) => {
                    self.session_server.epoch += 1;
                    let epoch = self.session_server.epoch;
                    self.session_server.watching[index] = Some(epoch);
                    let at = self.now + self.plan.sessions.keepalive_ns;
                    self.schedule(at, Event::KeepaliveCheck { node, epoch });
                }
                (false, Some(_)) => self.session_server.watching[index] = None,
                _ => {}
            }
        }
    }

    /// A keepalive ran out: if `node`'s link has stayed cut since watch `epoch` began, the
    /// server ends its sessions.
    #[inline(never)] // kept out of the kernel's hot loop, which runs without sessions
    pub(crate) fn keepalive_check(&mut self, node: NodeId, epoch: u64) {
        let watch = self.session_server.watching.get_mut(node as usize);
        let Some(watch) = watch.filter(|watch| **watch == Some(epoch)) else { return };
        *watch = None;
        if self.end_sessions(node, SessionEnd::KeepaliveExpired) > 0 {
            self.coverage.probe(KEEPALIVE_EXPIRED);
        }
    }
}

impl<N: Node> World<N> {
    /// A session reply reaches its node (unless the node restarted meanwhile).
    #[inline(never)] // kept out of the kernel's hot loop, which runs without sessions
    pub(crate) fn session_reply(&mut self, event: Event<N>) {
        let Event::SessionReply { node: id, incarnation, request, slot } = event else {
            unreachable!("session_reply handles SessionReply only")
        };
        let InFlight::Reply(reply) = self.kernel.session_server.unpark(slot) else {
            unreachable!("a reply's slot holds a reply")
        };
        if self.kernel.incarnations[id as usize] != incarnation {
            return;
        }
        let kernel = &mut self.kernel;
        let hash = reply.fingerprint(N::hash_value);
        let record = kernel.record(RecordKind::StoreReply, id, STORE, request, hash);
        kernel.trace.record(record, || format!("{reply:?}"));
        let node = self.nodes[id as usize].as_mut().expect("a current incarnation is up");
        kernel.acting = crate::kernel::Acting::Node { node: id, handler: "on_session" };
        node.on_session(&mut Context { kernel, node: id }, request, reply);
    }
}

impl<N: Node> Context<'_, N> {
    /// Sends a request to the store's session service. Exactly one [`Node::on_session`]
    /// answers it, unless this node crashes first; on `Failed(Timeout)` it may have applied.
    pub fn session(&mut self, op: SessionOp<N::Value>) -> RequestId {
        let (kernel, node) = (&mut *self.kernel, self.node);
        let StoreDeparture { request, incarnation, timeout_at, arrive_at, reaches_store, answered } =
            kernel.store_departure(node);
        if answered {
            let slot =
                kernel.session_server.park_reply(SessionReply::Failed(StorageError::Timeout));
            kernel.schedule(timeout_at, Event::SessionReply { node, incarnation, request, slot });
        }
        if reaches_store {
            let slot = kernel.session_server.park(InFlight::Request(op));
            let arrive =
                Event::SessionArrive { node, incarnation, request, slot, timeout_at, answered };
            kernel.schedule(arrive_at, arrive);
        }
        kernel.after_store_send(node);
        request
    }
}
