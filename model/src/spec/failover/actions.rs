//! The handover actions of `Failover.tla`'s `Next` as executable steps: the coordinator and
//! the members declare the ones they take (a sans-IO output, beside their requests and
//! answers); a coordinator's crash and a frozen primary that stopped leading are inferred.
//! Each has its guard, on the state it starts from, and its effect on the mapped variables:
//! `ho` (the coordinator's handover) and `frozen`. `primary` is read, not compared: the replica
//! set's and the lease's actions change it. Requests and answers are not mapped: an answer's
//! fields are the arguments of the action that takes it.

use crate::failover::Mode;
use crate::spec::{require, Taken};
use crate::NodeId;
use std::fmt;

/// Where the coordinator's handover stands: `ho.phase`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Phase {
    #[default]
    Idle,
    Freezing,
    CatchUp,
    Demoting,
    Promoting,
    Resuming,
}

/// `ho`: the handover under way (all but the phase are meaningless while Idle, and mapped as
/// their defaults then: the spec keeps the last plan, which only its own accounting reads).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Handover {
    pub id: u64,
    pub phase: Phase,
    pub from: NodeId,
    pub to: NodeId,
    pub mode: Option<Mode>,
    /// The term the target is to lead.
    pub term: u64,
    /// The frozen frontier's index and term.
    pub frontier: u64,
    pub frontier_term: u64,
    /// What the target reported holding of the primary's term (an index).
    pub reached: u64,
}

impl Handover {
    /// The first field on which two handovers differ, as `ho.name` with both values.
    pub fn first_difference(&self, other: &Handover) -> Option<(String, String, String)> {
        if self == other {
            return None; // the common case, checked every step: nothing to show
        }
        let fields = [
            ("id", format!("{}", self.id), format!("{}", other.id)),
            ("phase", format!("{:?}", self.phase), format!("{:?}", other.phase)),
            ("from", format!("n{}", self.from), format!("n{}", other.from)),
            ("to", format!("n{}", self.to), format!("n{}", other.to)),
            ("mode", format!("{:?}", self.mode), format!("{:?}", other.mode)),
            ("term", format!("{}", self.term), format!("{}", other.term)),
            ("frontier", format!("{}", self.frontier), format!("{}", other.frontier)),
            ("frontierTerm", format!("{}", self.frontier_term), format!("{}", other.frontier_term)),
            ("reached", format!("{}", self.reached), format!("{}", other.reached)),
        ];
        let (name, a, b) = fields.into_iter().find(|(_, a, b)| a != b)?;
        Some((format!("ho.{name}"), a, b))
    }

    /// `HoldsPrimaryTerm`: the target reported some of the primary's term (or there is none).
    pub fn holds_primary_term(&self) -> bool {
        self.reached > 0 || self.frontier_term == 0
    }

    /// `CaughtUp`.
    pub fn caught_up(&self) -> bool {
        self.holds_primary_term() && self.reached >= self.frontier
    }

    /// `Skipped(held)`: what a forced handover skips when the target held the primary's log up
    /// to `held`; nothing when coordinated.
    pub fn skipped(&self, held: u64) -> u64 {
        match self.mode {
            Some(Mode::Force) => self.frontier - held.min(self.frontier),
            _ => 0,
        }
    }
}

/// An answer of a member, as the coordinator takes it (the spec's `a`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Answer {
    pub from: NodeId,
    /// The handover it answers.
    pub id: u64,
}

