//! The lease record kept in the object store, its encoding, and fencing tokens.

use crate::NodeId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A fencing token: (term, generation), ordered term first. A protected resource rejects any
/// token below the highest it has accepted.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct FencingToken {
    pub term: u64,
    pub generation: u64,
}

impl fmt::Display for FencingToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(t{}, g{})", self.term, self.generation)
    }
}

/// The writer lease as stored: `expires_at` is in the writer's local clock frame, which is why
/// every reader's safety margin must cover clock error.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LeaseRecord {
    pub key: String,
    pub holder: NodeId,
    /// Records written before terms existed decode as term 0.
    #[serde(default)]
    pub term: u64,
    pub generation: u64,
    /// Local clock of the writer when it acquired, nanoseconds.
    pub acquired_at: u64,
    /// Until when the lease is valid, nanoseconds (the writer's local clock at write + ttl).
    pub expires_at: u64,
}

/// Why a stored record could not be read.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MalformedRecord(pub String);

impl LeaseRecord {
    /// The record's fencing token.
    pub fn token(&self) -> FencingToken {
        FencingToken { term: self.term, generation: self.generation }
    }

    /// True when the lease is still valid at store time `store_time_ns`.
    pub fn live_at(&self, store_time_ns: u64) -> bool {
        store_time_ns < self.expires_at
    }

    /// The stored bytes.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a lease record always encodes")
    }

    /// Parses stored bytes; garbage is an error, never a panic.
    pub fn decode(bytes: &[u8]) -> Result<LeaseRecord, MalformedRecord> {
        serde_json::from_slice(bytes).map_err(|e| MalformedRecord(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_order_by_term_then_generation() {
        let token = |term, generation| FencingToken { term, generation };
        assert!(token(2, 1) > token(1, 9));
        assert!(token(1, 2) > token(1, 1));
    }

    #[test]
    fn records_round_trip_and_garbage_is_an_error() {
        let record = LeaseRecord {
            key: "k".into(),
            holder: 3,
            term: 2,
            generation: 5,
            acquired_at: 10,
            expires_at: 20,
        };
        assert_eq!(LeaseRecord::decode(&record.encode()), Ok(record));
        assert!(LeaseRecord::decode(b"\xff not json").is_err());
        assert!(LeaseRecord::decode(b"{\"key\": 1}").is_err());
    }

    #[test]
    fn a_legacy_record_without_term_decodes_as_term_zero() {
        let legacy = br#"{"key":"k","holder":1,"generation":4,"acquired_at":0,"expires_at":9}"#;
        let record = LeaseRecord::decode(legacy).unwrap();
        assert_eq!(record.token(), FencingToken { term: 0, generation: 4 });
    }
}
