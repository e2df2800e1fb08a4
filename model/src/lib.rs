//! The systems under test, written sans-IO.
//!
//! Every state machine here is driven the same way:
//! `handle(&mut self, now_local_ns, input, &mut Vec<Output>)`. Time is an argument (the node's
//! *local* clock in nanoseconds), never read; outputs are messages, timers and storage requests
//! that the caller (the simulator's scenarios, or a production runtime) carries out and answers
//! with further inputs. Nothing here holds a clock, an RNG, a thread or a socket, and nothing
//! here depends on the simulator: that is what keeps the state machines honest.

pub mod cluster;
pub mod failover;
pub mod lease;
pub mod moment;
pub mod promise;
pub mod replication;
pub mod session_lease;
pub mod session_store;
pub mod spec;
pub mod store;

/// Identifies a node (a lease contender, a replica, a coordinator). Dense, starting at 0.
pub type NodeId = u32;
