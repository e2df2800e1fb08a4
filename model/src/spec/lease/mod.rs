//! Mirror of `tla/Lease.tla`. [`LeaseView`] is the spec's state as the simulator sees the real
//! cluster (a refinement mapping); each invariant is one function and each action of `Next` an
//! executable step ([`Action::take`]), registered under its TLA name.
//!
//! The mapping (spec variable in backticks): `now` is the store's clock and `Local(n)` node n's
//! own clock (so `skew` is not mapped: drift moves it, the clocks are read as they are); `record`
//! is the store's record; `held[n]` and `belief[n]` are the token of the record n's client holds
//! and the local time until which it believes (the record's expiry less the client's margin;
//! `NoBelief` when it holds nothing, and a lapsed belief stays until the client drops it:
//! `Believes` compares it with the clock); `lastAccepted` is the resource's last accepted
//! token. History: `issuedMax`, and `stored` (every record the store held). Not mapped:
//! `inflight` (fenced writes in flight: messages).

#[cfg(test)]
mod action_tests;
mod actions;

pub use actions::{check_step, infer_store_action, Action, Env, Stored, ACTIONS, NOT_TAKEN};

use super::{ActionProperty, Invariant};
use crate::lease::{FencingToken, LeaseRecord};
use crate::promise::Promise;
use crate::NodeId;

/// The spec's `record`, as far as the invariants read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RecordView {
    pub holder: NodeId,
    pub token: FencingToken,
    /// `record.expires`, in the store's clock frame.
    pub expires: u64,
    /// `record.acquired`: when its holder acquired it (its local clock). A record with a token,
    /// holder and acquisition not seen before is a new issuance of its token.
    pub acquired: u64,
}

impl RecordView {
    /// What makes two records the same issuance of a token (renewals change only `expires`).
    pub fn issuance(&self) -> (FencingToken, NodeId, u64) {
        (self.token, self.holder, self.acquired)
    }

    /// The spec's view of a stored record.
    pub fn of(record: &LeaseRecord) -> RecordView {
        let (holder, token, expires) = (record.holder, record.token(), record.expires_at);
        RecordView { holder, token, expires, acquired: record.acquired_at }
    }
}

/// What a client holds: `held[n]` and `belief[n]`, the local time until which it believes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Held {
    pub token: FencingToken,
    /// `belief[n]`: the record's expiry less the client's margin, on its own clock.
    pub belief: u64,
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
    /// `held[n]` and `belief[n]`, indexed by node id (None: `NoToken`, `NoBelief`).
    pub held: Vec<Option<Held>>,
    /// `Local(n)`: each node's clock now.
    pub local: Vec<u64>,
    /// `lastAccepted` (None for `NoToken`).
    pub last_accepted: Option<FencingToken>,
    /// The history variable `issuedMax`: the highest token ever issued in the run (None before
    /// the first), which outlives a deleted record.
    pub issued_max: Option<FencingToken>,
}

impl LeaseView {
    /// The view of a step's end: the store's clock and record, what each client holds (and
    /// until when it believes) with its clock, the resource's last accepted token; `believes`
    /// and `issuedMax` follow (the latter from `previous`, the view of the step before).
    pub fn new(
        now: u64,
        record: Option<RecordView>,
        held: Vec<Option<Held>>,
        local: Vec<u64>,
        last_accepted: Option<FencingToken>,
        previous: Option<&LeaseView>,
    ) -> LeaseView {
        let believes = (held.iter().zip(&local))
            .map(|(held, local)| held.filter(|h| *local < h.belief).map(|h| h.token))
            .collect();
        let issued_max = LeaseView::issued_max_after(previous, record);
        LeaseView { now, record, believes, held, local, last_accepted, issued_max }
    }

    /// `issuedMax` after a step from `previous` to this view's record: the refinement
    /// mapping's update of the history variable.
    pub fn issued_max_after(
        previous: Option<&LeaseView>,
        record: Option<RecordView>,
    ) -> Option<FencingToken> {
        let before = previous.and_then(|p| p.issued_max);
        before.max(record.map(|r| r.token))
    }
}

impl LeaseView {
    fn believers(&self) -> impl Iterator<Item = (NodeId, FencingToken)> + '_ {
        self.believes.iter().enumerate().filter_map(|(n, t)| t.map(|t| (n as NodeId, t)))
    }
}

/// `LeaseUniqueness`: at most one node believes it holds the lease.
pub fn lease_uniqueness(view: &LeaseView) -> Result<(), String> {
    // Counted before anything is formatted: this runs every step, and fails once at most.
    if view.believers().nth(1).is_none() {
        return Ok(());
    }
    let believers: Vec<String> = view.believers().map(|(n, t)| format!("n{n} {t}")).collect();
    let count = believers.len();
    Err(format!("{count} nodes believe they hold the lease: {}", believers.join(", ")))
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
    // `NoToken` is below every token: a resource that forgot what it accepted went back too.
    if let Some(before) = previous.last_accepted {
        match next.last_accepted {
            Some(after) if after < before => {
                return Err(format!("the resource accepted token {after} after {before}"));
            }
            None => return Err(format!("the resource forgot it had accepted token {before}")),
            _ => {}
        }
    }
    Ok(())
}

