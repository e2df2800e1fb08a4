//! The kernel's semantics end to end, through its public API only. Every test plugs in the same
//! recording node, `Rec` (`common/`), so a test can assert exactly what each node saw and when.
//! Faults are hand-written schedules, so each test reads like a script.

mod common;

use common::*;
use sim::faults::{Fault, FaultKind, FaultPlan};
use sim::network::{Partition, STORE};
use sim::rng::Ratio;
use sim::storage::{StorageError, StorageOp, StorageReply};
use sim::time::{millis, secs, MICROSECOND};
use sim::{NodeId, Outcome, Simulation, Violation};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

// ---------------------------------------------------------------------------------------------
// 1. Partitions.

/// Who delivered which tick to whom: (from, to) -> [(tick, receiver's clock reading)].
type Deliveries = BTreeMap<(NodeId, NodeId), Vec<(u64, u64)>>;

const PARTITION_BEGIN: u64 = millis(100) + 500 * MICROSECOND;
const PARTITION_END: u64 = PARTITION_BEGIN + millis(100);

/// Four gossiping nodes with `partition` active from 100.5 ms to 200.5 ms.
fn gossip_through(partition: Partition) -> Deliveries {
    let fault = Fault::Partition { partition, duration_ns: PARTITION_END - PARTITION_BEGIN };
    let mut sim = simulation(Scripted::new(4, gossip()), plan(vec![(PARTITION_BEGIN, fault)]));
    sim.run_until(secs(1));
    let mut seen = Deliveries::new();
    for to in 0..4 {
        for (at, obs) in log(&sim, to) {
            if let Obs::Msg { from, value } = obs {
                seen.entry((from, to)).or_default().push((value, at));
            }
        }
    }
    seen
}

/// What `gossip_through` delivers when exactly the pairs in `cut` are cut: every tick lands
/// 1 ms after it is sent, except ticks 10..=20 on a cut link (tick 10 is in flight when the cut
/// begins, 11..=20 are sent during it; 20 would land after the heal, but was sent into it).
fn expected(cut: &[(NodeId, NodeId)]) -> Deliveries {
    let mut deliveries = Deliveries::new();
    for from in 0..4 {
        for to in (0..4).filter(|&to| to != from) {
            let cut_off = |t: &u64| cut.contains(&(from, to)) && (10..=20).contains(t);
            let ticks = (0..GOSSIP_TICKS).filter(|t| !cut_off(t));
            let landed = ticks.map(|t| (t, clock_at(t * millis(10) + millis(1))));
            deliveries.insert((from, to), landed.collect());
        }
    }
    deliveries
}

