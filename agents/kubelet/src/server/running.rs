//! What runs on this node right now: the cached pods whose pod cgroup holds processes
//! (the pause process), and their containers whose cgroups do. A static pod is seen
//! through its mirror pod, under the static pod's UID. The kernel is the source
//! of truth; the pod cache supplies names and images, the status the container IDs.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use kube::runtime::reflector::Store;
use serde_json::{json, Value};

use crate::cgroups::Cgroups;
use crate::runtime::spec;

pub struct RunningContainer {
    pub name: String,
    pub image: String,
    /// Below the cgroup root.
    pub cgroup: String,
    pub started_at: Option<String>,
    /// Its run number (restartCount): names its log file and rootfs.
    pub restart: i32,
}

pub struct RunningPod {
    pub pod: Arc<Pod>,
    /// The UID the pod runs under: a mirror pod's static pod's (its config hash).
    pub uid: String,
    pub cgroup: String,
    pub containers: Vec<RunningContainer>,
}

impl RunningPod {
    pub fn name(&self) -> &str {
        self.pod.metadata.name.as_deref().unwrap_or("")
    }

    pub fn namespace(&self) -> &str {
        self.pod.metadata.namespace.as_deref().unwrap_or("")
    }

    pub fn uid(&self) -> &str {
        &self.uid
    }
}

/// The containers the pod's status says run, and whose cgroup has processes.
fn running_containers(pod: &Pod, pod_cgroup: &str, cgroups: &Cgroups) -> Vec<RunningContainer> {
    let images = |name: &str| {
        pod.spec
            .iter()
            .flat_map(|s| {
                s.containers
                    .iter()
                    .chain(s.init_containers.iter().flatten())
            })
            .find(|c| c.name == name)
            .and_then(|c| c.image.clone())
            .unwrap_or_default()
    };
    let status = pod.status.as_ref();
    status
        .into_iter()
        .flat_map(|s| {
            s.container_statuses
                .iter()
                .flatten()
                .chain(s.init_container_statuses.iter().flatten())
        })
        .filter_map(|cs| {
            let running = cs.state.as_ref()?.running.as_ref()?;
            let id = cs.container_id.as_deref()?.strip_prefix("rkube://")?;
            let cgroup = format!("{pod_cgroup}/{id}");
            cgroups.has_processes(&cgroup).then(|| RunningContainer {
                name: cs.name.clone(),
                image: images(&cs.name),
                cgroup,
                started_at: running
                    .started_at
                    .as_ref()
                    .map(|t| crate::time::rfc3339(t.0)),
                restart: cs.restart_count,
            })
        })
        .collect()
}

/// The pods of the cache that have a running sandbox, sorted by namespace and name.
pub fn running_pods(pods: &Store<Pod>, cgroups: &Cgroups) -> Vec<RunningPod> {
    let mut out: Vec<RunningPod> = pods
        .state()
        .into_iter()
        .filter_map(|pod| {
            let uid = pod
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(crate::static_pods::CONFIG_MIRROR))
                .or(pod.metadata.uid.as_ref())?
                .clone();
            let cgroup = spec::qos_class(&pod).pod_cgroup(&uid);
            if !cgroups.has_processes(&cgroup) {
                return None;
            }
            let containers = running_containers(&pod, &cgroup, cgroups);
            Some(RunningPod {
                pod,
                uid,
                cgroup,
                containers,
            })
        })
        .collect();
    out.sort_by(|a, b| (a.namespace(), a.name()).cmp(&(b.namespace(), b.name())));
    out
}

/// `/runningpods/`: a PodList of what runs, shaped as upstream builds it from the
/// runtime (name, namespace, uid; each running container's name and image).
pub fn pod_list(running: &[RunningPod]) -> Value {
    let items: Vec<Value> = running
        .iter()
        .map(|p| {
            let containers: Vec<Value> = p
                .containers
                .iter()
                .map(|c| json!({"name": c.name, "image": c.image, "resources": {}}))
                .collect();
            json!({
                "metadata": {"name": p.name(), "namespace": p.namespace(), "uid": p.uid(), "creationTimestamp": null},
                "spec": {"containers": containers},
                "status": {},
            })
        })
        .collect();
    json!({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items})
}
