//! `rkube kubelet` against a real apiserver: the Node it registers, its Lease, and the pods
//! bound to it run as real processes in namespaces and cgroups.

mod common;

use std::process::Command;
use std::time::Duration;

use common::kubelet::Kubelet;
use common::{eventually, Apiserver};
use serde_json::Value;

fn get(apiserver: &Apiserver, path: &str) -> Option<Value> {
    let (code, body) = common::json(apiserver.port, "GET", path, &Value::Null);
    (code == 200).then_some(body)
}

fn condition<'a>(obj: &'a Value, kind: &str) -> Option<&'a Value> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
}

#[test]
fn unknown_flags_and_unsupported_values_are_refused() {
    for args in [
        vec!["kubelet", "--no-such-flag"],
        vec!["kubelet", "--max-pods", "lots"],
        vec![
            "kubelet",
            "--cgroup-driver",
            "systemd",
            "--kubeconfig",
            "/nonexistent",
        ],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_rkube"))
            .args(&args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} was accepted");
    }
}

#[test]
fn registers_the_node_reports_conditions_and_renews_its_lease() {
    let apiserver = Apiserver::start();
    let _kubelet = Kubelet::start(
        &apiserver,
        "node-a",
        &[
            "--node-ip",
            "10.77.0.10",
            "--pod-cidr",
            "10.244.3.0/24",
            "--max-pods",
            "42",
            "--node-labels",
            "zone=z1,tier=test",
            "--register-with-taints",
            "dedicated=test:NoSchedule",
        ],
    );
    let node = eventually(20, "node-a Ready", || {
        let node = get(&apiserver, "/api/v1/nodes/node-a")?;
        (condition(&node, "Ready")?["status"] == "True").then_some(node)
    });
    for (kind, reason) in [
        ("MemoryPressure", "KubeletHasSufficientMemory"),
        ("DiskPressure", "KubeletHasNoDiskPressure"),
        ("PIDPressure", "KubeletHasSufficientPID"),
        ("Ready", "KubeletReady"),
    ] {
        let c = condition(&node, kind).unwrap_or_else(|| panic!("no {kind} in {node}"));
        assert_eq!(c["reason"], reason, "{c}");
        assert!(c["lastHeartbeatTime"].is_string() && c["lastTransitionTime"].is_string());
    }
    let status = &node["status"];
    assert_eq!(status["capacity"]["pods"], "42");
    assert_eq!(status["allocatable"]["pods"], "42");
    let cpus = std::thread::available_parallelism()
        .unwrap()
        .get()
        .to_string();
    assert_eq!(status["capacity"]["cpu"], cpus);
    for key in ["memory", "ephemeral-storage"] {
        assert!(status["capacity"][key].is_string(), "{key}: {status}");
        assert!(status["allocatable"][key].is_string(), "{key}: {status}");
    }
    let kernel =
        String::from_utf8(Command::new("uname").arg("-r").output().unwrap().stdout).unwrap();
    assert_eq!(status["nodeInfo"]["kernelVersion"], kernel.trim());
    assert_eq!(status["nodeInfo"]["kubeletVersion"], "v1.33.0");
    assert_eq!(status["nodeInfo"]["operatingSystem"], "linux");
    assert!(status["nodeInfo"]["containerRuntimeVersion"]
        .as_str()
        .unwrap()
        .starts_with("rkube://"));
    assert_eq!(status["addresses"][0]["type"], "InternalIP");
    assert_eq!(status["addresses"][0]["address"], "10.77.0.10");
    assert_eq!(status["daemonEndpoints"]["kubeletEndpoint"]["Port"], 10250);
    assert_eq!(node["spec"]["podCIDR"], "10.244.3.0/24");
    assert_eq!(node["spec"]["taints"][0]["key"], "dedicated");
    assert_eq!(node["metadata"]["labels"]["zone"], "z1");
    assert_eq!(
        node["metadata"]["labels"]["kubernetes.io/hostname"],
        "node-a"
    );

    let lease_path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-a";
    let lease = eventually(10, "the node lease", || get(&apiserver, lease_path));
    assert_eq!(lease["spec"]["holderIdentity"], "node-a");
    assert_eq!(lease["spec"]["leaseDurationSeconds"], 40);
    assert_eq!(
        lease["metadata"]["ownerReferences"][0]["uid"],
        node["metadata"]["uid"]
    );
    let first = lease["spec"]["renewTime"].clone();
    std::thread::sleep(Duration::from_secs(9));
    eventually(5, "the lease renewed within 10 s", || {
        let lease = get(&apiserver, lease_path)?;
        (lease["spec"]["renewTime"] != first).then_some(())
    });

    let (ok, out, err) = apiserver.kubectl("kubectl", &["get", "nodes", "--no-headers"]);
    assert!(ok, "{err}");
    assert!(out.contains("node-a") && out.contains(" Ready"), "{out}");
}
