//! What the scheduler knows per node (upstream's `NodeInfo`): the Node, the pods bound or
//! assumed onto it, and running totals of their requests and host ports, so a filter
//! or score reads sums instead of walking pods.

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod, Taint};

use crate::resources::{allocatable, PodRequests, Resources};
use crate::selectors::Labels;

/// A host port a container asks for: (protocol, hostIP, port); hostIP "0.0.0.0" means all.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    pub protocol: String,
    pub ip: String,
    pub port: i32,
}

const ANY_IP: &str = "0.0.0.0";

impl HostPort {
    /// Two host ports collide on the same protocol and port when either IP is the wildcard
    /// or both are equal.
    pub fn conflicts(&self, other: &HostPort) -> bool {
        self.port == other.port
            && self.protocol == other.protocol
            && (self.ip == other.ip || self.ip == ANY_IP || other.ip == ANY_IP)
    }
}

/// The facts about a pod the scheduler computes once, when the pod is seen.
#[derive(Debug, Clone)]
pub struct PodFacts {
    pub pod: Arc<Pod>,
    pub uid: String,
    pub namespace: String,
    pub name: String,
    pub requests: PodRequests,
    pub host_ports: Vec<HostPort>,
    pub priority: i32,
    /// The pod declares pod affinity or anti-affinity (existing pods with it are checked
    /// against every incoming pod).
    pub has_pod_affinity: bool,
}

static NO_LABELS: Labels = Labels::new();

impl PodFacts {
    pub fn of(pod: Arc<Pod>) -> PodFacts {
        let spec = pod.spec.clone().unwrap_or_default();
        let host_ports = spec
            .containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
            .flat_map(|c| c.ports.iter().flatten())
            .filter(|p| p.host_port.is_some_and(|hp| hp > 0))
            .map(|p| HostPort {
                protocol: p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                ip: p
                    .host_ip
                    .clone()
                    .filter(|ip| !ip.is_empty())
                    .unwrap_or_else(|| ANY_IP.into()),
                port: p.host_port.unwrap_or(0),
            })
            .collect();
        let has_pod_affinity = spec
            .affinity
            .as_ref()
            .is_some_and(|a| a.pod_affinity.is_some() || a.pod_anti_affinity.is_some());
        PodFacts {
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            namespace: pod.metadata.namespace.clone().unwrap_or_default(),
            name: pod.metadata.name.clone().unwrap_or_default(),
            requests: PodRequests::of(&spec),
            host_ports,
            priority: spec.priority.unwrap_or(0),
            has_pod_affinity,
            pod,
        }
    }

    pub fn labels(&self) -> &Labels {
        self.pod.metadata.labels.as_ref().unwrap_or(&NO_LABELS)
    }

    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// One node and what is placed on it.
#[derive(Debug, Clone, Default)]
pub struct NodeInfo {
    /// None while pods name a node the scheduler has not seen (or no longer sees).
    pub node: Option<Arc<Node>>,
    pub allocatable: Resources,
    pub allowed_pods: i64,
    pub requested: Resources,
    pub non_zero_requested: Resources,
    pub pods: HashMap<String, Arc<PodFacts>>,
    pub used_ports: HashMap<HostPort, u32>,
    pub pods_with_affinity: usize,
}

impl NodeInfo {
    pub fn set_node(&mut self, node: Arc<Node>) {
        let (allocatable, pods) = allocatable(&node);
        self.allocatable = allocatable;
        self.allowed_pods = pods;
        self.node = Some(node);
    }

    pub fn name(&self) -> &str {
        self.node
            .as_ref()
            .and_then(|n| n.metadata.name.as_deref())
            .unwrap_or("")
    }

    pub fn labels(&self) -> &Labels {
        self.node
            .as_ref()
            .and_then(|n| n.metadata.labels.as_ref())
            .unwrap_or(&NO_LABELS)
    }

    pub fn taints(&self) -> &[Taint] {
        self.node
            .as_ref()
            .and_then(|n| n.spec.as_ref())
            .and_then(|s| s.taints.as_deref())
            .unwrap_or_default()
    }

    pub fn unschedulable(&self) -> bool {
        self.node
            .as_ref()
            .and_then(|n| n.spec.as_ref())
            .and_then(|s| s.unschedulable)
            .unwrap_or(false)
    }

    pub fn add_pod(&mut self, pod: Arc<PodFacts>) {
        self.requested.add(&pod.requests.exact);
        self.non_zero_requested.add(&pod.requests.non_zero);
        for port in &pod.host_ports {
            *self.used_ports.entry(port.clone()).or_insert(0) += 1;
        }
        if pod.has_pod_affinity {
            self.pods_with_affinity += 1;
        }
        if let Some(old) = self.pods.insert(pod.uid.clone(), pod) {
            self.subtract(&old);
        }
    }

    pub fn remove_pod(&mut self, uid: &str) -> Option<Arc<PodFacts>> {
        let pod = self.pods.remove(uid)?;
        self.subtract(&pod);
        Some(pod)
    }

    fn subtract(&mut self, pod: &PodFacts) {
        self.requested.subtract(&pod.requests.exact);
        self.non_zero_requested.subtract(&pod.requests.non_zero);
        for port in &pod.host_ports {
            if let Some(n) = self.used_ports.get_mut(port) {
                *n -= 1;
                if *n == 0 {
                    self.used_ports.remove(port);
                }
            }
        }
        if pod.has_pod_affinity {
            self.pods_with_affinity -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub fn facts(v: serde_json::Value) -> Arc<PodFacts> {
        Arc::new(PodFacts::of(Arc::new(serde_json::from_value(v).unwrap())))
    }

    #[test]
    fn totals_follow_adds_replacements_and_removals() {
        let mut info = NodeInfo::default();
        let a = facts(
            json!({"metadata": {"uid": "a"}, "spec": {"containers": [{"name": "c",
            "resources": {"requests": {"cpu": "1"}}, "ports": [{"containerPort": 80, "hostPort": 8080}]}]}}),
        );
        info.add_pod(a.clone());
        info.add_pod(a);
        assert_eq!(
            info.requested.milli_cpu, 1000,
            "adding the same pod twice counts once"
        );
        assert_eq!(info.used_ports.len(), 1);
        info.remove_pod("a");
        assert!(info.requested.is_zero());
        assert!(info.used_ports.is_empty());
        assert!(info.remove_pod("a").is_none());
    }

    #[test]
    fn host_port_conflicts() {
        let p = |proto: &str, ip: &str, port| HostPort {
            protocol: proto.into(),
            ip: ip.into(),
            port,
        };
        assert!(p("TCP", "0.0.0.0", 80).conflicts(&p("TCP", "10.0.0.1", 80)));
        assert!(p("TCP", "10.0.0.1", 80).conflicts(&p("TCP", "10.0.0.1", 80)));
        assert!(!p("TCP", "10.0.0.1", 80).conflicts(&p("TCP", "10.0.0.2", 80)));
        assert!(!p("TCP", "0.0.0.0", 80).conflicts(&p("UDP", "0.0.0.0", 80)));
        assert!(!p("TCP", "0.0.0.0", 80).conflicts(&p("TCP", "0.0.0.0", 81)));
    }
}
