//! The actions of `SessionLease.tla`'s `Next`, each an executable step on the mapped variables:
//! its guard, then its effect. The nodes declare theirs ([`Action::Open`], [`Action::Locked`],
//! [`Action::Led`], [`Action::Refreshed`], [`Action::ValidationFails`], [`Action::StepDown`],
//! [`Action::Write`]; the resource's [`Action::Deliver`]); the store's steps
//! ([`Action::TryLock`], [`Action::Preempt`], [`Action::TakeWrite`], [`Action::RefreshWrite`],
//! [`Action::EndSession`]) and a crash (a [`Action::StepDown`]) are the checker's to infer.

use super::{Role, RowView, SessionLeaseView};
use crate::session_lease::SessionLeaseCanary;
use crate::session_store::SessionId;
use crate::spec::{require, Taken};
use crate::NodeId;
use std::fmt;

/// Every action of `Next` mirrored here.
pub const ACTIONS: &[&str] = &[
    "Open",
    "EndSession",
    "TryLock",
    "Locked",
    "Preempt",
    "TakeWrite",
    "Led",
    "RefreshWrite",
    "Refreshed",
    "ValidationFails",
    "StepDown",
    "Write",
    "Deliver",
];

/// The actions of `Next` the implementation never takes, with why.
pub const NOT_TAKEN: &[(&str, &str)] = &[
    ("Tick", "time is the environment's: every step moves the store's and the nodes' clocks"),
    ("Halt", "the model's time bound, a stutter at MaxTime; a run ends by its own limits"),
];

/// One action of `SessionLease.tla`, with the spec's arguments (`n` a node id; a session is the
/// store's id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// `Open(n)`: n's machine adopts session `s`, new, as its own.
    Open { n: NodeId, s: SessionId },
    /// `EndSession(s)`: the server ended n's session `s` (a crash, a cut past the keepalive, a
    /// reset, n's own close).
    EndSession { n: NodeId, s: SessionId },
    /// `TryLock(n)`: the store granted the free lock to n's session.
    TryLock { n: NodeId },
    /// `Locked(n)`: n learned the lock is its own.
    Locked { n: NodeId },
    /// `Preempt(n)`: the store, on n's guarded request, terminated the lock's session.
    Preempt { n: NodeId },
    /// `TakeWrite(n, a)`: the store took n's row of the next generation, written at n's clock
    /// `a`.
    TakeWrite { n: NodeId, a: u64 },
    /// `Led(n)`: n learned its row was written and leads its generation.
    Led { n: NodeId },
    /// `RefreshWrite(n, a)`: the store took n's refresh, written at n's clock `a`.
    RefreshWrite { n: NodeId, a: u64 },
    /// `Refreshed(n)`: n learned its refresh was written.
    Refreshed { n: NodeId },
    /// `ValidationFails(n)`: the store said the lock (or the row) is not n's: leadership ends.
    ValidationFails { n: NodeId },
    /// `StepDown(n)`: n stops leading or taking over of its own accord (a resignation, a crash,
    /// the described design's failed refresh).
    StepDown { n: NodeId },
    /// `Write(n)`: a protected write of tenure `g` left n.
    Write { n: NodeId, g: u64 },
    /// `Deliver(w)`: the resource judged a write of tenure `w` from `from`.
    Deliver { from: NodeId, w: u64 },
}

