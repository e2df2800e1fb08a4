//! `fencepost view TRACE.jsonl --html FILE`: renders a saved trace (as `run --trace` writes it)
//! as the space-time diagram, and the `--html` option of `run` that writes one directly.

use crate::{exit, html, output, UsageError};
use sim::trace::DetailedRecord;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct ViewArgs {
    /// A trace written by `run --trace` (one JSON record per line).
    trace: PathBuf,
    /// Where to write the diagram: one self-contained HTML file.
    #[arg(long)]
    html: PathBuf,
}

/// The largest trace `view` reads: a few million records, far more than a page can draw.
const TRACE_BYTES_MAX: u64 = 1 << 30;

pub fn main(args: ViewArgs) -> Result<u8, UsageError> {
    output::check_distinct(&[("trace", &args.trace), ("--html", &args.html)])?;
    let records = read_trace(&args.trace)?;
    let title = args.trace.file_name().map_or_else(String::new, |n| n.to_string_lossy().into());
    write_html(&args.html, &title, &records)?;
    Ok(exit::PASSED)
}

/// Reads a JSON-lines trace, naming the line and the problem when one is malformed.
fn read_trace(path: &Path) -> Result<Vec<DetailedRecord>, UsageError> {
    let text = output::read_capped(path, TRACE_BYTES_MAX, "a trace")?;
    parse_trace(&text, &path.display().to_string())
}

/// Parses the JSON lines of a trace read from `name`. A run's steps and true time never go
/// back, so a record that does means the file is not one run's trace (reordered lines, two
/// traces joined): the diagram would draw it as a misleading picture, so it is refused with
/// the line.
fn parse_trace(text: &str, name: &str) -> Result<Vec<DetailedRecord>, UsageError> {
    let mut records: Vec<DetailedRecord> = Vec::new();
    for (at, line) in text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
        let line_number = at + 1;
        let record: DetailedRecord = serde_json::from_str(line)
            .map_err(|e| UsageError(format!("{name}:{line_number}: not a trace record: {e}")))?;
        if let Some(last) = records.last() {
            let (before, now) = (&last.record, &record.record);
            let backwards = if now.step < before.step {
                Some(format!("step {} after step {}", now.step, before.step))
            } else if now.time_ns < before.time_ns {
                Some(format!("time {} ns after {} ns", now.time_ns, before.time_ns))
            } else {
                None
            };
            if let Some(what) = backwards {
                return Err(UsageError(format!(
                    "{name}:{line_number}: {what}: the trace goes backwards, so it is not one \
                     run's trace (lines reordered, or two traces joined?)"
                )));
            }
        }
        records.push(record);
    }
    if records.is_empty() {
        return Err(UsageError(format!("{name} holds no trace records")));
    }
    Ok(records)
}

/// Writes the diagram of `records` to `path` and says where it is.
pub fn write_html(path: &Path, title: &str, records: &[DetailedRecord]) -> Result<(), UsageError> {
    output::write_file(path, html::render(title, records).as_bytes())?;
    output::line(format!("diagram: {} ({} records)", path.display(), records.len()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_trace;
    use proptest::prelude::*;

    /// A trace line of the right shape with values anywhere (the kinds are the kernel's own).
    fn record_line() -> impl Strategy<Value = String> {
        const KINDS: [&str; 7] =
            ["deliver", "drop", "timer", "store_apply", "fault_begin", "crash", "violation"];
        let kind = prop_oneof![
            4 => prop::sample::select(&KINDS[..]).prop_map(str::to_string),
            1 => "[a-z_]{0,10}",
        ];
        (any::<u64>(), any::<u64>(), kind, any::<u32>(), any::<u32>(), any::<u64>(), ".{0,12}")
            .prop_map(|(step, time_ns, kind, node, peer, aux, detail)| {
                serde_json::json!({
                    "step": step, "time_ns": time_ns, "kind": kind, "node": node, "peer": peer,
                    "aux": aux, "payload_hash": aux ^ step, "detail": detail,
                })
                .to_string()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// Goal: `view` answers any file with a page or a one-line error, never a panic.
        #[test]
        fn any_trace_text_gets_a_page_or_an_error(
            lines in prop::collection::vec(prop_oneof![record_line(), ".{0,30}"], 0..8)
        ) {
            match parse_trace(&lines.join("\n"), "t.jsonl") {
                Ok(records) => {
                    let page = crate::html::render("t", &records);
                    prop_assert!(page.contains("trace-data"));
                }
                Err(error) => prop_assert!(!error.0.contains('\n'), "{}", error.0),
            }
        }
    }
}
