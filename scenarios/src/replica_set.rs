//! The replica set's half of a checker, shared by `replication` and `cluster`: maps the
//! members onto `Replication.tla`'s variables every step, checks its invariants, and holds the
//! step against the actions the members declared (`SpecConformance`).

use crate::spec_check::check_step;
use crate::spec_trace::SpecTrace;
use model::promise::Promise;
use model::replication::{
    AckPolicy, DurableState, Node as Member, ReplicationConfig, ReplicationStats, StableRecord,
};
use model::spec::replication::{
    self as spec, Action, Change, Conformance, Env, History, ReplicationView, Step,
};
use sim::disk::Disk;
use sim::{Context, Node, Violation};

/// A member as a checker sees it: up (its state and the (index, term) of every write its
/// current incarnation acknowledged), or down; and its disk either way.
pub struct Seen<'a> {
    pub up: Option<(&'a Member, &'a [(u64, u64)])>,
    pub disk: &'a Disk<StableRecord>,
}

/// Brings `state`, what a member's disk would give back after a crash, up to the disk's
/// synced prefix, of which `folded` records are already in: the disk is append-only and its
/// synced prefix only grows, so folding each newly synced record once keeps the state exact at
/// a cost per record, not per step.
fn follow(state: &mut DurableState, folded: &mut usize, disk: &Disk<StableRecord>) {
    let synced = &disk.records()[..disk.synced_len()];
    for record in &synced[*folded..] {
        state.apply(record);
    }
    *folded = synced.len();
}

/// The spec's view of the replica set, refreshed every step (buffers reused).
pub struct ReplicaSetView {
    config: ReplicationConfig,
    /// Per member: how many of its current incarnation's acks the view holds.
    collected: Vec<usize>,
    /// Per member: the writes it acknowledged during the last step.
    new_acks: Vec<Vec<(u64, u64)>>,
    /// Per member: how many of its disk's records were synced when the view was last refreshed.
    synced_seen: Vec<usize>,
    /// Per member: how many synced records `durable` folded in when the view was last
    /// refreshed (no more: its durable log is unchanged).
    folded_seen: Vec<usize>,
    /// The actions the last step took that the kernel, not a member, drove: a crash, an fsync.
    inferred: Vec<Action>,
    conformance: Conformance,
    /// Per member: its state as recovered from disk while it is down (None while up).
    down: Vec<Option<Member>>,
    /// Per member: what its disk would give back after a crash now, and how many of its
    /// records that folds in.
    durable: Vec<DurableState>,
    folded: Vec<usize>,
    /// The spec's history variables: every entry committed, every vote granted.
    pub history: History,
    /// The spec's variables after the last step and the step before.
    pub current: ReplicationView,
    previous: ReplicationView,
    /// Per member: what the last step changed of its variables (compared once, in `refresh`).
    changes: Vec<Change>,
    /// The last step changed `acked`.
    acked_changed: bool,
    checked_once: bool,
}

impl ReplicaSetView {
    /// A view of the members of `config`; `transfers` when planned handovers run (the
    /// cluster), which `Replication.tla`'s `Transfers` allows.
    pub fn new(config: ReplicationConfig, ack_policy: AckPolicy, transfers: bool) -> Self {
        let members = config.members.len();
        let view = ReplicationView::new(members, ack_policy, transfers);
        ReplicaSetView {
            config,
            collected: vec![0; members],
            new_acks: vec![Vec::new(); members],
            synced_seen: vec![0; members],
            folded_seen: vec![usize::MAX; members],
            inferred: Vec::new(),
            conformance: Conformance::default(),
            down: vec![None; members],
            durable: vec![DurableState::default(); members],
            folded: vec![0; members],
            history: History::default(),
            previous: view.clone(),
            current: view,
            changes: vec![Change::default(); members],
            acked_changed: false,
            checked_once: false,
        }
    }

