//! Snapshots of what the documented endpoints answer, as a reviewer compares them with
//! upstream's: discovery, the lists `kubectl get` reads (plain and as a Table), a quota's
//! status and LimitRange defaults, and the Status of a 404 and a 422. Everything that changes from run to run (uids, resource
//! versions, times, generated names, IPs, the random port) is redacted.
//!
//! Review changes with `cargo insta review`, or run with `INSTA_UPDATE=always` and read
//! the diff of `tests/snapshots/`.

mod common;
mod wire;

use common::Apiserver;
use insta::internals::Content;
use serde_json::{json, Value};
use wire::{Conn, TABLE_ACCEPT};

/// Redactions shared by every snapshot; given a Table, also its Age column.
fn settings(table: Option<&Value>) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_omit_expression(true);
    // Key order is not part of the API (and upstream's is Go struct order): sorted, a
    // reordering is no change.
    s.set_sort_maps(true);
    s.add_redaction(".**.uid", "[uid]");
    s.add_redaction(".**.resourceVersion", "[resourceVersion]");
    for sel in [
        ".**.creationTimestamp",
        ".**.deletionTimestamp",
        ".**.managedFields[].time",
        ".**.startTime",
        ".**.lastTransitionTime",
    ] {
        s.add_redaction(sel, "[timestamp]");
    }
    for sel in [
        ".**.clusterIP",
        ".**.clusterIPs[]",
        ".**.podIP",
        ".**.podIPs[].ip",
        ".**.hostIP",
    ] {
        s.add_redaction(sel, "[ip]");
    }
    s.add_redaction(".**.nodePort", "[nodePort]");
    // `/api` announces host:port; the port is picked at random per test.
    s.add_redaction(".serverAddressByClientCIDRs[].serverAddress", "[host:port]");
    s.add_dynamic_redaction(".platform", |v: Content, _| match v.as_str() {
        Some(p) if p.starts_with("linux/") => Content::from("linux/[arch]"),
        _ => v,
    });
    // Names generated from `generateName: gen-`.
    let generated = |v: Content, _: insta::internals::ContentPath<'_>| match v.as_str() {
        Some(n) if n.starts_with("gen-") && n.len() > 4 => Content::from("gen-[random]"),
        _ => v,
    };
    s.add_dynamic_redaction(".**.name", generated);
    if let Some(t) = table {
        s.add_dynamic_redaction(".rows[].cells[0]", generated);
        let cols = t["columnDefinitions"].as_array().expect("a Table");
        if let Some(age) = cols.iter().position(|c| c["name"] == "Age") {
            s.add_redaction(&format!(".rows[].cells[{age}]"), "[age]");
        }
    }
    s
}

fn snap(name: &str, v: &Value) {
    let table = (v["kind"] == "Table").then_some(v);
    settings(table).bind(|| insta::assert_json_snapshot!(name, v));
}

fn get(c: &mut Conn, path: &str, accept: Option<&str>) -> (u16, Value) {
    let headers: Vec<(&str, &str)> = accept.map(|a| ("Accept", a)).into_iter().collect();
    let r = c.request("GET", path, &headers, b"");
    (r.code, r.json())
}

fn get_ok(c: &mut Conn, path: &str, accept: Option<&str>) -> Value {
    let (code, v) = get(c, path, accept);
    assert_eq!(code, 200, "GET {path}: {v}");
    v
}

#[test]
fn discovery() {
    let server = Apiserver::start();
    let mut c = Conn::new(server.port);
    for (name, path) in [
        ("api", "/api"),
        ("api_v1", "/api/v1"),
        ("apis", "/apis"),
        ("apis_apps_v1", "/apis/apps/v1"),
        ("version", "/version"),
    ] {
        snap(name, &get_ok(&mut c, path, None));
    }
}