/// One action of `Failover.tla`'s handover (and the mint guards), by its taker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Coordinator: starts handover `id` from `p` to `q`.
    StartHandover { id: u64, p: NodeId, q: NodeId, mode: Mode },
    /// Member p freezes for handover `id` and answers its frontier.
    Freeze { p: NodeId, id: u64 },
    /// Member p, asked to freeze, says it is not the primary.
    RefuseFreeze { p: NodeId, id: u64 },
    /// Coordinator: takes the frozen frontier `(frontier, frontier_term)` answered in `term`.
    CatchUp { a: Answer, term: u64, frontier: u64, frontier_term: u64 },
    /// Coordinator: the member asked to freeze was not the primary.
    NotPrimary { a: Answer },
    /// Member q answers its durable tail.
    AnswerProgress { q: NodeId, id: u64 },
    /// Coordinator: takes the target's progress `(index, last)`.
    Progress { a: Answer, index: u64, last: u64 },
    /// Coordinator: commits to the handover, asking the old primary to step down.
    Demote,
    /// Coordinator: the catch-up missed its deadline; asks the primary to mint again.
    Resume,
    /// Member p, asked to resume, mints again.
    Unfreeze { p: NodeId, id: u64 },
    /// Coordinator: the primary resumed.
    Resumed { a: Answer },
    /// Member p steps down for handover `id`, to follow the target in `term`.
    DemoteMember { p: NodeId, id: u64, term: u64 },
    /// Coordinator: asks the target to lead, on the old primary's demotion (with the commit
    /// point it answered, if it still led). A promotion sent without a demotion's answer (the
    /// canary `promote-before-demoted`) carries none.
    Promote { a: Option<Answer>, committed: Option<u64> },
    /// Coordinator: forced over a target lacking committed writes: nothing is promoted.
    RefuseForce { a: Answer, committed: u64 },
    /// Coordinator: the old primary no longer led: nothing is promoted.
    Overtaken { a: Answer },
    /// Member q leads `term` with the lease and answers its promotion.
    TakeOver { q: NodeId, id: u64, term: u64 },
    /// Coordinator: the target leads; it reports `reported` writes skipped, the target having
    /// held the old primary's log up to `led_from`.
    HandedOver { a: Answer, term: u64, led_from: u64, reported: u64 },
    /// Coordinator: a step went unanswered; a promotion's report is at most `reported`.
    GiveUp { reported: Option<u64> },
    /// Member p: its freeze ran out with nothing more heard; it steps down.
    FreezeExpired { p: NodeId },
    /// The coordinator crashed (inferred).
    CoordinatorCrash,
    /// A primary's lease lapsed, or a frozen primary stopped leading (a crash, a newer term,
    /// its belief running out: inferred).
    Expire { n: NodeId },
    /// Member n mints a client write.
    ClientWrite { n: NodeId },
    /// Member n stamps a write for the resource.
    FencedWrite { n: NodeId },
}

/// Every action of `Failover.tla`'s `Next` the implementation takes.
pub const ACTIONS: &[&str] = &[
    "StartHandover",
    "Freeze",
    "RefuseFreeze",
    "CatchUp",
    "NotPrimary",
    "AnswerProgress",
    "Progress",
    "Demote",
    "Resume",
    "Unfreeze",
    "Resumed",
    "DemoteMember",
    "Promote",
    "RefuseForce",
    "Overtaken",
    "TakeOver",
    "HandedOver",
    "GiveUp",
    "FreezeExpired",
    "CoordinatorCrash",
    "Expire",
    "ClientWrite",
    "FencedWrite",
];

/// The actions of `Next` the implementation never takes as one step, and why.
pub const NOT_TAKEN: &[(&str, &str)] = &[
    ("Replicate", "the replica set's catch-up: Replication.tla's actions, checked in the same run"),
    ("AckWrite", "the replica set's AckWrite (Replication.tla), checked in the same run"),
    (
        "Elect",
        "an election: Replication.tla's Stand, GrantVote, BecomeLeader and the lease's \
         AcquireWrite and Acquired, checked in the same run",
    ),
    ("Persisted", "the replica set's Persisted (Replication.tla), checked in the same run"),
    ("Crash", "a member's crash: Replication.tla's and Lease.tla's Crash, checked in the same run"),
    ("Deliver", "the resource's Deliver, checked as Lease.tla's in the same run"),
];

