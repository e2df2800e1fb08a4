//! The leader machine's inputs, outputs and state, and the plumbing every path shares: one
//! session request in flight at a time, a check every interval, belief and protected writes.
//! The standby and takeover paths live in `takeover`, the leader's refresh in `refresh`.

use super::resource::WriteStamp;
use super::row::LeaseRow;
use super::{SessionLeaseCanary, SessionLeaseConfig};
use crate::moment::Moment;
use crate::session_store::{SessionId, SessionReply, SessionRequest};
use crate::spec::session_lease::Action;
use crate::store::{StoreError, Version};

/// What drives the machine.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Input {
    /// A timer set by [`Output::SetTimer`] fired (the driver fires the first `Check`).
    Timer(LeaderTimer),
    /// The session store answered request `request_id`.
    Session { request_id: u64, reply: SessionReply },
    /// Perform a protected write if this node acts as leader.
    Write { payload: u64 },
    /// Step down: stop acting and close the session, which frees the lock.
    Resign,
}

/// The machine's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LeaderTimer {
    /// Every check interval: a leader validates and refreshes, a standby tries the lock.
    Check,
    /// A new holder waited out the previous holder's row.
    WaitedOut,
}

/// What the machine asks its driver to do, or reports.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Output {
    Session {
        request_id: u64,
        request: SessionRequest,
    },
    SetTimer {
        after_local_ns: u64,
        timer: LeaderTimer,
    },
    /// Send a write to the protected resource.
    ProtectedWrite {
        stamp: WriteStamp,
        payload: u64,
    },
    Event(LeaderEvent),
    /// A moment worth a fault (see [`crate::moment`]); nothing to carry out.
    Moment(Moment),
    /// The `SessionLease.tla` action this step takes (see [`crate::spec::session_lease`]).
    Action(Action),
}

/// Outcomes, named after the spec's actions where one exists.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LeaderEvent {
    SessionOpened,
    /// `TryLock`: the lock is ours.
    LockTaken,
    /// `TryLock` failed: `holder`'s session has it.
    LockHeld {
        holder: SessionId,
    },
    /// The previous holder's row is still live: the new holder waits until `until` (local).
    WaitingOut {
        until: u64,
    },
    /// `Take`: the row is ours; leadership of `generation` begins, acting until `lead_until`
    /// (local; None when belief is unbounded).
    Led {
        generation: u64,
        lead_until: Option<u64>,
    },
    /// `Refresh`: validated and refreshed.
    Refreshed {
        generation: u64,
        lead_until: Option<u64>,
    },
    /// `Preempt`: the holder's session was terminated (`was_alive`: it still lived).
    Preempted {
        holder: SessionId,
        was_alive: bool,
    },
    /// The row changed since the standby read it: the holder is spared.
    PreemptRefused,
    /// `ValidationFails`: the lock is not ours any more; leadership ends.
    ValidationFailed,
    /// The session is gone (and with it the lock); leadership ends.
    SessionLost,
    Resigned,
    /// A write was refused locally: this node does not act as leader.
    WriteRefused,
    /// A request failed at the store or timed out.
    StoreFailed(StoreError),
}

/// A tenure: one takeover's row, as its leader knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tenure {
    /// The row's generation: the fencing token.
    pub generation: u64,
    pub acquired_at: u64,
    /// The row's version after our last write (None: unknown after an ambiguous answer).
    pub version: Option<Version>,
    /// This node acts until its clock reads this (unless belief is unbounded).
    pub lead_until: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Role {
    Standby,
    /// Holds the lock, writing its row; `waiting_until`: waiting out the previous holder's.
    Taking {
        waiting_until: Option<u64>,
    },
    Leading(Tenure),
}

