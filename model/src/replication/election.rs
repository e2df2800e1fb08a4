//! Heartbeats, elections and the convergence of leaders that meet.
//!
//! Safety rests on the votes: a node votes at most once per term, durably before its grant
//! leaves, and only for a log at least as up to date as its own; a leader needs a majority of
//! grants for its term. The standing rule (best log, then lowest id, among peers heard from
//! recently) and the id-derived delays only keep candidates from duelling.

use super::messages::{LogPosition, Message, Output, ReplTimer, StableRecord};
use super::node::Node;
use super::writes::LeaderState;
use super::{ReplicationCanary, Role};
use crate::moment::Moment;
use crate::spec::replication::{Action, HeartbeatMsg, VoteRequestMsg};
use crate::NodeId;
use std::cmp::Reverse;
use std::collections::BTreeSet;

/// What a peer's latest heartbeat said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct PeerInfo {
    pub(super) role: Role,
    pub(super) term: u64,
    pub(super) tail: LogPosition,
    /// This node's tick count when the heartbeat arrived.
    pub(super) heard_at_tick: u64,
}

/// An election this node stands in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Candidacy {
    /// The term the votes are for.
    pub(super) term: u64,
    /// Who granted a vote (this node once its own vote is durable).
    pub(super) granted: BTreeSet<NodeId>,
    /// True once the vote requests went out.
    pub(super) requested: bool,
    /// A handover's promotion: voters waive the up-to-date check.
    pub(super) transfer: bool,
}

impl Node {
    pub(super) fn on_tick(&mut self, out: &mut Vec<Output>) {
        self.ticks += 1;
        self.arm_tick(out);
        self.broadcast_heartbeat(out);
        if let Some(leading) = self.leading.as_mut() {
            leading.answered_this_interval = 0;
            return;
        }
        self.missed_ticks = self.missed_ticks.saturating_add(1);
        if self.missed_ticks >= self.config.miss_threshold && self.role != Role::Candidate {
            self.lose_leader(out);
        }
        self.request_sync_if_behind(out);
    }

    pub(super) fn broadcast_heartbeat(&self, out: &mut Vec<Output>) {
        if self.role == Role::Leader {
            self.declare(Action::Heartbeat { n: self.id }, out);
        }
        let msg = Message::Heartbeat {
            term: self.current_term,
            role: self.role,
            tail: self.log.last(),
            commit: self.commit_index,
        };
        self.broadcast(&msg, out);
    }

    pub(super) fn on_heartbeat(
        &mut self,
        from: NodeId,
        term: u64,
        role: Role,
        tail: LogPosition,
        commit: u64,
        out: &mut Vec<Output>,
    ) {
        let heard_at_tick = self.ticks;
        self.peers.insert(from, PeerInfo { role, term, tail, heard_at_tick });
        if role != Role::Leader {
            return; // gossip for the standing rule only: terms move on leaders' word
        }
        let dual_canary = self.canary(ReplicationCanary::NoDualLeaderConvergence);
        if self.role == Role::Leader && (term <= self.current_term || dual_canary) {
            return self.meet_leader(from, term, tail, out);
        }
        if term < self.current_term {
            return; // a deposed leader: it steps down when it meets the current one
        }
        if term > self.current_term {
            self.adopt_term(term, out); // a leader of an older term too: it follows from here on
        }
        let (tail_index, tail_term) = (tail.index, tail.term);
        let m = HeartbeatMsg { from, term, tail_index, tail_term, commit };
        self.declare(Action::Follow { n: self.id, m }, out);
        self.follow(from);
        self.sync.leader_tail = Some(tail);
        if self.log.contains(tail) {
            // Our log matches the leader's up to its tail, so its commit point is ours too.
            self.advance_commit(commit.min(tail.index), out);
        }
        self.request_sync_if_behind(out);
    }

    /// Two leaders of one term met: the higher tail wins, then the lower id. (A leader of an
    /// older term loses to us; one of a newer term makes us follow it, as any heartbeat does.)
    fn meet_leader(&mut self, from: NodeId, term: u64, tail: LogPosition, out: &mut Vec<Output>) {
        if term == self.current_term {
            self.stats.equal_term_leader_meetings += 1;
        }
        if self.canary(ReplicationCanary::NoDualLeaderConvergence) {
            // Canary: the loser takes the winner's term and keeps leading.
            if term > self.current_term {
                self.declare(Action::UpdateTerm { n: self.id, t: term }, out);
                self.current_term = term;
                self.voted_for = None;
                self.persist(vec![StableRecord::Vote { term, voted_for: None }], out);
            }
            return;
        }
        let theirs = (term, tail, Reverse(from));
        let ours = (self.current_term, self.log.last(), Reverse(self.id));
        if theirs < ours {
            return; // we win: the other steps down when it hears our heartbeat
        }
        let (tail_index, tail_term) = (tail.index, tail.term);
        let m = HeartbeatMsg { from, term, tail_index, tail_term, commit: 0 };
        self.declare(Action::LeadersMeet { n: self.id, m }, out);
        self.follow(from);
        self.sync.leader_tail = Some(tail);
        self.request_sync_if_behind(out);
    }

