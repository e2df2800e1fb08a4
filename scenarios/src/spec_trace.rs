//! A run's spec trace: for each step, the spec actions its nodes took (declared, and inferred
//! by the checkers) with their arguments, and the spec's mapped variables after the step, one
//! JSON object a line, as TLC's trace validation reads them (`tla/Trace*.tla`, the Json
//! module's `ndJsonDeserialize`). Node ids are the spec's: the simulator's plus one (the specs
//! keep 0 for Nil). Lease times are microseconds from the clocks' 1,000 s epoch (TLC's
//! integers are 32 bits). Kept only by captured runs, so it costs nothing otherwise.

use model::lease::FencingToken;
use model::replication::Role;
use model::spec::failover::{self as handover, Handover, HandoverVars};
use model::spec::lease::{self as lease, LeaseView, RecordView};
use model::spec::replication::{self as replication, DiskRecord, NodeVars, ReplicationView};
use serde_json::{json, Value};

/// The lines of a run's spec trace.
#[derive(Clone, Debug, Default)]
pub struct SpecTrace {
    lines: Vec<String>,
    /// Handover ids as the trace numbers them (TLC's integers are 32 bits), in order met.
    handovers: Vec<u64>,
    /// The modules whose header is written.
    modules: Vec<Value>,
}

/// A spec node id: the simulator's plus one.
fn id(n: u32) -> u32 {
    n + 1
}

fn opt_id(n: Option<u32>) -> u32 {
    n.map_or(0, id)
}

/// Writes `lines` as one step's: the last carries `state`. A module's first step is preceded
/// by a header naming the module and how many nodes its spec's `Nodes` has.
fn push_step(trace: &mut SpecTrace, step: u64, mut lines: Vec<Value>, state: Value, nodes: usize) {
    let module = lines.first().map(|line| line["module"].clone()).unwrap_or_default();
    if !trace.modules.contains(&module) {
        trace.lines.push(json!({"module": module, "action": "Header", "nodes": nodes}).to_string());
        trace.modules.push(module);
    }
    if let Some(last) = lines.last_mut() {
        last["state"] = state;
    }
    for mut line in lines {
        line["step"] = json!(step);
        trace.lines.push(line.to_string());
    }
}

impl SpecTrace {
    /// The trace so far, one JSON object a line.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// A replica-set step: the actions taken (`inferred` first, then `declared`), `after` the
    /// mapped state.
    pub fn replication<'a, 'b>(
        &mut self,
        step: u64,
        inferred: impl Iterator<Item = &'a replication::Action>,
        declared: impl Iterator<Item = &'b replication::Action>,
        after: &ReplicationView,
    ) {
        let lines: Vec<Value> =
            inferred.map(replication_line).chain(declared.map(replication_line)).collect();
        if !lines.is_empty() {
            push_step(self, step, lines, replication_state(after), after.nodes.len());
        }
    }

    /// A lease step: the clocks (`Tick`), then the actions (`inferred` first), `after` the
    /// mapped state.
    pub fn lease<'a, 'b>(
        &mut self,
        step: u64,
        inferred: impl Iterator<Item = &'a lease::Action>,
        declared: impl Iterator<Item = &'b lease::Action>,
        after: &LeaseView,
    ) {
        let mut lines: Vec<Value> =
            inferred.map(lease_line).chain(declared.map(lease_line)).collect();
        if lines.is_empty() {
            return;
        }
        let local: Vec<i64> = after.local.iter().map(|t| micros(*t)).collect();
        let tick =
            json!({"module": "Lease", "action": "Tick", "now": micros(after.now), "local": local});
        lines.insert(0, tick);
        push_step(self, step, lines, lease_state(after), after.held.len());
    }

