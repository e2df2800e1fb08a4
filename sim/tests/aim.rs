//! Faults aimed at moments, disks of their own speed, and durable promises, end to end through
//! the public API with the recording node of `common/`. Each test reads like a script.

mod common;

use common::*;
use sim::aim::{AimOptions, AimedMoment, AFTER_SEND, FSYNC_WINDOW};
use sim::faults::{FaultKind, FaultPlan};
use sim::rng::Ratio;
use sim::time::{millis, secs};
use sim::{Outcome, Simulation};

/// An aim that always strikes at `moment` (up to `strikes_max` times), crashing with `crash`
/// (else pausing), with short, fixed-ish downtimes.
fn aim_at(moment: &str, strikes_max: u32, crash: bool) -> FaultPlan {
    let aim = AimOptions {
        moments: vec![AimedMoment { name: moment.to_string(), ratio: Ratio::new(1, 1) }],
        strikes_max,
        targets: 2,
        crash_ratio: if crash { Ratio::new(1, 1) } else { Ratio::NEVER },
        down_ns_max: millis(5),
        pause_ns_max: millis(40),
        late_copy_ratio: Ratio::NEVER,
        late_copy_ns_max: 0,
        session_loss_ratio: Ratio::NEVER,
    };
    FaultPlan { aim, ..FaultPlan::default() }
}

/// Node 0 appends one record and asks for an fsync at boot, then idles.
fn append_and_sync() -> Script {
    script(|cx, obs| {
        if let (Obs::Boot { records, .. }, 0) = (obs, cx.id()) {
            if records.is_empty() {
                cx.disk().append(7);
                cx.sync_disk();
            }
        }
    })
}

// Goal: a strike in the fsync window lands after the write and before the fsync completes, so
// the write is lost. Method: fsync-window strikes always crash; the disk's fsync takes 5 ms.
#[test]
fn a_strike_in_the_fsync_window_loses_the_write_it_waited_on() {
    let mut plan = aim_at(FSYNC_WINDOW, 1, true);
    plan.disk.sync_latency_ns_min = millis(5);
    plan.disk.sync_latency_ns_max = millis(5);
    let mut sim = Simulation::new(Scripted::new(2, append_and_sync()), SEED, plan, limits(), false);
    sim.run_until(millis(100));
    // The log is the second incarnation's: it booted with nothing (the write was lost),
    // before the first fsync could have completed plus the longest downtime.
    let log = log(&sim, 0);
    let (booted_at, boot) = &log[0];
    assert_eq!(boot, &Obs::Boot { records: vec![], torn: false });
    assert!((clock_at(1)..clock_at(millis(10))).contains(booted_at), "{log:?}");
    assert_eq!(sim.view().disk(0).records(), &[7], "the reboot wrote it again");
    let report = sim.finish();
    assert_eq!(report.coverage.strikes.get(FSYNC_WINDOW), Some(&1));
    assert_eq!(report.coverage.faults.get(&FaultKind::AimedStrike), Some(&1));
    assert_eq!(report.coverage.faults.get(&FaultKind::Crash), Some(&1));
}

/// Node 0 sends tick 0 to node 1 at boot and then sets a 1 ms timer.
fn send_then_timer() -> Script {
    script(|cx, obs| {
        if let (Obs::Boot { .. }, 0) = (obs, cx.id()) {
            cx.send(1, 0);
            cx.set_timer(millis(1), 1);
        }
    })
}

// Goal: a strike after a send pauses the sender at once: what it sent still travels, its own
// events wait. Method: after-send strikes always pause (5 to 40 ms); the default network takes
// 1 ms.
#[test]
fn a_strike_after_a_send_pauses_the_sender_not_its_message() {
    let plan = aim_at(AFTER_SEND, 1, false);
    let mut sim = Simulation::new(Scripted::new(2, send_then_timer()), SEED, plan, limits(), false);
    sim.run_until(millis(100));
    assert_eq!(log(&sim, 1)[1], (clock_at(millis(1)), Obs::Msg { from: 0, value: 0 }));
    let (fired_at, _) = log(&sim, 0)[1].clone();
    assert_eq!(log(&sim, 0)[1].1, Obs::Timer(1));
    assert!(fired_at >= clock_at(millis(5)), "the 1 ms timer waited for the pause: {fired_at}");
    assert_eq!(sim.finish().coverage.strikes.get(AFTER_SEND), Some(&1));
}

