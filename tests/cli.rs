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

/// Goal: shrinking also takes nodes and faults away. Method: the first lease seed of at least
/// four contenders whose no-term-fence failure involves faults shrinks to fewer contenders and
/// fewer faults; the written case replays to the same violation.
#[test]
fn shrink_pins_a_smaller_size_and_the_case_replays() {
    let entry = scenarios::find("lease").unwrap();
    let contenders = |seed| scenarios::lease::LeaseScenario::new(seed, None).contenders;
    let seed = (0..500)
        .filter(|&seed| contenders(seed) >= 4)
        .find(|&seed| {
            let canary = Some("no-term-fence".to_string());
            let report = (entry.run)(&scenarios::RunRequest { seed, canary, ..Default::default() });
            report.outcome.label() == "safety" && !report.plan.schedule.is_empty()
        })
        .expect("no-term-fence fails some seed with faults");
    let case = std::env::temp_dir().join(format!("fencepost-shrink-{}.json", std::process::id()));
    let case = case.to_string_lossy().into_owned();
    let seed_text = seed.to_string();
    let failing = ["--scenario", "lease", "--seed", &seed_text, "--canary", "no-term-fence"];
    let (code, out, err) = fencepost(&[&["shrink"][..], &failing, &["--out", &case]].concat());
    assert_eq!(code, 0, "{err}");
    let after = out.lines().find(|line| line.starts_with("after:")).expect("an after line");
    let pinned: u32 = after
        .split("size pinned to ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|size| size.parse().ok())
        .unwrap_or_else(|| panic!("no pinned size in {after}"));
    assert!(pinned < contenders(seed), "{after} (seed {seed}: {} contenders)", contenders(seed));
    let faults = |line: &str| -> usize {
        let words: Vec<&str> = line.split_whitespace().collect();
        let at = words.iter().position(|w| *w == "discrete").expect("a fault count");
        words[at - 1].parse().expect("a number")
    };
    let before = out.lines().find(|line| line.starts_with("before:")).expect("a before line");
    assert!(faults(after) < faults(before), "{before} / {after}");
    let (code, out, _) = fencepost(&[&["run"][..], &failing, &["--schedule", &case]].concat());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("size: {pinned} (pinned by the plan)")), "{out}");
    let before = fencepost(&[&["run"][..], &failing].concat()).1;
    let invariant = |out: &str| {
        out.lines().find(|l| l.starts_with("VIOLATION")).map(|l| {
            l.split(" of ").nth(1).and_then(|rest| rest.split(' ').next()).unwrap_or("").to_string()
        })
    };
    assert_eq!(invariant(&out), invariant(&before), "the same invariant fails");
    let _ = std::fs::remove_file(case);
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("fencepost-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Asserts a usage error: exit 2, one line on stderr starting `error:`, no panic; returns it.
fn usage_error(args: &[&str]) -> String {
    let (code, out, err) = fencepost(args);
    assert_eq!(code, 2, "{args:?}: {out}{err}");
    assert!(err.starts_with("error:") && err.lines().count() == 1, "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// Goal: a schedule file's every value is checked before it runs. Method: each value that once
/// panicked the kernel, was killed for memory or ran silently is a one-line usage error naming
/// the field and the range; `{}` runs and says it injects no faults.
#[test]
fn schedule_files_are_checked_before_they_run() {
    let dir = scratch("schedule");
    let file = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    };
    let replication = scenarios::find("replication").unwrap();
    let seed = (0..).find(|seed| (replication.fault_targets)(*seed, None) == 3).unwrap();
    let seed = seed.to_string();
    let crash = r#"{"schedule":[{"at_ns":1,"fault":{"crash":{"node":99,"down_ns":1}}}]}"#;
    let pingpong_plan =
        r#"{"schedule":[{"at_ns":1,"fault":{"pause":{"node":4,"duration_ns":1}}}]}"#;
    for (name, text, expected) in [
        ("crash.json", crash, "schedule[0].fault.crash.node: 99 is out of range: allowed 0..=2"),
        (
            "ratio.json",
            r#"{"network":{"drop_ratio":{"numerator":0,"denominator":0}}}"#,
            "network.drop_ratio.denominator: 0 is out of range: allowed 1..=",
        ),
        (
            "drift.json",
            r#"{"clock":{"drift_ppm_max":18446744073709551615}}"#,
            "clock.drift_ppm_max: 18446744073709551615 is out of range: allowed 0..=500000",
        ),
        ("size0.json", r#"{"size":0}"#, "size: 0 is out of range: allowed 1..=5"),
        ("size.json", r#"{"size":4294967295}"#, "size: 4294967295 is out of range: allowed 1..=5"),
        ("pingpong.json", pingpong_plan, "schedule[0].fault.pause.node: 4 is out of range"),
        ("list.json", "[]", "(the top level): expected an object of plan fields"),
        ("foo.json", r#"{"foo":1}"#, "foo: unknown field `foo`"),
    ] {
        let path = file(name, text);
        let args = ["run", "--scenario", "replication", "--seed", &seed, "--schedule", &path];
        let err = usage_error(&args);
        assert!(err.starts_with(&format!("error: {path}: {expected}")), "{name}: {err}");
    }
    let empty = file("empty.json", "{}");
    let args = ["run", "--scenario", "pingpong", "--seed", "3", "--schedule", &empty];
    let (code, out, _) = fencepost(&args);
    assert_eq!(code, 0, "{out}");
    let first = out.lines().next().unwrap();
    assert!(first.starts_with(&format!("schedule: {empty} injects no faults;")), "{first}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Goal: the `reproduce:` line after `--schedule` replays the same run. Method: a failing
/// canary run from a saved plan names that file, and running the printed line fails alike.
#[test]
fn reproduce_names_the_schedule_file() {
    let dir = scratch("reproduce");
    let plan = dir.join("plan.json").to_string_lossy().into_owned();
    let failing = ["--scenario", "pingpong", "--seed", "2", "--canary", "grant-from-receipt"];
    let (code, _, _) = fencepost(&[&["run"][..], &failing, &["--save-plan", &plan]].concat());
    assert_eq!(code, 1);
    let (code, out, _) = fencepost(&[&["run"][..], &failing, &["--schedule", &plan]].concat());
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("reproduce: ")).collect();
    assert_eq!(
        lines,
        [format!(
            "reproduce: cargo run --release -- run --scenario pingpong --seed 2 --schedule {plan} \
             --canary grant-from-receipt"
        )],
        "one line, with the real path (a DST_SEED line would replay the swarm plan instead)"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Waits until `pid` catches SIGINT and SIGTERM (Linux `SigCgt`), so a signal sent next is
/// handled, not fatal. Fails after 60 s.
#[allow(clippy::disallowed_methods)] // a watchdog on a real process: host time is right here
fn wait_for_signal_handlers(pid: u32) {
    let started = std::time::Instant::now();
    let wanted = (1u64 << (2 - 1)) | (1u64 << (15 - 1)); // SIGINT = 2, SIGTERM = 15
    loop {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let caught = status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
            .unwrap_or(0);
        if caught & wanted == wanted {
            return;
        }
        assert!(started.elapsed().as_secs() < 60, "no signal handlers after 60 s: {status}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Goal: SIGTERM (a Kubernetes eviction, a CI timeout) stops a run like Ctrl-C, and a run
/// stopped before its seeds ran exits 130, never 0. Method: a run of every scenario far too long
/// to finish gets SIGTERM once its handler is in place; it must print each scenario's summary,
/// exit 130 (nothing failed) and write a JSON that lists all six, with the seeds that ran.
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
    let summaries_printed = out.lines().filter(|l| l.contains("interrupted")).count();
    assert_eq!(summaries_printed, scenarios::SCENARIOS.len(), "{out}");
    assert!(out.contains("pingpong: not run (interrupted before it began"), "{out}");
    let summaries: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let names: Vec<&str> =
        summaries.as_array().unwrap().iter().map(|s| s["scenario"].as_str().unwrap()).collect();
    let registered: Vec<&str> = scenarios::SCENARIOS.iter().map(|s| s.name).collect();
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

/// Goal: `merge` adds shards up once each and judges as `stress` does. Method: two halves of a
/// range merge to the whole; the same shard twice, or overlapping shards, are an error naming a
/// seed both ran; the expected finds of an unsafe variant do not fail a merge.
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
    assert_eq!(stress(&["--start", "15"], &path("late.json")), 0);
    let (code, out, err) = fencepost(&["merge", &path("a.json"), &path("b.json")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("pingpong: 20 passed, 0 failed of 20 seeds"), "{out}");
    std::fs::write(path("empty.json"), "[]").unwrap();
    let err = usage_error(&["merge", &path("empty.json")]);
    assert!(err.contains("no scenario summaries"), "{err}");
    let err = usage_error(&["merge", &path("a.json"), &path("a.json")]);
    assert!(
        err.contains("overlapping shards") && err.contains("both ran seed 0 of pingpong"),
        "{err}"
    );
    let err = usage_error(&["merge", &path("a.json"), &path("b.json"), &path("late.json")]);
    // a.json ran the even seeds below 20, late.json 15..35: 16 is the first both ran.
    assert!(err.contains("both ran seed 16 of pingpong"), "{err}");

    let unsafe_variant = ["stress", "--scenario", "replication-leader-ack", "--seeds", "30"];
    let (code, out, _) = fencepost(&[&unsafe_variant[..], &["--json", &path("ack.json")]].concat());
    assert_eq!(code, 0, "expected finds are not failures: {out}");
    assert!(out.contains("violations found, as expected for this variant"), "{out}");
    let (code, out, _) = fencepost(&["merge", &path("ack.json")]);
    assert_eq!(code, 0, "merge agrees with stress: {out}");
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
    let registered: Vec<String> = scenarios::SCENARIOS.iter().map(|s| s.name.to_string()).collect();
    assert_eq!(checked, registered, "{out}");
    let (_, help, _) = fencepost(&["stress", "--help"]);
    assert!(help.contains("and every failure, once each"), "{help}");
    let (_, help, _) = fencepost(&["run", "--help"]);
    assert!(help.contains("(three runs in all)"), "{help}");
}

/// Goal: `bench` shows stress memory flat in the number of seeds. Method: the memory figures
/// alone, over small counts, print one peak per count.
#[test]
fn bench_reports_the_peak_memory_of_stress_runs() {
    let (code, out, _) = fencepost(&["bench", "--memory-only", "--memory-seeds", "20,200"]);
    assert_eq!(code, 0, "{out}");
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("stress memory (")).collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[1].starts_with("stress memory (200 lease seeds") && lines[1].contains("peak RSS")
    );
    assert!(!out.contains("unknown"), "Linux reports VmHWM: {out}");
}
