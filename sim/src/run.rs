//! One run: a scenario, a seed and a fault plan, driven through two phases (TigerBeetle's VOPR
//! does the same). *Safety*: faults on, every invariant checked after every step. *Liveness*:
//! every fault healed, and the system must converge within a bound. Every loop is bounded, and
//! hitting a bound is an outcome of its own, never a hang.

use crate::disk::Disk;
use crate::faults::FaultPlan;
use crate::kernel::{Coverage, Event, Kernel, World};
use crate::node::{Context, Node};
use crate::storage::ObjectStore;
use crate::time::SimTime;
use crate::trace::{DetailedRecord, Record, RecordKind, Trace, NO_ENDPOINT};
use crate::NodeId;
use serde::Serialize;

/// A system under test, as the kernel sees it: how to boot its nodes and what must hold.
pub trait Scenario {
    /// The node type (an enum when the scenario has several roles).
    type Node: Node;
    /// How many nodes to run; ids are `0..node_count`.
    fn node_count(&self) -> u32;
    /// Builds node `id` from its durable state (`cx.disk()`), at start and after every crash.
    fn boot(&self, id: NodeId, cx: &mut Context<'_, Self::Node>) -> Self::Node;
    /// Safety: called after every step; `Err` stops the run as a safety violation.
    fn check(&mut self, view: &View<'_, Self::Node>) -> Result<(), Violation>;
    /// Safety: the durable promises nodes made during the step (`Context::promise`), as
    /// (node, promise), verified against the world right after it, before [`Scenario::check`].
    /// `Err` stops the run as a safety violation. The default checks nothing.
    fn check_promises(
        &mut self,
        _view: &View<'_, Self::Node>,
        _promises: &[(NodeId, <Self::Node as Node>::Promise)],
    ) -> Result<(), Violation> {
        Ok(())
    }
    /// Liveness: `Ok` once the system has converged after faults healed. The last `Err` seen
    /// when the bound runs out is reported as the liveness violation.
    fn converged(&mut self, view: &View<'_, Self::Node>) -> Result<(), Violation>;
}

/// An invariant that failed, named as in the TLA+ spec, with what was seen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The invariant's name, as the spec spells it.
    pub invariant: String,
    /// What was seen that breaks it.
    pub observed: String,
}

impl Violation {
    /// A violation of `invariant` described by `observed`.
    pub fn new(invariant: impl Into<String>, observed: impl Into<String>) -> Violation {
        Violation { invariant: invariant.into(), observed: observed.into() }
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Every invariant held and the system converged after healing.
    Passed,
    /// An invariant failed during a step.
    Safety(Violation),
    /// The system did not converge within the bound after every fault healed.
    Liveness(Violation),
    /// The run hit a bound (steps, queue length) before it could finish.
    BoundExceeded {
        /// Which bound, and its value.
        bound: String,
    },
    /// A node's handler, its boot or a scenario's check panicked.
    Panic(Panicked),
}

/// A panic caught inside a run: where it happened and what it said. The run ends there, with
/// its trace up to the event that panicked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Panicked {
    /// What was running: `n2 on_message`, `n1 boot`, `check`, `kernel`.
    pub during: String,
    /// The node whose code panicked, when it was a node's.
    pub node: Option<NodeId>,
    /// `file:line:column` of the panic.
    pub location: String,
    /// The panic's message.
    pub message: String,
}

impl std::fmt::Display for Panicked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} panicked at {}: {}", self.during, self.location, self.message)
    }
}

impl Outcome {
    /// A one-word label: `passed`, `safety`, `liveness`, `bound`, `panic`.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Safety(_) => "safety",
            Outcome::Liveness(_) => "liveness",
            Outcome::BoundExceeded { .. } => "bound",
            Outcome::Panic(_) => "panic",
        }
    }

    /// What failed, in one word or name: the invariant of a violation, the bound hit, `Panic`
    /// for a panic; None for a pass.
    pub fn failure_name(&self) -> Option<String> {
        match self {
            Outcome::Passed => None,
            Outcome::Safety(v) | Outcome::Liveness(v) => Some(v.invariant.clone()),
            Outcome::BoundExceeded { bound } => Some(bound.clone()),
            Outcome::Panic(_) => Some("Panic".to_string()),
        }
    }

    /// True when `other` fails the same way: the same kind and invariant (or bound), and for a
    /// panic the same location. What shrinking keeps while it minimizes.
    pub fn same_failure(&self, other: &Outcome) -> bool {
        match (self, other) {
            (Outcome::Panic(a), Outcome::Panic(b)) => a.location == b.location,
            _ => {
                std::mem::discriminant(self) == std::mem::discriminant(other)
                    && self.failure_name() == other.failure_name()
            }
        }
    }

    /// The violation, for safety and liveness outcomes.
    pub fn violation(&self) -> Option<&Violation> {
        match self {
            Outcome::Safety(v) | Outcome::Liveness(v) => Some(v),
            _ => None,
        }
    }
}

