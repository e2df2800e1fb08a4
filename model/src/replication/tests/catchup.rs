//! Catch-up: sync requests, answers, nacks, correlation, timeouts and backoff.

use super::*;

/// The sync requests in `out`, as (to, request_id, since).
pub(super) fn sync_requests(out: &[Output]) -> Vec<(NodeId, u64, u64)> {
    let requests = sent(out).into_iter().filter_map(|(to, m)| match m {
        Message::SyncRequest { request_id, since, .. } => Some((to, request_id, since)),
        _ => None,
    });
    requests.collect()
}

pub(super) fn response(
    request_id: u64,
    since: u64,
    prev: LogPosition,
    entries: &[Entry],
) -> Message {
    let entries = entries.to_vec();
    Message::SyncResponse { term: 1, request_id, since, prev, entries, commit: 0 }
}

pub(super) fn nack(request_id: u64, since: u64, reason: NackReason) -> Message {
    Message::SyncNack { term: 1, request_id, since, reason }
}

/// Replica 1 of {0, 1, 2}, following leader 0 in term 1, which advertises (1, 10); its first
/// sync request (id 1, since 0) is out.
pub(super) fn behind_replica(config: ReplicationConfig) -> Driver {
    let mut d = Driver::new(config, 1);
    let out = d.msg(0, leader_heartbeat(1, pos(1, 10)));
    assert_eq!(sync_requests(&out), vec![(0, 1, 0)]);
    d
}

#[test]
fn a_replica_behind_asks_applies_and_asks_on() {
    let mut d = behind_replica(config(3));
    let out = d.msg(0, response(1, 0, pos(0, 0), &[entry(1, 1), entry(2, 1)]));
    assert_eq!(d.node.log().last(), pos(1, 2));
    let appended = vec![StableRecord::Entry(entry(1, 1)), StableRecord::Entry(entry(2, 1))];
    assert_eq!(persisted(&out), appended);
    assert_eq!(sync_requests(&out), vec![(0, 2, 2)], "still behind: asks from its new tail");
}

#[test]
fn answers_from_anyone_but_the_believed_leader_are_refused() {
    let mut d = behind_replica(config(3));
    d.msg(2, response(1, 0, pos(0, 0), &[entry(1, 1)]));
    let stale_term = Message::SyncResponse {
        term: 0,
        request_id: 1,
        since: 0,
        prev: pos(0, 0),
        entries: vec![entry(1, 1)],
        commit: 0,
    };
    d.msg(0, stale_term);
    assert_eq!(d.node.log().last(), pos(0, 0));
    assert_eq!(d.node.stats().rejected_responses, 2);
}

#[test]
fn answers_are_correlated_by_request_id_and_taken_once() {
    let mut d = behind_replica(config(3));
    d.msg(0, response(99, 0, pos(0, 0), &[entry(1, 1)]));
    assert_eq!(d.node.log().last(), pos(0, 0), "no request 99 is outstanding");
    d.msg(0, response(1, 0, pos(0, 0), &[entry(1, 1)]));
    assert_eq!(d.node.log().last(), pos(1, 1));
    d.msg(0, nack(1, 0, NackReason::BadRange { first_retained: 6, base_term: 1 }));
    assert_eq!(d.node.log().last(), pos(1, 1), "a second answer to request 1 is refused");
    assert_eq!(d.node.stats().rejected_responses, 2);
}

#[test]
fn a_mismatch_asks_again_one_entry_earlier() {
    let mut d = Driver::recover(config(3), 1, &records(1, &[1, 1, 1]));
    d.msg(0, leader_heartbeat(2, pos(2, 5)));
    let reply = Message::SyncResponse {
        term: 2,
        request_id: 1,
        since: 3,
        prev: pos(2, 3),
        entries: vec![entry(4, 2)],
        commit: 0,
    };
    let out = d.msg(0, reply);
    assert_eq!(d.node.log().last(), pos(1, 3), "nothing applied on a mismatch");
    assert_eq!(sync_requests(&out), vec![(0, 2, 2)]);
}

#[test]
fn not_leader_makes_the_replica_forget_its_leader() {
    let mut d = behind_replica(config(3));
    d.msg(0, nack(1, 0, NackReason::NotLeader));
    assert_eq!((d.node.role(), d.node.leader()), (Role::Idle, None));
    assert_eq!(d.node.stats().not_leader_received, 1);
}

#[test]
fn bad_range_skips_ahead_in_one_round_trip() {
    let mut d = behind_replica(config(3));
    let out = d.msg(0, nack(1, 0, NackReason::BadRange { first_retained: 6, base_term: 1 }));
    assert_eq!(d.node.log().base(), pos(1, 5), "the log now starts after index 5");
    assert_eq!(persisted(&out), vec![StableRecord::Reset { base: pos(1, 5) }]);
    assert_eq!(sync_requests(&out), vec![(0, 2, 5)], "asks from the new start at once");
    assert_eq!((d.node.stats().skip_aheads, d.node.commit_index()), (1, 5));
    d.msg(0, response(2, 5, pos(1, 5), &[entry(6, 1), entry(7, 1)]));
    assert_eq!(d.node.log().last(), pos(1, 7));
}

