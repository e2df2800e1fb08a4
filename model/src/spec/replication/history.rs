//! The history variables of `Replication.tla`, kept by the refinement mapping over the whole
//! run: `committed` (every entry any node ever counted committed, with the term in which it was
//! first seen committed) and `grants` (every vote granted). Updated incrementally, never cloned
//! per step.

use super::view::{term_at, ReplicationView};
use crate::NodeId;
use std::collections::BTreeMap;

/// `committed` and `grants`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// At `index - 1`: (the entry's term, the term it was first seen committed in); (0, 0) for
    /// an index no node showed while it held the entry.
    committed: Vec<(u64, u64)>,
    /// Per node: the commit index up to which its entries are recorded.
    recorded_through: Vec<u64>,
    /// (voter, term) -> the candidate granted.
    grants: BTreeMap<(NodeId, u64), NodeId>,
}

impl History {
    /// The entry committed at `index`, as (term, term it was first seen committed in).
    pub fn committed(&self, index: u64) -> Option<(u64, u64)> {
        let at = usize::try_from(index.checked_sub(1)?).ok()?;
        self.committed.get(at).copied().filter(|(term, _)| *term > 0)
    }

    /// The highest index known committed.
    pub fn committed_through(&self) -> u64 {
        self.committed.len() as u64
    }

    /// Records the entries each node newly counts committed (its commit index moved past them
    /// and it holds them); the first node to show an index decides what was committed there.
    /// Only each node's new commits are read: the cost follows the commits, not the history.
    pub fn record_commits(&mut self, view: &ReplicationView) {
        let nodes = view.nodes.len();
        self.recorded_through.resize(nodes, 0);
        for (n, vars) in view.nodes.iter().enumerate() {
            let commit = vars.commit_index;
            let from = self.recorded_through[n].max(vars.log_floor);
            self.recorded_through[n] = commit; // a restart lowers it: record again from there
            for index in from + 1..=commit {
                let Some(term) = term_at(&vars.log, index) else { continue };
                let at = (index - 1) as usize;
                if self.committed.len() <= at {
                    self.committed.resize(at + 1, (0, 0));
                }
                if self.committed[at].0 == 0 {
                    self.committed[at] = (term, vars.current_term);
                }
            }
        }
    }

    /// Records that `voter` granted `candidate` its vote in `term`; `Err` names the candidate
    /// an earlier grant of the same term went to.
    pub fn record_grant(
        &mut self,
        voter: NodeId,
        term: u64,
        candidate: NodeId,
    ) -> Result<(), NodeId> {
        match *self.grants.entry((voter, term)).or_insert(candidate) {
            earlier if earlier != candidate => Err(earlier),
            _ => Ok(()),
        }
    }

    /// How many of `nodes` voters granted `candidate` their vote in `term` (its own included).
    pub fn grants_for(&self, candidate: NodeId, term: u64, nodes: usize) -> usize {
        (0..nodes as NodeId).filter(|v| self.grants.get(&(*v, term)) == Some(&candidate)).count()
    }
}