/// The bounds of a run. Start from `Default` or [`RunLimits::phases`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RunLimits {
    /// Length of the safety phase (faults on), true nanoseconds.
    pub safety_ns: u64,
    /// How long the system may take to converge once everything healed, nanoseconds.
    pub liveness_ns: u64,
    /// The most steps (events) a run may take.
    pub steps_max: u64,
    /// The most events that may be queued at once.
    pub queue_len_max: usize,
    /// How many trace records the ring buffer keeps for reports.
    pub trace_tail_len: usize,
}

impl RunLimits {
    /// The default bounds with a safety phase of `safety_ns` and up to `liveness_ns` to
    /// converge, true nanoseconds.
    pub fn phases(safety_ns: u64, liveness_ns: u64) -> RunLimits {
        RunLimits { safety_ns, liveness_ns, ..RunLimits::default() }
    }
}

impl Default for RunLimits {
    fn default() -> Self {
        RunLimits {
            safety_ns: crate::time::secs(30),
            liveness_ns: crate::time::secs(30),
            steps_max: 5_000_000,
            queue_len_max: 100_000,
            trace_tail_len: 64,
        }
    }
}

/// Everything a finished run reports.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct RunReport {
    /// The seed that ran.
    pub seed: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// Events handled.
    pub steps: u64,
    /// True time when the run ended, nanoseconds.
    pub sim_time_ns: SimTime,
    /// The fingerprint of every step: the same seed gives the same hash, always.
    pub trace_hash: u64,
    /// The last trace records, oldest first.
    pub tail: Vec<Record>,
    /// Every record with details, when the run captured them.
    #[serde(skip)]
    pub captured: Option<Vec<DetailedRecord>>,
    /// What fired and what was hit during the run.
    pub coverage: Coverage,
    /// The plan as given (the seed's swarm plan, or the one the run was handed).
    pub plan: FaultPlan,
    /// True when some node sent the object store a request (a report without one leaves the
    /// store's knobs out).
    pub store_used: bool,
    /// The run's spec trace (the actions its nodes declared and the spec variables after each
    /// step, one JSON object a line, for TLC's trace validation), when the scenario kept one.
    #[serde(skip)]
    pub spec_trace: Option<Vec<String>>,
}

/// A read-only view of the world for invariant checks: true time, every node, the store, the
/// disks. Checks may see everything; nodes never do.
pub struct View<'a, N: Node> {
    kernel: &'a Kernel<N>,
    nodes: &'a [Option<N>],
}

