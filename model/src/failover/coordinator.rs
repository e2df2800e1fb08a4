//! The coordinator's state machine: one handover at a time, each step asked until answered.

use super::{
    CoordinatorConfig, FailoverCanary, FailoverTimer, Handover, HandoverPlan, HandoverResult,
    Input, Mode, Output, Phase, Reply, Request,
};
use crate::replication::LogPosition;
use crate::spec::failover::{Action, Answer, Handover as SpecHandover, Phase as SpecPhase};
use crate::NodeId;

/// Drives planned handovers. Holds no clock: time is the `now_local_ns` argument.
#[derive(Clone, Debug)]
pub struct Coordinator {
    config: CoordinatorConfig,
    plan: Option<HandoverPlan>,
    /// The current (or last) handover's id; replies and timers carry it.
    handover: u64,
    /// Bumped at every request sent, so a retry timer of an earlier one is ignored.
    step: u64,
    /// Bumped at every phase entered, so a give-up timer of an earlier phase is ignored.
    phase_no: u64,
    phase: Phase,
}

impl Coordinator {
    pub fn new(config: CoordinatorConfig) -> Coordinator {
        let handover = u64::from(config.incarnation) << 32;
        Coordinator { config, plan: None, handover, step: 0, phase_no: 0, phase: Phase::Idle }
    }

    /// True while a handover is under way.
    pub fn busy(&self) -> bool {
        self.phase != Phase::Idle
    }

    /// The handover under way: (its id, its plan).
    pub fn current(&self) -> Option<(u64, HandoverPlan)> {
        self.plan.map(|plan| (self.handover, plan))
    }

    /// The handover as `Failover.tla`'s `ho` has it (default while idle).
    pub fn spec_handover(&self) -> SpecHandover {
        let Some(plan) = self.plan else { return SpecHandover::default() };
        let base = SpecHandover {
            id: self.handover,
            from: plan.primary,
            to: plan.target,
            mode: Some(plan.mode),
            ..SpecHandover::default()
        };
        let at = |phase, h: &Handover| SpecHandover {
            phase,
            term: h.term,
            frontier: h.frontier.index,
            frontier_term: h.frontier.term,
            reached: h.reached.index,
            ..base
        };
        match &self.phase {
            Phase::Idle => SpecHandover::default(),
            Phase::Freezing => SpecHandover { phase: SpecPhase::Freezing, ..base },
            Phase::CatchingUp { term, frontier, reached, .. } => SpecHandover {
                phase: SpecPhase::CatchUp,
                term: *term,
                frontier: frontier.index,
                frontier_term: frontier.term,
                reached: reached.index,
                ..base
            },
            Phase::Demoting { handover } => at(SpecPhase::Demoting, handover),
            Phase::Promoting { handover } => at(SpecPhase::Promoting, handover),
            Phase::Resuming { .. } => SpecHandover { phase: SpecPhase::Resuming, ..base },
        }
    }

    /// Advances the coordinator by one input.
    pub fn handle(&mut self, now_local_ns: u64, input: Input, out: &mut Vec<Output>) {
        match input {
            Input::Start(plan) => self.start(plan, out),
            Input::Reply { from, reply } => self.on_reply(now_local_ns, from, reply, out),
            Input::Timer(timer) => self.on_timer(now_local_ns, timer, out),
        }
    }

    fn canary(&self, canary: FailoverCanary) -> bool {
        self.config.canary == Some(canary)
    }

    fn start(&mut self, plan: HandoverPlan, out: &mut Vec<Output>) {
        if self.busy() {
            return out.push(Output::Done(HandoverResult::Busy));
        }
        self.handover += 1;
        self.plan = Some(plan);
        let (id, p, q, mode) = (self.handover, plan.primary, plan.target, plan.mode);
        out.push(Output::Action(Action::StartHandover { id, p, q, mode }));
        self.enter(Phase::Freezing, out);
    }

    /// Moves to `phase`, asks its question, and arms its give-up timer (the catch-up has its
    /// own deadline instead).
    fn enter(&mut self, phase: Phase, out: &mut Vec<Output>) {
        self.phase = phase;
        self.phase_no += 1;
        self.step += 1;
        self.ask(out);
        if !matches!(self.phase, Phase::CatchingUp { .. }) {
            let timer = FailoverTimer::GiveUp { handover: self.handover, phase: self.phase_no };
            out.push(Output::SetTimer { after_local_ns: self.config.step_timeout_ns, timer });
        }
    }

