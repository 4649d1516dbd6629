//! ResourceQuota and LimitRanger admission in a real `rkube apiserver`, and the
//! resourcequota controller of a real `rkube controller-manager`: over-quota writes are
//! refused with upstream's 403 messages (also as kubectl prints them), concurrent creates
//! never pass a quota, deletes free usage, LimitRange defaults and bounds apply.

mod common;

use std::sync::{Arc, Barrier};

use common::{eventually, json, Apiserver, ControllerManager};
use serde_json::{json, Value};

fn create(port: u16, path: &str, body: Value) -> Value {
    let (code, out) = json(port, "POST", path, &body);
    assert_eq!(code, 201, "POST {path}: {out}");
    out
}

/// A create that must be refused with 403 Forbidden; returns the Status message.
fn refused(port: u16, path: &str, body: Value) -> String {
    let (code, out) = json(port, "POST", path, &body);
    assert_eq!(code, 403, "POST {path} should be forbidden: {out}");
    assert_eq!(out["reason"], "Forbidden", "{out}");
    out["message"].as_str().unwrap_or_default().to_string()
}

fn namespace(port: u16, name: &str) {
    create(
        port,
        "/api/v1/namespaces",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
    );
}

fn quota(port: u16, ns: &str, name: &str, spec: Value) {
    create(
        port,
        &format!("/api/v1/namespaces/{ns}/resourcequotas"),
        json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": name}, "spec": spec}),
    );
}

fn get(port: u16, path: &str) -> Value {
    let (code, out) = json(port, "GET", path, &Value::Null);
    assert_eq!(code, 200, "GET {path}: {out}");
    out
}

fn pod(name: &str, containers: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
           "spec": {"containers": containers}})
}

fn nginx(name: &str) -> Value {
    pod(name, json!([{"name": "web", "image": "nginx"}]))
}

fn with_resources(name: &str, requests: Value, limits: Value) -> Value {
    pod(
        name,
        json!([{"name": "web", "image": "nginx", "resources": {"requests": requests, "limits": limits}}]),
    )
}

#[test]
fn a_quota_of_two_pods_refuses_the_third() {
    let api = Apiserver::start();
    let port = api.port;
    namespace(port, "q2");
    quota(port, "q2", "two-pods", json!({"hard": {"pods": "2"}}));
    let pods = "/api/v1/namespaces/q2/pods";
    create(port, pods, nginx("p1"));
    create(port, pods, nginx("p2"));
    assert_eq!(
        refused(port, pods, nginx("p3")),
        "pods \"p3\" is forbidden: exceeded quota: two-pods, requested: pods=1, used: pods=2, limited: pods=2"
    );
    let q = get(port, "/api/v1/namespaces/q2/resourcequotas/two-pods");
    assert_eq!(
        q["status"],
        json!({"hard": {"pods": "2"}, "used": {"pods": "2"}}),
        "{q}"
    );

    // Through the real kubectl: the same 403, as kubectl prints it.
    let (ok, _, stderr) = api.kubectl(
        "kubectl",
        &["run", "p4", "--image=nginx", "--restart=Never", "-n", "q2"],
    );
    assert!(!ok);
    assert_eq!(
        stderr.trim(),
        "Error from server (Forbidden): pods \"p4\" is forbidden: exceeded quota: two-pods, requested: pods=1, used: pods=2, limited: pods=2"
    );
    // Other namespaces are not limited; a pod that does not count (Succeeded) is
    // not charged by the controller either (see the controller test).
    create(port, "/api/v1/namespaces/default/pods", nginx("p5"));
}

/// 20 creates at once against `pods: 5` in namespace `race`: the outcomes.
fn race_twenty_creates(port: u16) -> Vec<(u16, Value)> {
    let start = Arc::new(Barrier::new(20));
    let creates: Vec<_> = (0..20)
        .map(|i| {
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                json(
                    port,
                    "POST",
                    "/api/v1/namespaces/race/pods",
                    &nginx(&format!("p{i}")),
                )
            })
        })
        .collect();
    creates.into_iter().map(|t| t.join().unwrap()).collect()
}