/// Found by the simulator (seed 321 of `replication`): pushed entries moved the log past the
/// leader's floor while a request from an older tail was out; its `BadRange` then reset the log
/// and threw away entries the leader had counted. A push that changes the log retires the
/// request, so its answer is refused.
#[test]
fn a_push_retires_the_request_it_overtook() {
    let mut d = behind_replica(config(3));
    let push = |prev, entries: &[Entry]| Message::Append {
        term: 1,
        prev,
        entries: entries.to_vec(),
        commit: 2,
    };
    d.msg(0, push(pos(0, 0), &[entry(1, 1), entry(2, 1), entry(3, 1)]));
    d.msg(0, nack(1, 0, NackReason::BadRange { first_retained: 3, base_term: 1 }));
    assert_eq!(d.node.log().last(), pos(1, 3), "the late BadRange changed nothing");
    assert_eq!((d.node.stats().skip_aheads, d.node.stats().rejected_responses), (0, 1));
    assert_eq!(d.node.commit_index(), 2);
}

#[test]
fn backpressure_backs_off_then_asks_again() {
    let mut d = behind_replica(config(3));
    let out = d.msg(0, nack(1, 0, NackReason::Backpressure));
    assert!(sync_requests(&out).is_empty());
    assert_eq!(d.timer(ReplTimer::SyncBackoff { generation: 0 }).0, SECOND);
    assert_eq!(d.node.stats().backoffs, 1);
    assert!(sync_requests(&d.tick()).is_empty(), "no request while backing off");
    let out = d.fire(ReplTimer::SyncBackoff { generation: 0 });
    assert_eq!(sync_requests(&out), vec![(0, 2, 0)]);
}

#[test]
fn empty_answers_back_off_after_three_doubling_up_to_thirty_seconds() {
    let mut d = behind_replica(config(3));
    let mut request_id = 1;
    let mut delays = Vec::new();
    for _ in 0..9 {
        let out = d.msg(0, response(request_id, 0, pos(0, 0), &[]));
        match sync_requests(&out).first() {
            Some((_, next, _)) => request_id = *next,
            None => {
                delays.push(d.timer(ReplTimer::SyncBackoff { generation: 0 }).0 / SECOND);
                let out = d.fire(ReplTimer::SyncBackoff { generation: 0 });
                request_id = sync_requests(&out)[0].1;
            }
        }
    }
    assert_eq!(delays, vec![1, 2, 4, 8, 16, 30, 30], "two free retries, then backoffs");
    // A non-empty answer resets the schedule.
    d.msg(0, response(request_id, 0, pos(0, 0), &[entry(1, 1)]));
    assert_eq!(d.node.stats().backoffs, 7);
    assert_eq!((d.node.sync.empty_in_a_row, d.node.sync.next_backoff_ns), (0, SECOND));
}

#[test]
fn unanswered_requests_time_out_and_are_asked_again() {
    let mut d = behind_replica(config(3));
    assert_eq!(d.timer(ReplTimer::SyncTimeout { request_id: 0 }).0, config(3).sync_timeout_ns);
    let out = d.feed(Input::Timer(ReplTimer::SyncTimeout { request_id: 1 }));
    assert_eq!(sync_requests(&out), vec![(0, 2, 0)]);
    assert_eq!(d.node.stats().sync_timeouts, 1);
    d.msg(0, response(2, 0, pos(0, 0), &[entry(1, 1)]));
    let out = d.feed(Input::Timer(ReplTimer::SyncTimeout { request_id: 2 }));
    assert_eq!(d.node.stats().sync_timeouts, 1, "an answered request does not time out");
    assert_eq!(sync_requests(&out), vec![]);
}

#[test]
fn non_members_are_dropped_and_counted() {
    let mut d = behind_replica(config(3));
    let out = d.msg(7, response(1, 0, pos(0, 0), &[entry(1, 1)]));
    assert!(out.is_empty());
    d.msg(7, leader_heartbeat(9, pos(9, 9)));
    assert_eq!(d.node.current_term(), 1);
    assert_eq!(d.node.stats().dropped_non_member, 2);
}

#[test]
fn the_leader_answers_from_its_durable_log_or_nacks() {
    let mut config = config(3);
    config.sync_entries_max = 1;
    config.sync_responses_per_interval_max = 2;
    config.retain_entries_max = 4;
    let mut d = Driver::new(config.clone(), 0);
    d.elect(&[0, 1]);
    for write_id in 0..6 {
        d.feed(Input::ClientWrite { write_id, payload: 0 });
    }
    d.persist_all();
    d.msg(1, Message::AppendAck { term: 1, durable: pos(1, 7) }); // commits 7: trims to 5
    assert_eq!(d.node.log().base().index, 5);
    let ask = |since| Message::SyncRequest { term: 1, request_id: 1, since, durable: pos(0, 0) };
    let out = d.msg(2, ask(1));
    let bad_range = NackReason::BadRange { first_retained: 6, base_term: 1 };
    assert_eq!(sent(&out), vec![(2, nack(1, 1, bad_range))]);
    let out = d.msg(2, ask(5));
    let Message::SyncResponse { entries, prev, commit, .. } = &sent(&out)[0].1 else { panic!() };
    let indexes: Vec<u64> = entries.iter().map(|e| e.index).collect();
    assert_eq!((indexes, *prev, *commit), (vec![6], pos(1, 5), 7), "at most 1 entry");
    assert_eq!(sent(&d.msg(2, ask(7)))[0].1, nack(1, 7, NackReason::Backpressure));
    assert_eq!(d.node.stats().backpressure_sent, 1);
    d.tick();
    let out = d.msg(2, ask(7));
    assert!(
        matches!(&sent(&out)[0].1, Message::SyncResponse { entries, .. } if entries.is_empty())
    );

    let mut replica = behind_replica(config);
    let out = replica
        .msg(2, Message::SyncRequest { term: 1, request_id: 1, since: 0, durable: pos(0, 0) });
    assert_eq!(sent(&out), vec![(2, nack(1, 0, NackReason::NotLeader))]);
}
