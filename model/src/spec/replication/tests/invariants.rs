use super::view;
use crate::promise::Promise;
use crate::replication::{AckPolicy, DurableState, LogPosition, Role};
use crate::spec::replication::*;

#[test]
fn election_safety_allows_one_leader_per_term() {
    let mut v = view(&[&[], &[], &[]]);
    for (vars, (role, term)) in
        v.nodes.iter_mut().zip([(Role::Leader, 1), (Role::Leader, 2), (Role::Replica, 2)])
    {
        (vars.role, vars.current_term) = (role, term);
    }
    assert!(election_safety(&v).is_ok());
    v.nodes[0].current_term = 2;
    assert!(election_safety(&v).is_err());
}

#[test]
fn log_matching_flags_agreement_above_a_disagreement() {
    assert!(log_matching(&view(&[&[1, 1, 2], &[1, 1, 3, 3], &[1]])).is_ok());
    assert!(log_matching(&view(&[&[1, 2, 2], &[1, 3, 2], &[]])).is_err());
    // Below a floor, a disagreement is out of scope.
    let mut v = view(&[&[1, 2, 2], &[1, 3, 2], &[]]);
    v.nodes[0].log_floor = 2;
    v.nodes[0].log.drain(..2);
    assert!(log_matching(&v).is_ok());
}

#[test]
fn acked_writes_durable_needs_a_durable_majority() {
    let mut v = view(&[&[1, 1], &[1], &[1, 2]]);
    v.acked = vec![(1, 1)];
    assert!(acked_writes_durable(&v).is_ok());
    v.acked = vec![(2, 1)];
    assert!(acked_writes_durable(&v).is_err(), "only n0 holds (2, 1)");
    v.nodes[1].durable_floor = 2;
    assert!(acked_writes_durable(&v).is_ok(), "n1 trimmed it: out of scope there");
    v.nodes[1].durable_floor = 0;
    v.nodes[1].log.push((2, 1)); // in memory only: does not count
    assert!(acked_writes_durable(&v).is_err());
    v.ack_policy = AckPolicy::Leader;
    assert!(acked_writes_durable(&v).is_ok(), "checked under the Quorum policy only");
}

#[test]
fn no_acked_write_lost_flags_another_committed_entry_at_an_acked_index() {
    let mut v = view(&[&[1, 1], &[1, 2], &[1, 2]]);
    v.acked = vec![(2, 1)];
    assert!(no_acked_write_lost(&v).is_ok(), "nobody committed index 2 yet");
    v.nodes[0].commit_index = 2;
    v.nodes[1].commit_index = 1;
    assert!(no_acked_write_lost(&v).is_ok(), "n0 committed the acknowledged entry itself");
    v.nodes[1].commit_index = 2;
    assert!(no_acked_write_lost(&v).is_err(), "n1 committed (2, 2) over it");
    v.nodes[1].log_floor = 2;
    v.nodes[1].log.drain(..2);
    assert!(no_acked_write_lost(&v).is_ok(), "trimmed at n1: out of scope");
}

#[test]
fn monotonic_commit_allows_a_restart_only() {
    let mut before = view(&[&[1], &[1], &[1]]);
    before.nodes.iter_mut().for_each(|n| n.commit_index = 1);
    let mut after = before.clone();
    after.nodes[0].commit_index = 2;
    assert!(monotonic_commit(&before, &after).is_ok());
    after.nodes[1].commit_index = 0;
    assert!(monotonic_commit(&before, &after).is_err());
    after.nodes[1].restarts = 1;
    assert!(monotonic_commit(&before, &after).is_ok(), "n1 restarted");
}

#[test]
fn state_machine_safety_remembers_what_was_committed_across_a_truncation() {
    let mut v = view(&[&[1, 1], &[1, 1], &[1]]);
    v.nodes[0].commit_index = 2;
    let mut history = History::default();
    history.record_commits(&v);
    assert_eq!(history.committed(2), Some((1, 1)));
    assert!(state_machine_safety(&v, &history).is_ok());
    // n1 replaces index 2 with another term and, later, counts it committed.
    v.nodes[1].log = vec![(1, 1), (2, 3)];
    assert!(state_machine_safety(&v, &history).is_ok(), "not committed at n1 yet");
    v.nodes[1].commit_index = 2;
    history.record_commits(&v);
    assert_eq!(history.committed(2), Some((1, 1)), "the first commit stands");
    assert!(state_machine_safety(&v, &history).is_err());
    // n0 crashes: its commit index falls to its floor, the history stays.
    v.nodes[0].commit_index = 0;
    assert!(state_machine_safety(&v, &history).is_err(), "the history outlives the node");
}

