//! Fault plans from outside (a `--schedule` file, a corpus case) are checked here, in one place,
//! before they run. The kernel trusts its plan and asserts on what it cannot do (a ratio over
//! zero, a node it does not have, a drift past [`DRIFT_PPM_LIMIT`]), so every value a person can
//! write is held against a finite range first, and a bad one is reported as one line naming the
//! field and the range allowed, never as a panic deep inside a run.
//!
//! The limits on durations are generous (an hour, where runs last under a minute of simulated
//! time) but finite, so no sum of times in the kernel can overflow.

use crate::clock::DRIFT_PPM_LIMIT;
use crate::faults::{Fault, FaultPlan, ScheduledFault};
use crate::network::{Partition, ENDPOINTS_MAX, STORE};
use crate::rng::Ratio;
use crate::time::SECOND;
use crate::NodeId;
use serde_json::Value;
use std::fmt;

/// The longest any time in a plan may be, nanoseconds (one hour): latencies, timeouts, fault
/// start times and durations, clock offsets and jumps. Runs last seconds of simulated time.
pub const DURATION_NS_LIMIT: u64 = 3_600 * SECOND;

/// The most discrete faults a plan may schedule (swarm plans hold a few dozen at most).
pub const SCHEDULE_LEN_LIMIT: usize = 10_000;

/// The most endpoints one side of a partition may list: every endpoint a network can hold.
pub const NODE_LIST_LEN_LIMIT: usize = ENDPOINTS_MAX;

/// What a plan may name in one scenario at one seed. Built by the scenario registry.
#[derive(Clone)]
pub struct PlanBounds<'a> {
    /// The scenario, for messages.
    pub scenario: &'static str,
    /// The seed the plan runs with (the scenario's size may come from it).
    pub seed: u64,
    /// The sizes a plan may pin (inclusive), or None when the scenario's size is fixed.
    pub sizes: Option<(u32, u32)>,
    /// True when the scenario's workload honours `writes_max`.
    pub caps_writes: bool,
    /// How many nodes (ids `0..n`) faults may name at `seed` with the plan's size (None: the
    /// seed's own). Called only with a size inside `sizes`.
    pub fault_targets: &'a dyn Fn(u64, Option<u32>) -> u32,
    /// The moments aimed faults may name: the kernel's and those the scenario's machines mark.
    pub moments: Vec<&'static str>,
    /// How long the safety phase lasts, true nanoseconds (`RunLimits::safety_ns`), when the
    /// scenario says: a discrete fault must begin before it ends, since everything heals then
    /// and a later fault would never strike. None: only the one-hour limit applies.
    pub safety_ns: Option<u64>,
    /// True when the scenario can add a stranger to its network (`FaultPlan::stranger`).
    pub strangers: bool,
}

/// A plan value that may not run: the field's path (as `schedule[3].fault.crash.node`) and what
/// is wrong with it, usually the range allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanError {
    /// The field's path, as `schedule[3].fault.crash.node`.
    pub field: String,
    /// What is wrong with its value.
    pub problem: String,
}

impl PlanError {
    fn new(field: impl Into<String>, problem: impl Into<String>) -> PlanError {
        PlanError { field: field.into(), problem: problem.into() }
    }
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

impl std::error::Error for PlanError {}

/// A plan as read from JSON, and which top-level fields the text left out (they take their
/// defaults, which inject no faults), so a caller can say what actually runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedPlan {
    /// The plan, with defaults where the file said nothing.
    pub plan: FaultPlan,
    /// The top-level fields the file left out.
    pub defaulted: Vec<&'static str>,
}

/// The top-level fields of a plan, in the order they print.
const PLAN_FIELDS: [&str; 7] =
    ["network", "storage", "disk", "clock", "schedule", "size", "writes_max"];

