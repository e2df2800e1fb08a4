//! `run` (alias `replay`): one seed, its report, and on request its full trace, its diagram,
//! its plan, and a determinism check. Given a corpus case (`--schedule CASE`), it runs exactly
//! what the case reproduces and ends by saying whether the run ended as recorded.

use crate::case::{judge, CaseHeader};
use crate::cli::{check_canary, scenario};
use crate::registry::{Registry, RunRequest, ScenarioEntry};
use crate::schedule::Schedule;
use crate::{exit, exit_code, output, view, UsageError};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct RunArgs {
    /// The scenario (see `list`); a case file given with `--schedule` says it itself.
    #[arg(long, required_unless_present = "schedule")]
    scenario: Option<String>,
    /// The seed, decimal or 0x-hex; a case file given with `--schedule` says it itself.
    #[arg(long, value_parser = crate::cli::parse_number, required_unless_present = "schedule")]
    seed: Option<u64>,
    /// Switch on a deliberately broken variant (see `list --canaries`).
    #[arg(long)]
    canary: Option<String>,
    /// Write every trace record as JSON lines to this file.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Write the run as a space-time diagram: one self-contained HTML file.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Write the spec actions each step took and the spec variables after it, one JSON object
    /// a line, for TLC's trace validation (for scenarios that keep a spec trace).
    #[arg(long)]
    spec_trace: Option<PathBuf>,
    /// Replay this fault plan instead of the seed's swarm plan: a bare plan (as `--save-plan`
    /// writes it), or a regression-corpus case (as `shrink` and `stress --save-failures` write
    /// it), which also says the scenario, seed and canary to run and how the run should end.
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

/// What to run, once the flags and a case file have been reconciled.
struct Resolved {
    scenario: String,
    seed: u64,
    canary: Option<String>,
}

pub fn main(registry: &Registry, args: RunArgs) -> Result<u8, UsageError> {
    check_paths(&args)?;
    let schedule = args.schedule.as_deref().map(Schedule::read).transpose()?;
    let case = schedule.as_ref().and_then(|s| s.case.as_ref());
    let resolved = resolve(&args, schedule.as_ref(), case)?;
    let entry = scenario(registry, &resolved.scenario)?;
    check_canary(registry, entry, resolved.canary.as_deref())?;
    let mut request = RunRequest::seed(resolved.seed).with_canary(resolved.canary.as_deref());
    if let Some(schedule) = &schedule {
        schedule.check(entry, resolved.seed)?;
        output::line(schedule.describe());
        if let Some(case) = case {
            let canary = case.canary.as_ref().map_or(String::new(), |c| format!(" canary {c}"));
            let why = if case.why.is_empty() { String::new() } else { format!(": {}", case.why) };
            output::line(format!("case: {} seed {}{canary}{why}", case.scenario, case.seed));
        }
        request.plan = Some(schedule.parsed.plan.clone());
    }
    request.capture = args.trace.is_some() || args.html.is_some() || args.spec_trace.is_some();
    let report = entry.run_for_report(&request).map_err(UsageError)?;
    if args.check_determinism {
        check_determinism(entry, &request, &report)?;
    }
    if let Some(path) = &args.trace {
        write_trace(path, &report)?;
    }
    if let Some(path) = &args.spec_trace {
        write_spec_trace(path, entry.name(), &report)?;
    }
    if let Some(path) = &args.html {
        let title = format!("{} seed {}", entry.name(), request.seed);
        view::write_html(path, &title, report.captured.as_deref().unwrap_or(&[]))?;
    }
    if let Some(path) = &args.save_plan {
        let json = serde_json::to_string_pretty(&report.plan).expect("plans serialize");
        output::write_file(path, json.as_bytes())?;
    }
    let schedule_name = args.schedule.as_ref().map(|path| path.display().to_string());
    let reproduce = entry.reproduce(&registry.invocation(), &request, schedule_name.as_deref());
    output::text(sim::report::render(entry.name(), &report, &reproduce));
    if let Some(expected) = case.and_then(|c| c.expect.as_ref()) {
        let (matched, line) = judge(expected, &report);
        output::line(line);
        if !matched {
            return Ok(exit::MISMATCH);
        }
    }
    Ok(exit_code(&report.outcome))
}

/// Refuses an output that is also the schedule read or another output.
fn check_paths(args: &RunArgs) -> Result<(), UsageError> {
    let paths: Vec<(&str, &Path)> = [
        ("--schedule", &args.schedule),
        ("--trace", &args.trace),
        ("--html", &args.html),
        ("--spec-trace", &args.spec_trace),
        ("--save-plan", &args.save_plan),
    ]
    .into_iter()
    .filter_map(|(flag, path)| path.as_deref().map(|path| (flag, path)))
    .collect();
    output::check_distinct(&paths)
}

/// The scenario, seed and canary to run: the flags', or the case file's, which carries what it
/// reproduces. A flag that contradicts the case is an error, never silently preferred.
fn resolve(
    args: &RunArgs,
    schedule: Option<&Schedule>,
    case: Option<&CaseHeader>,
) -> Result<Resolved, UsageError> {
    let Some(case) = case else {
        let bare = |flag: &str| match schedule {
            Some(s) => UsageError(format!(
                "{flag} is required: {} is a bare fault plan, which does not say what it runs",
                s.path.display()
            )),
            None => UsageError(format!("{flag} is required")),
        };
        return Ok(Resolved {
            scenario: args.scenario.clone().ok_or_else(|| bare("--scenario"))?,
            seed: args.seed.ok_or_else(|| bare("--seed"))?,
            canary: args.canary.clone(),
        });
    };
    let path = schedule.map_or_else(String::new, |s| s.path.display().to_string());
    let contradicts = |flag: &str, given: String, recorded: String| {
        UsageError(format!(
            "{path} is a case of {} seed {}{}: {flag} {given} contradicts its {recorded} (leave              the flag out: the case says what it reproduces)",
            case.scenario,
            case.seed,
            case.canary.as_ref().map_or(String::new(), |c| format!(" with canary {c}")),
        ))
    };
    if let Some(scenario) = args.scenario.as_ref().filter(|s| **s != case.scenario) {
        let recorded = format!("scenario {}", case.scenario);
        return Err(contradicts("--scenario", scenario.clone(), recorded));
    }
    if let Some(seed) = args.seed.filter(|s| *s != case.seed) {
        return Err(contradicts("--seed", seed.to_string(), format!("seed {}", case.seed)));
    }
    if let Some(canary) = args.canary.as_ref().filter(|c| case.canary.as_ref() != Some(*c)) {
        let recorded = case
            .canary
            .as_ref()
            .map_or("run without a canary".to_string(), |c| format!("canary {c}"));
        return Err(contradicts("--canary", canary.clone(), recorded));
    }
    Ok(Resolved { scenario: case.scenario.clone(), seed: case.seed, canary: case.canary.clone() })
}

/// Runs `request` again with full capture and compares record by record.
fn check_determinism(
    entry: &ScenarioEntry,
    request: &RunRequest,
    first: &sim::RunReport,
) -> Result<(), UsageError> {
    let capture = request.clone().capturing();
    let (a, b) = (entry.run(&capture), entry.run(&capture));
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
        entry.name(),
        request.seed,
        show(ra.get(at)),
        show(rb.get(at))
    )))
}

/// Writes the run's spec trace, one JSON object a line; a scenario that keeps none is an error.
fn write_spec_trace(
    path: &Path,
    scenario: &str,
    report: &sim::RunReport,
) -> Result<(), UsageError> {
    let Some(lines) = report.spec_trace.as_deref() else {
        return Err(UsageError(format!("scenario {scenario} keeps no spec trace (--spec-trace)")));
    };
    output::write_file_with(path, |out| {
        for line in lines {
            writeln!(out, "{line}")?;
        }
        Ok(())
    })
}

fn write_trace(path: &Path, report: &sim::RunReport) -> Result<(), UsageError> {
    let records = report.captured.as_deref().unwrap_or(&[]);
    output::write_file_with(path, |out| {
        for record in records {
            let line = serde_json::to_string(record).expect("trace records serialize");
            writeln!(out, "{line}")?;
        }
        Ok(())
    })
}
