//! The regression corpus: every bug the harness found (and every canary's minimal
//! reproduction), as a seed plus an explicit fault plan, each replayed and checked to end
//! exactly as recorded. Add one by dropping a JSON file into `tests/regressions/`.

use fencepost::RunRequest;
use serde::Deserialize;
use sim::faults::FaultPlan;
use sim::Outcome;
use std::path::Path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Regression {
    scenario: String,
    seed: u64,
    canary: Option<String>,
    /// Why the case matters, for the person who breaks it.
    why: String,
    plan: FaultPlan,
    expect: Expectation,
}

#[derive(Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expectation {
    outcome: String,
    invariant: Option<String>,
    step: Option<u64>,
    /// For a panic: where it panicked.
    #[serde(default)]
    panic_at: Option<String>,
}

fn replay(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let case: Regression = serde_json::from_str(&text).map_err(|e| format!("malformed: {e}"))?;
    let registry = scenarios::registry();
    let entry = registry
        .find(&case.scenario)
        .ok_or_else(|| format!("unknown scenario {}", case.scenario))?;
    if let Some(canary) = &case.canary {
        entry.canary(canary).ok_or_else(|| format!("unknown canary {canary}"))?;
    }
    let request =
        RunRequest::seed(case.seed).with_canary(case.canary.as_deref()).with_plan(case.plan);
    let report = entry.run(&request);
    let seen = Expectation {
        outcome: report.outcome.label().to_string(),
        invariant: report.outcome.violation().map(|v| v.invariant.clone()),
        step: (report.outcome != Outcome::Passed).then_some(report.steps),
        panic_at: match &report.outcome {
            Outcome::Panic(panicked) => Some(panicked.location.clone()),
            _ => None,
        },
    };
    if seen != case.expect {
        return Err(format!("{}\n  expected {:?}\n  saw      {seen:?}", case.why, case.expect));
    }
    Ok(())
}

/// Goal: no recorded bug comes back and no reproduction silently stops reproducing.
/// Method: replay every file in tests/regressions/ and compare its ending to the record.
#[test]
fn every_recorded_case_ends_as_recorded() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut paths: Vec<_> = std::fs::read_dir(&folder)
        .expect("tests/regressions exists")
        .map(|entry| entry.expect("readable").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "the corpus is empty");
    let failures: Vec<String> = paths
        .iter()
        .filter_map(|path| replay(path).err().map(|e| format!("{}: {e}", path.display())))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases changed:\n{}",
        failures.len(),
        paths.len(),
        failures.join("\n")
    );
}

/// Goal: a malformed corpus file is reported, not skipped. Method: feed replay a broken file.
#[test]
fn a_malformed_case_is_an_error() {
    let path = std::env::temp_dir().join("fencepost-malformed-regression.json");
    std::fs::write(&path, r#"{"scenario": "pingpong"}"#).unwrap();
    assert!(replay(&path).unwrap_err().starts_with("malformed"));
}

/// Goal: the plan a report shows is the plan that ran: replaying it reproduces the run bit for
/// bit. (It once showed the kernel's copy, whose random faults the healing had switched off, so
/// a saved or shrunk plan replayed as another run.) Method: 8 seeds of every scenario, swarm
/// plan, then the reported plan given explicitly; the trace hashes must match.
#[test]
fn a_reported_plan_replays_bit_for_bit() {
    for entry in scenarios::registry().entries() {
        for seed in 0..8 {
            let swarm = entry.run(&RunRequest::seed(seed));
            let request = RunRequest::seed(seed).with_plan(swarm.plan.clone());
            let replay = entry.run(&request);
            assert_eq!(replay.trace_hash, swarm.trace_hash, "{} seed {seed}", entry.name());
        }
    }
}
