//! Durable promises: what a message relies on being durable when it leaves. A vote grant
//! relies on the voter's durable vote, a progress report on the durable log, a quorum
//! acknowledgement on a majority's durable logs, a fenced write on the lease record in the
//! store. Each machine says which of its outputs promise what (a pure function of the output,
//! never of the machine's own bookkeeping), so a checker can hold the promise against the state
//! that would survive a crash at the moment the message leaves.

use crate::lease::FencingToken;
use crate::replication::LogPosition;
use crate::NodeId;
use std::fmt;

/// What a message promises is durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Promise {
    /// A vote grant: the sender never votes for anyone else in `term`. Backed when its durable
    /// vote is for `candidate` in `term`, or its durable term is newer.
    Vote { term: u64, candidate: NodeId },
    /// A vote request: the candidate voted for itself in `term`, durably (the same backing as
    /// a grant to itself).
    SelfVote { term: u64 },
    /// Progress (an append ack, a sync request, a caught-up answer): the sender's durable log
    /// holds `position`, and so, by log matching, every entry up to it.
    LogHolds { position: LogPosition },
    /// A `Quorum` acknowledgement: a majority of the members' durable logs hold `position`.
    QuorumHolds { position: LogPosition },
    /// A fenced write: the lease record in the store names the sender as holder with `token`,
    /// unexpired at the store's clock.
    LeaseHeld { token: FencingToken },
}

impl Promise {
    /// The promise's name in violations and traces.
    pub fn name(&self) -> &'static str {
        match self {
            Promise::Vote { .. } => "vote grant",
            Promise::SelfVote { .. } => "vote request",
            Promise::LogHolds { .. } => "progress report",
            Promise::QuorumHolds { .. } => "quorum acknowledgement",
            Promise::LeaseHeld { .. } => "fenced write",
        }
    }
}

impl Promise {
    /// A vote request as what it is, a grant by `from` to itself; any other promise as it is.
    pub fn as_grant(&self, from: NodeId) -> Promise {
        match *self {
            Promise::SelfVote { term } => Promise::Vote { term, candidate: from },
            other => other,
        }
    }
}

impl fmt::Display for Promise {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Promise::Vote { term, candidate } => write!(f, "vote for n{candidate} in term {term}"),
            Promise::SelfVote { term } => write!(f, "vote for itself in term {term}"),
            Promise::LogHolds { position } => {
                write!(f, "durable log holds {}@t{}", position.index, position.term)
            }
            Promise::QuorumHolds { position } => {
                write!(f, "a majority holds {}@t{} durably", position.index, position.term)
            }
            Promise::LeaseHeld { token } => write!(f, "lease held with token {token}"),
        }
    }
}
