//! Inter-pod affinity: the required terms as a filter and the preferred ones as a score.
//! Each cycle first counts, per topology pair (label key, value), the existing pods that
//! match the incoming pod's terms and the existing pods whose anti-affinity the incoming
//! pod would violate (upstream's PreFilter); filtering a node is then a few lookups.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::{PodAffinityTerm, PodSpec, WeightedPodAffinityTerm};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::filters::Rejection;
use crate::node_info::{NodeInfo, PodFacts};
use crate::selectors::{label_selector_matches, Labels};

pub const EXISTING_ANTI_AFFINITY: &str = "node(s) didn't satisfy existing pods anti-affinity rules";
pub const AFFINITY_MISMATCH: &str = "node(s) didn't match pod affinity rules";
pub const ANTI_AFFINITY_MISMATCH: &str = "node(s) didn't match pod anti-affinity rules";

/// Weight of an existing pod's *required* affinity toward the incoming pod, when scoring
/// (upstream's hardPodAffinityWeight default).
const HARD_POD_AFFINITY_WEIGHT: i64 = 1;

/// Namespace name → labels, for namespaceSelector.
pub type NamespaceLabels = HashMap<String, Labels>;

type TopologyPair = (String, String);
type Counts = HashMap<TopologyPair, i64>;

/// A PodAffinityTerm resolved against the pod that declares it.
#[derive(Debug, Clone)]
pub struct Term {
    namespaces: Vec<String>,
    namespace_selector: Option<LabelSelector>,
    selector: Option<LabelSelector>,
    topology_key: String,
    weight: i64,
}

impl Term {
    fn new(term: &PodAffinityTerm, owner_namespace: &str, weight: i64) -> Term {
        let mut namespaces = term.namespaces.clone().unwrap_or_default();
        if namespaces.is_empty() && term.namespace_selector.is_none() {
            namespaces.push(owner_namespace.to_string());
        }
        Term {
            namespaces,
            namespace_selector: term.namespace_selector.clone(),
            selector: term.label_selector.clone(),
            topology_key: term.topology_key.clone(),
            weight,
        }
    }

    /// The pod is in one of the term's namespaces and its labels match (a term without
    /// labelSelector matches no pod).
    fn matches(&self, pod: &PodFacts, namespaces: &NamespaceLabels) -> bool {
        let in_namespace = self.namespaces.contains(&pod.namespace)
            || self.namespace_selector.as_ref().is_some_and(|s| {
                namespaces
                    .get(&pod.namespace)
                    .is_some_and(|labels| label_selector_matches(s, labels))
            });
        in_namespace
            && self
                .selector
                .as_ref()
                .is_some_and(|s| label_selector_matches(s, pod.labels()))
    }

    fn pair_on(&self, node: &NodeInfo) -> Option<TopologyPair> {
        node.labels()
            .get(&self.topology_key)
            .map(|v| (self.topology_key.clone(), v.clone()))
    }
}

fn required(terms: Option<&Vec<PodAffinityTerm>>, ns: &str) -> Vec<Term> {
    terms
        .into_iter()
        .flatten()
        .map(|t| Term::new(t, ns, 1))
        .collect()
}

fn preferred(terms: Option<&Vec<WeightedPodAffinityTerm>>, ns: &str) -> Vec<Term> {
    terms
        .into_iter()
        .flatten()
        .map(|t| Term::new(&t.pod_affinity_term, ns, i64::from(t.weight)))
        .collect()
}

/// The four term lists of a pod: required/preferred affinity and anti-affinity.
#[derive(Debug, Clone, Default)]
pub struct PodTerms {
    pub affinity: Vec<Term>,
    pub anti_affinity: Vec<Term>,
    pub preferred_affinity: Vec<Term>,
    pub preferred_anti_affinity: Vec<Term>,
}

impl PodTerms {
    pub fn of(spec: &PodSpec, namespace: &str) -> PodTerms {
        let affinity = spec.affinity.as_ref();
        let pa = affinity.and_then(|a| a.pod_affinity.as_ref());
        let paa = affinity.and_then(|a| a.pod_anti_affinity.as_ref());
        PodTerms {
            affinity: required(
                pa.and_then(|a| {
                    a.required_during_scheduling_ignored_during_execution
                        .as_ref()
                }),
                namespace,
            ),
            anti_affinity: required(
                paa.and_then(|a| {
                    a.required_during_scheduling_ignored_during_execution
                        .as_ref()
                }),
                namespace,
            ),
            preferred_affinity: preferred(
                pa.and_then(|a| {
                    a.preferred_during_scheduling_ignored_during_execution
                        .as_ref()
                }),
                namespace,
            ),
            preferred_anti_affinity: preferred(
                paa.and_then(|a| {
                    a.preferred_during_scheduling_ignored_during_execution
                        .as_ref()
                }),
                namespace,
            ),
        }
    }

    fn is_empty(&self) -> bool {
        self.affinity.is_empty()
            && self.anti_affinity.is_empty()
            && self.preferred_affinity.is_empty()
            && self.preferred_anti_affinity.is_empty()
    }
}

