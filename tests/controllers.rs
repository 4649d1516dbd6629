//! `rkube controller-manager` against a real `rkube apiserver`: the replication,
//! namespace and serviceaccount controllers converge the cluster (mostly with no kubelet:
//! pods stay Pending; `teciplsrc_on_a_real_node_keeps_three_running_pods` runs the RC on
//! a real node with the scheduler).

mod common;

use common::{eventually, json, raw, Apiserver, ControllerManager};
use serde_json::{json, Value};

const SECS: u64 = 20;

fn items(port: u16, path: &str) -> Vec<Value> {
    let (code, list) = json(port, "GET", path, &Value::Null);
    assert_eq!(code, 200, "GET {path}: {list}");
    list["items"].as_array().cloned().unwrap_or_default()
}

fn create(port: u16, path: &str, body: Value) -> Value {
    let (code, out) = json(port, "POST", path, &body);
    assert_eq!(code, 201, "POST {path}: {out}");
    out
}

fn create_namespace(port: u16, name: &str) {
    create(
        port,
        "/api/v1/namespaces",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
    );
}

/// The documents' ReplicationController.
fn teciplsrc() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"name": "teciplsrc"},
        "spec": {
            "replicas": 3,
            "selector": {"name": "teciplsrc"},
            "template": {
                "metadata": {"labels": {"name": "teciplsrc"}},
                "spec": {"containers": [{"name": "teciplsrc", "image": "nginx"}]}
            }
        }
    })
}

fn controlled_by(pod: &Value, uid: &str) -> bool {
    pod["metadata"]["ownerReferences"]
        .as_array()
        .is_some_and(|refs| {
            refs.iter()
                .any(|r| r["uid"] == uid && r["controller"] == true)
        })
}

/// Active pods controlled by the RC `uid`.
fn owned_pods(port: u16, ns: &str, uid: &str) -> Vec<Value> {
    items(port, &format!("/api/v1/namespaces/{ns}/pods"))
        .into_iter()
        .filter(|p| controlled_by(p, uid) && p["metadata"]["deletionTimestamp"].is_null())
        .collect()
}

fn name(obj: &Value) -> String {
    obj["metadata"]["name"].as_str().unwrap().to_string()
}

/// Exactly `n` owned pods, and the RC's status says so.
fn settled(port: u16, ns: &str, uid: &str, n: usize) -> Option<Vec<Value>> {
    let pods = owned_pods(port, ns, uid);
    let (_, rc) = json(
        port,
        "GET",
        &format!("/api/v1/namespaces/{ns}/replicationcontrollers/teciplsrc"),
        &Value::Null,
    );
    (pods.len() == n
        && rc["status"]["replicas"] == n
        && rc["status"]["observedGeneration"] == rc["metadata"]["generation"])
        .then_some(pods)
}

#[test]
fn replication_controller_keeps_its_replicas() {
    let api = Apiserver::start();
    let _cm = ControllerManager::start(&api);
    let port = api.port;
    create_namespace(port, "rc");
    let rc = create(
        port,
        "/api/v1/namespaces/rc/replicationcontrollers",
        teciplsrc(),
    );
    let uid = rc["metadata"]["uid"].as_str().unwrap().to_string();

    let pods = eventually(SECS, "3 pods for teciplsrc", || {
        settled(port, "rc", &uid, 3)
    });
    for pod in &pods {
        assert!(name(pod).starts_with("teciplsrc-"), "{pod}");
        assert_eq!(pod["metadata"]["labels"]["name"], "teciplsrc");
        let owner = &pod["metadata"]["ownerReferences"][0];
        assert_eq!(owner["kind"], "ReplicationController");
        assert_eq!(owner["name"], "teciplsrc");
        assert_eq!(owner["blockOwnerDeletion"], true);
        assert_eq!(pod["status"]["phase"], "Pending");
    }
    let (_, rc_now) = json(
        port,
        "GET",
        "/api/v1/namespaces/rc/replicationcontrollers/teciplsrc",
        &Value::Null,
    );
    assert_eq!(rc_now["status"]["fullyLabeledReplicas"], 3, "{rc_now}");
    assert_eq!(rc_now["status"]["readyReplicas"], 0, "{rc_now}");
    assert_eq!(rc_now["status"]["availableReplicas"], 0, "{rc_now}");

    // Delete one: replaced.
    let victim = name(&pods[0]);
    let (code, _) = json(
        port,
        "DELETE",
        &format!("/api/v1/namespaces/rc/pods/{victim}"),
        &Value::Null,
    );
    assert_eq!(code, 200);
    let pods = eventually(SECS, "the deleted pod replaced", || {
        settled(port, "rc", &uid, 3).filter(|pods| pods.iter().all(|p| name(p) != victim))
    });

    // Relabel one: released (no ownerReference) and replaced.
    let relabelled = name(&pods[0]);
    let (code, out) = json(
        port,
        "PATCH",
        &format!("/api/v1/namespaces/rc/pods/{relabelled}"),
        &json!({"metadata": {"labels": {"name": "elsewhere"}}}),
    );
    assert_eq!(code, 200, "{out}");
    eventually(SECS, "the relabelled pod released and replaced", || {
        let (_, pod) = json(
            port,
            "GET",
            &format!("/api/v1/namespaces/rc/pods/{relabelled}"),
            &Value::Null,
        );
        let released = pod["metadata"]["ownerReferences"]
            .as_array()
            .is_none_or(|refs| refs.is_empty());
        settled(port, "rc", &uid, 3)
            .filter(|pods| released && pods.iter().all(|p| name(p) != relabelled))
    });

    // Scale to 0: every owned pod goes; the released one stays.
    let (code, out) = json(
        port,
        "PATCH",
        "/api/v1/namespaces/rc/replicationcontrollers/teciplsrc",
        &json!({"spec": {"replicas": 0}}),
    );
    assert_eq!(code, 200, "{out}");
    eventually(SECS, "no pods owned by teciplsrc", || {
        settled(port, "rc", &uid, 0)
    });
    let left: Vec<String> = items(port, "/api/v1/namespaces/rc/pods")
        .iter()
        .map(name)
        .collect();
    assert_eq!(left, vec![relabelled]);
}

