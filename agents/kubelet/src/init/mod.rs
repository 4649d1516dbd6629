//! `rkube container-init`: the small single-threaded helper processes the kubelet starts
//! for every pod and container. The kubelet itself is a multi-threaded tokio process, and
//! namespace syscalls (unshare of a mount namespace, setns) need a process of one thread,
//! so each step runs in a fresh `rkube` process:
//!
//! - `pause`: holds a pod's network, UTS and IPC namespaces (like upstream's pause
//!   container); the pod's namespaces die with it.
//! - `run CONFIG`: the container's shim. Unshares a PID namespace so that its child is
//!   PID 1, copies the child's stdout and stderr into the CRI log file, waits for it and
//!   writes its exit status next to the config.
//! - `start CONFIG`: the child. Joins the pod's namespaces and the container's cgroups,
//!   makes a private mount namespace, mounts the overlayfs rootfs with /proc, /dev, /sys
//!   and /dev/shm (masked and read-only kernel paths, or for a privileged container the
//!   node's devices and a writable /sys), pivots into it, drops to the container's user
//!   and execs the command.
//! - `exec --config CONFIG --pid PID -- COMMAND…`: runs a command inside a running
//!   container (exec probes, lifecycle hooks, `/run`) as the container runs: in its
//!   cgroups and namespaces, with its root, working directory, environment, user,
//!   groups, capabilities and no_new_privs (`enter` is its second half).
//!
//! Every syscall goes through nix's safe wrappers, except the two capability calls of
//! `caps.rs` that nothing wraps.

mod caps;
mod config;
mod exec;
mod identity;
mod kernel_paths;
mod pause;
mod shim;
mod start;

pub use config::{Bind, ContainerConfig, ExitRecord};

use clap::{Args, Subcommand};

/// `rkube container-init`: started by the kubelet, not by people.
#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(subcommand)]
    pub step: InitStep,
}

#[derive(Debug, Subcommand)]
pub enum InitStep {
    /// Hold a pod's namespaces until SIGTERM.
    Pause {
        /// The pod's hostname (in its new UTS namespace).
        #[arg(long)]
        hostname: String,
        /// Keep the node's network and UTS namespaces (hostNetwork pods).
        #[arg(long)]
        host_network: bool,
        /// `cgroup.procs` files of the pod's cgroups, joined before anything else, so the
        /// pause process is never left outside them (a kubelet killed right after the
        /// spawn would otherwise leave it in the kubelet's own cgroup).
        #[arg(long = "cgroup-procs")]
        cgroup_procs: Vec<std::path::PathBuf>,
    },
    /// Be a container's shim: start it as PID 1 of a new PID namespace, log, wait.
    Run { config: std::path::PathBuf },
    /// Become the container (run by `run`).
    Start { config: std::path::PathBuf },
    /// Run a command inside a running container, with the container's identity.
    Exec(EnterArgs),
    /// The second half of `exec`, inside the container's PID namespace.
    Enter(EnterArgs),
}

#[derive(Debug, Args)]
pub struct EnterArgs {
    /// The container's config (`config.json` in its state directory).
    #[arg(long)]
    pub config: std::path::PathBuf,
    /// The container's PID 1, as the node numbers it.
    #[arg(long)]
    pub pid: u32,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

/// Runs one step; returns the process's exit code.
pub fn main(args: InitArgs) -> i32 {
    let result = match args.step {
        InitStep::Pause {
            hostname,
            host_network,
            cgroup_procs,
        } => pause::run(&hostname, host_network, &cgroup_procs),
        InitStep::Run { config } => shim::run(&config),
        InitStep::Start { config } => start::run(&config),
        InitStep::Exec(a) => exec::run(&a.config, a.pid, &a.command),
        InitStep::Enter(a) => exec::enter(&a.config, a.pid, &a.command),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("rkube container-init: {message}");
            // 127/126 like a shell: the command could not be started.
            128
        }
    }
}
