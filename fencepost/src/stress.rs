//! `fencepost stress`: many seeds on all cores. Each seed is still one thread and
//! deterministic; results are folded into running totals as they arrive (memory stays flat in
//! the number of seeds: only failures and a bounded determinism sample are kept) and failures
//! are ordered by seed, so nothing depends on `--jobs`.

use crate::cli::{check_canary, scenario};
use crate::registry::{Registry, RunRequest, ScenarioEntry};
use crate::summary::{self, Failure, Invocation, ScenarioSummary, SeedRange};
use crate::verdict::Judged;
use crate::{exit, output, UsageError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

mod seeds;
pub use seeds::run_quietly;
use seeds::{run_seeds, Totals};

/// The most worker threads a run starts, whatever `--jobs` says: far past any machine's cores,
/// and few enough to start at once (a million threads took 23 s before the first seed ran).
const JOBS_MAX: usize = 1024;

#[derive(clap::Args)]
pub struct StressArgs {
    /// A scenario name, or `all`.
    #[arg(long, default_value = "all")]
    scenario: String,
    /// How many seeds to run (per scenario).
    #[arg(long, default_value_t = 1000, value_parser = crate::cli::parse_number)]
    seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 0, value_parser = crate::cli::parse_number)]
    start: u64,
    /// Worker threads (default: every core; never more than the seeds to run, nor 1024).
    #[arg(long, value_parser = crate::cli::parse_jobs)]
    jobs: Option<usize>,
    /// Switch on a canary (a deliberately broken variant).
    #[arg(long)]
    canary: Option<String>,
    /// Write a machine-readable summary here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Re-run about 16 seeds spread over the range, and every failure, once each, and fail
    /// loudly if any trace hash differs.
    #[arg(long)]
    check_determinism: bool,
    /// Write every failing seed as a regression-corpus case (JSON) into this folder.
    #[arg(long)]
    save_failures: Option<PathBuf>,
    /// Run only the I-th of N interleaved slices of the seed range (0-based), for batch engines.
    #[arg(long, value_parser = parse_shard)]
    shard: Option<Shard>,
    /// Seconds between plain progress lines on stderr when stderr is not a terminal (CI,
    /// container logs); a terminal shows a live bar instead. 0 turns the lines off.
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = crate::progress::parse_interval)]
    progress_interval: Duration,
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
    let number = |text: &str| sim::seeds::parse_number(text).map_err(|_| bad());
    let (index, count) = (number(index)?, number(count)?);
    if count == 0 || index >= count {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

impl StressArgs {
    fn shard(&self) -> Shard {
        self.shard.unwrap_or(Shard { index: 0, count: 1 })
    }

    /// How many seeds this invocation runs (its shard's share of `--seeds`).
    fn seed_count(&self) -> u64 {
        let shard = self.shard();
        self.seeds / shard.count + u64::from(shard.index < self.seeds % shard.count)
    }

    /// The `k`-th seed this invocation runs; computed, never materialized, so a campaign of
    /// billions of seeds costs no memory up front. [`StressArgs::check_range`] made sure it
    /// never passes `u64::MAX`.
    fn seed_at(&self, k: u64) -> u64 {
        let shard = self.shard();
        self.start + shard.index + k * shard.count
    }

    /// Refuses a range that runs no seed or would wrap round past `u64::MAX`: either is a
    /// mistake that would otherwise pass quietly.
    fn check_range(&self) -> Result<(), UsageError> {
        if self.seeds == 0 {
            return Err(UsageError("--seeds 0 runs nothing: ask for at least 1".into()));
        }
        if self.start.checked_add(self.seeds - 1).is_none() {
            return Err(UsageError(format!(
                "--start {} with --seeds {} runs past the last seed, {}: at most {} seeds \
                 start there",
                self.start,
                self.seeds,
                u64::MAX,
                u64::MAX - self.start + 1
            )));
        }
        if self.seed_count() == 0 {
            let shard = self.shard();
            return Err(UsageError(format!(
                "--shard {}/{} of {} seeds runs no seed: use at most {} shards",
                shard.index, shard.count, self.seeds, self.seeds
            )));
        }
        Ok(())
    }

    fn invocation(&self, entries: &[&ScenarioEntry]) -> Invocation {
        let shard = self.shard();
        Invocation {
            start: self.start,
            seeds: self.seeds,
            shard_index: shard.index,
            shard_count: shard.count,
            scenarios: entries.iter().map(|e| e.name().to_string()).collect(),
            canary: self.canary.clone(),
        }
    }

    /// The worker threads to start: `--jobs` (else every core), but never more than the seeds
    /// this invocation runs, nor [`JOBS_MAX`].
    fn workers(&self) -> usize {
        let jobs = self
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let seeds = usize::try_from(self.seed_count()).unwrap_or(usize::MAX);
        jobs.min(seeds).clamp(1, JOBS_MAX)
    }

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
            progress_interval: crate::progress::INTERVAL_DEFAULT,
        }
    }
}

