//! `fencepost bench`: throughput on one core, release build. The kernel line runs the fixed
//! pingpong workload (5 clients, 1-5 ms latency, 1% loss, 60 simulated seconds a seed) with the
//! trace hash and the per-step check on, so it compares with other simulators' figures.

use crate::{exit, UsageError};
use scenarios::{pingpong, RunRequest};
use serde::Serialize;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Seeds of the fixed pingpong workload to time.
    #[arg(long, default_value_t = 20)]
    pingpong_seeds: u64,
    /// Seeds of each scenario's swarm runs to time.
    #[arg(long, default_value_t = 200)]
    scenario_seeds: u64,
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

pub fn main(args: BenchArgs) -> Result<u8, UsageError> {
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; run `cargo run --release -- bench` for real figures");
    }
    let mut figures = Vec::new();
    let kernel = measure("kernel (pingpong)", args.pingpong_seeds, |seed| {
        let plan = pingpong::benchmark_plan();
        let scenario = pingpong::PingPong { canary: None };
        sim::Simulation::new(scenario, seed, plan, pingpong::benchmark_limits(), false).run()
    });
    crate::output::line(format!(
        "kernel: {:.2}M events/s, {:.0} sim-s/s  (pingpong: {:.0} events/seed, {:.1} seeds/s)",
        kernel.events_per_s / 1e6,
        kernel.sim_s_per_wall_s,
        kernel.events as f64 / kernel.seeds.max(1) as f64,
        kernel.seeds_per_s
    ));
    figures.push(kernel);
    for entry in scenarios::SCENARIOS {
        let figure = measure(entry.name, args.scenario_seeds, |seed| {
            (entry.run)(&RunRequest { seed, ..RunRequest::default() })
        });
        crate::output::line(format!(
            "{}: {:.1} seeds/s ({:.0} seeds/min), {:.2}M events/s, {:.0} sim-s/s",
            entry.name,
            figure.seeds_per_s,
            figure.seeds_per_s * 60.0,
            figure.events_per_s / 1e6,
            figure.sim_s_per_wall_s
        ));
        figures.push(figure);
    }
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&figures).expect("figures serialize");
        std::fs::write(path, json)
            .map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(exit::PASSED)
}
