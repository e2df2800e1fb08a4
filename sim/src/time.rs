//! Simulated time. One global true time, in nanoseconds since the start of the run; nothing in a
//! simulated run ever reads the host's clock.

/// Nanoseconds of true (simulated) time since the run began.
pub type SimTime = u64;

/// One microsecond in nanoseconds.
pub const MICROSECOND: u64 = 1_000;
/// One millisecond in nanoseconds.
pub const MILLISECOND: u64 = 1_000_000;
/// One second in nanoseconds.
pub const SECOND: u64 = 1_000_000_000;

/// `n` milliseconds in nanoseconds.
pub const fn millis(n: u64) -> u64 {
    n * MILLISECOND
}

/// `n` seconds in nanoseconds.
pub const fn secs(n: u64) -> u64 {
    n * SECOND
}

/// Formats nanoseconds for people: `12.345678s`.
pub fn format_ns(ns: u64) -> String {
    format!("{}.{:06}s", ns / SECOND, (ns % SECOND) / MICROSECOND)
}
