//! A ReplicaSet scales, adopts matching orphans and releases pods relabelled out of its
//! selector.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::common::time::rfc3339;
use crate::common::{eventually, Apiserver, ControllerManager};
use crate::{active_pods, controlled_by, get, kubectl, name, namespace, send, SECS};

#[test]
fn replica_set_scales_adopts_and_releases() {
    let api = Apiserver::start();
    let _cm = ControllerManager::start(&api);
    let port = api.port;
    namespace(port, "rs");
    let pods_path = "/api/v1/namespaces/rs/pods";
    // An orphan that matches the selector, created before the ReplicaSet.
    send(
        port,
        "POST",
        pods_path,
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "orphan", "labels": {"app": "front", "tier": "web"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}}),
    );
    let rs = send(
        port,
        "POST",
        "/apis/apps/v1/namespaces/rs/replicasets",
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "front"},
        "spec": {
            "replicas": 3,
            "selector": {
                "matchLabels": {"app": "front"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "edge"]}]
            },
            "template": {
                "metadata": {"labels": {"app": "front", "tier": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}
            }
        }}),
    );
    let uid = rs["metadata"]["uid"].as_str().unwrap().to_string();
    let owned = |n: usize| {
        let pods: Vec<Value> = active_pods(port, "rs")
            .into_iter()
            .filter(|p| controlled_by(p, &uid))
            .collect();
        let rs = get(port, "/apis/apps/v1/namespaces/rs/replicasets/front");
        (pods.len() == n
            && rs["status"]["replicas"] == n
            && rs["status"]["fullyLabeledReplicas"] == n
            && rs["status"]["observedGeneration"] == rs["metadata"]["generation"])
            .then_some((pods, rs))
    };
    let (pods, _) = eventually(SECS, "3 pods, the orphan adopted", || owned(3));
    assert!(pods.iter().any(|p| name(p) == "orphan"), "{pods:?}");
    for pod in &pods {
        let owner = &pod["metadata"]["ownerReferences"][0];
        assert_eq!(owner["kind"], "ReplicaSet");
        assert_eq!(owner["apiVersion"], "apps/v1");
        assert_eq!(owner["blockOwnerDeletion"], true);
    }

    // Scale up through the scale subresource with kubectl.
    let k = kubectl(&api, "rs");
    k.ok(&["scale", "rs", "front", "--replicas=5"]);
    eventually(SECS, "5 pods", || owned(5));

    // A pod relabelled out of the selector is released and replaced.
    send(
        port,
        "PATCH",
        &format!("{pods_path}/orphan"),
        json!({"metadata": {"labels": {"tier": "back"}}}),
    );
    eventually(SECS, "the relabelled pod released and replaced", || {
        let orphan = get(port, &format!("{pods_path}/orphan"));
        let released = orphan["metadata"]["ownerReferences"]
            .as_array()
            .is_none_or(|r| r.is_empty());
        owned(5).filter(|(pods, _)| released && pods.iter().all(|p| name(p) != "orphan"))
    });

    // Two pods become ready; scaling to 2 deletes the not-ready ones first.
    let (pods, _) = owned(5).unwrap();
    let keep: HashSet<String> = pods.iter().take(2).map(name).collect();
    for pod in &keep {
        send(
            port,
            "PATCH",
            &format!("{pods_path}/{pod}/status"),
            json!({"status": {"phase": "Running", "conditions": [
                {"type": "Ready", "status": "True", "lastTransitionTime": rfc3339(1_700_000_000)}
            ]}}),
        );
    }
    eventually(SECS, "2 ready in status", || {
        owned(5).filter(|(_, rs)| {
            rs["status"]["readyReplicas"] == 2 && rs["status"]["availableReplicas"] == 2
        })
    });
    k.ok(&["scale", "rs", "front", "--replicas=2"]);
    let (pods, _) = eventually(SECS, "2 pods", || owned(2));
    let left: HashSet<String> = pods.iter().map(name).collect();
    assert_eq!(left, keep, "the ready pods are the ones kept");

    k.ok(&["scale", "rs", "front", "--replicas=0"]);
    eventually(SECS, "no pods", || owned(0));
    assert_eq!(
        active_pods(port, "rs").iter().map(name).collect::<Vec<_>>(),
        vec!["orphan".to_string()]
    );
}
