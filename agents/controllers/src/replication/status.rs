//! The status a replication controller reports about the pods it controls.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{Pod, ReplicationController, ReplicationControllerStatus};
use kube::ResourceExt;

use super::pods;

/// Status from the active pods the RC controls. `minReadySeconds` decides availability;
/// the second value is how long until another ready pod becomes available, if any.
pub fn compute(
    rc: &ReplicationController,
    active: &[Arc<Pod>],
) -> (ReplicationControllerStatus, Option<std::time::Duration>) {
    let spec = rc.spec.as_ref();
    let template_labels = spec
        .and_then(|s| s.template.as_ref())
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let min_ready = spec.and_then(|s| s.min_ready_seconds).unwrap_or(0).max(0);
    let now = k8s_openapi::jiff::Timestamp::now();
    let mut status = ReplicationControllerStatus {
        replicas: active.len() as i32,
        observed_generation: rc.metadata.generation,
        conditions: rc.status.as_ref().and_then(|s| s.conditions.clone()),
        ..Default::default()
    };
    let (mut ready, mut available, mut labelled) = (0, 0, 0);
    let mut next_available: Option<std::time::Duration> = None;
    for pod in active {
        let labels = pod.labels();
        if template_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
        {
            labelled += 1;
        }
        let Some(since) = pods::ready_since(pod) else {
            continue;
        };
        ready += 1;
        let ready_for = since
            .and_then(|t| now.duration_since(t).try_into().ok())
            .unwrap_or(std::time::Duration::ZERO);
        let needed = std::time::Duration::from_secs(min_ready as u64);
        if min_ready == 0 || ready_for >= needed {
            available += 1;
        } else {
            let wait = needed - ready_for;
            next_available = Some(next_available.map_or(wait, |w| w.min(wait)));
        }
    }
    status.fully_labeled_replicas = Some(labelled);
    status.ready_replicas = Some(ready);
    status.available_replicas = Some(available);
    (status, next_available)
}
