//! A pod's sandbox: the pause process holding its network, UTS and IPC namespaces, the
//! veth and IP of its network, its cgroup, and its /etc/hosts, /etc/resolv.conf.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use tokio::io::AsyncBufReadExt;

use super::spec::{self, QosClass};
use super::{Runtime, RuntimeError};
use crate::init::Bind;
use crate::network::link;

pub struct Sandbox {
    pub uid: String,
    /// The pause process when this kubelet started it (an adopted one is not our child).
    pub(super) pause: Option<tokio::process::Child>,
    pub pause_pid: u32,
    pub host_network: bool,
    /// The pod's IP (the node's for hostNetwork pods).
    pub ip: Option<IpAddr>,
    pub veth: Option<String>,
    pub qos: QosClass,
    pub cgroup: String,
    pub hostname: String,
    pub dir: PathBuf,
}

/// How long the pause process may take to say it holds its namespaces.
const PAUSE_READY_TIMEOUT: Duration = Duration::from_secs(10);

/// The pause process's stderr, in the pod's directory.
const PAUSE_LOG: &str = "pause.log";

fn pod_hostname(pod: &Pod) -> String {
    let name = pod
        .spec
        .as_ref()
        .and_then(|s| s.hostname.clone())
        .or_else(|| pod.metadata.name.clone())
        .unwrap_or_default();
    name.chars()
        .take(63)
        .collect::<String>()
        .trim_end_matches('.')
        .to_string()
}

impl Sandbox {
    pub async fn create(rt: &Runtime, pod: &Pod) -> Result<Sandbox, RuntimeError> {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let host_network = pod
            .spec
            .as_ref()
            .and_then(|s| s.host_network)
            .unwrap_or(false);
        let hostname = if host_network {
            nix::unistd::gethostname()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_default()
        } else {
            pod_hostname(pod)
        };
        let dir = rt.pod_dir(&uid);
        std::fs::create_dir_all(&dir).map_err(|e| RuntimeError::io(dir.display(), e))?;
        let qos = spec::qos_class(pod);
        let cgroup = qos.pod_cgroup(&uid);
        clear_leftovers(rt, &uid, &cgroup).await;
        let limits = crate::cgroups::Limits {
            pids_max: rt.pod_max_pids,
            ..spec::pod_limits(pod, qos)
        };
        rt.cgroups.create(&cgroup, &limits)?;

        let mut command = tokio::process::Command::new(&rt.exe);
        command.args(["container-init", "pause", "--hostname", &hostname]);
        if host_network {
            command.arg("--host-network");
        }
        for procs in rt.cgroups.procs_files(&cgroup) {
            command.arg("--cgroup-procs").arg(procs);
        }
        // The pause process outlives a kubelet restart: it must not hold the kubelet's
        // stderr (a pipe of whoever started the kubelet) open, so it writes to its own file.
        let log = dir.join(PAUSE_LOG);
        let stderr = std::fs::File::create(&log).map_err(|e| RuntimeError::io(log.display(), e))?;
        let pause = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .process_group(0)
            .spawn()
            .map_err(|e| RuntimeError::io("starting the pause process", e))?;
        let pause_pid = pause.id().unwrap_or(0);
        let mut sandbox = Sandbox {
            uid: uid.clone(),
            pause: Some(pause),
            pause_pid,
            host_network,
            ip: None,
            veth: None,
            qos,
            cgroup,
            hostname,
            dir,
        };
        if let Err(e) = sandbox.wire(rt, pod).await {
            sandbox.destroy(rt).await;
            return Err(e);
        }
        Ok(sandbox)
    }

    async fn wire(&mut self, rt: &Runtime, pod: &Pod) -> Result<(), RuntimeError> {
        let stdout = self
            .pause
            .as_mut()
            .and_then(|p| p.stdout.take())
            .ok_or_else(|| RuntimeError::Other("the pause process has no stdout".into()))?;
        let mut line = String::new();
        let mut reader = tokio::io::BufReader::new(stdout);
        match tokio::time::timeout(PAUSE_READY_TIMEOUT, reader.read_line(&mut line)).await {
            Ok(Ok(_)) if line.trim() == "ready" => {}
            _ => {
                let said = std::fs::read_to_string(self.dir.join(PAUSE_LOG)).unwrap_or_default();
                return Err(RuntimeError::Other(format!(
                    "the pause process did not start: {}",
                    said.trim()
                )));
            }
        }
        if self.host_network {
            self.ip = rt.node_ip;
        } else {
            let ipam = rt.ipam.as_ref().ok_or_else(|| {
                RuntimeError::Other("the node has no podCIDR yet: no address for the pod".into())
            })?;
            let ip = ipam.allocate(&self.uid)?;
            self.ip = Some(IpAddr::V4(ip));
            let veth = link::veth_name(&self.uid);
            {
                let mut ready = rt.bridge_ready.lock().await;
                if !*ready {
                    link::ensure_bridge(&ipam.cidr).await?;
                    *ready = true;
                }
            }
            self.veth = Some(veth.clone());
            link::attach(self.pause_pid, &veth, ip, &ipam.cidr).await?;
        }
        self.write_files(rt, pod)?;
        self.write_record()
    }

    fn write_files(&self, rt: &Runtime, pod: &Pod) -> Result<(), RuntimeError> {
        let write = |name: &str, text: String| {
            let path = self.dir.join(name);
            std::fs::write(&path, text).map_err(|e| RuntimeError::io(path.display(), e))
        };
        if !self.host_network {
            let ip = self.ip.map(|i| i.to_string()).unwrap_or_default();
            write(
                "etc-hosts",
                format!(
                    "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n{ip}\t{}\n",
                    self.hostname
                ),
            )?;
        }
        write("hostname", format!("{}\n", self.hostname))?;
        write("resolv.conf", resolv_conf(rt, pod, self.host_network))
    }

