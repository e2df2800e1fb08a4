//! Failover: the coordinator's cases as unit tests (`failover_cases/coordinator.rs`), and the
//! `cluster` scenario (the whole system) with its seed range, canaries and snapshots.

mod common;

#[path = "failover_cases/coordinator.rs"]
mod coordinator;

/// Goal: the whole system keeps every Lease, Replication and Failover invariant under swarm
/// faults and planned handovers, and writes resume after they heal. Method: the seed range
/// (DST_SEED replays one), which also proves every fault kind fires and every probe is hit.
#[test]
fn seed_range() {
    common::seed_range("cluster", 200);
}

use common::{caught_by, first_safety_catch, first_safety_violation};

/// Goal: the checks bite, at the step that breaks the rule. Method: each canary breaks the
/// spec action (`SpecConformance`, naming the action) or the invariant its bug should break,
/// within 5,000 seeds.
#[test]
fn canaries_are_caught() {
    let entry = common::entry("cluster");
    let expected: &[(&str, &[&str])] = &[
        ("no-freeze", &["SpecConformance/Freeze"]),
        ("commit-before-frontier", &["SpecConformance/Demote"]),
        ("no-term-bump", &["SpecConformance/CatchUp"]),
        ("under-report-skipped", &["SpecConformance/HandedOver", "SpecConformance/GiveUp"]),
        ("old-primary-not-demoted", &["SpecConformance/Demote"]),
        ("unchecked-resource", &["SpecConformance/Deliver"]),
        ("promote-before-demoted", &["SpecConformance/Promote"]),
        ("progress-from-working-log", &["DurablePromises"]),
    ];
    assert_eq!(expected.len(), entry.canaries().len(), "every canary is listed here");
    for (canary, checks) in expected {
        let Some((seed, violation)) = first_safety_violation(entry, canary, 5_000) else {
            panic!("canary {canary} broke no safety invariant within 5,000 seeds");
        };
        let by = caught_by(&violation);
        assert!(checks.contains(&by.as_str()), "{canary} at seed {seed}: {by}: {violation:?}");
    }
}

/// Goal: unintended behaviour changes show up in review. Method: a snapshot of one seed's
/// summary and of the first report of an under-reported forced handover.
#[test]
fn snapshots() {
    let entry = common::entry("cluster");
    insta::assert_snapshot!("cluster_seed_12_summary", common::summary(entry, 12));
    let (seed, _) = first_safety_catch(entry, "under-report-skipped", 5_000).expect("caught");
    insta::assert_snapshot!(
        "cluster_under_report_skipped_report",
        common::canary_report(entry, "under-report-skipped", seed)
    );
}
