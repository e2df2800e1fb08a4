#![warn(missing_docs)]
//! fencepost's kernel: a seeded, single-threaded discrete-event simulator with simulated clocks,
//! a lossy network, a faulty object store and disks, process faults, a trace hash and per-step
//! invariant checks. It knows nothing about leases or logs: a user plugs in a state machine by
//! implementing [`Node`] and describes a run with a [`Scenario`].

pub mod aim;
pub mod clock;
pub mod disk;
pub mod faults;
mod json_strict;
mod kernel;
pub mod network;
mod node;
mod panic;
pub mod plan_check;
pub mod queue;
pub mod report;
pub mod rng;
mod run;
pub mod seeds;
pub mod session;
mod session_kernel;
pub mod storage;
pub mod time;
pub mod trace;

pub use kernel::{Coverage, Kernel};
pub use node::{Context, Node, RequestId};
pub use run::{Outcome, Panicked, RunLimits, RunReport, Scenario, Simulation, View, Violation};
pub use session_kernel::KEEPALIVE_EXPIRED;

/// Identifies a simulated node: dense, from 0.
pub type NodeId = u32;
