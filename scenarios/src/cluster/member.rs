//! A cluster member as the simulator drives it: the real `model::cluster::Member` plus the glue
//! to the network, the disk, the object store and the timers.

use super::{ClusterAction, ClusterMsg, ClusterNode};
use crate::intruder::Tap;
use crate::lease::{from_sim, probe, to_sim};
use crate::replica_set::probe_stats;
use model::cluster::{Input, Member, MemberTimer, Output};
use model::lease::LeaseTimer;
use model::replication::{self, ReplTimer};
use sim::storage::{StorageError, StorageReply};
use sim::time::{millis, secs};
use sim::{Context, NodeId, RequestId};
use std::collections::VecDeque;

/// Timer tags: the low two bits say whose timer it is.
const TAG_REPLICATION: u64 = 0;
const TAG_LEASE_RENEW: u64 = 1;
const TAG_FREEZE: u64 = 2;
const TAG_STALLED_WRITE: u64 = 3;

/// Where the member's traffic goes.
#[derive(Clone, Copy, Debug)]
pub struct Peers {
    pub coordinator: NodeId,
    pub client: NodeId,
    pub resource: NodeId,
    /// The stranger on the network, when the run has one.
    pub stranger: Option<NodeId>,
}

#[derive(Clone, Debug)]
pub struct MemberDriver {
    pub member: Member,
    /// Persist id -> the disk length once its records are appended, oldest first.
    persists: VecDeque<(u64, usize)>,
    /// (index, term) of every write this incarnation acknowledged, for the checks to collect.
    pub acked: Vec<(u64, u64)>,
    /// Kernel request id -> the lease's request id, for the store replies in flight.
    requests: Vec<(RequestId, u64)>,
    /// Armed freeze expiries: (sequence in the tag, handover).
    freezes: Vec<(u64, u64)>,
    /// Fenced writes the application stalled on: (sequence in the tag, write).
    stalled: Vec<(u64, ClusterMsg)>,
    /// The last sequence number handed to a freeze or stall timer.
    next_seq: u64,
    peers: Peers,
    /// The stranger's view of this member's traffic, and what its messages moved here.
    pub tap: Tap,
}

impl MemberDriver {
    /// The stranger on the network, if the run has one.
    pub fn tap_stranger(&self) -> Option<NodeId> {
        self.peers.stranger
    }

    pub fn start(member: Member, peers: Peers, cx: &mut Context<'_, ClusterNode>) -> Self {
        let mut driver = MemberDriver {
            member,
            persists: VecDeque::new(),
            acked: Vec::new(),
            requests: Vec::new(),
            freezes: Vec::new(),
            stalled: Vec::new(),
            next_seq: 0,
            peers,
            tap: Tap::new(peers.stranger),
        };
        let mut out = Vec::new();
        driver.member.start(cx.now_local_ns(), &mut out);
        driver.carry_out_all(cx, out);
        driver
    }

    pub fn drive(&mut self, cx: &mut Context<'_, ClusterNode>, input: Input) {
        let before = self.member.node().stats().clone();
        let mut out = Vec::new();
        self.member.handle(cx.now_local_ns(), input, &mut out);
        self.carry_out_all(cx, out);
        probe_stats(cx, &before, self.member.node().stats());
    }

    fn carry_out_all(&mut self, cx: &mut Context<'_, ClusterNode>, out: Vec<Output>) {
        for output in out {
            self.carry_out(cx, output);
        }
    }

