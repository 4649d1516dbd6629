//! Re-adoption after a kubelet restart: a pod's pause process and containers outlive the
//! kubelet (they are in their own process groups), and what the kubelet needs to take
//! them back is recorded beside them: `sandbox.json` in the pod's directory and
//! `state.json` in each container's. A record is trusted only when its PID is still in
//! the cgroup it was put in, so a reused PID is never adopted.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use std::os::fd::AsFd;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::container::{self, ContainerExit, ContainerRecord};
use super::sandbox::Sandbox;
use super::{spec, Runtime, RuntimeError};

const SANDBOX_RECORD: &str = "sandbox.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SandboxRecord {
    pause_pid: u32,
    host_network: bool,
    ip: Option<IpAddr>,
    veth: Option<String>,
    cgroup: String,
    hostname: String,
}

impl Sandbox {
    pub(super) fn write_record(&self) -> Result<(), RuntimeError> {
        let record = SandboxRecord {
            pause_pid: self.pause_pid,
            host_network: self.host_network,
            ip: self.ip,
            veth: self.veth.clone(),
            cgroup: self.cgroup.clone(),
            hostname: self.hostname.clone(),
        };
        let path = self.dir.join(SANDBOX_RECORD);
        let bytes = serde_json::to_vec(&record).map_err(|e| RuntimeError::Other(e.to_string()))?;
        std::fs::write(&path, bytes).map_err(|e| RuntimeError::io(path.display(), e))
    }

    /// The sandbox an earlier kubelet run left running for this pod, if its pause process
    /// is still the one in the pod's cgroup.
    pub fn adopt(rt: &Runtime, pod: &Pod) -> Option<Sandbox> {
        let uid = pod.metadata.uid.clone()?;
        let dir = rt.pod_dir(&uid);
        let record: SandboxRecord =
            serde_json::from_slice(&std::fs::read(dir.join(SANDBOX_RECORD)).ok()?).ok()?;
        let qos = spec::qos_class(pod);
        if record.cgroup != qos.pod_cgroup(&uid)
            || !rt.cgroups.pids(&record.cgroup).contains(&record.pause_pid)
        {
            return None;
        }
        tracing::info!(
            pod = uid,
            pid = record.pause_pid,
            "adopted the pod's sandbox"
        );
        Some(Sandbox {
            uid,
            pause: None,
            pause_pid: record.pause_pid,
            host_network: record.host_network,
            ip: record.ip,
            veth: record.veth,
            qos,
            cgroup: record.cgroup,
            hostname: record.hostname,
            dir,
        })
    }

    /// The containers an earlier run started in this sandbox that are still running or
    /// ended while no kubelet watched (their shim wrote the exit record).
    pub fn adoptable_containers(&self, rt: &Runtime) -> Vec<(PathBuf, ContainerRecord)> {
        let mut found = Vec::new();
        let containers = self.dir.join("containers");
        for entry in std::fs::read_dir(&containers)
            .into_iter()
            .flatten()
            .flatten()
        {
            let dir = entry.path();
            let Some(record) = ContainerRecord::read(&dir) else {
                continue;
            };
            let cgroup = format!("{}/{}", self.cgroup, record.id);
            let running = rt.cgroups.pids(&cgroup).contains(&record.pid);
            if running || dir.join("exit.json").exists() {
                found.push((dir, record));
            }
        }
        found
    }
}

/// Takes back a container an earlier kubelet run started: its end is noticed when its
/// shim writes the exit record (inotify; the shim is not this process's child).
pub fn watch_adopted(
    rt: Arc<Runtime>,
    pod_cgroup: String,
    dir: PathBuf,
    record: ContainerRecord,
    exits: mpsc::Sender<ContainerExit>,
) {
    rt.set_live(&record.log_path, true);
    tokio::spawn(async move {
        let watched = dir.clone();
        let pid = record.pid;
        let waited = tokio::task::spawn_blocking(move || wait_for_exit_record(&watched, pid)).await;
        if let Ok(Err(e)) = waited {
            tracing::warn!(
                container = record.name,
                "watching an adopted container: {e}"
            );
        }
        container::finish(&rt, &pod_cgroup, &dir, record, None, exits).await;
    });
}

/// Whether a process exists and is not a zombie.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let state = stat.rsplit_once(") ")?.1.chars().next()?;
            Some(state != 'Z' && state != 'X')
        })
        .unwrap_or(false)
}

/// Blocks until `dir/exit.json` exists (or the directory goes). Woken by inotify; every
/// half second it also looks whether the container's PID 1 is still there, so that a shim
/// that died without writing the record does not leave the container's end unnoticed.
fn wait_for_exit_record(dir: &Path, pid: u32) -> Result<(), String> {
    let inotify = Inotify::init(InitFlags::IN_CLOEXEC).map_err(|e| format!("inotify: {e}"))?;
    inotify
        .add_watch(
            dir,
            AddWatchFlags::IN_MOVED_TO | AddWatchFlags::IN_CREATE | AddWatchFlags::IN_DELETE_SELF,
        )
        .map_err(|e| format!("watching {}: {e}", dir.display()))?;
    let exit_record = dir.join("exit.json");
    let mut gone_since: Option<std::time::Instant> = None;
    // Checked after the watch is in place, so an exit in between is not missed.
    while dir.is_dir() && !exit_record.exists() {
        if alive(pid) {
            gone_since = None;
        } else {
            let since = *gone_since.get_or_insert_with(std::time::Instant::now);
            if since.elapsed() > std::time::Duration::from_secs(2) {
                return Err(format!("PID {pid} ended and no exit record followed"));
            }
        }
        let mut fds = [PollFd::new(inotify.as_fd(), PollFlags::POLLIN)];
        if let Ok(n) = poll(&mut fds, PollTimeout::from(500u16)) {
            if n > 0 {
                let _ = inotify.read_events();
            }
        }
    }
    Ok(())
}