    /// The files every container of the pod gets.
    pub fn binds(&self) -> Vec<Bind> {
        let mut binds = vec![
            Bind {
                source: self.dir.join("resolv.conf"),
                target: "/etc/resolv.conf".into(),
                readonly: false,
            },
            Bind {
                source: self.dir.join("hostname"),
                target: "/etc/hostname".into(),
                readonly: false,
            },
        ];
        let hosts = if self.host_network {
            PathBuf::from("/etc/hosts")
        } else {
            self.dir.join("etc-hosts")
        };
        binds.push(Bind {
            source: hosts,
            target: "/etc/hosts".into(),
            readonly: false,
        });
        binds
    }

    /// The namespaces containers join.
    pub fn namespaces(&self) -> Vec<(String, PathBuf)> {
        let ns = PathBuf::from(format!("/proc/{}/ns", self.pause_pid));
        let mut kinds = vec!["ipc"];
        if !self.host_network {
            kinds.extend(["net", "uts"]);
        }
        kinds
            .into_iter()
            .map(|k| (k.to_string(), ns.join(k)))
            .collect()
    }

    /// Stops the pause process and releases everything the sandbox held. Containers must
    /// already be gone; stragglers in the pod's cgroup are killed.
    pub async fn destroy(mut self, rt: &Runtime) {
        for pid in rt.cgroups.pids_below(&self.cgroup) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        match self.pause.as_mut() {
            Some(pause) => {
                let _ = pause.start_kill();
                let _ = pause.wait().await;
            }
            None => {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(self.pause_pid as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
        if let Some(veth) = &self.veth {
            link::detach(veth).await;
        }
        if let Some(ipam) = &rt.ipam {
            if let Err(e) = ipam.release(&self.uid) {
                tracing::warn!(pod = self.uid, "releasing the pod's address: {e}");
            }
        }
        // The cgroups are released as the kernel reaps the killed processes.
        if let Err(e) = rt
            .cgroups
            .kill_and_remove(&self.cgroup, super::CGROUP_RELEASE)
            .await
        {
            tracing::warn!(pod = self.uid, "removing the pod's cgroup: {e}");
        }
        // tmpfs volumes first, so removing the directory removes only what is ours.
        crate::volumes::host::unmount_below(&self.dir);
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            tracing::warn!(pod = self.uid, "removing {}: {e}", self.dir.display());
        }
    }
}

/// What an earlier kubelet run left of this pod that could not be adopted: killed, so the
/// pod starts afresh and nothing leaks.
pub(super) async fn clear_leftovers(rt: &Runtime, uid: &str, cgroup: &str) {
    let stale = rt.cgroups.pids_below(cgroup);
    if stale.is_empty() {
        return;
    }
    tracing::warn!(
        pod = uid,
        processes = stale.len(),
        "killing what an earlier kubelet run left of the pod"
    );
    let removed = rt
        .cgroups
        .kill_and_remove(cgroup, super::CGROUP_RELEASE)
        .await;
    link::detach(&link::veth_name(uid)).await;
    if let Err(e) = removed {
        tracing::warn!(pod = uid, "removing the pod's old cgroups: {e}");
    }
    crate::volumes::host::unmount_below(&rt.pod_dir(uid));
    let dir = rt.pod_dir(uid).join("containers");
    let _ = std::fs::remove_dir_all(dir);
}

/// Removes what a pod deleted while no kubelet ran left on the node: its processes,
/// cgroups, veth, address, mounts and directory.
pub async fn remove_orphan(rt: &Runtime, uid: &str) {
    tracing::info!(
        pod = uid,
        "removing what a pod deleted while the kubelet was away left"
    );
    for qos in [
        QosClass::Guaranteed,
        QosClass::Burstable,
        QosClass::BestEffort,
    ] {
        let cgroup = qos.pod_cgroup(uid);
        clear_leftovers(rt, uid, &cgroup).await;
        let _ = rt.cgroups.remove_tree(&cgroup);
    }
    link::detach(&link::veth_name(uid)).await;
    if let Some(ipam) = &rt.ipam {
        if let Err(e) = ipam.release(uid) {
            tracing::warn!(pod = uid, "releasing the pod's address: {e}");
        }
    }
    let dir = rt.pod_dir(uid);
    crate::volumes::host::unmount_below(&dir);
    let _ = std::fs::remove_dir_all(dir);
}

/// Upstream's dnsPolicy: ClusterFirst uses the cluster DNS when there is one (and the pod
/// is not on the host network), otherwise the node's resolv.conf.
fn resolv_conf(rt: &Runtime, pod: &Pod, host_network: bool) -> String {
    let policy = pod
        .spec
        .as_ref()
        .and_then(|s| s.dns_policy.clone())
        .unwrap_or_else(|| "ClusterFirst".into());
    let cluster = match policy.as_str() {
        "ClusterFirstWithHostNet" => true,
        "ClusterFirst" => !host_network,
        _ => false,
    };
    if cluster && !rt.cluster_dns.is_empty() {
        let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
        let domain = &rt.cluster_domain;
        let mut text = String::new();
        if !domain.is_empty() {
            text.push_str(&format!("search {ns}.svc.{domain} svc.{domain} {domain}\n"));
        }
        for dns in &rt.cluster_dns {
            text.push_str(&format!("nameserver {dns}\n"));
        }
        text.push_str("options ndots:5\n");
        text
    } else {
        std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default()
    }
}