/// `IssuedTokensIncrease`: every token issued over the run (a record whose token, holder and
/// acquisition were not there before) is above every token issued before it, so no token is
/// ever issued twice, even when a record was deleted in between.
pub fn issued_tokens_increase(previous: &LeaseView, next: &LeaseView) -> Result<(), String> {
    let Some(record) = next.record else { return Ok(()) };
    if previous.record.map(|r| r.issuance()) == Some(record.issuance()) {
        return Ok(()); // a renewal (or no change)
    }
    match previous.issued_max {
        Some(max) if record.token <= max => Err(format!(
            "n{} was issued token {} though {max} had already been issued{}",
            record.holder,
            record.token,
            if record.token == max { " (the same token twice)" } else { "" }
        )),
        _ => Ok(()),
    }
}

/// `DurablePromises` (the lease's part): a fenced write leaves only while the store's record
/// names its sender as holder with the write's token, unexpired at the store's clock.
pub fn durable_promises(view: &LeaseView, from: NodeId, promise: &Promise) -> Result<(), String> {
    let Promise::LeaseHeld { token } = promise else { return Ok(()) };
    match view.record {
        Some(r) if r.holder == from && r.token == *token && view.now < r.expires => Ok(()),
        record => {
            let store = record.map_or("no record".to_string(), |r| {
                format!("holder n{} {} expires {}", r.holder, r.token, r.expires)
            });
            Err(format!(
                "n{from}'s {} with token {token} at store time {}: the store has {store}",
                promise.name(),
                view.now
            ))
        }
    }
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
    ActionProperty { name: "IssuedTokensIncrease", check: issued_tokens_increase },
];

/// Every operator of `Lease.tla` mirrored here; `ExpiredLeaseClaimable` (liveness) is checked
/// by the scenario's convergence phase, `TypeOK` holds by Rust's types.
pub const MIRRORED: &[&str] = &[
    "LeaseUniqueness",
    "BeliefConsistency",
    "RenewalRequiresOwnership",
    "FencingMonotonic",
    "IssuedTokensIncrease",
    "DurablePromises",
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
        LeaseView { now: 10, record, believes, ..LeaseView::default() }
    }

    #[test]
    fn lease_uniqueness_allows_one_believer_not_two() {
        assert!(lease_uniqueness(&view(vec![Some(token(1, 1)), None], None)).is_ok());
        assert!(lease_uniqueness(&view(vec![Some(token(1, 1)), Some(token(1, 2))], None)).is_err());
    }

    #[test]
    fn belief_consistency_needs_holder_token_and_time() {
        let record = RecordView { holder: 0, token: token(1, 1), expires: 11, acquired: 0 };
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
        let before = view(
            vec![],
            Some(RecordView { holder: 0, token: token(1, 1), expires: 5, acquired: 0 }),
        );
        let renewed = view(
            vec![],
            Some(RecordView { holder: 0, token: token(1, 1), expires: 9, acquired: 0 }),
        );
        let taken = view(
            vec![],
            Some(RecordView { holder: 1, token: token(1, 2), expires: 9, acquired: 0 }),
        );
        let hijacked = view(
            vec![],
            Some(RecordView { holder: 1, token: token(1, 1), expires: 9, acquired: 0 }),
        );
        assert!(renewal_requires_ownership(&before, &renewed).is_ok());
        assert!(renewal_requires_ownership(&before, &taken).is_ok());
        assert!(renewal_requires_ownership(&before, &hijacked).is_err());
    }

    #[test]
    fn issued_tokens_increase_across_a_deleted_record() {
        let record = |t, holder, acquired| RecordView { holder, token: t, expires: 9, acquired };
        let with = |record: Option<RecordView>, max: Option<FencingToken>| LeaseView {
            record,
            issued_max: max,
            ..LeaseView::default()
        };
        let first = with(Some(record(token(1, 1), 0, 5)), Some(token(1, 1)));
        let renewed = with(Some(RecordView { expires: 20, ..record(token(1, 1), 0, 5) }), None);
        assert!(issued_tokens_increase(&first, &renewed).is_ok(), "a renewal issues nothing");
        let next = with(Some(record(token(1, 2), 1, 7)), None);
        assert!(issued_tokens_increase(&first, &next).is_ok());
        let deleted = with(None, Some(token(1, 2)));
        let restarted = with(Some(record(token(1, 1), 2, 9)), None);
        assert!(issued_tokens_increase(&deleted, &restarted).is_err(), "generation restarted");
        let again = with(Some(record(token(1, 2), 1, 8)), None);
        let error = issued_tokens_increase(&deleted, &again).unwrap_err();
        assert!(error.contains("the same token twice"), "{error}");
        let max = LeaseView::issued_max_after(Some(&deleted), Some(record(token(2, 1), 0, 1)));
        assert_eq!(max, Some(token(2, 1)));
    }

    #[test]
    fn a_fenced_write_is_backed_by_an_unexpired_record_naming_its_writer() {
        let promise = Promise::LeaseHeld { token: token(1, 1) };
        let record = RecordView { holder: 0, token: token(1, 1), expires: 11, acquired: 0 };
        assert!(durable_promises(&view(vec![], Some(record)), 0, &promise).is_ok());
        assert!(durable_promises(&view(vec![], Some(record)), 1, &promise).is_err());
        let expired = RecordView { expires: 10, ..record };
        assert!(durable_promises(&view(vec![], Some(expired)), 0, &promise).is_err());
        assert!(durable_promises(&view(vec![], None), 0, &promise).is_err());
    }

    #[test]
    fn fencing_monotonic_flags_store_and_resource_regressions() {
        let record = |t| Some(RecordView { holder: 0, token: t, expires: 5, acquired: 0 });
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
        let forgot = LeaseView::default();
        assert!(fencing_monotonic(&accepted(token(1, 2)), &forgot).is_err(), "NoToken is below");
    }
}
