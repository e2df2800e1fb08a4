//! `fencepost stress`: many seeds on all cores. Each seed is still one thread and
//! deterministic; results are gathered and ordered by seed, so they do not depend on `--jobs`.

use crate::{check_canary, exit, scenario, UsageError};
use indicatif::{ProgressBar, ProgressStyle};
use scenarios::{RunRequest, ScenarioEntry};
use serde::{Deserialize, Serialize};
use sim::{Coverage, Outcome};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};

#[derive(clap::Args)]
pub struct StressArgs {
    /// A scenario name, or `all`.
    #[arg(long, default_value = "all")]
    scenario: String,
    /// How many seeds to run (per scenario).
    #[arg(long, default_value_t = 1000)]
    seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 0, value_parser = crate::parse_seed)]
    start: u64,
    /// Worker threads (default: every core).
    #[arg(long)]
    jobs: Option<usize>,
    /// Switch on a canary (a deliberately broken variant).
    #[arg(long)]
    canary: Option<String>,
    /// Write a machine-readable summary here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Re-run a sample of seeds twice more and fail loudly if any trace hash differs.
    #[arg(long)]
    check_determinism: bool,
    /// Write every failing seed as a regression-corpus case (JSON) into this folder.
    #[arg(long)]
    save_failures: Option<PathBuf>,
    /// Run only the I-th of N interleaved slices of the seed range (0-based), for batch engines.
    #[arg(long, value_parser = parse_shard)]
    shard: Option<Shard>,
}

/// One slice of a seed range: seeds whose offset from `--start` is `index` modulo `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

fn parse_shard(text: &str) -> Result<Shard, String> {
    let bad = || format!("shard {text:?} is not I/N with 0 <= I < N");
    let (index, count) = text.split_once('/').ok_or_else(bad)?;
    let (index, count) = (index.parse().map_err(|_| bad())?, count.parse().map_err(|_| bad())?);
    if count == 0 || index >= count {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

impl StressArgs {
    /// How many seeds this invocation runs (its shard's share of `--seeds`).
    fn seed_count(&self) -> u64 {
        let shard = self.shard.unwrap_or(Shard { index: 0, count: 1 });
        self.seeds / shard.count + u64::from(shard.index < self.seeds % shard.count)
    }

    /// The `k`-th seed this invocation runs; computed, never materialized, so a campaign of
    /// billions of seeds costs no memory up front.
    fn seed_at(&self, k: u64) -> u64 {
        let shard = self.shard.unwrap_or(Shard { index: 0, count: 1 });
        self.start.wrapping_add(shard.index + k * shard.count)
    }
}

impl StressArgs {
    /// What `fencepost` with no subcommand runs.
    pub fn default_job() -> StressArgs {
        StressArgs {
            scenario: "all".into(),
            seeds: 1000,
            start: 0,
            jobs: None,
            canary: None,
            json: None,
            check_determinism: false,
            save_failures: None,
            shard: None,
        }
    }
}

/// One failed seed, as the summary lists it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Failure {
    pub seed: u64,
    pub outcome: String,
    pub invariant: String,
    pub step: u64,
    pub sim_time_ns: u64,
}

/// What a stress run of one scenario found (one shard's, or several merged).
#[derive(Debug, Serialize, Deserialize)]
pub struct ScenarioSummary {
    pub scenario: String,
    pub canary: Option<String>,
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
    pub interrupted: bool,
}

struct SeedResult {
    seed: u64,
    trace_hash: u64,
    outcome: Outcome,
    steps: u64,
    sim_time_ns: u64,
    coverage: Coverage,
}

pub fn main(args: StressArgs) -> Result<u8, UsageError> {
    let entries: Vec<&'static ScenarioEntry> = if args.scenario == "all" {
        scenarios::SCENARIOS.iter().collect()
    } else {
        vec![scenario(&args.scenario)?]
    };
    for entry in &entries {
        if args.scenario != "all" || args.canary.is_some() {
            check_canary(entry, args.canary.as_deref())?;
        }
    }
    let jobs =
        args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if jobs == 0 {
        return Err(UsageError("--jobs must be at least 1".into()));
    }
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    // A second handler cannot be installed; a repeated run in one process just keeps the first.
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    let mut summaries = Vec::new();
    let mut worst = exit::PASSED;
    for entry in entries {
        let summary = stress_one(entry, &args, jobs, &interrupted);
        print_summary(&summary);
        if entry.expects_violations && args.canary.is_none() {
            // A variant outside what the protocol survives: finding nothing means the harness
            // is blind, which is the failure here.
            if summary.failed.is_empty() && summary.seeds_run > 0 {
                crate::output::line(format!(
                    "BROKEN HARNESS scenario={}: expected violations, found none in {} seeds",
                    entry.name, summary.seeds_run
                ));
                worst = worst.max(exit::SAFETY);
            } else {
                crate::output::line(format!(
                    "  {} violations found, as expected for this variant",
                    summary.failed.len()
                ));
            }
        } else if let Some(first) = summary.failed.first() {
            let request = RunRequest {
                seed: first.seed,
                canary: args.canary.clone(),
                ..RunRequest::default()
            };
            for line in entry.reproduce(&request) {
                crate::output::line(format!("  reproduce: {line}"));
            }
            worst = worst.max(exit::SAFETY);
        }
        summaries.push(summary);
        if interrupted.load(Ordering::SeqCst) {
            break;
        }
    }
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&summaries).expect("summaries serialize");
        std::fs::write(path, json)
            .map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(worst)
}

