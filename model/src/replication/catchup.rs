//! Catch-up by pull: a replica behind its leader's advertised tail sends `SyncRequest`s; the
//! leader answers with entries or a nack.
//!
//! An answer is applied only if it passes three checks, each its own defence: it comes from the
//! believed leader in its term (a deposed leader's late answer carries a stale log), it answers
//! a request still outstanding (a duplicated or late answer describes an old state), and that
//! request went to the same peer in the same term (the channel). A request stops being
//! outstanding when pushed entries change the log it asked about: its answer would be judged
//! against a log that no longer exists (a `BadRange` would throw away entries it never saw).
//! Requests that go unanswered time out and are asked again; empty answers while the leader
//! says it has more back off.

use super::messages::{LogPosition, Message, NackReason, Output, ReplTimer, StableRecord};
use super::node::Node;
use super::replica::Applied;
use super::{ReplicationCanary, Role};
use crate::moment::Moment;
use crate::spec::replication::{Action, BadRangeMsg, EntriesMsg, SyncRequestMsg};
use crate::NodeId;

/// At most this many sync requests outstanding (older ones are forgotten first).
const OUTSTANDING_MAX: usize = 4;
/// Empty answers in a row, while the leader advertises more, before backing off.
const EMPTY_ANSWERS_BEFORE_BACKOFF: u32 = 3;

/// A sync request awaiting its answer: the channel is (`to`, `term`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Outstanding {
    pub(super) request_id: u64,
    pub(super) to: NodeId,
    pub(super) term: u64,
    pub(super) since: u64,
}

/// A replica's catch-up state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct SyncState {
    /// Kept across leader changes: a late answer on an old channel must still be recognised
    /// (and refused) until the request times out.
    pub(super) outstanding: Vec<Outstanding>,
    pub(super) next_request_id: u64,
    /// The believed leader's tail, from its latest heartbeat.
    pub(super) leader_tail: Option<LogPosition>,
    /// After a mismatch at `prev`, ask from one entry earlier; None: from our last entry.
    pub(super) probe_since: Option<u64>,
    pub(super) empty_in_a_row: u32,
    backoff_ns_min: u64,
    /// The delay of the next backoff, nanoseconds; doubles up to the configured maximum.
    pub(super) next_backoff_ns: u64,
    pub(super) backing_off: bool,
    /// The durable tail last reported to the leader.
    pub(super) last_reported: LogPosition,
}

impl SyncState {
    pub(super) fn new(backoff_ns_min: u64) -> SyncState {
        SyncState {
            outstanding: Vec::new(),
            next_request_id: 1,
            leader_tail: None,
            probe_since: None,
            empty_in_a_row: 0,
            backoff_ns_min,
            next_backoff_ns: backoff_ns_min,
            backing_off: false,
            last_reported: LogPosition::ZERO,
        }
    }

    /// A new leader (or none): what we knew of the old one no longer applies.
    pub(super) fn forget_leader(&mut self) {
        self.leader_tail = None;
        self.probe_since = None;
        self.empty_in_a_row = 0;
        self.next_backoff_ns = self.backoff_ns_min;
        self.backing_off = false;
        self.last_reported = LogPosition::ZERO;
    }
}

impl Node {
    /// Asks the believed leader for entries if its advertised tail is not in our log and no
    /// request to it is outstanding.
    pub(super) fn request_sync_if_behind(&mut self, out: &mut Vec<Output>) {
        let (Role::Replica, Some(leader)) = (self.role, self.leader) else { return };
        let Some(tail) = self.sync.leader_tail else { return };
        let behind = tail.index > self.log.base().index && !self.log.contains(tail);
        let term = self.current_term;
        let waiting = self.sync.outstanding.iter().any(|o| o.to == leader && o.term == term);
        if !behind || waiting || self.sync.backing_off {
            return;
        }
        let request_id = self.sync.next_request_id;
        self.sync.next_request_id += 1;
        let since = self.sync.probe_since.unwrap_or(self.log.last_index());
        if self.sync.outstanding.len() >= OUTSTANDING_MAX {
            let oldest = self.sync.outstanding.remove(0);
            self.declare(Action::ForgetRequest { n: self.id, id: oldest.request_id }, out);
        }
        self.declare(Action::RequestSync { n: self.id, since }, out);
        self.sync.outstanding.push(Outstanding { request_id, to: leader, term, since });
        let durable = self.acked_tail();
        self.sync.last_reported = durable;
        self.send(leader, Message::SyncRequest { term, request_id, since, durable }, out);
        out.push(Output::Moment(Moment::SyncRequested { leader }));
        let after_local_ns = self.config.sync_timeout_ns;
        out.push(Output::SetTimer { after_local_ns, timer: ReplTimer::SyncTimeout { request_id } });
    }

