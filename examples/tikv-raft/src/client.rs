//! The workload: one client outside the cluster and out of the faults' reach. It sends one
//! write at a time to the voter it believes leads, follows redirects, retries a write that
//! goes unanswered at another voter, and stops starting new writes when the workload ends (so
//! the cluster can be seen to converge), retrying the last until it is acknowledged.

use crate::node::{Msg, RaftNode, VOTERS};
use fencepost::sim::time::millis;
use fencepost::sim::{Context, NodeId};

/// How often the client looks at its write, nanoseconds of its own clock.
const INTERVAL_NS: u64 = millis(20);
/// How long it waits for an answer before trying another voter, nanoseconds.
const RETRY_NS: u64 = millis(500);

/// The write in flight: its id and when it was last sent (local ns), or None to resend now.
#[derive(Clone, Copy, Debug)]
struct InFlight {
    write: u64,
    sent_at_local_ns: Option<u64>,
}

/// The client node.
#[derive(Clone, Debug)]
pub struct Client {
    leader_guess: NodeId,
    next_write: u64,
    in_flight: Option<InFlight>,
    /// No new write starts after this local time.
    workload_end_local_ns: u64,
    /// The most writes it starts (a shrunk plan's cap).
    writes_max: u64,
}

impl Client {
    /// A client that starts writes for `workload_ns` of its clock, at most `writes_max`.
    pub fn boot(cx: &mut Context<'_, RaftNode>, workload_ns: u64, writes_max: u64) -> Client {
        cx.set_timer(INTERVAL_NS, 0);
        let workload_end_local_ns = cx.now_local_ns() + workload_ns;
        let leader_guess = cx.rng().below(u64::from(VOTERS)) as NodeId;
        Client { leader_guess, next_write: 1, in_flight: None, workload_end_local_ns, writes_max }
    }

    /// True when no write waits for an acknowledgement.
    pub fn idle(&self) -> bool {
        self.in_flight.is_none()
    }

    /// Starts the next write, or sends the one in flight again when it is due.
    pub fn tick(&mut self, cx: &mut Context<'_, RaftNode>) {
        cx.set_timer(INTERVAL_NS, 0);
        let now = cx.now_local_ns();
        let in_flight = match self.in_flight {
            Some(in_flight) => in_flight,
            None if now < self.workload_end_local_ns && self.next_write <= self.writes_max => {
                self.next_write += 1;
                InFlight { write: self.next_write - 1, sent_at_local_ns: None }
            }
            None => return,
        };
        let due = match in_flight.sent_at_local_ns {
            None => true,
            Some(sent) if now.saturating_sub(sent) >= RETRY_NS => {
                self.leader_guess = (self.leader_guess + 1) % VOTERS;
                cx.sometimes("write-retried");
                true
            }
            Some(_) => false,
        };
        if due {
            cx.send(self.leader_guess, Msg::Propose { write: in_flight.write });
            self.in_flight = Some(InFlight { sent_at_local_ns: Some(now), ..in_flight });
        } else {
            self.in_flight = Some(in_flight);
        }
    }

    /// The leader acknowledged `write` (a late duplicate of an older one changes nothing).
    pub fn on_ack(&mut self, cx: &mut Context<'_, RaftNode>, write: u64) {
        if self.in_flight.is_some_and(|in_flight| in_flight.write == write) {
            self.in_flight = None;
            cx.sometimes("write-acked");
        }
    }

    /// A voter that does not lead named the one it believes does: resend there next time.
    pub fn on_redirect(
        &mut self,
        cx: &mut Context<'_, RaftNode>,
        write: u64,
        leader: Option<NodeId>,
    ) {
        let Some(in_flight) = self.in_flight.as_mut().filter(|f| f.write == write) else { return };
        cx.sometimes("write-redirected");
        self.leader_guess = leader.unwrap_or((self.leader_guess + 1) % VOTERS);
        in_flight.sent_at_local_ns = None;
    }
}
