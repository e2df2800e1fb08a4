//! A simulated compare-and-swap object store (the semantics of S3/GCS conditional writes) and
//! its fault knobs. The store applies each operation atomically at the instant the request
//! reaches it; latency, errors and ambiguous timeouts are decided by the kernel around that.

use crate::rng::Ratio;
use crate::time::{SimTime, MILLISECOND, SECOND};
use crate::trace::StableHasher;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

/// An object's version: strictly increasing across the whole store, never reused.
pub type Version = u64;

/// One operation on one key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // each variant's doc describes its fields
pub enum StorageOp<V> {
    /// Read the object and its version.
    Get { key: String },
    /// Create the object only if the key is absent.
    PutIfAbsent { key: String, value: V },
    /// Overwrite only if the current version is `version`.
    PutIfVersion { key: String, value: V, version: Version },
    /// Delete only if the current version is `version`.
    DeleteIfVersion { key: String, version: Version },
}

/// The answer a node receives for one [`StorageOp`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // each variant's doc describes its fields
pub enum StorageReply<V> {
    /// The object (None when absent) and the store's clock when it served the read.
    Got { object: Option<(V, Version)>, store_time_ns: SimTime },
    /// The write applied; the object now has `version`.
    Written { version: Version },
    /// The delete applied.
    Deleted,
    /// The condition did not hold; nothing changed.
    ConditionFailed,
    /// The caller cannot tell what happened ([`StorageError::Timeout`]) or nothing applied.
    Failed(StorageError),
}

/// Why an operation failed. Only `Timeout` is ambiguous: the operation may have applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StorageError {
    /// No reply within the timeout: the request or the reply was lost or late.
    Timeout,
    /// Refused without applying (a transient error, throttling).
    Transient,
    /// The store is in an outage window; nothing applied.
    Unavailable,
}

/// Fault knobs of the object store. `Default`: 1 ms each way, no errors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct StorageOptions {
    /// Shortest one-way latency between a node and the store, nanoseconds.
    pub latency_ns_min: u64,
    /// Longest one-way latency, nanoseconds.
    pub latency_ns_max: u64,
    /// How long a caller waits for a reply before it sees `Timeout`, nanoseconds.
    pub timeout_ns: u64,
    /// Chance that a request is refused with `Transient` without applying.
    pub transient_error_ratio: Ratio,
    /// Chance that a request applies but its caller sees `Timeout` (an ambiguous outcome).
    pub ambiguous_ratio: Ratio,
}

impl Default for StorageOptions {
    fn default() -> Self {
        StorageOptions {
            latency_ns_min: MILLISECOND,
            latency_ns_max: MILLISECOND,
            timeout_ns: SECOND,
            transient_error_ratio: Ratio::NEVER,
            ambiguous_ratio: Ratio::NEVER,
        }
    }
}

/// Feeds a stored value into the trace hash (a node type's [`crate::Node::hash_value`]).
pub type HashValue<V> = fn(&V, &mut StableHasher);

impl<V> StorageOp<V> {
    /// The operation's trace fingerprint, with values hashed by `value`. Folds the same words
    /// as a derived `Hash` would, so a `Hash` value type fingerprints as it always did.
    pub fn fingerprint(&self, value: HashValue<V>) -> u64 {
        let mut hasher = StableHasher::default();
        let variant: isize = match self {
            StorageOp::Get { .. } => 0,
            StorageOp::PutIfAbsent { .. } => 1,
            StorageOp::PutIfVersion { .. } => 2,
            StorageOp::DeleteIfVersion { .. } => 3,
        };
        variant.hash(&mut hasher);
        match self {
            StorageOp::Get { key } => key.hash(&mut hasher),
            StorageOp::PutIfAbsent { key, value: v } => {
                key.hash(&mut hasher);
                value(v, &mut hasher);
            }
            StorageOp::PutIfVersion { key, value: v, version } => {
                key.hash(&mut hasher);
                value(v, &mut hasher);
                version.hash(&mut hasher);
            }
            StorageOp::DeleteIfVersion { key, version } => {
                key.hash(&mut hasher);
                version.hash(&mut hasher);
            }
        }
        hasher.finish()
    }
}

impl<V> StorageReply<V> {
    /// The reply's trace fingerprint, with values hashed by `value` (the same words as a
    /// derived `Hash`, like [`StorageOp::fingerprint`]).
    pub fn fingerprint(&self, value: HashValue<V>) -> u64 {
        let mut hasher = StableHasher::default();
        let variant: isize = match self {
            StorageReply::Got { .. } => 0,
            StorageReply::Written { .. } => 1,
            StorageReply::Deleted => 2,
            StorageReply::ConditionFailed => 3,
            StorageReply::Failed(_) => 4,
        };
        variant.hash(&mut hasher);
        match self {
            StorageReply::Got { object, store_time_ns } => {
                match object {
                    None => 0isize.hash(&mut hasher),
                    Some((v, version)) => {
                        1isize.hash(&mut hasher);
                        value(v, &mut hasher);
                        version.hash(&mut hasher);
                    }
                }
                store_time_ns.hash(&mut hasher);
            }
            StorageReply::Written { version } => version.hash(&mut hasher),
            StorageReply::Deleted | StorageReply::ConditionFailed => {}
            StorageReply::Failed(error) => error.hash(&mut hasher),
        }
        hasher.finish()
    }
}