impl Action {
    /// The operator's name in `SessionLease.tla`.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Open { .. } => "Open",
            Action::EndSession { .. } => "EndSession",
            Action::TryLock { .. } => "TryLock",
            Action::Locked { .. } => "Locked",
            Action::Preempt { .. } => "Preempt",
            Action::TakeWrite { .. } => "TakeWrite",
            Action::Led { .. } => "Led",
            Action::RefreshWrite { .. } => "RefreshWrite",
            Action::Refreshed { .. } => "Refreshed",
            Action::ValidationFails { .. } => "ValidationFails",
            Action::StepDown { .. } => "StepDown",
            Action::Write { .. } => "Write",
            Action::Deliver { .. } => "Deliver",
        }
    }

    /// The node that takes it, or on whose behalf the store does (the resource's `Deliver`
    /// names none).
    pub fn node(&self) -> Option<NodeId> {
        match *self {
            Action::Open { n, .. }
            | Action::EndSession { n, .. }
            | Action::TryLock { n }
            | Action::Locked { n }
            | Action::Preempt { n }
            | Action::TakeWrite { n, .. }
            | Action::Led { n }
            | Action::RefreshWrite { n, .. }
            | Action::Refreshed { n }
            | Action::ValidationFails { n }
            | Action::StepDown { n }
            | Action::Write { n, .. } => Some(n),
            Action::Deliver { .. } => None,
        }
    }

    /// True for the store's steps (and the server's ending of a session).
    fn by_store(&self) -> bool {
        matches!(
            self,
            Action::EndSession { .. }
                | Action::TryLock { .. }
                | Action::Preempt { .. }
                | Action::TakeWrite { .. }
                | Action::RefreshWrite { .. }
        )
    }

    fn touches(&self, var: Var) -> bool {
        match (self, var) {
            (Action::Open { n, .. }, Var::Sess(m)) => *n == m,
            (
                Action::Open { .. } | Action::EndSession { .. } | Action::Preempt { .. },
                Var::Live,
            ) => true,
            (
                Action::EndSession { .. } | Action::Preempt { .. } | Action::TryLock { .. },
                Var::Lock,
            ) => true,
            (Action::TakeWrite { .. } | Action::RefreshWrite { .. }, Var::Row) => true,
            (
                Action::Locked { n }
                | Action::Led { n }
                | Action::Refreshed { n }
                | Action::ValidationFails { n }
                | Action::StepDown { n },
                Var::Role(m),
            ) => *n == m,
            (Action::Deliver { .. }, Var::Accepted) => true,
            _ => false,
        }
    }
}

impl fmt::Display for Action {
    /// As the spec writes it: `TakeWrite(n2, 1500000000)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name();
        match *self {
            Action::Open { n, s } => write!(f, "{name}(n{n}) as session s{s}"),
            Action::EndSession { n, s } => write!(f, "{name}(n{n}'s s{s})"),
            Action::TakeWrite { n, a } | Action::RefreshWrite { n, a } => {
                write!(f, "{name}(n{n}, {a})")
            }
            Action::Write { n, g } => write!(f, "{name}(n{n}) of g{g}"),
            Action::Deliver { from, w } => write!(f, "{name}(n{from}'s g{w})"),
            Action::TryLock { n }
            | Action::Locked { n }
            | Action::Preempt { n }
            | Action::Led { n }
            | Action::Refreshed { n }
            | Action::ValidationFails { n }
            | Action::StepDown { n } => write!(f, "{name}(n{n})"),
        }
    }
}

/// What an action reads beyond the mapped variables: the clocks and the constants.
pub struct Env<'a> {
    /// `Local(n)` at the step, indexed by node id.
    pub local: &'a [u64],
    /// The constant `TTL`.
    pub ttl: u64,
    /// The constant `Margin`.
    pub margin: u64,
    /// The constant `Canary` (None for "None").
    pub canary: Option<SessionLeaseCanary>,
}

impl Env<'_> {
    fn bounded(&self) -> bool {
        !SessionLeaseCanary::unbounded_belief(self.canary)
    }

    fn fenced(&self) -> bool {
        SessionLeaseCanary::fenced(self.canary)
    }

    fn local(&self, n: NodeId) -> u64 {
        self.local[n as usize]
    }
}

fn describe(row: &Option<RowView>) -> String {
    row.map_or("no row".to_string(), |r| {
        format!("n{}'s g{} acquired {} until {}", r.holder, r.generation, r.acquired, r.until)
    })
}

fn session(s: Option<SessionId>) -> String {
    s.map_or("no session".to_string(), |s| format!("s{s}"))
}

impl SessionLeaseView {
    fn own(&self, n: NodeId) -> Option<SessionId> {
        self.sess[n as usize]
    }

    fn is_live(&self, s: Option<SessionId>) -> bool {
        s.is_some_and(|s| self.live.binary_search(&s).is_ok())
    }

    /// `HoldsLock(n)`.
    fn holds_lock(&self, n: NodeId) -> bool {
        self.is_live(self.own(n)) && self.lock_session.is_some() && self.lock_session == self.own(n)
    }

    /// `RowIsOurs(n)`: the row is the one n's last write left.
    fn row_is_ours(&self, n: NodeId) -> bool {
        let written = self.written[n as usize];
        written.is_some() && written.map(|w| w.fields()) == self.row.map(|r| r.fields())
    }

    /// `RefreshGuard(n)`, or what fails of it.
    fn refresh_guard(&self, n: NodeId, env: &Env<'_>) -> Taken {
        require(self.row_is_ours(n), || {
            let written = describe(&self.written[n as usize]);
            format!("the row is {}, not n{n}'s last write ({written})", describe(&self.row))
        })?;
        match env.canary {
            Some(SessionLeaseCanary::RefreshWithoutValidation) => Ok(()),
            Some(SessionLeaseCanary::ValidateOnOtherConnection) => {
                require(self.lock_session.is_some(), || "nobody holds the lock".to_string())
            }
            _ => self.require_lock(n),
        }
    }

