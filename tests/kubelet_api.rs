//! The kubelet's API (`/stats/summary`, `/metrics`, `/metrics/cadvisor`, `/runningpods/`,
//! `/spec/`, `/logs/`), reached as clients reach it: through the apiserver's
//! `nodes/{name}/proxy` with `kubectl get --raw`, and on the node's own ports. The answers
//! are compared with what the kernel says (cgroup files, /proc).

mod common;

use std::path::Path;

use common::eventually;
use common::kubelet::{NodeCluster, BUSYBOX, NODE_NAME};
use serde_json::{json, Value};

const MIB: u64 = 1 << 20;

fn raw(cluster: &NodeCluster, path: &str) -> String {
    let (ok, out, err) = cluster
        .apiserver
        .kubectl("kubectl", &["get", "--raw", path]);
    assert!(ok, "kubectl get --raw {path}: {err}");
    out
}

fn raw_json(cluster: &NodeCluster, path: &str) -> Value {
    let out = raw(cluster, path);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{path}: {e}: {out}"))
}

fn node_path(path: &str) -> String {
    format!("/api/v1/nodes/{NODE_NAME}/proxy/{path}")
}

/// The HTTP status of a GET on the node's own address, from the node (curl keeps `..`).
fn status_on_node(cluster: &NodeCluster, port: u16, path: &str) -> String {
    cluster.topology.nodes[0].netns.sh(&format!(
        "curl -s --path-as-is -o /dev/null -w '%{{http_code}}' http://10.77.0.10:{port}{path}"
    ))
}

fn read_u64(path: &Path) -> u64 {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim()
        .parse()
        .unwrap()
}

fn stat_value(path: &Path, key: &str) -> u64 {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.parse().ok())
        .unwrap()
}

/// Working set as the kernel's files give it: usage less inactive file pages.
fn working_set(memory_dir: &Path) -> u64 {
    read_u64(&memory_dir.join("memory.usage_in_bytes"))
        - stat_value(&memory_dir.join("memory.stat"), "total_inactive_file")
}

fn sleeper(cluster: &NodeCluster, name: &str) {
    cluster.create_pod(
        name,
        json!({"containers": [{"name": "main", "image": BUSYBOX, "command": ["sleep", "3600"]}]}),
    );
}

/// A shell that writes ~40 MiB to the container's /dev/shm (tmpfs: charged to its memory
/// cgroup, and part of its working set), then sleeps.
const HOG: &str = "s=0123456789; while [ ${#s} -lt 40000000 ]; do s=$s$s; done; \
                   echo \"$s\" > /dev/shm/fill; unset s; echo hello-volume > /scratch/note; \
                   echo filled; sleep 3600";

