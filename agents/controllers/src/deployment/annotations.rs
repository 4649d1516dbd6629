//! The annotations the deployment controller keeps on its ReplicaSets and on the
//! Deployment: the revision (what `kubectl rollout history|undo` reads), the revision
//! history of a rolled-back-to ReplicaSet, the replica counts proportional scaling
//! needs, and the deployment's own annotations copied to its ReplicaSets.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
const ROLLBACK_TO: &str = "deprecated.deployment.rollback.to";
/// Upstream's bound on the revision-history annotation.
const MAX_HISTORY_CHARS: usize = 2000;

/// Annotations that describe one ReplicaSet, never copied from the deployment.
fn skip_copy(key: &str) -> bool {
    [
        LAST_APPLIED,
        REVISION,
        REVISION_HISTORY,
        DESIRED_REPLICAS,
        MAX_REPLICAS,
        ROLLBACK_TO,
    ]
    .contains(&key)
}

/// A ReplicaSet's revision; 0 when it has none (or an unreadable one).
pub fn revision(rs: &ReplicaSet) -> i64 {
    rs.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(REVISION))
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

pub fn max_revision<'a>(sets: impl IntoIterator<Item = &'a ReplicaSet>) -> i64 {
    sets.into_iter().map(revision).max().unwrap_or(0)
}

/// An integer annotation of a ReplicaSet.
pub fn int_annotation(rs: &ReplicaSet, key: &str) -> Option<i32> {
    rs.metadata.annotations.as_ref()?.get(key)?.parse().ok()
}

/// Record the deployment's replicas and replicas-plus-surge on the set; true if changed.
pub fn set_replicas(rs: &mut ReplicaSet, desired: i32, max: i32) -> bool {
    let annotations = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let mut changed = false;
    for (key, value) in [(DESIRED_REPLICAS, desired), (MAX_REPLICAS, max)] {
        let value = value.to_string();
        if annotations.get(key) != Some(&value) {
            annotations.insert(key.into(), value);
            changed = true;
        }
    }
    changed
}

fn copy_deployment_annotations(d: &Deployment, rs: &mut ReplicaSet) -> bool {
    let annotations = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let mut changed = false;
    for (key, value) in d.metadata.annotations.iter().flatten() {
        if skip_copy(key) || annotations.get(key) == Some(value) {
            continue;
        }
        annotations.insert(key.clone(), value.clone());
        changed = true;
    }
    changed
}

/// Give the deployment's current ReplicaSet its annotations: the deployment's own, the
/// new revision (keeping the revisions it had in the history annotation when it is
/// rolled back to), and, for a set about to be created, the replica counts. True if
/// anything changed.
pub fn set_new_replica_set(
    d: &Deployment,
    rs: &mut ReplicaSet,
    new_revision: i64,
    replicas: Option<(i32, i32)>,
) -> bool {
    let mut changed = copy_deployment_annotations(d, rs);
    let annotations = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let old = annotations.get(REVISION).cloned();
    let old_revision: i64 = match old.as_deref() {
        None | Some("") => 0,
        Some(r) => match r.parse() {
            Ok(n) => n,
            // Someone wrote a revision we cannot read: leave it alone.
            Err(_) => return changed,
        },
    };
    if old_revision < new_revision {
        annotations.insert(REVISION.into(), new_revision.to_string());
        changed = true;
        if let Some(old) = old.filter(|o| !o.is_empty()) {
            let history = match annotations.get(REVISION_HISTORY) {
                Some(h) if !h.is_empty() => format!("{h},{old}"),
                _ => old,
            };
            annotations.insert(REVISION_HISTORY.into(), trim_history(history));
        }
    }
    if let Some((desired, max)) = replicas {
        changed |= set_replicas(rs, desired, max);
    }
    changed
}

/// Drop the oldest revisions until the history fits.
fn trim_history(mut history: String) -> String {
    while history.len() > MAX_HISTORY_CHARS {
        match history.find(',') {
            Some(i) => history.drain(..=i),
            None => break,
        };
    }
    history
}

/// Set the deployment's revision annotation; true if it changed.
pub fn set_deployment_revision(d: &mut Deployment, revision: &str) -> bool {
    let annotations = d.metadata.annotations.get_or_insert_with(BTreeMap::new);
    if annotations.get(REVISION).map(String::as_str) == Some(revision) {
        return false;
    }
    annotations.insert(REVISION.into(), revision.into());
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_rolled_back_to_set_keeps_its_old_revisions() {
        let d: Deployment = serde_json::from_value(json!({
            "metadata": {"name": "d", "annotations": {"team": "a", LAST_APPLIED: "{}"}},
        }))
        .unwrap();
        let mut rs = ReplicaSet::default();
        assert!(set_new_replica_set(&d, &mut rs, 1, Some((3, 4))));
        let a = rs.metadata.annotations.clone().unwrap();
        assert_eq!(a[REVISION], "1");
        assert_eq!(a["team"], "a");
        assert_eq!(a[DESIRED_REPLICAS], "3");
        assert_eq!(a[MAX_REPLICAS], "4");
        assert!(!a.contains_key(LAST_APPLIED));
        assert!(!set_new_replica_set(&d, &mut rs, 1, None));
        assert!(set_new_replica_set(&d, &mut rs, 3, None));
        assert!(set_new_replica_set(&d, &mut rs, 5, None));
        let a = rs.metadata.annotations.unwrap();
        assert_eq!(a[REVISION], "5");
        assert_eq!(a[REVISION_HISTORY], "1,3");
    }
}
