//! Executable mirrors of the TLA+ specifications in `tla/`.
//!
//! Each spec module defines an abstract view whose fields are named after the spec's variables,
//! and one pure function per invariant or action property. The functions are listed in the
//! module's `INVARIANTS` / `ACTION_PROPERTIES` tables under the operator's name exactly as the
//! `.tla` file spells it, so `tests/spec_mirror.rs` can check the two stay in step. Scenarios build
//! the view from the cluster's real state (a refinement mapping) and call the checks.

pub mod failover;
pub mod lease;
pub mod replication;
pub mod session_lease;

/// How an action's mirror answers: `Err` describes the conjunct that failed and the values it saw.
pub(crate) type Taken = Result<(), String>;

/// `Ok` if `holds`, else the description `why` gives.
pub(crate) fn require(holds: bool, why: impl FnOnce() -> String) -> Taken {
    if holds {
        Ok(())
    } else {
        Err(why())
    }
}

/// A state invariant: holds in every reachable state of the spec.
pub struct Invariant<V> {
    /// The operator's name in the `.tla` file, e.g. `LeaseUniqueness`.
    pub name: &'static str,
    /// `Err` describes what was observed that breaks the invariant.
    pub check: fn(&V) -> Result<(), String>,
}

/// An action property `[][P(vars, vars')]_vars`: holds for every step (previous, next).
pub struct ActionProperty<V> {
    /// The operator's name in the `.tla` file, e.g. `FencingMonotonic`.
    pub name: &'static str,
    /// `Err` describes the step that breaks the property.
    pub check: fn(&V, &V) -> Result<(), String>,
}

/// An invariant over the state and the spec's history variables: ghost state that the
/// refinement mapping keeps over the whole run (what was ever committed, granted or issued),
/// so it survives crashes, truncations and deletions that a comparison of two neighbouring
/// steps would miss.
pub struct HistoryInvariant<V, H> {
    /// The operator's name in the `.tla` file, e.g. `StateMachineSafety`.
    pub name: &'static str,
    /// `Err` describes what was observed that breaks the invariant.
    pub check: fn(&V, &H) -> Result<(), String>,
}

/// The action operators of each spec's `Next` mirrored in Rust, and the ones the implementation
/// never takes with why: (module, mirrored, never taken).
pub type MirroredActions =
    (&'static str, &'static [&'static str], &'static [(&'static str, &'static str)]);

/// Every spec's mirrored actions (see [`MirroredActions`]).
pub fn mirrored_actions() -> Vec<MirroredActions> {
    vec![
        ("Failover", failover::ACTIONS, failover::NOT_TAKEN),
        ("Lease", lease::ACTIONS, lease::NOT_TAKEN),
        ("Replication", replication::ACTIONS, replication::NOT_TAKEN),
        ("SessionLease", session_lease::ACTIONS, session_lease::NOT_TAKEN),
    ]
}

/// Every operator mirrored in Rust, as (spec module name, operator name). Liveness properties,
/// which the simulator checks as a bounded convergence phase rather than per step, are listed too.
pub fn mirrored_operators() -> Vec<(&'static str, &'static str)> {
    let mut all = Vec::new();
    all.extend(lease::MIRRORED.iter().map(|name| ("Lease", *name)));
    all.extend(replication::MIRRORED.iter().map(|name| ("Replication", *name)));
    all.extend(failover::MIRRORED.iter().map(|name| ("Failover", *name)));
    all.extend(session_lease::MIRRORED.iter().map(|name| ("SessionLease", *name)));
    all
}
