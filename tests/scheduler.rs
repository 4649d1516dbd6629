//! `rkube scheduler` against a real `rkube apiserver` with three Node objects (created
//! through the API; no kubelet): pods land where the filters and scores say, a pod that
//! fits nowhere is Pending with upstream's Unschedulable message and an Event, and it is
//! scheduled once a node frees up (a pod deleted) or a node is added.

mod common;

use common::scheduler::{create_node, Scheduler};
use common::{eventually, json, Apiserver};
use serde_json::{json, Value};

const SECS: u64 = 30;
const NS: &str = "sched";

fn pod(name: &str, cpu: &str, extra_spec: Value) -> Value {
    let mut spec = json!({"containers": [{"name": "c", "image": "busybox",
        "resources": {"requests": {"cpu": cpu, "memory": "128Mi"}}}]});
    for (k, v) in extra_spec.as_object().into_iter().flatten() {
        spec[k] = v.clone();
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec})
}

fn create_namespace(port: u16) {
    let (code, out) = json(
        port,
        "POST",
        "/api/v1/namespaces",
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}),
    );
    assert_eq!(code, 201, "{out}");
}

fn create_pod(port: u16, body: Value) {
    let (code, out) = json(
        port,
        "POST",
        &format!("/api/v1/namespaces/{NS}/pods"),
        &body,
    );
    assert_eq!(code, 201, "{out}");
}

fn get_pod(port: u16, name: &str) -> Value {
    json(
        port,
        "GET",
        &format!("/api/v1/namespaces/{NS}/pods/{name}"),
        &Value::Null,
    )
    .1
}

fn node_of(port: u16, name: &str) -> Option<String> {
    get_pod(port, name)["spec"]["nodeName"]
        .as_str()
        .map(String::from)
}

fn bound_to(port: u16, name: &str) -> String {
    eventually(SECS, &format!("pod {name} bound"), || node_of(port, name))
}

fn pod_scheduled(pod: &Value) -> Option<Value> {
    pod["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "PodScheduled")
        .cloned()
}

fn unschedulable_condition(port: u16, name: &str) -> Value {
    eventually(SECS, &format!("{name} is Unschedulable"), || {
        pod_scheduled(&get_pod(port, name)).filter(|c| c["status"] == "False")
    })
}

fn events_for(port: u16, name: &str, reason: &str) -> Vec<Value> {
    let (_, list) = json(
        port,
        "GET",
        &format!("/api/v1/namespaces/{NS}/events"),
        &Value::Null,
    );
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["involvedObject"]["name"] == name && e["reason"] == reason)
        .cloned()
        .collect()
}

/// What the scheduler must say about a 7.5-core pod while no untainted node has that free.
const UNSCHEDULABLE: &str = "0/3 nodes are available: 1 node(s) had untolerated taint \
    {dedicated: infra}, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption \
    is not helpful for scheduling, 2 No preemption victims found for incoming pod.";