/// Reads a plan from JSON text: a bare plan, or a regression-corpus case holding one under
/// `plan`. Unknown fields are errors, and so is a key given twice in one object (serde_json
/// would silently keep the last) and a list where the plan has an object (serde would
/// otherwise read a struct from a list by position). Values are not checked: see
/// [`FaultPlan::validate`].
pub fn parse_plan(text: &str) -> Result<ParsedPlan, PlanError> {
    let value =
        crate::json_strict::parse(text).map_err(|(path, problem)| PlanError::new(path, problem))?;
    let (prefix, value) = match value {
        Value::Object(mut case) if case.contains_key("plan") => {
            ("plan.", case.remove("plan").expect("checked"))
        }
        other => ("", other),
    };
    let Value::Object(fields) = &value else {
        let field = if prefix.is_empty() { "(the top level)" } else { "plan" };
        let problem = format!(
            "expected an object of plan fields ({}), found {}",
            PLAN_FIELDS.join(", "),
            kind_of(&value)
        );
        return Err(PlanError::new(field, problem));
    };
    let defaulted = PLAN_FIELDS.into_iter().filter(|name| !fields.contains_key(*name)).collect();
    let plan: FaultPlan = serde_path_to_error::deserialize(&value).map_err(|e| {
        let path = e.path().to_string(); // "." for the plan itself
        let field = match (prefix, path.as_str()) {
            ("", ".") => "(the top level)".to_string(),
            (_, ".") => "plan".to_string(),
            _ => format!("{prefix}{path}"),
        };
        PlanError::new(field, e.into_inner().to_string())
    })?;
    let canonical = serde_json::to_value(&plan).expect("plans serialize");
    check_shape(&value, &canonical, prefix.trim_end_matches('.'))?;
    Ok(ParsedPlan { plan, defaulted })
}