    pub(super) fn on_sync_timeout(&mut self, request_id: u64, out: &mut Vec<Output>) {
        let Some(at) = self.sync.outstanding.iter().position(|o| o.request_id == request_id) else {
            return; // answered already
        };
        self.sync.outstanding.remove(at);
        self.declare(Action::ForgetRequest { n: self.id, id: request_id }, out);
        self.stats.sync_timeouts += 1;
        self.request_sync_if_behind(out);
    }

    /// Check 1: the answer comes from the leader we follow, in its term.
    fn answer_from_leader(&self, from: NodeId, term: u64) -> bool {
        if self.canary(ReplicationCanary::AcceptFromNonLeader) {
            return true; // canary: whoever answers is believed
        }
        self.role == Role::Replica && self.leader == Some(from) && term == self.current_term
    }

    /// Checks 2 and 3: the answer matches an outstanding request sent on this channel. Returns
    /// the request's `since`, and forgets the request (a second answer is refused).
    fn correlate(&mut self, from: NodeId, term: u64, request_id: u64, since: u64) -> Option<u64> {
        let outstanding = &mut self.sync.outstanding;
        if self.config.canary == Some(ReplicationCanary::SkipRequestIdCorrelation) {
            // Canary: any answer is taken at face value.
            outstanding.retain(|o| o.request_id != request_id);
            return Some(since);
        }
        let at = outstanding
            .iter()
            .position(|o| o.request_id == request_id && o.to == from && o.term == term)?;
        Some(outstanding.remove(at).since)
    }

    fn accept_answer(&mut self, from: NodeId, term: u64, id: u64, since: u64) -> Option<u64> {
        let accepted = if self.answer_from_leader(from, term) {
            self.correlate(from, term, id, since)
        } else {
            None
        };
        if accepted.is_none() {
            self.stats.rejected_responses += 1;
        }
        accepted
    }

    #[allow(clippy::too_many_arguments)] // the message's fields, unpacked
    pub(super) fn on_sync_response(
        &mut self,
        from: NodeId,
        term: u64,
        request_id: u64,
        since: u64,
        prev: LogPosition,
        entries: Vec<super::Entry>,
        commit: u64,
        out: &mut Vec<Output>,
    ) {
        if term > self.current_term {
            self.adopt_term(term, out);
        }
        if self.accept_answer(from, term, request_id, since).is_none() {
            return;
        }
        let n = self.id;
        let declare = || {
            let terms = entries.iter().map(|e| e.term).collect();
            let (prev_term, id) = (prev.term, request_id);
            let m =
                EntriesMsg { from, term, id, prev: prev.index, prev_term, entries: terms, commit };
            Action::ReceiveSyncResponse { n, m }
        };
        match self.apply_entries(prev, &entries, commit, declare, out) {
            Applied::Mismatch => {
                self.declare(Action::ForgetRequest { n, id: request_id }, out);
                // Our entry at `prev` differs: every entry after it does too. Ask one earlier.
                let earlier = prev.index.saturating_sub(1).max(self.log.base().index);
                self.sync.probe_since = Some(earlier);
            }
            Applied::Applied => {
                self.sync.probe_since = None;
                let leader_has_more =
                    self.sync.leader_tail.is_some_and(|t| t.index > self.log.last_index());
                if !entries.is_empty() {
                    self.sync.empty_in_a_row = 0;
                    self.sync.next_backoff_ns = self.config.sync_backoff_ns_min;
                } else if leader_has_more {
                    self.sync.empty_in_a_row += 1;
                    if self.sync.empty_in_a_row >= EMPTY_ANSWERS_BEFORE_BACKOFF {
                        self.start_backoff(out);
                    }
                }
            }
        }
        self.request_sync_if_behind(out);
    }

