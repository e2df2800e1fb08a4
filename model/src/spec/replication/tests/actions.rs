//! Each action mirror accepts the step the correct protocol takes and rejects a broken one:
//! a guard that fails, or an effect the step does not have.

use super::{vars, view};
use crate::replication::{AckPolicy, Role};
use crate::spec::replication::*;

fn env(history: &History) -> Env<'_> {
    Env { members: 3, ack_policy: AckPolicy::Quorum, transfers: false, history }
}

/// Takes `action` on `before`, returning the variables after it or the refusal.
fn take(action: &Action, before: &NodeVars) -> Result<NodeVars, String> {
    let history = History::default();
    let mut after = before.clone();
    action.take(&mut after, &env(&history), &mut Vec::new()).map(|()| after)
}

fn leader(terms: &[u64], term: u64) -> NodeVars {
    let mut v = vars(terms);
    (v.role, v.current_term, v.leader, v.matched) = (Role::Leader, term, Some(0), vec![0; 3]);
    v
}

#[test]
fn advance_commit_refuses_an_older_terms_entry_figure_8() {
    // n0 leads term 3; n1 holds its log through index 2 (term 1) durably.
    let mut before = leader(&[1, 1, 3], 3);
    before.matched = vec![0, 3, 0];
    let after = take(&Action::AdvanceCommit { n: 0, i: 3 }, &before).unwrap();
    assert_eq!(after.commit_index, 3);
    let error = take(&Action::AdvanceCommit { n: 0, i: 2 }, &before).unwrap_err();
    assert_eq!(error, "log[2] has term 1 and currentTerm is 3");
    before.matched = vec![0, 0, 0];
    let error = take(&Action::AdvanceCommit { n: 0, i: 3 }, &before).unwrap_err();
    assert!(error.starts_with("only 1 of 3 members hold it durably"), "{error}");
}

#[test]
fn receive_append_takes_the_commit_point_only_as_far_as_the_entries_go() {
    let before = vars(&[1, 1]);
    let m =
        EntriesMsg { from: 2, term: 1, id: 0, prev: 2, prev_term: 1, entries: vec![1], commit: 9 };
    let append = Action::ReceiveAppend { n: 0, m: m.clone(), apply: true };
    let after = take(&append, &before).unwrap();
    assert_eq!(after.commit_index, 3, "the entries cover index 3, not the leader's 9");
    assert_eq!(after.log, vec![(1, 1), (2, 1), (3, 1)]);
    assert_eq!(after.unsynced, vec![DiskRecord::Entry { index: 3, term: 1 }]);
    assert_eq!((after.role, after.leader), (Role::Replica, Some(2)));
    let stale = EntriesMsg { term: 0, ..m.clone() };
    let error = take(&Action::ReceiveAppend { n: 0, m: stale, apply: true }, &before).unwrap_err();
    assert_eq!(error, "the append is of term 0 and currentTerm is 1");
    let elsewhere = EntriesMsg { prev_term: 2, ..m };
    let error = take(&Action::ReceiveAppend { n: 0, m: elsewhere, apply: true }, &before);
    assert_eq!(error.unwrap_err(), "log[2] holds term 1, not 2");
}

#[test]
fn receive_append_replaces_a_conflicting_suffix_and_writes_the_truncation() {
    let before = vars(&[1, 1, 1]);
    let m =
        EntriesMsg { from: 2, term: 2, id: 0, prev: 1, prev_term: 1, entries: vec![2], commit: 0 };
    let mut before_t2 = before.clone();
    before_t2.current_term = 2;
    let after = take(&Action::ReceiveAppend { n: 0, m, apply: true }, &before_t2).unwrap();
    assert_eq!(after.log, vec![(1, 1), (2, 2)]);
    assert_eq!(
        after.unsynced,
        vec![DiskRecord::Truncate { after: 1 }, DiskRecord::Entry { index: 2, term: 2 }]
    );
}