/// What the request in flight is for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum Pending {
    Idle,
    Open,
    TryLock,
    /// The try failed; reading the row to judge `holder`.
    Inspect {
        holder: SessionId,
    },
    Terminate {
        holder: SessionId,
    },
    TakeRead,
    TakeWrite {
        row: LeaseRow,
        sent_at: u64,
    },
    Refresh {
        row: LeaseRow,
        sent_at: u64,
    },
    /// After an ambiguous or refused refresh: what does the row hold now?
    RefreshRead {
        row: LeaseRow,
        sent_at: u64,
    },
    Close,
    /// Canaries on a pooled connection: open it, ask who holds the lock, write there.
    OpenPool {
        row: LeaseRow,
        sent_at: u64,
    },
    PoolHolder {
        row: LeaseRow,
        sent_at: u64,
    },
    PoolWrite {
        row: LeaseRow,
        sent_at: u64,
    },
}

/// One node's leadership machine. Everything is volatile: after a crash a new machine starts
/// as a standby without a session (the server ended the old one with the process).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SessionLeader {
    pub(super) config: SessionLeaseConfig,
    /// The session that takes and holds the lock.
    pub(super) session: Option<SessionId>,
    /// Canaries only: a pooled connection beside it.
    pub(super) pool: Option<SessionId>,
    pub(super) role: Role,
    pub(super) pending: Pending,
    outstanding: Option<u64>,
    next_request: u64,
}

impl SessionLeader {
    /// A standby without a session.
    pub fn new(config: SessionLeaseConfig) -> SessionLeader {
        SessionLeader {
            config,
            session: None,
            pool: None,
            role: Role::Standby,
            pending: Pending::Idle,
            outstanding: None,
            next_request: 0,
        }
    }

    /// The generation this node leads under if it acts as leader at local time `now`.
    pub fn acting(&self, now_local_ns: u64) -> Option<u64> {
        let Role::Leading(tenure) = &self.role else { return None };
        let bounded = !SessionLeaseCanary::unbounded_belief(self.config.canary);
        (!bounded || now_local_ns < tenure.lead_until).then_some(tenure.generation)
    }

    /// The tenure this node leads (or led, lapsed but not yet ended) under.
    pub fn tenure(&self) -> Option<&Tenure> {
        match &self.role {
            Role::Leading(tenure) => Some(tenure),
            _ => None,
        }
    }

    /// `role[n]`, with `gen[n]` and `leadUntil[n]`, as `SessionLease.tla` has them.
    pub fn spec_role(&self) -> crate::spec::session_lease::Role {
        use crate::spec::session_lease::Role as Spec;
        match self.role {
            Role::Standby => Spec::Standby,
            Role::Taking { .. } => Spec::Taking,
            Role::Leading(t) => Spec::Leader { gen: t.generation, lead_until: t.lead_until },
        }
    }

    /// The session that takes the lock, if open.
    pub fn session(&self) -> Option<SessionId> {
        self.session
    }

    /// True while a request is in flight.
    pub fn busy(&self) -> bool {
        self.pending != Pending::Idle
    }

    /// Advances the machine by one input.
    pub fn handle(&mut self, now_local_ns: u64, input: Input, out: &mut Vec<Output>) {
        match input {
            Input::Timer(LeaderTimer::Check) => {
                let after_local_ns = self.config.check_interval_ns;
                out.push(Output::SetTimer { after_local_ns, timer: LeaderTimer::Check });
                self.check(now_local_ns, out);
            }
            Input::Timer(LeaderTimer::WaitedOut) => self.waited_out(out),
            Input::Session { request_id, reply } => {
                if self.outstanding != Some(request_id) {
                    return; // an answer nobody waits for any more
                }
                self.outstanding = None;
                let pending = std::mem::replace(&mut self.pending, Pending::Idle);
                self.on_reply(now_local_ns, pending, reply, out);
            }
            Input::Write { payload } => match self.acting(now_local_ns) {
                Some(generation) => {
                    let fenced = SessionLeaseCanary::fenced(self.config.canary);
                    let stamp =
                        WriteStamp { token: fenced.then_some(generation), tenure: generation };
                    out.push(Output::Action(Action::Write { n: self.config.id, g: generation }));
                    out.push(Output::ProtectedWrite { stamp, payload });
                }
                None => out.push(Output::Event(LeaderEvent::WriteRefused)),
            },
            Input::Resign => self.resign(out),
        }
    }

