//! Mirror of `tla/Failover.tla`. [`FailoverView`] is the spec's state as the simulator sees the
//! real cluster (a refinement mapping); each function is one operator of the spec, registered
//! under its TLA name.
//!
//! The mapping (spec variable in backticks):
//! - `everLed`: every (term, node) seen leading, for the whole run: the driver records each
//!   member's (current term) whenever it leads.
//! - `primary`: the members that lead and believe they hold the lease in their own term,
//!   frozen or not ([`crate::cluster::Member::primary_token`]).
//! - `handovers`: per handover whose target took the lead, what the takeover lost and what
//!   the coordinator reported. `lost` counts the old primary's entries (up to the larger of
//!   its frozen frontier and its log's tail when the promotion left) that the target's log
//!   lacks when it takes the lead; `lostAcked` those of them that were acknowledged.
//!   `reported` is the spec's `report` and `reported` fields: what the coordinator said of the
//!   skipped writes, if anything yet.
//! - `lastAccepted`: the token of the last write the protected resource accepted.

#[cfg(test)]
mod action_tests;
mod actions;

pub use actions::{
    check_step, Action, Answer, Env, Handover, HandoverVars, Phase, ACTIONS, NOT_TAKEN,
};

use super::{ActionProperty, Invariant};
use crate::failover::Mode;
use crate::lease::FencingToken;
use crate::NodeId;
use std::fmt;

/// What the coordinator said of a handover's skipped writes (the spec's `report`, with
/// `reported` as the count).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reported {
    /// `"Pending"`: not yet answered (the target's answer is on its way, or the coordinator
    /// crashed and never will).
    Pending,
    /// `"Exactly"` (`HandedOver`): exactly this many, counted from the target's own tail.
    Exactly(u64),
    /// `"AtMost"` (`PromotionUnconfirmed`): at most this many, should the target have won,
    /// counted from its last reported progress (it may hold more).
    AtMost(u64),
}

/// One handover whose target took the lead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandoverView {
    pub handover: u64,
    pub mode: Mode,
    pub term: u64,
    pub old_primary: NodeId,
    pub target: NodeId,
    /// `lost`.
    pub lost: u64,
    /// `lostAcked`.
    pub lost_acked: u64,
    /// `reported`.
    pub reported: Reported,
}

/// The spec's variables.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FailoverView {
    /// `everLed`: (term, node), sorted and without duplicates.
    pub ever_led: Vec<(u64, NodeId)>,
    /// `primary`: the members that lead with the lease now.
    pub primaries: Vec<NodeId>,
    /// `handovers`.
    pub handovers: Vec<HandoverView>,
    /// `lastAccepted`: the resource's last accepted token.
    pub last_accepted: Option<FencingToken>,
    /// `ho` and `frozen`: what the handover actions change.
    pub handover: HandoverVars,
    /// `primary[n]`, per member (the members in `primaries`, as a guard reads it).
    pub primary: Vec<bool>,
}

impl fmt::Display for HandoverView {
    /// "handover 3f2a0c11/4 (Force) from n0 to n1 in term 2": the id as coordinator
    /// incarnation / handover number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (incarnation, number) = (self.handover >> 32, self.handover & 0xffff_ffff);
        write!(
            f,
            "handover {incarnation:08x}/{number} ({:?}) from n{} to n{} in term {}",
            self.mode, self.old_primary, self.target, self.term
        )
    }
}

impl fmt::Display for Reported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reported::Pending => write!(f, "the coordinator has not reported yet"),
            Reported::Exactly(skipped) => write!(f, "the coordinator reported {skipped} skipped"),
            Reported::AtMost(skipped) => {
                write!(f, "the coordinator reported at most {skipped} skipped (unconfirmed)")
            }
        }
    }
}

impl FailoverView {
    /// Records that `node` leads `term` (idempotent).
    pub fn note_leader(&mut self, term: u64, node: NodeId) {
        if let Err(at) = self.ever_led.binary_search(&(term, node)) {
            self.ever_led.insert(at, (term, node));
        }
    }
}

/// `SinglePrimaryPerTerm`: no two nodes ever lead the same term, and at most one node is
/// primary at any instant (a demoted primary gave its lease up before the target took it).
pub fn single_primary_per_term(view: &FailoverView) -> Result<(), String> {
    if let Some(pair) = view.ever_led.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return Err(format!("n{} and n{} both led term {}", pair[0].1, pair[1].1, pair[0].0));
    }
    if view.primaries.len() > 1 {
        return Err(format!("{:?} are all primary at once", view.primaries));
    }
    Ok(())
}

/// `NoAckedWriteLost`: no handover loses an acknowledged write: a coordinated one waits for
/// all of them, a forced one refuses a target that lacks any.
pub fn no_acked_write_lost(view: &FailoverView) -> Result<(), String> {
    match view.handovers.iter().find(|h| h.lost_acked > 0) {
        Some(h) => Err(format!("{h} lost {} acknowledged writes", h.lost_acked)),
        None => Ok(()),
    }
}

/// `SkippedExactlyReported`: a coordinated handover loses nothing, reported or not; a confirmed
/// one reports exactly the writes the target lacked, an unconfirmed one at least as many.
pub fn skipped_exactly_reported(view: &FailoverView) -> Result<(), String> {
    for h in &view.handovers {
        let wrong = match h.reported {
            Reported::Pending => false,
            Reported::Exactly(skipped) => h.lost != skipped,
            Reported::AtMost(skipped) => h.lost > skipped,
        };
        let coordinated_loss = h.mode == Mode::Coordinated && h.lost > 0;
        if wrong || coordinated_loss {
            let lost = h.lost;
            let reported = h.reported;
            return Err(format!(
                "{h}: the target lacked {lost} of the old primary's writes; {reported}"
            ));
        }
    }
    Ok(())
}

