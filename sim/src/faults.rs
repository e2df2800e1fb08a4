//! The fault plan: every knob of a run in one plain, serializable struct. `Default` injects no
//! faults; [`FaultPlan::swarm`] enables a random subset of fault kinds with random intensities
//! (swarm testing); `schedule` lists the discrete faults, which is what shrinking minimizes.

use crate::aim::AimOptions;
use crate::disk::DiskOptions;
use crate::network::{NetworkOptions, Partition, STORE};
use crate::rng::{Ratio, Stream};
use crate::session::SessionOptions;
use crate::storage::StorageOptions;
use crate::time::{millis, SimTime, MILLISECOND};
use crate::NodeId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Every kind of fault the kernel can inject, for swarm selection and coverage counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// A message lost at random.
    MessageDrop,
    /// A message delivered twice.
    MessageDuplicate,
    /// A message held back so later ones overtake it.
    MessageReorder,
    /// Links cut for a while (`Fault::Partition`).
    Partition,
    /// A link slowed for a while (`Fault::Clog`).
    Clog,
    /// A node crashed and restarted (`Fault::Crash`).
    Crash,
    /// A node frozen for a while (`Fault::Pause`).
    Pause,
    /// Clocks offset and drifting from true time.
    ClockDrift,
    /// A clock stepped forwards or backwards (`Fault::ClockJump`).
    ClockJump,
    /// A storage request refused without applying.
    StorageTransientError,
    /// A storage write applied while its caller saw a timeout.
    StorageAmbiguousWrite,
    /// The object store down for a while (`Fault::StoreOutage`).
    StorageOutage,
    /// A crash left the first unsynced record torn on disk.
    TornWrite,
    /// An fsync far slower than the node's usual (a device hiccup).
    SlowFsync,
    /// A crash or pause aimed at a moment (see `crate::aim`).
    AimedStrike,
    /// The store drops a node's sessions and their locks (see `crate::session`).
    SessionLoss,
    /// A node outside the system joins its network and talks to its members (the scenario
    /// decides what it sends): what the members' peer authentication must shut out.
    Stranger,
}

impl FaultKind {
    /// Every kind, in a fixed order.
    pub const ALL: [FaultKind; 17] = [
        FaultKind::MessageDrop,
        FaultKind::MessageDuplicate,
        FaultKind::MessageReorder,
        FaultKind::Partition,
        FaultKind::Clog,
        FaultKind::Crash,
        FaultKind::Pause,
        FaultKind::ClockDrift,
        FaultKind::ClockJump,
        FaultKind::StorageTransientError,
        FaultKind::StorageAmbiguousWrite,
        FaultKind::StorageOutage,
        FaultKind::TornWrite,
        FaultKind::SlowFsync,
        FaultKind::AimedStrike,
        FaultKind::SessionLoss,
        FaultKind::Stranger,
    ];

    /// Faults of the network: loss, duplication, reordering, partitions, clogged links.
    pub const NETWORK: [FaultKind; 5] = [
        FaultKind::MessageDrop,
        FaultKind::MessageDuplicate,
        FaultKind::MessageReorder,
        FaultKind::Partition,
        FaultKind::Clog,
    ];
    /// Faults of processes: crash and restart, pause.
    pub const PROCESS: [FaultKind; 2] = [FaultKind::Crash, FaultKind::Pause];
    /// Faults of the object store: transient errors, ambiguous writes, outages.
    pub const STORAGE: [FaultKind; 3] = [
        FaultKind::StorageTransientError,
        FaultKind::StorageAmbiguousWrite,
        FaultKind::StorageOutage,
    ];

    /// The kebab-case name used in reports and summaries.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::MessageDrop => "message-drop",
            FaultKind::MessageDuplicate => "message-duplicate",
            FaultKind::MessageReorder => "message-reorder",
            FaultKind::Partition => "partition",
            FaultKind::Clog => "clog",
            FaultKind::Crash => "crash",
            FaultKind::Pause => "pause",
            FaultKind::ClockDrift => "clock-drift",
            FaultKind::ClockJump => "clock-jump",
            FaultKind::StorageTransientError => "storage-transient-error",
            FaultKind::StorageAmbiguousWrite => "storage-ambiguous-write",
            FaultKind::StorageOutage => "storage-outage",
            FaultKind::TornWrite => "torn-write",
            FaultKind::SlowFsync => "slow-fsync",
            FaultKind::AimedStrike => "aimed-strike",
            FaultKind::SessionLoss => "session-loss",
            FaultKind::Stranger => "stranger",
        }
    }
}