impl Action {
    /// The operator's name in `Failover.tla`.
    pub fn name(&self) -> &'static str {
        match self {
            Action::StartHandover { .. } => "StartHandover",
            Action::Freeze { .. } => "Freeze",
            Action::RefuseFreeze { .. } => "RefuseFreeze",
            Action::CatchUp { .. } => "CatchUp",
            Action::NotPrimary { .. } => "NotPrimary",
            Action::AnswerProgress { .. } => "AnswerProgress",
            Action::Progress { .. } => "Progress",
            Action::Demote => "Demote",
            Action::Resume => "Resume",
            Action::Unfreeze { .. } => "Unfreeze",
            Action::Resumed { .. } => "Resumed",
            Action::DemoteMember { .. } => "DemoteMember",
            Action::Promote { .. } => "Promote",
            Action::RefuseForce { .. } => "RefuseForce",
            Action::Overtaken { .. } => "Overtaken",
            Action::TakeOver { .. } => "TakeOver",
            Action::HandedOver { .. } => "HandedOver",
            Action::GiveUp { .. } => "GiveUp",
            Action::FreezeExpired { .. } => "FreezeExpired",
            Action::CoordinatorCrash => "CoordinatorCrash",
            Action::Expire { .. } => "Expire",
            Action::ClientWrite { .. } => "ClientWrite",
            Action::FencedWrite { .. } => "FencedWrite",
        }
    }

    /// The member the action is about, or None for the coordinator's.
    pub fn member(&self) -> Option<NodeId> {
        match *self {
            Action::Freeze { p, .. }
            | Action::RefuseFreeze { p, .. }
            | Action::Unfreeze { p, .. }
            | Action::DemoteMember { p, .. }
            | Action::FreezeExpired { p } => Some(p),
            Action::AnswerProgress { q, .. } | Action::TakeOver { q, .. } => Some(q),
            Action::Expire { n } | Action::ClientWrite { n } | Action::FencedWrite { n } => Some(n),
            _ => None,
        }
    }
}

impl fmt::Display for Action {
    /// As the spec writes it: `CatchUp(frontier 12@t3 of n0 for handover 5)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name();
        match self {
            Action::StartHandover { id, p, q, mode } => {
                write!(f, "{name}(n{p}, n{q}, {mode:?}) as handover {id}")
            }
            Action::Freeze { p, id }
            | Action::RefuseFreeze { p, id }
            | Action::Unfreeze { p, id }
            | Action::AnswerProgress { q: p, id } => write!(f, "{name}(n{p}, handover {id})"),
            Action::CatchUp { a, term, frontier, frontier_term } => write!(
                f,
                "{name}(frontier {frontier}@t{frontier_term} in term {term} of n{} for handover {})",
                a.from, a.id
            ),
            Action::NotPrimary { a } | Action::Resumed { a } | Action::Overtaken { a } => {
                write!(f, "{name}(answer of n{} for handover {})", a.from, a.id)
            }
            Action::Progress { a, index, last } => {
                write!(f, "{name}(n{} holds {index}@t{last} for handover {})", a.from, a.id)
            }
            Action::DemoteMember { p, id, term } => {
                write!(f, "{name}(n{p}, handover {id}, term {term})")
            }
            Action::Promote { a: Some(a), committed } => write!(
                f,
                "{name}(n{} demoted, committed {committed:?}, handover {})",
                a.from, a.id
            ),
            Action::Promote { a: None, .. } => write!(f, "{name}(without a demotion's answer)"),
            Action::RefuseForce { a, committed } => {
                write!(f, "{name}(n{} committed {committed}, handover {})", a.from, a.id)
            }
            Action::TakeOver { q, id, term } => write!(f, "{name}(n{q}, term {term}, handover {id})"),
            Action::HandedOver { a, term, led_from, reported } => write!(
                f,
                "{name}(n{} leads term {term} from {led_from}, handover {}) reporting {reported} \
                 skipped",
                a.from, a.id
            ),
            Action::GiveUp { reported } => write!(f, "{name} reporting at most {reported:?}"),
            Action::FreezeExpired { p } => write!(f, "{name}(n{p})"),
            Action::Expire { n } | Action::ClientWrite { n } | Action::FencedWrite { n } => {
                write!(f, "{name}(n{n})")
            }
            Action::Demote | Action::Resume | Action::CoordinatorCrash => write!(f, "{name}"),
        }
    }
}

