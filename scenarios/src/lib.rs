//! Scenarios: the model's state machines as simulated nodes, their workloads, fault profiles and
//! checks, and the registry the CLI and the tests find them in by name.

pub mod cluster;
pub mod lease;
pub mod pingpong;
pub mod replica_set;
pub mod replication;
pub mod spec_check;
pub mod spec_trace;

use model::failover::FailoverCanary;
use model::lease::LeaseCanary;
use model::replication::{AckPolicy, ReplicationCanary};
use sim::faults::{FaultKind, FaultPlan};
use sim::plan_check::{PlanBounds, PlanError};
use sim::rng::Stream;
use sim::{RunReport, Simulation};

/// A deliberately broken variant of a scenario's state machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CanaryInfo {
    pub name: &'static str,
    pub description: &'static str,
}

/// How to run one seed of a scenario.
#[derive(Clone, Debug, Default)]
pub struct RunRequest {
    pub seed: u64,
    /// The canary to switch on, by name (checked against the scenario's list).
    pub canary: Option<String>,
    /// Replaces the seed's swarm plan (a schedule file, a shrunk plan, the benchmark's plan).
    pub plan: Option<FaultPlan>,
    /// Keep every trace record with details (for reports and JSON-lines export).
    pub capture: bool,
}

/// One registered scenario.
pub struct ScenarioEntry {
    /// The name on the command line.
    pub name: &'static str,
    /// One line on what it exercises.
    pub summary: &'static str,
    /// The integration test file (`tests/<file>.rs`) whose `seed_range` test runs it.
    pub test_file: &'static str,
    /// Its canaries.
    pub canaries: &'static [CanaryInfo],
    /// The "sometimes" probes it declares: situations it exists to create. The test suite
    /// fails if one is never hit across the scenario's test seed range.
    pub probes: &'static [&'static str],
    /// The fault kinds its swarm plans may enable; each must fire across the test seed range.
    pub fault_kinds: fn() -> Vec<FaultKind>,
    /// The moments its aimed faults may strike (`sim::aim`); each must be struck across the
    /// test seed range.
    pub moments: fn() -> Vec<&'static str>,
    /// True for a variant that is *expected* to find violations (its configuration is outside
    /// what the protocol can survive): stress reports it broken if it finds none.
    pub expects_violations: bool,
    /// The swarm plan a seed gets.
    pub plan: fn(seed: u64) -> FaultPlan,
    /// Sizes smaller than the seed's own that shrinking may pin (see `FaultPlan::size`), each
    /// with how many nodes its faults may reach (as `fault_targets` says), smallest first;
    /// empty for a fixed-size scenario.
    pub smaller_sizes: fn(seed: u64) -> Vec<(u32, u32)>,
    /// True when the workload honours `FaultPlan::writes_max`, so shrinking may cap writes.
    pub caps_writes: bool,
    /// The sizes a plan may pin (inclusive): the range the scenario is tested at. None for a
    /// fixed-size scenario.
    pub sizes: Option<(u32, u32)>,
    /// How many nodes (ids from 0) faults may name at `seed` with `size` (None: the seed's own
    /// size); the swarm never faults the others (a client outside the faults, say).
    pub fault_targets: fn(seed: u64, size: Option<u32>) -> u32,
    /// For a variant that expects violations: over this many seeds, finding none means the
    /// harness is blind (the chance of a clean run that long is below one in a million at the
    /// measured rate). Fewer seeds without a find prove nothing either way. 0 otherwise.
    pub finds_expected_within: u64,
    /// Runs one seed.
    pub run: fn(request: &RunRequest) -> RunReport,
}

