//! Shared by the scenario test files: run a seed range the way `cargo test` users expect
//! (`DST_SEED` replays one seed, `DST_SEEDS` sets how many), and hunt canaries.

#![allow(dead_code)] // each test file uses a different part

use scenarios::{RunRequest, ScenarioEntry};
use sim::seeds::SeedSelection;
use sim::Outcome;

/// Runs the scenario over the seeds the environment selects (`default_count` from 0 when
/// neither `DST_SEED` nor `DST_SEEDS` is set), on every core. Panics with the full report of the
/// lowest failing seed. Over a range of at least `default_count` seeds it also asserts coverage:
/// every probe the scenario declares was hit and every fault kind its swarm may enable fired (a
/// fault that silently does nothing makes a green run worthless). `DST_SEEDS=10000` is the
/// nightly's long run.
pub fn seed_range(name: &str, default_count: u64) {
    let entry = scenarios::find(name).expect("registered scenario");
    let selection = match sim::seeds::from_env(default_count) {
        Ok(selection) => selection,
        Err(error) => panic!("{error}"),
    };
    let (failures, coverage) = run_seeds(entry, selection.seeds());
    if let Some(seed) = failures.first() {
        let request = RunRequest { seed: *seed, ..RunRequest::default() };
        let report = entry.run_for_report(&request);
        let rendered = sim::report::render(entry.name, &report, &entry.reproduce(&request));
        panic!(
            "{} of the seeds of {name} failed; the first, seed {seed}:\n{rendered}",
            failures.len()
        );
    }
    if matches!(selection, SeedSelection::Range { count, .. } if count >= default_count) {
        assert_coverage_complete(entry, &coverage, selection.seeds().count() as u64);
    }
}

/// Runs `seeds` on every core (each seed alone on its thread; results do not depend on the
/// split). Returns the failing seeds, sorted, and the merged coverage.
fn run_seeds(
    entry: &ScenarioEntry,
    seeds: std::ops::RangeInclusive<u64>,
) -> (Vec<u64>, sim::Coverage) {
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    let results: Vec<(Vec<u64>, sim::Coverage)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs)
            .map(|job| {
                let seeds = seeds.clone();
                scope.spawn(move || {
                    let (mut failures, mut coverage) = (Vec::new(), sim::Coverage::default());
                    for seed in seeds.skip(job).step_by(jobs) {
                        let report = (entry.run)(&RunRequest { seed, ..RunRequest::default() });
                        coverage.merge(&report.coverage);
                        if report.outcome != Outcome::Passed {
                            failures.push(seed);
                        }
                    }
                    (failures, coverage)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a seed runner panicked")).collect()
    });
    let mut failures = Vec::new();
    let mut coverage = sim::Coverage::default();
    for (job_failures, job_coverage) in results {
        failures.extend(job_failures);
        coverage.merge(&job_coverage);
    }
    failures.sort_unstable();
    (failures, coverage)
}

fn assert_coverage_complete(entry: &ScenarioEntry, coverage: &sim::Coverage, seeds: u64) {
    let name = entry.name;
    let missing_probes: Vec<&str> =
        entry.probes.iter().copied().filter(|p| !coverage.probes.contains_key(p)).collect();
    let missing_faults: Vec<&str> = (entry.fault_kinds)()
        .into_iter()
        .filter(|k| !coverage.faults.contains_key(k))
        .map(|k| k.name())
        .collect();
    let missing_strikes: Vec<&str> =
        (entry.moments)().into_iter().filter(|m| !coverage.strikes.contains_key(*m)).collect();
    assert!(
        missing_probes.is_empty() && missing_faults.is_empty() && missing_strikes.is_empty(),
        "{name} over {seeds} seeds never hit probes {missing_probes:?} nor fired \
         {missing_faults:?} nor struck at {missing_strikes:?}"
    );
    let undeclared: Vec<&str> =
        coverage.probes.keys().copied().filter(|p| !entry.probes.contains(p)).collect();
    assert!(undeclared.is_empty(), "{name} hits undeclared probes {undeclared:?}");
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
    first_safety_violation(entry, canary, limit).map(|(seed, v)| (seed, v.invariant))
}

/// The first seed below `limit` at which `canary` breaks a safety invariant, with the violation.
pub fn first_safety_violation(
    entry: &ScenarioEntry,
    canary: &str,
    limit: u64,
) -> Option<(u64, sim::Violation)> {
    (0..limit).find_map(|seed| {
        let request = RunRequest { seed, canary: Some(canary.into()), ..RunRequest::default() };
        match (entry.run)(&request).outcome {
            Outcome::Safety(violation) => Some((seed, violation)),
            _ => None,
        }
    })
}

/// What caught a canary: the invariant, and for `SpecConformance` the spec action it names
/// (`SpecConformance/GrantVote` for "... (Replication.tla GrantVote)").
pub fn caught_by(violation: &sim::Violation) -> String {
    if violation.invariant != "SpecConformance" {
        return violation.invariant.clone();
    }
    let action = violation.observed.rsplit(".tla ").next().unwrap_or("").trim_end_matches(')');
    format!("SpecConformance/{action}")
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