fn stress_one(
    entry: &'static ScenarioEntry,
    args: &StressArgs,
    jobs: usize,
    interrupted: &AtomicBool,
) -> ScenarioSummary {
    let started = crate::bench::wall_clock();
    let seed_count = args.seed_count();
    let progress = ProgressBar::new(seed_count);
    progress.set_style(
        ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} seeds  {msg}  eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    progress.set_prefix(entry.name);
    let next = AtomicU64::new(0);
    let (sender, receiver) = mpsc::channel::<SeedResult>();
    let mut results: Vec<SeedResult> = Vec::new();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let sender = sender.clone();
            let next = &next;
            scope.spawn(move || loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= seed_count || interrupted.load(Ordering::Relaxed) {
                    break;
                }
                let seed = args.seed_at(index);
                let request =
                    RunRequest { seed, canary: args.canary.clone(), ..RunRequest::default() };
                let report = (entry.run)(&request);
                let result = SeedResult {
                    seed,
                    trace_hash: report.trace_hash,
                    outcome: report.outcome,
                    steps: report.steps,
                    sim_time_ns: report.sim_time_ns,
                    coverage: report.coverage,
                };
                if sender.send(result).is_err() {
                    break;
                }
            });
        }
        drop(sender);
        let (mut failures, mut events) = (0u64, 0u64);
        for result in receiver {
            events += result.steps;
            if result.outcome != Outcome::Passed {
                failures += 1;
                let line = failure_line(entry.name, &result);
                let line = if entry.expects_violations && args.canary.is_none() {
                    line.replacen("FAILED", "FOUND", 1)
                } else {
                    line
                };
                progress.suspend(|| crate::output::line(line));
            }
            let elapsed = started.elapsed().as_secs_f64().max(1e-9);
            progress.set_message(format!(
                "{failures} failed  {:.2}M events/s",
                events as f64 / elapsed / 1e6
            ));
            progress.inc(1);
            results.push(result);
        }
    });
    progress.finish_and_clear();
    results.sort_by_key(|r| r.seed);
    let wall_time_s = started.elapsed().as_secs_f64();
    if args.check_determinism {
        check_sample(entry, args, &results);
    }
    if let Some(folder) = &args.save_failures {
        save_failures(entry, args, &results, folder);
    }
    summarize(entry, args, results, wall_time_s, interrupted)
}

