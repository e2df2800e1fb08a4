//! Printing that survives a closed pipe (`fencepost stress | head`): a reader that went away is
//! not an error worth a panic, so the process just stops quietly.

use std::io::Write;

/// Writes one line to stdout; exits quietly if stdout is closed.
pub fn line(text: impl std::fmt::Display) {
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{text}").is_err() {
        std::process::exit(0);
    }
}

/// Writes text to stdout without a newline; exits quietly if stdout is closed.
pub fn text(text: impl std::fmt::Display) {
    let mut stdout = std::io::stdout().lock();
    if write!(stdout, "{text}").and_then(|_| stdout.flush()).is_err() {
        std::process::exit(0);
    }
}
