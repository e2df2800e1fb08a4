//! Sessions and session-bound locks in the simulated store, as PostgreSQL advisory locks work
//! (ZooKeeper's ephemeral nodes and etcd's leases alike): a node opens a session (a connection),
//! takes locks that belong to that session without waiting, and runs statements on it, some of
//! them guarded ("apply only if my session still holds the lock", as one critical section). The
//! server ends a session by itself when its node crashes, when the link between the node and the
//! store stays cut longer than the keepalive, when another session terminates it, or when a
//! fault drops it (a connection reset, a database failover); its locks go with it.
//!
//! This module is the semantics alone, applied atomically at the instant a request reaches the
//! store; `session_kernel` carries requests and replies through the simulated network and ends
//! sessions on crashes, cut links and faults. Nothing here knows what a lock protects.

use crate::storage::{HashValue, ObjectStore, StorageError, StorageOp, StorageReply, Version};
use crate::time::{SimTime, SECOND};
use crate::trace::StableHasher;
use crate::NodeId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

/// Names a session; ids start at 1 and are never reused within a run.
pub type SessionId = u64;

/// A condition checked atomically with the statement it guards.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // each variant's doc describes its fields
pub enum Guard {
    /// No condition.
    Always,
    /// The calling session holds `lock` (validation and the statement as one critical section).
    HoldsLock { lock: String },
    /// Object `key` is still at `version` (None: still absent), so a decision taken on a read
    /// is acted on only if nothing changed since.
    ObjectAt { key: String, version: Option<Version> },
}

/// One request on the session store. Every request but `Open` runs on `session`, which must be
/// a live session of the calling node's current incarnation; otherwise the answer is
/// [`SessionReply::SessionDead`] and nothing happens.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // each variant's doc describes its fields
pub enum SessionOp<V> {
    /// Open a session bound to the calling node and its incarnation.
    Open,
    /// Take `lock` for `session` if it is free (or already `session`'s); never waits.
    TryLock { session: SessionId, lock: String },
    /// Run a storage operation on `session`, only if `guard` holds.
    Apply { session: SessionId, guard: Guard, op: StorageOp<V> },
    /// Which session holds `lock`, if any.
    Holder { session: SessionId, lock: String },
    /// End session `target` (its locks are released), only if `guard` holds.
    Terminate { session: SessionId, target: SessionId, guard: Guard },
    /// End `session` (its locks are released).
    Close { session: SessionId },
}

/// The answer to one [`SessionOp`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // each variant's doc describes its fields
pub enum SessionReply<V> {
    /// `Open`: the new session.
    Opened { session: SessionId },
    /// `TryLock`: the session holds the lock now.
    Locked,
    /// `TryLock`: another session holds the lock.
    HeldBy { holder: SessionId },
    /// `Holder`: the session holding the lock, if any.
    Holder { holder: Option<SessionId> },
    /// `Apply`: the guard held and the operation ran; its own answer.
    Applied(StorageReply<V>),
    /// `Terminate`: done; `was_alive` is false when the target had already ended.
    Terminated { was_alive: bool },
    /// `Close`: done.
    Closed,
    /// `Apply` or `Terminate`: the guard did not hold; nothing changed.
    GuardFailed,
    /// The session the request ran on is not a live session of the caller: nothing changed.
    SessionDead,
    /// The request failed in transit or at the store, as a storage request does; only
    /// `Timeout` is ambiguous (the request may have applied).
    Failed(StorageError),
}

impl<V> SessionOp<V> {
    /// The request's trace fingerprint, with stored values hashed by `value` (the node type's
    /// [`crate::Node::hash_value`]).
    pub fn fingerprint(&self, value: HashValue<V>) -> u64 {
        let mut hasher = StableHasher::default();
        match self {
            SessionOp::Open => 0u64.hash(&mut hasher),
            SessionOp::TryLock { session, lock } => (1u64, session, lock).hash(&mut hasher),
            SessionOp::Apply { session, guard, op } => {
                (2u64, session, guard, op.fingerprint(value)).hash(&mut hasher)
            }
            SessionOp::Holder { session, lock } => (3u64, session, lock).hash(&mut hasher),
            SessionOp::Terminate { session, target, guard } => {
                (4u64, session, target, guard).hash(&mut hasher)
            }
            SessionOp::Close { session } => (5u64, session).hash(&mut hasher),
        }
        hasher.finish()
    }
}

