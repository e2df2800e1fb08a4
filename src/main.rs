//! The `fencepost` binary: the harness's command line over this repository's scenarios (lease,
//! replication, failover, pingpong), registered through the same public path a user's are.

fencepost::main!(scenarios::registry());
