//! Per-node local clocks. A node never sees true time: it reads
//! `local = true x (1 + drift) + offset + jumps`. Timers are measured on the node's own
//! oscillator (so drift stretches or shrinks them) but are not moved by jumps, as a monotonic
//! timer is not moved when NTP steps the wall clock.

use crate::time::SimTime;

/// Parts per million in one.
const PPM: i128 = 1_000_000;

/// Every local clock counts from this arbitrary epoch (1,000 s), as wall clocks count from 1970,
/// so a negative offset or a backward jump never drives a reading to zero, where it would stand
/// still.
pub const LOCAL_EPOCH_NS: u64 = 1_000 * crate::time::SECOND;

/// The largest drift a clock may be given, in ppm (50%: far past any real oscillator, enough to
/// break any lease margin).
pub const DRIFT_PPM_LIMIT: i64 = 500_000;

/// One node's clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Clock {
    /// Constant offset from true time, in nanoseconds (positive: the clock is ahead).
    pub offset_ns: i64,
    /// Rate error in parts per million (positive: the clock runs fast).
    pub drift_ppm: i64,
    /// The sum of every jump applied so far, in nanoseconds.
    pub jumped_ns: i64,
}

impl Clock {
    /// A clock with the given offset and drift; panics past [`DRIFT_PPM_LIMIT`].
    pub fn new(offset_ns: i64, drift_ppm: i64) -> Clock {
        assert!(drift_ppm.abs() <= DRIFT_PPM_LIMIT, "drift {drift_ppm} ppm is out of range");
        Clock { offset_ns, drift_ppm, jumped_ns: 0 }
    }

    /// The local reading at true time `now`, in nanoseconds since [`LOCAL_EPOCH_NS`] before
    /// the run; never below zero.
    #[inline]
    pub fn local_ns(&self, now: SimTime) -> u64 {
        let shift = self.offset_ns.saturating_add(self.jumped_ns);
        // i64 arithmetic covers runs of up to ~5 simulated hours at the largest drift; i128
        // (a slow library division) only beyond that.
        let drift = match (now as i64).checked_mul(self.drift_ppm) {
            Some(product) if now <= i64::MAX as u64 => product / PPM as i64,
            _ => (now as i128 * self.drift_ppm as i128 / PPM) as i64,
        };
        let local = (LOCAL_EPOCH_NS as i128) + now as i128 + drift as i128 + shift as i128;
        local.clamp(0, u64::MAX as i128) as u64
    }

    /// The true duration until a timer of `local_delay_ns` (measured by this clock) fires.
    /// Rounded up, so a timer never fires before its local deadline.
    #[inline]
    pub fn true_delay_ns(&self, local_delay_ns: u64) -> u64 {
        if self.drift_ppm == 0 {
            return local_delay_ns;
        }
        let rate = PPM + self.drift_ppm as i128;
        let delay = (local_delay_ns as i128 * PPM + rate - 1) / rate;
        delay.clamp(0, u64::MAX as i128) as u64
    }

    /// Steps the clock by `delta_ns` (negative: backwards), as an NTP step or a VM restore does.
    pub fn jump(&mut self, delta_ns: i64) {
        self.jumped_ns = self.jumped_ns.saturating_add(delta_ns);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{millis, secs};

    #[test]
    fn a_perfect_clock_reads_true_time() {
        let clock = Clock::default();
        assert_eq!(clock.local_ns(secs(3)), LOCAL_EPOCH_NS + secs(3));
        assert_eq!(clock.true_delay_ns(millis(5)), millis(5));
    }

    #[test]
    fn drift_and_offset_follow_the_formula() {
        let fast = Clock::new(millis(2) as i64, 100); // 100 ppm fast, 2 ms ahead
        assert_eq!(fast.local_ns(secs(10)), LOCAL_EPOCH_NS + secs(10) + 1_000_000 + millis(2));
        let slow = Clock::new(-(millis(1) as i64), -100);
        assert_eq!(slow.local_ns(secs(10)), LOCAL_EPOCH_NS + secs(10) - 1_000_000 - millis(1));
        assert_eq!(slow.local_ns(0), LOCAL_EPOCH_NS - millis(1), "readings start far from zero");
    }

    #[test]
    fn timers_run_on_the_local_oscillator() {
        // A clock 10% fast counts a 110 ms local timer in 100 ms of true time.
        let fast = Clock::new(0, 100_000);
        assert_eq!(fast.true_delay_ns(millis(110)), millis(100));
        // A clock 10% slow needs 100 ms of true time to count 90 ms.
        let slow = Clock::new(0, -100_000);
        assert_eq!(slow.true_delay_ns(millis(90)), millis(100));
        // Rounding is upward: the timer never fires before its local deadline.
        let odd = Clock::new(0, 3);
        let delay = odd.true_delay_ns(1_000_001);
        assert!(odd.local_ns(delay) >= 1_000_001);
    }

    #[test]
    fn jumps_move_readings_but_not_timers() {
        let mut clock = Clock::new(0, 0);
        clock.jump(-(secs(2) as i64));
        clock.jump(millis(500) as i64);
        assert_eq!(clock.local_ns(secs(5)), LOCAL_EPOCH_NS + secs(5) - secs(2) + millis(500));
        assert_eq!(clock.true_delay_ns(millis(7)), millis(7));
    }
}
