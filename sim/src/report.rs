//! The violation report a person reads: fixed layout, complete, ending in one line to copy.

use crate::run::{Outcome, RunReport};
use crate::time::format_ns;
use crate::trace::{Record, RecordKind};
use std::fmt::Write;

fn endpoint(id: u32) -> String {
    match id {
        crate::trace::NO_ENDPOINT => "-".to_string(),
        id => crate::network::endpoint_name(id),
    }
}

/// One trace record as a line; `detail` when the run captured it.
pub fn format_record(record: &Record, detail: Option<&str>) -> String {
    let what = match record.kind {
        RecordKind::Deliver => format!("{} -> {}", endpoint(record.peer), endpoint(record.node)),
        RecordKind::Drop => format!("{} -x {}", endpoint(record.peer), endpoint(record.node)),
        RecordKind::StoreApply | RecordKind::StoreReply => {
            format!("{} request {}", endpoint(record.node), record.aux)
        }
        _ => endpoint(record.node),
    };
    let mut line = format!(
        "  #{:<8} {:>14}  {:<12} {}",
        record.step,
        format_ns(record.time_ns),
        format!("{:?}", record.kind),
        what
    );
    if let Some(detail) = detail {
        let _ = write!(line, "  {detail}");
    }
    line
}

/// The full, fixed-layout report of a run. `reproduce` holds the commands that replay it.
pub fn render(scenario: &str, report: &RunReport, reproduce: &[String]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "scenario={scenario} seed={} (0x{:x})", report.seed, report.seed);
    let _ = writeln!(out, "fault plan:");
    let _ = report.plan.describe(&mut out, report.store_used);
    let _ = writeln!(
        out,
        "outcome={} steps={} sim_time={} trace_hash={:016x}",
        report.outcome.label(),
        report.steps,
        format_ns(report.sim_time_ns),
        report.trace_hash
    );
    match &report.outcome {
        Outcome::Safety(v) | Outcome::Liveness(v) => {
            let phase =
                if matches!(report.outcome, Outcome::Safety(_)) { "safety" } else { "liveness" };
            let _ = writeln!(
                out,
                "VIOLATION ({phase}) of {} at step {}, t={}",
                v.invariant,
                report.steps,
                format_ns(report.sim_time_ns)
            );
            let _ = writeln!(out, "  observed: {}", v.observed);
        }
        Outcome::BoundExceeded { bound } => {
            let _ = writeln!(out, "BOUND EXCEEDED: {bound}");
        }
        Outcome::Panic(panicked) => {
            let _ = writeln!(
                out,
                "PANIC in {} at step {}, t={}",
                panicked.during,
                report.steps,
                format_ns(report.sim_time_ns)
            );
            let _ = writeln!(out, "  at {}: {}", panicked.location, panicked.message);
        }
        Outcome::Passed => {}
    }
    if report.outcome != Outcome::Passed {
        let _ = writeln!(out, "last {} trace records:", report.tail.len());
        // Pair the ring's records with captured details, skipping capture-only annotations.
        let details: Vec<&crate::trace::DetailedRecord> = report
            .captured
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .filter(|d| !d.record.kind.is_capture_only())
            .collect();
        let first_captured = details.len().saturating_sub(report.tail.len());
        for (index, record) in report.tail.iter().enumerate() {
            let detail = details.get(first_captured + index).map(|d| d.detail.as_str());
            let _ = writeln!(out, "{}", format_record(record, detail));
        }
        for line in reproduce {
            let _ = writeln!(out, "reproduce: {line}");
        }
    }
    out
}
