//! The leader's refresh: every check interval, one critical section on the lock's own session
//! validates that the session still holds the lock and writes `lease_until = now + ttl`. A
//! written answer extends belief to `now + ttl - margin` (from when the write was sent, never
//! from the answer). Two canaries refresh on a pooled connection instead, without validating or
//! after asking whether anyone holds the lock.

use super::machine::{LeaderEvent, Output, Pending, Role, SessionLeader};
use super::row::LeaseRow;
use super::SessionLeaseCanary;
use crate::moment::Moment;
use crate::session_store::{Guard, SessionReply, SessionRequest};
use crate::spec::session_lease::Action;
use crate::store::{StoreReply, StoreRequest, Version};

impl SessionLeader {
    pub(super) fn refresh(&mut self, now: u64, out: &mut Vec<Output>) {
        let Role::Leading(tenure) = self.role else { return };
        let row = LeaseRow {
            holder: self.config.id,
            generation: tenure.generation,
            acquired_at: tenure.acquired_at,
            lease_until: now + self.config.ttl_ns,
        };
        out.push(Output::Moment(Moment::LeaseRenewing));
        match self.config.canary {
            Some(
                SessionLeaseCanary::RefreshWithoutValidation
                | SessionLeaseCanary::ValidateOnOtherConnection,
            ) => self.pooled_refresh(row, now, out),
            _ => match tenure.version {
                Some(version) => self.refresh_write(row, now, Some(version), out),
                None => self.refresh_read(row, now, out),
            },
        }
    }

    fn guarded(&self, op: StoreRequest) -> Option<SessionRequest> {
        let guard = Guard::HoldsLock { lock: self.config.lock.clone() };
        self.session.map(|session| SessionRequest::Apply { session, guard, op })
    }

    /// The critical section: validation and refresh as one statement on the lock's session.
    fn refresh_write(
        &mut self,
        row: LeaseRow,
        sent_at: u64,
        version: Option<Version>,
        out: &mut Vec<Output>,
    ) {
        let (key, value) = (self.config.row_key.clone(), row.encode());
        let op = match version {
            Some(version) => StoreRequest::PutIfVersion { key, value, version },
            None => StoreRequest::PutIfAbsent { key, value },
        };
        if let Some(write) = self.guarded(op) {
            self.request(Pending::Refresh { row, sent_at }, write, out);
        }
    }

    fn refresh_read(&mut self, row: LeaseRow, sent_at: u64, out: &mut Vec<Output>) {
        let op = StoreRequest::Get { key: self.config.row_key.clone() };
        if let Some(read) = self.guarded(op) {
            self.request(Pending::RefreshRead { row, sent_at }, read, out);
        }
    }

    pub(super) fn on_refresh(
        &mut self,
        row: LeaseRow,
        sent_at: u64,
        reply: SessionReply,
        out: &mut Vec<Output>,
    ) {
        match reply {
            SessionReply::Applied(StoreReply::Written { version }) => {
                self.refreshed(&row, version, sent_at, out)
            }
            // Ambiguous, or the row moved: read it under the lock and go on from there.
            SessionReply::Applied(StoreReply::ConditionFailed)
            | SessionReply::Failed(crate::store::StoreError::Timeout) => {
                self.refresh_read(row, sent_at, out)
            }
            other => self.refresh_not_confirmed(other, out),
        }
    }

    pub(super) fn on_refresh_read(
        &mut self,
        row: LeaseRow,
        sent_at: u64,
        reply: SessionReply,
        out: &mut Vec<Output>,
    ) {
        match reply {
            SessionReply::Applied(StoreReply::Got { object, .. }) => match object {
                Some((bytes, version)) if LeaseRow::decode(&bytes).is_ok_and(|s| s == row) => {
                    self.refreshed(&row, version, sent_at, out) // the ambiguous write applied
                }
                // Under our lock the row is ours to write, whatever a broken writer left.
                Some((_, version)) => self.refresh_write(row, sent_at, Some(version), out),
                None => self.refresh_write(row, sent_at, None, out),
            },
            other => self.refresh_not_confirmed(other, out),
        }
    }