#[test]
fn stats_summary_reports_what_the_pods_cgroups_say() {
    let cluster = NodeCluster::start();
    cluster.create_pod(
        "hog",
        json!({"containers": [{"name": "main", "image": BUSYBOX, "command": ["sh", "-c", HOG],
                               "resources": {"limits": {"memory": "256Mi"}},
                               "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}]}],
               "volumes": [{"name": "scratch", "emptyDir": {}}]}),
    );
    let pod = cluster.wait_phase("hog", "Running", 60);
    eventually(30, "the hog's memory filled", || {
        cluster
            .log(&pod, "main", 0)
            .contains("filled")
            .then_some(())
    });
    let uid = pod["metadata"]["uid"].as_str().unwrap();
    let memory_dir = cluster.pod_cgroup("memory", "Burstable", uid);
    let container_id = pod["status"]["containerStatuses"][0]["containerID"]
        .as_str()
        .unwrap()
        .trim_start_matches("rkube://")
        .to_string();
    let cpuacct = cluster
        .pod_cgroup("cpuacct", "Burstable", uid)
        .join(&container_id)
        .join("cpuacct.usage");

    let (ws_before, cpu_before) = (working_set(&memory_dir), read_u64(&cpuacct));
    let summary = raw_json(&cluster, &node_path("stats/summary"));
    let (ws_after, cpu_after) = (working_set(&memory_dir), read_u64(&cpuacct));

    let node = &summary["node"];
    assert_eq!(node["nodeName"], NODE_NAME);
    assert!(
        node["cpu"]["usageCoreNanoSeconds"].as_u64().unwrap() > 0,
        "{node}"
    );
    assert!(node["cpu"]["usageNanoCores"].is_u64(), "{node}");
    assert!(
        node["memory"]["workingSetBytes"].as_u64().unwrap() > 0,
        "{node}"
    );
    assert!(node["fs"]["capacityBytes"].as_u64().unwrap() > 0, "{node}");
    assert_eq!(node["network"]["name"], "eth0", "{node}");
    let systems: Vec<&str> = node["systemContainers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(systems, ["kubelet", "pods"]);

    let pods = summary["pods"].as_array().unwrap();
    assert_eq!(pods.len(), 1, "{summary}");
    let p = &pods[0];
    assert_eq!(
        p["podRef"],
        json!({"name": "hog", "namespace": "default", "uid": uid})
    );
    // What the summary says lies between two readings of the pod's cgroup files.
    let ws = p["memory"]["workingSetBytes"].as_u64().unwrap();
    let (low, high) = (ws_before.min(ws_after), ws_before.max(ws_after));
    assert!(
        ws + MIB >= low && ws <= high + MIB,
        "pod workingSetBytes {ws} vs the cgroup's {ws_before}..{ws_after}"
    );
    assert!(ws >= 40 * MIB, "{ws}");
    assert!(p["memory"]["usageBytes"].as_u64().unwrap() >= ws);
    assert_eq!(p["network"]["name"], "eth0", "{p}");
    assert!(
        p["process_stats"]["process_count"].as_u64().unwrap() >= 2,
        "{p}"
    );
    let volume = &p["volume"][0];
    assert_eq!(volume["name"], "scratch", "{p}");
    assert_eq!(volume["usedBytes"], "hello-volume\n".len(), "{volume}");
    assert!(
        p["ephemeral-storage"]["usedBytes"].as_u64().unwrap() >= 13,
        "{p}"
    );

    let c = &p["containers"][0];
    assert_eq!(c["name"], "main");
    assert!(c["startTime"].is_string(), "{c}");
    assert!(
        c["memory"]["workingSetBytes"].as_u64().unwrap() >= 40 * MIB,
        "{c}"
    );
    assert!(c["memory"]["rssBytes"].is_u64(), "{c}");
    let cpu = c["cpu"]["usageCoreNanoSeconds"].as_u64().unwrap();
    assert!(
        cpu_before <= cpu && cpu <= cpu_after,
        "container CPU {cpu} vs cpuacct.usage {cpu_before}..{cpu_after}"
    );
    assert!(c["cpu"]["usageNanoCores"].is_u64(), "{c}");
    assert!(c["logs"]["usedBytes"].as_u64().unwrap() > 0, "{c}");

    // The same through rkube's alias of the documents' older path.
    let legacy: Value = serde_json::from_str(&raw(
        &cluster,
        &format!("/api/v1/proxy/nodes/{NODE_NAME}/stats/summary"),
    ))
    .unwrap();
    assert_eq!(legacy["pods"][0]["podRef"]["uid"], uid);
}

fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn metrics_and_runningpods_count_what_runs() {
    let mut cluster = NodeCluster::start();
    for name in ["p0", "p1", "p2"] {
        sleeper(&cluster, name);
    }
    for name in ["p0", "p1", "p2"] {
        cluster.wait_phase(name, "Running", 60);
    }
    let metrics = raw(&cluster, &node_path("metrics"));
    assert_eq!(
        sample(&metrics, "kubelet_running_pods"),
        Some(3.0),
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            "kubelet_running_containers{container_state=\"running\"}"
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(&metrics, "kubelet_pod_start_duration_seconds_count"),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &metrics,
            "kubelet_pod_start_duration_seconds_bucket{le=\"+Inf\"}"
        ),
        Some(3.0)
    );
    assert!(sample(&metrics, "process_resident_memory_bytes").unwrap() > 0.0);

    let cadvisor = raw(&cluster, &node_path("metrics/cadvisor"));
    for name in ["p0", "p1", "p2"] {
        for family in [
            "container_memory_working_set_bytes{container=\"main\",",
            "container_cpu_usage_seconds_total{container=\"main\",cpu=\"total\",",
        ] {
            let line = cadvisor
                .lines()
                .find(|l| l.starts_with(family) && l.contains(&format!("pod=\"{name}\"")))
                .unwrap_or_else(|| panic!("no {family} for {name} in {cadvisor}"));
            assert!(line.contains("namespace=\"default\""), "{line}");
            let value: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
            assert!(value > 0.0, "{line}");
        }
    }

    let running = raw_json(&cluster, &node_path("runningpods/"));
    assert_eq!(running["kind"], "PodList");
    let names: Vec<&str> = running["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["p0", "p1", "p2"]);
    assert_eq!(
        running["items"][0]["spec"]["containers"][0],
        json!({"name": "main", "image": BUSYBOX, "resources": {}})
    );

    // POST /run runs a command in a running container (a debugging handler): its UTS
    // namespace names it after the pod.
    let (code, out) = cluster
        .apiserver
        .request(
            "POST",
            &node_path("run/default/p1/main?cmd=hostname"),
            &[],
            b"",
        )
        .unwrap();
    assert_eq!(
        (code, String::from_utf8_lossy(&out).as_ref()),
        (200, "p1\n")
    );

    let (ok, _, err) = cluster
        .apiserver
        .kubectl("kubectl", &["delete", "pod", "p0", "--grace-period=1"]);
    assert!(ok, "{err}");
    eventually(30, "two running pods in /metrics", || {
        let metrics = raw(&cluster, &node_path("metrics"));
        (sample(&metrics, "kubelet_running_pods") == Some(2.0)).then_some(())
    });

    // The read-only port serves the read-only set, not the debugging handlers.
    for (path, code) in [
        ("/pods", "200"),
        ("/stats/summary", "200"),
        ("/metrics", "200"),
        ("/metrics/cadvisor", "200"),
        ("/spec/", "200"),
        ("/healthz", "200"),
        ("/runningpods/", "404"),
        ("/logs/", "404"),
    ] {
        assert_eq!(status_on_node(&cluster, 10255, path), code, "{path}");
    }
    let metrics = raw(&cluster, &node_path("metrics"));
    assert!(
        sample(
            &metrics,
            "kubelet_http_requests_total{long_running=\"false\",method=\"GET\",path=\"stats\",server_type=\"readonly\"}"
        )
        .is_some(),
        "{metrics}"
    );

    // A restarted kubelet re-adopts the running pods: they count as running, not as
    // pods that started.
    cluster.kubelet.restart();
    let metrics = eventually(30, "the restarted kubelet's metrics", || {
        let (ok, out, _) = cluster
            .apiserver
            .kubectl("kubectl", &["get", "--raw", &node_path("metrics")]);
        (ok && sample(&out, "kubelet_running_pods") == Some(2.0)).then_some(out)
    });
    assert_eq!(
        sample(&metrics, "kubelet_pod_start_duration_seconds_count"),
        Some(0.0),
        "{metrics}"
    );
}

#[test]
fn spec_describes_the_machine_and_logs_serve_the_node_log_dir() {
    let logs = tempfile::tempdir().unwrap();
    std::fs::create_dir(logs.path().join("apt")).unwrap();
    std::fs::write(logs.path().join("apt/history.log"), "Start-Date: today\n").unwrap();
    std::fs::write(logs.path().join("syslog"), "node0 kernel: hello\n").unwrap();
    std::os::unix::fs::symlink("/etc/hostname", logs.path().join("leak")).unwrap();
    let cluster = NodeCluster::start_with(&["--node-logs-dir", logs.path().to_str().unwrap()]);

    let spec = raw_json(&cluster, &node_path("spec/"));
    let cores = std::thread::available_parallelism().unwrap().get() as u64;
    assert_eq!(spec["num_cores"], cores, "{spec}");
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let total_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .unwrap()
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    assert_eq!(spec["memory_capacity"], total_kib * 1024);
    let machine_id = std::fs::read_to_string("/etc/machine-id").unwrap_or_default();
    assert_eq!(spec["machine_id"], machine_id.trim());
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    assert_eq!(spec["boot_id"], boot_id.trim());
    assert!(spec["filesystems"][0]["capacity"].as_u64().unwrap() > 0);

    let listing = raw(&cluster, &node_path("logs/"));
    for entry in ["<a href=\"apt/\">apt/</a>", "<a href=\"syslog\">syslog</a>"] {
        assert!(listing.contains(entry), "{entry} not in {listing}");
    }
    assert_eq!(
        raw(&cluster, &node_path("logs/syslog")),
        "node0 kernel: hello\n"
    );
    assert_eq!(
        raw(&cluster, &node_path("logs/apt/history.log")),
        "Start-Date: today\n"
    );
    // Nothing outside the directory: not by `..`, not by a symlink.
    for path in [
        "/logs/../../etc/passwd",
        "/logs/%2e%2e/%2e%2e/etc/passwd",
        "/logs/leak",
    ] {
        assert_eq!(status_on_node(&cluster, 10250, path), "404", "{path}");
    }
}

/// `busybox httpd` on 8080 serving /tmp/index.html, labelled `app=web`.
fn web_pod(cluster: &NodeCluster) {
    let (code, pod) = cluster.apiserver.json(
        "POST",
        "/api/v1/namespaces/default/pods",
        &json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "web", "labels": {"app": "web"}},
                "spec": {"nodeName": NODE_NAME, "containers": [{
                    "name": "httpd", "image": BUSYBOX,
                    "command": ["sh", "-c", "echo pod-says-hi > /tmp/index.html && exec busybox httpd -f -p 8080 -h /tmp"],
                    "ports": [{"name": "http", "containerPort": 8080}]}]}}),
    );
    assert_eq!(code, 201, "{pod}");
}

