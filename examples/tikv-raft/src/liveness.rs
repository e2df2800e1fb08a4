//! Liveness, once every fault has healed: one leader that every voter follows, every voter
//! holding, committing and applying the leader's whole log, and the client's last write
//! acknowledged.

use crate::node::{raft_id, RaftNode, CLIENT, VOTERS};
use fencepost::sim::{View, Violation};
use raft::StateRole;

/// `Ok` once the cluster has converged.
pub fn converged(view: &View<'_, RaftNode>) -> Result<(), Violation> {
    let voters: Vec<_> = (0..VOTERS).filter_map(|id| Some((id, view.node(id)?.voter()?))).collect();
    let leaders: Vec<_> =
        voters.iter().filter(|(_, v)| v.raft().state == StateRole::Leader).collect();
    let [(leader_id, leader)] = leaders[..] else {
        let ids: Vec<_> = leaders.iter().map(|(id, _)| format!("n{id}")).collect();
        let up = voters.len();
        return Err(Violation::new(
            "SingleLeaderEmerges",
            format!("{up} of {VOTERS} voters up, leaders: [{}]", ids.join(", ")),
        ));
    };
    let (term, last) = (leader.raft().term, leader.raft().raft_log.last_index());
    for (id, voter) in &voters {
        let raft = voter.raft();
        let caught_up = raft.term == term
            && raft.leader_id == raft_id(*leader_id)
            && raft.raft_log.last_index() == last
            && raft.raft_log.committed == last
            && voter.applied() == last;
        if !caught_up {
            return Err(Violation::new(
                "VotersCatchUp",
                format!(
                    "n{id} at t{} (leader {}), last {}, commit {}, applied {}; n{leader_id} \
                     leads t{term} with last {last}",
                    raft.term,
                    raft.leader_id,
                    raft.raft_log.last_index(),
                    raft.raft_log.committed,
                    voter.applied()
                ),
            ));
        }
    }
    if voters.len() < VOTERS as usize {
        return Err(Violation::new("VotersCatchUp", "a voter is still down"));
    }
    match view.node(CLIENT).and_then(RaftNode::client) {
        Some(client) if client.idle() => Ok(()),
        _ => Err(Violation::new("WritesComplete", "the client's last write is unacknowledged")),
    }
}