impl<'a, N: Node> View<'a, N> {
    /// True time now, nanoseconds.
    pub fn now_ns(&self) -> SimTime {
        self.kernel.now
    }
    /// The object store's clock now: true time in the nodes' clock frame (a perfect clock).
    pub fn store_time_ns(&self) -> u64 {
        self.kernel.store_time_ns()
    }
    /// Steps taken so far.
    pub fn step(&self) -> u64 {
        self.kernel.step
    }
    /// How many nodes the run has.
    pub fn node_count(&self) -> u32 {
        self.nodes.len() as u32
    }
    /// Node `id`'s state, or None while it is crashed.
    pub fn node(&self, id: NodeId) -> Option<&'a N> {
        self.nodes[id as usize].as_ref()
    }
    /// Every node that is up, with its id.
    pub fn up_nodes(&self) -> impl Iterator<Item = (NodeId, &'a N)> + 'a {
        let nodes = self.nodes;
        nodes.iter().enumerate().filter_map(|(id, n)| n.as_ref().map(|n| (id as NodeId, n)))
    }
    /// What node `id`'s clock reads now.
    pub fn local_ns(&self, id: NodeId) -> u64 {
        self.kernel.clocks[id as usize].local_ns(self.kernel.now)
    }
    /// True while node `id` is paused.
    pub fn is_paused(&self, id: NodeId) -> bool {
        self.kernel.paused[id as usize]
    }
    /// How many times node `id` has crashed: 0 for its first life, one more after each crash
    /// (a check that keeps per-node state can tell a restarted node from the one it replaced).
    pub fn incarnation(&self, id: NodeId) -> u32 {
        self.kernel.incarnations[id as usize]
    }
    /// The object store's contents.
    pub fn store(&self) -> &'a ObjectStore<N::Value> {
        &self.kernel.store
    }
    /// The store's sessions and the locks they hold.
    pub fn sessions(&self) -> &'a crate::session::Sessions {
        &self.kernel.session_server.sessions
    }
    /// Node `id`'s durable log.
    pub fn disk(&self, id: NodeId) -> &'a Disk<N::Record> {
        &self.kernel.disks[id as usize]
    }
    /// True once the liveness phase began (every fault healed).
    pub fn healed(&self) -> bool {
        self.kernel.healed
    }
    /// The plan the run follows.
    pub fn plan(&self) -> &'a FaultPlan {
        &self.kernel.plan
    }
    /// The spec actions nodes declared during this step ([`crate::Context::action`]), in the
    /// order they were declared, as (node, action).
    pub fn actions(&self) -> &'a [(NodeId, N::Action)] {
        &self.kernel.actions
    }
}

/// A run in progress. [`Simulation::run`] drives it to the end; scripted tests may instead
/// call [`Simulation::run_until`] and inspect [`Simulation::view`] between calls.
pub struct Simulation<S: Scenario> {
    world: World<S::Node>,
    scenario: S,
    seed: u64,
    limits: RunLimits,
    outcome: Option<Outcome>,
    /// The plan as given, for the report (the kernel's copy turns its random faults off when
    /// everything heals, and a replay of that copy would be another run).
    plan: FaultPlan,
}

impl<S: Scenario> Simulation<S> {
    /// Sets up a run and boots every node; with `capture`, every trace record is kept in full.
    pub fn new(scenario: S, seed: u64, plan: FaultPlan, limits: RunLimits, capture: bool) -> Self {
        let nodes = scenario.node_count();
        let trace = Trace::new(limits.trace_tail_len.max(1), capture);
        let given = plan.clone();
        let kernel = Kernel::new(seed, nodes, plan, limits.queue_len_max, trace);
        let mut world = World { kernel, nodes: (0..nodes).map(|_| None).collect() };
        for (index, scheduled) in given.schedule.iter().enumerate() {
            world.kernel.schedule(scheduled.at_ns, Event::FaultBegin(index));
        }
        let mut simulation =
            Simulation { world, scenario, seed, limits, outcome: None, plan: given };
        simulation.guarded(|sim| {
            for id in 0..nodes {
                sim.world.boot(id, &sim.scenario);
            }
            if sim.world.kernel.trace.capturing() {
                sim.world.record_labels();
            }
        });
        simulation
    }

    /// Runs `f` on the simulation unless the run already ended; a panic inside it (a node's,
    /// a check's, the kernel's) ends the run with [`Outcome::Panic`], saying where.
    fn guarded(&mut self, f: impl FnOnce(&mut Self)) {
        if self.outcome.is_some() {
            return;
        }
        if let Err((location, message)) = crate::panic::catch(|| f(self)) {
            let acting = self.world.kernel.acting;
            let during = acting.describe();
            let panicked = Panicked { during, node: acting.node(), location, message };
            self.outcome = Some(Outcome::Panic(panicked));
        }
    }