    /// Sends the current step's request, and arms the timer that asks again (for the catch-up,
    /// that timer is the poll).
    fn ask(&mut self, out: &mut Vec<Output>) {
        let Some(plan) = self.plan else { return };
        let handover = self.handover;
        let (to, request) = match &self.phase {
            Phase::Idle => return,
            Phase::Freezing if self.canary(FailoverCanary::NoFreeze) => {
                (plan.primary, Request::ReadFrontier { handover })
            }
            Phase::Freezing => (plan.primary, Request::Freeze { handover }),
            Phase::CatchingUp { .. } => (plan.target, Request::QueryProgress { handover }),
            Phase::Demoting { handover: h } => {
                (plan.primary, Request::Demote { handover, new_primary: plan.target, term: h.term })
            }
            Phase::Promoting { handover: h } => {
                (plan.target, Request::Promote { handover, term: h.term })
            }
            Phase::Resuming { .. } => (plan.primary, Request::Resume { handover }),
        };
        out.push(Output::Send { to, request });
        let timer = FailoverTimer::Retry { handover, step: self.step };
        out.push(Output::SetTimer { after_local_ns: self.config.retry_ns, timer });
    }

    fn on_reply(&mut self, now: u64, from: NodeId, reply: Reply, out: &mut Vec<Output>) {
        let Some(plan) = self.plan else { return };
        if reply.handover() != self.handover {
            return; // an earlier handover's late answer
        }
        let a = Answer { from, id: self.handover };
        let declare = |action, out: &mut Vec<Output>| out.push(Output::Action(action));
        match (self.phase.clone(), reply) {
            (Phase::Freezing, Reply::Frontier { term, frontier, .. }) if from == plan.primary => {
                let (index, last) = (frontier.index, frontier.term);
                let catch_up = Action::CatchUp { a, term, frontier: index, frontier_term: last };
                declare(catch_up, out);
                let term = if self.canary(FailoverCanary::NoTermBump) { term } else { term + 1 };
                let reached = LogPosition::ZERO;
                self.enter(Phase::CatchingUp { term, frontier, reached, frozen_at_ns: now }, out);
                let timer = FailoverTimer::Deadline { handover: self.handover };
                out.push(Output::SetTimer { after_local_ns: plan.deadline_ns, timer });
            }
            (Phase::Freezing, Reply::NotPrimary { leader_hint, .. }) if from == plan.primary => {
                declare(Action::NotPrimary { a }, out);
                self.finish(HandoverResult::NotPrimary { asked: from, leader_hint }, out)
            }
            (
                Phase::CatchingUp { term, frontier, reached, frozen_at_ns },
                Reply::Progress { durable, .. },
            ) if from == plan.target => {
                // Only entries of the primary's term are surely the primary's (it alone led that
                // term): a tail of an older term may have diverged, and one of a newer term means
                // another leader rose, whose log says nothing of the frozen frontier.
                declare(Action::Progress { a, index: durable.index, last: durable.term }, out);
                let reached =
                    if durable.term == frontier.term { reached.max(durable) } else { reached };
                self.phase = Phase::CatchingUp { term, frontier, reached, frozen_at_ns };
                if reached >= frontier || self.canary(FailoverCanary::CommitBeforeFrontier) {
                    self.hand_over(now, out);
                }
            }
            (Phase::Demoting { handover }, Reply::Demoted { committed, .. })
                if from == plan.primary =>
            {
                // A target promoted now could find the term already won by an election that
                // owes nothing to this handover's frontier.
                let Some(committed) = committed else {
                    declare(Action::Overtaken { a }, out);
                    return self.finish(HandoverResult::Overtaken, out);
                };
                let reached = handover.reached.index;
                if plan.mode == Mode::Force && reached < committed {
                    declare(Action::RefuseForce { a, committed }, out);
                    return self.finish(HandoverResult::ForceRefused { committed, reached }, out);
                }
                declare(Action::Promote { a: Some(a), committed: Some(committed) }, out);
                self.enter(Phase::Promoting { handover }, out)
            }
            (Phase::Promoting { handover }, Reply::Promoted { term: promoted, led_from, .. })
                if from == plan.target && promoted == handover.term =>
            {
                let (frontier, reached, skipped) =
                    self.count_skipped(plan.mode, &handover, led_from);
                let waited_ns = handover.waited_ns;
                let term = handover.term;
                let (led_from, reported) = (led_from.index, skipped);
                declare(Action::HandedOver { a, term, led_from, reported }, out);
                let result =
                    HandoverResult::HandedOver { term, frontier, reached, skipped, waited_ns };
                self.finish(result, out);
            }
            (Phase::Resuming { result }, Reply::Resumed { .. }) if from == plan.primary => {
                declare(Action::Resumed { a }, out);
                self.finish(result, out)
            }
            _ => {} // not what this step waits for: a duplicate or a reordered answer
        }
    }

