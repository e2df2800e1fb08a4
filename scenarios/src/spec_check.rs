//! Runs a spec mirror's operators (`model::spec`) on one step's view, turning the first that
//! fails into the simulator's violation, named as in the spec.

use model::spec::{ActionProperty, Invariant};
use sim::Violation;

/// Checks every invariant on `next`, then, when there is a previous step, every action property
/// on (previous, next).
pub fn check_step<V>(
    invariants: &[Invariant<V>],
    properties: &[ActionProperty<V>],
    previous: Option<&V>,
    next: &V,
) -> Result<(), Violation> {
    for invariant in invariants {
        (invariant.check)(next).map_err(|seen| Violation::new(invariant.name, seen))?;
    }
    if let Some(previous) = previous {
        for property in properties {
            (property.check)(previous, next).map_err(|seen| Violation::new(property.name, seen))?;
        }
    }
    Ok(())
}
