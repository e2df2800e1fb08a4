//! `fencepost bench`: throughput on one core, release build. The kernel line runs the fixed
//! pingpong workload (5 clients, 1-5 ms latency, 1% loss, 60 simulated seconds a seed) with the
//! trace hash and the per-step check on, so it compares with other simulators' figures.

use crate::cli::scenario;
use crate::registry::{Registry, RunRequest, ScenarioEntry};
use crate::{exit, UsageError};
use serde::Serialize;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Seeds of the kernel's fixed workload to time.
    #[arg(long, alias = "pingpong-seeds", default_value_t = 20, value_parser = crate::cli::parse_number)]
    kernel_seeds: u64,
    /// Seeds of each scenario's swarm runs to time.
    #[arg(long, default_value_t = 200, value_parser = crate::cli::parse_number)]
    scenario_seeds: u64,
    /// Independent windows of seeds each canary is hunted in (median/worst over them).
    #[arg(long, default_value_t = 5, value_parser = crate::cli::parse_number)]
    canary_windows: u64,
    /// The most seeds a canary hunt may take per window.
    #[arg(long, default_value_t = 5_000, value_parser = crate::cli::parse_number)]
    canary_seeds_max: u64,
    /// Skip the 2-core scaling measurement.
    #[arg(long)]
    no_scaling: bool,
    /// The scenario whose seeds the scaling measurement runs (default: the kernel workload's,
    /// else the first registered).
    #[arg(long)]
    scaling_scenario: Option<String>,
    /// The scenario whose stress-like runs the memory measurement runs (default: the first
    /// registered).
    #[arg(long)]
    memory_scenario: Option<String>,
    /// Seed counts of the stress-like lease runs whose peak memory is measured.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000", value_parser = crate::cli::parse_number)]
    memory_seeds: Vec<u64>,
    /// Measure only the peak memory of those runs.
    #[arg(long)]
    memory_only: bool,
    /// Write the figures as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// One measured line.
#[derive(Debug, Serialize)]
pub struct Figure {
    pub name: String,
    pub seeds: u64,
    pub events: u64,
    pub wall_s: f64,
    pub events_per_s: f64,
    pub sim_s_per_wall_s: f64,
    pub seeds_per_s: f64,
}

/// The host's monotonic clock, for timing the harness itself. Never used inside a simulated
/// run: this module is the only place allowed to read it.
#[allow(clippy::disallowed_methods)]
pub fn wall_clock() -> std::time::Instant {
    std::time::Instant::now()
}

fn measure(name: &str, seeds: u64, mut run_seed: impl FnMut(u64) -> sim::RunReport) -> Figure {
    let started = wall_clock();
    let (mut events, mut sim_ns) = (0u64, 0u64);
    for seed in 0..seeds {
        let report = run_seed(seed);
        events += report.steps;
        sim_ns += report.sim_time_ns;
    }
    let wall_s = started.elapsed().as_secs_f64().max(1e-9);
    Figure {
        name: name.to_string(),
        seeds,
        events,
        wall_s,
        events_per_s: events as f64 / wall_s,
        sim_s_per_wall_s: sim_ns as f64 / 1e9 / wall_s,
        seeds_per_s: seeds as f64 / wall_s,
    }
}

/// Refuses counts that would measure nothing, so a figure is never made of no runs.
fn check_counts(args: &BenchArgs) -> Result<(), UsageError> {
    let counts = [
        ("--kernel-seeds", args.kernel_seeds),
        ("--scenario-seeds", args.scenario_seeds),
        ("--canary-windows", args.canary_windows),
        ("--canary-seeds-max", args.canary_seeds_max),
    ];
    match counts.iter().find(|(_, count)| *count == 0) {
        Some((flag, _)) => {
            Err(UsageError(format!("{flag} 0 measures nothing: ask for at least 1")))
        }
        None if args.memory_seeds.contains(&0) => {
            Err(UsageError("--memory-seeds 0 measures nothing: ask for at least 1".into()))
        }
        None => Ok(()),
    }
}