/// How many seeds apart the determinism sample is taken: about 16 spread over the range.
fn sample_stride(seed_count: u64) -> u64 {
    (seed_count / 16).max(1)
}

pub fn main(registry: &Registry, args: StressArgs) -> Result<u8, UsageError> {
    let entries: Vec<&ScenarioEntry> = if args.scenario == "all" {
        registry.entries().iter().collect()
    } else {
        vec![scenario(registry, &args.scenario)?]
    };
    if let Some(canary) = args.canary.as_deref() {
        if args.scenario == "all" {
            return Err(crate::cli::canary_needs_its_scenario(registry, canary));
        }
        check_canary(registry, entries[0], Some(canary))?;
    }
    args.check_range()?;
    check_outputs(&args)?;
    let jobs = args.workers();
    let invocation = args.invocation(&entries);
    let interrupted = interrupt_flag();
    let (mut summaries, mut output_failed) = (Vec::new(), false);
    for &entry in &entries {
        let (summary, saved) = stress_one(registry, entry, &args, jobs, &interrupted, &invocation);
        let verdict = summary::print(registry, &summary);
        if verdict == summary::Verdict::Failed {
            print_reproduce(registry, entry, &summary);
        }
        output_failed |= !saved;
        summaries.push(summary);
    }
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&summaries).expect("summaries serialize");
        if let Err(UsageError(message)) = output::write_file(path, json.as_bytes()) {
            eprintln!("error: {message}");
            output_failed = true;
        }
    }
    let judged = Judged {
        invocation: &invocation,
        shards_merged: None,
        scenarios: summaries.iter().map(|s| (s, summary::verdict(registry, s))).collect(),
        missing_shards: None,
        output_lost: output_failed,
    };
    output::line(judged.line());
    Ok(judged.exit_code())
}

/// The lines that replay the first failure of `summary` (`stress` and `merge` print the same).
pub fn print_reproduce(registry: &Registry, entry: &ScenarioEntry, summary: &ScenarioSummary) {
    let Some(first) = summary.failed.first() else { return };
    let request = RunRequest::seed(first.seed).with_canary(summary.canary.as_deref());
    for line in entry.reproduce(&registry.invocation(), &request, None) {
        output::line(format!("  reproduce: {line}"));
    }
}

/// A flag set by Ctrl-C, SIGTERM (a Kubernetes eviction, a CI timeout) or SIGHUP: the run stops
/// taking new seeds, finishes those under way and reports. A second signal exits at once.
fn interrupt_flag() -> Arc<AtomicBool> {
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    // A second handler cannot be installed; a repeated run in one process keeps the first.
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            eprintln!("interrupted again: exiting without a summary");
            std::process::exit(exit::INTERRUPTED.into());
        }
        eprintln!("interrupted: finishing the seeds under way, then the summary (again: exit now)");
    });
    interrupted
}

/// Fails before any seed runs when `--json` or `--save-failures` cannot be written, so a long
/// run never ends with its results lost.
fn check_outputs(args: &StressArgs) -> Result<(), UsageError> {
    if let Some(path) = &args.json {
        output::check_writable("--json", path)?;
    }
    if let Some(folder) = &args.save_failures {
        let bad = |e: std::io::Error| {
            UsageError(format!("cannot write --save-failures {}: {e}", folder.display()))
        };
        std::fs::create_dir_all(folder).map_err(bad)?;
        output::check_writable("--save-failures", &folder.join("case.json"))?;
    }
    Ok(())
}

/// Runs one scenario's seeds (none once interrupted) and summarizes them. The flag is false
/// when `--save-failures` could not write a case (said on stderr).
fn stress_one(
    registry: &Registry,
    entry: &ScenarioEntry,
    args: &StressArgs,
    jobs: usize,
    interrupted: &AtomicBool,
    invocation: &Invocation,
) -> (ScenarioSummary, bool) {
    let started = crate::bench::wall_clock();
    let mut totals = run_seeds(entry, args, jobs, interrupted, true);
    totals.failures.sort_by_key(|f| f.seed);
    totals.hashes.sort_unstable();
    let wall_time_s = started.elapsed().as_secs_f64();
    let stopped = interrupted.load(Ordering::SeqCst);
    let determinism_checked = (args.check_determinism && !stopped && totals.seeds_run > 0)
        .then(|| check_sample(registry, entry, args, &totals.hashes));
    let saved = match &args.save_failures {
        Some(folder) => save_failures(entry, args, &totals.failures, folder),
        None => true,
    };
    let mut summary = summarize(entry, args, totals, wall_time_s, stopped, determinism_checked);
    summary.invocation = Some(invocation.clone());
    (summary, saved)
}