#[test]
fn grant_vote_needs_a_free_vote_and_an_up_to_date_log() {
    let before = vars(&[1, 2]);
    let m = VoteRequestMsg { from: 1, term: 1, last_index: 2, last_term: 2, transfer: false };
    let after = take(&Action::GrantVote { n: 0, m }, &before).unwrap();
    assert_eq!(after.voted_for, Some(1));
    assert_eq!(after.unsynced, vec![DiskRecord::Vote { term: 1, vote: Some(1) }]);
    let behind = VoteRequestMsg { last_index: 5, last_term: 1, ..m };
    let error = take(&Action::GrantVote { n: 0, m: behind }, &before).unwrap_err();
    assert!(error.starts_with("the candidate's log ends at 5@t1, behind"), "{error}");
    let mut voted = before.clone();
    voted.voted_for = Some(2);
    let error = take(&Action::GrantVote { n: 0, m }, &voted).unwrap_err();
    assert_eq!(error, "votedFor is n2 in term 1");
}

#[test]
fn become_leader_counts_the_grants_that_left() {
    let mut before = vars(&[1]);
    (before.role, before.current_term) = (Role::Candidate, 2);
    let mut history = History::default();
    history.record_grant(0, 2, 0).unwrap();
    let action = Action::BecomeLeader { n: 0 };
    let refused = action.take(&mut before.clone(), &env(&history), &mut Vec::new());
    assert_eq!(refused.unwrap_err(), "only 1 of 3 members granted it term 2");
    history.record_grant(2, 2, 0).unwrap();
    let mut after = before.clone();
    action.take(&mut after, &env(&history), &mut Vec::new()).unwrap();
    assert_eq!((after.role, after.leader), (Role::Leader, Some(0)));
    assert_eq!(after.log.last(), Some(&(2, 2)), "the barrier entry of its term");
}

#[test]
fn follow_takes_the_commit_point_only_where_the_log_holds_the_leaders_tail() {
    let before = vars(&[1, 1, 1]);
    let m = HeartbeatMsg { from: 1, term: 1, tail_index: 3, tail_term: 1, commit: 2 };
    let after = take(&Action::Follow { n: 0, m }, &before).unwrap();
    assert_eq!((after.role, after.leader, after.commit_index), (Role::Replica, Some(1), 2));
    let diverged = HeartbeatMsg { tail_term: 2, ..m };
    let after = take(&Action::Follow { n: 0, m: diverged }, &before).unwrap();
    assert_eq!(after.commit_index, 0, "the tail is not in its log: nothing is known committed");
    let older = HeartbeatMsg { term: 0, ..m };
    let error = take(&Action::Follow { n: 0, m: older }, &before).unwrap_err();
    assert_eq!(error, "the heartbeat is of term 0 and currentTerm is 1");
}

#[test]
fn leaders_meet_lets_only_the_better_tail_win() {
    let before = leader(&[1, 1], 1);
    let better = HeartbeatMsg { from: 1, term: 1, tail_index: 3, tail_term: 1, commit: 0 };
    let after = take(&Action::LeadersMeet { n: 0, m: better }, &before).unwrap();
    assert_eq!((after.role, after.leader), (Role::Replica, Some(1)));
    assert!(after.matched.is_empty(), "matched is mapped only while leading");
    let worse = HeartbeatMsg { tail_index: 2, ..better };
    let error = take(&Action::LeadersMeet { n: 0, m: worse }, &before).unwrap_err();
    assert_eq!(error, "its tail 2@t1 wins over n1's 2@t1");
}

#[test]
fn update_term_writes_the_new_term_and_ends_any_leadership() {
    let before = leader(&[1], 1);
    let after = take(&Action::UpdateTerm { n: 0, t: 4 }, &before).unwrap();
    assert_eq!((after.role, after.current_term, after.voted_for), (Role::Idle, 4, None));
    assert_eq!(after.unsynced, vec![DiskRecord::Vote { term: 4, vote: None }]);
    assert!(take(&Action::UpdateTerm { n: 0, t: 1 }, &before).is_err(), "not newer");
}

