//! `replication`: 3 or 5 members of a replica set elect a leader and replicate a client's
//! writes, under swarm faults: partitions (the leader's included), loss, duplication,
//! reordering, crashes with torn or unsynced log tails, pauses and clock error. Checked after
//! every step: `ElectionSafety`, `LogMatching`, `AckedWritesDurable`, `NoAckedWriteLost` and
//! `MonotonicCommit`. Liveness: once faults heal, one leader leads and every member holds its
//! tail.
//!
//! `replication-leader-ack` is the same system acknowledging writes once the leader alone has
//! them: it is expected to lose acknowledged writes on failover (`NoAckedWriteLost`).
//!
//! The client is the last node, outside the replica set and out of the faults' reach: it sends
//! writes to the member it believes leads and follows the members' redirects.

use crate::intruder::{Intruder, Tap, Untouchable};
use crate::replica_set::{probe_stats, ReplicaSetView, Seen};
use crate::spec_trace::SpecTrace;
use model::moment::Moment;
use model::promise::Promise;
use model::replication::{
    AckPolicy, Input, Message, Node as Member, Output, ReplTimer, ReplicationCanary,
    ReplicationConfig, Role, StableRecord,
};
use model::spec::replication::Action;
use sim::aim;
use sim::faults::{FaultKind, FaultPlan, SwarmProfile};
use sim::rng::Stream;
use sim::time::{millis, secs};
use sim::{Context, Node, NodeId, RunLimits, Scenario, View, Violation};
use std::collections::VecDeque;

/// Messages: the protocol's, and the client's traffic with the members.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ReplMsg {
    Peer(Message),
    Write {
        write_id: u64,
        payload: u64,
    },
    Acked {
        write_id: u64,
        index: u64,
        term: u64,
    },
    Rejected {
        write_id: u64,
        leader_hint: Option<NodeId>,
    },
    /// A copy of a member's message that the stranger overheard on the wire.
    Overheard(Message),
}

/// A member as the simulator drives it: the real state machine plus the disk glue.
#[derive(Clone, Debug)]
pub struct MemberDriver {
    pub member: Member,
    /// Persist id -> the disk length once its records are appended, oldest first.
    persists: VecDeque<(u64, usize)>,
    /// (index, term) of every write this incarnation acknowledged, for the checks to collect.
    pub acked: Vec<(u64, u64)>,
    client: NodeId,
    /// The stranger's view of this member's traffic, and what its messages moved here.
    pub tap: Tap,
}

/// The client: sends a write every few tens of milliseconds to the member it believes leads.
#[derive(Clone, Debug, Default)]
pub struct Client {
    members: u32,
    leader_guess: NodeId,
    next_write_id: u64,
    /// The plan's cap on writes.
    writes_max: u64,
    pub acked: u64,
}

/// A node of the replication scenario.
#[derive(Clone, Debug)]
pub enum ReplNode {
    Member(Box<MemberDriver>),
    Client(Client),
    /// A node on the network that is no member (`FaultKind::Stranger`).
    Stranger(Intruder),
}

impl MemberDriver {
    fn drive(&mut self, cx: &mut Context<'_, ReplNode>, input: Input) {
        let before = self.member.stats().clone();
        let mut out = Vec::new();
        self.member.handle(cx.now_local_ns(), input, &mut out);
        for output in out {
            self.carry_out(cx, output);
        }
        probe_stats(cx, &before, self.member.stats());
    }

    fn carry_out(&mut self, cx: &mut Context<'_, ReplNode>, output: Output) {
        if let Some(promise) = output.promise(self.member.config().ack_policy) {
            cx.promise(promise);
        }
        match output {
            Output::Send { to, msg } => {
                if let Some(stranger) = self.tap.overheard_by() {
                    cx.send(stranger, ReplMsg::Overheard(msg.clone()));
                }
                cx.send(to, ReplMsg::Peer(msg))
            }
            Output::SetTimer { after_local_ns, timer } => cx.set_timer(after_local_ns, timer.tag()),
            Output::Persist { id, records } => {
                for record in records {
                    cx.disk().append(record);
                }
                self.persists.push_back((id, cx.disk().records().len()));
                cx.sync_disk();
            }
            Output::Ack { write_id, index, term } => {
                cx.sometimes("write-acked");
                self.acked.push((index, term));
                cx.send(self.client, ReplMsg::Acked { write_id, index, term });
            }
            Output::Failover(_) | Output::FailoverAction(_) => {} // no coordinator here
            Output::Moment(moment) => {
                cx.moment_at(moment.name(), moment.target().unwrap_or(cx.id()))
            }
            Output::Reject { write_id, leader_hint } => {
                cx.sometimes("write-redirected");
                cx.send(self.client, ReplMsg::Rejected { write_id, leader_hint });
            }
            Output::Action(action) => cx.action(action),
        }
    }