    /// Maps the members onto the spec's variables in `self.current`: collects new acks, counts
    /// crashes (the spec's `Crash` increments `restarts`), shows a down member as it would
    /// recover, and takes every durable log from the disk itself (what a crash would leave, not
    /// what the member believes it synced). Notes the kernel's actions: a member that went down
    /// took `Crash`, a disk that synced more took `Persisted`. Then records new commits in the
    /// history.
    pub fn refresh<'a>(&mut self, seen: impl Fn(u32) -> Seen<'a>) {
        self.previous.copy_from(&self.current, &self.changes);
        self.inferred.clear();
        let spec_view = &mut self.current;
        for n in 0..self.collected.len() {
            let id = n as u32;
            let restarts = self.previous.nodes[n].restarts;
            let Seen { up, disk } = seen(id);
            let log_changed;
            self.new_acks[n].clear();
            match up {
                Some((member, acked)) => {
                    if self.down[n].take().is_some() {
                        self.collected[n] = 0; // a new incarnation
                    }
                    self.new_acks[n].extend_from_slice(&acked[self.collected[n]..]);
                    spec_view.acked.extend_from_slice(&acked[self.collected[n]..]);
                    self.collected[n] = acked.len();
                    log_changed = spec_view.set_node(member, restarts);
                }
                None => {
                    if self.down[n].is_none() {
                        self.inferred.push(Action::Crash { n: id });
                    }
                    let restarts = restarts + u64::from(self.down[n].is_none());
                    let recovered = self.down[n].get_or_insert_with(|| {
                        let durable = &disk.records()[..disk.synced_len()];
                        Member::recover(self.config.clone(), id, durable)
                    });
                    log_changed = spec_view.set_node(recovered, restarts);
                }
            }
            let synced = disk.synced_len();
            if synced > self.synced_seen[n] {
                let k = synced - self.synced_seen[n];
                self.inferred.insert(0, Action::Persisted { n: id, k });
            }
            self.synced_seen[n] = synced;
            follow(&mut self.durable[n], &mut self.folded[n], disk);
            let folded_more = self.folded[n] != self.folded_seen[n];
            self.folded_seen[n] = self.folded[n];
            let unsynced = &disk.records()[synced..];
            let durable_changed = spec_view.set_disk(n, &self.durable[n], folded_more, unsynced);
            let logs = (log_changed, durable_changed);
            self.changes[n] = spec_view.nodes[n].change_from(&self.previous.nodes[n], logs);
        }
        self.history.record_commits(spec_view);
        // A write at or below the durable floor a majority has reached was trimmed, so
        // committed, on a majority for good (durable floors never fall): AckedWritesDurable
        // holds for it forever, and a lagging node that overwrote it would break
        // StateMachineSafety, whose history keeps every committed entry. Forgetting such writes
        // keeps both acked-write checks short even while a node lags far behind.
        let mut floors: Vec<u64> = spec_view.nodes.iter().map(|v| v.durable_floor).collect();
        floors.sort_unstable_by(|a, b| b.cmp(a));
        let majority_floor = floors.get(floors.len() / 2).copied().unwrap_or(0);
        let (acked_before, new_acks) = (spec_view.acked.len(), self.new_acks.iter());
        spec_view.acked.retain(|(index, _)| *index > majority_floor);
        let acked_new = new_acks.map(Vec::len).sum::<usize>() > 0;
        self.acked_changed = acked_new || spec_view.acked.len() < acked_before;
    }

    /// The last step changed no mapped variable of any member, nor `acked`.
    fn unchanged(&self) -> bool {
        self.checked_once && !self.acked_changed && !self.changes.iter().any(|c| c.any)
    }

    /// Member `id` as it would recover, while it is down.
    pub fn recovered(&self, id: u32) -> Option<&Member> {
        self.down[id as usize].as_ref()
    }

    /// Checks the spec's invariants and action properties on the refreshed view (skipped when
    /// nothing the spec sees changed: most steps are heartbeats), then holds the step against
    /// the actions taken: the kernel's first, then `declared`, in the order the members
    /// declared them (`SpecConformance`).
    pub fn check<'a>(
        &mut self,
        declared: impl Iterator<Item = &'a Action> + Clone,
        trace: Option<(&mut SpecTrace, u64)>,
    ) -> Result<(), Violation> {
        // The cause first: a step the spec does not allow, then the damage it did.
        self.check_actions(declared, trace)?;
        self.check_invariants()
    }

    /// `SpecConformance` alone (see [`ReplicaSetView::check`]); with `trace`, the step (its
    /// number given) goes into the spec trace first.
    pub fn check_actions<'a>(
        &mut self,
        declared: impl Iterator<Item = &'a Action> + Clone,
        trace: Option<(&mut SpecTrace, u64)>,
    ) -> Result<(), Violation> {
        if self.unchanged() && self.inferred.is_empty() && declared.clone().next().is_none() {
            return Ok(());
        }
        if let Some((trace, step)) = trace {
            trace.replication(step, self.inferred.iter(), declared.clone(), &self.current);
        }
        let env = Env {
            members: self.config.members.len(),
            ack_policy: self.current.ack_policy,
            transfers: self.current.transfers,
            history: &self.history,
        };
        let new_acks = &self.new_acks;
        let acks = |n: u32| new_acks[n as usize].as_slice();
        let step = Step { before: &self.previous, after: &self.current, changes: &self.changes };
        self.conformance
            .check(step, &self.inferred, declared, acks, &env)
            .map_err(|seen| Violation::new("SpecConformance", seen))
    }

    /// The invariants and action properties alone (see [`ReplicaSetView::check`]).
    pub fn check_invariants(&mut self) -> Result<(), Violation> {
        let read = self.acked_changed || self.changes.iter().any(|c| c.read_by_invariants);
        if self.checked_once && !read {
            return Ok(());
        }
        let (previous, next) = (self.checked_once.then_some(&self.previous), &self.current);
        check_step(spec::INVARIANTS, spec::ACTION_PROPERTIES, previous, next)?;
        for invariant in spec::HISTORY_INVARIANTS {
            (invariant.check)(next, &self.history)
                .map_err(|seen| Violation::new(invariant.name, seen))?;
        }
        self.checked_once = true;
        Ok(())
    }

    /// The actions the kernel drove in the last step (a crash, an fsync), as the spec names
    /// them: what a spec trace records before the members' own.
    pub fn inferred(&self) -> &[Action] {
        &self.inferred
    }

    /// Holds a promise member `from` made this step against what the disks would give back
    /// after a crash now (`DurablePromises`), and records a vote grant in the history
    /// (`OneVotePerTerm`). Other promises (the lease's) pass.
    pub fn check_promise<'a>(
        &mut self,
        from: u32,
        promise: &Promise,
        disk: impl Fn(u32) -> &'a Disk<StableRecord>,
    ) -> Result<(), Violation> {
        for (n, state) in self.durable.iter_mut().enumerate() {
            follow(state, &mut self.folded[n], disk(n as u32));
        }
        let durable = &self.durable;
        spec::durable_promises(durable, from, promise)
            .map_err(|seen| Violation::new("DurablePromises", seen))?;
        if let Promise::Vote { term, candidate } = promise.as_grant(from) {
            spec::one_vote_per_term(&mut self.history, from, term, candidate)
                .map_err(|seen| Violation::new("OneVotePerTerm", seen))?;
        }
        Ok(())
    }
}

/// Probes for the protocol's rarer paths, from the counters a step moved.
pub fn probe_stats<N: Node>(
    cx: &mut Context<'_, N>,
    before: &ReplicationStats,
    after: &ReplicationStats,
) {
    let moved = [
        (before.elections_started, after.elections_started, "election-started"),
        (before.truncations, after.truncations, "suffix-truncated"),
        (before.skip_aheads, after.skip_aheads, "skip-ahead"),
        (before.backoffs, after.backoffs, "sync-backoff"),
        (before.sync_timeouts, after.sync_timeouts, "sync-timeout"),
        (before.backpressure_sent, after.backpressure_sent, "backpressure-sent"),
        (before.rejected_appends, after.rejected_appends, "append-rejected"),
        (before.rejected_responses, after.rejected_responses, "sync-answer-rejected"),
        (before.contended_elections, after.contended_elections, "same-term-contention"),
        (before.dropped_non_member, after.dropped_non_member, "stranger-shut-out"),
    ];
    for (was, is, probe) in moved {
        if is > was {
            cx.sometimes(probe);
        }
    }
}