fn bump(counts: &mut Counts, pair: Option<TopologyPair>, by: i64) {
    if let Some(pair) = pair {
        *counts.entry(pair).or_insert(0) += by;
    }
}

/// What one cycle precomputed for the incoming pod.
#[derive(Debug, Clone, Default)]
pub struct AffinityState {
    terms: PodTerms,
    /// Pairs where existing pods match *all* required affinity terms.
    affinity_counts: Counts,
    /// Pairs where existing pods match a required anti-affinity term.
    anti_counts: Counts,
    /// Pairs where an existing pod's required anti-affinity matches the incoming pod.
    existing_anti_counts: Counts,
    /// The preferred-affinity score of each pair (may be negative).
    preferred_scores: Counts,
    matches_own_affinity: bool,
}

impl AffinityState {
    /// Walk the pods on `nodes` only when needed: the incoming pod has terms, or some
    /// existing pod has (anti-)affinity.
    pub fn compute<'a>(
        pod: &PodFacts,
        spec: &PodSpec,
        nodes: impl Iterator<Item = &'a NodeInfo>,
        namespaces: &NamespaceLabels,
    ) -> AffinityState {
        let terms = PodTerms::of(spec, &pod.namespace);
        let mut state = AffinityState {
            matches_own_affinity: !terms.affinity.is_empty()
                && terms.affinity.iter().all(|t| t.matches(pod, namespaces)),
            ..AffinityState::default()
        };
        let incoming_has_terms = !terms.is_empty();
        for node in nodes {
            if node.node.is_none() || (!incoming_has_terms && node.pods_with_affinity == 0) {
                continue;
            }
            for existing in node.pods.values() {
                if incoming_has_terms {
                    state.count_incoming_terms(&terms, existing, node, namespaces);
                }
                if existing.has_pod_affinity {
                    state.count_existing_terms(pod, existing, node, namespaces);
                }
            }
        }
        state.terms = terms;
        state
    }

    fn count_incoming_terms(
        &mut self,
        terms: &PodTerms,
        existing: &PodFacts,
        node: &NodeInfo,
        namespaces: &NamespaceLabels,
    ) {
        if !terms.affinity.is_empty()
            && terms
                .affinity
                .iter()
                .all(|t| t.matches(existing, namespaces))
        {
            for t in &terms.affinity {
                bump(&mut self.affinity_counts, t.pair_on(node), 1);
            }
        }
        for t in terms
            .anti_affinity
            .iter()
            .filter(|t| t.matches(existing, namespaces))
        {
            bump(&mut self.anti_counts, t.pair_on(node), 1);
        }
        for t in terms
            .preferred_affinity
            .iter()
            .filter(|t| t.matches(existing, namespaces))
        {
            bump(&mut self.preferred_scores, t.pair_on(node), t.weight);
        }
        for t in terms
            .preferred_anti_affinity
            .iter()
            .filter(|t| t.matches(existing, namespaces))
        {
            bump(&mut self.preferred_scores, t.pair_on(node), -t.weight);
        }
    }

    fn count_existing_terms(
        &mut self,
        incoming: &PodFacts,
        existing: &PodFacts,
        node: &NodeInfo,
        namespaces: &NamespaceLabels,
    ) {
        let Some(spec) = existing.pod.spec.as_ref() else {
            return;
        };
        let theirs = PodTerms::of(spec, &existing.namespace);
        for t in theirs
            .anti_affinity
            .iter()
            .filter(|t| t.matches(incoming, namespaces))
        {
            bump(&mut self.existing_anti_counts, t.pair_on(node), 1);
        }
        for t in theirs
            .affinity
            .iter()
            .filter(|t| t.matches(incoming, namespaces))
        {
            bump(
                &mut self.preferred_scores,
                t.pair_on(node),
                HARD_POD_AFFINITY_WEIGHT,
            );
        }
        for t in theirs
            .preferred_affinity
            .iter()
            .filter(|t| t.matches(incoming, namespaces))
        {
            bump(&mut self.preferred_scores, t.pair_on(node), t.weight);
        }
        for t in theirs
            .preferred_anti_affinity
            .iter()
            .filter(|t| t.matches(incoming, namespaces))
        {
            bump(&mut self.preferred_scores, t.pair_on(node), -t.weight);
        }
    }

    fn has(counts: &Counts, pair: Option<TopologyPair>) -> bool {
        pair.is_some_and(|p| counts.get(&p).is_some_and(|n| *n > 0))
    }

    pub fn filter(&self, node: &NodeInfo) -> Result<(), Rejection> {
        let violates_existing = node.labels().iter().any(|(k, v)| {
            self.existing_anti_counts
                .get(&(k.clone(), v.clone()))
                .is_some_and(|n| *n > 0)
        });
        if violates_existing {
            return Err(Rejection {
                reasons: vec![EXISTING_ANTI_AFFINITY.into()],
                unresolvable: false,
            });
        }
        let affinity = &self.terms.affinity;
        if !affinity.is_empty()
            && !affinity
                .iter()
                .all(|t| Self::has(&self.affinity_counts, t.pair_on(node)))
        {
            // The first pod of a group that selects itself may go anywhere its topology
            // key exists.
            let first_of_group = self.affinity_counts.is_empty()
                && self.matches_own_affinity
                && affinity.iter().all(|t| t.pair_on(node).is_some());
            if !first_of_group {
                return Err(Rejection {
                    reasons: vec![AFFINITY_MISMATCH.into()],
                    unresolvable: true,
                });
            }
        }
        if self
            .terms
            .anti_affinity
            .iter()
            .any(|t| Self::has(&self.anti_counts, t.pair_on(node)))
        {
            return Err(Rejection {
                reasons: vec![ANTI_AFFINITY_MISMATCH.into()],
                unresolvable: false,
            });
        }
        Ok(())
    }

    /// The raw preferred-affinity score of a node: the sum over its topology pairs.
    pub fn preferred_score(&self, node: &NodeInfo) -> i64 {
        if self.preferred_scores.is_empty() {
            return 0;
        }
        node.labels()
            .iter()
            .filter_map(|(k, v)| self.preferred_scores.get(&(k.clone(), v.clone())))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    fn node(name: &str, zone: &str) -> NodeInfo {
        let mut info = NodeInfo::default();
        info.set_node(Arc::new(
            serde_json::from_value(json!({"metadata": {"name": name,
                "labels": {"kubernetes.io/hostname": name, "zone": zone}}}))
            .unwrap(),
        ));
        info
    }

    fn pod(uid: &str, labels: serde_json::Value, affinity: serde_json::Value) -> Arc<PodFacts> {
        Arc::new(PodFacts::of(Arc::new(
            serde_json::from_value(
                json!({"metadata": {"uid": uid, "namespace": "ns", "labels": labels},
                "spec": {"containers": [], "affinity": affinity}}),
            )
            .unwrap(),
        )))
    }

    fn state(incoming: &PodFacts, nodes: &[NodeInfo]) -> AffinityState {
        AffinityState::compute(
            incoming,
            incoming.pod.spec.as_ref().unwrap(),
            nodes.iter(),
            &NamespaceLabels::new(),
        )
    }

    fn term(app: &str, key: &str) -> serde_json::Value {
        json!({"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": key})
    }

    #[test]
    fn required_affinity_follows_the_topology_of_matching_pods() {
        let mut nodes = vec![node("a", "z1"), node("b", "z1"), node("c", "z2")];
        nodes[0].add_pod(pod("db", json!({"app": "db"}), json!(null)));
        let web = pod(
            "web",
            json!({"app": "web"}),
            json!({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term("db", "zone")]}}),
        );
        let s = state(&web, &nodes);
        assert!(s.filter(&nodes[0]).is_ok());
        assert!(s.filter(&nodes[1]).is_ok(), "same zone");
        let err = s.filter(&nodes[2]).unwrap_err();
        assert_eq!(err.reasons, vec![AFFINITY_MISMATCH]);
        assert!(err.unresolvable);
    }

    #[test]
    fn the_first_pod_of_a_self_selecting_group_goes_anywhere() {
        let nodes = vec![node("a", "z1")];
        let first = pod(
            "w1",
            json!({"app": "web"}),
            json!({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term("web", "zone")]}}),
        );
        assert!(state(&first, &nodes).filter(&nodes[0]).is_ok());
        let other = pod(
            "w2",
            json!({"app": "api"}),
            json!({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term("web", "zone")]}}),
        );
        assert!(state(&other, &nodes).filter(&nodes[0]).is_err());
    }

    #[test]
    fn anti_affinity_both_ways() {
        let mut nodes = vec![node("a", "z1"), node("b", "z2")];
        nodes[0].add_pod(pod("w1", json!({"app": "web"}),
            json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term("web", "kubernetes.io/hostname")]}})));
        // The incoming pod's own anti-affinity.
        let spread = pod(
            "w2",
            json!({"app": "other"}),
            json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term("web", "kubernetes.io/hostname")]}}),
        );
        let s = state(&spread, &nodes);
        assert_eq!(
            s.filter(&nodes[0]).unwrap_err().reasons,
            vec![ANTI_AFFINITY_MISMATCH]
        );
        assert!(s.filter(&nodes[1]).is_ok());
        // An existing pod's anti-affinity against a plain incoming pod.
        let plain = pod("w3", json!({"app": "web"}), json!(null));
        let s = state(&plain, &nodes);
        assert_eq!(
            s.filter(&nodes[0]).unwrap_err().reasons,
            vec![EXISTING_ANTI_AFFINITY]
        );
        assert!(s.filter(&nodes[1]).is_ok());
    }

    #[test]
    fn preferred_terms_score_topology_pairs() {
        let mut nodes = vec![node("a", "z1"), node("b", "z2")];
        nodes[1].add_pod(pod("db", json!({"app": "db"}), json!(null)));
        let web = pod(
            "web",
            json!({"app": "web"}),
            json!({"podAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 50, "podAffinityTerm": term("db", "zone")}]}}),
        );
        let s = state(&web, &nodes);
        assert_eq!(s.preferred_score(&nodes[0]), 0);
        assert_eq!(s.preferred_score(&nodes[1]), 50);
    }
}
