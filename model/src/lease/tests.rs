//! The lease client's edge cases, driven by hand: each test feeds store replies and asserts the
//! requests and events that come out.

use super::*;
use crate::store::{StoreReply, StoreRequest};

const TTL: u64 = 1_000;
const MARGIN: u64 = 100;

struct Driver {
    client: LeaseClient,
    now: u64,
    out: Vec<Output>,
}

fn driver(id: u32, canary: Option<LeaseCanary>) -> Driver {
    let config = LeaseConfig {
        key: "lease".into(),
        id,
        ttl_ns: TTL,
        safety_margin_ns: MARGIN,
        renew_interval_ns: 300,
        canary,
    };
    Driver { client: LeaseClient::new(config), now: 10_000, out: Vec::new() }
}

fn record(holder: u32, term: u64, generation: u64, expires_at: u64) -> LeaseRecord {
    LeaseRecord { key: "lease".into(), holder, term, generation, acquired_at: 0, expires_at }
}

fn got(record: Option<&LeaseRecord>, version: u64, store_time_ns: u64) -> StoreReply {
    StoreReply::Got { object: record.map(|r| (r.encode(), version)), store_time_ns }
}

impl Driver {
    fn input(&mut self, input: Input) -> Vec<Output> {
        self.out.clear();
        self.client.handle(self.now, input, &mut self.out);
        self.out.clone()
    }
    /// The request the client is waiting on.
    fn request(&self) -> (u64, StoreRequest) {
        self.out
            .iter()
            .find_map(|o| match o {
                Output::Store { request_id, request } => Some((*request_id, request.clone())),
                _ => None,
            })
            .expect("a store request")
    }
    fn reply(&mut self, reply: StoreReply) -> Vec<Output> {
        let (request_id, _) = self.request();
        self.input(Input::Store { request_id, reply })
    }
    fn events(&self) -> Vec<LeaseEvent> {
        self.out
            .iter()
            .filter_map(|o| if let Output::Event(e) = o { Some(e.clone()) } else { None })
            .collect()
    }
    /// Acquires from an absent record through to the confirmed belief.
    fn acquire_fresh(&mut self, term: u64) -> LeaseRecord {
        self.input(Input::Acquire { term });
        self.reply(got(None, 0, self.now));
        let (_, StoreRequest::PutIfAbsent { value, .. }) = self.request() else { panic!() };
        let written = LeaseRecord::decode(&value).unwrap();
        self.reply(StoreReply::Written { version: 1 });
        self.reply(got(Some(&written), 1, self.now));
        written
    }
}

#[test]
fn acquiring_an_absent_record_writes_generation_one_and_confirms() {
    let mut d = driver(1, None);
    let written = d.acquire_fresh(3);
    assert_eq!(written.token(), FencingToken { term: 3, generation: 1 });
    assert_eq!(written.expires_at, d.now + TTL);
    assert!(matches!(d.events()[..], [LeaseEvent::Acquired { .. }]));
    assert_eq!(d.client.belief(d.now), Some(written.token()));
}

#[test]
fn fenced_beats_held_and_applies_even_to_an_expired_record() {
    let mut d = driver(1, None);
    d.input(Input::Acquire { term: 1 });
    d.reply(got(Some(&record(2, 5, 1, u64::MAX)), 7, 0));
    assert_eq!(
        d.events(),
        vec![LeaseEvent::AcquireFailed(LeaseError::Fenced { ours: 1, theirs: 5 })]
    );
    d.input(Input::Acquire { term: 1 });
    d.reply(got(Some(&record(2, 5, 1, 0)), 7, 99_999)); // long expired
    assert_eq!(
        d.events(),
        vec![LeaseEvent::AcquireFailed(LeaseError::Fenced { ours: 1, theirs: 5 })]
    );
    assert_eq!(d.client.highest_term_seen(), 5);
}

#[test]
fn a_live_lease_of_another_holder_is_held_and_an_expired_one_is_taken() {
    let mut d = driver(1, None);
    d.input(Input::Acquire { term: 1 });
    d.reply(got(Some(&record(2, 1, 4, 500)), 7, 499));
    assert_eq!(
        d.events(),
        vec![LeaseEvent::AcquireFailed(LeaseError::Held { holder: 2, expires_at: 500 })]
    );
    d.input(Input::Acquire { term: 1 });
    d.reply(got(Some(&record(2, 1, 4, 500)), 7, 500));
    let (_, StoreRequest::PutIfVersion { value, version, .. }) = d.request() else { panic!() };
    assert_eq!(version, 7, "the write is conditional on the version read");
    assert_eq!(LeaseRecord::decode(&value).unwrap().generation, 5, "a new holder bumps it");
}

