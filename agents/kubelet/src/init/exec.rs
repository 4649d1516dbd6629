//! `exec` and `enter`: a process entered into a running container (exec probes,
//! lifecycle hooks, the kubelet's `/run`), with the container's identity rather than
//! the kubelet's.
//!
//! `exec` joins the container's cgroups (its resources are the container's) and its PID
//! namespace, which only children enter, then starts `enter` as that child and waits.
//! `enter` joins the other namespaces through the container's PID 1, takes its root,
//! working directory, environment, user, groups, capabilities and no_new_privs from the
//! container's config, and execs the command.

use std::os::fd::AsFd;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;

use nix::sched::{setns, CloneFlags};

use super::config::ContainerConfig;

/// The helper half outside the container: cgroups, PID namespace, then the child.
pub fn run(config_path: &Path, pid: u32, argv: &[String]) -> Result<i32, String> {
    let config = ContainerConfig::read(config_path)?;
    super::start::join_cgroups(&config)?;
    join(pid, "pid", CloneFlags::CLONE_NEWPID)?;
    let exe = std::env::current_exe().map_err(|e| format!("finding rkube: {e}"))?;
    let status = Command::new(exe)
        .args(["container-init", "enter", "--config"])
        .arg(config_path)
        .arg("--pid")
        .arg(pid.to_string())
        .arg("--")
        .args(argv)
        .status()
        .map_err(|e| format!("entering the container: {e}"))?;
    // As a shell reports a child's end.
    Ok(status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
}

/// The half inside the container's PID namespace: becomes the command.
pub fn enter(config_path: &Path, pid: u32, argv: &[String]) -> Result<i32, String> {
    let config = ContainerConfig::read(config_path)?;
    // Opened while the node's /proc is still this process's: after setns(mnt) the
    // path would name something else.
    let root = std::fs::File::open(format!("/proc/{pid}/root"))
        .map_err(|e| format!("the container's root: {e}"))?;
    for (kind, flag) in [
        ("ipc", CloneFlags::CLONE_NEWIPC),
        ("uts", CloneFlags::CLONE_NEWUTS),
        ("net", CloneFlags::CLONE_NEWNET),
        ("mnt", CloneFlags::CLONE_NEWNS),
    ] {
        join(pid, kind, flag)?;
    }
    // setns(mnt) leaves the root at the namespace's first mount, below the container's
    // pivoted root: take the root its PID 1 has, as nsenter --root does.
    nix::unistd::fchdir(root.as_fd()).map_err(|e| format!("fchdir to the root: {e}"))?;
    nix::unistd::chroot(".").map_err(|e| format!("chroot: {e}"))?;
    let cwd = super::identity::working_dir(&config);
    std::env::set_current_dir(cwd).map_err(|e| format!("workingDir {cwd}: {e}"))?;
    super::identity::assume(&config)?;
    // Die with the `exec` half (the kubelet kills it when a probe times out). Set after
    // the user change, which clears it. Our parent lives outside this PID namespace, so
    // getppid() is 0 while it lives; anything else means it died before the setting.
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
        .map_err(|e| format!("PR_SET_PDEATHSIG: {e}"))?;
    if nix::unistd::getppid().as_raw() != 0 {
        return Err("the exec helper is gone".into());
    }
    super::identity::exec(&config, argv)
}

fn join(pid: u32, kind: &str, flag: CloneFlags) -> Result<(), String> {
    let path = format!("/proc/{pid}/ns/{kind}");
    let file = std::fs::File::open(&path).map_err(|e| format!("{path}: {e}"))?;
    setns(&file, flag).map_err(|e| format!("setns {path}: {e}"))
}
