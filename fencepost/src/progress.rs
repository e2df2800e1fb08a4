//! How far a `stress` run has got, shown where someone may be looking. On a terminal, a live
//! bar (indicatif). Anywhere else (CI, Kubernetes logs, a file) a bar draws nothing, so a plain
//! line goes to stderr at a steady interval instead, ten seconds unless `--progress-interval`
//! says otherwise:
//!
//! `progress: cluster 1200/5000 seeds, 0 failed, 38.1 seeds/s, eta 1m40s`
//!
//! Its content is deterministic but for the timing figures.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// The default time between plain progress lines.
pub const INTERVAL_DEFAULT: Duration = Duration::from_secs(10);

/// Parses `--progress-interval`: seconds, decimals allowed (`0.5`); 0 turns the lines off.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text.trim().parse().map_err(|_| "expected seconds, as 10 or 0.5")?;
    if !(0.0..=86_400.0).contains(&seconds) {
        return Err("expected seconds from 0 (off) to 86400".into());
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// The progress of one scenario's seeds.
pub struct Progress {
    bar: ProgressBar,
    plain: Option<Plain>,
    name: String,
    total: u64,
    /// "failed", or "found" for a variant whose finds are expected.
    failed_word: &'static str,
}

/// The plain lines' clock.
struct Plain {
    interval: Duration,
    started: Instant,
    next_at: Instant,
}

impl Progress {
    /// Progress over `total` seeds of scenario `name`: a bar on a terminal, plain lines every
    /// `interval` elsewhere (none for a zero interval), nothing at all when `!show`.
    pub fn new(name: &str, total: u64, interval: Duration, show: bool) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let bar = if show && terminal { ProgressBar::new(total) } else { ProgressBar::hidden() };
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>10} [{bar:30}] {pos}/{len} seeds  {msg}  eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(name.to_string());
        let started = crate::bench::wall_clock();
        let plain = (show && !terminal && !interval.is_zero()).then(|| Plain {
            interval,
            started,
            next_at: started + interval,
        });
        Progress { bar, plain, name: name.to_string(), total, failed_word: "failed" }
    }

    /// Counts failures as expected finds ("found") in the lines.
    pub fn expecting_finds(mut self) -> Progress {
        self.failed_word = "found";
        self
    }

    /// How long the caller may wait for a result before calling [`Progress::update`] again, so
    /// a plain line is never late by more than that even while no seed finishes.
    pub fn poll_interval(&self) -> Option<Duration> {
        self.plain.as_ref().map(|plain| plain.interval.min(Duration::from_millis(250)))
    }

    /// Runs `print` with the bar out of the way (for a failure line on stdout).
    pub fn suspend(&self, print: impl FnOnce()) {
        self.bar.suspend(print);
    }

    /// Shows `done` seeds run, `failed` of them failing, `events` stepped in all; prints a
    /// plain line when one is due.
    pub fn update(&mut self, done: u64, failed: usize, events: u64) {
        let started = self.plain.as_ref().map_or_else(crate::bench::wall_clock, |p| p.started);
        let elapsed = started.elapsed().as_secs_f64().max(1e-9);
        if self.bar.position() != done {
            self.bar.set_position(done);
            self.bar.set_message(format!(
                "{failed} {}  {:.2}M events/s",
                self.failed_word,
                events as f64 / elapsed / 1e6
            ));
        }
        let Some(plain) = &mut self.plain else { return };
        let now = crate::bench::wall_clock();
        if now < plain.next_at {
            return;
        }
        while plain.next_at <= now {
            plain.next_at += plain.interval;
        }
        let elapsed = now.duration_since(plain.started).as_secs_f64().max(1e-9);
        let rate = done as f64 / elapsed;
        let eta = if done == 0 {
            "unknown".to_string()
        } else {
            format_duration(self.total.saturating_sub(done) as f64 / rate)
        };
        eprintln!(
            "progress: {} {done}/{} seeds, {failed} {}, {rate:.1} seeds/s, eta {eta}",
            self.name, self.total, self.failed_word
        );
    }

    /// Clears the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Whole seconds as `42s`, `3m05s` or `2h07m`.
fn format_duration(seconds: f64) -> String {
    let seconds = seconds.round().min(1e9) as u64;
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m{:02}s", seconds / 60, seconds % 60),
        _ => format!("{}h{:02}m", seconds / 3600, seconds % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_and_durations_read_as_people_write_them() {
        assert_eq!(parse_interval("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_interval("0.05"), Ok(Duration::from_millis(50)));
        for bad in ["-1", "NaN", "inf", "ten", ""] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
        assert_eq!(format_duration(42.4), "42s");
        assert_eq!(format_duration(185.0), "3m05s");
        assert_eq!(format_duration(7_620.0), "2h07m");
    }
}