/// Re-runs up to 16 seeds spread over the range (and every failure) and compares hashes.
/// A mismatch is a harness bug, so it aborts the whole run loudly.
fn check_sample(entry: &ScenarioEntry, args: &StressArgs, results: &[SeedResult]) {
    let stride = (results.len() / 16).max(1);
    let sample = results
        .iter()
        .enumerate()
        .filter(|(index, r)| index % stride == 0 || r.outcome != Outcome::Passed)
        .map(|(_, r)| r);
    let mut checked = 0;
    for result in sample {
        let request =
            RunRequest { seed: result.seed, canary: args.canary.clone(), ..RunRequest::default() };
        let again = (entry.run)(&request).trace_hash;
        if again != result.trace_hash {
            crate::output::line(format!(
                "NONDETERMINISM scenario={} seed={}: trace hash {:016x} then {again:016x}; \
                 run `fencepost replay --scenario {} --seed {} --check-determinism` for the step",
                entry.name, result.seed, result.trace_hash, entry.name, result.seed
            ));
            std::process::exit(exit::SAFETY as i32);
        }
        checked += 1;
    }
    crate::output::line(format!("  determinism: {checked} seeds re-run, every trace hash equal"));
}

/// Writes each failing seed as a corpus case into `folder`.
fn save_failures(
    entry: &ScenarioEntry,
    args: &StressArgs,
    results: &[SeedResult],
    folder: &PathBuf,
) {
    if let Err(error) = std::fs::create_dir_all(folder) {
        crate::output::line(format!("cannot create {}: {error}", folder.display()));
        return;
    }
    for result in results.iter().filter(|r| r.outcome != Outcome::Passed) {
        let request =
            RunRequest { seed: result.seed, canary: args.canary.clone(), ..RunRequest::default() };
        let why = format!("found by stress of {} at seed {}", entry.name, result.seed);
        let case = crate::shrink::case_for(entry, &request, why);
        let canary = args.canary.as_deref().map_or(String::new(), |c| format!("-{c}"));
        let path = folder.join(format!("{}{canary}-seed-{}.json", entry.name, result.seed));
        let json = serde_json::to_string_pretty(&case).expect("cases serialize");
        if let Err(error) = std::fs::write(&path, json) {
            crate::output::line(format!("cannot write {}: {error}", path.display()));
        }
    }
}

fn failure_line(scenario: &str, result: &SeedResult) -> String {
    let invariant = match &result.outcome {
        Outcome::Safety(v) | Outcome::Liveness(v) => v.invariant.clone(),
        Outcome::BoundExceeded { bound } => format!("Bound({bound})"),
        Outcome::Passed => String::new(),
    };
    format!(
        "FAILED scenario={scenario} seed={} invariant={invariant} step={} outcome={}",
        result.seed,
        result.steps,
        result.outcome.label()
    )
}

fn summarize(
    entry: &ScenarioEntry,
    args: &StressArgs,
    results: Vec<SeedResult>,
    wall_time_s: f64,
    interrupted: &AtomicBool,
) -> ScenarioSummary {
    let mut coverage = Coverage::default();
    let mut failed = Vec::new();
    let (mut events, mut sim_time_ns) = (0, 0);
    for result in &results {
        coverage.merge(&result.coverage);
        events += result.steps;
        sim_time_ns += result.sim_time_ns;
        let invariant = match &result.outcome {
            Outcome::Passed => continue,
            Outcome::Safety(v) | Outcome::Liveness(v) => v.invariant.clone(),
            Outcome::BoundExceeded { bound } => bound.clone(),
        };
        failed.push(Failure {
            seed: result.seed,
            outcome: result.outcome.label().to_string(),
            invariant,
            step: result.steps,
            sim_time_ns: result.sim_time_ns,
        });
    }
    ScenarioSummary {
        scenario: entry.name.to_string(),
        canary: args.canary.clone(),
        seeds_run: results.len() as u64,
        passed: results.len() as u64 - failed.len() as u64,
        failed,
        events,
        sim_time_ns,
        wall_time_s,
        events_per_s: events as f64 / wall_time_s.max(1e-9),
        faults: coverage.faults.iter().map(|(k, n)| (k.name().to_string(), *n)).collect(),
        probes: coverage.probes.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
        interrupted: interrupted.load(Ordering::SeqCst),
    }
}

