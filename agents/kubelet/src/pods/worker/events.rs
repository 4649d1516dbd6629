//! The events a pod worker records about its containers, worded as upstream's kubelet
//! (kuberuntime_container.go, kuberuntime_manager.go): Created, Started, Failed, BackOff
//! and Killing. Pulls record theirs where the image is ensured, probes where they run.

use k8s_openapi::api::core::v1::{Container, Pod};

use super::{init_policy, PodWorker};
use crate::pods::probe::ProbeKind;
use crate::runtime::spec;

/// Waiting reasons whose `Failed` event names the reason rather than the message, as
/// upstream's image errors do (`Error: ErrImagePull`).
const IMAGE_REASONS: [&str; 4] = [
    "ErrImagePull",
    "ImagePullBackOff",
    "ErrImageNeverPull",
    "InvalidImageName",
];

impl PodWorker {
    pub(super) fn record_started(&self, pod: &Pod, c: &Container) {
        let about = self.rt.events.about(pod, Some(&c.name));
        about.normal("Created", format!("Created container: {}", c.name));
        about.normal("Started", format!("Started container {}", c.name));
    }

    /// A container that could not be started; `waiting` is the reason it now waits with.
    pub(super) fn record_start_failure(
        &self,
        pod: &Pod,
        c: &Container,
        reason: &str,
        message: &str,
        waiting: Option<&str>,
    ) {
        let about = self.rt.events.about(pod, Some(&c.name));
        if IMAGE_REASONS.contains(&reason) {
            about.warn("Failed", format!("Error: {reason}"));
        } else {
            about.warn("Failed", format!("Error: {message}"));
        }
        if reason == "ErrImagePull" && waiting == Some("ImagePullBackOff") {
            let image = c.image.as_deref().unwrap_or("");
            about.normal("BackOff", format!("Back-off pulling image {image:?}"));
            about.warn("Failed", "Error: ImagePullBackOff");
        }
    }

    /// `BackOff` once for each crash-loop back-off a container enters.
    pub(super) fn record_backoffs(&mut self, pod: &Pod, policy: &str) {
        let now = std::time::Instant::now();
        let mut backing_off = Vec::new();
        for slot in self.slots.iter_mut() {
            if slot.backoff_to_report(policy, now) {
                backing_off.push(slot.name.clone());
            }
        }
        for slot in self.init_slots.iter_mut() {
            if slot.backoff_to_report(init_policy(policy), now) {
                backing_off.push(slot.name.clone());
            }
        }
        for name in backing_off {
            self.rt.events.about(pod, Some(&name)).warn(
                "BackOff",
                format!(
                    "Back-off restarting failed container {name} in pod {}",
                    spec::pod_label(pod)
                ),
            );
        }
    }

    /// `Killing` for a container stopped because a probe failed.
    pub(super) fn record_probe_kill(&self, pod: &Pod, container: &str, kind: ProbeKind) {
        let mut message = format!(
            "Container {container} failed {} probe",
            kind.label().to_lowercase()
        );
        if Self::policy(pod) != "Never" {
            message.push_str(", will be restarted");
        }
        self.rt
            .events
            .about(pod, Some(container))
            .normal("Killing", message);
    }

    /// `Killing` for each running container of a pod being stopped.
    pub(super) fn record_stopping(&self, pod: &Pod) {
        for slot in self.slots.iter().chain(&self.init_slots) {
            if slot.running.is_some() {
                self.rt
                    .events
                    .about(pod, Some(&slot.name))
                    .normal("Killing", format!("Stopping container {}", slot.name));
            }
        }
    }
}
