//! The protocol of a store with sessions and session-bound locks (PostgreSQL advisory locks;
//! ZooKeeper ephemeral nodes and etcd leases work alike). A session is a connection: locks taken
//! on it are released when it ends, which the server decides by itself (the connection died,
//! its keepalive went unanswered, another session terminated it). Statements run on a session,
//! optionally guarded, the guard and the statement atomic. State machines emit
//! [`SessionRequest`]s and receive [`SessionReply`]s; the caller carries them to a real or
//! simulated server.

use crate::store::{StoreError, StoreReply, StoreRequest, Version};

/// Names a session; never reused.
pub type SessionId = u64;

/// A condition checked atomically with the statement it guards.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Guard {
    /// No condition.
    Always,
    /// The session the statement runs on holds `lock`: validation and statement as one
    /// critical section (in SQL: the statement's `WHERE` asks `pg_locks` for our own backend).
    HoldsLock { lock: String },
    /// Object `key` is still at `version` (None: still absent): a decision taken on a read
    /// acted on only if nothing changed since.
    RowAt { key: String, version: Option<Version> },
}

/// One request. Every request but `Open` runs on `session`; on a session that is not a live
/// one of the caller, nothing happens and the answer is [`SessionReply::SessionDead`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SessionRequest {
    /// Open a session (a connection).
    Open,
    /// Take `lock` if it is free or already ours; never waits (`pg_try_advisory_lock`).
    TryLock { session: SessionId, lock: String },
    /// Run `op` on the object store, only if `guard` holds.
    Apply { session: SessionId, guard: Guard, op: StoreRequest },
    /// Which session holds `lock`, if any.
    Holder { session: SessionId, lock: String },
    /// End another session (`pg_terminate_backend`), freeing its locks, only if `guard` holds.
    Terminate { session: SessionId, target: SessionId, guard: Guard },
    /// End `session`, freeing its locks.
    Close { session: SessionId },
}

/// The answer to one [`SessionRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SessionReply {
    Opened {
        session: SessionId,
    },
    /// The session holds the lock.
    Locked,
    /// Another session holds the lock.
    HeldBy {
        holder: SessionId,
    },
    Holder {
        holder: Option<SessionId>,
    },
    /// The guard held and `op` ran: its answer.
    Applied(StoreReply),
    /// `was_alive` is false when the target had already ended.
    Terminated {
        was_alive: bool,
    },
    Closed,
    /// The guard did not hold: nothing changed.
    GuardFailed,
    /// The session is gone (and with it every lock it held): nothing changed.
    SessionDead,
    /// No answer in time (`Timeout`: the request MAY have applied), or refused.
    Failed(StoreError),
}