pub fn main(registry: &Registry, args: BenchArgs) -> Result<u8, UsageError> {
    check_counts(&args)?;
    if let Some(path) = &args.json {
        crate::output::check_writable("--json", path)?;
    }
    let first = registry.entries().first().map(|e| e.name()).unwrap_or_default();
    let memory_name = args.memory_scenario.as_deref().unwrap_or(first);
    let memory_entry = scenario(registry, memory_name)?;
    let kernel_name = registry.kernel_benchmark().map_or(first, |k| k.scenario);
    let scaling_entry =
        scenario(registry, args.scaling_scenario.as_deref().unwrap_or(kernel_name))?;
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; build with --release for real figures");
    }
    if args.memory_only {
        let memory = measure_stress_memory(memory_entry, &args.memory_seeds);
        return write_json(&args, serde_json::json!({ "stress_memory": memory }));
    }
    let mut figures = Vec::new();
    if let Some(kernel) = registry.kernel_benchmark() {
        let name = format!("kernel ({})", kernel.scenario);
        let figure = measure(&name, args.kernel_seeds, |seed| (kernel.run)(seed));
        crate::output::line(format!(
            "kernel: {:.2}M events/s, {:.0} sim-s/s  ({}: {:.0} events/seed, {:.1} seeds/s)",
            figure.events_per_s / 1e6,
            figure.sim_s_per_wall_s,
            kernel.scenario,
            figure.events as f64 / figure.seeds.max(1) as f64,
            figure.seeds_per_s
        ));
        figures.push(figure);
    }
    for entry in registry.entries() {
        let figure =
            measure(entry.name(), args.scenario_seeds, |seed| entry.run(&RunRequest::seed(seed)));
        crate::output::line(format!(
            "{}: {:.1} seeds/s ({:.0} seeds/min), {:.2}M events/s, {:.0} sim-s/s",
            entry.name(),
            figure.seeds_per_s,
            figure.seeds_per_s * 60.0,
            figure.events_per_s / 1e6,
            figure.sim_s_per_wall_s
        ));
        figures.push(figure);
    }
    let canaries = hunt_canaries(registry, &args);
    let scaling =
        (!args.no_scaling).then(|| measure_scaling(scaling_entry, args.scenario_seeds * 4));
    let stress_memory = measure_stress_memory(memory_entry, &args.memory_seeds);
    let peak_memory_kib = peak_memory_kib();
    crate::output::line(format!(
        "peak memory: {}",
        peak_memory_kib
            .map_or("unknown".to_string(), |kib| format!("{:.1} MiB", kib as f64 / 1024.0))
    ));
    let all = serde_json::json!({
        "figures": figures,
        "canaries": canaries,
        "scaling": scaling,
        "stress_memory": stress_memory,
        "peak_memory_kib": peak_memory_kib,
    });
    write_json(&args, all)
}

fn write_json(args: &BenchArgs, all: serde_json::Value) -> Result<u8, UsageError> {
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&all).expect("figures serialize");
        crate::output::write_file(path, json.as_bytes())?;
    }
    Ok(exit::PASSED)
}

/// The peak memory of one stress-like run.
#[derive(Debug, Serialize)]
pub struct MemoryFigure {
    pub scenario: String,
    pub seeds: u64,
    pub wall_s: f64,
    /// Resident memory when the run began, KiB.
    pub rss_before_kib: Option<u64>,
    /// The highest resident memory during the run (`VmHWM`, reset just before it), KiB.
    pub peak_rss_kib: Option<u64>,
}

/// Runs `entry`'s seeds as `stress` does (on every core, folding results as they arrive) and
/// reads the peak resident memory of each run. The peak is reset before each
/// (`/proc/self/clear_refs`), so each figure is that run's own; flat memory shows as equal
/// peaks for 10k and 100k seeds.
fn measure_stress_memory(entry: &ScenarioEntry, seed_counts: &[u64]) -> Vec<MemoryFigure> {
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut figures = Vec::new();
    for &seeds in seed_counts {
        let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let rss_before_kib = proc_status_kib("VmRSS:");
        let started = wall_clock();
        crate::stress::run_quietly(entry, seeds, jobs);
        let wall_s = started.elapsed().as_secs_f64();
        let peak_rss_kib = if reset { proc_status_kib("VmHWM:") } else { None };
        let mib = |kib: Option<u64>| {
            kib.map_or("unknown".to_string(), |kib| format!("{:.1} MiB", kib as f64 / 1024.0))
        };
        crate::output::line(format!(
            "stress memory ({seeds} {} seeds, {jobs} jobs, {wall_s:.1}s): peak RSS {}, {} before",
            entry.name(),
            mib(peak_rss_kib),
            mib(rss_before_kib)
        ));
        figures.push(MemoryFigure {
            scenario: entry.name().to_string(),
            seeds,
            wall_s,
            rss_before_kib,
            peak_rss_kib,
        });
    }
    figures
}

