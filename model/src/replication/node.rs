//! The node: its state, the input dispatch, the persistence pipeline, term changes and the
//! read-only accessors invariant checks use. The protocol's parts live in sibling modules.

use super::catchup::SyncState;
use super::election::{Candidacy, PeerInfo};
use super::log::{DurableState, Log};
use super::messages::{Input, LogPosition, Message, Output, ReplTimer, StableRecord};
use super::writes::LeaderState;
use super::{ReplicationCanary, ReplicationConfig, ReplicationStats, Role};
use crate::spec::replication::Action;
use crate::NodeId;
use std::collections::{BTreeMap, VecDeque};

/// A write this node acknowledged while leader (volatile; trimmed with the log).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AckedWrite {
    pub write_id: u64,
    pub index: u64,
    pub term: u64,
}

/// The latest generation armed per timer kind; a firing of any other generation is stale.
#[derive(Clone, Debug, Default)]
pub(super) struct Timers {
    pub(super) next_generation: u64,
    pub(super) tick: u64,
    pub(super) election: u64,
    pub(super) backoff: u64,
}

/// One member of a replica set. Durable state (term, vote, log) is rebuilt by
/// [`Node::recover`] from the records the caller persisted; everything else is volatile.
#[derive(Clone, Debug)]
pub struct Node {
    pub(super) config: ReplicationConfig,
    pub(super) id: NodeId,
    /// The node's position among the sorted members: the unit of its election backoff.
    pub(super) rank: u64,
    pub(super) current_term: u64,
    pub(super) voted_for: Option<NodeId>,
    /// The log as the node works with it (ahead of the disk until `Persisted`).
    pub(super) log: Log,
    /// What the confirmed durable records rebuild: what a crash would leave.
    pub(super) durable: DurableState,
    pub(super) next_persist_id: u64,
    /// `Persist` outputs not yet confirmed, oldest first.
    pub(super) unsynced: VecDeque<(u64, Vec<StableRecord>)>,
    /// Vote grants, which may leave only once persist `id` (the vote) is durable.
    pub(super) held: Vec<(u64, NodeId, Message)>,
    pub(super) role: Role,
    /// The believed leader; its term is always `current_term`.
    pub(super) leader: Option<NodeId>,
    pub(super) ticks: u64,
    /// Heartbeat intervals since the believed leader was last heard.
    pub(super) missed_ticks: u32,
    /// Election timers that fired with no leader found since this node last followed or led:
    /// each widens the next wait (see `arm_election_timer`).
    pub(super) election_rounds: u32,
    pub(super) peers: BTreeMap<NodeId, PeerInfo>,
    pub(super) candidacy: Option<Candidacy>,
    pub(super) leading: Option<LeaderState>,
    pub(super) sync: SyncState,
    pub(super) commit_index: u64,
    pub(super) acked: Vec<AckedWrite>,
    /// A leader frozen for a handover mints nothing (volatile: a crash ends the leadership).
    pub(super) frozen: bool,
    /// The handover it last froze for: only that handover's Resume thaws it.
    pub(super) frozen_for: u64,
    /// A promotion to report once this node leads: (handover, term).
    pub(super) promotion: Option<(u64, u64)>,
    /// The log's tail when this node last became leader (before its barrier entry).
    pub(super) led_from: LogPosition,
    pub(super) stats: ReplicationStats,
    pub(super) timers: Timers,
}

impl Node {
    /// A member with an empty log, term 0.
    pub fn new(config: ReplicationConfig, id: NodeId) -> Node {
        Node::recover(config, id, &[])
    }