    fn on_synced(&mut self, cx: &mut Context<'_, ReplNode>, durable_len: usize) {
        let mut through = None;
        while self.persists.front().is_some_and(|(_, len)| *len <= durable_len) {
            through = self.persists.pop_front().map(|(id, _)| id);
        }
        if let Some(through) = through {
            self.drive(cx, Input::Persisted { through });
        }
    }
}

impl Client {
    fn tick(&mut self, cx: &mut Context<'_, ReplNode>) {
        if self.next_write_id >= self.writes_max {
            return; // the plan's cap is reached: the client is done
        }
        self.next_write_id += 1;
        let payload = cx.rng().below(1 << 32);
        cx.send(self.leader_guess, ReplMsg::Write { write_id: self.next_write_id, payload });
        let next = cx.rng().between(millis(10), millis(60));
        cx.set_timer(next, 0);
    }

    fn on_reply(&mut self, cx: &mut Context<'_, ReplNode>, from: NodeId, msg: ReplMsg) {
        match msg {
            ReplMsg::Acked { .. } => {
                self.acked += 1;
                self.leader_guess = from;
            }
            ReplMsg::Rejected { leader_hint: Some(hint), .. } => self.leader_guess = hint,
            // No useful hint: try another member.
            ReplMsg::Rejected { .. } => {
                self.leader_guess = cx.rng().below(self.members.into()) as u32
            }
            _ => {}
        }
    }
}

impl Node for ReplNode {
    type Msg = ReplMsg;
    type Value = ();
    type Record = StableRecord;
    type Promise = Promise;
    type Action = Action;

    /// The derived `Hash`: faster than the default `Debug` text, and the hashes the tests pin.
    fn hash_message(msg: &Self::Msg, hasher: &mut sim::trace::StableHasher) {
        std::hash::Hash::hash(msg, hasher);
    }

    fn hash_value(value: &Self::Value, hasher: &mut sim::trace::StableHasher) {
        std::hash::Hash::hash(value, hasher);
    }

    fn on_message(&mut self, cx: &mut Context<'_, Self>, from: NodeId, msg: ReplMsg) {
        match (self, msg) {
            (ReplNode::Member(m), ReplMsg::Peer(msg))
                if !m.member.config().members.contains(&from) =>
            {
                let (what, before) = (format!("{msg:?}"), Untouchable::of(&m.member));
                m.drive(cx, Input::Message { from, msg });
                m.tap.judge(from, &what, before, Untouchable::of(&m.member));
            }
            (ReplNode::Member(m), ReplMsg::Peer(msg)) => m.drive(cx, Input::Message { from, msg }),
            (ReplNode::Stranger(stranger), ReplMsg::Overheard(msg)) => stranger.overhear(msg),
            (ReplNode::Member(m), ReplMsg::Write { write_id, payload }) => {
                m.drive(cx, Input::ClientWrite { write_id, payload })
            }
            (ReplNode::Client(client), reply) => client.on_reply(cx, from, reply),
            _ => {}
        }
    }

    fn on_timer(&mut self, cx: &mut Context<'_, Self>, tag: u64) {
        match self {
            ReplNode::Member(m) => m.drive(cx, Input::Timer(ReplTimer::from_tag(tag))),
            ReplNode::Client(client) => client.tick(cx),
            ReplNode::Stranger(stranger) => {
                let (to, intrusion) = stranger.next(cx.rng(), false);
                if let crate::intruder::Intrusion::Peer(msg) = intrusion {
                    cx.send(to, ReplMsg::Peer(msg));
                }
                if let Some(wait) = stranger.next_wait_ns(cx.rng()) {
                    cx.set_timer(wait, 0);
                }
            }
        }
    }

    fn on_disk_synced(&mut self, cx: &mut Context<'_, Self>, durable_len: usize) {
        if let ReplNode::Member(m) = self {
            m.on_synced(cx, durable_len);
        }
    }