/// The mapped variables the handover actions change: `ho` and `frozen` (compared), and
/// `frozenFor` (read from the members: a crash, which is another spec's step, clears it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HandoverVars {
    pub ho: Handover,
    /// `frozen[n]`, per member.
    pub frozen: Vec<bool>,
    /// `frozenFor[n]`: the handover member n last froze for (0: none yet).
    pub frozen_for: Vec<u64>,
}

/// `primary[n]`, per member, as the step found it and as it left it (read, never compared: the
/// replica set's and the lease's actions change it).
pub struct Env<'a> {
    pub primary: &'a [bool],
    pub primary_after: &'a [bool],
}

/// The other handover member p is frozen for, if it is: `frozen[p] /\ frozenFor[p] # id`.
fn frozen_for_another(vars: &HandoverVars, p: NodeId, id: u64) -> Option<u64> {
    let other = vars.frozen_for.get(p as usize).copied().filter(|other| *other != id);
    other.filter(|_| vars.frozen[p as usize])
}

/// `Current(a, type, from)`: an answer of the coordinator's handover, from the member asked.
fn current(ho: &Handover, a: &Answer, phase: Phase, from: NodeId) -> Taken {
    require(ho.phase == phase, || format!("the coordinator is {:?}, not {phase:?}", ho.phase))?;
    require(a.id == ho.id, || format!("the answer is of handover {}, not {}", a.id, ho.id))?;
    require(a.from == from, || format!("the answer is n{}'s, not n{from}'s", a.from))
}

fn idle(vars: &mut HandoverVars) {
    vars.ho = Handover::default();
}

fn primary(env: &Env<'_>, n: NodeId) -> bool {
    env.primary.get(n as usize).copied().unwrap_or(false)
}

