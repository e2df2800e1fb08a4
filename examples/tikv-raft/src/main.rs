//! The harness's command line over the `tikv-raft` scenario: `list`, `run`, `stress`,
//! `shrink`, `merge`, `view`, `bench` (see `--help`).

fencepost::main!(tikv_raft_dst::registry());
