//! The kernel's semantics end to end, through its public API: a scripted probe node logs what
//! it observes (with the true time, derived from its perfect clock) and each test states its
//! fault schedule like a script.

use sim::clock::LOCAL_EPOCH_NS;
use sim::faults::{Fault, FaultKind, FaultPlan, ScheduledFault};
use sim::network::{Partition, STORE};
use sim::rng::Ratio;
use sim::storage::{StorageError, StorageOp, StorageReply};
use sim::time::{millis, secs};
use sim::{
    Context, Node, NodeId, Outcome, RequestId, RunLimits, Scenario, Simulation, View, Violation,
};

/// What a probe observed.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seen {
    Boot { records: Vec<u64>, torn: bool },
    Timer(u64),
    Msg { from: NodeId, value: u64 },
    Storage(StorageReply<u64>),
    Synced(usize),
}

type Script = fn(&mut Context<'_, Probe>, &Seen);

struct Probe {
    script: Script,
    /// (true time in ns, local clock reading, what)
    log: Vec<(u64, u64, Seen)>,
}

impl Probe {
    fn observe(&mut self, cx: &mut Context<'_, Probe>, seen: Seen) {
        let local = cx.now_local_ns();
        (self.script)(cx, &seen);
        self.log.push((local.saturating_sub(LOCAL_EPOCH_NS), local, seen));
    }
}

impl Node for Probe {
    type Msg = u64;
    type Value = u64;
    type Record = u64;
    fn on_message(&mut self, cx: &mut Context<'_, Self>, from: NodeId, value: u64) {
        self.observe(cx, Seen::Msg { from, value });
    }
    fn on_timer(&mut self, cx: &mut Context<'_, Self>, tag: u64) {
        self.observe(cx, Seen::Timer(tag));
    }
    fn on_storage(&mut self, cx: &mut Context<'_, Self>, _: RequestId, reply: StorageReply<u64>) {
        self.observe(cx, Seen::Storage(reply));
    }
    fn on_disk_synced(&mut self, cx: &mut Context<'_, Self>, durable_len: usize) {
        self.observe(cx, Seen::Synced(durable_len));
    }
}

struct Scripted {
    nodes: u32,
    script: Script,
    /// A safety check that fails once true time passes this (for outcome tests).
    fail_after_ns: Option<u64>,
}

impl Scenario for Scripted {
    type Node = Probe;
    fn node_count(&self) -> u32 {
        self.nodes
    }
    fn boot(&self, _id: NodeId, cx: &mut Context<'_, Probe>) -> Probe {
        let mut probe = Probe { script: self.script, log: Vec::new() };
        let records = cx.disk().records().to_vec();
        let torn = cx.disk().torn_tail();
        probe.observe(cx, Seen::Boot { records, torn });
        probe
    }
    fn check(&mut self, view: &View<'_, Probe>) -> Result<(), Violation> {
        match self.fail_after_ns {
            Some(limit) if view.now_ns() > limit => Err(Violation::new("Scripted", "time is up")),
            _ => Ok(()),
        }
    }
    fn converged(&mut self, _view: &View<'_, Probe>) -> Result<(), Violation> {
        Ok(())
    }
}

fn plan(schedule: Vec<(u64, Fault)>) -> FaultPlan {
    let schedule =
        schedule.into_iter().map(|(at_ns, fault)| ScheduledFault { at_ns, fault }).collect();
    FaultPlan { schedule, ..FaultPlan::default() }
}

fn limits() -> RunLimits {
    RunLimits { safety_ns: secs(2), liveness_ns: secs(1), ..RunLimits::default() }
}

fn simulation(nodes: u32, script: Script, plan: FaultPlan) -> Simulation<Scripted> {
    Simulation::new(Scripted { nodes, script, fail_after_ns: None }, 1, plan, limits(), false)
}

fn log(sim: &Simulation<Scripted>, id: NodeId) -> Vec<(u64, u64, Seen)> {
    sim.view().node(id).expect("node is up").log.clone()
}

/// Node 0 sends its tick number to every other node every 10 ms.
fn broadcaster(cx: &mut Context<'_, Probe>, seen: &Seen) {
    if cx.id() != 0 {
        return;
    }
    let tick = match seen {
        Seen::Boot { .. } => 0,
        Seen::Timer(tick) => *tick,
        _ => return,
    };
    for to in 1..cx.node_count() {
        cx.send(to, tick);
    }
    cx.set_timer(millis(10), tick + 1);
}

fn received(sim: &Simulation<Scripted>, id: NodeId) -> Vec<(u64, u64)> {
    log(sim, id)
        .into_iter()
        .filter_map(|(at, _, seen)| match seen {
            Seen::Msg { value, .. } => Some((value, at)),
            _ => None,
        })
        .collect()
}

fn ticks(sim: &Simulation<Scripted>, id: NodeId) -> Vec<u64> {
    received(sim, id).into_iter().map(|(tick, _)| tick).collect()
}

// Goal: a partition cuts exactly the pairs it names, for exactly its window. Method: isolate
// node 1 from 100 ms to 200 ms while node 0 broadcasts every 10 ms (1 ms latency).
#[test]
fn a_partition_blocks_exactly_its_pairs_and_heals_on_time() {
    let isolate = Partition::IsolateOne { node: 1 };
    let fault = Fault::Partition { partition: isolate, duration_ns: millis(100) };
    let mut sim = simulation(3, broadcaster, plan(vec![(millis(100), fault)]));
    sim.run_until(millis(300));
    let to_one = ticks(&sim, 1);
    // Tick k leaves at k*10 ms and lands 1 ms later: ticks 10..=19 leave or land during the cut;
    // tick 20 leaves at the heal instant and gets through.
    assert!((0..10).chain(20..29).all(|tick| to_one.contains(&tick)), "{to_one:?}");
    assert!((10..20).all(|tick| !to_one.contains(&tick)), "{to_one:?}");
    assert!((0..29).all(|tick| ticks(&sim, 2).contains(&tick)), "node 2 was never cut off");
}

// Goal: a one-way partition cuts one direction only. Method: cut 0 -> 1 while each sends once.
#[test]
fn a_one_way_partition_cuts_one_direction() {
    fn script(cx: &mut Context<'_, Probe>, seen: &Seen) {
        match (cx.id(), seen) {
            (0, Seen::Boot { .. }) => cx.set_timer(millis(1), 0),
            (0, Seen::Timer(_)) => cx.send(1, 7),
            (1, Seen::Boot { .. }) => cx.set_timer(millis(2), 0),
            (1, Seen::Timer(_)) => cx.send(0, 8),
            _ => {}
        }
    }
    let cut = Partition::OneWay { from: vec![0], to: vec![1] };
    let fault = Fault::Partition { partition: cut, duration_ns: secs(1) };
    let mut sim = simulation(2, script, plan(vec![(0, fault)]));
    sim.run_until(millis(50));
    assert!(received(&sim, 1).is_empty(), "0 -> 1 is cut");
    assert_eq!(received(&sim, 0), vec![(8, millis(3))], "1 -> 0 still flows");
}

// Goal: a pause delays timers and deliveries to its end while the clock runs on. Method: node 0
// sets a 50 ms timer and node 1 sends it a message at 29 ms; node 0 is paused from 20 to 120 ms.
#[test]
fn a_pause_delays_timers_and_deliveries_but_not_the_clock() {
    fn script(cx: &mut Context<'_, Probe>, seen: &Seen) {
        match (cx.id(), seen) {
            (0, Seen::Boot { .. }) => cx.set_timer(millis(50), 5),
            (1, Seen::Boot { .. }) => cx.set_timer(millis(29), 0),
            (1, Seen::Timer(_)) => cx.send(0, 42),
            _ => {}
        }
    }
    let pause = Fault::Pause { node: 0, duration_ns: millis(100) };
    let mut sim = simulation(2, script, plan(vec![(millis(20), pause)]));
    sim.run_until(millis(500));
    let seen: Vec<(u64, Seen)> =
        log(&sim, 0).into_iter().skip(1).map(|(at, _, s)| (at, s)).collect();
    let expected = vec![
        (millis(120), Seen::Msg { from: 1, value: 42 }), // landed at 30 ms, waited
        (millis(120), Seen::Timer(5)),                   // due at 50 ms, waited
    ];
    assert_eq!(seen, expected, "both wait for the resume, in the order they were due");
    let (_, local, _) = log(&sim, 0)[1].clone();
    assert_eq!(local, LOCAL_EPOCH_NS + millis(120), "the clock ran on through the pause");
}

/// Appends 1, 2, 3 and syncs; once synced appends 4 and 5 without syncing; sets a 50 ms timer.
fn writer(cx: &mut Context<'_, Probe>, seen: &Seen) {
    match seen {
        Seen::Boot { records, .. } if records.is_empty() => {
            for record in 1..=3 {
                cx.disk().append(record);
            }
            cx.sync_disk();
            cx.set_timer(millis(50), 9);
        }
        Seen::Synced(3) => {
            cx.disk().append(4);
            cx.disk().append(5);
        }
        _ => {}
    }
}

// Goal: a crash loses exactly the unsynced tail and all volatile state; durable state survives
// the restart; the old incarnation's timers never fire. Method: crash node 0 at 1 ms (after the
// 100 us sync of 1..3, before any sync of 4 and 5) for 5 ms.
#[test]
fn a_crash_drops_exactly_the_unsynced_tail() {
    let crash = Fault::Crash { node: 0, down_ns: millis(5) };
    let mut sim = simulation(1, writer, plan(vec![(millis(1), crash)]));
    sim.run_until(millis(200));
    let log = log(&sim, 0);
    assert_eq!(log[0].2, Seen::Boot { records: vec![1, 2, 3], torn: false });
    assert_eq!(log[0].0, millis(6), "restarted when the downtime ended");
    assert!(!log.iter().any(|(_, _, s)| *s == Seen::Timer(9)), "the old timer died with it");
    assert_eq!(sim.view().disk(0).records(), &[1, 2, 3]);
}

// Goal: a torn write is reported to recovery. Method: the same crash with torn writes certain.
#[test]
fn a_torn_last_write_is_reported_at_boot() {
    let crash = Fault::Crash { node: 0, down_ns: millis(5) };
    let mut faults = plan(vec![(millis(1), crash)]);
    faults.disk.torn_write_ratio = Ratio::new(1, 1);
    let mut sim = simulation(1, writer, faults);
    sim.run_until(millis(20));
    assert_eq!(log(&sim, 0)[0].2, Seen::Boot { records: vec![1, 2, 3], torn: true });
}

// Goal: messages to a crashed node vanish. Method: crash node 1 from 100 to 200 ms under the
// broadcaster: no tick that lands in that window is ever delivered, later ones are.
#[test]
fn messages_to_a_crashed_node_vanish() {
    let crash = Fault::Crash { node: 1, down_ns: millis(100) };
    let mut sim = simulation(2, broadcaster, plan(vec![(millis(100), crash)]));
    sim.run_until(millis(300));
    let ticks = ticks(&sim, 1);
    assert_eq!(ticks.first(), Some(&20), "the new incarnation hears only later ticks: {ticks:?}");
}

fn put_once(cx: &mut Context<'_, Probe>, seen: &Seen) {
    if let Seen::Boot { .. } = seen {
        cx.storage(StorageOp::PutIfAbsent { key: "k".into(), value: 7 });
    }
}

fn storage_replies(sim: &Simulation<Scripted>) -> Vec<(u64, StorageReply<u64>)> {
    log(sim, 0)
        .into_iter()
        .filter_map(|(at, _, s)| if let Seen::Storage(r) = s { Some((at, r)) } else { None })
        .collect()
}

// Goal: an ambiguous write really applied although its caller saw a timeout.
#[test]
fn an_ambiguous_write_applies_but_reports_a_timeout() {
    let mut faults = FaultPlan::default();
    faults.storage.ambiguous_ratio = Ratio::new(1, 1);
    let mut sim = simulation(1, put_once, faults);
    sim.run_until(secs(2));
    let timeout = FaultPlan::default().storage.timeout_ns;
    assert_eq!(storage_replies(&sim), vec![(timeout, StorageReply::Failed(StorageError::Timeout))]);
    assert_eq!(sim.view().store().get("k"), Some(&(7, 1)), "yet the write applied");
}

// Goal: outages and transient errors refuse without applying; a node cut off from the store
// times out exactly at its deadline and nothing applies.
#[test]
fn refusals_apply_nothing_and_a_cut_off_node_times_out_on_time() {
    let outage = plan(vec![(0, Fault::StoreOutage { duration_ns: secs(1) })]);
    let mut sim = simulation(1, put_once, outage);
    sim.run_until(secs(2));
    assert_eq!(storage_replies(&sim)[0].1, StorageReply::Failed(StorageError::Unavailable));
    assert_eq!(sim.view().store().get("k"), None);

    let mut transient = FaultPlan::default();
    transient.storage.transient_error_ratio = Ratio::new(1, 1);
    let mut sim = simulation(1, put_once, transient);
    sim.run_until(secs(2));
    assert_eq!(storage_replies(&sim)[0].1, StorageReply::Failed(StorageError::Transient));
    assert_eq!(sim.view().store().get("k"), None);

    let isolate_store = Partition::IsolateOne { node: STORE };
    let cut = Fault::Partition { partition: isolate_store, duration_ns: secs(5) };
    let mut sim = simulation(1, put_once, plan(vec![(0, cut)]));
    sim.run_until(secs(2));
    let timeout = FaultPlan::default().storage.timeout_ns;
    assert_eq!(storage_replies(&sim), vec![(timeout, StorageReply::Failed(StorageError::Timeout))]);
    assert_eq!(sim.view().store().get("k"), None);
}

// Goal: compare-and-swap under interleaved writers: exactly one create wins.
#[test]
fn exactly_one_of_two_racing_creates_wins() {
    let mut sim = simulation(2, put_once, FaultPlan::default());
    sim.run_until(secs(2));
    let replies: Vec<StorageReply<u64>> = (0..2)
        .flat_map(|id| log(&sim, id))
        .filter_map(|(_, _, s)| if let Seen::Storage(r) = s { Some(r) } else { None })
        .collect();
    let wins = replies.iter().filter(|r| matches!(r, StorageReply::Written { .. })).count();
    let losses = replies.iter().filter(|r| **r == StorageReply::ConditionFailed).count();
    assert_eq!((wins, losses), (1, 1), "{replies:?}");
}

// Goal: a clock jump moves readings by exactly its delta and does not move a set timer.
#[test]
fn a_clock_jump_moves_readings_not_timers() {
    fn script(cx: &mut Context<'_, Probe>, seen: &Seen) {
        if let Seen::Boot { .. } = seen {
            cx.set_timer(millis(30), 1);
        }
    }
    let jump = Fault::ClockJump { node: 0, delta_ns: -(secs(5) as i64) };
    let mut sim = simulation(1, script, plan(vec![(millis(10), jump)]));
    sim.run_until(millis(100));
    let (_, local, seen) = log(&sim, 0)[1].clone();
    assert_eq!(seen, Seen::Timer(1));
    assert_eq!(local, LOCAL_EPOCH_NS + millis(30) - secs(5), "fired at true 30 ms, 5 s behind");
}

// Goal: same seed, same run; different seeds, different runs. Method: a lossy, jittery network
// under the broadcaster, hashed over 20 seeds twice.
#[test]
fn the_trace_hash_is_a_function_of_the_seed() {
    let hash = |seed| {
        let mut faults = FaultPlan::default();
        faults.network.latency_ns_max = millis(5);
        faults.network.drop_ratio = Ratio::per_10k(1_000);
        let limits = RunLimits { safety_ns: secs(1), liveness_ns: millis(10), ..limits() };
        let scenario = Scripted { nodes: 3, script: broadcaster, fail_after_ns: None };
        let report = Simulation::new(scenario, seed, faults, limits, false).run();
        (report.trace_hash, report.steps)
    };
    let first: Vec<_> = (0..20).map(hash).collect();
    assert_eq!(first, (0..20).map(hash).collect::<Vec<_>>());
    let distinct: std::collections::BTreeSet<u64> = first.iter().map(|(h, _)| *h).collect();
    assert_eq!(distinct.len(), 20);
}

// Goal: outcomes are distinct and bounds are reported, not hung on.
#[test]
fn safety_and_bounds_end_runs_as_their_own_outcomes() {
    let failing = Scripted { nodes: 2, script: broadcaster, fail_after_ns: Some(millis(55)) };
    let report = Simulation::new(failing, 1, FaultPlan::default(), limits(), false).run();
    assert_eq!(report.outcome, Outcome::Safety(Violation::new("Scripted", "time is up")));
    assert!(report.sim_time_ns > millis(55) && report.sim_time_ns <= millis(61), "stopped at once");

    let endless = Scripted { nodes: 2, script: broadcaster, fail_after_ns: None };
    let tight = RunLimits { steps_max: 100, ..limits() };
    let report = Simulation::new(endless, 1, FaultPlan::default(), tight, false).run();
    assert!(matches!(report.outcome, Outcome::BoundExceeded { .. }), "{:?}", report.outcome);
    assert_eq!(report.steps, 100);

    let flood = Scripted { nodes: 12, script: broadcaster, fail_after_ns: None };
    let small_queue = RunLimits { queue_len_max: 5, ..limits() };
    let report = Simulation::new(flood, 1, FaultPlan::default(), small_queue, false).run();
    assert!(matches!(&report.outcome, Outcome::BoundExceeded { bound } if bound.contains("queue")));
}

// Goal: faults that fired are counted (coverage), and only those.
#[test]
fn fired_faults_are_counted() {
    let crash = Fault::Crash { node: 1, down_ns: millis(5) };
    let report = simulation(2, broadcaster, plan(vec![(millis(10), crash)])).run();
    assert_eq!(report.coverage.faults.get(&FaultKind::Crash), Some(&1));
    assert_eq!(report.coverage.faults.get(&FaultKind::Partition), None);
}