    /// The world as checks see it.
    pub fn view(&self) -> View<'_, S::Node> {
        View { kernel: &self.world.kernel, nodes: &self.world.nodes }
    }

    /// The scenario (its checker state, counters).
    pub fn scenario(&self) -> &S {
        &self.scenario
    }

    /// Runs steps until true time `until` (or an earlier end), checking safety after each.
    /// Returns the outcome if the run ended.
    pub fn run_until(&mut self, until: SimTime) -> Option<&Outcome> {
        self.guarded(|sim| sim.steps_until(until));
        self.outcome.as_ref()
    }

    fn steps_until(&mut self, until: SimTime) {
        while self.outcome.is_none() {
            match self.world.kernel.queue.peek_time() {
                Some(next) if next <= until => {}
                _ => break,
            }
            self.step_checked();
        }
    }

    /// One step plus the safety check and the bounds. Sets `outcome` when the run must end.
    fn step_checked(&mut self) -> bool {
        if !self.world.step(&self.scenario) {
            return false;
        }
        let promises = std::mem::take(&mut self.world.kernel.promises);
        self.world.kernel.acting = crate::kernel::Acting::Check;
        let kernel = &self.world.kernel;
        // Safety first: a violation in the step that hits a bound is still a violation.
        let view = View { kernel, nodes: &self.world.nodes };
        let checked = if promises.is_empty() {
            self.scenario.check(&view)
        } else {
            let promised = self.scenario.check_promises(&view, &promises);
            promised.and_then(|()| self.scenario.check(&view))
        };
        self.world.kernel.promises = promises;
        self.world.kernel.promises.clear();
        let kernel = &self.world.kernel;
        if let Err(violation) = checked {
            self.outcome = Some(Outcome::Safety(violation));
        } else if let Some(full) = kernel.overflow {
            let bound = format!("queue length {} reached", full.capacity);
            self.outcome = Some(Outcome::BoundExceeded { bound });
        } else if kernel.step >= self.limits.steps_max {
            let bound = format!("{} steps reached", self.limits.steps_max);
            self.outcome = Some(Outcome::BoundExceeded { bound });
        }
        true
    }

    /// Runs both phases to the end and reports. The simulation stays readable afterwards
    /// ([`Simulation::scenario`]: a checker's statistics, say).
    pub fn run(&mut self) -> RunReport {
        self.guarded(|sim| {
            sim.steps_until(sim.limits.safety_ns);
            if sim.outcome.is_none() {
                // The healing happens at the end of the safety phase: set the clock first, so
                // the restarts and resumptions it schedules are not stamped in the past.
                sim.world.kernel.now = sim.world.kernel.now.max(sim.limits.safety_ns);
                sim.world.heal_all(&sim.scenario);
                sim.run_liveness();
            }
        });
        self.finish()
    }

    fn run_liveness(&mut self) {
        let deadline = self.world.kernel.now + self.limits.liveness_ns;
        loop {
            self.world.kernel.acting = crate::kernel::Acting::Check;
            let view = View { kernel: &self.world.kernel, nodes: &self.world.nodes };
            let last_miss = match self.scenario.converged(&view) {
                Ok(()) => return self.outcome = Some(Outcome::Passed),
                Err(miss) => miss,
            };
            let next = self.world.kernel.queue.peek_time();
            if next.is_none_or(|next| next > deadline) {
                return self.outcome = Some(Outcome::Liveness(last_miss));
            }
            self.step_checked();
            if self.outcome.is_some() {
                return;
            }
        }
    }

    /// Ends the run where it stands and reports (once: a second call reports it passed, with
    /// no captured records).
    pub fn finish(&mut self) -> RunReport {
        let kernel = &mut self.world.kernel;
        let finding = match &self.outcome {
            Some(Outcome::Safety(v) | Outcome::Liveness(v)) => {
                Some(format!("{}: {}", v.invariant, v.observed))
            }
            Some(Outcome::Panic(panicked)) => Some(format!("Panic: {panicked}")),
            _ => None,
        };
        if let Some(finding) = finding {
            let record = kernel.record(RecordKind::Violation, NO_ENDPOINT, NO_ENDPOINT, 0, 0);
            kernel.trace.annotate(record, finding);
        }
        RunReport {
            seed: self.seed,
            outcome: self.outcome.take().unwrap_or(Outcome::Passed),
            steps: kernel.step,
            sim_time_ns: kernel.now,
            trace_hash: kernel.trace.hash(),
            tail: kernel.trace.tail(),
            captured: kernel.trace.take_captured(),
            coverage: kernel.coverage.clone(),
            plan: std::mem::take(&mut self.plan),
            store_used: kernel.next_request > 0,
            spec_trace: None,
        }
    }
}
