//! The controller-manager's garbage collector against a real `rkube apiserver`: the
//! apiserver only marks deletions (finalizers, deletionTimestamp), the collector deletes
//! or orphans dependents through ownerReferences — Background, Foreground with
//! blockOwnerDeletion, Orphan, dangling owners and ownership cycles.

mod common;

use common::{eventually, json, which, Apiserver, ControllerManager};
use serde_json::{json, Value};

const SECS: u64 = 30;

fn get(port: u16, path: &str) -> (u16, Value) {
    json(port, "GET", path, &Value::Null)
}

fn send(port: u16, method: &str, path: &str, body: Value) -> Value {
    let (code, out) = json(port, method, path, &body);
    assert!((200..300).contains(&code), "{method} {path}: {code} {out}");
    out
}

fn gone(port: u16, path: &str) -> Option<()> {
    (get(port, path).0 == 404).then_some(())
}

fn setup(ns: &str) -> (Apiserver, ControllerManager) {
    let api = Apiserver::start();
    let cm = ControllerManager::start(&api);
    send(
        api.port,
        "POST",
        "/api/v1/namespaces",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
    );
    (api, cm)
}

fn reference(owner: &Value, block: bool) -> Value {
    json!({"apiVersion": owner["apiVersion"], "kind": owner["kind"],
           "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
           "blockOwnerDeletion": block})
}

fn configmap(port: u16, ns: &str, name: &str, owners: Vec<Value>, finalizers: &[&str]) -> Value {
    send(
        port,
        "POST",
        &format!("/api/v1/namespaces/{ns}/configmaps"),
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name, "ownerReferences": owners, "finalizers": finalizers}}),
    )
}

fn kubectl(api: &Apiserver, args: &[&str]) -> String {
    let bin = which("kubectl").expect("kubectl is on the PATH (installed by .ci/run)");
    let (ok, out, err) = api.kubectl(bin.to_str().unwrap(), args);
    assert!(ok, "kubectl {args:?}: {err}{out}");
    out
}

#[test]
fn deleting_a_deployment_takes_its_replica_sets_and_pods_or_orphans_them() {
    let (api, _cm) = setup("gc");
    let port = api.port;
    for name in ["web", "kept"] {
        kubectl(
            &api,
            &[
                "create",
                "deployment",
                name,
                "--image=nginx",
                "--replicas=2",
                "-n",
                "gc",
            ],
        );
    }
    let pods_of = |app: &str| {
        let (_, list) = get(
            port,
            &format!("/api/v1/namespaces/gc/pods?labelSelector=app%3D{app}"),
        );
        list["items"].as_array().cloned().unwrap_or_default()
    };
    let sets_of = |app: &str| {
        let (_, list) = get(
            port,
            &format!("/apis/apps/v1/namespaces/gc/replicasets?labelSelector=app%3D{app}"),
        );
        list["items"].as_array().cloned().unwrap_or_default()
    };
    for app in ["web", "kept"] {
        eventually(SECS, "2 pods each", || {
            (pods_of(app).len() == 2).then_some(())
        });
    }

    // Background (kubectl's default): the deployment goes, then its set, then its pods.
    kubectl(&api, &["delete", "deployment", "web", "-n", "gc"]);
    eventually(SECS, "web's replica set and pods collected", || {
        (sets_of("web").is_empty() && pods_of("web").is_empty()).then_some(())
    });

    // Orphan: the set stays, without its ownerReference, and keeps its pods.
    kubectl(
        &api,
        &[
            "delete",
            "deployment",
            "kept",
            "-n",
            "gc",
            "--cascade=orphan",
        ],
    );
    gone(port, "/apis/apps/v1/namespaces/gc/deployments/kept")
        .expect("kubectl waited for the deployment to go");
    let sets = sets_of("kept");
    assert_eq!(sets.len(), 1, "{sets:?}");
    assert!(
        sets[0]["metadata"]["ownerReferences"].is_null(),
        "{}",
        sets[0]["metadata"]
    );
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(pods_of("kept").len(), 2, "the orphaned set's pods stay");
}

