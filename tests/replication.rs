//! The replication scenario: its seed range, its canaries, the Leader-ack variant that must lose
//! acknowledged writes, and a snapshot of one seed's run. Unit tests of the state machine
//! (tiebreaks, nacks, backoff, skip-ahead) live beside it in `model/src/replication/tests/`.

mod common;

use fencepost::RunRequest;
use sim::Outcome;

/// Goal: election safety, log matching and durable quorum acks hold under swarm faults, and the
/// cluster converges after they heal. Method: the seed range (DST_SEED replays one), which also
/// proves every fault kind fires and every probe is hit.
#[test]
fn seed_range() {
    common::seed_range("replication", 300);
}

use common::first_safety_catch;

/// Goal: the invariants bite. Method: each canary breaks a safety invariant within 2,000 seeds,
/// and the one the canary's bug should break.
#[test]
fn canaries_are_caught() {
    let entry = common::entry("replication");
    let lost = &["StateMachineSafety", "NoAckedWriteLost", "AckedWritesDurable", "LogMatching"];
    let expected: &[(&str, &[&str])] = &[
        ("accept-from-non-leader", lost),
        ("skip-request-id-correlation", lost),
        ("no-dual-leader-convergence", &["ElectionSafety"]),
        ("truncate-on-lower-term", lost),
        ("ack-before-durable", &["DurablePromises"]),
        ("election-without-term-bump", &["OneVotePerTerm", "ElectionSafety"]),
        ("grant-before-durable", &["DurablePromises"]),
        ("recover-forgets-vote", &["OneVotePerTerm"]),
        ("vote-without-log-check", &["LeaderCompleteness", "StateMachineSafety"]),
        ("count-own-unsynced-append", &["DurablePromises"]),
        ("term-not-durable", &["DurableTermCoversLog"]),
        ("no-peer-auth", &["PeerAuthentication"]),
    ];
    assert_eq!(expected.len(), entry.canaries().len(), "every canary is listed here");
    for (canary, invariants) in expected {
        let caught = first_safety_catch(entry, canary, 2_000);
        let Some((seed, invariant)) = caught else {
            panic!("canary {canary} broke no safety invariant within 2,000 seeds");
        };
        assert!(invariants.contains(&invariant.as_str()), "{canary} at seed {seed}: {invariant}");
    }
}

/// Goal: the harness shows what `Leader` acks cost. Method: acknowledging on the leader's own
/// append must lose an acknowledged write on failover within 300 seeds.
#[test]
fn leader_acks_lose_acknowledged_writes() {
    let entry = common::entry("replication-leader-ack");
    let found = (0..300).find_map(|seed| match entry.run(&RunRequest::seed(seed)).outcome {
        Outcome::Safety(violation) => Some(violation.invariant),
        _ => None,
    });
    assert_eq!(found.as_deref(), Some("NoAckedWriteLost"));
}

/// Goal: unintended behaviour changes show up in review. Method: a snapshot of one seed's
/// summary and of the first failing ack-before-durable run's report.
#[test]
fn snapshots() {
    let entry = common::entry("replication");
    insta::assert_snapshot!("replication_seed_42_summary", common::summary(entry, 42));
    let (seed, _) = first_safety_catch(entry, "ack-before-durable", 2_000).expect("caught");
    insta::assert_snapshot!(
        "replication_ack_before_durable_report",
        common::canary_report(entry, "ack-before-durable", seed)
    );
}
