//! A node's local durable log: appends are volatile until synced; a crash loses exactly the
//! unsynced tail and, when the fault is on, leaves the last write torn (a record recovery must
//! detect and discard, as a checksum would).

use crate::rng::{Ratio, Stream};
use crate::time::{millis, MICROSECOND};
use serde::{Deserialize, Serialize};

/// Knobs of the local disk. `Default`: 100 us syncs, no torn writes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct DiskOptions {
    /// Shortest time an fsync takes, nanoseconds.
    pub sync_latency_ns_min: u64,
    /// Longest time an fsync takes, nanoseconds.
    pub sync_latency_ns_max: u64,
    /// Each node gets a disk of its own speed: its fsyncs take up to a latency drawn once per
    /// node (log-uniform in min..=max) and at least half that, so one node's disk can be a
    /// hundred times slower than its peer's. Otherwise every fsync is uniform in min..=max.
    pub per_node_latency: bool,
    /// Chance that an fsync is a slow outlier (a device hiccup): it then takes up to
    /// `slow_sync_ns_max`, beyond the node's usual latency.
    pub slow_sync_ratio: Ratio,
    /// The slowest outlier fsync, nanoseconds.
    pub slow_sync_ns_max: u64,
    /// Chance that a crash with unsynced writes leaves the first of them torn on disk.
    pub torn_write_ratio: Ratio,
}

impl Default for DiskOptions {
    fn default() -> Self {
        DiskOptions {
            sync_latency_ns_min: 100 * MICROSECOND,
            sync_latency_ns_max: 100 * MICROSECOND,
            per_node_latency: false,
            slow_sync_ratio: Ratio::NEVER,
            slow_sync_ns_max: 0,
            torn_write_ratio: Ratio::NEVER,
        }
    }
}

impl DiskOptions {
    /// Realistic fsyncs for a run: a range per seed from microseconds to tens of milliseconds,
    /// each node its own speed, and with `outliers`, slow fsyncs of up to half a second.
    pub fn swarm(&mut self, rng: &mut Stream, outliers: bool) {
        self.sync_latency_ns_max = rng.log_uniform(20 * MICROSECOND, millis(40));
        self.sync_latency_ns_min = rng.log_uniform(2 * MICROSECOND, self.sync_latency_ns_max);
        self.per_node_latency = true;
        if outliers {
            self.slow_sync_ratio = Ratio::per_10k(rng.log_uniform(1, 1_000) as u32);
            self.slow_sync_ns_max = rng.log_uniform(millis(20), millis(500));
        }
    }

    /// Node `node`'s usual fsync latency bounds, drawn once per run from the `disk-speed`
    /// stream (a stream of its own, so the draws shift nothing else).
    pub fn node_bounds(&self, rng: &mut Stream) -> (u64, u64) {
        let min = self.sync_latency_ns_min;
        let max = self.sync_latency_ns_max.max(min);
        if !self.per_node_latency {
            return (min, max);
        }
        let node_max = rng.log_uniform(min, max);
        ((node_max / 2).max(min), node_max)
    }
}

/// One node's durable log of records of type `R`.
#[derive(Clone, Debug)]
pub struct Disk<R> {
    records: Vec<R>,
    synced_len: usize,
    torn_tail: bool,
}

impl<R> Default for Disk<R> {
    fn default() -> Self {
        Disk { records: Vec::new(), synced_len: 0, torn_tail: false }
    }
}

impl<R> Disk<R> {
    /// Appends a record; it survives a crash only once synced. Returns the new length. The
    /// write lands where a torn record lay, so the torn tail is gone.
    pub fn append(&mut self, record: R) -> usize {
        self.torn_tail = false;
        self.records.push(record);
        self.records.len()
    }

    /// Every record written, synced or not, as the running process sees them.
    pub fn records(&self) -> &[R] {
        &self.records
    }

    /// How many records are durable.
    pub fn synced_len(&self) -> usize {
        self.synced_len
    }

    /// Marks the first `len` records durable (an fsync that began when the log had `len`).
    pub(crate) fn sync_through(&mut self, len: usize) {
        debug_assert!(len <= self.records.len(), "cannot sync records never written");
        self.synced_len = self.synced_len.max(len.min(self.records.len()));
    }

    /// A crash: the unsynced tail is lost. With `tear`, if anything was unsynced, the first lost
    /// record is left torn, which [`Disk::torn_tail`] reports until the next append.
    pub(crate) fn crash(&mut self, tear: bool) {
        let had_unsynced = self.records.len() > self.synced_len;
        self.records.truncate(self.synced_len);
        self.torn_tail = tear && had_unsynced;
    }

    /// True when recovery finds a torn record after the intact ones (and must discard it).
    pub fn torn_tail(&self) -> bool {
        self.torn_tail
    }

    /// Recovery discards the torn record, as a checksum mismatch makes a real log do.
    pub fn discard_torn_tail(&mut self) {
        self.torn_tail = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_drops_exactly_the_unsynced_tail() {
        let mut disk = Disk::default();
        for record in 1..=5 {
            disk.append(record);
        }
        disk.sync_through(3);
        disk.crash(false);
        assert_eq!(disk.records(), &[1, 2, 3]);
        assert!(!disk.torn_tail());
        disk.crash(false);
        assert_eq!(disk.records(), &[1, 2, 3], "a second crash loses nothing durable");
    }

    #[test]
    fn a_torn_write_is_reported_only_when_something_was_unsynced() {
        let mut disk = Disk::default();
        disk.append('a');
        disk.sync_through(1);
        disk.crash(true);
        assert!(!disk.torn_tail(), "nothing was in flight, so nothing tore");
        disk.append('b');
        disk.crash(true);
        assert!(disk.torn_tail());
        assert_eq!(disk.records(), &['a'], "the torn record is never handed back");
        disk.discard_torn_tail();
        assert!(!disk.torn_tail());
    }

    #[test]
    fn sync_never_moves_backwards() {
        let mut disk = Disk::default();
        disk.append(1);
        disk.append(2);
        disk.sync_through(2);
        disk.sync_through(1); // a slower, older fsync completing late
        assert_eq!(disk.synced_len(), 2);
    }
}
