//! The cluster's checks: the refinement mappings onto `Failover.tla`, `Lease.tla` and
//! `Replication.tla`, run after every step, and the liveness condition.
//!
//! What a handover lost is measured, not taken from the coordinator: when the promotion leaves,
//! the old primary's log is recorded; when the target first leads the promised term, the
//! entries of that log (up to the larger of the frozen frontier and its tail) that the
//! target's log lacks are the loss, to be compared with what the coordinator reports.

use super::coordinator::CoordinatorEvent;
use super::{ClusterAction, ClusterNode};
use crate::lease::{record_view, LeaseConformance};
use crate::replica_set::{ReplicaSetView, Seen};
use crate::spec_check::check_step;
use crate::spec_trace::SpecTrace;
use model::cluster::MemberConfig;
use model::failover::{HandoverPlan, HandoverResult};
use model::lease::FencingToken;
use model::promise::Promise;
use model::replication::{LogPosition, Node as ReplicaNode, Role};
use model::spec::failover as handover;
use model::spec::failover::{self, FailoverView, Handover, HandoverView, Reported};
use model::spec::lease::{self, Held, LeaseView, RecordView};
use sim::{NodeId, View, Violation};

/// A handover whose promotion left, followed until its target leads.
struct Tracked {
    handover: u64,
    term: u64,
    plan: HandoverPlan,
    frontier: LogPosition,
    /// The old primary's log positions when the promotion left, and its tail.
    old_log: Vec<(u64, u64)>,
    old_tail: LogPosition,
    taken_over: bool,
    /// What the coordinator reported before the target took over: it may give up on the
    /// promotion (`PromotionUnconfirmed`) before it lands, and the report holds when it does.
    reported: Reported,
}

pub struct Checks {
    repl: ReplicaSetView,
    /// The lease record decoded at its version.
    decoded: Option<(u64, RecordView)>,
    previous_lease: Option<LeaseView>,
    lease: LeaseConformance,
    failover: FailoverView,
    previous_failover: FailoverView,
    /// Frontiers taken, by handover.
    frontiers: Vec<(u64, LogPosition)>,
    tracked: Vec<Tracked>,
    /// How many of the coordinator's current incarnation's events were collected.
    collected: usize,
    coordinator_up: bool,
    inferred_handover: Vec<handover::Action>,
    /// The run's spec trace, when it is kept (captured runs).
    pub trace: Option<SpecTrace>,
}

impl Checks {
    pub fn new(config: &MemberConfig) -> Checks {
        let replication = config.replication.clone();
        let ack_policy = replication.ack_policy;
        Checks {
            repl: ReplicaSetView::new(replication, ack_policy, true),
            decoded: None,
            previous_lease: None,
            lease: LeaseConformance::default(),
            failover: FailoverView::default(),
            previous_failover: FailoverView::default(),
            frontiers: Vec::new(),
            tracked: Vec::new(),
            collected: 0,
            coordinator_up: false,
            inferred_handover: Vec::new(),
            trace: None,
        }
    }

    pub fn check(
        &mut self,
        view: &View<'_, ClusterNode>,
        members: u32,
        coordinator: NodeId,
        resource: NodeId,
    ) -> Result<(), Violation> {
        self.repl.refresh(|id| Seen {
            up: match view.node(id) {
                Some(ClusterNode::Member(m)) => Some((m.member.node(), &m.acked)),
                _ => None,
            },
            disk: view.disk(id),
        });
        let coordinator_was_up = self.coordinator_up;
        self.collect_coordinator(view, coordinator);
        self.measure_takeovers(view);
        self.refresh_failover(view, members, resource);
        if self.previous_failover.handover.frozen.len() == members as usize {
            self.check_handover(view, coordinator_was_up)?;
        }
        // The cause first (a step the specs do not allow), then the damage it did.
        let replication = view.actions().iter().filter_map(|(_, action)| match action {
            ClusterAction::Replication(action) => Some(action),
            _ => None,
        });
        let step = view.step();
        let trace = self.trace.as_mut().map(|trace| (trace, step));
        self.repl.check_actions(replication, trace)?;
        let lease = self.lease_view(view, members)?;
        let up = (0..members).map(|id| view.node(id).is_some());
        let declared = view.actions().iter().filter_map(|(_, action)| match action {
            ClusterAction::Lease(action) => Some(action),
            _ => None,
        });
        let trace = self.trace.as_mut().map(|trace| (trace, step));
        self.lease.check(self.previous_lease.as_ref(), &lease, up, declared, true, trace)?;
        let (invariants, properties) = (failover::INVARIANTS, failover::ACTION_PROPERTIES);
        check_step(invariants, properties, Some(&self.previous_failover), &self.failover)?;
        let (invariants, properties) = (lease::INVARIANTS, lease::ACTION_PROPERTIES);
        check_step(invariants, properties, self.previous_lease.as_ref(), &lease)?;
        self.previous_lease = Some(lease);
        self.repl.check_invariants()
    }

