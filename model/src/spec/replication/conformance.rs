//! `SpecConformance`: a step's declared actions, taken in order from the state before it, must
//! lead to the state after it; a node that took no action must not change.

use super::actions::Action;
use super::mirror::{Env, Var};
use super::view::{Change, NodeVars, ReplicationView};
use crate::NodeId;
use std::fmt::Debug;

/// Scratch space reused from step to step, so a check allocates nothing once warm.
#[derive(Clone, Debug, Default)]
pub struct Conformance {
    expected: NodeVars,
    acked: Vec<(u64, u64)>,
    new_acks: Vec<(u64, u64)>,
    /// Per action taken, how many records `unsynced` held after it: who wrote which record.
    written: Vec<usize>,
}

/// One step as a checker saw it: the mapped state before and after it, and what it changed of
/// each node (empty: not known, compare).
#[derive(Clone, Copy, Debug)]
pub struct Step<'v> {
    pub before: &'v ReplicationView,
    pub after: &'v ReplicationView,
    /// Per node: so a node that took no action and changed nothing costs nothing.
    pub changes: &'v [Change],
}

/// The first mapped variable on which two states of a node differ, with both values shown.
pub fn first_difference(a: &NodeVars, b: &NodeVars) -> Option<(Var, String, String)> {
    difference(a, b, (true, true))
}

/// [`first_difference`], comparing `log` and `durableLog` only as `compare_logs` says (a
/// caller that knows them equal saves comparing the longest variables every step).
fn difference(
    a: &NodeVars,
    b: &NodeVars,
    compare_logs: (bool, bool),
) -> Option<(Var, String, String)> {
    fn show<T: Debug + PartialEq>(var: Var, a: &T, b: &T) -> Option<(Var, String, String)> {
        (a != b).then(|| (var, format!("{a:?}"), format!("{b:?}")))
    }
    let (log, durable_log) = compare_logs;
    show(Var::Role, &a.role, &b.role)
        .or_else(|| show(Var::CurrentTerm, &a.current_term, &b.current_term))
        .or_else(|| show(Var::VotedFor, &a.voted_for, &b.voted_for))
        .or_else(|| show(Var::Leader, &a.leader, &b.leader))
        .or_else(|| show(Var::LogFloor, &(a.log_floor, a.floor_term), &(b.log_floor, b.floor_term)))
        .or_else(|| log.then(|| show(Var::Log, &a.log, &b.log)).flatten())
        .or_else(|| show(Var::CommitIndex, &a.commit_index, &b.commit_index))
        .or_else(|| show(Var::Unsynced, &a.unsynced, &b.unsynced))
        .or_else(|| show(Var::DurableVote, &a.durable_vote, &b.durable_vote))
        .or_else(|| {
            let (fa, fb) =
                ((a.durable_floor, a.durable_floor_term), (b.durable_floor, b.durable_floor_term));
            show(Var::DurableFloor, &fa, &fb)
        })
        .or_else(|| {
            durable_log.then(|| show(Var::DurableLog, &a.durable_log, &b.durable_log)).flatten()
        })
        .or_else(|| show(Var::Matched, &a.matched, &b.matched))
        .or_else(|| show(Var::Outstanding, &a.outstanding, &b.outstanding))
        .or_else(|| show(Var::NextRequest, &a.next_request, &b.next_request))
        .or_else(|| show(Var::Restarts, &a.restarts, &b.restarts))
}

