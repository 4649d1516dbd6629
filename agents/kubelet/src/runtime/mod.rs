//! The container runtime: pod sandboxes (namespaces, network, files) and containers
//! (overlayfs rootfs, cgroups, the helper processes), on this node.

pub mod adopt;
pub mod container;
pub mod env;
pub mod image_user;
pub mod sandbox;
pub mod spec;

use std::net::IpAddr;
use std::path::PathBuf;

use crate::cgroups::Cgroups;
use crate::network::ipam::Ipam;

/// How long killed processes may take to release their cgroups before the kubelet gives
/// up removing them (and says so).
pub const CGROUP_RELEASE: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Cgroup(#[from] crate::cgroups::CgroupError),
    #[error(transparent)]
    Ipam(#[from] crate::network::ipam::IpamError),
    #[error(transparent)]
    Link(#[from] crate::network::link::LinkError),
    #[error(transparent)]
    Image(#[from] rkube_images::ImageError),
    #[error("{0}")]
    Other(String),
}

impl RuntimeError {
    pub fn io(what: impl std::fmt::Display, e: std::io::Error) -> RuntimeError {
        RuntimeError::Other(format!("{what}: {e}"))
    }
}

/// Node-wide settings and resources every pod uses.
pub struct Runtime {
    pub root_dir: PathBuf,
    pub logs_dir: PathBuf,
    pub cgroups: Cgroups,
    /// `--pod-max-pids`: pids.max of every pod cgroup (None: unlimited).
    pub pod_max_pids: Option<i64>,
    pub images: rkube_images::ImageStore,
    /// None until the node has a podCIDR.
    pub ipam: Option<Ipam>,
    pub node_ip: Option<IpAddr>,
    pub cluster_dns: Vec<IpAddr>,
    pub cluster_domain: String,
    /// Registries spoken to over plain HTTP (`--insecure-registry`).
    pub insecure_registries: Vec<String>,
    /// The `rkube` binary, started as the helper processes.
    pub exe: PathBuf,
    /// The log files of running containers: a followed log ends when its file leaves.
    pub live_logs: std::sync::Mutex<std::collections::HashSet<PathBuf>>,
    /// What `/metrics` reports that only the pod workers see (pod start latency, starts).
    pub metrics: crate::metrics::KubeletMetrics,
    /// Whether bridge `cni0` is set up (sandboxes start concurrently; one sets it up).
    pub bridge_ready: tokio::sync::Mutex<bool>,
    /// The ConfigMaps, Secrets and Services pods read.
    pub objects: crate::objects::ClusterObjects,
    /// Events about pods (FailedMount, configuration errors).
    pub events: crate::events::Recorder,
    /// The node's allocatable resources (the downward API's default limits).
    pub allocatable: crate::downward::NodeFacts,
}

impl Runtime {
    /// `<root-dir>/pods/<uid>`: everything the kubelet keeps for one pod.
    pub fn pod_dir(&self, uid: &str) -> PathBuf {
        self.root_dir.join("pods").join(uid)
    }

    /// What the downward API needs from the node, for a pod with this IP.
    pub fn facts(&self, pod_ip: Option<IpAddr>) -> crate::downward::NodeFacts {
        crate::downward::NodeFacts {
            pod_ips: pod_ip.into_iter().collect(),
            host_ips: self.node_ip.into_iter().collect(),
            ..self.allocatable.clone()
        }
    }

    /// Whether the container writing `log` is still running.
    pub fn is_live(&self, log: &std::path::Path) -> bool {
        self.live_logs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(log)
    }

    pub fn set_live(&self, log: &std::path::Path, live: bool) {
        let mut logs = self.live_logs.lock().unwrap_or_else(|e| e.into_inner());
        if live {
            logs.insert(log.to_path_buf());
        } else {
            logs.remove(log);
        }
    }

    /// `<logs>/<namespace>_<name>_<uid>`, upstream's layout.
    pub fn pod_logs_dir(&self, namespace: &str, name: &str, uid: &str) -> PathBuf {
        self.logs_dir.join(format!("{namespace}_{name}_{uid}"))
    }
}
