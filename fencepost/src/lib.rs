#![warn(missing_docs)]
//! # fencepost
//!
//! A deterministic simulation testing harness. The kernel ([`sim`], re-exported) runs your
//! sans-IO state machines as simulated nodes under one seed: simulated clocks, a lossy network,
//! a faulty compare-and-swap object store, disks that lose unsynced writes, crashes, pauses and
//! faults aimed at the moments your machine marks, with your invariants checked after every
//! step. This crate is the rest of the harness, for your scenarios exactly as for fencepost's
//! own: a [`Registry`] of scenarios, a command line ([`main()`](fn@main)) with `list`, `run`/`replay`
//! (`--trace`, `--html`, `--check-determinism`, `--schedule`), `stress` (all cores, `--shard`,
//! `--json`, `--save-failures`), `merge`, `shrink`, `view` and `bench`, and [`testing`] helpers
//! for your `#[test]`s (`DST_SEED` / `DST_SEEDS`).
//!
//! ```ignore
//! use fencepost::sim::{RunLimits, Scenario};
//! use fencepost::{Registry, ScenarioEntry};
//!
//! fn registry() -> Registry {
//!     Registry::new().with(
//!         ScenarioEntry::new("my-raft", |run| run.simulate(my_scenario(run.seed), RunLimits::default()))
//!             .with_summary("three voters under swarm faults")
//!             .with_test_command("cargo test --test my_raft seed_range"),
//!     )
//! }
//!
//! fencepost::main!(registry());
//! ```
//!
//! A failure prints its seed, the fault plan, the trace tail and the lines that replay it bit
//! for bit with *your* binary (`my-dst run --scenario my-raft --seed 42`) and test. A panic in
//! a node or a check is a failing outcome of that seed ([`sim::Outcome::Panic`]), reported the
//! same way, never a crash of the harness.

pub use sim;

mod bench;
mod case;
mod cli;
pub mod html;
mod merge;
mod output;
mod progress;
mod registry;
mod replay;
mod schedule;
mod shrink;
mod stress;
mod summary;
pub mod testing;
mod verdict;
mod view;

pub use cli::{main, main_with_args};
pub use registry::{CanaryInfo, Registry, RunRequest, ScenarioEntry, SeedRun};

/// Exit codes, distinct per outcome so scripts can tell them apart.
pub mod exit {
    /// Every invariant held.
    pub const PASSED: u8 = 0;
    /// A safety violation (or, for `stress`/`merge`, any failed seed or a blind harness).
    pub const SAFETY: u8 = 1;
    /// Bad usage: one line on stderr starting `error:`.
    pub const USAGE: u8 = 2;
    /// No convergence after every fault healed.
    pub const LIVENESS: u8 = 3;
    /// A bound (steps, queue length) was hit.
    pub const BOUND: u8 = 4;
    /// A node or a check panicked.
    pub const PANIC: u8 = 5;
    /// `run --schedule CASE`: the run did not end as the case recorded (another outcome,
    /// invariant, step or panic location).
    pub const MISMATCH: u8 = 6;
    /// A signal (Ctrl-C, SIGTERM, SIGHUP) stopped `stress` before every seed ran, and no seed
    /// that did run failed. 128 + SIGINT, as shells report an interrupted command.
    pub const INTERRUPTED: u8 = 130;
}

/// Defines `fn main()` as the harness command line over `registry` (an expression evaluated
/// once at start), like criterion's `criterion_main!`.
#[macro_export]
macro_rules! main {
    ($registry:expr) => {
        fn main() -> ::std::process::ExitCode {
            $crate::main($registry)
        }
    };
}

/// A usage error: one line, exit code 2, never a panic.
#[derive(Debug)]
pub(crate) struct UsageError(pub String);

/// The exit code of an outcome.
pub(crate) fn exit_code(outcome: &sim::Outcome) -> u8 {
    match outcome {
        sim::Outcome::Passed => exit::PASSED,
        sim::Outcome::Safety(_) => exit::SAFETY,
        sim::Outcome::Liveness(_) => exit::LIVENESS,
        sim::Outcome::BoundExceeded { .. } => exit::BOUND,
        sim::Outcome::Panic(_) => exit::PANIC,
    }
}
