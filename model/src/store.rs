//! The protocol of a compare-and-swap object store (as S3, GCS or Azure Blob offer with
//! conditional writes). State machines that keep records in such a store emit [`StoreRequest`]s
//! and receive [`StoreReply`]s; the caller carries them to a real or simulated store.

use serde::{Deserialize, Serialize};

/// The version of a stored object: changes on every successful write, never reused for a key.
pub type Version = u64;

/// One conditional operation on a single key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StoreRequest {
    /// Read the object and its version, and the store's own clock at the time of the read.
    Get { key: String },
    /// Create the object only if the key is absent.
    PutIfAbsent { key: String, value: Vec<u8> },
    /// Overwrite the object only if its current version is `version`.
    PutIfVersion { key: String, value: Vec<u8>, version: Version },
    /// Delete the object only if its current version is `version`.
    DeleteIfVersion { key: String, version: Version },
}

impl StoreRequest {
    /// The key the request addresses.
    pub fn key(&self) -> &str {
        match self {
            StoreRequest::Get { key }
            | StoreRequest::PutIfAbsent { key, .. }
            | StoreRequest::PutIfVersion { key, .. }
            | StoreRequest::DeleteIfVersion { key, .. } => key,
        }
    }
}

/// The store's answer to one [`StoreRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StoreReply {
    /// Answer to `Get`: the object with its version (None when absent), and the store's clock
    /// (nanoseconds) when it served the read, like the `Date` header of an object store.
    Got { object: Option<(Vec<u8>, Version)>, store_time_ns: u64 },
    /// A conditional write applied; the object now has `version`.
    Written { version: Version },
    /// A conditional delete applied.
    Deleted,
    /// The condition did not hold; nothing changed.
    ConditionFailed,
    /// The operation did not complete as far as the caller can tell.
    Failed(StoreError),
}

/// Why a store operation failed. Only `Timeout` is ambiguous: the operation may have applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StoreError {
    /// No answer in time: the request or the reply was lost or late. The write MAY have applied.
    Timeout,
    /// The store refused the request without applying it (throttling, a transient 5xx).
    Transient,
    /// The store is down; the request was not applied.
    Unavailable,
}
