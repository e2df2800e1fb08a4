//! The lease client: acquires, renews and releases a writer lease over a compare-and-swap
//! object store, and stamps protected writes with its fencing token. Sans-IO: the caller
//! carries out [`Output`]s and feeds back [`Input`]s; one store operation is in flight at a time.

use super::record::{FencingToken, LeaseRecord};
use super::{LeaseCanary, LeaseError};
use crate::moment::Moment;
use crate::promise::Promise;
use crate::spec::lease::{Action, Held, RecordView};
use crate::store::{StoreError, StoreReply, StoreRequest, Version};
use crate::NodeId;

/// Fixed settings of one client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseConfig {
    /// The store key of the lease record.
    pub key: String,
    /// This client's id, written as the record's holder.
    pub id: NodeId,
    /// How long a lease lasts from the write that takes or renews it, local nanoseconds.
    pub ttl_ns: u64,
    /// How much earlier than `expires_at` the holder stops believing; must exceed the clock
    /// error (offset plus drift over a ttl) the deployment allows, nanoseconds.
    pub safety_margin_ns: u64,
    /// How often the holder renews, local nanoseconds (well under `ttl - margin`).
    pub renew_interval_ns: u64,
    /// A deliberately broken variant, for proving the checks bite.
    pub canary: Option<LeaseCanary>,
}

/// What drives the client.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Input {
    /// Try to take the lease under `term` (minted by whoever decides terms).
    Acquire { term: u64 },
    /// Take the lease under `term` even from a live holder, unless the record's term is newer.
    /// Safe only once that holder was told to stop believing (a planned handover demotes the
    /// old primary first); the takeover's new generation fences its token.
    Takeover { term: u64 },
    /// Give the lease up (the record is marked expired, never deleted: deleting would let the
    /// generation restart and fencing tokens go backwards).
    Release,
    /// Perform a protected write if the lease is believed held.
    Write { payload: u64 },
    /// A newer term exists somewhere (a failover minted it): renewing under an older one is fenced.
    ObserveTerm { term: u64 },
    /// A timer set by [`Output::SetTimer`] fired.
    Timer(LeaseTimer),
    /// The store answered request `request_id`.
    Store { request_id: u64, reply: StoreReply },
}

/// The client's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LeaseTimer {
    Renew,
}

/// What the client asks its driver to do, or reports.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Output {
    Store {
        request_id: u64,
        request: StoreRequest,
    },
    SetTimer {
        after_local_ns: u64,
        timer: LeaseTimer,
    },
    /// Send a write to the protected resource, stamped with the holder's token.
    FencedWrite {
        token: FencingToken,
        payload: u64,
    },
    Event(LeaseEvent),
    /// A moment worth a fault (see [`crate::moment`]); nothing to carry out.
    Moment(Moment),
    /// The spec action (`tla/Lease.tla`) the client just took: a pure statement of the step,
    /// for a checker to hold against the spec; nothing to carry out.
    Action(Action),
}

impl Output {
    /// What this output promises is durable (see [`crate::promise`]): a fenced write relies on
    /// the store's record naming its sender as holder with its token, unexpired.
    pub fn promise(&self) -> Option<Promise> {
        match self {
            Output::FencedWrite { token, .. } => Some(Promise::LeaseHeld { token: *token }),
            _ => None,
        }
    }
}

/// Outcomes, named after the spec's actions where one exists.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LeaseEvent {
    Acquired {
        token: FencingToken,
        expires_at: u64,
    },
    AcquireFailed(LeaseError),
    Renewed {
        token: FencingToken,
        expires_at: u64,
    },
    RenewFailed(LeaseError),
    Released {
        token: FencingToken,
    },
    /// A write was refused locally because the lease is not believed held.
    WriteRefused,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Pending {
    Idle,
    AcquireRead { term: u64, takeover: bool },
    AcquireWrite { record: LeaseRecord },
    AcquireConfirm { record: LeaseRecord },
    RenewRead { record: LeaseRecord },
    RenewWrite { record: LeaseRecord },
    RenewCheck { record: LeaseRecord },
    Release,
}

