//! Mirror of `tla/SessionLease.tla`. [`SessionLeaseView`] is the spec's state as the simulator
//! sees the real cluster (a refinement mapping); each invariant is one function and each action
//! of `Next` an executable step ([`Action::take`]), registered under its TLA name.
//!
//! The mapping (spec variable in backticks): `now` is the store's clock and `Local(n)` node n's
//! own clock (so `skew` is not mapped: drift moves it, the clocks are read as they are);
//! `sess[n]` is the session n's machine last adopted as its own (the store's session id: the
//! spec numbers them per node); `live` is the sessions ever adopted that the server has not
//! ended; `lock` is the store's lock holder; `row` the stored lease row; `role[n]`, `gen[n]` and
//! `leadUntil[n]` are n's machine's (a node that is down is a standby); `lastAccepted` and the
//! history variables `acceptedMax` and `written` are the resource's and the row's history (the
//! last row each node's write put in the store). Not mapped: `inflight` (protected writes
//! in flight, stalled ones included: messages). Sessions no machine adopted (an `Open` whose
//! answer was lost, the canaries' pooled connections) never hold the lock and are left out of
//! `live`.

#[cfg(test)]
mod action_tests;
mod actions;

pub use actions::{check_step, infer_row_write, Action, Env, ACTIONS, NOT_TAKEN};

use super::{ActionProperty, Invariant};
use crate::session_store::SessionId;
use crate::NodeId;

/// The spec's `row`, as far as the properties read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowView {
    pub holder: NodeId,
    pub generation: u64,
    /// `row.acquired`: the writer's clock when it took over.
    pub acquired: u64,
    /// `row.until`, in the writer's clock frame, compared with the store's clock.
    pub until: u64,
    /// The store's version of the row: a new one for every write (`row' # row`).
    pub version: u64,
}

impl RowView {
    /// The row's fields as the spec has them (the store's version is not one of them).
    pub fn fields(&self) -> (NodeId, u64, u64, u64) {
        (self.holder, self.generation, self.acquired, self.until)
    }
}

/// `role[n]` with `gen[n]` and `leadUntil[n]`, which are 0 and `NoBelief` but while leading.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Role {
    #[default]
    Standby,
    /// Holds the lock (or held it), its row not yet written.
    Taking,
    /// Leads generation `gen` and acts while its clock is below `lead_until`.
    Leader { gen: u64, lead_until: u64 },
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Role::Standby => write!(f, "standby"),
            Role::Taking => write!(f, "taking"),
            Role::Leader { gen, lead_until } => write!(f, "leader of g{gen} until {lead_until}"),
        }
    }
}

/// The spec's variables.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionLeaseView {
    /// `now`: the store's clock.
    pub now: u64,
    /// `Acting(n)`, with `gen[n]`, indexed by node id; each node's own clock decides.
    pub acting: Vec<Option<u64>>,
    /// `Local(n)`: each contender's clock now.
    pub local: Vec<u64>,
    /// `role[n]`, `gen[n]` and `leadUntil[n]`, indexed by node id.
    pub role: Vec<Role>,
    /// `sess[n]`: the session n's machine adopted last (None before its first).
    pub sess: Vec<Option<SessionId>>,
    /// `live`: the adopted sessions the server has not ended, ascending.
    pub live: Vec<SessionId>,
    /// The history variable `written`: the row n's last write the store took, indexed by node
    /// id (the checker's, from the row's changes; not compared).
    pub written: Vec<Option<RowView>>,
    /// `lock`: the session holding the lock (None for `NoSession`).
    pub lock_session: Option<SessionId>,
    /// `lock[1]`: the node whose live session holds the lock (None for `NoSession`).
    pub lock: Option<NodeId>,
    /// `row` (None for `NoRow`).
    pub row: Option<RowView>,
    /// `lastAccepted` and the history variable `acceptedMax` (None before any write).
    pub last_accepted: Option<u64>,
    pub accepted_max: Option<u64>,
    /// The step was a `Preempt`: a session terminated the lock holder's session.
    pub preempted: bool,
}

/// `AtMostOneActingLeader`: at any true instant at most one node acts as leader.
pub fn at_most_one_acting_leader(view: &SessionLeaseView) -> Result<(), String> {
    let count = view.acting.iter().flatten().count();
    if count <= 1 {
        return Ok(()); // every step: nothing to describe
    }
    let acting: Vec<String> = view
        .acting
        .iter()
        .enumerate()
        .filter_map(|(n, generation)| generation.map(|g| format!("n{n} (generation {g})")))
        .collect();
    Err(format!("{count} nodes act as leader: {}", acting.join(", ")))
}