impl ScenarioEntry {
    /// The canary called `name`, if the scenario has it.
    pub fn canary(&self, name: &str) -> Option<&'static CanaryInfo> {
        self.canaries.iter().find(|c| c.name == name)
    }

    /// What a fault plan may name when it runs at `seed`.
    pub fn plan_bounds(&self, seed: u64) -> PlanBounds {
        PlanBounds {
            scenario: self.name,
            seed,
            sizes: self.sizes,
            caps_writes: self.caps_writes,
            fault_targets: self.fault_targets,
            moments: (self.moments)(),
        }
    }

    /// Checks every value of `plan` (a schedule file's, say) before it runs at `seed`.
    pub fn check_plan(&self, seed: u64, plan: &FaultPlan) -> Result<(), PlanError> {
        plan.validate(&self.plan_bounds(seed))
    }

    /// Commands that replay `request` bit for bit. A request with a plan names it as
    /// `<the plan file>`: see [`ScenarioEntry::reproduce_from`].
    pub fn reproduce(&self, request: &RunRequest) -> Vec<String> {
        self.reproduce_from(request, None)
    }

    /// Commands that replay `request`, whose plan (if any) was read from `schedule`. A run
    /// with its own plan replays only through the CLI: the test suite runs swarm plans.
    pub fn reproduce_from(&self, request: &RunRequest, schedule: Option<&str>) -> Vec<String> {
        let mut cli =
            format!("cargo run --release -- run --scenario {} --seed {}", self.name, request.seed);
        if request.plan.is_some() {
            cli.push_str(&format!(" --schedule {}", schedule.unwrap_or("<the plan file>")));
        }
        if let Some(canary) = &request.canary {
            cli.push_str(&format!(" --canary {canary}"));
            return vec![cli];
        }
        if request.plan.is_some() {
            return vec![cli];
        }
        vec![
            format!("DST_SEED={} cargo test --test {} seed_range", request.seed, self.test_file),
            cli,
        ]
    }

    /// Runs `request`; when it fails and details were not captured, replays it once with
    /// capture on for the report, and checks the replay hashed the same (a free determinism
    /// check on every failure).
    pub fn run_for_report(&self, request: &RunRequest) -> RunReport {
        let report = (self.run)(request);
        if report.outcome == sim::Outcome::Passed || request.capture {
            return report;
        }
        let detailed = (self.run)(&RunRequest { capture: true, ..request.clone() });
        assert_eq!(
            detailed.trace_hash, report.trace_hash,
            "NONDETERMINISM: seed {} hashed differently on replay",
            request.seed
        );
        detailed
    }
}

const PINGPONG_CANARIES: &[CanaryInfo] = &[
    pingpong::PingPongCanary::NoGracePeriod.info(),
    pingpong::PingPongCanary::GrantFromReceipt.info(),
];

fn pingpong_plan(seed: u64) -> FaultPlan {
    FaultPlan::swarm(&mut Stream::fork(seed, "faults"), &pingpong::swarm_profile())
}

fn pingpong_run(request: &RunRequest) -> RunReport {
    let canary = request.canary.as_deref().map(|name| {
        *pingpong::PingPongCanary::ALL
            .iter()
            .find(|c| c.name() == name)
            .expect("the caller checked the canary name")
    });
    let plan = request.plan.clone().unwrap_or_else(|| pingpong_plan(request.seed));
    let scenario = pingpong::PingPong { canary };
    Simulation::new(scenario, request.seed, plan, pingpong::limits(), request.capture).run()
}

const LEASE_CANARIES: &[CanaryInfo] = &[
    lease_canary(LeaseCanary::NoTermFence),
    lease_canary(LeaseCanary::NoSafetyMargin),
    lease_canary(LeaseCanary::BlindRefresh),
    lease_canary(LeaseCanary::NoConfirmRead),
    lease_canary(LeaseCanary::UncheckedResource),
    lease_canary(LeaseCanary::RetryStaleRenewal),
    lease_canary(LeaseCanary::ReleaseDeletesRecord),
    lease_canary(LeaseCanary::ExpiryFromReply),
    lease_canary(LeaseCanary::WriteAfterLapse),
];

const fn lease_canary(canary: LeaseCanary) -> CanaryInfo {
    CanaryInfo { name: canary.name(), description: canary.description() }
}

const LEASE_PROBES: &[&str] = &[
    "lease-acquired",
    "lease-renewed",
    "lease-released",
    "acquire-refused-held",
    "acquire-fenced",
    "acquire-lost-race",
    "renew-stale",
    "fenced-write-accepted",
    "fenced-write-rejected",
    "storage-timeout-seen",
];

