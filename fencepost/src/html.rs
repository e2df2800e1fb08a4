//! The space-time diagram of a run: one self-contained HTML file (no network, everything
//! inline). This module only packs the records into the page; layout, drawing and interaction
//! live in `viewer.js`, so the diagram can be tuned without touching Rust.

use serde::Serialize;
use sim::trace::{DetailedRecord, RecordKind};

const TEMPLATE: &str = include_str!("viewer.html");
const STYLE: &str = include_str!("viewer.css");
const SCRIPT: &str = include_str!("viewer.js");

/// The records column by column: half the size of one object per record (100,000 records
/// stay a few megabytes) and quick to load into typed arrays. JavaScript numbers hold 53 bits,
/// so payload hashes travel as hex strings; times, steps and `aux` stay far below that.
#[derive(Serialize)]
struct Columns<'a> {
    title: &'a str,
    step: Vec<u64>,
    time_ns: Vec<u64>,
    kind: Vec<RecordKind>,
    node: Vec<u32>,
    peer: Vec<u32>,
    aux: Vec<u64>,
    payload_hash: Vec<String>,
    detail: Vec<&'a str>,
}

/// Renders the diagram for `records` (a captured trace, as `--trace` writes it).
pub fn render(title: &str, records: &[DetailedRecord]) -> String {
    let columns = Columns {
        title,
        step: records.iter().map(|r| r.record.step).collect(),
        time_ns: records.iter().map(|r| r.record.time_ns).collect(),
        kind: records.iter().map(|r| r.record.kind).collect(),
        node: records.iter().map(|r| r.record.node).collect(),
        peer: records.iter().map(|r| r.record.peer).collect(),
        aux: records.iter().map(|r| r.record.aux).collect(),
        payload_hash: records.iter().map(|r| format!("{:016x}", r.record.payload_hash)).collect(),
        detail: records.iter().map(|r| r.detail.as_str()).collect(),
    };
    let json = serde_json::to_string(&columns).expect("records serialize");
    // Inside <script>, `</script` or `<!--` in a detail would end or confuse the block. A `<`
    // can only occur inside a JSON string, where `\u003c` means the same character.
    let data = json.replace('<', "\\u003c");
    fill(
        TEMPLATE,
        &[("TITLE", &escape_html(title)), ("STYLE", STYLE), ("SCRIPT", SCRIPT), ("DATA", &data)],
    )
}

/// Replaces each `{{NAME}}` of `template` in one pass, so a value that happens to contain a
/// placeholder (a detail string, the title) is never expanded again.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out =
        String::with_capacity(template.len() + values.iter().map(|v| v.1.len()).sum::<usize>());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else { break };
        let name = &rest[start + 2..start + len];
        let value = values
            .iter()
            .find(|v| v.0 == name)
            .map_or_else(|| panic!("no value for {{{{{name}}}}}"), |v| v.1);
        out.push_str(&rest[..start]);
        out.push_str(value);
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
