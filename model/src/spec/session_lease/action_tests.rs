//! Each session-lease action mirror accepts the step the correct machine and store take, and
//! each conjunct of its guard, failing, rejects it with the values.

use super::*;
use crate::session_lease::SessionLeaseCanary;

const TTL: u64 = 50;
const MARGIN: u64 = 10;

fn row(holder: NodeId, generation: u64, acquired: u64) -> RowView {
    RowView { holder, generation, acquired, until: acquired + TTL, version: 1 }
}

/// Two standbys with clocks at 100: n0 adopted session 1, n1 session 2, both live; no lock, no
/// row.
fn view() -> SessionLeaseView {
    SessionLeaseView {
        now: 100,
        acting: vec![None, None],
        local: vec![100, 100],
        role: vec![Role::Standby; 2],
        sess: vec![Some(1), Some(2)],
        live: vec![1, 2],
        written: vec![None, None],
        ..SessionLeaseView::default()
    }
}

/// n0 holds the lock and leads g1 with the row it wrote at `acquired`.
fn leading(acquired: u64) -> SessionLeaseView {
    let mut v = view();
    v.lock_session = Some(1);
    v.lock = Some(0);
    let mine = row(0, 1, acquired);
    (v.row, v.written[0]) = (Some(mine), Some(mine));
    v.role[0] = Role::Leader { gen: 1, lead_until: mine.until - MARGIN };
    v
}

fn take_with(
    action: Action,
    before: &SessionLeaseView,
    canary: Option<SessionLeaseCanary>,
) -> Result<SessionLeaseView, String> {
    let env = Env { local: &before.local, ttl: TTL, margin: MARGIN, canary };
    let mut after = before.clone();
    action.take(&mut after, &env).map(|()| after)
}

fn take(action: Action, before: &SessionLeaseView) -> Result<SessionLeaseView, String> {
    take_with(action, before, None)
}

#[test]
fn open_adopts_a_newer_session_and_only_a_standby_does() {
    let mut before = view();
    before.sess[0] = None;
    before.live = vec![2];
    let after = take(Action::Open { n: 0, s: 3 }, &before).unwrap();
    assert_eq!((after.sess[0], after.live.clone()), (Some(3), vec![2, 3]));
    let old = take(Action::Open { n: 1, s: 2 }, &view()).unwrap_err();
    assert_eq!(old, "s2 is not newer than its session s2");
    let error = take(Action::Open { n: 0, s: 4 }, &leading(90)).unwrap_err();
    assert!(error.starts_with("n0 is leader of g1"), "{error}");
}

#[test]
fn a_session_ends_once_and_takes_the_lock_with_it() {
    let after = take(Action::EndSession { n: 0, s: 1 }, &leading(90)).unwrap();
    assert_eq!((after.live.clone(), after.lock_session), (vec![2], None));
    let error = take(Action::EndSession { n: 0, s: 1 }, &after).unwrap_err();
    assert_eq!(error, "s1 is not live");
}

#[test]
fn the_store_grants_a_free_lock_to_a_live_session() {
    let after = take(Action::TryLock { n: 1 }, &view()).unwrap();
    assert_eq!(after.lock_session, Some(2));
    let held = take(Action::TryLock { n: 1 }, &leading(90)).unwrap_err();
    assert_eq!(held, "the lock is held by s1");
    let mut ended = view();
    ended.live = vec![1];
    let dead = take(Action::TryLock { n: 1 }, &ended).unwrap_err();
    assert_eq!(dead, "n1's session s2 is not live");
}

#[test]
fn a_standby_learns_the_lock_is_its_own_only_if_it_is() {
    let mut granted = view();
    granted.lock_session = Some(2);
    assert_eq!(take(Action::Locked { n: 1 }, &granted).unwrap().role[1], Role::Taking);
    let mut ended = view();
    ended.live = vec![1];
    assert!(take(Action::Locked { n: 1 }, &ended).is_ok(), "the session ended since");
    let error = take(Action::Locked { n: 1 }, &leading(90)).unwrap_err();
    assert_eq!(error, "its session s2 is live and the lock is s1's");
    let error = take(Action::Locked { n: 0 }, &leading(90)).unwrap_err();
    assert!(error.starts_with("n0 is leader"), "{error}");
}