/// How quickly one canary is caught.
#[derive(Debug, Serialize)]
pub struct CanaryFigure {
    pub scenario: String,
    pub canary: String,
    /// Seeds run until the first failure, per window (None: not caught within the window).
    pub seeds_to_catch: Vec<Option<u64>>,
    pub median_seeds: Option<u64>,
    pub worst_seeds: Option<u64>,
    pub median_wall_s: f64,
}

/// Hunts every canary in `canary_windows` disjoint seed windows and reports seeds-to-catch.
fn hunt_canaries(registry: &Registry, args: &BenchArgs) -> Vec<CanaryFigure> {
    let mut figures = Vec::new();
    for entry in registry.entries() {
        for canary in entry.canaries() {
            let mut seeds = Vec::new();
            let mut walls = Vec::new();
            for window in 0..args.canary_windows {
                let start = window * 1_000_000;
                let started = wall_clock();
                let caught = (0..args.canary_seeds_max).find(|offset| {
                    let request = RunRequest::seed(start + offset).with_canary(Some(canary.name));
                    entry.run(&request).outcome != sim::Outcome::Passed
                });
                walls.push(started.elapsed().as_secs_f64());
                seeds.push(caught.map(|offset| offset + 1));
            }
            let mut sorted: Vec<u64> = seeds.iter().map(|s| s.unwrap_or(u64::MAX)).collect();
            sorted.sort_unstable();
            walls.sort_by(f64::total_cmp);
            let known = |v: u64| (v != u64::MAX).then_some(v);
            let figure = CanaryFigure {
                scenario: entry.name().to_string(),
                canary: canary.name.to_string(),
                median_seeds: known(sorted[sorted.len() / 2]),
                worst_seeds: known(*sorted.last().expect("at least one window")),
                median_wall_s: walls[walls.len() / 2],
                seeds_to_catch: seeds,
            };
            let line = match (figure.median_seeds, figure.worst_seeds) {
                (Some(median), Some(worst)) => format!(
                    "median {median} seeds, worst {worst} (of {} windows), median {:.3}s to catch",
                    args.canary_windows, figure.median_wall_s
                ),
                (Some(median), None) => format!(
                    "median {median} seeds, NOT CAUGHT in some of {} windows of {} seeds",
                    args.canary_windows, args.canary_seeds_max
                ),
                _ => format!(
                    "NOT CAUGHT in {} windows of {} seeds",
                    args.canary_windows, args.canary_seeds_max
                ),
            };
            crate::output::line(format!("canary {}/{}: {line}", figure.scenario, figure.canary));
            figures.push(figure);
        }
    }
    figures
}

/// Seeds per second of `stress` with 1 job and with 2 jobs, over the same seeds.
#[derive(Debug, Serialize)]
pub struct Scaling {
    pub one_job_seeds_per_s: f64,
    pub two_jobs_seeds_per_s: f64,
    pub speedup: f64,
}

fn measure_scaling(entry: &ScenarioEntry, seeds: u64) -> Scaling {
    let rate = |jobs: u64| {
        let started = wall_clock();
        std::thread::scope(|scope| {
            for job in 0..jobs {
                scope.spawn(move || {
                    for seed in (job..seeds).step_by(jobs as usize) {
                        entry.run(&RunRequest::seed(seed));
                    }
                });
            }
        });
        seeds as f64 / started.elapsed().as_secs_f64().max(1e-9)
    };
    let (one, two) = (rate(1), rate(2));
    let scaling =
        Scaling { one_job_seeds_per_s: one, two_jobs_seeds_per_s: two, speedup: two / one };
    crate::output::line(format!(
        "scaling ({}, {seeds} seeds): 1 job {one:.0} seeds/s, 2 jobs {two:.0} seeds/s, {:.2}x",
        entry.name(),
        scaling.speedup
    ));
    scaling
}

/// The process's peak resident memory (Linux `VmHWM`), KiB.
fn peak_memory_kib() -> Option<u64> {
    proc_status_kib("VmHWM:")
}

/// One KiB figure of `/proc/self/status` (Linux), by its label.
fn proc_status_kib(label: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(label))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