#[test]
fn stand_moves_to_the_next_term_with_its_own_vote_on_disk() {
    let mut before = vars(&[]);
    before.role = Role::Candidate;
    let after = take(&Action::Stand { n: 0 }, &before).unwrap();
    assert_eq!((after.current_term, after.voted_for), (2, Some(0)));
    assert_eq!(after.unsynced, vec![DiskRecord::Vote { term: 2, vote: Some(0) }]);
    assert!(take(&Action::Stand { n: 0 }, &leader(&[], 1)).is_err(), "a leader does not stand");
    let transfer = Action::StandTransfer { n: 0, t: 5 };
    assert_eq!(take(&transfer, &before).unwrap_err(), "Transfers is FALSE (no handovers here)");
}

#[test]
fn persisted_replays_records_onto_the_disk_in_order() {
    let mut before = vars(&[1]);
    before.log.push((2, 2));
    before.unsynced = vec![
        DiskRecord::Vote { term: 2, vote: None },
        DiskRecord::Entry { index: 2, term: 2 },
        DiskRecord::Trim { floor: 1, term: 1 },
    ];
    let after = take(&Action::Persisted { n: 0, k: 2 }, &before).unwrap();
    assert_eq!(after.durable_vote, (2, None));
    assert_eq!(after.durable_log, vec![(1, 1), (2, 2)]);
    assert_eq!(after.unsynced, vec![DiskRecord::Trim { floor: 1, term: 1 }]);
    let after = take(&Action::Persisted { n: 0, k: 1 }, &after).unwrap();
    assert_eq!((after.durable_floor, after.durable_log.clone()), (1, vec![(2, 2)]));
    assert!(take(&Action::Persisted { n: 0, k: 1 }, &after).is_err(), "nothing left to sync");
}

#[test]
fn count_appended_counts_a_report_only_of_an_entry_in_its_own_log() {
    let before = leader(&[1, 2], 2);
    let report = ReportMsg { from: 1, term: 2, index: 2, last: 2 };
    let after = take(&Action::CountAppended { n: 0, m: report }, &before).unwrap();
    assert_eq!(after.matched, vec![0, 2, 0]);
    let diverged = ReportMsg { last: 1, ..report };
    let error = take(&Action::CountAppended { n: 0, m: diverged }, &before).unwrap_err();
    assert_eq!(error, "log[2] holds term 2, not the reported term 1");
    let stale = ReportMsg { term: 1, ..report };
    assert!(take(&Action::CountAppended { n: 0, m: stale }, &before).is_err(), "older term");
}

#[test]
fn sync_answers_are_vetted_by_leader_term_and_outstanding_request() {
    let mut before = vars(&[1]);
    before.leader = Some(2);
    before.outstanding = vec![(2, 1, 7)];
    let m =
        EntriesMsg { from: 2, term: 1, id: 7, prev: 1, prev_term: 1, entries: vec![1], commit: 1 };
    let after = take(&Action::ReceiveSyncResponse { n: 0, m: m.clone() }, &before).unwrap();
    assert!(after.outstanding.is_empty(), "the answer retires its request");
    assert_eq!(after.commit_index, 1);
    let unasked = EntriesMsg { id: 8, ..m.clone() };
    let error = take(&Action::ReceiveSyncResponse { n: 0, m: unasked }, &before).unwrap_err();
    assert!(error.starts_with("request 8 to n2 in term 1 is not outstanding"), "{error}");
    let stranger = EntriesMsg { from: 1, ..m };
    let error = take(&Action::ReceiveSyncResponse { n: 0, m: stranger }, &before).unwrap_err();
    assert_eq!(error, "it is Replica following n2, not a Replica of n1");
}

#[test]
fn request_sync_hands_out_the_next_id_on_the_leaders_channel() {
    let mut before = vars(&[1, 1]);
    before.leader = Some(2);
    before.next_request = 4;
    let after = take(&Action::RequestSync { n: 0, since: 2 }, &before).unwrap();
    assert_eq!((after.next_request, after.outstanding.clone()), (5, vec![(2, 1, 5)]));
    assert!(take(&Action::RequestSync { n: 0, since: 3 }, &before).is_err(), "past its log");
    assert!(take(&Action::ForgetRequest { n: 0, id: 5 }, &after).unwrap().outstanding.is_empty());
    assert!(take(&Action::ForgetRequest { n: 0, id: 6 }, &after).is_err(), "never asked");
}