fn lease_run_with(
    request: &RunRequest,
    profile: fn(u32) -> sim::faults::SwarmProfile,
) -> RunReport {
    let canary = request.canary.as_deref().map(|name| {
        *LeaseCanary::ALL.iter().find(|c| c.name() == name).expect("the caller checked the canary")
    });
    let mut scenario = lease::LeaseScenario::new(request.seed, canary);
    if let Some(size) = request.plan.as_ref().and_then(|plan| plan.size) {
        scenario.contenders = size;
    }
    if let Some(writes_max) = request.plan.as_ref().and_then(|plan| plan.writes_max) {
        scenario.writes_max = writes_max;
    }
    let plan = request.plan.clone().unwrap_or_else(|| {
        FaultPlan::swarm(&mut Stream::fork(request.seed, "faults"), &profile(scenario.contenders))
    });
    scenario.trace = request.capture.then(spec_trace::SpecTrace::default);
    let mut sim = Simulation::new(scenario, request.seed, plan, lease::limits(), request.capture);
    let mut report = sim.run();
    report.spec_trace = sim.scenario().trace.as_ref().map(|trace| trace.lines().to_vec());
    report
}

fn lease_plan(seed: u64) -> FaultPlan {
    let contenders = lease::LeaseScenario::new(seed, None).contenders;
    FaultPlan::swarm(&mut Stream::fork(seed, "faults"), &lease::swarm_profile(contenders))
}

fn lease_unsafe_plan(seed: u64) -> FaultPlan {
    let contenders = lease::LeaseScenario::new(seed, None).contenders;
    FaultPlan::swarm(&mut Stream::fork(seed, "faults"), &lease::unsafe_swarm_profile(contenders))
}

const REPLICATION_CANARIES: &[CanaryInfo] = &[
    replication_canary(ReplicationCanary::AcceptFromNonLeader),
    replication_canary(ReplicationCanary::SkipRequestIdCorrelation),
    replication_canary(ReplicationCanary::NoDualLeaderConvergence),
    replication_canary(ReplicationCanary::TruncateOnLowerTerm),
    replication_canary(ReplicationCanary::AckBeforeDurable),
    replication_canary(ReplicationCanary::ElectionWithoutTermBump),
    replication_canary(ReplicationCanary::GrantBeforeDurable),
    replication_canary(ReplicationCanary::RecoverForgetsVote),
    replication_canary(ReplicationCanary::VoteWithoutLogCheck),
    replication_canary(ReplicationCanary::CountOwnUnsyncedAppend),
    replication_canary(ReplicationCanary::TermNotDurable),
];

const fn replication_canary(canary: ReplicationCanary) -> CanaryInfo {
    CanaryInfo { name: canary.name(), description: canary.description() }
}

const REPLICATION_PROBES: &[&str] = &[
    "write-acked",
    "write-redirected",
    "election-started",
    "suffix-truncated",
    "skip-ahead",
    "sync-backoff",
    "sync-timeout",
    "backpressure-sent",
    "append-rejected",
    "sync-answer-rejected",
    "same-term-contention",
    "torn-tail-discarded",
];

fn replication_run_with(request: &RunRequest, ack_policy: AckPolicy) -> RunReport {
    let canary = request.canary.as_deref().map(|name| {
        *ReplicationCanary::ALL
            .iter()
            .find(|c| c.name() == name)
            .expect("the caller checked the canary")
    });
    let size = request.plan.as_ref().and_then(|plan| plan.size);
    let mut scenario =
        replication::ReplicationScenario::new(request.seed, size, ack_policy, canary);
    if let Some(writes_max) = request.plan.as_ref().and_then(|plan| plan.writes_max) {
        scenario.writes_max = writes_max;
    }
    let plan =
        request.plan.clone().unwrap_or_else(|| replication::plan(request.seed, scenario.members));
    scenario.trace = request.capture.then(spec_trace::SpecTrace::default);
    let limits = replication::limits();
    let mut sim = Simulation::new(scenario, request.seed, plan, limits, request.capture);
    let mut report = sim.run();
    report.spec_trace = sim.scenario().trace.as_ref().map(|trace| trace.lines().to_vec());
    report
}

fn replication_plan(seed: u64) -> FaultPlan {
    let members =
        replication::ReplicationScenario::new(seed, None, AckPolicy::Quorum, None).members;
    replication::plan(seed, members)
}

fn replication_smaller_sizes(seed: u64) -> Vec<(u32, u32)> {
    let members =
        replication::ReplicationScenario::new(seed, None, AckPolicy::Quorum, None).members;
    // Faults never reach the client (node `size`), so a shrunk plan must not either.
    (1..members).map(|size| (size, size)).collect()
}

/// The lease's faults reach every contender, never the protected resource (its swarm
/// profile's nodes).
fn lease_fault_targets(seed: u64, size: Option<u32>) -> u32 {
    size.unwrap_or_else(|| lease::LeaseScenario::new(seed, None).contenders)
}

