//! Service ClusterIPs and NodePorts are never handed out twice: not under concurrent
//! creates, not across a restart. Graceful pod deletion follows upstream's rules.

mod common;

use std::collections::BTreeSet;

use common::{json, Apiserver};
use serde_json::{json, Value};

fn nodeport_service(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
        "spec": {"type": "NodePort", "selector": {"app": name}, "ports": [{"name": "a", "port": 80}, {"name": "b", "port": 81}]}})
}

fn create_many(port: u16, prefix: &str, n: usize) {
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let name = format!("{prefix}-{i}");
            std::thread::spawn(move || {
                let (code, body) = json(
                    port,
                    "POST",
                    "/api/v1/namespaces/default/services",
                    &nodeport_service(&name),
                );
                assert_eq!(code, 201, "{body}");
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

fn allocations(port: u16) -> (Vec<String>, Vec<u64>) {
    let (_, list) = json(port, "GET", "/api/v1/services", &Value::Null);
    let mut ips = Vec::new();
    let mut ports = Vec::new();
    for svc in list["items"].as_array().unwrap() {
        ips.push(svc["spec"]["clusterIP"].as_str().unwrap().to_string());
        for p in svc["spec"]["ports"].as_array().unwrap() {
            if let Some(np) = p.get("nodePort").and_then(Value::as_u64) {
                ports.push(np);
            }
        }
    }
    (ips, ports)
}

fn assert_unique(port: u16) -> usize {
    let (ips, ports) = allocations(port);
    let unique_ips: BTreeSet<&String> = ips.iter().collect();
    let unique_ports: BTreeSet<&u64> = ports.iter().collect();
    assert_eq!(
        unique_ips.len(),
        ips.len(),
        "duplicate ClusterIP in {ips:?}"
    );
    assert_eq!(
        unique_ports.len(),
        ports.len(),
        "duplicate NodePort in {ports:?}"
    );
    assert!(
        ports.iter().all(|p| (30000..=32767).contains(p)),
        "{ports:?}"
    );
    ips.len()
}

#[test]
fn concurrent_and_restarted_allocations_never_collide() {
    let mut server = Apiserver::start();
    let port = server.port;
    let (_, kubernetes) = json(
        port,
        "GET",
        "/api/v1/namespaces/default/services/kubernetes",
        &Value::Null,
    );
    assert_eq!(
        kubernetes["spec"]["clusterIP"], "10.0.0.1",
        "the kubernetes Service has the first address"
    );
    create_many(port, "a", 40);
    assert_eq!(assert_unique(port), 41);
    server.kill9();
    server.spawn();
    create_many(port, "b", 40);
    assert_eq!(assert_unique(port), 81);
    // A requested port that is taken is refused with upstream's message.
    let (_, list) = json(
        port,
        "GET",
        "/api/v1/namespaces/default/services/a-0",
        &Value::Null,
    );
    let taken = list["spec"]["ports"][0]["nodePort"].as_u64().unwrap();
    let mut svc = nodeport_service("clash");
    svc["spec"]["ports"][0]["nodePort"] = json!(taken);
    let (code, status) = json(port, "POST", "/api/v1/namespaces/default/services", &svc);
    assert_eq!(code, 422, "{status}");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("provided port is already allocated"),
        "{status}"
    );
    // Deleting a Service frees its port for reuse.
    let (code, _) = json(
        port,
        "DELETE",
        "/api/v1/namespaces/default/services/a-0",
        &Value::Null,
    );
    assert_eq!(code, 200);
    let (code, status) = json(port, "POST", "/api/v1/namespaces/default/services", &svc);
    assert_eq!(code, 201, "{status}");
}

#[test]
fn graceful_pod_deletion() {
    let server = Apiserver::start();
    let port = server.port;
    let pod = |name: &str| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    };
    let base = "/api/v1/namespaces/default/pods";
    // Unscheduled: deleted at once.
    assert_eq!(json(port, "POST", base, &pod("unbound")).0, 201);
    assert_eq!(
        json(port, "DELETE", &format!("{base}/unbound"), &Value::Null).0,
        200
    );
    assert_eq!(
        json(port, "GET", &format!("{base}/unbound"), &Value::Null).0,
        404
    );
    // Bound to a node: marked with deletionTimestamp and the grace period, still there.
    assert_eq!(json(port, "POST", base, &pod("bound")).0, 201);
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "bound"}, "target": {"kind": "Node", "name": "n1"}});
    let mut other = binding.clone();
    other["metadata"]["name"] = json!("other");
    let (code, status) = json(port, "POST", &format!("{base}/bound/binding"), &other);
    assert_eq!(code, 400, "{status}");
    assert_eq!(
        status["message"],
        "name in URL does not match name in Binding object"
    );
    assert_eq!(
        json(port, "POST", &format!("{base}/bound/binding"), &binding).0,
        201
    );
    let (code, marked) = json(port, "DELETE", &format!("{base}/bound"), &Value::Null);
    assert_eq!(code, 200);
    assert_eq!(
        marked["metadata"]["deletionGracePeriodSeconds"], 30,
        "{marked}"
    );
    assert!(marked["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(
        json(port, "GET", &format!("{base}/bound"), &Value::Null).0,
        200
    );
    // The kubelet's final delete with grace 0 removes it.
    let (code, _) = json(
        port,
        "DELETE",
        &format!("{base}/bound?gracePeriodSeconds=0"),
        &Value::Null,
    );
    assert_eq!(code, 200);
    assert_eq!(
        json(port, "GET", &format!("{base}/bound"), &Value::Null).0,
        404
    );
}
