//! A member of the whole system: a replica-set member whose writes are gated by the writer
//! lease (sans-IO).
//!
//! The replica set elects its leader (`crate::replication`); the lease decides who may write.
//! A leader takes the lease under its own term and mints client writes only while it believes
//! it holds the lease in that term and is not frozen; each minted write also goes to the
//! protected resource stamped with the lease's fencing token, so a deposed primary's late
//! writes bounce. A member that stops leading gives the lease up at once.
//!
//! A normal election's winner *acquires* (it waits out a live lease: the old leader may still
//! believe it holds it). A handover's promoted target *takes over* the lease under its new
//! term: the coordinator demoted the old primary, which gave up its belief, before promoting.
//! A frozen primary that hears nothing more of its handover within `freeze_ttl_ns` steps down,
//! so a lost coordinator never leaves the cluster frozen.

use crate::failover::{Reply, Request};
use crate::lease::{
    self, FencingToken, LeaseClient, LeaseConfig, LeaseError, LeaseEvent, LeaseTimer,
};
use crate::moment::Moment;
use crate::promise::Promise;
use crate::replication::{self, Node, ReplicationConfig, Role};
use crate::spec::failover::Action as Handover;
use crate::store::{StoreReply, StoreRequest};

/// Settings of one member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberConfig {
    pub replication: ReplicationConfig,
    pub lease: LeaseConfig,
    /// How long a frozen primary waits for its handover to go on before stepping down, local
    /// nanoseconds.
    pub freeze_ttl_ns: u64,
    /// How long a leader without the lease waits between attempts to take it, local
    /// nanoseconds.
    pub lease_retry_ns: u64,
}

/// The member's own timers (the replica set's travel inside [`replication::Input`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemberTimer {
    Lease(LeaseTimer),
    /// The freeze of handover `handover` ran out.
    FreezeExpired {
        handover: u64,
    },
}

/// What drives a member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Peer messages, replica-set timers, fsyncs, client writes and handover requests.
    Replication(replication::Input),
    /// The object store answered the lease's request `request_id`.
    Store {
        request_id: u64,
        reply: StoreReply,
    },
    Timer(MemberTimer),
}

/// What a member asks its driver to do, or reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    Replication(replication::Output),
    Store {
        request_id: u64,
        request: StoreRequest,
    },
    SetTimer {
        after_local_ns: u64,
        timer: MemberTimer,
    },
    /// A minted write for the protected resource, stamped with the primary's token.
    FencedWrite {
        token: FencingToken,
        payload: u64,
    },
    /// The lease's outcomes, for probes and traces.
    Lease(LeaseEvent),
    /// The lease client's spec action (`tla/Lease.tla`; the replica set's travel inside
    /// [`replication::Output::Action`]).
    LeaseAction(crate::spec::lease::Action),
    /// The member's handover action of `tla/Failover.tla` (those of its replica-set node travel
    /// inside [`replication::Output::FailoverAction`]).
    FailoverAction(Handover),
    /// A moment worth a fault, the replica set's or the lease's (see [`crate::moment`]).
    Moment(Moment),
}

impl Output {
    /// What this output promises is durable (see [`crate::promise`]): the replica set's
    /// promises, and a minted write's reliance on the lease.
    pub fn promise(&self, ack_policy: replication::AckPolicy) -> Option<Promise> {
        match self {
            Output::Replication(output) => output.promise(ack_policy),
            Output::FencedWrite { token, .. } => Some(Promise::LeaseHeld { token: *token }),
            _ => None,
        }
    }
}

/// One member: the replica-set node and its lease client.
#[derive(Clone, Debug)]
pub struct Member {
    node: Node,
    lease: LeaseClient,
    freeze_ttl_ns: u64,
    lease_retry_ns: u64,
    /// When the last attempt to take the lease left, local nanoseconds.
    last_lease_attempt_ns: Option<u64>,
    /// The term a handover promoted this member to: the one term it may take the lease over in.
    promoted_to: Option<u64>,
    /// A `Promoted` answer held back until the lease is held under its term.
    promoted_reply: Option<Reply>,
    /// The handover this member is frozen for, if any.
    frozen_by: Option<u64>,
}

