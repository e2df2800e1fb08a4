//! The lease row the leader keeps beside its lock: who leads, since when and until when, in the
//! writer's own clock, and the generation (bumped at every takeover) that fences writes.

use crate::NodeId;

/// The lease row as stored.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
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

/// The stored form: the four fields as little-endian integers, holder first (as a table row
/// would hold them; a fixed layout, so a row is read without a parser).
const ENCODED_LEN: usize = 4 + 3 * 8;

impl LeaseRow {
    /// The stored bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(ENCODED_LEN);
        bytes.extend_from_slice(&self.holder.to_le_bytes());
        for field in [self.generation, self.acquired_at, self.lease_until] {
            bytes.extend_from_slice(&field.to_le_bytes());
        }
        bytes
    }

    /// Parses stored bytes; anything but a row's length is an error, never a panic.
    pub fn decode(bytes: &[u8]) -> Result<LeaseRow, MalformedRow> {
        if bytes.len() != ENCODED_LEN {
            let problem = format!("{} bytes, a row has {ENCODED_LEN}", bytes.len());
            return Err(MalformedRow(problem));
        }
        let (holder, rest) = bytes.split_at(4);
        let field = |index: usize| {
            let mut word = [0u8; 8];
            word.copy_from_slice(&rest[index * 8..index * 8 + 8]);
            u64::from_le_bytes(word)
        };
        let mut id = [0u8; 4];
        id.copy_from_slice(holder);
        Ok(LeaseRow {
            holder: NodeId::from_le_bytes(id),
            generation: field(0),
            acquired_at: field(1),
            lease_until: field(2),
        })
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
        assert!(LeaseRow::decode(&[0; 29]).is_err());
    }
}
