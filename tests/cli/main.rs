//! The command line's contract: output formats and exit codes scripts rely on, one module per
//! concern.

mod merge;
mod outputs;
mod run;
mod stress;
mod usage;

use std::process::Command;

pub fn fencepost(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_fencepost")).args(args).output().unwrap();
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    (output.status.code().unwrap_or(-1), text(output.stdout), text(output.stderr))
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("fencepost-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Asserts a usage error: exit 2, one line on stderr starting `error:`, no panic; returns it.
pub fn usage_error(args: &[&str]) -> String {
    let (code, out, err) = fencepost(args);
    assert_eq!(code, 2, "{args:?}: {out}{err}");
    assert!(err.starts_with("error:") && err.lines().count() == 1, "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// Waits until `pid` catches SIGINT and SIGTERM (Linux `SigCgt`), so a signal sent next is
/// handled, not fatal. Fails after 60 s.
#[allow(clippy::disallowed_methods)] // a watchdog on a real process: host time is right here
pub fn wait_for_signal_handlers(pid: u32) {
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

/// Runs `args` and kills it after `seconds`; returns the exit code (None: it was killed).
#[allow(clippy::disallowed_methods)] // a watchdog on a real process: host time is right here
pub fn run_within(args: &[&str], seconds: u64) -> Option<i32> {
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
