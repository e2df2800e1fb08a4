//! Writes, acknowledgements, the replica's append rules and retention.

use super::*;

fn leader_with(policy: AckPolicy) -> Driver {
    let mut config = config(3);
    config.ack_policy = policy;
    let mut d = Driver::new(config, 0);
    d.elect(&[0, 1]);
    d
}

fn append(term: u64, prev: LogPosition, entries: &[Entry]) -> Message {
    Message::Append { term, prev, entries: entries.to_vec(), commit: 0 }
}

#[test]
fn leader_policy_acks_once_the_leaders_own_append_is_durable() {
    let mut d = leader_with(AckPolicy::Leader);
    let out = d.feed(Input::ClientWrite { write_id: 7, payload: 70 });
    assert!(acks(&out).is_empty(), "not before the append is durable");
    assert_eq!(persisted(&out).len(), 1);
    assert_eq!(acks(&d.persist_all()), vec![(7, 2, 1)]);
    assert_eq!(d.node.acked_writes(), &[AckedWrite { write_id: 7, index: 2, term: 1 }]);
}

#[test]
fn quorum_policy_acks_once_a_majority_holds_it_durably() {
    let mut d = leader_with(AckPolicy::Quorum);
    d.feed(Input::ClientWrite { write_id: 7, payload: 70 });
    let out = d.msg(1, Message::AppendAck { term: 1, durable: pos(1, 2) });
    assert!(acks(&out).is_empty(), "the leader's own append is not durable yet");
    assert_eq!(acks(&d.persist_all()), vec![(7, 2, 1)]);
    assert_eq!(d.node.commit_index(), 2);

    let mut d = leader_with(AckPolicy::Quorum);
    d.feed(Input::ClientWrite { write_id: 8, payload: 80 });
    assert!(acks(&d.persist_all()).is_empty(), "the leader alone is no majority of 3");
    assert_eq!(acks(&d.msg(2, Message::AppendAck { term: 1, durable: pos(1, 2) })).len(), 1);
}

#[test]
fn a_report_of_a_divergent_tail_does_not_count() {
    let mut d = leader_with(AckPolicy::Quorum);
    d.feed(Input::ClientWrite { write_id: 7, payload: 70 });
    d.persist_all();
    let out = d.msg(1, Message::AppendAck { term: 1, durable: pos(0, 2) });
    assert!(acks(&out).is_empty(), "(2, term 0) is not in our log");
    assert_eq!(d.node.commit_index(), 0);
}

#[test]
fn non_leaders_reject_writes_with_a_hint() {
    let mut d = Driver::new(config(3), 1);
    let out = d.feed(Input::ClientWrite { write_id: 1, payload: 0 });
    assert_eq!(out, vec![Output::Reject { write_id: 1, leader_hint: None }]);
    d.msg(0, leader_heartbeat(1, pos(0, 0)));
    let out = d.feed(Input::ClientWrite { write_id: 2, payload: 0 });
    assert_eq!(out, vec![Output::Reject { write_id: 2, leader_hint: Some(0) }]);
}

#[test]
fn replicas_report_their_tail_only_once_it_is_durable() {
    let mut d = Driver::new(config(3), 1);
    let out = d.msg(0, append(1, pos(0, 0), &[entry(1, 1)]));
    assert_eq!(d.node.leader(), Some(0));
    assert!(sent(&out).is_empty(), "no ack before the append is durable");
    let out = d.persist_all();
    assert_eq!(sent(&out), vec![(0, Message::AppendAck { term: 1, durable: pos(1, 1) })]);
}

#[test]
fn a_conflicting_suffix_is_replaced_by_the_leaders_entries() {
    let mut d = Driver::recover(config(3), 1, &records(1, &[1, 1, 1]));
    let out = d.msg(0, append(2, pos(1, 1), &[entry(2, 2), entry(3, 2)]));
    let terms: Vec<u64> = d.node.log().entries().iter().map(|e| e.term).collect();
    assert_eq!(terms, vec![1, 2, 2]);
    let want = vec![
        StableRecord::Vote { term: 2, voted_for: None },
        StableRecord::Truncate { after_index: 1 },
        StableRecord::Entry(entry(2, 2)),
        StableRecord::Entry(entry(3, 2)),
    ];
    assert_eq!(persisted(&out), want);
    assert_eq!(d.node.stats().truncations, 1);
    // Entries already held are kept: a shorter, older push truncates nothing.
    let out = d.msg(0, append(2, pos(1, 1), &[entry(2, 2)]));
    assert!(persisted(&out).is_empty());
    assert_eq!(d.node.log().last(), pos(2, 3));
}

#[test]
fn a_lower_term_message_never_truncates() {
    let mut d = Driver::recover(config(3), 1, &records(3, &[1, 3]));
    let out = d.msg(0, append(2, pos(1, 1), &[entry(2, 2)]));
    assert!(persisted(&out).is_empty());
    assert_eq!(d.node.log().last(), pos(3, 2));
    assert_eq!(d.node.stats().rejected_appends, 1);
}

#[test]
fn a_push_that_does_not_follow_our_log_is_left_to_catch_up() {
    let mut d = Driver::new(config(3), 1);
    let out = d.msg(0, append(1, pos(1, 4), &[entry(5, 1)]));
    assert_eq!(d.node.log().last(), pos(0, 0));
    assert_eq!(persisted(&out), vec![StableRecord::Vote { term: 1, voted_for: None }]);
    assert_eq!(d.node.stats().rejected_appends, 1);
}

#[test]
fn retention_trims_only_committed_entries() {
    let mut config = config(1);
    config.retain_entries_max = 4;
    let mut d = Driver::new(config, 0);
    d.elect(&[0]);
    for write_id in 0..5 {
        d.feed(Input::ClientWrite { write_id, payload: 0 });
    }
    assert_eq!(d.node.log().base(), pos(0, 0), "nothing committed, nothing trimmed");
    let out = d.persist_all();
    assert_eq!(d.node.commit_index(), 6);
    assert_eq!(persisted(&out), vec![StableRecord::Trim { base: pos(1, 4) }]);
    assert_eq!(d.node.log().entries().len(), 2);
    assert!(d.node.acked_writes().iter().all(|w| w.index > 4), "trimmed acks are dropped");
    d.persist_all();
    d.crash_and_recover();
    assert_eq!((d.node.log().base(), d.node.commit_index()), (pos(1, 4), 4));
}

#[test]
fn a_full_persist_pipeline_rejects_writes() {
    let mut config = config(1);
    config.unsynced_persists_max = 2;
    let mut d = Driver::new(config, 0);
    d.elect(&[0]);
    d.feed(Input::ClientWrite { write_id: 1, payload: 0 });
    d.feed(Input::ClientWrite { write_id: 2, payload: 0 });
    let out = d.feed(Input::ClientWrite { write_id: 3, payload: 0 });
    assert_eq!(out, vec![Output::Reject { write_id: 3, leader_hint: Some(0) }]);
}
