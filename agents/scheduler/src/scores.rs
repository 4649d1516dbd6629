//! Scores: how good is a feasible node? Each plugin scores 0..=100 (after its own
//! normalization across the feasible nodes), weighted like upstream's default profile:
//! TaintToleration 3, NodeAffinity 2, InterPodAffinity 2, NodeResourcesFit
//! (LeastAllocated) 1, NodeResourcesBalancedAllocation 1.

use k8s_openapi::api::core::v1::PodSpec;

use crate::filters::{taints, AffinityState};
use crate::node_info::NodeInfo;
use crate::resources::{PodRequests, Resources};
use crate::selectors::node_term_matches;

pub const MAX_SCORE: i64 = 100;
const TAINT_TOLERATION_WEIGHT: i64 = 3;
const NODE_AFFINITY_WEIGHT: i64 = 2;
const INTER_POD_AFFINITY_WEIGHT: i64 = 2;
const LEAST_ALLOCATED_WEIGHT: i64 = 1;
const BALANCED_ALLOCATION_WEIGHT: i64 = 1;

/// (allocatable, requested-with-this-pod) of cpu and memory.
fn cpu_and_memory(node: &NodeInfo, on_node: &Resources, pod: &Resources) -> [(i64, i64); 2] {
    [
        (
            node.allocatable.milli_cpu,
            on_node.milli_cpu.saturating_add(pod.milli_cpu),
        ),
        (
            node.allocatable.memory,
            on_node.memory.saturating_add(pod.memory),
        ),
    ]
}

/// LeastAllocated: the free share of cpu and memory after placing the pod (requests with
/// upstream's non-zero defaults), averaged.
pub fn least_allocated(pod: &PodRequests, node: &NodeInfo) -> i64 {
    let per_resource = cpu_and_memory(node, &node.non_zero_requested, &pod.non_zero).map(
        |(allocatable, requested)| {
            if allocatable <= 0 || requested > allocatable {
                0
            } else {
                (allocatable - requested) * MAX_SCORE / allocatable
            }
        },
    );
    per_resource.iter().sum::<i64>() / per_resource.len() as i64
}

/// BalancedAllocation: nodes whose cpu and memory fill up evenly score higher,
/// `(1 - stddev of the used fractions) * 100`. A pod requesting nothing does not count.
pub fn balanced_allocation(pod: &PodRequests, node: &NodeInfo) -> i64 {
    if pod.exact.milli_cpu == 0 && pod.exact.memory == 0 {
        return 0;
    }
    let fractions: Vec<f64> = cpu_and_memory(node, &node.requested, &pod.exact)
        .into_iter()
        .filter(|(allocatable, _)| *allocatable > 0)
        .map(|(allocatable, requested)| (requested as f64 / allocatable as f64).min(1.0))
        .collect();
    let std = match fractions.as_slice() {
        [a, b] => (a - b).abs() / 2.0,
        [] | [_] => 0.0,
        all => {
            let mean = all.iter().sum::<f64>() / all.len() as f64;
            (all.iter().map(|f| (f - mean).powi(2)).sum::<f64>() / all.len() as f64).sqrt()
        }
    };
    ((1.0 - std) * MAX_SCORE as f64) as i64
}

