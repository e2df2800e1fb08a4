//! What the kernel offers a user's machine beyond send and timers, end to end: a panic is the
//! run's outcome (never a crash of the harness), a message can wait for the disk, and a healed
//! link is announced to both ends.

mod common;

use common::*;
use sim::faults::Fault;
use sim::network::Partition;
use sim::time::{millis, secs};
use sim::{Outcome, Simulation};

fn panicked(report: &sim::RunReport) -> &sim::Panicked {
    match &report.outcome {
        Outcome::Panic(panicked) => panicked,
        other => panic!("expected a panic outcome, got {other:?}"),
    }
}

/// Node 1 panics on the third message node 0 sends it (one every 10 ms).
fn panics_on_third() -> Script {
    let tick = ticker(millis(10));
    script(move |cx, obs| match obs {
        Obs::Msg { value: 2, .. } => panic!("node {} cannot take value 2", cx.id()),
        _ => tick(cx, obs),
    })
}

// Goal: a node's panic ends that run as its own outcome, saying who, where and what, with the
// trace up to it; the same seed panics the same way again. Method: node 1 panics on a message.
#[test]
fn a_node_panic_is_the_runs_outcome() {
    let run = || {
        Simulation::new(Scripted::new(2, panics_on_third()), SEED, plan(vec![]), limits(), true)
            .run()
    };
    let report = run();
    let panic = panicked(&report);
    assert_eq!(panic.during, "n1 on_message");
    assert_eq!(panic.node, Some(1));
    assert_eq!(panic.message, "node 1 cannot take value 2");
    assert!(panic.location.starts_with("sim/tests/hooks.rs:"), "{}", panic.location);
    assert_eq!(report.outcome.label(), "panic");
    let last = report.tail.last().expect("the trace holds the delivery that panicked");
    assert_eq!(last.kind, sim::trace::RecordKind::Deliver);
    assert_eq!(run().trace_hash, report.trace_hash, "a panic replays bit for bit");
    let rendered = sim::report::render("hooks", &report, &["replay me".into()]);
    assert!(rendered.contains("PANIC in n1 on_message at step"), "{rendered}");
    assert!(rendered.contains("node 1 cannot take value 2"), "{rendered}");
    assert!(rendered.contains("reproduce: replay me"), "{rendered}");
}

// Goal: a panic in a scenario's check or at a node's boot is caught the same way.
#[test]
fn a_check_or_boot_panic_is_caught_too() {
    let mut scenario = Scripted::new(2, ticker(millis(10)));
    scenario.panic_at_step = Some(5);
    let report = simulation(scenario, plan(vec![])).run();
    let panic = panicked(&report);
    assert_eq!((panic.during.as_str(), panic.node), ("check", None));
    assert_eq!(
        panic.message,
        "assertion `left != right` failed: the check broke\n  left: Some(5)\n right: Some(5)"
    );
    assert_eq!(report.steps, 5);
    let at_boot = script(|cx, obs| {
        if matches!(obs, Obs::Boot { .. }) && cx.id() == 1 {
            panic!("no config");
        }
    });
    let report = simulation(Scripted::new(2, at_boot), plan(vec![])).run();
    assert_eq!(panicked(&report).during, "n1 boot");
    assert_eq!(report.steps, 0);
}

/// Node 0 appends a record at its first boot, syncs, and asks for value 7 (promising 77) to
/// reach node 1 once the disk holds it; at 50 ms it does the same with value 8. A restart does
/// nothing.
fn vote_after_sync() -> Script {
    script(|cx, obs| match (cx.id(), obs) {
        (0, Obs::Boot { records, .. }) if records.is_empty() => {
            cx.disk().append(1);
            cx.sync_disk();
            cx.send_when_synced_declaring(1, 7, Some(77), None);
            cx.set_timer(millis(50), 0);
        }
        (0, Obs::Timer(0)) => {
            cx.disk().append(2);
            cx.sync_disk();
            cx.send_when_synced(1, 8);
        }
        _ => {}
    })
}