#[test]
fn pods_and_services_answer_through_their_proxy_subresources() {
    let cluster = NodeCluster::start();
    let _controllers = common::ControllerManager::start(&cluster.apiserver);
    // The control-plane host reaches the node's pods as a cluster network would route them.
    cluster.topology.nodes[0]
        .netns
        .sh("sysctl -qw net.ipv4.ip_forward=1");
    cluster
        .topology
        .underlay
        .sh("ip route add 10.244.1.0/24 via 10.77.0.10");
    web_pod(&cluster);
    cluster.wait_phase("web", "Running", 60);
    let pods = "/api/v1/namespaces/default/pods";
    for form in ["web", "web:8080", "http:web:8080"] {
        let body = eventually(20, &format!("pods/{form}/proxy"), || {
            let (code, body) = cluster
                .apiserver
                .request("GET", &format!("{pods}/{form}/proxy/index.html"), &[], b"")
                .ok()?;
            (code == 200).then_some(body)
        });
        assert_eq!(String::from_utf8_lossy(&body), "pod-says-hi\n", "{form}");
    }
    assert_eq!(
        raw(
            &cluster,
            "/api/v1/proxy/namespaces/default/pods/web/index.html"
        ),
        "pod-says-hi\n"
    );
    // Every connect verb reaches the pod: httpd answers HEAD, and refuses the others
    // itself (not the apiserver's 405).
    let (code, body) = cluster
        .apiserver
        .request("HEAD", &format!("{pods}/web/proxy/index.html"), &[], b"")
        .unwrap();
    assert_eq!((code, body.len()), (200, 0));
    for method in ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
        let (code, body) = cluster
            .apiserver
            .request(method, &format!("{pods}/web/proxy/index.html"), &[], b"x")
            .unwrap();
        let body = String::from_utf8_lossy(&body);
        assert!(
            code != 405 && !body.contains("\"kind\":\"Status\""),
            "{method}: {code} {body}"
        );
    }
    let (code, status) =
        cluster
            .apiserver
            .json("GET", &format!("{pods}/absent/proxy/"), &Value::Null);
    assert_eq!(
        (code, status["message"].as_str()),
        (404, Some("pods \"absent\" not found"))
    );

    let (code, svc) = cluster.apiserver.json(
        "POST",
        "/api/v1/namespaces/default/services",
        &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "front"},
                "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}),
    );
    assert_eq!(code, 201, "{svc}");
    let services = "/api/v1/namespaces/default/services";
    for path in [
        format!("{services}/front:http/proxy/index.html"),
        format!("{services}/http:front:http/proxy/index.html"),
        format!("{services}/front:80/proxy/index.html"),
        "/api/v1/proxy/namespaces/default/services/front:http/index.html".to_string(),
    ] {
        let body = eventually(30, &path, || {
            let (code, body) = cluster.apiserver.request("GET", &path, &[], b"").ok()?;
            (code == 200).then_some(body)
        });
        assert_eq!(String::from_utf8_lossy(&body), "pod-says-hi\n", "{path}");
    }
    // As upstream: a bare name matches only an unnamed port; an unknown number, nothing.
    for (form, message) in [
        ("front", "no endpoints available for service \"front\""),
        ("front:81", "no service port 81 found for service \"front\""),
    ] {
        let (code, status) =
            cluster
                .apiserver
                .json("GET", &format!("{services}/{form}/proxy/"), &Value::Null);
        assert_eq!(
            (code, status["message"].as_str()),
            (503, Some(message)),
            "{form}"
        );
    }
}

