//! The state the watches feed and the scheduling loop reads: cache and queue behind
//! locks (held for microseconds), and a wake-up for the loop.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::cache::Cache;
use crate::diagnosis::hints;
use crate::node_info::PodFacts;
use crate::queue::Queue;

pub struct Shared {
    pub cache: Mutex<Cache>,
    pub queue: Mutex<Queue>,
    pub wake: Notify,
    scheduler_name: String,
}

fn node_of(pod: &Pod) -> Option<&str> {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .filter(|n| !n.is_empty())
}

fn finished(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

impl Shared {
    pub fn new(scheduler_name: String) -> Shared {
        Shared {
            cache: Mutex::new(Cache::default()),
            queue: Mutex::new(Queue::default()),
            wake: Notify::new(),
            scheduler_name,
        }
    }

    pub fn cluster_changed(&self, hints: u8) {
        self.queue.lock().cluster_changed(hints, Instant::now());
        self.wake.notify_one();
    }

    /// A pod added or modified.
    pub fn apply_pod(&self, pod: Pod) {
        if finished(&pod) {
            return self.delete_pod(&pod);
        }
        let facts = Arc::new(PodFacts::of(Arc::new(pod)));
        if let Some(node) = node_of(&facts.pod).map(str::to_string) {
            self.cache.lock().bound(facts.clone(), &node);
            self.queue.lock().remove(&facts.uid);
            self.cluster_changed(hints::POD_AFFINITY);
            return;
        }
        let spec = facts.pod.spec.as_ref();
        let ours = spec
            .and_then(|s| s.scheduler_name.as_deref())
            .unwrap_or(crate::writes::SCHEDULER_NAME)
            == self.scheduler_name;
        let gated =
            spec.is_some_and(|s| s.scheduling_gates.as_ref().is_some_and(|g| !g.is_empty()));
        let deleting = facts.pod.metadata.deletion_timestamp.is_some();
        if !ours || gated || deleting {
            self.queue.lock().remove(&facts.uid);
            return;
        }
        // An event from before our own binding: the pod is already assumed on a node.
        if self.cache.lock().is_assumed(&facts.uid) {
            return;
        }
        self.queue.lock().add_or_update(facts, Instant::now());
        self.wake.notify_one();
    }

    pub fn delete_pod(&self, pod: &Pod) {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        self.queue.lock().remove(&uid);
        if self.cache.lock().remove_pod(&uid) {
            self.cluster_changed(hints::RESOURCES | hints::PORTS | hints::POD_AFFINITY);
        }
    }

    /// After a relist: drop pods the apiserver no longer has (assumed ones stay: their
    /// binding is in flight).
    pub fn prune_pods(&self, seen: &HashSet<String>) {
        let gone: Vec<String> = {
            let cache = self.cache.lock();
            cache
                .placed_pods()
                .filter(|uid| !seen.contains(*uid) && !cache.is_assumed(uid))
                .cloned()
                .collect()
        };
        for uid in &gone {
            self.cache.lock().remove_pod(uid);
            self.queue.lock().remove(uid);
        }
        if !gone.is_empty() {
            self.cluster_changed(hints::ALL);
        }
    }

    pub fn apply_node(&self, node: Node) {
        if self.cache.lock().upsert_node(node) {
            self.cluster_changed(hints::ALL);
        }
    }

    pub fn delete_node(&self, node: &Node) {
        let name = node.metadata.name.clone().unwrap_or_default();
        self.cache.lock().remove_node(&name);
    }

    pub fn apply_namespace(&self, namespace: Namespace) {
        let name = namespace.metadata.name.clone().unwrap_or_default();
        let labels = namespace.metadata.labels.unwrap_or_default();
        let changed = self.cache.lock().namespaces.insert(name, labels.clone()) != Some(labels);
        if changed {
            self.cluster_changed(hints::POD_AFFINITY);
        }
    }

    pub fn delete_namespace(&self, namespace: &Namespace) {
        let name = namespace.metadata.name.clone().unwrap_or_default();
        self.cache.lock().namespaces.remove(&name);
    }
}
