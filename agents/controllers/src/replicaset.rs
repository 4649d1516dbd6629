//! The replicaset controller: apps/v1 ReplicaSets through the shared replica controller
//! ([`crate::replicas`]); a ReplicaSet's selector is a LabelSelector (matchLabels and
//! matchExpressions).

use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetStatus};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::core::{Selector, SelectorExt};
use kube::ResourceExt;

use crate::replicas::status::{with_failure, Counts, Failure};
use crate::replicas::ReplicaOwner;

pub async fn run(client: kube::Client, concurrency: u16) {
    crate::replicas::run::<ReplicaSet>(client, concurrency).await
}

/// Whether a LabelSelector selects these labels. An empty or invalid selector selects
/// nothing: a controller must never claim every pod of a namespace.
pub fn label_selector_matches(
    selector: &LabelSelector,
    labels: &std::collections::BTreeMap<String, String>,
) -> bool {
    let empty = selector.match_labels.as_ref().is_none_or(|m| m.is_empty())
        && selector
            .match_expressions
            .as_ref()
            .is_none_or(|e| e.is_empty());
    if empty {
        return false;
    }
    Selector::try_from(selector.clone()).is_ok_and(|s| s.matches(labels))
}

impl ReplicaOwner for ReplicaSet {
    type Status = ReplicaSetStatus;
    const CONTROLLER: &'static str = "replicaset-controller";

    fn selects(&self, pod: &Pod) -> bool {
        self.spec
            .as_ref()
            .is_some_and(|s| label_selector_matches(&s.selector, pod.labels()))
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

    fn status(&self) -> Option<&ReplicaSetStatus> {
        self.status.as_ref()
    }

    fn status_for(&self, counts: Counts, failure: Option<&Failure>) -> ReplicaSetStatus {
        let current = self.status.as_ref();
        ReplicaSetStatus {
            replicas: counts.replicas,
            fully_labeled_replicas: Some(counts.fully_labeled),
            ready_replicas: Some(counts.ready),
            available_replicas: Some(counts.available),
            observed_generation: self.metadata.generation,
            conditions: with_failure(current.and_then(|s| s.conditions.as_ref()), failure),
            // Not counted yet (the DeploymentReplicaSetTerminatingReplicas gate is off
            // by default upstream): keep what is there.
            terminating_replicas: current.and_then(|s| s.terminating_replicas),
        }
    }

    fn set_status(&mut self, status: ReplicaSetStatus) {
        self.status = Some(status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;
    use std::collections::BTreeMap;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn selectors_match_labels_and_expressions_and_empty_selects_nothing() {
        let by_label = LabelSelector {
            match_labels: Some(labels(&[("app", "web")])),
            match_expressions: None,
        };
        assert!(label_selector_matches(
            &by_label,
            &labels(&[("app", "web"), ("x", "1")])
        ));
        assert!(!label_selector_matches(
            &by_label,
            &labels(&[("app", "db")])
        ));
        let by_expression = LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "tier".into(),
                operator: "In".into(),
                values: Some(vec!["front".into(), "edge".into()]),
            }]),
        };
        assert!(label_selector_matches(
            &by_expression,
            &labels(&[("tier", "edge")])
        ));
        assert!(!label_selector_matches(
            &by_expression,
            &labels(&[("tier", "back")])
        ));
        assert!(!label_selector_matches(
            &LabelSelector::default(),
            &labels(&[("a", "b")])
        ));
    }
}