/// Preferred node affinity: the sum of the weights of the matching preferred terms.
pub fn node_affinity_raw(spec: &PodSpec, node: &NodeInfo) -> i64 {
    spec.affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|na| {
            na.preferred_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .into_iter()
        .flatten()
        .filter(|t| node_term_matches(&t.preference, node.name(), node.labels()))
        .map(|t| i64::from(t.weight))
        .sum()
}

/// TaintToleration: how many PreferNoSchedule taints the pod does not tolerate.
pub fn intolerable_taints_raw(spec: &PodSpec, node: &NodeInfo) -> i64 {
    taints::untolerated_prefer_no_schedule(
        node.taints(),
        spec.tolerations.as_deref().unwrap_or_default(),
    )
}

/// Upstream's DefaultNormalizeScore: scale so the highest is 100 (reversed: lowest is).
pub fn normalize(raw: &mut [i64], reverse: bool) {
    let max = raw.iter().copied().max().unwrap_or(0);
    for score in raw.iter_mut() {
        let scaled = if max == 0 {
            0
        } else {
            *score * MAX_SCORE / max
        };
        *score = if reverse { MAX_SCORE - scaled } else { scaled };
    }
}

/// Min-max normalization (InterPodAffinity's, whose raw scores may be negative).
pub fn normalize_min_max(raw: &mut [i64]) {
    let (min, max) = (
        raw.iter().copied().min().unwrap_or(0),
        raw.iter().copied().max().unwrap_or(0),
    );
    for score in raw.iter_mut() {
        *score = if max > min {
            (*score - min) * MAX_SCORE / (max - min)
        } else {
            0
        };
    }
}

/// The weighted total of every score for each feasible node, in `nodes`' order.
pub fn total_scores(
    spec: &PodSpec,
    pod: &PodRequests,
    affinity: &AffinityState,
    nodes: &[&NodeInfo],
) -> Vec<i64> {
    let mut taint: Vec<i64> = nodes
        .iter()
        .map(|n| intolerable_taints_raw(spec, n))
        .collect();
    normalize(&mut taint, true);
    let mut node_affinity: Vec<i64> = nodes.iter().map(|n| node_affinity_raw(spec, n)).collect();
    normalize(&mut node_affinity, false);
    let mut pod_affinity: Vec<i64> = nodes.iter().map(|n| affinity.preferred_score(n)).collect();
    normalize_min_max(&mut pod_affinity);
    nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            TAINT_TOLERATION_WEIGHT * taint[i]
                + NODE_AFFINITY_WEIGHT * node_affinity[i]
                + INTER_POD_AFFINITY_WEIGHT * pod_affinity[i]
                + LEAST_ALLOCATED_WEIGHT * least_allocated(pod, n)
                + BALANCED_ALLOCATION_WEIGHT * balanced_allocation(pod, n)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_info::PodFacts;
    use serde_json::json;
    use std::sync::Arc;

    fn node(v: serde_json::Value) -> NodeInfo {
        let mut info = NodeInfo::default();
        info.set_node(Arc::new(serde_json::from_value(v).unwrap()));
        info
    }

    fn sized(cpu: &str, memory: &str) -> NodeInfo {
        node(
            json!({"metadata": {"name": "n"}, "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": "110"}}}),
        )
    }

    fn pod(spec: serde_json::Value) -> PodFacts {
        PodFacts::of(Arc::new(
            serde_json::from_value(json!({"metadata": {"uid": "p"}, "spec": spec})).unwrap(),
        ))
    }

    #[test]
    fn least_allocated_prefers_free_nodes() {
        let p = pod(
            json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]}),
        );
        assert_eq!(least_allocated(&p.requests, &sized("4", "4Gi")), 75);
        assert_eq!(
            least_allocated(&p.requests, &sized("2", "4Gi")),
            (50 + 75) / 2
        );
        assert_eq!(
            least_allocated(&p.requests, &sized("500m", "4Gi")),
            75 / 2,
            "over-committed counts 0"
        );
    }

    #[test]
    fn balanced_allocation_prefers_even_use() {
        let p = pod(
            json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]}),
        );
        assert_eq!(balanced_allocation(&p.requests, &sized("4", "4Gi")), 100);
        // cpu 1/2, memory 1/4: std = 0.125.
        assert_eq!(balanced_allocation(&p.requests, &sized("2", "4Gi")), 87);
        let empty = pod(json!({"containers": [{"name": "c"}]}));
        assert_eq!(balanced_allocation(&empty.requests, &sized("2", "4Gi")), 0);
    }

    #[test]
    fn preferred_node_affinity_and_prefer_no_schedule_taints() {
        let spec: PodSpec = serde_json::from_value(json!({"containers": [], "affinity": {"nodeAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 80, "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}},
                {"weight": 20, "preference": {"matchExpressions": [{"key": "zone", "operator": "Exists"}]}}]}}}))
        .unwrap();
        let ssd = node(json!({"metadata": {"name": "a", "labels": {"disk": "ssd", "zone": "z"}}}));
        let hdd = node(json!({"metadata": {"name": "b", "labels": {"disk": "hdd"}},
            "spec": {"taints": [{"key": "k", "effect": "PreferNoSchedule"}]}}));
        assert_eq!(node_affinity_raw(&spec, &ssd), 100);
        assert_eq!(node_affinity_raw(&spec, &hdd), 0);
        let mut taint = vec![
            intolerable_taints_raw(&spec, &ssd),
            intolerable_taints_raw(&spec, &hdd),
        ];
        normalize(&mut taint, true);
        assert_eq!(taint, vec![100, 0]);
    }

    #[test]
    fn normalizations() {
        let mut raw = vec![0, 5, 10];
        normalize(&mut raw, false);
        assert_eq!(raw, vec![0, 50, 100]);
        let mut zeros = vec![0, 0];
        normalize(&mut zeros, true);
        assert_eq!(zeros, vec![100, 100]);
        let mut signed = vec![-10, 0, 10];
        normalize_min_max(&mut signed);
        assert_eq!(signed, vec![0, 50, 100]);
    }
}