    /// A handover step: `primary` as the step found it (`Env`: the replica set's and the
    /// lease's actions change it), then `actions`, `after` the mapped state.
    pub fn failover<'a>(
        &mut self,
        step: u64,
        primary: &[bool],
        actions: impl Iterator<Item = &'a handover::Action>,
        after: &HandoverVars,
    ) {
        let mut lines: Vec<Value> = actions.map(|a| self.failover_line(a)).collect();
        if lines.is_empty() {
            return;
        }
        lines.insert(0, json!({"module": "Failover", "action": "Env", "primary": primary}));
        let state = self.failover_state(after);
        push_step(self, step, lines, state, after.frozen.len());
    }

    /// The trace's number for handover `id`.
    fn handover(&mut self, id: u64) -> usize {
        match self.handovers.iter().position(|h| *h == id) {
            Some(at) => at + 1,
            None => {
                self.handovers.push(id);
                self.handovers.len()
            }
        }
    }
}

fn replication_line(action: &replication::Action) -> Value {
    use replication::Action as A;
    let mut line = match action {
        A::UpdateTerm { n, t } | A::StandTransfer { n, t } => json!({"n": id(*n), "t": t}),
        A::RequestVotes { n, transfer } => json!({"n": id(*n), "transfer": transfer}),
        A::GrantVote { n, m } => json!({"n": id(*n), "from": id(m.from), "term": m.term,
            "lastIndex": m.last_index, "lastTerm": m.last_term, "transfer": m.transfer}),
        A::SendGrant { n, c, t } => json!({"n": id(*n), "c": id(*c), "t": t}),
        A::ReceiveGrant { n, from, term } => json!({"n": id(*n), "from": id(*from), "term": term}),
        A::Follow { n, m } | A::LeadersMeet { n, m } => json!({"n": id(*n), "from": id(m.from),
            "term": m.term, "tailIndex": m.tail_index, "tailTerm": m.tail_term, "commit": m.commit}),
        A::FollowPromoted { n, q } => json!({"n": id(*n), "q": id(*q)}),
        A::Persisted { n, k } => json!({"n": id(*n), "k": k}),
        A::CountAppended { n, m } => json!({"n": id(*n), "from": id(m.from), "term": m.term,
            "index": m.index, "last": m.last}),
        A::AdvanceCommit { n, i } | A::AckWrite { n, i } | A::Trim { n, i } => {
            json!({"n": id(*n), "i": i})
        }
        A::Push { l, n, p } => json!({"n": id(*l), "to": id(*n), "p": p}),
        A::ReceiveAppend { n, m, apply } => {
            let mut line = entries_line(*n, m);
            line["apply"] = json!(apply);
            line
        }
        A::ReceiveSyncResponse { n, m } => entries_line(*n, m),
        A::RequestSync { n, since } => json!({"n": id(*n), "since": since}),
        A::ForgetRequest { n, id: request } => json!({"n": id(*n), "id": request}),
        A::AnswerSync { l, m } => json!({"n": id(*l), "from": id(m.from), "term": m.term,
            "id": m.id, "since": m.since}),
        A::ReceiveBadRange { n, m } => json!({"n": id(*n), "from": id(m.from), "term": m.term,
            "id": m.id, "since": m.since, "floor": m.floor, "floorTerm": m.floor_term}),
        A::Timeout { n }
        | A::StepDown { n }
        | A::Stand { n }
        | A::BecomeLeader { n }
        | A::Heartbeat { n }
        | A::ClientWrite { n }
        | A::ReportProgress { n }
        | A::Crash { n } => json!({"n": id(*n)}),
    };
    line["module"] = json!("Replication");
    line["action"] = json!(action.name());
    line
}

fn entries_line(n: u32, m: &replication::EntriesMsg) -> Value {
    json!({"n": id(n), "from": id(m.from), "term": m.term, "id": m.id, "prev": m.prev,
        "prevTerm": m.prev_term, "entries": m.entries, "commit": m.commit})
}

fn role(role: Role) -> &'static str {
    match role {
        Role::Leader => "Leader",
        Role::Replica => "Replica",
        Role::Candidate => "Candidate",
        Role::Idle => "Idle",
    }
}

