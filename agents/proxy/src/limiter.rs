//! How often the sync loop may run: a token bucket refilled at one sync per
//! `--iptables-min-sync-period` that holds up to [`BURST_SYNCS`] syncs, like upstream's
//! BoundedFrequencyRunner (burstSyncs = 2). An isolated change is applied at once; a
//! steady stream of changes is batched into one sync per period.

use std::time::{Duration, Instant};

/// Upstream kube-proxy's `burstSyncs`.
pub const BURST_SYNCS: u32 = 2;

#[derive(Debug)]
pub struct SyncLimiter {
    period: Duration,
    burst: f64,
    /// Syncs available at `at`; below zero when a sync was granted ahead of time.
    tokens: f64,
    at: Instant,
}

impl SyncLimiter {
    pub fn new(period: Duration, burst: u32, now: Instant) -> SyncLimiter {
        SyncLimiter {
            period,
            burst: f64::from(burst.max(1)),
            tokens: f64::from(burst.max(1)),
            at: now,
        }
    }

    /// Takes one sync and says when it may run: `now` while the burst lasts, else when
    /// the bucket has refilled by one.
    pub fn take(&mut self, now: Instant) -> Instant {
        if self.period.is_zero() {
            return now;
        }
        let refilled =
            now.saturating_duration_since(self.at).as_secs_f64() / self.period.as_secs_f64();
        self.tokens = (self.tokens + refilled).min(self.burst);
        self.at = now.max(self.at);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            now
        } else {
            now + self.period.mul_f64(-self.tokens)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn two_syncs_run_at_once_then_one_per_period() {
        let t0 = Instant::now();
        let mut l = SyncLimiter::new(SECOND, BURST_SYNCS, t0);
        assert_eq!(l.take(t0), t0);
        assert_eq!(l.take(t0), t0);
        // The third waits for the bucket, and the loop asks again only after it ran.
        let third = l.take(t0);
        assert_eq!(third, t0 + SECOND);
        assert_eq!(l.take(third), third + SECOND);
    }

    #[test]
    fn a_quiet_period_refills_the_burst_but_no_more() {
        let t0 = Instant::now();
        let mut l = SyncLimiter::new(SECOND, BURST_SYNCS, t0);
        l.take(t0);
        l.take(t0);
        let later = t0 + 10 * SECOND;
        assert_eq!(l.take(later), later);
        assert_eq!(l.take(later), later);
        assert_eq!(l.take(later), later + SECOND);
    }

    #[test]
    fn a_change_half_a_period_after_a_throttled_sync_waits_the_other_half() {
        let t0 = Instant::now();
        let mut l = SyncLimiter::new(SECOND, BURST_SYNCS, t0);
        l.take(t0);
        l.take(t0);
        let at = l.take(t0);
        let half = at + SECOND / 2;
        assert_eq!(l.take(half), half + SECOND / 2);
    }

    #[test]
    fn no_period_means_no_throttle() {
        let t0 = Instant::now();
        let mut l = SyncLimiter::new(Duration::ZERO, BURST_SYNCS, t0);
        for _ in 0..5 {
            assert_eq!(l.take(t0), t0);
        }
    }
}
