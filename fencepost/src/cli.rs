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
/// panic in a node or a check, `6` a case file that did not end as recorded, `130`
/// interrupted ([`crate::exit`]).
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
        Err(error) if error.use_stderr() => {
            eprintln!("{}", one_line(&error.render().to_string()));
            return exit::USAGE;
        }
        Err(help_or_version) => {
            crate::output::text(help_or_version.render());
            return exit::PASSED;
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

/// clap's error as one line: what went wrong and its tip, without the usage block that
/// follows (`error: invalid value '0x1g' for '--seeds <SEEDS>': expected hex digits after 0x`).
fn one_line(rendered: &str) -> String {
    let mut line = String::new();
    for part in rendered.lines().map(str::trim) {
        if part.starts_with("Usage:") || part.starts_with("For more information") {
            break;
        }
        if part.is_empty() {
            continue;
        }
        if !line.is_empty() {
            line.push_str(if line.ends_with(':') { " " } else { "; " });
        }
        line.push_str(part);
    }
    line
}

/// Parses any seed or count flag (decimal or 0x-hex, `_` between digits) for clap: the one
/// parser every number goes through ([`sim::seeds::parse_number`]).
pub(crate) fn parse_number(text: &str) -> Result<u64, String> {
    sim::seeds::parse_number(text).map_err(str::to_string)
}

/// [`parse_number`] for a count of threads.
pub(crate) fn parse_jobs(text: &str) -> Result<usize, String> {
    let jobs = parse_number(text)?;
    match usize::try_from(jobs) {
        Ok(0) => Err("at least 1".into()),
        Ok(jobs) => Ok(jobs),
        Err(_) => Err("too large".into()),
    }
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

/// Checks that `canary` belongs to `entry`; if not, says which canaries it has and which
/// scenarios own the one asked for.
pub(crate) fn check_canary(
    registry: &Registry,
    entry: &ScenarioEntry,
    canary: Option<&str>,
) -> Result<(), UsageError> {
    let Some(name) = canary.filter(|name| entry.canary(name).is_none()) else {
        return Ok(());
    };
    let known: Vec<&str> = entry.canaries().iter().map(|c| c.name).collect();
    let has = if known.is_empty() {
        "it has no canaries".to_string()
    } else {
        format!("its canaries: {}", known.join(", "))
    };
    let owners = owners_of(registry, name);
    let elsewhere = if owners.is_empty() {
        String::new()
    } else {
        format!("; '{name}' is a canary of {}", owners.join(", "))
    };
    Err(UsageError(format!(
        "scenario '{}' has no canary '{name}' ({has}){elsewhere}",
        entry.name()
    )))
}

/// The error for `--scenario all --canary NAME`: a canary breaks one scenario's machine, so
/// the run must name that scenario.
pub(crate) fn canary_needs_its_scenario(registry: &Registry, canary: &str) -> UsageError {
    let owners = owners_of(registry, canary);
    if owners.is_empty() {
        return UsageError(format!(
            "no scenario has a canary '{canary}' (`list --canaries` lists them all)"
        ));
    }
    let choices: Vec<String> = owners.iter().map(|o| format!("--scenario {o}")).collect();
    UsageError(format!(
        "--canary {canary} breaks one scenario, not all: it is a canary of {}; run it with {}",
        owners.join(", "),
        choices.join(" or ")
    ))
}

/// The scenarios that have a canary called `canary`.
fn owners_of<'r>(registry: &'r Registry, canary: &str) -> Vec<&'r str> {
    registry.entries().iter().filter(|e| e.canary(canary).is_some()).map(|e| e.name()).collect()
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
