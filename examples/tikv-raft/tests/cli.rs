//! The built binary end to end, as a user runs it: a planted panic's report and the line that
//! replays it, a stress summary as JSON, and shrinking the panicking seed.

use fencepost::sim::Outcome;
use std::path::PathBuf;
use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_tikv-raft-dst");

/// Runs the binary with `args`: (exit code, stdout).
fn run(args: &[&str]) -> (i32, String) {
    let output = Command::new(BINARY).args(args).output().expect("the binary runs");
    let stdout = String::from_utf8(output.stdout).expect("utf-8 output");
    (output.status.code().expect("exited, not killed"), stdout)
}

/// A file in the temporary directory, unique to this test process.
fn temp_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("tikv-raft-dst-{}-{name}", std::process::id()))
}

/// The first seed at which the planted panic fires.
fn panic_seed() -> String {
    let registry = tikv_raft_dst::registry();
    let entry = fencepost::testing::entry(&registry, tikv_raft_dst::SCENARIO);
    match fencepost::testing::first_catch(entry, "planted-panic", 20) {
        Some((seed, Outcome::Panic(_))) => seed.to_string(),
        other => panic!("the planted panic did not fire as a panic: {other:?}"),
    }
}

fn line_starting<'a>(text: &'a str, prefix: &str) -> &'a str {
    let line = text.lines().find(|line| line.starts_with(prefix));
    line.unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{text}"))
}

/// Goal: a panic in the machine is reported like a violation and replays bit for bit.
/// Method: `run --canary planted-panic` exits 5 and prints `PANIC in`; its `reproduce:` line
/// names this crate's binary, and running its arguments again prints the same trace hash.
#[test]
fn a_planted_panic_exits_5_with_a_reproduce_line_that_replays_it() {
    let seed = panic_seed();
    let args = ["run", "--scenario", "tikv-raft", "--seed", &seed, "--canary", "planted-panic"];
    let (code, report) = run(&args);
    assert_eq!(code, 5, "{report}");
    assert!(report.contains("PANIC in n"), "{report}");
    let reproduce = line_starting(&report, "reproduce: ");
    let command = "reproduce: cargo run --release -p tikv-raft-dst -- ";
    let replay_args = reproduce.strip_prefix(command).unwrap_or_else(|| panic!("{reproduce}"));
    let (replay_code, replay) = run(&replay_args.split(' ').collect::<Vec<_>>());
    assert_eq!(replay_code, 5, "{replay}");
    let hash = |text: &str| line_starting(text, "outcome=").rsplit(' ').next().unwrap().to_owned();
    assert!(hash(&report).starts_with("trace_hash="), "{report}");
    assert_eq!(hash(&report), hash(&replay));
}

/// Goal: `stress` summarizes a range as JSON a batch engine can merge. Method: 20 seeds pass,
/// and the summary says so.
#[test]
fn stress_writes_a_json_summary() {
    let json = temp_file("stress.json");
    let path = json.to_str().unwrap();
    let (code, out) = run(&["stress", "--scenario", "tikv-raft", "--seeds", "20", "--json", path]);
    assert_eq!(code, 0, "{out}");
    let text = std::fs::read_to_string(&json).expect("the summary was written");
    std::fs::remove_file(&json).ok();
    let summary: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let scenario = &summary[0];
    assert_eq!(scenario["scenario"], "tikv-raft");
    assert_eq!((scenario["seeds_run"].as_u64(), scenario["passed"].as_u64()), (Some(20), Some(20)));
    assert!(scenario["probes"]["write-acked"].as_u64() > Some(0), "{text}");
}

/// Goal: a panicking seed shrinks to a smaller plan that still panics at the same line.
/// Method: `shrink --out` writes a case; `run --schedule` of it exits 5 with the same panic.
#[test]
fn shrinking_the_panic_seed_keeps_the_panic() {
    let seed = panic_seed();
    let case = temp_file("case.json");
    let path = case.to_str().unwrap();
    let shrink =
        ["shrink", "--scenario", "tikv-raft", "--seed", &seed, "--canary", "planted-panic"];
    let (code, out) = run(&[&shrink[..], &["--out", path]].concat());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("after:"), "{out}");
    let replay = ["run", "--scenario", "tikv-raft", "--seed", &seed, "--canary", "planted-panic"];
    let (code, report) = run(&[&replay[..], &["--schedule", path]].concat());
    std::fs::remove_file(&case).ok();
    assert_eq!(code, 5, "{report}");
    assert!(line_starting(&report, "  at ").contains("planted: "), "{report}");
}
