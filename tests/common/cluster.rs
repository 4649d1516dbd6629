//! A whole cluster of real processes in network namespaces: `rkube apiserver`,
//! `rkube controller-manager` and `rkube scheduler` in the underlay (the control-plane
//! host), and on each node namespace `nodeN` a `rkube kubelet` (pod subnet
//! 10.244.N+1.0/24, its own cgroup root, the busybox image imported as [`BUSYBOX`] and
//! [`BUSYBOX_V2`]) and, on request, `rkube proxy`. On drop the agents are killed first,
//! then whatever their pods left running.

use std::process::{Child, Stdio};

use serde_json::{json, Value};

use super::kubelet::{remove_cgroup_tree, Kubelet};
use super::netns::{Netns, Topology};
use super::scheduler::Scheduler;
use super::{eventually, Apiserver, ControllerManager};

pub const BUSYBOX: &str = "busybox:cluster";
/// The same image under a second name, for rollouts from one image to another.
pub const BUSYBOX_V2: &str = "busybox:cluster-v2";

// Fields drop in order: agents before the control plane, the namespaces last.
pub struct Cluster {
    pub proxies: Vec<Child>,
    pub kubelets: Vec<Kubelet>,
    pub scheduler: Scheduler,
    pub controller_manager: ControllerManager,
    pub apiserver: Apiserver,
    pub topology: Topology,
    cgroup_roots: Vec<String>,
}

static CLUSTERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Cluster {
    /// `nodes` nodes, all Ready when this returns; `controller_flags` go to the
    /// controller-manager.
    pub fn start(nodes: usize, controller_flags: &[&str]) -> Cluster {
        let topology = Topology::new(nodes);
        let apiserver = Apiserver::start_in(&topology.underlay, Topology::CONTROL_PLANE_IP);
        let n = CLUSTERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut kubelets = Vec::new();
        let mut cgroup_roots = Vec::new();
        for (i, node) in topology.nodes.iter().enumerate() {
            let cgroup_root = format!("rkube-test-cluster-{}-{n}-{i}", std::process::id());
            let dir = tempfile::tempdir().unwrap();
            let image_dir = tempfile::tempdir().unwrap();
            for image in [BUSYBOX, BUSYBOX_V2] {
                super::oci_image::import_busybox(
                    &image_dir.path().join(image.replace(':', "-")),
                    &dir.path().join("root"),
                    image,
                    "hello",
                );
            }
            let mut kubelet = Kubelet::start_in_dir(
                node.netns.cmd(env!("CARGO_BIN_EXE_rkube")),
                &apiserver,
                &Self::node_name(i),
                &[
                    "--node-ip",
                    &node.ip.to_string(),
                    "--pod-cidr",
                    &format!("10.244.{}.0/24", i + 1),
                    "--cgroup-root",
                    &cgroup_root,
                ],
                dir,
            );
            kubelet.image_dir = Some(image_dir);
            kubelets.push(kubelet);
            cgroup_roots.push(cgroup_root);
        }
        let controller_manager = ControllerManager::start_with(&apiserver, controller_flags);
        let scheduler =
            Scheduler::start(&apiserver, &[], &apiserver.data_dir().join("scheduler.log"));
        let cluster = Cluster {
            proxies: Vec::new(),
            kubelets,
            scheduler,
            controller_manager,
            apiserver,
            topology,
            cgroup_roots,
        };
        for i in 0..nodes {
            let name = Self::node_name(i);
            eventually(30, &format!("{name} Ready"), || {
                let node = cluster.get(&format!("/api/v1/nodes/{name}"))?;
                (condition(&node, "Ready")["status"] == "True").then_some(())
            });
        }
        cluster
    }

    pub fn node_name(i: usize) -> String {
        format!("node{i}")
    }

    pub fn node(&self, i: usize) -> &Netns {
        &self.topology.nodes[i].netns
    }

    /// `rkube proxy` in node `i`'s namespace.
    pub fn start_proxy(&mut self, i: usize) {
        let child = self
            .node(i)
            .cmd(env!("CARGO_BIN_EXE_rkube"))
            .arg("proxy")
            .arg("--kubeconfig")
            .arg(&self.apiserver.kubeconfig)
            .args(["--hostname-override", &Self::node_name(i)])
            .args(["--cluster-cidr", "10.244.0.0/16"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn rkube proxy");
        self.proxies.push(child);
    }

    /// GET `path`: the object, or None unless 200.
    pub fn get(&self, path: &str) -> Option<Value> {
        let (code, body) = self.apiserver.json("GET", path, &Value::Null);
        (code == 200).then_some(body)
    }

    /// A request that must succeed (2xx); returns the answer.
    pub fn send(&self, method: &str, path: &str, body: Value) -> Value {
        let (code, out) = self.apiserver.json(method, path, &body);
        assert!((200..300).contains(&code), "{method} {path}: {code} {out}");
        out
    }

    /// The pods of `namespace` matching `selector` (e.g. `app=web`).
    pub fn pods(&self, namespace: &str, selector: &str) -> Vec<Value> {
        let list = self
            .get(&format!(
                "/api/v1/namespaces/{namespace}/pods?labelSelector={}",
                selector.replace('=', "%3D")
            ))
            .expect("list pods");
        list["items"].as_array().cloned().unwrap_or_default()
    }

    /// `kubectl get <args>` output, for failure messages.
    pub fn describe(&self, args: &[&str]) -> String {
        let kubectl = super::which("kubectl").expect("kubectl is on the PATH");
        let mut all = vec!["get"];
        all.extend_from_slice(args);
        let (_, out, err) = self.apiserver.kubectl(kubectl.to_str().unwrap(), &all);
        out + &err
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for p in &mut self.proxies {
            let _ = p.kill();
            let _ = p.wait();
        }
        for k in &mut self.kubelets {
            k.kill();
        }
        for root in &self.cgroup_roots {
            remove_cgroup_tree(root);
        }
    }
}

/// The condition of `kind` in an object's status (Null when it has none).
pub fn condition(obj: &Value, kind: &str) -> Value {
    obj["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == kind)
        .cloned()
        .unwrap_or_else(|| json!(null))
}

/// Whether a pod is Running with the Ready condition True.
pub fn running_and_ready(pod: &Value) -> bool {
    pod["status"]["phase"] == "Running" && condition(pod, "Ready")["status"] == "True"
}
