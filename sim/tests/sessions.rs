//! Sessions and session-bound locks end to end, through the kernel's public API: who holds the
//! lock, and when the store ends a session by itself (a crash, a link cut past the keepalive, a
//! session-loss fault, an aimed strike), while a pause past the keepalive ends nothing. Each
//! test scripts its nodes: every node opens a session at boot and tries the lock every 10 ms.

use sim::faults::{Fault, FaultKind, FaultPlan, ScheduledFault};
use sim::network::{Partition, STORE};
use sim::rng::Ratio;
use sim::session::{SessionEnd, SessionId, SessionOp, SessionReply};
use sim::time::{millis, secs};
use sim::{Context, Node, NodeId, RequestId, RunLimits, Scenario, Simulation, View, Violation};

const LOCK: &str = "leader";
const TRY: u64 = 1;

/// A node that opens a session at boot and, once open, tries the lock every 10 ms; it reopens
/// when told its session is dead. It logs every reply with the true time it arrived.
struct Client {
    session: Option<SessionId>,
    replies: Vec<(u64, SessionReply<u32>)>,
}

impl Node for Client {
    type Msg = u64;
    type Value = u32;
    type Record = ();
    type Promise = ();
    type Action = ();
    fn on_message(&mut self, _: &mut Context<'_, Self>, _: NodeId, _: u64) {}
    fn on_timer(&mut self, cx: &mut Context<'_, Self>, _tag: u64) {
        match self.session {
            Some(session) => drop(cx.session(SessionOp::TryLock { session, lock: LOCK.into() })),
            None => drop(cx.session(SessionOp::Open)),
        }
        cx.set_timer(millis(10), TRY);
    }
    fn on_session(&mut self, cx: &mut Context<'_, Self>, _: RequestId, reply: SessionReply<u32>) {
        self.replies.push((cx.now_local_ns(), reply.clone()));
        match reply {
            SessionReply::Opened { session } => self.session = Some(session),
            SessionReply::SessionDead => self.session = None,
            _ => {}
        }
    }
}

struct Lockers {
    nodes: u32,
}

impl Scenario for Lockers {
    type Node = Client;
    fn node_count(&self) -> u32 {
        self.nodes
    }
    fn boot(&self, id: NodeId, cx: &mut Context<'_, Client>) -> Client {
        cx.set_timer(millis(1) + u64::from(id) * millis(3), TRY);
        Client { session: None, replies: Vec::new() }
    }
    fn check(&mut self, _: &View<'_, Client>) -> Result<(), Violation> {
        Ok(())
    }
    fn converged(&mut self, _: &View<'_, Client>) -> Result<(), Violation> {
        Ok(())
    }
}

fn simulation(nodes: u32, plan: FaultPlan) -> Simulation<Lockers> {
    let limits = RunLimits::phases(secs(3), secs(1));
    Simulation::new(Lockers { nodes }, 1, plan, limits, false)
}

fn with(schedule: Vec<(u64, Fault)>, keepalive_ns: u64) -> FaultPlan {
    let schedule = schedule.into_iter().map(|(at_ns, fault)| ScheduledFault { at_ns, fault });
    let mut plan = FaultPlan::default();
    plan.schedule = schedule.collect();
    plan.sessions.keepalive_ns = keepalive_ns;
    plan
}

/// The node whose live session holds the lock.
fn holder(sim: &Simulation<Lockers>) -> Option<NodeId> {
    let sessions = sim.view().sessions();
    sessions.holder(LOCK).map(|s| sessions.info(s).expect("a holder is a session").node)
}

/// How node `id`'s first session ended, and when.
fn first_end(sim: &Simulation<Lockers>) -> Option<(SessionEnd, u64)> {
    sim.view().sessions().info(1).and_then(|s| s.end)
}

// Goal: the lock belongs to one live session; a crash ends the holder's sessions and frees it at
// once. Method: nodes 0 and 1 try the lock every 10 ms; node 0 (first) crashes at 100 ms.
#[test]
fn a_crash_ends_the_holders_session_and_frees_its_lock() {
    let crash = Fault::Crash { node: 0, down_ns: secs(5) };
    let mut sim = simulation(2, with(vec![(millis(100), crash)], secs(10)));
    sim.run_until(millis(99));
    assert_eq!(holder(&sim), Some(0));
    let refused = sim
        .view()
        .node(1)
        .unwrap()
        .replies
        .iter()
        .any(|(_, r)| matches!(r, SessionReply::HeldBy { holder: 1 }));
    assert!(refused, "node 1 was told session 1 holds the lock");
    sim.run_until(millis(100));
    assert_eq!(first_end(&sim), Some((SessionEnd::Crashed, millis(100))));
    assert_eq!(holder(&sim), None, "freed at the crash, not later");
    sim.run_until(millis(150));
    assert_eq!(holder(&sim), Some(1));
}

// Goal: a cut longer than the keepalive ends the node's sessions exactly keepalive after the cut
// began; a shorter one ends nothing. Method: isolate node 0 (the holder) for 150 ms and then for
// 400 ms, with a 200 ms keepalive.
#[test]
fn a_cut_past_the_keepalive_ends_the_sessions_and_a_shorter_one_does_not() {
    let cut = |duration_ns| Fault::Partition {
        partition: Partition::Symmetric { side_a: vec![0], side_b: vec![STORE] },
        duration_ns,
    };
    let plan =
        with(vec![(millis(100), cut(millis(150))), (millis(500), cut(millis(400)))], millis(200));
    let mut sim = simulation(2, plan);
    sim.run_until(millis(499));
    assert_eq!(first_end(&sim), None, "a 150 ms cut is within the keepalive");
    assert_eq!(holder(&sim), Some(0));
    sim.run_until(millis(699));
    assert_eq!(holder(&sim), Some(0), "not before the keepalive runs out");
    sim.run_until(millis(700));
    assert_eq!(first_end(&sim), Some((SessionEnd::KeepaliveExpired, millis(700))));
    sim.run_until(millis(750));
    assert_eq!(holder(&sim), Some(1), "node 1 takes the freed lock");
    let report = sim.finish();
    assert_eq!(report.coverage.probes.get(sim::KEEPALIVE_EXPIRED), Some(&1));
}

// Goal: a one-way cut counts as a cut (keepalive probes go unanswered), and a pause longer than
// the keepalive ends nothing (the node's operating system answers the probes). Method: node 0
// holds; a pause of 1 s, then the store's replies to node 0 cut for 300 ms; keepalive 200 ms.
#[test]
fn a_one_way_cut_ends_the_sessions_and_a_pause_does_not() {
    let pause = Fault::Pause { node: 0, duration_ns: secs(1) };
    let one_way = Fault::Partition {
        partition: Partition::OneWay { from: vec![STORE], to: vec![0] },
        duration_ns: millis(300),
    };
    let mut sim =
        simulation(2, with(vec![(millis(100), pause), (millis(1_500), one_way)], millis(200)));
    sim.run_until(millis(1_499));
    assert_eq!(first_end(&sim), None);
    assert_eq!(holder(&sim), Some(0), "the paused holder kept its lock");
    sim.run_until(millis(1_700));
    assert_eq!(first_end(&sim), Some((SessionEnd::KeepaliveExpired, millis(1_700))));
}

// Goal: a session-loss fault ends the node's sessions and frees the lock, counts as fired, and is
// moot (not counted) on a node without sessions. Method: loss on node 0 at 100 ms; loss on node 1,
// which has not booted its session yet, at 0.5 ms.
#[test]
fn a_session_loss_ends_the_sessions_and_is_moot_without_any() {
    let plan = with(
        vec![
            (millis(1) / 2, Fault::SessionLoss { node: 1 }),
            (millis(100), Fault::SessionLoss { node: 0 }),
        ],
        secs(10),
    );
    let mut sim = simulation(2, plan);
    sim.run_until(millis(100));
    assert_eq!(first_end(&sim), Some((SessionEnd::Lost, millis(100))));
    sim.run_until(millis(200));
    let replies = &sim.view().node(0).unwrap().replies;
    assert!(replies.iter().any(|(_, r)| *r == SessionReply::SessionDead), "told it is dead");
    assert!(holder(&sim).is_some(), "someone holds the lock again");
    let report = sim.finish();
    assert_eq!(report.coverage.faults.get(&FaultKind::SessionLoss), Some(&1), "one was moot");
}

// Goal: an aimed strike can drop the target's sessions. Method: aim at every send with a certain
// session loss; node 0's first try triggers it.
#[test]
fn an_aimed_strike_can_drop_sessions() {
    let mut plan = with(vec![], secs(10));
    plan.aim.moments =
        vec![sim::aim::AimedMoment { name: sim::aim::AFTER_SEND.into(), ratio: Ratio::new(1, 1) }];
    plan.aim.strikes_max = 1;
    plan.aim.targets = 1;
    plan.aim.session_loss_ratio = Ratio::new(1, 1);
    let mut sim = simulation(1, plan);
    sim.run_until(millis(50));
    let report = sim.finish();
    assert_eq!(report.coverage.faults.get(&FaultKind::SessionLoss), None, "moot: no session yet");
    let mut plan = with(vec![], secs(10));
    plan.aim = report.plan.aim.clone();
    plan.aim.strikes_max = 2;
    let mut sim = simulation(1, plan);
    sim.run_until(millis(50));
    assert!(matches!(first_end(&sim), Some((SessionEnd::Lost, _))));
}

// Goal: a plan from outside names session faults and knobs only within range. Method: validate
// a session loss on a node the scenario lacks, a keepalive past an hour, and a session-loss
// ratio over one; each is one error naming the field.
#[test]
fn plan_checks_hold_session_faults_and_knobs_to_their_ranges() {
    use sim::plan_check::PlanBounds;
    let bounds = PlanBounds {
        scenario: "lockers",
        seed: 1,
        sizes: None,
        caps_writes: false,
        fault_targets: &|_, _| 2,
        moments: vec![sim::aim::AFTER_SEND],
        safety_ns: None,
        strangers: false,
    };
    let ok = with(vec![(millis(1), Fault::SessionLoss { node: 1 })], secs(1));
    assert_eq!(ok.validate(&bounds), Ok(()));
    let far = with(vec![(millis(1), Fault::SessionLoss { node: 2 })], secs(1));
    let error = far.validate(&bounds).unwrap_err();
    assert_eq!(error.field, "schedule[0].fault.session_loss.node", "{error}");
    let forever = with(vec![], secs(3_601));
    assert_eq!(forever.validate(&bounds).unwrap_err().field, "sessions.keepalive_ns");
    let mut over = with(vec![], secs(1));
    over.aim.session_loss_ratio = Ratio { numerator: 2, denominator: 1 };
    let error = over.validate(&bounds).unwrap_err();
    assert_eq!(error.field, "aim.session_loss_ratio.numerator", "{error}");
}

// Goal: a session gets its own keepalive: one opened while the link is still cut is not ended by
// the watch of the sessions before it. Method: the store's replies to node 0 are cut from 100 ms
// for 1 s, keepalive 200 ms; node 0 crashes at 150 ms and, back at 160 ms, opens session 3,
// which reaches the store at 162 ms: it lives until 362 ms, not 300 ms.
#[test]
fn a_session_opened_across_a_cut_gets_a_keepalive_of_its_own() {
    let one_way = Fault::Partition {
        partition: Partition::OneWay { from: vec![STORE], to: vec![0] },
        duration_ns: secs(1),
    };
    let crash = Fault::Crash { node: 0, down_ns: millis(10) };
    let plan = with(vec![(millis(100), one_way), (millis(150), crash)], millis(200));
    let mut sim = simulation(2, plan);
    sim.run_until(millis(361));
    let third = |sim: &Simulation<Lockers>| sim.view().sessions().info(3).copied();
    assert_eq!(third(&sim).map(|s| (s.node, s.end)), Some((0, None)));
    sim.run_until(millis(362));
    let ended = third(&sim).and_then(|s| s.end);
    assert_eq!(ended, Some((SessionEnd::KeepaliveExpired, millis(362))));
}
