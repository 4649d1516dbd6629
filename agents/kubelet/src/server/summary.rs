//! `/stats/summary`: the kubelet stats/v1alpha1 Summary. The node from the root cgroup,
//! /proc and statvfs; each running pod and container from its own cgroup (CPU time,
//! memory), its network namespace (through the pause process) and what it wrote (rootfs
//! upper layer, logs).

use std::collections::HashSet;
use std::path::Path;
use std::time::Instant;

use serde_json::{json, Value};

use super::cpu_rate::{CpuRates, MIN_INTERVAL};
use super::host;
use super::running::{self, RunningContainer, RunningPod};
use super::KubeletServer;
use crate::cgroups::{CgroupUsage, MemoryUsage};
use crate::runtime::Runtime;

/// At most this many entries are walked for one container's rootfs usage.
const DISK_WALK_LIMIT: usize = 100_000;

/// Every CPU counter the summary reports, keyed as [`CpuRates`] keeps them.
struct Readings {
    node: Option<u64>,
    kubelet: host::ProcessStats,
    pods_cgroup: CgroupUsage,
    cgroups: std::collections::HashMap<String, CgroupUsage>,
}

fn read_all(rt: &Runtime, running: &[RunningPod]) -> Readings {
    let mut cgroups = std::collections::HashMap::new();
    for pod in running {
        cgroups.insert(pod.cgroup.clone(), rt.cgroups.usage(&pod.cgroup));
        for c in &pod.containers {
            cgroups.insert(c.cgroup.clone(), rt.cgroups.usage(&c.cgroup));
        }
    }
    Readings {
        node: rt.cgroups.root_cpu_ns(),
        kubelet: host::this_process(),
        pods_cgroup: rt.cgroups.usage("kubepods"),
        cgroups,
    }
}

impl Readings {
    fn cpu_counters(&self) -> Vec<(String, u64)> {
        let mut out = vec![
            ("/kubelet".to_string(), self.kubelet.cpu_ns),
            (
                "/kubepods".to_string(),
                self.pods_cgroup.cpu_ns.unwrap_or(0),
            ),
        ];
        out.extend(self.node.map(|ns| ("/".to_string(), ns)));
        out.extend(
            self.cgroups
                .iter()
                .filter_map(|(k, u)| Some((k.clone(), u.cpu_ns?))),
        );
        out
    }
}

/// Builds the summary (blocking: it reads many small files, so it runs off the reactor).
pub async fn summary(server: &KubeletServer) -> Value {
    let server = server.clone();
    tokio::task::spawn_blocking(move || build(&server))
        .await
        .unwrap_or_else(|e| json!({"error": e.to_string()}))
}

fn build(server: &KubeletServer) -> Value {
    let rt = &server.rt;
    let running = running::running_pods(&server.pods, &rt.cgroups);
    let rates = &server.cpu_rates;
    let mut readings = read_all(rt, &running);
    // A cgroup seen for the first time has no rate yet: take a second reading shortly.
    let now = Instant::now();
    let counters = readings.cpu_counters();
    if counters.iter().any(|(k, _)| !rates.has_baseline(k, now)) {
        for (key, ns) in &counters {
            rates.rate(key, now, *ns);
        }
        std::thread::sleep(MIN_INTERVAL * 2);
        readings = read_all(rt, &running);
    }
    let now = Instant::now();
    let keep: HashSet<String> = readings
        .cpu_counters()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let time = crate::time::now_rfc3339();
    let cpu = |key: &str, ns: Option<u64>| cpu_stats(rates, key, ns, now, &time);
    let pods: Vec<Value> = running
        .iter()
        .map(|p| pod_stats(rt, p, &readings, &cpu, &time))
        .collect();
    let node = node_stats(server, &readings, &cpu, &time);
    rates.retain(&keep);
    json!({"node": node, "pods": pods})
}

