//! Each canary changes exactly the behaviour it names: the same inputs, with and without it.

use super::catchup::{behind_replica, nack, response};
use super::*;
use ReplicationCanary as C;

fn with(canary: Option<ReplicationCanary>) -> ReplicationConfig {
    ReplicationConfig { canary, ..config(3) }
}

#[test]
fn canaries_have_unique_kebab_names_and_one_line_descriptions() {
    let mut names: Vec<&str> = C::ALL.iter().map(|c| c.name()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), C::ALL.len());
    for canary in C::ALL {
        let name = canary.name();
        assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{name}");
        assert_eq!(canary.spec_name().to_lowercase(), name.replace('-', ""));
        assert!(!canary.description().is_empty() && !canary.description().contains('\n'));
    }
}

/// Replica 1 asked leader 0 (term 1) for entries, then moved to leader 2 (term 2); the deposed
/// leader's answer to the still-outstanding request arrives.
fn late_answer_from_deposed_leader(canary: Option<ReplicationCanary>) -> Driver {
    let mut d = Driver::new(with(canary), 1);
    d.msg(0, leader_heartbeat(1, pos(1, 3)));
    d.msg(2, leader_heartbeat(2, pos(2, 1)));
    assert_eq!(d.node.leader(), Some(2));
    d.msg(0, response(1, 0, pos(0, 0), &[entry(1, 1)]));
    d
}

#[test]
fn accept_from_non_leader_applies_a_deposed_leaders_answer() {
    let d = late_answer_from_deposed_leader(None);
    assert_eq!((d.node.log().last(), d.node.stats().rejected_responses), (pos(0, 0), 1));
    let d = late_answer_from_deposed_leader(Some(C::AcceptFromNonLeader));
    assert_eq!((d.node.log().last(), d.node.stats().rejected_responses), (pos(1, 1), 0));
}

/// A replica caught up to (1, 3); then a duplicate of an old `BadRange` arrives.
fn duplicate_bad_range(canary: Option<ReplicationCanary>) -> Driver {
    let mut d = behind_replica(with(canary));
    d.msg(0, response(1, 0, pos(0, 0), &[entry(1, 1), entry(2, 1), entry(3, 1)]));
    d.msg(0, nack(1, 0, NackReason::BadRange { first_retained: 3, base_term: 1 }));
    d
}

#[test]
fn skip_request_id_correlation_applies_a_stale_answer() {
    let d = duplicate_bad_range(None);
    assert_eq!((d.node.log().last(), d.node.stats().skip_aheads), (pos(1, 3), 0));
    let d = duplicate_bad_range(Some(C::SkipRequestIdCorrelation));
    assert_eq!(d.node.log().last(), pos(1, 2), "the stale nack threw entry 3 away");
    assert_eq!(d.node.stats().skip_aheads, 1);
}

#[test]
fn no_dual_leader_convergence_keeps_both_leaders() {
    for (canary, role) in [(None, Role::Replica), (Some(C::NoDualLeaderConvergence), Role::Leader)]
    {
        let mut d = Driver::new(with(canary), 0);
        d.elect(&[0, 1]);
        d.msg(1, leader_heartbeat(2, pos(2, 1)));
        assert_eq!((d.node.role(), d.node.current_term()), (role, 2), "{canary:?}");
    }
}

#[test]
fn truncate_on_lower_term_applies_a_lower_term_push() {
    for (canary, last) in [(None, pos(3, 2)), (Some(C::TruncateOnLowerTerm), pos(2, 2))] {
        let mut d = Driver::recover(with(canary), 1, &records(3, &[1, 3]));
        let push =
            Message::Append { term: 2, prev: pos(1, 1), entries: vec![entry(2, 2)], commit: 0 };
        d.msg(0, push);
        assert_eq!((d.node.log().last(), d.node.current_term()), (last, 3), "{canary:?}");
    }
}

#[test]
fn ack_before_durable_acks_and_reports_before_the_fsync() {
    for canary in [None, Some(C::AckBeforeDurable)] {
        let config = ReplicationConfig { ack_policy: AckPolicy::Leader, ..with(canary) };
        let mut leader = Driver::new(config, 0);
        leader.elect(&[0, 1]);
        let out = leader.feed(Input::ClientWrite { write_id: 5, payload: 0 });
        let expected = if canary.is_some() { vec![(5, 2, 1)] } else { vec![] };
        assert_eq!(acks(&out), expected, "{canary:?}");

        let mut replica = Driver::new(with(canary), 1);
        let push =
            Message::Append { term: 1, prev: pos(0, 0), entries: vec![entry(1, 1)], commit: 0 };
        let out = replica.msg(0, push);
        let reported = sent(&out).iter().any(|(_, m)| matches!(m, Message::AppendAck { .. }));
        assert_eq!(reported, canary.is_some(), "{canary:?}");
    }
}

#[test]
fn election_without_term_bump_takes_office_in_the_old_term() {
    for canary in [None, Some(C::ElectionWithoutTermBump)] {
        let mut d = Driver::new(with(canary), 0);
        d.tick();
        d.tick();
        let out = d.tick();
        assert!(sent_non_heartbeat(&out).is_empty(), "asks once its own vote is durable");
        let asked = sent_non_heartbeat(&d.persist_all());
        let expected_term = if canary.is_some() { 0 } else { 1 };
        let request =
            Message::RequestVote { term: expected_term, last: pos(0, 0), transfer: false };
        assert_eq!(asked, vec![(1, request.clone()), (2, request)], "{canary:?}");
        d.msg(1, Message::VoteReply { term: expected_term, granted: true });
        assert_eq!((d.node.role(), d.node.current_term()), (Role::Leader, expected_term));
    }
}

