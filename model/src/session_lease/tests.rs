//! The leader machine step by step, against a hand-played store: each test plays the answers
//! and checks what the machine asks next and whether it acts as leader.

use super::*;
use crate::session_store::{Guard, SessionReply, SessionRequest};
use crate::spec::session_lease::Action;
use crate::store::{StoreError, StoreReply, StoreRequest};

const TTL: u64 = 1_000;
const MARGIN: u64 = 100;
const LOCK: &str = "leader";
const ROW: &str = "lease-row";

fn config(id: NodeId, canary: Option<SessionLeaseCanary>) -> SessionLeaseConfig {
    SessionLeaseConfig {
        id,
        lock: LOCK.into(),
        row_key: ROW.into(),
        ttl_ns: TTL,
        margin_ns: MARGIN,
        check_interval_ns: 250,
        canary,
    }
}

/// A machine and its last request in flight.
struct Driver {
    machine: SessionLeader,
    request: Option<(u64, SessionRequest)>,
    out: Vec<Output>,
}

impl Driver {
    fn new(id: NodeId, canary: Option<SessionLeaseCanary>) -> Driver {
        Driver { machine: SessionLeader::new(config(id, canary)), request: None, out: Vec::new() }
    }

    fn input(&mut self, now: u64, input: Input) {
        self.out.clear();
        self.machine.handle(now, input, &mut self.out);
        for output in &self.out {
            if let Output::Session { request_id, request } = output {
                self.request = Some((*request_id, request.clone()));
            }
        }
    }

    fn check(&mut self, now: u64) {
        self.input(now, Input::Timer(LeaderTimer::Check));
    }

    /// Answers the request in flight (which must match `expected`) with `reply`.
    fn answer(&mut self, now: u64, expected: &SessionRequest, reply: SessionReply) {
        let (request_id, request) = self.request.take().expect("a request in flight");
        assert_eq!(&request, expected);
        self.input(now, Input::Session { request_id, reply });
    }

    fn actions(&self) -> Vec<Action> {
        let actions = self.out.iter().filter_map(|o| match o {
            Output::Action(action) => Some(*action),
            _ => None,
        });
        actions.collect()
    }

    fn events(&self) -> Vec<LeaderEvent> {
        let events = self.out.iter().filter_map(|o| match o {
            Output::Event(event) => Some(event.clone()),
            _ => None,
        });
        events.collect()
    }
}

fn row(holder: NodeId, generation: u64, acquired_at: u64, lease_until: u64) -> LeaseRow {
    LeaseRow { holder, generation, acquired_at, lease_until }
}

fn got(row: Option<(&LeaseRow, u64)>) -> SessionReply {
    let object = row.map(|(row, version)| (row.encode(), version));
    SessionReply::Applied(StoreReply::Got { object, store_time_ns: 0 })
}

fn under_lock(session: u64, op: StoreRequest) -> SessionRequest {
    SessionRequest::Apply { session, guard: Guard::HoldsLock { lock: LOCK.into() }, op }
}

fn get_row() -> StoreRequest {
    StoreRequest::Get { key: ROW.into() }
}

/// Plays node `id` from nothing to leading generation 1 at local time 10 (empty store).
fn leader(id: NodeId, canary: Option<SessionLeaseCanary>) -> Driver {
    let mut node = Driver::new(id, canary);
    node.check(10);
    node.answer(10, &SessionRequest::Open, SessionReply::Opened { session: 7 });
    let try_lock = SessionRequest::TryLock { session: 7, lock: LOCK.into() };
    node.answer(10, &try_lock, SessionReply::Locked);
    node.answer(10, &under_lock(7, get_row()), got(None));
    let first = row(id, 1, 10, 10 + TTL);
    let create = StoreRequest::PutIfAbsent { key: ROW.into(), value: first.encode() };
    let written = SessionReply::Applied(StoreReply::Written { version: 1 });
    node.answer(20, &under_lock(7, create), written);
    node
}

#[test]
fn a_standby_takes_a_free_lock_writes_its_row_and_acts_until_the_bound() {
    let node = leader(0, None);
    let lead_until = Some(10 + TTL - MARGIN);
    assert_eq!(node.events(), vec![LeaderEvent::Led { generation: 1, lead_until }]);
    assert_eq!(node.machine.acting(10 + TTL - MARGIN - 1), Some(1));
    assert_eq!(node.machine.acting(10 + TTL - MARGIN), None, "bounded by the lease");
}