/// One discrete fault.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[allow(missing_docs)] // each variant's doc describes its fields
pub enum Fault {
    /// Cut links for `duration_ns`.
    Partition { partition: Partition, duration_ns: u64 },
    /// Add `extra_latency_ns` to the link `from -> to` for `duration_ns`.
    Clog { from: NodeId, to: NodeId, extra_latency_ns: u64, duration_ns: u64 },
    /// Crash `node` (volatile state lost, unsynced disk writes lost); restart after `down_ns`.
    Crash { node: NodeId, down_ns: u64 },
    /// Freeze `node` for `duration_ns`: its timers and deliveries wait, its clock runs on.
    Pause { node: NodeId, duration_ns: u64 },
    /// Step `node`'s clock by `delta_ns` (negative: backwards).
    ClockJump { node: NodeId, delta_ns: i64 },
    /// The object store refuses every request for `duration_ns`.
    StoreOutage { duration_ns: u64 },
    /// The store drops every session of `node` at once (a connection reset, a database
    /// failover): their locks are released. Moot when `node` has no live session.
    SessionLoss { node: NodeId },
}

impl fmt::Display for Fault {
    /// The fault as a report shows it: endpoints by name (`n2`, `store`), times in seconds.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::network::endpoint_name as name;
        use crate::time::format_ns as time;
        match self {
            Fault::Partition { partition, duration_ns } => {
                write!(f, "{partition} for {}", time(*duration_ns))
            }
            Fault::Clog { from, to, extra_latency_ns, duration_ns } => write!(
                f,
                "clog {} -> {} +{} for {}",
                name(*from),
                name(*to),
                time(*extra_latency_ns),
                time(*duration_ns)
            ),
            Fault::Crash { node, down_ns } => {
                write!(f, "crash {}, down for {}", name(*node), time(*down_ns))
            }
            Fault::Pause { node, duration_ns } => {
                write!(f, "pause {} for {}", name(*node), time(*duration_ns))
            }
            Fault::ClockJump { node, delta_ns } => {
                let sign = if *delta_ns < 0 { "-" } else { "+" };
                write!(f, "clock jump {} by {sign}{}", name(*node), time(delta_ns.unsigned_abs()))
            }
            Fault::StoreOutage { duration_ns } => {
                write!(f, "store outage for {}", time(*duration_ns))
            }
            Fault::SessionLoss { node } => write!(f, "session loss of {}", name(*node)),
        }
    }
}

impl Fault {
    /// The kind, for coverage.
    pub fn kind(&self) -> FaultKind {
        match self {
            Fault::Partition { .. } => FaultKind::Partition,
            Fault::Clog { .. } => FaultKind::Clog,
            Fault::Crash { .. } => FaultKind::Crash,
            Fault::Pause { .. } => FaultKind::Pause,
            Fault::ClockJump { .. } => FaultKind::ClockJump,
            Fault::StoreOutage { .. } => FaultKind::StorageOutage,
            Fault::SessionLoss { .. } => FaultKind::SessionLoss,
        }
    }

    /// The nodes the fault names (the store excluded).
    pub fn nodes(&self) -> Vec<NodeId> {
        let mut nodes = match self {
            Fault::Partition { partition, .. } => match partition {
                Partition::Symmetric { side_a: a, side_b: b }
                | Partition::OneWay { from: a, to: b } => [&a[..], &b[..]].concat(),
                Partition::IsolateOne { node } => vec![*node],
                Partition::Split { group } => group.clone(),
            },
            Fault::Clog { from, to, .. } => vec![*from, *to],
            Fault::Crash { node, .. } | Fault::Pause { node, .. } => vec![*node],
            Fault::ClockJump { node, .. } | Fault::SessionLoss { node } => vec![*node],
            Fault::StoreOutage { .. } => vec![],
        };
        nodes.retain(|node| *node != STORE);
        nodes
    }

