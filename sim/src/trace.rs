//! The trace: a compact record per step, kept in a bounded ring buffer and folded into a running
//! 64-bit hash. Same seed, same hash, on any machine. With capture on (replays, reports), every
//! record is also kept in full with a readable detail, for JSON-lines export.

use crate::time::SimTime;
use serde::{Deserialize, Serialize};
use std::hash::{Hash, Hasher};

/// What a trace record describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A message reached `node` from `peer`; `aux` is the true time it was sent.
    Deliver,
    /// A message from `peer` to `node` was lost (drop, partition, or a crashed receiver).
    Drop,
    /// A timer of `node` fired; `aux` is its tag.
    Timer,
    /// A storage request of `node` reached the store and was applied (or refused).
    StoreApply,
    /// A storage reply reached `node`.
    StoreReply,
    /// `node`'s durable log synced; `aux` is the durable length.
    DiskSync,
    /// A planned fault began; `aux` is its index in the schedule.
    FaultBegin,
    /// A planned fault ended; `aux` is its index in the schedule.
    FaultEnd,
    /// The liveness phase began: every fault healed.
    HealAll,
    /// A node (re)booted; `aux` is its incarnation.
    Boot,
    /// A node's label (role, belief) changed; capture-only, never hashed. `detail` holds it.
    State,
    /// A node crashed (volatile state lost); `aux` is the incarnation that ended.
    Crash,
    /// The run ended on a violation; capture-only. `detail` is `Invariant: observed`.
    Violation,
    /// A node declared a spec action (`Context::action`); capture-only. `detail` is the
    /// action as declared.
    Action,
    /// The store ended sessions of `node` (a crash, a cut past the keepalive, a session-loss
    /// fault); `aux` is how many.
    SessionEnd,
    /// A link between `node` and `peer` works both ways again (`Node::on_reconnect` ran);
    /// capture-only.
    Reconnect,
}

impl RecordKind {
    /// True for the kinds only a capturing run records, never hashed: labels, violations,
    /// declared actions, reconnects.
    pub fn is_capture_only(self) -> bool {
        matches!(
            self,
            RecordKind::State | RecordKind::Violation | RecordKind::Action | RecordKind::Reconnect
        )
    }
}

/// Marks `node` or `peer` as not applicable in a record.
pub const NO_ENDPOINT: u32 = u32::MAX - 1;

/// One compact trace record. `node`/`peer` are endpoints ([`NO_ENDPOINT`] when not applicable;
/// the store is `network::STORE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The step it belongs to.
    pub step: u64,
    /// True time, nanoseconds.
    pub time_ns: SimTime,
    /// What happened.
    pub kind: RecordKind,
    /// The endpoint it happened at.
    pub node: u32,
    /// The other endpoint, if any (a message's sender).
    pub peer: u32,
    /// A number whose meaning the kind gives (see [`RecordKind`]).
    pub aux: u64,
    /// A stable hash of the payload (message, storage operation, ...), 0 when none.
    pub payload_hash: u64,
}

/// A record with its human-readable detail, as written to JSON lines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetailedRecord {
    /// The compact record.
    #[serde(flatten)]
    pub record: Record,
    /// The payload or event, as people read it.
    pub detail: String,
}

/// The run's trace: ring buffer, running hash and optional full capture.
#[derive(Debug)]
pub struct Trace {
    hash: u64,
    ring: Vec<Record>,
    ring_next: usize,
    ring_capacity: usize,
    captured: Option<Vec<DetailedRecord>>,
    recorded: u64,
}

impl Trace {
    /// A trace keeping the last `ring_capacity` records; with `capture`, all of them in full.
    pub fn new(ring_capacity: usize, capture: bool) -> Trace {
        assert!(ring_capacity > 0);
        Trace {
            hash: 0x6a09_e667_f3bc_c908,
            ring: Vec::with_capacity(ring_capacity),
            ring_next: 0,
            ring_capacity,
            captured: capture.then(Vec::new),
            recorded: 0,
        }
    }

