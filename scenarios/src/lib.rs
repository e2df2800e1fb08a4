//! Scenarios: the model's state machines as simulated nodes, their workloads, fault profiles and
//! checks, and the registry (built with the harness's public API) the CLI and the tests use.

pub mod cluster;
pub mod intruder;
pub mod lease;
pub mod pingpong;
pub mod replica_set;
pub mod replication;
pub mod session_lease;
pub mod spec_check;
pub mod spec_trace;

use fencepost::{CanaryInfo, Registry, ScenarioEntry, SeedRun};
use model::failover::FailoverCanary;
use model::lease::LeaseCanary;
use model::replication::{AckPolicy, ReplicationCanary};
use model::session_lease::SessionLeaseCanary;
use sim::faults::FaultPlan;
use sim::rng::Stream;
use sim::RunReport;

const PINGPONG_CANARIES: &[CanaryInfo] = &[
    pingpong::PingPongCanary::NoGracePeriod.info(),
    pingpong::PingPongCanary::GrantFromReceipt.info(),
];

fn pingpong_run(run: &SeedRun<'_>) -> RunReport {
    let canary = run.canary.map(|name| {
        *pingpong::PingPongCanary::ALL
            .iter()
            .find(|c| c.name() == name)
            .expect("the runner checked the canary name")
    });
    run.simulate(pingpong::PingPong { canary }, pingpong::limits())
}