/// One lease client. Everything here is volatile: after a crash a new client starts empty and
/// the store is the source of truth.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LeaseClient {
    config_key: String,
    id: NodeId,
    ttl_ns: u64,
    margin_ns: u64,
    renew_interval_ns: u64,
    canary: Option<LeaseCanary>,
    /// The record we hold and its version (0 when a canary believed without knowing it).
    held: Option<(LeaseRecord, Version)>,
    pending: Pending,
    outstanding: Option<u64>,
    next_request: u64,
    highest_term_seen: u64,
    renew_timer_armed: bool,
}

impl LeaseClient {
    /// A client holding nothing.
    pub fn new(config: LeaseConfig) -> LeaseClient {
        let margin_ns = match config.canary {
            Some(LeaseCanary::NoSafetyMargin) => 0,
            _ => config.safety_margin_ns,
        };
        LeaseClient {
            config_key: config.key,
            id: config.id,
            ttl_ns: config.ttl_ns,
            margin_ns,
            renew_interval_ns: config.renew_interval_ns,
            canary: config.canary,
            held: None,
            pending: Pending::Idle,
            outstanding: None,
            next_request: 0,
            highest_term_seen: 0,
            renew_timer_armed: false,
        }
    }

    /// The token of the lease this client believes it holds at local time `now`, if any.
    pub fn belief(&self, now_local_ns: u64) -> Option<FencingToken> {
        let (record, _) = self.held.as_ref()?;
        (now_local_ns < record.expires_at.saturating_sub(self.margin_ns)).then(|| record.token())
    }

    /// The record this client last acquired or renewed (believed or lapsed).
    pub fn held_record(&self) -> Option<&LeaseRecord> {
        self.held.as_ref().map(|(record, _)| record)
    }

    /// The token held and the local time until which it is believed (lapsed or not): the
    /// spec's `held[n]` and `belief[n]`.
    pub fn held_belief(&self) -> Option<Held> {
        let (record, _) = self.held.as_ref()?;
        let belief = record.expires_at.saturating_sub(self.margin_ns);
        Some(Held { token: record.token(), belief })
    }

    /// Drops the record held, if any, stating it as the spec's `Release`.
    fn drop_held(&mut self, out: &mut Vec<Output>) -> Option<(LeaseRecord, Version)> {
        let held = self.held.take();
        if held.is_some() {
            out.push(Output::Action(Action::Release { n: self.id }));
        }
        held
    }

    /// The highest term this client has seen in the store or been told of.
    pub fn highest_term_seen(&self) -> u64 {
        self.highest_term_seen
    }

    /// True while a store operation is in flight.
    pub fn busy(&self) -> bool {
        self.pending != Pending::Idle
    }

    /// Advances the state machine by one input.
    pub fn handle(&mut self, now_local_ns: u64, input: Input, out: &mut Vec<Output>) {
        match input {
            Input::Acquire { term } => self.acquire(term, false, out),
            Input::Takeover { term } => self.acquire(term, true, out),
            Input::Release => self.release(out),
            Input::Write { payload } => {
                let token = if self.canary == Some(LeaseCanary::WriteAfterLapse) {
                    self.held_record().map(LeaseRecord::token) // canary: lapsed or not
                } else {
                    self.belief(now_local_ns)
                };
                match token {
                    Some(token) => {
                        out.push(Output::Action(Action::FencedWrite { n: self.id, token }));
                        out.push(Output::FencedWrite { token, payload })
                    }
                    None => out.push(Output::Event(LeaseEvent::WriteRefused)),
                }
            }
            Input::ObserveTerm { term } => {
                self.highest_term_seen = self.highest_term_seen.max(term)
            }
            Input::Timer(LeaseTimer::Renew) => self.renew(now_local_ns, out),
            Input::Store { request_id, reply } => {
                if self.outstanding != Some(request_id) {
                    return; // a reply to a request we no longer wait for
                }
                self.outstanding = None;
                let pending = std::mem::replace(&mut self.pending, Pending::Idle);
                self.on_reply(now_local_ns, pending, reply, out);
            }
        }
    }

