//! The `fencepost` command line: list, run, stress, bench. With no subcommand it runs the
//! default stress over every scenario.

mod bench;
mod html;
mod merge;
mod output;
mod schedule;
mod shrink;
mod stress;
mod summary;
mod view;

use clap::{Parser, Subcommand};
use scenarios::{RunRequest, ScenarioEntry};
use sim::Outcome;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit codes, distinct per outcome so scripts can tell them apart.
pub mod exit {
    pub const PASSED: u8 = 0;
    pub const SAFETY: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const LIVENESS: u8 = 3;
    pub const BOUND: u8 = 4;
    /// A signal (Ctrl-C, SIGTERM, SIGHUP) stopped `stress` before every seed ran, and no seed
    /// that did run failed. 128 + SIGINT, as shells report an interrupted command.
    pub const INTERRUPTED: u8 = 130;
}

#[derive(Parser)]
#[command(name = "fencepost", version, about = "Deterministic simulation testing harness")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Print one scenario name per line (with --canaries: `<scenario> <canary> <description>`).
    List {
        #[arg(long)]
        canaries: bool,
    },
    /// Run one seed and print its summary (and the full report on a violation).
    #[command(visible_alias = "replay")]
    Run(RunArgs),
    /// Find a minimal fault plan that still fails a seed the same way.
    Shrink(shrink::ShrinkArgs),
    /// Run a range of seeds on all cores and summarize.
    Stress(stress::StressArgs),
    /// Combine shard summaries (`stress --shard I/N --json`) into one report.
    Merge(merge::MergeArgs),
    /// Measure throughput: events/s, simulated seconds per wall second, seeds/s.
    Bench(bench::BenchArgs),
    /// Render a saved trace (`run --trace`) as a space-time diagram in one HTML file.
    View(view::ViewArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// The scenario (see `fencepost list`).
    #[arg(long)]
    scenario: String,
    /// The seed, decimal or 0x-hex.
    #[arg(long, value_parser = parse_seed)]
    seed: u64,
    /// Switch on a deliberately broken variant (see `fencepost list --canaries`).
    #[arg(long)]
    canary: Option<String>,
    /// Write every trace record as JSON lines to this file.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Write the run as a space-time diagram: one self-contained HTML file.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Write the spec actions each step took and the spec variables after it, one JSON object
    /// a line, for TLC's trace validation (tla/Trace*.tla).
    #[arg(long)]
    spec_trace: Option<PathBuf>,
    /// Replay this fault plan (JSON, as `--save-plan` or `shrink` write it) instead of the
    /// seed's swarm plan.
    #[arg(long)]
    schedule: Option<PathBuf>,
    /// Write the run's fault plan as JSON to this file.
    #[arg(long)]
    save_plan: Option<PathBuf>,
    /// Run the seed twice more (three runs in all) with full capture and fail loudly, naming
    /// the first diverging step, if the traces differ.
    #[arg(long)]
    check_determinism: bool,
}

fn parse_seed(text: &str) -> Result<u64, String> {
    sim::seeds::parse_seed(text).map_err(|e| e.to_string())
}

/// A usage error: one line, exit code 2, never a panic.
#[derive(Debug)]
pub struct UsageError(pub String);

/// Finds a scenario by name, or explains which names exist.
pub fn scenario(name: &str) -> Result<&'static ScenarioEntry, UsageError> {
    scenarios::find(name).ok_or_else(|| {
        let known: Vec<&str> = scenarios::SCENARIOS.iter().map(|s| s.name).collect();
        UsageError(format!("unknown scenario '{name}' (known: {})", known.join(", ")))
    })
}

/// Checks that `canary` belongs to `entry`.
pub fn check_canary(entry: &ScenarioEntry, canary: Option<&str>) -> Result<(), UsageError> {
    match canary {
        Some(name) if entry.canary(name).is_none() => {
            let known: Vec<&str> = entry.canaries.iter().map(|c| c.name).collect();
            Err(UsageError(format!(
                "scenario '{}' has no canary '{name}' (known: {})",
                entry.name,
                known.join(", ")
            )))
        }
        _ => Ok(()),
    }
}

/// The exit code of an outcome.
pub fn exit_code(outcome: &Outcome) -> u8 {
    match outcome {
        Outcome::Passed => exit::PASSED,
        Outcome::Safety(_) => exit::SAFETY,
        Outcome::Liveness(_) => exit::LIVENESS,
        Outcome::BoundExceeded { .. } => exit::BOUND,
    }
}