/// The kernel benchmark: pingpong's fixed workload (no faults but 1% loss, 60 simulated s).
fn pingpong_benchmark(seed: u64) -> RunReport {
    let plan = pingpong::benchmark_plan();
    let scenario = pingpong::PingPong { canary: None };
    sim::Simulation::new(scenario, seed, plan, pingpong::benchmark_limits(), false).run()
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

fn lease_run(run: &SeedRun<'_>) -> RunReport {
    let canary = run.canary.map(|name| {
        *LeaseCanary::ALL.iter().find(|c| c.name() == name).expect("the runner checked it")
    });
    let mut scenario = lease::LeaseScenario::new(run.seed, canary);
    if let Some(size) = run.plan.size {
        scenario.contenders = size;
    }
    if let Some(writes_max) = run.plan.writes_max {
        scenario.writes_max = writes_max;
    }
    scenario.trace = run.capture.then(spec_trace::SpecTrace::default);
    run.simulate_then(scenario, lease::limits(), |scenario, report| {
        report.spec_trace = scenario.trace.as_ref().map(|trace| trace.lines().to_vec());
    })
}

fn lease_plan(seed: u64, profile: fn(u32) -> sim::faults::SwarmProfile) -> FaultPlan {
    let contenders = lease::LeaseScenario::new(seed, None).contenders;
    FaultPlan::swarm(&mut Stream::fork(seed, "faults"), &profile(contenders))
}

/// The lease's faults reach every contender, never the protected resource (its swarm
/// profile's nodes).
fn lease_fault_targets(seed: u64, size: Option<u32>) -> u32 {
    size.unwrap_or_else(|| lease::LeaseScenario::new(seed, None).contenders)
}

fn lease_smaller_sizes(seed: u64) -> Vec<(u32, u32)> {
    let contenders = lease::LeaseScenario::new(seed, None).contenders;
    (1..contenders).map(|size| (size, size)).collect()
}

fn lease_entry(name: &'static str, profile: fn(u32) -> sim::faults::SwarmProfile) -> ScenarioEntry {
    let coverage = profile(3);
    ScenarioEntry::new(name, lease_run)
        .with_test_command("cargo test --test lease seed_range")
        .with_plans(move |seed| lease_plan(seed, profile), coverage.kinds, coverage.moments)
        .with_sizes((1, 7), lease_fault_targets, lease_smaller_sizes)
        .with_capped_writes()
        .with_limits(lease::limits())
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
    replication_canary(ReplicationCanary::NoPeerAuth),
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
    "stranger-shut-out",
];

fn replication_run(run: &SeedRun<'_>, ack_policy: AckPolicy) -> RunReport {
    let canary = run.canary.map(|name| {
        *ReplicationCanary::ALL.iter().find(|c| c.name() == name).expect("the runner checked it")
    });
    let mut scenario =
        replication::ReplicationScenario::new(run.seed, run.plan.size, ack_policy, canary);
    if let Some(writes_max) = run.plan.writes_max {
        scenario.writes_max = writes_max;
    }
    scenario.stranger = run.plan.stranger;
    scenario.trace = run.capture.then(spec_trace::SpecTrace::default);
    run.simulate_then(scenario, replication::limits(), |scenario, report| {
        report.spec_trace = scenario.trace.as_ref().map(|trace| trace.lines().to_vec());
    })
}

fn replication_members(seed: u64) -> u32 {
    replication::ReplicationScenario::new(seed, None, AckPolicy::Quorum, None).members
}

fn replication_entry(name: &'static str, ack_policy: AckPolicy) -> ScenarioEntry {
    let coverage = replication::swarm_profile(3);
    ScenarioEntry::new(name, move |run| replication_run(run, ack_policy))
        .with_test_command("cargo test --test replication seed_range")
        .with_plans(
            |seed| replication::plan(seed, replication_members(seed)),
            coverage.kinds,
            coverage.moments,
        )
        // Faults never reach the client (node `size`), so a shrunk plan must not either.
        .with_sizes(
            (1, 5),
            |seed, size| size.unwrap_or_else(|| replication_members(seed)),
            |seed| (1..replication_members(seed)).map(|size| (size, size)).collect(),
        )
        .with_capped_writes()
        .with_limits(replication::limits())
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
    "stranger-shut-out",
];

fn cluster_run(run: &SeedRun<'_>) -> RunReport {
    use cluster::ClusterCanary;
    let canary = run.canary.map(|name| {
        if name == LeaseCanary::UncheckedResource.name() {
            return ClusterCanary::UncheckedResource;
        }
        let canary = FailoverCanary::ALL.iter().find(|c| c.name() == name);
        ClusterCanary::Failover(*canary.expect("the runner checked the canary"))
    });
    let mut scenario = cluster::ClusterScenario::new(run.seed, run.plan.size, canary);
    if let Some(writes_max) = run.plan.writes_max {
        scenario.writes_max = writes_max;
    }
    scenario.stranger = run.plan.stranger;
    scenario.keep_spec_trace(run.capture);
    run.simulate_then(scenario, cluster::limits(), |scenario, report| {
        report.spec_trace = scenario.spec_trace();
    })
}

fn cluster_members(seed: u64) -> u32 {
    cluster::ClusterScenario::new(seed, None, None).members
}

const SESSION_LEASE_CANARIES: &[CanaryInfo] = &[
    session_lease_canary(SessionLeaseCanary::DescribedDesign),
    session_lease_canary(SessionLeaseCanary::UnboundedBelief),
    session_lease_canary(SessionLeaseCanary::UnfencedWrites),
    session_lease_canary(SessionLeaseCanary::PreemptValidLease),
    session_lease_canary(SessionLeaseCanary::RefreshWithoutValidation),
    session_lease_canary(SessionLeaseCanary::ValidateOnOtherConnection),
];

const fn session_lease_canary(canary: SessionLeaseCanary) -> CanaryInfo {
    CanaryInfo { name: canary.name(), description: canary.description() }
}

const SESSION_LEASE_PROBES: &[&str] = &[
    "lock-taken",
    "lock-held",
    "waiting-out",
    "leadership-taken",
    "refreshed",
    "zombie-preempted",
    "preempt-refused",
    "session-lost-seen",
    "resigned",
    "storage-timeout-seen",
    "write-accepted",
    "write-refused",
    sim::KEEPALIVE_EXPIRED,
];

fn session_lease_run(run: &SeedRun<'_>) -> RunReport {
    let canary = run.canary.map(|name| {
        *SessionLeaseCanary::ALL.iter().find(|c| c.name() == name).expect("the runner checked it")
    });
    let mut scenario = session_lease::SessionLeaseScenario::new(run.seed, canary);
    if let Some(size) = run.plan.size {
        scenario.contenders = size;
    }
    if let Some(writes_max) = run.plan.writes_max {
        scenario.writes_max = writes_max;
    }
    run.simulate(scenario, session_lease::limits())
}

fn session_lease_contenders(seed: u64) -> u32 {
    session_lease::SessionLeaseScenario::new(seed, None).contenders
}

fn session_lease_entry() -> ScenarioEntry {
    let coverage = session_lease::swarm_profile(2);
    ScenarioEntry::new("session-lease", session_lease_run)
        .with_summary("leadership by a session-bound lock plus a lease row, with zombie preemption")
        .with_limits(session_lease::limits())
        .with_test_command("cargo test --test session_lease seed_range")
        .with_canaries(SESSION_LEASE_CANARIES)
        .with_probes(SESSION_LEASE_PROBES)
        .with_plans(
            |seed| {
                let profile = session_lease::swarm_profile(session_lease_contenders(seed));
                FaultPlan::swarm(&mut Stream::fork(seed, "faults"), &profile)
            },
            coverage.kinds,
            coverage.moments,
        )
        // The faults reach the contenders, never the protected resource.
        .with_sizes(
            (1, 5),
            |seed, size| size.unwrap_or_else(|| session_lease_contenders(seed)),
            |seed| (1..session_lease_contenders(seed)).map(|size| (size, size)).collect(),
        )
        .with_capped_writes()
}

/// Every scenario of this repository, in the order `fencepost list` prints them, registered
/// through the harness's public API exactly as a user's are. Reproduce lines replay through
/// `cargo run --release --` of this repository.
pub fn registry() -> Registry {
    let cluster_coverage = cluster::swarm_profile(3);
    Registry::new()
        .command("cargo run --release --")
        .with(
            lease_entry("lease", lease::swarm_profile)
                .with_summary(
                    "writer lease over a CAS object store with fencing tokens, under swarm faults",
                )
                .with_canaries(LEASE_CANARIES)
                .with_probes(LEASE_PROBES),
        )
        .with(
            lease_entry("lease-unsafe-drift", lease::unsafe_swarm_profile)
                .with_summary("the lease with clock error beyond its margin: must find violations")
                .expecting_violations_within(UNSAFE_DRIFT_FINDS_WITHIN),
        )
        .with(
            replication_entry("replication", AckPolicy::Quorum)
                .with_summary(
                    "leader election and log replication with quorum acks, under swarm faults",
                )
                .with_canaries(REPLICATION_CANARIES)
                .with_probes(REPLICATION_PROBES),
        )
        .with(
            replication_entry("replication-leader-ack", AckPolicy::Leader)
                .with_summary(
                    "replication acking on the leader's append alone: must lose acked writes",
                )
                .expecting_violations_within(LEADER_ACK_FINDS_WITHIN),
        )
        .with(
            ScenarioEntry::new("cluster", cluster_run)
                .with_summary(
                    "the whole system: lease-gated primary, replication, planned and forced \
                     failovers",
                )
                .with_test_command("cargo test --test failover seed_range")
                .with_canaries(CLUSTER_CANARIES)
                .with_probes(CLUSTER_PROBES)
                .with_plans(
                    |seed| cluster::plan(seed, cluster_members(seed)),
                    cluster_coverage.kinds,
                    cluster_coverage.moments,
                )
                // Faults reach the members and the coordinator (node `size`), never the client
                // or the resource.
                .with_sizes(
                    (2, 5),
                    |seed, size| cluster::ClusterScenario::new(seed, size, None).members + 1,
                    |seed| (2..cluster_members(seed)).map(|size| (size, size + 1)).collect(),
                )
                .with_capped_writes()
                .with_limits(cluster::limits()),
        )
        .with(
            ScenarioEntry::new("pingpong", pingpong_run)
                .with_summary(
                    "grant server and five clients: the kernel's example and benchmark workload",
                )
                .with_test_command("cargo test --test pingpong seed_range")
                .with_canaries(PINGPONG_CANARIES)
                .with_probes(&["grant-received", "grant-denied"])
                .with_swarm(pingpong::swarm_profile())
                .with_limits(pingpong::limits()),
        )
        .with(session_lease_entry())
        .with_kernel_benchmark("pingpong", pingpong_benchmark)
}

/// `lease-unsafe-drift` found violations in 327 of seeds 0..2000 (16%): 100 clean seeds in a row
/// would happen by chance less than once in a million (0.84^100 < 1e-7).
const UNSAFE_DRIFT_FINDS_WITHIN: u64 = 100;
/// `replication-leader-ack` found violations in 94 of seeds 0..1000 (9.4%): 150 clean seeds in
/// a row would happen by chance less than once in a million (0.906^150 < 1e-6).
const LEADER_ACK_FINDS_WITHIN: u64 = 150;