/// Re-runs every seed of the sample (and every failure) once and compares hashes. A mismatch
/// is a harness bug, so it aborts the whole run loudly. Returns how many seeds were re-run.
fn check_sample(
    registry: &Registry,
    entry: &ScenarioEntry,
    args: &StressArgs,
    hashes: &[(u64, u64)],
) -> u64 {
    for &(seed, hash) in hashes {
        let request = RunRequest::seed(seed).with_canary(args.canary.as_deref());
        let again = entry.run(&request).trace_hash;
        if again != hash {
            crate::output::line(format!(
                "NONDETERMINISM scenario={} seed={seed}: trace hash {hash:016x} then \
                 {again:016x}; run `{} replay --scenario {} --seed {seed} \
                 --check-determinism` for the step",
                entry.name(),
                registry.invocation(),
                entry.name()
            ));
            std::process::exit(exit::SAFETY as i32);
        }
    }
    hashes.len() as u64
}

/// Writes each failing seed as a corpus case into `folder`; false (said on stderr) when one
/// could not be written.
fn save_failures(
    entry: &ScenarioEntry,
    args: &StressArgs,
    failures: &[Failure],
    folder: &Path,
) -> bool {
    let mut all_saved = true;
    for failure in failures {
        let request = RunRequest::seed(failure.seed).with_canary(args.canary.as_deref());
        let why = format!("found by stress of {} at seed {}", entry.name(), failure.seed);
        let case = crate::case::case_for(entry, &request, why);
        let canary = args.canary.as_deref().map_or(String::new(), |c| format!("-{c}"));
        let path = folder.join(format!("{}{canary}-seed-{}.json", entry.name(), failure.seed));
        let json = serde_json::to_string_pretty(&case).expect("cases serialize");
        if let Err(UsageError(message)) = output::write_file(&path, json.as_bytes()) {
            eprintln!("error: {message}");
            all_saved = false;
        }
    }
    all_saved
}

fn summarize(
    entry: &ScenarioEntry,
    args: &StressArgs,
    totals: Totals,
    wall_time_s: f64,
    interrupted: bool,
    determinism_checked: Option<u64>,
) -> ScenarioSummary {
    let shard = args.shard();
    let covers = (totals.seeds_run > 0)
        .then_some(SeedRange {
            start: args.start + shard.index,
            stride: shard.count,
            count: totals.seeds_run,
        })
        .into_iter()
        .collect();
    let seeds_asked = args.seed_count();
    ScenarioSummary {
        scenario: entry.name().to_string(),
        canary: args.canary.clone(),
        seeds_run: totals.seeds_run,
        passed: totals.passed,
        failed: totals.failures,
        events: totals.events,
        sim_time_ns: totals.sim_time_ns,
        wall_time_s,
        events_per_s: totals.events as f64 / wall_time_s.max(1e-9),
        faults: totals.coverage.faults.iter().map(|(k, n)| (k.name().to_string(), *n)).collect(),
        probes: totals.coverage.probes.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
        strikes: totals.coverage.strikes.clone(),
        interrupted: interrupted && totals.seeds_run < seeds_asked,
        seeds_asked,
        covers,
        invocation: None,
        determinism_checked,
        missing_shards: None,
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
    fn empty_and_wrapping_ranges_are_refused() {
        let refused = |args: StressArgs| args.check_range().err().map(|e| e.0);
        assert!(refused(args(0, 0, None)).unwrap().starts_with("--seeds 0 runs nothing"));
        let wraps = refused(args(2, u64::MAX, None)).unwrap();
        assert!(wraps.contains("runs past the last seed") && wraps.contains("at most 1 seeds"));
        assert_eq!(refused(args(1, u64::MAX, None)), None, "the last seed alone fits");
        let empty_shard = refused(args(3, 0, Some(Shard { index: 5, count: 8 }))).unwrap();
        assert!(empty_shard.contains("--shard 5/8 of 3 seeds runs no seed"), "{empty_shard}");
        assert_eq!(seeds_of(&args(2, u64::MAX - 1, None)), vec![u64::MAX - 1, u64::MAX]);
    }

    #[test]
    fn shard_syntax_is_checked() {
        assert_eq!(parse_shard("1/4"), Ok(Shard { index: 1, count: 4 }));
        for bad in ["4/4", "1/0", "x/2", "1", "-1/2"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }
}
