//! Moments a state machine marks as good places for a fault: right after it stood in an
//! election, granted a vote, or took a step of a handover. The machine emits them among its
//! outputs; a harness may crash or pause the node right there, or the peer the moment names
//! (FoundationDB's BUGGIFY, decided outside the machine). No machine behaves differently for
//! having marked one.

use crate::NodeId;

/// A moment worth a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Moment {
    /// The node stood in an election (its own vote is on its way to disk).
    Election,
    /// The node's vote grant just left.
    VoteGranted,
    /// The node acted on a handover request (froze, demoted, stood for a promotion).
    HandoverStep,
    /// The node asked `leader` for entries: a fault that holds the leader now delays its
    /// answer past a change of leader (a pause or a slow link at the wrong moment).
    SyncRequested { leader: NodeId },
    /// A lease holder sent its renewal: a fault that holds it now delays the answer past the
    /// expiry the store will keep.
    LeaseRenewing,
    /// A leader answered a catch-up request (entries, or where its log now starts): a copy of
    /// the answer arriving late is an answer no request waits for any more.
    SyncAnswered,
    /// A leader's validation (its takeover or a refresh under its lock) just came back: a
    /// session loss or a pause now leaves it acting on that validation for the longest.
    LeadershipValidated,
}

impl Moment {
    /// The moments' names, in a fixed order.
    pub const NAMES: [&'static str; 7] = [
        "election",
        "vote-granted",
        "handover-step",
        "sync-requested",
        "lease-renewing",
        "sync-answered",
        "leadership-validated",
    ];

    /// The moment's name, as harnesses and plans know it.
    pub const fn name(self) -> &'static str {
        match self {
            Moment::Election => Moment::NAMES[0],
            Moment::VoteGranted => Moment::NAMES[1],
            Moment::HandoverStep => Moment::NAMES[2],
            Moment::SyncRequested { .. } => Moment::NAMES[3],
            Moment::LeaseRenewing => Moment::NAMES[4],
            Moment::SyncAnswered => Moment::NAMES[5],
            Moment::LeadershipValidated => Moment::NAMES[6],
        }
    }

    /// The node a fault should hit: another node the moment names, or None for the node that
    /// marked it.
    pub const fn target(self) -> Option<NodeId> {
        match self {
            Moment::SyncRequested { leader } => Some(leader),
            _ => None,
        }
    }
}
