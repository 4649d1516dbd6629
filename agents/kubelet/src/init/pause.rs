//! The pod's namespace holder.

use nix::sched::{unshare, CloneFlags};

pub fn run(
    hostname: &str,
    host_network: bool,
    cgroup_procs: &[std::path::PathBuf],
) -> Result<i32, String> {
    for procs in cgroup_procs {
        // 0 is "the writing process" in both cgroup versions.
        std::fs::write(procs, "0").map_err(|e| format!("joining {}: {e}", procs.display()))?;
    }
    let mut flags = CloneFlags::CLONE_NEWIPC;
    if !host_network {
        flags |= CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWUTS;
    }
    unshare(flags).map_err(|e| format!("unshare: {e}"))?;
    if !host_network {
        nix::unistd::sethostname(hostname).map_err(|e| format!("sethostname: {e}"))?;
    }
    // The kubelet waits for this line before it wires the network namespace.
    println!("ready");
    // SIGTERM's default action ends the process, and with it the namespaces.
    loop {
        nix::unistd::pause();
    }
}
