//! Stub: filled in by the lease work.
