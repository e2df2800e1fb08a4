//! A member's side of a planned handover: freeze, progress, promotion, demotion, resumption.

use super::*;
use crate::failover::{Reply, Request};

fn failover_replies(out: &[Output]) -> Vec<Reply> {
    let replies = out.iter().filter_map(|o| match o {
        Output::Failover(reply) => Some(reply.clone()),
        _ => None,
    });
    replies.collect()
}

#[test]
fn a_frozen_primary_reports_its_frontier_and_mints_nothing_until_resumed() {
    let mut d = Driver::new(config(3), 0);
    d.elect(&[0, 1]);
    d.feed(Input::ClientWrite { write_id: 1, payload: 0 });
    let out =
        d.feed(Input::Failover { from: COORDINATOR, request: Request::Freeze { handover: 7 } });
    assert_eq!(
        failover_replies(&out),
        vec![Reply::Frontier { handover: 7, term: 1, frontier: pos(1, 2) }]
    );
    let out = d.feed(Input::ClientWrite { write_id: 2, payload: 0 });
    assert!(out.contains(&Output::Reject { write_id: 2, leader_hint: Some(0) }));
    assert_eq!(d.node.log().last_index(), 2, "nothing minted after the freeze");
    let out =
        d.feed(Input::Failover { from: COORDINATOR, request: Request::Resume { handover: 7 } });
    assert_eq!(failover_replies(&out), vec![Reply::Resumed { handover: 7 }]);
    d.feed(Input::ClientWrite { write_id: 3, payload: 0 });
    assert_eq!(d.node.log().last_index(), 3);
}

// Goal: a Resume late from an abandoned handover does not thaw a primary frozen for the next
// one, nor a late Freeze of it take the freeze over (TLC found the lost writes both allowed
// with two handovers). Method: freeze for 8; Resume 7 leaves it frozen, Freeze 7 is refused,
// Resume 8 thaws.
#[test]
fn only_the_handover_a_primary_froze_for_resumes_it() {
    let mut d = Driver::new(config(3), 0);
    d.elect(&[0, 1]);
    d.feed(Input::Failover { from: COORDINATOR, request: Request::Freeze { handover: 8 } });
    let out =
        d.feed(Input::Failover { from: COORDINATOR, request: Request::Resume { handover: 7 } });
    assert_eq!(failover_replies(&out), vec![Reply::Resumed { handover: 7 }]);
    assert!(d.node.frozen(), "a late Resume of handover 7 leaves the freeze for 8");
    let out = d.feed(Input::ClientWrite { write_id: 1, payload: 0 });
    assert!(out.contains(&Output::Reject { write_id: 1, leader_hint: Some(0) }));
    // A late Freeze of 7 is refused: it neither takes the freeze over nor answers a frontier.
    let out =
        d.feed(Input::Failover { from: COORDINATOR, request: Request::Freeze { handover: 7 } });
    assert_eq!(failover_replies(&out), vec![Reply::NotPrimary { handover: 7, leader_hint: None }]);
    assert_eq!(d.node.frozen_for(), 8);
    d.feed(Input::Failover { from: COORDINATOR, request: Request::Resume { handover: 8 } });
    assert!(!d.node.frozen());
}

#[test]
fn a_member_that_does_not_lead_refuses_a_freeze_naming_its_leader() {
    let mut d = Driver::new(config(3), 1);
    let out =
        d.feed(Input::Failover { from: COORDINATOR, request: Request::Freeze { handover: 1 } });
    assert_eq!(failover_replies(&out), vec![Reply::NotPrimary { handover: 1, leader_hint: None }]);
    d.msg(0, leader_heartbeat(1, pos(0, 0)));
    let out =
        d.feed(Input::Failover { from: COORDINATOR, request: Request::Freeze { handover: 2 } });
    assert_eq!(
        failover_replies(&out),
        vec![Reply::NotPrimary { handover: 2, leader_hint: Some(0) }]
    );
    assert!(!d.node.frozen());
}

