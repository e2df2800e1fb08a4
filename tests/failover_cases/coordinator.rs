//! The coordinator's cases, driven input by input: primary n0, target n1, frozen in term 3 at
//! frontier 10, retry every 100 ms, catch-up deadline 1 s, other steps given up after 2 s.

use model::failover::*;
use model::replication::LogPosition;
use model::NodeId;

const MS: u64 = 1_000_000;
const PRIMARY: NodeId = 0;
const TARGET: NodeId = 1;

struct Driver {
    coordinator: Coordinator,
    now: u64,
    sent: Vec<(NodeId, Request)>,
    timers: Vec<(u64, FailoverTimer)>,
    done: Option<HandoverResult>,
    /// The spec actions declared, by name, in order.
    actions: Vec<&'static str>,
}

impl Driver {
    fn new(canary: Option<FailoverCanary>) -> Driver {
        let config = CoordinatorConfig {
            retry_ns: 100 * MS,
            step_timeout_ns: 2_000 * MS,
            incarnation: 0,
            canary,
        };
        let coordinator = Coordinator::new(config);
        Driver { coordinator, now: 0, sent: vec![], timers: vec![], done: None, actions: vec![] }
    }

    fn feed(&mut self, input: Input) {
        let mut out = Vec::new();
        self.coordinator.handle(self.now, input, &mut out);
        for output in out {
            match output {
                Output::Send { to, request } => self.sent.push((to, request)),
                Output::SetTimer { after_local_ns, timer } => {
                    self.timers.push((self.now + after_local_ns, timer))
                }
                Output::Done(result) => self.done = Some(result),
                Output::Action(action) => self.actions.push(action.name()),
            }
        }
    }

    fn start(&mut self, mode: Mode) {
        let plan = HandoverPlan { primary: PRIMARY, target: TARGET, mode, deadline_ns: 1_000 * MS };
        self.feed(Input::Start(plan));
    }

    fn reply(&mut self, from: NodeId, reply: Reply) {
        self.feed(Input::Reply { from, reply });
    }

    /// Advances to `at` ms, firing every timer due by then in order.
    fn advance_to(&mut self, at_ms: u64) {
        loop {
            self.timers.sort_by_key(|(at, _)| *at);
            match self.timers.first() {
                Some((at, _)) if *at <= at_ms * MS => {
                    let (at, timer) = self.timers.remove(0);
                    self.now = at;
                    self.feed(Input::Timer(timer));
                }
                _ => break,
            }
        }
        self.now = at_ms * MS;
    }

    /// Freeze answered: term 3, frontier 10.
    fn frozen(&mut self) {
        self.reply(PRIMARY, Reply::Frontier { handover: 1, term: 3, frontier: at(10) });
    }

    /// The target holds the primary's log durably up to `index`.
    fn progress(&mut self, index: u64) {
        self.reply(TARGET, Reply::Progress { handover: 1, durable: at(index) });
    }

    /// Demotion and promotion answered, for a handover in `term`; the target led from `held`.
    fn complete(&mut self, term: u64, held: u64) {
        self.reply(PRIMARY, Reply::Demoted { handover: 1, committed: Some(0) });
        self.reply(TARGET, Reply::Promoted { handover: 1, term, led_from: at(held) });
    }

    fn count(&self, wanted: fn(&Request) -> bool) -> usize {
        self.sent.iter().filter(|(_, request)| wanted(request)).count()
    }
}

/// Position `index` of the primary's term 3.
fn at(index: u64) -> LogPosition {
    LogPosition { term: 3, index }
}

fn promotes(request: &Request) -> bool {
    matches!(request, Request::Promote { .. })
}

fn handed_over(frontier: u64, reached: u64, skipped: u64, waited_ms: u64) -> HandoverResult {
    let waited_ns = waited_ms * MS;
    HandoverResult::HandedOver { term: 4, frontier, reached, skipped, waited_ns }
}

#[test]
fn fast_path_a_caught_up_target_is_handed_over_without_waiting() {
    let mut d = Driver::new(None);
    d.start(Mode::Coordinated);
    assert_eq!(d.sent, vec![(PRIMARY, Request::Freeze { handover: 1 })]);
    d.frozen();
    assert_eq!(d.sent.last(), Some(&(TARGET, Request::QueryProgress { handover: 1 })));
    d.progress(10);
    let demote = Request::Demote { handover: 1, new_primary: TARGET, term: 4 };
    assert_eq!(d.sent.last(), Some(&(PRIMARY, demote)), "the old primary steps down first");
    assert_eq!(d.count(promotes), 0);
    d.reply(PRIMARY, Reply::Demoted { handover: 1, committed: Some(0) });
    assert_eq!(d.sent.last(), Some(&(TARGET, Request::Promote { handover: 1, term: 4 })));
    d.reply(TARGET, Reply::Promoted { handover: 1, term: 4, led_from: at(10) });
    assert_eq!(d.done, Some(handed_over(10, 10, 0, 0)));
    assert!(!d.coordinator.busy());
    // Each step is declared as the spec action it takes (Failover.tla), in order.
    let steps = ["StartHandover", "CatchUp", "Progress", "Demote", "Promote", "HandedOver"];
    assert_eq!(d.actions, steps);
}

