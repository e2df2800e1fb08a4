//! Each handover action mirror accepts the step the correct coordinator or member takes and
//! rejects a broken one.

use super::*;
use crate::failover::Mode;

fn vars(ho: Handover) -> HandoverVars {
    HandoverVars { ho, frozen: vec![false; 3], frozen_for: vec![0; 3] }
}

fn catching_up(mode: Mode, reached: u64) -> Handover {
    let (phase, mode) = (Phase::CatchUp, Some(mode));
    Handover {
        id: 7,
        phase,
        from: 0,
        to: 1,
        mode,
        term: 3,
        frontier: 10,
        frontier_term: 2,
        reached,
    }
}

const PRIMARY_N0: [bool; 3] = [true, false, false];

fn take(action: Action, before: &HandoverVars) -> Result<HandoverVars, String> {
    let mut after = before.clone();
    let env = Env { primary: &PRIMARY_N0, primary_after: &PRIMARY_N0 };
    action.take(&mut after, &env).map(|()| after)
}

#[test]
fn only_the_primary_freezes() {
    let before = vars(Handover::default());
    assert!(take(Action::Freeze { p: 0, id: 7 }, &before).unwrap().frozen[0]);
    let error = take(Action::Freeze { p: 1, id: 7 }, &before).unwrap_err();
    assert_eq!(error, "n1 is not the primary");
    assert!(take(Action::RefuseFreeze { p: 0, id: 7 }, &before).is_err(), "the primary refuses");
}

#[test]
fn the_catch_up_starts_from_the_frontier_for_the_next_term() {
    let freezing =
        Handover { id: 7, phase: Phase::Freezing, from: 0, to: 1, ..Handover::default() };
    let a = Answer { from: 0, id: 7 };
    let catch_up = Action::CatchUp { a, term: 2, frontier: 10, frontier_term: 2 };
    let after = take(catch_up, &vars(freezing)).unwrap();
    assert_eq!((after.ho.phase, after.ho.term, after.ho.frontier), (Phase::CatchUp, 3, 10));
    let late =
        Action::CatchUp { a: Answer { from: 0, id: 6 }, term: 2, frontier: 10, frontier_term: 2 };
    assert_eq!(take(late, &vars(freezing)).unwrap_err(), "the answer is of handover 6, not 7");
}

#[test]
fn progress_counts_only_the_primarys_term() {
    let before = vars(catching_up(Mode::Coordinated, 0));
    let a = Answer { from: 1, id: 7 };
    let after = take(Action::Progress { a, index: 8, last: 2 }, &before).unwrap();
    assert_eq!(after.ho.reached, 8);
    let after = take(Action::Progress { a, index: 12, last: 1 }, &before).unwrap();
    assert_eq!(after.ho.reached, 0, "an older term's tail may have diverged");
}

#[test]
fn demote_waits_for_the_frontier_unless_forced() {
    let error = take(Action::Demote, &vars(catching_up(Mode::Coordinated, 9))).unwrap_err();
    assert!(error.starts_with("the target reported 9 of the frontier 10@t2"), "{error}");
    let after = take(Action::Demote, &vars(catching_up(Mode::Coordinated, 10))).unwrap();
    assert_eq!(after.ho.phase, Phase::Demoting);
    assert!(take(Action::Demote, &vars(catching_up(Mode::Force, 4))).is_ok(), "forced");
    assert!(take(Action::Demote, &vars(catching_up(Mode::Force, 0))).is_err(), "holds none of it");
    assert!(take(Action::Resume, &vars(catching_up(Mode::Coordinated, 9))).is_ok());
    assert!(take(Action::Resume, &vars(catching_up(Mode::Force, 4))).is_err(), "force hands over");
}