    /// Whether full records with details are being kept (callers skip formatting otherwise).
    #[inline]
    pub fn capturing(&self) -> bool {
        self.captured.is_some()
    }

    /// Appends a record; `detail` is only called when capturing.
    #[inline]
    pub fn record(&mut self, record: Record, detail: impl FnOnce() -> String) {
        let mut fold = StableHasher { state: self.hash };
        fold.write_u64(record.step);
        fold.write_u64(record.time_ns);
        fold.write_u64(record.kind as u64);
        fold.write_u64(((record.node as u64) << 32) | record.peer as u64);
        fold.write_u64(record.aux);
        fold.write_u64(record.payload_hash);
        self.hash = fold.state;
        self.recorded += 1;
        if self.ring.len() < self.ring_capacity {
            self.ring.push(record);
        } else {
            self.ring[self.ring_next] = record;
        }
        self.ring_next = (self.ring_next + 1) % self.ring_capacity;
        if let Some(captured) = &mut self.captured {
            captured.push(DetailedRecord { record, detail: detail() });
        }
    }

    /// The trace hash so far: a pure function of every record appended.
    pub fn hash(&self) -> u64 {
        crate::rng::splitmix64(self.hash)
    }

    /// How many records were appended in all.
    pub fn len(&self) -> u64 {
        self.recorded
    }

    /// True when nothing was recorded yet.
    pub fn is_empty(&self) -> bool {
        self.recorded == 0
    }

    /// The last (up to ring capacity) records, oldest first.
    pub fn tail(&self) -> Vec<Record> {
        if self.ring.len() < self.ring_capacity {
            return self.ring.clone();
        }
        let mut tail = self.ring[self.ring_next..].to_vec();
        tail.extend_from_slice(&self.ring[..self.ring_next]);
        tail
    }

    /// Keeps a record in the capture only: not hashed, not in the ring. For annotations that
    /// exist only when capturing (node labels), so capture never changes a run's hash.
    pub fn annotate(&mut self, record: Record, detail: String) {
        if let Some(captured) = &mut self.captured {
            captured.push(DetailedRecord { record, detail });
        }
    }

    /// Every record in full, when capturing.
    pub fn captured(&self) -> Option<&[DetailedRecord]> {
        self.captured.as_deref()
    }

    /// Takes the captured records out of the trace.
    pub fn take_captured(&mut self) -> Option<Vec<DetailedRecord>> {
        self.captured.take()
    }
}

/// A fast, platform-independent hasher for trace payloads: every integer is folded as a
/// little-endian u64, so `usize`, enum discriminants and byte order cannot make a hash differ
/// between machines. Not for hash tables, only for fingerprints.
#[derive(Clone, Copy, Debug, Default)]
pub struct StableHasher {
    state: u64,
}

const FOLD_MULTIPLIER: u64 = 0x517c_c1b7_2722_0a95;

impl Hasher for StableHasher {
    fn finish(&self) -> u64 {
        self.state
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.write_u64(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let mut last = [0u8; 8];
        let rest = chunks.remainder();
        last[..rest.len()].copy_from_slice(rest);
        self.write_u64(u64::from_le_bytes(last) ^ ((rest.len() as u64) << 56));
    }
    #[inline]
    fn write_u64(&mut self, value: u64) {
        self.state = (self.state.rotate_left(5) ^ value).wrapping_mul(FOLD_MULTIPLIER);
    }
    fn write_u8(&mut self, value: u8) {
        self.write_u64(value as u64);
    }
    fn write_u16(&mut self, value: u16) {
        self.write_u64(value as u64);
    }
    fn write_u32(&mut self, value: u32) {
        self.write_u64(value as u64);
    }
    fn write_u128(&mut self, value: u128) {
        self.write_u64(value as u64);
        self.write_u64((value >> 64) as u64);
    }
    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }
    fn write_i64(&mut self, value: i64) {
        self.write_u64(value as u64);
    }
    fn write_isize(&mut self, value: isize) {
        self.write_u64(value as i64 as u64);
    }
}