#[test]
fn wait_then_hand_over_polls_until_the_frontier_is_covered() {
    let mut d = Driver::new(None);
    d.start(Mode::Coordinated);
    d.frozen();
    d.progress(7);
    assert_eq!(d.count(promotes), 0);
    d.advance_to(100);
    assert_eq!(d.count(|r| matches!(r, Request::QueryProgress { .. })), 2, "polled again");
    d.progress(10);
    d.complete(4, 10);
    assert_eq!(d.done, Some(handed_over(10, 10, 0, 100)));
}

#[test]
fn abort_and_resume_at_the_deadline_in_coordinated_mode() {
    let mut d = Driver::new(None);
    d.start(Mode::Coordinated);
    d.frozen();
    d.progress(7);
    d.advance_to(1_000);
    assert_eq!(d.sent.last(), Some(&(PRIMARY, Request::Resume { handover: 1 })));
    d.reply(PRIMARY, Reply::Resumed { handover: 1 });
    let waited_ns = 1_000 * MS;
    assert_eq!(
        d.done,
        Some(HandoverResult::CatchUpTimedOut { frontier: 10, reached: 7, waited_ns })
    );
    assert_eq!(d.count(promotes), 0, "the target is left alone");
}

#[test]
fn force_hands_over_at_the_deadline_and_reports_the_skipped_range() {
    let mut d = Driver::new(None);
    d.start(Mode::Force);
    d.frozen();
    d.progress(7);
    d.advance_to(1_000);
    d.complete(4, 7);
    assert_eq!(d.count(promotes), 1);
    let result = handed_over(10, 7, 3, 1_000);
    assert_eq!(result.to_string(), "forced over in term 4: skipped 3 writes (8 to 10)");
    assert_eq!(d.done, Some(result));
}

#[test]
fn force_fast_path_skips_nothing() {
    let mut d = Driver::new(None);
    d.start(Mode::Force);
    d.frozen();
    d.progress(10);
    d.complete(4, 10);
    assert_eq!(d.done, Some(handed_over(10, 10, 0, 0)));
}

#[test]
fn force_that_catches_up_in_time_skips_nothing_and_ignores_the_deadline() {
    let mut d = Driver::new(None);
    d.start(Mode::Force);
    d.frozen();
    d.progress(7);
    d.advance_to(300);
    d.progress(10);
    d.complete(4, 10);
    assert_eq!(d.done, Some(handed_over(10, 10, 0, 300)));
    d.done = None;
    d.advance_to(2_000);
    assert_eq!((d.done.clone(), d.count(promotes)), (None, 1), "the old deadline does nothing");
}

#[test]
fn lost_requests_are_asked_again_and_stale_answers_ignored() {
    let mut d = Driver::new(None);
    d.start(Mode::Coordinated);
    d.advance_to(250); // the freeze (or its answer) was lost twice
    assert_eq!(d.count(|r| matches!(r, Request::Freeze { .. })), 3);
    let frontier = LogPosition { term: 9, index: 99 };
    d.reply(PRIMARY, Reply::Frontier { handover: 0, term: 9, frontier }); // another handover
    d.reply(TARGET, Reply::Frontier { handover: 1, term: 9, frontier }); // the wrong member
    d.progress(10); // not what this step waits for
    assert_eq!(d.count(|r| matches!(r, Request::QueryProgress { .. })), 0);
    d.frozen();
    d.frozen(); // a duplicate
    d.progress(10);
    d.reply(PRIMARY, Reply::Demoted { handover: 1, committed: Some(0) });
    d.reply(TARGET, Reply::Promoted { handover: 1, term: 3, led_from: at(10) }); // not asked for
    assert!(d.done.is_none());
    d.complete(4, 10);
    assert_eq!(d.done, Some(handed_over(10, 10, 0, 0)));
    d.feed(Input::Start(HandoverPlan {
        primary: TARGET,
        target: PRIMARY,
        mode: Mode::Force,
        deadline_ns: 0,
    }));
    assert!(d.coordinator.busy(), "a second handover may start once the first is done");
    d.feed(Input::Start(HandoverPlan {
        primary: TARGET,
        target: PRIMARY,
        mode: Mode::Force,
        deadline_ns: 0,
    }));
    assert_eq!(d.done, Some(HandoverResult::Busy));
}

