//! `fencepost shrink`: from a failing seed, a minimal fault plan that still violates the same
//! invariant. Greedy delta debugging over the plan: drop discrete faults, switch random fault
//! knobs off, halve durations, and keep every change after which the run still fails the same
//! way, until a full pass changes nothing. (proptest shrinks values it generated itself; here
//! the starting point is a given failing plan, so a direct minimizer fits better.) The output is
//! a regression-corpus case that `run --schedule` and `tests/regressions/` replay exactly.

use crate::case::case_for;
use crate::cli::{check_canary, scenario};
use crate::registry::{Registry, RunRequest, ScenarioEntry};
use crate::{exit, output, UsageError};
use sim::aim::AimOptions;
use sim::faults::{Fault, FaultPlan};
use sim::rng::Ratio;
use sim::Outcome;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ShrinkArgs {
    #[arg(long)]
    scenario: String,
    #[arg(long, value_parser = crate::cli::parse_number)]
    seed: u64,
    #[arg(long)]
    canary: Option<String>,
    /// Write the minimal case here (regression-corpus JSON).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The most runs the search may take.
    #[arg(long, default_value_t = 2_000, value_parser = crate::cli::parse_number)]
    runs_max: u64,
}

struct Search<'a> {
    entry: &'a ScenarioEntry,
    seed: u64,
    canary: Option<String>,
    target: Outcome,
    runs: u64,
    runs_max: u64,
}

impl Search<'_> {
    /// True when `plan` still fails like the original (same phase and invariant; for a panic,
    /// the same location).
    fn still_fails(&mut self, plan: &FaultPlan) -> bool {
        if self.runs >= self.runs_max {
            return false;
        }
        self.runs += 1;
        let request = RunRequest {
            seed: self.seed,
            canary: self.canary.clone(),
            plan: Some(plan.clone()),
            capture: false,
        };
        self.entry.run(&request).outcome.same_failure(&self.target)
    }

    /// Pins the smallest size (fewest nodes) at which the run still fails, if any is smaller
    /// than the current one.
    fn shrink_size(&mut self, plan: &mut FaultPlan) -> bool {
        for (size, nodes) in self.entry.smaller_sizes(self.seed) {
            if plan.size.is_some_and(|current| size >= current) {
                break;
            }
            let mut candidate = plan.clone();
            candidate.pin_size(size, nodes);
            if self.still_fails(&candidate) {
                *plan = candidate;
                return true;
            }
        }
        false
    }

    /// Caps the writes at the fewest that still fail: the first power of two that does, then
    /// a binary search below it (for scenarios whose workload honours the cap).
    fn shrink_writes(&mut self, plan: &mut FaultPlan) -> bool {
        if !self.entry.caps_writes() {
            return false;
        }
        let current = plan.writes_max.unwrap_or(u64::MAX);
        let with_cap = |cap| {
            let mut capped = plan.clone();
            capped.writes_max = Some(cap);
            capped
        };
        let Some(mut failing) = (0..=WRITES_CAP_MAX_LOG2)
            .map(|k| 1u64 << k)
            .find(|cap| *cap < current && self.still_fails(&with_cap(*cap)))
        else {
            return false;
        };
        let mut passing = failing / 2; // below the first failing power of two (or 0 untried)
        if failing == 1 && self.still_fails(&with_cap(0)) {
            failing = 0;
        }
        while failing > 0 && passing + 1 < failing {
            let middle = passing + (failing - passing) / 2;
            if self.still_fails(&with_cap(middle)) {
                failing = middle;
            } else {
                passing = middle;
            }
        }
        plan.writes_max = Some(failing);
        true
    }

    /// One pass over every simplification; returns whether anything changed.
    fn pass(&mut self, plan: &mut FaultPlan) -> bool {
        let mut changed = self.shrink_size(plan);
        for index in (0..plan.schedule.len()).rev() {
            let mut candidate = plan.clone();
            candidate.schedule.remove(index);
            if self.still_fails(&candidate) {
                *plan = candidate;
                changed = true;
            }
        }
        for knob in 0..KNOBS {
            let mut candidate = plan.clone();
            if switch_off(&mut candidate, knob) && self.still_fails(&candidate) {
                *plan = candidate;
                changed = true;
            }
        }
        for index in 0..plan.schedule.len() {
            let mut candidate = plan.clone();
            if halve_duration(&mut candidate.schedule[index].fault) && self.still_fails(&candidate)
            {
                *plan = candidate;
                changed = true;
            }
        }
        // Last: fewer faults matter more to a reader than fewer writes.
        changed | self.shrink_writes(plan)
    }
}

