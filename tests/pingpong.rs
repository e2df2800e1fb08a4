//! The pingpong example scenario: its seed range, its canaries, and the determinism guarantees
//! of the kernel shown on it.

mod common;

use fencepost::RunRequest;
use scenarios::pingpong;
use sim::{Outcome, Simulation};

/// Goal: GrantUniqueness holds under swarm faults. Method: the seed range (DST_SEED replays one),
/// which also proves every fault kind fires and every probe is hit.
#[test]
fn seed_range() {
    common::seed_range("pingpong", 300);
}

/// Goal: the invariant bites. Method: each deliberately broken variant must fail within 2,000
/// seeds as a safety violation.
#[test]
fn canaries_are_caught() {
    common::every_canary_caught("pingpong", 2_000);
}

fn hash_of(seed: u64) -> (u64, u64) {
    let entry = common::entry("pingpong");
    let report = entry.run(&RunRequest::seed(seed));
    (report.trace_hash, report.steps)
}

/// Goal: a seed means the same run on every machine, in debug and release, forever.
/// Method: hashes pinned from a release build on x86_64; the tests run them in the test profile.
/// If this fails after an intended behaviour change, update the pins and say so in the commit.
#[test]
fn trace_hashes_are_pinned() {
    let pinned: [(u64, u64, u64); 3] = PINNED;
    for (seed, hash, steps) in pinned {
        assert_eq!(hash_of(seed), (hash, steps), "seed {seed} changed meaning");
    }
}
const PINNED: [(u64, u64, u64); 3] = [
    (0, 0x8512_88ee_1d54_ee0e, 14_893),
    (1, 0xc131_6235_c227_9317, 14_175),
    (0xdead_beef, 0x14d7_bf56_697d_1046, 15_251),
];

/// Goal: a run does not depend on what else runs beside it. Method: hash 16 seeds alone, then
/// again on 4 threads at once, and compare.
#[test]
fn parallel_runs_hash_like_sequential_ones() {
    let seeds: Vec<u64> = (100..116).collect();
    let alone: Vec<(u64, u64)> = seeds.iter().map(|s| hash_of(*s)).collect();
    let beside: Vec<(u64, u64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = seeds
            .chunks(4)
            .map(|chunk| scope.spawn(move || chunk.iter().map(|s| hash_of(*s)).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(alone, beside);
    let distinct: std::collections::BTreeSet<u64> = alone.iter().map(|(h, _)| *h).collect();
    assert_eq!(distinct.len(), seeds.len(), "different seeds give different runs");
}

/// Goal: the benchmark workload is the one the issue specifies. Method: 60 simulated seconds of
/// 5 clients every 10 ms with 1% loss is about 89,100 events.
#[test]
fn benchmark_workload_has_the_specified_size() {
    let scenario = pingpong::PingPong { canary: None };
    let plan = pingpong::benchmark_plan();
    let report = Simulation::new(scenario, 7, plan, pingpong::benchmark_limits(), false).run();
    assert_eq!(report.outcome, Outcome::Passed);
    assert!((88_000..90_500).contains(&report.steps), "{} events", report.steps);
}

/// Goal: unintended behaviour changes show up in review. Method: a snapshot of one failing
/// canary run's full report (header, violation, trace tail, reproduce lines).
#[test]
fn canary_report_snapshot() {
    let entry = common::entry("pingpong");
    let (seed, _) = common::first_catch(entry, "grant-from-receipt", 100).expect("caught");
    insta::assert_snapshot!(common::canary_report(entry, "grant-from-receipt", seed));
}
