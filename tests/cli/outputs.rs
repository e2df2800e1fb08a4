//! Where results go: files, stdout, diagrams.

use crate::*;
use std::process::Command;

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