/// Fails where `given` has a list but the plan has an object (or the other way round): serde
/// accepts a struct written as a list of its fields in order, which no person means.
fn check_shape(given: &Value, canonical: &Value, path: &str) -> Result<(), PlanError> {
    let join = |key: &str| if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
    match (given, canonical) {
        (Value::Object(given), Value::Object(canonical)) => {
            for (key, value) in given {
                if let Some(expected) = canonical.get(key) {
                    check_shape(value, expected, &join(key))?;
                }
            }
            Ok(())
        }
        (Value::Array(given), Value::Array(canonical)) => {
            for (index, (value, expected)) in given.iter().zip(canonical).enumerate() {
                check_shape(value, expected, &format!("{path}[{index}]"))?;
            }
            Ok(())
        }
        (Value::Array(_), Value::Object(_)) | (Value::Object(_), Value::Array(_)) => {
            let field = if path.is_empty() { "(the top level)" } else { path };
            let problem = format!("expected {}, found {}", kind_of(canonical), kind_of(given));
            Err(PlanError::new(field, problem))
        }
        _ => Ok(()),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Fails unless `low <= value <= high`, naming the range and, in `why`, where it comes from.
fn within(field: &str, value: u64, low: u64, high: u64, why: &str) -> Result<(), PlanError> {
    if (low..=high).contains(&value) {
        return Ok(());
    }
    let why = if why.is_empty() { String::new() } else { format!(" ({why})") };
    Err(PlanError::new(field, format!("{value} is out of range: allowed {low}..={high}{why}")))
}

fn duration(field: &str, value: u64) -> Result<(), PlanError> {
    within(field, value, 0, DURATION_NS_LIMIT, "one hour at most")
}

/// A `min`/`max` pair of times: each within the limit, and `min <= max`.
fn time_range(section: &str, name: &str, min: u64, max: u64) -> Result<(), PlanError> {
    duration(&format!("{section}.{name}_min"), min)?;
    let why = format!("from {section}.{name}_min to one hour");
    within(&format!("{section}.{name}_max"), max, min, DURATION_NS_LIMIT, &why)
}

fn ratio(field: &str, ratio: Ratio) -> Result<(), PlanError> {
    within(&format!("{field}.denominator"), ratio.denominator.into(), 1, u32::MAX.into(), "")?;
    let why = format!("a ratio lies in [0, 1]: at most {field}.denominator");
    within(&format!("{field}.numerator"), ratio.numerator.into(), 0, ratio.denominator.into(), &why)
}

impl FaultPlan {
    /// Checks every value of the plan against `bounds`: the scenario's sizes and nodes, and the
    /// finite ranges the kernel can run. The first problem found is returned.
    pub fn validate(&self, bounds: &PlanBounds<'_>) -> Result<(), PlanError> {
        self.validate_size(bounds)?;
        self.validate_knobs()?;
        if self.stranger && !bounds.strangers {
            let problem = format!("{} has no stranger to add to its network", bounds.scenario);
            return Err(PlanError { field: "stranger".to_string(), problem });
        }
        within(
            "schedule",
            self.schedule.len() as u64,
            0,
            SCHEDULE_LEN_LIMIT as u64,
            "faults in the schedule",
        )?;
        let targets = Targets::new(bounds, self.size);
        for (index, scheduled) in self.schedule.iter().enumerate() {
            let path = format!("schedule[{index}]");
            validate_fault(&path, scheduled, &targets)?;
            if let Some(safety_ns) = bounds.safety_ns {
                within_safety_phase(&format!("{path}.at_ns"), scheduled.at_ns, safety_ns)?;
            }
        }
        self.validate_aim(bounds, &targets)
    }

    fn validate_aim(&self, bounds: &PlanBounds, targets: &Targets) -> Result<(), PlanError> {
        let aim = &self.aim;
        let why = "moments a plan may aim at";
        within("aim.moments", aim.moments.len() as u64, 0, bounds.moments.len() as u64, why)?;
        for (index, moment) in aim.moments.iter().enumerate() {
            let field = format!("aim.moments[{index}]");
            if !bounds.moments.contains(&moment.name.as_str()) {
                let known = bounds.moments.join(", ");
                let problem =
                    format!("{:?} is not a moment of {} ({known})", moment.name, bounds.scenario);
                return Err(PlanError::new(format!("{field}.name"), problem));
            }
            ratio(&format!("{field}.ratio"), moment.ratio)?;
        }
        let why = "strikes in a run";
        within("aim.strikes_max", aim.strikes_max.into(), 0, SCHEDULE_LEN_LIMIT as u64, why)?;
        within("aim.targets", aim.targets.into(), 0, targets.count.into(), &targets.why)?;
        ratio("aim.crash_ratio", aim.crash_ratio)?;
        ratio("aim.late_copy_ratio", aim.late_copy_ratio)?;
        duration("aim.down_ns_max", aim.down_ns_max)?;
        duration("aim.pause_ns_max", aim.pause_ns_max)?;
        duration("aim.late_copy_ns_max", aim.late_copy_ns_max)?;
        ratio("aim.session_loss_ratio", aim.session_loss_ratio)
    }

    fn validate_size(&self, bounds: &PlanBounds<'_>) -> Result<(), PlanError> {
        if let Some(size) = self.size {
            let Some((low, high)) = bounds.sizes else {
                let problem = format!("{} has a fixed size: remove the field", bounds.scenario);
                return Err(PlanError::new("size", problem));
            };
            let why = format!("the sizes {} runs", bounds.scenario);
            within("size", size.into(), low.into(), high.into(), &why)?;
        }
        if self.writes_max.is_some() && !bounds.caps_writes {
            let problem = format!("{} has no writes to cap: remove the field", bounds.scenario);
            return Err(PlanError::new("writes_max", problem));
        }
        Ok(())
    }

    fn validate_knobs(&self) -> Result<(), PlanError> {
        let n = &self.network;
        time_range("network", "latency_ns", n.latency_ns_min, n.latency_ns_max)?;
        ratio("network.drop_ratio", n.drop_ratio)?;
        ratio("network.duplicate_ratio", n.duplicate_ratio)?;
        ratio("network.reorder_ratio", n.reorder_ratio)?;
        duration("network.reorder_delay_ns_max", n.reorder_delay_ns_max)?;
        let s = &self.storage;
        time_range("storage", "latency_ns", s.latency_ns_min, s.latency_ns_max)?;
        duration("storage.timeout_ns", s.timeout_ns)?;
        ratio("storage.transient_error_ratio", s.transient_error_ratio)?;
        ratio("storage.ambiguous_ratio", s.ambiguous_ratio)?;
        let d = &self.disk;
        time_range("disk", "sync_latency_ns", d.sync_latency_ns_min, d.sync_latency_ns_max)?;
        ratio("disk.slow_sync_ratio", d.slow_sync_ratio)?;
        duration("disk.slow_sync_ns_max", d.slow_sync_ns_max)?;
        ratio("disk.torn_write_ratio", d.torn_write_ratio)?;
        duration("clock.offset_ns_max", self.clock.offset_ns_max)?;
        let why = "parts per million: 50% at most";
        within("clock.drift_ppm_max", self.clock.drift_ppm_max, 0, DRIFT_PPM_LIMIT as u64, why)?;
        duration("sessions.keepalive_ns", self.sessions.keepalive_ns)
    }
}

/// The nodes faults may name, with the words that explain the range.
struct Targets {
    count: u32,
    why: String,
}

impl Targets {
    fn new(bounds: &PlanBounds<'_>, size: Option<u32>) -> Targets {
        let count = (bounds.fault_targets)(bounds.seed, size);
        let size = match size {
            Some(size) => format!("the plan's size {size}"),
            None => "the seed's own size".to_string(),
        };
        let why = format!(
            "the nodes faults reach in {} at seed {} with {size}",
            bounds.scenario, bounds.seed
        );
        Targets { count, why }
    }

    /// A node that can crash, pause or have its clock stepped.
    fn node(&self, field: &str, node: NodeId) -> Result<(), PlanError> {
        let high = u64::from(self.count).saturating_sub(1);
        if self.count == 0 {
            return Err(PlanError::new(
                field,
                format!("{node}: no node may be faulted ({})", self.why),
            ));
        }
        within(field, node.into(), 0, high, &self.why)
    }

    /// An endpoint of a link: a node, or the object store.
    fn endpoint(&self, field: &str, node: NodeId) -> Result<(), PlanError> {
        if node == STORE || node < self.count {
            return Ok(());
        }
        let last = self.count.saturating_sub(1);
        Err(PlanError::new(
            field,
            format!(
                "{node} is out of range: allowed 0..={last} or {STORE} (the store): {}",
                self.why
            ),
        ))
    }

    fn endpoints(&self, field: &str, nodes: &[NodeId]) -> Result<(), PlanError> {
        let why = "endpoints on one side";
        within(field, nodes.len() as u64, 0, NODE_LIST_LEN_LIMIT as u64, why)?;
        for (index, node) in nodes.iter().enumerate() {
            self.endpoint(&format!("{field}[{index}]"), *node)?;
        }
        Ok(())
    }
}

/// Fails for a fault that would begin once the safety phase is over: everything heals then, so
/// it would never strike, and a plan that seems to test it would test nothing.
fn within_safety_phase(field: &str, at_ns: u64, safety_ns: u64) -> Result<(), PlanError> {
    if at_ns < safety_ns {
        return Ok(());
    }
    Err(PlanError::new(
        field,
        format!(
            "{at_ns} is out of range: allowed 0..={} (faults begin before the safety phase \
             ends at {}; everything heals then, so this one would never strike)",
            safety_ns.saturating_sub(1),
            crate::time::format_ns(safety_ns)
        ),
    ))
}

/// Fails for a partition that cuts nothing a person could mean: an empty side, or an endpoint
/// on both sides (which cuts it from neither). The swarm's symmetric partition of an endpoint
/// from itself is the one exception: the swarm draws it (it cuts nothing), and every plan the
/// harness writes must replay.
fn validate_sides(
    field: &str,
    side_a: (&str, &[NodeId]),
    side_b: (&str, &[NodeId]),
) -> Result<(), PlanError> {
    for (name, side) in [side_a, side_b] {
        if side.is_empty() {
            let problem = "is empty: the partition would cut nothing (name at least one endpoint)";
            return Err(PlanError::new(format!("{field}.{name}"), problem));
        }
    }
    if side_a.1.len() == 1 && side_a.1 == side_b.1 {
        return Ok(());
    }
    if let Some(both) = side_a.1.iter().find(|node| side_b.1.contains(node)) {
        let problem = format!(
            "{} is on both sides ({} and {}): a partition cuts one side from the other, so an \
             endpoint belongs to one",
            crate::network::endpoint_name(*both),
            side_a.0,
            side_b.0
        );
        return Err(PlanError::new(field, problem));
    }
    Ok(())
}

fn validate_fault(
    path: &str,
    scheduled: &ScheduledFault,
    targets: &Targets,
) -> Result<(), PlanError> {
    duration(&format!("{path}.at_ns"), scheduled.at_ns)?;
    let field = |variant: &str, name: &str| format!("{path}.fault.{variant}.{name}");
    match &scheduled.fault {
        Fault::Partition { partition, duration_ns } => {
            duration(&field("partition", "duration_ns"), *duration_ns)?;
            let field = |variant: &str, name: &str| {
                format!("{path}.fault.partition.partition.{variant}.{name}")
            };
            match partition {
                Partition::Symmetric { side_a, side_b } => {
                    targets.endpoints(&field("symmetric", "side_a"), side_a)?;
                    targets.endpoints(&field("symmetric", "side_b"), side_b)?;
                    let at = format!("{path}.fault.partition.partition.symmetric");
                    validate_sides(&at, ("side_a", side_a), ("side_b", side_b))
                }
                Partition::OneWay { from, to } => {
                    targets.endpoints(&field("one_way", "from"), from)?;
                    targets.endpoints(&field("one_way", "to"), to)?;
                    let at = format!("{path}.fault.partition.partition.one_way");
                    validate_sides(&at, ("from", from), ("to", to))
                }
                Partition::IsolateOne { node } => {
                    targets.endpoint(&field("isolate_one", "node"), *node)
                }
                Partition::Split { group } => {
                    let field = field("split", "group");
                    if group.is_empty() {
                        let problem = "is empty: the partition would cut nothing (name the \
                                       endpoints to cut off from the rest)";
                        return Err(PlanError::new(field, problem));
                    }
                    targets.endpoints(&field, group)
                }
            }
        }
        Fault::Clog { from, to, extra_latency_ns, duration_ns } => {
            targets.endpoint(&field("clog", "from"), *from)?;
            targets.endpoint(&field("clog", "to"), *to)?;
            duration(&field("clog", "extra_latency_ns"), *extra_latency_ns)?;
            duration(&field("clog", "duration_ns"), *duration_ns)
        }
        Fault::Crash { node, down_ns } => {
            targets.node(&field("crash", "node"), *node)?;
            duration(&field("crash", "down_ns"), *down_ns)
        }
        Fault::Pause { node, duration_ns } => {
            targets.node(&field("pause", "node"), *node)?;
            duration(&field("pause", "duration_ns"), *duration_ns)
        }
        Fault::ClockJump { node, delta_ns } => {
            targets.node(&field("clock_jump", "node"), *node)?;
            let field = field("clock_jump", "delta_ns");
            let limit = DURATION_NS_LIMIT as i64;
            if (-limit..=limit).contains(delta_ns) {
                return Ok(());
            }
            let problem = format!(
                "{delta_ns} is out of range: allowed -{limit}..={limit} (one hour either way)"
            );
            Err(PlanError::new(field, problem))
        }
        Fault::StoreOutage { duration_ns } => {
            duration(&field("store_outage", "duration_ns"), *duration_ns)
        }
        Fault::SessionLoss { node } => targets.node(&field("session_loss", "node"), *node),
    }
}
