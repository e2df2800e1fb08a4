//! Behaviour tests, driven by hand: each feeds one node inputs and asserts what comes out.

mod canaries;
mod catchup;
mod election;
mod handover;
mod writes;

use super::*;

pub(super) const SECOND: u64 = 1_000_000_000;

/// The coordinator's id in these tests (no member has it).
pub(super) const COORDINATOR: NodeId = 9;

pub(super) fn config(members: u32) -> ReplicationConfig {
    ReplicationConfig {
        coordinator: Some(COORDINATOR),
        ..ReplicationConfig::new((0..members).collect())
    }
}

pub(super) fn entry(index: u64, term: u64) -> Entry {
    Entry { index, term, write_id: Some(index), payload: index }
}

pub(super) fn pos(term: u64, index: u64) -> LogPosition {
    LogPosition { term, index }
}

/// Records that rebuild a log of the given terms (index 1 on) in `term`.
pub(super) fn records(term: u64, terms: &[u64]) -> Vec<StableRecord> {
    let mut records = vec![StableRecord::Vote { term, voted_for: None }];
    let entries = terms.iter().enumerate().map(|(i, t)| entry(i as u64 + 1, *t));
    records.extend(entries.map(StableRecord::Entry));
    records
}

/// One node, its outputs and every record it asked to persist.
pub(super) struct Driver {
    pub(super) node: Node,
    pub(super) out: Vec<Output>,
    /// Every `Persist` so far, in order.
    pub(super) journal: Vec<(u64, Vec<StableRecord>)>,
    pub(super) synced_through: u64,
    /// The latest timer of each kind that was set.
    pub(super) timers: Vec<(u64, ReplTimer)>,
}

impl Driver {
    pub(super) fn new(config: ReplicationConfig, id: NodeId) -> Driver {
        Driver::recover(config, id, &[])
    }

    pub(super) fn recover(
        config: ReplicationConfig,
        id: NodeId,
        durable: &[StableRecord],
    ) -> Driver {
        let node = Node::recover(config, id, durable);
        let journal = vec![(0, durable.to_vec())];
        let mut driver =
            Driver { node, out: Vec::new(), journal, synced_through: 0, timers: vec![] };
        let mut out = Vec::new();
        driver.node.start(0, &mut out);
        driver.record(&out);
        driver
    }

    fn record(&mut self, out: &[Output]) {
        for output in out {
            match output {
                Output::Persist { id, records } => self.journal.push((*id, records.clone())),
                Output::SetTimer { after_local_ns, timer } => {
                    let kind = timer.tag() & 3;
                    self.timers.retain(|(_, t)| t.tag() & 3 != kind);
                    self.timers.push((*after_local_ns, *timer));
                }
                _ => {}
            }
        }
        self.out = out.to_vec();
    }

    pub(super) fn feed(&mut self, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        self.node.handle(0, input, &mut out);
        self.record(&out);
        out
    }

    pub(super) fn msg(&mut self, from: NodeId, msg: Message) -> Vec<Output> {
        self.feed(Input::Message { from, msg })
    }

    /// The latest timer of the kind `sample` has (its payload is ignored), with its delay.
    pub(super) fn timer(&self, sample: ReplTimer) -> (u64, ReplTimer) {
        let kind = sample.tag() & 3;
        *self.timers.iter().find(|(_, t)| t.tag() & 3 == kind).expect("a timer of that kind")
    }

    pub(super) fn fire(&mut self, sample: ReplTimer) -> Vec<Output> {
        let (_, timer) = self.timer(sample);
        self.feed(Input::Timer(timer))
    }

    pub(super) fn tick(&mut self) -> Vec<Output> {
        self.fire(ReplTimer::Tick { generation: 0 })
    }

    /// Confirms every persist so far.
    pub(super) fn persist_all(&mut self) -> Vec<Output> {
        let through = self.journal.last().map_or(0, |(id, _)| *id);
        self.synced_through = through;
        self.feed(Input::Persisted { through })
    }

    /// The records a crash now would leave.
    pub(super) fn durable_records(&self) -> Vec<StableRecord> {
        let synced = self.journal.iter().filter(|(id, _)| *id <= self.synced_through);
        synced.flat_map(|(_, records)| records.clone()).collect()
    }