#[test]
fn promotion_follows_the_demotions_answer_and_reports_exactly() {
    let mut demoting = catching_up(Mode::Force, 6);
    demoting.phase = Phase::Demoting;
    let a = Answer { from: 0, id: 7 };
    let early = Action::Promote { a: None, committed: None };
    assert!(take(early, &vars(catching_up(Mode::Force, 6)))
        .unwrap_err()
        .starts_with("no demotion"));
    let promote = Action::Promote { a: Some(a), committed: Some(6) };
    let promoting = take(promote, &vars(demoting)).unwrap();
    let refused = Action::Promote { a: Some(a), committed: Some(7) };
    assert!(take(refused, &vars(demoting)).unwrap_err().starts_with("forced, the target holds 6"));
    assert!(take(Action::RefuseForce { a, committed: 7 }, &vars(demoting)).is_ok());
    let done =
        Action::HandedOver { a: Answer { from: 1, id: 7 }, term: 3, led_from: 6, reported: 4 };
    assert_eq!(take(done, &promoting).unwrap().ho, Handover::default());
    let under =
        Action::HandedOver { a: Answer { from: 1, id: 7 }, term: 3, led_from: 6, reported: 3 };
    assert_eq!(take(under, &promoting).unwrap_err(), "it skipped 4 (frontier 10, kept 6)");
}

#[test]
fn a_frozen_primary_mints_nothing_and_thaws_only_by_an_action() {
    let mut before = vars(Handover::default());
    assert!(take(Action::ClientWrite { n: 0 }, &before).is_ok());
    before.frozen[0] = true;
    assert_eq!(take(Action::ClientWrite { n: 0 }, &before).unwrap_err(), "n0 is frozen");
    let mut thawed = before.clone();
    thawed.frozen[0] = false;
    let env = Env { primary: &PRIMARY_N0, primary_after: &PRIMARY_N0 };
    let error = check_step(&before, &thawed, [].iter(), &env).unwrap_err();
    assert_eq!(error, "frozen[n0] changed from true to false with no action (Failover.tla)");
    let expired = [Action::FreezeExpired { p: 0 }];
    assert!(check_step(&before, &thawed, expired.iter(), &env).is_ok());
}

// Goal: a primary whose lease ran out as time passed refuses a freeze in the same step, as the
// spec allows after `Expire`, and `Expire` needs a leader. Method: check_step with and
// without the inferred `Expire` before `RefuseFreeze`; `Expire` of a follower.
#[test]
fn a_lapsed_primary_refuses_a_freeze_after_expire() {
    let before = vars(Handover::default());
    let lapsed = [false; 3];
    let env = Env { primary: &PRIMARY_N0, primary_after: &lapsed };
    let refuse = [Action::RefuseFreeze { p: 0, id: 7 }];
    let error = check_step(&before, &before, refuse.iter(), &env).unwrap_err();
    assert_eq!(
        error,
        "n0 took RefuseFreeze(n0, handover 7) but n0 is the primary, not frozen for another handover (Failover.tla RefuseFreeze)"
    );
    let expire_then_refuse = [Action::Expire { n: 0 }, Action::RefuseFreeze { p: 0, id: 7 }];
    assert!(check_step(&before, &before, expire_then_refuse.iter(), &env).is_ok());
    let error = take(Action::Expire { n: 1 }, &before).unwrap_err();
    assert_eq!(error, "n1 is neither the primary nor frozen");
}

// Goal: the Unfreeze mirror thaws only for the handover the member froze for. Method: freeze
// for 8, Unfreeze 7 leaves it frozen, Unfreeze 8 thaws.
#[test]
fn unfreeze_thaws_only_the_handover_frozen_for() {
    let frozen = take(Action::Freeze { p: 0, id: 8 }, &vars(Handover::default())).unwrap();
    assert_eq!((frozen.frozen[0], frozen.frozen_for[0]), (true, 8));
    assert!(take(Action::Unfreeze { p: 0, id: 7 }, &frozen).unwrap().frozen[0]);
    assert!(!take(Action::Unfreeze { p: 0, id: 8 }, &frozen).unwrap().frozen[0]);
    // A late Freeze of another handover is refused, never taken.
    let error = take(Action::Freeze { p: 0, id: 7 }, &frozen).unwrap_err();
    assert_eq!(error, "n0 is frozen for handover Some(8)");
    assert!(take(Action::RefuseFreeze { p: 0, id: 7 }, &frozen).is_ok());
}
