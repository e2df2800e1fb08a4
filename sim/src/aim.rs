//! Faults aimed where bugs live. Random faults rarely land in the few milliseconds that matter,
//! so a plan may *aim* crashes and pauses at moments: right after a node asks for an fsync and
//! before it completes, right after it sends a message or a storage request, and at moments the
//! state machines themselves mark through their outputs (an election stood, a vote granted, a
//! handover step). The kernel knows nothing of what a moment means: at each one it decides from
//! the seed (the `strikes` stream) whether to strike the node there, as FoundationDB's BUGGIFY
//! does from inside the code.

use crate::faults::{Fault, FaultKind};
use crate::kernel::{Event, Kernel};
use crate::node::Node;
use crate::rng::{Ratio, Stream};
use crate::time::{millis, MILLISECOND};
use crate::NodeId;
use serde::{Deserialize, Serialize};

/// The kernel's own moment: a node asked for an fsync; a strike lands before it completes.
pub const FSYNC_WINDOW: &str = "fsync-window";
/// The kernel's own moment: a node sent a message or a storage request.
pub const AFTER_SEND: &str = "after-send";

/// A moment a state machine marks, and the chance a strike lands there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AimedMoment {
    /// The name the machine gives it (`Context::moment`), e.g. `election`.
    pub name: String,
    /// The chance of a strike at each occurrence.
    pub ratio: Ratio,
}

/// Where and how hard aimed faults strike. `Default`: never.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct AimOptions {
    /// The moments aimed at, each with its chance per occurrence: the kernel's own
    /// ([`FSYNC_WINDOW`], [`AFTER_SEND`]) and those the state machines mark.
    pub moments: Vec<AimedMoment>,
    /// The most strikes a run makes at each moment (a budget per moment, so the frequent ones
    /// do not spend what the rare ones need).
    pub strikes_max: u32,
    /// Only nodes `0..targets` are struck (the scenario's faultable nodes).
    pub targets: u32,
    /// Chance that a strike crashes the node; otherwise it pauses it.
    pub crash_ratio: Ratio,
    /// A struck crash's node restarts within this, nanoseconds (short: a voter is back within
    /// the same election).
    pub down_ns_max: u64,
    /// A struck pause lasts up to this, nanoseconds.
    pub pause_ns_max: u64,
    /// Chance that a strike, instead of crashing or pausing, delivers once more the message
    /// the marking node sent last in that step, late: a retransmission that arrives after the
    /// exchange it belonged to moved on (a stale request, a duplicate answer).
    pub late_copy_ratio: Ratio,
    /// A late copy arrives up to this long after the original was sent, nanoseconds.
    pub late_copy_ns_max: u64,
    /// Chance that a strike, instead of crashing or pausing the node, makes the store drop
    /// its sessions (a connection reset at the worst moment). Never unless a plan says so.
    #[serde(default, skip_serializing_if = "is_never")]
    pub session_loss_ratio: Ratio,
}

fn is_never(ratio: &Ratio) -> bool {
    ratio.is_never()
}

impl AimOptions {
    /// A random aim for a run of `targets` faultable nodes: each of `moments` is aimed at with
    /// probability 1/2 (at least one is). The chance per occurrence is spread over orders of
    /// magnitude: 1 in 16 to 1 in 100,000 at the kernel's own moments, which come with every
    /// fsync and message, and 1 in 1 to 1 in 16 at the machines' rarer ones (a few elections a
    /// run). Pauses last long enough to matter to timeouts (up to 3 s, each at least an eighth
    /// of the run's longest); crashed nodes come back fast (within 1 s, often milliseconds);
    /// in half the plans some strikes deliver a message late instead.
    pub fn swarm(rng: &mut Stream, targets: u32, moments: &[&str], strikes_max: u32) -> Self {
        let mut aimed: Vec<AimedMoment> = Vec::new();
        for name in moments {
            let kernel_moment = [FSYNC_WINDOW, AFTER_SEND].contains(name);
            let (least, most) = if kernel_moment { (16, 100_000) } else { (1, 16) };
            let ratio = Ratio::new(1, rng.log_uniform(least, most) as u32);
            if rng.coin() {
                aimed.push(AimedMoment { name: name.to_string(), ratio });
            }
        }
        if aimed.is_empty() && !moments.is_empty() {
            let name = rng.pick(moments).to_string();
            aimed.push(AimedMoment { name, ratio: Ratio::new(1, 16) });
        }
        AimOptions {
            moments: aimed,
            strikes_max: rng.between(1, strikes_max.max(1) as u64) as u32,
            targets,
            crash_ratio: Ratio::per_10k(rng.between(0, 10_000) as u32),
            down_ns_max: rng.log_uniform(millis(5), millis(1_000)),
            pause_ns_max: rng.log_uniform(millis(50), millis(3_000)),
            late_copy_ratio: match rng.coin() {
                true => Ratio::per_10k(rng.between(1_000, 10_000) as u32),
                false => Ratio::NEVER,
            },
            late_copy_ns_max: rng.log_uniform(millis(5), millis(2_000)),
            session_loss_ratio: Ratio::NEVER,
        }
    }