#[test]
fn progress_is_the_durable_frontier() {
    for canary in [None, Some(crate::failover::FailoverCanary::ProgressFromWorkingLog)] {
        let mut d = Driver::new(ReplicationConfig { handover_canary: canary, ..config(3) }, 1);
        d.msg(0, leader_heartbeat(1, pos(1, 2)));
        let push =
            Message::Append { term: 1, prev: pos(0, 0), entries: vec![entry(1, 1)], commit: 0 };
        d.msg(0, push);
        let query =
            Input::Failover { from: COORDINATOR, request: Request::QueryProgress { handover: 2 } };
        // The canary reports the working log before its fsync.
        let before = if canary.is_some() { pos(1, 1) } else { pos(0, 0) };
        assert_eq!(
            failover_replies(&d.feed(query.clone())),
            vec![Reply::Progress { handover: 2, durable: before }]
        );
        d.persist_all();
        assert_eq!(
            failover_replies(&d.feed(query)),
            vec![Reply::Progress { handover: 2, durable: pos(1, 1) }]
        );
    }
}

#[test]
fn a_promoted_target_stands_at_once_and_reports_once_leading() {
    let mut d = Driver::new(config(3), 1);
    d.msg(0, leader_heartbeat(1, pos(1, 0)));
    let promote =
        Input::Failover { from: COORDINATOR, request: Request::Promote { handover: 4, term: 2 } };
    let out = d.feed(promote.clone());
    assert_eq!((d.node.role(), d.node.current_term()), (Role::Candidate, 2));
    assert!(failover_replies(&out).is_empty(), "not leading yet");
    d.persist_all();
    let out = d.msg(2, Message::VoteReply { term: 2, granted: true });
    assert_eq!(d.node.role(), Role::Leader);
    let promoted = Reply::Promoted { handover: 4, term: 2, led_from: pos(0, 0) };
    assert_eq!(failover_replies(&out), vec![promoted.clone()]);
    let again = d.feed(promote);
    assert_eq!(failover_replies(&again), vec![promoted], "a retry");
    let stale = d.feed(Input::Failover {
        from: COORDINATOR,
        request: Request::Promote { handover: 4, term: 1 },
    });
    assert!(failover_replies(&stale).is_empty() && d.node.current_term() == 2);
}

#[test]
fn a_demoted_primary_follows_the_new_one_in_its_term() {
    let mut d = Driver::new(config(3), 0);
    d.elect(&[0, 1]);
    d.feed(Input::Failover { from: COORDINATOR, request: Request::Freeze { handover: 5 } });
    let demote = Request::Demote { handover: 5, new_primary: 1, term: 2 };
    let out = d.feed(Input::Failover { from: COORDINATOR, request: demote });
    assert_eq!(failover_replies(&out), vec![Reply::Demoted { handover: 5, committed: Some(0) }]);
    assert_eq!(
        (d.node.role(), d.node.leader(), d.node.current_term()),
        (Role::Replica, Some(1), 2)
    );
    assert!(!d.node.frozen());
}

#[test]
fn voters_waive_the_up_to_date_check_for_a_transfer_only() {
    let mut d = Driver::new(config(3), 0);
    d.elect(&[0, 1]);
    d.feed(Input::ClientWrite { write_id: 1, payload: 0 });
    d.persist_all();
    let behind = pos(1, 1); // our log ends at (1, 2)
    let out = d.msg(1, Message::RequestVote { term: 2, last: behind, transfer: false });
    assert!(!out
        .iter()
        .any(|o| matches!(o, Output::Send { msg: Message::VoteReply { granted: true, .. }, .. })));
    d.msg(2, Message::RequestVote { term: 3, last: behind, transfer: true });
    d.persist_all();
    assert_eq!(d.node.voted_for(), Some(2), "the promoted target gets the vote");
}

#[test]
fn with_the_no_term_bump_canary_a_target_leads_the_old_term_outright() {
    let mut cfg = config(3);
    cfg.handover_canary = Some(crate::failover::FailoverCanary::NoTermBump);
    let mut d = Driver::new(cfg, 1);
    d.msg(0, leader_heartbeat(1, pos(0, 0)));
    d.feed(Input::Failover {
        from: COORDINATOR,
        request: Request::Promote { handover: 4, term: 1 },
    });
    assert_eq!((d.node.role(), d.node.current_term()), (Role::Leader, 1), "a second leader of 1");
}
