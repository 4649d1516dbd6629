//! How a pod worker reports: the pod's status, patched when it changed since the last
//! report (a static pod's goes to its mirror pod).

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Patch, PatchParams};
use kube::runtime::reflector::ObjectRef;
use serde_json::json;

use super::PodWorker;
use crate::pods::status::{self, PodView};
use crate::static_pods;

impl PodWorker {
    /// Patches the status when it changed since the last report (a static pod's goes to
    /// its mirror pod, once there is one).
    pub(super) async fn report(&mut self, pod: &Pod) {
        if self.statics.is_some() {
            let key = ObjectRef::new(&self.name).within(&self.namespace);
            let mirror_uid = self
                .store
                .get(&key)
                .filter(|m| static_pods::is_mirror(m))
                .and_then(|m| m.metadata.uid.clone());
            if mirror_uid.is_none() {
                return;
            }
            if mirror_uid != self.mirror_uid {
                self.mirror_uid = mirror_uid;
                self.last_status = None;
            }
        }
        let policy = Self::policy(pod);
        let images = pod
            .spec
            .iter()
            .flat_map(|s| s.containers.iter())
            .map(|c| c.image.clone().unwrap_or_default())
            .collect();
        let init_images = pod
            .spec
            .iter()
            .flat_map(|s| s.init_containers.iter().flatten())
            .map(|c| c.image.clone().unwrap_or_default())
            .collect();
        if self.phase(&policy) == "Running" {
            if let Some(seen_at) = self.seen_at.take() {
                self.rt.metrics.pod_started(seen_at.elapsed());
            }
        }
        let view = PodView {
            name: &self.name,
            policy: &policy,
            phase: self.phase(&policy),
            slots: &self.slots,
            images,
            init_slots: &self.init_slots,
            init_images,
            initialized: self.initialized(),
            pod_ip: self.pod_ip,
            host_ip: self.rt.node_ip,
            start_time: &self.start_time,
            sandbox_ready: self.sandbox.is_some(),
            qos: self.qos,
        };
        let previous = self.last_status.as_ref().or(None);
        let status = status::pod_status(&view, previous, &crate::time::now_rfc3339());
        if self.last_status.as_ref() == Some(&status) {
            return;
        }
        let patch = json!({"status": status});
        match self
            .api
            .patch_status(&self.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => self.last_status = Some(status),
            Err(e) => tracing::warn!(pod = self.name, "updating the pod status: {e}"),
        }
    }
}
