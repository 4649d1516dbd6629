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

/// One slice endpoint: (ip, ready, serving, terminating, ports).
type SliceEndpoint = (String, bool, bool, bool, Vec<i64>);

fn slices_of(port: u16, ns: &str, svc: &str) -> Vec<Value> {
    let path = format!(
        "/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices?labelSelector=kubernetes.io/service-name%3D{svc}"
    );
    get(port, &path).unwrap()["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn slice_endpoints(slices: &[Value]) -> Vec<SliceEndpoint> {
    let mut out: Vec<SliceEndpoint> = Vec::new();
    for slice in slices {
        let ports: Vec<i64> = slice["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| p["port"].as_i64().unwrap())
            .collect();
        for e in slice["endpoints"].as_array().into_iter().flatten() {
            let c = &e["conditions"];
            out.push((
                e["addresses"][0].as_str().unwrap().to_string(),
                c["ready"] == true,
                c["serving"] == true,
                c["terminating"] == true,
                ports.clone(),
            ));
        }
    }
    out.sort();
    out
}

/// The Service's slices list exactly `want`; returns them.
fn slices_become(port: u16, ns: &str, svc: &str, mut want: Vec<SliceEndpoint>) -> Vec<Value> {
    want.sort();
    let last = std::cell::RefCell::new(Vec::new());
    let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        eventually(SECS, "", || {
            let slices = slices_of(port, ns, svc);
            *last.borrow_mut() = slices.clone();
            (slice_endpoints(&slices) == want).then_some(slices)
        })
    }));
    found.unwrap_or_else(|_| {
        panic!(
            "slices of {ns}/{svc} never held {want:?}; last: {}",
            serde_json::to_string(&*last.borrow()).unwrap()
        )
    })
}

fn e(ip: &str, ready: bool, serving: bool, ports: &[i64]) -> SliceEndpoint {
    (ip.to_string(), ready, serving, false, ports.to_vec())
}