/// The stable fingerprint of any hashable payload.
#[inline]
pub fn stable_hash<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut hasher = StableHasher::default();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Feeds `value`'s `Debug` text into `hasher`, streamed (nothing is allocated): a fingerprint
/// for payloads that do not implement `Hash` (generated protobuf types, say). Slower than a
/// derived `Hash`, and as stable as the `Debug` output.
pub fn hash_debug<T: std::fmt::Debug + ?Sized>(value: &T, hasher: &mut StableHasher) {
    struct Feed<'a>(&'a mut StableHasher);
    impl std::fmt::Write for Feed<'_> {
        fn write_str(&mut self, text: &str) -> std::fmt::Result {
            self.0.write(text.as_bytes());
            Ok(())
        }
    }
    let _ = std::fmt::write(&mut Feed(hasher), format_args!("{value:?}"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(step: u64) -> Record {
        Record {
            step,
            time_ns: step * 10,
            kind: RecordKind::Timer,
            node: 1,
            peer: NO_ENDPOINT,
            aux: 0,
            payload_hash: 0,
        }
    }

    #[test]
    fn the_ring_keeps_the_last_records_in_order() {
        let mut trace = Trace::new(3, false);
        for step in 0..5 {
            trace.record(record(step), || unreachable!("detail is not formatted unless capturing"));
        }
        let steps: Vec<u64> = trace.tail().iter().map(|r| r.step).collect();
        assert_eq!(steps, vec![2, 3, 4]);
        assert_eq!(trace.len(), 5);
        assert!(trace.captured().is_none());
    }

    #[test]
    fn the_hash_depends_on_every_field_and_the_order() {
        let hash_of = |records: &[Record]| {
            let mut trace = Trace::new(4, false);
            records.iter().for_each(|r| trace.record(*r, String::new));
            trace.hash()
        };
        let base = [record(0), record(1)];
        let mut changed_payload = base;
        changed_payload[1].payload_hash = 1;
        let mut changed_kind = base;
        changed_kind[0].kind = RecordKind::Deliver;
        assert_eq!(hash_of(&base), hash_of(&base));
        assert_ne!(hash_of(&base), hash_of(&changed_payload));
        assert_ne!(hash_of(&base), hash_of(&changed_kind));
        assert_ne!(hash_of(&base), hash_of(&[record(1), record(0)]));
    }

    #[test]
    fn capture_keeps_every_record_with_its_detail() {
        let mut trace = Trace::new(2, true);
        for step in 0..4 {
            trace.record(record(step), || format!("step {step}"));
        }
        let captured = trace.captured().expect("capturing");
        assert_eq!(captured.len(), 4);
        assert_eq!(captured[3].detail, "step 3");
    }

    #[test]
    fn stable_hash_is_pinned_and_width_independent() {
        #[derive(Hash)]
        enum Message {
            Ping { seq: u64 },
            Pong(String),
        }
        assert_eq!(stable_hash(&5usize), stable_hash(&5u64), "usize folds as u64");
        assert_ne!(stable_hash(&Message::Ping { seq: 1 }), stable_hash(&Message::Ping { seq: 2 }));
        assert_ne!(
            stable_hash(&Message::Pong("a".into())),
            stable_hash(&Message::Pong("b".into()))
        );
        assert_eq!(stable_hash(&Message::Ping { seq: 1 }), PINNED_PING_1);
    }
    const PINNED_PING_1: u64 = 5871781006564002453;

    #[test]
    fn debug_hashes_tell_payloads_apart() {
        let hash = |value: &dyn std::fmt::Debug| {
            let mut hasher = StableHasher::default();
            hash_debug(value, &mut hasher);
            hasher.finish()
        };
        assert_eq!(hash(&"ping"), hash(&"ping"));
        assert_ne!(hash(&"ping"), hash(&"pong"));
        assert_ne!(hash(&vec![1, 2]), hash(&vec![12]));
    }
}