impl Member {
    /// A member around `node` (new or recovered from its disk), holding no lease.
    pub fn new(config: MemberConfig, node: Node) -> Member {
        Member {
            node,
            lease: LeaseClient::new(config.lease),
            freeze_ttl_ns: config.freeze_ttl_ns,
            lease_retry_ns: config.lease_retry_ns,
            last_lease_attempt_ns: None,
            promoted_to: None,
            promoted_reply: None,
            frozen_by: None,
        }
    }

    /// The replica-set node.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// The lease client.
    pub fn lease(&self) -> &LeaseClient {
        &self.lease
    }

    /// The primary's token at local time `now`: this member leads and believes it holds the
    /// lease in its term (frozen or not). `None` for every other member.
    pub fn primary_token(&self, now_local_ns: u64) -> Option<FencingToken> {
        let node = &self.node;
        if node.role() != Role::Leader {
            return None;
        }
        self.lease.belief(now_local_ns).filter(|token| token.term == node.current_term())
    }

    /// True when this member mints client writes at local time `now`: it is the primary and
    /// not frozen.
    pub fn mints(&self, now_local_ns: u64) -> bool {
        !self.node.frozen() && self.primary_token(now_local_ns).is_some()
    }

    /// Arms the replica set's heartbeat and announces the member.
    pub fn start(&mut self, now_local_ns: u64, out: &mut Vec<Output>) {
        let mut repl = Vec::new();
        self.node.start(now_local_ns, &mut repl);
        self.pass_on(now_local_ns, repl, out);
    }

    /// Advances the member by one input.
    pub fn handle(&mut self, now_local_ns: u64, input: Input, out: &mut Vec<Output>) {
        let now = now_local_ns;
        match input {
            Input::Replication(replication::Input::ClientWrite { write_id, payload }) => {
                self.client_write(now, write_id, payload, out)
            }
            Input::Replication(replication::Input::Failover {
                from,
                request: Request::Freeze { handover } | Request::ReadFrontier { handover },
            }) if self.node.accepts_failover_from(from) && self.primary_token(now).is_none() => {
                // A leader without the lease is not the primary: freezing it would leave the
                // lease's holder, which may still believe, out of the handover.
                let me = self.node.id();
                let leader_hint = self.node.leader().filter(|leader| *leader != me);
                out.push(Output::FailoverAction(Handover::RefuseFreeze { p: me, id: handover }));
                let reply = Reply::NotPrimary { handover, leader_hint };
                out.push(Output::Replication(replication::Output::Failover(reply)));
            }
            Input::Replication(input) => {
                if let replication::Input::Failover {
                    from,
                    request: Request::Promote { term, .. },
                } = input
                {
                    if self.node.accepts_failover_from(from) {
                        self.promoted_to = Some(term);
                    }
                }
                let mut repl = Vec::new();
                self.node.handle(now, input, &mut repl);
                self.pass_on(now, repl, out);
            }
            Input::Store { request_id, reply } => {
                self.drive_lease(now, lease::Input::Store { request_id, reply }, out)
            }
            Input::Timer(MemberTimer::Lease(timer)) => {
                self.drive_lease(now, lease::Input::Timer(timer), out)
            }
            Input::Timer(MemberTimer::FreezeExpired { handover }) => {
                if self.frozen_by == Some(handover) && self.node.frozen() {
                    // The handover went silent: let the set elect anew.
                    out.push(Output::FailoverAction(Handover::FreezeExpired { p: self.node.id() }));
                    let mut repl = Vec::new();
                    self.node.step_down(&mut repl);
                    self.pass_on(now, repl, out);
                }
            }
        }
        self.reconcile(now, out);
    }

    /// Mints the write if this member is the primary, and sends it to the protected resource.
    fn client_write(&mut self, now: u64, write_id: u64, payload: u64, out: &mut Vec<Output>) {
        if !self.mints(now) {
            let leader_hint = self.node.leader();
            let reject = replication::Output::Reject { write_id, leader_hint };
            return out.push(Output::Replication(reject));
        }
        out.push(Output::FailoverAction(Handover::ClientWrite { n: self.node.id() }));
        let before = self.node.log().last_index();
        let mut repl = Vec::new();
        let input = replication::Input::ClientWrite { write_id, payload };
        self.node.handle(now, input, &mut repl);
        let minted = self.node.log().last_index();
        self.pass_on(now, repl, out);
        if minted > before {
            self.drive_lease(now, lease::Input::Write { payload: minted }, out);
        }
    }

