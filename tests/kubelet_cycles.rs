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