// Goal: a message held for the disk leaves only once the fsync covering what was appended
// completes, and a crash before that loses it. Method: node 1's arrival time of value 7 comes
// after node 0's sync; a crash of node 0 during the second fsync loses value 8.
#[test]
fn a_message_waits_for_the_disk_and_a_crash_loses_it() {
    let mut sim = simulation(Scripted::new(2, vote_after_sync()), plan(vec![]));
    sim.run_until(millis(40));
    assert_eq!(sim.view().incarnation(0), 0, "no crash yet");
    let synced_at = log(&sim, 0).iter().find(|(_, o)| *o == Obs::Synced(1)).map(|(at, _)| *at);
    let arrived_at =
        log(&sim, 1).iter().find(|(_, o)| *o == Obs::Msg { from: 0, value: 7 }).map(|(at, _)| *at);
    assert!(synced_at.is_some() && arrived_at.is_some(), "{:?}", log(&sim, 1));
    assert!(arrived_at > synced_at, "sent at the sync, so it arrives after it");
    let promised: Vec<u64> = sim.scenario().promises.iter().map(|(_, _, p)| *p).collect();
    assert_eq!(promised, vec![77], "the held message's promise is declared as it leaves");
    // The second fsync takes 100 us (the default disk); a crash 50 us after the send loses it.
    let crash = Fault::Crash { node: 0, down_ns: millis(5) };
    let mut sim =
        simulation(Scripted::new(2, vote_after_sync()), plan(vec![(millis(50) + 50_000, crash)]));
    sim.run_until(millis(200));
    assert_eq!(sim.view().incarnation(0), 1, "one crash: the view tells the restart");
    let values: Vec<Obs> = log(&sim, 1).into_iter().skip(1).map(|(_, obs)| obs).collect();
    assert!(values.contains(&Obs::Msg { from: 0, value: 7 }));
    assert!(!values.contains(&Obs::Msg { from: 0, value: 8 }), "{values:?}");
}

// Goal: both ends of a healed link hear of it, once, when it heals; a paused node hears it as it
// resumes. Method: cut n0 | n1 for 100 ms from 10 ms, and pause n2, cut off alone, across its
// heal.
#[test]
fn a_healed_link_is_announced_to_both_ends() {
    let cut = Partition::Symmetric { side_a: vec![0], side_b: vec![1] };
    let schedule = vec![
        (millis(10), Fault::Partition { partition: cut, duration_ns: millis(100) }),
        (
            millis(10),
            Fault::Partition {
                partition: Partition::IsolateOne { node: 2 },
                duration_ns: millis(50),
            },
        ),
        (millis(40), Fault::Pause { node: 2, duration_ns: millis(100) }),
    ];
    let mut sim = simulation(Scripted::new(3, script(|_, _| {})), plan(schedule));
    sim.run_until(secs(1));
    let reconnects = |id| -> Vec<(u64, Obs)> {
        log(&sim, id).into_iter().filter(|(_, o)| matches!(o, Obs::Reconnect(_))).collect()
    };
    assert_eq!(
        reconnects(0),
        vec![(clock_at(millis(60)), Obs::Reconnect(2)), (clock_at(millis(110)), Obs::Reconnect(1))]
    );
    assert_eq!(
        reconnects(1),
        vec![(clock_at(millis(60)), Obs::Reconnect(2)), (clock_at(millis(110)), Obs::Reconnect(0))]
    );
    let store = sim::network::STORE;
    assert_eq!(
        reconnects(2),
        vec![
            (clock_at(millis(140)), Obs::Reconnect(0)),
            (clock_at(millis(140)), Obs::Reconnect(1)),
            (clock_at(millis(140)), Obs::Reconnect(store)),
        ],
        "paused through the heal, it hears on resuming"
    );
}
