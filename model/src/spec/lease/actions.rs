//! The actions of `Lease.tla`'s `Next` as executable steps: a client declares the ones it
//! takes ([`crate::lease::Output::Action`]); the store's (its writes landing) and a crash are
//! inferred by the checker from what changed. Each has its guard, checked on the state it
//! starts from, and its effect on the mapped variables (`Canary = "None"`).

use super::{Held, LeaseView, RecordView};
use crate::lease::FencingToken;
use crate::spec::{require, Taken};
use crate::NodeId;
use std::fmt;

/// One action of `Lease.tla`. `e` is an expiry, on the writer's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// The store took n's acquisition under term `t` (inferred). `acquired` is the
    /// implementation's stamp of the tenure, which the spec's record does not have.
    AcquireWrite { n: NodeId, t: u64, e: u64, acquired: u64 },
    /// The store took n's takeover of a live record (inferred; planned handovers only).
    Takeover { n: NodeId, t: u64, e: u64, acquired: u64 },
    /// A read (or the write's answer) confirmed n's acquisition of record `w`.
    Acquired { n: NodeId, w: RecordView },
    /// The store took n's renewal of its record under `tok` (inferred).
    RenewWrite { n: NodeId, tok: FencingToken, e: u64 },
    /// A renewal's answer (or read-back) confirmed the renewed record `w`.
    Renewed { n: NodeId, w: RecordView },
    /// A renewal answered Stale: n stops believing.
    RenewStale { n: NodeId },
    /// n gives the lease up before the store hears of it (a release, or dropping a record to
    /// acquire again, a renewal fenced by a newer term, a read-back that found another record).
    Release { n: NodeId },
    /// The store took n's release of its record under `tok` (inferred).
    ReleaseWrite { n: NodeId, tok: FencingToken, e: u64 },
    /// n's client crashed (inferred).
    Crash { n: NodeId },
    /// n stamps a write with `token` and sends it to the resource.
    FencedWrite { n: NodeId, token: FencingToken },
    /// The resource takes (or bounces) a write stamped `w` by `from`.
    Deliver { from: NodeId, w: FencingToken },
}

/// Every action of `Lease.tla`'s `Next` the implementation takes.
pub const ACTIONS: &[&str] = &[
    "AcquireWrite",
    "Takeover",
    "Acquired",
    "RenewWrite",
    "Renewed",
    "RenewStale",
    "Release",
    "ReleaseWrite",
    "Crash",
    "FencedWrite",
    "Deliver",
];

/// The actions of `Next` the implementation never takes, and why.
pub const NOT_TAKEN: &[(&str, &str)] = &[
    ("Tick", "time is the environment's: every step moves the store's and the nodes' clocks"),
    (
        "Acquire",
        "the atomic acquisition the liveness check needs: the store takes the write and the \
         client confirms it in steps of their own (AcquireWrite, Acquired)",
    ),
    ("AcquireAmbiguous", "canary NoConfirmRead only: a client believes only a confirmed write"),
    (
        "Expire",
        "a lapsed belief stays in the client until it drops the record; Believes reads the clock",
    ),
];

impl Action {
    /// The operator's name in `Lease.tla`.
    pub fn name(&self) -> &'static str {
        match self {
            Action::AcquireWrite { .. } => "AcquireWrite",
            Action::Takeover { .. } => "Takeover",
            Action::Acquired { .. } => "Acquired",
            Action::RenewWrite { .. } => "RenewWrite",
            Action::Renewed { .. } => "Renewed",
            Action::RenewStale { .. } => "RenewStale",
            Action::Release { .. } => "Release",
            Action::ReleaseWrite { .. } => "ReleaseWrite",
            Action::Crash { .. } => "Crash",
            Action::FencedWrite { .. } => "FencedWrite",
            Action::Deliver { .. } => "Deliver",
        }
    }

    /// The node that takes it (the resource's `Deliver` names none).
    pub fn node(&self) -> Option<NodeId> {
        match *self {
            Action::AcquireWrite { n, .. }
            | Action::Takeover { n, .. }
            | Action::Acquired { n, .. }
            | Action::RenewWrite { n, .. }
            | Action::Renewed { n, .. }
            | Action::RenewStale { n }
            | Action::Release { n }
            | Action::ReleaseWrite { n, .. }
            | Action::Crash { n }
            | Action::FencedWrite { n, .. } => Some(n),
            Action::Deliver { .. } => None,
        }
    }
}