    fn require_lock(&self, n: NodeId) -> Taken {
        require(self.holds_lock(n), || {
            let own = self.own(n);
            let alive = if self.is_live(own) { "live" } else { "ended" };
            format!(
                "n{n}'s session {} ({alive}) does not hold the lock ({} does)",
                session(own),
                session(self.lock_session)
            )
        })
    }

    fn remove_live(&mut self, s: SessionId) {
        if let Ok(index) = self.live.binary_search(&s) {
            self.live.remove(index);
        }
        if self.lock_session == Some(s) {
            self.lock_session = None;
        }
    }

    /// `RanOut(n)`: by n's clock the row's lease ran out, with the margin (as the canary
    /// judges it).
    fn ran_out(&self, n: NodeId, env: &Env<'_>) -> Taken {
        let Some(row) = self.row else { return Err("there is no row".to_string()) };
        let local = env.local(n);
        let (bound, formula) = match env.canary {
            Some(SessionLeaseCanary::DescribedDesign) => (row.until, "row.until"),
            Some(SessionLeaseCanary::PreemptValidLease) => {
                (row.acquired + env.ttl + env.margin, "row.acquired + TTL + Margin")
            }
            _ => (row.until + env.margin, "row.until + Margin"),
        };
        require(bound < local, || {
            format!(
                "{formula} = {bound} is not below Local(n{n}) = {local} (n{}'s row)",
                row.holder
            )
        })
    }
}

