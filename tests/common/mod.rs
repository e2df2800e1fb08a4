//! Shared by the scenario test files: run a seed range the way `cargo test` users expect
//! (`DST_SEED` replays one seed, `DST_SEEDS` sets how many), and hunt canaries.

#![allow(dead_code)] // each test file uses a different part

use scenarios::{RunRequest, ScenarioEntry};
use sim::Outcome;

/// Runs the scenario over the seeds the environment selects (`default_count` from 0 when
/// neither `DST_SEED` nor `DST_SEEDS` is set). Panics with the full report of the first failure.
pub fn seed_range(name: &str, default_count: u64) {
    let entry = scenarios::find(name).expect("registered scenario");
    let selection = match sim::seeds::from_env(default_count) {
        Ok(selection) => selection,
        Err(error) => panic!("{error}"),
    };
    for seed in selection.seeds() {
        let request = RunRequest { seed, ..RunRequest::default() };
        let report = entry.run_for_report(&request);
        if report.outcome != Outcome::Passed {
            let rendered = sim::report::render(entry.name, &report, &entry.reproduce(&request));
            panic!("seed {seed} of {name} failed:\n{rendered}");
        }
    }
}

/// The first seed below `limit` at which `canary` makes the scenario fail, with the outcome.
pub fn first_catch(entry: &ScenarioEntry, canary: &str, limit: u64) -> Option<(u64, Outcome)> {
    (0..limit).find_map(|seed| {
        let request =
            RunRequest { seed, canary: Some(canary.to_string()), ..RunRequest::default() };
        let report = (entry.run)(&request);
        (report.outcome != Outcome::Passed).then_some((seed, report.outcome))
    })
}

/// The first seed below `limit` at which `canary` breaks a safety invariant, and which. A
/// canary may make earlier seeds fail liveness (a stuck cluster) first; only safety counts.
pub fn first_safety_catch(
    entry: &ScenarioEntry,
    canary: &str,
    limit: u64,
) -> Option<(u64, String)> {
    (0..limit).find_map(|seed| {
        let request = RunRequest { seed, canary: Some(canary.into()), ..RunRequest::default() };
        match (entry.run)(&request).outcome {
            Outcome::Safety(violation) => Some((seed, violation.invariant)),
            _ => None,
        }
    })
}

/// Asserts every canary of the scenario is caught as a safety violation within `limit` seeds.
pub fn every_canary_caught(name: &str, limit: u64) {
    let entry = scenarios::find(name).expect("registered scenario");
    assert!(!entry.canaries.is_empty(), "{name} declares canaries");
    for canary in entry.canaries {
        match first_catch(entry, canary.name, limit) {
            Some((_, Outcome::Safety(_))) => {}
            Some((seed, outcome)) => {
                panic!(
                    "canary {} first failed at seed {seed} as {outcome:?}, not safety",
                    canary.name
                )
            }
            None => panic!("canary {} of {name} was not caught in {limit} seeds", canary.name),
        }
    }
}

/// Asserts that across `seeds` seeds every probe the scenario declares was hit and every fault
/// kind its swarm may enable actually fired: a fault that silently does nothing is a bug.
pub fn coverage_complete(name: &str, seeds: u64) {
    let entry = scenarios::find(name).expect("registered scenario");
    let mut coverage = sim::Coverage::default();
    for seed in 0..seeds {
        coverage.merge(&(entry.run)(&RunRequest { seed, ..RunRequest::default() }).coverage);
    }
    let missing_probes: Vec<&str> =
        entry.probes.iter().copied().filter(|p| !coverage.probes.contains_key(p)).collect();
    let missing_faults: Vec<&str> = (entry.fault_kinds)()
        .into_iter()
        .filter(|k| !coverage.faults.contains_key(k))
        .map(|k| k.name())
        .collect();
    assert!(
        missing_probes.is_empty() && missing_faults.is_empty(),
        "{name} over {seeds} seeds never hit probes {missing_probes:?} nor fired {missing_faults:?}"
    );
    let undeclared: Vec<&str> =
        coverage.probes.keys().copied().filter(|p| !entry.probes.contains(p)).collect();
    assert!(undeclared.is_empty(), "{name} hits undeclared probes {undeclared:?}");
}

/// Asserts that `count` seeds from 0 of the scenario, with no canary, all pass. Runs them on
/// every core (each seed alone on its thread; results do not depend on the split).
pub fn clean_seeds_pass(name: &str, count: u64) {
    let entry = scenarios::find(name).expect("registered scenario");
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get()) as u64;
    let failures: Vec<(u64, Outcome)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs)
            .map(|job| {
                scope.spawn(move || {
                    (job..count)
                        .step_by(jobs as usize)
                        .map(|seed| (seed, (entry.run)(&RunRequest { seed, ..Default::default() })))
                        .filter(|(_, report)| report.outcome != Outcome::Passed)
                        .map(|(seed, report)| (seed, report.outcome))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {count} seeds of {name} failed, first: {:?}",
        failures.len(),
        failures.first()
    );
}

/// One line of outcome, steps and trace hash, then the fault and probe counts: what a seed's
/// snapshot pins, so a behaviour change shows up in review.
pub fn summary(entry: &ScenarioEntry, seed: u64) -> String {
    let report = entry.run_for_report(&RunRequest { seed, ..RunRequest::default() });
    format!(
        "outcome={} steps={} trace_hash={:016x}\nfaults={:?}\nprobes={:?}",
        report.outcome.label(),
        report.steps,
        report.trace_hash,
        report.coverage.faults,
        report.coverage.probes
    )
}

/// The full report of `canary`'s run at `seed`, as a user sees it.
pub fn canary_report(entry: &ScenarioEntry, canary: &str, seed: u64) -> String {
    let request = RunRequest { seed, canary: Some(canary.into()), ..RunRequest::default() };
    let report = entry.run_for_report(&request);
    sim::report::render(entry.name, &report, &entry.reproduce(&request))
}
