//! What a replica controller reports about the pods it controls: the counts every
//! ReplicationController and ReplicaSet status carries, and the `ReplicaFailure`
//! condition set while creates or deletes fail.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use super::pods;

/// The counts of a replica status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub replicas: i32,
    pub fully_labeled: i32,
    pub ready: i32,
    pub available: i32,
}

/// Why the last create or delete failed: upstream's `FailedCreate` / `FailedDelete`.
#[derive(Debug, Clone)]
pub struct Failure {
    pub reason: &'static str,
    pub message: String,
}

/// Counts from the active pods an owner controls. `min_ready_seconds` decides
/// availability; the second value is how long until another ready pod becomes
/// available, if any.
pub fn count(
    template: Option<&PodTemplateSpec>,
    min_ready_seconds: i32,
    active: &[Arc<Pod>],
) -> (Counts, Option<Duration>) {
    let template_labels = template
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let min_ready = Duration::from_secs(min_ready_seconds.max(0) as u64);
    let now = k8s_openapi::jiff::Timestamp::now();
    let mut counts = Counts {
        replicas: active.len() as i32,
        ..Counts::default()
    };
    let mut next_available: Option<Duration> = None;
    for pod in active {
        let labels = pod.labels();
        if template_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
        {
            counts.fully_labeled += 1;
        }
        let Some(since) = pods::ready_since(pod) else {
            continue;
        };
        counts.ready += 1;
        let ready_for = since
            .and_then(|t| now.duration_since(t).try_into().ok())
            .unwrap_or(Duration::ZERO);
        if min_ready.is_zero() || ready_for >= min_ready {
            counts.available += 1;
        } else {
            let wait = min_ready - ready_for;
            next_available = Some(next_available.map_or(wait, |w| w.min(wait)));
        }
    }
    (counts, next_available)
}

/// The conditions with `ReplicaFailure` set (True, with the failure's reason and
/// message) or removed. RC and RS conditions have the same shape, so one
/// implementation serves both through their JSON form. An unchanged condition keeps
/// its lastTransitionTime, as upstream's SetCondition does.
pub fn with_failure<C: Serialize + DeserializeOwned>(
    conditions: Option<&Vec<C>>,
    failure: Option<&Failure>,
) -> Option<Vec<C>> {
    let mut list: Vec<Value> = conditions
        .map(|c| {
            c.iter()
                .filter_map(|c| serde_json::to_value(c).ok())
                .collect()
        })
        .unwrap_or_default();
    let position = list.iter().position(|c| c["type"] == "ReplicaFailure");
    match (failure, position) {
        (None, Some(i)) => {
            list.remove(i);
        }
        (None, None) => {}
        (Some(f), Some(i)) if list[i]["status"] == "True" && list[i]["reason"] == f.reason => {
            list[i]["message"] = json!(f.message);
        }
        (Some(f), position) => {
            if let Some(i) = position {
                list.remove(i);
            }
            list.push(json!({
                "type": "ReplicaFailure",
                "status": "True",
                "reason": f.reason,
                "message": f.message,
                "lastTransitionTime": Time(k8s_openapi::jiff::Timestamp::now()),
            }));
        }
    }
    let typed: Vec<C> = list
        .into_iter()
        .filter_map(|c| serde_json::from_value(c).ok())
        .collect();
    (!typed.is_empty()).then_some(typed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::ReplicaSetCondition;

    #[test]
    fn failure_condition_is_set_kept_and_removed() {
        let failure = Failure {
            reason: "FailedCreate",
            message: "pods \"x\" is forbidden: exceeded quota".into(),
        };
        let set = with_failure::<ReplicaSetCondition>(None, Some(&failure)).unwrap();
        assert_eq!(set.len(), 1);
        assert_eq!(set[0].type_, "ReplicaFailure");
        assert_eq!(set[0].reason.as_deref(), Some("FailedCreate"));
        let since = set[0].last_transition_time.clone();
        let again = with_failure(Some(&set), Some(&failure)).unwrap();
        assert_eq!(again[0].last_transition_time, since);
        assert_eq!(with_failure(Some(&again), None), None);
    }
}
