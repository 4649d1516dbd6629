//! The node lifecycle, taint-eviction and node IPAM controllers of a real
//! `rkube controller-manager` against a real `rkube apiserver`. The test plays the
//! kubelets: it posts Node status and renews Leases in `kube-node-lease` through the API
//! (or stops doing so for a "dead" node).

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::time::now_micros;
use common::{eventually, json, Apiserver, ControllerManager};
use serde_json::{json, Value};

const SECS: u64 = 30;
const GRACE: u64 = 4;

fn get(port: u16, path: &str) -> Option<Value> {
    let (code, body) = json(port, "GET", path, &Value::Null);
    (code == 200).then_some(body)
}

fn send(port: u16, method: &str, path: &str, body: Value) -> Value {
    let (code, out) = json(port, method, path, &body);
    assert!((200..300).contains(&code), "{method} {path}: {code} {out}");
    out
}

/// What a kubelet does at registration: the Node, Ready, and its Lease.
fn register(port: u16, name: &str, pod_cidr: Option<&str>) {
    let mut spec = json!({});
    if let Some(cidr) = pod_cidr {
        spec = json!({"podCIDR": cidr, "podCIDRs": [cidr]});
    }
    send(
        port,
        "POST",
        "/api/v1/nodes",
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "spec": spec}),
    );
    post_ready(port, name);
    send(
        port,
        "POST",
        "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
               "metadata": {"name": name},
               "spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": now_micros()}}),
    );
}

fn post_ready(port: u16, name: &str) {
    let t = now_micros();
    send(
        port,
        "PATCH",
        &format!("/api/v1/nodes/{name}/status"),
        json!({"status": {"conditions": [
            {"type": "Ready", "status": "True", "reason": "KubeletReady",
             "message": "kubelet is posting ready status", "lastHeartbeatTime": t, "lastTransitionTime": t},
            {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory",
             "lastHeartbeatTime": t, "lastTransitionTime": t}]}}),
    );
}

fn renew(port: u16, name: &str) {
    send(
        port,
        "PATCH",
        &format!("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{name}"),
        json!({"spec": {"renewTime": now_micros()}}),
    );
}

/// A kubelet that keeps renewing `name`'s Lease every 500 ms until dropped.
struct Heartbeat(Arc<AtomicBool>);

impl Heartbeat {
    fn start(port: u16, name: &'static str) -> Heartbeat {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                renew(port, name);
                std::thread::sleep(Duration::from_millis(500));
            }
        });
        Heartbeat(stop)
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn create_pod(port: u16, name: &str, node: &str, tolerations: Value) {
    send(
        port,
        "POST",
        "/api/v1/namespaces/default/pods",
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
               "spec": {"nodeName": node, "tolerations": tolerations,
                        "containers": [{"name": "c", "image": "nginx"}]}}),
    );
    send(
        port,
        "PATCH",
        &format!("/api/v1/namespaces/default/pods/{name}/status"),
        json!({"status": {"phase": "Running", "podIP": "10.244.9.9",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now_micros()}]}}),
    );
}

fn pod(port: u16, name: &str) -> Option<Value> {
    get(port, &format!("/api/v1/namespaces/default/pods/{name}"))
}

/// Deleted, or being deleted (no kubelet finishes the graceful deletion).
fn evicted(port: u16, name: &str) -> bool {
    pod(port, name).is_none_or(|p| !p["metadata"]["deletionTimestamp"].is_null())
}

