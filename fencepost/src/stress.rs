//! `fencepost stress`: many seeds on all cores. Each seed is still one thread and
//! deterministic; results are folded into running totals as they arrive (memory stays flat in
//! the number of seeds: only failures and a bounded determinism sample are kept) and failures
//! are ordered by seed, so nothing depends on `--jobs`.

use crate::cli::{check_canary, scenario};
use crate::registry::{Registry, RunRequest, ScenarioEntry};
use crate::summary::{self, Failure, Invocation, ScenarioSummary, SeedRange, Verdict};
use crate::{exit, UsageError};
use indicatif::{ProgressBar, ProgressStyle};
use sim::{Coverage, Outcome};
use std::path::{Path, PathBuf};
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
    #[arg(long, default_value_t = 0, value_parser = crate::cli::parse_seed)]
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

    fn invocation(&self) -> Invocation {
        let shard = self.shard();
        Invocation {
            start: self.start,
            seeds: self.seeds,
            shard_index: shard.index,
            shard_count: shard.count,
        }
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
        }
    }
}

/// One seed's result, as a worker hands it over to be folded into the totals.
struct SeedResult {
    /// Its position in this invocation's seeds.
    index: u64,
    seed: u64,
    trace_hash: u64,
    outcome: Outcome,
    steps: u64,
    sim_time_ns: u64,
    coverage: Coverage,
}

/// Running totals of one scenario's seeds. Memory stays flat in the number of seeds: only the
/// failures and the determinism sample's hashes are kept.
#[derive(Default)]
struct Totals {
    seeds_run: u64,
    passed: u64,
    failures: Vec<Failure>,
    events: u64,
    sim_time_ns: u64,
    coverage: Coverage,
    /// (seed, trace hash) of every seed `--check-determinism` re-runs.
    hashes: Vec<(u64, u64)>,
    /// One past the highest index that ran: equals `seeds_run` when the seeds that ran are
    /// the first ones, which `covers` relies on.
    index_end: u64,
}

impl Totals {
    fn add(&mut self, result: SeedResult, keep_hash: bool) {
        self.seeds_run += 1;
        self.events += result.steps;
        self.sim_time_ns += result.sim_time_ns;
        self.coverage.merge(&result.coverage);
        self.index_end = self.index_end.max(result.index + 1);
        if keep_hash {
            self.hashes.push((result.seed, result.trace_hash));
        }
        let Some(invariant) = result.outcome.failure_name() else {
            self.passed += 1;
            return;
        };
        let panic = match &result.outcome {
            Outcome::Panic(panicked) => Some(panicked.to_string()),
            _ => None,
        };
        self.failures.push(Failure {
            seed: result.seed,
            outcome: result.outcome.label().to_string(),
            invariant,
            step: result.steps,
            sim_time_ns: result.sim_time_ns,
            trace_hash: format!("{:016x}", result.trace_hash),
            panic,
        });
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
    args.check_range()?;
    check_outputs(&args)?;
    let interrupted = interrupt_flag();
    let (mut summaries, mut verdicts, mut output_failed) = (Vec::new(), Vec::new(), false);
    for entry in entries {
        let (summary, saved) = stress_one(registry, entry, &args, jobs, &interrupted);
        let verdict = summary::print(registry, &summary);
        if verdict == Verdict::Failed {
            let first = summary.failed.first().expect("a failed verdict has failures");
            let request = RunRequest::seed(first.seed).with_canary(args.canary.as_deref());
            for line in entry.reproduce(&registry.invocation(), &request, None) {
                crate::output::line(format!("  reproduce: {line}"));
            }
        }
        output_failed |= !saved;
        verdicts.push(verdict);
        summaries.push(summary);
    }
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&summaries).expect("summaries serialize");
        if let Err(error) = std::fs::write(path, json) {
            eprintln!("error: cannot write {}: {error}", path.display());
            output_failed = true;
        }
    }
    if output_failed {
        return Ok(exit::USAGE);
    }
    // A signal after the last seed interrupted nothing: every seed asked for ran.
    let stopped_early = summaries.iter().any(|s| s.interrupted);
    Ok(summary::exit_code(&verdicts, stopped_early))
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
        let existed = path.exists();
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| UsageError(format!("cannot write --json {}: {e}", path.display())))?;
        if !existed {
            let _ = std::fs::remove_file(path);
        }
    }
    if let Some(folder) = &args.save_failures {
        let bad = |e: std::io::Error| {
            UsageError(format!("cannot write --save-failures {}: {e}", folder.display()))
        };
        std::fs::create_dir_all(folder).map_err(bad)?;
        let probe = folder.join(".fencepost-write-check");
        std::fs::write(&probe, b"").map_err(bad)?;
        let _ = std::fs::remove_file(probe);
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
    (summarize(entry, args, totals, wall_time_s, stopped, determinism_checked), saved)
}

