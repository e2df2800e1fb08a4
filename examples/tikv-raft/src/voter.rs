//! A voter: tikv's `RawNode` with the Ready loop a raft-rs application writes, on the
//! simulator's clock, network and disk. Ticks come from a timer, messages from the network,
//! and each Ready is handled by raft-rs's rules for asynchronous persistence:
//!
//! 1. a leader's messages leave at once (raft thesis 10.2.1: it replicates while it persists);
//! 2. new entries and the hard state go to `MemStorage` and to the disk, and an fsync starts;
//! 3. the Ready's *persisted* messages (every message of a non-leader: votes, append acks)
//!    leave only once that fsync completes (`Context::send_when_synced`);
//! 4. committed entries are applied; the leader acknowledges its proposals to the client;
//! 5. `advance_append_async`, and `on_persist_ready` when the disk reports the sync, which
//!    is when the leader may count its own copy towards a commit.

use crate::canary::RaftCanary;
use crate::election::ElectionTimeout;
use crate::marks::Marks;
use crate::node::{node_of, raft_id, Msg, Promise, RaftNode};
use crate::recovery::{self, DiskRecord};
use fencepost::sim::time::millis;
use fencepost::sim::{Context, NodeId};
use raft::eraftpb::{Entry, Message};
use raft::storage::MemStorage;
use raft::{Config, Raft, RawNode, Ready, StateRole, Storage, INVALID_ID};
use std::collections::{BTreeMap, VecDeque};

/// How often a voter ticks raft, nanoseconds of its own clock.
pub const TICK_NS: u64 = millis(20);
/// Election timeout, ticks (raft draws each in `[ELECTION_TICKS, 2 * ELECTION_TICKS)`).
const ELECTION_TICKS: usize = 10;
/// Leader heartbeat interval, ticks.
const HEARTBEAT_TICKS: usize = 2;
/// The most Readies one event handles; more wait for the next event (a tick is never far).
const READY_ROUNDS_MAX: usize = 64;

/// One voter of the cluster.
pub struct Voter {
    raw: RawNode<MemStorage>,
    canary: Option<RaftCanary>,
    election: ElectionTimeout,
    /// Readies written to the disk and not yet synced: (disk length covering them, number).
    persisting: VecDeque<(usize, u64)>,
    /// Writes this voter proposed as leader, with the client to acknowledge when they apply.
    proposed: BTreeMap<u64, NodeId>,
    /// The last entry applied to the state machine.
    applied: u64,
    /// Booted from a disk that held records (a restart).
    restarted: bool,
}

fn config(id: NodeId) -> Config {
    Config {
        id: raft_id(id),
        election_tick: ELECTION_TICKS,
        heartbeat_tick: HEARTBEAT_TICKS,
        max_size_per_msg: 64 * 1024,
        max_inflight_msgs: 256,
        check_quorum: true,
        pre_vote: true,
        ..Config::default()
    }
}

impl Voter {
    /// Builds the voter from what survived on its disk and starts its ticks.
    pub fn boot(cx: &mut Context<'_, RaftNode>, canary: Option<RaftCanary>) -> Voter {
        let storage = recovery::recover(cx);
        let restarted = !cx.disk().records().is_empty();
        if restarted {
            cx.sometimes("restarted-from-disk");
        }
        let logger = slog::Logger::root(slog::Discard, slog::o!());
        let mut raw = RawNode::new(&config(cx.id()), storage, &logger).expect("a valid config");
        let election = ElectionTimeout::new(&mut raw.raft, cx.rng());
        cx.set_timer(TICK_NS, 0);
        Voter {
            raw,
            canary,
            election,
            persisting: VecDeque::new(),
            proposed: BTreeMap::new(),
            applied: 0,
            restarted,
        }
    }

    /// The raft state machine, for the checks.
    pub fn raft(&self) -> &Raft<MemStorage> {
        &self.raw.raft
    }

    /// The last entry applied to the state machine.
    pub fn applied(&self) -> u64 {
        self.applied
    }

    /// A logical clock tick.
    pub fn tick(&mut self, cx: &mut Context<'_, RaftNode>) {
        self.raw.tick();
        cx.set_timer(TICK_NS, 0);
        self.handle_readies(cx);
    }

    /// A raft message from a peer. raft's errors are verdicts on stale or foreign messages
    /// (a peer it does not know, say): the message is dropped, as TiKV does.
    pub fn step(&mut self, cx: &mut Context<'_, RaftNode>, message: Message) {
        let _ = self.raw.step(message);
        self.handle_readies(cx);
    }

    /// The client's write: proposed if this voter leads, else redirected.
    pub fn propose(&mut self, cx: &mut Context<'_, RaftNode>, client: NodeId, write: u64) {
        let leads = self.raw.raft.state == StateRole::Leader;
        if leads && self.raw.propose(Vec::new(), write.to_be_bytes().to_vec()).is_ok() {
            self.proposed.insert(write, client);
        } else {
            let leader = self.raw.raft.leader_id;
            let leader = (leader != INVALID_ID).then(|| node_of(leader));
            cx.send(client, Msg::Redirect { write, leader });
        }
        self.handle_readies(cx);
    }