#[test]
fn concurrent_creates_never_exceed_the_quota() {
    let api = Apiserver::start();
    let port = api.port;
    namespace(port, "race");
    quota(port, "race", "five", json!({"hard": {"pods": "5"}}));
    let results = race_twenty_creates(port);
    let created = results.iter().filter(|(code, _)| *code == 201).count();
    let forbidden: Vec<&Value> = results
        .iter()
        .filter(|(code, _)| *code == 403)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(created, 5, "{results:?}");
    assert_eq!(forbidden.len(), 15, "{results:?}");
    for body in forbidden {
        let message = body["message"].as_str().unwrap();
        assert!(
            message.ends_with(
                "exceeded quota: five, requested: pods=1, used: pods=5, limited: pods=5"
            ),
            "{message}"
        );
    }
    let listed = get(port, "/api/v1/namespaces/race/pods");
    assert_eq!(listed["items"].as_array().unwrap().len(), 5);
    let q = get(port, "/api/v1/namespaces/race/resourcequotas/five");
    assert_eq!(q["status"]["used"]["pods"], "5", "{q}");
}

#[test]
fn concurrent_creates_with_the_controller_running() {
    let api = Apiserver::start();
    let _cm = ControllerManager::start(&api);
    let port = api.port;
    namespace(port, "race");
    quota(port, "race", "five", json!({"hard": {"pods": "5"}}));
    let path = "/api/v1/namespaces/race/resourcequotas/five";
    eventually(20, "the controller's first status", || {
        (get(port, path)["status"]["used"]["pods"] == "0").then_some(())
    });
    let results = race_twenty_creates(port);
    let created = results.iter().filter(|(code, _)| *code == 201).count();
    let forbidden = results.iter().filter(|(code, _)| *code == 403).count();
    assert_eq!((created, forbidden), (5, 15), "{results:?}");
    // A delete frees one slot, once; the controller's recount agrees with the charges.
    let victim = get(port, "/api/v1/namespaces/race/pods")["items"][0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, out) = json(
        port,
        "DELETE",
        &format!("/api/v1/namespaces/race/pods/{victim}?gracePeriodSeconds=0"),
        &Value::Null,
    );
    assert_eq!(code, 200, "{out}");
    eventually(20, "usage down to 4", || {
        (get(port, path)["status"]["used"]["pods"] == "4").then_some(())
    });
    let again: Vec<(u16, Value)> = (0..3)
        .map(|i| {
            json(
                port,
                "POST",
                "/api/v1/namespaces/race/pods",
                &nginx(&format!("again{i}")),
            )
        })
        .collect();
    let codes: Vec<u16> = again.iter().map(|(c, _)| *c).collect();
    assert_eq!(codes, vec![201, 403, 403], "{again:?}");
    assert_eq!(
        get(port, "/api/v1/namespaces/race/pods")["items"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}

#[test]
fn cpu_and_memory_at_container_and_pod_level() {
    let api = Apiserver::start();
    let port = api.port;
    namespace(port, "compute");
    quota(
        port,
        "compute",
        "compute",
        json!({"hard": {"requests.cpu": "1", "limits.memory": "1Gi", "cpu": "1"}}),
    );
    let pods = "/api/v1/namespaces/compute/pods";
    // A quota on cpu and memory: every container must say what it needs.
    assert_eq!(
        refused(port, pods, nginx("bare")),
        "pods \"bare\" is forbidden: failed quota: compute: must specify cpu for: web; limits.memory for: web; requests.cpu for: web"
    );
    create(
        port,
        pods,
        with_resources("small", json!({"cpu": "600m"}), json!({"memory": "512Mi"})),
    );
    assert_eq!(
        refused(
            port,
            pods,
            with_resources("again", json!({"cpu": "600m"}), json!({"memory": "256Mi"}))
        ),
        "pods \"again\" is forbidden: exceeded quota: compute, requested: cpu=600m,requests.cpu=600m, used: cpu=600m,requests.cpu=600m, limited: cpu=1,requests.cpu=1"
    );
    // Pod level: two containers' memory limits add up.
    let two = pod(
        "two",
        json!([
            {"name": "a", "image": "nginx", "resources": {"requests": {"cpu": "100m"}, "limits": {"memory": "300Mi"}}},
            {"name": "b", "image": "nginx", "resources": {"requests": {"cpu": "100m"}, "limits": {"memory": "300Mi"}}},
        ]),
    );
    assert_eq!(
        refused(port, pods, two),
        "pods \"two\" is forbidden: exceeded quota: compute, requested: limits.memory=600Mi, used: limits.memory=512Mi, limited: limits.memory=1Gi"
    );
    let q = get(port, "/api/v1/namespaces/compute/resourcequotas/compute");
    assert_eq!(
        q["status"]["used"],
        json!({"cpu": "600m", "limits.memory": "512Mi", "requests.cpu": "600m"}),
        "{q}"
    );
}

#[test]
fn services_configmaps_and_object_counts() {
    let api = Apiserver::start();
    let port = api.port;
    namespace(port, "objs");
    quota(
        port,
        "objs",
        "objects",
        json!({"hard": {"services.nodeports": "1", "services.loadbalancers": "0", "count/configmaps": "1", "secrets": "2"}}),
    );
    let svc = |name: &str, kind: &str| {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
               "spec": {"type": kind, "ports": [{"port": 80}]}})
    };
    let services = "/api/v1/namespaces/objs/services";
    create(port, services, svc("plain", "ClusterIP"));
    create(port, services, svc("np", "NodePort"));
    assert_eq!(
        refused(port, services, svc("lb", "LoadBalancer")),
        "services \"lb\" is forbidden: exceeded quota: objects, requested: services.loadbalancers=1,services.nodeports=1, used: services.loadbalancers=0,services.nodeports=1, limited: services.loadbalancers=0,services.nodeports=1"
    );
    // An update that adds a node port is charged too.
    let mut plain = get(port, "/api/v1/namespaces/objs/services/plain");
    plain["spec"]["type"] = json!("NodePort");
    let (code, out) = json(
        port,
        "PUT",
        "/api/v1/namespaces/objs/services/plain",
        &plain,
    );
    assert_eq!(code, 403, "{out}");
    assert_eq!(
        out["message"],
        "services \"plain\" is forbidden: exceeded quota: objects, requested: services.nodeports=1, used: services.nodeports=1, limited: services.nodeports=1"
    );
    let cm =
        |name: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}});
    create(port, "/api/v1/namespaces/objs/configmaps", cm("one"));
    assert_eq!(
        refused(port, "/api/v1/namespaces/objs/configmaps", cm("two")),
        "configmaps \"two\" is forbidden: exceeded quota: objects, requested: count/configmaps=1, used: count/configmaps=1, limited: count/configmaps=1"
    );
    // A create that fails after admission (the name is taken) gives its charge back.
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "first"}});
    let secrets = "/api/v1/namespaces/objs/secrets";
    create(port, secrets, secret.clone());
    let (code, out) = json(port, "POST", secrets, &secret);
    assert_eq!(code, 409, "{out}");
    let q = get(port, "/api/v1/namespaces/objs/resourcequotas/objects");
    assert_eq!(
        q["status"]["used"],
        json!({"count/configmaps": "1", "secrets": "1", "services.loadbalancers": "0", "services.nodeports": "1"}),
        "{q}"
    );
    let mut second = secret;
    second["metadata"]["name"] = json!("second");
    create(port, secrets, second.clone());
    second["metadata"]["name"] = json!("third");
    assert!(refused(port, secrets, second).ends_with("used: secrets=2, limited: secrets=2"));
}