    fn request(&mut self, pending: Pending, request: StoreRequest, out: &mut Vec<Output>) {
        self.next_request += 1;
        self.outstanding = Some(self.next_request);
        self.pending = pending;
        out.push(Output::Store { request_id: self.next_request, request });
    }

    fn get(&self) -> StoreRequest {
        StoreRequest::Get { key: self.config_key.clone() }
    }

    fn acquire(&mut self, term: u64, takeover: bool, out: &mut Vec<Output>) {
        if self.busy() {
            return out.push(Output::Event(LeaseEvent::AcquireFailed(LeaseError::Busy)));
        }
        // Re-acquiring (under a newer term) rewrites our own record: stop believing in the old
        // one before the store hears of it, so belief never names a record that is gone.
        self.drop_held(out);
        let get = self.get();
        self.request(Pending::AcquireRead { term, takeover }, get, out);
    }

    fn release(&mut self, out: &mut Vec<Output>) {
        // Stop believing before the store hears of it, so belief never outlives the record.
        let Some((record, version)) = self.drop_held(out) else { return };
        if self.busy() {
            return; // the in-flight operation's answer finds nothing held
        }
        let expired = LeaseRecord { expires_at: record.acquired_at, ..record.clone() };
        out.push(Output::Event(LeaseEvent::Released { token: record.token() }));
        let key = self.config_key.clone();
        let request = if self.canary == Some(LeaseCanary::ReleaseDeletesRecord) {
            StoreRequest::DeleteIfVersion { key, version } // canary: the generation restarts
        } else {
            StoreRequest::PutIfVersion { key, value: expired.encode(), version }
        };
        self.request(Pending::Release, request, out);
    }

    fn renew(&mut self, now: u64, out: &mut Vec<Output>) {
        self.renew_timer_armed = false;
        let Some((record, version)) = self.held.clone() else { return };
        self.arm_renew_timer(out);
        if self.busy() {
            return;
        }
        if record.term < self.highest_term_seen && self.canary != Some(LeaseCanary::NoTermFence) {
            self.drop_held(out);
            let error = LeaseError::Fenced { ours: record.term, theirs: self.highest_term_seen };
            return out.push(Output::Event(LeaseEvent::RenewFailed(error)));
        }
        let renewed = LeaseRecord { expires_at: now + self.ttl_ns, ..record };
        if self.canary == Some(LeaseCanary::BlindRefresh) {
            let get = self.get();
            return self.request(Pending::RenewRead { record: renewed }, get, out);
        }
        let (key, value) = (self.config_key.clone(), renewed.encode());
        let put = StoreRequest::PutIfVersion { key, value, version };
        self.request(Pending::RenewWrite { record: renewed }, put, out);
        out.push(Output::Moment(Moment::LeaseRenewing));
    }

    fn arm_renew_timer(&mut self, out: &mut Vec<Output>) {
        if !self.renew_timer_armed {
            self.renew_timer_armed = true;
            let after_local_ns = self.renew_interval_ns;
            out.push(Output::SetTimer { after_local_ns, timer: LeaseTimer::Renew });
        }
    }

