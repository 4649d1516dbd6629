//! A real `rkube kubelet` process against a test's apiserver, killed on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub use super::cgroups::remove_cgroup_tree;
use super::Apiserver;

pub struct Kubelet {
    child: Option<Child>,
    pub node_name: String,
    /// Holds --root-dir and --pod-logs-dir.
    pub dir: tempfile::TempDir,
    /// Where a test built the images it imported.
    pub image_dir: Option<tempfile::TempDir>,
    /// The program and arguments it was started with, for [`Kubelet::restart`].
    argv: Vec<std::ffi::OsString>,
}

impl Kubelet {
    /// `rkube kubelet` run by `command` (e.g. `ip netns exec <node> rkube`), talking to
    /// `apiserver`, with its own root dir and the extra `args`.
    pub fn start_with(
        command: Command,
        apiserver: &Apiserver,
        node_name: &str,
        args: &[&str],
    ) -> Kubelet {
        Self::start_in_dir(
            command,
            apiserver,
            node_name,
            args,
            tempfile::tempdir().unwrap(),
        )
    }

    /// Like [`Kubelet::start_with`], in `dir` (root dir `dir/root`, prepared by the caller).
    pub fn start_in_dir(
        mut command: Command,
        apiserver: &Apiserver,
        node_name: &str,
        args: &[&str],
        dir: tempfile::TempDir,
    ) -> Kubelet {
        command
            .arg("kubelet")
            .arg("--kubeconfig")
            .arg(&apiserver.kubeconfig)
            .args(["--hostname-override", node_name])
            .arg("--root-dir")
            .arg(dir.path().join("root"))
            .arg("--pod-logs-dir")
            .arg(dir.path().join("pods-logs"))
            .args(args);
        let argv: Vec<std::ffi::OsString> = std::iter::once(command.get_program())
            .chain(command.get_args())
            .map(|a| a.to_os_string())
            .collect();
        let child = spawn(&argv);
        Kubelet {
            argv,
            child: Some(child),
            node_name: node_name.to_string(),
            dir,
            image_dir: None,
        }
    }

    /// A kubelet on the host (no network namespace).
    pub fn start(apiserver: &Apiserver, node_name: &str, args: &[&str]) -> Kubelet {
        Self::start_with(
            Command::new(env!("CARGO_BIN_EXE_rkube")),
            apiserver,
            node_name,
            args,
        )
    }

