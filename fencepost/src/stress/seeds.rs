//! Running one scenario's seeds on worker threads and folding their results as they arrive:
//! the part of `stress` that `bench` reuses for its memory figure.

use super::{sample_stride, StressArgs};
use crate::output;
use crate::progress::Progress;
use crate::registry::{RunRequest, ScenarioEntry};
use crate::summary::Failure;
use sim::{Coverage, Outcome};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// One seed's result, as a worker hands it over to be folded into the totals.
pub(super) struct SeedResult {
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
pub(super) struct Totals {
    pub(super) seeds_run: u64,
    pub(super) passed: u64,
    pub(super) failures: Vec<Failure>,
    pub(super) events: u64,
    pub(super) sim_time_ns: u64,
    pub(super) coverage: Coverage,
    /// (seed, trace hash) of every seed `--check-determinism` re-runs.
    pub(super) hashes: Vec<(u64, u64)>,
    /// One past the highest index that ran: equals `seeds_run` when the seeds that ran are
    /// the first ones, which `covers` relies on.
    pub(super) index_end: u64,
}

impl Totals {
    /// Folds `result` in; returns its failure, if it failed.
    fn add(&mut self, result: SeedResult, keep_hash: bool) -> Option<&Failure> {
        self.seeds_run += 1;
        self.events += result.steps;
        self.sim_time_ns += result.sim_time_ns;
        self.coverage.merge(&result.coverage);
        self.index_end = self.index_end.max(result.index + 1);
        if keep_hash {
            self.hashes.push((result.seed, result.trace_hash));
        }
        if result.outcome == Outcome::Passed {
            self.passed += 1;
            return None;
        }
        let failure = Failure::of(
            result.seed,
            &result.outcome,
            result.steps,
            result.sim_time_ns,
            result.trace_hash,
        );
        self.failures.push(failure);
        self.failures.last()
    }
}

/// Runs this invocation's seeds of `entry` on `jobs` threads and folds their results. Workers
/// look at the flag before taking a seed and run every seed they took, so the seeds that ran
/// are always the first ones.
pub(super) fn run_seeds(
    entry: &ScenarioEntry,
    args: &StressArgs,
    jobs: usize,
    interrupted: &AtomicBool,
    show_progress: bool,
) -> Totals {
    // `show_progress` off: no progress and no failure lines (bench's quiet runs).
    let seed_count = args.seed_count();
    let stride = sample_stride(seed_count);
    // The expected finds of an unsafe variant are summarized, not listed one by one.
    let expected_finds = entry.expects_violations() && args.canary.is_none();
    let mut progress =
        Progress::new(entry.name(), seed_count, args.progress_interval, show_progress);
    if expected_finds {
        progress = progress.expecting_finds();
    }
    let next = AtomicU64::new(0);
    let (sender, receiver) = mpsc::channel::<SeedResult>();
    let mut totals = Totals::default();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            if interrupted.load(Ordering::SeqCst) {
                break;
            }
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
        while let Some(result) = next_result(&receiver, progress.poll_interval()) {
            if let Some(result) = result {
                let keep_hash = args.check_determinism
                    && (result.index.is_multiple_of(stride) || result.outcome != Outcome::Passed);
                if let Some(failure) = totals.add(result, keep_hash) {
                    if show_progress && !expected_finds {
                        progress.suspend(|| output::line(failure.line(entry.name())));
                    }
                }
            }
            progress.update(totals.seeds_run, totals.failures.len(), totals.events);
        }
    });
    progress.finish();
    assert_eq!(totals.index_end, totals.seeds_run, "the seeds that ran are the first ones");
    totals
}

/// The next result; `Some(None)` when `poll` passed without one (time for a progress line);
/// None once every worker is done.
fn next_result(
    receiver: &mpsc::Receiver<SeedResult>,
    poll: Option<Duration>,
) -> Option<Option<SeedResult>> {
    match poll {
        None => receiver.recv().ok().map(Some),
        Some(poll) => match receiver.recv_timeout(poll) {
            Ok(result) => Some(Some(result)),
            Err(mpsc::RecvTimeoutError::Timeout) => Some(None),
            Err(mpsc::RecvTimeoutError::Disconnected) => None,
        },
    }
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
