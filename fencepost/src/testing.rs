//! Helpers for a scenario's `#[test]`s: run the seed range the environment selects
//! (`DST_SEED=<n>` replays exactly one seed, `DST_SEEDS=<count>` sets how many), assert the
//! coverage the scenario promises, and hunt its canaries.
//!
//! ```ignore
//! #[test]
//! fn seed_range() {
//!     fencepost::testing::seed_range(&my_dst::registry(), "my-raft", 200);
//! }
//! ```

use crate::registry::{Registry, RunRequest, ScenarioEntry};
use sim::seeds::SeedSelection;
use sim::{Coverage, Outcome};

/// The environment variables the helpers read; any other `DST_` variable is a typo that would
/// otherwise silently run the default range.
const KNOWN_VARIABLES: [&str; 2] = ["DST_SEED", "DST_SEEDS"];

/// The scenario called `name`, or a panic listing the registered ones.
pub fn entry<'r>(registry: &'r Registry, name: &str) -> &'r ScenarioEntry {
    registry.find(name).unwrap_or_else(|| {
        let known: Vec<&str> = registry.entries().iter().map(|e| e.name()).collect();
        panic!("no scenario {name:?} is registered (known: {})", known.join(", "))
    })
}

/// The seeds the environment selects: `DST_SEED` (one seed), else `DST_SEEDS` seeds from 0,
/// else `default_count` from 0. Both variables are checked whenever set, and a `DST_`
/// variable the harness does not know (`DST_SEEED`) is an error, so a typo never quietly runs
/// the default range.
pub fn selected_seeds(default_count: u64) -> Result<SeedSelection, String> {
    let unknown: Vec<String> = std::env::vars_os()
        .filter_map(|(key, _)| key.into_string().ok())
        .filter(|key| key.starts_with("DST_") && !KNOWN_VARIABLES.contains(&key.as_str()))
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "unknown variable {} (the harness reads only {})",
            unknown.join(", "),
            KNOWN_VARIABLES.join(" and ")
        ));
    }
    let seed = std::env::var("DST_SEED").ok();
    let seeds = std::env::var("DST_SEEDS").ok();
    sim::seeds::from_vars(seed.as_deref(), seeds.as_deref(), default_count)
        .map_err(|e| e.to_string())
}

/// Runs scenario `name` over the seeds the environment selects (see [`selected_seeds`]) on
/// every core, and says which seeds ran. Panics with the full report of the lowest failing
/// seed, reproduce lines included. Over a range of at least `default_count` seeds it also
/// asserts coverage: every probe the scenario declares was hit, every fault kind its swarm
/// may enable fired and every moment it aims at was struck (a fault that silently does nothing
/// makes a green run worthless), and no undeclared probe was hit.
pub fn seed_range(registry: &Registry, name: &str, default_count: u64) {
    let entry = entry(registry, name);
    let selection = selected_seeds(default_count).unwrap_or_else(|error| panic!("{error}"));
    let seeds = selection.seeds();
    println!("{name}: seeds {}..={} ({} seeds)", seeds.start(), seeds.end(), seed_count(&seeds));
    let (failures, coverage) = run_seeds(entry, seeds.clone());
    if let Some(&seed) = failures.first() {
        let request = RunRequest::seed(seed);
        let rendered = render(registry, entry, &request);
        panic!(
            "{} of the seeds of {name} failed; the first, seed {seed}:\n{rendered}",
            failures.len()
        );
    }
    if matches!(selection, SeedSelection::Range { count, .. } if count >= default_count) {
        assert_coverage_complete(entry, &coverage, seed_count(&seeds));
    }
}

fn seed_count(seeds: &std::ops::RangeInclusive<u64>) -> u64 {
    if seeds.is_empty() {
        0
    } else {
        seeds.end() - seeds.start() + 1
    }
}