/// The store's contents.
#[derive(Clone, Debug)]
pub struct ObjectStore<V> {
    objects: BTreeMap<String, (V, Version)>,
    last_version: Version,
}

impl<V> Default for ObjectStore<V> {
    fn default() -> Self {
        ObjectStore { objects: BTreeMap::new(), last_version: 0 }
    }
}

impl<V: Clone> ObjectStore<V> {
    /// Applies one operation atomically at store time `now` and returns its answer.
    pub fn apply(&mut self, now: SimTime, op: StorageOp<V>) -> StorageReply<V> {
        match op {
            StorageOp::Get { key } => {
                StorageReply::Got { object: self.objects.get(&key).cloned(), store_time_ns: now }
            }
            StorageOp::PutIfAbsent { key, value } => {
                if self.objects.contains_key(&key) {
                    return StorageReply::ConditionFailed;
                }
                self.write(key, value)
            }
            StorageOp::PutIfVersion { key, value, version } => {
                if self.version(&key) != Some(version) {
                    return StorageReply::ConditionFailed;
                }
                self.write(key, value)
            }
            StorageOp::DeleteIfVersion { key, version } => {
                if self.version(&key) != Some(version) {
                    return StorageReply::ConditionFailed;
                }
                self.objects.remove(&key);
                StorageReply::Deleted
            }
        }
    }

    fn write(&mut self, key: String, value: V) -> StorageReply<V> {
        self.last_version += 1;
        self.objects.insert(key, (value, self.last_version));
        StorageReply::Written { version: self.last_version }
    }

    /// The current version of `key`, if present.
    pub fn version(&self, key: &str) -> Option<Version> {
        self.objects.get(key).map(|(_, version)| *version)
    }

    /// The current value and version of `key`, for invariant checks.
    pub fn get(&self, key: &str) -> Option<&(V, Version)> {
        self.objects.get(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put_if_version(key: &str, value: u32, version: Version) -> StorageOp<u32> {
        StorageOp::PutIfVersion { key: key.into(), value, version }
    }

    #[test]
    fn put_if_absent_creates_once() {
        let mut store = ObjectStore::default();
        let first = store.apply(0, StorageOp::PutIfAbsent { key: "k".into(), value: 1 });
        assert_eq!(first, StorageReply::Written { version: 1 });
        let second = store.apply(0, StorageOp::PutIfAbsent { key: "k".into(), value: 2 });
        assert_eq!(second, StorageReply::ConditionFailed);
        assert_eq!(store.get("k"), Some(&(1, 1)));
    }

    #[test]
    fn interleaved_writers_exactly_one_wins_each_version() {
        // Two writers read version 1, then both try to replace it: only the first applies,
        // the second must re-read and retry against version 2.
        let mut store = ObjectStore::default();
        store.apply(0, StorageOp::PutIfAbsent { key: "k".into(), value: 0 });
        assert_eq!(
            store.apply(1, put_if_version("k", 10, 1)),
            StorageReply::Written { version: 2 }
        );
        assert_eq!(store.apply(2, put_if_version("k", 20, 1)), StorageReply::ConditionFailed);
        assert_eq!(
            store.apply(3, put_if_version("k", 20, 2)),
            StorageReply::Written { version: 3 }
        );
        assert_eq!(store.get("k"), Some(&(20, 3)));
    }

    #[test]
    fn versions_never_repeat_even_after_delete() {
        let mut store = ObjectStore::default();
        store.apply(0, StorageOp::PutIfAbsent { key: "k".into(), value: 0 });
        let stale = store.apply(0, StorageOp::DeleteIfVersion { key: "k".into(), version: 9 });
        assert_eq!(stale, StorageReply::ConditionFailed);
        let deleted = store.apply(0, StorageOp::DeleteIfVersion { key: "k".into(), version: 1 });
        assert_eq!(deleted, StorageReply::Deleted);
        let again = store.apply(0, StorageOp::PutIfAbsent { key: "k".into(), value: 0 });
        assert_eq!(again, StorageReply::Written { version: 2 }, "version 1 is never reused");
    }

    #[test]
    fn fingerprints_fold_the_words_a_derived_hash_folds() {
        use crate::trace::stable_hash;
        let by_hash: HashValue<u32> = |value, hasher| value.hash(hasher);
        let ops = [
            StorageOp::Get { key: "k".into() },
            StorageOp::PutIfAbsent { key: "k".into(), value: 7 },
            put_if_version("k", 7, 3),
            StorageOp::DeleteIfVersion { key: "k".into(), version: 3 },
        ];
        for op in &ops {
            assert_eq!(op.fingerprint(by_hash), stable_hash(op), "{op:?}");
        }
        let replies = [
            StorageReply::Got { object: None, store_time_ns: 5 },
            StorageReply::Got { object: Some((7, 2)), store_time_ns: 5 },
            StorageReply::Written { version: 4 },
            StorageReply::Deleted,
            StorageReply::ConditionFailed,
            StorageReply::Failed(StorageError::Timeout),
            StorageReply::Failed(StorageError::Unavailable),
        ];
        for reply in &replies {
            assert_eq!(reply.fingerprint(by_hash), stable_hash(reply), "{reply:?}");
        }
    }

    #[test]
    fn get_reports_the_store_clock() {
        let mut store: ObjectStore<u32> = ObjectStore::default();
        let reply = store.apply(42, StorageOp::Get { key: "none".into() });
        assert_eq!(reply, StorageReply::Got { object: None, store_time_ns: 42 });
    }
}