#[test]
fn a_preemption_needs_a_row_run_out_by_the_preemptors_clock_plus_the_margin() {
    // n0's row runs until 100; n1's clock must pass 110.
    let mut before = leading(50);
    before.local[1] = 111;
    let after = take(Action::Preempt { n: 1 }, &before).unwrap();
    assert_eq!((after.live.clone(), after.lock_session), (vec![2], None));
    before.local[1] = 110;
    let early = take(Action::Preempt { n: 1 }, &before).unwrap_err();
    assert_eq!(early, "row.until + Margin = 110 is not below Local(n1) = 110 (n0's row)");
    let described = Some(SessionLeaseCanary::DescribedDesign);
    assert!(take_with(Action::Preempt { n: 1 }, &before, described).is_ok(), "no margin");
    let own = take(Action::Preempt { n: 0 }, &before).unwrap_err();
    assert_eq!(own, "n0's own session s1 holds the lock");
    let free = take(Action::Preempt { n: 1 }, &view()).unwrap_err();
    assert_eq!(free, "nobody holds the lock");
    let mut dead = before.clone();
    dead.live = vec![1];
    assert_eq!(take(Action::Preempt { n: 1 }, &dead).unwrap_err(), "n1's session s2 is not live");
    let mut no_row = before;
    no_row.row = None;
    assert_eq!(take(Action::Preempt { n: 1 }, &no_row).unwrap_err(), "there is no row");
}

#[test]
fn a_take_write_needs_the_lock_and_with_the_bound_a_row_run_out_plus_the_margin() {
    // n1 took the lock from n0's session; n0's row runs until 100.
    let mut before = leading(50);
    (before.lock_session, before.lock, before.live) = (Some(2), Some(1), vec![2]);
    before.role[1] = Role::Taking;
    let after = take(Action::TakeWrite { n: 1, a: 100 }, &before);
    let error = after.unwrap_err();
    assert_eq!(error, "n0's g1 acquired 50 until 100's until + Margin = 110 is not below 100");
    before.local[1] = 111;
    let after = take(Action::TakeWrite { n: 1, a: 111 }, &before).unwrap();
    assert_eq!(after.row.map(|r| r.fields()), Some((1, 2, 111, 161)), "the next generation");
    assert_eq!(after.written[1], after.row);
    let unbounded = Some(SessionLeaseCanary::UnboundedBelief);
    assert!(take_with(Action::TakeWrite { n: 1, a: 100 }, &before, unbounded).is_ok());
    let future = take(Action::TakeWrite { n: 1, a: 112 }, &before).unwrap_err();
    assert_eq!(future, "it was written at 112, past Local(n1) = 111");
    let mut standby = before.clone();
    standby.role[1] = Role::Standby;
    assert_eq!(take(Action::TakeWrite { n: 1, a: 111 }, &standby).unwrap_err(), "n1 is standby");
    let mut unlocked = before;
    unlocked.lock_session = None;
    let error = take(Action::TakeWrite { n: 1, a: 111 }, &unlocked).unwrap_err();
    assert_eq!(error, "n1's session s2 (live) does not hold the lock (no session does)");
}

#[test]
fn led_follows_the_row_the_nodes_write_left_even_a_late_answer() {
    let mut before = leading(90);
    before.role[0] = Role::Taking;
    before.row = Some(row(1, 2, 200)); // taken over since: the answer came late
    let after = take(Action::Led { n: 0 }, &before).unwrap();
    assert_eq!(after.role[0], Role::Leader { gen: 1, lead_until: 130 });
    before.written[0] = None;
    assert_eq!(take(Action::Led { n: 0 }, &before).unwrap_err(), "no write of n0's took a row");
    let error = take(Action::Led { n: 0 }, &leading(90)).unwrap_err();
    assert!(error.starts_with("n0 is leader"), "{error}");
}