    /// True when no strike can ever happen.
    pub fn is_off(&self) -> bool {
        self.strikes_max == 0 || self.moments.iter().all(|m| m.ratio.is_never())
    }

    /// Where moment `name` stands among the aimed ones (None: not aimed at).
    pub fn position(&self, name: &str) -> Option<usize> {
        self.moments.iter().position(|m| m.name == name)
    }
}

/// The message a node sent last, kept (only when a plan may replay it) for a late copy.
#[derive(Debug)]
pub(crate) struct LastSent<M> {
    pub(crate) step: u64,
    pub(crate) from: NodeId,
    pub(crate) to: NodeId,
    pub(crate) msg: M,
}

impl<N: Node> Kernel<N> {
    /// At the aimed moment `aimed` (its place in the plan's list; None: not aimed at), marked
    /// by node `marker`: with the moment's chance, strikes `target` within the next `within_ns`
    /// (0: right now, after the current step), or delivers the message `marker` sent last in
    /// this step once more, late; unless the moment's budget is spent, `target` is out of
    /// reach, or everything already healed.
    pub(crate) fn maybe_strike(
        &mut self,
        marker: NodeId,
        target: NodeId,
        aimed: Option<usize>,
        within_ns: u64,
    ) {
        let Some(at) = aimed else { return };
        let aim = &self.plan.aim;
        if self.healed || self.strikes_made[at] >= aim.strikes_max || target >= aim.targets {
            return;
        }
        if !self.rng_strikes.chance(aim.moments[at].ratio) {
            return;
        }
        self.strikes_made[at] += 1;
        self.coverage.strike(&aim.moments[at].name);
        if self.rng_strikes.chance(self.plan.aim.late_copy_ratio) && self.replay_late(marker) {
            return;
        }
        let delay_ns = if within_ns > 1 { self.rng_strikes.below(within_ns) } else { 0 };
        let aim = &self.plan.aim;
        // `chance` draws nothing at a zero ratio: plans without session loss strike as before.
        let fault = if self.rng_strikes.chance(aim.session_loss_ratio) {
            Fault::SessionLoss { node: target }
        } else if self.rng_strikes.chance(aim.crash_ratio) {
            let down_ns = self.rng_strikes.log_uniform(MILLISECOND / 20, aim.down_ns_max);
            Fault::Crash { node: target, down_ns }
        } else {
            let longest = aim.pause_ns_max.max(MILLISECOND);
            let duration_ns = self.rng_strikes.log_uniform(longest / 8, longest);
            Fault::Pause { node: target, duration_ns }
        };
        let index = self.add_fault(fault);
        self.schedule(self.now + delay_ns, Event::FaultBegin(index));
    }

    /// Delivers again, late, the message `marker` sent last in this step; false if it sent
    /// none.
    fn replay_late(&mut self, marker: NodeId) -> bool {
        let Some(last) = &self.last_sent else { return false };
        if last.step != self.step || last.from != marker {
            return false;
        }
        let (from, to, msg) = (last.from, last.to, last.msg.clone());
        let late_ns = self.rng_strikes.log_uniform(MILLISECOND, self.plan.aim.late_copy_ns_max);
        self.coverage.fault(FaultKind::MessageDuplicate);
        let sent_at = self.now;
        self.schedule(self.now + late_ns, Event::Deliver { from, to, sent_at, msg });
        true
    }
}