    fn on_reply(&mut self, now: u64, pending: Pending, reply: StoreReply, out: &mut Vec<Output>) {
        match pending {
            Pending::Idle | Pending::Release => {}
            Pending::AcquireRead { term, takeover } => {
                self.on_acquire_read(now, term, takeover, reply, out)
            }
            Pending::AcquireWrite { record } => self.on_acquire_write(record, reply, out),
            Pending::AcquireConfirm { record } => self.on_acquire_confirm(record, reply, out),
            Pending::RenewRead { record } => {
                // Canaries `blind-refresh` and `retry-stale-renewal`: overwrite whatever is
                // there, whoever holds it.
                let key = self.config_key.clone();
                let request = match reply {
                    StoreReply::Got { object: Some((_, version)), .. } => {
                        StoreRequest::PutIfVersion { key, value: record.encode(), version }
                    }
                    _ => StoreRequest::PutIfAbsent { key, value: record.encode() },
                };
                self.request(Pending::RenewWrite { record }, request, out);
            }
            Pending::RenewWrite { record } => match reply {
                StoreReply::ConditionFailed
                    if self.canary == Some(LeaseCanary::RetryStaleRenewal) =>
                {
                    // Canary: a conflict is "retried" with the version read now, whoever wrote it.
                    let get = self.get();
                    self.request(Pending::RenewRead { record }, get, out);
                }
                StoreReply::Written { version }
                    if self.canary == Some(LeaseCanary::ExpiryFromReply) =>
                {
                    // Canary: the lease runs from the answer, though the store's runs from the
                    // request.
                    let record = LeaseRecord { expires_at: now + self.ttl_ns, ..record };
                    self.renewed(record, version, out)
                }
                StoreReply::Written { version } => self.renewed(record, version, out),
                StoreReply::ConditionFailed => self.stale(Action::RenewStale { n: self.id }, out),
                StoreReply::Failed(StoreError::Timeout) => {
                    // Ambiguous: read back to learn whether the renewal applied.
                    let get = self.get();
                    self.request(Pending::RenewCheck { record }, get, out);
                }
                StoreReply::Failed(error) => self.renew_failed(LeaseError::Storage(error), out),
                other => self.renew_failed(LeaseError::Unexpected(format!("{other:?}")), out),
            },
            Pending::RenewCheck { record } => match self.read_record(&reply) {
                Ok(Some((stored, version))) if stored == record => {
                    self.renewed(record, version, out)
                }
                // The read-back found another record: give the lease up.
                Ok(_) => self.stale(Action::Release { n: self.id }, out),
                Err(error) => self.renew_failed(error, out),
            },
        }
    }

    fn on_acquire_read(
        &mut self,
        now: u64,
        term: u64,
        takeover: bool,
        reply: StoreReply,
        out: &mut Vec<Output>,
    ) {
        let store_time_ns = match reply {
            StoreReply::Got { store_time_ns, .. } => store_time_ns,
            _ => 0,
        };
        let current = match self.read_record(&reply) {
            Ok(current) => current,
            Err(error) => return self.acquire_failed(error, out),
        };
        let generation = match &current {
            None => 1,
            Some((record, _)) => {
                self.highest_term_seen = self.highest_term_seen.max(record.term);
                let fenced = term < record.term && self.canary != Some(LeaseCanary::NoTermFence);
                if fenced {
                    let error = LeaseError::Fenced { ours: term, theirs: record.term };
                    return self.acquire_failed(error, out);
                }
                if record.live_at(store_time_ns) && record.holder != self.id && !takeover {
                    let error =
                        LeaseError::Held { holder: record.holder, expires_at: record.expires_at };
                    return self.acquire_failed(error, out);
                }
                // Every acquisition issues a new token, ours included: writes stamped in an
                // earlier tenure (a crashed incarnation's, a stalled one) must not pass for
                // this one's.
                record.generation + 1
            }
        };
        let key = self.config_key.clone();
        let record = LeaseRecord {
            key: key.clone(),
            holder: self.id,
            term,
            generation,
            acquired_at: now,
            expires_at: now + self.ttl_ns,
        };
        let value = record.encode();
        let request = match current {
            None => StoreRequest::PutIfAbsent { key, value },
            Some((_, version)) => StoreRequest::PutIfVersion { key, value, version },
        };
        self.request(Pending::AcquireWrite { record }, request, out);
    }