/// The full report of `request`, as `run` prints it, with the reproduce lines.
pub fn render(registry: &Registry, entry: &ScenarioEntry, request: &RunRequest) -> String {
    let report = entry.run_for_report(request).unwrap_or_else(|error| panic!("{error}"));
    let reproduce = entry.reproduce(&registry.invocation(), request, None);
    sim::report::render(entry.name(), &report, &reproduce)
}

/// Runs `seeds` on every core (each seed alone on its thread; results do not depend on the
/// split). Returns the failing seeds, sorted, and the merged coverage.
fn run_seeds(entry: &ScenarioEntry, seeds: std::ops::RangeInclusive<u64>) -> (Vec<u64>, Coverage) {
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    let results: Vec<(Vec<u64>, Coverage)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs)
            .map(|job| {
                let seeds = seeds.clone();
                scope.spawn(move || {
                    let (mut failures, mut coverage) = (Vec::new(), Coverage::default());
                    for seed in seeds.skip(job).step_by(jobs) {
                        let report = entry.run(&RunRequest::seed(seed));
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
    let mut coverage = Coverage::default();
    for (job_failures, job_coverage) in results {
        failures.extend(job_failures);
        coverage.merge(&job_coverage);
    }
    failures.sort_unstable();
    (failures, coverage)
}

fn assert_coverage_complete(entry: &ScenarioEntry, coverage: &Coverage, seeds: u64) {
    let name = entry.name();
    let missing_probes: Vec<&str> =
        entry.probes().iter().copied().filter(|p| !coverage.probes.contains_key(p)).collect();
    let missing_faults: Vec<&str> = entry
        .fault_kinds()
        .iter()
        .filter(|k| !coverage.faults.contains_key(k))
        .map(|k| k.name())
        .collect();
    let missing_strikes: Vec<&str> =
        entry.moments().iter().copied().filter(|m| !coverage.strikes.contains_key(*m)).collect();
    assert!(
        missing_probes.is_empty() && missing_faults.is_empty() && missing_strikes.is_empty(),
        "{name} over {seeds} seeds never hit probes {missing_probes:?} nor fired \
         {missing_faults:?} nor struck at {missing_strikes:?}"
    );
    let undeclared: Vec<&str> =
        coverage.probes.keys().copied().filter(|p| !entry.probes().contains(p)).collect();
    assert!(undeclared.is_empty(), "{name} hits undeclared probes {undeclared:?}");
}

/// The first seed below `limit` at which `canary` makes the scenario fail, with the outcome.
pub fn first_catch(entry: &ScenarioEntry, canary: &str, limit: u64) -> Option<(u64, Outcome)> {
    (0..limit).find_map(|seed| {
        let report = entry.run(&RunRequest::seed(seed).with_canary(Some(canary)));
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

/// The first seed below `limit` at which `canary` breaks a safety invariant, with the
/// violation (what was observed, too).
pub fn first_safety_violation(
    entry: &ScenarioEntry,
    canary: &str,
    limit: u64,
) -> Option<(u64, sim::Violation)> {
    (0..limit).find_map(|seed| {
        match entry.run(&RunRequest::seed(seed).with_canary(Some(canary))).outcome {
            Outcome::Safety(violation) => Some((seed, violation)),
            _ => None,
        }
    })
}

/// Asserts every canary of scenario `name` is caught as a safety violation within `limit`
/// seeds.
pub fn every_canary_caught(registry: &Registry, name: &str, limit: u64) {
    let entry = entry(registry, name);
    assert!(!entry.canaries().is_empty(), "{name} declares canaries");
    for canary in entry.canaries() {
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
    let report = entry.run_for_report(&RunRequest::seed(seed)).unwrap_or_else(|e| panic!("{e}"));
    format!(
        "outcome={} steps={} trace_hash={:016x}\nfaults={:?}\nprobes={:?}",
        report.outcome.label(),
        report.steps,
        report.trace_hash,
        report.coverage.faults,
        report.coverage.probes
    )
}