fn cpu_stats(rates: &CpuRates, key: &str, ns: Option<u64>, now: Instant, time: &str) -> Value {
    let Some(ns) = ns else {
        return json!({"time": time});
    };
    let mut v = json!({"time": time, "usageCoreNanoSeconds": ns});
    if let Some(rate) = rates.rate(key, now, ns) {
        v["usageNanoCores"] = json!(rate);
    }
    v
}

fn memory_stats(m: Option<MemoryUsage>, time: &str) -> Value {
    match m {
        None => json!({"time": time}),
        Some(m) => json!({
            "time": time,
            "usageBytes": m.usage_bytes,
            "workingSetBytes": m.working_set_bytes,
            "rssBytes": m.rss_bytes,
            "pageFaults": m.page_faults,
            "majorPageFaults": m.major_page_faults,
        }),
    }
}

fn node_memory(time: &str) -> Value {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let vmstat = std::fs::read_to_string("/proc/vmstat").unwrap_or_default();
    let total = host::meminfo_bytes(&meminfo, "MemTotal");
    let usage = total.saturating_sub(host::meminfo_bytes(&meminfo, "MemFree"));
    let working_set = usage.saturating_sub(host::meminfo_bytes(&meminfo, "Inactive(file)"));
    json!({
        "time": time,
        "availableBytes": total.saturating_sub(working_set),
        "usageBytes": usage,
        "workingSetBytes": working_set,
        "rssBytes": host::meminfo_bytes(&meminfo, "AnonPages"),
        "pageFaults": host::keyed(&vmstat, "pgfault"),
        "majorPageFaults": host::keyed(&vmstat, "pgmajfault"),
    })
}

fn node_stats(
    server: &KubeletServer,
    readings: &Readings,
    cpu: &dyn Fn(&str, Option<u64>) -> Value,
    time: &str,
) -> Value {
    let rt = &server.rt;
    let kubelet = &readings.kubelet;
    let kubelet_started = host::rfc3339_unix(kubelet.start_unix);
    let kubelet_memory = MemoryUsage {
        usage_bytes: kubelet.rss_bytes,
        working_set_bytes: kubelet.rss_bytes,
        rss_bytes: kubelet.rss_bytes,
        ..Default::default()
    };
    let system_containers = json!([
        {"name": "kubelet", "startTime": kubelet_started,
         "cpu": cpu("/kubelet", Some(kubelet.cpu_ns)), "memory": memory_stats(Some(kubelet_memory), time)},
        {"name": "pods", "startTime": kubelet_started,
         "cpu": cpu("/kubepods", readings.pods_cgroup.cpu_ns), "memory": memory_stats(readings.pods_cgroup.memory, time)},
    ]);
    let images: u64 = rt
        .images
        .list()
        .map(|l| l.iter().map(|i| i.size).sum())
        .unwrap_or(0);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let swap_total = host::meminfo_bytes(&meminfo, "SwapTotal");
    let swap_free = host::meminfo_bytes(&meminfo, "SwapFree");
    let machine = crate::node::machine::Machine::read(&rt.root_dir);
    let mut node = json!({
        "nodeName": server.node_name,
        "systemContainers": system_containers,
        "startTime": host::boot_time(),
        "cpu": cpu("/", readings.node),
        "memory": node_memory(time),
        "fs": host::fs_stats(&rt.root_dir, time, None),
        "runtime": {
            "imageFs": host::fs_stats(rt.images.dir(), time, Some((images, 0))),
            "containerFs": host::fs_stats(&rt.root_dir, time, None),
        },
        "rlimit": {"time": time, "maxpid": machine.pids_max, "curproc": machine.pids_in_use},
        "swap": {"time": time, "swapAvailableBytes": swap_free, "swapUsageBytes": swap_total.saturating_sub(swap_free)},
    });
    if let Some(network) = host::network_stats(Path::new("/proc/self"), time) {
        node["network"] = network;
    }
    node
}