    /// The leader went quiet: become a candidate, and stand now if this node is the best choice
    /// among the peers heard from recently (and the config allows it), else after its wait.
    fn lose_leader(&mut self, out: &mut Vec<Output>) {
        self.declare(Action::Timeout { n: self.id }, out);
        self.role = Role::Candidate;
        self.leader = None;
        self.candidacy = None;
        self.sync.forget_leader();
        if self.config.best_stands_at_once && self.best_to_stand() {
            self.stand(out);
        } else {
            self.arm_election_timer(out);
        }
    }

    /// True if no recently heard non-leader peer has a more up-to-date log, or an equal one and
    /// a lower id.
    fn best_to_stand(&self) -> bool {
        let recent = u64::from(self.config.miss_threshold);
        let ours = (self.log.last(), Reverse(self.id));
        self.peers
            .iter()
            .filter(|(_, peer)| peer.role != Role::Leader)
            .filter(|(_, peer)| self.ticks.saturating_sub(peer.heard_at_tick) <= recent)
            .all(|(id, peer)| (peer.tail, Reverse(*id)) < ours)
    }

    /// Arms the wait before standing (again): the retry, the rank's stagger, and a share that
    /// looks random but comes from (id, term, failed rounds), Raft's randomized timeout without
    /// an RNG. The share's window starts at an eighth of the retry and doubles with each round
    /// that found no leader (up to 8 retries), so candidates whose timeouts are clustered, or
    /// whose votes take longer than the retry to come back, stop duelling after a few rounds.
    fn arm_election_timer(&mut self, out: &mut Vec<Output>) {
        let generation = self.next_generation();
        self.timers.election = generation;
        let window_ns = (self.config.election_retry_ns >> 3) << self.election_rounds.min(6);
        let mix = scramble(u64::from(self.id) << 48 ^ self.current_term << 8)
            ^ u64::from(self.election_rounds);
        let share_ns = scramble(mix) % window_ns.max(1);
        let after_local_ns =
            self.config.election_retry_ns + self.rank * self.config.election_stagger_ns + share_ns;
        out.push(Output::SetTimer { after_local_ns, timer: ReplTimer::Election { generation } });
    }

    pub(super) fn on_election_timer(&mut self, out: &mut Vec<Output>) {
        if self.role == Role::Candidate {
            self.election_rounds = self.election_rounds.saturating_add(1);
            self.stand(out);
        }
    }

    /// Stands for term + 1: votes for itself durably; the requests leave once that is durable.
    fn stand(&mut self, out: &mut Vec<Output>) {
        let term = if self.canary(ReplicationCanary::ElectionWithoutTermBump) {
            self.current_term // canary: stands in the term it already has (and voted in)
        } else {
            self.current_term + 1
        };
        self.stand_in(term, false, out);
    }

    /// Stands for `term`; a handover's promotion names the term and asks for a `transfer`.
    pub(super) fn stand_in(&mut self, term: u64, transfer: bool, out: &mut Vec<Output>) {
        let n = self.id;
        let action =
            if transfer { Action::StandTransfer { n, t: term } } else { Action::Stand { n } };
        self.declare(action, out);
        self.stats.elections_started += 1;
        self.role = Role::Candidate;
        self.leader = None;
        self.leading = None;
        self.frozen = false;
        self.sync.forget_leader();
        self.current_term = term;
        self.voted_for = Some(self.id);
        self.persist(vec![StableRecord::Vote { term, voted_for: Some(self.id) }], out);
        let granted = BTreeSet::new();
        self.candidacy = Some(Candidacy { term, granted, requested: false, transfer });
        self.arm_election_timer(out);
        out.push(Output::Moment(Moment::Election));
    }