// Goal: a strike may instead deliver the message just sent once more, late, and then leaves
// the node alone. Method: after-send strikes always make late copies of up to 50 ms; node 0 sends
// one message at boot.
#[test]
fn a_late_copy_delivers_the_message_again_after_the_original() {
    let mut plan = aim_at(AFTER_SEND, 1, true);
    plan.aim.late_copy_ratio = Ratio::new(1, 1);
    plan.aim.late_copy_ns_max = millis(50);
    let mut sim = Simulation::new(Scripted::new(2, send_then_timer()), SEED, plan, limits(), false);
    sim.run_until(millis(100));
    let got: Vec<(u64, Obs)> =
        log(&sim, 1).into_iter().filter(|(_, obs)| matches!(obs, Obs::Msg { .. })).collect();
    assert_eq!(got.len(), 2, "the original and its late copy: {got:?}");
    assert_eq!(got[0], (clock_at(millis(1)), Obs::Msg { from: 0, value: 0 }));
    assert!(got[1].0 > got[0].0 && got[1].1 == got[0].1, "{got:?}");
    assert_eq!(log(&sim, 0)[1], (clock_at(millis(1)), Obs::Timer(1)), "no crash, no pause");
    let report = sim.finish();
    assert_eq!(report.coverage.strikes.get(AFTER_SEND), Some(&1));
    assert_eq!(report.coverage.faults.get(&FaultKind::MessageDuplicate), Some(&1));
}

// Goal: a machine's moment strikes the node it names, within the budget. Method: node 1 marks
// `sync-requested` naming node 0 every 10 ms; strikes always crash, at most 2.
#[test]
fn a_moment_strikes_the_node_it_names_up_to_the_budget() {
    let marker = script(|cx, obs| {
        if cx.id() == 1 && matches!(obs, Obs::Boot { .. } | Obs::Timer(_)) {
            cx.moment_at("sync-requested", 0);
            cx.set_timer(millis(10), 0);
        }
    });
    let plan = aim_at("sync-requested", 2, true);
    let mut sim = Simulation::new(Scripted::new(2, marker), SEED, plan, limits(), false);
    sim.run_until(millis(200));
    let boots = |id| log(&sim, id).iter().filter(|(_, o)| matches!(o, Obs::Boot { .. })).count();
    assert_eq!((boots(0), boots(1)), (1, 1), "each log is its current incarnation's");
    let report = sim.finish();
    assert_eq!(report.coverage.strikes.get("sync-requested"), Some(&2), "the budget is 2");
    assert_eq!(report.coverage.faults.get(&FaultKind::Crash), Some(&2));
}

// Goal: no strike lands on a node outside the targets, nor at a moment not aimed at. Method:
// the aim targets node 0 only; node 1 sends, node 0 marks an unaimed moment.
#[test]
fn strikes_spare_nodes_and_moments_out_of_aim() {
    let busy = script(|cx, obs| {
        if matches!(obs, Obs::Boot { .. } | Obs::Timer(_)) {
            match cx.id() {
                0 => cx.moment("election"),
                _ => cx.send(0, 1),
            }
            cx.set_timer(millis(10), 0);
        }
    });
    let mut plan = aim_at(AFTER_SEND, 5, true);
    plan.aim.targets = 1;
    let report = Simulation::new(Scripted::new(2, busy), SEED, plan, limits(), false).run();
    assert!(report.coverage.strikes.is_empty(), "{:?}", report.coverage.strikes);
}

/// Every node asks for an fsync every 50 ms and logs when each completes.
fn syncing() -> Script {
    script(|cx, obs| match obs {
        Obs::Boot { .. } | Obs::Timer(_) => {
            cx.disk().append(1);
            cx.sync_disk();
            cx.set_timer(millis(50), 0);
        }
        _ => {}
    })
}