#[test]
fn a_refresh_write_needs_the_row_its_last_write_left_and_the_lock() {
    let before = leading(90);
    let after = take(Action::RefreshWrite { n: 0, a: 100 }, &before).unwrap();
    assert_eq!(after.row.map(|r| r.until), Some(150));
    assert_eq!(after.written[0], after.row);
    let mut moved = before.clone();
    moved.row = Some(row(1, 2, 95));
    let error = take(Action::RefreshWrite { n: 0, a: 100 }, &moved).unwrap_err();
    assert!(error.starts_with("the row is n1's g2 acquired 95 until 145, not n0's last write"));
    let mut lost = before.clone();
    (lost.lock_session, lost.live) = (None, vec![2]);
    let error = take(Action::RefreshWrite { n: 0, a: 100 }, &lost).unwrap_err();
    assert_eq!(error, "n0's session s1 (ended) does not hold the lock (no session does)");
    let pooled = Some(SessionLeaseCanary::RefreshWithoutValidation);
    assert!(take_with(Action::RefreshWrite { n: 0, a: 100 }, &lost, pooled).is_ok());
    let other = Some(SessionLeaseCanary::ValidateOnOtherConnection);
    let error = take_with(Action::RefreshWrite { n: 0, a: 100 }, &lost, other).unwrap_err();
    assert_eq!(error, "nobody holds the lock");
    let future = take(Action::RefreshWrite { n: 0, a: 101 }, &before).unwrap_err();
    assert_eq!(future, "it was written at 101, past Local(n0) = 100");
}

#[test]
fn refreshed_extends_belief_from_its_write_never_shortens_it() {
    let mut before = leading(90);
    before.written[0] = Some(row(0, 1, 95));
    let after = take(Action::Refreshed { n: 0 }, &before).unwrap();
    assert_eq!(after.role[0], Role::Leader { gen: 1, lead_until: 135 });
    before.written[0] = Some(row(0, 1, 80));
    let after = take(Action::Refreshed { n: 0 }, &before).unwrap();
    assert_eq!(after.role[0], Role::Leader { gen: 1, lead_until: 130 }, "kept");
    before.written[0] = Some(row(0, 2, 95));
    let error = take(Action::Refreshed { n: 0 }, &before).unwrap_err();
    assert!(error.contains("not a row of g1"), "{error}");
    assert_eq!(take(Action::Refreshed { n: 1 }, &before).unwrap_err(), "n1 is standby");
}

#[test]
fn validation_fails_only_where_the_lock_or_the_row_is_not_ours() {
    let before = leading(90);
    let error = take(Action::ValidationFails { n: 0 }, &before).unwrap_err();
    assert_eq!(error, "the row is n0's and its lock is held");
    let mut lost = before.clone();
    (lost.lock_session, lost.live) = (None, vec![2]);
    assert_eq!(take(Action::ValidationFails { n: 0 }, &lost).unwrap().role[0], Role::Standby);
    let mut taking = before;
    taking.role[0] = Role::Taking;
    let error = take(Action::ValidationFails { n: 0 }, &taking).unwrap_err();
    assert_eq!(error, "n0's session s1 holds the lock");
    let error = take(Action::ValidationFails { n: 1 }, &taking).unwrap_err();
    assert_eq!(error, "n1 is a standby");
}

#[test]
fn a_node_may_step_down_whenever_it_leads_or_takes_over() {
    assert_eq!(take(Action::StepDown { n: 0 }, &leading(90)).unwrap().role[0], Role::Standby);
    assert_eq!(take(Action::StepDown { n: 1 }, &view()).unwrap_err(), "n1 is a standby");
}