const KNOBS: usize = 10;
/// The largest write cap shrinking tries is 2 to this power.
const WRITES_CAP_MAX_LOG2: u32 = 16;

/// Switches off one random-fault knob; false when it was already off.
fn switch_off(plan: &mut FaultPlan, knob: usize) -> bool {
    let ratio = match knob {
        0 => &mut plan.network.drop_ratio,
        1 => &mut plan.network.duplicate_ratio,
        2 => &mut plan.network.reorder_ratio,
        3 => &mut plan.storage.transient_error_ratio,
        4 => &mut plan.storage.ambiguous_ratio,
        5 => &mut plan.disk.torn_write_ratio,
        6 => {
            let was_on = plan.clock.drift_ppm_max > 0;
            plan.clock.drift_ppm_max = 0;
            return was_on;
        }
        8 => {
            let was_on = !plan.aim.is_off();
            plan.aim = AimOptions::default();
            return was_on;
        }
        9 => return std::mem::replace(&mut plan.stranger, false),
        _ => {
            let was_on = plan.clock.offset_ns_max > 0;
            plan.clock.offset_ns_max = 0;
            return was_on;
        }
    };
    !std::mem::replace(ratio, Ratio::NEVER).is_never()
}

fn halve_duration(fault: &mut Fault) -> bool {
    let duration = match fault {
        Fault::Partition { duration_ns, .. }
        | Fault::Clog { duration_ns, .. }
        | Fault::Pause { duration_ns, .. }
        | Fault::StoreOutage { duration_ns } => duration_ns,
        Fault::Crash { down_ns, .. } => down_ns,
        Fault::ClockJump { delta_ns, .. } => {
            let halved = *delta_ns / 2;
            return std::mem::replace(delta_ns, halved) != halved;
        }
        Fault::SessionLoss { .. } => return false, // instantaneous
    };
    let halved = *duration / 2;
    halved >= 1_000 && std::mem::replace(duration, halved) != halved
}

fn knobs_on(plan: &FaultPlan) -> usize {
    (0..KNOBS).filter(|knob| switch_off(&mut plan.clone(), *knob)).count()
}

pub fn main(registry: &Registry, args: ShrinkArgs) -> Result<u8, UsageError> {
    let entry = scenario(registry, &args.scenario)?;
    check_canary(registry, entry, args.canary.as_deref())?;
    if let Some(path) = &args.out {
        output::check_writable("--out", path)?;
    }
    let request = RunRequest { seed: args.seed, canary: args.canary.clone(), ..Default::default() };
    let original = entry.run(&request);
    if original.outcome == Outcome::Passed {
        return Err(UsageError(format!(
            "seed {} of {} passes: nothing to shrink",
            args.seed,
            entry.name()
        )));
    }
    let mut search = Search {
        entry,
        seed: args.seed,
        canary: args.canary.clone(),
        target: original.outcome.clone(),
        runs: 0,
        runs_max: args.runs_max,
    };
    let mut plan = original.plan.clone();
    while search.pass(&mut plan) {}
    let shrunk_request = RunRequest { plan: Some(plan.clone()), ..request.clone() };
    let why = format!("shrunk from seed {} of {}", args.seed, entry.name());
    let case = case_for(entry, &shrunk_request, why);
    crate::output::line(format!(
        "before: {} discrete faults, {} random knobs on, failed at step {}",
        original.plan.schedule.len(),
        knobs_on(&original.plan),
        original.steps
    ));
    let mut size = plan.size.map_or(String::new(), |size| format!("size pinned to {size}, "));
    if let Some(writes_max) = plan.writes_max {
        size.push_str(&format!("writes capped at {writes_max} per writer, "));
    }
    crate::output::line(format!(
        "after:  {size}{} discrete faults, {} random knobs on, failed at step {}  ({} runs)",
        plan.schedule.len(),
        knobs_on(&plan),
        case.expect.step.unwrap_or(0),
        search.runs
    ));
    let json = serde_json::to_string_pretty(&case).expect("cases serialize");
    match &args.out {
        Some(path) => output::write_file(path, json.as_bytes())?,
        None => output::line(&json),
    }
    Ok(exit::PASSED)
}
