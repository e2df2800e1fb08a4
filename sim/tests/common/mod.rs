//! Shared by the kernel's end-to-end tests: the recording node `Rec`, whose behaviour is a
//! script handed over by the scenario and which logs every observation with the reading of its
//! own clock, the `Scripted` scenario around it, and helpers to run and read them.

#![allow(dead_code)] // each test file uses a different part

use sim::clock::LOCAL_EPOCH_NS;
use sim::faults::{Fault, FaultPlan, ScheduledFault};
use sim::storage::StorageReply;
use sim::time::{millis, secs};
use sim::{
    Context, Node, NodeId, RequestId, RunLimits, RunReport, Scenario, Simulation, View, Violation,
};
use std::rc::Rc;

// ---------------------------------------------------------------------------------------------
// The recording node and its scenario.

/// Something a node observed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Obs {
    /// The node (re)booted and found these durable records, and maybe a torn tail.
    Boot {
        records: Vec<u32>,
        torn: bool,
    },
    Timer(u64),
    Msg {
        from: NodeId,
        value: u64,
    },
    Store(StorageReply<u32>),
    Synced(usize),
    /// The link with this peer works both ways again.
    Reconnect(NodeId),
}

/// A node's whole behaviour: how it reacts to each observation (its boot included).
pub type Script = Rc<dyn Fn(&mut Context<'_, Rec>, &Obs)>;

pub fn script(f: impl Fn(&mut Context<'_, Rec>, &Obs) + 'static) -> Script {
    Rc::new(f)
}

/// A node that logs (local clock reading, observation) and then runs its script.
pub struct Rec {
    pub script: Script,
    pub log: Vec<(u64, Obs)>,
}

impl Rec {
    fn observe(&mut self, cx: &mut Context<'_, Rec>, obs: Obs) {
        self.log.push((cx.now_local_ns(), obs.clone()));
        (self.script)(cx, &obs);
    }
}

impl Node for Rec {
    type Msg = u64;
    type Value = u32;
    type Record = u32;
    type Promise = u64;
    type Action = ();
    fn on_message(&mut self, cx: &mut Context<'_, Self>, from: NodeId, value: u64) {
        self.observe(cx, Obs::Msg { from, value });
    }
    fn on_timer(&mut self, cx: &mut Context<'_, Self>, tag: u64) {
        self.observe(cx, Obs::Timer(tag));
    }
    fn on_storage(&mut self, cx: &mut Context<'_, Self>, _: RequestId, reply: StorageReply<u32>) {
        self.observe(cx, Obs::Store(reply));
    }
    fn on_disk_synced(&mut self, cx: &mut Context<'_, Self>, durable_len: usize) {
        self.observe(cx, Obs::Synced(durable_len));
    }
    fn on_reconnect(&mut self, cx: &mut Context<'_, Self>, peer: NodeId) {
        self.observe(cx, Obs::Reconnect(peer));
    }
}

/// Runs `script` on every node. Safety: true time never runs backwards (checked in every test)
/// and, for outcome tests, a check that fails at `fail_at_step`. Liveness: `converged`.
pub struct Scripted {
    pub nodes: u32,
    pub script: Script,
    pub fail_at_step: Option<u64>,
    pub converged: fn(&View<'_, Rec>) -> bool,
    pub latest_ns: u64,
    /// Every promise the nodes made, as (step, node, promise), in the order checked.
    pub promises: Vec<(u64, NodeId, u64)>,
    /// Promises of this value fail their check.
    pub broken_promise: Option<u64>,
    /// The check panics at this step (a bug in a checker).
    pub panic_at_step: Option<u64>,
}

impl Scripted {
    pub fn new(nodes: u32, script: Script) -> Scripted {
        Scripted {
            nodes,
            script,
            fail_at_step: None,
            converged: |_| true,
            latest_ns: 0,
            promises: Vec::new(),
            broken_promise: None,
            panic_at_step: None,
        }
    }

    pub fn time_runs_forward(&mut self, view: &View<'_, Rec>) -> Result<(), Violation> {
        if view.now_ns() < self.latest_ns {
            let observed = format!("now {} after {}", view.now_ns(), self.latest_ns);
            return Err(Violation::new("TimeRunsForward", observed));
        }
        self.latest_ns = view.now_ns();
        Ok(())
    }
}

impl Scenario for Scripted {
    type Node = Rec;
    fn node_count(&self) -> u32 {
        self.nodes
    }
    fn boot(&self, _id: NodeId, cx: &mut Context<'_, Rec>) -> Rec {
        let mut node = Rec { script: Rc::clone(&self.script), log: Vec::new() };
        let disk = cx.disk();
        let obs = Obs::Boot { records: disk.records().to_vec(), torn: disk.torn_tail() };
        node.observe(cx, obs);
        node
    }
    fn check(&mut self, view: &View<'_, Rec>) -> Result<(), Violation> {
        self.time_runs_forward(view)?;
        if self.fail_at_step == Some(view.step()) {
            return Err(Violation::new("FailAtStep", format!("step {}", view.step())));
        }
        assert_ne!(self.panic_at_step, Some(view.step()), "the check broke");
        Ok(())
    }
    fn check_promises(
        &mut self,
        view: &View<'_, Rec>,
        promises: &[(NodeId, u64)],
    ) -> Result<(), Violation> {
        for (node, promise) in promises {
            self.promises.push((view.step(), *node, *promise));
            if self.broken_promise == Some(*promise) {
                return Err(Violation::new("PromiseKept", format!("n{node} broke {promise}")));
            }
        }
        Ok(())
    }
    fn converged(&mut self, view: &View<'_, Rec>) -> Result<(), Violation> {
        self.time_runs_forward(view)?;
        match (self.converged)(view) {
            true => Ok(()),
            false => Err(Violation::new("Converged", "not yet")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers.

pub const SEED: u64 = 1;

/// What a perfect clock (no offset, drift or jump) reads at true time `true_ns`.
pub fn clock_at(true_ns: u64) -> u64 {
    LOCAL_EPOCH_NS + true_ns
}

pub fn plan(schedule: Vec<(u64, Fault)>) -> FaultPlan {
    let schedule = schedule.into_iter().map(|(at_ns, fault)| ScheduledFault { at_ns, fault });
    let mut plan = FaultPlan::default();
    plan.schedule = schedule.collect();
    plan
}

pub fn limits() -> RunLimits {
    RunLimits::phases(secs(2), secs(1))
}

pub fn simulation(scenario: Scripted, plan: FaultPlan) -> Simulation<Scripted> {
    Simulation::new(scenario, SEED, plan, limits(), false)
}

pub fn run_with_limits(scenario: Scripted, limits: RunLimits) -> RunReport {
    Simulation::new(scenario, SEED, FaultPlan::default(), limits, false).run()
}

pub fn log(sim: &Simulation<Scripted>, id: NodeId) -> Vec<(u64, Obs)> {
    sim.view().node(id).expect("the node is up").log.clone()
}

/// The storage replies node `id` received, with its clock reading at each.
pub fn replies(sim: &Simulation<Scripted>, id: NodeId) -> Vec<(u64, StorageReply<u32>)> {
    let replies = log(sim, id).into_iter().filter_map(|(at, obs)| match obs {
        Obs::Store(reply) => Some((at, reply)),
        _ => None,
    });
    replies.collect()
}

/// Gossip rounds: every node sends tick k to every other node at k * 10 ms, k < GOSSIP_TICKS.
pub const GOSSIP_TICKS: u64 = 30;

pub fn gossip() -> Script {
    script(|cx, obs| {
        let tick = match obs {
            Obs::Boot { .. } => 0,
            Obs::Timer(tick) => *tick,
            _ => return,
        };
        let me = cx.id();
        for to in (0..cx.node_count()).filter(|&to| to != me) {
            cx.send(to, tick);
        }
        if tick + 1 < GOSSIP_TICKS {
            cx.set_timer(millis(10), tick + 1);
        }
    })
}

/// Node 0 sends tick k to every other node at k * period, forever.
pub fn ticker(period_ns: u64) -> Script {
    script(move |cx, obs| {
        let tick = match obs {
            Obs::Boot { .. } if cx.id() == 0 => 0,
            Obs::Timer(tick) => *tick,
            _ => return,
        };
        for to in 1..cx.node_count() {
            cx.send(to, tick);
        }
        cx.set_timer(period_ns, tick + 1);
    })
}
