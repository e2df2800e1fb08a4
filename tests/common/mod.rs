//! Shared by the scenario test files: this repository's registry and the harness's test helpers
//! (`fencepost::testing`) over it.

#![allow(dead_code, unused_imports)] // each test file uses a different part

use fencepost::{Registry, RunRequest, ScenarioEntry};
use std::sync::LazyLock;

pub use fencepost::testing::{first_catch, first_safety_catch, first_safety_violation, summary};

/// This repository's scenarios, built once per test binary.
pub static REGISTRY: LazyLock<Registry> = LazyLock::new(scenarios::registry);

/// The scenario called `name`.
pub fn entry(name: &str) -> &'static ScenarioEntry {
    fencepost::testing::entry(&REGISTRY, name)
}

/// Runs the scenario over the seeds the environment selects (`DST_SEED`, `DST_SEEDS`; else
/// `default_count` from 0) and asserts coverage over a full range.
pub fn seed_range(name: &str, default_count: u64) {
    fencepost::testing::seed_range(&REGISTRY, name, default_count);
}

/// Asserts every canary of the scenario is caught as a safety violation within `limit` seeds.
pub fn every_canary_caught(name: &str, limit: u64) {
    fencepost::testing::every_canary_caught(&REGISTRY, name, limit);
}

/// The full report of `canary`'s run at `seed`, as a user sees it.
pub fn canary_report(entry: &ScenarioEntry, canary: &str, seed: u64) -> String {
    let request = RunRequest::seed(seed).with_canary(Some(canary));
    fencepost::testing::render(&REGISTRY, entry, &request)
}

/// What caught a violation: the invariant's name, or for `SpecConformance` the action it names
/// (`SpecConformance/GrantVote` for "... (Replication.tla GrantVote)").
pub fn caught_by(violation: &sim::Violation) -> String {
    if violation.invariant != "SpecConformance" {
        return violation.invariant.clone();
    }
    let action = violation.observed.rsplit(".tla ").next().unwrap_or("").trim_end_matches(')');
    format!("SpecConformance/{action}")
}
