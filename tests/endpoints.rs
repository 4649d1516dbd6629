//! The endpoints and endpointslice controllers of a real `rkube controller-manager`
//! against a real `rkube apiserver`. The test plays the kubelet: it writes each pod's
//! IP and Ready condition through the status subresource.

mod common;

use common::{eventually, json, Apiserver, ControllerManager};
use serde_json::{json, Value};

const SECS: u64 = 20;

fn get(port: u16, path: &str) -> Option<Value> {
    let (code, body) = json(port, "GET", path, &Value::Null);
    (code == 200).then_some(body)
}

fn send(port: u16, method: &str, path: &str, body: Value) -> Value {
    let (code, out) = json(port, method, path, &body);
    assert!((200..300).contains(&code), "{method} {path}: {code} {out}");
    out
}

fn create_namespace(port: u16, name: &str) {
    send(
        port,
        "POST",
        "/api/v1/namespaces",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
    );
}

/// A pod on node `n1` whose container names port `web` as `web_port`.
fn create_pod(port: u16, ns: &str, name: &str, labels: Value, web_port: u16) {
    send(
        port,
        "POST",
        &format!("/api/v1/namespaces/{ns}/pods"),
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "labels": labels},
               "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "nginx",
                   "ports": [{"name": "web", "containerPort": web_port}]}]}}),
    );
}

/// What the kubelet reports: the pod runs with `ip`, ready or not.
fn report(port: u16, ns: &str, name: &str, ip: &str, ready: bool) {
    let now = "2026-01-01T00:00:00Z";
    let status = if ready { "True" } else { "False" };
    send(
        port,
        "PATCH",
        &format!("/api/v1/namespaces/{ns}/pods/{name}/status"),
        json!({"status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
            "conditions": [{"type": "Ready", "status": status, "lastTransitionTime": now}]}}),
    );
}

/// Endpoints as (ready ips, not-ready ips, ports) per subset, sorted.
fn subsets(ep: &Value) -> Vec<(Vec<String>, Vec<String>, Vec<i64>)> {
    let ips = |list: &Value| -> Vec<String> {
        let mut ips: Vec<String> = list
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| a["ip"].as_str().unwrap().to_string())
            .collect();
        ips.sort();
        ips
    };
    let mut out: Vec<_> = ep["subsets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let ports = s["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| p["port"].as_i64().unwrap())
                .collect();
            (ips(&s["addresses"]), ips(&s["notReadyAddresses"]), ports)
        })
        .collect();
    out.sort();
    out
}

type Subsets = Vec<(Vec<String>, Vec<String>, Vec<i64>)>;

