//! `run --schedule FILE`: a fault plan from a file, checked value by value against the scenario
//! and seed before anything runs (`sim::plan_check`), so a bad file is one line naming the field
//! and the range allowed, exit 2, never a panic inside the run.

use crate::case::CaseHeader;
use crate::registry::ScenarioEntry;
use crate::UsageError;
use sim::plan_check::{parse_plan, ParsedPlan};
use std::path::{Path, PathBuf};

/// The most a schedule file may hold: a plan of 10,000 faults (the checker's limit) is about
/// 2 MiB written out in full, so 16 MiB is generous and still stops `/dev/zero` at once.
const SCHEDULE_BYTES_MAX: u64 = 16 << 20;

/// A schedule file, read and parsed but not yet checked against a scenario.
pub struct Schedule {
    pub path: PathBuf,
    pub parsed: ParsedPlan,
    /// What the file reproduces, when it is a corpus case rather than a bare plan.
    pub case: Option<CaseHeader>,
}

impl Schedule {
    /// Reads `path`: a bare plan, or a corpus case (a plan with what it reproduces).
    pub fn read(path: &Path) -> Result<Schedule, UsageError> {
        let text = crate::output::read_capped(path, SCHEDULE_BYTES_MAX, "a fault plan")?;
        let in_file = |e: &dyn std::fmt::Display| {
            UsageError(format!("{}: {}", path.display(), e.to_string().replace('\n', " ")))
        };
        let parsed = parse_plan(&text).map_err(|e| in_file(&e))?;
        let is_case = matches!(
            serde_json::from_str::<serde_json::Value>(&text),
            Ok(serde_json::Value::Object(fields)) if fields.contains_key("plan")
        );
        let case = if is_case {
            let header = serde_json::from_str::<CaseHeader>(&text)
                .map_err(|e| in_file(&format!("not a regression-corpus case: {e}")))?;
            Some(header)
        } else {
            None
        };
        Ok(Schedule { path: path.to_path_buf(), parsed, case })
    }

    /// Checks every value of the plan for `entry` at `seed`.
    pub fn check(&self, entry: &ScenarioEntry, seed: u64) -> Result<(), UsageError> {
        entry.check_plan(seed, &self.parsed.plan).map_err(|e| {
            let message = format!("{}: {e}", self.path.display());
            UsageError(message.replace('\n', " "))
        })
    }

    /// One line on what the file makes the run do.
    pub fn describe(&self) -> String {
        describe(&self.path, &self.parsed)
    }
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
