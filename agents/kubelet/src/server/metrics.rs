//! `/metrics` (the kubelet's own series, upstream's names) and `/metrics/cadvisor`
//! (per-container CPU and memory from the cgroups, cAdvisor's names and labels).

use std::sync::atomic::Ordering;

use http::{Response, StatusCode};

use super::exposition::{Exposition, CONTENT_TYPE};
use super::running::{self, RunningPod};
use super::{host, respond, Body, KubeletServer};
use crate::metrics::KubeletMetrics;

/// upstream's `path` label: the first segment (`/stats/summary` → `stats`).
pub fn count_request(metrics: &KubeletMetrics, method: &http::Method, path: &str, read_only: bool) {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let server_type = if read_only { "readonly" } else { "readwrite" };
    let mut counts = metrics
        .http_requests
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    *counts
        .entry((first.to_string(), method.to_string(), server_type))
        .or_insert(0) += 1;
}

async fn blocking(
    server: &KubeletServer,
    render: fn(&KubeletServer, &[RunningPod]) -> String,
) -> Response<Body> {
    let server = server.clone();
    let text = tokio::task::spawn_blocking(move || {
        let running = running::running_pods(&server.pods, &server.rt.cgroups);
        render(&server, &running)
    })
    .await
    .unwrap_or_default();
    respond(StatusCode::OK, CONTENT_TYPE, text)
}

pub async fn kubelet(server: &KubeletServer) -> Response<Body> {
    blocking(server, render_kubelet).await
}

pub async fn cadvisor(server: &KubeletServer) -> Response<Body> {
    blocking(server, render_cadvisor).await
}

fn render_kubelet(server: &KubeletServer, running: &[RunningPod]) -> String {
    let m = &server.rt.metrics;
    let mut e = Exposition::default();
    e.family(
        "kubelet_node_name",
        "gauge",
        "The node's name. The count is always 1.",
    );
    e.sample("kubelet_node_name", &[("node", &server.node_name)], 1.0);
    e.family(
        "kubelet_running_pods",
        "gauge",
        "Number of pods that have a running pod sandbox",
    );
    e.sample("kubelet_running_pods", &[], running.len() as f64);
    e.family(
        "kubelet_running_containers",
        "gauge",
        "Number of containers currently running",
    );
    let containers: usize = running.iter().map(|p| p.containers.len()).sum();
    e.sample(
        "kubelet_running_containers",
        &[("container_state", "running")],
        containers as f64,
    );
    e.family(
        "kubelet_pod_start_duration_seconds",
        "histogram",
        "Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run",
    );
    e.histogram(
        "kubelet_pod_start_duration_seconds",
        m.pod_start_duration.bounds,
        &m.pod_start_duration.snapshot(),
    );
    e.family(
        "kubelet_started_pods_total",
        "counter",
        "Cumulative number of pods started",
    );
    e.sample(
        "kubelet_started_pods_total",
        &[],
        m.started_pods.load(Ordering::Relaxed) as f64,
    );
    e.family(
        "kubelet_started_containers_total",
        "counter",
        "Cumulative number of containers started",
    );
    e.sample(
        "kubelet_started_containers_total",
        &[("container_type", "container")],
        m.started_containers.load(Ordering::Relaxed) as f64,
    );
    e.family(
        "kubelet_http_requests_total",
        "counter",
        "Number of the http requests received since the server started",
    );
    let counts = m.http_requests.lock().unwrap_or_else(|e| e.into_inner());
    for ((path, method, server_type), n) in counts.iter() {
        e.sample(
            "kubelet_http_requests_total",
            &[
                ("long_running", "false"),
                ("method", method),
                ("path", path),
                ("server_type", server_type),
            ],
            *n as f64,
        );
    }
    drop(counts);
    let me = host::this_process();
    e.family(
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds.",
    );
    e.sample("process_cpu_seconds_total", &[], me.cpu_ns as f64 / 1e9);
    e.family(
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes.",
    );
    e.sample("process_resident_memory_bytes", &[], me.rss_bytes as f64);
    e.family(
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since unix epoch in seconds.",
    );
    e.sample("process_start_time_seconds", &[], me.start_unix);
    e.finish()
}

/// What one family reports of a cgroup's usage.
type UsageValue = fn(&crate::cgroups::CgroupUsage) -> Option<f64>;

/// One cgroup's series: a pod's (container="") or a container's.
struct Series<'a> {
    id: String,
    container: &'a str,
    image: &'a str,
    pod: &'a RunningPod,
    cgroup: &'a str,
}

fn render_cadvisor(server: &KubeletServer, running: &[RunningPod]) -> String {
    let cgroups = &server.rt.cgroups;
    let mut series = Vec::new();
    for pod in running {
        series.push(Series {
            id: cgroups.id(&pod.cgroup),
            container: "",
            image: "",
            pod,
            cgroup: &pod.cgroup,
        });
        for c in &pod.containers {
            series.push(Series {
                id: cgroups.id(&c.cgroup),
                container: &c.name,
                image: &c.image,
                pod,
                cgroup: &c.cgroup,
            });
        }
    }
    let usage: Vec<_> = series.iter().map(|s| cgroups.usage(s.cgroup)).collect();
    let mut e = Exposition::default();
    let families: [(&str, &str, &str, UsageValue); 4] = [
        (
            "container_cpu_usage_seconds_total",
            "counter",
            "Cumulative cpu time consumed in seconds.",
            |u| u.cpu_ns.map(|ns| ns as f64 / 1e9),
        ),
        (
            "container_memory_working_set_bytes",
            "gauge",
            "Current working set in bytes.",
            |u| u.memory.map(|m| m.working_set_bytes as f64),
        ),
        (
            "container_memory_usage_bytes",
            "gauge",
            "Current memory usage in bytes, including all memory regardless of when it was accessed",
            |u| u.memory.map(|m| m.usage_bytes as f64),
        ),
        (
            "container_memory_rss",
            "gauge",
            "Size of RSS in bytes.",
            |u| u.memory.map(|m| m.rss_bytes as f64),
        ),
    ];
    for (name, kind, help, value) in families {
        e.family(name, kind, help);
        for (s, u) in series.iter().zip(&usage) {
            let Some(v) = value(u) else { continue };
            let mut labels = vec![
                ("container", s.container),
                ("id", s.id.as_str()),
                ("image", s.image),
                ("name", ""),
                ("namespace", s.pod.namespace()),
                ("pod", s.pod.name()),
            ];
            if name == "container_cpu_usage_seconds_total" {
                labels.insert(1, ("cpu", "total"));
            }
            e.sample(name, &labels, v);
        }
    }
    let machine = crate::node::machine::Machine::read(&server.rt.root_dir);
    e.family("machine_cpu_cores", "gauge", "Number of logical CPU cores.");
    e.sample("machine_cpu_cores", &[], machine.cpus as f64);
    e.family(
        "machine_memory_bytes",
        "gauge",
        "Amount of memory installed on the machine.",
    );
    e.sample("machine_memory_bytes", &[], machine.memory_bytes as f64);
    e.finish()
}
