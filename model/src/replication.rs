//! Stub: filled in by the replication work.