#[test]
fn a_refresh_validates_and_extends_from_when_it_was_sent() {
    let mut node = leader(0, None);
    node.check(300);
    let renewed = row(0, 1, 10, 300 + TTL);
    let write = StoreRequest::PutIfVersion { key: ROW.into(), value: renewed.encode(), version: 1 };
    let written = SessionReply::Applied(StoreReply::Written { version: 2 });
    node.answer(900, &under_lock(7, write), written);
    assert_eq!(node.machine.acting(300 + TTL - MARGIN - 1), Some(1));
    assert_eq!(node.machine.acting(300 + TTL - MARGIN), None, "timed from the request");
}

#[test]
fn a_refresh_whose_guard_fails_or_session_died_ends_leadership() {
    for (reply, event) in [
        (SessionReply::GuardFailed, LeaderEvent::ValidationFailed),
        (SessionReply::SessionDead, LeaderEvent::SessionLost),
    ] {
        let mut node = leader(0, None);
        node.check(300);
        let (request_id, _) = node.request.take().unwrap();
        node.input(310, Input::Session { request_id, reply });
        assert_eq!(node.events(), vec![event]);
        assert_eq!(node.machine.acting(310), None);
    }
}

#[test]
fn an_ambiguous_refresh_is_resolved_by_reading_under_the_lock() {
    let mut node = leader(0, None);
    node.check(300);
    let (request_id, _) = node.request.take().unwrap();
    let timeout = SessionReply::Failed(StoreError::Timeout);
    node.input(800, Input::Session { request_id, reply: timeout });
    let renewed = row(0, 1, 10, 300 + TTL);
    node.answer(810, &under_lock(7, get_row()), got(Some((&renewed, 5))));
    let lead_until = Some(300 + TTL - MARGIN);
    assert_eq!(node.events(), vec![LeaderEvent::Refreshed { generation: 1, lead_until }]);
}

#[test]
fn a_new_holder_waits_out_anothers_live_row_before_it_writes() {
    let mut node = Driver::new(1, None);
    node.check(500);
    node.answer(500, &SessionRequest::Open, SessionReply::Opened { session: 9 });
    let try_lock = SessionRequest::TryLock { session: 9, lock: LOCK.into() };
    node.answer(500, &try_lock, SessionReply::Locked);
    let previous = row(0, 4, 0, 1_000);
    node.answer(500, &under_lock(9, get_row()), got(Some((&previous, 3))));
    let until = 1_000 + MARGIN;
    assert_eq!(node.events(), vec![LeaderEvent::WaitingOut { until }]);
    assert!(node.out.contains(&Output::SetTimer {
        after_local_ns: until - 500 + 1,
        timer: LeaderTimer::WaitedOut
    }));
    node.check(750);
    assert!(node.request.is_none(), "a check does not interrupt the wait");
    node.input(until + 1, Input::Timer(LeaderTimer::WaitedOut));
    node.answer(until + 1, &under_lock(9, get_row()), got(Some((&previous, 3))));
    let mine = row(1, 5, until + 1, until + 1 + TTL);
    let write = StoreRequest::PutIfVersion { key: ROW.into(), value: mine.encode(), version: 3 };
    let written = SessionReply::Applied(StoreReply::Written { version: 4 });
    node.answer(until + 2, &under_lock(9, write), written);
    assert_eq!(node.machine.acting(until + 2), Some(5), "the next generation");
}