fn endpoints_become(port: u16, ns: &str, svc: &str, mut want: Subsets) -> Value {
    want.sort();
    let path = format!("/api/v1/namespaces/{ns}/endpoints/{svc}");
    let last = std::cell::RefCell::new(Value::Null);
    let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        eventually(SECS, "", || {
            let ep = get(port, &path)?;
            *last.borrow_mut() = ep.clone();
            (subsets(&ep) == want).then_some(ep)
        })
    }));
    found.unwrap_or_else(|_| {
        panic!(
            "endpoints {ns}/{svc} never became {want:?}; last: {}",
            last.borrow()
        )
    })
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn endpoints_follow_pod_readiness_named_ports_and_deletion() {
    let api = Apiserver::start();
    let _cm = ControllerManager::start(&api);
    let port = api.port;
    create_namespace(port, "ep");
    send(
        port,
        "POST",
        "/api/v1/namespaces/ep/services",
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "web", "labels": {"tier": "front"}},
               "spec": {"selector": {"app": "web"},
                        "ports": [{"name": "http", "port": 80, "targetPort": "web"}]}}),
    );
    create_pod(port, "ep", "a", json!({"app": "web"}), 8080);
    create_pod(port, "ep", "b", json!({"app": "web"}), 8081);
    create_pod(port, "ep", "c", json!({"app": "web"}), 8080);
    create_pod(port, "ep", "other", json!({"app": "db"}), 8080);

    // No IP yet: the Endpoints exist, empty.
    let ep = endpoints_become(port, "ep", "web", vec![]);
    assert_eq!(ep["metadata"]["labels"], json!({"tier": "front"}), "{ep}");

    report(port, "ep", "a", "10.244.1.2", true);
    report(port, "ep", "b", "10.244.1.3", false);
    report(port, "ep", "c", "10.244.1.4", false);
    report(port, "ep", "other", "10.244.1.9", true);
    let ep = endpoints_become(
        port,
        "ep",
        "web",
        vec![
            (s(&["10.244.1.2"]), s(&["10.244.1.4"]), vec![8080]),
            (vec![], s(&["10.244.1.3"]), vec![8081]),
        ],
    );
    let subset = ep["subsets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["ports"][0]["port"] == 8080)
        .unwrap();
    assert_eq!(
        subset["ports"],
        json!([{"name": "http", "port": 8080, "protocol": "TCP"}])
    );
    let a = &subset["addresses"][0];
    assert_eq!(a["nodeName"], "n1", "{ep}");
    assert_eq!(a["targetRef"]["kind"], "Pod");
    assert_eq!(a["targetRef"]["name"], "a");
    assert_eq!(a["targetRef"]["namespace"], "ep");
    assert!(a["targetRef"]["uid"].is_string(), "{ep}");
    let trigger = ep["metadata"]["annotations"]["endpoints.kubernetes.io/last-change-trigger-time"]
        .as_str()
        .unwrap_or_else(|| panic!("no trigger time annotation: {ep}"));
    assert!(trigger.starts_with("20"), "{trigger}");

    // Readiness flips both ways.
    report(port, "ep", "b", "10.244.1.3", true);
    report(port, "ep", "a", "10.244.1.2", false);
    endpoints_become(
        port,
        "ep",
        "web",
        vec![
            (vec![], s(&["10.244.1.2", "10.244.1.4"]), vec![8080]),
            (s(&["10.244.1.3"]), vec![], vec![8081]),
        ],
    );

    // A change the Endpoints do not show causes no write.
    let before = get(port, "/api/v1/namespaces/ep/endpoints/web").unwrap();
    send(
        port,
        "PATCH",
        "/api/v1/namespaces/ep/pods/b",
        json!({"metadata": {"annotations": {"note": "irrelevant"}}}),
    );
    // A later change elsewhere shows the controller has processed the first.
    send(
        port,
        "POST",
        "/api/v1/namespaces/ep/services",
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
               "spec": {"selector": {"app": "db"}, "ports": [{"port": 5432, "targetPort": 8080}]}}),
    );
    endpoints_become(
        port,
        "ep",
        "db",
        vec![(s(&["10.244.1.9"]), vec![], vec![8080])],
    );
    let after = get(port, "/api/v1/namespaces/ep/endpoints/web").unwrap();
    assert_eq!(
        before["metadata"]["resourceVersion"], after["metadata"]["resourceVersion"],
        "the Endpoints were rewritten for nothing"
    );

    // Deleted and relabelled pods leave.
    send(port, "DELETE", "/api/v1/namespaces/ep/pods/c", Value::Null);
    send(
        port,
        "PATCH",
        "/api/v1/namespaces/ep/pods/b",
        json!({"metadata": {"labels": {"app": "elsewhere"}}}),
    );
    endpoints_become(
        port,
        "ep",
        "web",
        vec![(vec![], s(&["10.244.1.2"]), vec![8080])],
    );

    // The Service goes, its Endpoints go.
    send(
        port,
        "DELETE",
        "/api/v1/namespaces/ep/services/web",
        Value::Null,
    );
    eventually(SECS, "the Endpoints of a deleted Service deleted", || {
        get(port, "/api/v1/namespaces/ep/endpoints/web")
            .is_none()
            .then_some(())
    });
}

#[test]
fn publish_not_ready_headless_and_selectorless_services() {
    let api = Apiserver::start();
    let port = api.port;
    create_namespace(port, "ep2");
    // Endpoints of a Service without selector belong to whoever wrote them.
    send(
        port,
        "POST",
        "/api/v1/namespaces/ep2/services",
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "manual"},
               "spec": {"ports": [{"port": 80}]}}),
    );
    let manual = json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "manual"},
        "subsets": [{"addresses": [{"ip": "192.0.2.10"}], "ports": [{"port": 80}]}]});
    send(port, "POST", "/api/v1/namespaces/ep2/endpoints", manual);
    let _cm = ControllerManager::start(&api);

    send(
        port,
        "POST",
        "/api/v1/namespaces/ep2/services",
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "all"},
               "spec": {"selector": {"app": "x"}, "publishNotReadyAddresses": true,
                        "ports": [{"port": 80, "targetPort": 8080}]}}),
    );
    send(
        port,
        "POST",
        "/api/v1/namespaces/ep2/services",
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "sub"},
               "spec": {"selector": {"app": "x"}, "clusterIP": "None"}}),
    );
    send(
        port,
        "POST",
        "/api/v1/namespaces/ep2/pods",
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "p", "labels": {"app": "x"}},
               "spec": {"hostname": "p-host", "subdomain": "sub", "nodeName": "n1",
                        "containers": [{"name": "c", "image": "nginx"}]}}),
    );
    report(port, "ep2", "p", "10.244.2.5", false);
    endpoints_become(
        port,
        "ep2",
        "all",
        vec![(s(&["10.244.2.5"]), vec![], vec![8080])],
    );
    let headless = endpoints_become(
        port,
        "ep2",
        "sub",
        vec![(vec![], s(&["10.244.2.5"]), vec![])],
    );
    assert_eq!(
        headless["subsets"][0]["notReadyAddresses"][0]["hostname"],
        "p-host"
    );
    assert_eq!(
        headless["metadata"]["labels"]["service.kubernetes.io/headless"], "",
        "{headless}"
    );
    let manual = get(port, "/api/v1/namespaces/ep2/endpoints/manual").unwrap();
    assert_eq!(
        subsets(&manual),
        vec![(s(&["192.0.2.10"]), vec![], vec![80])]
    );
}
