//! The command line: list, run/replay, shrink, stress, merge, bench, view. With no subcommand it
//! runs the default stress over every scenario.

use crate::registry::{Registry, ScenarioEntry};
use crate::{bench, exit, merge, replay, shrink, stress, view, UsageError};
use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::process::ExitCode;

#[derive(Parser)]
#[command(version, about = "Deterministic simulation testing harness")]
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
    Run(replay::RunArgs),
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

/// Runs the harness command line over `registry` with the process's arguments and returns the
/// exit code: `0` passed, `1` safety violation (or, for `stress`/`merge`, any failed seed),
/// `2` bad usage (one line on stderr, never a panic), `3` liveness, `4` a bound hit, `5` a
/// panic in a node or a check, `130` interrupted.
pub fn main(registry: Registry) -> ExitCode {
    ExitCode::from(main_with_args(&registry, std::env::args_os()))
}

/// [`main`] with the arguments given (the first is the program name), returning the exit code.
pub fn main_with_args(
    registry: &Registry,
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
) -> u8 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() { exit::USAGE } else { exit::PASSED };
            let _ = error.print();
            return code;
        }
    };
    let result = match cli.command {
        Some(Command::List { canaries }) => Ok(list(registry, canaries)),
        Some(Command::Run(args)) => replay::main(registry, args),
        Some(Command::Shrink(args)) => shrink::main(registry, args),
        Some(Command::Stress(args)) => stress::main(registry, args),
        Some(Command::Bench(args)) => bench::main(registry, args),
        Some(Command::Merge(args)) => merge::main(registry, args),
        Some(Command::View(args)) => view::main(args),
        None => stress::main(registry, stress::StressArgs::default_job()),
    };
    match result {
        Ok(code) => code,
        Err(UsageError(message)) => {
            eprintln!("error: {message}");
            exit::USAGE
        }
    }
}

/// Parses a seed (decimal or 0x-hex, `_` separators allowed) for clap.
pub(crate) fn parse_seed(text: &str) -> Result<u64, String> {
    sim::seeds::parse_seed(text).map_err(|e| e.to_string())
}

/// Finds a scenario by name, or explains which names exist.
pub(crate) fn scenario<'r>(
    registry: &'r Registry,
    name: &str,
) -> Result<&'r ScenarioEntry, UsageError> {
    registry.find(name).ok_or_else(|| {
        let known: Vec<&str> = registry.entries().iter().map(|s| s.name()).collect();
        UsageError(format!("unknown scenario '{name}' (known: {})", known.join(", ")))
    })
}

/// Checks that `canary` belongs to `entry`.
pub(crate) fn check_canary(entry: &ScenarioEntry, canary: Option<&str>) -> Result<(), UsageError> {
    match canary {
        Some(name) if entry.canary(name).is_none() => {
            let known: Vec<&str> = entry.canaries().iter().map(|c| c.name).collect();
            Err(UsageError(format!(
                "scenario '{}' has no canary '{name}' (known: {})",
                entry.name(),
                known.join(", ")
            )))
        }
        _ => Ok(()),
    }
}

fn list(registry: &Registry, canaries: bool) -> u8 {
    for entry in registry.entries() {
        if !canaries {
            crate::output::line(entry.name());
            continue;
        }
        for canary in entry.canaries() {
            crate::output::line(format!("{} {} {}", entry.name(), canary.name, canary.description));
        }
    }
    exit::PASSED
}
