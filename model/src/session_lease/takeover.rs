//! The standby's path to leadership: open a session, try the lock; if another session holds it,
//! read the row and, if its lease ran out, terminate the holder's session (only if the row is
//! still what was read) and try again; with the lock, read the previous row, wait it out if
//! another node's lease is still live (the fix's time bound), then write our own row under the
//! lock with the next generation, and lead from the answer.

use super::machine::{LeaderEvent, LeaderTimer, Output, Pending, Role, SessionLeader, Tenure};
use super::row::LeaseRow;
use super::SessionLeaseCanary;
use crate::session_store::{Guard, SessionId, SessionReply, SessionRequest};
use crate::spec::session_lease::Action;
use crate::store::{StoreReply, StoreRequest, Version};

impl SessionLeader {
    pub(super) fn try_lock(&mut self, out: &mut Vec<Output>) {
        match self.session {
            None => self.request(Pending::Open, SessionRequest::Open, out),
            Some(session) => {
                let lock = self.config.lock.clone();
                self.request(Pending::TryLock, SessionRequest::TryLock { session, lock }, out);
            }
        }
    }

    pub(super) fn on_open(&mut self, reply: SessionReply, out: &mut Vec<Output>) {
        if let SessionReply::Opened { session } = reply {
            self.session = Some(session);
            out.push(Output::Action(Action::Open { n: self.config.id, s: session }));
            out.push(Output::Event(LeaderEvent::SessionOpened));
            self.try_lock(out);
        }
    }

    pub(super) fn on_try_lock(&mut self, reply: SessionReply, out: &mut Vec<Output>) {
        match reply {
            SessionReply::Locked => {
                let was = std::mem::replace(&mut self.role, Role::Taking { waiting_until: None });
                if was == Role::Standby {
                    out.push(Output::Action(Action::Locked { n: self.config.id }));
                }
                out.push(Output::Event(LeaderEvent::LockTaken));
                self.take_read(out);
            }
            SessionReply::HeldBy { holder } => {
                self.role = Role::Standby;
                out.push(Output::Event(LeaderEvent::LockHeld { holder }));
                let Some(session) = self.session else { return };
                let op = StoreRequest::Get { key: self.config.row_key.clone() };
                let inspect = SessionRequest::Apply { session, guard: Guard::Always, op };
                self.request(Pending::Inspect { holder }, inspect, out);
            }
            SessionReply::SessionDead => self.session_lost(out),
            _ => {} // failed: the next check tries again
        }
    }

    /// The row, read on our session: judge whether `holder` is a zombie.
    pub(super) fn on_inspect(
        &mut self,
        now: u64,
        holder: SessionId,
        reply: SessionReply,
        out: &mut Vec<Output>,
    ) {
        let (row, version) = match reply {
            SessionReply::SessionDead => return self.session_lost(out),
            SessionReply::Applied(StoreReply::Got { object: Some((bytes, version)), .. }) => {
                match LeaseRow::decode(&bytes) {
                    Ok(row) => (row, version),
                    Err(_) => return,
                }
            }
            _ => return, // no row yet (its first holder is writing it), or failed: wait
        };
        let (Some(session), true) = (self.session, self.lease_ran_out(&row, now)) else {
            return;
        };
        // Terminate only if the row is still the one judged: a holder that refreshed since
        // is no zombie (in SQL: pg_terminate_backend in the statement that re-reads the row).
        let guard = Guard::RowAt { key: self.config.row_key.clone(), version: Some(version) };
        let terminate = SessionRequest::Terminate { session, target: holder, guard };
        self.request(Pending::Terminate { holder }, terminate, out);
    }

    /// True when `row`'s lease has run out by our clock `now`, with the margin for clock error
    /// between the writer and us (none in the design as described).
    fn lease_ran_out(&self, row: &LeaseRow, now: u64) -> bool {
        let margin = self.config.margin_ns;
        match self.config.canary {
            Some(SessionLeaseCanary::DescribedDesign) => row.lease_until < now,
            // Canary: the first lease, as if the holder had never refreshed.
            Some(SessionLeaseCanary::PreemptValidLease) => {
                row.acquired_at + self.config.ttl_ns + margin < now
            }
            _ => row.lease_until + margin < now,
        }
    }

    pub(super) fn on_terminate(
        &mut self,
        holder: SessionId,
        reply: SessionReply,
        out: &mut Vec<Output>,
    ) {
        match reply {
            SessionReply::Terminated { was_alive } => {
                out.push(Output::Event(LeaderEvent::Preempted { holder, was_alive }));
                self.try_lock(out);
            }
            SessionReply::GuardFailed => out.push(Output::Event(LeaderEvent::PreemptRefused)),
            SessionReply::SessionDead => self.session_lost(out),
            _ => {}
        }
    }