/// What `kubectl get` reads on a fresh cluster, as JSON and as the Table kubectl asks for.
#[test]
fn lists_on_a_fresh_cluster() {
    let server = Apiserver::start();
    let mut c = Conn::new(server.port);
    let services = get_ok(&mut c, "/api/v1/services", None);
    // The kubernetes Service points at the apiserver's own (random) port.
    assert_eq!(
        services.pointer("/items/0/spec/ports/0/targetPort"),
        Some(&json!(server.port)),
        "{services}"
    );
    let mut s = settings(None);
    s.add_redaction(".items[].spec.ports[].targetPort", "[apiserver port]");
    s.bind(|| insta::assert_json_snapshot!("services_all_namespaces", services));

    for (name, path) in [
        ("pods_all_namespaces", "/api/v1/pods"),
        (
            "replicationcontrollers_all_namespaces",
            "/api/v1/replicationcontrollers",
        ),
        (
            "daemonsets_default_limit_500",
            "/apis/apps/v1/namespaces/default/daemonsets?limit=500",
        ),
    ] {
        snap(name, &get_ok(&mut c, path, None));
    }
    snap(
        "daemonsets_default_limit_500_table",
        &get_ok(
            &mut c,
            "/apis/apps/v1/namespaces/default/daemonsets?limit=500",
            Some(TABLE_ACCEPT),
        ),
    );
}

fn pod(name: &str, containers: &[(&str, &str)], labels: Value) -> Value {
    let containers: Vec<Value> = containers
        .iter()
        .map(|(n, i)| json!({"name": n, "image": i}))
        .collect();
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "labels": labels},
           "spec": {"containers": containers}})
}

#[test]
fn pods_as_objects_and_as_a_table() {
    let server = Apiserver::start();
    let mut c = Conn::new(server.port);
    let pods = "/api/v1/namespaces/default/pods";
    // As `kubectl create -f` sends them.
    let create = "/api/v1/namespaces/default/pods?fieldManager=kubectl-create";
    c.create(
        create,
        &pod("web-a", &[("nginx", "nginx:1.25")], json!({"app": "web"})),
    );
    c.create(
        create,
        &pod(
            "web-b",
            &[("nginx", "nginx:1.25"), ("sidecar", "busybox")],
            json!({"app": "web", "tier": "front"}),
        ),
    );
    let mut generated = pod("", &[("main", "busybox")], json!({"app": "batch"}));
    generated["metadata"] = json!({"generateName": "gen-"});
    let created = c.create(create, &generated);
    let name = created["metadata"]["name"].as_str().unwrap();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");

    snap("pods_default", &get_ok(&mut c, pods, None));
    snap(
        "pods_default_table",
        &get_ok(&mut c, &format!("{pods}?limit=500"), Some(TABLE_ACCEPT)),
    );
}

/// A quota charged by admission (its status shape and its Table, as `kubectl get quota`
/// reads it) and a pod with the defaults of a LimitRange.
#[test]
fn quota_status_and_limit_range_defaults() {
    let server = Apiserver::start();
    let mut c = Conn::new(server.port);
    let ns = "/api/v1/namespaces/default";
    c.create(
        &format!("{ns}/limitranges"),
        &json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "defaults"},
                "spec": {"limits": [{"type": "Container",
                    "default": {"cpu": "500m", "memory": "256Mi"},
                    "defaultRequest": {"cpu": "100m", "memory": "128Mi"}}]}}),
    );
    c.create(
        &format!("{ns}/resourcequotas"),
        &json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "compute"},
                "spec": {"hard": {"pods": "4", "requests.cpu": "1", "limits.memory": "1Gi", "count/configmaps": "3"}}}),
    );
    let created = c.create(
        &format!("{ns}/pods?fieldManager=kubectl-create"),
        &pod("limited", &[("nginx", "nginx:1.25")], json!({"app": "web"})),
    );
    snap("pod_with_limit_range_defaults", &created);
    let quotas = format!("{ns}/resourcequotas");
    snap(
        "resourcequota_charged",
        &get_ok(&mut c, &format!("{quotas}/compute"), None),
    );
    snap(
        "resourcequotas_default_table",
        &get_ok(&mut c, &format!("{quotas}?limit=500"), Some(TABLE_ACCEPT)),
    );
}

#[test]
fn error_statuses() {
    let server = Apiserver::start();
    let mut c = Conn::new(server.port);
    let (code, v) = get(&mut c, "/api/v1/namespaces/default/pods/missing", None);
    assert_eq!(code, 404);
    snap("status_404_pod_not_found", &v);

    let (code, v) = c.json(
        "POST",
        "/api/v1/namespaces/default/pods",
        &json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "Not_A_Name"},
                "spec": {"containers": []}}),
    );
    assert_eq!(code, 422);
    snap("status_422_invalid_pod", &v);
}
