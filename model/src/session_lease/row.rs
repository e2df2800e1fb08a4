//! The lease row the leader keeps beside its lock: who leads, since when and until when, in the
//! writer's own clock, and the generation (bumped at every takeover) that fences writes.

use crate::NodeId;
use serde::{Deserialize, Serialize};

/// The lease row as stored.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LeaseRow {
    pub holder: NodeId,
    /// Bumped by every takeover, under the lock, so each tenure has its own; the fencing token.
    pub generation: u64,
    /// The holder's local clock when it took over, nanoseconds.
    pub acquired_at: u64,
    /// Until when the lease runs: the writer's local clock when it sent the write plus the
    /// ttl, nanoseconds. Another node reads it against its own clock, hence the margin.
    pub lease_until: u64,
}

/// Why a stored row could not be read.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MalformedRow(pub String);

impl LeaseRow {
    /// The stored bytes.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a lease row always encodes")
    }

    /// Parses stored bytes; garbage is an error, never a panic.
    pub fn decode(bytes: &[u8]) -> Result<LeaseRow, MalformedRow> {
        serde_json::from_slice(bytes).map_err(|e| MalformedRow(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_and_garbage_is_an_error() {
        let row = LeaseRow { holder: 2, generation: 7, acquired_at: 10, lease_until: 20 };
        assert_eq!(LeaseRow::decode(&row.encode()), Ok(row));
        assert!(LeaseRow::decode(b"\xff").is_err());
        assert!(LeaseRow::decode(b"{\"holder\": 1}").is_err());
    }
}
