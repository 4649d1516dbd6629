//! The namespace status conditions upstream's namespace controller writes while it
//! deletes content: each is True with a reason when something is wrong, False otherwise.

use k8s_openapi::api::core::v1::{Namespace, NamespaceCondition, NamespaceStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::content::Cleanup;

struct Shape {
    type_: &'static str,
    ok_reason: &'static str,
    ok_message: &'static str,
}

const SHAPES: [Shape; 5] = [
    Shape {
        type_: "NamespaceDeletionDiscoveryFailure",
        ok_reason: "ResourcesDiscovered",
        ok_message: "All resources successfully discovered",
    },
    Shape {
        type_: "NamespaceDeletionGroupVersionParsingFailure",
        ok_reason: "ParsedGroupVersions",
        ok_message: "All legacy kube types successfully parsed",
    },
    Shape {
        type_: "NamespaceDeletionContentFailure",
        ok_reason: "ContentDeleted",
        ok_message: "All content successfully deleted, may be waiting on finalization",
    },
    Shape {
        type_: "NamespaceContentRemaining",
        ok_reason: "ContentRemoved",
        ok_message: "All content successfully removed",
    },
    Shape {
        type_: "NamespaceFinalizersRemaining",
        ok_reason: "ContentHasNoFinalizers",
        ok_message: "All content-preserving finalizers finished",
    },
];

/// The failure (reason, message) a cleanup reports for one condition type, if any.
fn failure(type_: &str, cleanup: &Cleanup) -> Option<(&'static str, String)> {
    match type_ {
        "NamespaceDeletionDiscoveryFailure" => cleanup.discovery_failure.as_ref().map(|e| {
            (
                "DiscoveryFailed",
                format!("Discovery failed for some groups, 1 failing: {e}"),
            )
        }),
        "NamespaceDeletionContentFailure" if !cleanup.deletion_failures.is_empty() => Some((
            "ContentDeletionFailed",
            format!(
                "Failed to delete all resource types, {} remaining: {}",
                cleanup.deletion_failures.len(),
                cleanup.deletion_failures.join(", ")
            ),
        )),
        "NamespaceContentRemaining" if !cleanup.remaining.is_empty() => Some((
            "SomeResourcesRemain",
            format!(
                "Some resources are remaining: {}",
                counted(&cleanup.remaining, "has", "resource instances")
            ),
        )),
        "NamespaceFinalizersRemaining" if !cleanup.finalizers.is_empty() => Some((
            "SomeFinalizersRemain",
            format!(
                "Some content in the namespace has finalizers remaining: {}",
                counted(&cleanup.finalizers, "in", "resource instances")
            ),
        )),
        _ => None,
    }
}

fn counted(counts: &std::collections::BTreeMap<String, usize>, verb: &str, what: &str) -> String {
    counts
        .iter()
        .map(|(name, n)| format!("{name} {verb} {n} {what}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The namespace's status with the conditions this cleanup implies, or None when the
/// stored status already says so (lastTransitionTime moves only when a status flips).
pub fn updated_status(ns: &Namespace, cleanup: &Cleanup) -> Option<NamespaceStatus> {
    let mut status = ns.status.clone().unwrap_or_default();
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    let mut changed = status.phase.as_deref() != Some("Terminating");
    for shape in &SHAPES {
        let (state, reason, message) = match failure(shape.type_, cleanup) {
            Some((reason, message)) => ("True", reason, message),
            None => ("False", shape.ok_reason, shape.ok_message.to_string()),
        };
        let existing = conditions.iter_mut().find(|c| c.type_ == shape.type_);
        match existing {
            Some(c)
                if c.status == state
                    && c.reason.as_deref() == Some(reason)
                    && c.message.as_deref() == Some(message.as_str()) => {}
            Some(c) => {
                if c.status != state {
                    c.last_transition_time = Some(now());
                }
                c.status = state.into();
                c.reason = Some(reason.into());
                c.message = Some(message);
                changed = true;
            }
            None => {
                conditions.push(NamespaceCondition {
                    type_: shape.type_.into(),
                    status: state.into(),
                    reason: Some(reason.into()),
                    message: Some(message),
                    last_transition_time: Some(now()),
                });
                changed = true;
            }
        }
    }
    status.phase = Some("Terminating".into());
    changed.then_some(status)
}

fn now() -> Time {
    Time(k8s_openapi::jiff::Timestamp::now())
}
