//! A stranger on the replica set's network: a node that is not a member and sends members every
//! kind of replication message, made up (a heartbeat claiming leadership in a high term, sync
//! answers carrying its own entries, nacks, votes, failover requests) or replayed from traffic
//! it overheard. Members must drop all of it at their peer-authentication gate; the scenario
//! checks after every step that no member's state moved because of it.

use model::failover::Request;
use model::replication::{Entry, LogPosition, Message, NackReason, Node as Member, Role};
use sim::rng::Stream;
use sim::time::millis;
use sim::NodeId;

/// What an intruder sends: a replication message, or a failover request (which, in the cluster,
/// only the coordinator may send).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Intrusion {
    /// A peer message, as a member would send it.
    Peer(Message),
    /// A handover request, as the coordinator would send it.
    Failover(Request),
}

/// The intruder's state: what it overheard and the highest term it has seen.
#[derive(Clone, Debug)]
pub struct Intruder {
    members: u32,
    /// The last messages it overheard, newest last (bounded).
    overheard: Vec<Message>,
    highest_term: u64,
    sent: u64,
}

/// The most overheard messages an intruder keeps.
const OVERHEARD_MAX: usize = 32;
/// The most messages an intruder sends in a run (its budget: enough to try every kind many
/// times, few enough to cost the run little).
const SENDS_MAX: u64 = 400;

impl Intruder {
    /// An intruder among `members` members (ids `0..members`).
    pub fn new(members: u32) -> Intruder {
        Intruder { members, overheard: Vec::new(), highest_term: 0, sent: 0 }
    }

    /// Keeps a copy of a message it overheard on the wire.
    pub fn overhear(&mut self, msg: Message) {
        self.highest_term = self.highest_term.max(msg.term());
        if self.overheard.len() == OVERHEARD_MAX {
            self.overheard.remove(0);
        }
        self.overheard.push(msg);
    }

    /// How long until its next attempt, local nanoseconds (none once its budget is spent).
    pub fn next_wait_ns(&self, rng: &mut Stream) -> Option<u64> {
        (self.sent < SENDS_MAX).then(|| rng.between(millis(5), millis(60)))
    }

    /// Its next attempt: a member to send to and what to send. `failover` says whether the
    /// scenario has a coordinator whose requests it may forge.
    pub fn next(&mut self, rng: &mut Stream, failover: bool) -> (NodeId, Intrusion) {
        self.sent += 1;
        let to = rng.below(self.members.into()) as NodeId;
        let kinds = if failover { 11 } else { 9 };
        let intrusion = match rng.below(kinds) {
            0 if !self.overheard.is_empty() => Intrusion::Peer(
                self.overheard[rng.below(self.overheard.len() as u64) as usize].clone(),
            ),
            kind if kind >= 9 => Intrusion::Failover(self.forged_request(rng)),
            kind => Intrusion::Peer(self.made_up(kind, rng)),
        };
        (to, intrusion)
    }

    /// A term a little above anything it has seen: what a stranger claims to be taken seriously.
    fn high_term(&self, rng: &mut Stream) -> u64 {
        self.highest_term + rng.between(1, 5)
    }

    /// Entries of its own making, from index 1, in `term`.
    fn own_entries(term: u64, rng: &mut Stream) -> Vec<Entry> {
        let count = rng.between(1, 4);
        (1..=count)
            .map(|index| Entry { index, term, write_id: None, payload: rng.below(1 << 32) })
            .collect()
    }

    fn made_up(&self, kind: u64, rng: &mut Stream) -> Message {
        let term = self.high_term(rng);
        let tail = LogPosition { term, index: rng.between(1, 50) };
        let request_id = rng.below(64);
        match kind {
            1 => Message::Heartbeat { term, role: Role::Leader, tail, commit: tail.index },
            2 => Message::RequestVote { term, last: tail, transfer: rng.coin() },
            3 => Message::VoteReply { term: self.highest_term.max(1), granted: true },
            4 => {
                let entries = Intruder::own_entries(term, rng);
                let commit = entries.len() as u64;
                Message::Append { term, prev: LogPosition::ZERO, entries, commit }
            }
            5 => Message::AppendAck { term: self.highest_term.max(1), durable: tail },
            6 => Message::SyncRequest { term, request_id, since: 0, durable: tail },
            7 => {
                let entries = Intruder::own_entries(term, rng);
                let commit = entries.len() as u64;
                let prev = LogPosition::ZERO;
                Message::SyncResponse { term, request_id, since: 0, prev, entries, commit }
            }
            _ => {
                let reason = match rng.below(3) {
                    0 => NackReason::BadRange { first_retained: tail.index, base_term: term },
                    1 => NackReason::NotLeader,
                    _ => NackReason::Backpressure,
                };
                Message::SyncNack { term, request_id, since: 0, reason }
            }
        }
    }