/// A record as the spec's `Record` shapes it (a trim's and a reset's term are 0 there; a
/// reset's base is the leader's prefix, which the trace leaves out).
fn record(record: &DiskRecord) -> Value {
    let (kind, index, term, vote) = match *record {
        DiskRecord::Vote { term, vote } => ("Vote", 0, term, opt_id(vote)),
        DiskRecord::Entry { index, term } => ("Entry", index, term, 0),
        DiskRecord::Truncate { after } => ("Truncate", after, 0, 0),
        DiskRecord::Trim { floor, .. } => ("Trim", floor, 0, 0),
        DiskRecord::Reset { floor, .. } => ("Reset", floor, 0, 0),
    };
    json!({"kind": kind, "index": index, "term": term, "vote": vote, "base": []})
}

fn terms(log: &[(u64, u64)]) -> Vec<u64> {
    log.iter().map(|(_, term)| *term).collect()
}

fn replication_state(view: &ReplicationView) -> Value {
    let nodes = &view.nodes;
    let each = |f: &dyn Fn(&NodeVars) -> Value| -> Vec<Value> { nodes.iter().map(f).collect() };
    json!({
        "role": each(&|v| json!(role(v.role))),
        "currentTerm": each(&|v| json!(v.current_term)),
        "votedFor": each(&|v| json!(opt_id(v.voted_for))),
        "leader": each(&|v| json!(opt_id(v.leader))),
        "log": each(&|v| json!(terms(&v.log))),
        "floor": each(&|v| json!(v.log_floor)),
        "floorTerm": each(&|v| json!(v.floor_term)),
        "commitIndex": each(&|v| json!(v.commit_index)),
        "unsynced": each(&|v| json!(v.unsynced.iter().map(record).collect::<Vec<_>>())),
        "durableLog": each(&|v| json!(terms(&v.durable_log))),
        "durableFloor": each(&|v| json!(v.durable_floor)),
        "durableFloorTerm": each(&|v| json!(v.durable_floor_term)),
        "durableVote": each(&|v| json!([v.durable_vote.0, opt_id(v.durable_vote.1)])),
        "matched": each(&|v| json!(v.matched)),
        "outstanding": each(&|v| json!(v.outstanding.iter()
            .map(|(to, term, request)| json!({"to": id(*to), "term": term, "id": request}))
            .collect::<Vec<_>>())),
        "nextRequest": each(&|v| json!(v.next_request)),
        "restarts": each(&|v| json!(v.restarts)),
    })
}

/// Nanoseconds on a clock counting from the 1,000 s epoch, as microseconds from the epoch.
fn micros(ns: u64) -> i64 {
    (ns as i64 - 1_000_000_000_000) / 1_000
}

fn token(t: &FencingToken) -> Value {
    json!([t.term, t.generation])
}

fn lease_record(w: &RecordView) -> Value {
    json!({"holder": id(w.holder), "term": w.token.term, "gen": w.token.generation,
        "expires": micros(w.expires)})
}

fn lease_line(action: &lease::Action) -> Value {
    use lease::Action as A;
    let mut line = match action {
        A::AcquireWrite { n, t, e, .. } | A::Takeover { n, t, e, .. } => {
            json!({"n": id(*n), "t": t, "e": micros(*e)})
        }
        A::Acquired { n, w } | A::Renewed { n, w } => json!({"n": id(*n), "w": lease_record(w)}),
        A::RenewWrite { n, tok, e } | A::ReleaseWrite { n, tok, e } => {
            json!({"n": id(*n), "tok": token(tok), "e": micros(*e)})
        }
        A::RenewStale { n } | A::Release { n } | A::Crash { n } => json!({"n": id(*n)}),
        A::FencedWrite { n, token: t } => json!({"n": id(*n), "token": token(t)}),
        A::Deliver { from, w } => json!({"from": id(*from), "w": token(w)}),
    };
    line["module"] = json!("Lease");
    line["action"] = json!(action.name());
    line
}