fn condition(obj: &Value, kind: &str) -> Value {
    obj["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == kind)
        .cloned()
        .unwrap_or(Value::Null)
}

fn taints(node: &Value) -> Vec<String> {
    let mut out: Vec<String> = node["spec"]["taints"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            format!(
                "{}:{}",
                t["key"].as_str().unwrap(),
                t["effect"].as_str().unwrap()
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_silent_node_goes_unknown_is_tainted_and_its_pods_evicted_by_toleration() {
    let api = Apiserver::start();
    let port = api.port;
    register(port, "alive", None);
    register(port, "dead", None);
    let _alive = Heartbeat::start(port, "alive");
    create_pod(
        port,
        "short",
        "dead",
        json!([{"key": "node.kubernetes.io/unreachable",
        "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 3}]),
    );
    create_pod(port, "default", "dead", json!([]));
    create_pod(port, "elsewhere", "alive", json!([]));
    // Admission gave the pod without tolerations upstream's 300 s ones.
    let defaulted = pod(port, "default").unwrap();
    assert_eq!(
        defaulted["spec"]["tolerations"],
        json!([
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
        ])
    );
    let grace = format!("--node-monitor-grace-period={GRACE}s");
    let started = Instant::now();
    let _cm = ControllerManager::start_with(&api, &[&grace, "--node-monitor-period=1s"]);

    let dead = eventually(SECS, "the dead node's Ready condition Unknown", || {
        get(port, "/api/v1/nodes/dead").filter(|n| condition(n, "Ready")["status"] == "Unknown")
    });
    let unknown_after = started.elapsed();
    assert!(
        unknown_after >= Duration::from_secs(GRACE),
        "Unknown after {unknown_after:?}, before the grace period"
    );
    let ready = condition(&dead, "Ready");
    assert_eq!(ready["reason"], "NodeStatusUnknown", "{dead}");
    assert_eq!(ready["message"], "Kubelet stopped posting node status.");
    assert_eq!(condition(&dead, "MemoryPressure")["status"], "Unknown");
    assert_eq!(
        condition(&dead, "DiskPressure")["reason"],
        "NodeStatusNeverUpdated"
    );

    let dead = eventually(SECS, "the unreachable taints", || {
        get(port, "/api/v1/nodes/dead").filter(|n| {
            taints(n)
                == vec![
                    "node.kubernetes.io/unreachable:NoExecute",
                    "node.kubernetes.io/unreachable:NoSchedule",
                ]
        })
    });
    let no_execute = dead["spec"]["taints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["effect"] == "NoExecute")
        .unwrap()
        .clone();
    assert!(no_execute["timeAdded"].is_string(), "{dead}");
    let tainted_at = Instant::now();

    // Its pods stop being ready; the short toleration runs out, the default one not.
    eventually(SECS, "the dead node's pods marked not ready", || {
        pod(port, "default").filter(|p| condition(p, "Ready")["status"] == "False")
    });
    let short = eventually(SECS, "the pod with a 3 s toleration evicted", || {
        evicted(port, "short").then(|| pod(port, "short"))
    });
    // timeAdded is stored with whole seconds and the taint seen after it was added.
    assert!(
        tainted_at.elapsed() >= Duration::from_secs(1),
        "evicted {:?} after the taint, before its toleration",
        tainted_at.elapsed()
    );
    if let Some(short) = short {
        let target = condition(&short, "DisruptionTarget");
        assert_eq!(target["reason"], "DeletionByTaintManager", "{short}");
    }
    assert!(
        !evicted(port, "default"),
        "a 300 s toleration was cut short"
    );
    let alive = get(port, "/api/v1/nodes/alive").unwrap();
    assert_eq!(condition(&alive, "Ready")["status"], "True", "{alive}");
    assert!(taints(&alive).is_empty(), "{alive}");
    assert!(!evicted(port, "elsewhere"));
    assert_eq!(
        condition(&pod(port, "elsewhere").unwrap(), "Ready")["status"],
        "True"
    );

    // The kubelet comes back: Ready again, the taints go.
    let _back = Heartbeat::start(port, "dead");
    post_ready(port, "dead");
    eventually(SECS, "the recovered node untainted", || {
        get(port, "/api/v1/nodes/dead").filter(|n| taints(n).is_empty())
    });
    assert!(!evicted(port, "default"));
}

#[test]
fn a_no_execute_taint_evicts_untolerating_pods_at_once() {
    let api = Apiserver::start();
    let port = api.port;
    register(port, "n1", None);
    let _cm = ControllerManager::start_with(&api, &["--controllers=taint-eviction-controller"]);
    create_pod(port, "plain", "n1", json!([]));
    create_pod(
        port,
        "tolerant",
        "n1",
        json!([{"key": "example.com/maintenance",
        "operator": "Exists", "effect": "NoExecute"}]),
    );
    create_pod(
        port,
        "patient",
        "n1",
        json!([{"key": "example.com/maintenance",
        "operator": "Equal", "value": "now", "effect": "NoExecute", "tolerationSeconds": 3}]),
    );
    send(
        port,
        "PATCH",
        "/api/v1/nodes/n1",
        json!({"spec": {"taints": [{"key": "example.com/maintenance", "value": "now",
            "effect": "NoExecute", "timeAdded": now_micros()}]}}),
    );
    let tainted_at = Instant::now();
    eventually(
        SECS,
        "the pod without a matching toleration evicted",
        || evicted(port, "plain").then_some(()),
    );
    assert!(
        tainted_at.elapsed() < Duration::from_secs(2),
        "not at once: {:?}",
        tainted_at.elapsed()
    );
    assert!(!evicted(port, "patient"));
    eventually(SECS, "the pod with a 3 s toleration evicted", || {
        evicted(port, "patient").then_some(())
    });
    // timeAdded is stored with whole seconds: up to one second earlier than set.
    assert!(
        tainted_at.elapsed() >= Duration::from_secs(2),
        "evicted {:?} after the taint",
        tainted_at.elapsed()
    );
    assert!(
        !evicted(port, "tolerant"),
        "a toleration without seconds is forever"
    );
}

fn pod_cidrs(port: u16, name: &str) -> Option<Vec<String>> {
    let node = get(port, &format!("/api/v1/nodes/{name}"))?;
    let cidrs: Vec<String> = node["spec"]["podCIDRs"]
        .as_array()?
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        node["spec"]["podCIDR"].as_str(),
        cidrs.first().map(String::as_str)
    );
    (!cidrs.is_empty()).then_some(cidrs)
}

#[test]
fn nodes_get_distinct_pod_cidrs_from_the_cluster_cidr() {
    let api = Apiserver::start();
    let port = api.port;
    // Allocated before this controller-manager started: it must stay taken.
    register(port, "n1", Some("10.244.0.0/24"));
    let _cm = ControllerManager::start_with(
        &api,
        &[
            "--controllers=node-ipam-controller",
            "--allocate-node-cidrs",
            "--cluster-cidr=10.244.0.0/16",
        ],
    );
    register(port, "n2", None);
    register(port, "n3", None);
    let n2 = eventually(SECS, "n2's podCIDR", || pod_cidrs(port, "n2"));
    let n3 = eventually(SECS, "n3's podCIDR", || pod_cidrs(port, "n3"));
    let mut all = vec!["10.244.0.0/24".to_string(), n2[0].clone(), n3[0].clone()];
    for cidr in &all {
        assert!(
            cidr.starts_with("10.244.") && cidr.ends_with(".0/24"),
            "{cidr} is not a /24 of 10.244.0.0/16"
        );
    }
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 3, "two nodes share a podCIDR: {n2:?} {n3:?}");

    send(port, "DELETE", "/api/v1/nodes/n2", Value::Null);
    register(port, "n4", None);
    let n4 = eventually(SECS, "n4's podCIDR", || pod_cidrs(port, "n4"));
    assert_ne!(n4[0], "10.244.0.0/24");
    assert_ne!(n4[0], n3[0]);
}

#[test]
fn allocating_node_cidrs_needs_a_cluster_cidr() {
    let api = Apiserver::start();
    let out = api
        .command(env!("CARGO_BIN_EXE_rkube"))
        .args([
            "controller-manager",
            "--master",
            &api.url(""),
            "--allocate-node-cidrs",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--cluster-cidr"), "{stderr}");
}

fn free_port() -> String {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string()
}

fn real_kubelet(api: &Apiserver, name: &str, node_ip: &str) -> common::kubelet::Kubelet {
    let port = free_port();
    common::kubelet::Kubelet::start(
        api,
        name,
        &[
            "--address",
            "127.0.0.1",
            "--port",
            &port,
            "--read-only-port",
            "0",
            "--node-ip",
            node_ip,
        ],
    )
}

/// With real kubelets (10 s Lease renewals): killing one turns its Node Unknown and
/// unreachable, the other stays Ready and untainted.
#[test]
fn a_killed_kubelet_turns_its_node_unknown() {
    let api = Apiserver::start();
    let port = api.port;
    let _a = real_kubelet(&api, "kubelet-a", "10.77.0.10");
    let mut b = real_kubelet(&api, "kubelet-b", "10.77.0.11");
    let _cm = ControllerManager::start_with(
        &api,
        &[
            "--node-monitor-grace-period=15s",
            "--node-monitor-period=1s",
        ],
    );
    for name in ["kubelet-a", "kubelet-b"] {
        eventually(SECS, &format!("{name} Ready"), || {
            get(port, &format!("/api/v1/nodes/{name}"))
                .filter(|n| condition(n, "Ready")["status"] == "True")
        });
    }
    b.kill();
    let killed = Instant::now();
    let node = eventually(45, "kubelet-b's node unreachable", || {
        get(port, "/api/v1/nodes/kubelet-b").filter(|n| {
            condition(n, "Ready")["status"] == "Unknown"
                && taints(n).contains(&"node.kubernetes.io/unreachable:NoExecute".to_string())
        })
    });
    assert_eq!(condition(&node, "Ready")["reason"], "NodeStatusUnknown");
    assert!(
        killed.elapsed() < Duration::from_secs(40),
        "{:?}",
        killed.elapsed()
    );
    let a = get(port, "/api/v1/nodes/kubelet-a").unwrap();
    assert_eq!(condition(&a, "Ready")["status"], "True", "{a}");
    assert!(!taints(&a).iter().any(|t| t.ends_with(":NoExecute")), "{a}");
}

/// The acceptance check end to end: two nodes with real kubelets, the controller-manager
/// (default grace period) and the scheduler. A Deployment's pods tolerate
/// `unreachable`/`not-ready` for 5 s; once one node's kubelet is killed its Node turns
/// Unknown within about 40 s, its pods are evicted 5 s after the taint, and their
/// replacements are scheduled onto the live node and run there.
#[test]
fn pods_of_a_dead_node_are_replaced_on_the_live_one_after_their_toleration() {
    use common::cluster::{running_and_ready, Cluster, BUSYBOX};
    let mut cluster = Cluster::start(2, &["--node-monitor-period=1s"]);
    let toleration = |key: &str| json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5});
    cluster.send(
        "POST",
        "/apis/apps/v1/namespaces/default/deployments",
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                    "terminationGracePeriodSeconds": 1,
                    "tolerations": [toleration("node.kubernetes.io/unreachable"),
                                    toleration("node.kubernetes.io/not-ready")],
                    "containers": [{"name": "web", "image": BUSYBOX,
                        "command": ["/bin/sh", "-c", "exec /bin/busybox sleep 3600"],
                        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}}),
    );
    let running = |pods: &[Value]| pods.iter().filter(|p| running_and_ready(p)).count();
    let pods = eventually(90, "4 pods Running", || {
        let pods = cluster.pods("default", "app=web");
        (running(&pods) == 4).then_some(pods)
    });
    // The node of the first pod dies; the scheduler spread the pods, so the other node
    // is where they must come back.
    let dead = pods[0]["spec"]["nodeName"].as_str().unwrap().to_string();
    let (dead_index, live) = if dead == "node0" {
        (0, "node1")
    } else {
        (1, "node0")
    };
    let doomed: Vec<String> = pods
        .iter()
        .filter(|p| p["spec"]["nodeName"] == dead.as_str())
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    cluster.kubelets[dead_index].kill();
    let killed = Instant::now();

    eventually(60, &format!("{dead} Ready=Unknown"), || {
        let node = cluster.get(&format!("/api/v1/nodes/{dead}"))?;
        (condition(&node, "Ready")["status"] == "Unknown").then_some(())
    });
    let unknown_after = killed.elapsed();
    assert!(
        unknown_after < Duration::from_secs(50),
        "Ready=Unknown only after {unknown_after:?}"
    );
    // Evicted after their toleration (the controller measures it from the taint).
    let evicted_after = eventually(30, "the dead node's pods evicted", || {
        doomed
            .iter()
            .all(|name| evicted_in(&cluster, name))
            .then(|| killed.elapsed())
    });
    assert!(
        evicted_after >= unknown_after + Duration::from_secs(4),
        "evicted at {evicted_after:?}, Unknown at {unknown_after:?}: before the toleration ran out"
    );
    eprintln!(
        "Ready=Unknown {unknown_after:?} after the kill, pods evicted after {evicted_after:?}"
    );
    let replaced = eventually(90, "4 Running pods on the live node", || {
        let pods: Vec<Value> = cluster
            .pods("default", "app=web")
            .into_iter()
            .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
            .collect();
        (pods.len() == 4
            && pods
                .iter()
                .all(|p| p["spec"]["nodeName"] == live && running_and_ready(p)))
        .then_some(pods)
    });
    for pod in &replaced {
        let name = pod["metadata"]["name"].as_str().unwrap();
        assert!(!doomed.iter().any(|d| d == name), "{name} was on {dead}");
    }
    let node = cluster.get(&format!("/api/v1/nodes/{live}")).unwrap();
    assert_eq!(condition(&node, "Ready")["status"], "True", "{node}");
}

fn evicted_in(cluster: &common::cluster::Cluster, name: &str) -> bool {
    cluster
        .get(&format!("/api/v1/namespaces/default/pods/{name}"))
        .is_none_or(|p| !p["metadata"]["deletionTimestamp"].is_null())
}