pub fn print_summary(summary: &ScenarioSummary) {
    crate::output::line(format!(
        "{}: {} passed, {} failed of {} seeds{}  ({} events, {:.2}M events/s, {:.1}s wall)",
        summary.scenario,
        summary.passed,
        summary.failed.len(),
        summary.seeds_run,
        if summary.interrupted { " (interrupted)" } else { "" },
        summary.events,
        summary.events_per_s / 1e6,
        summary.wall_time_s
    ));
    let faults: Vec<String> = summary.faults.iter().map(|(k, n)| format!("{k}={n}")).collect();
    crate::output::line(format!(
        "  faults fired: {}",
        if faults.is_empty() { "none".into() } else { faults.join(" ") }
    ));
    let probes: Vec<String> = summary.probes.iter().map(|(k, n)| format!("{k}={n}")).collect();
    crate::output::line(format!(
        "  probes hit: {}",
        if probes.is_empty() { "none".into() } else { probes.join(" ") }
    ));
}

#[derive(clap::Args)]
pub struct MergeArgs {
    /// Shard summaries written by `stress --json`.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Write the merged summary here.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// `fencepost merge`: combines shard summaries into one report, per scenario and canary.
pub fn merge(args: MergeArgs) -> Result<u8, UsageError> {
    let mut merged: BTreeMap<(String, Option<String>), ScenarioSummary> = BTreeMap::new();
    for path in &args.files {
        let text = std::fs::read_to_string(path)
            .map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
        let shard: Vec<ScenarioSummary> = serde_json::from_str(&text)
            .map_err(|e| UsageError(format!("{} is not a stress summary: {e}", path.display())))?;
        for summary in shard {
            let key = (summary.scenario.clone(), summary.canary.clone());
            match merged.get_mut(&key) {
                None => {
                    merged.insert(key, summary);
                }
                Some(total) => add(total, summary),
            }
        }
    }
    let mut worst = exit::PASSED;
    for summary in merged.values_mut() {
        summary.failed.sort_by_key(|f| f.seed);
        summary.events_per_s = summary.events as f64 / summary.wall_time_s.max(1e-9);
        print_summary(summary);
        if !summary.failed.is_empty() {
            worst = exit::SAFETY;
        }
    }
    if let Some(path) = &args.json {
        let all: Vec<&ScenarioSummary> = merged.values().collect();
        let json = serde_json::to_string_pretty(&all).expect("summaries serialize");
        std::fs::write(path, json)
            .map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(worst)
}

fn add(total: &mut ScenarioSummary, shard: ScenarioSummary) {
    total.seeds_run += shard.seeds_run;
    total.passed += shard.passed;
    total.failed.extend(shard.failed);
    total.events += shard.events;
    total.sim_time_ns += shard.sim_time_ns;
    // Machine time: shards ran side by side, so events_per_s becomes a per-machine rate.
    total.wall_time_s += shard.wall_time_s;
    total.interrupted |= shard.interrupted;
    for (kind, count) in shard.faults {
        *total.faults.entry(kind).or_insert(0) += count;
    }
    for (probe, count) in shard.probes {
        *total.probes.entry(probe).or_insert(0) += count;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(seeds: u64, start: u64, shard: Option<Shard>) -> StressArgs {
        StressArgs { seeds, start, shard, ..StressArgs::default_job() }
    }

    fn seeds_of(args: &StressArgs) -> Vec<u64> {
        (0..args.seed_count()).map(|k| args.seed_at(k)).collect()
    }

    #[test]
    fn shards_partition_the_range_exactly() {
        for (seeds, count) in [(10, 3), (9, 3), (2, 5), (0, 2), (100, 1)] {
            let mut all: Vec<u64> = (0..count)
                .flat_map(|index| seeds_of(&args(seeds, 7, Some(Shard { index, count }))))
                .collect();
            all.sort_unstable();
            assert_eq!(all, (7..7 + seeds).collect::<Vec<_>>(), "{seeds} seeds in {count} shards");
        }
    }

    #[test]
    fn shard_syntax_is_checked() {
        assert_eq!(parse_shard("1/4"), Ok(Shard { index: 1, count: 4 }));
        for bad in ["4/4", "1/0", "x/2", "1", "-1/2"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }
}
