//! Processes the kubelet enters into a running container (exec probes, postStart and
//! preStop hooks, POST /run) run as the container runs: its user and groups, capabilities,
//! no_new_privs, cgroups, working directory and environment. Each is checked from inside
//! the container, against what the container's own PID 1 sees.

mod common;

use std::path::Path;

use common::eventually;
use common::kubelet::{NodeCluster, BUSYBOX};
use serde_json::{json, Value};

/// What a process reports about itself: identity, capability sets, no_new_privs, cgroups,
/// working directory and one variable of the container's environment.
const REPORT: &str = "id; grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs)' /proc/self/status; \
                      cat /proc/self/cgroup; pwd; echo FOO=$FOO";

/// A directory on the node every container user may write, mounted at /out.
fn shared_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_default()
}

/// A container that writes its PID 1's report to /out/<name>.main, with a readiness
/// probe that writes its own to /out/<name>.probe and succeeds only if both are equal.
fn reporting_container(name: &str, security: Value) -> Value {
    json!({
        "name": name, "image": BUSYBOX, "workingDir": "/tmp",
        "env": [{"name": "FOO", "value": format!("from-{name}")}],
        "command": ["sh", "-c", format!("({REPORT}) > /out/{name}.main; sleep 3600")],
        "readinessProbe": {"exec": {"command": ["sh", "-c",
            format!("({REPORT}) > /out/{name}.probe; cmp -s /out/{name}.main /out/{name}.probe")]},
            "periodSeconds": 1},
        "volumeMounts": [{"name": "out", "mountPath": "/out"}],
        "securityContext": security,
    })
}

#[test]
fn exec_probes_run_with_the_containers_identity_capabilities_and_cgroups() {
    let cluster = NodeCluster::start();
    let out = shared_dir();
    cluster.create_pod(
        "probed",
        json!({"terminationGracePeriodSeconds": 0,
               "volumes": [{"name": "out", "hostPath": {"path": out.path()}}],
               "containers": [
                   reporting_container("user", json!({"runAsUser": 1000, "runAsGroup": 3000,
                                                      "allowPrivilegeEscalation": false})),
                   reporting_container("netadmin", json!({"capabilities": {"drop": ["ALL"], "add": ["NET_ADMIN"]}})),
               ]}),
    );
    let pod = eventually(60, "both containers Ready", || {
        let pod = cluster.pod("probed")?;
        let statuses = pod["status"]["containerStatuses"].as_array()?;
        (statuses.len() == 2 && statuses.iter().all(|s| s["ready"] == true)).then_some(pod)
    });
    for name in ["user", "netadmin"] {
        let (main, probe) = (
            read(out.path(), &format!("{name}.main")),
            read(out.path(), &format!("{name}.probe")),
        );
        assert_eq!(main, probe, "{name}: the probe saw another identity: {pod}");
    }
    let user = read(out.path(), "user.probe");
    let lines: Vec<&str> = user.lines().collect();
    assert!(lines[0].starts_with("uid=1000 gid=3000"), "{user}");
    assert!(lines.contains(&"CapEff:\t0000000000000000"), "{user}");
    assert!(lines.contains(&"CapBnd:\t00000000a80425fb"), "{user}");
    assert!(lines.contains(&"NoNewPrivs:\t1"), "{user}");
    assert!(
        lines.contains(&"/tmp") && lines.contains(&"FOO=from-user"),
        "{user}"
    );
    let netadmin = read(out.path(), "netadmin.probe");
    assert!(netadmin.starts_with("uid=0"), "{netadmin}");
    assert!(
        netadmin.contains("CapEff:\t0000000000001000\n"),
        "{netadmin}"
    );
    assert!(netadmin.contains("NoNewPrivs:\t0\n"), "{netadmin}");
    // The cgroups the probe reported are the container's own cgroup directories, not the
    // kubelet's: every line ends in the container's ID.
    let id = pod["status"]["containerStatuses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "netadmin")
        .unwrap()["containerID"]
        .as_str()
        .unwrap()
        .strip_prefix("rkube://")
        .unwrap()
        .to_string();
    let cgroup_lines: Vec<&str> = netadmin
        .lines()
        .filter(|l| l.contains(":/") && l.contains("memory"))
        .collect();
    assert!(
        !cgroup_lines.is_empty() && cgroup_lines.iter().all(|l| l.ends_with(&format!("/{id}"))),
        "{netadmin}"
    );
    // The kubelet's POST /run (through the apiserver's node proxy) enters the same way.
    let run = |container: &str, cmd: &str| {
        let path = format!("/api/v1/nodes/node0/proxy/run/default/probed/{container}?cmd={cmd}");
        let (code, out) = cluster.apiserver.request("POST", &path, &[], b"").unwrap();
        assert_eq!(code, 200, "{}", String::from_utf8_lossy(&out));
        String::from_utf8(out).unwrap()
    };
    assert_eq!(run("user", "id"), "uid=1000 gid=3000 groups=3000\n");
    // (the image has no grep binary: cat, and the lines picked here)
    let status = |container: &str| -> Vec<String> {
        run(container, "cat%20/proc/self/status")
            .lines()
            .filter(|l| l.starts_with("CapEff:") || l.starts_with("NoNewPrivs:"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        status("netadmin"),
        ["CapEff:\t0000000000001000", "NoNewPrivs:\t0"]
    );
    assert_eq!(
        status("user"),
        ["CapEff:\t0000000000000000", "NoNewPrivs:\t1"]
    );
}

#[test]
fn lifecycle_hooks_run_as_the_containers_user() {
    let cluster = NodeCluster::start();
    let out = shared_dir();
    let hook = |file: &str| json!({"exec": {"command": ["sh", "-c", format!("({REPORT}) > /out/{file}")]}});
    cluster.create_pod(
        "hooked",
        json!({"terminationGracePeriodSeconds": 10,
               "securityContext": {"runAsUser": 1000, "runAsGroup": 3000},
               "volumes": [{"name": "out", "hostPath": {"path": out.path()}}],
               "containers": [{
                   "name": "main", "image": BUSYBOX, "workingDir": "/tmp",
                   "env": [{"name": "FOO", "value": "bar"}],
                   "command": ["sh", "-c", format!("({REPORT}) > /out/main; trap 'exit 0' TERM; sleep 3600 & wait")],
                   "volumeMounts": [{"name": "out", "mountPath": "/out"}],
                   "lifecycle": {"postStart": hook("poststart"), "preStop": hook("prestop")},
                   "securityContext": {"allowPrivilegeEscalation": false}}]}),
    );
    cluster.wait_phase("hooked", "Running", 60);
    let main = eventually(20, "the container's report", || {
        Some(read(out.path(), "main")).filter(|m| m.contains("FOO="))
    });
    let post_start = read(out.path(), "poststart");
    assert_eq!(post_start, main, "postStart");
    assert!(post_start.starts_with("uid=1000 gid=3000"), "{post_start}");
    assert!(post_start.contains("NoNewPrivs:\t1\n") && post_start.contains("FOO=bar\n"));
    let (code, _) = cluster.apiserver.json(
        "DELETE",
        "/api/v1/namespaces/default/pods/hooked",
        &Value::Null,
    );
    assert_eq!(code, 200);
    let pre_stop = eventually(20, "the preStop hook's report", || {
        Some(read(out.path(), "prestop")).filter(|m| m.contains("FOO="))
    });
    assert_eq!(pre_stop, main, "preStop");
    eventually(30, "the pod gone", || {
        cluster.pod("hooked").is_none().then_some(())
    });
}