#[test]
fn limit_range_defaults_and_bounds() {
    let api = Apiserver::start();
    let port = api.port;
    namespace(port, "lr");
    create(
        port,
        "/api/v1/namespaces/lr/limitranges",
        json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "limits"},
        "spec": {"limits": [
            {"type": "Container", "default": {"cpu": "500m", "memory": "256Mi"},
             "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
             "max": {"cpu": "1"}, "min": {"memory": "64Mi"}},
            {"type": "Pod", "max": {"memory": "1Gi"}},
            {"type": "PersistentVolumeClaim", "max": {"storage": "10Gi"}},
        ]}}),
    );
    // A quota on requests.cpu is satisfied by the defaults.
    quota(port, "lr", "cpu", json!({"hard": {"requests.cpu": "1"}}));
    let pods = "/api/v1/namespaces/lr/pods";
    let created = create(port, pods, nginx("defaulted"));
    let res = &created["spec"]["containers"][0]["resources"];
    assert_eq!(
        res["limits"],
        json!({"cpu": "500m", "memory": "256Mi"}),
        "{created}"
    );
    assert_eq!(
        res["requests"],
        json!({"cpu": "100m", "memory": "128Mi"}),
        "{created}"
    );
    assert_eq!(
        created["metadata"]["annotations"]["kubernetes.io/limit-ranger"],
        "LimitRanger plugin set: cpu, memory request for container web; cpu, memory limit for container web"
    );
    assert_eq!(created["status"]["qosClass"], "Burstable");
    let stored = get(port, "/api/v1/namespaces/lr/pods/defaulted");
    assert_eq!(stored["spec"]["containers"][0]["resources"], *res);

    assert_eq!(
        refused(
            port,
            pods,
            with_resources("big", json!({"cpu": "500m"}), json!({"cpu": "2"}))
        ),
        "pods \"big\" is forbidden: maximum cpu usage per Container is 1, but limit is 2"
    );
    assert_eq!(
        refused(port, pods, with_resources("tiny", json!({"memory": "32Mi"}), json!({}))),
        "pods \"tiny\" is forbidden: minimum memory usage per Container is 64Mi, but request is 32Mi"
    );
    let heavy = pod(
        "heavy",
        json!([
            {"name": "a", "image": "nginx", "resources": {"limits": {"memory": "768Mi"}}},
            {"name": "b", "image": "nginx", "resources": {"limits": {"memory": "512Mi"}}},
        ]),
    );
    assert_eq!(
        refused(port, pods, heavy),
        "pods \"heavy\" is forbidden: maximum memory usage per Pod is 1Gi, but limit is 1280Mi"
    );
    let claim = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}}}});
    assert_eq!(
        refused(port, "/api/v1/namespaces/lr/persistentvolumeclaims", claim),
        "persistentvolumeclaims \"data\" is forbidden: maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi"
    );
}

