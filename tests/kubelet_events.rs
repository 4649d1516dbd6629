//! The Events a real kubelet records about pods, with upstream's reasons and messages,
//! as `kubectl get events` and `kubectl describe pod` show them; repeats are one event
//! whose count grows.

mod common;

use common::eventually;
use common::kubelet::{NodeCluster, BUSYBOX};
use serde_json::{json, Value};

fn kubectl(cluster: &NodeCluster, args: &[&str]) -> String {
    let (ok, out, err) = cluster.apiserver.kubectl("kubectl", args);
    assert!(ok, "kubectl {args:?}: {err}");
    out
}

#[test]
fn pulls_starts_probes_and_kills_are_recorded_as_upstream_words_them() {
    let cluster = NodeCluster::start();
    let registry = common::registry::Registry::start(
        &cluster.topology.nodes[0].netns,
        "127.0.0.1:5000".parse().unwrap(),
        common::registry::RegistryOptions::default(),
    );
    let dir = tempfile::tempdir().unwrap();
    let image = common::oci_image::busybox_image(&dir.path().join("src"), "busybox:1.36", "hi");
    registry.push(&image, "test/busybox:1.36");
    let pulled_image = "127.0.0.1:5000/test/busybox:1.36";
    cluster.create_pod(
        "pulled",
        json!({"restartPolicy": "Never", "containers": [{"name": "main", "image": pulled_image}]}),
    );
    cluster.create_pod(
        "present",
        json!({"containers": [{"name": "main", "image": BUSYBOX, "command": ["sleep", "3600"]}]}),
    );
    cluster.create_pod(
        "missing",
        json!({"containers": [{"name": "main", "image": "127.0.0.1:5000/test/nothing:1"}]}),
    );
    let probed = cluster.create_pod(
        "probed",
        json!({"containers": [{
            "name": "main", "image": BUSYBOX, "command": ["sleep", "3600"],
            "livenessProbe": {"exec": {"command": ["sh", "-c", "echo probe says no; exit 1"]},
                              "periodSeconds": 1, "failureThreshold": 1},
            "readinessProbe": {"exec": {"command": ["sh", "-c", "echo not ready; exit 1"]},
                               "periodSeconds": 1},
        }]}),
    );

    // An image pulled from the registry: Pulling, then Pulled with the time and size.
    let pulling = cluster.wait_event("pulled", "Pulling", |_| true);
    assert_eq!(
        pulling["message"],
        format!("Pulling image \"{pulled_image}\"")
    );
    assert_eq!(pulling["type"], "Normal");
    assert_eq!(pulling["source"]["component"], "kubelet");
    assert_eq!(
        pulling["involvedObject"]["fieldPath"],
        "spec.containers{main}"
    );
    let pulled = cluster.wait_event("pulled", "Pulled", |_| true);
    let message = pulled["message"].as_str().unwrap();
    let prefix = format!("Successfully pulled image \"{pulled_image}\" in ");
    assert!(message.starts_with(&prefix), "{message}");
    let size = message
        .split("Image size: ")
        .nth(1)
        .and_then(|s| s.strip_suffix(" bytes."))
        .and_then(|s| s.parse::<u64>().ok());
    assert!(size.is_some_and(|s| s > 0), "{message}");
    assert!(message.contains(" including waiting). "), "{message}");
    // An image already on the node.
    let present = cluster.wait_event("present", "Pulled", |_| true);
    assert_eq!(
        present["message"],
        format!("Container image \"{BUSYBOX}\" already present on machine")
    );
    for pod in ["pulled", "present"] {
        let created = cluster.wait_event(pod, "Created", |_| true);
        assert_eq!(created["message"], "Created container: main");
        let started = cluster.wait_event(pod, "Started", |_| true);
        assert_eq!(started["message"], "Started container main");
    }

    // A pull that fails, then backs off.
    let failed = cluster.wait_event("missing", "Failed", |m| {
        m.starts_with("Failed to pull image \"127.0.0.1:5000/test/nothing:1\": ")
    });
    assert_eq!(failed["type"], "Warning");
    cluster.wait_event("missing", "Failed", |m| m == "Error: ErrImagePull");
    cluster.wait_event("missing", "BackOff", |m| {
        m == "Back-off pulling image \"127.0.0.1:5000/test/nothing:1\""
    });
    cluster.wait_event("missing", "Failed", |m| m == "Error: ImagePullBackOff");

    // Failing probes: Unhealthy, Killing, then the crash-loop back-off.
    let uid = probed["metadata"]["uid"].as_str().unwrap();
    let unhealthy = cluster.wait_event("probed", "Unhealthy", |m| {
        m.starts_with("Liveness probe failed: ")
    });
    assert_eq!(
        unhealthy["message"],
        "Liveness probe failed: probe says no\n"
    );
    assert_eq!(unhealthy["type"], "Warning");
    cluster.wait_event("probed", "Unhealthy", |m| {
        m == "Readiness probe failed: not ready\n"
    });
    cluster.wait_event("probed", "Killing", |m| {
        m == "Container main failed liveness probe, will be restarted"
    });
    cluster.wait_event("probed", "BackOff", |m| {
        m == format!("Back-off restarting failed container main in pod probed_default({uid})")
    });
    // Repeats are one event with a count, not one event each. The first two failures can
    // fall in one second (the first restart is immediate and the probe runs at once); the
    // third comes after the 10 s back-off, so first and last timestamps then differ.
    let repeated = eventually(90, "the Unhealthy event counted", || {
        let all = cluster.events_about("probed", "Unhealthy");
        let liveness: Vec<&Value> = all
            .iter()
            .filter(|e| e["message"] == "Liveness probe failed: probe says no\n")
            .collect();
        assert_eq!(liveness.len(), 1, "{all:?}");
        (liveness[0]["count"].as_i64()? >= 3).then(|| liveness[0].clone())
    });
    assert_ne!(repeated["firstTimestamp"], repeated["lastTimestamp"]);
    let started = cluster.events_about("probed", "Started");
    assert_eq!(started.len(), 1, "{started:?}");
    assert!(started[0]["count"].as_i64().unwrap() >= 2, "{started:?}");
    let described = kubectl(&cluster, &["describe", "pod", "probed"]);
    assert!(
        described.contains("Liveness probe failed: probe says no"),
        "{described}"
    );
    assert!(
        described
            .lines()
            .any(|l| l.contains("Started") && l.contains("(x") && l.contains(" over ")),
        "{described}"
    );
    let listed = kubectl(&cluster, &["get", "events"]);
    assert!(
        listed.contains("Started container main") && listed.contains("already present on machine"),
        "{listed}"
    );

    // Deleting a pod stops its containers.
    kubectl(&cluster, &["delete", "pod", "present", "--grace-period=1"]);
    cluster.wait_event("present", "Killing", |m| m == "Stopping container main");
}