fn container_stats(
    rt: &Runtime,
    pod: &RunningPod,
    c: &RunningContainer,
    usage: CgroupUsage,
    cpu: &dyn Fn(&str, Option<u64>) -> Value,
    time: &str,
) -> (Value, u64) {
    let upper = rt
        .pod_dir(pod.uid())
        .join("containers")
        .join(format!("{}-{}", c.name, c.restart))
        .join("upper");
    let rootfs_used = host::disk_usage(&upper, DISK_WALK_LIMIT);
    let log_dir = rt
        .pod_logs_dir(pod.namespace(), pod.name(), pod.uid())
        .join(&c.name);
    let logs_used = host::disk_usage(&log_dir, DISK_WALK_LIMIT);
    let v = json!({
        "name": c.name,
        "startTime": c.started_at,
        "cpu": cpu(&c.cgroup, usage.cpu_ns),
        "memory": memory_stats(usage.memory, time),
        "rootfs": host::fs_stats(&rt.root_dir, time, Some(rootfs_used)),
        "logs": host::fs_stats(&rt.logs_dir, time, Some(logs_used)),
    });
    (v, rootfs_used.0 + logs_used.0)
}

/// Each volume under `<pod dir>/volumes/kubernetes.io~<plugin>/<name>`: what it holds, on
/// the filesystem it is (a tmpfs for secrets and memory-backed emptyDirs). Also answers
/// the bytes of disk-backed emptyDirs, which count as the pod's ephemeral storage.
fn volume_stats(pod_dir: &Path, time: &str) -> (Vec<Value>, u64) {
    let mut out = Vec::new();
    let mut empty_dirs = 0;
    let plugins = std::fs::read_dir(pod_dir.join("volumes"))
        .into_iter()
        .flatten();
    for plugin in plugins.flatten() {
        let plugin_name = plugin.file_name().to_string_lossy().into_owned();
        for volume in std::fs::read_dir(plugin.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let dir = volume.path();
            let used = host::disk_usage(&dir, DISK_WALK_LIMIT);
            let mut v = host::fs_stats(&dir, time, Some(used));
            v["name"] = json!(volume.file_name().to_string_lossy());
            if plugin_name == "kubernetes.io~empty-dir" {
                empty_dirs += used.0;
            }
            out.push(v);
        }
    }
    out.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    (out, empty_dirs)
}

fn pod_stats(
    rt: &Runtime,
    pod: &RunningPod,
    readings: &Readings,
    cpu: &dyn Fn(&str, Option<u64>) -> Value,
    time: &str,
) -> Value {
    let usage = |cgroup: &str| readings.cgroups.get(cgroup).copied().unwrap_or_default();
    let mut ephemeral = 0;
    let containers: Vec<Value> = pod
        .containers
        .iter()
        .map(|c| {
            let (v, used) = container_stats(rt, pod, c, usage(&c.cgroup), cpu, time);
            ephemeral += used;
            v
        })
        .collect();
    let (volumes, empty_dirs) = volume_stats(&rt.pod_dir(pod.uid()), time);
    ephemeral += empty_dirs;
    let pod_usage = usage(&pod.cgroup);
    let start_time = pod
        .pod
        .status
        .as_ref()
        .and_then(|s| s.start_time.as_ref())
        .map(|t| crate::time::rfc3339(t.0));
    let mut v = json!({
        "podRef": {"name": pod.name(), "namespace": pod.namespace(), "uid": pod.uid()},
        "startTime": start_time,
        "containers": containers,
        "cpu": cpu(&pod.cgroup, pod_usage.cpu_ns),
        "memory": memory_stats(pod_usage.memory, time),
        "ephemeral-storage": host::fs_stats(&rt.root_dir, time, Some((ephemeral, 0))),
        "process_stats": {"process_count": rt.cgroups.pids_below(&pod.cgroup).len()},
    });
    if !volumes.is_empty() {
        v["volume"] = Value::Array(volumes);
    }
    // The pause process (alone in the pod cgroup itself) holds the pod's network namespace.
    if let Some(pause) = rt.cgroups.pids(&pod.cgroup).first() {
        let proc_dir = Path::new("/proc").join(pause.to_string());
        if let Some(network) = host::network_stats(&proc_dir, time) {
            v["network"] = network;
        }
    }
    v
}
