//! usageNanoCores: CPU time is a counter, the rate needs two readings. Readings are kept
//! between requests (no background sampling: an idle kubelet stays idle); a reading is
//! replaced once it is a second old, so quick successive requests still divide by a
//! meaningful interval.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How old the kept reading must be before a newer one replaces it.
const KEEP_AT_LEAST: Duration = Duration::from_secs(1);
/// The shortest interval a rate is computed over.
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);

#[derive(Debug, Default)]
pub struct CpuRates {
    last: Mutex<HashMap<String, (Instant, u64)>>,
}

impl CpuRates {
    /// Whether `key` has a reading to compute a rate against at `now`.
    pub fn has_baseline(&self, key: &str, now: Instant) -> bool {
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        last.get(key)
            .is_some_and(|(at, _)| now.saturating_duration_since(*at) >= MIN_INTERVAL)
    }

    /// Records `cpu_ns` for `key` at `now` and answers the rate since the kept reading,
    /// in nanocores (None on a first reading or a counter that went back: a new cgroup).
    pub fn rate(&self, key: &str, now: Instant, cpu_ns: u64) -> Option<u64> {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let previous = last.get(key).copied();
        let rate = previous.and_then(|(at, ns)| {
            let elapsed = now.saturating_duration_since(at);
            if elapsed < MIN_INTERVAL || cpu_ns < ns {
                return None;
            }
            Some(((cpu_ns - ns) as u128 * 1_000_000_000 / elapsed.as_nanos()) as u64)
        });
        let replace = match previous {
            None => true,
            Some((at, ns)) => cpu_ns < ns || now.saturating_duration_since(at) >= KEEP_AT_LEAST,
        };
        if replace {
            last.insert(key.to_string(), (now, cpu_ns));
        }
        rate
    }

    /// Forgets the readings of cgroups not in `keep` (pods and containers that are gone).
    pub fn retain(&self, keep: &std::collections::HashSet<String>) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        last.retain(|k, _| keep.contains(k));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_over_the_kept_interval() {
        let rates = CpuRates::default();
        let t0 = Instant::now();
        assert_eq!(rates.rate("a", t0, 1_000_000_000), None);
        assert!(!rates.has_baseline("a", t0));
        // Half a core over 2 s.
        let t1 = t0 + Duration::from_secs(2);
        assert!(rates.has_baseline("a", t1));
        assert_eq!(rates.rate("a", t1, 2_000_000_000), Some(500_000_000));
        // 200 ms later: measured against t1 (kept), which is not replaced yet.
        let t2 = t1 + Duration::from_millis(200);
        assert_eq!(rates.rate("a", t2, 2_100_000_000), Some(500_000_000));
        let t3 = t1 + Duration::from_millis(400);
        assert_eq!(rates.rate("a", t3, 2_400_000_000), Some(1_000_000_000));
        // A counter that restarted (a new cgroup of the same name): no rate, new baseline.
        assert_eq!(rates.rate("a", t3 + Duration::from_secs(1), 5), None);
        rates.retain(&Default::default());
        assert!(!rates.has_baseline("a", t3 + Duration::from_secs(9)));
    }
}
