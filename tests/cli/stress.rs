//! `stress`: many seeds, their summaries, signals, progress and the verdict.

use crate::*;
use std::process::Command;

#[test]
fn stress_reports_failures_in_the_documented_format() {
    let args =
        ["stress", "--scenario", "pingpong", "--seeds", "40", "--canary", "grant-from-receipt"];
    let (code, out, _) = fencepost(&args);
    assert_eq!(code, 1);
    let failure = out.lines().find(|l| l.starts_with("FAILED ")).expect("a failure line");
    assert!(failure.starts_with("FAILED scenario=pingpong seed="), "{failure}");
    assert!(failure.contains(" invariant=GrantUniqueness step="), "{failure}");
    let (code, out, _) = fencepost(&["stress", "--scenario", "pingpong", "--seeds", "20"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("pingpong: 20 passed, 0 failed of 20 seeds"), "{out}");
}

#[test]
fn stress_results_do_not_depend_on_jobs() {
    let json = |jobs: &str| {
        let path = std::env::temp_dir().join(format!("fencepost-jobs-{jobs}.json"));
        let path_text = path.to_str().unwrap();
        let args = [
            "stress",
            "--scenario",
            "pingpong",
            "--seeds",
            "30",
            "--jobs",
            jobs,
            "--canary",
            "grant-from-receipt",
            "--json",
            path_text,
        ];
        fencepost(&args);
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        (summary[0]["failed"].clone(), summary[0]["events"].clone())
    };
    assert_eq!(json("1"), json("3"));
}

/// Goal: Ctrl-C stops a long stress run cleanly and still prints the summary; failures found
/// before it still exit 1. Method: a run far too long to finish, with a canary so failure lines
/// stream out; after the first one arrives (the handler is installed before any seed runs),
/// send SIGINT and read the rest.
#[test]
fn ctrl_c_stops_stress_cleanly_with_a_summary() {
    use std::io::{BufRead, BufReader, Read};
    let args = ["stress", "--scenario", "pingpong", "--seeds", "100000000", "--jobs", "1"];
    let mut child = Command::new(env!("CARGO_BIN_EXE_fencepost"))
        .args(args)
        .args(["--canary", "grant-from-receipt"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.starts_with("FAILED scenario=pingpong"), "{first}");
    let sent = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "failures were found before the interrupt: {rest}");
    let summary = rest.lines().find(|l| l.starts_with("pingpong: ")).expect("a summary");
    assert!(summary.contains("(interrupted; 100000000 asked)"), "{summary}");
}

/// Goal: SIGTERM (a Kubernetes eviction, a CI timeout) stops a run like Ctrl-C, and a run
/// stopped before its seeds ran exits 130, never 0. Method: a run of every scenario far too long
/// to finish gets SIGTERM once its handler is in place; it must print each scenario's summary,
/// exit 130 (nothing failed) and write a JSON that lists every scenario, with the seeds that ran.
#[test]
fn sigterm_stops_stress_like_ctrl_c() {
    let dir = scratch("sigterm");
    let json = dir.join("summary.json").to_string_lossy().into_owned();
    let child = Command::new(env!("CARGO_BIN_EXE_fencepost"))
        .args(["stress", "--scenario", "all", "--seeds", "100000000", "--json", &json])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_signal_handlers(child.id());
    let sent = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let output = child.wait_with_output().unwrap();
    let out = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(130), "interrupted, nothing failed: {out}");
    // The signal may land before lease takes its first seed: then it too was "not run".
    let summaries_printed =
        out.lines().filter(|l| l.contains("interrupted") && !l.starts_with("verdict:")).count();
    let verdict = out.lines().last().unwrap();
    let scenarios = scenarios::registry().entries().len();
    let expected = format!("verdict: INTERRUPTED: {scenarios} scenarios, seeds 0..=99999999");
    assert!(verdict.starts_with(&expected), "{out}");
    assert_eq!(summaries_printed, scenarios::registry().entries().len(), "{out}");
    assert!(out.contains("pingpong: not run (interrupted before it began"), "{out}");
    let summaries: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let names: Vec<&str> =
        summaries.as_array().unwrap().iter().map(|s| s["scenario"].as_str().unwrap()).collect();
    let registered: Vec<&str> = scenarios::registry().entries().iter().map(|s| s.name()).collect();
    assert_eq!(names, registered, "every scenario asked for is listed");
    for summary in summaries.as_array().unwrap() {
        assert_eq!(summary["interrupted"], true, "{summary}");
        assert_eq!(summary["seeds_asked"], 100000000, "{summary}");
        let ran = summary["seeds_run"].as_u64().unwrap();
        let covered: u64 = summary["covers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["count"].as_u64().unwrap())
            .sum();
        assert_eq!(covered, ran, "the seeds that ran are recorded: {summary}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Goal: a variant that must find violations is called broken only over enough seeds. Method:
/// 2 clean seeds of replication-leader-ack are too few to judge (exit 0, no BROKEN HARNESS).
#[test]
fn too_few_seeds_of_an_unsafe_variant_are_not_a_broken_harness() {
    let (code, out, _) =
        fencepost(&["stress", "--scenario", "replication-leader-ack", "--seeds", "2"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("BROKEN HARNESS"), "{out}");
    assert!(out.contains("no violation found in 2 seeds: too few to judge"), "{out}");
}

/// Goal: ranges that run nothing or wrap round, and outputs that cannot be written, are usage
/// errors before any seed runs.
#[test]
fn stress_refuses_empty_ranges_and_unwritable_outputs() {
    let err = usage_error(&["stress", "--seeds", "0"]);
    assert!(err.contains("--seeds 0 runs nothing"), "{err}");
    let err = usage_error(&[
        "stress",
        "--scenario",
        "pingpong",
        "--start",
        "18446744073709551615",
        "--seeds",
        "2",
    ]);
    assert!(err.contains("runs past the last seed"), "{err}");
    let err = usage_error(&["stress", "--scenario", "pingpong", "--seeds", "3", "--shard", "5/8"]);
    assert!(err.contains("runs no seed"), "{err}");
    let err = usage_error(&[
        "stress",
        "--scenario",
        "pingpong",
        "--seeds",
        "2",
        "--json",
        "/nonexistent/s.json",
    ]);
    assert!(err.contains("cannot write --json /nonexistent/s.json"), "{err}");
    let dir = scratch("outputs");
    let file = dir.join("a-file").to_string_lossy().into_owned();
    std::fs::write(&file, "").unwrap();
    let err = usage_error(&[
        "stress",
        "--scenario",
        "pingpong",
        "--seeds",
        "2",
        "--save-failures",
        &file,
    ]);
    assert!(err.contains(&format!("cannot write --save-failures {file}")), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Goal: each `determinism:` line sits in its own scenario's summary, and the help says how
/// many re-runs `--check-determinism` makes.
#[test]
fn determinism_lines_print_inside_their_scenario() {
    let (code, out, _) = fencepost(&["stress", "--seeds", "2", "--check-determinism"]);
    assert_eq!(code, 0, "{out}");
    let mut current = None;
    let mut checked = Vec::new();
    for line in out.lines() {
        if let Some((name, _)) = line.split_once(": ").filter(|_| !line.starts_with(' ')) {
            current = Some(name.to_string());
        } else if line.starts_with("  determinism: 2 seeds re-run once each") {
            checked.push(current.clone().expect("a summary came first"));
        }
    }
    let registered: Vec<String> =
        scenarios::registry().entries().iter().map(|s| s.name().to_string()).collect();
    assert_eq!(checked, registered, "{out}");
    let (_, help, _) = fencepost(&["stress", "--help"]);
    assert!(help.contains("and every failure, once each"), "{help}");
    let (_, help, _) = fencepost(&["run", "--help"]);
    assert!(help.contains("(three runs in all)"), "{help}");
}

/// Goal: the main job reads as one verdict. Method: an unsafe variant's expected finds are a
/// count and a first seed, not a `FOUND` line per seed, its summary says "found (expected)",
/// not "failed", and the run ends with one `verdict:` line that agrees with the exit code; a
/// real failure keeps its per-seed line and turns the verdict.
#[test]
fn one_verdict_line_and_expected_finds_summarized() {
    let (code, out, _) =
        fencepost(&["stress", "--scenario", "replication-leader-ack", "--seeds", "40"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("FOUND") && !out.contains("FAILED"), "{out}");
    let summary = out.lines().find(|l| l.starts_with("replication-leader-ack: ")).unwrap();
    assert!(summary.contains(" found (expected) of 40 seeds"), "{summary}");
    assert!(out.contains("as expected for this variant; the first: seed "), "{out}");
    let verdict = out.lines().last().unwrap();
    assert!(
        verdict.starts_with(
            "verdict: passed: replication-leader-ack, seeds 0..=39 (40 runs): every invariant \
             held; expected violations found by replication-leader-ack ("
        ),
        "{verdict}"
    );
    let args =
        ["stress", "--scenario", "pingpong", "--seeds", "5", "--canary", "grant-from-receipt"];
    let (code, out, _) = fencepost(&args);
    assert_eq!(code, 1);
    let verdict = out.lines().last().unwrap();
    assert!(
        verdict.starts_with(
            "verdict: FAILED: pingpong with canary grant-from-receipt, seeds 0..=4 (5 runs): "
        ),
        "{verdict}"
    );
    assert!(verdict.contains(" seeds failed: pingpong "), "{verdict}");
}

/// Goal: a run nobody watches on a terminal still shows it is alive. Method: with stderr piped
/// (not a terminal) and a tiny interval, plain `progress:` lines arrive on stderr; interval 0
/// turns them off.
#[test]
fn progress_lines_when_stderr_is_not_a_terminal() {
    let args = ["stress", "--scenario", "cluster", "--seeds", "6", "--jobs", "1"];
    let (code, out, err) = fencepost(&[&args[..], &["--progress-interval", "0.001"]].concat());
    assert_eq!(code, 0, "{out}");
    let line = err.lines().find(|l| l.starts_with("progress: cluster ")).expect(&err);
    assert!(line.contains("/6 seeds, 0 failed, ") && line.contains(" seeds/s, eta "), "{line}");
    let (_, _, quiet) = fencepost(&[&args[..], &["--progress-interval", "0"]].concat());
    assert!(!quiet.contains("progress:"), "{quiet}");
    let (_, help, _) = fencepost(&["stress", "--help"]);
    assert!(help.contains("--progress-interval <SECONDS>"), "{help}");
}