/// Runs a force handover that reaches 7 of 10 by the deadline under `canary`.
fn forced_short(canary: Option<FailoverCanary>) -> Driver {
    let mut d = Driver::new(canary);
    d.start(Mode::Force);
    d.frozen();
    d.progress(7);
    d.advance_to(1_000);
    let term = if canary == Some(FailoverCanary::NoTermBump) { 3 } else { 4 };
    d.complete(term, 7);
    d
}

#[test]
fn each_canary_changes_exactly_its_behaviour() {
    let normal = forced_short(None);
    assert_eq!(normal.done, Some(handed_over(10, 7, 3, 1_000)));

    let d = forced_short(Some(FailoverCanary::NoFreeze));
    assert_eq!(d.sent[0], (PRIMARY, Request::ReadFrontier { handover: 1 }));
    assert_eq!((&d.sent[1..], &d.done), (&normal.sent[1..], &normal.done));

    let d = forced_short(Some(FailoverCanary::NoTermBump));
    assert!(d.sent.contains(&(TARGET, Request::Promote { handover: 1, term: 3 })));

    let d = forced_short(Some(FailoverCanary::UnderReportSkipped));
    assert_eq!(d.done, Some(handed_over(10, 7, 2, 1_000)));

    let mut d = Driver::new(Some(FailoverCanary::OldPrimaryNotDemoted));
    d.start(Mode::Force);
    d.frozen();
    d.progress(10);
    assert_eq!(d.sent.last(), Some(&(TARGET, Request::Promote { handover: 1, term: 4 })));
    d.reply(TARGET, Reply::Promoted { handover: 1, term: 4, led_from: at(10) });
    assert_eq!(d.done, Some(handed_over(10, 10, 0, 0)));
    assert_eq!(d.count(|r| matches!(r, Request::Demote { .. })), 0);

    let mut d = Driver::new(Some(FailoverCanary::CommitBeforeFrontier));
    d.start(Mode::Coordinated);
    d.frozen();
    d.progress(7);
    d.complete(4, 7);
    assert_eq!(d.done, Some(handed_over(10, 7, 0, 0)), "handed over short, reporting nothing");

    let mut d = Driver::new(Some(FailoverCanary::PromoteBeforeDemoted));
    d.start(Mode::Coordinated);
    d.frozen();
    d.progress(10);
    let demote = (PRIMARY, Request::Demote { handover: 1, new_primary: TARGET, term: 4 });
    let promote = (TARGET, Request::Promote { handover: 1, term: 4 });
    assert_eq!(d.sent[d.sent.len() - 2..], [demote, promote], "both leave at once");
    d.complete(4, 10);
    assert_eq!(d.done, Some(handed_over(10, 10, 0, 0)));
    // progress-from-working-log is the target's side: `model::replication`'s handover tests.
}

#[test]
fn canaries_have_unique_kebab_names_and_descriptions() {
    let mut names: Vec<&str> = FailoverCanary::ALL.iter().map(|c| c.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), FailoverCanary::ALL.len());
    assert!(FailoverCanary::ALL.iter().all(|c| !c.description().is_empty()));
}

#[test]
fn the_skipped_count_is_what_the_target_led_from_not_the_last_poll() {
    let mut d = Driver::new(None);
    d.start(Mode::Force);
    d.frozen();
    d.progress(7);
    d.advance_to(1_000);
    d.complete(4, 9); // two more entries landed between the last poll and the election
    assert_eq!(d.done, Some(handed_over(10, 9, 1, 1_000)));
}

#[test]
fn force_refuses_a_target_holding_nothing_of_the_primary_term() {
    let mut d = Driver::new(None);
    d.start(Mode::Force);
    d.frozen();
    d.reply(TARGET, Reply::Progress { handover: 1, durable: LogPosition { term: 2, index: 8 } });
    d.advance_to(1_000);
    assert_eq!(d.count(promotes), 0, "its log may have diverged: no skip count would be exact");
    d.reply(PRIMARY, Reply::Resumed { handover: 1 });
    let waited_ns = 1_000 * MS;
    assert_eq!(
        d.done,
        Some(HandoverResult::CatchUpTimedOut { frontier: 10, reached: 0, waited_ns }),
        "none of its 8 entries is surely the primary's"
    );
}