    fn on_timer(&mut self, now: u64, timer: FailoverTimer, out: &mut Vec<Output>) {
        match timer {
            FailoverTimer::Retry { handover, step }
                if (handover, step) == (self.handover, self.step) =>
            {
                self.step += 1;
                self.ask(out);
            }
            FailoverTimer::Deadline { handover } if handover == self.handover => {
                let Phase::CatchingUp { frontier, reached, frozen_at_ns, .. } = self.phase else {
                    return; // the catch-up ended in time
                };
                let mode = self.plan.map(|plan| plan.mode);
                // Forced, a target holding some of the primary's term holds all of its log up
                // to there, so the skipped count is exact; any other target may have diverged.
                if mode == Some(Mode::Force) && reached.term == frontier.term {
                    return self.hand_over(now, out);
                }
                let waited_ns = now.saturating_sub(frozen_at_ns);
                let (frontier, reached) = (frontier.index, reached.index);
                let result = HandoverResult::CatchUpTimedOut { frontier, reached, waited_ns };
                out.push(Output::Action(Action::Resume));
                self.enter(Phase::Resuming { result }, out);
            }
            FailoverTimer::GiveUp { handover, phase }
                if (handover, phase) == (self.handover, self.phase_no) =>
            {
                self.give_up(out)
            }
            _ => {} // an earlier step's or handover's timer
        }
    }

    /// A step went unanswered for `step_timeout_ns`.
    fn give_up(&mut self, out: &mut Vec<Output>) {
        let Some(plan) = self.plan else { return };
        let result = match self.phase.clone() {
            Phase::Idle | Phase::CatchingUp { .. } => return,
            Phase::Freezing => {
                // Best effort: should the freeze have landed, the primary mints again at once
                // (else it steps down when its freeze runs out).
                let request = Request::Resume { handover: self.handover };
                out.push(Output::Send { to: plan.primary, request });
                HandoverResult::Abandoned { step: "freeze" }
            }
            // The primary may or may not have stepped down: promoting now could make two.
            Phase::Demoting { .. } => HandoverResult::Abandoned { step: "demote" },
            Phase::Promoting { handover } => {
                let (frontier, reached, skipped) =
                    self.count_skipped(plan.mode, &handover, handover.reached);
                let term = handover.term;
                HandoverResult::PromotionUnconfirmed { term, frontier, reached, skipped }
            }
            Phase::Resuming { result } => result,
        };
        let reported = match result {
            HandoverResult::PromotionUnconfirmed { skipped, .. } => Some(skipped),
            _ => None,
        };
        out.push(Output::Action(Action::GiveUp { reported }));
        self.finish(result, out);
    }

    /// Commits to the handover: demote the old primary, then promote the target.
    fn hand_over(&mut self, now: u64, out: &mut Vec<Output>) {
        let Phase::CatchingUp { term, frontier, reached, frozen_at_ns } = self.phase else {
            return;
        };
        let waited_ns = now.saturating_sub(frozen_at_ns);
        let handover = Handover { term, frontier, reached, waited_ns };
        out.push(Output::Action(Action::Demote));
        if self.canary(FailoverCanary::OldPrimaryNotDemoted) {
            return self.enter(Phase::Promoting { handover }, out);
        }
        self.enter(Phase::Demoting { handover }, out);
        if let (true, Some(plan)) = (self.canary(FailoverCanary::PromoteBeforeDemoted), self.plan) {
            // Canary: the promotion leaves with the demotion instead of after its answer.
            out.push(Output::Action(Action::Promote { a: None, committed: None }));
            let request = Request::Promote { handover: self.handover, term };
            out.push(Output::Send { to: plan.target, request });
        }
    }

    /// (frontier, reached, skipped) as indices, the target holding the primary's log up to
    /// `held`: nothing is skipped in coordinated mode, which waits for everything.
    fn count_skipped(&self, mode: Mode, handover: &Handover, held: LogPosition) -> (u64, u64, u64) {
        let frontier = handover.frontier.index;
        let reached = held.index.min(frontier);
        let skipped = match mode {
            Mode::Coordinated => 0,
            Mode::Force => frontier - reached,
        };
        if self.canary(FailoverCanary::UnderReportSkipped) {
            return (frontier, reached, skipped.saturating_sub(1));
        }
        (frontier, reached, skipped)
    }

    fn finish(&mut self, result: HandoverResult, out: &mut Vec<Output>) {
        self.phase = Phase::Idle;
        self.plan = None;
        self.step += 1;
        self.phase_no += 1;
        out.push(Output::Done(result));
    }
}
