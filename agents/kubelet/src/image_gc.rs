//! Image garbage collection under disk pressure, as upstream's image GC manager: every
//! `--image-gc-period` the filesystem holding the image store is measured; above
//! `--image-gc-high-threshold` percent used, images no pod on this node names and not used
//! for `--minimum-image-ttl-duration` are removed, least recently used first, until usage
//! is down to `--image-gc-low-threshold`. Not freeing enough is a `FreeDiskSpaceFailed`
//! event on the Node, and a second failure in a row an `ImageGCFailed` one.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::runtime::reflector::Store;

use crate::events::About;
use crate::runtime::Runtime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageGcPolicy {
    pub high_threshold_percent: u8,
    pub low_threshold_percent: u8,
    pub min_age: Duration,
    pub period: Duration,
}

/// Collects every `policy.period`, forever.
pub async fn collect_forever(
    rt: Arc<Runtime>,
    pods: Store<Pod>,
    policy: ImageGcPolicy,
    node_events: About,
) {
    let mut failed_before = false;
    loop {
        tokio::time::sleep(policy.period).await;
        let in_use = images_in_use(&pods.state());
        let (rt, events) = (rt.clone(), node_events.clone());
        let outcome =
            tokio::task::spawn_blocking(move || collect_once(&rt, &in_use, policy, &events)).await;
        match outcome {
            Ok(Ok(())) => failed_before = false,
            Ok(Err(message)) => {
                // Upstream reports only repeated failures this way (the first may be
                // stats not being ready yet).
                if failed_before {
                    node_events.warn("ImageGCFailed", message.clone());
                }
                tracing::warn!("image garbage collection: {message}");
                failed_before = true;
            }
            Err(e) => tracing::warn!("image garbage collection stopped: {e}"),
        }
    }
}

/// The images the node's pods name, by reference and, for started containers, by the
/// digest they run (a tag may since have moved to another image).
fn images_in_use(pods: &[Arc<Pod>]) -> Vec<String> {
    let mut in_use = Vec::new();
    for pod in pods {
        if let Some(spec) = &pod.spec {
            let containers = spec
                .containers
                .iter()
                .chain(spec.init_containers.iter().flatten());
            in_use.extend(containers.filter_map(|c| c.image.clone()));
        }
        if let Some(status) = &pod.status {
            let statuses = status
                .container_statuses
                .iter()
                .flatten()
                .chain(status.init_container_statuses.iter().flatten());
            in_use.extend(
                statuses
                    .filter_map(|s| s.image_id.rsplit_once('@'))
                    .map(|(_, digest)| digest.to_string()),
            );
        }
    }
    in_use.retain(|r| !r.is_empty());
    in_use
}

/// One round: measure, and free down to the low threshold if above the high one.
fn collect_once(
    rt: &Runtime,
    in_use: &[String],
    policy: ImageGcPolicy,
    node_events: &About,
) -> Result<(), String> {
    let usage = rt
        .images
        .filesystem_usage()
        .map_err(|e| format!("measuring the image filesystem: {e}"))?;
    let to_free = usage.bytes_to_free(policy.high_threshold_percent, policy.low_threshold_percent);
    if to_free == 0 {
        return Ok(());
    }
    tracing::info!(
        capacity = usage.capacity_bytes,
        available = usage.available_bytes,
        to_free,
        "disk usage on the image filesystem is over the high threshold, freeing down to the low threshold"
    );
    let report = rt
        .images
        .garbage_collect(in_use, to_free, policy.min_age)
        .map_err(|e| format!("removing images: {e}"))?;
    for image in &report.removed {
        tracing::info!(image = image.digest, references = ?image.references, "removed an unused image");
    }
    if report.bytes_freed < to_free {
        let message = format!(
            "Failed to garbage collect required amount of images. Attempted to free {to_free} bytes, but only found {} bytes eligible to free.",
            report.bytes_freed
        );
        node_events.warn("FreeDiskSpaceFailed", message.clone());
        return Err(message);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_in_use_are_named_by_spec_and_by_the_digest_running() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p"},
            "spec": {
                "initContainers": [{"name": "i", "image": "init:1"}],
                "containers": [{"name": "c", "image": "busybox:1.36"}],
            },
            "status": {"containerStatuses": [{
                "name": "c", "image": "busybox:1.36", "imageID": "docker.io/library/busybox@sha256:abc",
                "ready": true, "restartCount": 0,
            }]},
        }))
        .unwrap();
        assert_eq!(
            images_in_use(&[Arc::new(pod)]),
            ["busybox:1.36", "init:1", "sha256:abc"]
        );
    }
}
