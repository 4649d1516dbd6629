//! Pod volumes on a real kubelet: emptyDir (disk and tmpfs), hostPath, configMap, secret,
//! downwardAPI and projected volumes, checked from inside the container (its own output)
//! and from the node (its mount table); updates propagate; nothing stays after deletion.

mod common;

use common::eventually;
use common::kubelet::{NodeCluster, BUSYBOX, NODE_NAME};
use serde_json::{json, Value};

fn post(cluster: &NodeCluster, path: &str, body: Value) -> Value {
    let (code, out) = cluster.apiserver.json("POST", path, &body);
    assert_eq!(code, 201, "{out}");
    out
}

fn create_pod(cluster: &NodeCluster, metadata: Value, mut spec: Value) -> Value {
    spec["nodeName"] = json!(NODE_NAME);
    post(
        cluster,
        "/api/v1/namespaces/default/pods",
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}),
    )
}

/// The newest value a container printed as `key=value` lines in its log.
fn last_value(log: &str, key: &str) -> Option<String> {
    let marker = format!(" {key}=");
    log.lines()
        .rev()
        .find_map(|l| l.split_once(&marker).map(|(_, v)| v.to_string()))
}

/// Mounts under the kubelet's root dir in the kubelet's own mount namespace.
fn kubelet_mounts(cluster: &NodeCluster) -> Vec<String> {
    let pid = cluster.kubelet.pid().unwrap();
    let table = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap_or_default();
    let root = cluster.kubelet.root_dir();
    table
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|m| m.starts_with(root.to_str().unwrap()))
        .map(String::from)
        .collect()
}

/// A container's mount table, read from the node through /proc.
fn container_mounts(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/mounts")).unwrap()
}

fn mount_line<'a>(mounts: &'a str, target: &str) -> &'a str {
    mounts
        .lines()
        .find(|l| l.split(' ').nth(1) == Some(target))
        .unwrap_or_else(|| panic!("nothing mounted on {target}:\n{mounts}"))
}

const SCRIPT: &str = r#"
show() { echo "$1=$(cat $2 | busybox tr '\n' '|')"; }
echo "mode=$(stat -L -c %a /cfg/dir/color.txt)"
echo "secmode=$(stat -L -c %a /sec/user)"
show colorfile /cfg/dir/color.txt
show gameprops /etc/game.properties
show cfgall "/cfgall/game.properties"
show user /sec/user
show projcolor /proj/cm-color
show projuser /proj/sec-user
show projname /proj/name
show name /info/name
show namespace /info/namespace
show uid /info/uid
show cpu /info/cpu
show mem /info/mem
show annotations /info/annotations
show hostfile /host/hello.txt
echo "optional=$(ls /opt | busybox wc -l)"
if busybox touch /host/nope 2>/dev/null; then echo hostwrite=yes; else echo hostwrite=no; fi
if busybox touch /cfg/nope 2>/dev/null; then echo cfgwrite=yes; else echo cfgwrite=no; fi
echo hi > /scratch/nested/dir/f && echo "scratch=$(cat /sub/f)"
echo memory-backed > /mem/f && echo "memfile=$(cat /mem/f)"
echo ready
while true; do
  show color /cfg/dir/color.txt
  show labels /info/labels
  show cfgallcolor /cfgall/color
  sleep 0.5
done
"#;