/// Found by `IssuedTokensIncrease` on the first lease seeds: a holder re-acquiring its own
/// expired record kept its generation, so its earlier tenure's token (and any write stamped with
/// it, stalled or sent by a crashed incarnation) stayed valid in the new tenure.
#[test]
fn the_same_holder_reacquiring_gets_a_new_token() {
    let mut d = driver(2, None);
    d.input(Input::Acquire { term: 1 });
    d.reply(got(Some(&record(2, 1, 4, 0)), 7, 1)); // our own record, expired (or released)
    let (_, StoreRequest::PutIfVersion { value, .. }) = d.request() else { panic!() };
    assert_eq!(LeaseRecord::decode(&value).unwrap().generation, 5);
}

#[test]
fn reacquiring_under_a_newer_term_drops_the_old_belief_before_writing() {
    let mut d = driver(1, None);
    let held = d.acquire_fresh(3);
    d.input(Input::Acquire { term: 4 });
    assert_eq!(d.client.belief(d.now), None, "the record is about to change under us");
    d.reply(got(Some(&held), 1, d.now));
    let (_, StoreRequest::PutIfVersion { value, .. }) = d.request() else { panic!() };
    assert_eq!(
        LeaseRecord::decode(&value).unwrap().token(),
        FencingToken { term: 4, generation: 2 }
    );
}

#[test]
fn a_takeover_overrides_a_live_lease_of_an_older_term_only() {
    let mut d = driver(1, None);
    d.input(Input::Takeover { term: 2 });
    d.reply(got(Some(&record(2, 1, 4, u64::MAX)), 7, 0));
    let (_, StoreRequest::PutIfVersion { value, version, .. }) = d.request() else { panic!() };
    assert_eq!(version, 7);
    let written = LeaseRecord::decode(&value).unwrap();
    assert_eq!(written.token(), FencingToken { term: 2, generation: 5 }, "fences the old token");
    let mut d = driver(1, None);
    d.input(Input::Takeover { term: 2 });
    d.reply(got(Some(&record(2, 3, 1, u64::MAX)), 8, 0));
    assert_eq!(
        d.events(),
        vec![LeaseEvent::AcquireFailed(LeaseError::Fenced { ours: 2, theirs: 3 })]
    );
}

#[test]
fn a_lost_cas_or_a_different_record_on_reread_is_a_lost_race() {
    let mut d = driver(1, None);
    d.input(Input::Acquire { term: 1 });
    d.reply(got(None, 0, 0));
    d.reply(StoreReply::ConditionFailed);
    assert_eq!(d.events(), vec![LeaseEvent::AcquireFailed(LeaseError::LostRace)]);
    d.input(Input::Acquire { term: 1 });
    d.reply(got(None, 0, 0));
    d.reply(StoreReply::Failed(crate::store::StoreError::Timeout)); // ambiguous: re-read decides
    d.reply(got(Some(&record(3, 1, 1, u64::MAX)), 2, 0));
    assert_eq!(d.events(), vec![LeaseEvent::AcquireFailed(LeaseError::LostRace)]);
    assert_eq!(d.client.belief(d.now), None);
}

#[test]
fn belief_ends_at_expiry_minus_the_margin_on_the_local_clock() {
    let mut d = driver(1, None);
    let written = d.acquire_fresh(1);
    assert!(d.client.belief(written.expires_at - MARGIN - 1).is_some());
    assert!(d.client.belief(written.expires_at - MARGIN).is_none());
}

#[test]
fn a_renewal_on_a_changed_version_is_stale_and_drops_belief_at_once() {
    let mut d = driver(1, None);
    d.acquire_fresh(1);
    d.input(Input::Timer(LeaseTimer::Renew));
    let (_, StoreRequest::PutIfVersion { version, .. }) = d.request() else { panic!() };
    assert_eq!(version, 1, "renewal is conditional on the version we hold");
    d.reply(StoreReply::ConditionFailed);
    assert_eq!(d.events(), vec![LeaseEvent::RenewFailed(LeaseError::Stale)]);
    assert_eq!(d.client.belief(d.now), None);
}

#[test]
fn a_renewal_behind_a_newer_term_is_fenced_before_touching_storage() {
    let mut d = driver(1, None);
    d.acquire_fresh(1);
    d.input(Input::ObserveTerm { term: 2 });
    let out = d.input(Input::Timer(LeaseTimer::Renew));
    assert!(!out.iter().any(|o| matches!(o, Output::Store { .. })), "{out:?}");
    assert_eq!(
        d.events(),
        vec![LeaseEvent::RenewFailed(LeaseError::Fenced { ours: 1, theirs: 2 })]
    );
    assert_eq!(d.client.belief(d.now), None);
}

