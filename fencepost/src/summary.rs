//! What a stress run of one scenario found, as `stress` prints it and writes it with `--json`,
//! and as `merge` reads, adds up and judges it. Both commands judge through [`verdict`], so
//! they agree on exit codes.

use crate::registry::Registry;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One failed seed, as the summary lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Failure {
    pub seed: u64,
    pub outcome: String,
    pub invariant: String,
    pub step: u64,
    pub sim_time_ns: u64,
    /// The run's trace hash (16 hex digits), which `run --seed` of the same seed must print.
    #[serde(default)]
    pub trace_hash: String,
    /// For a panic: where and what (`n2 on_message panicked at src/x.rs:3:9: message`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panic: Option<String>,
}

impl Failure {
    /// The failure of `seed`, whose run ended in `outcome` after `steps` steps.
    pub fn of(seed: u64, outcome: &sim::Outcome, steps: u64, sim_time_ns: u64, hash: u64) -> Self {
        Failure {
            seed,
            outcome: outcome.label().to_string(),
            invariant: outcome.failure_name().unwrap_or_default(),
            step: steps,
            sim_time_ns,
            trace_hash: format!("{hash:016x}"),
            panic: match outcome {
                sim::Outcome::Panic(panicked) => Some(panicked.to_string()),
                _ => None,
            },
        }
    }

    /// The line `stress` prints as the failure happens and `merge` prints for every failure:
    /// `FAILED scenario=<name> seed=<n> invariant=<name> step=<n> outcome=<label>
    /// trace_hash=<hex>` (and the panic's message on a second line).
    pub fn line(&self, scenario: &str) -> String {
        let invariant = if self.outcome == "bound" {
            format!("Bound({})", self.invariant)
        } else {
            self.invariant.clone()
        };
        let mut line = format!(
            "FAILED scenario={scenario} seed={} invariant={invariant} step={} outcome={} \
             trace_hash={}",
            self.seed, self.step, self.outcome, self.trace_hash
        );
        if let Some(panic) = &self.panic {
            line.push_str(&format!("\n  {panic}"));
        }
        line
    }
}

/// Seeds `start`, `start + stride`, ... : `count` of them, none past `u64::MAX`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedRange {
    pub start: u64,
    pub stride: u64,
    pub count: u64,
}

impl SeedRange {
    /// The last seed, or None when the range is empty, has no stride, or runs past `u64::MAX`.
    pub fn last(&self) -> Option<u64> {
        if self.count == 0 || self.stride == 0 {
            return None;
        }
        (self.count - 1).checked_mul(self.stride)?.checked_add(self.start)
    }

    /// True when `seed` is one of the range's seeds.
    pub fn contains(&self, seed: u64) -> bool {
        self.last().is_some_and(|last| {
            (self.start..=last).contains(&seed) && (seed - self.start).is_multiple_of(self.stride)
        })
    }
}

/// What one `stress` invocation was asked to run: `--start`, `--seeds`, `--shard I/N`, the
/// scenarios (`--scenario`, `all` spelt out) and `--canary`. Shards of one campaign share all
/// but `shard_index`, which is how `merge` knows the whole campaign and what is missing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invocation {
    pub start: u64,
    pub seeds: u64,
    pub shard_index: u64,
    pub shard_count: u64,
    /// Every scenario the invocation ran, in order.
    pub scenarios: Vec<String>,
    pub canary: Option<String>,
}

impl Invocation {
    /// The seeds asked for, as people read them: `seeds 0..=999`, with the shard if any and
    /// `with_shard`.
    pub fn describe_seeds(&self, with_shard: bool) -> String {
        let last = self.start.saturating_add(self.seeds.saturating_sub(1));
        let mut text = format!("seeds {}..={last}", self.start);
        if with_shard && self.shard_count > 1 {
            text.push_str(&format!(", shard {}/{}", self.shard_index, self.shard_count));
        }
        text
    }
}

/// What a stress run of one scenario found (one shard's, or several merged).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioSummary {
    pub scenario: String,
    pub canary: Option<String>,
    /// Seeds that ran to an outcome.
    pub seeds_run: u64,
    pub passed: u64,
    pub failed: Vec<Failure>,
    pub events: u64,
    pub sim_time_ns: u64,
    pub wall_time_s: f64,
    pub events_per_s: f64,
    /// How often each fault kind fired, by name.
    pub faults: BTreeMap<String, u64>,
    /// How often each probe was hit.
    pub probes: BTreeMap<String, u64>,
    /// How often each moment was struck by an aimed fault.
    #[serde(default)]
    pub strikes: BTreeMap<String, u64>,
    /// True when a signal stopped the run before every seed asked for ran.
    pub interrupted: bool,
    /// Seeds asked for (this shard's share of `--seeds`; summed by `merge`).
    #[serde(default)]
    pub seeds_asked: u64,
    /// Exactly the seeds that ran: one range per shard (an interrupted shard's range holds the
    /// seeds that ran, which are always its first ones). `merge` refuses overlapping ranges.
    #[serde(default)]
    pub covers: Vec<SeedRange>,
    /// The invocation that ran it (None once merged).
    #[serde(default)]
    pub invocation: Option<Invocation>,
    /// Seeds re-run by `--check-determinism`, each hashing the same.
    #[serde(default)]
    pub determinism_checked: Option<u64>,
    /// Once merged: the shards of the campaign (`--shard I/N`) that no file held, so the seeds
    /// above are not the whole campaign. None for a whole one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_shards: Option<MissingShards>,
}