/// `ZombieWritesRefused`: the resource never accepts a write of an older tenure after one of a
/// newer tenure.
pub fn zombie_writes_refused(view: &SessionLeaseView) -> Result<(), String> {
    if view.last_accepted == view.accepted_max {
        return Ok(());
    }
    Err(format!(
        "the resource accepted a write of generation {} after one of generation {}",
        view.last_accepted.unwrap_or(0),
        view.accepted_max.unwrap_or(0)
    ))
}

/// `RowWrittenUnderLock`: the row changes only under the lock, by its holder.
pub fn row_written_under_lock(
    previous: &SessionLeaseView,
    next: &SessionLeaseView,
) -> Result<(), String> {
    let Some(row) = next.row else { return Ok(()) };
    if previous.row.map(|r| r.version) == Some(row.version) || next.lock == Some(row.holder) {
        return Ok(());
    }
    let lock = next.lock.map_or("nobody".to_string(), |n| format!("n{n}"));
    Err(format!(
        "n{} wrote the row (generation {}, until {}) while {lock} held the lock",
        row.holder, row.generation, row.until
    ))
}

/// `NoValidLeasePreempted`: a holder whose lease is still valid by the store's clock is never
/// preempted.
pub fn no_valid_lease_preempted(
    _previous: &SessionLeaseView,
    next: &SessionLeaseView,
) -> Result<(), String> {
    match next.row {
        Some(row) if next.preempted && next.now < row.until => Err(format!(
            "the lock holder was preempted at store time {} while n{}'s lease (generation {}) \
             runs until {}",
            next.now, row.holder, row.generation, row.until
        )),
        _ => Ok(()),
    }
}

/// State invariants of `SessionLease.tla`.
pub const INVARIANTS: &[Invariant<SessionLeaseView>] = &[
    Invariant { name: "AtMostOneActingLeader", check: at_most_one_acting_leader },
    Invariant { name: "ZombieWritesRefused", check: zombie_writes_refused },
];

/// Action properties of `SessionLease.tla`, checked on every (previous, next) pair of steps.
pub const ACTION_PROPERTIES: &[ActionProperty<SessionLeaseView>] = &[
    ActionProperty { name: "RowWrittenUnderLock", check: row_written_under_lock },
    ActionProperty { name: "NoValidLeasePreempted", check: no_valid_lease_preempted },
];

/// Every operator of `SessionLease.tla` mirrored here; `TypeOK` holds by Rust's types.
pub const MIRRORED: &[&str] = &[
    "AtMostOneActingLeader",
    "ZombieWritesRefused",
    "RowWrittenUnderLock",
    "NoValidLeasePreempted",
    "TypeOK",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn row(holder: NodeId, version: u64) -> Option<RowView> {
        Some(RowView { holder, generation: 1, acquired: 0, until: 100, version })
    }

    #[test]
    fn at_most_one_node_acts() {
        let view = |acting| SessionLeaseView { acting, ..Default::default() };
        assert!(at_most_one_acting_leader(&view(vec![Some(1), None])).is_ok());
        let two = at_most_one_acting_leader(&view(vec![Some(1), Some(2)])).unwrap_err();
        assert!(two.contains("n0 (generation 1), n1 (generation 2)"), "{two}");
    }

    #[test]
    fn an_older_tenure_accepted_after_a_newer_one_is_a_zombie_write() {
        let view = |last, max| SessionLeaseView {
            last_accepted: last,
            accepted_max: max,
            ..Default::default()
        };
        assert!(zombie_writes_refused(&view(None, None)).is_ok());
        assert!(zombie_writes_refused(&view(Some(2), Some(2))).is_ok());
        assert!(zombie_writes_refused(&view(Some(1), Some(2))).is_err());
    }

    #[test]
    fn the_row_changes_only_under_its_writers_lock() {
        let view = |row, lock| SessionLeaseView { row, lock, ..Default::default() };
        let before = view(row(0, 3), Some(0));
        assert!(row_written_under_lock(&before, &view(row(0, 4), Some(0))).is_ok());
        assert!(row_written_under_lock(&before, &view(row(0, 3), None)).is_ok(), "unchanged");
        assert!(row_written_under_lock(&before, &view(row(0, 4), None)).is_err());
        assert!(row_written_under_lock(&before, &view(row(0, 4), Some(1))).is_err());
    }

    #[test]
    fn a_preemption_needs_a_lease_that_ran_out_by_the_stores_clock() {
        let view = |now, preempted| SessionLeaseView {
            now,
            preempted,
            row: row(0, 1),
            ..Default::default()
        };
        let before = SessionLeaseView::default();
        assert!(no_valid_lease_preempted(&before, &view(99, false)).is_ok());
        assert!(no_valid_lease_preempted(&before, &view(100, true)).is_ok());
        assert!(no_valid_lease_preempted(&before, &view(99, true)).is_err());
    }
}