    /// Rebuilds member `id` after a crash from the records that were persisted and synced, in
    /// order. The node comes back `Idle`; its commit index restarts at its log's base (trimmed
    /// entries are committed). Call [`Node::start`] next; timers set before the crash are void.
    pub fn recover(config: ReplicationConfig, id: NodeId, durable: &[StableRecord]) -> Node {
        assert!(config.members.contains(&id), "node {id} is not a member of {:?}", config.members);
        assert!(config.retain_entries_max >= 1, "retain_entries_max must be at least 1");
        let durable = DurableState::from_records(durable);
        let (log, vote) = (durable.log.clone(), durable.vote);
        let rank = config.members.iter().filter(|member| **member < id).count() as u64;
        Node {
            rank,
            id,
            current_term: vote.0,
            // Canary `recover-forgets-vote`: the term comes back, the vote cast in it does not.
            voted_for: vote
                .1
                .filter(|_| config.canary != Some(ReplicationCanary::RecoverForgetsVote)),
            commit_index: log.base().index,
            durable,
            log,
            next_persist_id: 1,
            unsynced: VecDeque::new(),
            held: Vec::new(),
            role: Role::Idle,
            leader: None,
            ticks: 0,
            missed_ticks: 0,
            election_rounds: 0,
            peers: BTreeMap::new(),
            candidacy: None,
            leading: None,
            sync: SyncState::new(config.sync_backoff_ns_min),
            acked: Vec::new(),
            frozen: false,
            frozen_for: 0,
            promotion: None,
            led_from: LogPosition::ZERO,
            stats: ReplicationStats::default(),
            timers: Timers::default(),
            config,
        }
    }

    /// Arms the heartbeat tick and announces the node.
    pub fn start(&mut self, _now_local_ns: u64, out: &mut Vec<Output>) {
        self.arm_tick(out);
        self.broadcast_heartbeat(out);
    }

    /// Advances the state machine by one input.
    pub fn handle(&mut self, _now_local_ns: u64, input: Input, out: &mut Vec<Output>) {
        match input {
            Input::Message { from, msg } => self.on_message(from, msg, out),
            Input::Timer(timer) => self.on_timer(timer, out),
            Input::Persisted { through } => self.on_persisted(through, out),
            Input::Failover { from, request } => {
                if self.accepts_failover_from(from) {
                    self.on_failover(request, out)
                } else {
                    self.stats.dropped_non_member += 1;
                }
            }
            Input::ClientWrite { write_id, payload } => {
                self.on_client_write(write_id, payload, out)
            }
        }
    }

    /// True when a handover request from `from` may move this node: it comes from the
    /// coordinator (canary `no-peer-auth`: from anyone).
    pub fn accepts_failover_from(&self, from: NodeId) -> bool {
        self.config.coordinator == Some(from)
            || self.config.canary == Some(ReplicationCanary::NoPeerAuth)
    }

    fn on_message(&mut self, from: NodeId, msg: Message, out: &mut Vec<Output>) {
        // Canary `no-peer-auth`: the gate lets in whoever sends.
        let stranger = !self.config.members.contains(&from)
            && self.config.canary != Some(ReplicationCanary::NoPeerAuth);
        if from == self.id || stranger {
            self.stats.dropped_non_member += 1;
            return;
        }
        match msg {
            Message::Heartbeat { term, role, tail, commit } => {
                self.on_heartbeat(from, term, role, tail, commit, out)
            }
            Message::RequestVote { term, last, transfer } => {
                self.on_request_vote(from, term, last, transfer, out)
            }
            Message::VoteReply { term, granted } => self.on_vote_reply(from, term, granted, out),
            Message::Append { term, prev, entries, commit } => {
                self.on_append(from, term, prev, entries, commit, out)
            }
            Message::AppendAck { term, durable } => self.on_append_ack(from, term, durable, out),
            Message::SyncRequest { term, request_id, since, durable } => {
                self.on_sync_request(from, term, request_id, since, durable, out)
            }
            Message::SyncResponse { term, request_id, since, prev, entries, commit } => {
                self.on_sync_response(from, term, request_id, since, prev, entries, commit, out)
            }
            Message::SyncNack { term, request_id, since, reason } => {
                self.on_sync_nack(from, term, request_id, since, reason, out)
            }
        }
    }

    fn on_timer(&mut self, timer: ReplTimer, out: &mut Vec<Output>) {
        match timer {
            ReplTimer::Tick { generation } if generation == self.timers.tick => self.on_tick(out),
            ReplTimer::Election { generation } if generation == self.timers.election => {
                self.on_election_timer(out)
            }
            ReplTimer::SyncTimeout { request_id } => self.on_sync_timeout(request_id, out),
            ReplTimer::SyncBackoff { generation } if generation == self.timers.backoff => {
                self.on_backoff_over(out)
            }
            _ => {} // a stale firing: the timer was re-armed since
        }
    }