#[test]
fn ack_write_needs_the_entry_committed_under_quorum_acks() {
    let mut before = leader(&[1, 2], 2);
    let mut acked = Vec::new();
    let history = History::default();
    let refused =
        Action::AckWrite { n: 0, i: 2 }.take(&mut before.clone(), &env(&history), &mut acked);
    assert_eq!(refused.unwrap_err(), "2 is past commitIndex 0");
    before.commit_index = 2;
    Action::AckWrite { n: 0, i: 2 }.take(&mut before, &env(&history), &mut acked).unwrap();
    assert_eq!(acked, vec![(2, 2)]);
}

#[test]
fn crash_brings_back_exactly_the_disk() {
    let mut before = leader(&[1, 1, 2], 2);
    before.durable_log.truncate(2);
    before.durable_vote = (2, Some(0));
    before.unsynced = vec![DiskRecord::Entry { index: 3, term: 2 }];
    before.commit_index = 2;
    let after = take(&Action::Crash { n: 0 }, &before).unwrap();
    assert_eq!(after.log, vec![(1, 1), (2, 1)]);
    assert_eq!((after.role, after.current_term, after.voted_for), (Role::Idle, 2, Some(0)));
    assert_eq!((after.commit_index, after.restarts), (0, 1));
    assert!(after.unsynced.is_empty() && after.matched.is_empty());
}

#[test]
fn trim_and_bad_range_move_the_floor_and_write_it() {
    let mut before = vars(&[1, 1, 1]);
    before.commit_index = 2;
    let after = take(&Action::Trim { n: 0, i: 2 }, &before).unwrap();
    assert_eq!((after.log_floor, after.floor_term, after.log.clone()), (2, 1, vec![(3, 1)]));
    assert!(take(&Action::Trim { n: 0, i: 3 }, &before).is_err(), "past the commit index");
    before.leader = Some(1);
    before.outstanding = vec![(1, 1, 3)];
    let m = BadRangeMsg { from: 1, term: 1, id: 3, since: 3, floor: 9, floor_term: 1 };
    let after = take(&Action::ReceiveBadRange { n: 0, m }, &before).unwrap();
    assert_eq!((after.log_floor, after.commit_index, after.log.len()), (9, 9, 0));
    let applies_not = BadRangeMsg { floor: 3, ..m };
    assert!(take(&Action::ReceiveBadRange { n: 0, m: applies_not }, &before).is_err());
}

#[test]
fn conformance_names_the_action_and_the_variable_a_step_got_wrong() {
    let before = view(&[&[1, 1], &[1, 1], &[1, 1]]);
    let mut after = before.clone();
    let m =
        EntriesMsg { from: 2, term: 1, id: 0, prev: 2, prev_term: 1, entries: vec![], commit: 2 };
    let action = Action::ReceiveAppend { n: 0, m, apply: true };
    after.nodes[0].leader = Some(2);
    after.nodes[0].commit_index = 2;
    let history = History::default();
    let mut conformance = Conformance::default();
    let check = |c: &mut Conformance, after: &ReplicationView, actions: &[Action]| {
        let step = Step { before: &before, after, changes: &[] };
        c.check(step, &[], actions.iter(), |_| &[], &env(&history))
    };
    assert!(check(&mut conformance, &after, std::slice::from_ref(&action)).is_ok());
    after.nodes[0].commit_index = 5; // past the entries the message verified
    let error = check(&mut conformance, &after, std::slice::from_ref(&action)).unwrap_err();
    assert!(error.starts_with("n0 took ReceiveAppend(n0, append from n2 in term 1"), "{error}");
    assert!(
        error.ends_with(
            "leaves commitIndex = 5, where the spec gives 2 (Replication.tla \
                         ReceiveAppend)"
        ),
        "{error}"
    );
    let error = check(&mut conformance, &after, &[]).unwrap_err();
    assert_eq!(
        error,
        "n0 changed leader from None to Some(2) but took no action (Replication.tla)"
    );
}
