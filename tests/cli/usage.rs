//! Listing, usage errors and the numbers and variables a person types.

use crate::*;
use std::process::Command;

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
            "usage::seed_range_under_the_given_environment",
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