impl fmt::Display for Action {
    /// As the spec writes it: `AcquireWrite(n2, 3, 1500000000)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name();
        let record = |w: &RecordView| format!("[n{} {} expires {}]", w.holder, w.token, w.expires);
        match self {
            Action::AcquireWrite { n, t, e, .. } | Action::Takeover { n, t, e, .. } => {
                write!(f, "{name}(n{n}, {t}, {e})")
            }
            Action::Acquired { n, w } | Action::Renewed { n, w } => {
                write!(f, "{name}(n{n}, {})", record(w))
            }
            Action::RenewWrite { n, tok, e } | Action::ReleaseWrite { n, tok, e } => {
                write!(f, "{name}(n{n}, {tok}, {e})")
            }
            Action::RenewStale { n } | Action::Release { n } | Action::Crash { n } => {
                write!(f, "{name}(n{n})")
            }
            Action::FencedWrite { n, token } => write!(f, "{name}(n{n}) with {token}"),
            Action::Deliver { from, w } => write!(f, "{name}(n{from}'s {w})"),
        }
    }
}

/// The history variable `stored`: every record the store held, newest last.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stored {
    records: Vec<RecordView>,
}

impl Stored {
    /// Records that the store holds `record` now.
    pub fn note(&mut self, record: Option<RecordView>) {
        if let Some(record) = record.filter(|r| self.records.last() != Some(r)) {
            self.records.push(record);
        }
    }

    /// `w \in stored`.
    pub fn contains(&self, w: &RecordView) -> bool {
        self.records.iter().rev().any(|r| r == w)
    }

    /// True if the store ever held a record of this issuance (token, holder, tenure).
    fn issued(&self, w: &RecordView) -> bool {
        self.records.iter().rev().any(|r| r.issuance() == w.issuance())
    }
}

/// What an action reads beyond the mapped variables: the clocks and constants.
pub struct Env<'a> {
    /// `now`, the store's clock.
    pub now: u64,
    /// `Local(n)`.
    pub local: &'a [u64],
    /// The constant `TTL`.
    pub ttl: u64,
    /// The constant `Margin`.
    pub margin: u64,
    /// The operator `Takeovers`.
    pub takeovers: bool,
    /// The history variable `stored`.
    pub stored: &'a Stored,
}

fn describe(record: &Option<RecordView>) -> String {
    record.map_or("no record".to_string(), |r| {
        format!("n{}'s {} expiring {}", r.holder, r.token, r.expires)
    })
}

fn live(record: &RecordView, now: u64) -> bool {
    now < record.expires
}

fn believes(view: &LeaseView, n: NodeId, env: &Env<'_>) -> bool {
    let n = n as usize;
    view.held[n].is_some_and(|held| env.local[n] < held.belief)
}

/// `Confirms(n, w)`: the store held `w`, n's, and did not replace it while it was live.
fn confirms(view: &LeaseView, n: NodeId, w: &RecordView, env: &Env<'_>) -> Taken {
    require(w.holder == n, || format!("the record is n{}'s", w.holder))?;
    require(env.stored.contains(w), || "the store never held that record".to_string())?;
    require(view.record.as_ref() == Some(w) || !live(w, env.now), || {
        format!("the store replaced it while live: it holds {}", describe(&view.record))
    })
}

fn names(record: &Option<RecordView>, n: NodeId, tok: FencingToken) -> Taken {
    require(record.is_some_and(|r| r.holder == n && r.token == tok), || {
        format!("the store holds {}, not n{n}'s {tok}", describe(record))
    })
}

fn expiry_in_reach(e: u64, n: NodeId, env: &Env<'_>) -> Taken {
    let reach = env.local[n as usize] + env.ttl;
    require(e <= reach, || format!("it expires at {e}, past Local(n{n}) + TTL = {reach}"))
}