    fn on_acquire_write(&mut self, record: LeaseRecord, reply: StoreReply, out: &mut Vec<Output>) {
        let skip_confirm = self.canary == Some(LeaseCanary::NoConfirmRead);
        match reply {
            StoreReply::Written { version } if skip_confirm => self.acquired(record, version, out),
            StoreReply::Failed(StoreError::Timeout) if skip_confirm => {
                self.acquired(record, 0, out) // the bug: an ambiguous write taken as a win
            }
            // Written or ambiguous: only a read of the record says for sure that we won.
            StoreReply::Written { .. } | StoreReply::Failed(StoreError::Timeout) => {
                let get = self.get();
                self.request(Pending::AcquireConfirm { record }, get, out);
            }
            StoreReply::ConditionFailed => self.acquire_failed(LeaseError::LostRace, out),
            StoreReply::Failed(error) => self.acquire_failed(LeaseError::Storage(error), out),
            other => self.acquire_failed(LeaseError::Unexpected(format!("{other:?}")), out),
        }
    }

    fn on_acquire_confirm(
        &mut self,
        record: LeaseRecord,
        reply: StoreReply,
        out: &mut Vec<Output>,
    ) {
        match self.read_record(&reply) {
            Ok(Some((stored, version))) if stored == record => self.acquired(record, version, out),
            Ok(_) => self.acquire_failed(LeaseError::LostRace, out),
            Err(error) => self.acquire_failed(error, out),
        }
    }

    /// Decodes a `Got` reply; other replies and malformed records are errors.
    fn read_record(
        &self,
        reply: &StoreReply,
    ) -> Result<Option<(LeaseRecord, Version)>, LeaseError> {
        match reply {
            StoreReply::Got { object: None, .. } => Ok(None),
            StoreReply::Got { object: Some((bytes, version)), .. } => LeaseRecord::decode(bytes)
                .map(|record| Some((record, *version)))
                .map_err(|e| LeaseError::Malformed(e.0)),
            StoreReply::Failed(error) => Err(LeaseError::Storage(*error)),
            other => Err(LeaseError::Unexpected(format!("{other:?}"))),
        }
    }

    fn acquired(&mut self, record: LeaseRecord, version: Version, out: &mut Vec<Output>) {
        out.push(Output::Action(Action::Acquired { n: self.id, w: RecordView::of(&record) }));
        let (token, expires_at) = (record.token(), record.expires_at);
        self.held = Some((record, version));
        out.push(Output::Event(LeaseEvent::Acquired { token, expires_at }));
        self.arm_renew_timer(out);
    }

    fn acquire_failed(&mut self, error: LeaseError, out: &mut Vec<Output>) {
        out.push(Output::Event(LeaseEvent::AcquireFailed(error)));
    }

    fn renewed(&mut self, record: LeaseRecord, version: Version, out: &mut Vec<Output>) {
        let (token, expires_at) = (record.token(), record.expires_at);
        if self.held.is_some() {
            out.push(Output::Action(Action::Renewed { n: self.id, w: RecordView::of(&record) }));
            self.held = Some((record, version));
            out.push(Output::Event(LeaseEvent::Renewed { token, expires_at }));
        }
    }

    /// The renewal found the record moved on: stop believing (stated as `action`).
    fn stale(&mut self, action: Action, out: &mut Vec<Output>) {
        if self.held.take().is_some() {
            out.push(Output::Action(action));
        }
        out.push(Output::Event(LeaseEvent::RenewFailed(LeaseError::Stale)));
    }

    fn renew_failed(&mut self, error: LeaseError, out: &mut Vec<Output>) {
        // Belief simply runs out at its deadline unless a later renewal succeeds.
        out.push(Output::Event(LeaseEvent::RenewFailed(error)));
    }
}
