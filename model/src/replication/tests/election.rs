//! Elections, votes, standing and leaders that meet.

use super::*;

fn vote_replies(out: &[Output]) -> Vec<(NodeId, u64, bool)> {
    let replies = sent(out).into_iter().filter_map(|(to, m)| match m {
        Message::VoteReply { term, granted } => Some((to, term, granted)),
        _ => None,
    });
    replies.collect()
}

/// A leader of `term` (it stood from term - 1) among `members`.
fn leader(members: u32, id: NodeId, term: u64) -> Driver {
    let mut d = Driver::recover(config(members), id, &records(term - 1, &[]));
    let majority: Vec<NodeId> = (0..members).take(members as usize / 2 + 1).collect();
    d.elect(&majority);
    assert_eq!(d.node.current_term(), term);
    d
}

#[test]
fn a_candidate_needs_a_majority_and_leads_term_plus_one() {
    let mut d = Driver::new(config(3), 0);
    d.tick();
    d.tick();
    assert_eq!(d.node.role(), Role::Idle, "two missed heartbeats are not enough");
    let out = d.tick();
    assert_eq!((d.node.role(), d.node.current_term()), (Role::Candidate, 1));
    assert_eq!(persisted(&out), vec![StableRecord::Vote { term: 1, voted_for: Some(0) }]);
    assert!(sent_non_heartbeat(&out).is_empty(), "no vote request before our own vote is durable");
    let out = d.persist_all();
    let requests = sent_non_heartbeat(&out);
    let expected = Message::RequestVote { term: 1, last: LogPosition::ZERO, transfer: false };
    assert_eq!(requests, vec![(1, expected.clone()), (2, expected)]);
    d.msg(1, Message::VoteReply { term: 1, granted: false });
    assert_eq!(d.node.role(), Role::Candidate, "one vote of three is no majority");
    let out = d.msg(2, Message::VoteReply { term: 1, granted: true });
    assert_eq!((d.node.role(), d.node.current_term()), (Role::Leader, 1));
    let barrier = Entry { index: 1, term: 1, write_id: None, payload: 0 };
    assert_eq!(d.node.log().entries(), &[barrier]);
    assert!(sent(&out).iter().any(|(_, m)| matches!(m, Message::Append { term: 1, .. })));
}

#[test]
fn a_node_votes_once_per_term_and_only_once_the_vote_is_durable() {
    let mut d = Driver::new(config(3), 2);
    let out = d.msg(0, Message::RequestVote { term: 1, last: LogPosition::ZERO, transfer: false });
    let vote = StableRecord::Vote { term: 1, voted_for: Some(0) };
    assert_eq!(persisted(&out).last(), Some(&vote), "after the move to term 1");
    assert!(vote_replies(&out).is_empty(), "the grant waits for the vote to be durable");
    assert_eq!(vote_replies(&d.persist_all()), vec![(0, 1, true)]);
    let out = d.msg(1, Message::RequestVote { term: 1, last: pos(1, 9), transfer: false });
    assert_eq!(vote_replies(&out), vec![(1, 1, false)], "already voted in term 1");
    d.msg(1, Message::RequestVote { term: 2, last: LogPosition::ZERO, transfer: false });
    assert_eq!(vote_replies(&d.persist_all()), vec![(1, 2, true)], "a new term, a new vote");
    assert_eq!(d.node.stats().votes_granted, 2);
}

#[test]
fn the_vote_survives_a_crash_and_an_unsynced_one_never_left() {
    let mut d = Driver::new(config(3), 2);
    d.msg(0, Message::RequestVote { term: 1, last: LogPosition::ZERO, transfer: false });
    d.persist_all();
    d.crash_and_recover();
    assert_eq!((d.node.current_term(), d.node.voted_for()), (1, Some(0)));
    let out = d.msg(1, Message::RequestVote { term: 1, last: LogPosition::ZERO, transfer: false });
    assert_eq!(vote_replies(&out), vec![(1, 1, false)], "the durable vote binds after a crash");
    let out = d.msg(1, Message::RequestVote { term: 2, last: LogPosition::ZERO, transfer: false });
    assert!(vote_replies(&out).is_empty());
    d.crash_and_recover(); // before the vote for term 2 was synced: it was never sent either
    assert_eq!((d.node.current_term(), d.node.voted_for()), (1, Some(0)));
}

#[test]
fn votes_go_only_to_logs_at_least_as_up_to_date() {
    // Our log ends at (term 2, index 3).
    let mut d = Driver::recover(config(3), 2, &records(2, &[1, 2, 2]));
    let mut ask = |term, last| {
        d.msg(0, Message::RequestVote { term, last, transfer: false });
        vote_replies(&d.persist_all()).first().map(|(_, _, granted)| *granted)
    };
    assert_eq!(ask(3, pos(1, 5)), None, "a lower last term loses, however long");
    assert_eq!(ask(4, pos(2, 2)), None, "same last term, shorter");
    assert_eq!(ask(5, pos(2, 3)), Some(true), "equal logs");
    assert_eq!(ask(6, pos(3, 1)), Some(true), "a higher last term wins, however short");
}