    pub(super) fn crash_and_recover(&mut self) {
        let config = self.node.config().clone();
        let (id, durable) = (self.node.id(), self.durable_records());
        *self = Driver::recover(config, id, &durable);
    }

    /// Drives an idle node through an election it wins with `granted` votes (its own included).
    pub(super) fn elect(&mut self, granted: &[NodeId]) {
        while self.node.role() != Role::Candidate {
            self.tick();
        }
        self.persist_all();
        let (term, id) = (self.node.current_term(), self.node.id());
        for voter in granted.iter().filter(|v| **v != id) {
            self.msg(*voter, Message::VoteReply { term, granted: true });
        }
        self.persist_all();
        assert_eq!(self.node.role(), Role::Leader, "the election was won");
    }
}

/// The messages in `out`, as (to, message).
pub(super) fn sent(out: &[Output]) -> Vec<(NodeId, Message)> {
    let sends = out.iter().filter_map(|o| match o {
        Output::Send { to, msg } => Some((*to, msg.clone())),
        _ => None,
    });
    sends.collect()
}

/// The messages in `out` that are not heartbeats.
pub(super) fn sent_non_heartbeat(out: &[Output]) -> Vec<(NodeId, Message)> {
    let not_heartbeat = |(_, m): &(NodeId, Message)| !matches!(m, Message::Heartbeat { .. });
    sent(out).into_iter().filter(not_heartbeat).collect()
}

/// The records persisted in `out`.
pub(super) fn persisted(out: &[Output]) -> Vec<StableRecord> {
    let records = out.iter().filter_map(|o| match o {
        Output::Persist { records, .. } => Some(records.clone()),
        _ => None,
    });
    records.flatten().collect()
}

/// The acknowledgements in `out`, as (write_id, index, term).
pub(super) fn acks(out: &[Output]) -> Vec<(u64, u64, u64)> {
    let acks = out.iter().filter_map(|o| match o {
        Output::Ack { write_id, index, term } => Some((*write_id, *index, *term)),
        _ => None,
    });
    acks.collect()
}

/// A leader's heartbeat.
pub(super) fn leader_heartbeat(term: u64, tail: LogPosition) -> Message {
    Message::Heartbeat { term, role: Role::Leader, tail, commit: 0 }
}

#[test]
fn timer_tags_round_trip() {
    for timer in [
        ReplTimer::Tick { generation: 7 },
        ReplTimer::Election { generation: 1 << 40 },
        ReplTimer::SyncTimeout { request_id: 3 },
        ReplTimer::SyncBackoff { generation: 0 },
    ] {
        assert_eq!(ReplTimer::from_tag(timer.tag()), timer);
    }
}

#[test]
fn recover_replays_entries_truncations_skips_and_the_vote() {
    let mut durable = records(3, &[1, 1, 2]);
    durable.push(StableRecord::Truncate { after_index: 2 });
    durable.push(StableRecord::Entry(entry(3, 3)));
    durable.push(StableRecord::Vote { term: 3, voted_for: Some(2) });
    let node = Node::recover(config(3), 1, &durable);
    assert_eq!((node.current_term(), node.voted_for()), (3, Some(2)));
    assert_eq!(node.log().last(), pos(3, 3));
    assert_eq!(node.role(), Role::Idle);
    durable.push(StableRecord::Reset { base: pos(3, 9) });
    let node = Node::recover(config(3), 1, &durable);
    assert_eq!(node.log().last(), pos(3, 9));
    assert_eq!(node.commit_index(), 9, "what lies before the base is committed");
}

#[test]
fn the_durable_tail_lags_until_persisted() {
    let mut d = Driver::recover(config(3), 1, &records(1, &[1, 1]));
    d.msg(0, Message::Append { term: 2, prev: pos(1, 1), entries: vec![entry(2, 2)], commit: 0 });
    assert_eq!(d.node.log().last(), pos(2, 2));
    assert_eq!(d.node.durable_tail(), pos(1, 1), "the replaced entry is durable, not current");
    assert_eq!(d.node.durable_log().last(), pos(1, 2));
    d.persist_all();
    assert_eq!(d.node.durable_tail(), pos(2, 2));
}