impl Action {
    /// Takes the action on `view`'s mapped variables: `Err` names the conjunct of its guard that
    /// fails and the values.
    pub fn take(&self, view: &mut SessionLeaseView, env: &Env<'_>) -> Taken {
        match *self {
            Action::Open { n, s } => {
                let role = view.role[n as usize];
                require(role == Role::Standby, || format!("n{n} is {role}"))?;
                require(view.own(n).is_none_or(|own| own < s), || {
                    format!("s{s} is not newer than its session {}", session(view.own(n)))
                })?;
                view.sess[n as usize] = Some(s);
                if let Err(index) = view.live.binary_search(&s) {
                    view.live.insert(index, s);
                }
                Ok(())
            }
            Action::EndSession { s, .. } => {
                require(view.is_live(Some(s)), || format!("s{s} is not live"))?;
                view.remove_live(s);
                Ok(())
            }
            Action::TryLock { n } => {
                let own = view.own(n);
                require(view.is_live(own), || {
                    format!("n{n}'s session {} is not live", session(own))
                })?;
                require(view.lock_session.is_none(), || {
                    format!("the lock is held by {}", session(view.lock_session))
                })?;
                view.lock_session = own;
                view.lock = Some(n);
                Ok(())
            }
            Action::Locked { n } => {
                let role = view.role[n as usize];
                require(role == Role::Standby, || format!("n{n} is {role}"))?;
                let own = view.own(n);
                require(view.lock_session == own || !view.is_live(own), || {
                    format!(
                        "its session {} is live and the lock is {}'s",
                        session(own),
                        session(view.lock_session)
                    )
                })?;
                view.role[n as usize] = Role::Taking;
                Ok(())
            }
            Action::Preempt { n } => {
                let own = view.own(n);
                require(view.is_live(own), || {
                    format!("n{n}'s session {} is not live", session(own))
                })?;
                let Some(lock) = view.lock_session else {
                    return Err("nobody holds the lock".to_string());
                };
                require(Some(lock) != own, || {
                    format!("n{n}'s own session s{lock} holds the lock")
                })?;
                view.ran_out(n, env)?;
                view.remove_live(lock);
                Ok(())
            }
            Action::TakeWrite { n, a } => {
                let role = view.role[n as usize];
                require(role == Role::Taking, || format!("n{n} is {role}"))?;
                view.require_lock(n)?;
                if env.bounded() {
                    if let Some(row) = view.row.filter(|r| r.holder != n) {
                        require(row.until + env.margin < a, || {
                            format!(
                                "{}'s until + Margin = {} is not below {a}",
                                describe(&view.row),
                                row.until + env.margin
                            )
                        })?;
                    }
                }
                let local = env.local(n);
                require(a <= local, || {
                    format!("it was written at {a}, past Local(n{n}) = {local}")
                })?;
                let generation = view.row.map_or(0, |r| r.generation) + 1;
                let version = view.row.map_or(0, |r| r.version);
                let until = a + env.ttl;
                view.row = Some(RowView { holder: n, generation, acquired: a, until, version });
                view.written[n as usize] = view.row;
                Ok(())
            }
            Action::Led { n } => {
                let role = view.role[n as usize];
                require(role == Role::Taking, || format!("n{n} is {role}"))?;
                let Some(row) = view.written[n as usize] else {
                    return Err(format!("no write of n{n}'s took a row"));
                };
                let lead_until = row.until.saturating_sub(env.margin);
                view.role[n as usize] = Role::Leader { gen: row.generation, lead_until };
                Ok(())
            }
            Action::RefreshWrite { n, a } => {
                view.refresh_guard(n, env)?;
                let local = env.local(n);
                require(a <= local, || {
                    format!("it was written at {a}, past Local(n{n}) = {local}")
                })?;
                if let Some(row) = view.row.as_mut() {
                    row.until = a + env.ttl;
                }
                view.written[n as usize] = view.row;
                Ok(())
            }
            Action::Refreshed { n } => {
                let Role::Leader { gen, lead_until } = view.role[n as usize] else {
                    return Err(format!("n{n} is {}", view.role[n as usize]));
                };
                let written = view.written[n as usize];
                require(written.is_some_and(|w| w.generation == gen), || {
                    format!("n{n}'s last write took {}, not a row of g{gen}", describe(&written))
                })?;
                let until = written.map_or(0, |r| r.until).saturating_sub(env.margin);
                view.role[n as usize] = Role::Leader { gen, lead_until: lead_until.max(until) };
                Ok(())
            }
            Action::ValidationFails { n } => {
                let role = view.role[n as usize];
                let fails = match role {
                    Role::Standby => Err(format!("n{n} is a standby")),
                    Role::Leader { .. } => match view.refresh_guard(n, env) {
                        Ok(()) => Err(format!("the row is n{n}'s and its lock is held")),
                        Err(_) => Ok(()),
                    },
                    Role::Taking => match view.holds_lock(n) {
                        true => {
                            Err(format!("n{n}'s session {} holds the lock", session(view.own(n))))
                        }
                        false => Ok(()),
                    },
                };
                fails?;
                view.role[n as usize] = Role::Standby;
                Ok(())
            }
            Action::StepDown { n } => {
                require(view.role[n as usize] != Role::Standby, || format!("n{n} is a standby"))?;
                view.role[n as usize] = Role::Standby;
                Ok(())
            }
            Action::Write { n, g } => {
                let Role::Leader { gen, lead_until } = view.role[n as usize] else {
                    return Err(format!("n{n} is {}", view.role[n as usize]));
                };
                let local = env.local(n);
                require(!env.bounded() || local < lead_until, || {
                    format!(
                        "it does not act: leadUntil[n{n}] is {lead_until}, its clock reads {local}"
                    )
                })?;
                require(g == gen, || format!("its tenure is g{gen}"))
            }
            Action::Deliver { w, .. } => {
                if !env.fenced() || view.accepted_max.is_none_or(|max| max <= w) {
                    view.last_accepted = Some(w);
                    view.accepted_max = view.accepted_max.max(Some(w));
                }
                Ok(())
            }
        }
    }
}

/// A mapped variable, for telling which action should have set it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Var {
    Sess(NodeId),
    Live,
    Lock,
    Row,
    Role(NodeId),
    Accepted,
}

/// Who took an action, for a violation: a node, the store on a node's behalf, or the resource.
fn taker(action: &Action) -> String {
    match (action, action.node()) {
        (Action::Deliver { .. }, _) | (_, None) => "the resource".to_string(),
        (Action::StepDown { .. } | Action::EndSession { .. }, Some(n)) => format!("n{n}"),
        (a, Some(n)) if a.by_store() => format!("the store, for n{n},"),
        (_, Some(n)) => format!("n{n}"),
    }
}