    /// How long the fault lasts once begun (0 for instantaneous faults).
    pub fn duration_ns(&self) -> u64 {
        match self {
            Fault::Partition { duration_ns, .. }
            | Fault::Clog { duration_ns, .. }
            | Fault::Pause { duration_ns, .. }
            | Fault::StoreOutage { duration_ns } => *duration_ns,
            Fault::Crash { down_ns, .. } => *down_ns,
            Fault::ClockJump { .. } | Fault::SessionLoss { .. } => 0,
        }
    }
}

/// A fault and the true time it begins.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledFault {
    /// When it begins, true nanoseconds from the start of the run.
    pub at_ns: SimTime,
    /// What it does.
    pub fault: Fault,
}

/// Per-node clock error, drawn once per node at the start of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(default, deny_unknown_fields)]
pub struct ClockOptions {
    /// Each node's offset is uniform in `-offset_ns_max..=offset_ns_max`.
    pub offset_ns_max: u64,
    /// Each node's drift is uniform in `-drift_ppm_max..=drift_ppm_max` parts per million.
    pub drift_ppm_max: u64,
}

/// Everything a run may do wrong, in one place. `Default` is a run without faults; set the
/// fields you need on it (the struct is `non_exhaustive`, so a field added later breaks no
/// one).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(default, deny_unknown_fields)]
pub struct FaultPlan {
    /// Latency, loss, duplication and reordering of messages.
    pub network: NetworkOptions,
    /// The object store's latency, timeouts and errors.
    pub storage: StorageOptions,
    /// The disks' fsync latency, slow outliers and torn writes.
    pub disk: DiskOptions,
    /// Clock offsets and drift.
    pub clock: ClockOptions,
    /// Discrete faults, in the order they begin.
    pub schedule: Vec<ScheduledFault>,
    /// Crashes and pauses aimed at moments (off unless a plan says so).
    #[serde(default, skip_serializing_if = "AimOptions::is_off")]
    pub aim: AimOptions,
    /// The session store's knobs (only runs that open sessions read them).
    #[serde(default, skip_serializing_if = "SessionOptions::is_default")]
    pub sessions: SessionOptions,
    /// The scenario's size (lease: contenders; replication: members) when a plan pins it, as
    /// a shrunk plan does; None: the seed decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u32>,
    /// At most this many writes per writing node (lease: fenced writes per contender;
    /// replication: the client's writes) when a plan caps them, as a shrunk plan does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writes_max: Option<u64>,
    /// A stranger joins the network: a node that is no member of the system and talks to its
    /// members (the scenario decides what it sends; `FaultKind::Stranger`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stranger: bool,
}

/// What a scenario allows swarm testing to choose from, and how hard it may hit. Start from
/// [`SwarmProfile::new`] and set the fields to change.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SwarmProfile {
    /// How many nodes the scenario runs (fault targets are `0..nodes`).
    pub nodes: u32,
    /// The fault kinds that make sense for the scenario.
    pub kinds: Vec<FaultKind>,
    /// Discrete faults begin in `0..window_ns`; the liveness phase comes after.
    pub window_ns: u64,
    /// The most discrete faults a plan holds.
    pub faults_max: u64,
    /// The largest clock drift a node may get, parts per million.
    pub drift_ppm_max: u64,
    /// The largest clock offset a node may get, nanoseconds either way.
    pub clock_offset_ns_max: u64,
    /// The largest clock jump, ns, either way.
    pub clock_jump_ns_max: u64,
    /// The longest partition, pause, crash downtime, clog and store outage, ns.
    pub disruption_ns_max: u64,
    /// The moments aimed strikes may target (`crate::aim`): the kernel's own and those the
    /// scenario's machines mark. Naming any switches aimed strikes on, as if `kinds` held
    /// `AimedStrike`.
    pub moments: Vec<&'static str>,
}

