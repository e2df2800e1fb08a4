//! fencepost testing a state machine nobody here wrote: tikv's raft-rs (`raft` 0.7), three
//! voters and a client under swarm faults, through the harness's public API only.
//!
//! - [`voter`]: the Ready loop a raft-rs application writes, on the simulator's clock,
//!   network and disk; [`recovery`]: its log on disk and the restart from it;
//!   [`election`]: raft-rs's election timeouts drawn from the seed instead of `thread_rng`.
//! - [`client`]: the workload; [`node`]: the voters and the client as one `sim::Node`.
//! - [`checks`], [`promises`], [`liveness`]: what must hold, after every step and at the end;
//!   [`marks`]: the promises and moments a voter declares as its messages leave.
//! - [`scenario`]: the scenario, its faults and phases; [`canary`]: the planted bugs.
//!
//! [`registry`] is what the binary (`fencepost::main!`) and the tests run.

pub mod canary;
pub mod checks;
pub mod client;
pub mod election;
pub mod liveness;
pub mod marks;
pub mod node;
pub mod promises;
pub mod recovery;
pub mod scenario;
pub mod voter;

use canary::{RaftCanary, CANARIES};
use fencepost::{Registry, ScenarioEntry};
use scenario::{RaftScenario, PROBES};

/// The scenario's name on the command line.
pub const SCENARIO: &str = "tikv-raft";

/// The harness's view of this crate: one scenario, its canaries, its faults and coverage, and
/// how reproduce lines replay a seed (the binary from the repository root, the test).
pub fn registry() -> Registry {
    let entry = ScenarioEntry::new(SCENARIO, |run| {
        let scenario = RaftScenario::new(run.canary.map(RaftCanary::named), run.plan.writes_max);
        run.simulate(scenario, scenario::limits())
    })
    .with_summary("tikv's raft-rs: three RawNode voters and a client under swarm faults")
    .with_test_command("cargo test -p tikv-raft-dst --test raft seed_range")
    .with_canaries(&CANARIES)
    .with_probes(&PROBES)
    .with_swarm(scenario::swarm_profile())
    .with_capped_writes();
    Registry::new().command("cargo run --release -p tikv-raft-dst --").with(entry)
}