/// The shards of a campaign that no merged file held.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MissingShards {
    /// How many.
    pub count: u64,
    /// The first of them, by index (at most [`MissingShards::LISTED_MAX`]): a campaign of
    /// millions of shards with one file given must not list millions.
    pub first: Vec<u64>,
}

impl MissingShards {
    /// The most indices listed.
    pub const LISTED_MAX: usize = 100;

    /// `1/3, 4/8` and how many more.
    pub fn describe(&self, shard_count: u64) -> String {
        let listed: Vec<String> = self.first.iter().map(|i| format!("{i}/{shard_count}")).collect();
        let more = self.count.saturating_sub(self.first.len() as u64);
        let more = if more > 0 { format!(" and {more} more") } else { String::new() };
        format!("{}{more}", listed.join(", "))
    }
}

/// How a summary is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every seed passed.
    Passed,
    /// Some seed failed (or a canary was caught).
    Failed,
    /// A variant that must find violations found some.
    FoundAsExpected,
    /// A variant that must find violations found none over enough seeds to expect one.
    BrokenHarness,
    /// A variant that must find violations found none, over too few seeds to tell.
    TooFewToJudge,
}

/// The seeds over which a variant that must find violations is expected to find one, when the
/// summary is of such a variant (no canary; the registry says so).
pub fn finds_expected_within(registry: &Registry, summary: &ScenarioSummary) -> Option<u64> {
    let entry = registry.find(&summary.scenario)?;
    entry.finds_expected_within().filter(|_| summary.canary.is_none())
}

/// The verdict on `summary`, the same for `stress` and `merge`.
pub fn verdict(registry: &Registry, summary: &ScenarioSummary) -> Verdict {
    match (finds_expected_within(registry, summary), summary.failed.is_empty()) {
        (Some(_), false) => Verdict::FoundAsExpected,
        (Some(within), true) if summary.seeds_run >= within => Verdict::BrokenHarness,
        (Some(_), true) => Verdict::TooFewToJudge,
        (None, true) => Verdict::Passed,
        (None, false) => Verdict::Failed,
    }
}

/// Prints the summary of one scenario: totals, faults, probes, determinism, and the verdict's
/// line for a variant that must find violations. Returns the verdict.
pub fn print(registry: &Registry, summary: &ScenarioSummary) -> Verdict {
    if summary.interrupted && summary.seeds_run == 0 {
        crate::output::line(format!(
            "{}: not run (interrupted before it began; {} seeds asked)",
            summary.scenario, summary.seeds_asked
        ));
        return verdict(registry, summary);
    }
    let interrupted = if summary.interrupted {
        format!(" (interrupted; {} asked)", summary.seeds_asked)
    } else {
        String::new()
    };
    let failed_word = match finds_expected_within(registry, summary) {
        Some(_) => "found (expected)",
        None => "failed",
    };
    crate::output::line(format!(
        "{}: {} passed, {} {failed_word} of {} seeds{interrupted}  ({} events, {:.2}M events/s, \
         {:.1}s wall)",
        summary.scenario,
        summary.passed,
        summary.failed.len(),
        summary.seeds_run,
        summary.events,
        summary.events_per_s / 1e6,
        summary.wall_time_s
    ));
    let counts = |map: &BTreeMap<String, u64>| {
        let all: Vec<String> = map.iter().map(|(k, n)| format!("{k}={n}")).collect();
        if all.is_empty() {
            "none".to_string()
        } else {
            all.join(" ")
        }
    };
    crate::output::line(format!("  faults fired: {}", counts(&summary.faults)));
    crate::output::line(format!("  probes hit: {}", counts(&summary.probes)));
    if !summary.strikes.is_empty() {
        crate::output::line(format!("  aimed strikes: {}", counts(&summary.strikes)));
    }
    if let Some(checked) = summary.determinism_checked {
        crate::output::line(format!(
            "  determinism: {checked} seeds re-run once each, every trace hash equal"
        ));
    }
    let verdict = verdict(registry, summary);
    let within = finds_expected_within(registry, summary).unwrap_or(0);
    match verdict {
        Verdict::FoundAsExpected => {
            let first = &summary.failed[0];
            crate::output::line(format!(
                "  {} violations found, as expected for this variant; the first: seed {} \
                 ({} {} at step {})",
                summary.failed.len(),
                first.seed,
                first.outcome,
                first.invariant,
                first.step
            ))
        }
        Verdict::BrokenHarness => crate::output::line(format!(
            "BROKEN HARNESS scenario={}: expected violations, found none in {} seeds \
             (this variant finds one within {within})",
            summary.scenario, summary.seeds_run
        )),
        Verdict::TooFewToJudge => crate::output::line(format!(
            "  no violation found in {} seeds: too few to judge, this variant is expected to \
             find one within {within} seeds",
            summary.seeds_run
        )),
        Verdict::Passed | Verdict::Failed => {}
    }
    verdict
}
