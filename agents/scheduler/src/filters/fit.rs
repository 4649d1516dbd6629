//! NodeResourcesFit: the pod's requests against what the node has left (allocatable
//! minus the requests of the pods bound or assumed there), and the pod count.

use crate::filters::Rejection;
use crate::node_info::NodeInfo;
use crate::resources::Resources;

pub const TOO_MANY_PODS: &str = "Too many pods";

/// All shortfalls at once (upstream reports each insufficient resource).
pub fn resources_fit(request: &Resources, node: &NodeInfo) -> Result<(), Rejection> {
    let mut reasons = Vec::new();
    if node.pods.len() as i64 + 1 > node.allowed_pods {
        reasons.push(TOO_MANY_PODS.to_string());
    }
    let free = |alloc: i64, used: i64| alloc.saturating_sub(used);
    let short = |want: i64, alloc: i64, used: i64| want > 0 && want > free(alloc, used);
    if short(
        request.milli_cpu,
        node.allocatable.milli_cpu,
        node.requested.milli_cpu,
    ) {
        reasons.push("Insufficient cpu".into());
    }
    if short(
        request.memory,
        node.allocatable.memory,
        node.requested.memory,
    ) {
        reasons.push("Insufficient memory".into());
    }
    if short(
        request.ephemeral_storage,
        node.allocatable.ephemeral_storage,
        node.requested.ephemeral_storage,
    ) {
        reasons.push("Insufficient ephemeral-storage".into());
    }
    for (name, want) in &request.scalar {
        if short(
            *want,
            node.allocatable.scalar(name),
            node.requested.scalar(name),
        ) {
            reasons.push(format!("Insufficient {name}"));
        }
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(Rejection {
            reasons,
            unresolvable: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_info::PodFacts;
    use serde_json::json;
    use std::sync::Arc;

    fn node(cpu: &str, pods: &str) -> NodeInfo {
        let mut info = NodeInfo::default();
        info.set_node(Arc::new(
            serde_json::from_value(json!({"metadata": {"name": "n"},
                "status": {"allocatable": {"cpu": cpu, "memory": "1Gi", "pods": pods}}}))
            .unwrap(),
        ));
        info
    }

    fn pod(uid: &str, requests: serde_json::Value) -> Arc<PodFacts> {
        Arc::new(PodFacts::of(Arc::new(
            serde_json::from_value(json!({"metadata": {"uid": uid}, "spec": {"containers": [
                {"name": "c", "resources": {"requests": requests}}]}}))
            .unwrap(),
        )))
    }

    #[test]
    fn bound_pods_use_up_allocatable() {
        let mut n = node("2", "110");
        let want = pod("x", json!({"cpu": "1500m"}));
        assert!(resources_fit(&want.requests.exact, &n).is_ok());
        n.add_pod(pod("a", json!({"cpu": "1"})));
        let err = resources_fit(&want.requests.exact, &n).unwrap_err();
        assert_eq!(err.reasons, vec!["Insufficient cpu"]);
        assert!(!err.unresolvable);
    }

    #[test]
    fn every_shortfall_is_reported_including_extended_resources_and_pod_count() {
        let mut n = node("1", "1");
        n.add_pod(pod("a", json!({})));
        let want = pod(
            "x",
            json!({"cpu": "2", "memory": "2Gi", "example.com/gpu": "1"}),
        );
        let err = resources_fit(&want.requests.exact, &n).unwrap_err();
        assert_eq!(
            err.reasons,
            vec![
                "Too many pods",
                "Insufficient cpu",
                "Insufficient memory",
                "Insufficient example.com/gpu"
            ]
        );
    }

    #[test]
    fn a_pod_requesting_nothing_fits_an_empty_node() {
        let n = node("0", "10");
        assert!(resources_fit(&pod("x", json!({})).requests.exact, &n).is_ok());
    }
}
