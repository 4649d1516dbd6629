//! Static pods on a real kubelet: manifests in `--pod-manifest-path` run as pods, appear
//! in the API as mirror pods owned by the Node, survive the deletion of their mirror, and
//! stop (mirror deleted, nothing left) when their manifest is removed.

mod common;

use common::eventually;
use common::kubelet::{NodeCluster, BUSYBOX, NODE_NAME, POD_CIDR_PREFIX};
use serde_json::{json, Value};

const WEB_YAML: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox:kubelet
    command: ["sh", "-c", "echo static hello; exec sleep 3600"]
"#;

fn get(cluster: &NodeCluster, path: &str) -> Option<Value> {
    let (code, body) = cluster.apiserver.json("GET", path, &Value::Null);
    (code == 200).then_some(body)
}

/// The mirror pod as the kubelet knows the static pod: its UID is the config hash.
fn as_static(mirror: &Value) -> Value {
    let mut pod = mirror.clone();
    pod["metadata"]["uid"] = mirror["metadata"]["annotations"]["kubernetes.io/config.hash"].clone();
    pod
}

fn running_mirror(cluster: &NodeCluster, name: &str) -> Value {
    eventually(60, &format!("mirror pod {name} Running"), || {
        let pod = get(cluster, &format!("/api/v1/namespaces/default/pods/{name}"))?;
        (pod["status"]["phase"] == "Running" && pod["metadata"]["deletionTimestamp"].is_null())
            .then_some(pod)
    })
}

#[test]
fn static_pods_run_from_manifests_and_are_mirrored_in_the_api() {
    let manifests = tempfile::tempdir().unwrap();
    std::fs::write(manifests.path().join("web.yaml"), WEB_YAML).unwrap();
    std::fs::write(
        manifests.path().join(".hidden.yaml"),
        WEB_YAML.replace("name: web", "name: hidden"),
    )
    .unwrap();
    let mut cluster = NodeCluster::start_with(&[
        "--pod-manifest-path",
        manifests.path().to_str().unwrap(),
        "--file-check-frequency",
        "1s",
    ]);
    let node = get(&cluster, "/api/v1/nodes/node0").unwrap();

    let mirror = running_mirror(&cluster, "web-node0");
    let meta = &mirror["metadata"];
    let annotations = &meta["annotations"];
    assert_eq!(annotations["kubernetes.io/config.source"], "file");
    let hash = annotations["kubernetes.io/config.hash"].as_str().unwrap();
    assert_eq!(annotations["kubernetes.io/config.mirror"], hash);
    assert_ne!(meta["uid"], hash, "the mirror has its own UID");
    assert_eq!(meta["labels"]["app"], "web");
    let owner = &meta["ownerReferences"][0];
    assert_eq!(
        (&owner["kind"], &owner["name"], &owner["uid"]),
        (&json!("Node"), &json!(NODE_NAME), &node["metadata"]["uid"])
    );
    assert_eq!(mirror["spec"]["nodeName"], NODE_NAME);
    assert!(mirror["status"]["podIP"]
        .as_str()
        .unwrap()
        .starts_with(POD_CIDR_PREFIX));
    assert_eq!(mirror["status"]["containerStatuses"][0]["image"], BUSYBOX);
    let static_pod = as_static(&mirror);
    eventually(10, "the static pod's output", || {
        cluster
            .log(&static_pod, "main", 0)
            .contains(" stdout F static hello\n")
            .then_some(())
    });
    let pids = eventually(10, "the static pod's process", || {
        let pids = cluster.container_pids(&static_pod);
        (pids.len() == 1).then_some(pids)
    });
    assert!(get(&cluster, "/api/v1/namespaces/default/pods/hidden-node0").is_none());

    // Deleting the mirror does not stop the static pod: the mirror comes back.
    let (ok, _, err) = cluster
        .apiserver
        .kubectl("kubectl", &["delete", "pod", "web-node0", "--wait=false"]);
    assert!(ok, "{err}");
    let again = eventually(30, "a new mirror pod", || {
        let pod = running_mirror(&cluster, "web-node0");
        (pod["metadata"]["uid"] != meta["uid"]).then_some(pod)
    });
    assert_eq!(
        again["metadata"]["annotations"]["kubernetes.io/config.mirror"],
        hash
    );
    assert_eq!(
        cluster.container_pids(&static_pod),
        pids,
        "the pod kept running"
    );
    assert_eq!(again["status"]["containerStatuses"][0]["restartCount"], 0);

    // A restarted kubelet takes the static pod back rather than starting it again.
    cluster.kubelet.restart();

    // A manifest added later (JSON) runs too.
    let json_manifest = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "api"},
        "spec": {"terminationGracePeriodSeconds": 0, "containers": [{"name": "main", "image": BUSYBOX, "command": ["sleep", "3600"]}]}});
    std::fs::write(manifests.path().join("api.json"), json_manifest.to_string()).unwrap();
    running_mirror(&cluster, "api-node0");
    // By now the new kubelet has synced web as well: still the same process.
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(cluster.container_pids(&static_pod), pids, "web was adopted");
    let web = running_mirror(&cluster, "web-node0");
    assert_eq!(web["status"]["containerStatuses"][0]["restartCount"], 0);

    // A removed manifest stops its pod and deletes its mirror.
    std::fs::remove_file(manifests.path().join("web.yaml")).unwrap();
    eventually(30, "the web mirror deleted", || {
        get(&cluster, "/api/v1/namespaces/default/pods/web-node0")
            .is_none()
            .then_some(())
    });
    eventually(10, "the web process gone", || {
        (!std::path::Path::new(&format!("/proc/{}", pids[0])).exists()).then_some(())
    });
    std::fs::remove_file(manifests.path().join("api.json")).unwrap();
    eventually(30, "nothing left behind", || {
        let left = cluster.leftovers();
        (left.is_empty() && get(&cluster, "/api/v1/namespaces/default/pods/api-node0").is_none())
            .then_some(())
    });
}