// Goal: each partition kind cuts exactly the pairs it names, for exactly its window. Method: four
// nodes gossip every 10 ms under each kind; compare every pair's deliveries with the expectation.
#[test]
fn each_partition_kind_blocks_exactly_its_pairs_and_heals_on_time() {
    let cases = [
        (
            Partition::Symmetric { side_a: vec![0], side_b: vec![1, 2] },
            vec![(0, 1), (1, 0), (0, 2), (2, 0)],
        ),
        (Partition::OneWay { from: vec![0, 1], to: vec![3] }, vec![(0, 3), (1, 3)]),
        (Partition::IsolateOne { node: 2 }, vec![(2, 0), (2, 1), (2, 3), (0, 2), (1, 2), (3, 2)]),
        (
            Partition::Split { group: vec![0, 1] },
            vec![(0, 2), (0, 3), (1, 2), (1, 3), (2, 0), (3, 0), (2, 1), (3, 1)],
        ),
    ];
    for (partition, cut) in cases {
        assert_eq!(gossip_through(partition.clone()), expected(&cut), "{partition:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Pauses.

/// Node 0 sets timers for 15 ms and 50 ms; node 1 sends node 0 the tags of its timers at 29 ms,
/// 39 ms and `last_send_ns`.
fn pause_script(last_send_ns: u64) -> Script {
    script(move |cx, obs| match (cx.id(), obs) {
        (0, Obs::Boot { .. }) => {
            cx.set_timer(millis(15), 4);
            cx.set_timer(millis(50), 5);
        }
        (1, Obs::Boot { .. }) => {
            cx.set_timer(millis(29), 1);
            cx.set_timer(millis(39), 2);
            cx.set_timer(last_send_ns, 3);
        }
        (1, Obs::Timer(tag)) => cx.send(0, *tag),
        _ => {}
    })
}

// Goal: a pause holds timers and deliveries until it ends, in their order, while the clock runs
// on. Method: pause node 0 from 20 to 120 ms; two messages land and a timer falls due meanwhile.
#[test]
fn a_pause_delays_timers_and_deliveries_to_the_resume_in_order() {
    let pause = Fault::Pause { node: 0, duration_ns: millis(100) };
    let mut sim =
        simulation(Scripted::new(2, pause_script(millis(139))), plan(vec![(millis(20), pause)]));
    sim.run_until(millis(119));
    assert!(sim.view().is_paused(0));
    assert_eq!(log(&sim, 0).len(), 2, "nothing reaches a paused node: {:?}", log(&sim, 0));
    sim.run_until(secs(1));
    assert!(!sim.view().is_paused(0));
    let expected = vec![
        (clock_at(0), Obs::Boot { records: vec![], torn: false }),
        (clock_at(millis(15)), Obs::Timer(4)),
        (clock_at(millis(120)), Obs::Msg { from: 1, value: 1 }), // landed at 30 ms
        (clock_at(millis(120)), Obs::Msg { from: 1, value: 2 }), // landed at 40 ms
        (clock_at(millis(120)), Obs::Timer(5)),                  // due at 50 ms
        (clock_at(millis(140)), Obs::Msg { from: 1, value: 3 }), // after the pause: on time
    ];
    assert_eq!(log(&sim, 0), expected);
    let sender: Vec<u64> = log(&sim, 1).iter().skip(1).map(|(at, _)| *at).collect();
    let on_time = [millis(29), millis(39), millis(139)].map(clock_at);
    assert_eq!(sender, on_time, "the other node was never paused");
}

// Goal: events held by a pause keep their order even against an event due at the resume
// instant. Method: as above, but node 1's third message lands exactly at 120 ms.
#[test]
fn an_event_due_at_the_resume_instant_does_not_overtake_held_ones() {
    let pause = Fault::Pause { node: 0, duration_ns: millis(100) };
    let mut sim =
        simulation(Scripted::new(2, pause_script(millis(119))), plan(vec![(millis(20), pause)]));
    sim.run_until(secs(1));
    let order: Vec<Obs> = log(&sim, 0).into_iter().skip(2).map(|(_, obs)| obs).collect();
    let expected = vec![
        Obs::Msg { from: 1, value: 1 }, // landed at 30 ms
        Obs::Msg { from: 1, value: 2 }, // landed at 40 ms
        Obs::Timer(5),                  // due at 50 ms
        Obs::Msg { from: 1, value: 3 }, // landed at 120 ms
    ];
    assert_eq!(order, expected);
}

// ---------------------------------------------------------------------------------------------
// 3 and 4. Crashes, restarts and the disk.

/// Node 0 appends 1, 2, 3 and syncs (10 ms); once synced, appends 4 and 5 and syncs again. Its
/// first incarnation sets a 30 ms timer (tag 99); a later one discards a torn tail, appends 6,
/// syncs and sets a 20 ms timer (tag 7). Node 1 sends node 0 value 1 at 13 ms and 2 at 25 ms.
fn writer() -> Script {
    script(|cx, obs| match (cx.id(), obs) {
        (0, Obs::Boot { records, torn }) => {
            if *torn {
                cx.disk().discard_torn_tail();
            }
            if records.is_empty() {
                for record in 1..=3 {
                    cx.disk().append(record);
                }
                cx.sync_disk();
                cx.set_timer(millis(30), 99);
            } else {
                cx.disk().append(6);
                cx.sync_disk();
                cx.set_timer(millis(20), 7);
            }
        }
        (0, Obs::Synced(3)) => {
            cx.disk().append(4);
            cx.disk().append(5);
            cx.sync_disk();
        }
        (1, Obs::Boot { .. }) => {
            cx.set_timer(millis(13), 1);
            cx.set_timer(millis(25), 2);
        }
        (1, Obs::Timer(value)) => cx.send(0, *value),
        _ => {}
    })
}

/// Crashes node 0 for 5 ms at each of `crashes`; every fsync takes 10 ms.
fn writer_plan(crashes: &[u64]) -> FaultPlan {
    let crash = |at| (at, Fault::Crash { node: 0, down_ns: millis(5) });
    let mut plan = plan(crashes.iter().map(|&at| crash(at)).collect());
    plan.disk.sync_latency_ns_min = millis(10);
    plan.disk.sync_latency_ns_max = millis(10);
    plan
}

// Goal: a crash loses volatile state, unsynced records, timers, a sync in flight and messages
// sent meanwhile, and keeps synced records. Method: crash node 0 from 12 to 17 ms, after its
// first sync (10 ms) and before its second (due at 20 ms, after the restart).
#[test]
fn a_crash_keeps_exactly_the_synced_records_and_nothing_volatile() {
    let mut sim = simulation(Scripted::new(2, writer()), writer_plan(&[millis(12)]));
    sim.run_until(millis(10));
    assert_eq!(sim.view().disk(0).records(), &[1, 2, 3, 4, 5]);
    assert_eq!(sim.view().disk(0).synced_len(), 3);
    assert_eq!(log(&sim, 0).last(), Some(&(clock_at(millis(10)), Obs::Synced(3))));
    sim.run_until(millis(16));
    assert!(sim.view().node(0).is_none(), "down from 12 to 17 ms");
    sim.run_until(millis(100));
    let expected = vec![
        // The boot ran again, with only the synced records; the old log (volatile) is gone.
        (clock_at(millis(17)), Obs::Boot { records: vec![1, 2, 3], torn: false }),
        // The old incarnation's sync of 5 records landed at 20 ms and was ignored. Value 1
        // landed at 14 ms, while the node was down: it vanished.
        (clock_at(millis(26)), Obs::Msg { from: 1, value: 2 }),
        (clock_at(millis(27)), Obs::Synced(4)),
        // The new incarnation's timer fires; the old one's (due at 30 ms) never does.
        (clock_at(millis(37)), Obs::Timer(7)),
    ];
    assert_eq!(log(&sim, 0), expected);
    assert_eq!(sim.view().disk(0).records(), &[1, 2, 3, 6]);
    assert_eq!(sim.view().disk(0).synced_len(), 4);
}

// Goal: a torn write is reported at boot only when unsynced records tore, and is never handed
// back. Method: torn writes certain; crash at 12 ms (records 4, 5 unsynced), then at 50 ms (all
// synced).
#[test]
fn a_torn_write_is_reported_at_boot_and_not_returned() {
    let mut plan = writer_plan(&[millis(12), millis(50)]);
    plan.disk.torn_write_ratio = Ratio::new(1, 1);
    let mut sim = simulation(Scripted::new(2, writer()), plan);
    sim.run_until(millis(17));
    let boot = (clock_at(millis(17)), Obs::Boot { records: vec![1, 2, 3], torn: true });
    assert_eq!(log(&sim, 0), vec![boot]);
    assert!(!sim.view().disk(0).torn_tail(), "recovery discarded it");
    assert_eq!(sim.view().disk(0).records(), &[1, 2, 3, 6], "4 and 5 are gone, 6 follows 3");
    sim.run_until(millis(100));
    let clean = (clock_at(millis(55)), Obs::Boot { records: vec![1, 2, 3, 6], torn: false });
    assert_eq!(log(&sim, 0)[0], clean, "nothing was unsynced at 50 ms, so nothing tore");
    let report = sim.finish();
    assert_eq!(report.coverage.faults.get(&FaultKind::TornWrite), Some(&1));
    assert_eq!(report.coverage.faults.get(&FaultKind::Crash), Some(&2));
}

// Goal: the torn tail is reported "until the next append", as `Disk::crash` documents. Method:
// crash with two unsynced records and torn writes certain; recovery appends without discarding.
#[test]
fn an_append_after_a_torn_write_clears_the_torn_tail() {
    let appender = script(|cx, obs| {
        if let Obs::Boot { records, torn } = obs {
            let appends: &[u32] = if *torn { &[9] } else { &[1, 2] };
            for &record in appends.iter().filter(|_| records.is_empty()) {
                cx.disk().append(record);
            }
        }
    });
    let mut plan = plan(vec![(millis(1), Fault::Crash { node: 0, down_ns: millis(1) })]);
    plan.disk.torn_write_ratio = Ratio::new(1, 1);
    let mut sim = simulation(Scripted::new(1, appender), plan);
    sim.run_until(millis(10));
    assert_eq!(
        log(&sim, 0),
        vec![(clock_at(millis(2)), Obs::Boot { records: vec![], torn: true })]
    );
    assert_eq!(sim.view().disk(0).records(), &[9]);
    assert!(!sim.view().disk(0).torn_tail(), "record 9 was appended after the torn one");
}

// ---------------------------------------------------------------------------------------------
// 5. The object store.

/// Every node tries to create its own key `k<id>` = 100 + id at 10 ms and again at 200 ms.
fn put_twice() -> Script {
    script(|cx, obs| match obs {
        Obs::Boot { .. } => {
            cx.set_timer(millis(10), 0);
            cx.set_timer(millis(200), 1);
        }
        Obs::Timer(_) => {
            let (key, value) = (format!("k{}", cx.id()), 100 + cx.id());
            cx.storage(StorageOp::PutIfAbsent { key, value });
        }
        _ => {}
    })
}

// Goal: an ambiguous write applies on arrival yet its caller sees a timeout at its deadline.
// Method: ambiguous writes certain; node 0 creates k0 at 10 ms and again at 200 ms (store 1 ms
// away, timeout 1 s): both callers see timeouts, though the first applied and the second did not.
#[test]
fn an_ambiguous_write_applies_but_replies_timeout() {
    let mut plan = FaultPlan::default();
    plan.storage.ambiguous_ratio = Ratio::new(1, 1);
    let mut sim = simulation(Scripted::new(1, put_twice()), plan);
    sim.run_until(millis(11));
    assert_eq!(sim.view().store().get("k0"), Some(&(100, 1)), "applied when it arrived");
    sim.run_until(millis(10) + secs(1) - 1);
    assert_eq!(replies(&sim, 0), vec![], "no answer before the deadline");
    sim.run_until(secs(2));
    let timeout = StorageReply::Failed(StorageError::Timeout);
    let both = vec![(clock_at(millis(1_010)), timeout.clone()), (clock_at(millis(1_200)), timeout)];
    assert_eq!(replies(&sim, 0), both);
    assert_eq!(sim.view().store().get("k0"), Some(&(100, 1)), "the second create did not apply");
    assert_eq!(sim.finish().coverage.faults.get(&FaultKind::StorageAmbiguousWrite), Some(&2));
}

// Goal: an outage refuses without applying, and only during its window. Method: store outage from
// 5 to 105 ms; node 0 creates k0 at 10 ms (refused) and at 200 ms (applies).
#[test]
fn a_store_outage_refuses_and_applies_nothing_until_it_ends() {
    let outage = Fault::StoreOutage { duration_ns: millis(100) };
    let mut sim = simulation(Scripted::new(1, put_twice()), plan(vec![(millis(5), outage)]));
    sim.run_until(millis(100));
    let refused = StorageReply::Failed(StorageError::Unavailable);
    assert_eq!(replies(&sim, 0), vec![(clock_at(millis(12)), refused.clone())]);
    assert_eq!(sim.view().store().get("k0"), None);
    sim.run_until(secs(1));
    let written = StorageReply::Written { version: 1 };
    assert_eq!(
        replies(&sim, 0),
        vec![(clock_at(millis(12)), refused), (clock_at(millis(202)), written)]
    );
    assert_eq!(sim.view().store().get("k0"), Some(&(100, 1)));
}

// Goal: a transient error refuses without applying. Method: transient errors certain; node 0
// tries to create k0 twice.
#[test]
fn a_transient_error_refuses_and_applies_nothing() {
    let mut plan = FaultPlan::default();
    plan.storage.transient_error_ratio = Ratio::new(1, 1);
    let mut sim = simulation(Scripted::new(1, put_twice()), plan);
    sim.run_until(secs(1));
    let refused = StorageReply::Failed(StorageError::Transient);
    assert_eq!(
        replies(&sim, 0),
        vec![(clock_at(millis(12)), refused.clone()), (clock_at(millis(202)), refused)]
    );
    assert_eq!(sim.view().store().get("k0"), None);
    assert_eq!(sim.finish().coverage.faults.get(&FaultKind::StorageTransientError), Some(&2));
}

// Goal: a node cut off from the store times out exactly at request time + timeout and nothing
// applies; others are unaffected. Method: cut node 0 <-> STORE from 0 to 150 ms, timeout 300 ms.
#[test]
fn a_node_cut_off_from_the_store_times_out_on_time() {
    let cut = Partition::Symmetric { side_a: vec![0], side_b: vec![STORE] };
    let mut plan = plan(vec![(0, Fault::Partition { partition: cut, duration_ns: millis(150) })]);
    plan.storage.timeout_ns = millis(300);
    let mut sim = simulation(Scripted::new(2, put_twice()), plan);
    sim.run_until(millis(150));
    assert_eq!(sim.view().store().get("k0"), None, "the cut request never applied");
    sim.run_until(secs(1));
    let cut_off = vec![
        (clock_at(millis(202)), StorageReply::Written { version: 2 }), // asked after the heal
        (clock_at(millis(310)), StorageReply::Failed(StorageError::Timeout)), // asked at 10 ms
    ];
    assert_eq!(replies(&sim, 0), cut_off);
    let connected = vec![
        (clock_at(millis(12)), StorageReply::Written { version: 1 }),
        (clock_at(millis(202)), StorageReply::ConditionFailed),
    ];
    assert_eq!(replies(&sim, 1), connected);
    assert_eq!(sim.view().store().get("k0"), Some(&(100, 2)));
    assert_eq!(sim.view().store().get("k1"), Some(&(101, 1)));
}

// Goal: compare-and-swap under two racing writers: exactly one create wins. Method: both nodes
// create "k" at boot with store latency 1..5 ms, over 20 seeds; each winner must own the value.
#[test]
fn exactly_one_of_two_racing_creates_wins() {
    let racer = script(|cx, obs| {
        if let Obs::Boot { .. } = obs {
            cx.storage(StorageOp::PutIfAbsent { key: "k".into(), value: 100 + cx.id() });
        }
    });
    let mut winners = BTreeSet::new();
    for seed in 0..20 {
        let mut plan = FaultPlan::default();
        plan.storage.latency_ns_min = millis(1);
        plan.storage.latency_ns_max = millis(5);
        let scenario = Scripted::new(2, Rc::clone(&racer));
        let mut sim = Simulation::new(scenario, seed, plan, limits(), false);
        sim.run_until(secs(1));
        let outcomes: Vec<Vec<StorageReply<u32>>> = (0..2)
            .map(|id| replies(&sim, id).into_iter().map(|(_, reply)| reply).collect())
            .collect();
        let won = |id: usize| outcomes[id] == [StorageReply::Written { version: 1 }];
        let lost = |id: usize| outcomes[id] == [StorageReply::ConditionFailed];
        let winner = match (won(0) && lost(1), won(1) && lost(0)) {
            (true, false) => 0,
            (false, true) => 1,
            _ => panic!("seed {seed}: not exactly one winner: {outcomes:?}"),
        };
        assert_eq!(sim.view().store().get("k"), Some(&(100 + winner, 1)), "seed {seed}");
        winners.insert(winner);
    }
    assert_eq!(winners.len(), 2, "the race goes both ways over the seeds");
}

// ---------------------------------------------------------------------------------------------
// 6. Clocks.

// Goal: a clock jump moves one node's readings by exactly its delta and moves no timer. Method:
// node 0 jumps -5 s and node 1 +250 ms at 10 ms; each has timers at 5 ms and 30 ms.
#[test]
fn a_clock_jump_moves_readings_by_its_delta_but_not_timers() {
    let timers = script(|cx, obs| {
        if let Obs::Boot { .. } = obs {
            cx.set_timer(millis(5), 0);
            cx.set_timer(millis(30), 1);
        }
    });
    let back = Fault::ClockJump { node: 0, delta_ns: -(secs(5) as i64) };
    let ahead = Fault::ClockJump { node: 1, delta_ns: millis(250) as i64 };
    let mut sim =
        simulation(Scripted::new(3, timers), plan(vec![(millis(10), back), (millis(10), ahead)]));
    sim.run_until(millis(10));
    assert_eq!(sim.view().now_ns(), millis(10));
    assert_eq!(sim.view().local_ns(0), clock_at(millis(10)) - secs(5));
    assert_eq!(sim.view().local_ns(1), clock_at(millis(10)) + millis(250));
    assert_eq!(sim.view().local_ns(2), clock_at(millis(10)), "node 2's clock did not jump");
    sim.run_until(secs(1));
    // Every timer fires at its true time; only the readings at 30 ms differ.
    let at_30_ms =
        [clock_at(millis(30)) - secs(5), clock_at(millis(30)) + millis(250), clock_at(millis(30))];
    for (id, read) in at_30_ms.into_iter().enumerate() {
        let fired = vec![(clock_at(millis(5)), Obs::Timer(0)), (read, Obs::Timer(1))];
        assert_eq!(log(&sim, id as NodeId)[1..], fired, "node {id}");
    }
}

// Goal: a drifting clock's 100 ms timer fires at true time ceil(100 ms / (1 + drift)). Method:
// drift up to 10%, no offset; a 500 ms-each-way echo lands at true 1 s and reveals node 0's drift
// (its reading is 1 s + 1000 ns per ppm); a second, identical run brackets the timer's true time.
#[test]
fn a_drifting_clock_stretches_its_timers() {
    let echo = script(|cx, obs| match (cx.id(), obs) {
        (0, Obs::Boot { .. }) => {
            cx.send(1, 0);
            cx.set_timer(millis(100), 1);
        }
        (1, Obs::Msg { .. }) => cx.send(0, 0),
        _ => {}
    });
    let mut plan = FaultPlan::default();
    plan.clock.drift_ppm_max = 100_000;
    plan.network.latency_ns_min = millis(500);
    plan.network.latency_ns_max = millis(500);
    let run = |seed| {
        Simulation::new(Scripted::new(2, Rc::clone(&echo)), seed, plan.clone(), limits(), false)
    };
    let mut drifts = BTreeSet::new();
    for seed in 1..=3 {
        let mut sim = run(seed);
        sim.run_until(secs(1));
        let (echo_at, _) = log(&sim, 0)
            .into_iter()
            .find(|(_, obs)| matches!(obs, Obs::Msg { .. }))
            .expect("the echo came back");
        let skew = echo_at as i64 - clock_at(secs(1)) as i64;
        assert_eq!(skew % 1_000, 0, "seed {seed}: a whole number of ppm");
        let drift_ppm = skew / 1_000;
        assert_ne!(drift_ppm, 0, "seed {seed}: this test needs a drifting clock");
        drifts.insert(drift_ppm);
        let due = (millis(100) * 1_000_000).div_ceil((1_000_000 + drift_ppm) as u64);
        let mut sim = run(seed);
        sim.run_until(due - 1);
        assert!(!log(&sim, 0).iter().any(|(_, obs)| *obs == Obs::Timer(1)), "seed {seed}: early");
        sim.run_until(due);
        let (local, obs) = log(&sim, 0).last().cloned().expect("logged");
        assert_eq!(
            obs,
            Obs::Timer(1),
            "seed {seed}: fired at true {due} ns (drift {drift_ppm} ppm)"
        );
        assert!(
            (clock_at(millis(100))..=clock_at(millis(100)) + 1).contains(&local),
            "seed {seed}: read {local}"
        );
    }
    assert_eq!(drifts.len(), 3, "each seed drew its own drift: {drifts:?}");
}

// ---------------------------------------------------------------------------------------------
// 7. Determinism.

// Goal: a run is a function of (scenario, seed, plan). Method: gossip over a lossy, jittery,
// duplicating, reordering network; 20 seeds, twice each: equal twice, distinct across seeds.
#[test]
fn the_trace_hash_is_a_function_of_the_seed() {
    let mut plan = FaultPlan::default();
    plan.network.latency_ns_min = millis(1);
    plan.network.latency_ns_max = millis(5);
    plan.network.drop_ratio = Ratio::per_10k(1_000);
    plan.network.duplicate_ratio = Ratio::per_10k(500);
    plan.network.reorder_ratio = Ratio::per_10k(1_000);
    plan.network.reorder_delay_ns_max = millis(3);
    let run = |seed| {
        let report =
            Simulation::new(Scripted::new(3, gossip()), seed, plan.clone(), limits(), false).run();
        assert_eq!(report.outcome, Outcome::Passed, "seed {seed}");
        (report.trace_hash, report.steps)
    };
    let first: Vec<(u64, u64)> = (0..20).map(run).collect();
    let second: Vec<(u64, u64)> = (0..20).map(run).collect();
    assert_eq!(first, second);
    let hashes: BTreeSet<u64> = first.iter().map(|(hash, _)| *hash).collect();
    assert_eq!(hashes.len(), 20, "every seed ran differently");
}

// ---------------------------------------------------------------------------------------------
// 8. Outcomes and bounds.

// Goal: messages to a crashed node vanish; its next incarnation hears only later ones. Method:
// node 0 ticks every 10 ms to node 1, which is down from 100.5 to 200.5 ms.
#[test]
fn messages_to_a_crashed_node_vanish() {
    let crash = Fault::Crash { node: 1, down_ns: millis(100) };
    let mut sim =
        simulation(Scripted::new(2, ticker(millis(10))), plan(vec![(PARTITION_BEGIN, crash)]));
    sim.run_until(millis(300));
    let heard: Vec<u64> = log(&sim, 1)
        .into_iter()
        .filter_map(|(_, obs)| match obs {
            Obs::Msg { value, .. } => Some(value),
            _ => None,
        })
        .collect();
    // Ticks 10 to 19 landed while it was down; tick 20 (sent at 200 ms) may land either side
    // of the restart, depending on its latency.
    assert!(heard.iter().all(|tick| *tick >= 20), "{heard:?}");
    assert!((21..30).all(|tick| heard.contains(&tick)), "{heard:?}");
}

// Goal: a failing check ends the run at once as a safety violation with its invariant. Method: a
// 1 ms ticker whose check fails at step 7 (step k is the timer at k ms).
#[test]
fn a_failing_check_stops_the_run_as_safety() {
    let mut scenario = Scripted::new(1, ticker(millis(1)));
    scenario.fail_at_step = Some(7);
    let report = simulation(scenario, FaultPlan::default()).run();
    assert_eq!(report.outcome, Outcome::Safety(Violation::new("FailAtStep", "step 7")));
    assert_eq!((report.steps, report.sim_time_ns), (7, millis(7)));
}

// Goal: a violation in the very step that reaches the step bound is reported as the violation,
// not hidden behind the bound. Method: the check fails at step 7 and steps_max is 7.
#[test]
fn a_violation_at_the_step_bound_is_safety() {
    let mut scenario = Scripted::new(1, ticker(millis(1)));
    scenario.fail_at_step = Some(7);
    let mut tight = limits();
    tight.steps_max = 7;
    let report = run_with_limits(scenario, tight);
    assert_eq!(report.outcome, Outcome::Safety(Violation::new("FailAtStep", "step 7")));
}

// Goal: a system that never converges ends as a liveness violation at the bound. Method: a 100 ms
// ticker, safety 2 s, liveness 1 s, `converged` never true: the run ends at 3 s.
#[test]
fn never_converging_is_a_liveness_violation() {
    let mut scenario = Scripted::new(1, ticker(millis(100)));
    scenario.converged = |_| false;
    let report = simulation(scenario, FaultPlan::default()).run();
    assert_eq!(report.outcome, Outcome::Liveness(Violation::new("Converged", "not yet")));
    assert_eq!(report.sim_time_ns, secs(3), "the last tick inside the bound ran");
}

// Goal: the liveness phase heals every fault, and converging passes. Method: node 1 isolated for
// an hour from 0; it hears nothing in the 2 s safety phase, then tick 21 (sent 2.1 s) after heal.
#[test]
fn the_liveness_phase_heals_faults_and_converging_passes() {
    let mut scenario = Scripted::new(2, ticker(millis(100)));
    scenario.converged = |view| {
        view.node(1).is_some_and(|n| n.log.iter().any(|(_, obs)| matches!(obs, Obs::Msg { .. })))
    };
    let isolate =
        Fault::Partition { partition: Partition::IsolateOne { node: 1 }, duration_ns: secs(3_600) };
    let report = simulation(scenario, plan(vec![(0, isolate)])).run();
    assert_eq!(report.outcome, Outcome::Passed);
    assert_eq!(report.sim_time_ns, millis(2_101));
}

// Goal: the heal at the end of the safety phase happens at the phase's end and time never runs
// backwards. Method: node 1 is down from 100 ms for an hour while node 0 ticks every 300 ms
// (last event before 2 s: 1.801 s); node 1's reboot sets a 1 ms timer; converged once it fires.
#[test]
fn healing_happens_at_the_end_of_the_safety_phase() {
    let tick = ticker(millis(300));
    let script = script(move |cx, obs| match (cx.id(), obs) {
        (0, _) => tick(cx, obs),
        (1, Obs::Boot { .. }) => cx.set_timer(millis(1), 0),
        _ => {}
    });
    let mut scenario = Scripted::new(2, script);
    scenario.converged = |view| {
        view.node(1).is_some_and(|n| n.log.contains(&(clock_at(millis(2_001)), Obs::Timer(0))))
    };
    let crash = Fault::Crash { node: 1, down_ns: secs(3_600) };
    let report = simulation(scenario, plan(vec![(millis(100), crash)])).run();
    assert_eq!(report.outcome, Outcome::Passed);
    assert_eq!(report.sim_time_ns, millis(2_001));
}

// Goal: a step bound ends an endless run as BoundExceeded at exactly that step. Method: a 1 ms
// ticker with steps_max 100.
#[test]
fn an_endless_run_hits_the_step_bound() {
    let mut limits = limits();
    limits.steps_max = 100;
    let report = run_with_limits(Scripted::new(1, ticker(millis(1))), limits);
    assert_eq!(report.outcome, Outcome::BoundExceeded { bound: "100 steps reached".into() });
    assert_eq!((report.steps, report.sim_time_ns), (100, millis(100)));
}

// Goal: a full event queue ends the run as BoundExceeded. Method: queue_len_max 10; at 1 ms
// node 0 sends 50 messages in one step.
#[test]
fn a_flood_of_sends_hits_the_queue_bound() {
    let flood = script(|cx, obs| match obs {
        Obs::Boot { .. } if cx.id() == 0 => cx.set_timer(millis(1), 0),
        Obs::Timer(_) => (0..50).for_each(|value| cx.send(1, value)),
        _ => {}
    });
    let mut limits = limits();
    limits.queue_len_max = 10;
    let report = run_with_limits(Scripted::new(2, flood), limits);
    assert_eq!(report.outcome, Outcome::BoundExceeded { bound: "queue length 10 reached".into() });
    assert_eq!((report.steps, report.sim_time_ns), (1, millis(1)));
}

// ---------------------------------------------------------------------------------------------
// 9. Coverage.

// Goal: coverage counts exactly the faults that fired and the probes hit. Method: crash node 1 at
// 10 ms, then a pause of node 1 at 12 ms while it is down (moot); node 0 probes at 10, 30, 50,
// 70 and 90 ms.
#[test]
fn coverage_counts_fired_faults_and_probes() {
    let probing = script(|cx, obs| match obs {
        Obs::Boot { .. } if cx.id() == 0 => (1..=9).for_each(|k| cx.set_timer(millis(10 * k), k)),
        Obs::Timer(tick) if tick % 2 == 1 => cx.sometimes("odd-tick"),
        _ => {}
    });
    let crash = Fault::Crash { node: 1, down_ns: millis(5) };
    let pause = Fault::Pause { node: 1, duration_ns: millis(1) };
    let mut sim =
        simulation(Scripted::new(2, probing), plan(vec![(millis(10), crash), (millis(12), pause)]));
    sim.run_until(secs(1));
    let report = sim.finish();
    assert_eq!(report.coverage.faults, BTreeMap::from([(FaultKind::Crash, 1)]));
    assert_eq!(report.coverage.probes, BTreeMap::from([("odd-tick", 5)]));
}
