//! The simulated nodes: three voters (tikv's `RawNode`) and the client, as one `sim::Node`
//! type, and what travels between them. Nodes `0..VOTERS` are voters, node `VOTERS` the client.

use crate::client::Client;
use crate::recovery::DiskRecord;
use crate::voter::Voter;
use fencepost::sim::{Context, Node, NodeId};
use raft::eraftpb::Message;

/// How many voters the cluster has (sim ids `0..VOTERS`, raft ids `1..=VOTERS`).
pub const VOTERS: u32 = 3;
/// The client's sim id.
pub const CLIENT: NodeId = VOTERS;

/// The raft id of voter `node` (raft reserves 0 for "nobody").
pub fn raft_id(node: NodeId) -> u64 {
    u64::from(node) + 1
}

/// The sim id of the voter raft calls `id`.
pub fn node_of(id: u64) -> NodeId {
    debug_assert!((1..=u64::from(VOTERS)).contains(&id), "raft id {id} is no voter");
    (id - 1) as NodeId
}

/// Everything on the simulated network.
#[derive(Clone, Debug)]
pub enum Msg {
    /// A raft message between voters, exactly as raft-rs produced it.
    Raft(Box<Message>),
    /// The client asks a voter to replicate write `write`.
    Propose { write: u64 },
    /// The voter does not lead; `leader` is whom it believes does.
    Redirect { write: u64, leader: Option<NodeId> },
    /// Write `write` is committed at `index` in `term`.
    Ack { write: u64, index: u64, term: u64 },
}

/// What a message leaving a voter relies on being durable on its disk (checked by
/// `crate::promises` against what a crash would leave at the instant it leaves).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Promise {
    /// A vote request or grant in `term` for raft id `candidate`: the vote is on disk.
    Vote { term: u64, candidate: u64 },
    /// An append acknowledgement in `term` up to `index`, whose entry has `log_term`: that
    /// entry is on disk, or the disk holds a newer term (the ack is then stale: no leader of
    /// `term` can gather a quorum any more, see `crate::promises`).
    Appended { term: u64, index: u64, log_term: u64 },
    /// A write acknowledged to the client by the leader of `leader_term`: its entry
    /// (`index`, `term`) is on a majority of disks.
    Acked { write: u64, index: u64, term: u64, leader_term: u64 },
}

/// A node of the `tikv-raft` scenario.
pub enum RaftNode {
    Voter(Box<Voter>),
    Client(Client),
}

impl RaftNode {
    /// The voter, if this node is one.
    pub fn voter(&self) -> Option<&Voter> {
        match self {
            RaftNode::Voter(voter) => Some(voter),
            RaftNode::Client(_) => None,
        }
    }

    /// The client, if this node is it.
    pub fn client(&self) -> Option<&Client> {
        match self {
            RaftNode::Client(client) => Some(client),
            RaftNode::Voter(_) => None,
        }
    }
}

impl Node for RaftNode {
    type Msg = Msg;
    type Value = ();
    type Record = DiskRecord;
    type Promise = Promise;
    type Action = ();

    fn on_message(&mut self, cx: &mut Context<'_, Self>, from: NodeId, msg: Msg) {
        match (self, msg) {
            (RaftNode::Voter(voter), Msg::Raft(message)) => voter.step(cx, *message),
            (RaftNode::Voter(voter), Msg::Propose { write }) => voter.propose(cx, from, write),
            (RaftNode::Client(client), Msg::Ack { write, .. }) => client.on_ack(cx, write),
            (RaftNode::Client(client), Msg::Redirect { write, leader }) => {
                client.on_redirect(cx, write, leader)
            }
            (_, msg) => unreachable!("{msg:?} reached the wrong kind of node"),
        }
    }

    fn on_timer(&mut self, cx: &mut Context<'_, Self>, _tag: u64) {
        match self {
            RaftNode::Voter(voter) => voter.tick(cx),
            RaftNode::Client(client) => client.tick(cx),
        }
    }

    fn on_disk_synced(&mut self, cx: &mut Context<'_, Self>, durable_len: usize) {
        if let RaftNode::Voter(voter) = self {
            voter.on_disk_synced(cx, durable_len);
        }
    }

    fn label(&self) -> Option<String> {
        Some(match self {
            RaftNode::Voter(voter) => voter.label(),
            RaftNode::Client(_) => "client".to_string(),
        })
    }
}
