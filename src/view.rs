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
    let records = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(at, line)| {
            serde_json::from_str(line).map_err(|e| {
                UsageError(format!("{}:{}: not a trace record: {e}", path.display(), at + 1))
            })
        })
        .collect::<Result<Vec<DetailedRecord>, UsageError>>()?;
    if records.is_empty() {
        return Err(UsageError(format!("{} holds no trace records", path.display())));
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