    /// Holds the promises of a step against what would survive a crash now: the replica set's
    /// against the disks, a minted write's against the lease record in the store.
    pub fn check_promises(
        &mut self,
        view: &View<'_, ClusterNode>,
        promises: &[(NodeId, Promise)],
    ) -> Result<(), Violation> {
        for (from, promise) in promises {
            if let Promise::LeaseHeld { .. } = promise {
                let record = record_view(view.store(), &mut self.decoded)?;
                let now = view.store_time_ns();
                let lease = LeaseView { now, record, ..LeaseView::default() };
                lease::durable_promises(&lease, *from, promise)
                    .map_err(|seen| Violation::new("DurablePromises", seen))?;
            } else {
                self.repl.check_promise(*from, promise, |id| view.disk(id))?;
            }
        }
        Ok(())
    }

    /// Member `id`'s replica-set node: as it is, or as it would recover while down.
    fn replica<'a>(&'a self, view: &View<'a, ClusterNode>, id: NodeId) -> Option<&'a ReplicaNode> {
        match view.node(id) {
            Some(ClusterNode::Member(m)) => Some(m.member.node()),
            _ => self.repl.recovered(id),
        }
    }

    fn collect_coordinator(&mut self, view: &View<'_, ClusterNode>, coordinator: NodeId) {
        let Some(ClusterNode::Coordinator(driver)) = view.node(coordinator) else {
            self.coordinator_up = false;
            return;
        };
        if !self.coordinator_up {
            self.coordinator_up = true;
            self.collected = 0; // a new incarnation, with a new log
        }
        let new: Vec<CoordinatorEvent> = driver.events[self.collected..].to_vec();
        self.collected = driver.events.len();
        for event in &new {
            match event {
                CoordinatorEvent::Frozen { handover, frontier } => {
                    self.frontiers.push((*handover, *frontier))
                }
                CoordinatorEvent::Promoting { handover, term, plan } => {
                    let frontier = self.frontiers.iter().find(|(h, _)| h == handover);
                    let old = self.replica(view, plan.primary);
                    if let (Some((_, frontier)), Some(old)) = (frontier, old) {
                        // Only entries of terms before the promised one were the old primary's:
                        // once demoted it may already hold the target's (found at cluster seed
                        // 794, where an election had given the target the term first).
                        let old_log: Vec<(u64, u64)> = old
                            .log()
                            .entries()
                            .iter()
                            .filter(|e| e.term < *term)
                            .map(|e| (e.index, e.term))
                            .collect();
                        let old_tail = old_log
                            .last()
                            .map_or(old.log().base(), |&(index, term)| LogPosition { term, index });
                        self.tracked.push(Tracked {
                            handover: *handover,
                            term: *term,
                            plan: *plan,
                            frontier: *frontier,
                            old_log,
                            old_tail,
                            taken_over: false,
                            reported: Reported::Pending,
                        });
                    }
                }
                CoordinatorEvent::Done { handover, result } => {
                    let reported = match result {
                        HandoverResult::HandedOver { skipped, .. } => Reported::Exactly(*skipped),
                        HandoverResult::PromotionUnconfirmed { skipped, .. } => {
                            Reported::AtMost(*skipped)
                        }
                        _ => continue,
                    };
                    let handover = *handover;
                    let seen = self.failover.handovers.iter_mut().find(|h| h.handover == handover);
                    let tracked = self.tracked.iter_mut().find(|t| t.handover == handover);
                    match (seen, tracked) {
                        (Some(seen), _) => seen.reported = reported,
                        // The coordinator gave up on a promotion that had not landed yet: the
                        // report is judged when it lands, if it does.
                        (None, Some(tracked)) => tracked.reported = reported,
                        (None, None) => {}
                    }
                }
            }
        }
    }

