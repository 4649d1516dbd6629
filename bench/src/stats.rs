//! Percentiles, medians and the figures of one load run.

use std::time::Duration;

/// The `p`-th percentile (0–100) of ascending `sorted` by the nearest-rank method: the
/// smallest value with at least `p`% of the values at or below it. `None` when empty.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let p = p.clamp(0.0, 100.0);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// The median of `values` (the mean of the two middle ones for an even count); `None`
/// when empty. NaNs sort last.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Smallest and largest of `values`.
pub fn min_max(values: &[f64]) -> Option<(f64, f64)> {
    let mut it = values.iter().copied();
    let first = it.next()?;
    Some(it.fold((first, first), |(lo, hi), v| (lo.min(v), hi.max(v))))
}

/// What one load run measured: completed operations, failures, wall time and the
/// latency of every completed operation.
#[derive(Debug, Clone, Default)]
pub struct LoadResult {
    pub ops: u64,
    pub errors: u64,
    pub elapsed: Duration,
    /// Nanoseconds, ascending once [`LoadResult::finish`] ran.
    pub latencies_ns: Vec<u64>,
}

impl LoadResult {
    /// Merge per-connection results of one run that took `elapsed`.
    pub fn merge(parts: Vec<LoadResult>, elapsed: Duration) -> LoadResult {
        let mut out = LoadResult {
            elapsed,
            ..LoadResult::default()
        };
        for p in parts {
            out.ops += p.ops;
            out.errors += p.errors;
            out.latencies_ns.extend(p.latencies_ns);
        }
        out.finish();
        out
    }

    pub fn finish(&mut self) {
        self.latencies_ns.sort_unstable();
    }

    /// Completed operations per second.
    pub fn rate(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.ops as f64 / s
        } else {
            0.0
        }
    }

    /// Latency percentile in milliseconds (0 without samples).
    pub fn pct_ms(&self, p: f64) -> f64 {
        percentile(&self.latencies_ns, p).unwrap_or(0) as f64 / 1e6
    }
}

/// Figures of repeated runs, reduced to medians.
#[derive(Debug, Clone, Default)]
pub struct Repeated {
    pub rates: Vec<f64>,
    pub p50_ms: Vec<f64>,
    pub p99_ms: Vec<f64>,
    pub errors: u64,
}

impl Repeated {
    pub fn push(&mut self, r: &LoadResult) {
        self.rates.push(r.rate());
        self.p50_ms.push(r.pct_ms(50.0));
        self.p99_ms.push(r.pct_ms(99.0));
        self.errors += r.errors;
    }
    pub fn rate(&self) -> f64 {
        median(&self.rates).unwrap_or(0.0)
    }
    pub fn p50(&self) -> f64 {
        median(&self.p50_ms).unwrap_or(0.0)
    }
    pub fn p99(&self) -> f64 {
        median(&self.p99_ms).unwrap_or(0.0)
    }
    /// "12,345/s" with the spread of the runs when there were several.
    pub fn rate_text(&self) -> String {
        let mut s = format!("{}/s", thousands(self.rate()));
        if self.rates.len() > 1 {
            if let Some((lo, hi)) = min_max(&self.rates) {
                s.push_str(&format!(" ({}–{})", thousands(lo), thousands(hi)));
            }
        }
        s
    }
}

/// `1234567.8` → `"1,234,568"`.
pub fn thousands(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let n = v.round().abs() as u64;
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if v.round() < 0.0 {
        out.insert(0, '-');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&v, 100.0), Some(100));
        assert_eq!(percentile(&v, 0.0), Some(1));
        assert_eq!(percentile(&v, 99.5), Some(100));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[1, 2, 3, 4], 50.0), Some(2));
        assert_eq!(percentile(&[1, 2, 3, 4], 75.1), Some(4));
        assert_eq!(percentile(&[], 50.0), None);
        // Out-of-range p is clamped rather than indexing out of bounds.
        assert_eq!(percentile(&[1, 2], 250.0), Some(2));
        assert_eq!(percentile(&[1, 2], -3.0), Some(1));
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[9.0, 1.0, 5.0]), Some(5.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(min_max(&[4.0, 1.0, 3.0]), Some((1.0, 4.0)));
        assert_eq!(min_max(&[]), None);
    }

    #[test]
    fn load_results_merge_and_reduce() {
        let a = LoadResult {
            ops: 3,
            errors: 1,
            latencies_ns: vec![3_000_000, 1_000_000, 2_000_000],
            ..LoadResult::default()
        };
        let b = LoadResult {
            ops: 1,
            latencies_ns: vec![4_000_000],
            ..LoadResult::default()
        };
        let m = LoadResult::merge(vec![a, b], Duration::from_secs(2));
        assert_eq!(m.ops, 4);
        assert_eq!(m.errors, 1);
        assert_eq!(m.rate(), 2.0);
        assert_eq!(
            m.latencies_ns,
            vec![1_000_000, 2_000_000, 3_000_000, 4_000_000]
        );
        assert_eq!(m.pct_ms(50.0), 2.0);
        assert_eq!(m.pct_ms(99.0), 4.0);
        assert_eq!(LoadResult::default().rate(), 0.0);
        assert_eq!(LoadResult::default().pct_ms(99.0), 0.0);

        let mut r = Repeated::default();
        for (ops, secs) in [(10u64, 1u64), (30, 1), (20, 1)] {
            r.push(&LoadResult {
                ops,
                elapsed: Duration::from_secs(secs),
                latencies_ns: vec![ops * 1_000_000],
                ..LoadResult::default()
            });
        }
        assert_eq!(r.rate(), 20.0);
        assert_eq!(r.p99(), 20.0);
        assert_eq!(r.rate_text(), "20/s (10–30)");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1234567.8), "1,234,568");
        assert_eq!(thousands(-12345.0), "-12,345");
    }
}