/// A leader election, a write, and a replica catching up: none of these canaries' paths.
fn happy_path(canary: Option<ReplicationCanary>) -> Vec<Output> {
    let mut all = Vec::new();
    let mut leader = Driver::new(with(canary), 0);
    leader.elect(&[0, 1]);
    all.extend(leader.feed(Input::ClientWrite { write_id: 1, payload: 9 }));
    all.extend(leader.persist_all());
    all.extend(leader.msg(1, Message::AppendAck { term: 1, durable: pos(1, 2) }));
    let mut replica = behind_replica(with(canary));
    all.extend(replica.msg(0, response(1, 0, pos(0, 0), &[entry(1, 1), entry(2, 1)])));
    all.extend(replica.persist_all());
    all
}

#[test]
fn the_message_path_canaries_leave_the_happy_path_alone() {
    let normal = happy_path(None);
    assert_eq!(acks(&normal), vec![(1, 2, 1)]);
    for canary in [
        C::AcceptFromNonLeader,
        C::SkipRequestIdCorrelation,
        C::NoDualLeaderConvergence,
        C::TruncateOnLowerTerm,
        C::RecoverForgetsVote,
        C::VoteWithoutLogCheck,
    ] {
        assert_eq!(happy_path(Some(canary)), normal, "{canary:?}");
    }
}

/// Node 1 is asked for its vote in term 1: the grant, and when it leaves.
fn vote_asked(canary: Option<ReplicationCanary>, last: LogPosition) -> (Driver, Vec<Output>) {
    let mut d = Driver::recover(with(canary), 1, &records(1, &[1]));
    let out = d.msg(0, Message::RequestVote { term: 2, last, transfer: false });
    (d, out)
}

#[test]
fn grant_before_durable_sends_the_grant_before_the_fsync() {
    let granted = |out: &[Output]| {
        sent(out).iter().any(|(_, m)| matches!(m, Message::VoteReply { granted: true, .. }))
    };
    let (mut d, out) = vote_asked(None, pos(1, 1));
    assert!(!granted(&out), "held until the vote is on disk");
    assert!(granted(&d.persist_all()));
    let (_, out) = vote_asked(Some(C::GrantBeforeDurable), pos(1, 1));
    assert!(granted(&out));
}

#[test]
fn recover_forgets_vote_grants_again_in_the_same_term_after_a_restart() {
    for (canary, again) in [(None, false), (Some(C::RecoverForgetsVote), true)] {
        let (mut d, _) = vote_asked(canary, pos(1, 1));
        d.persist_all();
        d.crash_and_recover();
        assert_eq!(d.node.current_term(), 2, "the term survives either way");
        d.msg(2, Message::RequestVote { term: 2, last: pos(1, 1), transfer: false });
        let out = d.persist_all();
        let granted = sent(&out)
            .iter()
            .any(|(to, m)| *to == 2 && *m == Message::VoteReply { term: 2, granted: true });
        assert_eq!(granted, again, "{canary:?}");
    }
}

#[test]
fn vote_without_log_check_grants_a_stale_log() {
    for (canary, granted) in [(None, false), (Some(C::VoteWithoutLogCheck), true)] {
        let (mut d, _) = vote_asked(canary, pos(0, 0));
        let out = d.persist_all();
        let grants =
            sent(&out).iter().any(|(_, m)| matches!(m, Message::VoteReply { granted: true, .. }));
        assert_eq!(grants, granted, "{canary:?}");
    }
}

#[test]
fn count_own_unsynced_append_commits_before_the_leaders_fsync() {
    for (canary, acked) in [(None, vec![]), (Some(C::CountOwnUnsyncedAppend), vec![(5, 2, 1)])] {
        let mut leader = Driver::new(with(canary), 0);
        leader.elect(&[0, 1]);
        leader.feed(Input::ClientWrite { write_id: 5, payload: 0 });
        // Replica 1 reports the write durable before the leader's own fsync completes.
        let out = leader.msg(1, Message::AppendAck { term: 1, durable: pos(1, 2) });
        assert_eq!(acks(&out), acked, "{canary:?}");
    }
}

#[test]
fn term_not_durable_comes_back_in_an_older_term_than_its_log() {
    for (canary, term_after_crash) in [(None, 2), (Some(C::TermNotDurable), 1)] {
        let mut d = Driver::recover(with(canary), 1, &records(1, &[1]));
        let append =
            Message::Append { term: 2, prev: pos(1, 1), entries: vec![entry(2, 2)], commit: 0 };
        d.msg(0, append);
        d.persist_all();
        d.crash_and_recover();
        assert_eq!(d.node.log().last(), pos(2, 2), "the entry is durable either way");
        assert_eq!(d.node.current_term(), term_after_crash, "{canary:?}");
    }
}

/// A stranger (node 7, no member, not the coordinator) claims leadership in term 5 and asks the
/// node to follow node 2 in term 6.
fn stranger_speaks(canary: Option<ReplicationCanary>) -> Driver {
    let mut d = Driver::new(with(canary), 1);
    d.msg(7, leader_heartbeat(5, pos(5, 9)));
    let demote = crate::failover::Request::Demote { handover: 1, new_primary: 2, term: 6 };
    d.feed(Input::Failover { from: 7, request: demote });
    d
}

#[test]
fn no_peer_auth_lets_a_stranger_move_the_node() {
    let d = stranger_speaks(None);
    assert_eq!((d.node.current_term(), d.node.leader()), (0, None));
    assert_eq!(d.node.stats().dropped_non_member, 2, "both dropped at the gate");
    let d = stranger_speaks(Some(C::NoPeerAuth));
    assert_eq!((d.node.current_term(), d.node.leader()), (6, Some(2)), "the stranger led it");
    assert_eq!(d.node.stats().dropped_non_member, 0);
}