    /// Measures each promoted target's takeover at the step it first leads the promised term.
    fn measure_takeovers(&mut self, view: &View<'_, ClusterNode>) {
        for tracked in self.tracked.iter_mut().filter(|t| !t.taken_over) {
            let Some(ClusterNode::Member(m)) = view.node(tracked.plan.target) else { continue };
            let target = m.member.node();
            if target.role() != Role::Leader || target.current_term() != tracked.term {
                continue;
            }
            tracked.taken_over = true;
            let led_from = target.led_from();
            let hi = tracked.frontier.index.max(tracked.old_tail.index);
            // Entries the target holds of the old primary's log: up to its own tail when that
            // tail is of the primary's term (every such entry came from the primary), and any
            // entry it holds of the recorded log.
            let same_term = led_from.term == tracked.frontier.term;
            let kept_by_term = if same_term { led_from.index.min(hi) } else { 0 };
            let kept_by_log = tracked
                .old_log
                .iter()
                .rev()
                .find(|(index, term)| {
                    *index <= led_from.index
                        && target.log().contains(LogPosition { term: *term, index: *index })
                })
                .map_or(0, |(index, _)| *index);
            let kept = kept_by_term.max(kept_by_log);
            let was_old = |(index, term): &(u64, u64)| {
                *index > kept
                    && *index <= hi
                    && (*term == tracked.frontier.term
                        || tracked.old_log.contains(&(*index, *term)))
            };
            let acked = &self.repl.current.acked;
            let lost_acked = acked.iter().filter(|write| was_old(write)).count() as u64;
            self.failover.handovers.push(HandoverView {
                handover: tracked.handover,
                mode: tracked.plan.mode,
                term: tracked.term,
                old_primary: tracked.plan.primary,
                target: tracked.plan.target,
                lost: hi.saturating_sub(kept),
                lost_acked,
                reported: tracked.reported,
            });
        }
        self.tracked.retain(|t| !t.taken_over);
    }

    fn refresh_failover(&mut self, view: &View<'_, ClusterNode>, members: u32, resource: NodeId) {
        self.previous_failover.clone_from(&self.failover);
        let failover = &mut self.failover;
        failover.primaries.clear();
        failover.primary.clear();
        failover.primary.resize(members as usize, false);
        failover.handover.frozen.clear();
        failover.handover.frozen.resize(members as usize, false);
        failover.handover.frozen_for.clear();
        failover.handover.frozen_for.resize(members as usize, 0);
        for id in 0..members {
            let Some(ClusterNode::Member(m)) = view.node(id) else { continue };
            let node = m.member.node();
            if node.role() == Role::Leader {
                failover.note_leader(node.current_term(), id);
            }
            if m.member.primary_token(view.local_ns(id)).is_some() {
                failover.primaries.push(id);
                failover.primary[id as usize] = true;
            }
            failover.handover.frozen[id as usize] = node.frozen();
            failover.handover.frozen_for[id as usize] = node.frozen_for();
        }
        failover.handover.ho = match view.node(members) {
            Some(ClusterNode::Coordinator(c)) => c.coordinator.spec_handover(),
            _ => Handover::default(),
        };
        failover.last_accepted = last_accepted(view, resource);
    }