impl Action {
    /// Takes the action on `view`'s mapped variables (`record`, `held`, `belief`,
    /// `lastAccepted`): `Err` names the conjunct of its guard that fails and the values.
    pub fn take(&self, view: &mut LeaseView, env: &Env<'_>) -> Taken {
        match *self {
            Action::AcquireWrite { n, t, e, acquired } | Action::Takeover { n, t, e, acquired } => {
                let takeover = matches!(self, Action::Takeover { .. });
                require(!believes(view, n, env), || format!("n{n} still believes"))?;
                if let Some(record) = view.record {
                    require(t >= record.token.term, || {
                        format!("its term {t} is behind the record's {}", record.token.term)
                    })?;
                    if takeover {
                        require(env.takeovers, || "Takeovers is FALSE here".to_string())?;
                    } else {
                        require(!live(&record, env.now) || record.holder == n, || {
                            format!(
                                "the store holds {}, live at {}",
                                describe(&view.record),
                                env.now
                            )
                        })?;
                    }
                }
                expiry_in_reach(e, n, env)?;
                let generation = view.record.map_or(0, |r| r.token.generation) + 1;
                let token = FencingToken { term: t, generation };
                view.record = Some(RecordView { holder: n, token, expires: e, acquired });
                Ok(())
            }
            Action::Acquired { n, w } => {
                confirms(view, n, &w, env)?;
                let belief = w.expires.saturating_sub(env.margin);
                view.held[n as usize] = Some(Held { token: w.token, belief });
                Ok(())
            }
            Action::RenewWrite { n, tok, e } => {
                names(&view.record, n, tok)?;
                expiry_in_reach(e, n, env)?;
                if let Some(record) = view.record.as_mut() {
                    record.expires = e;
                }
                Ok(())
            }
            Action::Renewed { n, w } => {
                let held = view.held[n as usize];
                require(held.is_some_and(|h| h.token == w.token), || {
                    format!("it holds {:?}, not {}", held.map(|h| h.token), w.token)
                })?;
                confirms(view, n, &w, env)?;
                let belief = w.expires.saturating_sub(env.margin);
                view.held[n as usize] = Some(Held { token: w.token, belief });
                Ok(())
            }
            Action::RenewStale { n } | Action::Release { n } => {
                require(view.held[n as usize].is_some(), || "it holds nothing".to_string())?;
                view.held[n as usize] = None;
                Ok(())
            }
            Action::ReleaseWrite { n, tok, e } => {
                names(&view.record, n, tok)?;
                let still = view.held[n as usize].is_some_and(|h| h.token == tok);
                require(!still, || format!("n{n} still holds {tok}"))?;
                let Some(record) = view.record.as_mut() else { return Ok(()) };
                require(e <= record.expires, || {
                    format!("it moves the expiry from {} to {e}, later", record.expires)
                })?;
                record.expires = e;
                Ok(())
            }
            Action::Crash { n } => {
                view.held[n as usize] = None;
                Ok(())
            }
            Action::FencedWrite { n, token } => {
                require(believes(view, n, env), || {
                    let held = view.held[n as usize];
                    let belief = held.map_or("NoBelief".into(), |h| h.belief.to_string());
                    let clock = env.local[n as usize];
                    format!(
                        "it does not believe: belief[n{n}] is {belief}, its clock reads {clock}"
                    )
                })?;
                let held = view.held[n as usize].map(|h| h.token);
                require(held == Some(token), || format!("it holds {held:?}"))
            }
            Action::Deliver { w, .. } => {
                if view.last_accepted.is_none_or(|last| last <= w) {
                    view.last_accepted = Some(w);
                }
                Ok(())
            }
        }
    }
}

/// The store's action a step took, from the record before and after it (the store tells no
/// one which write landed): a new issuance is an acquisition (a takeover when it replaced a
/// live record of another holder and takeovers happen), a rewrite of an issued record a renewal
/// (a release when its expiry moved earlier). `Err` for a change no action makes (a deletion).
pub fn infer_store_action(
    before: Option<RecordView>,
    after: Option<RecordView>,
    stored: &Stored,
    now: u64,
    takeovers: bool,
) -> Result<Option<Action>, String> {
    if before == after {
        return Ok(None);
    }
    let Some(w) = after else {
        return Err(format!(
            "the store's record ({}) was deleted, which no action of Lease.tla does: a release \
             marks it expired (Lease.tla ReleaseWrite)",
            describe(&before)
        ));
    };
    let (n, e) = (w.holder, w.expires);
    if stored.issued(&w) {
        let same = before.is_some_and(|b| b.issuance() == w.issuance());
        let earlier = before.is_some_and(|b| w.expires < b.expires);
        return Ok(Some(if same && earlier {
            Action::ReleaseWrite { n, tok: w.token, e }
        } else {
            Action::RenewWrite { n, tok: w.token, e }
        }));
    }
    let (t, acquired) = (w.token.term, w.acquired);
    let over_live = before.is_some_and(|b| b.holder != n && live(&b, now));
    Ok(Some(if takeovers && over_live {
        Action::Takeover { n, t, e, acquired }
    } else {
        Action::AcquireWrite { n, t, e, acquired }
    }))
}

