//! A kubelet killed with pods running and started again re-adopts them: the same processes
//! keep running, restart counts and readiness stay as they were, the new kubelet notices
//! their exits and deletions; pods deleted while it was away leave nothing behind.

mod common;

use std::collections::BTreeMap;

use common::eventually;
use common::kubelet::{NodeCluster, BUSYBOX};
use serde_json::{json, Value};

/// Every PID in a pod's cgroups (the pause process and the containers).
fn pod_pids(cluster: &NodeCluster, pod: &Value) -> Vec<u32> {
    let uid = pod["metadata"]["uid"].as_str().unwrap();
    let dir = cluster.pod_cgroup("memory", pod["status"]["qosClass"].as_str().unwrap(), uid);
    let mut pids = Vec::new();
    let mut dirs = vec![dir];
    while let Some(d) = dirs.pop() {
        let procs = std::fs::read_to_string(d.join("cgroup.procs")).unwrap_or_default();
        pids.extend(procs.lines().filter_map(|l| l.parse::<u32>().ok()));
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                dirs.push(e.path());
            }
        }
    }
    pids.sort();
    pids
}

/// What must not change across a kubelet restart: phase, Ready, and per container its ID,
/// restart count, readiness and start time.
fn summary(pod: &Value) -> Value {
    let containers = |key: &str| -> Vec<Value> {
        pod["status"][key]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                json!([
                    c["name"],
                    c["containerID"],
                    c["restartCount"],
                    c["ready"],
                    c["state"]
                ])
            })
            .collect()
    };
    let ready = pod["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
        .map(|c| c["status"].clone());
    json!({"phase": pod["status"]["phase"], "ready": ready,
        "containers": containers("containerStatuses"), "init": containers("initContainerStatuses")})
}

#[test]
fn a_restarted_kubelet_adopts_its_running_pods() {
    let mut cluster = NodeCluster::start();
    let before = cluster.leftovers();
    // Probed once at start (then hourly), so no probe process is about when PIDs are compared.
    let ready_probe = json!({"exec": {"command": ["true"]}, "periodSeconds": 3600});
    cluster.create_pod(
        "steady",
        json!({"terminationGracePeriodSeconds": 5, "containers": [{
            "name": "main", "image": BUSYBOX,
            "command": ["sh", "-c", "trap 'echo got TERM; kill $!; exit 0' TERM; echo up; sleep 3600 & wait"],
            "readinessProbe": ready_probe}]}),
    );
    // Fails once, then runs: restartCount 1 before the kubelet restart.
    cluster.create_pod(
        "flaky",
        json!({"terminationGracePeriodSeconds": 0, "volumes": [{"name": "d", "emptyDir": {}}], "containers": [{
            "name": "main", "image": BUSYBOX, "volumeMounts": [{"name": "d", "mountPath": "/d"}],
            "command": ["sh", "-c", "if [ -e /d/ran ]; then exec sleep 3600; fi; echo > /d/ran; exit 1"]}]}),
    );
    cluster.create_pod(
        "staged",
        json!({"terminationGracePeriodSeconds": 0,
            "initContainers": [{"name": "init", "image": BUSYBOX, "command": ["sh", "-c", "echo init ran"]}],
            "containers": [{"name": "main", "image": BUSYBOX, "command": ["sleep", "3600"]}]}),
    );
    let names = ["steady", "flaky", "staged"];
    let settled = |name: &str| {
        let pod = cluster.pod(name)?;
        let c = &pod["status"]["containerStatuses"][0];
        let restarts_done = name != "flaky" || c["restartCount"] == 1;
        (c["ready"] == true && restarts_done).then_some(pod)
    };
    let pods: BTreeMap<&str, Value> = names
        .iter()
        .map(|n| {
            (
                *n,
                eventually(60, &format!("{n} running and ready"), || settled(n)),
            )
        })
        .collect();
    // The pause process and the container's (which joins its cgroup as it starts).
    let pids: BTreeMap<&str, Vec<u32>> = pods
        .iter()
        .map(|(n, p)| {
            let pids = eventually(10, &format!("{n}'s processes"), || {
                let pids = pod_pids(&cluster, p);
                (pids.len() >= 2).then_some(pids)
            });
            (*n, pids)
        })
        .collect();

    cluster.kubelet.restart();
    // A pod created now runs once the new kubelet has listed this node's pods, which is
    // when it takes back the others: after that, nothing may have changed.
    cluster.create_pod(
        "newcomer",
        json!({"terminationGracePeriodSeconds": 0, "containers": [{
            "name": "main", "image": BUSYBOX, "command": ["sleep", "3600"]}]}),
    );
    cluster.wait_phase("newcomer", "Running", 60);
    std::thread::sleep(std::time::Duration::from_secs(2));
    for name in names {
        let now = cluster.pod(name).unwrap();
        assert_eq!(summary(&now), summary(&pods[name]), "{name} changed");
        assert_eq!(
            pod_pids(&cluster, &now),
            pids[name],
            "{name}'s processes changed"
        );
    }
    let staged_logs = cluster.kubelet.logs_dir().join(format!(
        "default_staged_{}/init",
        pods["staged"]["metadata"]["uid"].as_str().unwrap()
    ));
    let runs: Vec<_> = std::fs::read_dir(staged_logs).unwrap().collect();
    assert_eq!(runs.len(), 1, "the init container ran once");

    // The new kubelet watches the adopted containers: a killed one is restarted...
    let flaky_container = cluster.container_pids(&pods["flaky"])[0];
    let steady_container = cluster.container_pids(&pods["steady"])[0];
    let cmdline = std::fs::read_to_string(format!("/proc/{flaky_container}/cmdline")).unwrap();
    assert!(cmdline.starts_with("sleep"), "{cmdline:?}");
    let killed = std::process::Command::new("kill")
        .args(["-9", &flaky_container.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let flaky = eventually(30, "flaky restarted by the new kubelet", || {
        let pod = cluster.pod("flaky")?;
        let c = &pod["status"]["containerStatuses"][0];
        (c["restartCount"] == 2 && c["state"]["running"].is_object()).then_some(pod)
    });
    assert_eq!(
        flaky["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"],
        137
    );
    // ... and a deleted pod's adopted container gets SIGTERM within its grace period.
    let (ok, _, err) = cluster
        .apiserver
        .kubectl("kubectl", &["delete", "pod", "steady", "--wait=false"]);
    assert!(ok, "{err}");
    eventually(15, "steady removed", || {
        cluster.pod("steady").is_none().then_some(())
    });
    assert!(cluster
        .log(&pods["steady"], "main", 0)
        .contains(" stdout F got TERM\n"));
    assert!(!std::path::Path::new(&format!("/proc/{steady_container}")).exists());

    // A pod deleted while no kubelet runs is cleaned up by the next one.
    cluster.kubelet.kill();
    let (code, out) = cluster.apiserver.json(
        "DELETE",
        "/api/v1/namespaces/default/pods/staged",
        &json!({"gracePeriodSeconds": 0}),
    );
    assert_eq!(code, 200, "{out}");
    cluster.kubelet.restart();
    eventually(30, "the orphan's processes gone", || {
        pids["staged"]
            .iter()
            .all(|p| !std::path::Path::new(&format!("/proc/{p}")).exists())
            .then_some(())
    });
    let (ok, _, err) = cluster
        .apiserver
        .kubectl("kubectl", &["delete", "pods", "--all"]);
    assert!(ok, "{err}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while cluster.leftovers() != before && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(cluster.leftovers(), before, "nothing left behind");
}