fn list(canaries: bool) -> u8 {
    for entry in scenarios::SCENARIOS {
        if !canaries {
            crate::output::line(entry.name);
            continue;
        }
        for canary in entry.canaries {
            crate::output::line(format!("{} {} {}", entry.name, canary.name, canary.description));
        }
    }
    exit::PASSED
}

fn run(args: RunArgs) -> Result<u8, UsageError> {
    let entry = scenario(&args.scenario)?;
    check_canary(entry, args.canary.as_deref())?;
    let plan = match &args.schedule {
        Some(path) => Some(schedule::load(path, entry, args.seed)?),
        None => None,
    };
    let capture = args.trace.is_some() || args.html.is_some() || args.spec_trace.is_some();
    let request = RunRequest { seed: args.seed, canary: args.canary, plan, capture };
    let report = entry.run_for_report(&request);
    if args.check_determinism {
        check_determinism(entry, &request, &report)?;
    }
    if let Some(path) = &args.trace {
        write_trace(path, &report)?;
    }
    if let Some(path) = &args.spec_trace {
        let lines = report.spec_trace.as_deref().unwrap_or(&[]);
        std::fs::write(path, lines.iter().map(|line| format!("{line}\n")).collect::<String>())
            .map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))?;
    }
    if let Some(path) = &args.html {
        let title = format!("{} seed {}", entry.name, request.seed);
        view::write_html(path, &title, report.captured.as_deref().unwrap_or(&[]))?;
    }
    if let Some(path) = &args.save_plan {
        let json = serde_json::to_string_pretty(&report.plan).expect("plans serialize");
        std::fs::write(path, json)
            .map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))?;
    }
    let schedule = args.schedule.as_ref().map(|path| path.display().to_string());
    let reproduce = entry.reproduce_from(&request, schedule.as_deref());
    crate::output::text(sim::report::render(entry.name, &report, &reproduce));
    Ok(exit_code(&report.outcome))
}

/// Runs `request` again with full capture and compares record by record.
fn check_determinism(
    entry: &ScenarioEntry,
    request: &RunRequest,
    first: &sim::RunReport,
) -> Result<(), UsageError> {
    let capture = RunRequest { capture: true, ..request.clone() };
    let (a, b) = ((entry.run)(&capture), (entry.run)(&capture));
    let (ra, rb) = (a.captured.unwrap_or_default(), b.captured.unwrap_or_default());
    let diverged =
        ra.iter().zip(&rb).position(|(x, y)| x.record != y.record || x.detail != y.detail);
    if first.trace_hash == a.trace_hash && a.trace_hash == b.trace_hash && diverged.is_none() {
        output::line(format!("determinism: 3 runs, trace_hash={:016x} each", a.trace_hash));
        return Ok(());
    }
    let at = diverged.unwrap_or(ra.len().min(rb.len()));
    let step = ra.get(at).or(rb.get(at)).map_or(0, |r| r.record.step);
    let show = |r: Option<&sim::trace::DetailedRecord>| {
        r.map_or("(trace ended)".to_string(), |r| {
            sim::report::format_record(&r.record, Some(&r.detail))
        })
    };
    Err(UsageError(format!(
        "NONDETERMINISM in {} seed {}: traces diverge at step {step}\n  first:  {}\n  second: {}",
        entry.name,
        request.seed,
        show(ra.get(at)),
        show(rb.get(at))
    )))
}

fn write_trace(path: &PathBuf, report: &sim::RunReport) -> Result<(), UsageError> {
    use std::io::Write;
    let records = report.captured.as_deref().unwrap_or(&[]);
    let file = std::fs::File::create(path)
        .map_err(|e| UsageError(format!("cannot write trace to {}: {e}", path.display())))?;
    let mut out = std::io::BufWriter::new(file);
    for record in records {
        let line = serde_json::to_string(record).expect("trace records serialize");
        writeln!(out, "{line}")
            .map_err(|e| UsageError(format!("cannot write trace to {}: {e}", path.display())))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::List { canaries }) => Ok(list(canaries)),
        Some(Command::Run(args)) => run(args),
        Some(Command::Shrink(args)) => shrink::main(args),
        Some(Command::Stress(args)) => stress::main(args),
        Some(Command::Bench(args)) => bench::main(args),
        Some(Command::Merge(args)) => merge::main(args),
        Some(Command::View(args)) => view::main(args),
        None => stress::main(stress::StressArgs::default_job()),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(UsageError(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(exit::USAGE)
        }
    }
}