/// `StaleWriterFenced`: the resource never accepts a write under a token below the last one it
/// accepted: a demoted primary's late writes bounce. Tokens are (term, generation) here; the
/// spec's are terms (its lease has no generations), which order the same way across terms.
pub fn stale_writer_fenced(previous: &FailoverView, next: &FailoverView) -> Result<(), String> {
    match (previous.last_accepted, next.last_accepted) {
        (Some(before), Some(after)) if after < before => {
            Err(format!("the resource accepted a write under {after} after one under {before}"))
        }
        _ => Ok(()),
    }
}

/// State invariants of `Failover.tla`.
pub const INVARIANTS: &[Invariant<FailoverView>] = &[
    Invariant { name: "SinglePrimaryPerTerm", check: single_primary_per_term },
    Invariant { name: "NoAckedWriteLost", check: no_acked_write_lost },
    Invariant { name: "SkippedExactlyReported", check: skipped_exactly_reported },
];

/// Action properties of `Failover.tla`, checked on every (previous, next) pair of steps.
pub const ACTION_PROPERTIES: &[ActionProperty<FailoverView>] =
    &[ActionProperty { name: "StaleWriterFenced", check: stale_writer_fenced }];

/// Every operator of `Failover.tla` mirrored here; `WritesResume` (liveness) is checked by the
/// cluster scenario's convergence phase, `TypeOK` holds by Rust's types.
pub const MIRRORED: &[&str] = &[
    "SinglePrimaryPerTerm",
    "NoAckedWriteLost",
    "SkippedExactlyReported",
    "StaleWriterFenced",
    "WritesResume",
    // A caught-up answer promises the target's durable log: the replica set's check holds it
    // (`spec::replication::durable_promises`, a `Promise::LogHolds`).
    "DurablePromises",
    "TypeOK",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn handover(mode: Mode, lost: u64, lost_acked: u64, reported: Reported) -> HandoverView {
        let (old_primary, target) = (0, 1);
        HandoverView { handover: 1, mode, term: 2, old_primary, target, lost, lost_acked, reported }
    }

    fn with(h: HandoverView) -> FailoverView {
        FailoverView { handovers: vec![h], ..FailoverView::default() }
    }

    #[test]
    fn two_leaders_of_one_term_over_time_break_single_primary() {
        let mut view = FailoverView::default();
        view.note_leader(3, 0);
        view.note_leader(3, 0);
        view.note_leader(4, 1);
        assert!(single_primary_per_term(&view).is_ok());
        view.note_leader(3, 2);
        assert_eq!(single_primary_per_term(&view), Err("n0 and n2 both led term 3".to_string()));
        let two_now = FailoverView { primaries: vec![0, 1], ..FailoverView::default() };
        assert!(single_primary_per_term(&two_now).is_err());
    }

    #[test]
    fn a_forced_handover_must_report_exactly_what_it_lost() {
        let exact = with(handover(Mode::Force, 3, 0, Reported::Exactly(3)));
        assert!(skipped_exactly_reported(&exact).is_ok() && no_acked_write_lost(&exact).is_ok());
        let acked = with(handover(Mode::Force, 3, 1, Reported::Exactly(3)));
        assert!(no_acked_write_lost(&acked).is_err(), "force never skips an acknowledged write");
        let under = with(handover(Mode::Force, 3, 0, Reported::Exactly(2)));
        assert!(skipped_exactly_reported(&under).is_err());
        let over = with(handover(Mode::Force, 3, 0, Reported::Exactly(4)));
        assert!(skipped_exactly_reported(&over).is_err());
        let unconfirmed = with(handover(Mode::Force, 2, 0, Reported::AtMost(3)));
        assert!(skipped_exactly_reported(&unconfirmed).is_ok());
        let pending = with(handover(Mode::Force, 3, 0, Reported::Pending));
        assert!(skipped_exactly_reported(&pending).is_ok());
    }

    #[test]
    fn violations_name_the_handover_readably() {
        let mut h = handover(Mode::Force, 3, 0, Reported::Exactly(2));
        h.handover = (0x3f2a_0c11 << 32) | 4;
        assert_eq!(
            skipped_exactly_reported(&with(h)),
            Err("handover 3f2a0c11/4 (Force) from n0 to n1 in term 2: the target lacked 3 of \
                 the old primary's writes; the coordinator reported 2 skipped"
                .to_string())
        );
    }

    #[test]
    fn a_coordinated_handover_loses_nothing_even_before_it_reports() {
        let lossy = with(handover(Mode::Coordinated, 1, 0, Reported::Pending));
        assert!(skipped_exactly_reported(&lossy).is_err());
        let acked = with(handover(Mode::Coordinated, 1, 1, Reported::Pending));
        assert!(no_acked_write_lost(&acked).is_err());
    }

    #[test]
    fn a_lower_token_accepted_after_a_higher_one_is_a_stale_writer() {
        let at = |term, generation| FailoverView {
            last_accepted: Some(FencingToken { term, generation }),
            ..FailoverView::default()
        };
        assert!(stale_writer_fenced(&at(2, 1), &at(2, 1)).is_ok());
        assert!(stale_writer_fenced(&at(2, 1), &at(3, 1)).is_ok());
        assert!(stale_writer_fenced(&at(3, 1), &at(2, 5)).is_err());
    }
}
