//! The scenarios a harness binary knows: each with its name, how to run one seed, its canaries,
//! what its swarm may do and what coverage it promises. A binary builds a [`Registry`] and
//! hands it to [`crate::main`]; the built-in scenarios of this repository register exactly the
//! same way.

use sim::faults::{FaultKind, FaultPlan};
use sim::plan_check::{PlanBounds, PlanError};
use sim::{RunLimits, RunReport, Scenario, Simulation};

/// A deliberately broken variant of a scenario's state machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CanaryInfo {
    /// Its name on the command line (`--canary NAME`).
    pub name: &'static str,
    /// One line on the bug it plants.
    pub description: &'static str,
}

/// How to run one seed of a scenario.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct RunRequest {
    /// The seed: fixes every random choice of the run.
    pub seed: u64,
    /// The canary to switch on, by name (checked against the scenario's list).
    pub canary: Option<String>,
    /// Replaces the seed's swarm plan (a schedule file, a shrunk plan).
    pub plan: Option<FaultPlan>,
    /// Keep every trace record with details (for reports and JSON-lines export).
    pub capture: bool,
}

impl RunRequest {
    /// A request for `seed` with the seed's own plan, no canary, no capture.
    pub fn seed(seed: u64) -> RunRequest {
        RunRequest { seed, ..RunRequest::default() }
    }

    /// The same request with `canary` switched on.
    pub fn with_canary(mut self, canary: Option<&str>) -> RunRequest {
        self.canary = canary.map(str::to_string);
        self
    }

    /// The same request running `plan` instead of the seed's swarm plan.
    pub fn with_plan(mut self, plan: FaultPlan) -> RunRequest {
        self.plan = Some(plan);
        self
    }

    /// The same request keeping every trace record in full.
    pub fn capturing(mut self) -> RunRequest {
        self.capture = true;
        self
    }
}

/// One seed to run, as a scenario's run function receives it: the plan is always resolved
/// (the request's, or the seed's swarm plan).
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct SeedRun<'a> {
    /// The seed.
    pub seed: u64,
    /// The canary switched on, if any (a name the scenario declared).
    pub canary: Option<&'a str>,
    /// The fault plan to follow.
    pub plan: &'a FaultPlan,
    /// Keep every trace record with details.
    pub capture: bool,
}

impl SeedRun<'_> {
    /// Runs `scenario` through both phases under this seed and plan: what most run functions
    /// do once they have built their scenario.
    pub fn simulate<S: Scenario>(&self, scenario: S, limits: RunLimits) -> RunReport {
        self.simulate_then(scenario, limits, |_, _| {})
    }

    /// Like [`SeedRun::simulate`], then hands the scenario as the run left it to `finish`
    /// with the report: to read a checker's statistics or spec trace into the report, say.
    pub fn simulate_then<S: Scenario>(
        &self,
        scenario: S,
        limits: RunLimits,
        finish: impl FnOnce(&S, &mut RunReport),
    ) -> RunReport {
        let mut simulation =
            Simulation::new(scenario, self.seed, self.plan.clone(), limits, self.capture);
        let mut report = simulation.run();
        finish(simulation.scenario(), &mut report);
        report
    }
}

