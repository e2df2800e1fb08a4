//! The simulated network: per-message latency, loss, duplication and reordering; partitions
//! (symmetric, one-way, isolate-one, split) and clogged links that begin and heal at planned
//! times. Endpoints are the nodes `0..n` and the object store, addressed as [`STORE`].

use crate::rng::{Ratio, Stream};
use crate::NodeId;
use serde::{Deserialize, Serialize};

/// The object store's address on the network, for partitions between nodes and the store.
pub const STORE: NodeId = NodeId::MAX;

/// The most endpoints (nodes plus the store) a network holds: one bit each in a u64 row.
pub const ENDPOINTS_MAX: usize = 64;

/// Knobs of message transit. `Default` is a perfect network with a 1 ms latency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct NetworkOptions {
    /// Shortest one-way latency, nanoseconds.
    pub latency_ns_min: u64,
    /// Longest one-way latency, nanoseconds (uniform between min and max).
    pub latency_ns_max: u64,
    /// Chance that a message is lost.
    pub drop_ratio: Ratio,
    /// Chance that a message is delivered twice (the copy has its own latency).
    pub duplicate_ratio: Ratio,
    /// Chance that a message is held back by an extra delay, so later ones overtake it.
    pub reorder_ratio: Ratio,
    /// The longest extra delay of a reordered message, nanoseconds.
    pub reorder_delay_ns_max: u64,
}

impl Default for NetworkOptions {
    fn default() -> Self {
        NetworkOptions {
            latency_ns_min: crate::time::MILLISECOND,
            latency_ns_max: crate::time::MILLISECOND,
            drop_ratio: Ratio::NEVER,
            duplicate_ratio: Ratio::NEVER,
            reorder_ratio: Ratio::NEVER,
            reorder_delay_ns_max: 0,
        }
    }
}

/// Which links a partition cuts. Node lists may include [`STORE`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[allow(missing_docs)] // each variant's doc describes its fields
pub enum Partition {
    /// Cuts both directions between every node of `side_a` and every node of `side_b`.
    Symmetric { side_a: Vec<NodeId>, side_b: Vec<NodeId> },
    /// Cuts only messages from `from` to `to`; replies still flow.
    OneWay { from: Vec<NodeId>, to: Vec<NodeId> },
    /// Cuts one node (or the store) off from every other endpoint.
    IsolateOne { node: NodeId },
    /// Cuts `group` off from every endpoint outside it (a majority/minority split).
    Split { group: Vec<NodeId> },
}

/// An endpoint as people read it: `n3`, or `store`.
pub fn endpoint_name(id: NodeId) -> String {
    if id == STORE {
        "store".to_string()
    } else {
        format!("n{id}")
    }
}

fn endpoint_list(ids: &[NodeId]) -> String {
    let names: Vec<String> = ids.iter().map(|id| endpoint_name(*id)).collect();
    format!("[{}]", names.join(", "))
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Partition::Symmetric { side_a, side_b } => {
                write!(f, "partition {} | {}", endpoint_list(side_a), endpoint_list(side_b))
            }
            Partition::OneWay { from, to } => {
                write!(f, "one-way partition {} -> {}", endpoint_list(from), endpoint_list(to))
            }
            Partition::IsolateOne { node } => write!(f, "isolate {}", endpoint_name(*node)),
            Partition::Split { group } => write!(f, "split {} | the rest", endpoint_list(group)),
        }
    }
}

/// What happens to one sent message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // each variant's doc describes its fields
pub enum Transit {
    /// Lost: a partition or a random drop.
    Dropped,
    /// Delivered after `latency_ns`, and a second time after `duplicate_ns` when duplicated;
    /// `held_back` when the reorder fault delayed it.
    Delivered { latency_ns: u64, duplicate_ns: Option<u64>, held_back: bool },
}

/// The network's current state: which links are cut or clogged.
#[derive(Clone, Debug)]
pub struct Network {
    nodes: usize,
    /// `blocked[from] >> to & 1`: the link from -> to is cut. Recomputed from `partitions`.
    blocked: Vec<u64>,
    /// Active partitions by fault id, so healing one never heals another.
    partitions: Vec<(u64, Partition)>,
    /// Active clogs: (fault id, from, to, extra latency ns).
    clogs: Vec<(u64, usize, usize, u64)>,
}

impl Network {
    /// A network of `nodes` nodes plus the store, with every link open.
    pub fn new(nodes: usize) -> Network {
        assert!(nodes < ENDPOINTS_MAX, "at most {} nodes", ENDPOINTS_MAX - 1);
        Network { nodes, blocked: vec![0; nodes + 1], partitions: Vec::new(), clogs: Vec::new() }
    }

