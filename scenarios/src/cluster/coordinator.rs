//! The failover coordinator as the simulator drives it: the real `model::failover::Coordinator`,
//! a workload that starts planned handovers every few seconds (random target, mode and
//! deadline), and a log of what it did for the checks to collect.

use super::{ClusterMsg, ClusterNode};
use model::failover::{
    Coordinator, CoordinatorConfig, FailoverCanary, FailoverTimer, HandoverPlan, HandoverResult,
    Input, Mode, Output, Reply, Request,
};
use model::replication::LogPosition;
use sim::time::{millis, secs};
use sim::{Context, NodeId};

const TAG_WORKLOAD: u64 = 0;

/// What the coordinator did, as the checks need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CoordinatorEvent {
    /// The primary's frontier was taken for `handover`.
    Frozen {
        handover: u64,
        frontier: LogPosition,
    },
    /// `plan.target` was told to lead `term` (the first time).
    Promoting {
        handover: u64,
        term: u64,
        plan: HandoverPlan,
    },
    Done {
        handover: u64,
        result: HandoverResult,
    },
}

#[derive(Clone, Debug)]
pub struct CoordinatorDriver {
    pub(super) coordinator: Coordinator,
    members: u32,
    /// The member believed to be the primary: where the next handover starts.
    primary_guess: NodeId,
    /// Armed coordinator timers: (sequence in the tag, timer).
    timers: Vec<(u64, FailoverTimer)>,
    next_timer: u64,
    /// Everything this incarnation did, oldest first.
    pub events: Vec<CoordinatorEvent>,
}

impl CoordinatorDriver {
    pub fn boot(
        members: u32,
        canary: Option<FailoverCanary>,
        cx: &mut Context<'_, ClusterNode>,
    ) -> Self {
        let config = CoordinatorConfig {
            retry_ns: millis(100),
            step_timeout_ns: secs(2),
            incarnation: cx.rng().below(1 << 32) as u32,
            canary,
        };
        let first = cx.rng().between(secs(1), secs(3));
        cx.set_timer(first, TAG_WORKLOAD);
        CoordinatorDriver {
            coordinator: Coordinator::new(config),
            members,
            primary_guess: 0,
            timers: Vec::new(),
            next_timer: 0,
            events: Vec::new(),
        }
    }

    pub fn on_timer(&mut self, cx: &mut Context<'_, ClusterNode>, tag: u64) {
        if tag == TAG_WORKLOAD {
            return self.start_handover(cx);
        }
        let Some(at) = self.timers.iter().position(|(seq, _)| *seq == tag >> 1) else { return };
        let (_, timer) = self.timers.swap_remove(at);
        self.drive(cx, Input::Timer(timer));
    }

    pub fn on_reply(&mut self, cx: &mut Context<'_, ClusterNode>, from: NodeId, reply: Reply) {
        if let (Reply::Frontier { handover, frontier, .. }, Some((current, plan))) =
            (&reply, self.coordinator.current())
        {
            let first = !self.events.iter().any(
                |e| matches!(e, CoordinatorEvent::Frozen { handover: h, .. } if h == handover),
            );
            if *handover == current && from == plan.primary && first {
                let (handover, frontier) = (*handover, *frontier);
                self.events.push(CoordinatorEvent::Frozen { handover, frontier });
            }
        }
        self.drive(cx, Input::Reply { from, reply });
    }

    /// Every 2 to 5 s: hand the primary role to a random other member, coordinated or forced,
    /// with a catch-up deadline from 20 ms (often missed) to 1 s.
    fn start_handover(&mut self, cx: &mut Context<'_, ClusterNode>) {
        let next = cx.rng().between(secs(2), secs(5));
        cx.set_timer(next, TAG_WORKLOAD);
        if self.coordinator.busy() {
            return;
        }
        let offset = 1 + cx.rng().below(u64::from(self.members) - 1) as u32;
        let target = (self.primary_guess + offset) % self.members;
        let mode = if cx.rng().coin() { Mode::Coordinated } else { Mode::Force };
        let deadline_ns = cx.rng().log_uniform(millis(20), secs(1));
        let plan = HandoverPlan { primary: self.primary_guess, target, mode, deadline_ns };
        cx.sometimes(match mode {
            Mode::Coordinated => "handover-coordinated",
            Mode::Force => "handover-forced",
        });
        self.drive(cx, Input::Start(plan));
    }

    fn drive(&mut self, cx: &mut Context<'_, ClusterNode>, input: Input) {
        let current = self.coordinator.current();
        let mut out = Vec::new();
        self.coordinator.handle(cx.now_local_ns(), input, &mut out);
        for output in out {
            match output {
                Output::Send { to, request } => {
                    if let (Request::Promote { handover, term }, Some((_, plan))) =
                        (&request, current.or(self.coordinator.current()))
                    {
                        let (handover, term) = (*handover, *term);
                        let first = !self.events.iter().any(|e| {
                            matches!(e, CoordinatorEvent::Promoting { handover: h, .. } if *h == handover)
                        });
                        if first {
                            self.events.push(CoordinatorEvent::Promoting { handover, term, plan });
                        }
                    }
                    cx.send(to, ClusterMsg::Request(request));
                }
                Output::SetTimer { after_local_ns, timer } => {
                    self.next_timer += 1;
                    self.timers.push((self.next_timer, timer));
                    cx.set_timer(after_local_ns, self.next_timer << 1 | 1);
                }
                Output::Done(result) => self.finished(cx, current, result),
                Output::Action(action) => cx.action(super::ClusterAction::Failover(action)),
            }
        }
    }

    fn finished(
        &mut self,
        cx: &mut Context<'_, ClusterNode>,
        current: Option<(u64, HandoverPlan)>,
        result: HandoverResult,
    ) {
        let Some((handover, plan)) = current else { return }; // `Busy`: nothing started
        self.primary_guess = match &result {
            HandoverResult::HandedOver { skipped, .. } => {
                cx.sometimes(if *skipped > 0 {
                    "handover-skipped-writes"
                } else {
                    "handover-done"
                });
                plan.target
            }
            HandoverResult::PromotionUnconfirmed { .. } => plan.target,
            HandoverResult::NotPrimary { leader_hint: Some(hint), .. } => *hint,
            HandoverResult::NotPrimary { leader_hint: None, .. } => {
                cx.rng().below(u64::from(self.members)) as NodeId
            }
            HandoverResult::CatchUpTimedOut { .. } => {
                cx.sometimes("handover-aborted");
                plan.primary
            }
            HandoverResult::ForceRefused { .. } => {
                cx.sometimes("force-refused");
                plan.primary // stepped down, yet its log is the longest: likely elected again
            }
            HandoverResult::Overtaken => {
                cx.sometimes("handover-overtaken");
                cx.rng().below(u64::from(self.members)) as NodeId
            }
            HandoverResult::Abandoned { .. } | HandoverResult::Busy => plan.primary,
        };
        self.events.push(CoordinatorEvent::Done { handover, result });
    }
}
