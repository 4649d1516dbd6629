//! `rkube container-init pause`, the process that holds a pod's namespaces, started directly:
//! it joins the pod's cgroups itself before it says it is ready, so a kubelet killed right
//! after the spawn never leaves it outside them, and it does not keep the kubelet's stderr.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn the_pause_process_joins_its_cgroups_before_it_is_ready() {
    let rel = format!("rkube-test-pause-{}", std::process::id());
    let dir = format!("/sys/fs/cgroup/pids/{rel}");
    std::fs::create_dir_all(&dir).expect("a pids cgroup (cgroup v1 pids hierarchy)");
    let mut pause = Command::new(env!("CARGO_BIN_EXE_rkube"))
        .args(["container-init", "pause", "--hostname", "pause-test"])
        .args(["--cgroup-procs", &format!("{dir}/cgroup.procs")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn rkube container-init pause");
    let mut line = String::new();
    BufReader::new(pause.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pid = pause.id();
    let own = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let procs = std::fs::read_to_string(format!("{dir}/cgroup.procs")).unwrap();
    let _ = pause.kill();
    let _ = pause.wait();
    let _ = std::fs::remove_dir(&dir);
    assert_eq!(line.trim(), "ready");
    assert!(
        own.lines()
            .any(|l| l.split(':').nth(1) == Some("pids") && l.ends_with(&format!("/{rel}"))),
        "the pause process is not in its pids cgroup: {own}"
    );
    assert_eq!(procs.trim(), pid.to_string());
}

#[test]
fn a_pause_process_that_cannot_join_its_cgroup_does_not_start() {
    let out = Command::new(env!("CARGO_BIN_EXE_rkube"))
        .args(["container-init", "pause", "--hostname", "pause-test"])
        .args([
            "--cgroup-procs",
            "/sys/fs/cgroup/pids/rkube-no-such-cgroup/cgroup.procs",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run rkube container-init pause");
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "it said ready: {:?}", out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("joining"), "{stderr}");
}
