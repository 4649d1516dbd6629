//! Which pods each Service's endpoints listed at its last sync. A pod event triggers the
//! Services that select the pod now and, through this index, those that listed it
//! before: a pod relabelled out of a selector leaves the endpoints it was in.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

#[derive(Default)]
struct Index {
    pods_of: HashMap<String, BTreeSet<String>>,
    services_of: HashMap<String, BTreeSet<String>>,
}

/// Keys are `namespace/name` for both pods and Services.
#[derive(Default)]
pub struct ServicePods {
    index: Mutex<Index>,
}

impl ServicePods {
    /// The pods `service` lists now, replacing what it listed before.
    pub fn record(&self, service: &str, pods: BTreeSet<String>) {
        let mut index = self.index.lock().unwrap_or_else(|e| e.into_inner());
        let before = index.pods_of.remove(service).unwrap_or_default();
        for gone in before.difference(&pods) {
            if let Some(services) = index.services_of.get_mut(gone) {
                services.remove(service);
                if services.is_empty() {
                    index.services_of.remove(gone);
                }
            }
        }
        for pod in &pods {
            index
                .services_of
                .entry(pod.clone())
                .or_default()
                .insert(service.to_string());
        }
        if !pods.is_empty() {
            index.pods_of.insert(service.to_string(), pods);
        }
    }

    pub fn forget(&self, service: &str) {
        self.record(service, BTreeSet::new());
    }

    /// Keys of the Services that listed `pod` at their last sync.
    pub fn services_listing(&self, pod: &str) -> Vec<String> {
        let index = self.index.lock().unwrap_or_else(|e| e.into_inner());
        index
            .services_of
            .get(pod)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pod_dropped_from_a_service_no_longer_points_at_it() {
        let index = ServicePods::default();
        index.record("ns/s", ["ns/a".to_string(), "ns/b".to_string()].into());
        index.record("ns/t", ["ns/a".to_string()].into());
        assert_eq!(index.services_listing("ns/a"), vec!["ns/s", "ns/t"]);
        index.record("ns/s", ["ns/b".to_string()].into());
        assert_eq!(index.services_listing("ns/a"), vec!["ns/t"]);
        index.forget("ns/t");
        assert!(index.services_listing("ns/a").is_empty());
    }
}