fn lease_state(view: &LeaseView) -> Value {
    let record = view
        .record
        .map_or(json!({"holder": 0, "term": 0, "gen": 0, "expires": 0}), |w| lease_record(&w));
    let held: Vec<Value> =
        view.held.iter().map(|h| h.map_or(json!([0, 0]), |h| token(&h.token))).collect();
    // NoBelief is the trace spec's -(MaxSkew + 1), MaxSkew a billion microseconds.
    let belief: Vec<i64> =
        view.held.iter().map(|h| h.map_or(-1_000_000_001, |h| micros(h.belief))).collect();
    let last = view.last_accepted.map_or(json!([0, 0]), |t| token(&t));
    json!({"record": record, "held": held, "belief": belief, "lastAccepted": last})
}

fn phase(phase: handover::Phase) -> &'static str {
    match phase {
        handover::Phase::Idle => "Idle",
        handover::Phase::Freezing => "Freezing",
        handover::Phase::CatchUp => "CatchUp",
        handover::Phase::Demoting => "Demoting",
        handover::Phase::Promoting => "Promoting",
        handover::Phase::Resuming => "Resuming",
    }
}

impl SpecTrace {
    fn failover_line(&mut self, action: &handover::Action) -> Value {
        use handover::Action as A;
        let mut answer =
            |a: &handover::Answer| json!({"from": id(a.from), "id": self.handover(a.id)});
        let mut line = match *action {
            A::StartHandover { id: h, p, q, mode } => {
                json!({"id": self.handover(h), "p": id(p), "q": id(q), "mode": format!("{mode:?}")})
            }
            A::Freeze { p, id: h } | A::RefuseFreeze { p, id: h } | A::Unfreeze { p, id: h } => {
                json!({"p": id(p), "id": self.handover(h)})
            }
            A::AnswerProgress { q, id: h } => json!({"q": id(q), "id": self.handover(h)}),
            A::DemoteMember { p, id: h, term } => {
                json!({"p": id(p), "id": self.handover(h), "term": term})
            }
            A::TakeOver { q, id: h, term } => {
                json!({"q": id(q), "id": self.handover(h), "term": term})
            }
            A::CatchUp { a, term, frontier, frontier_term } => {
                let mut line = answer(&a);
                line["term"] = json!(term);
                line["frontier"] = json!(frontier);
                line["frontierTerm"] = json!(frontier_term);
                line
            }
            A::NotPrimary { a } | A::Resumed { a } | A::Overtaken { a } => answer(&a),
            A::Progress { a, index, last } => {
                let mut line = answer(&a);
                line["index"] = json!(index);
                line["last"] = json!(last);
                line
            }
            A::Promote { a, committed } => {
                let mut line = a.map_or(json!({"from": 0, "id": 0}), |a| answer(&a));
                // NoCommit is the spec's MaxIndex + 1; a billion in the trace.
                line["committed"] = json!(committed.unwrap_or(1_000_000_001));
                line["answered"] = json!(a.is_some());
                line
            }
            A::RefuseForce { a, committed } => {
                let mut line = answer(&a);
                line["committed"] = json!(committed);
                line
            }
            A::HandedOver { a, term, led_from, reported } => {
                let mut line = answer(&a);
                line["term"] = json!(term);
                line["ledFrom"] = json!(led_from);
                line["reported"] = json!(reported);
                line
            }
            A::GiveUp { reported } => json!({"reported": reported.map_or(-1, |r| r as i64)}),
            A::FreezeExpired { p } => json!({"p": id(p)}),
            A::Expire { n } | A::ClientWrite { n } | A::FencedWrite { n } => json!({"n": id(n)}),
            A::Demote | A::Resume | A::CoordinatorCrash => json!({}),
        };
        line["module"] = json!("Failover");
        line["action"] = json!(action.name());
        line
    }

    fn failover_state(&mut self, after: &HandoverVars) -> Value {
        let Handover { id: h, phase: p, from, to, mode, term, frontier, frontier_term, reached } =
            after.ho;
        let number = if p == handover::Phase::Idle { 0 } else { self.handover(h) };
        let ho = json!({"id": number, "phase": phase(p), "from": id(from), "to": id(to),
            "mode": mode.map_or("Coordinated".to_string(), |m| format!("{m:?}")),
            "term": term, "frontier": frontier, "frontierTerm": frontier_term, "reached": reached});
        json!({"ho": ho, "frozen": after.frozen})
    }
}
