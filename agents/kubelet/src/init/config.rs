//! What the kubelet tells a container's helper processes, as a JSON file in the
//! container's state directory, and what the shim writes back when the container exits.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Everything needed to start one container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerConfig {
    /// Namespace files to join, `(kind, path)`: kind is net, uts or ipc.
    pub namespaces: Vec<(String, PathBuf)>,
    /// Image layers, bottom first.
    pub layers: Vec<PathBuf>,
    pub upper_dir: PathBuf,
    pub work_dir: PathBuf,
    /// Where the overlayfs is mounted and pivoted into.
    pub rootfs: PathBuf,
    /// Files or directories bound into the rootfs (/etc/hosts, /etc/resolv.conf, …).
    pub binds: Vec<Bind>,
    /// `cgroup.procs` files the container joins before it execs.
    pub cgroup_procs: Vec<PathBuf>,
    /// Cgroup directories shown read-only at these paths inside the container.
    pub cgroup_views: Vec<Bind>,
    pub hostname: Option<String>,
    pub args: Vec<String>,
    /// `NAME=value`.
    pub env: Vec<String>,
    pub working_dir: String,
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups besides `gid`: the image user's groups in its /etc/group,
    /// supplementalGroups and fsGroup.
    #[serde(default)]
    pub groups: Vec<u32>,
    /// securityContext.readOnlyRootFilesystem: the rootfs is remounted read-only (the
    /// mounts on it, volumes included, keep their own flags).
    #[serde(default)]
    pub readonly_rootfs: bool,
    /// securityContext.privileged: the node's devices in /dev, /sys writable, no masked
    /// or read-only kernel paths.
    #[serde(default)]
    pub privileged: bool,
    /// securityContext.allowPrivilegeEscalation=false: PR_SET_NO_NEW_PRIVS before exec.
    #[serde(default)]
    pub no_new_privs: bool,
    /// The capability mask (bit n = capability n) left in the bounding, effective,
    /// permitted and inheritable sets; None leaves them as they are.
    #[serde(default)]
    pub capabilities: Option<u64>,
    /// The CRI log file stdout and stderr go to.
    pub log_path: PathBuf,
    /// Where the shim records the exit.
    pub exit_path: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bind {
    pub source: PathBuf,
    /// Absolute path inside the container.
    pub target: String,
    pub readonly: bool,
}

/// How a container ended, written by its shim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitRecord {
    /// The exit code, or 128 + signal when killed by a signal (as a shell reports it).
    pub exit_code: i32,
    pub signal: Option<i32>,
    pub started_at: String,
    pub finished_at: String,
}

impl ContainerConfig {
    pub fn read(path: &Path) -> Result<ContainerConfig, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(path, bytes)
    }
}

impl ExitRecord {
    pub fn read(path: &Path) -> Option<ExitRecord> {
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }
}