    // ---- accessors ------------------------------------------------------------------------

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }
    /// The settings it runs with.
    pub fn config(&self) -> &ReplicationConfig {
        &self.config
    }
    /// Leader, replica, candidate or idle.
    pub fn role(&self) -> Role {
        self.role
    }
    /// The node's current term (the canary `election-without-term-bump` leads in an old one).
    pub fn current_term(&self) -> u64 {
        self.current_term
    }
    /// The vote cast in the current term.
    pub fn voted_for(&self) -> Option<NodeId> {
        self.voted_for
    }
    /// The leader this node follows (itself when leading).
    pub fn leader(&self) -> Option<NodeId> {
        self.leader
    }
    /// The log as the node works with it.
    pub fn log(&self) -> &Log {
        &self.log
    }
    /// The log a crash would leave: what the confirmed `Persist` records rebuild.
    pub fn durable_log(&self) -> &Log {
        &self.durable.log
    }
    /// The highest position that is both durable and in the working log (what the node
    /// reports as appended): the entries up to it survive a crash unchanged.
    pub fn durable_tail(&self) -> LogPosition {
        let durable = &self.durable.log;
        let floor = self.log.base().index.max(durable.base().index);
        let mut index = self.log.last_index().min(durable.last_index());
        while index >= floor {
            match (self.log.term_at(index), durable.term_at(index)) {
                (Some(a), Some(b)) if a == b => return LogPosition { term: a, index },
                _ if index == 0 => break,
                _ => index -= 1,
            }
        }
        LogPosition::ZERO
    }
    /// The highest index known committed (on a majority's durable logs, via a leader of the
    /// entry's term). Never decreases while the node runs.
    pub fn commit_index(&self) -> u64 {
        self.commit_index
    }
    /// Writes this node acknowledged in this incarnation whose entries it still retains.
    /// Drivers that check `AckedWritesDurable` should collect [`Output::Ack`] instead.
    pub fn acked_writes(&self) -> &[AckedWrite] {
        &self.acked
    }
    /// Event counters.
    pub fn stats(&self) -> &ReplicationStats {
        &self.stats
    }
    /// True while frozen for a handover (a leader that mints nothing).
    pub fn frozen(&self) -> bool {
        self.frozen
    }

    /// The handover it last froze for (0: none since it started).
    pub fn frozen_for(&self) -> u64 {
        self.frozen_for
    }
    /// The log's tail when this node last became leader, before its barrier entry: what a
    /// promoted target held of the old primary's log.
    pub fn led_from(&self) -> LogPosition {
        self.led_from
    }
    /// `Persist` outputs still waiting for their `Persisted`.
    pub fn unsynced_persists(&self) -> usize {
        self.unsynced.len()
    }
    /// While leading: each replica's highest durable index counted, by member.
    pub fn matched(&self) -> Option<&BTreeMap<NodeId, u64>> {
        self.leading.as_ref().map(|leading| &leading.matched)
    }
    /// The sync requests awaiting an answer, as (leader asked, term, request id).
    pub fn outstanding_requests(&self) -> impl Iterator<Item = (NodeId, u64, u64)> + '_ {
        self.sync.outstanding.iter().map(|o| (o.to, o.term, o.request_id))
    }
    /// How many sync request ids this incarnation handed out.
    pub fn requests_handed_out(&self) -> u64 {
        self.sync.next_request_id - 1
    }

    // ---- helpers for the protocol modules -------------------------------------------------

    pub(super) fn canary(&self, canary: ReplicationCanary) -> bool {
        self.config.canary == Some(canary)
    }

    /// The position this node counts (as leader) and reports (as replica) as appended: the
    /// durable tail. The canary `ack-before-durable` counts the working log instead.
    pub(super) fn acked_tail(&self) -> LogPosition {
        if self.canary(ReplicationCanary::AckBeforeDurable) {
            return self.log.last();
        }
        self.durable_tail()
    }

    /// States that the node takes spec action `action` now (see [`Output::Action`]).
    pub(super) fn declare(&self, action: Action, out: &mut Vec<Output>) {
        out.push(Output::Action(action));
    }

    pub(super) fn send(&self, to: NodeId, msg: Message, out: &mut Vec<Output>) {
        out.push(Output::Send { to, msg });
    }

    pub(super) fn broadcast(&self, msg: &Message, out: &mut Vec<Output>) {
        for to in self.config.members.iter().filter(|member| **member != self.id) {
            out.push(Output::Send { to: *to, msg: msg.clone() });
        }
    }

    /// The next timer generation, recorded by the caller as the kind's latest.
    pub(super) fn next_generation(&mut self) -> u64 {
        self.timers.next_generation += 1;
        self.timers.next_generation
    }

    pub(super) fn arm_tick(&mut self, out: &mut Vec<Output>) {
        let generation = self.next_generation();
        self.timers.tick = generation;
        let after_local_ns = self.config.heartbeat_interval_ns;
        out.push(Output::SetTimer { after_local_ns, timer: ReplTimer::Tick { generation } });
    }

    /// Asks the caller to make `records` durable; returns the persist id.
    pub(super) fn persist(&mut self, records: Vec<StableRecord>, out: &mut Vec<Output>) -> u64 {
        let id = self.next_persist_id;
        self.next_persist_id += 1;
        self.unsynced.push_back((id, records.clone()));
        out.push(Output::Persist { id, records });
        id
    }

    /// True when the persistence pipeline is full and optional work must wait.
    pub(super) fn persist_backlogged(&self) -> bool {
        self.unsynced.len() >= self.config.unsynced_persists_max
    }

    fn on_persisted(&mut self, through: u64, out: &mut Vec<Output>) {
        if through >= self.next_persist_id {
            self.stats.unknown_persisted += 1;
            return;
        }
        while self.unsynced.front().is_some_and(|(id, _)| *id <= through) {
            let (_, records) = self.unsynced.pop_front().expect("checked above");
            records.iter().for_each(|record| self.durable.apply(record));
        }
        let held = std::mem::take(&mut self.held);
        let (ready, waiting): (Vec<_>, Vec<_>) = held.into_iter().partition(|h| h.0 <= through);
        self.held = waiting;
        for (_, to, msg) in ready {
            self.send_grant(to, msg, out); // only vote grants wait for the disk
        }
        self.request_votes_once_durable(out);
        if self.role == Role::Leader {
            self.update_commit(out);
            self.release_acks(out);
        }
        self.report_progress(out);
    }

    /// Moves to a newer term: no vote in it yet, no leader known, any leadership or candidacy
    /// given up (unacknowledged writes are forgotten: their outcome is unknown to clients).
    pub(super) fn adopt_term(&mut self, term: u64, out: &mut Vec<Output>) {
        debug_assert!(term > self.current_term, "terms only move forward");
        self.declare(Action::UpdateTerm { n: self.id, t: term }, out);
        self.current_term = term;
        self.voted_for = None;
        if !self.canary(ReplicationCanary::TermNotDurable) {
            self.persist(vec![StableRecord::Vote { term, voted_for: None }], out);
        }
        self.leave_roles();
    }

    /// Learns of `term` from outside the replica set (a newer lease record): moves to it if it
    /// is newer, giving up any leadership.
    pub fn observe_term(&mut self, term: u64, out: &mut Vec<Output>) {
        if term > self.current_term {
            self.adopt_term(term, out);
        }
    }

    /// Stops leading, standing or following, in the current term: the node waits to hear of a
    /// leader or, missing one, stands. A frozen primary whose handover went silent does this.
    pub fn step_down(&mut self, out: &mut Vec<Output>) {
        self.declare(Action::StepDown { n: self.id }, out);
        self.leave_roles();
    }

    /// No role left in the current term (the part of stepping down that moving to a newer term
    /// shares).
    fn leave_roles(&mut self) {
        self.role = Role::Idle;
        self.leader = None;
        self.candidacy = None;
        self.leading = None;
        self.frozen = false;
        self.sync.forget_leader();
    }

    /// Follows `leader` of the current term.
    pub(super) fn follow(&mut self, leader: NodeId) {
        self.missed_ticks = 0;
        self.election_rounds = 0;
        if self.role == Role::Replica && self.leader == Some(leader) {
            return;
        }
        self.role = Role::Replica;
        self.leader = Some(leader);
        self.candidacy = None;
        self.leading = None;
        self.sync.forget_leader();
    }

    /// Raises the commit index to `index` (never lowers it) and applies retention.
    pub(super) fn advance_commit(&mut self, index: u64, out: &mut Vec<Output>) {
        if index <= self.commit_index {
            return;
        }
        self.commit_index = index;
        self.trim_to_retention(out);
    }
}