    /// With the lock: read the previous row under it.
    pub(super) fn take_read(&mut self, out: &mut Vec<Output>) {
        let Some(session) = self.session else { return };
        let guard = Guard::HoldsLock { lock: self.config.lock.clone() };
        let op = StoreRequest::Get { key: self.config.row_key.clone() };
        self.request(Pending::TakeRead, SessionRequest::Apply { session, guard, op }, out);
    }

    pub(super) fn waited_out(&mut self, out: &mut Vec<Output>) {
        if let Role::Taking { waiting_until: Some(_) } = self.role {
            self.role = Role::Taking { waiting_until: None };
            if !self.busy() {
                self.take_read(out);
            }
        }
    }

    pub(super) fn on_take_read(&mut self, now: u64, reply: SessionReply, out: &mut Vec<Output>) {
        let previous = match reply {
            SessionReply::Applied(StoreReply::Got { object: None, .. }) => None,
            SessionReply::Applied(StoreReply::Got { object: Some((bytes, version)), .. }) => {
                match LeaseRow::decode(&bytes) {
                    Ok(row) => Some((row, version)),
                    Err(_) => return, // never written so: the next check reads again
                }
            }
            SessionReply::GuardFailed => return self.validation_failed(out),
            SessionReply::SessionDead => return self.session_lost(out),
            _ => return, // failed: the next check tries the lock (ours, re-entrant) again
        };
        if let Some((row, _)) = &previous {
            let until = row.lease_until + self.config.margin_ns;
            let another_live = row.holder != self.config.id && now <= until;
            if another_live && !SessionLeaseCanary::unbounded_belief(self.config.canary) {
                // The previous holder may act until its lease_until - margin by its clock:
                // lead only once that has passed by ours, whatever our clocks' difference.
                self.role = Role::Taking { waiting_until: Some(until) };
                out.push(Output::Event(LeaderEvent::WaitingOut { until }));
                let after_local_ns = until - now + 1;
                return out
                    .push(Output::SetTimer { after_local_ns, timer: LeaderTimer::WaitedOut });
            }
        }
        self.take_write(now, previous, out);
    }

    fn take_write(
        &mut self,
        now: u64,
        previous: Option<(LeaseRow, Version)>,
        out: &mut Vec<Output>,
    ) {
        let Some(session) = self.session else { return };
        let generation = previous.as_ref().map_or(0, |(row, _)| row.generation) + 1;
        let row = LeaseRow {
            holder: self.config.id,
            generation,
            acquired_at: now,
            lease_until: now + self.config.ttl_ns,
        };
        let (key, value) = (self.config.row_key.clone(), row.encode());
        let op = match previous {
            None => StoreRequest::PutIfAbsent { key, value },
            Some((_, version)) => StoreRequest::PutIfVersion { key, value, version },
        };
        let guard = Guard::HoldsLock { lock: self.config.lock.clone() };
        let write = SessionRequest::Apply { session, guard, op };
        self.request(Pending::TakeWrite { row, sent_at: now }, write, out);
    }

    pub(super) fn on_take_write(
        &mut self,
        row: LeaseRow,
        sent_at: u64,
        reply: SessionReply,
        out: &mut Vec<Output>,
    ) {
        match reply {
            SessionReply::Applied(StoreReply::Written { version }) => {
                self.lead(row, version, sent_at, out)
            }
            // The row moved under our lock (only a broken writer does that): read it again.
            SessionReply::Applied(StoreReply::ConditionFailed) => self.take_read(out),
            SessionReply::GuardFailed => self.validation_failed(out),
            SessionReply::SessionDead => self.session_lost(out),
            // Failed or ambiguous: the next check re-reads under the lock and takes over again
            // with a newer generation (a row we wrote but never heard of is not a tenure).
            _ => {}
        }
    }

    fn lead(&mut self, row: LeaseRow, version: Version, sent_at: u64, out: &mut Vec<Output>) {
        let lead_until = sent_at + self.config.ttl_ns - self.config.margin_ns;
        let tenure = Tenure {
            generation: row.generation,
            acquired_at: row.acquired_at,
            version: Some(version),
            lead_until,
        };
        self.role = Role::Leading(tenure);
        out.push(Output::Action(Action::Led { n: self.config.id }));
        let bounded = !SessionLeaseCanary::unbounded_belief(self.config.canary);
        let lead_until = bounded.then_some(lead_until);
        out.push(Output::Event(LeaderEvent::Led { generation: row.generation, lead_until }));
        out.push(Output::Moment(crate::moment::Moment::LeadershipValidated));
    }
}
