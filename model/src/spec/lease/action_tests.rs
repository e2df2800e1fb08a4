//! Each lease action mirror accepts the step the correct client and store take and rejects a
//! broken one.

use super::*;

fn token(term: u64, generation: u64) -> FencingToken {
    FencingToken { term, generation }
}

fn record(holder: NodeId, t: FencingToken, expires: u64) -> RecordView {
    RecordView { holder, token: t, expires, acquired: 1 }
}

/// Two clients holding nothing, clocks at 100, the store at `now`, with `record`.
fn view(now: u64, record: Option<RecordView>) -> LeaseView {
    LeaseView::new(now, record, vec![None, None], vec![100, 100], None, None)
}

fn env<'a>(view: &'a LeaseView, stored: &'a Stored) -> Env<'a> {
    Env { now: view.now, local: &view.local, ttl: 50, margin: 10, takeovers: false, stored }
}

fn take(action: Action, before: &LeaseView, stored: &Stored) -> Result<LeaseView, String> {
    let mut after = before.clone();
    action.take(&mut after, &env(before, stored)).map(|()| after)
}

#[test]
fn acquire_write_needs_an_expired_record_and_a_term_not_behind_it() {
    let live = view(100, Some(record(1, token(2, 4), 120)));
    let stored = Stored::default();
    let acquire = Action::AcquireWrite { n: 0, t: 2, e: 150, acquired: 3 };
    let error = take(acquire, &live, &stored).unwrap_err();
    assert!(
        error.starts_with("the store holds n1's (t2, g4) expiring 120, live at 100"),
        "{error}"
    );
    let expired = view(130, live.record);
    let after = take(acquire, &expired, &stored).unwrap();
    assert_eq!(after.record.map(|r| r.token), Some(token(2, 5)), "the next generation");
    let behind = Action::AcquireWrite { n: 0, t: 1, e: 150, acquired: 3 };
    assert_eq!(take(behind, &expired, &stored).unwrap_err(), "its term 1 is behind the record's 2");
    let too_long = Action::AcquireWrite { n: 0, t: 2, e: 151, acquired: 3 };
    assert!(take(too_long, &expired, &stored).unwrap_err().contains("past Local(n0) + TTL = 150"));
}

#[test]
fn acquired_believes_only_a_record_the_store_held_less_the_margin() {
    let mine = record(0, token(1, 1), 150);
    let mut stored = Stored::default();
    let before = view(100, Some(mine));
    let error = take(Action::Acquired { n: 0, w: mine }, &before, &stored).unwrap_err();
    assert_eq!(error, "the store never held that record");
    stored.note(Some(mine));
    let after = take(Action::Acquired { n: 0, w: mine }, &before, &stored).unwrap();
    assert_eq!(after.held[0], Some(Held { token: token(1, 1), belief: 140 }));
    // Replaced while it was live: a confirming read cannot have found it.
    let replaced = view(100, Some(record(1, token(1, 2), 160)));
    let error = take(Action::Acquired { n: 0, w: mine }, &replaced, &stored).unwrap_err();
    assert!(error.starts_with("the store replaced it while live"), "{error}");
}

#[test]
fn renewals_and_releases_need_the_record_to_name_their_writer() {
    let mine = record(0, token(1, 1), 150);
    let stored = Stored::default();
    let before = view(100, Some(mine));
    let renew = Action::RenewWrite { n: 0, tok: token(1, 1), e: 140 };
    assert_eq!(take(renew, &before, &stored).unwrap().record.unwrap().expires, 140);
    let theirs = Action::RenewWrite { n: 1, tok: token(1, 1), e: 140 };
    assert!(take(theirs, &before, &stored).unwrap_err().starts_with("the store holds n0's"));
    let release = Action::ReleaseWrite { n: 0, tok: token(1, 1), e: 1 };
    assert_eq!(take(release, &before, &stored).unwrap().record.unwrap().expires, 1);
    let later = Action::ReleaseWrite { n: 0, tok: token(1, 1), e: 151 };
    assert!(take(later, &before, &stored).is_err(), "a release never extends the lease");
}

#[test]
fn a_fenced_write_needs_a_belief_its_clock_has_not_passed() {
    let mut before = view(100, None);
    before.held[0] = Some(Held { token: token(1, 1), belief: 101 });
    let stored = Stored::default();
    let write = Action::FencedWrite { n: 0, token: token(1, 1) };
    assert!(take(write, &before, &stored).is_ok());
    before.held[0] = Some(Held { token: token(1, 1), belief: 100 });
    assert!(take(write, &before, &stored).unwrap_err().starts_with("it does not believe"));
}

#[test]
fn the_resource_keeps_the_highest_token() {
    let mut before = view(100, None);
    before.last_accepted = Some(token(2, 1));
    let stored = Stored::default();
    let stale = take(Action::Deliver { from: 0, w: token(1, 5) }, &before, &stored).unwrap();
    assert_eq!(stale.last_accepted, Some(token(2, 1)), "a stale write bounces");
    let newer = take(Action::Deliver { from: 0, w: token(2, 2) }, &before, &stored).unwrap();
    assert_eq!(newer.last_accepted, Some(token(2, 2)));
}

#[test]
fn store_writes_are_told_apart_by_what_they_change() {
    let mut stored = Stored::default();
    let first = record(0, token(1, 1), 150);
    let inferred = infer_store_action(None, Some(first), &stored, 100, false).unwrap();
    assert!(matches!(inferred, Some(Action::AcquireWrite { n: 0, t: 1, e: 150, .. })));
    stored.note(Some(first));
    let renewed = RecordView { expires: 170, ..first };
    let inferred = infer_store_action(Some(first), Some(renewed), &stored, 120, false).unwrap();
    assert_eq!(inferred, Some(Action::RenewWrite { n: 0, tok: token(1, 1), e: 170 }));
    let released = RecordView { expires: 1, ..first };
    let inferred = infer_store_action(Some(first), Some(released), &stored, 120, false).unwrap();
    assert_eq!(inferred, Some(Action::ReleaseWrite { n: 0, tok: token(1, 1), e: 1 }));
    let error = infer_store_action(Some(first), None, &stored, 120, false).unwrap_err();
    assert!(error.contains("was deleted"), "{error}");
    let other = record(1, token(2, 2), 200);
    let live_over = infer_store_action(Some(first), Some(other), &stored, 120, true).unwrap();
    assert!(matches!(live_over, Some(Action::Takeover { n: 1, .. })));
}

#[test]
fn a_step_is_checked_as_a_whole() {
    let before = view(100, None);
    let mut after = before.clone();
    let stored = Stored::default();
    let mut mine = after.clone();
    mine.held[0] = Some(Held { token: token(1, 1), belief: 140 });
    let env = env(&before, &stored);
    let error = check_step(&before, &mine, &[], [].iter(), &env).unwrap_err();
    assert!(error.starts_with("n0's client changed held[n0] and belief[n0]"), "{error}");
    after.last_accepted = Some(token(1, 1));
    let deliver = [Action::Deliver { from: 0, w: token(1, 1) }];
    assert!(check_step(&before, &after, &[], deliver.iter(), &env).is_ok());
}
