//! A writer lease kept as a record in a compare-and-swap object store, as serverless databases
//! keep theirs, with (term, generation) fencing tokens and a protected resource that enforces
//! them.

mod client;
mod record;
mod resource;
#[cfg(test)]
mod tests;

pub use client::{Input, LeaseClient, LeaseConfig, LeaseEvent, LeaseTimer, Output};
pub use record::{FencingToken, LeaseRecord, MalformedRecord};
pub use resource::ProtectedResource;

use crate::store::StoreError;
use std::fmt;

/// Why a lease operation failed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LeaseError {
    /// Our term is behind the record's: a newer writer exists, whatever the expiry says.
    Fenced { ours: u64, theirs: u64 },
    /// Another holder's lease is live.
    Held { holder: crate::NodeId, expires_at: u64 },
    /// Someone else's write won the compare-and-swap or the re-read.
    LostRace,
    /// The record changed under a renewal: we no longer hold it.
    Stale,
    /// The stored record could not be parsed.
    Malformed(String),
    /// The store failed the operation.
    Storage(StoreError),
    /// Another operation is in flight.
    Busy,
    /// The store answered with a reply that does not fit the request.
    Unexpected(String),
}

impl fmt::Display for LeaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeaseError::Fenced { ours, theirs } => {
                write!(f, "fenced: our term {ours} is behind the record's term {theirs}")
            }
            LeaseError::Held { holder, expires_at } => {
                write!(f, "held by node {holder} until {expires_at}")
            }
            LeaseError::LostRace => write!(f, "lost the race: another writer's record won"),
            LeaseError::Stale => write!(f, "stale: the record changed, the lease is gone"),
            LeaseError::Malformed(why) => write!(f, "malformed lease record: {why}"),
            LeaseError::Storage(error) => write!(f, "storage failed: {error:?}"),
            LeaseError::Busy => write!(f, "another lease operation is in flight"),
            LeaseError::Unexpected(reply) => write!(f, "unexpected store reply: {reply}"),
        }
    }
}

impl std::error::Error for LeaseError {}

/// Deliberately broken variants, each modelled on a real bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LeaseCanary {
    NoTermFence,
    NoSafetyMargin,
    BlindRefresh,
    NoConfirmRead,
    UncheckedResource,
    RetryStaleRenewal,
    ReleaseDeletesRecord,
    ExpiryFromReply,
    WriteAfterLapse,
}

impl LeaseCanary {
    pub const ALL: [LeaseCanary; 9] = [
        LeaseCanary::NoTermFence,
        LeaseCanary::NoSafetyMargin,
        LeaseCanary::BlindRefresh,
        LeaseCanary::NoConfirmRead,
        LeaseCanary::UncheckedResource,
        LeaseCanary::RetryStaleRenewal,
        LeaseCanary::ReleaseDeletesRecord,
        LeaseCanary::ExpiryFromReply,
        LeaseCanary::WriteAfterLapse,
    ];

    /// The kebab-case name on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            LeaseCanary::NoTermFence => "no-term-fence",
            LeaseCanary::NoSafetyMargin => "no-safety-margin",
            LeaseCanary::BlindRefresh => "blind-refresh",
            LeaseCanary::NoConfirmRead => "no-confirm-read",
            LeaseCanary::UncheckedResource => "unchecked-resource",
            LeaseCanary::RetryStaleRenewal => "retry-stale-renewal",
            LeaseCanary::ReleaseDeletesRecord => "release-deletes-record",
            LeaseCanary::ExpiryFromReply => "expiry-from-reply",
            LeaseCanary::WriteAfterLapse => "write-after-lapse",
        }
    }

    /// One line on the bug.
    pub const fn description(self) -> &'static str {
        match self {
            LeaseCanary::NoTermFence => "acquire ignores the record's newer term once it expired",
            LeaseCanary::NoSafetyMargin => {
                "holder believes until expires_at, no margin for clock error"
            }
            LeaseCanary::BlindRefresh => "refresh overwrites the record without the version check",
            LeaseCanary::NoConfirmRead => {
                "acquire trusts its write (even a timed-out one) without re-reading"
            }
            LeaseCanary::UncheckedResource => "the protected resource accepts stale fencing tokens",
            LeaseCanary::RetryStaleRenewal => {
                "a renewal answered Stale reads the new version and writes again"
            }
            LeaseCanary::ReleaseDeletesRecord => {
                "release deletes the record, so the next acquire restarts the generation"
            }
            LeaseCanary::ExpiryFromReply => {
                "a renewed lease is timed from the store's answer, not from the request"
            }
            LeaseCanary::WriteAfterLapse => {
                "a write is stamped with the held token even after belief lapsed"
            }
        }
    }
}
