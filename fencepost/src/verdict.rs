//! The one line that ends `stress` and `merge`: what was run and whether everything held, so a
//! reader of a nightly log (or of `cargo run --release`) needs no other line to know, and the
//! line and the exit code always agree.
//!
//! `verdict: passed: 6 scenarios, seeds 0..=999 (6000 runs): every invariant held; expected
//! violations found by lease-unsafe-drift (162, first seed 3)`

use crate::exit;
use crate::summary::{Invocation, MissingShards, ScenarioSummary, Verdict};

/// Everything the last line judges.
pub struct Judged<'a> {
    /// What was asked for (for `merge`, the whole campaign).
    pub invocation: &'a Invocation,
    /// `merge`: how many shard files the campaign was made of; None for `stress`.
    pub shards_merged: Option<u64>,
    /// Each scenario's summary with its verdict.
    pub scenarios: Vec<(&'a ScenarioSummary, Verdict)>,
    /// `merge`: the shards of the campaign that no file holds.
    pub missing_shards: Option<MissingShards>,
    /// An output (`--json`, a saved case) could not be written: said on stderr, exit 2.
    pub output_lost: bool,
}

impl Judged<'_> {
    /// The exit code: `2` if an output was lost, else `1` if a seed failed, the harness is blind or shards are missing (the
    /// campaign did not show that everything held), else `130` if a signal stopped it early,
    /// else `0`.
    pub fn exit_code(&self) -> u8 {
        if self.output_lost {
            return exit::USAGE;
        }
        let failed = self.scenarios.iter().any(|(_, v)| is_failure(*v));
        if failed || self.missing_shards.is_some() {
            exit::SAFETY
        } else if self.scenarios.iter().any(|(s, _)| s.interrupted) {
            exit::INTERRUPTED
        } else {
            exit::PASSED
        }
    }

    /// The last line.
    pub fn line(&self) -> String {
        let word = match self.exit_code() {
            exit::PASSED => "passed",
            exit::INTERRUPTED => "INTERRUPTED",
            exit::USAGE => "ERROR",
            _ if self.scenarios.iter().any(|(_, v)| is_failure(*v)) => "FAILED",
            _ => "INCOMPLETE",
        };
        let mut findings = Vec::new();
        if let Some(missing) = &self.missing_shards {
            let shards = missing.describe(self.invocation.shard_count);
            findings.push(format!("shards never merged: {shards}"));
        }
        findings.extend(self.failures());
        findings.extend(self.blind());
        let runs: u64 = self.scenarios.iter().map(|(s, _)| s.seeds_run).sum();
        let asked: u64 = self.scenarios.iter().map(|(s, _)| s.seeds_asked).sum();
        if self.scenarios.iter().any(|(s, _)| s.interrupted) {
            findings.push(format!("interrupted: {runs} of {asked} runs done"));
        }
        if self.output_lost {
            findings.push("an output could not be written (see the error above)".to_string());
        }
        if findings.is_empty() {
            findings.push("every invariant held".to_string());
        }
        let expected = self.expected_finds();
        if !expected.is_empty() {
            findings.push(format!("expected violations found by {}", expected.join(", ")));
        }
        format!("verdict: {word}: {} ({runs} runs): {}", self.scope(), findings.join("; "))
    }

    /// `6 scenarios, seeds 0..=999` (`merge`: `in 8 shards`; a canary is named).
    fn scope(&self) -> String {
        let invocation = self.invocation;
        let scenarios = match self.scenarios.as_slice() {
            [(only, _)] => only.scenario.clone(),
            all => format!("{} scenarios", all.len()),
        };
        let canary =
            invocation.canary.as_ref().map_or(String::new(), |c| format!(" with canary {c}"));
        let shards = match self.shards_merged {
            Some(files) => format!(" in {} shards ({files} merged)", invocation.shard_count),
            None => String::new(),
        };
        let seeds = invocation.describe_seeds(self.shards_merged.is_none());
        format!("{scenarios}{canary}, {seeds}{shards}")
    }

    fn failures(&self) -> Option<String> {
        let failing: Vec<String> = self
            .scenarios
            .iter()
            .filter(|(_, v)| *v == Verdict::Failed)
            .map(|(s, _)| {
                format!("{} {} (first seed {})", s.scenario, s.failed.len(), s.failed[0].seed)
            })
            .collect();
        let seeds: usize = self
            .scenarios
            .iter()
            .filter(|(_, v)| *v == Verdict::Failed)
            .map(|(s, _)| s.failed.len())
            .sum();
        (!failing.is_empty()).then(|| format!("{seeds} seeds failed: {}", failing.join(", ")))
    }

    fn blind(&self) -> Option<String> {
        let blind: Vec<String> = self
            .scenarios
            .iter()
            .filter(|(_, v)| *v == Verdict::BrokenHarness)
            .map(|(s, _)| format!("{} found no violation in {} seeds", s.scenario, s.seeds_run))
            .collect();
        (!blind.is_empty()).then(|| format!("BROKEN HARNESS: {}", blind.join(", ")))
    }

    fn expected_finds(&self) -> Vec<String> {
        self.scenarios
            .iter()
            .filter(|(_, v)| *v == Verdict::FoundAsExpected)
            .map(|(s, _)| {
                format!("{} ({}, first seed {})", s.scenario, s.failed.len(), s.failed[0].seed)
            })
            .collect()
    }
}

fn is_failure(verdict: Verdict) -> bool {
    matches!(verdict, Verdict::Failed | Verdict::BrokenHarness)
}