#[test]
fn the_described_design_takes_over_at_once_and_leads_until_validation_fails() {
    let mut node = Driver::new(1, Some(SessionLeaseCanary::DescribedDesign));
    node.check(500);
    node.answer(500, &SessionRequest::Open, SessionReply::Opened { session: 9 });
    let try_lock = SessionRequest::TryLock { session: 9, lock: LOCK.into() };
    node.answer(500, &try_lock, SessionReply::Locked);
    let previous = row(0, 4, 0, 1_000);
    node.answer(500, &under_lock(9, get_row()), got(Some((&previous, 3))));
    let (_, request) = node.request.clone().unwrap();
    assert!(matches!(request, SessionRequest::Apply { .. }), "writes at once: {request:?}");
    node.answer(501, &request, SessionReply::Applied(StoreReply::Written { version: 4 }));
    assert_eq!(node.machine.acting(1_000_000), Some(5), "no time bound");
    node.input(600, Input::Write { payload: 1 });
    let unfenced = WriteStamp { token: None, tenure: 5 };
    let declared = Output::Action(Action::Write { n: 1, g: 5 });
    assert_eq!(node.out, vec![declared, Output::ProtectedWrite { stamp: unfenced, payload: 1 }]);
}

#[test]
fn a_standby_preempts_only_an_expired_holder_and_only_if_the_row_is_unchanged() {
    let inspect = SessionRequest::Apply { session: 9, guard: Guard::Always, op: get_row() };
    for (now, preempts) in [(1_000 + MARGIN, false), (1_000 + MARGIN + 1, true)] {
        let mut node = Driver::new(1, None);
        node.check(now);
        node.answer(now, &SessionRequest::Open, SessionReply::Opened { session: 9 });
        let try_lock = SessionRequest::TryLock { session: 9, lock: LOCK.into() };
        node.answer(now, &try_lock, SessionReply::HeldBy { holder: 7 });
        let holder_row = row(0, 4, 0, 1_000);
        node.answer(now, &inspect, got(Some((&holder_row, 3))));
        let terminate = SessionRequest::Terminate {
            session: 9,
            target: 7,
            guard: Guard::RowAt { key: ROW.into(), version: Some(3) },
        };
        assert_eq!(node.request.as_ref().map(|(_, r)| r == &terminate), preempts.then_some(true));
    }
}

#[test]
fn the_preempt_canary_ignores_refreshes() {
    let mut node = Driver::new(1, Some(SessionLeaseCanary::PreemptValidLease));
    node.check(5_000);
    node.answer(5_000, &SessionRequest::Open, SessionReply::Opened { session: 9 });
    let try_lock = SessionRequest::TryLock { session: 9, lock: LOCK.into() };
    node.answer(5_000, &try_lock, SessionReply::HeldBy { holder: 7 });
    let refreshed = row(0, 4, 0, 5_500);
    let inspect = SessionRequest::Apply { session: 9, guard: Guard::Always, op: get_row() };
    node.answer(5_000, &inspect, got(Some((&refreshed, 3))));
    assert!(matches!(node.request, Some((_, SessionRequest::Terminate { .. }))));
}

#[test]
fn pooled_canaries_refresh_on_another_connection() {
    for canary in [
        SessionLeaseCanary::RefreshWithoutValidation,
        SessionLeaseCanary::ValidateOnOtherConnection,
    ] {
        let mut node = leader(0, Some(canary));
        node.check(300);
        node.answer(300, &SessionRequest::Open, SessionReply::Opened { session: 8 });
        if canary == SessionLeaseCanary::ValidateOnOtherConnection {
            let holder = SessionRequest::Holder { session: 8, lock: LOCK.into() };
            node.answer(300, &holder, SessionReply::Holder { holder: Some(42) });
        }
        let renewed = row(0, 1, 10, 300 + TTL);
        let op =
            StoreRequest::PutIfVersion { key: ROW.into(), value: renewed.encode(), version: 1 };
        let write = SessionRequest::Apply { session: 8, guard: Guard::Always, op };
        let (_, request) = node.request.clone().unwrap();
        assert_eq!(request, write, "{canary:?}");
    }
}

#[test]
fn writes_are_fenced_and_refused_when_not_acting() {
    let mut node = leader(0, None);
    node.input(20, Input::Write { payload: 3 });
    let stamp = WriteStamp { token: Some(1), tenure: 1 };
    let declared = Output::Action(Action::Write { n: 0, g: 1 });
    assert_eq!(node.out, vec![declared, Output::ProtectedWrite { stamp, payload: 3 }]);
    node.input(10 + TTL, Input::Write { payload: 4 });
    assert_eq!(node.events(), vec![LeaderEvent::WriteRefused]);
    let mut unfenced = leader(0, Some(SessionLeaseCanary::UnfencedWrites));
    unfenced.input(20, Input::Write { payload: 3 });
    let stamp = WriteStamp { token: None, tenure: 1 };
    let declared = Output::Action(Action::Write { n: 0, g: 1 });
    assert_eq!(unfenced.out, vec![declared, Output::ProtectedWrite { stamp, payload: 3 }]);
}

