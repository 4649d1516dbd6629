//! Why a pod fits nowhere, in upstream's words (`FitError.Error()` plus the default
//! preemption plugin's note), and which cluster changes could make it fit.

use std::collections::BTreeMap;

use crate::filters::{fit, pod_affinity, Rejection, NODE_PORTS_TAKEN};

/// Upstream's message when the cluster has no node at all.
pub const NO_NODES: &str = "no nodes available to schedule pods";

const NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";
const NO_VICTIMS: &str = "No preemption victims found for incoming pod";

/// `"{count} {reason}"` for each distinct reason, sorted as strings, joined.
fn histogram<'a>(reasons: impl Iterator<Item = &'a str>) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for reason in reasons {
        *counts.entry(reason).or_insert(0) += 1;
    }
    let mut parts: Vec<String> = counts.iter().map(|(r, n)| format!("{n} {r}")).collect();
    parts.sort();
    parts.join(", ")
}

/// `0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {k: v}.
/// preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod,
/// 2 Preemption is not helpful for scheduling.` — one rejection per node. rkube does
/// not preempt: nodes where evicting pods could help are reported as having no victims.
pub fn fit_error_message(rejections: &[Rejection]) -> String {
    let total = rejections.len();
    if total == 0 {
        return NO_NODES.to_string();
    }
    let filters = histogram(
        rejections
            .iter()
            .flat_map(|r| r.reasons.iter().map(String::as_str)),
    );
    let preemption = histogram(rejections.iter().map(|r| {
        if r.unresolvable {
            NOT_HELPFUL
        } else {
            NO_VICTIMS
        }
    }));
    format!(
        "0/{total} nodes are available: {filters}. preemption: 0/{total} nodes are available: {preemption}."
    )
}

/// Which kinds of cluster change could turn a rejection into a fit: the queue retries an
/// unschedulable pod only on those (upstream's queueing hints, coarsely).
pub mod hints {
    pub const RESOURCES: u8 = 1;
    pub const PORTS: u8 = 2;
    pub const POD_AFFINITY: u8 = 4;
    pub const NODE: u8 = 8;
    pub const ALL: u8 = RESOURCES | PORTS | POD_AFFINITY | NODE;
}

pub fn hints_of(rejections: &[Rejection]) -> u8 {
    let mut out = 0;
    for reason in rejections.iter().flat_map(|r| &r.reasons) {
        out |= if reason.starts_with("Insufficient ") || reason == fit::TOO_MANY_PODS {
            hints::RESOURCES
        } else if reason == NODE_PORTS_TAKEN {
            hints::PORTS
        } else if [
            pod_affinity::AFFINITY_MISMATCH,
            pod_affinity::ANTI_AFFINITY_MISMATCH,
            pod_affinity::EXISTING_ANTI_AFFINITY,
        ]
        .contains(&reason.as_str())
        {
            hints::POD_AFFINITY
        } else {
            hints::NODE
        };
    }
    if rejections.is_empty() {
        hints::NODE
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejection(reasons: &[&str], unresolvable: bool) -> Rejection {
        Rejection {
            reasons: reasons.iter().map(|r| r.to_string()).collect(),
            unresolvable,
        }
    }

    #[test]
    fn upstream_message_shape() {
        let message = fit_error_message(&[
            rejection(
                &["node(s) had untolerated taint {machine-check-exception: memory}"],
                true,
            ),
            rejection(&["Insufficient cpu"], false),
            rejection(&["Insufficient cpu"], false),
        ]);
        assert_eq!(
            message,
            "0/3 nodes are available: 1 node(s) had untolerated taint {machine-check-exception: memory}, \
             2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful \
             for scheduling, 2 No preemption victims found for incoming pod."
        );
    }

    #[test]
    fn several_reasons_on_one_node_each_count() {
        let message = fit_error_message(&[rejection(
            &["Insufficient cpu", "Insufficient memory"],
            false,
        )]);
        assert!(
            message
                .starts_with("0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory."),
            "{message}"
        );
        assert_eq!(fit_error_message(&[]), NO_NODES);
    }

    #[test]
    fn hints_follow_the_reasons() {
        assert_eq!(
            hints_of(&[rejection(&["Too many pods"], false)]),
            hints::RESOURCES
        );
        assert_eq!(
            hints_of(&[
                rejection(&["node(s) were unschedulable"], true),
                rejection(&[NODE_PORTS_TAKEN], false)
            ]),
            hints::NODE | hints::PORTS
        );
    }
}
