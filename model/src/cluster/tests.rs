//! A member driven by hand: a one-member replica set (it elects itself), a store kept in a
//! field, every timer and fsync answered at once.

use super::*;
use crate::failover::Reply;
use crate::lease::LeaseRecord;
use crate::replication::ReplTimer;

const MS: u64 = 1_000_000;

struct Driver {
    member: Member,
    now: u64,
    /// The lease record and its version.
    stored: Option<(Vec<u8>, u64)>,
    tick: Option<ReplTimer>,
    out: Vec<Output>,
}

/// The coordinator's id in these tests.
const COORDINATOR: crate::NodeId = 9;

impl Driver {
    fn new() -> Driver {
        let replication =
            ReplicationConfig { coordinator: Some(COORDINATOR), ..ReplicationConfig::new(vec![0]) };
        let lease = LeaseConfig {
            key: "lease".into(),
            id: 0,
            ttl_ns: 1_000 * MS,
            safety_margin_ns: 100 * MS,
            renew_interval_ns: 250 * MS,
            canary: None,
        };
        let config = MemberConfig {
            replication,
            lease,
            freeze_ttl_ns: 3_000 * MS,
            lease_retry_ns: 100 * MS,
        };
        let node = Node::new(config.replication.clone(), 0);
        let mut d = Driver {
            member: Member::new(config, node),
            now: 0,
            stored: None,
            tick: None,
            out: vec![],
        };
        let mut out = Vec::new();
        d.member.start(0, &mut out);
        d.settle(out);
        d
    }

    /// Answers fsyncs and store requests at once, remembers the heartbeat tick, and keeps every
    /// other output for the test to read.
    fn settle(&mut self, mut out: Vec<Output>) {
        while let Some(output) = (!out.is_empty()).then(|| out.remove(0)) {
            let input = match output {
                Output::Replication(replication::Output::Persist { id, .. }) => {
                    Input::Replication(replication::Input::Persisted { through: id })
                }
                Output::Replication(replication::Output::SetTimer { timer, .. }) => {
                    if matches!(timer, ReplTimer::Tick { .. }) {
                        self.tick = Some(timer);
                    }
                    continue;
                }
                Output::Store { request_id, request } => {
                    Input::Store { request_id, reply: self.store(request) }
                }
                other => {
                    self.out.push(other);
                    continue;
                }
            };
            let mut more = Vec::new();
            self.member.handle(self.now, input, &mut more);
            out.extend(more);
        }
    }

    fn store(&mut self, request: StoreRequest) -> StoreReply {
        let version = self.stored.as_ref().map(|(_, v)| *v);
        match request {
            StoreRequest::Get { .. } => {
                StoreReply::Got { object: self.stored.clone(), store_time_ns: self.now }
            }
            StoreRequest::PutIfAbsent { value, .. } if version.is_none() => {
                self.stored = Some((value, 1));
                StoreReply::Written { version: 1 }
            }
            StoreRequest::PutIfVersion { value, version: asked, .. } if version == Some(asked) => {
                self.stored = Some((value, asked + 1));
                StoreReply::Written { version: asked + 1 }
            }
            _ => StoreReply::ConditionFailed,
        }
    }

    fn feed(&mut self, input: Input) {
        self.out.clear();
        let mut out = Vec::new();
        self.member.handle(self.now, input, &mut out);
        self.settle(out);
    }

    /// Advances local time by `ms` and fires the heartbeat tick.
    fn tick(&mut self, ms: u64) {
        self.now += ms * MS;
        let tick = self.tick.expect("a tick is armed");
        self.feed(Input::Replication(replication::Input::Timer(tick)));
    }

    fn write(&mut self, write_id: u64) {
        self.feed(Input::Replication(replication::Input::ClientWrite { write_id, payload: 7 }));
    }

    fn record(&self) -> LeaseRecord {
        LeaseRecord::decode(&self.stored.as_ref().expect("a record").0).expect("well formed")
    }

