//! tikv's raft-rs under the harness: its seed range, its canaries, and the determinism of a
//! run although raft-rs draws election timeouts from `thread_rng` and keeps hash maps.

use fencepost::sim::{Outcome, Simulation};
use fencepost::testing::{entry, first_catch};
use fencepost::{Registry, RunRequest};
use std::sync::LazyLock;
use tikv_raft_dst::canary::RaftCanary;
use tikv_raft_dst::scenario::{limits, RaftScenario};
use tikv_raft_dst::SCENARIO;

static REGISTRY: LazyLock<Registry> = LazyLock::new(tikv_raft_dst::registry);

/// Goal: raft-rs keeps every check under swarm faults, and converges once they heal.
/// Method: the seed range (`DST_SEED=<n>` replays one, `DST_SEEDS=<n>` runs more), which
/// also fails if a probe, a fault kind or an aimed moment never fires.
#[test]
fn seed_range() {
    fencepost::testing::seed_range(&REGISTRY, SCENARIO, 200);
}

/// Goal: acknowledging before the fsync is found by the harness's own checks, not by raft's
/// assertions. Method: the first seed that fails with the canary on fails `DurablePromises`
/// (a vote or append ack left before the disk held it), within a few seeds.
#[test]
fn ack_before_fsync_is_caught_by_the_durable_promise_check() {
    let (seed, outcome) =
        first_catch(entry(&REGISTRY, SCENARIO), "ack-before-fsync", 10).expect("caught");
    match outcome {
        Outcome::Safety(violation) => assert_eq!(violation.invariant, "DurablePromises"),
        other => panic!("seed {seed} failed as {other:?}, not as a broken promise"),
    }
}

/// Goal: a panic in a node is a run's outcome, with where it happened. Method: the planted
/// panic shows as `Outcome::Panic` naming the voter's handler and the line, within 20 seeds.
#[test]
fn planted_panic_is_a_panic_outcome() {
    let (seed, outcome) =
        first_catch(entry(&REGISTRY, SCENARIO), "planted-panic", 20).expect("caught");
    let Outcome::Panic(panicked) = outcome else {
        panic!("seed {seed} failed as {outcome:?}, not as a panic");
    };
    assert!(panicked.location.starts_with("examples/tikv-raft/src/voter.rs:"), "{panicked}");
    assert!(panicked.message.starts_with("planted:"), "{panicked}");
    assert!(panicked.node.is_some(), "a voter's handler panicked, not a check: {panicked}");
}

/// Goal: the seeds where a stale append ack leaves after a later Ready overwrote its entry
/// (found on the first 500 seeds) keep passing: such an ack is backed by a newer durable
/// term (see `promises.rs`). Method: run them.
#[test]
fn stale_append_acks_after_an_overwrite_keep_their_promise() {
    for seed in [62, 285] {
        let report = entry(&REGISTRY, SCENARIO).run(&RunRequest::seed(seed));
        assert_eq!(report.outcome, Outcome::Passed, "seed {seed}");
    }
}

fn hash_of(seed: u64) -> (u64, u64) {
    let report = entry(&REGISTRY, SCENARIO).run(&RunRequest::seed(seed));
    (report.trace_hash, report.steps)
}

/// Goal: a seed is one run, whatever runs beside it, although raft-rs draws its election
/// timeouts from `thread_rng` (replaced from the seed, `election.rs`) and iterates its own
/// hash maps (FxHash, unseeded, so their order is a function of the run). Method: hash 8 seeds
/// alone, then again four at a time on threads, and compare.
#[test]
fn runs_hash_the_same_alone_and_beside_others() {
    let seeds: Vec<u64> = (40..48).collect();
    let alone: Vec<(u64, u64)> = seeds.iter().map(|seed| hash_of(*seed)).collect();
    let beside: Vec<(u64, u64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = seeds
            .chunks(2)
            .map(|pair| scope.spawn(move || pair.iter().map(|s| hash_of(*s)).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().flat_map(|handle| handle.join().unwrap()).collect()
    });
    assert_eq!(alone, beside);
    let distinct: std::collections::BTreeSet<u64> = alone.iter().map(|(hash, _)| *hash).collect();
    assert_eq!(distinct.len(), seeds.len(), "different seeds give different runs");
}

/// Goal: a failing plain seed names the lines that replay it. Method: the reproduce lines of
/// seed 7 name this crate's test and binary.
#[test]
fn reproduce_lines_name_this_crate() {
    let lines =
        entry(&REGISTRY, SCENARIO).reproduce(&REGISTRY.invocation(), &RunRequest::seed(7), None);
    assert_eq!(
        lines,
        [
            "DST_SEED=7 cargo test -p tikv-raft-dst --test raft seed_range",
            "cargo run --release -p tikv-raft-dst -- run --scenario tikv-raft --seed 7",
        ]
    );
}

/// Goal: the state checks bite on their own, and the harness finds the misuse before raft-rs's
/// assertions do only thanks to `DurablePromises`. Method: with the promise check off, the
/// ack-before-fsync canary must still break a state invariant within 400 seeds (first at
/// seed 145 when measured; raft-rs's own `to_commit ... out of range` assertion, a follower
/// told to commit what its crash lost, fires on far more seeds, first at seed 24).
#[test]
fn without_the_promise_check_the_state_checks_still_catch_ack_before_fsync() {
    let entry = entry(&REGISTRY, SCENARIO);
    let caught = (0..400).find_map(|seed| {
        let scenario = RaftScenario::new(Some(RaftCanary::AckBeforeFsync), None);
        let mut simulation = Simulation::new(
            scenario.without_promise_checks(),
            seed,
            entry.plan(seed),
            limits(),
            false,
        );
        match simulation.run().outcome {
            Outcome::Safety(violation) => Some((seed, violation.invariant)),
            _ => None,
        }
    });
    let (seed, invariant) = caught.expect("a state check caught the canary within 400 seeds");
    let state_checks =
        ["ElectionSafety", "StateMachineSafety", "LeaderCompleteness", "NoAckedWriteLost"];
    assert!(state_checks.contains(&invariant.as_str()), "seed {seed}: {invariant}");
}