    /// Sends the vote requests once the candidate's own vote is durable.
    pub(super) fn request_votes_once_durable(&mut self, out: &mut Vec<Output>) {
        let own_vote_durable = self.candidacy.as_ref().is_some_and(|candidacy| {
            !candidacy.requested && self.durable.vote == (candidacy.term, Some(self.id))
        });
        if self.role == Role::Candidate && own_vote_durable {
            self.send_vote_requests(out);
        }
    }

    fn send_vote_requests(&mut self, out: &mut Vec<Output>) {
        let last = self.log.last();
        let Some(candidacy) = self.candidacy.as_mut() else { return };
        candidacy.requested = true;
        candidacy.granted.insert(self.id);
        let (term, transfer) = (candidacy.term, candidacy.transfer);
        self.declare(Action::RequestVotes { n: self.id, transfer }, out);
        let msg = Message::RequestVote { term, last, transfer };
        self.broadcast(&msg, out);
        self.become_leader_if_elected(out);
    }

    pub(super) fn on_request_vote(
        &mut self,
        from: NodeId,
        term: u64,
        last: LogPosition,
        transfer: bool,
        out: &mut Vec<Output>,
    ) {
        if term < self.current_term {
            let msg = Message::VoteReply { term: self.current_term, granted: false };
            return self.send(from, msg, out);
        }
        if term > self.current_term {
            self.adopt_term(term, out);
        }
        if self.candidacy.as_ref().is_some_and(|c| c.term == term) {
            self.stats.contended_elections += 1;
        }
        let free = self.voted_for.is_none() || self.voted_for == Some(from);
        let checks_log = !transfer && !self.canary(ReplicationCanary::VoteWithoutLogCheck);
        if !free || (checks_log && last < self.log.last()) {
            let msg = Message::VoteReply { term: self.current_term, granted: false };
            return self.send(from, msg, out);
        }
        let (last_index, last_term) = (last.index, last.term);
        let m = VoteRequestMsg { from, term, last_index, last_term, transfer };
        self.declare(Action::GrantVote { n: self.id, m }, out);
        self.voted_for = Some(from);
        self.missed_ticks = 0;
        self.stats.votes_granted += 1;
        let id = self.persist(vec![StableRecord::Vote { term, voted_for: Some(from) }], out);
        let grant = Message::VoteReply { term, granted: true };
        if self.canary(ReplicationCanary::GrantBeforeDurable) {
            return self.send_grant(from, grant, out); // canary: before the vote is on disk
        }
        // The grant leaves only once the vote is durable: a crash cannot make us vote twice.
        self.held.push((id, from, grant));
    }

    /// Sends a vote grant, a moment worth a fault (the voter may be back, having forgotten
    /// nothing it promised, within the same election).
    pub(super) fn send_grant(&mut self, to: NodeId, grant: Message, out: &mut Vec<Output>) {
        self.declare(Action::SendGrant { n: self.id, c: to, t: grant.term() }, out);
        self.send(to, grant, out);
        out.push(Output::Moment(Moment::VoteGranted));
    }

    pub(super) fn on_vote_reply(
        &mut self,
        from: NodeId,
        term: u64,
        granted: bool,
        out: &mut Vec<Output>,
    ) {
        if let Some(candidacy) = self.candidacy.as_mut() {
            if candidacy.requested && candidacy.term == term {
                if granted {
                    candidacy.granted.insert(from);
                    self.declare(Action::ReceiveGrant { n: self.id, from, term }, out);
                    self.become_leader_if_elected(out);
                }
                return;
            }
        }
        if term > self.current_term {
            self.adopt_term(term, out);
        }
    }

    fn become_leader_if_elected(&mut self, out: &mut Vec<Output>) {
        let quorum = self.config.quorum();
        let elected = self.role == Role::Candidate
            && self.candidacy.as_ref().is_some_and(|c| c.granted.len() >= quorum);
        if !elected {
            return;
        }
        self.lead(out);
    }

    /// Takes the lead in the current term: announces it and appends the barrier.
    pub(super) fn lead(&mut self, out: &mut Vec<Output>) {
        self.declare(Action::BecomeLeader { n: self.id }, out);
        self.election_rounds = 0;
        self.role = Role::Leader;
        self.leader = Some(self.id);
        self.candidacy = None;
        self.leading = Some(LeaderState::default());
        self.sync.forget_leader();
        self.led_from = self.log.last();
        self.broadcast_heartbeat(out);
        // A barrier entry of the new term lets earlier entries commit without a client write.
        self.append_as_leader(None, 0, out);
        self.report_promotion(out);
    }
}

/// A well-mixed bijection on u64 (SplitMix64's finaliser), for the election timer's share.
fn scramble(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}