    fn check(&mut self, now: u64, out: &mut Vec<Output>) {
        if self.busy() {
            return; // every request is answered, by a timeout at worst
        }
        match self.role {
            Role::Leading(_) => self.refresh(now, out),
            Role::Taking { waiting_until: Some(_) } => {} // the WaitedOut timer goes on
            Role::Taking { waiting_until: None } | Role::Standby => self.try_lock(out),
        }
    }

    fn resign(&mut self, out: &mut Vec<Output>) {
        let (Role::Leading(_), Some(session), false) = (self.role, self.session, self.busy())
        else {
            return;
        };
        // Stop acting before the server hears of it, so belief never outlives the lock.
        self.role = Role::Standby;
        self.session = None;
        out.push(Output::Action(Action::StepDown { n: self.config.id }));
        out.push(Output::Event(LeaderEvent::Resigned));
        self.request(Pending::Close, SessionRequest::Close { session }, out);
    }

    pub(super) fn request(
        &mut self,
        pending: Pending,
        request: SessionRequest,
        out: &mut Vec<Output>,
    ) {
        self.next_request += 1;
        self.outstanding = Some(self.next_request);
        self.pending = pending;
        out.push(Output::Session { request_id: self.next_request, request });
    }

    fn on_reply(&mut self, now: u64, pending: Pending, reply: SessionReply, out: &mut Vec<Output>) {
        if let SessionReply::Failed(error) = reply {
            out.push(Output::Event(LeaderEvent::StoreFailed(error)));
        }
        match pending {
            Pending::Idle | Pending::Close => {}
            Pending::Open => self.on_open(reply, out),
            Pending::TryLock => self.on_try_lock(reply, out),
            Pending::Inspect { holder } => self.on_inspect(now, holder, reply, out),
            Pending::Terminate { holder } => self.on_terminate(holder, reply, out),
            Pending::TakeRead => self.on_take_read(now, reply, out),
            Pending::TakeWrite { row, sent_at } => self.on_take_write(row, sent_at, reply, out),
            Pending::Refresh { row, sent_at } => self.on_refresh(row, sent_at, reply, out),
            Pending::RefreshRead { row, sent_at } => self.on_refresh_read(row, sent_at, reply, out),
            Pending::OpenPool { row, sent_at } => self.on_open_pool(row, sent_at, reply, out),
            Pending::PoolHolder { row, sent_at } => self.on_pool_holder(row, sent_at, reply, out),
            Pending::PoolWrite { row, sent_at } => self.on_pool_write(row, sent_at, reply, out),
        }
    }

    /// The lock session is gone, and the lock with it: leadership (or a takeover) ends.
    pub(super) fn session_lost(&mut self, out: &mut Vec<Output>) {
        self.session = None;
        self.stand_by(Action::ValidationFails { n: self.config.id }, out);
        out.push(Output::Event(LeaderEvent::SessionLost));
    }

    /// The lock is not ours (the guard failed on a live session): leadership ends.
    pub(super) fn validation_failed(&mut self, out: &mut Vec<Output>) {
        self.stand_by(Action::ValidationFails { n: self.config.id }, out);
        out.push(Output::Event(LeaderEvent::ValidationFailed));
    }

    /// Leadership (or a takeover) ends by our own decision, not because the store said the lock
    /// is not ours: the described design's failed refresh, the pooled canaries' checks.
    pub(super) fn step_down(&mut self, out: &mut Vec<Output>) {
        self.stand_by(Action::StepDown { n: self.config.id }, out);
        out.push(Output::Event(LeaderEvent::ValidationFailed));
    }

    /// Back to standby, declaring `action` if that ends a tenure or a takeover.
    fn stand_by(&mut self, action: Action, out: &mut Vec<Output>) {
        if std::mem::replace(&mut self.role, Role::Standby) != Role::Standby {
            out.push(Output::Action(action));
        }
    }
}