#[test]
fn resigning_stops_acting_before_closing_the_session() {
    let mut node = leader(0, None);
    node.input(30, Input::Resign);
    assert_eq!(node.machine.acting(30), None);
    assert_eq!(
        node.request.as_ref().map(|(_, r)| r.clone()),
        Some(SessionRequest::Close { session: 7 })
    );
    assert_eq!(node.machine.session(), None);
}

#[test]
fn garbage_answers_never_panic() {
    let replies = [
        SessionReply::Locked,
        SessionReply::Closed,
        SessionReply::HeldBy { holder: 1 },
        SessionReply::Applied(StoreReply::Deleted),
        SessionReply::Applied(StoreReply::Got {
            object: Some((b"junk".to_vec(), 1)),
            store_time_ns: 0,
        }),
        SessionReply::Failed(StoreError::Transient),
    ];
    for canary in [None].into_iter().chain(SessionLeaseCanary::ALL.map(Some)) {
        let mut node = leader(0, canary);
        for (step, reply) in replies.iter().cycle().take(40).enumerate() {
            let now = 30 + step as u64 * 100;
            node.check(now);
            if let Some((request_id, _)) = node.request.take() {
                node.input(now, Input::Session { request_id, reply: reply.clone() });
            }
        }
    }
}

/// Goal: the machine declares the spec action of each step it takes, and only those. Method: a
/// takeover, a refresh, a resignation and a lost session, action by action.
#[test]
fn each_step_declares_its_spec_action() {
    let mut node = Driver::new(2, None);
    node.check(10);
    assert_eq!(node.actions(), vec![], "a request is no step of the spec");
    node.answer(10, &SessionRequest::Open, SessionReply::Opened { session: 7 });
    assert_eq!(node.actions(), vec![Action::Open { n: 2, s: 7 }]);
    let try_lock = SessionRequest::TryLock { session: 7, lock: LOCK.into() };
    node.answer(10, &try_lock, SessionReply::Locked);
    assert_eq!(node.actions(), vec![Action::Locked { n: 2 }]);
    node.answer(10, &under_lock(7, get_row()), got(None));
    assert_eq!(node.actions(), vec![]);
    let first = row(2, 1, 10, 10 + TTL);
    let create = StoreRequest::PutIfAbsent { key: ROW.into(), value: first.encode() };
    let written = SessionReply::Applied(StoreReply::Written { version: 1 });
    node.answer(20, &under_lock(7, create), written);
    assert_eq!(node.actions(), vec![Action::Led { n: 2 }]);
    node.check(300);
    let renewed = row(2, 1, 10, 300 + TTL);
    let write = StoreRequest::PutIfVersion { key: ROW.into(), value: renewed.encode(), version: 1 };
    node.answer(
        310,
        &under_lock(7, write),
        SessionReply::Applied(StoreReply::Written { version: 2 }),
    );
    assert_eq!(node.actions(), vec![Action::Refreshed { n: 2 }]);
    node.input(320, Input::Resign);
    assert_eq!(node.actions(), vec![Action::StepDown { n: 2 }]);
    // A standby that learns its session died declares nothing: it was not leading.
    node.answer(330, &SessionRequest::Close { session: 7 }, SessionReply::Closed);
    node.check(600);
    node.answer(600, &SessionRequest::Open, SessionReply::Opened { session: 9 });
    let try_lock = SessionRequest::TryLock { session: 9, lock: LOCK.into() };
    node.answer(600, &try_lock, SessionReply::SessionDead);
    assert_eq!(node.actions(), vec![]);
    // A leader whose refresh finds its session dead: ValidationFails.
    let mut leader = leader(0, None);
    leader.check(300);
    let (request_id, _) = leader.request.take().unwrap();
    leader.input(310, Input::Session { request_id, reply: SessionReply::SessionDead });
    assert_eq!(leader.actions(), vec![Action::ValidationFails { n: 0 }]);
}