impl<V> SessionReply<V> {
    /// The answer's trace fingerprint, as [`SessionOp::fingerprint`].
    pub fn fingerprint(&self, value: HashValue<V>) -> u64 {
        let mut hasher = StableHasher::default();
        match self {
            SessionReply::Opened { session } => (0u64, session).hash(&mut hasher),
            SessionReply::Locked => 1u64.hash(&mut hasher),
            SessionReply::HeldBy { holder } => (2u64, holder).hash(&mut hasher),
            SessionReply::Holder { holder } => (3u64, holder).hash(&mut hasher),
            SessionReply::Applied(reply) => (4u64, reply.fingerprint(value)).hash(&mut hasher),
            SessionReply::Terminated { was_alive } => (5u64, was_alive).hash(&mut hasher),
            SessionReply::Closed => 6u64.hash(&mut hasher),
            SessionReply::GuardFailed => 7u64.hash(&mut hasher),
            SessionReply::SessionDead => 8u64.hash(&mut hasher),
            SessionReply::Failed(error) => (9u64, error).hash(&mut hasher),
        }
        hasher.finish()
    }
}

/// Why a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum SessionEnd {
    /// Its own node closed it.
    Closed,
    /// Its node crashed (the connection died with the process).
    Crashed,
    /// The link between its node and the store stayed cut longer than the keepalive.
    KeepaliveExpired,
    /// A session-loss fault dropped it (a connection reset, a database failover).
    Lost,
    /// Another session terminated it.
    Terminated {
        /// The session that did.
        by: SessionId,
    },
}

/// One session, live or ended: who opened it and how it ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    /// The node that opened it.
    pub node: NodeId,
    /// The node's incarnation when it opened it.
    pub incarnation: u32,
    /// How and when (true time) it ended; None while it is live.
    pub end: Option<(SessionEnd, SimTime)>,
}

impl SessionInfo {
    /// True while the session is live.
    pub fn is_live(&self) -> bool {
        self.end.is_none()
    }
}

/// Knobs of the session store. `Default`: a 10 s keepalive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct SessionOptions {
    /// How long the link between a node and the store may stay cut (either way) before the
    /// server ends that node's sessions, nanoseconds: keepalive probes unanswered that long.
    /// A paused node keeps its sessions (its operating system answers the probes).
    pub keepalive_ns: u64,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions { keepalive_ns: 10 * SECOND }
    }
}

impl SessionOptions {
    /// True for the default knobs (which a plan does not print or serialize).
    pub fn is_default(&self) -> bool {
        *self == SessionOptions::default()
    }
}

/// Every session of a run and the locks they hold.
#[derive(Clone, Debug, Default)]
pub struct Sessions {
    sessions: BTreeMap<SessionId, SessionInfo>,
    locks: BTreeMap<String, SessionId>,
    last_id: SessionId,
}

impl Sessions {
    /// True until the first session is opened (the kernel skips its session work till then).
    pub fn never_used(&self) -> bool {
        self.last_id == 0
    }

    /// Session `id`, live or ended.
    pub fn info(&self, id: SessionId) -> Option<&SessionInfo> {
        self.sessions.get(&id)
    }

    /// The session holding `lock`, if any (always a live one).
    pub fn holder(&self, lock: &str) -> Option<SessionId> {
        self.locks.get(lock).copied()
    }

    /// True when `node` has a live session.
    pub fn has_live(&self, node: NodeId) -> bool {
        self.sessions.values().any(|s| s.node == node && s.is_live())
    }