    pub fn root_dir(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.dir.path().join("pods-logs")
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// SIGKILL, then the same command again.
    pub fn restart(&mut self) {
        self.kill();
        self.child = Some(spawn(&self.argv));
    }

    /// SIGKILL and reap.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// A shell script run in the kubelet's mount namespace (where a root dir on tmpfs is
    /// mounted); its output.
    pub fn in_mount_ns(&self, script: &str) -> std::process::Output {
        let pid = self.pid().expect("the kubelet runs");
        Command::new("nsenter")
            .args(["-t", &pid.to_string(), "-m", "sh", "-c", script])
            .output()
            .unwrap()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        Path::new(self.dir.path()).join(rel)
    }
}

fn spawn(argv: &[std::ffi::OsString]) -> Child {
    Command::new(&argv[0])
        .args(&argv[1..])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn rkube kubelet")
}

impl Drop for Kubelet {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A one-node cluster in network namespaces: the apiserver in the underlay, a kubelet in
/// `node0` (10.77.0.10) with podCIDR 10.244.1.0/24, its own cgroup root and a busybox image
/// (`busybox:kubelet`) imported into its store.
pub struct NodeCluster {
    pub kubelet: Kubelet,
    pub apiserver: Apiserver,
    pub topology: super::netns::Topology,
    pub cgroup_root: String,
}

pub const NODE_NAME: &str = "node0";
pub const POD_CIDR_PREFIX: &str = "10.244.1.";
pub const BUSYBOX: &str = "busybox:kubelet";

static CLUSTERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl NodeCluster {
    pub fn start() -> NodeCluster {
        Self::start_with(&[])
    }

    /// Like [`NodeCluster::start`], with more kubelet flags.
    pub fn start_with(extra_args: &[&str]) -> NodeCluster {
        Self::start_on(extra_args, None)
    }

    /// Like [`NodeCluster::start_with`], with the kubelet's root dir on a tmpfs of `size`
    /// (`64m`) that only the kubelet's mount namespace has: `unshare --mount` mounts it,
    /// imports the busybox image into it and execs the kubelet, so the mount goes when
    /// the kubelet and its pods do. Enter that namespace with [`Kubelet::in_mount_ns`].
    pub fn start_on_tmpfs(extra_args: &[&str], size: &str) -> NodeCluster {
        Self::start_on(extra_args, Some(size))
    }

    fn start_on(extra_args: &[&str], tmpfs: Option<&str>) -> NodeCluster {
        let topology = super::netns::Topology::new(1);
        let apiserver =
            Apiserver::start_in(&topology.underlay, super::netns::Topology::CONTROL_PLANE_IP);
        let n = CLUSTERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let cgroup_root = format!("rkube-test-{}-{n}", std::process::id());
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let image_dir = tempfile::tempdir().unwrap();
        let node = &topology.nodes[0];
        let command = match tmpfs {
            None => {
                super::oci_image::import_busybox(image_dir.path(), &root, BUSYBOX, "hello");
                node.netns.cmd(env!("CARGO_BIN_EXE_rkube"))
            }
            Some(size) => {
                std::fs::create_dir_all(&root).unwrap();
                let image = super::oci_image::busybox_image(
                    &image_dir.path().join("image"),
                    BUSYBOX,
                    "hello",
                );
                let archive = image.oci_archive(&image_dir.path().join("busybox.tar"));
                let mut command = Command::new("unshare");
                command
                    .args(["--mount", "--propagation", "private", "sh", "-c"])
                    .arg(
                        "mount -t tmpfs -o size=\"$1\" tmpfs \"$2\" && \
                         \"$3\" images import \"$4\" --root-dir \"$2\" >/dev/null && \
                         shift 4 && exec \"$@\"",
                    )
                    // The kubelet is restarted from its argv: everything is an argument.
                    .args(["sh", size])
                    .arg(&root)
                    .arg(env!("CARGO_BIN_EXE_rkube"))
                    .arg(&archive)
                    .args(["ip", "netns", "exec", &node.netns.name])
                    .arg(env!("CARGO_BIN_EXE_rkube"));
                command
            }
        };
        let node_ip = node.ip.to_string();
        let mut args = vec![
            "--node-ip",
            &node_ip,
            "--pod-cidr",
            "10.244.1.0/24",
            "--cgroup-root",
            &cgroup_root,
        ];
        args.extend_from_slice(extra_args);
        let mut kubelet = Kubelet::start_in_dir(command, &apiserver, NODE_NAME, &args, dir);
        kubelet.image_dir = Some(image_dir);
        let cluster = NodeCluster {
            kubelet,
            apiserver,
            topology,
            cgroup_root,
        };
        super::eventually(30, "the node Ready", || {
            let (code, node) =
                cluster
                    .apiserver
                    .json("GET", "/api/v1/nodes/node0", &serde_json::Value::Null);
            (code == 200
                && node["status"]["conditions"]
                    .as_array()?
                    .iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True"))
            .then_some(())
        });
        cluster
    }

    /// Creates a pod bound to the node from `spec` (nodeName is filled in).
    pub fn create_pod(&self, name: &str, mut spec: serde_json::Value) -> serde_json::Value {
        spec["nodeName"] = serde_json::json!(NODE_NAME);
        let (code, pod) = self.apiserver.json(
            "POST",
            "/api/v1/namespaces/default/pods",
            &serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}),
        );
        assert_eq!(code, 201, "{pod}");
        pod
    }

    pub fn pod(&self, name: &str) -> Option<serde_json::Value> {
        let (code, pod) = self.apiserver.json(
            "GET",
            &format!("/api/v1/namespaces/default/pods/{name}"),
            &serde_json::Value::Null,
        );
        (code == 200).then_some(pod)
    }

    /// Waits until the pod's phase is `phase`, returns the pod.
    pub fn wait_phase(&self, name: &str, phase: &str, secs: u64) -> serde_json::Value {
        super::eventually(secs, &format!("pod {name} {phase}"), || {
            let pod = self.pod(name)?;
            (pod["status"]["phase"] == phase).then_some(pod)
        })
    }

    /// The pod cgroup directory of a pod in one v1 controller, as the host sees it.
    pub fn pod_cgroup(&self, controller: &str, qos: &str, uid: &str) -> PathBuf {
        let tier = match qos {
            "Guaranteed" => String::new(),
            other => format!("{}/", other.to_lowercase()),
        };
        PathBuf::from(format!(
            "/sys/fs/cgroup/{controller}/{}/kubepods/{tier}pod{uid}",
            self.cgroup_root
        ))
    }