#[test]
fn a_protected_write_leaves_only_while_acting_with_its_tenure() {
    let before = leading(90); // acts until 130
    assert!(take(Action::Write { n: 0, g: 1 }, &before).is_ok());
    assert_eq!(take(Action::Write { n: 0, g: 2 }, &before).unwrap_err(), "its tenure is g1");
    let mut late = before;
    late.local[0] = 130;
    let error = take(Action::Write { n: 0, g: 1 }, &late).unwrap_err();
    assert_eq!(error, "it does not act: leadUntil[n0] is 130, its clock reads 130");
    let unbounded = Some(SessionLeaseCanary::UnboundedBelief);
    assert!(take_with(Action::Write { n: 0, g: 1 }, &late, unbounded).is_ok());
    assert_eq!(take(Action::Write { n: 1, g: 1 }, &late).unwrap_err(), "n1 is standby");
}

#[test]
fn the_resource_keeps_the_highest_tenure_when_fenced() {
    let mut before = view();
    (before.last_accepted, before.accepted_max) = (Some(2), Some(2));
    let stale = take(Action::Deliver { from: 0, w: 1 }, &before).unwrap();
    assert_eq!((stale.last_accepted, stale.accepted_max), (Some(2), Some(2)), "refused");
    let unfenced = Some(SessionLeaseCanary::UnfencedWrites);
    let zombie = take_with(Action::Deliver { from: 0, w: 1 }, &before, unfenced).unwrap();
    assert_eq!((zombie.last_accepted, zombie.accepted_max), (Some(1), Some(2)));
    let newer = take(Action::Deliver { from: 0, w: 3 }, &before).unwrap();
    assert_eq!((newer.last_accepted, newer.accepted_max), (Some(3), Some(3)));
}

#[test]
fn row_writes_are_told_apart_by_what_they_change() {
    let first = row(0, 1, 90);
    let take_write = infer_row_write(None, Some(first), TTL).unwrap();
    assert_eq!(take_write, Some(Action::TakeWrite { n: 0, a: 90 }));
    let refreshed = RowView { until: 160, version: 2, ..first };
    let refresh = infer_row_write(Some(first), Some(refreshed), TTL).unwrap();
    assert_eq!(refresh, Some(Action::RefreshWrite { n: 0, a: 110 }));
    let rewritten = RowView { version: 2, ..first };
    assert_eq!(infer_row_write(Some(first), Some(rewritten), TTL).unwrap(), None);
    let error = infer_row_write(Some(first), None, TTL).unwrap_err();
    assert!(error.contains("was deleted"), "{error}");
}

#[test]
fn a_step_is_checked_as_a_whole() {
    let before = leading(90);
    let env = Env { local: &before.local, ttl: TTL, margin: MARGIN, canary: None };
    let mut after = before.clone();
    after.role[0] = Role::Standby;
    let error = check_step(&before, &after, [].iter(), &env).unwrap_err();
    assert_eq!(
        error,
        "role[n0] (with gen and leadUntil) changed from leader of g1 until 130 to standby with \
         no action (SessionLease.tla)"
    );
    assert!(check_step(&before, &after, [Action::StepDown { n: 0 }].iter(), &env).is_ok());
    let error = check_step(&before, &after, [Action::ValidationFails { n: 0 }].iter(), &env);
    assert_eq!(
        error.unwrap_err(),
        "n0 took ValidationFails(n0) but the row is n0's and its lock is held (SessionLease.tla \
         ValidationFails)"
    );
    // The store took a refresh, but the row says otherwise.
    let mut refreshed = before.clone();
    refreshed.row = Some(RowView { until: 170, ..row(0, 1, 90) });
    let write = [Action::RefreshWrite { n: 0, a: 100 }];
    let error = check_step(&before, &refreshed, write.iter(), &env).unwrap_err();
    assert_eq!(
        error,
        "the store, for n0, took RefreshWrite(n0, 100) but the step leaves row = n0's g1 \
         acquired 90 until 170, where the spec gives n0's g1 acquired 90 until 150 \
         (SessionLease.tla RefreshWrite)"
    );
}
