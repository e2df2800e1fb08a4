//! The voter's write-ahead log on the simulated disk, and recovery from it. What a raft-rs
//! application keeps durably: the entries each Ready hands over (a later batch may overwrite a
//! suffix, as `MemStorage::append` does) and the hard state (term, vote, commit). A restart
//! replays the records that survived the crash into a fresh `MemStorage`.

use crate::node::{raft_id, RaftNode, VOTERS};
use fencepost::sim::Context;
use raft::eraftpb::{ConfState, Entry, HardState};
use raft::storage::MemStorage;

/// One record of a voter's log on disk.
#[derive(Clone, Debug)]
pub enum DiskRecord {
    /// Entries from `entries[0].index` on; whatever the log held from there is replaced.
    Entries(Vec<Entry>),
    /// The hard state, replacing the one before.
    HardState(HardState),
}

/// The voters' configuration, the same on every voter from the start (no membership changes).
pub fn conf_state() -> ConfState {
    ConfState::from(((0..VOTERS).map(raft_id).collect::<Vec<_>>(), Vec::new()))
}

/// Rebuilds the storage from the records that survived on this node's disk. A torn last
/// record (a crash in the middle of a write) is discarded, as its checksum would make a real
/// log do.
pub fn recover(cx: &mut Context<'_, RaftNode>) -> MemStorage {
    if cx.disk().torn_tail() {
        cx.disk().discard_torn_tail();
        cx.sometimes("torn-tail-discarded");
    }
    let storage = MemStorage::new_with_conf_state(conf_state());
    let mut core = storage.wl();
    for record in cx.disk().records() {
        match record {
            DiskRecord::Entries(entries) => {
                core.append(entries).expect("records replay in the order they were written")
            }
            DiskRecord::HardState(state) => core.set_hardstate(state.clone()),
        }
    }
    drop(core);
    storage
}