    fn forged_request(&self, rng: &mut Stream) -> Request {
        let handover = rng.below(1 << 16);
        let term = self.high_term(rng);
        match rng.below(6) {
            0 => Request::Freeze { handover },
            1 => Request::ReadFrontier { handover },
            2 => Request::QueryProgress { handover },
            3 => {
                let new_primary = rng.below(self.members.into()) as NodeId;
                Request::Demote { handover, new_primary, term }
            }
            4 => Request::Promote { handover, term },
            _ => Request::Resume { handover },
        }
    }
}

/// What of a member an intruder's message must never move: its term, vote, log tail, commit
/// index, role and the leader it follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Untouchable {
    term: u64,
    voted_for: Option<NodeId>,
    tail: LogPosition,
    commit: u64,
    role: Role,
    leader: Option<NodeId>,
}

impl Untouchable {
    /// The parts of `member` an intruder must not move.
    pub fn of(member: &Member) -> Untouchable {
        Untouchable {
            term: member.current_term(),
            voted_for: member.voted_for(),
            tail: member.log().last(),
            commit: member.commit_index(),
            role: member.role(),
            leader: member.leader(),
        }
    }

    /// Describes what moved between `self` (before) and `after`, if anything.
    pub fn moved(&self, after: &Untouchable) -> Option<String> {
        if self == after {
            return None;
        }
        Some(format!("{self:?} became {after:?}"))
    }
}

/// A member driver's side of a stranger on the network: it lets the stranger overhear some of
/// what the member sends, and notes if a stranger's message ever moved the member.
#[derive(Clone, Debug, Default)]
pub struct Tap {
    /// The stranger's id, when the run has one.
    stranger: Option<NodeId>,
    sent: u64,
    /// What a stranger's message moved in this member, the first time one did.
    pub moved: Option<String>,
}

/// The stranger overhears one message in this many a member sends.
const OVERHEARD_ONE_IN: u64 = 4;

impl Tap {
    /// A tap for a run whose stranger is `stranger` (None: no stranger, nothing to do).
    pub fn new(stranger: Option<NodeId>) -> Tap {
        Tap { stranger, ..Tap::default() }
    }

    /// Where to copy the message the member sends now, if the stranger overhears it.
    pub fn overheard_by(&mut self) -> Option<NodeId> {
        let stranger = self.stranger?;
        self.sent += 1;
        self.sent.is_multiple_of(OVERHEARD_ONE_IN).then_some(stranger)
    }

    /// Notes what a message from the stranger `from` (`what`) moved in the member, from
    /// `before` to `after`, if anything: the peer-authentication gate should have dropped it.
    pub fn judge(&mut self, from: NodeId, what: &str, before: Untouchable, after: Untouchable) {
        if self.moved.is_none() {
            if let Some(moved) = before.moved(&after) {
                self.moved =
                    Some(format!("a message from the stranger n{from} ({what}) moved it: {moved}"));
            }
        }
    }
}

/// `PeerAuthentication`: no member's term, vote, log, commit index, role or leader ever moved
/// because of a stranger's message. `tap(id)` is member `id`'s tap while it is up.
pub fn check_untouched<'a>(
    members: u32,
    tap: impl Fn(NodeId) -> Option<&'a Tap>,
) -> Result<(), sim::Violation> {
    for id in 0..members {
        if let Some(moved) = tap(id).and_then(|tap| tap.moved.as_ref()) {
            return Err(sim::Violation::new("PeerAuthentication", format!("n{id}: {moved}")));
        }
    }
    Ok(())
}