    fn carry_out(&mut self, cx: &mut Context<'_, ClusterNode>, output: Output) {
        use replication::Output as Repl;
        if let Some(promise) = output.promise(self.member.node().config().ack_policy) {
            cx.promise(promise);
        }
        match output {
            Output::Replication(Repl::Send { to, msg }) => {
                if let Some(stranger) = self.tap.overheard_by() {
                    cx.send(stranger, ClusterMsg::Overheard(msg.clone()));
                }
                cx.send(to, ClusterMsg::Peer(msg))
            }
            Output::Replication(Repl::SetTimer { after_local_ns, timer }) => {
                cx.set_timer(after_local_ns, timer.tag() << 2 | TAG_REPLICATION)
            }
            Output::Replication(Repl::Persist { id, records }) => {
                for record in records {
                    cx.disk().append(record);
                }
                self.persists.push_back((id, cx.disk().records().len()));
                cx.sync_disk();
            }
            Output::Replication(Repl::Action(action)) => {
                cx.action(ClusterAction::Replication(action))
            }
            Output::LeaseAction(action) => cx.action(ClusterAction::Lease(action)),
            Output::FailoverAction(action) | Output::Replication(Repl::FailoverAction(action)) => {
                cx.action(ClusterAction::Failover(action))
            }
            Output::Replication(Repl::Ack { write_id, index, term }) => {
                cx.sometimes("write-acked");
                self.acked.push((index, term));
                cx.send(self.peers.client, ClusterMsg::Acked { write_id });
            }
            Output::Replication(Repl::Reject { write_id, leader_hint }) => {
                cx.sometimes("write-refused");
                cx.send(self.peers.client, ClusterMsg::Rejected { write_id, leader_hint });
            }
            Output::Moment(moment) | Output::Replication(Repl::Moment(moment)) => {
                cx.moment_at(moment.name(), moment.target().unwrap_or(cx.id()))
            }
            Output::Replication(Repl::Failover(reply)) => {
                cx.send(self.peers.coordinator, ClusterMsg::Reply(reply))
            }
            Output::Store { request_id, request } => {
                let kernel_id = cx.storage(to_sim(request));
                self.requests.push((kernel_id, request_id));
            }
            Output::SetTimer { after_local_ns, timer: MemberTimer::Lease(LeaseTimer::Renew) } => {
                cx.set_timer(after_local_ns, TAG_LEASE_RENEW)
            }
            Output::SetTimer { after_local_ns, timer: MemberTimer::FreezeExpired { handover } } => {
                self.next_seq += 1;
                self.freezes.push((self.next_seq, handover));
                cx.set_timer(after_local_ns, self.next_seq << 2 | TAG_FREEZE);
            }
            Output::FencedWrite { token, payload } => {
                let write = ClusterMsg::Fenced { token, payload };
                // The upload sometimes stalls (a GC, a slow disk) between minting and reaching
                // the resource: the window in which a handover makes it stale.
                if cx.rng().below(5) == 0 {
                    let stall = cx.rng().log_uniform(millis(1), secs(2));
                    self.next_seq += 1;
                    self.stalled.push((self.next_seq, write));
                    cx.set_timer(stall, self.next_seq << 2 | TAG_STALLED_WRITE);
                } else {
                    cx.send(self.peers.resource, write);
                }
            }
            Output::Lease(event) => probe(cx, &event),
        }
    }

    pub fn on_timer(&mut self, cx: &mut Context<'_, ClusterNode>, tag: u64) {
        let input = match tag & 3 {
            TAG_REPLICATION => {
                Input::Replication(replication::Input::Timer(ReplTimer::from_tag(tag >> 2)))
            }
            TAG_LEASE_RENEW => Input::Timer(MemberTimer::Lease(LeaseTimer::Renew)),
            TAG_STALLED_WRITE => {
                if let Some(at) = self.stalled.iter().position(|(seq, _)| *seq == tag >> 2) {
                    let (_, write) = self.stalled.swap_remove(at);
                    cx.send(self.peers.resource, write);
                }
                return;
            }
            _ => {
                let Some(at) = self.freezes.iter().position(|(seq, _)| *seq == tag >> 2) else {
                    return;
                };
                let (_, handover) = self.freezes.swap_remove(at);
                cx.sometimes("freeze-expired");
                Input::Timer(MemberTimer::FreezeExpired { handover })
            }
        };
        self.drive(cx, input);
    }

    pub fn on_storage(
        &mut self,
        cx: &mut Context<'_, ClusterNode>,
        request: RequestId,
        reply: StorageReply<Vec<u8>>,
    ) {
        let Some(at) = self.requests.iter().position(|(kernel, _)| *kernel == request) else {
            return;
        };
        let (_, request_id) = self.requests.swap_remove(at);
        if matches!(reply, StorageReply::Failed(StorageError::Timeout)) {
            cx.sometimes("storage-timeout-seen");
        }
        self.drive(cx, Input::Store { request_id, reply: from_sim(reply) });
    }

    pub fn on_synced(&mut self, cx: &mut Context<'_, ClusterNode>, durable_len: usize) {
        let mut through = None;
        while self.persists.front().is_some_and(|(_, len)| *len <= durable_len) {
            through = self.persists.pop_front().map(|(id, _)| id);
        }
        if let Some(through) = through {
            self.drive(cx, Input::Replication(replication::Input::Persisted { through }));
        }
    }
}