/// The first mapped variable where `expected` and `after` differ: (variable, name, spec's
/// value, the step's value).
fn first_difference(
    expected: &SessionLeaseView,
    after: &SessionLeaseView,
) -> Option<(Var, String, String, String)> {
    let nodes = after.role.len().min(expected.role.len());
    for n in 0..nodes {
        if expected.sess[n] != after.sess[n] {
            let (want, have) = (session(expected.sess[n]), session(after.sess[n]));
            return Some((Var::Sess(n as NodeId), format!("sess[n{n}]"), want, have));
        }
    }
    if expected.live != after.live {
        let show = |live: &[SessionId]| {
            let names: Vec<String> = live.iter().map(|s| format!("s{s}")).collect();
            format!("{{{}}}", names.join(", "))
        };
        return Some((Var::Live, "live".into(), show(&expected.live), show(&after.live)));
    }
    if expected.lock_session != after.lock_session {
        let (want, have) = (session(expected.lock_session), session(after.lock_session));
        return Some((Var::Lock, "lock".into(), want, have));
    }
    if expected.row.map(|r| r.fields()) != after.row.map(|r| r.fields()) {
        return Some((Var::Row, "row".into(), describe(&expected.row), describe(&after.row)));
    }
    for n in 0..nodes {
        if expected.role[n] != after.role[n] {
            let (want, have) = (expected.role[n].to_string(), after.role[n].to_string());
            let var = format!("role[n{n}] (with gen and leadUntil)");
            return Some((Var::Role(n as NodeId), var, want, have));
        }
    }
    let accepted = |v: &SessionLeaseView| (v.last_accepted, v.accepted_max);
    if accepted(expected) != accepted(after) {
        let show = |v: &SessionLeaseView| {
            let (last, max) = (v.last_accepted.unwrap_or(0), v.accepted_max.unwrap_or(0));
            format!("g{last} (acceptedMax g{max})")
        };
        let var = "lastAccepted".to_string();
        return Some((Var::Accepted, var, show(expected), show(after)));
    }
    None
}

/// True when the step changed none of the mapped variables.
fn unchanged(before: &SessionLeaseView, after: &SessionLeaseView) -> bool {
    before.lock_session == after.lock_session
        && before.row.map(|r| r.fields()) == after.row.map(|r| r.fields())
        && (before.last_accepted, before.accepted_max) == (after.last_accepted, after.accepted_max)
        && before.role == after.role
        && before.sess == after.sess
        && before.live == after.live
}

/// `SpecConformance` for one step: the actions it took, in order (the store's and the kernel's
/// inferred ones first, then the ones declared, then a session that ended before its node
/// adopted it), taken from `before`, must lead to `after` on the mapped variables (`sess`,
/// `live`, `lock`, `row`, `role`, `gen`, `leadUntil`, `lastAccepted`, `acceptedMax`). `Err`
/// reads like "the store, for n1, took TakeWrite(n1, 900) but n1's session s3 (live) does not
/// hold the lock (s4 does) (SessionLease.tla TakeWrite)". `expected` is scratch space (its
/// buffers are reused: this runs every step).
pub fn check_step<'a>(
    before: &SessionLeaseView,
    after: &SessionLeaseView,
    taken: impl Iterator<Item = &'a Action> + Clone,
    env: &Env<'_>,
    expected: &mut SessionLeaseView,
) -> Result<(), String> {
    if taken.clone().next().is_none() && unchanged(before, after) {
        return Ok(()); // most steps: no action, nothing mapped changed
    }
    expected.clone_from(before);
    let expected = &mut *expected;
    for action in taken.clone() {
        action.take(expected, env).map_err(|why| {
            format!(
                "{} took {action} but {why} (SessionLease.tla {})",
                taker(action),
                action.name()
            )
        })?;
    }
    let Some((var, name, want, have)) = first_difference(expected, after) else {
        return Ok(());
    };
    let last = taken.filter(|action| action.touches(var)).last();
    Err(match last {
        Some(action) => format!(
            "{} took {action} but the step leaves {name} = {have}, where the spec gives {want} \
             (SessionLease.tla {})",
            taker(action),
            action.name()
        ),
        None => format!("{name} changed from {want} to {have} with no action (SessionLease.tla)"),
    })
}

/// The store's row write a step took, from the row before and after it (the store tells no one
/// which write landed): the same holder and generation is a refresh, written at `until - TTL`;
/// anything else a takeover, written at `acquired`. `Err` for a change no action makes (a
/// deleted row).
pub fn infer_row_write(
    before: Option<RowView>,
    after: Option<RowView>,
    ttl: u64,
) -> Result<Option<Action>, String> {
    if before.map(|r| r.fields()) == after.map(|r| r.fields()) {
        return Ok(None);
    }
    let Some(row) = after else {
        return Err(format!(
            "the lease row ({}) was deleted, which no action of SessionLease.tla does",
            describe(&before)
        ));
    };
    let n = row.holder;
    let same = before.is_some_and(|b| (b.holder, b.generation) == (n, row.generation));
    Ok(Some(match same {
        true => Action::RefreshWrite { n, a: row.until.saturating_sub(ttl) },
        false => Action::TakeWrite { n, a: row.acquired },
    }))
}