type RunFn = Box<dyn Fn(&SeedRun<'_>) -> RunReport + Send + Sync>;
type PlanFn = Box<dyn Fn(u64) -> FaultPlan + Send + Sync>;
type SizesFn = Box<dyn Fn(u64) -> Vec<(u32, u32)> + Send + Sync>;
type TargetsFn = Box<dyn Fn(u64, Option<u32>) -> u32 + Send + Sync>;

/// One registered scenario. Built with [`ScenarioEntry::new`] and the builder methods; every
/// field is private, so a field added later breaks no one.
pub struct ScenarioEntry {
    name: &'static str,
    summary: &'static str,
    test_command: Option<String>,
    canaries: Vec<CanaryInfo>,
    probes: Vec<&'static str>,
    fault_kinds: Vec<FaultKind>,
    moments: Vec<&'static str>,
    finds_expected_within: Option<u64>,
    plan: PlanFn,
    run: RunFn,
    sizes: Option<(u32, u32)>,
    smaller_sizes: SizesFn,
    fault_targets: TargetsFn,
    caps_writes: bool,
    safety_ns: Option<u64>,
}

impl ScenarioEntry {
    /// A scenario called `name` (as the command line names it) whose seeds `run` runs. With
    /// no other call its plans have no faults; [`ScenarioEntry::with_swarm`] or
    /// [`ScenarioEntry::with_plans`] give each seed its faults.
    pub fn new(
        name: &'static str,
        run: impl Fn(&SeedRun<'_>) -> RunReport + Send + Sync + 'static,
    ) -> ScenarioEntry {
        ScenarioEntry {
            name,
            summary: "",
            test_command: None,
            canaries: Vec::new(),
            probes: Vec::new(),
            fault_kinds: Vec::new(),
            moments: Vec::new(),
            finds_expected_within: None,
            plan: Box::new(|_| FaultPlan::default()),
            run: Box::new(run),
            sizes: None,
            smaller_sizes: Box::new(|_| Vec::new()),
            fault_targets: Box::new(|_, _| 0),
            caps_writes: false,
            safety_ns: None,
        }
    }

    /// One line on what the scenario exercises (`list` prints it).
    pub fn with_summary(mut self, summary: &'static str) -> ScenarioEntry {
        self.summary = summary;
        self
    }

    /// The command that runs this scenario's seed-range test, e.g. `cargo test --test raft
    /// seed_range`: reproduce lines print `DST_SEED=<n> <command>`.
    pub fn with_test_command(mut self, command: impl Into<String>) -> ScenarioEntry {
        self.test_command = Some(command.into());
        self
    }

    /// Its canaries, in the order `list --canaries` prints them.
    pub fn with_canaries(mut self, canaries: &[CanaryInfo]) -> ScenarioEntry {
        self.canaries.extend_from_slice(canaries);
        self
    }

    /// The "sometimes" probes it declares (`Context::sometimes`): situations it exists to
    /// create. A long enough seed range that never hits one fails ([`crate::testing`]).
    pub fn with_probes(mut self, probes: &[&'static str]) -> ScenarioEntry {
        self.probes.extend_from_slice(probes);
        self
    }

    /// Every seed's plan is the swarm plan `FaultPlan::swarm` draws for `profile` from the
    /// seed's `faults` stream; its fault kinds and moments are the coverage the scenario
    /// promises (each must fire across a long enough seed range), and its nodes are the ones
    /// a schedule file may name.
    pub fn with_swarm(mut self, profile: sim::faults::SwarmProfile) -> ScenarioEntry {
        self.fault_kinds = profile.kinds.clone();
        self.moments = profile.moments.clone();
        let nodes = profile.nodes;
        self.fault_targets = Box::new(move |_, _| nodes);
        self.plan = Box::new(move |seed| {
            FaultPlan::swarm(&mut sim::rng::Stream::fork(seed, "faults"), &profile)
        });
        self
    }

    /// Every seed's plan comes from `plan` (for a scenario whose profile depends on the seed,
    /// its size say), with `kinds` and `moments` the coverage it promises.
    pub fn with_plans(
        mut self,
        plan: impl Fn(u64) -> FaultPlan + Send + Sync + 'static,
        kinds: Vec<FaultKind>,
        moments: Vec<&'static str>,
    ) -> ScenarioEntry {
        self.plan = Box::new(plan);
        self.fault_kinds = kinds;
        self.moments = moments;
        self
    }

    /// The scenario's size varies by seed within `min..=max` (contenders, members), and a plan
    /// may pin one (`FaultPlan::size`). `targets(seed, size)` says how many nodes (ids from 0)
    /// faults may name at that size (None: the seed's own), and `smaller(seed)` lists the
    /// sizes below the seed's own that shrinking may try, each with its fault targets,
    /// smallest first.
    pub fn with_sizes(
        mut self,
        (min, max): (u32, u32),
        targets: impl Fn(u64, Option<u32>) -> u32 + Send + Sync + 'static,
        smaller: impl Fn(u64) -> Vec<(u32, u32)> + Send + Sync + 'static,
    ) -> ScenarioEntry {
        self.sizes = Some((min, max));
        self.fault_targets = Box::new(targets);
        self.smaller_sizes = Box::new(smaller);
        self
    }

    /// How many nodes (ids from 0) faults may name, for a fixed-size scenario whose plans come
    /// from [`ScenarioEntry::with_plans`] (the swarm profile says it for
    /// [`ScenarioEntry::with_swarm`]).
    pub fn with_fault_targets(mut self, nodes: u32) -> ScenarioEntry {
        self.fault_targets = Box::new(move |_, _| nodes);
        self
    }

    /// The limits its run function runs with: a schedule file's faults must then begin within
    /// the safety phase (`limits.safety_ns`), since everything heals when it ends and a later
    /// fault would never strike.
    pub fn with_limits(mut self, limits: RunLimits) -> ScenarioEntry {
        self.safety_ns = Some(limits.safety_ns);
        self
    }

    /// The workload honours `FaultPlan::writes_max`, so shrinking may cap the writes.
    pub fn with_capped_writes(mut self) -> ScenarioEntry {
        self.caps_writes = true;
        self
    }

    /// A variant *expected* to find violations (its configuration is outside what the
    /// protocol survives): its finds are not failures, and finding none over `within` seeds
    /// means the harness is blind (choose `within` so that a clean run that long is below one
    /// in a million at the measured rate).
    pub fn expecting_violations_within(mut self, within: u64) -> ScenarioEntry {
        self.finds_expected_within = Some(within);
        self
    }

    /// The name on the command line.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// One line on what it exercises.
    pub fn summary(&self) -> &'static str {
        self.summary
    }

    /// Its canaries.
    pub fn canaries(&self) -> &[CanaryInfo] {
        &self.canaries
    }

    /// The canary called `name`, if the scenario has it.
    pub fn canary(&self, name: &str) -> Option<&CanaryInfo> {
        self.canaries.iter().find(|c| c.name == name)
    }

    /// The probes it declares.
    pub fn probes(&self) -> &[&'static str] {
        &self.probes
    }

    /// The fault kinds its swarm may enable.
    pub fn fault_kinds(&self) -> &[FaultKind] {
        &self.fault_kinds
    }

    /// The moments its aimed strikes may target.
    pub fn moments(&self) -> &[&'static str] {
        &self.moments
    }

    /// For a variant that must find violations: the seeds within which it should.
    pub fn finds_expected_within(&self) -> Option<u64> {
        self.finds_expected_within
    }

    /// True for a variant that is expected to find violations.
    pub fn expects_violations(&self) -> bool {
        self.finds_expected_within.is_some()
    }

    /// True when the workload honours a plan's cap on writes.
    pub fn caps_writes(&self) -> bool {
        self.caps_writes
    }

    /// The seed's own swarm plan.
    pub fn plan(&self, seed: u64) -> FaultPlan {
        (self.plan)(seed)
    }

    /// The sizes below the seed's own that shrinking may pin, each with its fault targets.
    pub fn smaller_sizes(&self, seed: u64) -> Vec<(u32, u32)> {
        (self.smaller_sizes)(seed)
    }

    /// Runs `request` (the seed's own plan unless it brings one).
    pub fn run(&self, request: &RunRequest) -> RunReport {
        let own;
        let plan = match &request.plan {
            Some(plan) => plan,
            None => {
                own = self.plan(request.seed);
                &own
            }
        };
        let run = SeedRun {
            seed: request.seed,
            canary: request.canary.as_deref(),
            plan,
            capture: request.capture,
        };
        (self.run)(&run)
    }

    /// Runs `request`; when it fails and details were not captured, replays it once with
    /// capture on for the report, and checks the replay hashed the same (a free determinism
    /// check on every failure). A mismatch is reported as an error naming the seed.
    pub fn run_for_report(&self, request: &RunRequest) -> Result<RunReport, String> {
        let report = self.run(request);
        if report.outcome == sim::Outcome::Passed || request.capture {
            return Ok(report);
        }
        let detailed = self.run(&request.clone().capturing());
        if detailed.trace_hash != report.trace_hash {
            return Err(format!(
                "NONDETERMINISM: {} seed {} hashed {:016x}, then {:016x} on replay",
                self.name, request.seed, report.trace_hash, detailed.trace_hash
            ));
        }
        Ok(detailed)
    }

    /// What a fault plan may name when it runs at `seed`.
    pub fn plan_bounds(&self, seed: u64) -> PlanBounds<'_> {
        PlanBounds {
            scenario: self.name,
            seed,
            sizes: self.sizes,
            caps_writes: self.caps_writes,
            fault_targets: &*self.fault_targets,
            moments: self.moments.clone(),
            strangers: self.fault_kinds.contains(&FaultKind::Stranger),
            safety_ns: self.safety_ns,
        }
    }

    /// Checks every value of `plan` (a schedule file's, say) before it runs at `seed`.
    pub fn check_plan(&self, seed: u64, plan: &FaultPlan) -> Result<(), PlanError> {
        plan.validate(&self.plan_bounds(seed))
    }

    /// Commands that replay `request` bit for bit: `command` is how the harness binary is
    /// invoked ([`Registry::command`]), `schedule` the file the request's plan came from. A
    /// run with its own plan or canary replays only through the binary; a plain seed also
    /// through the scenario's seed-range test, when it has one.
    pub fn reproduce(
        &self,
        command: &str,
        request: &RunRequest,
        schedule: Option<&str>,
    ) -> Vec<String> {
        let mut cli = format!("{command} run --scenario {} --seed {}", self.name, request.seed);
        if request.plan.is_some() {
            cli.push_str(&format!(" --schedule {}", schedule.unwrap_or("<the plan file>")));
        }
        if let Some(canary) = &request.canary {
            cli.push_str(&format!(" --canary {canary}"));
        }
        match &self.test_command {
            Some(test) if request.plan.is_none() && request.canary.is_none() => {
                vec![format!("DST_SEED={} {test}", request.seed), cli]
            }
            _ => vec![cli],
        }
    }
}

/// The scenarios a harness binary offers, and how that binary is invoked (for the reproduce
/// lines every failure prints).
#[derive(Default)]
pub struct Registry {
    entries: Vec<ScenarioEntry>,
    command: Option<String>,
    kernel_benchmark: Option<KernelBenchmark>,
}

/// A fixed workload that `bench` times as the kernel's own throughput (events per second with
/// the trace hash and the per-step check on), comparable with other simulators' figures.
pub(crate) struct KernelBenchmark {
    /// The registered scenario it is a fixed variant of (also what `bench` scales by default).
    pub scenario: &'static str,
    pub run: Box<dyn Fn(u64) -> RunReport + Send + Sync>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds `entry`; `list` prints scenarios in the order they were added.
    ///
    /// # Panics
    /// If a scenario of the same name is already registered, or the name is `all` (which
    /// `stress --scenario all` means).
    pub fn with(mut self, entry: ScenarioEntry) -> Registry {
        assert!(entry.name != "all", "`all` names every scenario; choose another name");
        assert!(self.find(entry.name).is_none(), "scenario {} registered twice", entry.name);
        self.entries.push(entry);
        self
    }

    /// How reproduce lines invoke the binary, e.g. `cargo run --release -p my-dst --`.
    /// Default: the program's name as it was invoked.
    pub fn command(mut self, command: impl Into<String>) -> Registry {
        self.command = Some(command.into());
        self
    }

    /// A fixed workload of scenario `scenario` that `bench` times as the kernel line, run once
    /// per seed by `run`.
    pub fn with_kernel_benchmark(
        mut self,
        scenario: &'static str,
        run: impl Fn(u64) -> RunReport + Send + Sync + 'static,
    ) -> Registry {
        self.kernel_benchmark = Some(KernelBenchmark { scenario, run: Box::new(run) });
        self
    }

    pub(crate) fn kernel_benchmark(&self) -> Option<&KernelBenchmark> {
        self.kernel_benchmark.as_ref()
    }

    /// The command given with [`Registry::command`], if any.
    pub fn configured_command(&self) -> Option<&str> {
        self.command.as_deref()
    }

    /// The command reproduce lines start with.
    pub fn invocation(&self) -> String {
        self.command.clone().unwrap_or_else(|| {
            std::env::args_os()
                .next()
                .map_or_else(|| "fencepost".to_string(), |arg| arg.to_string_lossy().into())
        })
    }

    /// Every scenario, in registration order.
    pub fn entries(&self) -> &[ScenarioEntry] {
        &self.entries
    }

    /// The scenario called `name`.
    pub fn find(&self, name: &str) -> Option<&ScenarioEntry> {
        self.entries.iter().find(|e| e.name == name)
    }
}
