//! `merge`: shard summaries folded into one campaign report.

use crate::*;

/// Goal: `merge` adds shards up once each and judges as `stress` does. Method: two halves of a
/// range merge to the whole; the same shard twice, or shards of another campaign, are errors
/// naming both files; the expected finds of an unsafe variant do not fail a merge.
#[test]
fn merge_counts_each_seed_once_and_agrees_with_stress() {
    let dir = scratch("merge");
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let stress = |extra: &[&str], json: &str| {
        let args =
            [&["stress", "--scenario", "pingpong", "--seeds", "20"][..], extra, &["--json", json]];
        fencepost(&args.concat()).0
    };
    assert_eq!(stress(&["--shard", "0/2"], &path("a.json")), 0);
    assert_eq!(stress(&["--shard", "1/2"], &path("b.json")), 0);
    assert_eq!(stress(&["--start", "15", "--shard", "1/2"], &path("late.json")), 0);
    let (code, out, err) = fencepost(&["merge", &path("a.json"), &path("b.json")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("pingpong: 20 passed, 0 failed of 20 seeds"), "{out}");
    let verdict = out.lines().last().unwrap();
    assert_eq!(
        verdict,
        "verdict: passed: pingpong, seeds 0..=19 in 2 shards (2 merged) (20 runs): every \
         invariant held"
    );
    std::fs::write(path("empty.json"), "[]").unwrap();
    let err = usage_error(&["merge", &path("empty.json")]);
    assert!(err.contains("no scenario summaries"), "{err}");
    let err = usage_error(&["merge", &path("a.json"), &path("a.json")]);
    assert!(err.contains("are both shard 0/2 of the campaign: merge each shard once"), "{err}");
    let err = usage_error(&["merge", &path("a.json"), &path("late.json")]);
    assert!(
        err.contains(&format!(
            "{} and {} are not shards of one campaign: --start 0 against --start 15",
            path("a.json"),
            path("late.json")
        )),
        "{err}"
    );

    let unsafe_variant = ["stress", "--scenario", "replication-leader-ack", "--seeds", "30"];
    let (code, out, _) = fencepost(&[&unsafe_variant[..], &["--json", &path("ack.json")]].concat());
    assert_eq!(code, 0, "expected finds are not failures: {out}");
    assert!(out.contains("violations found, as expected for this variant"), "{out}");
    let (code, out, _) = fencepost(&["merge", &path("ack.json")]);
    assert_eq!(code, 0, "merge agrees with stress: {out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Goal: a nightly cannot go green by losing a shard, nor merge shards that do not belong
/// together; a merged failure reads as `stress` prints it. Method: shards 0/3 and 2/3 of a
/// canary campaign merge as INCOMPLETE (exit 1, naming shard 1/3) and print each failure's
/// `FAILED` line with its trace hash and a `reproduce:` line; a canary shard with a plain one,
/// two unsharded runs of one range, and an unknown scenario are each refused naming the files.
#[test]
fn merge_names_a_missing_shard_and_refuses_foreign_ones() {
    let dir = scratch("campaign");
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let stress = |extra: &[&str], json: &str| {
        let args =
            [&["stress", "--scenario", "pingpong", "--seeds", "30"][..], extra, &["--json", json]];
        fencepost(&args.concat())
    };
    let canary = ["--canary", "grant-from-receipt"];
    let (_, shard0, _) = stress(&[&canary[..], &["--shard", "0/3"]].concat(), &path("c0.json"));
    stress(&[&canary[..], &["--shard", "2/3"]].concat(), &path("c2.json"));
    let (code, out, _) = fencepost(&["merge", &path("c0.json"), &path("c2.json")]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("INCOMPLETE campaign: shard 1/3 is missing: seeds 1 + k*3"), "{out}");
    assert!(!out.contains("passed, 0 failed"), "{out}");
    let verdict = out.lines().last().unwrap();
    assert!(verdict.starts_with("verdict: FAILED: pingpong with canary grant-from-receipt, seeds 0..=29 in 3 shards (2 merged)"), "{verdict}");
    assert!(verdict.contains("shards never merged: 1/3"), "{verdict}");
    let stress_line = shard0.lines().find(|l| l.starts_with("FAILED ")).unwrap();
    assert!(stress_line.contains(" trace_hash="), "{stress_line}");
    assert!(out.lines().any(|l| l == stress_line), "merge prints stress's line: {out}");
    assert!(
        out.contains("  reproduce: cargo run --release -- run --scenario pingpong --seed "),
        "{out}"
    );

    stress(&["--shard", "1/3"], &path("plain1.json"));
    let err = usage_error(&["merge", &path("c0.json"), &path("plain1.json")]);
    assert!(
        err.contains(
            "not shards of one campaign: --canary grant-from-receipt against --canary none"
        ),
        "{err}"
    );
    stress(&[], &path("whole.json"));
    std::fs::copy(path("whole.json"), path("again.json")).unwrap();
    let err = usage_error(&["merge", &path("whole.json"), &path("again.json")]);
    assert!(
        err.contains(&format!(
            "{} and {} are both shard 0/1",
            path("whole.json"),
            path("again.json")
        )),
        "{err}"
    );
    let renamed = std::fs::read_to_string(path("whole.json"))
        .unwrap()
        .replace("\"pingpong\"", "\"pongping\"");
    std::fs::write(path("renamed.json"), renamed).unwrap();
    let err = usage_error(&["merge", &path("renamed.json")]);
    assert!(err.contains("unknown scenario 'pongping'"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
