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
        assert!(
            scenarios::registry().find(fields[0]).and_then(|s| s.canary(fields[1])).is_some(),
            "{line}"
        );
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
/// no more faults; the written case replays to the same violation.
#[test]
fn shrink_pins_a_smaller_size_and_the_case_replays() {
    let registry = scenarios::registry();
    let entry = registry.find("lease").unwrap();
    let contenders = |seed| scenarios::lease::LeaseScenario::new(seed, None).contenders;
    let seed = (0..500)
        .filter(|&seed| contenders(seed) >= 4)
        .find(|&seed| {
            let request = fencepost::RunRequest::seed(seed).with_canary(Some("no-term-fence"));
            let report = entry.run(&request);
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
    assert!(after.contains(" 0 discrete faults"), "{after}");
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
    let registry = scenarios::registry();
    let replication = registry.find("replication").unwrap();
    let targets = |seed: u64| (replication.plan_bounds(seed).fault_targets)(seed, None);
    let seed = (0..).find(|seed| targets(*seed) == 3).unwrap();
    let seed = seed.to_string();
    let crash = r#"{"schedule":[{"at_ns":1,"fault":{"crash":{"node":99,"down_ns":1}}}]}"#;
    let pingpong_plan =
        r#"{"schedule":[{"at_ns":1,"fault":{"pause":{"node":4,"duration_ns":1}}}]}"#;
    let partition = |partition: &str, at_ns: u64| {
        format!(
            r#"{{"schedule":[{{"at_ns":{at_ns},"fault":{{"partition":{{"partition":{partition},"duration_ns":1}}}}}}]}}"#
        )
    };
    let both_sides = partition(r#"{"symmetric":{"side_a":[0,1],"side_b":[1,2]}}"#, 1);
    let empty_side = partition(r#"{"one_way":{"from":[],"to":[1]}}"#, 1);
    let empty_group = partition(r#"{"split":{"group":[]}}"#, 1);
    let late = partition(r#"{"isolate_one":{"node":0}}"#, 30_000_000_000);
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
        (
            "twice.json",
            r#"{"network":{"drop_ratio":{"numerator":1,"numerator":2,"denominator":2}}}"#,
            "network.drop_ratio.numerator: given twice in one object",
        ),
        (
            "both-sides.json",
            both_sides.as_str(),
            "schedule[0].fault.partition.partition.symmetric: n1 is on both sides",
        ),
        (
            "empty-side.json",
            empty_side.as_str(),
            "schedule[0].fault.partition.partition.one_way.from: is empty",
        ),
        (
            "empty-group.json",
            empty_group.as_str(),
            "schedule[0].fault.partition.partition.split.group: is empty",
        ),
        (
            "late.json",
            late.as_str(),
            "schedule[0].at_ns: 30000000000 is out of range: allowed 0..=19999999999 (faults \
             begin before the safety phase ends at 20.000000s",
        ),
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
    let summaries_printed =
        out.lines().filter(|l| l.contains("interrupted") && !l.starts_with("verdict:")).count();
    let verdict = out.lines().last().unwrap();
    assert!(verdict.starts_with("verdict: INTERRUPTED: 6 scenarios, seeds 0..=99999999"), "{out}");
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

/// Goal: no command overwrites what it reads, and no output is left half written. Method: an
/// output path equal to an input (or to another output) is a usage error naming both; a
/// `--json` written over an older file leaves no temporary file behind.
#[test]
fn outputs_never_overwrite_inputs() {
    let dir = scratch("same-path");
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let json = path("s.json");
    let (code, _, _) =
        fencepost(&["stress", "--scenario", "pingpong", "--seeds", "2", "--json", &json]);
    assert_eq!(code, 0);
    let err = usage_error(&["merge", &json, "--json", &json]);
    assert!(err.contains("is the same file as input"), "{err}");
    let trace = path("t.jsonl");
    let (code, _, _) =
        fencepost(&["run", "--scenario", "pingpong", "--seed", "3", "--trace", &trace]);
    assert_eq!(code, 0);
    let err = usage_error(&["view", &trace, "--html", &format!("{}/./t.jsonl", dir.display())]);
    assert!(err.contains("is the same file as trace"), "{err}");
    let err = usage_error(&[
        "run",
        "--scenario",
        "pingpong",
        "--seed",
        "3",
        "--trace",
        &trace,
        "--html",
        &trace,
    ]);
    assert!(err.contains(&format!("--html {trace} is the same file as --trace {trace}")), "{err}");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Goal: a case file replays exactly the case it records and says whether it still ends so.
/// Method: the corpus's shrunk pingpong canary case runs alone (its scenario, seed and canary
/// from the file) and reproduces; flags that contradict it are errors; a case whose recorded
/// step was changed is a loud mismatch with exit 6; a bare plan still needs its flags.
#[test]
fn a_case_file_replays_the_case_it_records() {
    let case = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/regressions/pingpong-no-grace-period-shrunk-seed-19.json"
    );
    let (code, out, err) = fencepost(&["run", "--schedule", case]);
    assert_eq!(code, 1, "the canary's violation, as recorded: {out}{err}");
    assert!(
        out.contains("case: pingpong seed 19 canary no-grace-period: shrunk from seed 19"),
        "{out}"
    );
    let last = out.lines().last().unwrap();
    assert!(
        last.starts_with("case: expected safety@")
            && last.ends_with(" GrantUniqueness: reproduced"),
        "{last}"
    );
    let same = fencepost(&[
        "run",
        "--scenario",
        "pingpong",
        "--seed",
        "19",
        "--canary",
        "no-grace-period",
        "--schedule",
        case,
    ]);
    assert_eq!(same.1, out, "flags that agree with the case change nothing");
    for (flag, value, recorded) in [
        ("--scenario", "lease", "its scenario pingpong"),
        ("--seed", "7", "its seed 19"),
        ("--canary", "grant-from-receipt", "its canary no-grace-period"),
    ] {
        let err = usage_error(&["run", "--schedule", case, flag, value]);
        assert!(err.contains(&format!("{flag} {value} contradicts {recorded}")), "{err}");
    }
    let dir = scratch("case");
    let text = std::fs::read_to_string(case).unwrap();
    let mut edited: serde_json::Value = serde_json::from_str(&text).unwrap();
    let step = edited["expect"]["step"].as_u64().unwrap();
    edited["expect"]["step"] = (step + 1).into();
    let moved = dir.join("moved.json").to_string_lossy().into_owned();
    std::fs::write(&moved, edited.to_string()).unwrap();
    let (code, out, _) = fencepost(&["run", "--schedule", &moved]);
    assert_eq!(code, 6, "{out}");
    let last = out.lines().last().unwrap();
    assert!(last.starts_with(&format!("CASE MISMATCH: expected safety@{} GrantUniqueness, but the run ended safety@{step} GrantUniqueness", step + 1)), "{last}");
    let plan = dir.join("plan.json").to_string_lossy().into_owned();
    std::fs::write(&plan, edited["plan"].to_string()).unwrap();
    let err = usage_error(&["run", "--schedule", &plan]);
    assert!(
        err.contains("--scenario is required: ") && err.contains("is a bare fault plan"),
        "{err}"
    );
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

/// Goal: `bench` never divides by zero or indexes an empty list. Method: each count at 0 is a
/// usage error naming its flag (the old alias of --kernel-seeds included).
#[test]
fn bench_refuses_zero_counts() {
    for flag in [
        "--kernel-seeds",
        "--pingpong-seeds",
        "--scenario-seeds",
        "--canary-windows",
        "--canary-seeds-max",
        "--memory-seeds",
    ] {
        let err = usage_error(&["bench", flag, "0"]);
        assert!(err.contains("0 measures nothing: ask for at least 1"), "{flag}: {err}");
    }
}

/// Runs `args` and kills it after `seconds`; returns the exit code (None: it was killed).
#[allow(clippy::disallowed_methods)] // a watchdog on a real process: host time is right here
fn run_within(args: &[&str], seconds: u64) -> Option<i32> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fencepost"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while started.elapsed().as_secs() < seconds {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Goal: absurd sizes cost nothing. Method: a million (or 2^64 - 1) jobs for 10 seeds start
/// at most 10 workers and finish at once; `--schedule /dev/zero` stops at its size cap.
#[test]
fn absurd_jobs_and_endless_schedules_are_bounded() {
    for jobs in ["1000000", "18446744073709551615"] {
        let args = ["stress", "--scenario", "pingpong", "--seeds", "10", "--jobs", jobs];
        assert_eq!(run_within(&args, 20), Some(0), "--jobs {jobs}");
    }
    let err =
        usage_error(&["run", "--scenario", "pingpong", "--seed", "1", "--schedule", "/dev/zero"]);
    assert!(err.contains("/dev/zero is larger than 16 MiB"), "{err}");
}

/// Goal: a report that could not be written is never a success, while a reader that went away
/// on purpose (`| head`) is no error. Chosen: EPIPE exits 0 quietly; any other failed write to
/// stdout (a full device) is `error: cannot write to stdout`, exit 2.
#[test]
fn a_lost_report_is_an_error_but_a_closed_pipe_is_not() {
    let full = std::fs::File::create("/dev/full").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_fencepost"))
        .args(["run", "--scenario", "pingpong", "--seed", "3"])
        .stdout(full)
        .output()
        .unwrap();
    let err = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error: cannot write to stdout: No space left on device"), "{err}");
    // The reader closes before the run has printed anything.
    let mut child = Command::new(env!("CARGO_BIN_EXE_fencepost"))
        .args(["run", "--scenario", "pingpong", "--seed", "2", "--canary", "grant-from-receipt"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "a closed pipe stops the run quietly");
    assert!(output.stderr.is_empty(), "{}", String::from_utf8_lossy(&output.stderr));
}

/// Goal: `view` never draws a misleading picture. Method: a saved trace with two lines swapped
/// (steps going backwards) is refused, naming the line.
#[test]
fn view_refuses_a_trace_that_goes_backwards() {
    let dir = scratch("backwards");
    let trace = dir.join("t.jsonl").to_string_lossy().into_owned();
    let (code, _, _) =
        fencepost(&["run", "--scenario", "pingpong", "--seed", "3", "--trace", &trace]);
    assert_eq!(code, 0);
    let text = std::fs::read_to_string(&trace).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let late = lines.iter().position(|l| !l.starts_with("{\"step\":0,")).unwrap() + 5;
    lines.swap(late, late + 1);
    std::fs::write(&trace, lines.join("\n")).unwrap();
    let html = dir.join("t.html").to_string_lossy().into_owned();
    let err = usage_error(&["view", &trace, "--html", &html]);
    assert!(err.contains(&format!("t.jsonl:{}: step ", late + 2)), "{err}");
    assert!(err.contains("the trace goes backwards"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Not a test of its own: what `dst_variables_are_checked_and_the_seeds_said` runs in a child
/// process with the variables it sets (a test cannot set the environment of its own process).
#[test]
#[ignore = "run by dst_variables_are_checked_and_the_seeds_said with its own environment"]
fn seed_range_under_the_given_environment() {
    fencepost::testing::seed_range(&scenarios::registry(), "pingpong", 3);
}

/// Goal: `DST_SEED` / `DST_SEEDS` are checked whenever set, a misspelt `DST_` variable is an
/// error, and the seeds that ran are said. Method: this test binary runs the helper above in a
/// child process under each environment.
#[test]
fn dst_variables_are_checked_and_the_seeds_said() {
    let run = |vars: &[(&str, &str)]| {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command.args([
            "--ignored",
            "--exact",
            "seed_range_under_the_given_environment",
            "--nocapture",
        ]);
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("DST_")) {
            command.env_remove(key);
        }
        command.envs(vars.iter().copied());
        let output = command.output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        (output.status.success(), text)
    };
    let (passed, out) = run(&[("DST_SEEDS", "2")]);
    assert!(passed && out.contains("pingpong: seeds 0..=1 (2 seeds)"), "{out}");
    let (passed, out) = run(&[("DST_SEED", "0x2a")]);
    assert!(passed && out.contains("pingpong: seeds 42..=42 (1 seeds)"), "{out}");
    let (passed, out) = run(&[("DST_SEED", "42"), ("DST_SEEDS", "garbage")]);
    assert!(!passed && out.contains("DST_SEEDS=\"garbage\" is not valid"), "{out}");
    let (passed, out) = run(&[("DST_SEEED", "42")]);
    assert!(!passed && out.contains("unknown variable DST_SEEED"), "{out}");
}

/// Goal: one number parser for every seed and count. Method: hex and `_` work for counts as
/// for seeds; the same malformed text gets the same one-line message from any flag.
#[test]
fn every_number_flag_parses_alike() {
    let (code, out, _) =
        fencepost(&["stress", "--scenario", "pingpong", "--seeds", "0x4", "--jobs", "0x2"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("pingpong: 4 passed, 0 failed of 4 seeds"), "{out}");
    for args in [
        vec!["stress", "--seeds", "1__0"],
        vec!["stress", "--start", "1__0"],
        vec!["run", "--scenario", "pingpong", "--seed", "1__0"],
        vec!["shrink", "--scenario", "pingpong", "--seed", "1", "--runs-max", "1__0"],
        vec!["bench", "--scenario-seeds", "1__0"],
    ] {
        let err = usage_error(&args);
        assert!(
            err.contains("invalid value '1__0'")
                && err.ends_with("`_` may only stand between two digits\n"),
            "{args:?}: {err}"
        );
    }
}

/// Goal: a wrong canary says where the right one is. Method: a scenario without canaries says
/// so (no empty list); `--scenario all --canary X` names the scenario that owns X.
#[test]
fn canary_errors_name_the_owner() {
    let err = usage_error(&[
        "run",
        "--scenario",
        "lease-unsafe-drift",
        "--seed",
        "1",
        "--canary",
        "no-grace-period",
    ]);
    assert!(err.contains("has no canary 'no-grace-period' (it has no canaries); 'no-grace-period' is a canary of pingpong"), "{err}");
    let err = usage_error(&["stress", "--scenario", "all", "--canary", "unchecked-resource"]);
    assert!(
        err.contains(
            "it is a canary of lease, cluster; run it with --scenario lease or --scenario cluster"
        ),
        "{err}"
    );
    let err = usage_error(&["stress", "--canary", "nope"]);
    assert!(err.contains("no scenario has a canary 'nope'"), "{err}");
}