fn versions(objects: &[Value]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = objects
        .iter()
        .map(|o| {
            let m = &o["metadata"];
            (m["name"].to_string(), m["resourceVersion"].to_string())
        })
        .collect();
    out.sort();
    out
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
        "/api/v1/nodes",
        json!({"apiVersion": "v1", "kind": "Node",
               "metadata": {"name": "n1", "labels": {"topology.kubernetes.io/zone": "z1"}}}),
    );
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
    let slices = slices_become(
        port,
        "ep",
        "web",
        vec![
            e("10.244.1.2", true, true, &[8080]),
            e("10.244.1.4", false, false, &[8080]),
            e("10.244.1.3", false, false, &[8081]),
        ],
    );
    assert_eq!(slices.len(), 2, "one slice per resolved port list");
    let service = get(port, "/api/v1/namespaces/ep/services/web").unwrap();
    for slice in &slices {
        let meta = &slice["metadata"];
        assert!(
            meta["name"].as_str().unwrap().starts_with("web-"),
            "{slice}"
        );
        assert_eq!(meta["generateName"], "web-");
        assert_eq!(slice["addressType"], "IPv4");
        assert_eq!(
            meta["labels"],
            json!({"tier": "front", "kubernetes.io/service-name": "web",
                   "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"})
        );
        let owner = &meta["ownerReferences"][0];
        assert_eq!(owner["kind"], "Service");
        assert_eq!(owner["uid"], service["metadata"]["uid"]);
        assert_eq!(owner["controller"], true);
        assert_eq!(slice["ports"][0]["name"], "http");
        assert_eq!(slice["ports"][0]["protocol"], "TCP");
        let endpoint = &slice["endpoints"][0];
        assert_eq!(endpoint["nodeName"], "n1");
        assert_eq!(endpoint["zone"], "z1", "{slice}");
        assert_eq!(endpoint["targetRef"]["kind"], "Pod");
    }
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

    slices_become(
        port,
        "ep",
        "web",
        vec![
            e("10.244.1.2", false, false, &[8080]),
            e("10.244.1.4", false, false, &[8080]),
            e("10.244.1.3", true, true, &[8081]),
        ],
    );

    // A change the Endpoints do not show causes no write.
    let before = get(port, "/api/v1/namespaces/ep/endpoints/web").unwrap();
    let slices_before = versions(&slices_of(port, "ep", "web"));
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
    assert_eq!(
        slices_before,
        versions(&slices_of(port, "ep", "web")),
        "slices were rewritten for nothing"
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

    // The deleted pod is terminating (no kubelet finishes it): slices keep it, saying so.
    slices_become(
        port,
        "ep",
        "web",
        vec![
            e("10.244.1.2", false, false, &[8080]),
            ("10.244.1.4".into(), false, false, true, vec![8080]),
        ],
    );
    send(
        port,
        "DELETE",
        "/api/v1/namespaces/ep/pods/c?gracePeriodSeconds=0",
        Value::Null,
    );
    slices_become(
        port,
        "ep",
        "web",
        vec![e("10.244.1.2", false, false, &[8080])],
    );

    // The Service goes, its Endpoints go.
    send(
        port,
        "DELETE",
        "/api/v1/namespaces/ep/services/web",
        Value::Null,
    );
    eventually(
        SECS,
        "the Endpoints and slices of a deleted Service deleted",
        || {
            (get(port, "/api/v1/namespaces/ep/endpoints/web").is_none()
                && slices_of(port, "ep", "web").is_empty())
            .then_some(())
        },
    );
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

#[test]
fn slices_hold_at_most_max_endpoints_and_change_one_at_a_time() {
    let api = Apiserver::start();
    let _cm = ControllerManager::start_with(&api, &["--max-endpoints-per-slice=3"]);
    let port = api.port;
    create_namespace(port, "many");
    send(
        port,
        "POST",
        "/api/v1/namespaces/many/services",
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
               "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "web"}]}}),
    );
    // No pods yet: one empty placeholder slice.
    let placeholder = eventually(SECS, "a placeholder slice", || {
        let slices = slices_of(port, "many", "web");
        (slices.len() == 1).then(|| slices[0].clone())
    });
    assert!(
        placeholder["endpoints"]
            .as_array()
            .is_none_or(|e| e.is_empty()),
        "{placeholder}"
    );
    let mut want = Vec::new();
    for i in 1..=7 {
        let name = format!("p{i}");
        let ip = format!("10.244.3.{i}");
        create_pod(port, "many", &name, json!({"app": "web"}), 8080);
        report(port, "many", &name, &ip, true);
        want.push(e(&ip, true, true, &[8080]));
    }
    let slices = slices_become(port, "many", "web", want.clone());
    let mut sizes: Vec<usize> = slices
        .iter()
        .map(|s| s["endpoints"].as_array().unwrap().len())
        .collect();
    sizes.sort();
    assert_eq!(sizes.iter().sum::<usize>(), 7);
    assert!(sizes.iter().all(|n| *n <= 3), "{sizes:?}");
    assert_eq!(sizes.len(), 3, "{sizes:?}");

    // One pod turns not ready: exactly its slice is rewritten.
    let before = versions(&slices);
    report(port, "many", "p4", "10.244.3.4", false);
    want[3] = e("10.244.3.4", false, false, &[8080]);
    let after = versions(&slices_become(port, "many", "web", want));
    let changed = before.iter().zip(&after).filter(|(b, a)| b != a).count();
    assert_eq!(before.len(), after.len());
    assert_eq!(changed, 1, "before {before:?} after {after:?}");
}

/// What serves each pod of [`cluster_ip_serves_only_ready_pods`]: busybox httpd on 8080
/// answering its hostname (the pod's name), with a CGI `/cgi-bin/ready?off|on` that
/// removes or creates `/tmp/ready`, the file the readiness probe tests.
const READY_TOGGLING_WEB: &str = r#"/bin/busybox mkdir -p /tmp/www/cgi-bin && hostname > /tmp/www/index.html && printf '#!/bin/sh\necho Content-Type: text/plain\necho\nif [ "$QUERY_STRING" = off ]; then /bin/busybox rm -f /tmp/ready; else /bin/busybox touch /tmp/ready; fi\necho ready=$QUERY_STRING\n' > /tmp/www/cgi-bin/ready && /bin/busybox chmod +x /tmp/www/cgi-bin/ready && /bin/busybox touch /tmp/ready && exec /bin/busybox httpd -f -p 8080 -h /tmp/www"#;

/// `count` requests to `http://ip/` from the node: the answers (pod names), one per
/// request, empty for a failed one.
fn ask_many(node: &common::netns::Netns, ip: &str, count: usize) -> Vec<String> {
    let out = node.sh(&format!(
        "for i in $(seq {count}); do printf '%s\\n' \"$(curl -s --max-time 2 http://{ip}/)\"; done"
    ));
    out.lines().map(|l| l.trim().to_string()).collect()
}

/// The pod names among `answers`, sorted and deduplicated, when every request was
/// answered.
fn answered_by(answers: &[String]) -> Option<Vec<String>> {
    if answers.iter().any(|a| a.is_empty()) {
        return None;
    }
    let mut names = answers.to_vec();
    names.sort();
    names.dedup();
    Some(names)
}

/// The Service `web`'s Endpoints subsets and EndpointSlice endpoints, as read now.
fn published(cluster: &common::cluster::Cluster) -> (Subsets, Vec<SliceEndpoint>) {
    let ep = cluster
        .get("/api/v1/namespaces/default/endpoints/web")
        .unwrap_or(Value::Null);
    let slices = cluster
        .get("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io/service-name%3Dweb")
        .and_then(|list| list["items"].as_array().cloned())
        .unwrap_or_default();
    (subsets(&ep), slice_endpoints(&slices))
}

/// What Endpoints and EndpointSlices must say when `pods` (name, ip) are up and those
/// named in `not_ready` fail their readiness probe.
fn expected(pods: &[(String, String)], not_ready: &[&str]) -> (Subsets, Vec<SliceEndpoint>) {
    let (mut ready_ips, mut not_ready_ips, mut slice) = (Vec::new(), Vec::new(), Vec::new());
    for (name, ip) in pods {
        let ready = !not_ready.contains(&name.as_str());
        if ready {
            ready_ips.push(ip.clone());
        } else {
            not_ready_ips.push(ip.clone());
        }
        slice.push(e(ip, ready, ready, &[8080]));
    }
    ready_ips.sort();
    not_ready_ips.sort();
    slice.sort();
    (vec![(ready_ips, not_ready_ips, vec![8080])], slice)
}

/// The acceptance check with every part real: a Deployment's pods run by a kubelet in a
/// node namespace with an exec readiness probe, the endpoints and endpointslice
/// controllers, and `rkube proxy` on that node. A pod failing its probe leaves the ready
/// addresses (Endpoints `notReadyAddresses`, slice `ready: false`) and stops getting the
/// ClusterIP's traffic; ready again, it is back in both.
#[test]
fn cluster_ip_serves_only_ready_pods() {
    use common::cluster::{running_and_ready, Cluster, BUSYBOX};
    let mut cluster = Cluster::start(1, &[]);
    cluster.start_proxy(0);
    cluster.send(
        "POST",
        "/apis/apps/v1/namespaces/default/deployments",
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                    "terminationGracePeriodSeconds": 1,
                    "containers": [{"name": "web", "image": BUSYBOX,
                        "command": ["/bin/sh", "-c", READY_TOGGLING_WEB],
                        "ports": [{"name": "http", "containerPort": 8080}],
                        "readinessProbe": {
                            "exec": {"command": ["/bin/busybox", "test", "-f", "/tmp/ready"]},
                            "periodSeconds": 1, "failureThreshold": 1}}]}}}}),
    );
    let service = cluster.send(
        "POST",
        "/api/v1/namespaces/default/services",
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"},
                     "ports": [{"port": 80, "targetPort": "http"}]}}),
    );
    let cluster_ip = service["spec"]["clusterIP"].as_str().unwrap().to_string();
    let mut pods: Vec<(String, String)> = eventually(90, "3 pods Running and ready", || {
        let pods = cluster.pods("default", "app=web");
        (pods.len() == 3 && pods.iter().all(running_and_ready)).then(|| {
            pods.iter()
                .map(|p| {
                    let name = p["metadata"]["name"].as_str().unwrap().to_string();
                    (name, p["status"]["podIP"].as_str().unwrap().to_string())
                })
                .collect()
        })
    });
    pods.sort();
    let names: Vec<String> = pods.iter().map(|(n, _)| n.clone()).collect();
    let node = cluster.node(0);
    let converge = |not_ready: &[&str], serving: &[String]| {
        let want = expected(&pods, not_ready);
        let last = std::cell::RefCell::new(None);
        let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            eventually(30, "", || {
                let now = published(&cluster);
                *last.borrow_mut() = Some(now.clone());
                (now == want).then_some(())
            })
        }));
        if found.is_err() {
            panic!(
                "Endpoints/EndpointSlices never became {want:?}; last {:?}\n{}",
                last.borrow(),
                cluster.describe(&["pods,endpoints,endpointslices", "-o", "wide"])
            );
        }
        // kube-proxy follows the slices: soon every answer comes from a serving pod,
        // and every serving pod answers.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let answers = ask_many(node, &cluster_ip, 30);
            if answered_by(&answers).as_deref() == Some(serving) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the ClusterIP {cluster_ip} never answered from exactly {serving:?}; last: {answers:?}\n{}",
                node.sh("iptables-save -t nat")
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };
    converge(&[], &names);

    // The middle pod fails its probe.
    let (quiet, quiet_ip) = pods[1].clone();
    let out = node.sh(&format!(
        "curl -sf --max-time 5 'http://{quiet_ip}:8080/cgi-bin/ready?off'"
    ));
    assert!(out.contains("ready=off"), "{out}");
    let others = vec![names[0].clone(), names[2].clone()];
    converge(&[&quiet], &others);
    // Not a lucky streak: 60 more requests, none reaches the not-ready pod.
    let answers = ask_many(node, &cluster_ip, 60);
    assert!(
        answers.iter().all(|a| others.contains(a)),
        "{quiet} is not ready but answered: {answers:?}"
    );
    // Still running (only not ready), and answering its own IP.
    let direct = node.sh(&format!("curl -s --max-time 2 http://{quiet_ip}:8080/"));
    assert_eq!(direct.trim(), quiet);

    // Ready again: back in the Endpoints, the slices and the ClusterIP's answers.
    let out = node.sh(&format!(
        "curl -sf --max-time 5 'http://{quiet_ip}:8080/cgi-bin/ready?on'"
    ));
    assert!(out.contains("ready=on"), "{out}");
    converge(&[], &names);
}
