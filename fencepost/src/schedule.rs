//! `run --schedule FILE`: a fault plan from a file, checked value by value against the scenario
//! and seed before anything runs (`sim::plan_check`), so a bad file is one line naming the field
//! and the range allowed, exit 2, never a panic inside the run.

use crate::registry::ScenarioEntry;
use crate::{output, UsageError};
use sim::faults::FaultPlan;
use sim::plan_check::{parse_plan, ParsedPlan, PlanError};
use std::path::Path;

/// Reads the plan in `path` (bare, or the `plan` of a regression-corpus case), checks it for
/// `entry` at `seed`, and says what it runs.
pub fn load(path: &Path, entry: &ScenarioEntry, seed: u64) -> Result<FaultPlan, UsageError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
    let parsed = check(&text, entry, seed).map_err(|e| {
        let message = format!("{}: {e}", path.display());
        UsageError(message.replace('\n', " "))
    })?;
    output::line(describe(path, &parsed));
    Ok(parsed.plan)
}

/// Parses `text` as a plan and checks it for `entry` at `seed`.
fn check(text: &str, entry: &ScenarioEntry, seed: u64) -> Result<ParsedPlan, PlanError> {
    let parsed = parse_plan(text)?;
    entry.check_plan(seed, &parsed.plan)?;
    Ok(parsed)
}

/// One line on what the file makes the run do, so an empty or partial file is never mistaken
/// for the plan someone meant.
fn describe(path: &Path, parsed: &ParsedPlan) -> String {
    let kinds: Vec<&str> = parsed.plan.enabled_kinds().iter().map(|k| k.name()).collect();
    let faults = if kinds.is_empty() {
        "injects no faults".to_string()
    } else {
        format!("{} discrete faults; kinds {}", parsed.plan.schedule.len(), kinds.join(" "))
    };
    let defaulted = if parsed.defaulted.is_empty() {
        String::new()
    } else {
        let fields = parsed.defaulted.join(", ");
        format!("; not in the file, so at their defaults (no faults, the seed's size): {fields}")
    };
    format!("schedule: {} {faults}{defaulted}", path.display())
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_empty_plan_says_it_injects_no_faults() {
        let parsed = sim::plan_check::parse_plan("{}").unwrap();
        let line = super::describe(std::path::Path::new("empty.json"), &parsed);
        let expected =
            "schedule: empty.json injects no faults; not in the file, so at their defaults";
        assert!(line.starts_with(expected), "{line}");
    }
}
