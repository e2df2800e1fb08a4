//! `pingpong`: the smallest complete example of plugging a state machine into the kernel, and
//! the fixed workload the benchmark compares with other simulators.
//!
//! Node 0 is a grant server; nodes 1..=5 are clients. Every 10 ms (local time) each client asks
//! for a 15 ms grant; the server grants it if nobody else holds a live one, else denies. A client
//! believes it holds the grant until `send time + ttl - margin` on its own clock: measured from
//! when it *asked*, so a slow reply can never stretch the grant. The server keeps no durable
//! state, so after a restart it grants nothing for one ttl (a grace period), or it could hand the
//! grant to a second client while the first still believes.
//!
//! Invariant `GrantUniqueness`: at any true instant at most one client believes it holds the
//! grant. Liveness: once faults heal, the server gives some client a live grant.

use sim::faults::{FaultKind, FaultPlan, SwarmProfile};
use sim::rng::Ratio;
use sim::time::{millis, secs};
use sim::{Context, Node, NodeId, RunLimits, Scenario, View, Violation};

/// The grant's time to live, nanoseconds of the server's clock.
pub const GRANT_TTL_NS: u64 = millis(15);
/// How much earlier than the server a client gives the grant up; covers clock drift over a ttl.
pub const SAFETY_MARGIN_NS: u64 = millis(1);
/// How often each client asks, nanoseconds of its own clock.
pub const REQUEST_INTERVAL_NS: u64 = millis(10);
/// Clients in the workload (node ids 1..=CLIENTS).
pub const CLIENTS: u32 = 5;
const SERVER: NodeId = 0;

/// Deliberately broken variants, to prove the invariant bites.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PingPongCanary {
    /// The server grants immediately after a restart, forgetting the grant it gave before.
    NoGracePeriod,
    /// Clients measure the grant from when the reply *arrived* rather than when they asked.
    GrantFromReceipt,
}

impl PingPongCanary {
    /// Name and description, for the registry.
    pub const fn info(self) -> fencepost::CanaryInfo {
        fencepost::CanaryInfo { name: self.name(), description: self.description() }
    }

    pub const ALL: [PingPongCanary; 2] =
        [PingPongCanary::NoGracePeriod, PingPongCanary::GrantFromReceipt];

    pub const fn name(self) -> &'static str {
        match self {
            PingPongCanary::NoGracePeriod => "no-grace-period",
            PingPongCanary::GrantFromReceipt => "grant-from-receipt",
        }
    }

    pub const fn description(self) -> &'static str {
        match self {
            PingPongCanary::NoGracePeriod => {
                "server grants right after a restart, forgetting the live grant"
            }
            PingPongCanary::GrantFromReceipt => {
                "client times the grant from the reply's arrival, not its request"
            }
        }
    }
}

/// Messages of the grant protocol.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Msg {
    /// `asked_at_local_ns` is the client's clock when it asked; the server echoes it back.
    Request {
        seq: u64,
        asked_at_local_ns: u64,
    },
    Grant {
        seq: u64,
        asked_at_local_ns: u64,
    },
    Deny {
        seq: u64,
    },
}

/// A pingpong node: the server or a client.
#[derive(Clone, Debug)]
pub enum PingPongNode {
    Server {
        /// (client, local expiry) of the grant given last.
        holder: Option<(NodeId, u64)>,
        /// No grants before this local time (the grace period after a boot).
        grants_from_local_ns: u64,
    },
    Client {
        seq: u64,
        /// The client believes it holds the grant until this local time.
        believed_until_local_ns: u64,
        /// Canary `grant-from-receipt`: time the grant from the reply's arrival.
        times_from_receipt: bool,
    },
}

impl PingPongNode {
    /// True when this client believes it holds the grant at local time `now`.
    pub fn believes(&self, now_local_ns: u64) -> bool {
        matches!(self, PingPongNode::Client { believed_until_local_ns, .. }
            if now_local_ns < *believed_until_local_ns)
    }
}

impl Node for PingPongNode {
    type Msg = Msg;
    type Value = ();
    type Record = ();
    type Promise = ();
    type Action = ();

    /// The derived `Hash`: faster than the default `Debug` text, and the hashes the tests pin.
    fn hash_message(msg: &Self::Msg, hasher: &mut sim::trace::StableHasher) {
        std::hash::Hash::hash(msg, hasher);
    }

    fn hash_value(value: &Self::Value, hasher: &mut sim::trace::StableHasher) {
        std::hash::Hash::hash(value, hasher);
    }

