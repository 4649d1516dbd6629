//! The `endpoints.kubernetes.io/last-change-trigger-time` annotation: the earliest change
//! to a Service or its pods that the next write of its endpoints reflects (upstream's
//! TriggerTimeTracker). A pod's change time is its Ready condition's last transition, a
//! Service's its creation; only changes since the previous sync count.

use std::collections::HashMap;
use std::sync::Mutex;

use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::jiff::Timestamp;

pub const ANNOTATION: &str = "endpoints.kubernetes.io/last-change-trigger-time";

#[derive(Default)]
struct Seen {
    service: Option<Timestamp>,
    pods: HashMap<String, Timestamp>,
}

/// Per Service key (`namespace/name`), what the previous sync saw.
#[derive(Default)]
pub struct TriggerTimes {
    seen: Mutex<HashMap<String, Seen>>,
}

fn pod_trigger(pod: &Pod) -> Option<Timestamp> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")?
        .last_transition_time
        .as_ref()
        .map(|t| t.0)
}

impl TriggerTimes {
    /// The earliest trigger time that changed since the last call for `key` (none when
    /// nothing did), remembering what this call saw.
    pub fn changed_since_last_sync(
        &self,
        key: &str,
        service: &Service,
        pods: &[&Pod],
    ) -> Option<Timestamp> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let previous = seen.remove(key).unwrap_or_default();
        let mut next = Seen {
            service: service.metadata.creation_timestamp.as_ref().map(|t| t.0),
            pods: HashMap::new(),
        };
        let mut earliest: Option<Timestamp> = None;
        let mut consider = |t: Timestamp| earliest = Some(earliest.map_or(t, |e| e.min(t)));
        for pod in pods {
            let Some(t) = pod_trigger(pod) else { continue };
            let name = pod.metadata.name.clone().unwrap_or_default();
            if previous.pods.get(&name).is_none_or(|before| t > *before) {
                consider(t);
            }
            next.pods.insert(name, t);
        }
        if let Some(t) = next.service {
            if previous.service.is_none_or(|before| t > before) {
                consider(t);
            }
        }
        seen.insert(key.to_string(), next);
        earliest
    }

    pub fn forget(&self, key: &str) {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

/// RFC 3339 with nanoseconds, UTC, as upstream formats it.
pub fn format(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, ready_at: &str) -> Pod {
        serde_json::from_value(
            json!({"metadata": {"name": name}, "status": {"conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": ready_at}]}}),
        )
        .unwrap()
    }

    #[test]
    fn only_changes_since_the_last_sync_count() {
        let svc: Service = serde_json::from_value(json!({"metadata": {"name": "s",
            "creationTimestamp": "2024-01-01T00:00:00Z"}}))
        .unwrap();
        let t = TriggerTimes::default();
        let a = pod("a", "2024-01-01T00:00:05Z");
        let first = t.changed_since_last_sync("ns/s", &svc, &[&a]).unwrap();
        assert_eq!(format(first), "2024-01-01T00:00:00Z");
        assert_eq!(t.changed_since_last_sync("ns/s", &svc, &[&a]), None);
        let a2 = pod("a", "2024-01-01T00:01:00Z");
        let b = pod("b", "2024-01-01T00:00:30Z");
        let next = t.changed_since_last_sync("ns/s", &svc, &[&a2, &b]).unwrap();
        assert_eq!(format(next), "2024-01-01T00:00:30Z");
    }
}
