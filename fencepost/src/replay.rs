//! `run` (alias `replay`): one seed, its report, and on request its full trace, its diagram,
//! its plan, and a determinism check.

use crate::cli::{check_canary, scenario};
use crate::registry::{Registry, RunRequest, ScenarioEntry};
use crate::{exit_code, output, schedule, view, UsageError};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct RunArgs {
    /// The scenario (see `list`).
    #[arg(long)]
    scenario: String,
    /// The seed, decimal or 0x-hex.
    #[arg(long, value_parser = crate::cli::parse_seed)]
    seed: u64,
    /// Switch on a deliberately broken variant (see `list --canaries`).
    #[arg(long)]
    canary: Option<String>,
    /// Write every trace record as JSON lines to this file.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Write the run as a space-time diagram: one self-contained HTML file.
    #[arg(long)]
    html: Option<PathBuf>,
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

pub fn main(registry: &Registry, args: RunArgs) -> Result<u8, UsageError> {
    let entry = scenario(registry, &args.scenario)?;
    check_canary(entry, args.canary.as_deref())?;
    let plan = match &args.schedule {
        Some(path) => Some(schedule::load(path, entry, args.seed)?),
        None => None,
    };
    let capture = args.trace.is_some() || args.html.is_some();
    let mut request = RunRequest::seed(args.seed).with_canary(args.canary.as_deref());
    request.plan = plan;
    request.capture = capture;
    let report = entry.run_for_report(&request).map_err(UsageError)?;
    if args.check_determinism {
        check_determinism(entry, &request, &report)?;
    }
    if let Some(path) = &args.trace {
        write_trace(path, &report)?;
    }
    if let Some(path) = &args.html {
        let title = format!("{} seed {}", entry.name(), request.seed);
        view::write_html(path, &title, report.captured.as_deref().unwrap_or(&[]))?;
    }
    if let Some(path) = &args.save_plan {
        let json = serde_json::to_string_pretty(&report.plan).expect("plans serialize");
        std::fs::write(path, json)
            .map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))?;
    }
    let schedule = args.schedule.as_ref().map(|path| path.display().to_string());
    let reproduce = entry.reproduce(&registry.invocation(), &request, schedule.as_deref());
    output::text(sim::report::render(entry.name(), &report, &reproduce));
    Ok(exit_code(&report.outcome))
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
    out.flush().map_err(|e| UsageError(format!("cannot write trace to {}: {e}", path.display())))
}