    fn on_message(&mut self, cx: &mut Context<'_, Self>, from: NodeId, msg: Msg) {
        let now = cx.now_local_ns();
        match (self, msg) {
            (
                PingPongNode::Server { holder, grants_from_local_ns },
                Msg::Request { seq, asked_at_local_ns },
            ) => {
                let free = match *holder {
                    None => true,
                    Some((client, expires)) => client == from || now >= expires,
                };
                if free && now >= *grants_from_local_ns {
                    *holder = Some((from, now + GRANT_TTL_NS));
                    cx.send(from, Msg::Grant { seq, asked_at_local_ns });
                } else {
                    cx.send(from, Msg::Deny { seq });
                }
            }
            (
                PingPongNode::Client { believed_until_local_ns, times_from_receipt, .. },
                Msg::Grant { asked_at_local_ns, .. },
            ) => {
                // The grant began no earlier than the request left, whatever order replies
                // arrive in, so timing it from the echoed send time is safe.
                let start = if *times_from_receipt { now } else { asked_at_local_ns };
                let until = start + GRANT_TTL_NS - SAFETY_MARGIN_NS;
                *believed_until_local_ns = (*believed_until_local_ns).max(until);
                cx.sometimes("grant-received");
            }
            (PingPongNode::Client { .. }, _) => cx.sometimes("grant-denied"),
            (PingPongNode::Server { .. }, _) => {}
        }
    }

    fn label(&self) -> Option<String> {
        Some(match self {
            PingPongNode::Server { .. } => "server".to_string(),
            PingPongNode::Client { believed_until_local_ns, .. } => {
                format!("grant until {believed_until_local_ns}")
            }
        })
    }

    fn on_timer(&mut self, cx: &mut Context<'_, Self>, _tag: u64) {
        if let PingPongNode::Client { seq, .. } = self {
            *seq += 1;
            let asked_at_local_ns = cx.now_local_ns();
            cx.send(SERVER, Msg::Request { seq: *seq, asked_at_local_ns });
            cx.set_timer(REQUEST_INTERVAL_NS, 0);
        }
    }
}

/// The pingpong scenario: boots the nodes and checks `GrantUniqueness`.
pub struct PingPong {
    pub canary: Option<PingPongCanary>,
}

impl Scenario for PingPong {
    type Node = PingPongNode;

    fn node_count(&self) -> u32 {
        CLIENTS + 1
    }

    fn boot(&self, id: NodeId, cx: &mut Context<'_, PingPongNode>) -> PingPongNode {
        if id == SERVER {
            let grace =
                if self.canary == Some(PingPongCanary::NoGracePeriod) { 0 } else { GRANT_TTL_NS };
            return PingPongNode::Server {
                holder: None,
                grants_from_local_ns: cx.now_local_ns() + grace,
            };
        }
        // Clients start at different phases so they do not all ask at the same instant.
        let phase = cx.rng().below(REQUEST_INTERVAL_NS);
        cx.set_timer(phase, 0);
        PingPongNode::Client {
            seq: 0,
            believed_until_local_ns: 0,
            times_from_receipt: self.canary == Some(PingPongCanary::GrantFromReceipt),
        }
    }

    fn check(&mut self, view: &View<'_, PingPongNode>) -> Result<(), Violation> {
        let mut believer: Option<NodeId> = None;
        for id in 1..=CLIENTS {
            let Some(node) = view.node(id) else { continue };
            if node.believes(view.local_ns(id)) {
                if let Some(other) = believer {
                    return Err(Violation::new(
                        "GrantUniqueness",
                        format!("clients n{other} and n{id} both believe they hold the grant"),
                    ));
                }
                believer = Some(id);
            }
        }
        Ok(())
    }

    fn converged(&mut self, view: &View<'_, PingPongNode>) -> Result<(), Violation> {
        let server_now = view.local_ns(SERVER);
        match view.node(SERVER) {
            Some(PingPongNode::Server { holder: Some((_, expires)), .. })
                if server_now < *expires =>
            {
                Ok(())
            }
            _ => Err(Violation::new("GrantEventuallyHeld", "the server holds no live grant")),
        }
    }
}

/// The benchmark's fixed plan: 1-5 ms uniform latency, 1% loss, nothing else.
pub fn benchmark_plan() -> FaultPlan {
    let mut plan = FaultPlan::default();
    plan.network.latency_ns_min = millis(1);
    plan.network.latency_ns_max = millis(5);
    plan.network.drop_ratio = Ratio::per_10k(100);
    plan
}

/// The faults pingpong is built to survive. Clock jumps are left out: a client whose clock
/// steps back keeps believing, which no grant protocol without fencing can prevent.
pub fn swarm_profile() -> SwarmProfile {
    let kinds = [&FaultKind::NETWORK[..], &FaultKind::PROCESS, &[FaultKind::ClockDrift]].concat();
    let mut profile = SwarmProfile::new(CLIENTS + 1, kinds);
    profile.window_ns = secs(8);
    profile
}

/// Limits of a swarm run: 10 s of faults, then up to 5 s to converge.
pub fn limits() -> RunLimits {
    RunLimits::phases(secs(10), secs(5))
}

/// Limits of the benchmark run: 60 simulated seconds, converged at once afterwards.
pub fn benchmark_limits() -> RunLimits {
    RunLimits::phases(secs(60), secs(1))
}
