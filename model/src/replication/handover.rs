//! A member's side of a planned handover (`crate::failover`): the primary freezes and reports
//! its frontier, the target reports its durable frontier and, promoted, stands at once for the
//! new term (a leadership transfer: with the frozen primary's log, it is at least as up to date
//! as anyone, so the votes come), and the old primary steps down or resumes.

use super::messages::Output;
use super::node::Node;
use super::Role;
use crate::failover::{Reply, Request};
use crate::NodeId;

impl Node {
    pub(super) fn on_failover(&mut self, request: Request, out: &mut Vec<Output>) {
        let reply = match request {
            Request::Freeze { handover } | Request::ReadFrontier { handover } => {
                if self.role != Role::Leader {
                    return; // not the primary (any more): the coordinator asks until it gives up
                }
                self.frozen |= matches!(request, Request::Freeze { .. });
                let (term, frontier) = (self.current_term, self.log.last_index());
                Reply::Frontier { handover, term, frontier }
            }
            Request::QueryProgress { handover } => {
                Reply::Progress { handover, durable: self.durable_tail().index }
            }
            Request::Promote { handover, term } => return self.promote(handover, term, out),
            Request::Demote { handover, new_primary, term } => {
                self.demote(new_primary, term, out);
                Reply::Demoted { handover }
            }
            Request::Resume { handover } => {
                self.frozen = false;
                Reply::Resumed { handover }
            }
        };
        out.push(Output::Failover(reply));
    }

    /// Stands for `term` at once, unless already there; answers once leading it.
    fn promote(&mut self, handover: u64, term: u64, out: &mut Vec<Output>) {
        if self.role == Role::Leader && self.current_term == term {
            return out.push(Output::Failover(Reply::Promoted { handover, term }));
        }
        if term <= self.current_term {
            return; // a stale or repeated request: this term's election is under way or lost
        }
        self.promotion = Some((handover, term));
        self.stand_in(term, out);
    }

    /// Reports the promotion once this node leads the term it was promoted for.
    pub(super) fn report_promotion(&mut self, out: &mut Vec<Output>) {
        if let Some((handover, term)) = self.promotion {
            if self.role == Role::Leader && self.current_term == term {
                self.promotion = None;
                out.push(Output::Failover(Reply::Promoted { handover, term }));
            }
        }
    }

    /// The old primary steps down to replicate from `new_primary`, which leads `term`.
    fn demote(&mut self, new_primary: NodeId, term: u64, out: &mut Vec<Output>) {
        self.frozen = false;
        if term > self.current_term {
            self.adopt_term(term, out);
        }
        if term == self.current_term && new_primary != self.id {
            self.follow(new_primary);
        }
    }
}