impl Action {
    /// Takes the action on `vars`: `Err` names the conjunct of its guard that fails.
    pub fn take(&self, vars: &mut HandoverVars, env: &Env<'_>) -> Taken {
        let ho = vars.ho;
        match *self {
            Action::StartHandover { id, p, q, mode } => {
                require(ho.phase == Phase::Idle, || {
                    format!("handover {} is {:?}", ho.id, ho.phase)
                })?;
                require(p != q, || "it hands over to the primary itself".into())?;
                let (phase, mode) = (Phase::Freezing, Some(mode));
                vars.ho = Handover { id, phase, from: p, to: q, mode, ..Handover::default() };
                Ok(())
            }
            Action::Freeze { p, id } => {
                require(primary(env, p), || format!("n{p} is not the primary"))?;
                let other = frozen_for_another(vars, p, id);
                require(other.is_none(), || format!("n{p} is frozen for handover {other:?}"))?;
                vars.frozen[p as usize] = true;
                if let Some(slot) = vars.frozen_for.get_mut(p as usize) {
                    *slot = id;
                }
                Ok(())
            }
            Action::RefuseFreeze { p, id } => {
                let refusable = !primary(env, p) || frozen_for_another(vars, p, id).is_some();
                require(refusable, || {
                    format!("n{p} is the primary, not frozen for another handover")
                })
            }
            Action::CatchUp { a, term, frontier, frontier_term } => {
                current(&ho, &a, Phase::Freezing, ho.from)?;
                let term = term + 1;
                let phase = Phase::CatchUp;
                vars.ho = Handover { phase, term, frontier, frontier_term, reached: 0, ..ho };
                Ok(())
            }
            Action::NotPrimary { a } => {
                current(&ho, &a, Phase::Freezing, ho.from)?;
                idle(vars);
                Ok(())
            }
            Action::AnswerProgress { .. } => Ok(()),
            Action::Progress { a, index, last } => {
                current(&ho, &a, Phase::CatchUp, ho.to)?;
                if last == ho.frontier_term && last > 0 {
                    vars.ho.reached = ho.reached.max(index);
                }
                Ok(())
            }
            Action::Demote => {
                require(ho.phase == Phase::CatchUp, || {
                    format!("the coordinator is {:?}", ho.phase)
                })?;
                let forced = ho.mode == Some(Mode::Force) && ho.holds_primary_term();
                require(ho.caught_up() || forced, || {
                    format!(
                        "the target reported {} of the frontier {}@t{} ({:?})",
                        ho.reached, ho.frontier, ho.frontier_term, ho.mode
                    )
                })?;
                vars.ho.phase = Phase::Demoting;
                Ok(())
            }
            Action::Resume => {
                require(ho.phase == Phase::CatchUp, || {
                    format!("the coordinator is {:?}", ho.phase)
                })?;
                let coordinated = ho.mode != Some(Mode::Force);
                require(!ho.caught_up() && (coordinated || !ho.holds_primary_term()), || {
                    format!("the target reported {} of the frontier {}", ho.reached, ho.frontier)
                })?;
                // The mapping shows a resuming handover's plan only (the implementation keeps
                // nothing else while it resumes).
                let (id, from, to, mode) = (ho.id, ho.from, ho.to, ho.mode);
                vars.ho =
                    Handover { id, phase: Phase::Resuming, from, to, mode, ..Handover::default() };
                Ok(())
            }
            Action::Unfreeze { p, id } => {
                // Only the handover it froze for thaws it: a late Resume of an abandoned
                // handover must not thaw a primary frozen for the next one.
                if vars.frozen_for.get(p as usize) == Some(&id) {
                    vars.frozen[p as usize] = false;
                }
                Ok(())
            }
            Action::DemoteMember { p, .. } => {
                vars.frozen[p as usize] = false;
                Ok(())
            }
            Action::Resumed { a } => {
                current(&ho, &a, Phase::Resuming, ho.from)?;
                idle(vars);
                Ok(())
            }
            Action::Promote { a, committed } => {
                let Some(a) = a else {
                    return Err(format!(
                        "no demotion was answered: the coordinator is {:?}",
                        ho.phase
                    ));
                };
                current(&ho, &a, Phase::Demoting, ho.from)?;
                let Some(committed) = committed else {
                    return Err("the old primary no longer led".into());
                };
                let forced = ho.mode == Some(Mode::Force);
                require(!forced || ho.reached >= committed, || {
                    format!("forced, the target holds {} of {committed} committed", ho.reached)
                })?;
                vars.ho.phase = Phase::Promoting;
                Ok(())
            }
            Action::RefuseForce { a, committed } => {
                current(&ho, &a, Phase::Demoting, ho.from)?;
                require(ho.mode == Some(Mode::Force) && ho.reached < committed, || {
                    format!(
                        "the target holds {} of {committed} committed ({:?})",
                        ho.reached, ho.mode
                    )
                })?;
                idle(vars);
                Ok(())
            }
            Action::Overtaken { a } => {
                current(&ho, &a, Phase::Demoting, ho.from)?;
                idle(vars);
                Ok(())
            }
            Action::TakeOver { q, .. } => {
                // Its effect on `primary`, which the replica set's and the lease's actions made.
                let leads = env.primary_after.get(q as usize).copied().unwrap_or(false);
                require(leads, || format!("n{q} does not lead with the lease after it"))
            }
            Action::HandedOver { a, term, led_from, reported } => {
                current(&ho, &a, Phase::Promoting, ho.to)?;
                require(term == ho.term, || format!("it leads term {term}, not {}", ho.term))?;
                let skipped = ho.skipped(led_from);
                require(reported == skipped, || {
                    format!("it skipped {skipped} (frontier {}, kept {led_from})", ho.frontier)
                })?;
                idle(vars);
                Ok(())
            }
            Action::GiveUp { reported } => {
                let waiting = matches!(
                    ho.phase,
                    Phase::Freezing | Phase::Demoting | Phase::Promoting | Phase::Resuming
                );
                require(waiting, || format!("the coordinator is {:?}", ho.phase))?;
                let expected = (ho.phase == Phase::Promoting).then(|| ho.skipped(ho.reached));
                require(reported == expected, || {
                    format!("at most {expected:?} could be skipped (frontier {})", ho.frontier)
                })?;
                idle(vars);
                Ok(())
            }
            Action::FreezeExpired { p } => {
                require(vars.frozen[p as usize], || format!("n{p} is not frozen"))?;
                vars.frozen[p as usize] = false;
                Ok(())
            }
            Action::Expire { n } => {
                // `n \in Leaders`; the caller lowers `primary[n]` for the actions after it.
                let leads = primary(env, n) || vars.frozen[n as usize];
                require(leads, || format!("n{n} is neither the primary nor frozen"))?;
                vars.frozen[n as usize] = false;
                Ok(())
            }
            Action::CoordinatorCrash => {
                idle(vars);
                Ok(())
            }
            Action::ClientWrite { n } => {
                require(primary(env, n), || format!("n{n} is not the primary"))?;
                require(!vars.frozen[n as usize], || format!("n{n} is frozen"))
            }
            Action::FencedWrite { n } => {
                require(primary(env, n), || format!("n{n} is not the primary"))
            }
        }
    }
}