impl SwarmProfile {
    /// A profile for `nodes` faultable nodes (ids `0..nodes`) allowing `kinds`: faults begin
    /// within the first 10 s, at most 8 discrete ones, disruptions up to 2 s, clock drift up to
    /// 1,000 ppm and offsets up to 50 ms (when `kinds` allows clock drift), no clock jumps, no
    /// moments aimed at.
    pub fn new(nodes: u32, kinds: Vec<FaultKind>) -> SwarmProfile {
        SwarmProfile {
            nodes,
            kinds,
            window_ns: crate::time::secs(10),
            faults_max: 8,
            drift_ppm_max: 1_000,
            clock_offset_ns_max: millis(50),
            clock_jump_ns_max: 0,
            disruption_ns_max: crate::time::secs(2),
            moments: Vec::new(),
        }
    }

    /// True when the profile allows `kind`; aimed strikes are allowed by naming moments too.
    pub fn allows(&self, kind: FaultKind) -> bool {
        self.kinds.contains(&kind) || (kind == FaultKind::AimedStrike && !self.moments.is_empty())
    }
}

impl FaultPlan {
    /// Pins the scenario's size to `size`, at which its faults may reach `nodes` nodes (ids
    /// `0..nodes`), drops every discrete fault that names another (the store aside), and aims
    /// only at those.
    pub fn pin_size(&mut self, size: u32, nodes: u32) {
        self.size = Some(size);
        self.schedule.retain(|fault| fault.fault.nodes().iter().all(|node| *node < nodes));
        self.aim.targets = self.aim.targets.min(nodes);
    }

    /// A random plan: each allowed kind is switched on with probability 1/2, with a random
    /// intensity, and the discrete faults of the enabled kinds are scheduled in the window.
    pub fn swarm(rng: &mut Stream, profile: &SwarmProfile) -> FaultPlan {
        let mut enabled: Vec<FaultKind> = Vec::new();
        for kind in FaultKind::ALL {
            // A stranger is drawn last (below), so allowing one shifts no other draw.
            if kind != FaultKind::Stranger && profile.allows(kind) && rng.coin() {
                enabled.push(kind);
            }
        }
        let on = |kind| enabled.contains(&kind);
        let mut plan = FaultPlan::default();
        let latency_ns_max = millis(rng.between(1, 20));
        plan.network.latency_ns_min = rng.between(MILLISECOND / 10, latency_ns_max);
        plan.network.latency_ns_max = latency_ns_max;
        let ratio = |rng: &mut Stream, kind, max_per_10k| {
            if on(kind) {
                Ratio::per_10k(rng.between(1, max_per_10k) as u32)
            } else {
                Ratio::NEVER
            }
        };
        plan.network.drop_ratio = ratio(rng, FaultKind::MessageDrop, 2_000);
        plan.network.duplicate_ratio = ratio(rng, FaultKind::MessageDuplicate, 1_000);
        plan.network.reorder_ratio = ratio(rng, FaultKind::MessageReorder, 3_000);
        plan.network.reorder_delay_ns_max = millis(rng.between(1, 50));
        plan.storage.latency_ns_max = millis(rng.between(1, 30));
        plan.storage.latency_ns_min = rng.between(MILLISECOND / 10, plan.storage.latency_ns_max);
        plan.storage.transient_error_ratio = ratio(rng, FaultKind::StorageTransientError, 2_000);
        plan.storage.ambiguous_ratio = ratio(rng, FaultKind::StorageAmbiguousWrite, 1_000);
        plan.disk.torn_write_ratio = ratio(rng, FaultKind::TornWrite, 10_000);
        if on(FaultKind::ClockDrift) {
            plan.clock.drift_ppm_max = rng.between(1, profile.drift_ppm_max.max(1));
            plan.clock.offset_ns_max = rng.between(0, profile.clock_offset_ns_max);
        }
        let discrete: Vec<FaultKind> = enabled
            .iter()
            .copied()
            .filter(|kind| {
                matches!(
                    kind,
                    FaultKind::Partition
                        | FaultKind::Clog
                        | FaultKind::Crash
                        | FaultKind::Pause
                        | FaultKind::ClockJump
                        | FaultKind::StorageOutage
                        | FaultKind::SessionLoss
                )
            })
            .collect();
        if !discrete.is_empty() {
            let count = rng.between(1, profile.faults_max.max(1));
            for _ in 0..count {
                let kind = *rng.pick(&discrete);
                let at_ns = rng.below(profile.window_ns.max(1));
                plan.schedule
                    .push(ScheduledFault { at_ns, fault: random_fault(rng, kind, profile) });
            }
            plan.schedule.sort_by_key(|fault| fault.at_ns);
        }
        // Drawn last so adding it did not shift any earlier draw (and so any seed's plan).
        // Never below three one-way latencies: a timeout shorter than the round trip is a
        // misconfiguration under which no client makes progress, not a fault worth finding.
        let timeout_ns_min = (3 * plan.storage.latency_ns_max).max(millis(20));
        plan.storage.timeout_ns =
            rng.log_uniform(timeout_ns_min, millis(1_000).max(timeout_ns_min));
        // Drawn after everything above, and only for profiles that allow them, so the plans of
        // scenarios without disks or aims are what they always were.
        if profile.kinds.contains(&FaultKind::SlowFsync) {
            plan.disk.swarm(rng, on(FaultKind::SlowFsync));
        }
        if on(FaultKind::AimedStrike) {
            let faults_max = profile.faults_max as u32;
            plan.aim = AimOptions::swarm(rng, profile.nodes, &profile.moments, faults_max);
        }
        // Drawn last, and only for profiles with sessions, for the same reason.
        if profile.kinds.contains(&FaultKind::SessionLoss) {
            plan.sessions.keepalive_ns = rng.log_uniform(millis(100), millis(5_000));
            if on(FaultKind::SessionLoss) && on(FaultKind::AimedStrike) {
                plan.aim.session_loss_ratio = Ratio::per_10k(rng.between(1_000, 10_000) as u32);
            }
        }
        // Last, and only for profiles that allow one, for the same reason.
        if profile.allows(FaultKind::Stranger) {
            plan.stranger = rng.coin();
        }
        plan
    }

