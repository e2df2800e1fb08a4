//! A member's side of a planned handover (`crate::failover`): the primary freezes and reports
//! its frontier, the target reports its durable frontier and, promoted, stands at once for the
//! new term (a leadership transfer: with the frozen primary's log, it is at least as up to date
//! as anyone, so the votes come), and the old primary steps down or resumes.

use super::messages::Output;
use super::node::Node;
use super::Role;
use crate::failover::{FailoverCanary, Reply, Request};
use crate::moment::Moment;
use crate::spec::failover::Action as Handover;
use crate::spec::replication::Action;
use crate::NodeId;

impl Node {
    pub(super) fn on_failover(&mut self, request: Request, out: &mut Vec<Output>) {
        if matches!(
            request,
            Request::Freeze { .. } | Request::Demote { .. } | Request::Promote { .. }
        ) {
            out.push(Output::Moment(Moment::HandoverStep));
        }
        let (me, declare) =
            (self.id, |action, out: &mut Vec<Output>| out.push(Output::FailoverAction(action)));
        let reply = match request {
            Request::Freeze { handover } | Request::ReadFrontier { handover } => {
                // Frozen for another handover, it refuses: a late Freeze of an abandoned one
                // must not take over the freeze, nor may the next one before the last resumes.
                let frozen_for_another = self.frozen && self.frozen_for != handover;
                if self.role != Role::Leader || frozen_for_another {
                    let leader_hint = self.leader.filter(|_| !frozen_for_another);
                    declare(Handover::RefuseFreeze { p: me, id: handover }, out);
                    return out.push(Output::Failover(Reply::NotPrimary { handover, leader_hint }));
                }
                // The answer is a freeze's (the canary `no-freeze` asks for it without one).
                declare(Handover::Freeze { p: me, id: handover }, out);
                if matches!(request, Request::Freeze { .. }) {
                    self.frozen = true;
                    self.frozen_for = handover;
                }
                Reply::Frontier { handover, term: self.current_term, frontier: self.log.last() }
            }
            Request::QueryProgress { handover } => {
                declare(Handover::AnswerProgress { q: me, id: handover }, out);
                let durable = if self.config.handover_canary
                    == Some(FailoverCanary::ProgressFromWorkingLog)
                {
                    self.log.last() // canary: the working log, fsync or not
                } else {
                    self.durable_tail()
                };
                Reply::Progress { handover, durable }
            }
            Request::Promote { handover, term } => return self.promote(handover, term, out),
            Request::Demote { handover, new_primary, term } => {
                declare(Handover::DemoteMember { p: me, id: handover, term }, out);
                let committed = (self.role == Role::Leader).then_some(self.commit_index);
                self.demote(new_primary, term, out);
                Reply::Demoted { handover, committed }
            }
            Request::Resume { handover } => {
                declare(Handover::Unfreeze { p: me, id: handover }, out);
                // A Resume late from an abandoned handover leaves a freeze for a newer one.
                if self.frozen_for == handover {
                    self.frozen = false;
                }
                Reply::Resumed { handover }
            }
        };
        out.push(Output::Failover(reply));
    }

    /// Stands for `term` at once in a transfer election, unless already there; answers once
    /// leading it.
    fn promote(&mut self, handover: u64, term: u64, out: &mut Vec<Output>) {
        if self.role == Role::Leader && self.current_term == term {
            let led_from = self.led_from;
            return out.push(Output::Failover(Reply::Promoted { handover, term, led_from }));
        }
        if term == self.current_term
            && self.config.handover_canary == Some(FailoverCanary::NoTermBump)
        {
            // Canary: the target simply takes over the old primary's term, no election.
            self.promotion = Some((handover, term));
            return self.lead(out);
        }
        if term <= self.current_term {
            return; // a stale or repeated request: this term's election is under way or lost
        }
        self.promotion = Some((handover, term));
        self.stand_in(term, true, out);
    }

    /// Reports the promotion once this node leads the term it was promoted for.
    pub(super) fn report_promotion(&mut self, out: &mut Vec<Output>) {
        if let Some((handover, term)) = self.promotion {
            if self.role == Role::Leader && self.current_term == term {
                self.promotion = None;
                let led_from = self.led_from;
                out.push(Output::Failover(Reply::Promoted { handover, term, led_from }));
            }
        }
    }

    /// The old primary steps down to replicate from `new_primary`, which is to lead `term`.
    fn demote(&mut self, new_primary: NodeId, term: u64, out: &mut Vec<Output>) {
        if term > self.current_term {
            self.adopt_term(term, out);
        } else if self.role == Role::Leader && term == self.current_term {
            self.step_down(out); // the term stays (canary `no-term-bump`), the lead goes
        }
        self.frozen = false;
        if term == self.current_term && new_primary != self.id {
            self.declare(Action::FollowPromoted { n: self.id, q: new_primary }, out);
            self.follow(new_primary);
        }
    }
}