/// `SpecConformance` for one step of the handover: the actions taken (inferred first), from
/// `before`, must lead to `after` on `ho` and `frozen`. `Err` reads like "the coordinator took
/// Demote but the target reported 3 of the frontier 9@t2 (Some(Coordinated)) (Failover.tla
/// Demote)".
pub fn check_step<'a>(
    before: &HandoverVars,
    after: &HandoverVars,
    actions: impl Iterator<Item = &'a Action> + Clone,
    env: &Env<'_>,
) -> Result<(), String> {
    if actions.clone().next().is_none() && before == after {
        return Ok(()); // most steps: no handover step, nothing changed
    }
    let mut expected = before.clone();
    let taker = |action: &Action| match action.member() {
        Some(n) => format!("n{n}"),
        None => "the coordinator".to_string(),
    };
    // `primary` as each action finds it: an `Expire` lowers it for the actions after it (a
    // lease that lapsed as time passed, before the member handled the step's input).
    let mut primary = std::borrow::Cow::Borrowed(env.primary);
    for action in actions.clone() {
        let now = Env { primary: &primary, primary_after: env.primary_after };
        action.take(&mut expected, &now).map_err(|why| {
            format!("{} took {action} but {why} (Failover.tla {})", taker(action), action.name())
        })?;
        if let Action::Expire { n } = *action {
            if let Some(lapsed) = primary.to_mut().get_mut(n as usize) {
                *lapsed = false;
            }
        }
    }
    if let Some((field, want, have)) = expected.ho.first_difference(&after.ho) {
        let last = actions.clone().filter(|a| a.member().is_none()).last();
        return Err(match last {
            Some(action) => format!(
                "the coordinator took {action} but the step leaves {field} = {have}, where the \
                 spec gives {want} (Failover.tla {})",
                action.name()
            ),
            None => format!("{field} changed from {want} to {have} with no action (Failover.tla)"),
        });
    }
    let Some(n) = (0..after.frozen.len()).find(|n| expected.frozen[*n] != after.frozen[*n]) else {
        return Ok(());
    };
    let last = actions.filter(|a| a.member() == Some(n as NodeId)).last();
    let (want, have) = (expected.frozen[n], after.frozen[n]);
    Err(match last {
        Some(action) => format!(
            "n{n} took {action} but the step leaves frozen[n{n}] = {have}, where the spec gives \
             {want} (Failover.tla {})",
            action.name()
        ),
        None => format!("frozen[n{n}] changed from {want} to {have} with no action (Failover.tla)"),
    })
}