    /// The kinds this plan can exercise: enabled ratios, clock error and scheduled faults.
    pub fn enabled_kinds(&self) -> Vec<FaultKind> {
        let mut kinds = Vec::new();
        let mut add = |on: bool, kind| {
            if on && !kinds.contains(&kind) {
                kinds.push(kind)
            }
        };
        add(!self.network.drop_ratio.is_never(), FaultKind::MessageDrop);
        add(!self.network.duplicate_ratio.is_never(), FaultKind::MessageDuplicate);
        add(!self.network.reorder_ratio.is_never(), FaultKind::MessageReorder);
        add(!self.storage.transient_error_ratio.is_never(), FaultKind::StorageTransientError);
        add(!self.storage.ambiguous_ratio.is_never(), FaultKind::StorageAmbiguousWrite);
        add(!self.disk.torn_write_ratio.is_never(), FaultKind::TornWrite);
        add(!self.disk.slow_sync_ratio.is_never(), FaultKind::SlowFsync);
        add(!self.aim.is_off(), FaultKind::AimedStrike);
        add(self.clock.drift_ppm_max > 0 || self.clock.offset_ns_max > 0, FaultKind::ClockDrift);
        add(self.stranger, FaultKind::Stranger);
        for scheduled in &self.schedule {
            add(true, scheduled.fault.kind());
        }
        kinds.sort();
        kinds
    }

    /// When the last scheduled fault ends (0 with none).
    pub fn last_fault_end_ns(&self) -> SimTime {
        self.schedule.iter().map(|s| s.at_ns + s.fault.duration_ns()).max().unwrap_or(0)
    }
}

fn random_fault(rng: &mut Stream, kind: FaultKind, profile: &SwarmProfile) -> Fault {
    let nodes = profile.nodes.max(1);
    let duration_ns = rng.log_uniform(millis(1), profile.disruption_ns_max.max(millis(1)));
    let node = rng.below(nodes as u64) as NodeId;
    match kind {
        FaultKind::Partition => {
            Fault::Partition { partition: random_partition(rng, nodes), duration_ns }
        }
        FaultKind::Clog => {
            let to = if rng.coin() { STORE } else { rng.below(nodes as u64) as NodeId };
            let extra_latency_ns = rng.log_uniform(millis(1), millis(1_000));
            Fault::Clog { from: node, to, extra_latency_ns, duration_ns }
        }
        FaultKind::Crash => Fault::Crash { node, down_ns: duration_ns },
        FaultKind::Pause => Fault::Pause { node, duration_ns },
        FaultKind::SessionLoss => Fault::SessionLoss { node },
        FaultKind::ClockJump => {
            let magnitude = rng.log_uniform(1, profile.clock_jump_ns_max.max(1)) as i64;
            Fault::ClockJump { node, delta_ns: if rng.coin() { magnitude } else { -magnitude } }
        }
        _ => Fault::StoreOutage { duration_ns },
    }
}

