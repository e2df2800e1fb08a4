//! Unit tests of the replication mirror: each invariant and each action must reject a broken
//! state or step, not only accept a good one.

mod actions;
mod invariants;
mod view;

use super::view::{NodeVars, ReplicationView};
use crate::replication::{AckPolicy, Role};

/// Node variables with the given log (terms from index 1), all of it durable, in term 1.
pub fn vars(terms: &[u64]) -> NodeVars {
    let log: Vec<(u64, u64)> = terms.iter().enumerate().map(|(i, t)| (i as u64 + 1, *t)).collect();
    NodeVars {
        role: Role::Replica,
        current_term: 1,
        durable_log: log.clone(),
        log,
        durable_vote: (1, None),
        ..NodeVars::default()
    }
}

/// A view of nodes with the given logs (terms from index 1), all durable, no floors.
pub fn view(logs: &[&[u64]]) -> ReplicationView {
    let nodes = logs.iter().map(|terms| vars(terms)).collect();
    ReplicationView { nodes, acked: vec![], ack_policy: AckPolicy::Quorum, transfers: false }
}
