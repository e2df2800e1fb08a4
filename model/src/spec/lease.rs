//! Stub: filled in by the lease work.
/// Operators mirrored from tla/Lease.tla.
pub const MIRRORED: &[&str] = &[];
