//! The lease scenario: its seed range, its canaries, the unsafe-drift variant that must find
//! violations, and a snapshot of one seed's run.

mod common;

use scenarios::RunRequest;
use sim::Outcome;

/// Goal: the lease's invariants hold under swarm faults with clock error inside the margin.
/// Method: the seed range (DST_SEED replays one; DST_SEEDS widens it), which also proves every
/// fault kind fires and every probe is hit.
#[test]
fn seed_range() {
    common::seed_range("lease", 400);
}

/// Goal: the invariants bite. Method: each canary must fail as a safety violation within 2,000
/// seeds. `belief-after-stale` is latent in this scenario: without clock error beyond the margin
/// nobody can change the record while its holder still believes, so a Stale answer always comes
/// after the belief ended; it is asserted to stay harmless here instead.
#[test]
fn canaries_are_caught() {
    let entry = scenarios::find("lease").unwrap();
    for canary in entry.canaries.iter().filter(|c| c.name != "belief-after-stale") {
        match common::first_catch(entry, canary.name, 2_000) {
            Some((_, Outcome::Safety(_))) => {}
            other => {
                panic!("canary {} not caught as safety within 2,000 seeds: {other:?}", canary.name)
            }
        }
    }
    assert_eq!(common::first_catch(entry, "belief-after-stale", 200), None);
}

/// Goal: a harness that cannot find the clock bug is broken. Method: with clock error past the
/// margin, `lease-unsafe-drift` must violate BeliefConsistency or LeaseUniqueness.
#[test]
fn unsafe_drift_finds_violations() {
    let entry = scenarios::find("lease-unsafe-drift").unwrap();
    let found = (0..300).find_map(|seed| {
        let report = (entry.run)(&RunRequest { seed, ..RunRequest::default() });
        match report.outcome {
            Outcome::Safety(violation) => Some(violation.invariant),
            _ => None,
        }
    });
    let invariant = found.expect("a violation within 300 seeds");
    assert!(["BeliefConsistency", "LeaseUniqueness"].contains(&invariant.as_str()), "{invariant}");
}

/// Goal: unintended behaviour changes show up in review. Method: a snapshot of one seed's
/// summary and of the first failing no-term-fence run's report.
#[test]
fn snapshots() {
    let entry = scenarios::find("lease").unwrap();
    insta::assert_snapshot!("lease_seed_42_summary", common::summary(entry, 42));
    let (seed, _) = common::first_catch(entry, "no-term-fence", 2_000).expect("caught");
    insta::assert_snapshot!(
        "lease_no_term_fence_report",
        common::canary_report(entry, "no-term-fence", seed)
    );
}
