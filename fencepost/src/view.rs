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

pub fn main(args: ViewArgs) -> Result<u8, UsageError> {
    let records = read_trace(&args.trace)?;
    let title = args.trace.file_name().map_or_else(String::new, |n| n.to_string_lossy().into());
    write_html(&args.html, &title, &records)?;
    Ok(exit::PASSED)
}

/// Reads a JSON-lines trace, naming the line and the problem when one is malformed.
fn read_trace(path: &Path) -> Result<Vec<DetailedRecord>, UsageError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
    parse_trace(&text, &path.display().to_string())
}

/// Parses the JSON lines of a trace read from `name`.
fn parse_trace(text: &str, name: &str) -> Result<Vec<DetailedRecord>, UsageError> {
    let records = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(at, line)| {
            serde_json::from_str(line)
                .map_err(|e| UsageError(format!("{name}:{}: not a trace record: {e}", at + 1)))
        })
        .collect::<Result<Vec<DetailedRecord>, UsageError>>()?;
    if records.is_empty() {
        return Err(UsageError(format!("{name} holds no trace records")));
    }
    Ok(records)
}

/// Writes the diagram of `records` to `path` and says where it is.
pub fn write_html(path: &Path, title: &str, records: &[DetailedRecord]) -> Result<(), UsageError> {
    std::fs::write(path, html::render(title, records))
        .map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))?;
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