#[test]
fn leader_completeness_needs_every_entry_committed_in_an_earlier_term() {
    let mut v = view(&[&[1, 1, 1], &[1, 1], &[1]]);
    v.nodes[0].commit_index = 3;
    let mut history = History::default();
    history.record_commits(&v); // committed in term 1 (the view's current terms)
    v.nodes[2].role = Role::Leader;
    v.nodes[2].current_term = 2;
    let error = leader_completeness(&v, &history).unwrap_err();
    assert!(error.contains("n2 leads term 2 holding nothing at index 2"), "{error}");
    v.nodes[2].log = vec![(1, 1), (2, 1), (3, 1), (4, 2)];
    assert!(leader_completeness(&v, &history).is_ok());
    v.nodes[2].log = vec![(3, 1), (4, 2)];
    v.nodes[2].log_floor = 2;
    assert!(leader_completeness(&v, &history).is_ok(), "trimmed entries are out of scope");
    v.nodes[2].current_term = 1;
    v.nodes[2].log = vec![];
    v.nodes[2].log_floor = 0;
    assert!(leader_completeness(&v, &history).is_ok(), "committed in its own term");
}

#[test]
fn up_to_date_logs_hold_committed_catches_figure_8_at_the_commit() {
    // n0 (term 3) counts index 2 of term 1 committed on n0 and n1; n2 holds a term-2 entry
    // there, so its log is more up to date than the committed entry it lacks.
    let mut v = view(&[&[1, 1], &[1, 1], &[1, 2]]);
    for (vars, term) in v.nodes.iter_mut().zip([3, 3, 2]) {
        vars.current_term = term;
    }
    let mut history = History::default();
    assert!(up_to_date_logs_hold_committed(&v, &history).is_ok(), "nothing committed yet");
    v.nodes[0].commit_index = 2;
    history.record_commits(&v);
    let error = up_to_date_logs_hold_committed(&v, &history).unwrap_err();
    assert!(error.starts_with("n2's log ends at 2@t2"), "{error}");
    // Committed by n0's own term-3 entry instead, n2's log is behind it: nothing to flag.
    v.nodes[0].log.push((3, 3));
    v.nodes[1].log.push((3, 3));
    v.nodes[0].commit_index = 3;
    history.record_commits(&v);
    assert!(up_to_date_logs_hold_committed(&v, &history).is_ok());
    // Trimmed past the committed entry, a log is out of scope.
    v.nodes[2].log_floor = 3;
    v.nodes[2].log.clear();
    assert!(up_to_date_logs_hold_committed(&v, &history).is_ok());
}

#[test]
fn one_vote_per_term_outlives_a_restart() {
    let mut history = History::default();
    assert!(one_vote_per_term(&mut history, 2, 5, 0).is_ok());
    assert!(one_vote_per_term(&mut history, 2, 5, 0).is_ok(), "the same grant again");
    assert!(one_vote_per_term(&mut history, 2, 6, 1).is_ok(), "another term");
    let error = one_vote_per_term(&mut history, 2, 5, 1).unwrap_err();
    assert_eq!(error, "n2 granted its vote in term 5 to n0, then to n1");
}

#[test]
fn durable_promises_hold_what_a_crash_would_leave() {
    use crate::replication::{Entry, StableRecord};
    let entry =
        |index, term| StableRecord::Entry(Entry { index, term, write_id: None, payload: 0 });
    let vote = |term, voted_for| StableRecord::Vote { term, voted_for };
    let n0 = DurableState::from_records(&[vote(3, Some(1)), entry(1, 1), entry(2, 3)]);
    let n1 = DurableState::from_records(&[entry(1, 1)]);
    let n2 = DurableState::default();
    let disks = [n0, n1, n2];
    let at = |index, term| LogPosition { index, term };
    let check = |from, promise| durable_promises(&disks, from, &promise);
    assert!(check(0, Promise::Vote { term: 3, candidate: 1 }).is_ok());
    assert!(check(0, Promise::Vote { term: 2, candidate: 2 }).is_ok(), "a newer durable term");
    let error = check(0, Promise::Vote { term: 3, candidate: 2 }).unwrap_err();
    assert!(error.contains("term 3, vote for n1"), "{error}");
    assert!(check(0, Promise::SelfVote { term: 4 }).is_err());
    assert!(check(0, Promise::LogHolds { position: at(2, 3) }).is_ok());
    assert!(check(1, Promise::LogHolds { position: at(2, 3) }).is_err());
    assert!(check(0, Promise::QuorumHolds { position: at(1, 1) }).is_ok(), "n0 and n1");
    let error = check(0, Promise::QuorumHolds { position: at(2, 3) }).unwrap_err();
    assert!(error.contains("backed by 1 of 3 disks"), "{error}");
}

#[test]
fn durable_term_covers_log_needs_the_term_on_disk_first() {
    let mut v = view(&[&[1, 1], &[1], &[]]);
    assert!(durable_term_covers_log(&v).is_ok());
    v.nodes[1].durable_log = vec![(1, 1), (2, 2)];
    let error = durable_term_covers_log(&v).unwrap_err();
    assert_eq!(error, "n1's disk holds entry 2@t2 but only term 1");
    v.nodes[1].durable_vote.0 = 2;
    assert!(durable_term_covers_log(&v).is_ok());
}

#[test]
fn the_tables_name_every_check() {
    let names: Vec<&str> = INVARIANTS
        .iter()
        .map(|i| i.name)
        .chain(ACTION_PROPERTIES.iter().map(|p| p.name))
        .chain(HISTORY_INVARIANTS.iter().map(|h| h.name))
        .collect();
    assert!(names.iter().all(|name| MIRRORED.contains(name)));
}
