//! The pod's namespace holder.

use nix::sched::{unshare, CloneFlags};

pub fn run(hostname: &str, host_network: bool) -> Result<i32, String> {
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