fn random_partition(rng: &mut Stream, nodes: u32) -> Partition {
    let mut endpoints: Vec<NodeId> = (0..nodes).chain([STORE]).collect();
    match rng.below(4) {
        0 => Partition::IsolateOne { node: *rng.pick(&endpoints) },
        1 => {
            rng.shuffle(&mut endpoints);
            let cut = rng.between(1, endpoints.len() as u64 - 1) as usize;
            let mut group = endpoints[..cut].to_vec();
            group.sort();
            Partition::Split { group }
        }
        2 => {
            rng.shuffle(&mut endpoints);
            let cut = rng.between(1, endpoints.len() as u64 - 1) as usize;
            let (mut from, mut to) = (endpoints[..cut].to_vec(), endpoints[cut..].to_vec());
            from.sort();
            to.sort();
            Partition::OneWay { from, to }
        }
        _ => {
            let a = *rng.pick(&endpoints);
            let b = *rng.pick(&endpoints);
            Partition::Symmetric { side_a: vec![a], side_b: vec![b] }
        }
    }
}

impl fmt::Display for FaultPlan {
    /// Every knob, one per line, so a report describes itself.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.describe(f, true)
    }
}

impl FaultPlan {
    /// The plan as [`fmt::Display`] shows it, one knob per line; without `storage`, the
    /// object store's line is left out (for a run that never used the store).
    pub fn describe(&self, f: &mut impl fmt::Write, storage: bool) -> fmt::Result {
        let n = &self.network;
        writeln!(
            f,
            "  network: latency {}..{} ns, drop {}, duplicate {}, reorder {} (+{} ns max)",
            n.latency_ns_min,
            n.latency_ns_max,
            n.drop_ratio,
            n.duplicate_ratio,
            n.reorder_ratio,
            n.reorder_delay_ns_max
        )?;
        let s = &self.storage;
        if storage {
            writeln!(
                f,
                "  storage: latency {}..{} ns, timeout {} ns, transient {}, ambiguous {}",
                s.latency_ns_min,
                s.latency_ns_max,
                s.timeout_ns,
                s.transient_error_ratio,
                s.ambiguous_ratio
            )?;
        }
        if let Some(size) = self.size {
            writeln!(f, "  size: {size} (pinned by the plan)")?;
        }
        if let Some(writes_max) = self.writes_max {
            writeln!(f, "  writes: at most {writes_max} per writer (capped by the plan)")?;
        }
        let d = &self.disk;
        let slow = match d.slow_sync_ratio.is_never() {
            true => String::new(),
            false => format!(", slow {} (up to {} ns)", d.slow_sync_ratio, d.slow_sync_ns_max),
        };
        writeln!(
            f,
            "  disk: sync {}..{} ns{}{slow}, torn write {}",
            d.sync_latency_ns_min,
            d.sync_latency_ns_max,
            if d.per_node_latency { " (each node its own speed)" } else { "" },
            d.torn_write_ratio
        )?;
        if !self.aim.is_off() {
            let a = &self.aim;
            let moments: Vec<String> =
                a.moments.iter().map(|m| format!("{} {}", m.name, m.ratio)).collect();
            let session_loss = match a.session_loss_ratio.is_never() {
                true => String::new(),
                false => format!("session loss {}, ", a.session_loss_ratio),
            };
            writeln!(
                f,
                "  aim: up to {} strikes on nodes 0..{} at {}; {session_loss}crash {} (down <= \
                 {} ns), else pause <= {} ns",
                a.strikes_max,
                a.targets,
                moments.join(", "),
                a.crash_ratio,
                a.down_ns_max,
                a.pause_ns_max
            )?;
        }
        if !self.sessions.is_default() {
            writeln!(f, "  sessions: keepalive {} ns", self.sessions.keepalive_ns)?;
        }
        writeln!(
            f,
            "  clock: offset up to ±{} ns, drift up to ±{} ppm",
            self.clock.offset_ns_max, self.clock.drift_ppm_max
        )?;
        if self.stranger {
            writeln!(f, "  stranger: a node outside the system on its network")?;
        }
        writeln!(f, "  schedule: {} discrete faults", self.schedule.len())?;
        for scheduled in &self.schedule {
            writeln!(f, "    at {}: {}", crate::time::format_ns(scheduled.at_ns), scheduled.fault)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::secs;

    fn profile(kinds: Vec<FaultKind>) -> SwarmProfile {
        let mut profile = SwarmProfile::new(3, kinds);
        profile.faults_max = 6;
        profile.drift_ppm_max = 200;
        profile.clock_offset_ns_max = millis(5);
        profile.clock_jump_ns_max = millis(100);
        profile
    }

    /// The same, aiming at the kernel's after-send moment.
    fn aiming(kinds: Vec<FaultKind>) -> SwarmProfile {
        let mut profile = profile(kinds);
        profile.moments = vec![crate::aim::AFTER_SEND];
        profile
    }

    #[test]
    fn the_default_plan_injects_nothing() {
        assert!(FaultPlan::default().enabled_kinds().is_empty());
    }

    #[test]
    fn swarm_only_uses_allowed_kinds_and_varies_by_seed() {
        let allowed = vec![FaultKind::MessageDrop, FaultKind::Crash, FaultKind::Partition];
        let mut seen = std::collections::BTreeSet::new();
        let mut plans = Vec::new();
        for seed in 0..200 {
            let plan =
                FaultPlan::swarm(&mut Stream::fork(seed, "faults"), &profile(allowed.clone()));
            for kind in plan.enabled_kinds() {
                assert!(allowed.contains(&kind), "{kind:?} was not allowed");
                seen.insert(kind);
            }
            assert!(plan.schedule.windows(2).all(|w| w[0].at_ns <= w[1].at_ns), "sorted");
            assert!(plan.schedule.iter().all(|s| s.at_ns < secs(10)), "inside the window");
            plans.push(plan);
        }
        assert_eq!(seen.len(), allowed.len(), "every allowed kind is chosen by some seed");
        assert!(plans.iter().any(|p| p.enabled_kinds().is_empty() || p.schedule.is_empty()));
        assert_ne!(plans[0], plans[1]);
    }

    #[test]
    fn swarm_is_a_pure_function_of_the_stream() {
        let all = aiming(FaultKind::ALL.to_vec());
        let a = FaultPlan::swarm(&mut Stream::fork(5, "faults"), &all);
        let b = FaultPlan::swarm(&mut Stream::fork(5, "faults"), &all);
        assert_eq!(a, b);
    }

    #[test]
    fn swarm_aims_and_varies_disks_only_where_the_profile_allows() {
        let without = profile(vec![FaultKind::Crash, FaultKind::AimedStrike]);
        // Naming moments is enough to aim: the kind need not be listed too.
        let with = aiming(vec![FaultKind::Crash, FaultKind::SlowFsync]);
        let (mut aimed, mut per_node) = (0, 0);
        for seed in 0..200 {
            let plain = FaultPlan::swarm(&mut Stream::fork(seed, "faults"), &without);
            assert!(plain.aim.is_off() && !plain.disk.per_node_latency);
            let plan = FaultPlan::swarm(&mut Stream::fork(seed, "faults"), &with);
            per_node += u32::from(plan.disk.per_node_latency);
            if !plan.aim.is_off() {
                aimed += 1;
                assert_eq!(plan.aim.targets, 3);
                assert!(plan.aim.moments.iter().all(|m| m.name == crate::aim::AFTER_SEND));
                assert!((1..=6).contains(&plan.aim.strikes_max));
            }
        }
        assert_eq!(per_node, 200, "disks vary whenever the profile has them");
        assert!((60..140).contains(&aimed), "about half the plans aim: {aimed}");
    }

    #[test]
    fn plans_round_trip_through_json() {
        let plan =
            FaultPlan::swarm(&mut Stream::fork(11, "faults"), &profile(FaultKind::ALL.to_vec()));
        let json = serde_json::to_string(&plan).unwrap();
        assert_eq!(serde_json::from_str::<FaultPlan>(&json).unwrap(), plan);
    }
}
