//! Filters: can the pod run on this node? Pure functions of the pod being scheduled (with
//! what was precomputed for it this cycle) and one NodeInfo, in upstream's plugin order;
//! the first plugin that rejects the node decides, as in upstream's framework.

pub mod fit;
pub mod pod_affinity;
pub mod taints;

use k8s_openapi::api::core::v1::{PodSpec, Taint};

use crate::node_info::{NodeInfo, PodFacts};
use crate::selectors::{map_selector_matches, node_terms_match};
pub use pod_affinity::AffinityState;

/// Why a node cannot take the pod. `unresolvable` failures are ones removing pods from the
/// node would not fix (upstream's UnschedulableAndUnresolvable): preemption skips them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub reasons: Vec<String>,
    pub unresolvable: bool,
}

impl Rejection {
    fn unresolvable(reason: impl Into<String>) -> Rejection {
        Rejection {
            reasons: vec![reason.into()],
            unresolvable: true,
        }
    }

    fn resolvable(reason: impl Into<String>) -> Rejection {
        Rejection {
            reasons: vec![reason.into()],
            unresolvable: false,
        }
    }
}

pub const NODE_UNSCHEDULABLE: &str = "node(s) were unschedulable";
pub const NODE_NAME_MISMATCH: &str = "node(s) didn't match the requested node name";
pub const NODE_AFFINITY_MISMATCH: &str = "node(s) didn't match Pod's node affinity/selector";
pub const NODE_PORTS_TAKEN: &str = "node(s) didn't have free ports for the requested pod ports";

/// The pod being scheduled and what this cycle precomputed for it.
pub struct Candidate<'a> {
    pub facts: &'a PodFacts,
    pub spec: &'a PodSpec,
    pub affinity: AffinityState,
}

/// Every filter, in upstream's default order.
pub fn filter(candidate: &Candidate, node: &NodeInfo) -> Result<(), Rejection> {
    node_unschedulable(candidate.spec, node)?;
    node_name(candidate.spec, node)?;
    taint_toleration(candidate.spec, node)?;
    node_affinity(candidate.spec, node)?;
    node_ports(candidate.facts, node)?;
    fit::resources_fit(&candidate.facts.requests.exact, node)?;
    candidate.affinity.filter(node)?;
    Ok(())
}

/// A cordoned node takes only pods tolerating `node.kubernetes.io/unschedulable`.
pub fn node_unschedulable(spec: &PodSpec, node: &NodeInfo) -> Result<(), Rejection> {
    if !node.unschedulable() {
        return Ok(());
    }
    let cordon = Taint {
        key: "node.kubernetes.io/unschedulable".into(),
        effect: "NoSchedule".into(),
        value: None,
        time_added: None,
    };
    if taints::tolerated(spec.tolerations.as_deref().unwrap_or_default(), &cordon) {
        return Ok(());
    }
    Err(Rejection::unresolvable(NODE_UNSCHEDULABLE))
}

pub fn node_name(spec: &PodSpec, node: &NodeInfo) -> Result<(), Rejection> {
    match spec.node_name.as_deref() {
        Some(wanted) if !wanted.is_empty() && wanted != node.name() => {
            Err(Rejection::unresolvable(NODE_NAME_MISMATCH))
        }
        _ => Ok(()),
    }
}

pub fn taint_toleration(spec: &PodSpec, node: &NodeInfo) -> Result<(), Rejection> {
    let tolerations = spec.tolerations.as_deref().unwrap_or_default();
    match taints::first_untolerated(node.taints(), tolerations) {
        Some(taint) => Err(Rejection::unresolvable(taints::untolerated_message(taint))),
        None => Ok(()),
    }
}