    fn index(&self, endpoint: NodeId) -> usize {
        if endpoint == STORE {
            self.nodes
        } else {
            assert!((endpoint as usize) < self.nodes, "no endpoint {endpoint}");
            endpoint as usize
        }
    }

    /// True when a message from `from` to `to` can currently get through.
    #[inline]
    pub fn link_open(&self, from: NodeId, to: NodeId) -> bool {
        self.blocked[self.index(from)] & (1u64 << self.index(to)) == 0
    }

    /// Starts partition `id`.
    pub fn partition(&mut self, id: u64, partition: Partition) {
        self.partitions.push((id, partition));
        self.recompute();
    }

    /// Heals partition `id` (a no-op if it is not active).
    pub fn heal(&mut self, id: u64) {
        self.partitions.retain(|(active, _)| *active != id);
        self.clogs.retain(|(active, ..)| *active != id);
        self.recompute();
    }

    /// Slows the link `from -> to` by `extra_ns` until clog `id` heals.
    pub fn clog(&mut self, id: u64, from: NodeId, to: NodeId, extra_ns: u64) {
        let (from, to) = (self.index(from), self.index(to));
        self.clogs.push((id, from, to, extra_ns));
    }

    /// Heals every partition and clog.
    pub fn heal_all(&mut self) {
        self.partitions.clear();
        self.clogs.clear();
        self.recompute();
    }

    /// Every pair of endpoints (a < b, the store as [`STORE`]) that cannot talk both ways
    /// now: what a healing compares before and after to tell who reconnected.
    pub(crate) fn cut_pairs(&self) -> Vec<(NodeId, NodeId)> {
        let endpoints = self.nodes + 1;
        let id = |index: usize| if index == self.nodes { STORE } else { index as NodeId };
        let mut cut = Vec::new();
        for a in 0..endpoints {
            for b in a + 1..endpoints {
                let blocked = self.blocked[a] & (1 << b) != 0 || self.blocked[b] & (1 << a) != 0;
                if blocked {
                    cut.push((id(a), id(b)));
                }
            }
        }
        cut
    }

    /// True when some partition is active.
    pub fn partitioned(&self) -> bool {
        !self.partitions.is_empty()
    }

    fn recompute(&mut self) {
        let endpoints = self.nodes + 1;
        let mut blocked = vec![0u64; endpoints];
        let everyone: Vec<usize> = (0..endpoints).collect();
        for (_, partition) in &self.partitions {
            let indices = |list: &[NodeId]| list.iter().map(|n| self.index(*n)).collect::<Vec<_>>();
            let (from, to, both) = match partition {
                Partition::Symmetric { side_a, side_b } => (indices(side_a), indices(side_b), true),
                Partition::OneWay { from, to } => (indices(from), indices(to), false),
                Partition::IsolateOne { node } => (vec![self.index(*node)], everyone.clone(), true),
                Partition::Split { group } => {
                    let inside = indices(group);
                    let outside =
                        everyone.iter().copied().filter(|e| !inside.contains(e)).collect();
                    (inside, outside, true)
                }
            };
            for &a in &from {
                for &b in &to {
                    if a != b {
                        blocked[a] |= 1 << b;
                        if both {
                            blocked[b] |= 1 << a;
                        }
                    }
                }
            }
        }
        self.blocked = blocked;
    }

    /// Decides the fate of one message sent now from `from` to `to`.
    #[inline]
    pub fn transit(
        &self,
        rng: &mut Stream,
        options: &NetworkOptions,
        from: NodeId,
        to: NodeId,
    ) -> Transit {
        if !self.link_open(from, to) || rng.chance(options.drop_ratio) {
            return Transit::Dropped;
        }
        let mut latency_ns = rng.between(options.latency_ns_min, options.latency_ns_max);
        let held_back = rng.chance(options.reorder_ratio);
        if held_back {
            latency_ns += rng.between(0, options.reorder_delay_ns_max);
        }
        let clog_ns = self.clog_delay_ns(from, to);
        let duplicate_ns = rng
            .chance(options.duplicate_ratio)
            .then(|| rng.between(options.latency_ns_min, options.latency_ns_max) + clog_ns);
        Transit::Delivered { latency_ns: latency_ns + clog_ns, duplicate_ns, held_back }
    }

