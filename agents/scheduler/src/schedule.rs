//! One scheduling decision (upstream's `schedulePod`): filter the nodes, starting where
//! the previous search stopped and stopping once enough feasible nodes are found, score
//! them, pick the best (ties at random). Pure over the cache: no I/O.

use rand::Rng;

use crate::cache::Cache;
use crate::diagnosis::{fit_error_message, hints_of};
use crate::filters::{filter, AffinityState, Candidate, Rejection};
use crate::node_info::{NodeInfo, PodFacts};
use crate::scores::total_scores;

/// Upstream's adaptive percentageOfNodesToScore: all nodes below 100; above, 50% less
/// 1% per 125 nodes, at least 5% and at least 100 nodes.
pub fn feasible_nodes_to_find(all: usize) -> usize {
    const MIN_NODES: usize = 100;
    if all < MIN_NODES {
        return all;
    }
    let percentage = 50usize.saturating_sub(all / 125).max(5);
    (all * percentage / 100).max(MIN_NODES)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Bind to this node.
    Fit(String),
    /// Fits nowhere: upstream's message, and the kinds of change worth retrying on.
    Unschedulable { message: String, hints: u8 },
}

/// Where the next search starts (rotates so every node gets its turn).
#[derive(Debug, Default)]
pub struct SearchStart(usize);

pub fn schedule(
    cache: &Cache,
    pod: &PodFacts,
    start: &mut SearchStart,
    rng: &mut impl Rng,
) -> Decision {
    let spec = pod.pod.spec.clone().unwrap_or_default();
    let nodes = cache.nodes();
    if nodes.is_empty() {
        return unschedulable(&[]);
    }
    let candidate = Candidate {
        facts: pod,
        spec: &spec,
        affinity: AffinityState::compute(pod, &spec, nodes.iter().copied(), &cache.namespaces),
    };
    let wanted = feasible_nodes_to_find(nodes.len());
    let mut feasible: Vec<&NodeInfo> = Vec::with_capacity(wanted);
    let mut rejections: Vec<Rejection> = Vec::new();
    let mut visited = 0;
    for i in 0..nodes.len() {
        let node = nodes[(start.0 + i) % nodes.len()];
        visited += 1;
        match filter(&candidate, node) {
            Ok(()) => {
                feasible.push(node);
                if feasible.len() >= wanted {
                    break;
                }
            }
            Err(rejection) => rejections.push(rejection),
        }
    }
    start.0 = (start.0 + visited) % nodes.len();
    match feasible.as_slice() {
        [] => unschedulable(&rejections),
        [only] => Decision::Fit(only.name().to_string()),
        _ => {
            let scores = total_scores(&spec, &pod.requests, &candidate.affinity, &feasible);
            Decision::Fit(pick_best(&feasible, &scores, rng).to_string())
        }
    }
}

fn unschedulable(rejections: &[Rejection]) -> Decision {
    Decision::Unschedulable {
        message: fit_error_message(rejections),
        hints: hints_of(rejections),
    }
}

/// The highest score; among equals, each equally likely (reservoir sampling).
fn pick_best<'a>(nodes: &[&'a NodeInfo], scores: &[i64], rng: &mut impl Rng) -> &'a str {
    let mut best = 0;
    let mut ties = 0u32;
    for (i, score) in scores.iter().enumerate() {
        if *score > scores[best] {
            best = i;
            ties = 1;
        } else if *score == scores[best] {
            ties += 1;
            if rng.gen_range(0..ties) == 0 {
                best = i;
            }
        }
    }
    nodes[best].name()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use serde_json::json;
    use std::sync::Arc;

    fn cache(nodes: serde_json::Value) -> Cache {
        let mut cache = Cache::default();
        for n in nodes.as_array().unwrap() {
            cache.upsert_node(serde_json::from_value(n.clone()).unwrap());
        }
        cache
    }

    fn node(name: &str, cpu: &str, taints: serde_json::Value) -> serde_json::Value {
        json!({"metadata": {"name": name}, "spec": {"taints": taints},
            "status": {"allocatable": {"cpu": cpu, "memory": "8Gi", "pods": "110"}}})
    }

    fn pod(uid: &str, cpu: &str) -> Arc<PodFacts> {
        Arc::new(PodFacts::of(Arc::new(
            serde_json::from_value(json!({"metadata": {"uid": uid, "namespace": "d", "name": uid},
                "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": "1Gi"}}}]}}))
            .unwrap(),
        )))
    }

    fn decide(cache: &Cache, pod: &PodFacts) -> Decision {
        schedule(
            cache,
            pod,
            &mut SearchStart::default(),
            &mut rand::rngs::StdRng::seed_from_u64(1),
        )
    }

    #[test]
    fn the_freest_untainted_node_wins_and_assumed_pods_count() {
        let mut c = cache(json!([
            node("small", "2", json!([])),
            node("big", "8", json!([])),
            node(
                "tainted",
                "16",
                json!([{"key": "dedicated", "value": "infra", "effect": "NoSchedule"}])
            ),
        ]));
        let first = pod("p1", "5");
        assert_eq!(decide(&c, &first), Decision::Fit("big".into()));
        c.assume(first, "big");
        // big has 3 cores left, small 2: a 2.5-core pod only fits big; a 3-core too.
        assert_eq!(decide(&c, &pod("p2", "2500m")), Decision::Fit("big".into()));
        c.assume(pod("p2", "2500m"), "big");
        assert_eq!(decide(&c, &pod("p3", "1")), Decision::Fit("small".into()));
    }

    #[test]
    fn a_pod_that_fits_nowhere_gets_the_histogram() {
        let c = cache(json!([
            node("a", "1", json!([])),
            node("b", "2", json!([])),
            node(
                "t",
                "16",
                json!([{"key": "dedicated", "value": "infra", "effect": "NoSchedule"}])
            ),
        ]));
        let Decision::Unschedulable { message, .. } = decide(&c, &pod("big", "4")) else {
            panic!("fits nowhere");
        };
        assert_eq!(
            message,
            "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: infra}, 2 Insufficient cpu. \
             preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, \
             2 No preemption victims found for incoming pod."
        );
    }

    #[test]
    fn searches_rotate_and_stop_early_on_large_clusters() {
        assert_eq!(feasible_nodes_to_find(50), 50);
        assert_eq!(feasible_nodes_to_find(1000), 420);
        assert_eq!(feasible_nodes_to_find(5000), 500);
        assert_eq!(feasible_nodes_to_find(100_000), 5000);
        let nodes: Vec<_> = (0..200)
            .map(|i| node(&format!("n{i}"), "4", json!([])))
            .collect();
        let c = cache(json!(nodes));
        let mut start = SearchStart::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        schedule(&c, &pod("p", "1"), &mut start, &mut rng);
        assert_eq!(start.0, 100, "stopped after the first 100 feasible nodes");
    }
}
