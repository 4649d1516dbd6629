//! The replication controller: ReplicationControllers through the shared replica
//! controller ([`crate::replicas`]); an RC's selector is an equality map.

use k8s_openapi::api::core::v1::{
    Pod, PodTemplateSpec, ReplicationController, ReplicationControllerStatus,
};

use crate::replicas::status::{with_failure, Counts, Failure};
use crate::replicas::{pods, ReplicaOwner};

pub async fn run(client: kube::Client, concurrency: u16) {
    crate::replicas::run::<ReplicationController>(client, concurrency).await
}

impl ReplicaOwner for ReplicationController {
    type Status = ReplicationControllerStatus;
    const CONTROLLER: &'static str = "replicationcontroller-controller";

    fn selects(&self, pod: &Pod) -> bool {
        let selector = self.spec.as_ref().and_then(|s| s.selector.as_ref());
        selector.is_some_and(|s| pods::selects(s, pod))
    }

    fn replicas(&self) -> i32 {
        self.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
    }

    fn template(&self) -> Option<&PodTemplateSpec> {
        self.spec.as_ref()?.template.as_ref()
    }

    fn min_ready_seconds(&self) -> i32 {
        self.spec
            .as_ref()
            .and_then(|s| s.min_ready_seconds)
            .unwrap_or(0)
    }

    fn status(&self) -> Option<&ReplicationControllerStatus> {
        self.status.as_ref()
    }

    fn status_for(&self, counts: Counts, failure: Option<&Failure>) -> ReplicationControllerStatus {
        let current = self.status.as_ref().and_then(|s| s.conditions.as_ref());
        ReplicationControllerStatus {
            replicas: counts.replicas,
            fully_labeled_replicas: Some(counts.fully_labeled),
            ready_replicas: Some(counts.ready),
            available_replicas: Some(counts.available),
            observed_generation: self.metadata.generation,
            conditions: with_failure(current, failure),
        }
    }

    fn set_status(&mut self, status: ReplicationControllerStatus) {
        self.status = Some(status);
    }
}