    /// The PIDs in a pod's containers' cgroups (not the pause process).
    pub fn container_pids(&self, pod: &serde_json::Value) -> Vec<u32> {
        let uid = pod["metadata"]["uid"].as_str().unwrap();
        let dir = self.pod_cgroup("memory", pod["status"]["qosClass"].as_str().unwrap(), uid);
        let mut pids = Vec::new();
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                let procs =
                    std::fs::read_to_string(entry.path().join("cgroup.procs")).unwrap_or_default();
                pids.extend(procs.lines().filter_map(|l| l.parse::<u32>().ok()));
            }
        }
        pids
    }

    /// The CRI log of a pod's container run.
    pub fn log(&self, pod: &serde_json::Value, container: &str, run: u32) -> String {
        let meta = &pod["metadata"];
        let path = self.kubelet.logs_dir().join(format!(
            "{}_{}_{}/{container}/{run}.log",
            meta["namespace"].as_str().unwrap(),
            meta["name"].as_str().unwrap(),
            meta["uid"].as_str().unwrap()
        ));
        std::fs::read_to_string(path).unwrap_or_default()
    }

    /// The lines container `main` of a pod printed in its first run, up to the line `--`
    /// (waiting until it printed that line).
    pub fn printed(&self, pod: &serde_json::Value) -> Vec<String> {
        let log = super::eventually(20, "the container's output", || {
            let log = self.log(pod, "main", 0);
            log.contains(" stdout F --\n").then_some(log)
        });
        log.lines()
            .filter_map(|l| l.split_once(" stdout F "))
            .map(|(_, text)| text.to_string())
            .take_while(|text| text != "--")
            .collect()
    }

    /// The events in namespace default that `keep` keeps, as the API lists them.
    pub fn events(&self, keep: impl Fn(&serde_json::Value) -> bool) -> Vec<serde_json::Value> {
        let (_, list) = self.apiserver.json(
            "GET",
            "/api/v1/namespaces/default/events",
            &serde_json::Value::Null,
        );
        list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| keep(e))
            .cloned()
            .collect()
    }

    /// The events about the object named `name` (a pod) with this reason.
    pub fn events_about(&self, name: &str, reason: &str) -> Vec<serde_json::Value> {
        self.events(|e| e["involvedObject"]["name"] == name && e["reason"] == reason)
    }

    /// Waits (up to 60 s) for the event about `name` with this reason whose message
    /// satisfies `matches`.
    pub fn wait_event(
        &self,
        name: &str,
        reason: &str,
        matches: impl Fn(&str) -> bool,
    ) -> serde_json::Value {
        super::eventually(60, &format!("a {reason} event about {name}"), || {
            self.events_about(name, reason)
                .into_iter()
                .find(|e| matches(e["message"].as_str().unwrap_or("")))
        })
    }

    /// What the kubelet holds on the node, to compare before and after pods come and go:
    /// pod cgroups, veths, IP allocations, processes below the kubelet, mounts in its mount
    /// namespace, pod directories.
    pub fn leftovers(&self) -> Vec<String> {
        let mut out = Vec::new();
        for controller in ["cpu", "memory", "pids", "cpuacct"] {
            for tier in ["", "burstable/", "besteffort/"] {
                let dir = format!(
                    "/sys/fs/cgroup/{controller}/{}/kubepods/{tier}",
                    self.cgroup_root
                );
                for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if name.starts_with("pod") {
                        out.push(format!("cgroup {dir}{name}"));
                    }
                }
            }
        }
        let links = self.topology.nodes[0].netns.sh("ip -o link show");
        out.extend(
            links
                .lines()
                .filter(|l| l.contains("veth"))
                .map(|l| format!("link {l}")),
        );
        let ipam = self.kubelet.root_dir().join("ipam/10.244.1.0-24");
        for e in std::fs::read_dir(ipam).into_iter().flatten().flatten() {
            out.push(format!("ip {}", e.file_name().to_string_lossy()));
        }
        for e in std::fs::read_dir(self.kubelet.root_dir().join("pods"))
            .into_iter()
            .flatten()
            .flatten()
        {
            out.push(format!("pod dir {}", e.file_name().to_string_lossy()));
        }
        if let Some(pid) = self.kubelet.pid() {
            // `ip netns exec` execs the kubelet, so the PID is the kubelet's own. Its
            // descendants: pause processes (each holding a pod's network namespace), shims
            // and containers.
            let mut parents = vec![pid.to_string()];
            while let Some(parent) = parents.pop() {
                let children = Command::new("pgrep")
                    .args(["-P", &parent])
                    .output()
                    .unwrap();
                for child in String::from_utf8_lossy(&children.stdout).lines() {
                    out.push(format!("process {child}"));
                    parents.push(child.to_string());
                }
            }
            // Mounts under the root dir in the kubelet's mount namespace (tmpfs volumes).
            let table =
                std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap_or_default();
            let root = self.kubelet.root_dir();
            out.extend(
                table
                    .lines()
                    .filter(|l| {
                        l.split(' ')
                            .nth(4)
                            .is_some_and(|m| m.starts_with(root.to_str().unwrap()))
                    })
                    .map(|l| format!("mount {l}")),
            );
        }
        out
    }
}

impl Drop for NodeCluster {
    fn drop(&mut self) {
        self.kubelet.kill();
        remove_cgroup_tree(&self.cgroup_root);
    }
}