    fn label(&self) -> Option<String> {
        let m = match self {
            ReplNode::Member(m) => m,
            ReplNode::Client(_) => return Some("client".to_string()),
            ReplNode::Stranger(_) => return Some("stranger".to_string()),
        };
        let node = &m.member;
        let role = format!("{:?}", node.role()).to_lowercase();
        let tail = node.log().last();
        Some(format!("{role} t{} tail {}@t{}", node.current_term(), tail.index, tail.term))
    }
}

/// The replication scenario: its size, policy and canary, and the checker's view.
pub struct ReplicationScenario {
    pub members: u32,
    /// The client's writes at most (the plan's cap; unbounded by default).
    pub writes_max: u64,
    /// Every member's settings.
    pub config: ReplicationConfig,
    /// A stranger joins the network, as node `members + 1` (the plan's `stranger`).
    pub stranger: bool,
    view: ReplicaSetView,
    /// The run's spec trace, when it is kept (captured runs).
    pub trace: Option<SpecTrace>,
}

impl ReplicationScenario {
    /// A scenario of `size` members, or as many as the seed's `workload` stream says (3 or 5).
    pub fn new(
        seed: u64,
        size: Option<u32>,
        ack_policy: AckPolicy,
        canary: Option<ReplicationCanary>,
    ) -> Self {
        let drawn = if Stream::fork(seed, "workload").coin() { 3 } else { 5 };
        let members = size.unwrap_or(drawn);
        let timing = election_timing(seed);
        // Small retention and sync batches, so trimming, skip-ahead and backpressure happen
        // within a run; a patient sync timeout, so a request outlives a change of leader
        // (which is when the checks on an answer's sender and channel matter).
        let config = ReplicationConfig {
            sync_timeout_ns: secs(2),
            retain_entries_max: 64,
            sync_entries_max: 32,
            sync_responses_per_interval_max: 8,
            ack_policy,
            canary,
            election_retry_ns: timing.retry_ns,
            election_stagger_ns: timing.stagger_ns,
            best_stands_at_once: timing.best_stands_at_once,
            ..ReplicationConfig::new((0..members).collect())
        };
        let view = ReplicaSetView::new(config.clone(), ack_policy, false);
        let stranger = false;
        ReplicationScenario { members, writes_max: u64::MAX, config, stranger, view, trace: None }
    }
}

impl Scenario for ReplicationScenario {
    type Node = ReplNode;

    fn node_count(&self) -> u32 {
        self.members + 1 + u32::from(self.stranger)
    }

    fn boot(&self, id: NodeId, cx: &mut Context<'_, ReplNode>) -> ReplNode {
        if id == self.members + 1 {
            cx.set_timer(millis(200), 0);
            return ReplNode::Stranger(Intruder::new(self.members));
        }
        if id == self.members {
            cx.set_timer(millis(500), 0);
            let writes_max = self.writes_max;
            return ReplNode::Client(Client {
                members: self.members,
                writes_max,
                ..Client::default()
            });
        }
        if cx.disk().torn_tail() {
            cx.disk().discard_torn_tail();
            cx.sometimes("torn-tail-discarded");
        }
        let member = Member::recover(self.config.clone(), id, cx.disk().records());
        let client = self.members;
        let stranger = self.stranger.then_some(self.members + 1);
        let tap = Tap::new(stranger);
        let (persists, acked) = (VecDeque::new(), Vec::new());
        let mut driver = MemberDriver { member, persists, acked, client, tap };
        let mut out = Vec::new();
        driver.member.start(cx.now_local_ns(), &mut out);
        for output in out {
            driver.carry_out(cx, output);
        }
        ReplNode::Member(Box::new(driver))
    }

    fn check(&mut self, view: &View<'_, ReplNode>) -> Result<(), Violation> {
        crate::intruder::check_untouched(self.members, |id| match view.node(id) {
            Some(ReplNode::Member(m)) => Some(&m.tap),
            _ => None,
        })?;
        self.view.refresh(|id| Seen {
            up: match view.node(id) {
                Some(ReplNode::Member(m)) => Some((&m.member, &m.acked)),
                _ => None,
            },
            disk: view.disk(id),
        });
        let trace = self.trace.as_mut().map(|trace| (trace, view.step()));
        self.view.check(view.actions().iter().map(|(_, action)| action), trace)
    }

    fn check_promises(
        &mut self,
        view: &View<'_, ReplNode>,
        promises: &[(NodeId, Promise)],
    ) -> Result<(), Violation> {
        for (from, promise) in promises {
            self.view.check_promise(*from, promise, |id| view.disk(id))?;
        }
        Ok(())
    }