#[test]
fn a_static_pod_is_reported_under_its_own_uid() {
    let manifests = tempfile::tempdir().unwrap();
    std::fs::write(
        manifests.path().join("static.yaml"),
        format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: static\nspec:\n  containers:\n  - name: main\n    image: {BUSYBOX}\n    command: [\"sleep\", \"3600\"]\n"),
    )
    .unwrap();
    let cluster = NodeCluster::start_with(&[
        "--pod-manifest-path",
        manifests.path().to_str().unwrap(),
        "--file-check-frequency",
        "1s",
    ]);
    // Upstream names a mirror pod after its static pod and the node.
    let mirror = cluster.wait_phase("static-node0", "Running", 60);
    let hash = mirror["metadata"]["annotations"]["kubernetes.io/config.mirror"]
        .as_str()
        .unwrap();
    assert_ne!(mirror["metadata"]["uid"], hash);
    let running = eventually(20, "the static pod in /runningpods/", || {
        let list = raw_json(&cluster, &node_path("runningpods/"));
        (list["items"][0]["spec"]["containers"][0]["name"] == "main").then_some(list)
    });
    assert_eq!(running["items"][0]["metadata"]["uid"], hash, "{running}");
    let summary = raw_json(&cluster, &node_path("stats/summary"));
    let p = &summary["pods"][0];
    assert_eq!(
        p["podRef"],
        json!({"name": "static-node0", "namespace": "default", "uid": hash})
    );
    assert!(
        p["containers"][0]["memory"]["workingSetBytes"]
            .as_u64()
            .unwrap()
            > 0,
        "{p}"
    );
}