    pub(super) fn on_sync_nack(
        &mut self,
        from: NodeId,
        term: u64,
        request_id: u64,
        since: u64,
        reason: NackReason,
        out: &mut Vec<Output>,
    ) {
        if term > self.current_term {
            self.adopt_term(term, out);
        }
        let Some(since) = self.accept_answer(from, term, request_id, since) else { return };
        let forget = Action::ForgetRequest { n: self.id, id: request_id };
        match reason {
            NackReason::NotLeader => {
                self.stats.not_leader_received += 1;
                self.declare(forget, out);
                if self.leader == Some(from) {
                    self.step_down(out);
                }
            }
            NackReason::Backpressure => {
                self.declare(forget, out);
                self.start_backoff(out)
            }
            NackReason::BadRange { first_retained, base_term } => {
                let floor = first_retained.saturating_sub(1);
                let m =
                    BadRangeMsg { from, term, id: request_id, since, floor, floor_term: base_term };
                self.skip_ahead(m, out)
            }
        }
    }

    /// The leader no longer holds the entries after the request's `since`: treat our log as
    /// starting at its floor, right before its first retained entry (everything up to there is
    /// committed), in one step.
    fn skip_ahead(&mut self, m: BadRangeMsg, out: &mut Vec<Output>) {
        if m.since >= m.floor {
            // We asked for retained entries: the nack does not apply, the request is done.
            return self.declare(Action::ForgetRequest { n: self.id, id: m.id }, out);
        }
        self.declare(Action::ReceiveBadRange { n: self.id, m }, out);
        let base = LogPosition { term: m.floor_term, index: m.floor };
        // The request is still outstanding, so our log has not changed since we asked (see
        // `on_append`): every entry of ours after `since` differs from the leader's (that is
        // why we asked from there), and nothing the leader counted as ours is lost.
        self.log.reset(base);
        self.persist(vec![StableRecord::Reset { base }], out);
        self.stats.skip_aheads += 1;
        self.sync.probe_since = None;
        self.advance_commit(base.index, out);
        self.request_sync_if_behind(out);
    }

    fn start_backoff(&mut self, out: &mut Vec<Output>) {
        self.stats.backoffs += 1;
        self.sync.backing_off = true;
        let after_local_ns = self.sync.next_backoff_ns;
        self.sync.next_backoff_ns =
            after_local_ns.saturating_mul(2).min(self.config.sync_backoff_ns_max);
        let generation = self.next_generation();
        self.timers.backoff = generation;
        out.push(Output::SetTimer { after_local_ns, timer: ReplTimer::SyncBackoff { generation } });
    }

    pub(super) fn on_backoff_over(&mut self, out: &mut Vec<Output>) {
        self.sync.backing_off = false;
        self.request_sync_if_behind(out);
    }

    /// The leader's side: answer a sync request with entries it holds durably, or a nack.
    pub(super) fn on_sync_request(
        &mut self,
        from: NodeId,
        term: u64,
        request_id: u64,
        since: u64,
        durable: LogPosition,
        out: &mut Vec<Output>,
    ) {
        if term > self.current_term {
            self.adopt_term(term, out);
        }
        let current = self.current_term;
        let nack = |reason| Message::SyncNack { term: current, request_id, since, reason };
        let Some(leading) = self.leading.as_mut() else {
            return self.send(from, nack(NackReason::NotLeader), out);
        };
        if leading.answered_this_interval >= self.config.sync_responses_per_interval_max {
            self.stats.backpressure_sent += 1;
            return self.send(from, nack(NackReason::Backpressure), out);
        }
        leading.answered_this_interval += 1;
        if term == current {
            self.note_durable(from, term, durable, out);
        }
        let m = SyncRequestMsg { from, term, id: request_id, since };
        self.declare(Action::AnswerSync { l: self.id, m }, out);
        let base = self.log.base();
        if since < base.index {
            let reason =
                NackReason::BadRange { first_retained: base.index + 1, base_term: base.term };
            self.send(from, nack(reason), out);
            return out.push(Output::Moment(Moment::SyncAnswered));
        }
        let prev_index = since.min(self.log.last_index());
        let prev_term = self.log.term_at(prev_index).expect("base <= prev <= last");
        let prev = LogPosition { term: prev_term, index: prev_index };
        // Catch-up is served from the durable log, as a real one reads flushed segments.
        let upto = self.durable_tail().index;
        let entries = self.log.slice(prev_index + 1, upto, self.config.sync_entries_max);
        let commit = self.commit_index;
        let msg = Message::SyncResponse { term: current, request_id, since, prev, entries, commit };
        self.send(from, msg, out);
        out.push(Output::Moment(Moment::SyncAnswered));
    }
}
