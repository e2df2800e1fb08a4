//! The lease scenario: its seed range, its canaries, the unsafe-drift variant that must find
//! violations, and a snapshot of one seed's run.

mod common;

use fencepost::RunRequest;
use sim::Outcome;

/// Goal: the lease's invariants hold under swarm faults with clock error inside the margin.
/// Method: the seed range (DST_SEED replays one; DST_SEEDS widens it), which also proves every
/// fault kind fires and every probe is hit.
#[test]
fn seed_range() {
    common::seed_range("lease", 400);
}

/// Goal: the checks bite, at the step that breaks the rule. Method: each canary must break
/// the spec action its bug breaks (`SpecConformance`, naming the action), or a promise as its
/// write leaves, as a safety violation within 2,000 seeds.
#[test]
fn canaries_are_caught() {
    let entry = common::entry("lease");
    let expected: &[(&str, &[&str])] = &[
        ("no-term-fence", &["SpecConformance/AcquireWrite"]),
        ("no-safety-margin", &["SpecConformance/Acquired"]),
        ("blind-refresh", &["SpecConformance/RenewWrite"]),
        ("no-confirm-read", &["SpecConformance/Acquired"]),
        ("unchecked-resource", &["SpecConformance/Deliver"]),
        ("retry-stale-renewal", &["SpecConformance/RenewWrite"]),
        ("release-deletes-record", &["SpecConformance/ReleaseWrite"]),
        ("expiry-from-reply", &["SpecConformance/Renewed"]),
        ("write-after-lapse", &["SpecConformance/FencedWrite", "DurablePromises"]),
    ];
    assert_eq!(expected.len(), entry.canaries().len(), "every canary is listed here");
    for (canary, checks) in expected {
        let Some((seed, violation)) = common::first_safety_violation(entry, canary, 2_000) else {
            panic!("canary {canary} broke no safety invariant within 2,000 seeds");
        };
        let by = common::caught_by(&violation);
        assert!(checks.contains(&by.as_str()), "{canary} at seed {seed}: {by}: {violation:?}");
    }
}

/// Goal: a harness that cannot find the clock bug is broken. Method: with clock error past the
/// margin, `lease-unsafe-drift` must violate BeliefConsistency or LeaseUniqueness.
#[test]
fn unsafe_drift_finds_violations() {
    let entry = common::entry("lease-unsafe-drift");
    let found = (0..300).find_map(|seed| {
        let report = entry.run(&RunRequest::seed(seed));
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
    let entry = common::entry("lease");
    insta::assert_snapshot!("lease_seed_42_summary", common::summary(entry, 42));
    let (seed, _) = common::first_catch(entry, "no-term-fence", 2_000).expect("caught");
    insta::assert_snapshot!(
        "lease_no_term_fence_report",
        common::canary_report(entry, "no-term-fence", seed)
    );
}
