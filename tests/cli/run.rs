//! `run`, `shrink` and schedules: one seed, replayed exactly.

use crate::*;

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

/// Goal: shrinking also takes nodes and faults away. Method: of the first three lease seeds of
/// at least four contenders whose no-term-fence failure involves faults, each shrinks to fewer
/// faults and some to fewer contenders (a seed whose failure needs them all keeps them); the
/// written case replays to the same violation.
#[test]
fn shrink_pins_a_smaller_size_and_the_case_replays() {
    let registry = scenarios::registry();
    let entry = registry.find("lease").unwrap();
    let contenders = |seed| scenarios::lease::LeaseScenario::new(seed, None).contenders;
    let seeds: Vec<u64> = (0..500)
        .filter(|&seed| contenders(seed) >= 4)
        .filter(|&seed| {
            let request = fencepost::RunRequest::seed(seed).with_canary(Some("no-term-fence"));
            let report = entry.run(&request);
            report.outcome.label() == "safety" && !report.plan.schedule.is_empty()
        })
        .take(3)
        .collect();
    assert_eq!(seeds.len(), 3, "no-term-fence fails seeds with faults");
    let faults = |line: &str| -> usize {
        let words: Vec<&str> = line.split_whitespace().collect();
        let at = words.iter().position(|w| *w == "discrete").expect("a fault count");
        words[at - 1].parse().expect("a number")
    };
    let mut pinned_one = None;
    for seed in seeds {
        let case = std::env::temp_dir()
            .join(format!("fencepost-shrink-{}-{seed}.json", std::process::id()));
        let case = case.to_string_lossy().into_owned();
        let seed_text = seed.to_string();
        let failing = ["--scenario", "lease", "--seed", &seed_text, "--canary", "no-term-fence"];
        let (code, out, err) = fencepost(&[&["shrink"][..], &failing, &["--out", &case]].concat());
        assert_eq!(code, 0, "{err}");
        let after = out.lines().find(|line| line.starts_with("after:")).expect("an after line");
        let before = out.lines().find(|line| line.starts_with("before:")).expect("a before line");
        assert!(faults(after) < faults(before), "seed {seed}: {before} / {after}");
        let pinned: Option<u32> = after
            .split("size pinned to ")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .and_then(|size| size.parse().ok());
        match pinned {
            Some(size) if pinned_one.is_none() && size < contenders(seed) => {
                pinned_one = Some((seed, size, case))
            }
            _ => drop(std::fs::remove_file(case)),
        }
    }
    let (seed, pinned, case) = pinned_one.expect("some seed shrinks to fewer contenders");
    let seed_text = seed.to_string();
    let failing = ["--scenario", "lease", "--seed", &seed_text, "--canary", "no-term-fence"];
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