    /// Passes the node's outputs on, arming the freeze's expiry and holding back a promotion's
    /// answer until the lease is taken.
    fn pass_on(&mut self, now: u64, repl: Vec<replication::Output>, out: &mut Vec<Output>) {
        for output in repl {
            match output {
                replication::Output::Failover(reply @ Reply::Frontier { handover, .. })
                    if self.node.frozen() =>
                {
                    self.frozen_by = Some(handover);
                    let timer = MemberTimer::FreezeExpired { handover };
                    out.push(Output::SetTimer { after_local_ns: self.freeze_ttl_ns, timer });
                    out.push(Output::Replication(replication::Output::Failover(reply)));
                }
                replication::Output::Failover(reply @ Reply::Promoted { term, .. }) => {
                    if self.lease.belief(now).is_some_and(|token| token.term == term) {
                        self.answer_promotion(reply, out);
                    } else {
                        self.promoted_reply = Some(reply);
                    }
                }
                replication::Output::Moment(moment) => out.push(Output::Moment(moment)),
                other => out.push(Output::Replication(other)),
            }
        }
    }

    /// Answers a promotion: this member leads its term with the lease (`TakeOver`).
    fn answer_promotion(&self, reply: Reply, out: &mut Vec<Output>) {
        if let Reply::Promoted { handover, term, .. } = reply {
            let q = self.node.id();
            out.push(Output::FailoverAction(Handover::TakeOver { q, id: handover, term }));
        }
        out.push(Output::Replication(replication::Output::Failover(reply)));
    }

    fn drive_lease(&mut self, now: u64, input: lease::Input, out: &mut Vec<Output>) {
        let mut events = Vec::new();
        self.lease.handle(now, input, &mut events);
        for output in events {
            match output {
                lease::Output::Store { request_id, request } => {
                    out.push(Output::Store { request_id, request })
                }
                lease::Output::SetTimer { after_local_ns, timer } => {
                    out.push(Output::SetTimer { after_local_ns, timer: MemberTimer::Lease(timer) })
                }
                lease::Output::FencedWrite { token, payload } => {
                    out.push(Output::FailoverAction(Handover::FencedWrite { n: self.node.id() }));
                    out.push(Output::FencedWrite { token, payload })
                }
                lease::Output::Moment(moment) => out.push(Output::Moment(moment)),
                lease::Output::Action(action) => out.push(Output::LeaseAction(action)),
                lease::Output::Event(event) => {
                    if let LeaseEvent::AcquireFailed(LeaseError::Fenced { theirs, .. }) = event {
                        // A newer term took the lease: this leadership is over.
                        let mut repl = Vec::new();
                        self.node.observe_term(theirs, &mut repl);
                        self.pass_on(now, repl, out);
                    }
                    out.push(Output::Lease(event));
                }
            }
        }
    }

    /// Keeps the lease in step with the leadership: a leader takes it under its term (retrying
    /// every `lease_retry_ns`), anyone else gives it up; a held-back promotion answer leaves
    /// once the lease is held under its term.
    fn reconcile(&mut self, now: u64, out: &mut Vec<Output>) {
        let term = self.node.current_term();
        let leading = self.node.role() == Role::Leader;
        let believed = self.lease.belief(now).map(|token| token.term);
        if leading && believed != Some(term) && !self.lease.busy() {
            let due = self
                .last_lease_attempt_ns
                .is_none_or(|last| now >= last.saturating_add(self.lease_retry_ns));
            if due {
                self.last_lease_attempt_ns = Some(now);
                let input = if self.promoted_to == Some(term) {
                    lease::Input::Takeover { term }
                } else {
                    lease::Input::Acquire { term }
                };
                self.drive_lease(now, input, out);
            }
        } else if !leading && self.lease.held_record().is_some() {
            self.drive_lease(now, lease::Input::Release, out);
        }
        if let Some(Reply::Promoted { term: promoted, .. }) = &self.promoted_reply {
            let promoted = *promoted;
            if !leading || term != promoted {
                self.promoted_reply = None; // that leadership ended before it took the lease
            } else if self.lease.belief(now).is_some_and(|token| token.term == promoted) {
                let reply = self.promoted_reply.take().expect("checked just above");
                self.answer_promotion(reply, out);
            }
        }
    }
}

#[cfg(test)]
mod tests;