    /// An fsync completed (the kernel has just sent the messages held for it): tell raft
    /// which Readies are durable, and handle what that unblocked.
    pub fn on_disk_synced(&mut self, cx: &mut Context<'_, RaftNode>, durable_len: usize) {
        self.persisted(durable_len);
        self.handle_readies(cx);
    }

    /// The Ready loop.
    fn handle_readies(&mut self, cx: &mut Context<'_, RaftNode>) {
        self.election.pin(&mut self.raw.raft, cx.rng());
        for _ in 0..READY_ROUNDS_MAX {
            if !self.raw.has_ready() {
                return;
            }
            let mut ready = self.raw.ready();
            self.note_leadership(cx, &ready);
            for message in ready.take_messages() {
                send(cx, message);
            }
            self.persist(cx, &ready);
            let after_fsync = ready.take_persisted_messages();
            let committed = ready.take_committed_entries();
            let number = ready.number();
            self.raw.advance_append_async(ready);
            for message in after_fsync {
                self.send_when_persisted(cx, message);
            }
            self.apply(cx, committed);
            self.persisting.push_back((cx.disk().records().len(), number));
            self.persisted(cx.disk().synced_len());
        }
    }

    fn note_leadership(&mut self, cx: &mut Context<'_, RaftNode>, ready: &Ready) {
        if ready.ss().is_none_or(|soft| soft.raft_state != StateRole::Leader) {
            return;
        }
        cx.sometimes("leader-elected");
        cx.moment("became-leader");
        if self.canary == Some(RaftCanary::PlantedPanic) && self.restarted {
            panic!("planted: n{} took the lead after restarting from its disk", cx.id());
        }
    }

    /// Writes the Ready's entries and hard state to storage and disk, and starts an fsync.
    fn persist(&mut self, cx: &mut Context<'_, RaftNode>, ready: &Ready) {
        let entries = ready.entries();
        if let Some(first) = entries.first() {
            let last = self.raw.store().last_index().expect("MemStorage always answers");
            if first.index <= last {
                cx.sometimes("suffix-overwritten");
            }
            self.raw.mut_store().wl().append(entries).expect("raft hands entries in order");
            cx.disk().append(DiskRecord::Entries(entries.clone()));
        }
        if let Some(state) = ready.hs() {
            self.raw.mut_store().wl().set_hardstate(state.clone());
            cx.disk().append(DiskRecord::HardState(state.clone()));
        }
        if !entries.is_empty() || ready.hs().is_some() {
            cx.sync_disk();
        }
    }

    /// Sends a message raft allows out only once the Ready before it is durable.
    fn send_when_persisted(&mut self, cx: &mut Context<'_, RaftNode>, message: Message) {
        let marks = Marks::of(&self.raw.raft, &message);
        if self.canary == Some(RaftCanary::AckBeforeFsync) {
            marks.declare(cx);
            return send(cx, message);
        }
        let to = node_of(message.to);
        cx.send_when_synced_declaring(
            to,
            Msg::Raft(Box::new(message)),
            marks.promise,
            marks.moment,
        );
    }

    /// Tells raft every Ready whose records are within the first `durable_len` is durable.
    fn persisted(&mut self, durable_len: usize) {
        let mut durable = None;
        while let Some(&(needed, number)) = self.persisting.front() {
            if needed > durable_len {
                break;
            }
            durable = Some(number);
            self.persisting.pop_front();
        }
        if let Some(number) = durable {
            self.raw.on_persist_ready(number);
        }
    }

    /// Applies committed entries; the leader that proposed a write acknowledges it.
    fn apply(&mut self, cx: &mut Context<'_, RaftNode>, committed: Vec<Entry>) {
        let Some(last) = committed.last() else { return };
        let last = last.index;
        for entry in committed {
            let Some(write) = write_of(&entry) else { continue };
            if let Some(client) = self.proposed.remove(&write) {
                let (index, term) = (entry.index, entry.term);
                let leader_term = self.raw.raft.term;
                cx.promise(Promise::Acked { write, index, term, leader_term });
                cx.send(client, Msg::Ack { write, index, term });
                cx.moment("write-acked");
            }
        }
        self.applied = last;
        self.raw.advance_apply_to(last);
    }

    /// "leader t3" and the like, for trace viewers: a band per role and term.
    pub fn label(&self) -> String {
        let raft = &self.raw.raft;
        format!("{} t{}", format!("{:?}", raft.state).to_lowercase(), raft.term)
    }
}

/// The client's write an entry carries, if any (a new leader's first entry is empty).
pub fn write_of(entry: &Entry) -> Option<u64> {
    let bytes: [u8; 8] = entry.data.as_ref().try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

fn send(cx: &mut Context<'_, RaftNode>, message: Message) {
    cx.send(node_of(message.to), Msg::Raft(Box::new(message)));
}