#[test]
fn pods_land_where_filters_and_scores_say_and_wait_until_they_fit() {
    let api = Apiserver::start();
    let port = api.port;
    create_namespace(port);
    create_node(port, "small", "2", json!({"disk": "ssd"}), json!([]));
    create_node(port, "large", "8", json!({"disk": "hdd"}), json!([]));
    create_node(
        port,
        "tainted",
        "16",
        json!({}),
        json!([{"key": "dedicated", "value": "infra", "effect": "NoSchedule"}]),
    );
    let _scheduler = Scheduler::start(&api, &[], &api.data_dir().join("scheduler.log"));

    // Least allocated: the freest node the pod tolerates.
    create_pod(port, pod("first", "1", json!({})));
    assert_eq!(bound_to(port, "first"), "large");
    assert_eq!(
        pod_scheduled(&get_pod(port, "first")).unwrap()["status"],
        "True"
    );
    eventually(SECS, "a Scheduled event", || {
        events_for(port, "first", "Scheduled")
            .pop()
            .filter(|e| e["message"] == format!("Successfully assigned {NS}/first to large"))
    });

    // A toleration opens the tainted (and freest) node.
    create_pod(
        port,
        pod(
            "tolerant",
            "1",
            json!({"tolerations": [
                {"key": "dedicated", "operator": "Equal", "value": "infra", "effect": "NoSchedule"}]}),
        ),
    );
    assert_eq!(bound_to(port, "tolerant"), "tainted");

    // nodeSelector and required node affinity.
    create_pod(
        port,
        pod("on-ssd", "100m", json!({"nodeSelector": {"disk": "ssd"}})),
    );
    assert_eq!(bound_to(port, "on-ssd"), "small");
    create_pod(
        port,
        pod(
            "not-ssd",
            "100m",
            json!({"affinity": {"nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "disk", "operator": "NotIn", "values": ["ssd"]}]}]}}}}),
        ),
    );
    assert_eq!(bound_to(port, "not-ssd"), "large");

    // Another scheduler's pod is left alone.
    create_pod(
        port,
        pod(
            "not-ours",
            "100m",
            json!({"schedulerName": "other-scheduler"}),
        ),
    );

    // 7.5 cores: large has 6.9 free, small 1.9, and the tainted node is not tolerated.
    create_pod(port, pod("huge", "7500m", json!({})));
    let condition = unschedulable_condition(port, "huge");
    assert_eq!(condition["reason"], "Unschedulable");
    assert_eq!(condition["message"], UNSCHEDULABLE);
    let failed = eventually(SECS, "a FailedScheduling event", || {
        events_for(port, "huge", "FailedScheduling").pop()
    });
    assert_eq!(failed["type"], "Warning");
    assert_eq!(failed["message"], UNSCHEDULABLE);
    assert_eq!(failed["source"]["component"], "default-scheduler");
    assert_eq!(get_pod(port, "huge")["status"]["phase"], "Pending");

    // Freeing large (deleting its pods) lets huge in.
    for name in ["first", "not-ssd"] {
        let path = format!("/api/v1/namespaces/{NS}/pods/{name}?gracePeriodSeconds=0");
        let (code, out) = json(port, "DELETE", &path, &Value::Null);
        assert_eq!(code, 200, "{out}");
    }
    assert_eq!(bound_to(port, "huge"), "large");

    // Nothing fits a second huge pod until a node is added.
    create_pod(port, pod("huge2", "7500m", json!({})));
    unschedulable_condition(port, "huge2");
    create_node(port, "extra", "8", json!({}), json!([]));
    assert_eq!(bound_to(port, "huge2"), "extra");

    assert_eq!(node_of(port, "not-ours"), None);
    // The scheduler led through its Lease.
    let (code, lease) = json(
        port,
        "GET",
        "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler",
        &Value::Null,
    );
    assert_eq!(code, 200, "{lease}");
    assert!(lease["spec"]["holderIdentity"]
        .as_str()
        .is_some_and(|h| !h.is_empty()));
}

#[test]
fn anti_affinity_and_host_ports_spread_pods() {
    let api = Apiserver::start();
    let port = api.port;
    create_namespace(port);
    for name in ["n1", "n2"] {
        create_node(
            port,
            name,
            "4",
            json!({"kubernetes.io/hostname": name}),
            json!([]),
        );
    }
    let _scheduler = Scheduler::start(
        &api,
        &["--leader-elect=false"],
        &api.data_dir().join("scheduler.log"),
    );
    let anti = json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}]}}});
    let mut placed = Vec::new();
    for i in 0..3 {
        let mut body = pod(&format!("web-{i}"), "100m", anti.clone());
        body["metadata"]["labels"] = json!({"app": "web"});
        create_pod(port, body);
        if i < 2 {
            placed.push(bound_to(port, &format!("web-{i}")));
        }
    }
    placed.sort();
    assert_eq!(placed, vec!["n1", "n2"], "one per node");
    // The pods already placed reject the third by their own anti-affinity, which upstream
    // checks (and reports) before the incoming pod's.
    assert_eq!(
        unschedulable_condition(port, "web-2")["message"],
        "0/2 nodes are available: 2 node(s) didn't satisfy existing pods anti-affinity rules. \
         preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."
    );

    let host_port_pod = |name: &str| {
        pod(
            name,
            "100m",
            json!({"containers": [{"name": "c", "image": "busybox",
                "ports": [{"containerPort": 80, "hostPort": 8080}]}]}),
        )
    };
    create_pod(port, host_port_pod("hp-0"));
    create_pod(port, host_port_pod("hp-1"));
    let mut nodes = vec![bound_to(port, "hp-0"), bound_to(port, "hp-1")];
    nodes.sort();
    assert_eq!(nodes, vec!["n1", "n2"], "a host port once per node");
}