impl Conformance {
    /// Holds one step: the actions the kernel drove (`inferred`: a crash, an fsync), then the
    /// ones the nodes declared, in order; `acks(n)` lists the writes node n acknowledged in the
    /// step. `Err` reads like "n2 took AdvanceCommit(n2, 7) but `log[7]` has term 3 and
    /// currentTerm is 5 (Replication.tla AdvanceCommit)".
    pub fn check<'s, 'i: 's, 'a: 's, 'b>(
        &mut self,
        step: Step<'_>,
        inferred: &'i [Action],
        declared: impl Iterator<Item = &'a Action> + Clone,
        acks: impl Fn(NodeId) -> &'b [(u64, u64)],
        env: &Env<'_>,
    ) -> Result<(), String> {
        let inferred = inferred.iter().map(|a| -> &'s Action { a });
        let actions = inferred.chain(declared.map(|a| -> &'s Action { a }));
        let Step { before, after, changes } = step;
        for (n, (was, is)) in before.nodes.iter().zip(&after.nodes).enumerate() {
            let n = n as NodeId;
            let mut own = actions.clone().filter(|a| a.node() == n).peekable();
            if own.peek().is_none() {
                let changed = changes.get(n as usize).is_none_or(|change| change.any);
                if let Some((var, from, to)) = changed.then(|| first_difference(was, is)).flatten()
                {
                    let var = var.name();
                    return Err(format!(
                        "n{n} changed {var} from {from} to {to} but took no action (Replication.tla)"
                    ));
                }
                if let Some(write) = acks(n).first() {
                    return Err(format!(
                        "n{n} acknowledged the write at {write:?} but took no AckWrite \
                         (Replication.tla AckWrite)"
                    ));
                }
                continue;
            }
            let change = changes.get(n as usize).copied();
            self.check_node(n, (was, is, change), own, acks(n), env)?;
        }
        Ok(())
    }

    /// Holds node n's step (its variables before and after, and what changed if known)
    /// against its actions.
    fn check_node<'a>(
        &mut self,
        n: NodeId,
        (was, is, change): (&NodeVars, &NodeVars, Option<Change>),
        actions: impl Iterator<Item = &'a Action> + Clone,
        acks: &[(u64, u64)],
        env: &Env<'_>,
    ) -> Result<(), String> {
        self.expected.copy_from(was, (true, true));
        self.acked.clear();
        self.written.clear();
        for action in actions.clone() {
            action.take(&mut self.expected, env, &mut self.acked).map_err(|why| {
                format!("n{n} took {action} but {why} (Replication.tla {})", action.name())
            })?;
            self.written.push(self.expected.unsynced.len());
        }
        self.new_acks.clear();
        self.new_acks.extend_from_slice(acks);
        if self.acked != self.new_acks {
            return Err(format!(
                "n{n} acknowledged {:?} where its AckWrite actions give {:?} (Replication.tla \
                 AckWrite)",
                self.new_acks, self.acked
            ));
        }
        // A log no action writes stays as it was (`writes`, which debug builds hold every
        // mirror to): compared only if an action writes it or the step changed it.
        let writes = |var: Var| actions.clone().any(|a| a.writes().contains(&var));
        let (log, durable_log) = (writes(Var::Log), writes(Var::DurableLog));
        debug_assert!(log || self.expected.log == was.log, "a mirror wrote log unlisted");
        debug_assert!(durable_log || self.expected.durable_log == was.durable_log);
        let compare = change.map_or((true, true), |c| (log || c.log, durable_log || c.durable_log));
        let Some((var, expected, actual)) = difference(&self.expected, is, compare) else {
            return Ok(());
        };
        let blamed = match var {
            // The record that differs first is the one to explain: the action that wrote it.
            Var::Unsynced => {
                let (want, have) = (&self.expected.unsynced, &is.unsynced);
                let first = want.iter().zip(have).take_while(|(a, b)| a == b).count();
                let writer = self.written.iter().position(|len| *len > first);
                writer.and_then(|at| actions.clone().nth(at))
            }
            _ => actions.clone().filter(|a| a.writes().contains(&var)).last(),
        };
        let name = var.name();
        Err(match blamed {
            Some(action) => format!(
                "n{n} took {action} but the step leaves {name} = {actual}, where the spec gives \
                 {expected} (Replication.tla {})",
                action.name()
            ),
            None => {
                let taken: Vec<String> = actions.map(|a| a.to_string()).collect();
                format!(
                    "n{n} changed {name} from {expected} to {actual}, which none of its actions \
                     ({}) changes (Replication.tla)",
                    taken.join(", ")
                )
            }
        })
    }
}
