//! A case of the regression corpus (`tests/regressions/*.json`, `shrink --out`, `stress
//! --save-failures`): what it reproduces (scenario, seed, canary), why it matters, the exact
//! fault plan, and how the run ended when it was recorded. `run --schedule CASE` replays exactly
//! that and says whether the ending matched.

use crate::registry::{RunRequest, ScenarioEntry};
use serde::{Deserialize, Serialize};
use sim::faults::FaultPlan;
use sim::{Outcome, RunReport};

/// A case as written: the fields in the order a reader wants them.
#[derive(Serialize)]
pub struct Case {
    pub scenario: String,
    pub seed: u64,
    pub canary: Option<String>,
    pub why: String,
    pub plan: FaultPlan,
    pub expect: Expect,
}

/// A case as read by `run --schedule`: everything but the plan, which the plan checker reads
/// (`sim::plan_check`) so its values are checked like any schedule's.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseHeader {
    pub scenario: String,
    pub seed: u64,
    #[serde(default)]
    pub canary: Option<String>,
    #[serde(default)]
    pub why: String,
    #[allow(dead_code)] // read by the plan checker
    plan: serde::de::IgnoredAny,
    /// None for a hand-made case that records no ending.
    #[serde(default)]
    pub expect: Option<Expect>,
}

/// How a run ended, as a case records it: the outcome's label, and for a violation its
/// invariant and the step it was seen at (for a panic, where it panicked).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub outcome: String,
    pub invariant: Option<String>,
    pub step: Option<u64>,
    /// For a panic: `file:line:column`, which tells one panic from another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panic_at: Option<String>,
}

impl Expect {
    /// How `report` ended, in the terms a case records.
    pub fn of(report: &RunReport) -> Expect {
        let violation = report.outcome.violation();
        Expect {
            outcome: report.outcome.label().to_string(),
            invariant: violation.map(|v| v.invariant.clone()),
            step: (report.outcome != Outcome::Passed).then_some(report.steps),
            panic_at: match &report.outcome {
                Outcome::Panic(panicked) => Some(panicked.location.clone()),
                _ => None,
            },
        }
    }

    /// `safety@7463 GrantUniqueness`, `passed`, `panic at src/x.rs:3:9`.
    pub fn describe(&self) -> String {
        let mut text = self.outcome.clone();
        if let Some(step) = self.step {
            text.push_str(&format!("@{step}"));
        }
        if let Some(invariant) = &self.invariant {
            text.push_str(&format!(" {invariant}"));
        }
        if let Some(location) = &self.panic_at {
            text.push_str(&format!(" at {location}"));
        }
        text
    }
}

/// Builds the corpus case that records how `request` ends.
pub fn case_for(entry: &ScenarioEntry, request: &RunRequest, why: String) -> Case {
    let report = entry.run(request);
    Case {
        scenario: entry.name().to_string(),
        seed: request.seed,
        canary: request.canary.clone(),
        why,
        plan: request.plan.clone().unwrap_or(report.plan.clone()),
        expect: Expect::of(&report),
    }
}

/// The last line of a case's replay: whether it ended as recorded. False on a mismatch.
pub fn judge(expected: &Expect, report: &RunReport) -> (bool, String) {
    let seen = Expect::of(report);
    if &seen == expected {
        (true, format!("case: expected {}: reproduced", expected.describe()))
    } else {
        let line = format!(
            "CASE MISMATCH: expected {}, but the run ended {}: the case no longer reproduces \
             what it recorded",
            expected.describe(),
            seen.describe()
        );
        (false, line)
    }
}