/// Who took an action, for a violation: a node, or the store.
fn taker(action: &Action, inferred: bool) -> String {
    match (action.node(), inferred, action) {
        (_, _, Action::Deliver { .. }) => "the resource".to_string(),
        (Some(n), true, Action::Crash { .. }) => format!("n{n}"),
        (Some(n), true, _) => format!("the store, for n{n},"),
        (Some(n), false, _) => format!("n{n}"),
        (None, _, _) => "the store".to_string(),
    }
}

/// `SpecConformance` for one step: the actions it took (`inferred`, the store's write and
/// crashes, first; then the ones declared), taken in order from `before`, must lead to `after`
/// on the mapped variables (`record`, `held`, `belief`, `lastAccepted`). `Err` reads like "n2
/// took Acquired(n2, [n2 (t1, g3) expires 900]) but the store never held that record (Lease.tla
/// Acquired)".
pub fn check_step<'a>(
    before: &LeaseView,
    after: &LeaseView,
    inferred: &[Action],
    declared: impl Iterator<Item = &'a Action> + Clone,
    env: &Env<'_>,
) -> Result<(), String> {
    let idle = inferred.is_empty() && declared.clone().next().is_none();
    let same = |a: &LeaseView, b: &LeaseView| {
        (a.record, a.last_accepted) == (b.record, b.last_accepted) && a.held == b.held
    };
    if idle && same(before, after) {
        return Ok(()); // most steps: no action, nothing mapped changed
    }
    let mut expected = before.clone();
    let taken = inferred.iter().map(|a| (a, true)).chain(declared.map(|a| (a, false)));
    let mut last_writer: [Option<(&Action, bool)>; 3] = [None; 3];
    for (action, inferred) in taken.clone() {
        action.take(&mut expected, env).map_err(|why| {
            format!(
                "{} took {action} but {why} (Lease.tla {})",
                taker(action, inferred),
                action.name()
            )
        })?;
        let slot = match action {
            Action::Deliver { .. } => 2,
            Action::AcquireWrite { .. }
            | Action::Takeover { .. }
            | Action::RenewWrite { .. }
            | Action::ReleaseWrite { .. } => 0,
            _ => 1,
        };
        last_writer[slot] = Some((action, inferred));
    }
    let (var, slot, want, have) = if expected.record != after.record {
        ("record", 0, describe(&expected.record), describe(&after.record))
    } else if expected.held != after.held {
        let n = (0..after.held.len()).find(|n| expected.held[*n] != after.held[*n]).unwrap_or(0);
        let show = |h: Option<Held>| {
            h.map_or("nothing".into(), |h| format!("{} until {}", h.token, h.belief))
        };
        let var = format!("held[n{n}] and belief[n{n}]");
        return Err(match last_writer[1].filter(|(a, _)| a.node() == Some(n as NodeId)) {
            Some((action, inferred)) => format!(
                "{} took {action} but the step leaves {var} = {}, where the spec gives {} \
                 (Lease.tla {})",
                taker(action, inferred),
                show(after.held[n]),
                show(expected.held[n]),
                action.name()
            ),
            None => format!(
                "n{n}'s client changed {var} from {} to {} with no action (Lease.tla)",
                show(expected.held[n]),
                show(after.held[n])
            ),
        });
    } else if expected.last_accepted != after.last_accepted {
        let show = |t: Option<FencingToken>| t.map_or("none".into(), |t| t.to_string());
        ("lastAccepted", 2, show(expected.last_accepted), show(after.last_accepted))
    } else {
        return Ok(());
    };
    Err(match last_writer[slot] {
        Some((action, inferred)) => format!(
            "{} took {action} but the step leaves {var} = {have}, where the spec gives {want} \
             (Lease.tla {})",
            taker(action, inferred),
            action.name()
        ),
        None => format!("{var} changed from {want} to {have} with no action (Lease.tla)"),
    })
}