#[test]
fn foreground_deletion_waits_for_blocking_dependents() {
    let (api, _cm) = setup("fg");
    let port = api.port;
    let owner = configmap(port, "fg", "owner", vec![], &[]);
    // One blocking dependent held open by a finalizer of its own, one non-blocking.
    configmap(
        port,
        "fg",
        "held",
        vec![reference(&owner, true)],
        &["example.com/hold"],
    );
    configmap(port, "fg", "free", vec![reference(&owner, false)], &[]);
    let owner_path = "/api/v1/namespaces/fg/configmaps/owner";
    let (code, marked) = json(
        port,
        "DELETE",
        &format!("{owner_path}?propagationPolicy=Foreground"),
        &Value::Null,
    );
    assert_eq!(code, 200, "{marked}");
    assert!(
        marked["metadata"]["deletionTimestamp"].is_string(),
        "{marked}"
    );
    assert_eq!(
        marked["metadata"]["finalizers"],
        json!(["foregroundDeletion"])
    );

    // The collector deletes the dependents; the held one waits on its finalizer, and
    // the owner waits for it.
    eventually(SECS, "the held dependent marked for deletion", || {
        let (_, held) = get(port, "/api/v1/namespaces/fg/configmaps/held");
        held["metadata"]["deletionTimestamp"]
            .is_string()
            .then_some(())
    });
    eventually(SECS, "the free dependent gone", || {
        gone(port, "/api/v1/namespaces/fg/configmaps/free")
    });
    std::thread::sleep(std::time::Duration::from_secs(1));
    let (code, still) = get(port, owner_path);
    assert_eq!(
        code, 200,
        "the owner went before its blocking dependent: {still}"
    );

    send(
        port,
        "PATCH",
        "/api/v1/namespaces/fg/configmaps/held",
        json!({"metadata": {"finalizers": null}}),
    );
    eventually(SECS, "the owner gone after its dependent", || {
        gone(port, owner_path)
    });
}

#[test]
fn dependents_of_missing_owners_and_ownership_cycles_are_collected() {
    let (api, _cm) = setup("dangling");
    let port = api.port;
    // An owner that never existed: the dependent is collected; one with a live owner
    // beside the missing one keeps only the live reference.
    let ghost = json!({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": "ghost", "uid": "00000000-0000-0000-0000-00000000dead"}});
    let live = configmap(port, "dangling", "live", vec![], &[]);
    configmap(
        port,
        "dangling",
        "orphan-of-ghost",
        vec![reference(&ghost, false)],
        &[],
    );
    configmap(
        port,
        "dangling",
        "two-owners",
        vec![reference(&ghost, false), reference(&live, false)],
        &[],
    );
    eventually(SECS, "the ghost's dependent collected", || {
        gone(
            port,
            "/api/v1/namespaces/dangling/configmaps/orphan-of-ghost",
        )
    });
    let cm = eventually(SECS, "the dangling reference dropped", || {
        let (_, cm) = get(port, "/api/v1/namespaces/dangling/configmaps/two-owners");
        (cm["metadata"]["ownerReferences"].as_array().map(Vec::len) == Some(1)).then_some(cm)
    });
    assert_eq!(cm["metadata"]["ownerReferences"][0]["name"], "live");

    // a → b → c → a: deleting one takes the circle.
    let names = ["a", "b", "c"];
    let made: Vec<Value> = names
        .iter()
        .map(|n| configmap(port, "dangling", n, vec![], &[]))
        .collect();
    for i in 0..3 {
        send(
            port,
            "PATCH",
            &format!("/api/v1/namespaces/dangling/configmaps/{}", names[i]),
            json!({"metadata": {"ownerReferences": [reference(&made[(i + 2) % 3], true)]}}),
        );
    }
    send(
        port,
        "DELETE",
        "/api/v1/namespaces/dangling/configmaps/a",
        Value::Null,
    );
    for n in names {
        eventually(SECS, "the circle collected", || {
            gone(port, &format!("/api/v1/namespaces/dangling/configmaps/{n}"))
        });
    }
    assert_eq!(
        get(port, "/api/v1/namespaces/dangling/configmaps/live").0,
        200
    );
}