/// Replication's faults reach the members, never the client.
fn replication_fault_targets(seed: u64, size: Option<u32>) -> u32 {
    size.unwrap_or_else(|| {
        replication::ReplicationScenario::new(seed, None, AckPolicy::Quorum, None).members
    })
}

fn lease_smaller_sizes(seed: u64) -> Vec<(u32, u32)> {
    let contenders = lease::LeaseScenario::new(seed, None).contenders;
    (1..contenders).map(|size| (size, size + 1)).collect() // + the protected resource
}

const CLUSTER_CANARIES: &[CanaryInfo] = &[
    failover_canary(FailoverCanary::NoFreeze),
    failover_canary(FailoverCanary::CommitBeforeFrontier),
    failover_canary(FailoverCanary::NoTermBump),
    failover_canary(FailoverCanary::UnderReportSkipped),
    failover_canary(FailoverCanary::OldPrimaryNotDemoted),
    failover_canary(FailoverCanary::PromoteBeforeDemoted),
    failover_canary(FailoverCanary::ProgressFromWorkingLog),
    lease_canary(LeaseCanary::UncheckedResource),
];

const fn failover_canary(canary: FailoverCanary) -> CanaryInfo {
    CanaryInfo { name: canary.name(), description: canary.description() }
}

const CLUSTER_PROBES: &[&str] = &[
    "write-acked",
    "write-refused",
    "election-started",
    "suffix-truncated",
    "skip-ahead",
    "sync-backoff",
    "sync-timeout",
    "backpressure-sent",
    "append-rejected",
    "sync-answer-rejected",
    "same-term-contention",
    "lease-acquired",
    "lease-renewed",
    "lease-released",
    "acquire-refused-held",
    "acquire-fenced",
    "acquire-lost-race",
    "renew-stale",
    "storage-timeout-seen",
    "fenced-write-accepted",
    "fenced-write-rejected",
    "force-refused",
    "handover-coordinated",
    "handover-forced",
    "handover-done",
    "handover-skipped-writes",
    "handover-aborted",
    "handover-overtaken",
    "freeze-expired",
    "torn-tail-discarded",
];

fn cluster_run(request: &RunRequest) -> RunReport {
    use cluster::ClusterCanary;
    let canary = request.canary.as_deref().map(|name| {
        if name == LeaseCanary::UncheckedResource.name() {
            return ClusterCanary::UncheckedResource;
        }
        let canary = FailoverCanary::ALL.iter().find(|c| c.name() == name);
        ClusterCanary::Failover(*canary.expect("the caller checked the canary"))
    });
    let size = request.plan.as_ref().and_then(|plan| plan.size);
    let mut scenario = cluster::ClusterScenario::new(request.seed, size, canary);
    if let Some(writes_max) = request.plan.as_ref().and_then(|plan| plan.writes_max) {
        scenario.writes_max = writes_max;
    }
    let plan =
        request.plan.clone().unwrap_or_else(|| cluster::plan(request.seed, scenario.members));
    scenario.keep_spec_trace(request.capture);
    let mut sim = Simulation::new(scenario, request.seed, plan, cluster::limits(), request.capture);
    let mut report = sim.run();
    report.spec_trace = sim.scenario().spec_trace();
    report
}

fn cluster_plan(seed: u64) -> FaultPlan {
    cluster::plan(seed, cluster::ClusterScenario::new(seed, None, None).members)
}

/// The cluster's faults reach the members and the coordinator, never the client or the
/// resource.
fn cluster_fault_targets(seed: u64, size: Option<u32>) -> u32 {
    cluster::ClusterScenario::new(seed, size, None).members + 1
}

fn cluster_smaller_sizes(seed: u64) -> Vec<(u32, u32)> {
    let members = cluster::ClusterScenario::new(seed, None, None).members;
    // Faults reach the coordinator (node `size`), never the client or the resource.
    (2..members).map(|size| (size, size + 1)).collect()
}

