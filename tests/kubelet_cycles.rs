//! 100 pods created and deleted on a real kubelet, ten at a time, leave nothing behind:
//! no process, mount, cgroup, veth, network namespace (each is held by a pause process)
//! or IP allocation, counted before and after every round.

mod common;

use common::eventually;
use common::kubelet::{NodeCluster, BUSYBOX};
use serde_json::json;

const ROUNDS: usize = 10;
const PODS_PER_ROUND: usize = 10;

#[test]
fn a_hundred_create_delete_cycles_leave_nothing_behind() {
    let cluster = NodeCluster::start();
    let (code, out) = cluster.apiserver.json(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &json!({"metadata": {"name": "cfg"}, "data": {"k": "v"}}),
    );
    assert_eq!(code, 201, "{out}");
    let (code, out) = cluster.apiserver.json(
        "POST",
        "/api/v1/namespaces/default/secrets",
        &json!({"metadata": {"name": "sec"}, "stringData": {"k": "v"}}),
    );
    assert_eq!(code, 201, "{out}");
    let before = cluster.leftovers();
    assert!(before.is_empty(), "{before:?}");
    // Every QoS class, and volumes that are mounts (tmpfs) and directories.
    let resources = [
        json!({"limits": {"cpu": "100m", "memory": "32Mi"}}),
        json!({"requests": {"memory": "16Mi"}}),
        json!({}),
    ];
    let mut created = 0;
    for round in 0..ROUNDS {
        let names: Vec<String> = (0..PODS_PER_ROUND)
            .map(|i| format!("cycle-{round}-{i}"))
            .collect();
        for (i, name) in names.iter().enumerate() {
            cluster.create_pod(
                name,
                json!({"terminationGracePeriodSeconds": 0,
                "volumes": [
                    {"name": "mem", "emptyDir": {"medium": "Memory"}},
                    {"name": "disk", "emptyDir": {}},
                    {"name": "cfg", "configMap": {"name": "cfg"}},
                    {"name": "sec", "secret": {"secretName": "sec"}},
                ],
                "containers": [{
                    "name": "main", "image": BUSYBOX, "command": ["sleep", "3600"],
                    "resources": resources[i % resources.len()],
                    "volumeMounts": [
                        {"name": "mem", "mountPath": "/mem"},
                        {"name": "disk", "mountPath": "/disk"},
                        {"name": "cfg", "mountPath": "/cfg"},
                        {"name": "sec", "mountPath": "/sec"},
                    ],
                }]}),
            );
            created += 1;
        }
        for name in &names {
            cluster.wait_phase(name, "Running", 60);
        }
        let held = cluster.leftovers();
        assert!(
            held.iter().filter(|l| l.starts_with("link ")).count() == PODS_PER_ROUND
                && held.iter().filter(|l| l.starts_with("ip ")).count() == PODS_PER_ROUND
                && held.iter().filter(|l| l.starts_with("mount ")).count() == 2 * PODS_PER_ROUND,
            "round {round}: ten pods' veths, addresses and tmpfs volumes: {held:#?}"
        );
        let (ok, _, err) = cluster
            .apiserver
            .kubectl("kubectl", &["delete", "pods", "--all", "--wait=false"]);
        assert!(ok, "{err}");
        for name in &names {
            eventually(30, &format!("{name} removed"), || {
                cluster.pod(name).is_none().then_some(())
            });
        }
        eventually(20, &format!("nothing left after round {round}"), || {
            (cluster.leftovers() == before).then_some(())
        });
    }
    assert_eq!(created, 100);
}

/// Pods still running when a test's cluster is dropped (the kubelet SIGKILLed first, as a
/// failing test does) are killed through their cgroups, and every cgroup under the
/// kubelet's root goes, in every hierarchy. A single kill-sleep-rmdir pass used to leave
/// empty directories behind now and then: killed processes leave `cgroup.procs` before
/// the kernel lets go of their cgroups, and a busy node takes its time.
#[test]
fn a_dropped_cluster_leaves_no_cgroup_in_any_hierarchy() {
    let cluster = NodeCluster::start();
    let root = cluster.cgroup_root.clone();
    let resources = [
        json!({"limits": {"cpu": "100m", "memory": "64Mi"}}),
        json!({"requests": {"memory": "16Mi"}}),
        json!({}),
    ];
    // Processes that fork all the time, hold memory, or just sleep; two containers each.
    let scripts = [
        "while true; do sleep 0.2 & sleep 0.05; done",
        "x=$(head -c 8000000 /dev/zero | tr '\\0' a); sleep 3600",
        "sleep 3600",
    ];
    let names: Vec<String> = (0..6).map(|i| format!("left-{i}")).collect();
    for (i, name) in names.iter().enumerate() {
        let container = |n: &str, script: &str| {
            json!({"name": n, "image": BUSYBOX, "command": ["sh", "-c", script],
                   "resources": resources[i % resources.len()]})
        };
        cluster.create_pod(
            name,
            json!({"containers": [
                container("a", scripts[i % scripts.len()]),
                container("b", scripts[(i + 1) % scripts.len()]),
            ]}),
        );
    }
    for name in &names {
        cluster.wait_phase(name, "Running", 60);
    }
    let trees = common::cgroups::trees(&root);
    assert!(trees.len() >= 4, "the kubelet's cgroups: {trees:?}");
    let running = common::cgroups::pids_in(&trees);
    assert!(running.len() >= 2 * names.len(), "{running:?}");
    drop(cluster);
    assert_eq!(
        common::cgroups::trees(&root),
        Vec::<std::path::PathBuf>::new()
    );
    let alive: Vec<_> = running
        .iter()
        .filter(|p| std::path::Path::new(&format!("/proc/{p}")).exists())
        .collect();
    // A PID may have been reused by then; the test's own processes are not those.
    assert!(
        alive
            .iter()
            .all(|p| !std::fs::read_to_string(format!("/proc/{p}/cgroup"))
                .unwrap_or_default()
                .contains(&root)),
        "{alive:?}"
    );
}