#[test]
fn a_member_that_is_not_the_primary_ends_the_handover() {
    let mut d = Driver::new(None);
    d.start(Mode::Coordinated);
    d.reply(PRIMARY, Reply::NotPrimary { handover: 1, leader_hint: Some(2) });
    let result = HandoverResult::NotPrimary { asked: PRIMARY, leader_hint: Some(2) };
    assert_eq!(result.to_string(), "node 0 is not the primary (it follows node 2)");
    assert_eq!(d.done, Some(result));
    assert!(!d.coordinator.busy());
}

#[test]
fn unanswered_steps_are_given_up_without_ever_promoting_twice() {
    let mut d = Driver::new(None);
    d.start(Mode::Coordinated);
    d.advance_to(2_000);
    assert_eq!(d.done, Some(HandoverResult::Abandoned { step: "freeze" }));
    assert_eq!(d.sent.last(), Some(&(PRIMARY, Request::Resume { handover: 1 })), "best effort");

    let mut d = Driver::new(None);
    d.start(Mode::Coordinated);
    d.frozen();
    d.progress(10);
    d.advance_to(2_000);
    assert_eq!(d.done, Some(HandoverResult::Abandoned { step: "demote" }));
    assert_eq!(d.count(promotes), 0, "the old primary may still lead: no promotion");

    let mut d = Driver::new(None);
    d.start(Mode::Force);
    d.frozen();
    d.progress(7);
    d.advance_to(1_000);
    d.reply(PRIMARY, Reply::Demoted { handover: 1, committed: Some(0) });
    d.advance_to(3_000);
    let unconfirmed =
        HandoverResult::PromotionUnconfirmed { term: 4, frontier: 10, reached: 7, skipped: 3 };
    assert_eq!(d.done, Some(unconfirmed));
    d.done = None;
    d.advance_to(10_000);
    assert_eq!(d.done, None, "no timer of a finished handover fires");
}

#[test]
fn a_new_incarnation_ignores_answers_to_the_old_one() {
    let config = CoordinatorConfig {
        retry_ns: 100 * MS,
        step_timeout_ns: 2_000 * MS,
        incarnation: 7,
        canary: None,
    };
    let mut coordinator = Coordinator::new(config);
    let plan = HandoverPlan { primary: PRIMARY, target: TARGET, mode: Mode::Force, deadline_ns: 0 };
    let mut out = Vec::new();
    coordinator.handle(0, Input::Start(plan), &mut out);
    let handover = (7 << 32) + 1;
    let freeze = Output::Send { to: PRIMARY, request: Request::Freeze { handover } };
    assert!(out.contains(&freeze), "{out:?}");
    out.clear();
    let stale = Reply::Frontier { handover: 1, term: 3, frontier: at(10) };
    coordinator.handle(0, Input::Reply { from: PRIMARY, reply: stale }, &mut out);
    assert!(out.is_empty(), "an answer to handover 1 of incarnation 0");
}

#[test]
fn force_refuses_a_target_lacking_committed_writes() {
    for (committed, promoted) in [(7, true), (8, false)] {
        let mut d = Driver::new(None);
        d.start(Mode::Force);
        d.frozen();
        d.progress(7);
        d.advance_to(1_000);
        d.reply(PRIMARY, Reply::Demoted { handover: 1, committed: Some(committed) });
        assert_eq!(d.count(promotes), usize::from(promoted), "committed {committed}");
        if !promoted {
            assert_eq!(d.done, Some(HandoverResult::ForceRefused { committed, reached: 7 }));
        }
    }
}

#[test]
fn a_primary_that_lost_its_lead_before_the_demotion_ends_the_handover_in_either_mode() {
    for mode in [Mode::Coordinated, Mode::Force] {
        let mut d = Driver::new(None);
        d.start(mode);
        d.frozen();
        d.progress(10);
        d.reply(PRIMARY, Reply::Demoted { handover: 1, committed: None });
        assert_eq!((d.count(promotes), d.done.clone()), (0, Some(HandoverResult::Overtaken)));
    }
}

#[test]
fn only_progress_in_the_primary_term_counts_towards_the_frontier() {
    let mut d = Driver::new(None);
    d.start(Mode::Coordinated);
    d.frozen();
    let newer = LogPosition { term: 4, index: 8 }; // a leader of a newer term rose meanwhile
    d.reply(TARGET, Reply::Progress { handover: 1, durable: newer });
    assert_eq!(d.count(|r| matches!(r, Request::Demote { .. })), 0, "not caught up");
    let older = LogPosition { term: 2, index: 12 }; // longer, but maybe diverged
    d.reply(TARGET, Reply::Progress { handover: 1, durable: older });
    assert_eq!(d.count(|r| matches!(r, Request::Demote { .. })), 0, "not caught up");
    d.progress(10);
    assert_eq!(d.count(|r| matches!(r, Request::Demote { .. })), 1);
}