    /// A refresh that did not confirm. The lock is gone if the guard failed or the session
    /// died; otherwise the store failed and belief runs out at its bound, unless the next
    /// refresh confirms. The design as described has no bound: it steps down at once.
    fn refresh_not_confirmed(&mut self, reply: SessionReply, out: &mut Vec<Output>) {
        match reply {
            SessionReply::GuardFailed => self.validation_failed(out),
            SessionReply::SessionDead => self.session_lost(out),
            _ if SessionLeaseCanary::unbounded_belief(self.config.canary) => self.step_down(out),
            _ => {
                if let Role::Leading(tenure) = &mut self.role {
                    tenure.version = None; // the next refresh reads first
                }
            }
        }
    }

    fn refreshed(&mut self, row: &LeaseRow, version: Version, sent_at: u64, out: &mut Vec<Output>) {
        let Role::Leading(tenure) = &mut self.role else { return };
        if tenure.generation != row.generation {
            return;
        }
        tenure.version = Some(version);
        tenure.lead_until =
            tenure.lead_until.max(sent_at + self.config.ttl_ns - self.config.margin_ns);
        let bounded = !SessionLeaseCanary::unbounded_belief(self.config.canary);
        let (generation, lead_until) = (row.generation, bounded.then_some(tenure.lead_until));
        out.push(Output::Action(Action::Refreshed { n: self.config.id }));
        out.push(Output::Event(LeaderEvent::Refreshed { generation, lead_until }));
        out.push(Output::Moment(Moment::LeadershipValidated));
    }

    /// Canaries: the refresh runs on a pooled connection, not the lock's session.
    fn pooled_refresh(&mut self, row: LeaseRow, sent_at: u64, out: &mut Vec<Output>) {
        let Some(pool) = self.pool else {
            return self.request(Pending::OpenPool { row, sent_at }, SessionRequest::Open, out);
        };
        if self.config.canary == Some(SessionLeaseCanary::ValidateOnOtherConnection) {
            // The bug: "is the lock held?" asked of any connection means "by anyone".
            let holder = SessionRequest::Holder { session: pool, lock: self.config.lock.clone() };
            return self.request(Pending::PoolHolder { row, sent_at }, holder, out);
        }
        self.pool_write(row, sent_at, out);
    }

    fn pool_write(&mut self, row: LeaseRow, sent_at: u64, out: &mut Vec<Output>) {
        let (Some(pool), Role::Leading(tenure)) = (self.pool, self.role) else { return };
        let Some(version) = tenure.version else { return self.step_down(out) };
        let (key, value) = (self.config.row_key.clone(), row.encode());
        let op = StoreRequest::PutIfVersion { key, value, version };
        let write = SessionRequest::Apply { session: pool, guard: Guard::Always, op };
        self.request(Pending::PoolWrite { row, sent_at }, write, out);
    }

    pub(super) fn on_open_pool(
        &mut self,
        row: LeaseRow,
        sent_at: u64,
        reply: SessionReply,
        out: &mut Vec<Output>,
    ) {
        if let SessionReply::Opened { session } = reply {
            self.pool = Some(session);
            self.pooled_refresh(row, sent_at, out);
        }
    }

    pub(super) fn on_pool_holder(
        &mut self,
        row: LeaseRow,
        sent_at: u64,
        reply: SessionReply,
        out: &mut Vec<Output>,
    ) {
        match reply {
            SessionReply::Holder { holder: Some(_) } => self.pool_write(row, sent_at, out),
            SessionReply::Holder { holder: None } => self.step_down(out),
            SessionReply::SessionDead => self.pool = None,
            _ => {}
        }
    }

    pub(super) fn on_pool_write(
        &mut self,
        row: LeaseRow,
        sent_at: u64,
        reply: SessionReply,
        out: &mut Vec<Output>,
    ) {
        match reply {
            SessionReply::Applied(StoreReply::Written { version }) => {
                self.refreshed(&row, version, sent_at, out)
            }
            SessionReply::Applied(StoreReply::ConditionFailed) => self.step_down(out),
            SessionReply::SessionDead => self.pool = None,
            _ => {}
        }
    }
}