    /// Stores a lease of node 5 in term 0, expiring at `expires_at`.
    fn held_by_another(&mut self, expires_at: u64) {
        let (holder, term, generation, acquired_at) = (5, 0, 3, 0);
        let record =
            LeaseRecord { key: "lease".into(), holder, term, generation, acquired_at, expires_at };
        self.stored = Some((record.encode(), 9));
    }

    /// Elects the member (three missed ticks) and lets it take the lease.
    fn elected(&mut self) {
        for _ in 0..4 {
            self.tick(100);
        }
        assert_eq!(self.member.node().role(), Role::Leader);
    }
}

#[test]
fn a_leader_mints_only_once_it_holds_the_lease_in_its_own_term() {
    let mut d = Driver::new();
    d.write(1);
    assert!(matches!(d.out[..], [Output::Replication(replication::Output::Reject { .. })]));
    d.elected();
    let term = d.member.node().current_term();
    assert_eq!((d.record().holder, d.record().term), (0, term), "acquired under its term");
    let token = d.member.primary_token(d.now).expect("the primary");
    let before = d.member.node().log().last_index();
    d.write(2);
    let minted = d.member.node().log().last_index();
    assert_eq!(minted, before + 1);
    assert!(d.out.contains(&Output::FencedWrite { token, payload: minted }), "{:?}", d.out);
}

#[test]
fn only_the_primary_answers_a_freeze_and_a_frozen_one_steps_down_when_it_runs_out() {
    let mut d = Driver::new();
    let freeze = |handover| {
        let request = Request::Freeze { handover };
        Input::Replication(replication::Input::Failover { from: COORDINATOR, request })
    };
    d.feed(freeze(1));
    let not_primary = Reply::NotPrimary { handover: 1, leader_hint: None };
    assert!(d.out.contains(&Output::Replication(replication::Output::Failover(not_primary))));
    d.elected();
    d.feed(freeze(2));
    assert!(d.member.node().frozen() && !d.member.mints(d.now));
    let expiry = MemberTimer::FreezeExpired { handover: 2 };
    assert!(d.out.contains(&Output::SetTimer { after_local_ns: 3_000 * MS, timer: expiry }));
    d.feed(Input::Timer(MemberTimer::FreezeExpired { handover: 1 }));
    assert_eq!(d.member.node().role(), Role::Leader, "another handover's expiry does nothing");
    d.feed(Input::Timer(expiry));
    assert_ne!(d.member.node().role(), Role::Leader);
    assert_eq!(d.member.lease().held_record(), None, "stepping down gives the lease up");
    assert_eq!(d.record().expires_at, d.record().acquired_at, "released: marked expired");
}

#[test]
fn a_promoted_member_takes_a_live_lease_over_and_answers_only_once_it_holds_it() {
    let mut d = Driver::new();
    d.held_by_another(u64::MAX); // live for ever: only a takeover gets past it
    let promote = Request::Promote { handover: 4, term: 1 };
    d.feed(Input::Replication(replication::Input::Failover {
        from: COORDINATOR,
        request: promote,
    }));
    assert_eq!(d.member.node().role(), Role::Leader, "a one-member set elects at once");
    let record = d.record();
    assert_eq!((record.holder, record.term, record.generation), (0, 1, 4), "taken over");
    let promoted = d.out.iter().any(|o| {
        matches!(o, Output::Replication(replication::Output::Failover(Reply::Promoted { .. })))
    });
    assert!(promoted && d.member.mints(d.now));
}

#[test]
fn a_normal_election_waits_out_a_live_lease() {
    let mut d = Driver::new();
    d.held_by_another(1_000 * MS);
    d.elected(); // at 400 ms: the lease is still live
    assert_eq!(d.record().holder, 5);
    assert!(!d.member.mints(d.now));
    for _ in 0..7 {
        d.tick(100);
    }
    assert_eq!(d.record().holder, 0, "taken once it expired");
    assert!(d.member.mints(d.now));
}
