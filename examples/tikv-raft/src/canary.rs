//! The planted bugs: each a deliberate misuse of raft-rs in the Ready loop, which the
//! harness must catch by its own means.

use fencepost::CanaryInfo;

/// A deliberately broken variant of the voters' glue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RaftCanary {
    /// Messages raft says to send only after the Ready is persisted (vote requests and
    /// grants, append acknowledgements) leave before the fsync.
    AckBeforeFsync,
    /// A voter that restarted from its disk panics when it becomes leader.
    PlantedPanic,
}

impl RaftCanary {
    /// Every canary, in the order `list --canaries` prints them.
    pub const ALL: [RaftCanary; 2] = [RaftCanary::AckBeforeFsync, RaftCanary::PlantedPanic];

    /// The name on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            RaftCanary::AckBeforeFsync => "ack-before-fsync",
            RaftCanary::PlantedPanic => "planted-panic",
        }
    }

    /// Name and description, for the registry.
    pub const fn info(self) -> CanaryInfo {
        let description = match self {
            RaftCanary::AckBeforeFsync => {
                "votes and append acks leave before the Ready's fsync (persisted_messages sent at once)"
            }
            RaftCanary::PlantedPanic => "a voter restarted from its disk panics on becoming leader",
        };
        CanaryInfo { name: self.name(), description }
    }

    /// The canary called `name`; the runner has checked the name against the registry.
    pub fn named(name: &str) -> RaftCanary {
        *RaftCanary::ALL.iter().find(|c| c.name() == name).expect("a registered canary")
    }
}

/// The registry's list.
pub const CANARIES: [CanaryInfo; 2] =
    [RaftCanary::AckBeforeFsync.info(), RaftCanary::PlantedPanic.info()];