/// Every scenario, in the order `fencepost list` prints them.
pub static SCENARIOS: &[ScenarioEntry] = &[
    ScenarioEntry {
        name: "lease",
        summary: "writer lease over a CAS object store with fencing tokens, under swarm faults",
        test_file: "lease",
        canaries: LEASE_CANARIES,
        probes: LEASE_PROBES,
        fault_kinds: || lease::swarm_profile(3).kinds,
        moments: || lease::swarm_profile(3).moments,
        expects_violations: false,
        plan: lease_plan,
        smaller_sizes: lease_smaller_sizes,
        caps_writes: true,
        sizes: Some((1, 7)),
        fault_targets: lease_fault_targets,
        finds_expected_within: 0,
        run: |request| lease_run_with(request, lease::swarm_profile),
    },
    ScenarioEntry {
        name: "lease-unsafe-drift",
        summary: "the lease with clock error beyond its margin: must find violations",
        test_file: "lease",
        canaries: &[],
        probes: &[],
        fault_kinds: || lease::unsafe_swarm_profile(3).kinds,
        moments: || lease::unsafe_swarm_profile(3).moments,
        expects_violations: true,
        plan: lease_unsafe_plan,
        smaller_sizes: lease_smaller_sizes,
        caps_writes: true,
        sizes: Some((1, 7)),
        fault_targets: lease_fault_targets,
        finds_expected_within: UNSAFE_DRIFT_FINDS_WITHIN,
        run: |request| lease_run_with(request, lease::unsafe_swarm_profile),
    },
    ScenarioEntry {
        name: "replication",
        summary: "leader election and log replication with quorum acks, under swarm faults",
        test_file: "replication",
        canaries: REPLICATION_CANARIES,
        probes: REPLICATION_PROBES,
        fault_kinds: || replication::swarm_profile(3).kinds,
        moments: || replication::swarm_profile(3).moments,
        expects_violations: false,
        plan: replication_plan,
        smaller_sizes: replication_smaller_sizes,
        caps_writes: true,
        sizes: Some((1, 5)),
        fault_targets: replication_fault_targets,
        finds_expected_within: 0,
        run: |request| replication_run_with(request, AckPolicy::Quorum),
    },
    ScenarioEntry {
        name: "replication-leader-ack",
        summary: "replication acking on the leader's append alone: must lose acked writes",
        test_file: "replication",
        canaries: &[],
        probes: &[],
        fault_kinds: || replication::swarm_profile(3).kinds,
        moments: || replication::swarm_profile(3).moments,
        expects_violations: true,
        plan: replication_plan,
        smaller_sizes: replication_smaller_sizes,
        caps_writes: true,
        sizes: Some((1, 5)),
        fault_targets: replication_fault_targets,
        finds_expected_within: LEADER_ACK_FINDS_WITHIN,
        run: |request| replication_run_with(request, AckPolicy::Leader),
    },
    ScenarioEntry {
        name: "cluster",
        summary: "the whole system: lease-gated primary, replication, planned and forced failovers",
        test_file: "failover",
        canaries: CLUSTER_CANARIES,
        probes: CLUSTER_PROBES,
        fault_kinds: || cluster::swarm_profile(3).kinds,
        moments: || cluster::swarm_profile(3).moments,
        expects_violations: false,
        plan: cluster_plan,
        smaller_sizes: cluster_smaller_sizes,
        caps_writes: true,
        sizes: Some((2, 5)),
        fault_targets: cluster_fault_targets,
        finds_expected_within: 0,
        run: cluster_run,
    },
    ScenarioEntry {
        name: "pingpong",
        summary: "grant server and five clients: the kernel's example and benchmark workload",
        test_file: "pingpong",
        canaries: PINGPONG_CANARIES,
        probes: &["grant-received", "grant-denied"],
        fault_kinds: || pingpong::swarm_profile().kinds,
        moments: || pingpong::swarm_profile().moments,
        expects_violations: false,
        plan: pingpong_plan,
        smaller_sizes: |_| Vec::new(),
        caps_writes: false,
        sizes: None,
        fault_targets: |_, _| pingpong::CLIENTS + 1,
        finds_expected_within: 0,
        run: pingpong_run,
    },
];

/// The scenario called `name`.
pub fn find(name: &str) -> Option<&'static ScenarioEntry> {
    SCENARIOS.iter().find(|s| s.name == name)
}

/// `lease-unsafe-drift` found violations in 327 of seeds 0..2000 (16%): 100 clean seeds in a row
/// would happen by chance less than once in a million (0.84^100 < 1e-7).
const UNSAFE_DRIFT_FINDS_WITHIN: u64 = 100;
/// `replication-leader-ack` found violations in 94 of seeds 0..1000 (9.4%): 150 clean seeds in
/// a row would happen by chance less than once in a million (0.906^150 < 1e-6).
const LEADER_ACK_FINDS_WITHIN: u64 = 150;