#[test]
fn the_controller_tracks_usage_and_deletes_free_it() {
    let api = Apiserver::start();
    let _cm = ControllerManager::start(&api);
    let port = api.port;
    namespace(port, "ctl");
    let path = "/api/v1/namespaces/ctl/resourcequotas/two";
    create(port, "/api/v1/namespaces/ctl/pods", nginx("before"));
    quota(
        port,
        "ctl",
        "two",
        json!({"hard": {"pods": "2", "configmaps": "5"}}),
    );
    // The controller fills in status from what is already there.
    eventually(20, "the controller's first status", || {
        let q = get(port, path);
        (q["status"]
            == json!({"hard": {"configmaps": "5", "pods": "2"}, "used": {"configmaps": "0", "pods": "1"}}))
        .then_some(())
    });
    create(port, "/api/v1/namespaces/ctl/pods", nginx("second"));
    let message = refused(port, "/api/v1/namespaces/ctl/pods", nginx("third"));
    assert!(
        message.ends_with("used: pods=2, limited: pods=2"),
        "{message}"
    );

    let (code, out) = json(
        port,
        "DELETE",
        "/api/v1/namespaces/ctl/pods/before?gracePeriodSeconds=0",
        &Value::Null,
    );
    assert_eq!(code, 200, "{out}");
    eventually(20, "usage down to 1 after the delete", || {
        (get(port, path)["status"]["used"]["pods"] == "1").then_some(())
    });
    create(port, "/api/v1/namespaces/ctl/pods", nginx("third"));

    // A pod that finished no longer counts.
    let mut done = get(port, "/api/v1/namespaces/ctl/pods/third");
    done["status"]["phase"] = json!("Succeeded");
    let (code, out) = json(
        port,
        "PUT",
        "/api/v1/namespaces/ctl/pods/third/status",
        &done,
    );
    assert_eq!(code, 200, "{out}");
    eventually(20, "usage down to 1 after the pod succeeded", || {
        (get(port, path)["status"]["used"]["pods"] == "1").then_some(())
    });
    // A raised limit shows in status.hard.
    let (code, out) = json(
        port,
        "PATCH",
        path,
        &json!({"spec": {"hard": {"pods": "3", "configmaps": "5"}}}),
    );
    assert_eq!(code, 200, "{out}");
    eventually(20, "status.hard follows spec.hard", || {
        (get(port, path)["status"]["hard"]["pods"] == "3").then_some(())
    });
}