    /// Ends every live session of `node`, releasing their locks; returns how many ended.
    pub fn end_node(&mut self, node: NodeId, end: SessionEnd, now: SimTime) -> usize {
        let ids: Vec<SessionId> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.node == node && s.is_live())
            .map(|(id, _)| *id)
            .collect();
        for id in &ids {
            self.end(*id, end, now);
        }
        ids.len()
    }

    fn end(&mut self, id: SessionId, end: SessionEnd, now: SimTime) -> bool {
        let Some(session) = self.sessions.get_mut(&id).filter(|s| s.is_live()) else {
            return false;
        };
        session.end = Some((end, now));
        self.locks.retain(|_, holder| *holder != id);
        true
    }

    /// True when `session` is a live session of `node`'s incarnation `incarnation`.
    fn owns(&self, session: SessionId, node: NodeId, incarnation: u32) -> bool {
        self.sessions
            .get(&session)
            .is_some_and(|s| s.is_live() && s.node == node && s.incarnation == incarnation)
    }

    fn guard_holds<V: Clone>(
        &self,
        store: &ObjectStore<V>,
        session: SessionId,
        guard: &Guard,
    ) -> bool {
        match guard {
            Guard::Always => true,
            Guard::HoldsLock { lock } => self.holder(lock) == Some(session),
            Guard::ObjectAt { key, version } => store.version(key) == *version,
        }
    }

    /// Applies `op` from `node`'s incarnation `incarnation` atomically at true time `now`
    /// (`store_time_ns` on the store's clock, for the object store) and returns its answer.
    pub fn apply<V: Clone>(
        &mut self,
        store: &mut ObjectStore<V>,
        now: SimTime,
        store_time_ns: u64,
        (node, incarnation): (NodeId, u32),
        op: SessionOp<V>,
    ) -> SessionReply<V> {
        let session = match &op {
            SessionOp::Open => {
                self.last_id += 1;
                self.sessions.insert(self.last_id, SessionInfo { node, incarnation, end: None });
                return SessionReply::Opened { session: self.last_id };
            }
            SessionOp::TryLock { session, .. }
            | SessionOp::Apply { session, .. }
            | SessionOp::Holder { session, .. }
            | SessionOp::Terminate { session, .. }
            | SessionOp::Close { session } => *session,
        };
        if !self.owns(session, node, incarnation) {
            return SessionReply::SessionDead;
        }
        match op {
            SessionOp::Open => unreachable!("answered above"),
            SessionOp::TryLock { lock, .. } => match self.locks.get(&lock) {
                Some(holder) if *holder != session => SessionReply::HeldBy { holder: *holder },
                _ => {
                    self.locks.insert(lock, session);
                    SessionReply::Locked
                }
            },
            SessionOp::Apply { guard, op, .. } => match self.guard_holds(store, session, &guard) {
                true => SessionReply::Applied(store.apply(store_time_ns, op)),
                false => SessionReply::GuardFailed,
            },
            SessionOp::Holder { lock, .. } => SessionReply::Holder { holder: self.holder(&lock) },
            SessionOp::Terminate { target, guard, .. } => {
                if !self.guard_holds(store, session, &guard) {
                    return SessionReply::GuardFailed;
                }
                let was_alive = self.end(target, SessionEnd::Terminated { by: session }, now);
                SessionReply::Terminated { was_alive }
            }
            SessionOp::Close { .. } => {
                self.end(session, SessionEnd::Closed, now);
                SessionReply::Closed
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: (NodeId, u32) = (0, 0);
    const B: (NodeId, u32) = (1, 0);

    fn open(sessions: &mut Sessions, store: &mut ObjectStore<u32>, who: (NodeId, u32)) -> u64 {
        match sessions.apply(store, 0, 0, who, SessionOp::Open) {
            SessionReply::Opened { session } => session,
            other => panic!("{other:?}"),
        }
    }

    fn try_lock(session: SessionId) -> SessionOp<u32> {
        SessionOp::TryLock { session, lock: "l".into() }
    }

    #[test]
    fn a_lock_belongs_to_one_session_and_goes_when_it_ends() {
        let (mut sessions, mut store) = (Sessions::default(), ObjectStore::default());
        let (a, b) = (open(&mut sessions, &mut store, A), open(&mut sessions, &mut store, B));
        assert_eq!(sessions.apply(&mut store, 0, 0, A, try_lock(a)), SessionReply::Locked);
        assert_eq!(sessions.apply(&mut store, 0, 0, A, try_lock(a)), SessionReply::Locked);
        let held = SessionReply::HeldBy { holder: a };
        assert_eq!(sessions.apply(&mut store, 0, 0, B, try_lock(b)), held);
        assert_eq!(sessions.end_node(0, SessionEnd::Lost, 7), 1);
        assert_eq!(sessions.holder("l"), None, "the lock went with the session");
        assert_eq!(sessions.info(a).unwrap().end, Some((SessionEnd::Lost, 7)));
        assert_eq!(sessions.apply(&mut store, 0, 0, B, try_lock(b)), SessionReply::Locked);
        assert_eq!(sessions.apply(&mut store, 0, 0, A, try_lock(a)), SessionReply::SessionDead);
    }

    #[test]
    fn a_session_answers_only_its_own_node_and_incarnation() {
        let (mut sessions, mut store) = (Sessions::default(), ObjectStore::default());
        let a = open(&mut sessions, &mut store, A);
        assert_eq!(sessions.apply(&mut store, 0, 0, B, try_lock(a)), SessionReply::SessionDead);
        let restarted = (0, 1);
        let dead = sessions.apply(&mut store, 0, 0, restarted, try_lock(a));
        assert_eq!(dead, SessionReply::SessionDead);
        assert_eq!(sessions.holder("l"), None);
    }

    #[test]
    fn a_guarded_statement_runs_only_while_its_guard_holds() {
        let (mut sessions, mut store) = (Sessions::default(), ObjectStore::default());
        let (a, b) = (open(&mut sessions, &mut store, A), open(&mut sessions, &mut store, B));
        sessions.apply(&mut store, 0, 0, A, try_lock(a));
        let put = |session, value| SessionOp::Apply {
            session,
            guard: Guard::HoldsLock { lock: "l".into() },
            op: StorageOp::PutIfAbsent { key: "row".into(), value },
        };
        assert_eq!(sessions.apply(&mut store, 0, 0, B, put(b, 2)), SessionReply::GuardFailed);
        let written = SessionReply::Applied(StorageReply::Written { version: 1 });
        assert_eq!(sessions.apply(&mut store, 0, 0, A, put(a, 1)), written);
        assert_eq!(store.get("row"), Some(&(1, 1)));
        let stale = Guard::ObjectAt { key: "row".into(), version: None };
        let terminate = SessionOp::Terminate { session: b, target: a, guard: stale };
        assert_eq!(sessions.apply(&mut store, 0, 0, B, terminate), SessionReply::GuardFailed);
        assert_eq!(sessions.holder("l"), Some(a), "a refused termination changes nothing");
    }

    #[test]
    fn terminating_another_session_frees_its_lock_once() {
        let (mut sessions, mut store) = (Sessions::default(), ObjectStore::default());
        let (a, b) = (open(&mut sessions, &mut store, A), open(&mut sessions, &mut store, B));
        sessions.apply(&mut store, 0, 0, A, try_lock(a));
        let current = Guard::ObjectAt { key: "row".into(), version: None };
        let terminate = SessionOp::Terminate { session: b, target: a, guard: current };
        let done = SessionReply::Terminated { was_alive: true };
        assert_eq!(sessions.apply(&mut store, 5, 0, B, terminate.clone()), done);
        assert_eq!(sessions.info(a).unwrap().end, Some((SessionEnd::Terminated { by: b }, 5)));
        let again = SessionReply::Terminated { was_alive: false };
        assert_eq!(sessions.apply(&mut store, 6, 0, B, terminate), again);
        let holder = SessionOp::Holder { session: b, lock: "l".into() };
        assert_eq!(
            sessions.apply(&mut store, 6, 0, B, holder),
            SessionReply::Holder { holder: None }
        );
        let close = SessionOp::Close { session: b };
        assert_eq!(sessions.apply(&mut store, 7, 0, B, close), SessionReply::Closed);
        assert!(!sessions.has_live(1) && sessions.info(b).unwrap().end.is_some());
    }
}