/// Runs this invocation's seeds of `entry` on `jobs` threads and folds their results. Workers
/// look at the flag before taking a seed and run every seed they took, so the seeds that ran
/// are always the first ones.
fn run_seeds(
    entry: &ScenarioEntry,
    args: &StressArgs,
    jobs: usize,
    interrupted: &AtomicBool,
    show_progress: bool,
) -> Totals {
    // `show_progress` off: no bar and no failure lines (bench's quiet runs).
    let started = crate::bench::wall_clock();
    let seed_count = args.seed_count();
    let stride = sample_stride(seed_count);
    let progress = if show_progress { ProgressBar::new(seed_count) } else { ProgressBar::hidden() };
    progress.set_style(
        ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} seeds  {msg}  eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    progress.set_prefix(entry.name());
    let next = AtomicU64::new(0);
    let (sender, receiver) = mpsc::channel::<SeedResult>();
    let mut totals = Totals::default();
    let expected_finds = entry.expects_violations() && args.canary.is_none();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let sender = sender.clone();
            let next = &next;
            scope.spawn(move || loop {
                if interrupted.load(Ordering::SeqCst) {
                    break;
                }
                let index = next.fetch_add(1, Ordering::SeqCst);
                if index >= seed_count {
                    break;
                }
                if sender.send(run_one(entry, args, index)).is_err() {
                    break;
                }
            });
        }
        drop(sender);
        for result in receiver {
            if result.outcome != Outcome::Passed && show_progress {
                let line = failure_line(entry.name(), &result);
                let line = if expected_finds { line.replacen("FAILED", "FOUND", 1) } else { line };
                progress.suspend(|| crate::output::line(line));
            }
            let keep_hash = args.check_determinism
                && (result.index.is_multiple_of(stride) || result.outcome != Outcome::Passed);
            totals.add(result, keep_hash);
            let elapsed = started.elapsed().as_secs_f64().max(1e-9);
            progress.set_message(format!(
                "{} failed  {:.2}M events/s",
                totals.failures.len(),
                totals.events as f64 / elapsed / 1e6
            ));
            progress.inc(1);
        }
    });
    progress.finish_and_clear();
    assert_eq!(totals.index_end, totals.seeds_run, "the seeds that ran are the first ones");
    totals
}

/// Runs the `index`-th seed of this invocation.
fn run_one(entry: &ScenarioEntry, args: &StressArgs, index: u64) -> SeedResult {
    let seed = args.seed_at(index);
    let report = entry.run(&RunRequest::seed(seed).with_canary(args.canary.as_deref()));
    SeedResult {
        index,
        seed,
        trace_hash: report.trace_hash,
        outcome: report.outcome,
        steps: report.steps,
        sim_time_ns: report.sim_time_ns,
        coverage: report.coverage,
    }
}

/// Runs seeds `0..seeds` of `entry` on `jobs` threads exactly as `stress` does, printing
/// nothing; returns how many ran and how many failed. For `bench`'s memory figure.
pub fn run_quietly(entry: &ScenarioEntry, seeds: u64, jobs: usize) -> (u64, usize) {
    let args = StressArgs { seeds, jobs: Some(jobs), ..StressArgs::default_job() };
    let never = AtomicBool::new(false);
    let totals = run_seeds(entry, &args, jobs, &never, false);
    (totals.seeds_run, totals.failures.len())
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
        let case = crate::shrink::case_for(entry, &request, why);
        let canary = args.canary.as_deref().map_or(String::new(), |c| format!("-{c}"));
        let path = folder.join(format!("{}{canary}-seed-{}.json", entry.name(), failure.seed));
        let json = serde_json::to_string_pretty(&case).expect("cases serialize");
        if let Err(error) = std::fs::write(&path, json) {
            eprintln!("error: cannot write {}: {error}", path.display());
            all_saved = false;
        }
    }
    all_saved
}

fn failure_line(scenario: &str, result: &SeedResult) -> String {
    let invariant = match &result.outcome {
        Outcome::BoundExceeded { bound } => format!("Bound({bound})"),
        outcome => outcome.failure_name().unwrap_or_default(),
    };
    let mut line = format!(
        "FAILED scenario={scenario} seed={} invariant={invariant} step={} outcome={} \
         trace_hash={:016x}",
        result.seed,
        result.steps,
        result.outcome.label(),
        result.trace_hash
    );
    if let Outcome::Panic(panicked) = &result.outcome {
        line.push_str(&format!("\n  {panicked}"));
    }
    line
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
        invocation: Some(args.invocation()),
        determinism_checked,
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
