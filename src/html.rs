//! The space-time diagram of a run: one self-contained HTML file (no network, everything
//! inline). STUB: being written; `render` must keep this signature.

use sim::trace::DetailedRecord;

/// Renders the diagram for `records` (a captured trace, as `--trace` writes it).
pub fn render(title: &str, records: &[DetailedRecord]) -> String {
    format!("<!doctype html><title>{title}</title><p>{} records</p>", records.len())
}