    /// `SpecConformance` of the handover: the coordinator's and the members' declared actions,
    /// after the ones inferred (the coordinator's crash, a frozen primary that stopped leading).
    fn check_handover(
        &mut self,
        view: &View<'_, ClusterNode>,
        was_up: bool,
    ) -> Result<(), Violation> {
        let declared = view.actions().iter().filter_map(|(_, action)| match action {
            ClusterAction::Failover(action) => Some(action),
            _ => None,
        });
        self.inferred_handover.clear();
        if was_up && !self.coordinator_up {
            self.inferred_handover.push(handover::Action::CoordinatorCrash);
        }
        let (before, after) = (&self.previous_failover.handover, &self.failover.handover);
        let (was_primary, primary_after) =
            (&self.previous_failover.primary, &self.failover.primary);
        for (n, &primary_now) in primary_after.iter().enumerate() {
            let frozen_before = before.frozen.get(n) == Some(&true);
            let frozen_after = after.frozen.get(n) == Some(&true);
            let thawed = frozen_before && !frozen_after;
            // Time, a crash or a newer term took an unfrozen member's primacy (its lease belief
            // ran out, say, before it handled the step's input): the spec's `Expire`. A frozen
            // one's end is the thaw's to explain (`Expire` thaws too; one that stays frozen
            // mints nothing either way).
            let lapsed = was_primary.get(n) == Some(&true)
                && !primary_now
                && !frozen_before
                && !frozen_after;
            if !thawed && !lapsed {
                continue;
            }
            let explained = declared.clone().any(|a| {
                a.member() == Some(n as NodeId)
                    && match a {
                        handover::Action::DemoteMember { .. } => true,
                        handover::Action::Unfreeze { .. }
                        | handover::Action::FreezeExpired { .. } => thawed,
                        _ => false,
                    }
            });
            if !explained {
                self.inferred_handover.push(handover::Action::Expire { n: n as NodeId });
            }
        }
        let env = handover::Env { primary: &self.previous_failover.primary, primary_after };
        let actions = self.inferred_handover.iter().chain(declared);
        if let Some(trace) = self.trace.as_mut() {
            let primary = &self.previous_failover.primary;
            trace.failover(view.step(), primary, actions.clone(), after);
        }
        handover::check_step(before, after, actions, &env)
            .map_err(|seen| Violation::new("SpecConformance", seen))
    }

    /// The refinement mapping onto `Lease.tla`'s variables.
    fn lease_view(
        &mut self,
        view: &View<'_, ClusterNode>,
        members: u32,
    ) -> Result<LeaseView, Violation> {
        let record = record_view(view.store(), &mut self.decoded)?;
        let held: Vec<Option<Held>> = (0..members)
            .map(|id| match view.node(id) {
                Some(ClusterNode::Member(m)) => m.member.lease().held_belief(),
                _ => None,
            })
            .collect();
        let local = (0..members).map(|id| view.local_ns(id)).collect();
        let last_accepted = self.failover.last_accepted;
        let now = view.store_time_ns();
        let previous = self.previous_lease.as_ref();
        Ok(LeaseView::new(now, record, held, local, last_accepted, previous))
    }
}

fn last_accepted(view: &View<'_, ClusterNode>, resource: NodeId) -> Option<FencingToken> {
    match view.node(resource) {
        Some(ClusterNode::Resource(resource)) => resource.accepted.last().map(|(token, _)| *token),
        _ => None,
    }
}

/// `WritesResume` (liveness): one member mints, and every member follows it at its tail.
pub fn writes_resume(view: &View<'_, ClusterNode>, members: u32) -> Result<(), Violation> {
    let up: Vec<(NodeId, &model::cluster::Member)> = (0..members)
        .filter_map(|id| match view.node(id) {
            Some(ClusterNode::Member(m)) => Some((id, &m.member)),
            _ => None,
        })
        .collect();
    let primaries: Vec<NodeId> = up
        .iter()
        .filter(|(id, member)| member.mints(view.local_ns(*id)))
        .map(|(id, _)| *id)
        .collect();
    let [primary] = primaries[..] else {
        return Err(Violation::new("WritesResume", format!("primaries: {primaries:?}")));
    };
    let tail = up.iter().find(|(id, _)| *id == primary).map(|(_, m)| m.node().log().last());
    let behind: Vec<NodeId> = up
        .iter()
        .filter(|(_, m)| m.node().leader() != Some(primary) || Some(m.node().log().last()) != tail)
        .map(|(id, _)| *id)
        .collect();
    if up.len() < members as usize || !behind.is_empty() {
        let observed = format!("n{primary} is primary at {tail:?}; behind it: {behind:?}");
        return Err(Violation::new("WritesResume", observed));
    }
    Ok(())
}
