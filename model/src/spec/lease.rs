//! Mirror of `tla/Lease.tla`. [`LeaseView`] is the spec's state as the simulator sees the real
//! cluster (a refinement mapping); each function is one operator of the spec, registered under
//! its TLA name.

use super::{ActionProperty, Invariant};
use crate::lease::FencingToken;
use crate::NodeId;

/// The spec's `record`, as far as the invariants read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordView {
    pub holder: NodeId,
    pub token: FencingToken,
    /// `record.expires`, in the store's clock frame.
    pub expires: u64,
}

/// The spec's variables. `believes[n]` is `held[n]` when the spec's `Believes(n)` holds (n's
/// local clock is below `belief[n]`), else None; the simulator reads each node's own clock.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeaseView {
    /// `now`: the store's clock.
    pub now: u64,
    /// `record` (None for `NoRecord`).
    pub record: Option<RecordView>,
    /// `Believes(n)` with `held[n]`, indexed by node id.
    pub believes: Vec<Option<FencingToken>>,
    /// `lastAccepted` (None for `NoToken`).
    pub last_accepted: Option<FencingToken>,
}

impl LeaseView {
    fn believers(&self) -> impl Iterator<Item = (NodeId, FencingToken)> + '_ {
        self.believes.iter().enumerate().filter_map(|(n, t)| t.map(|t| (n as NodeId, t)))
    }
}

/// `LeaseUniqueness`: at most one node believes it holds the lease.
pub fn lease_uniqueness(view: &LeaseView) -> Result<(), String> {
    let believers: Vec<String> = view.believers().map(|(n, t)| format!("n{n} {t}")).collect();
    match believers.len() {
        0 | 1 => Ok(()),
        count => {
            Err(format!("{count} nodes believe they hold the lease: {}", believers.join(", ")))
        }
    }
}

/// `BeliefConsistency`: a believer is the store's holder, with its token, unexpired.
pub fn belief_consistency(view: &LeaseView) -> Result<(), String> {
    for (n, token) in view.believers() {
        let consistent =
            view.record.is_some_and(|r| r.holder == n && r.token == token && view.now < r.expires);
        if !consistent {
            let store = view.record.map_or("no record".to_string(), |r| {
                format!("holder n{} {} expires {}", r.holder, r.token, r.expires)
            });
            return Err(format!(
                "n{n} believes it holds {token} at store time {}, store has {store}",
                view.now
            ));
        }
    }
    Ok(())
}

/// `RenewalRequiresOwnership`: a change that keeps the token keeps the holder.
pub fn renewal_requires_ownership(previous: &LeaseView, next: &LeaseView) -> Result<(), String> {
    match (previous.record, next.record) {
        (Some(before), Some(after))
            if before.token == after.token && before.holder != after.holder =>
        {
            Err(format!(
                "n{} rewrote n{}'s lease {} without taking it",
                after.holder, before.holder, after.token
            ))
        }
        _ => Ok(()),
    }
}

/// `FencingMonotonic`: neither the store record's token nor the resource's accepted token
/// ever goes backwards.
pub fn fencing_monotonic(previous: &LeaseView, next: &LeaseView) -> Result<(), String> {
    if let (Some(before), Some(after)) = (previous.record, next.record) {
        if after.token < before.token {
            return Err(format!(
                "the store's lease token went from {} to {} (n{})",
                before.token, after.token, after.holder
            ));
        }
    }
    if let (Some(before), Some(after)) = (previous.last_accepted, next.last_accepted) {
        if after < before {
            return Err(format!("the resource accepted token {after} after {before}"));
        }
    }
    Ok(())
}

/// State invariants of `Lease.tla`.
pub const INVARIANTS: &[Invariant<LeaseView>] = &[
    Invariant { name: "LeaseUniqueness", check: lease_uniqueness },
    Invariant { name: "BeliefConsistency", check: belief_consistency },
];

/// Action properties of `Lease.tla`, checked on every (previous, next) pair of steps.
pub const ACTION_PROPERTIES: &[ActionProperty<LeaseView>] = &[
    ActionProperty { name: "RenewalRequiresOwnership", check: renewal_requires_ownership },
    ActionProperty { name: "FencingMonotonic", check: fencing_monotonic },
];

/// Every operator of `Lease.tla` mirrored here; `ExpiredLeaseClaimable` (liveness) is checked
/// by the scenario's convergence phase, `TypeOK` holds by Rust's types.
pub const MIRRORED: &[&str] = &[
    "LeaseUniqueness",
    "BeliefConsistency",
    "RenewalRequiresOwnership",
    "FencingMonotonic",
    "ExpiredLeaseClaimable",
    "TypeOK",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn token(term: u64, generation: u64) -> FencingToken {
        FencingToken { term, generation }
    }

    fn view(believes: Vec<Option<FencingToken>>, record: Option<RecordView>) -> LeaseView {
        LeaseView { now: 10, record, believes, last_accepted: None }
    }

    #[test]
    fn lease_uniqueness_allows_one_believer_not_two() {
        assert!(lease_uniqueness(&view(vec![Some(token(1, 1)), None], None)).is_ok());
        assert!(lease_uniqueness(&view(vec![Some(token(1, 1)), Some(token(1, 2))], None)).is_err());
    }

    #[test]
    fn belief_consistency_needs_holder_token_and_time() {
        let record = RecordView { holder: 0, token: token(1, 1), expires: 11 };
        assert!(belief_consistency(&view(vec![Some(token(1, 1))], Some(record))).is_ok());
        let expired = RecordView { expires: 10, ..record };
        assert!(belief_consistency(&view(vec![Some(token(1, 1))], Some(expired))).is_err());
        let other = RecordView { holder: 1, ..record };
        assert!(belief_consistency(&view(vec![Some(token(1, 1))], Some(other))).is_err());
        assert!(belief_consistency(&view(vec![Some(token(1, 2))], Some(record))).is_err());
        assert!(belief_consistency(&view(vec![Some(token(1, 1))], None)).is_err());
    }

    #[test]
    fn renewal_requires_ownership_flags_a_holder_change_under_one_token() {
        let before = view(vec![], Some(RecordView { holder: 0, token: token(1, 1), expires: 5 }));
        let renewed = view(vec![], Some(RecordView { holder: 0, token: token(1, 1), expires: 9 }));
        let taken = view(vec![], Some(RecordView { holder: 1, token: token(1, 2), expires: 9 }));
        let hijacked = view(vec![], Some(RecordView { holder: 1, token: token(1, 1), expires: 9 }));
        assert!(renewal_requires_ownership(&before, &renewed).is_ok());
        assert!(renewal_requires_ownership(&before, &taken).is_ok());
        assert!(renewal_requires_ownership(&before, &hijacked).is_err());
    }

    #[test]
    fn fencing_monotonic_flags_store_and_resource_regressions() {
        let record = |t| Some(RecordView { holder: 0, token: t, expires: 5 });
        assert!(fencing_monotonic(
            &view(vec![], record(token(2, 1))),
            &view(vec![], record(token(2, 2)))
        )
        .is_ok());
        assert!(fencing_monotonic(
            &view(vec![], record(token(2, 1))),
            &view(vec![], record(token(1, 9)))
        )
        .is_err());
        let accepted = |t| LeaseView { last_accepted: Some(t), ..LeaseView::default() };
        assert!(fencing_monotonic(&accepted(token(1, 2)), &accepted(token(1, 2))).is_ok());
        assert!(fencing_monotonic(&accepted(token(1, 2)), &accepted(token(1, 1))).is_err());
    }
}