#[test]
fn only_the_best_recently_heard_peer_stands_at_once() {
    // Node 1 heard node 2 with a longer log: it does not stand at once.
    let mut d = Driver::new(config(3), 1);
    let gossip = Message::Heartbeat { term: 0, role: Role::Idle, tail: pos(0, 0), commit: 0 };
    d.msg(0, gossip);
    let better = Message::Heartbeat { term: 0, role: Role::Idle, tail: pos(1, 5), commit: 0 };
    d.msg(2, better);
    d.tick();
    d.tick();
    let out = d.tick();
    assert_eq!((d.node.role(), d.node.current_term()), (Role::Candidate, 0));
    assert!(persisted(&out).is_empty(), "waiting, not standing");
    let config = config(3);
    let least = config.election_retry_ns + config.election_stagger_ns; // rank 1
    let delay = d.timer(ReplTimer::Election { generation: 0 }).0;
    assert!((least..least + config.election_retry_ns / 8).contains(&delay), "{delay}");
    d.fire(ReplTimer::Election { generation: 0 });
    assert_eq!(d.node.current_term(), 1, "stands after its id-derived delay");
    assert_eq!(d.node.stats().elections_started, 1);

    // Node 0 heard node 1 with an equal log: the lower id stands at once.
    let mut d = Driver::new(config.clone(), 0);
    d.msg(1, Message::Heartbeat { term: 0, role: Role::Idle, tail: pos(0, 0), commit: 0 });
    (0..3).for_each(|_| drop(d.tick()));
    assert_eq!(d.node.current_term(), 1);
}

/// A candidate waits the retry, its rank's stagger, and a share drawn from (id, term, failed
/// rounds), whose window (an eighth of the retry at first) doubles with each round that found no
/// leader: clustered candidates stop duelling, and no two nodes wait alike.
#[test]
fn a_failed_candidate_retries_after_its_rank_and_a_widening_share() {
    let config = config(3);
    let retry = config.election_retry_ns;
    let mut shares = Vec::new();
    for id in [0, 2] {
        let mut d = Driver::new(config.clone(), id);
        (0..3).for_each(|_| drop(d.tick()));
        assert_eq!(d.node.current_term(), 1);
        let least = retry + u64::from(id) * config.election_stagger_ns; // rank == id here
        let first = d.timer(ReplTimer::Election { generation: 0 }).0;
        assert!((least..least + retry / 8).contains(&first), "node {id}: {first}");
        d.fire(ReplTimer::Election { generation: 0 });
        assert_eq!((d.node.role(), d.node.current_term()), (Role::Candidate, 2));
        let (second, timer) = d.timer(ReplTimer::Election { generation: 0 });
        assert!((least..least + retry / 4).contains(&second), "node {id}: {second}");
        assert_ne!(timer, ReplTimer::Election { generation: 0 });
        shares.push(first - least);
    }
    assert_ne!(shares[0], shares[1], "two nodes draw different shares");
}

#[test]
fn a_replica_that_misses_its_leaders_heartbeats_becomes_candidate() {
    let mut d = Driver::new(config(3), 1);
    d.msg(0, leader_heartbeat(1, pos(0, 0)));
    assert_eq!((d.node.role(), d.node.leader()), (Role::Replica, Some(0)));
    d.tick();
    d.tick();
    d.msg(0, leader_heartbeat(1, pos(0, 0)));
    d.tick();
    d.tick();
    assert_eq!(d.node.role(), Role::Replica, "the heartbeat reset the count");
    d.tick();
    assert_eq!(d.node.role(), Role::Candidate);
}

#[test]
fn leaders_that_meet_converge_higher_term_first() {
    let mut d = leader(3, 0, 1);
    d.msg(1, leader_heartbeat(2, pos(0, 0)));
    assert_eq!(
        (d.node.role(), d.node.current_term(), d.node.leader()),
        (Role::Replica, 2, Some(1))
    );
    // The winner ignores a lower-term leader, however long its log.
    let mut d = leader(3, 1, 3);
    d.msg(0, leader_heartbeat(2, pos(2, 50)));
    assert_eq!(d.node.role(), Role::Leader);
    assert_eq!(d.node.stats().equal_term_leader_meetings, 0);
}

#[test]
fn leaders_of_one_term_converge_on_the_higher_tail_then_the_lower_id_and_count_it() {
    // Our tail is the barrier (1, 1).
    let mut d = leader(3, 0, 1);
    d.msg(2, leader_heartbeat(1, pos(1, 5)));
    assert_eq!((d.node.role(), d.node.leader()), (Role::Replica, Some(2)), "higher tail wins");
    assert_eq!(d.node.stats().equal_term_leader_meetings, 1);

    let mut d = leader(3, 1, 1);
    d.msg(0, leader_heartbeat(1, pos(1, 1)));
    assert_eq!((d.node.role(), d.node.leader()), (Role::Replica, Some(0)), "lower id wins");
    let mut d = leader(3, 1, 1);
    d.msg(2, leader_heartbeat(1, pos(1, 1)));
    assert_eq!(d.node.role(), Role::Leader, "we have the lower id");
    assert_eq!(d.node.stats().equal_term_leader_meetings, 1);
}

#[test]
fn a_higher_term_vote_request_deposes_a_leader() {
    let mut d = leader(3, 0, 1);
    d.msg(1, Message::RequestVote { term: 2, last: pos(1, 1), transfer: false });
    assert_eq!((d.node.role(), d.node.current_term()), (Role::Idle, 2));
    assert_eq!(vote_replies(&d.persist_all()), vec![(1, 2, true)]);
}