    /// The extra latency clogs currently add to the link `from -> to`, nanoseconds.
    #[inline]
    pub fn clog_delay_ns(&self, from: NodeId, to: NodeId) -> u64 {
        if self.clogs.is_empty() {
            return 0;
        }
        let (from, to) = (self.index(from), self.index(to));
        let on_link = |(_, f, t, _): &&(u64, usize, usize, u64)| (*f, *t) == (from, to);
        self.clogs.iter().filter(on_link).map(|(.., extra)| extra).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::millis;

    fn open_pairs(network: &Network, nodes: u32) -> Vec<(NodeId, NodeId)> {
        let endpoints: Vec<NodeId> = (0..nodes).chain([STORE]).collect();
        let mut open = Vec::new();
        for &a in &endpoints {
            for &b in &endpoints {
                if a != b && network.link_open(a, b) {
                    open.push((a, b));
                }
            }
        }
        open
    }

    #[test]
    fn a_symmetric_partition_blocks_exactly_the_pairs_it_names() {
        let mut network = Network::new(3);
        network.partition(1, Partition::Symmetric { side_a: vec![0], side_b: vec![1, STORE] });
        let open = open_pairs(&network, 3);
        for cut in [(0, 1), (1, 0), (0, STORE), (STORE, 0)] {
            assert!(!open.contains(&cut), "{cut:?} must be cut");
        }
        assert_eq!(open.len(), 12 - 4, "every other pair stays open");
        network.heal(1);
        assert_eq!(open_pairs(&network, 3).len(), 12);
    }

    #[test]
    fn a_one_way_partition_cuts_one_direction() {
        let mut network = Network::new(2);
        network.partition(1, Partition::OneWay { from: vec![0], to: vec![1] });
        assert!(!network.link_open(0, 1));
        assert!(network.link_open(1, 0));
    }

    #[test]
    fn isolate_one_and_split_cut_a_group_off_from_everyone_else() {
        let mut network = Network::new(4);
        network.partition(1, Partition::IsolateOne { node: 2 });
        assert!(!network.link_open(2, STORE) && !network.link_open(0, 2));
        assert!(network.link_open(0, 1) && network.link_open(1, STORE));
        network.heal(1);
        network.partition(2, Partition::Split { group: vec![0, 1] });
        assert!(network.link_open(0, 1), "inside the group stays connected");
        assert!(network.link_open(2, 3) && network.link_open(3, STORE), "so does the outside");
        assert!(!network.link_open(1, 3) && !network.link_open(STORE, 0));
    }

    #[test]
    fn healing_one_partition_keeps_another() {
        let mut network = Network::new(3);
        network.partition(1, Partition::IsolateOne { node: 0 });
        network.partition(2, Partition::OneWay { from: vec![1], to: vec![2] });
        network.heal(1);
        assert!(network.link_open(0, 1));
        assert!(!network.link_open(1, 2), "partition 2 is still active");
        network.heal_all();
        assert!(network.link_open(1, 2) && !network.partitioned());
    }

    #[test]
    fn transit_follows_the_options() {
        let mut rng = Stream::fork(1, "net");
        let network = Network::new(2);
        let perfect = NetworkOptions::default();
        for _ in 0..100 {
            let transit = network.transit(&mut rng, &perfect, 0, 1);
            assert_eq!(
                transit,
                Transit::Delivered { latency_ns: millis(1), duplicate_ns: None, held_back: false }
            );
        }
        let lossy = NetworkOptions {
            latency_ns_min: millis(1),
            latency_ns_max: millis(5),
            drop_ratio: Ratio::per_10k(2_000),
            duplicate_ratio: Ratio::per_10k(1_000),
            ..perfect
        };
        let (mut dropped, mut duplicated) = (0, 0);
        for _ in 0..10_000 {
            match network.transit(&mut rng, &lossy, 0, 1) {
                Transit::Dropped => dropped += 1,
                Transit::Delivered { latency_ns, duplicate_ns, .. } => {
                    assert!((millis(1)..=millis(5)).contains(&latency_ns));
                    duplicated += duplicate_ns.is_some() as u32;
                }
            }
        }
        assert!((1_800..2_200).contains(&dropped), "20% dropped, got {dropped}");
        assert!((600..1_000).contains(&duplicated), "10% of the rest duplicated: {duplicated}");
    }

    #[test]
    fn a_clog_slows_only_its_link_until_healed() {
        let mut rng = Stream::fork(1, "net");
        let mut network = Network::new(2);
        let options = NetworkOptions::default();
        network.clog(7, 0, 1, millis(100));
        let slow = network.transit(&mut rng, &options, 0, 1);
        assert_eq!(
            slow,
            Transit::Delivered { latency_ns: millis(101), duplicate_ns: None, held_back: false }
        );
        let back = network.transit(&mut rng, &options, 1, 0);
        assert_eq!(
            back,
            Transit::Delivered { latency_ns: millis(1), duplicate_ns: None, held_back: false }
        );
        network.heal(7);
        let healed = network.transit(&mut rng, &options, 0, 1);
        assert_eq!(
            healed,
            Transit::Delivered { latency_ns: millis(1), duplicate_ns: None, held_back: false }
        );
    }
}