    fn converged(&mut self, view: &View<'_, ReplNode>) -> Result<(), Violation> {
        let members: Vec<&Member> = (0..self.members)
            .filter_map(|id| match view.node(id) {
                Some(ReplNode::Member(m)) => Some(&m.member),
                _ => None,
            })
            .collect();
        let leaders: Vec<&&Member> = members.iter().filter(|m| m.role() == Role::Leader).collect();
        let [leader] = leaders[..] else {
            return Err(Violation::new(
                "SingleLeaderEmerges",
                format!("{} leaders", leaders.len()),
            ));
        };
        let tail = leader.log().last();
        let behind: Vec<NodeId> = members
            .iter()
            .filter(|m| m.leader() != Some(leader.id()) || m.log().last() != tail)
            .map(|m| m.id())
            .collect();
        if members.len() < self.members as usize || !behind.is_empty() {
            let observed = format!("n{} leads at {tail:?}; behind it: {behind:?}", leader.id());
            return Err(Violation::new("ReplicasCatchUp", observed));
        }
        Ok(())
    }
}

/// Election timing per seed: usually the defaults (the best candidate stands at once, the
/// others after a 300 ms retry staggered by 150 ms a rank); one seed in three clusters the
/// timeouts (nobody stands at once, a retry of 10 to 100 ms, a stagger of 2 to 20 ms, under a
/// vote's round trip and fsync), so that two or more candidates stand in one term and split its
/// votes until the widening wait separates them. Drawn from a `config` stream of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElectionTiming {
    pub retry_ns: u64,
    pub stagger_ns: u64,
    pub best_stands_at_once: bool,
}

/// The seed's election timing (see [`ElectionTiming`]).
pub fn election_timing(seed: u64) -> ElectionTiming {
    let defaults = ReplicationConfig::new(vec![0]);
    let mut rng = Stream::fork(seed, "config");
    if rng.below(3) == 0 {
        let retry_ns = rng.between(millis(10), millis(100));
        let stagger_ns = rng.between(millis(2), millis(20));
        ElectionTiming { retry_ns, stagger_ns, best_stands_at_once: false }
    } else {
        ElectionTiming {
            retry_ns: defaults.election_retry_ns,
            stagger_ns: defaults.election_stagger_ns,
            best_stands_at_once: true,
        }
    }
}

/// The moments aimed faults may strike in a replica set: the kernel's (an fsync under way, a
/// message just sent) and the members' (an election stood, a vote granted, a catch-up request
/// sent, which strikes the leader it went to, and a catch-up answer sent).
pub const MOMENTS: &[&str] = &[
    aim::FSYNC_WINDOW,
    aim::AFTER_SEND,
    Moment::Election.name(),
    Moment::VoteGranted.name(),
    Moment::NAMES[3], // sync-requested: the leader a catch-up request went to
    Moment::SyncAnswered.name(),
];

/// Faults: every kind but the object store's (the replica set does not use it). Crashes tear
/// unsynced tails; fsyncs vary per seed and per node, with slow outliers, so crashes do find
/// unsynced records; aimed strikes hit fsyncs under way, sends, elections and vote grants.
pub fn swarm_profile(members: u32) -> SwarmProfile {
    let kinds = [
        &FaultKind::NETWORK[..],
        &FaultKind::PROCESS,
        &[FaultKind::ClockDrift, FaultKind::ClockJump, FaultKind::TornWrite],
        &[FaultKind::SlowFsync, FaultKind::AimedStrike, FaultKind::Stranger],
    ]
    .concat();
    let mut profile = SwarmProfile::new(members, kinds);
    profile.window_ns = secs(15);
    profile.faults_max = 10;
    profile.drift_ppm_max = 10_000;
    profile.clock_offset_ns_max = millis(500);
    profile.clock_jump_ns_max = secs(1);
    profile.disruption_ns_max = secs(3);
    profile.moments = MOMENTS.to_vec();
    profile
}

/// The seed's swarm plan.
pub fn plan(seed: u64, members: u32) -> FaultPlan {
    FaultPlan::swarm(&mut Stream::fork(seed, "faults"), &swarm_profile(members))
}

/// 20 s of faults, then up to 10 s to elect one leader and catch every member up.
pub fn limits() -> RunLimits {
    RunLimits::phases(secs(20), secs(10))
}
