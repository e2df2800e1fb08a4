//! Stub: filled in by the replication work.
/// Operators mirrored from tla/Replication.tla.
pub const MIRRORED: &[&str] = &[];
