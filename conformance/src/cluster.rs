//! What the cluster under test runs besides an apiserver, learned through the API only,
//! so a test that needs a missing component is skipped with that component's name.

use serde_json::Value;

use crate::client::Api;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    /// A node agent: at least one Node reports Ready.
    Kubelet,
    /// The control loops (replication, endpoints, namespace, garbage collector, …).
    ControllerManager,
    Scheduler,
    /// Service routing on the nodes; counted present when a node is Ready (kube-proxy
    /// publishes nothing of its own through the API).
    KubeProxy,
}

impl Component {
    pub fn name(self) -> &'static str {
        match self {
            Component::Kubelet => "kubelet",
            Component::ControllerManager => "controller-manager",
            Component::Scheduler => "scheduler",
            Component::KubeProxy => "kube-proxy",
        }
    }
}

/// The components found at the start of a run.
#[derive(Debug, Clone, Default)]
pub struct ClusterFacts {
    pub ready_nodes: Vec<String>,
    pub controller_manager: bool,
    pub scheduler: bool,
}

impl ClusterFacts {
    pub async fn probe(api: &Api) -> anyhow::Result<ClusterFacts> {
        let nodes = api.get_json("/api/v1/nodes").await?;
        let ready_nodes = nodes["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|n| is_ready(n))
            .filter_map(|n| n["metadata"]["name"].as_str().map(str::to_string))
            .collect();
        let exists = |path: &'static str| async move {
            api.get(path)
                .send()
                .await
                .map(|r| r.status == 200)
                .unwrap_or(false)
        };
        // Leader election leases, as upstream's components hold them; the service
        // account controller's `default` account also gives the controller-manager away.
        let controller_manager = exists(
            "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager",
        )
        .await
            || exists("/api/v1/namespaces/kube-system/serviceaccounts/default").await;
        let scheduler =
            exists("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler")
                .await;
        Ok(ClusterFacts {
            ready_nodes,
            controller_manager,
            scheduler,
        })
    }

    pub fn has(&self, c: Component) -> bool {
        match c {
            Component::Kubelet | Component::KubeProxy => !self.ready_nodes.is_empty(),
            Component::ControllerManager => self.controller_manager,
            Component::Scheduler => self.scheduler,
        }
    }

    /// The skip reason for a test needing `needs`, or None when all are present.
    pub fn missing(&self, needs: &[Component]) -> Option<String> {
        let missing: Vec<&str> = needs
            .iter()
            .filter(|c| !self.has(**c))
            .map(|c| c.name())
            .collect();
        if missing.is_empty() {
            None
        } else {
            Some(format!("needs {}", missing.join(", ")))
        }
    }

    /// One line for the start of a run.
    pub fn describe(&self) -> String {
        let state = |b: bool| if b { "present" } else { "missing" };
        format!(
            "kubelet: {} ({} Ready node(s)), controller-manager: {}, scheduler: {}",
            state(!self.ready_nodes.is_empty()),
            self.ready_nodes.len(),
            state(self.controller_manager),
            state(self.scheduler)
        )
    }
}

fn is_ready(node: &Value) -> bool {
    node["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_reason_names_every_missing_component() {
        let facts = ClusterFacts::default();
        assert_eq!(
            facts.missing(&[Component::Kubelet, Component::Scheduler]),
            Some("needs kubelet, scheduler".into())
        );
        let facts = ClusterFacts {
            ready_nodes: vec!["n1".into()],
            ..Default::default()
        };
        assert_eq!(facts.missing(&[Component::Kubelet]), None);
        assert_eq!(
            facts.missing(&[Component::Kubelet, Component::ControllerManager]),
            Some("needs controller-manager".into())
        );
    }

    #[test]
    fn readiness_comes_from_the_ready_condition() {
        let ready =
            serde_json::json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        let not =
            serde_json::json!({"status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}});
        assert!(is_ready(&ready));
        assert!(!is_ready(&not));
        assert!(!is_ready(&serde_json::json!({})));
    }
}
