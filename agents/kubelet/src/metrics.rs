//! The kubelet's own measurements, recorded where things happen (pod workers, the
//! server) and rendered by `/metrics`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upstream's buckets for kubelet_pod_start_duration_seconds.
pub const POD_START_BUCKETS: [f64; 25] = [
    0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 20.0, 30.0, 45.0, 60.0, 120.0, 180.0, 240.0,
    300.0, 360.0, 480.0, 600.0, 900.0, 1200.0, 1800.0, 2700.0, 3600.0,
];

/// A cumulative histogram over fixed upper bounds.
#[derive(Debug)]
pub struct Histogram {
    pub bounds: &'static [f64],
    inner: Mutex<HistogramCounts>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistogramCounts {
    /// Observations at or below each bound (not cumulative; rendering sums them).
    pub buckets: Vec<u64>,
    pub sum: f64,
    pub count: u64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            inner: Mutex::new(HistogramCounts {
                buckets: vec![0; bounds.len()],
                ..Default::default()
            }),
        }
    }

    pub fn observe(&self, value: f64) {
        let mut h = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = self.bounds.iter().position(|b| value <= *b) {
            h.buckets[i] += 1;
        }
        h.sum += value;
        h.count += 1;
    }

    pub fn snapshot(&self) -> HistogramCounts {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// `(path, method, server_type)` → requests served.
pub type RequestCounts = BTreeMap<(String, String, &'static str), u64>;

#[derive(Debug)]
pub struct KubeletMetrics {
    /// From a pod worker's start (the kubelet seeing the pod) to the pod running.
    pub pod_start_duration: Histogram,
    pub started_pods: AtomicU64,
    pub started_containers: AtomicU64,
    pub http_requests: Mutex<RequestCounts>,
}

impl Default for KubeletMetrics {
    fn default() -> Self {
        KubeletMetrics {
            pod_start_duration: Histogram::new(&POD_START_BUCKETS),
            started_pods: AtomicU64::new(0),
            started_containers: AtomicU64::new(0),
            http_requests: Mutex::default(),
        }
    }
}

impl KubeletMetrics {
    /// A pod reached Running `after` the kubelet first saw it.
    pub fn pod_started(&self, after: Duration) {
        self.started_pods.fetch_add(1, Ordering::Relaxed);
        self.pod_start_duration.observe(after.as_secs_f64());
    }

    pub fn container_started(&self) {
        self.started_containers.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_puts_each_value_in_its_bucket() {
        let h = Histogram::new(&POD_START_BUCKETS);
        for v in [0.2, 0.5, 0.7, 7.0, 5000.0] {
            h.observe(v);
        }
        let s = h.snapshot();
        assert_eq!(s.count, 5);
        assert_eq!((s.buckets[0], s.buckets[1], s.buckets[7]), (2, 1, 1));
        // Above the last bound: only in +Inf (count).
        assert_eq!(s.buckets.iter().sum::<u64>(), 4);
        assert!((s.sum - 5008.4).abs() < 1e-9);
    }
}