/// `nodeSelector` and the required node affinity both have to match.
pub fn node_affinity(spec: &PodSpec, node: &NodeInfo) -> Result<(), Rejection> {
    let labels = node.labels();
    let selector_ok = spec
        .node_selector
        .as_ref()
        .is_none_or(|s| map_selector_matches(s, labels));
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|na| {
            na.required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    let affinity_ok =
        required.is_none_or(|r| node_terms_match(&r.node_selector_terms, node.name(), labels));
    if selector_ok && affinity_ok {
        Ok(())
    } else {
        Err(Rejection::unresolvable(NODE_AFFINITY_MISMATCH))
    }
}

pub fn node_ports(pod: &PodFacts, node: &NodeInfo) -> Result<(), Rejection> {
    let taken = pod
        .host_ports
        .iter()
        .any(|want| node.used_ports.keys().any(|used| used.conflicts(want)));
    if taken {
        Err(Rejection::resolvable(NODE_PORTS_TAKEN))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    fn node(v: serde_json::Value) -> NodeInfo {
        let mut info = NodeInfo::default();
        info.set_node(Arc::new(serde_json::from_value(v).unwrap()));
        info
    }

    fn spec(v: serde_json::Value) -> PodSpec {
        serde_json::from_value(v).unwrap()
    }

    fn facts(v: serde_json::Value) -> Arc<PodFacts> {
        Arc::new(PodFacts::of(Arc::new(serde_json::from_value(v).unwrap())))
    }

    #[test]
    fn cordoned_nodes_need_the_unschedulable_toleration() {
        let n = node(json!({"metadata": {"name": "n"}, "spec": {"unschedulable": true}}));
        let plain = spec(json!({"containers": []}));
        assert_eq!(
            node_unschedulable(&plain, &n).unwrap_err().reasons,
            vec![NODE_UNSCHEDULABLE]
        );
        let tolerant = spec(json!({"containers": [], "tolerations": [
            {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]}));
        assert!(node_unschedulable(&tolerant, &n).is_ok());
    }

    #[test]
    fn node_selector_and_required_affinity_both_apply() {
        let n = node(json!({"metadata": {"name": "n", "labels": {"disk": "ssd", "zone": "a"}}}));
        let ok = spec(json!({"containers": [], "nodeSelector": {"disk": "ssd"},
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]},
                {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n"]}]}]}}}}));
        assert!(node_affinity(&ok, &n).is_ok());
        let wrong_selector = spec(json!({"containers": [], "nodeSelector": {"disk": "hdd"}}));
        let err = node_affinity(&wrong_selector, &n).unwrap_err();
        assert!(err.unresolvable);
        assert_eq!(err.reasons, vec![NODE_AFFINITY_MISMATCH]);
    }

    #[test]
    fn node_name_and_taints() {
        let n = node(
            json!({"metadata": {"name": "n"}, "spec": {"taints": [{"key": "k", "value": "v", "effect": "NoExecute"}]}}),
        );
        assert!(node_name(&spec(json!({"containers": [], "nodeName": "other"})), &n).is_err());
        assert!(node_name(&spec(json!({"containers": [], "nodeName": "n"})), &n).is_ok());
        let err = taint_toleration(&spec(json!({"containers": []})), &n).unwrap_err();
        assert_eq!(err.reasons, vec!["node(s) had untolerated taint {k: v}"]);
    }

    #[test]
    fn host_ports_collide_with_bound_pods() {
        let mut n = node(json!({"metadata": {"name": "n"}}));
        let web = |uid: &str, ip: &str| {
            facts(json!({"metadata": {"uid": uid}, "spec": {"containers": [
            {"name": "c", "ports": [{"containerPort": 80, "hostPort": 8080, "hostIP": ip}]}]}}))
        };
        n.add_pod(web("a", "10.0.0.1"));
        assert!(node_ports(&web("b", "10.0.0.2"), &n).is_ok());
        let err = node_ports(&web("c", ""), &n).unwrap_err();
        assert!(!err.unresolvable);
        assert_eq!(err.reasons, vec![NODE_PORTS_TAKEN]);
    }
}