/// How long each of node `id`'s fsyncs took, ns (each asked at a multiple of 50 ms).
fn sync_latencies(sim: &Simulation<Scripted>, id: u32) -> Vec<u64> {
    let synced = log(sim, id).into_iter().filter(|(_, obs)| matches!(obs, Obs::Synced(_)));
    synced.map(|(at, _)| (at - clock_at(0)) % millis(50)).collect()
}

// Goal: with per-node speeds each node's fsyncs keep to a range of their own, from the plan's
// bounds; slow outliers go past it and are counted. Method: three nodes sync every 50 ms over
// 2 s, first without outliers, then with every fsync an outlier.
#[test]
fn each_disk_has_its_own_speed_and_outliers_go_past_it() {
    let mut plan = FaultPlan::default();
    plan.disk.sync_latency_ns_min = 10_000;
    plan.disk.sync_latency_ns_max = millis(20);
    plan.disk.per_node_latency = true;
    let mut sim = Simulation::new(Scripted::new(3, syncing()), SEED, plan.clone(), limits(), false);
    sim.run_until(secs(2));
    let highest: Vec<u64> =
        (0..3).map(|id| *sync_latencies(&sim, id).iter().max().unwrap()).collect();
    for id in 0..3 {
        let latencies = sync_latencies(&sim, id);
        assert!(latencies.len() >= 39, "{latencies:?}");
        let (low, high) = (latencies.iter().min().unwrap(), highest[id as usize]);
        assert!(*low >= 10_000 && high <= millis(20), "node {id}: {low}..{high}");
        assert!(*low >= high / 2 - 1, "node {id} keeps to its own range: {low}..{high}");
    }
    assert!(highest[0] != highest[1] || highest[1] != highest[2], "speeds differ: {highest:?}");
    plan.disk.slow_sync_ratio = Ratio::new(1, 1);
    plan.disk.slow_sync_ns_max = millis(45);
    let mut sim = Simulation::new(Scripted::new(3, syncing()), SEED, plan, limits(), false);
    sim.run_until(secs(2));
    let outliers = sync_latencies(&sim, 0);
    assert!(outliers.iter().all(|l| *l >= highest[0]), "{outliers:?} vs {}", highest[0]);
    assert!(sim.finish().coverage.faults.get(&FaultKind::SlowFsync).is_some_and(|n| *n >= 39));
}

// Goal: promises reach the scenario right after the step that made them, in order, and a
// broken one stops the run as safety. Method: node 0 promises its tick number every 10 ms.
#[test]
fn promises_are_checked_after_their_step_and_a_broken_one_is_safety() {
    let promising = || {
        script(|cx, obs| {
            let tick = match obs {
                Obs::Boot { .. } => 0,
                Obs::Timer(tick) => *tick,
                _ => return,
            };
            if cx.id() == 0 {
                cx.promise(tick);
                cx.set_timer(millis(10), tick + 1);
            }
        })
    };
    let mut sim = simulation(Scripted::new(2, promising()), FaultPlan::default());
    sim.run_until(millis(35));
    let made: Vec<(u32, u64)> = sim.scenario().promises.iter().map(|(_, n, p)| (*n, *p)).collect();
    assert_eq!(made, vec![(0, 0), (0, 1), (0, 2), (0, 3)], "boot's is checked at the first step");
    let steps: Vec<u64> = sim.scenario().promises.iter().map(|(step, _, _)| *step).collect();
    assert_eq!(steps, vec![1, 1, 2, 3], "boot's and the first tick's at step 1, then one a step");
    let mut broken = Scripted::new(2, promising());
    broken.broken_promise = Some(4);
    let report = simulation(broken, FaultPlan::default()).run();
    match report.outcome {
        Outcome::Safety(violation) => assert_eq!(violation.observed, "n0 broke 4"),
        other => panic!("{other:?}"),
    }
    assert_eq!(report.sim_time_ns, millis(40), "stopped at the step that broke it");
}
