//! The scheduler's view of the cluster: nodes with the pods bound (or assumed) to them,
//! and namespace labels. Fed by the watches; the scheduling loop *assumes* a pod onto its
//! node the moment it decides, so the next decision already sees it, long before the
//! watch reports the binding (upstream's assumed pods). A failed binding forgets it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::Node;

use crate::filters::pod_affinity::NamespaceLabels;
use crate::node_info::{NodeInfo, PodFacts};

#[derive(Debug, Default)]
pub struct Cache {
    nodes: HashMap<String, NodeInfo>,
    /// Node names in a stable order, for the rotating start of each search.
    order: Vec<String>,
    /// Pod uid → the node it is on.
    placement: HashMap<String, String>,
    assumed: HashSet<String>,
    pub namespaces: NamespaceLabels,
}

/// What changed on a node, as far as scheduling cares.
fn scheduling_view(node: &Node) -> impl PartialEq + '_ {
    (
        node.metadata.labels.as_ref(),
        node.spec
            .as_ref()
            .map(|s| (s.taints.as_ref(), s.unschedulable)),
        node.status.as_ref().and_then(|s| s.allocatable.as_ref()),
    )
}

impl Cache {
    /// Add or replace a Node; true when something a filter or score reads changed.
    pub fn upsert_node(&mut self, node: Node) -> bool {
        let name = node.metadata.name.clone().unwrap_or_default();
        let info = self.nodes.entry(name.clone()).or_default();
        let changed = info
            .node
            .as_ref()
            .is_none_or(|old| scheduling_view(old) != scheduling_view(&node));
        if info.node.is_none() {
            self.order.push(name);
        }
        info.set_node(Arc::new(node));
        changed
    }

    pub fn remove_node(&mut self, name: &str) {
        if let Some(info) = self.nodes.get_mut(name) {
            info.node = None;
            if info.pods.is_empty() {
                self.nodes.remove(name);
            }
        }
        self.order.retain(|n| n != name);
    }

    /// The nodes that exist, in a stable order.
    pub fn nodes(&self) -> Vec<&NodeInfo> {
        self.order
            .iter()
            .filter_map(|n| self.nodes.get(n))
            .filter(|info| info.node.is_some())
            .collect()
    }

    #[cfg(test)]
    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.nodes.get(name)
    }

    /// Record a pod on `node` (from the watch, or assumed by the scheduler).
    fn place(&mut self, pod: Arc<PodFacts>, node: &str) {
        let uid = pod.uid.clone();
        if let Some(old) = self.placement.get(&uid).cloned() {
            if old != node {
                self.unplace(&uid);
            }
        }
        self.nodes.entry(node.to_string()).or_default().add_pod(pod);
        self.placement.insert(uid, node.to_string());
    }

    fn unplace(&mut self, uid: &str) -> bool {
        let Some(node) = self.placement.remove(uid) else {
            return false;
        };
        if let Some(info) = self.nodes.get_mut(&node) {
            info.remove_pod(uid);
            if info.node.is_none() && info.pods.is_empty() {
                self.nodes.remove(&node);
            }
        }
        true
    }

    /// A pod the watch shows bound to `node`: confirms an assumption, or adds it.
    pub fn bound(&mut self, pod: Arc<PodFacts>, node: &str) {
        self.assumed.remove(&pod.uid);
        self.place(pod, node);
    }

    /// A pod that is gone (deleted, or finished): true if it was on a node.
    pub fn remove_pod(&mut self, uid: &str) -> bool {
        self.assumed.remove(uid);
        self.unplace(uid)
    }

    pub fn assume(&mut self, pod: Arc<PodFacts>, node: &str) {
        self.assumed.insert(pod.uid.clone());
        self.place(pod, node);
    }

    /// Undo an assumption whose binding failed (a confirmed pod stays).
    pub fn forget(&mut self, uid: &str) {
        if self.assumed.remove(uid) {
            self.unplace(uid);
        }
    }

    pub fn is_assumed(&self, uid: &str) -> bool {
        self.assumed.contains(uid)
    }

    /// Pods known to be on nodes (bound or assumed), by uid.
    pub fn placed_pods(&self) -> impl Iterator<Item = &String> {
        self.placement.keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(name: &str, cpu: &str) -> Node {
        serde_json::from_value(json!({"metadata": {"name": name}, "status": {"allocatable": {"cpu": cpu, "pods": "10"}}})).unwrap()
    }

    fn pod(uid: &str) -> Arc<PodFacts> {
        Arc::new(PodFacts::of(Arc::new(
            serde_json::from_value(json!({"metadata": {"uid": uid}, "spec": {"containers": [
                {"name": "c", "resources": {"requests": {"cpu": "1"}}}]}}))
            .unwrap(),
        )))
    }

    #[test]
    fn assumed_pods_count_until_forgotten_and_confirmed_ones_stay() {
        let mut cache = Cache::default();
        assert!(cache.upsert_node(node("a", "4")));
        assert!(
            !cache.upsert_node(node("a", "4")),
            "no scheduling-relevant change"
        );
        cache.assume(pod("p1"), "a");
        cache.assume(pod("p2"), "a");
        assert_eq!(cache.node("a").unwrap().requested.milli_cpu, 2000);
        cache.bound(pod("p1"), "a");
        cache.forget("p1");
        cache.forget("p2");
        assert_eq!(cache.node("a").unwrap().requested.milli_cpu, 1000);
        assert!(cache.remove_pod("p1"));
        assert!(cache.node("a").unwrap().requested.is_zero());
    }

    #[test]
    fn pods_may_arrive_before_their_node_and_outlive_it() {
        let mut cache = Cache::default();
        cache.bound(pod("p"), "late");
        assert!(
            cache.nodes().is_empty(),
            "a node without its Node object is not offered"
        );
        cache.upsert_node(node("late", "2"));
        assert_eq!(cache.nodes()[0].requested.milli_cpu, 1000);
        cache.remove_node("late");
        assert!(cache.nodes().is_empty());
        cache.remove_pod("p");
        assert!(cache.node("late").is_none());
    }
}
