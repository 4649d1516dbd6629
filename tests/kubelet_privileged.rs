//! What a container sees of the kernel, checked from inside it: a privileged container
//! gets the node's device nodes and may write /sys, /proc/sys and its own cgroups; an
//! unprivileged one has containerd's masked paths (empty) and read-only paths, and a
//! read-only /sys and cgroups.

mod common;

use common::kubelet::{NodeCluster, BUSYBOX};
use serde_json::{json, Value};

/// Each check prints `name=yes` or `name=no`. Writes put back the value just read, and
/// only touch the pod's own network namespace (its `lo`, its ip_forward).
const CHECKS: &str = "\
    [ -c /dev/loop-control ] && echo loop-control=yes || echo loop-control=no; \
    v=$(cat /sys/class/net/lo/tx_queue_len); \
    (echo $v > /sys/class/net/lo/tx_queue_len) 2>/dev/null && echo sys-write=yes || echo sys-write=no; \
    f=$(cat /proc/sys/net/ipv4/ip_forward); \
    (echo $f > /proc/sys/net/ipv4/ip_forward) 2>/dev/null && echo proc-sys-write=yes || echo proc-sys-write=no; \
    [ $(wc -c < /proc/timer_list) -gt 0 ] && echo timer-list=yes || echo timer-list=no; \
    [ -z \"$(ls /sys/firmware)\" ] && echo firmware-empty=yes || echo firmware-empty=no; \
    m=$(cat /sys/fs/cgroup/pids/pids.max); \
    (echo $m > /sys/fs/cgroup/pids/pids.max) 2>/dev/null && echo cgroup-write=yes || echo cgroup-write=no";

fn checks(cluster: &NodeCluster, name: &str, security: Value) -> Vec<String> {
    cluster.create_pod(
        name,
        json!({"terminationGracePeriodSeconds": 0, "containers": [{
            "name": "main", "image": BUSYBOX,
            "command": ["sh", "-c", format!("{CHECKS}; echo --; sleep 3600")],
            "securityContext": security,
        }]}),
    );
    let pod = cluster.wait_phase(name, "Running", 60);
    cluster.printed(&pod)
}

#[test]
fn privileged_containers_get_host_devices_and_a_writable_sys_others_masked_paths() {
    // The device the privileged container must see is one this node has, and so are the
    // masked paths checked (this machine has no /proc/kcore).
    assert!(std::path::Path::new("/dev/loop-control").exists());
    assert!(std::fs::read_dir("/sys/firmware").unwrap().next().is_some());
    assert!(!std::fs::read_to_string("/proc/timer_list")
        .unwrap()
        .is_empty());
    let cluster = NodeCluster::start();
    assert_eq!(
        checks(&cluster, "privileged", json!({"privileged": true})),
        [
            "loop-control=yes",
            "sys-write=yes",
            "proc-sys-write=yes",
            "timer-list=yes",
            "firmware-empty=no",
            "cgroup-write=yes"
        ]
    );
    assert_eq!(
        checks(&cluster, "confined", json!({})),
        [
            "loop-control=no",
            "sys-write=no",
            "proc-sys-write=no",
            "timer-list=no",
            "firmware-empty=yes",
            "cgroup-write=no"
        ]
    );
    // Every capability does not lift the masks: only privileged does.
    assert_eq!(
        checks(
            &cluster,
            "capable",
            json!({"capabilities": {"add": ["ALL"]}})
        ),
        [
            "loop-control=no",
            "sys-write=no",
            "proc-sys-write=no",
            "timer-list=no",
            "firmware-empty=yes",
            "cgroup-write=no"
        ]
    );
}
