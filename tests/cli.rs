//! The command line's contract: output formats and exit codes scripts rely on.

use std::process::Command;

fn fencepost(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_fencepost")).args(args).output().unwrap();
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    (output.status.code().unwrap_or(-1), text(output.stdout), text(output.stderr))
}

#[test]
fn list_prints_one_scenario_per_line() {
    let (code, out, _) = fencepost(&["list"]);
    assert_eq!(code, 0);
    let names: Vec<&str> = out.lines().collect();
    assert!(names.contains(&"pingpong"), "{out}");
    assert!(names.iter().all(|n| !n.contains(' ')));
}

#[test]
fn list_canaries_prints_scenario_canary_description() {
    let (code, out, _) = fencepost(&["list", "--canaries"]);
    assert_eq!(code, 0);
    for line in out.lines() {
        let fields: Vec<&str> = line.splitn(3, ' ').collect();
        assert_eq!(fields.len(), 3, "{line}");
        assert!(scenarios::find(fields[0]).and_then(|s| s.canary(fields[1])).is_some(), "{line}");
    }
    assert!(out.contains("pingpong no-grace-period "));
}

#[test]
fn run_passes_with_a_trace_hash_line() {
    let (code, out, _) = fencepost(&["run", "--scenario", "pingpong", "--seed", "3"]);
    assert_eq!(code, 0, "{out}");
    let hash = out.split("trace_hash=").nth(1).expect("trace_hash line").split_whitespace().next();
    let hash = hash.unwrap();
    assert_eq!(hash.len(), 16);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
    let (_, again, _) = fencepost(&["run", "--scenario", "pingpong", "--seed", "0x3"]);
    assert_eq!(out, again, "hex and decimal name the same seed; runs are deterministic");
}

#[test]
fn a_violation_exits_1_with_the_report() {
    let args = ["run", "--scenario", "pingpong", "--seed", "2", "--canary", "grant-from-receipt"];
    let (code, out, _) = fencepost(&args);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("VIOLATION (safety) of GrantUniqueness"), "{out}");
    assert!(out.contains("reproduce: cargo run --release -- run --scenario pingpong --seed 2"));
}

#[test]
fn bad_usage_exits_2_with_one_line_and_no_panic() {
    for args in [
        vec!["run", "--scenario", "nope", "--seed", "1"],
        vec!["run", "--scenario", "pingpong", "--seed", "12abc"],
        vec!["run", "--scenario", "pingpong", "--seed", "1", "--canary", "nope"],
        vec!["stress", "--scenario", "nope", "--seeds", "1"],
    ] {
        let (code, out, err) = fencepost(&args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.starts_with("error:"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

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

/// Goal: Ctrl-C stops a long stress run cleanly and still prints the summary. Method: a run far
/// too long to finish, with a canary so failure lines stream out; after the first one arrives
/// (the handler is installed before any seed runs), send SIGINT and read the rest.
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
    assert!(summary.contains("(interrupted)"), "{summary}");
}

/// Goal: a run can be looked at, now or later. Method: `run --html` and `--trace`, then `view`
/// of the saved trace, give the same page; a malformed or missing trace is a usage error naming
/// the file (and the line).
#[test]
fn html_diagrams_from_a_run_and_from_a_saved_trace() {
    let dir = std::env::temp_dir().join(format!("fencepost-cli-html-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let (trace, direct, viewed) = (path("t.jsonl"), path("direct.html"), path("viewed.html"));
    let args = ["run", "--scenario", "pingpong", "--seed", "2", "--canary", "grant-from-receipt"];
    let (code, out, _) = fencepost(&[&args[..], &["--trace", &trace, "--html", &direct]].concat());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("diagram: "), "{out}");
    let (code, _, err) = fencepost(&["view", &trace, "--html", &viewed]);
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(&viewed).unwrap();
    assert!(page.contains("GrantUniqueness"), "the violation is in the page");
    let direct_page = std::fs::read_to_string(&direct).unwrap();
    // The same records, whichever way the page was made (the titles differ).
    let records = |page: &str| page[page.find("\"step\"").unwrap()..].to_string();
    assert_eq!(records(&page), records(&direct_page));

    std::fs::write(path("bad.jsonl"), "{\"step\": 1}\nnot json\n").unwrap();
    let (code, _, err) = fencepost(&["view", &path("bad.jsonl"), "--html", &viewed]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.jsonl:1: not a trace record") && err.lines().count() == 1, "{err}");
    let (code, _, err) = fencepost(&["view", &path("missing.jsonl"), "--html", &viewed]);
    assert_eq!((code, err.contains("cannot read")), (2, true), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Goal: shrinking also takes nodes and writes away. Method: lease seed 15's no-term-fence
/// failure (3 contenders, 3 faults) needs one contender, a few writes and no faults; the written
/// case replays to the same violation.
#[test]
fn shrink_pins_a_smaller_size_and_the_case_replays() {
    let case = std::env::temp_dir().join(format!("fencepost-shrink-{}.json", std::process::id()));
    let case = case.to_string_lossy().into_owned();
    let failing = ["--scenario", "lease", "--seed", "15", "--canary", "no-term-fence"];
    let (code, out, err) = fencepost(&[&["shrink"][..], &failing, &["--out", &case]].concat());
    assert_eq!(code, 0, "{err}");
    let after = out.lines().find(|line| line.starts_with("after:")).expect("an after line");
    assert!(after.contains("size pinned to 1, writes capped at 8 per writer, 0 discrete faults"));
    let (code, out, _) = fencepost(&[&["run"][..], &failing, &["--schedule", &case]].concat());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("size: 1 (pinned by the plan)") && out.contains("of FencingMonotonic"));
    let _ = std::fs::remove_file(case);
}
