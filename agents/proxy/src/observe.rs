//! What the outside sees of the sync loop: `/healthz` state, Prometheus metrics with
//! upstream kube-proxy's names, and Events on the Node when a sync fails.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::syncer::SyncReport;

/// `/healthz`: unhealthy when a change has waited for a sync longer than the timeout
/// (twice `--iptables-sync-period`, as upstream).
pub struct Health {
    timeout: Duration,
    state: Mutex<HealthState>,
}

struct HealthState {
    last_updated: Instant,
    oldest_pending: Option<Instant>,
}

impl Health {
    pub fn new(timeout: Duration) -> Health {
        Health {
            timeout,
            state: Mutex::new(HealthState {
                last_updated: Instant::now(),
                oldest_pending: Some(Instant::now()),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HealthState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn queued(&self) {
        let mut s = self.lock();
        s.oldest_pending.get_or_insert_with(Instant::now);
    }

    pub fn updated(&self) {
        let mut s = self.lock();
        s.last_updated = Instant::now();
        s.oldest_pending = None;
    }

    /// Healthy, and seconds since the last successful sync.
    pub fn status(&self) -> (bool, f64) {
        let s = self.lock();
        let healthy = s.oldest_pending.is_none_or(|t| t.elapsed() < self.timeout);
        (healthy, s.last_updated.elapsed().as_secs_f64())
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
pub struct TableLabel {
    pub table: String,
}

pub struct Metrics {
    pub registry: Registry,
    sync_duration: Histogram,
    sync_full_duration: Histogram,
    sync_partial_duration: Histogram,
    network_programming: Histogram,
    last_sync: Gauge<f64, std::sync::atomic::AtomicU64>,
    restore_failures: Counter,
    rules: Family<TableLabel, Gauge>,
}

/// Upstream's buckets for `network_programming_duration_seconds`: 0.25 s and 0.5 s, then
/// every second to 59 s, every 5 s to 115 s, every 30 s to 300 s.
fn network_programming_buckets() -> Vec<f64> {
    let mut b = vec![0.25, 0.5];
    b.extend((1..60).map(f64::from));
    b.extend((0..12).map(|i| 60.0 + 5.0 * f64::from(i)));
    b.extend((0..7).map(|i| 120.0 + 30.0 * f64::from(i)));
    b
}

impl Metrics {
    pub fn new() -> Metrics {
        // Upstream's buckets: 1 ms doubling to ~16 s for syncs; network programming
        // spans up to minutes.
        let sync = || Histogram::new(exponential_buckets(0.001, 2.0, 15));
        let mut m = Metrics {
            registry: Registry::default(),
            sync_duration: sync(),
            sync_full_duration: sync(),
            sync_partial_duration: sync(),
            network_programming: Histogram::new(network_programming_buckets()),
            last_sync: Gauge::default(),
            restore_failures: Counter::default(),
            rules: Family::default(),
        };
        let r = &mut m.registry;
        r.register(
            "kubeproxy_sync_proxy_rules_duration_seconds",
            "SyncProxyRules latency in seconds",
            m.sync_duration.clone(),
        );
        r.register(
            "kubeproxy_sync_full_proxy_rules_duration_seconds",
            "SyncProxyRules latency in seconds for full resyncs",
            m.sync_full_duration.clone(),
        );
        r.register(
            "kubeproxy_sync_partial_proxy_rules_duration_seconds",
            "SyncProxyRules latency in seconds for partial resyncs",
            m.sync_partial_duration.clone(),
        );
        r.register(
            "kubeproxy_network_programming_duration_seconds",
            "In Cluster Network Programming Latency in seconds",
            m.network_programming.clone(),
        );
        r.register(
            "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
            "The last time proxy rules were successfully synced",
            m.last_sync.clone(),
        );
        r.register(
            "kubeproxy_sync_proxy_rules_iptables_restore_failures",
            "Cumulative proxy iptables restore failures",
            m.restore_failures.clone(),
        );
        r.register(
            "kubeproxy_sync_proxy_rules_iptables_total",
            "Total number of iptables rules owned by kube-proxy",
            m.rules.clone(),
        );
        m
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// Where the sync loop reports to.
#[derive(Clone)]
pub struct Observer {
    pub health: Arc<Health>,
    pub metrics: Arc<Metrics>,
    events: Option<(Recorder, ObjectReference)>,
}

impl Observer {
    pub fn new(health: Arc<Health>, metrics: Arc<Metrics>) -> Observer {
        Observer {
            health,
            metrics,
            events: None,
        }
    }

    /// Publish sync failures as Events on this node's Node object.
    pub fn with_events(mut self, client: kube::Client, node_name: &str) -> Observer {
        let reporter = Reporter {
            controller: "kube-proxy".into(),
            instance: Some(node_name.to_string()),
        };
        let node = ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Node".into()),
            name: Some(node_name.to_string()),
            // Upstream refers to the node by its name as UID.
            uid: Some(node_name.to_string()),
            ..ObjectReference::default()
        };
        self.events = Some((Recorder::new(client, reporter), node));
        self
    }

    pub fn queued(&self) {
        self.health.queued();
    }

    pub fn synced(&self, report: &SyncReport, elapsed: Duration, programming: &[f64]) {
        let m = &self.metrics;
        let seconds = elapsed.as_secs_f64();
        m.sync_duration.observe(seconds);
        if report.full {
            m.sync_full_duration.observe(seconds);
        } else {
            m.sync_partial_duration.observe(seconds);
        }
        for latency in programming {
            m.network_programming.observe(*latency);
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        m.last_sync.set(now);
        for (table, count) in [("filter", report.filter_rules), ("nat", report.nat_rules)] {
            let label = TableLabel {
                table: table.into(),
            };
            m.rules
                .get_or_create(&label)
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        self.health.updated();
    }

    pub async fn failed(&self, message: &str) {
        self.metrics.restore_failures.inc();
        self.health.queued();
        if let Some((recorder, node)) = &self.events {
            let event = Event {
                type_: EventType::Warning,
                reason: "FailedToSyncProxyRules".into(),
                note: Some(truncate(message, 1000)),
                action: "SyncProxyRules".into(),
                secondary: None,
            };
            if let Err(e) = recorder.publish(&event, node).await {
                tracing::warn!(error = %e, "cannot record the sync failure on the Node");
            }
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.char_indices()
        .take_while(|(i, _)| *i < max)
        .map(|(_, c)| c)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_fails_when_a_change_waits_too_long() {
        let h = Health::new(Duration::from_millis(50));
        h.updated();
        assert!(h.status().0);
        h.queued();
        assert!(h.status().0);
        std::thread::sleep(Duration::from_millis(60));
        assert!(!h.status().0);
        h.updated();
        assert!(h.status().0);
    }

    #[test]
    fn metrics_use_upstream_names() {
        let m = Arc::new(Metrics::new());
        let o = Observer::new(Arc::new(Health::new(Duration::from_secs(60))), m.clone());
        let report = SyncReport {
            full: true,
            nat_rules: 7,
            ..SyncReport::default()
        };
        o.synced(&report, Duration::from_millis(3), &[0.2]);
        let text = m.encode();
        for name in [
            "kubeproxy_sync_proxy_rules_duration_seconds_count 1",
            "kubeproxy_network_programming_duration_seconds_count 1",
            "kubeproxy_sync_proxy_rules_iptables_total{table=\"nat\"} 7",
            "kubeproxy_sync_proxy_rules_iptables_restore_failures_total 0",
        ] {
            assert!(text.contains(name), "{name} in {text}");
        }
    }
}
