//! `rkube kubelet` against a real apiserver: the Node it registers, its Lease, and the pods
//! bound to it run as real processes in namespaces and cgroups.

mod common;

use std::process::Command;
use std::time::Duration;

use common::kubelet::{Kubelet, NodeCluster, BUSYBOX, POD_CIDR_PREFIX};
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
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let kubelet = Kubelet::start(
        &apiserver,
        "node-a",
        &[
            "--address",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--read-only-port",
            "0",
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
    // Disk pressure is real on a busy machine: below 10% free on the root dir's filesystem
    // (upstream's nodefs.available hard eviction threshold).
    let statfs = Command::new("stat")
        .args(["-f", "-c", "%a %b"])
        .arg(kubelet.root_dir())
        .output()
        .unwrap();
    let blocks: Vec<u64> = String::from_utf8_lossy(&statfs.stdout)
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    let disk_reason = if blocks[0] * 100 < blocks[1] * 10 {
        "KubeletHasDiskPressure"
    } else {
        "KubeletHasNoDiskPressure"
    };
    for (kind, reason) in [
        ("MemoryPressure", "KubeletHasSufficientMemory"),
        ("DiskPressure", disk_reason),
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
    assert_eq!(status["daemonEndpoints"]["kubeletEndpoint"]["Port"], port);
    let (code, body) = common::raw(port, "GET", "/healthz", &[], b"").unwrap();
    assert_eq!((code, body.as_slice()), (200, b"ok".as_slice()));
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

fn container_state(pod: &Value) -> &Value {
    &pod["status"]["containerStatuses"][0]["state"]
}

#[test]
fn a_pod_runs_isolated_with_an_ip_from_the_pod_cidr_and_leaves_nothing_behind() {
    let cluster = NodeCluster::start();
    let before = cluster.leftovers();
    // `$$$$`: the kubelet turns `$$` into `$` in commands (upstream's escape for `$(VAR)`).
    let script = "echo pid=$$$$; echo host=$(hostname); \
        echo limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes); \
        echo root=$(ls / | tr '\\n' ' '); echo env=$GREETING; exec sleep 3600";
    cluster.create_pod(
        "web",
        serde_json::json!({"containers": [{
            "name": "main", "image": BUSYBOX,
            "command": ["sh", "-c", script],
            "env": [{"name": "GREETING", "value": "hi"}],
            "resources": {"limits": {"memory": "64Mi"}},
        }]}),
    );
    let pod = cluster.wait_phase("web", "Running", 60);
    let status = &pod["status"];
    let ip = status["podIP"].as_str().unwrap();
    assert!(ip.starts_with(POD_CIDR_PREFIX), "{status}");
    assert_eq!(status["podIPs"][0]["ip"], ip);
    assert_eq!(status["hostIP"], "10.77.0.10");
    assert_eq!(status["qosClass"], "Burstable");
    assert!(status["startTime"].is_string());
    let c = &status["containerStatuses"][0];
    assert_eq!(
        (
            c["ready"].clone(),
            c["started"].clone(),
            c["restartCount"].clone()
        ),
        (Value::Bool(true), Value::Bool(true), serde_json::json!(0))
    );
    assert!(c["state"]["running"]["startedAt"].is_string(), "{c}");
    assert_eq!(c["image"], BUSYBOX);
    assert!(c["imageID"].as_str().unwrap().contains("@sha256:"), "{c}");
    let ready = condition(&pod, "Ready").unwrap();
    assert_eq!(ready["status"], "True");

    // Inside: PID 1 is the command, the hostname is the pod's, / is the image, the limit
    // is the container's cgroup's.
    let log = eventually(10, "the container's output", || {
        let log = cluster.log(&pod, "main", 0);
        log.contains("env=").then_some(log)
    });
    for line in [
        "stdout F pid=1\n",
        "stdout F host=web\n",
        "stdout F limit=67108864\n",
        "stdout F env=hi\n",
    ] {
        assert!(log.contains(line), "{line:?} not in {log}");
    }
    let root_line = log.lines().find(|l| l.contains("root=")).unwrap();
    let entries: Vec<&str> = root_line
        .split("root=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        entries,
        ["bin", "dev", "etc", "proc", "sys", "tmp"],
        "{root_line}"
    );
    // The host side agrees: the container's process is in the pod's memory cgroup with the
    // pod-level limit, and the pod answers on its IP from the node.
    let uid = pod["metadata"]["uid"].as_str().unwrap();
    let pod_cgroup = cluster.pod_cgroup("memory", "Burstable", uid);
    assert_eq!(
        std::fs::read_to_string(pod_cgroup.join("memory.limit_in_bytes"))
            .unwrap()
            .trim(),
        "67108864"
    );
    let pids = cluster.container_pids(&pod);
    assert_eq!(pids.len(), 1, "{pids:?}");
    let cmdline = std::fs::read_to_string(format!("/proc/{}/cmdline", pids[0])).unwrap();
    assert!(cmdline.starts_with("sleep\u{0}3600"), "{cmdline:?}");
    cluster.topology.nodes[0]
        .netns
        .sh(&format!("ping -c1 -W2 {ip}"));

    let (ok, _, err) = cluster
        .apiserver
        .kubectl("kubectl", &["delete", "pod", "web", "--grace-period=1"]);
    assert!(ok, "{err}");
    eventually(30, "the pod removed", || {
        cluster.pod("web").is_none().then_some(())
    });
    eventually(10, "nothing left behind", || {
        (cluster.leftovers() == before).then_some(())
    });
    assert!(!std::path::Path::new(&format!("/proc/{}", pids[0])).exists());
}

#[test]
fn exit_codes_decide_the_phase_under_restart_policy_never() {
    let cluster = NodeCluster::start();
    for (name, code) in [("fails", 3), ("succeeds", 0)] {
        cluster.create_pod(
            name,
            serde_json::json!({"restartPolicy": "Never", "containers": [{
                "name": "main", "image": BUSYBOX, "command": ["sh", "-c", format!("echo bye; exit {code}")],
            }]}),
        );
    }
    let failed = cluster.wait_phase("fails", "Failed", 60);
    let terminated = &container_state(&failed)["terminated"];
    assert_eq!(terminated["exitCode"], 3, "{failed}");
    assert_eq!(terminated["reason"], "Error");
    assert!(terminated["finishedAt"].is_string() && terminated["startedAt"].is_string());
    let succeeded = cluster.wait_phase("succeeds", "Succeeded", 60);
    let terminated = &container_state(&succeeded)["terminated"];
    assert_eq!(
        (terminated["exitCode"].clone(), terminated["reason"].clone()),
        (serde_json::json!(0), serde_json::json!("Completed"))
    );
    assert_eq!(
        condition(&succeeded, "Ready").unwrap()["reason"],
        "PodCompleted"
    );
    assert!(cluster
        .log(&succeeded, "main", 0)
        .contains(" stdout F bye\n"));
}

#[test]
fn deletion_sends_sigterm_then_sigkill_after_the_grace_period() {
    let cluster = NodeCluster::start();
    let before = cluster.leftovers();
    cluster.create_pod(
        "polite",
        serde_json::json!({"terminationGracePeriodSeconds": 20, "containers": [{
            "name": "main", "image": BUSYBOX,
            "command": ["sh", "-c", "trap 'echo got TERM; exit 0' TERM; echo up; while true; do sleep 0.1; done"],
            // Runs inside the container before SIGTERM; writes to the container's stdout.
            "lifecycle": {"preStop": {"exec": {"command": ["sh", "-c", "echo pre-stop > /proc/1/fd/1"]}}},
        }]}),
    );
    cluster.create_pod(
        "stubborn",
        serde_json::json!({"terminationGracePeriodSeconds": 2, "containers": [{
            "name": "main", "image": BUSYBOX, "command": ["sh", "-c", "trap '' TERM; echo up; while true; do sleep 0.1; done"],
        }]}),
    );
    let polite = cluster.wait_phase("polite", "Running", 60);
    let stubborn = cluster.wait_phase("stubborn", "Running", 60);
    eventually(10, "both shells up", || {
        (cluster.log(&polite, "main", 0).contains("up")
            && cluster.log(&stubborn, "main", 0).contains("up"))
        .then_some(())
    });
    for name in ["polite", "stubborn"] {
        let (ok, _, err) = cluster
            .apiserver
            .kubectl("kubectl", &["delete", "pod", name, "--wait=false"]);
        assert!(ok, "{err}");
    }
    let log = eventually(10, "polite saw SIGTERM", || {
        let log = cluster.log(&polite, "main", 0);
        log.contains("stdout F got TERM").then_some(log)
    });
    let hook = log.find("stdout F pre-stop").expect("the preStop hook ran");
    assert!(
        hook < log.find("stdout F got TERM").unwrap(),
        "preStop before SIGTERM: {log}"
    );
    eventually(10, "polite removed well before its 20 s grace", || {
        cluster.pod("polite").is_none().then_some(())
    });
    // Ignoring SIGTERM buys exactly the grace period.
    std::thread::sleep(Duration::from_millis(1000));
    assert!(
        cluster.pod("stubborn").is_some(),
        "stubborn went before its 2 s grace period"
    );
    eventually(15, "stubborn killed and removed", || {
        cluster.pod("stubborn").is_none().then_some(())
    });
    eventually(10, "nothing left behind", || {
        (cluster.leftovers() == before).then_some(())
    });
}

#[test]
fn kubectl_logs_shows_follows_and_finds_the_previous_run() {
    let cluster = NodeCluster::start();
    cluster.create_pod(
        "talker",
        serde_json::json!({"restartPolicy": "Never", "containers": [{
            "name": "main", "image": BUSYBOX, "command": ["sh", "-c", "echo first; echo oops >&2; sleep 3; echo second"],
        }]}),
    );
    cluster.wait_phase("talker", "Running", 60);
    // -f streams: the first line arrives while the container still runs.
    let mut follower = cluster
        .apiserver
        .command("kubectl")
        .args(["logs", "-f", "talker"])
        .env("KUBECONFIG", &cluster.apiserver.kubeconfig)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(follower.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    assert_eq!(first, "first\n");
    assert_eq!(cluster.pod("talker").unwrap()["status"]["phase"], "Running");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert!(follower.wait().unwrap().success());
    assert_eq!(rest, "oops\nsecond\n");
    cluster.wait_phase("talker", "Succeeded", 30);

    let kubectl = |args: &[&str]| {
        let (ok, out, err) = cluster.apiserver.kubectl("kubectl", args);
        assert!(ok, "kubectl {args:?}: {err}");
        out
    };
    assert_eq!(kubectl(&["logs", "talker"]), "first\noops\nsecond\n");
    assert_eq!(kubectl(&["logs", "talker", "--tail=1"]), "second\n");
    let stamped = kubectl(&["logs", "talker", "-c", "main", "--timestamps"]);
    assert!(
        stamped
            .lines()
            .all(|l| l.len() > 31 && l.as_bytes()[4] == b'-' && l.contains('Z')),
        "{stamped}"
    );
    let (ok, _, err) = cluster
        .apiserver
        .kubectl("kubectl", &["logs", "talker", "-c", "nope"]);
    assert!(
        !ok && err.contains("container nope is not valid for pod talker"),
        "{err}"
    );

    // A crashing container restarts; --previous shows the run before.
    cluster.create_pod(
        "crasher",
        serde_json::json!({"containers": [{
            "name": "main", "image": BUSYBOX, "command": ["sh", "-c", "echo run at $(date +%s); sleep 1; exit 1"],
        }]}),
    );
    let pod = eventually(60, "crasher restarted", || {
        let pod = cluster.pod("crasher")?;
        (pod["status"]["containerStatuses"][0]["restartCount"].as_u64()? >= 1).then_some(pod)
    });
    let status = &pod["status"]["containerStatuses"][0];
    assert_eq!(status["lastState"]["terminated"]["exitCode"], 1, "{status}");
    let previous = kubectl(&["logs", "crasher", "--previous"]);
    assert!(previous.starts_with("run at "), "{previous}");
    // The back-off: after the immediate first restart, the next waits 10 s.
    let waiting = eventually(20, "CrashLoopBackOff", || {
        let pod = cluster.pod("crasher")?;
        let s = &pod["status"]["containerStatuses"][0];
        (s["state"]["waiting"]["reason"] == "CrashLoopBackOff").then(|| s.clone())
    });
    assert_eq!(waiting["restartCount"], 1, "{waiting}");
    assert_eq!(
        cluster.pod("crasher").unwrap()["status"]["phase"],
        "Running"
    );

    // The kubelet's own endpoints, from the node.
    let node = &cluster.topology.nodes[0].netns;
    assert_eq!(node.sh("curl -sf http://10.77.0.10:10250/healthz"), "ok");
    let pods: Value =
        serde_json::from_str(&node.sh("curl -sf http://10.77.0.10:10255/pods")).unwrap();
    assert_eq!(pods["kind"], "PodList");
    assert_eq!(pods["items"].as_array().unwrap().len(), 2);
    let denied =
        node.sh_output("curl -sf http://10.77.0.10:10255/containerLogs/default/talker/main");
    assert!(
        !denied.status.success(),
        "the read-only port serves no logs"
    );
}

#[test]
fn images_are_pulled_from_a_registry_as_the_pull_policy_says() {
    let cluster = NodeCluster::start();
    // The registry listens on the node's loopback: plain HTTP, like Docker does.
    let registry = common::registry::Registry::start(
        &cluster.topology.nodes[0].netns,
        "127.0.0.1:5000".parse().unwrap(),
        common::registry::RegistryOptions::default(),
    );
    let dir = tempfile::tempdir().unwrap();
    let image = common::oci_image::busybox_image(
        &dir.path().join("src"),
        "busybox:1.36",
        "pulled-from-the-registry",
    );
    registry.push(&image, "test/busybox:1.36");
    let container = |name: &str, image: &str, policy: &str| serde_json::json!({"restartPolicy": "Never", "containers": [{"name": name, "image": image, "imagePullPolicy": policy}]});
    cluster.create_pod(
        "pulled",
        container("main", "127.0.0.1:5000/test/busybox:1.36", "IfNotPresent"),
    );
    cluster.create_pod(
        "missing",
        container("main", "127.0.0.1:5000/test/nothing:1", "IfNotPresent"),
    );
    cluster.create_pod(
        "never",
        container("main", "127.0.0.1:5000/test/busybox:2", "Never"),
    );

    let pulled = cluster.wait_phase("pulled", "Succeeded", 60);
    assert!(cluster
        .log(&pulled, "main", 0)
        .contains(" stdout F pulled-from-the-registry\n"));
    let image_id = pulled["status"]["containerStatuses"][0]["imageID"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        image_id,
        format!("127.0.0.1:5000/test/busybox@{}", image.manifest_digest)
    );
    let waiting = |name: &str, reason: &str| {
        eventually(60, &format!("{name} waiting with {reason}"), || {
            let pod = cluster.pod(name)?;
            let w = &pod["status"]["containerStatuses"][0]["state"]["waiting"];
            (w["reason"] == reason).then(|| w["message"].as_str().unwrap_or("").to_string())
        })
    };
    waiting("missing", "ErrImagePull");
    waiting("missing", "ImagePullBackOff");
    let message = waiting("never", "ErrImageNeverPull");
    assert!(message.contains("busybox:2"), "{message}");
    assert_eq!(cluster.pod("never").unwrap()["status"]["phase"], "Pending");
}

#[test]
fn a_memory_hog_is_oom_killed() {
    let cluster = NodeCluster::start();
    // dd's 64 MiB buffer, filled from /dev/zero, does not fit under a 16 MiB limit.
    cluster.create_pod(
        "hog",
        serde_json::json!({"restartPolicy": "Never", "containers": [{
            "name": "main", "image": BUSYBOX,
            "command": ["/bin/busybox", "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"],
            "resources": {"limits": {"memory": "16Mi"}},
        }]}),
    );
    let pod = cluster.wait_phase("hog", "Failed", 60);
    let terminated = &container_state(&pod)["terminated"];
    assert_eq!(terminated["reason"], "OOMKilled", "{pod}");
    assert_eq!(terminated["exitCode"], 137);
    assert_eq!(terminated["signal"], 9);
}

#[test]
fn probes_drive_readiness_and_restart_unhealthy_containers() {
    let cluster = NodeCluster::start();
    // Ready only between 3 s and 8 s after start: /www/ready exists then.
    cluster.create_pod(
        "web",
        serde_json::json!({"containers": [{
            "name": "httpd", "image": BUSYBOX,
            "command": ["sh", "-c", "mkdir -p /www; (sleep 3; echo ok > /www/ready; sleep 5; rm /www/ready) & exec /bin/busybox httpd -f -p 8080 -h /www"],
            "ports": [{"name": "http", "containerPort": 8080}],
            "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 1, "failureThreshold": 1},
            "livenessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1},
        }]}),
    );
    // The exec liveness probe fails once /tmp/alive is gone: the container is restarted.
    cluster.create_pod(
        "flaky",
        serde_json::json!({"containers": [{
            "name": "main", "image": BUSYBOX,
            "command": ["sh", "-c", "echo > /tmp/alive; (sleep 2; rm /tmp/alive) & exec sleep 3600"],
            "livenessProbe": {"exec": {"command": ["cat", "/tmp/alive"]}, "periodSeconds": 1, "failureThreshold": 2},
        }]}),
    );
    let ready = |pod: &Value| condition(pod, "Ready").map(|c| c["status"].clone());
    let running = cluster.wait_phase("web", "Running", 60);
    assert_eq!(
        ready(&running),
        Some(serde_json::json!("False")),
        "not ready before its probe passes"
    );
    assert_eq!(running["status"]["containerStatuses"][0]["ready"], false);
    eventually(15, "web Ready", || {
        let pod = cluster.pod("web")?;
        (ready(&pod)? == "True" && pod["status"]["containerStatuses"][0]["ready"] == true)
            .then_some(())
    });
    let unready = eventually(15, "web not Ready once the probe fails", || {
        let pod = cluster.pod("web")?;
        (ready(&pod)? == "False").then_some(pod)
    });
    assert_eq!(
        condition(&unready, "ContainersReady").unwrap()["status"],
        "False"
    );
    let c = &unready["status"]["containerStatuses"][0];
    assert_eq!(
        (c["restartCount"].clone(), c["state"]["running"].is_object()),
        (serde_json::json!(0), true),
        "readiness never restarts: {c}"
    );

    let restarted = eventually(30, "flaky restarted by its liveness probe", || {
        let pod = cluster.pod("flaky")?;
        let c = pod["status"]["containerStatuses"][0].clone();
        (c["restartCount"].as_u64()? >= 1).then_some(c)
    });
    assert_eq!(
        restarted["lastState"]["terminated"]["exitCode"], 137,
        "{restarted}"
    );
}

#[test]
fn init_containers_run_in_order_to_success_before_the_app() {
    let cluster = NodeCluster::start();
    cluster.create_pod(
        "staged",
        serde_json::json!({
            "initContainers": [
                {"name": "first", "image": BUSYBOX, "command": ["sh", "-c", "sleep 2; echo one"]},
                {"name": "second", "image": BUSYBOX, "command": ["sh", "-c", "echo two"]},
            ],
            "containers": [{"name": "app", "image": BUSYBOX, "command": ["sh", "-c", "echo app; exec sleep 3600"]}],
        }),
    );
    cluster.create_pod(
        "blocked",
        serde_json::json!({
            "restartPolicy": "Never",
            "initContainers": [{"name": "setup", "image": BUSYBOX, "command": ["sh", "-c", "exit 7"]}],
            "containers": [{"name": "app", "image": BUSYBOX, "command": ["true"]}],
        }),
    );
    let initializing = eventually(30, "staged initializing", || {
        let pod = cluster.pod("staged")?;
        pod["status"]["initContainerStatuses"][0]["state"]["running"]
            .is_object()
            .then_some(pod)
    });
    assert_eq!(initializing["status"]["phase"], "Pending");
    assert_eq!(
        condition(&initializing, "Initialized").unwrap()["status"],
        "False"
    );
    assert_eq!(
        initializing["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
        "ContainerCreating"
    );
    let pod = cluster.wait_phase("staged", "Running", 60);
    assert_eq!(condition(&pod, "Initialized").unwrap()["status"], "True");
    for (i, name) in ["first", "second"].iter().enumerate() {
        let s = &pod["status"]["initContainerStatuses"][i];
        assert_eq!(s["name"], *name);
        assert_eq!(s["state"]["terminated"]["reason"], "Completed", "{s}");
    }
    // Order: the second init container wrote after the first finished, the app after both.
    let first_time = |container: &str| -> String {
        cluster
            .log(&pod, container, 0)
            .split(' ')
            .next()
            .unwrap_or("")
            .to_string()
    };
    eventually(10, "the app's first line", || {
        (!first_time("app").is_empty()).then_some(())
    });
    let (one, two, app) = (first_time("first"), first_time("second"), first_time("app"));
    assert!(
        !one.is_empty() && one < two && two < app,
        "{one} {two} {app}"
    );

    let blocked = cluster.wait_phase("blocked", "Failed", 60);
    assert_eq!(
        blocked["status"]["initContainerStatuses"][0]["state"]["terminated"]["exitCode"],
        7
    );
    assert!(
        blocked["status"]["containerStatuses"][0]["state"]["waiting"].is_object(),
        "{blocked}"
    );
}