#[test]
fn volumes_of_every_kind_are_mounted_updated_and_removed_with_the_pod() {
    let cluster = NodeCluster::start();
    let before = cluster.leftovers();
    let host_dir = tempfile::tempdir().unwrap();
    std::fs::write(host_dir.path().join("hello.txt"), "from the node").unwrap();
    post(
        &cluster,
        "/api/v1/namespaces/default/configmaps",
        json!({"metadata": {"name": "cfg"}, "data": {"color": "blue", "game.properties": "lives=3\nlevel=9"}}),
    );
    post(
        &cluster,
        "/api/v1/namespaces/default/secrets",
        json!({"metadata": {"name": "creds"}, "stringData": {"user": "admin", "pass": "hunter2"}}),
    );
    let spec = json!({
        "terminationGracePeriodSeconds": 1,
        "volumes": [
            {"name": "scratch", "emptyDir": {}},
            {"name": "mem", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}},
            {"name": "host", "hostPath": {"path": host_dir.path().to_str().unwrap(), "type": "Directory"}},
            {"name": "cfg", "configMap": {"name": "cfg", "items": [{"key": "color", "path": "dir/color.txt", "mode": 0o440}]}},
            {"name": "cfgall", "configMap": {"name": "cfg"}},
            {"name": "sec", "secret": {"secretName": "creds", "defaultMode": 0o400}},
            {"name": "info", "downwardAPI": {"items": [
                {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                {"path": "annotations", "fieldRef": {"fieldPath": "metadata.annotations"}},
                {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
                {"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}},
                {"path": "uid", "fieldRef": {"fieldPath": "metadata.uid"}},
                {"path": "cpu", "resourceFieldRef": {"containerName": "main", "resource": "limits.cpu", "divisor": "1m"}},
                {"path": "mem", "resourceFieldRef": {"containerName": "main", "resource": "limits.memory", "divisor": "1Mi"}},
            ]}},
            {"name": "proj", "projected": {"sources": [
                {"configMap": {"name": "cfg", "items": [{"key": "color", "path": "cm-color"}]}},
                {"secret": {"name": "creds", "items": [{"key": "user", "path": "sec-user"}]}},
                {"downwardAPI": {"items": [{"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]}},
            ]}},
            {"name": "opt", "configMap": {"name": "absent", "optional": true}},
        ],
        "containers": [{
            "name": "main", "image": BUSYBOX, "command": ["sh", "-c", SCRIPT],
            "resources": {"limits": {"cpu": "250m", "memory": "64Mi"}},
            "volumeMounts": [
                {"name": "scratch", "mountPath": "/scratch"},
                {"name": "scratch", "mountPath": "/sub", "subPath": "nested/dir"},
                {"name": "mem", "mountPath": "/mem"},
                {"name": "host", "mountPath": "/host", "readOnly": true},
                {"name": "cfg", "mountPath": "/cfg"},
                {"name": "cfgall", "mountPath": "/cfgall"},
                {"name": "cfgall", "mountPath": "/etc/game.properties", "subPath": "game.properties"},
                {"name": "sec", "mountPath": "/sec"},
                {"name": "info", "mountPath": "/info"},
                {"name": "proj", "mountPath": "/proj"},
                {"name": "opt", "mountPath": "/opt"},
            ],
        }],
    });
    create_pod(
        &cluster,
        json!({"name": "vols", "labels": {"app": "web"}, "annotations": {"note": "hi"}}),
        spec,
    );
    let pod = cluster.wait_phase("vols", "Running", 60);
    let uid = pod["metadata"]["uid"].as_str().unwrap().to_string();
    let log = eventually(15, "the container's report", || {
        let log = cluster.log(&pod, "main", 0);
        log.contains(" ready\n").then_some(log)
    });
    let expect = [
        ("mode", "440"),
        ("secmode", "400"),
        ("colorfile", "blue"),
        ("gameprops", "lives=3|level=9"),
        ("cfgall", "lives=3|level=9"),
        ("user", "admin"),
        ("projcolor", "blue"),
        ("projuser", "admin"),
        ("projname", "vols"),
        ("name", "vols"),
        ("namespace", "default"),
        ("cpu", "250"),
        ("mem", "64"),
        ("annotations", "note=\"hi\""),
        ("hostfile", "from the node"),
        ("optional", "0"),
        ("hostwrite", "no"),
        ("cfgwrite", "no"),
        ("scratch", "hi"),
        ("memfile", "memory-backed"),
    ];
    for (key, value) in expect {
        assert_eq!(
            last_value(&log, key).as_deref(),
            Some(value),
            "{key} in\n{log}"
        );
    }
    assert_eq!(last_value(&log, "uid"), Some(uid.clone()));

    // The node's view: the memory-backed emptyDir and the secret are tmpfs mounts in the
    // container (the emptyDir sized by its sizeLimit), the configMap is on disk, read-only.
    let pids = cluster.container_pids(&pod);
    let mounts = container_mounts(pids[0]);
    let mem = mount_line(&mounts, "/mem");
    assert!(
        mem.starts_with("tmpfs ") && mem.contains("size=16384k"),
        "{mem}"
    );
    let sec = mount_line(&mounts, "/sec");
    assert!(sec.starts_with("tmpfs ") && sec.contains(" ro,"), "{sec}");
    assert!(mount_line(&mounts, "/proj").starts_with("tmpfs "));
    let cfg = mount_line(&mounts, "/cfg");
    assert!(!cfg.starts_with("tmpfs ") && cfg.contains(" ro,"), "{cfg}");
    assert!(mount_line(&mounts, "/scratch").contains(" rw,"));
    let pod_dir = cluster.kubelet.root_dir().join("pods").join(&uid);
    let on_node = kubelet_mounts(&cluster);
    for plugin in [
        "empty-dir/mem",
        "secret/sec",
        "downward-api/info",
        "projected/proj",
    ] {
        let path = pod_dir
            .join("volumes")
            .join(format!("kubernetes.io~{plugin}"));
        assert!(
            on_node.iter().any(|m| m == path.to_str().unwrap()),
            "{plugin} not a mount on the node: {on_node:?}"
        );
    }

    // A ConfigMap update reaches the files (through the ..data swap), and so does a label.
    let (code, out) = cluster.apiserver.json(
        "PATCH",
        "/api/v1/namespaces/default/configmaps/cfg",
        &json!({"data": {"color": "green"}}),
    );
    assert_eq!(code, 200, "{out}");
    let (ok, _, err) = cluster
        .apiserver
        .kubectl("kubectl", &["label", "pod", "vols", "tier=front"]);
    assert!(ok, "{err}");
    eventually(30, "the update seen inside the container", || {
        let log = cluster.log(&pod, "main", 0);
        (last_value(&log, "color").as_deref() == Some("green")
            && last_value(&log, "cfgallcolor").as_deref() == Some("green")
            && last_value(&log, "labels").as_deref() == Some("app=\"web\"|tier=\"front\""))
        .then_some(())
    });
    let cfg_dir = pod_dir.join("volumes/kubernetes.io~configmap/cfgall");
    let data_dirs: Vec<String> = std::fs::read_dir(&cfg_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("..") && n != "..data")
        .collect();
    assert_eq!(
        data_dirs.len(),
        1,
        "the old data directory is gone: {data_dirs:?}"
    );

    let (ok, _, err) = cluster
        .apiserver
        .kubectl("kubectl", &["delete", "pod", "vols"]);
    assert!(ok, "{err}");
    eventually(20, "nothing left behind", || {
        (cluster.leftovers() == before && kubelet_mounts(&cluster).is_empty()).then_some(())
    });
    assert!(!pod_dir.exists());
    // A hostPath belongs to the node: it stays, with what it held.
    assert_eq!(
        std::fs::read_to_string(host_dir.path().join("hello.txt")).unwrap(),
        "from the node"
    );
}

/// The kubelet's Warning events about a pod.
fn warnings(cluster: &NodeCluster, name: &str) -> Vec<Value> {
    cluster.events(|e| e["involvedObject"]["name"] == name && e["source"]["component"] == "kubelet")
}

/// The one FailedMount event about a pod (a retried failure is recorded once), once the
/// pod waits in ContainerCreating, as upstream shows it: the message is in the event.
fn failed_mount(cluster: &NodeCluster, name: &str) -> String {
    let events = eventually(30, &format!("{name}'s FailedMount event"), || {
        let events = warnings(cluster, name);
        (!events.is_empty()).then_some(events)
    });
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (&events[0]["type"], &events[0]["reason"]),
        (&json!("Warning"), &json!("FailedMount"))
    );
    let pod = cluster.pod(name).unwrap();
    assert_eq!(pod["status"]["phase"], "Pending");
    let waiting = &pod["status"]["containerStatuses"][0]["state"]["waiting"];
    assert_eq!(waiting, &json!({"reason": "ContainerCreating"}), "{pod}");
    events[0]["message"].as_str().unwrap().to_string()
}

#[test]
fn volumes_that_cannot_be_set_up_hold_the_pod_until_they_can() {
    let cluster = NodeCluster::start();
    let before = cluster.leftovers();
    let file = tempfile::NamedTempFile::new().unwrap();
    let container = |mount: &str| {
        json!([{"name": "main", "image": BUSYBOX,
            "command": ["sh", "-c", "cat /v/token; echo; sleep 3600"],
            "volumeMounts": [{"name": "v", "mountPath": mount}]}])
    };
    create_pod(
        &cluster,
        json!({"name": "late-secret"}),
        json!({"terminationGracePeriodSeconds": 0, "containers": container("/v"),
            "volumes": [{"name": "v", "secret": {"secretName": "late"}}]}),
    );
    create_pod(
        &cluster,
        json!({"name": "not-a-dir"}),
        json!({"terminationGracePeriodSeconds": 0, "containers": container("/v"),
            "volumes": [{"name": "v", "hostPath": {"path": file.path().to_str().unwrap(), "type": "Directory"}}]}),
    );
    create_pod(
        &cluster,
        json!({"name": "token"}),
        json!({"terminationGracePeriodSeconds": 0, "containers": container("/v"),
            "serviceAccountName": "default",
            "volumes": [{"name": "v", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}}]}),
    );
    assert_eq!(
        failed_mount(&cluster, "late-secret"),
        "MountVolume.SetUp failed for volume \"v\" : secret \"late\" not found"
    );
    assert_eq!(
        failed_mount(&cluster, "not-a-dir"),
        format!(
            "MountVolume.SetUp failed for volume \"v\" : hostPath type check failed: {} is not a directory",
            file.path().display()
        )
    );
    let message = failed_mount(&cluster, "token");
    assert!(message.contains("not available yet"), "{message}");

    // The secret appears: the pod starts with it, without being recreated.
    post(
        &cluster,
        "/api/v1/namespaces/default/secrets",
        json!({"metadata": {"name": "late"}, "stringData": {"token": "s3cr3t"}}),
    );
    let pod = cluster.wait_phase("late-secret", "Running", 30);
    eventually(10, "the secret read by the container", || {
        cluster
            .log(&pod, "main", 0)
            .contains(" stdout F s3cr3t\n")
            .then_some(())
    });
    let (ok, _, err) = cluster
        .apiserver
        .kubectl("kubectl", &["delete", "pods", "--all"]);
    assert!(ok, "{err}");
    eventually(20, "nothing left behind", || {
        (cluster.leftovers() == before && kubelet_mounts(&cluster).is_empty()).then_some(())
    });
}