#[test]
fn release_stops_belief_first_and_marks_the_record_expired_not_deleted() {
    let mut d = driver(1, None);
    d.acquire_fresh(1);
    d.input(Input::Release);
    assert_eq!(d.client.belief(d.now), None);
    let (_, StoreRequest::PutIfVersion { value, .. }) = d.request() else { panic!() };
    let released = LeaseRecord::decode(&value).unwrap();
    assert!(released.expires_at <= released.acquired_at, "expired, generation kept");
    assert_eq!(released.generation, 1);
}

#[test]
fn a_malformed_record_is_an_error_not_a_panic() {
    let mut d = driver(1, None);
    d.input(Input::Acquire { term: 1 });
    d.reply(StoreReply::Got { object: Some((b"garbage".to_vec(), 3)), store_time_ns: 0 });
    assert!(matches!(d.events()[..], [LeaseEvent::AcquireFailed(LeaseError::Malformed(_))]));
}

#[test]
fn writes_are_stamped_only_while_believed() {
    let mut d = driver(1, None);
    assert_eq!(d.input(Input::Write { payload: 9 }), vec![Output::Event(LeaseEvent::WriteRefused)]);
    let written = d.acquire_fresh(4);
    let out = d.input(Input::Write { payload: 9 });
    let token = written.token();
    let declared = Output::Action(crate::spec::lease::Action::FencedWrite { n: 1, token });
    assert_eq!(out, vec![declared, Output::FencedWrite { token, payload: 9 }]);
}

#[test]
fn each_canary_changes_exactly_its_behaviour() {
    // no-term-fence: an expired record of a newer term is taken under an older one.
    let mut d = driver(1, Some(LeaseCanary::NoTermFence));
    d.input(Input::Acquire { term: 1 });
    d.reply(got(Some(&record(2, 5, 1, 0)), 7, 1));
    assert!(matches!(d.request().1, StoreRequest::PutIfVersion { .. }));
    // no-safety-margin: belief lasts until expires_at itself.
    let mut d = driver(1, Some(LeaseCanary::NoSafetyMargin));
    let written = d.acquire_fresh(1);
    assert!(d.client.belief(written.expires_at - 1).is_some());
    // blind-refresh: renewal reads first, then writes over whatever version it found.
    let mut d = driver(1, Some(LeaseCanary::BlindRefresh));
    d.acquire_fresh(1);
    d.input(Input::Timer(LeaseTimer::Renew));
    assert!(matches!(d.request().1, StoreRequest::Get { .. }));
    d.reply(got(Some(&record(2, 1, 2, u64::MAX)), 9, 0));
    assert!(matches!(d.request().1, StoreRequest::PutIfVersion { version: 9, .. }));
    // no-confirm-read: a timed-out write is taken as a win.
    let mut d = driver(1, Some(LeaseCanary::NoConfirmRead));
    d.input(Input::Acquire { term: 1 });
    d.reply(got(None, 0, 0));
    d.reply(StoreReply::Failed(crate::store::StoreError::Timeout));
    assert!(d.client.belief(d.now).is_some());
    // retry-stale-renewal: a Stale renewal reads the version and writes over it.
    let mut d = driver(1, Some(LeaseCanary::RetryStaleRenewal));
    d.acquire_fresh(1);
    d.input(Input::Timer(LeaseTimer::Renew));
    d.reply(StoreReply::ConditionFailed);
    assert!(matches!(d.request().1, StoreRequest::Get { .. }));
    d.reply(got(Some(&record(2, 1, 2, u64::MAX)), 9, 0));
    assert!(matches!(d.request().1, StoreRequest::PutIfVersion { version: 9, .. }));
    // release-deletes-record: release deletes instead of marking the record expired.
    let mut d = driver(1, Some(LeaseCanary::ReleaseDeletesRecord));
    d.acquire_fresh(1);
    d.input(Input::Release);
    assert!(matches!(d.request().1, StoreRequest::DeleteIfVersion { .. }));
    // expiry-from-reply: a renewal answered late is believed from the answer.
    let mut d = driver(1, Some(LeaseCanary::ExpiryFromReply));
    d.acquire_fresh(1);
    d.input(Input::Timer(LeaseTimer::Renew));
    let asked_at = d.now;
    d.now += 400;
    d.reply(StoreReply::Written { version: 2 });
    assert!(d.client.belief(asked_at + TTL - MARGIN + 100).is_some());
    // write-after-lapse: a write is stamped with the held token after belief lapsed.
    let mut d = driver(1, Some(LeaseCanary::WriteAfterLapse));
    let written = d.acquire_fresh(1);
    d.now = written.expires_at;
    let out = d.input(Input::Write { payload: 7 });
    assert!(matches!(out[..], [Output::Action(_), Output::FencedWrite { .. }]));
    // The correct client does none of these (covered by the tests above).
}
