//! The coordinator's state machine: one handover at a time, each step asked until answered.

use super::{
    CoordinatorConfig, FailoverCanary, FailoverTimer, HandoverPlan, HandoverResult, Input, Mode,
    Output, Phase, Reply, Request,
};
use crate::NodeId;

/// Drives planned handovers. Holds no clock: time is the `now_local_ns` argument.
#[derive(Clone, Debug)]
pub struct Coordinator {
    config: CoordinatorConfig,
    plan: Option<HandoverPlan>,
    /// The current (or last) handover's id; replies and timers carry it.
    handover: u64,
    /// Bumped at every step, so a retry timer of an earlier step is recognised and ignored.
    step: u64,
    phase: Phase,
}

impl Coordinator {
    pub fn new(config: CoordinatorConfig) -> Coordinator {
        Coordinator { config, plan: None, handover: 0, step: 0, phase: Phase::Idle }
    }

    /// True while a handover is under way.
    pub fn busy(&self) -> bool {
        self.phase != Phase::Idle
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
        self.enter(Phase::Freezing, out);
    }

    /// Moves to `phase` and asks its question.
    fn enter(&mut self, phase: Phase, out: &mut Vec<Output>) {
        self.phase = phase;
        self.step += 1;
        self.ask(out);
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
            Phase::Promoting { term, .. } => {
                (plan.target, Request::Promote { handover, term: *term })
            }
            Phase::Demoting { result } => {
                let term = match result {
                    HandoverResult::HandedOver { term, .. } => *term,
                    _ => unreachable!("only a handover demotes"),
                };
                (plan.primary, Request::Demote { handover, new_primary: plan.target, term })
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
        match (self.phase.clone(), reply) {
            (Phase::Freezing, Reply::Frontier { term, frontier, .. }) if from == plan.primary => {
                let term = if self.canary(FailoverCanary::NoTermBump) { term } else { term + 1 };
                let frozen_at_ns = now;
                self.enter(Phase::CatchingUp { term, frontier, reached: 0, frozen_at_ns }, out);
                let timer = FailoverTimer::Deadline { handover: self.handover };
                out.push(Output::SetTimer { after_local_ns: plan.deadline_ns, timer });
            }
            (
                Phase::CatchingUp { term, frontier, reached, frozen_at_ns },
                Reply::Progress { durable, .. },
            ) if from == plan.target => {
                let reached = reached.max(durable);
                self.phase = Phase::CatchingUp { term, frontier, reached, frozen_at_ns };
                if reached >= frontier || self.canary(FailoverCanary::CommitBeforeFrontier) {
                    self.promote(now, out);
                }
            }
            (
                Phase::Promoting { term, frontier, reached, waited_ns },
                Reply::Promoted { term: promoted, .. },
            ) if from == plan.target && promoted == term => {
                let skipped = self.skipped(plan.mode, frontier, reached);
                let result =
                    HandoverResult::HandedOver { term, frontier, reached, skipped, waited_ns };
                if self.canary(FailoverCanary::OldPrimaryNotDemoted) {
                    return self.finish(result, out);
                }
                self.enter(Phase::Demoting { result }, out);
            }
            (Phase::Demoting { result }, Reply::Demoted { .. })
            | (Phase::Resuming { result }, Reply::Resumed { .. })
                if from == plan.primary =>
            {
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
                if mode == Some(Mode::Force) {
                    return self.promote(now, out);
                }
                let waited_ns = now.saturating_sub(frozen_at_ns);
                let result = HandoverResult::CatchUpTimedOut { frontier, reached, waited_ns };
                self.enter(Phase::Resuming { result }, out);
            }
            _ => {} // an earlier step's or handover's timer
        }
    }

    fn promote(&mut self, now: u64, out: &mut Vec<Output>) {
        let Phase::CatchingUp { term, frontier, reached, frozen_at_ns } = self.phase else {
            return;
        };
        let waited_ns = now.saturating_sub(frozen_at_ns);
        self.enter(Phase::Promoting { term, frontier, reached, waited_ns }, out);
    }

    /// The writes the target lacks: none in coordinated mode, which waits for them.
    fn skipped(&self, mode: Mode, frontier: u64, reached: u64) -> u64 {
        let skipped = match mode {
            Mode::Coordinated => 0,
            Mode::Force => frontier.saturating_sub(reached),
        };
        if self.canary(FailoverCanary::UnderReportSkipped) {
            return skipped.saturating_sub(1);
        }
        skipped
    }

    fn finish(&mut self, result: HandoverResult, out: &mut Vec<Output>) {
        self.phase = Phase::Idle;
        self.plan = None;
        self.step += 1;
        out.push(Output::Done(result));
    }
}