#[test]
fn replication_controller_adopts_matching_orphans() {
    let api = Apiserver::start();
    let port = api.port;
    create_namespace(port, "adopt");
    let orphan = create(
        port,
        "/api/v1/namespaces/adopt/pods",
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "orphan", "labels": {"name": "teciplsrc"}},
               "spec": {"containers": [{"name": "c", "image": "nginx"}]}}),
    );
    let rc = create(
        port,
        "/api/v1/namespaces/adopt/replicationcontrollers",
        teciplsrc(),
    );
    let uid = rc["metadata"]["uid"].as_str().unwrap().to_string();
    let _cm = ControllerManager::start(&api);
    let pods = eventually(SECS, "3 pods, the orphan adopted", || {
        settled(port, "adopt", &uid, 3)
    });
    assert!(pods
        .iter()
        .any(|p| p["metadata"]["uid"] == orphan["metadata"]["uid"]));
}

#[test]
fn deleting_a_namespace_deletes_its_content_then_the_namespace() {
    let api = Apiserver::start();
    let _cm = ControllerManager::start(&api);
    let port = api.port;
    create_namespace(port, "doomed");
    let base = "/api/v1/namespaces/doomed";
    create(
        port,
        &format!("{base}/configmaps"),
        json!({"metadata": {"name": "cm"}, "data": {"a": "b"}}),
    );
    create(
        port,
        &format!("{base}/secrets"),
        json!({"metadata": {"name": "s"}, "stringData": {"a": "b"}}),
    );
    create(
        port,
        &format!("{base}/services"),
        json!({"metadata": {"name": "svc"}, "spec": {"selector": {"name": "teciplsrc"}, "ports": [{"port": 80}]}}),
    );
    create(
        port,
        &format!("{base}/pods"),
        json!({"metadata": {"name": "loose"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}),
    );
    let rc = create(port, &format!("{base}/replicationcontrollers"), teciplsrc());
    let uid = rc["metadata"]["uid"].as_str().unwrap().to_string();
    eventually(SECS, "the RC's pods", || settled(port, "doomed", &uid, 3));

    let (code, out) = json(port, "DELETE", "/api/v1/namespaces/doomed", &Value::Null);
    assert_eq!(code, 200, "{out}");
    eventually(SECS, "the namespace gone", || {
        let (code, _) = json(port, "GET", "/api/v1/namespaces/doomed", &Value::Null);
        (code == 404).then_some(())
    });
    for resource in [
        "configmaps",
        "secrets",
        "services",
        "pods",
        "replicationcontrollers",
        "serviceaccounts",
    ] {
        let left = items(port, &format!("{base}/{resource}"));
        assert!(left.is_empty(), "{resource} left: {left:?}");
    }
}

/// Namespaces are cleaned up in the order they were deleted, like upstream's FIFO
/// workqueue: with one worker and a backlog (twelve namespaces deleted before the
/// controller-manager starts), the apiserver removes them in that order. A queue that
/// hands out waiting namespaces in any other order can leave one waiting indefinitely
/// behind namespaces deleted after it.
#[test]
fn namespaces_are_cleaned_up_in_the_order_they_were_deleted() {
    let api = Apiserver::start();
    let port = api.port;
    let names: Vec<String> = (0..12).map(|i| format!("queued-{i:02}")).collect();
    for name in &names {
        create_namespace(port, name);
        create(
            port,
            &format!("/api/v1/namespaces/{name}/configmaps"),
            json!({"metadata": {"name": "cm"}, "data": {"a": "b"}}),
        );
    }
    for name in &names {
        let (code, out) = json(
            port,
            "DELETE",
            &format!("/api/v1/namespaces/{name}"),
            &Value::Null,
        );
        assert_eq!(code, 200, "{out}");
    }
    let (code, list) = json(port, "GET", "/api/v1/namespaces", &Value::Null);
    assert_eq!(code, 200, "{list}");
    let before = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();

    let _cm = ControllerManager::start_with(
        &api,
        &["--controllers=namespace", "--concurrent-namespace-syncs=1"],
    );
    for name in &names {
        eventually(120, &format!("namespace {name} gone"), || {
            let (code, _) = json(
                port,
                "GET",
                &format!("/api/v1/namespaces/{name}"),
                &Value::Null,
            );
            (code == 404).then_some(())
        });
    }
    let (code, body) = raw(
        port,
        "GET",
        &format!("/api/v1/namespaces?watch=true&resourceVersion={before}&timeoutSeconds=1"),
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(code, 200);
    let removed: Vec<String> = body
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice::<Value>(l).unwrap())
        .filter(|ev| ev["type"] == "DELETED")
        .map(|ev| name(&ev["object"]))
        .filter(|n| n.starts_with("queued-"))
        .collect();
    assert_eq!(removed, names, "the order the namespaces were removed in");
}

#[test]
fn content_with_a_finalizer_holds_the_namespace_with_conditions() {
    let api = Apiserver::start();
    let _cm = ControllerManager::start(&api);
    let port = api.port;
    create_namespace(port, "held");
    create(
        port,
        "/api/v1/namespaces/held/configmaps",
        json!({"metadata": {"name": "kept", "finalizers": ["example.com/hold"]}}),
    );
    let (code, _) = json(port, "DELETE", "/api/v1/namespaces/held", &Value::Null);
    assert_eq!(code, 200);
    let condition = |ns: &Value, t: &str| -> Option<Value> {
        ns["status"]["conditions"]
            .as_array()?
            .iter()
            .find(|c| c["type"] == t)
            .cloned()
    };
    let ns = eventually(SECS, "NamespaceContentRemaining=True", || {
        let (_, ns) = json(port, "GET", "/api/v1/namespaces/held", &Value::Null);
        condition(&ns, "NamespaceContentRemaining")
            .is_some_and(|c| c["status"] == "True")
            .then_some(ns)
    });
    assert_eq!(ns["status"]["phase"], "Terminating");
    let remaining = condition(&ns, "NamespaceContentRemaining").unwrap();
    assert_eq!(remaining["reason"], "SomeResourcesRemain");
    assert_eq!(
        remaining["message"],
        "Some resources are remaining: configmaps. has 1 resource instances"
    );
    let finalizers = condition(&ns, "NamespaceFinalizersRemaining").unwrap();
    assert_eq!(finalizers["status"], "True");
    assert_eq!(
        finalizers["message"],
        "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances"
    );
    assert_eq!(
        condition(&ns, "NamespaceDeletionDiscoveryFailure").unwrap()["status"],
        "False"
    );

    // Lift the finalizer: the namespace goes.
    let (code, out) = json(
        port,
        "PATCH",
        "/api/v1/namespaces/held/configmaps/kept",
        &json!({"metadata": {"finalizers": null}}),
    );
    assert_eq!(code, 200, "{out}");
    eventually(SECS, "the namespace gone", || {
        let (code, _) = json(port, "GET", "/api/v1/namespaces/held", &Value::Null);
        (code == 404).then_some(())
    });
}

#[test]
fn every_namespace_gets_a_default_service_account() {
    let api = Apiserver::start();
    let _cm = ControllerManager::start(&api);
    let port = api.port;
    create_namespace(port, "fresh");
    let path = "/api/v1/namespaces/fresh/serviceaccounts/default";
    let first = eventually(SECS, "the default ServiceAccount", || {
        let (code, sa) = json(port, "GET", path, &Value::Null);
        (code == 200).then_some(sa)
    });
    // Deleted: recreated (a new object, not the old one seen late).
    let (code, _) = json(port, "DELETE", path, &Value::Null);
    assert_eq!(code, 200);
    eventually(SECS, "the default ServiceAccount recreated", || {
        let (code, sa) = json(port, "GET", path, &Value::Null);
        (code == 200 && sa["metadata"]["uid"] != first["metadata"]["uid"]).then_some(())
    });
    // Not in a terminating namespace.
    create_namespace(port, "going");
    let (code, _) = json(port, "DELETE", "/api/v1/namespaces/going", &Value::Null);
    assert_eq!(code, 200);
    eventually(SECS, "the terminating namespace gone", || {
        (json(port, "GET", "/api/v1/namespaces/going", &Value::Null).0 == 404).then_some(())
    });
}

#[test]
fn inconsistent_leader_election_flags_are_refused() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rkube"))
        .args([
            "controller-manager",
            "--master",
            "http://127.0.0.1:1",
            "--leader-elect-lease-duration=5s",
            "--leader-elect-renew-deadline=10s",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("leaseDuration must be greater than renewDeadline"),
        "{stderr}"
    );
}

/// The acceptance check on a real node: the documents' ReplicationController (its
/// container running busybox) on a kubelet in a network namespace, with the scheduler.
/// 3 pods Running; one deleted → replaced (the old one gone for good once its container
/// stopped); one relabelled → released, still running, and replaced; scale to 0 → every
/// owned pod gone.
#[test]
fn teciplsrc_on_a_real_node_keeps_three_running_pods() {
    use common::cluster::{running_and_ready, Cluster, BUSYBOX};
    let cluster = Cluster::start(1, &[]);
    let mut rc = teciplsrc();
    rc["spec"]["template"]["spec"] = json!({"terminationGracePeriodSeconds": 1,
        "containers": [{"name": "teciplsrc", "image": BUSYBOX,
                        "command": ["/bin/sh", "-c", "exec /bin/busybox sleep 3600"]}]});
    let rc = cluster.send(
        "POST",
        "/api/v1/namespaces/default/replicationcontrollers",
        rc,
    );
    let uid = rc["metadata"]["uid"].as_str().unwrap().to_string();
    let path = "/api/v1/namespaces/default/replicationcontrollers/teciplsrc";
    // The RC's pods, when exactly `n` of them are Running and ready and none is going.
    let running = |n: usize| {
        let pods: Vec<Value> = cluster
            .pods("default", "name=teciplsrc")
            .into_iter()
            .filter(|p| controlled_by(p, &uid))
            .collect();
        (pods.len() == n
            && pods
                .iter()
                .all(|p| running_and_ready(p) && p["metadata"]["deletionTimestamp"].is_null()))
        .then_some(pods)
    };
    let gone = |pod: &str| {
        cluster
            .get(&format!("/api/v1/namespaces/default/pods/{pod}"))
            .is_none()
    };
    let pods = eventually(90, "3 teciplsrc pods Running", || running(3));
    eventually(SECS, "the RC's status: 3 ready", || {
        let rc = cluster.get(path)?;
        (rc["status"]["readyReplicas"] == 3 && rc["status"]["availableReplicas"] == 3).then_some(())
    });

    let victim = name(&pods[0]);
    cluster.send(
        "DELETE",
        &format!("/api/v1/namespaces/default/pods/{victim}"),
        Value::Null,
    );
    let pods = eventually(60, "the deleted pod gone and replaced", || {
        running(3).filter(|pods| gone(&victim) && pods.iter().all(|p| name(p) != victim))
    });

    let relabelled = name(&pods[0]);
    cluster.send(
        "PATCH",
        &format!("/api/v1/namespaces/default/pods/{relabelled}"),
        json!({"metadata": {"labels": {"name": "elsewhere"}}}),
    );
    eventually(60, "the relabelled pod released and replaced", || {
        let pod = cluster.get(&format!("/api/v1/namespaces/default/pods/{relabelled}"))?;
        let released = pod["metadata"]["ownerReferences"]
            .as_array()
            .is_none_or(|refs| refs.is_empty());
        (released && running_and_ready(&pod)).then_some(())?;
        running(3).filter(|pods| pods.iter().all(|p| name(p) != relabelled))
    });

    cluster.send("PATCH", path, json!({"spec": {"replicas": 0}}));
    let owned = eventually(60, "every teciplsrc pod gone", || {
        let left = cluster.pods("default", "name=teciplsrc");
        left.is_empty().then_some(left)
    });
    assert!(owned.is_empty());
    let released = cluster
        .get(&format!("/api/v1/namespaces/default/pods/{relabelled}"))
        .expect("the released pod stays");
    assert!(running_and_ready(&released), "{released}");
}
