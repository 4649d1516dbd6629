//! What the garbage collector does to one object (upstream's attemptToDeleteItem and
//! attemptToOrphan): classify its owners as solid, dangling (gone, or another object
//! with the name) or waiting (being deleted in the foreground), then drop references
//! to owners that went, delete it, or let a waiting owner finish.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{
    DeleteParams, DynamicObject, Patch, PatchParams, Preconditions, PropagationPolicy,
};
use serde_json::json;

use super::graph::{Identity, Node, FOREGROUND_FINALIZER, ORPHAN_FINALIZER};
use super::Gc;
use crate::queue::{api_code, SyncError};

enum OwnerState {
    Solid,
    Dangling,
    /// Exists, being deleted with the foregroundDeletion finalizer.
    Waiting,
}

/// The object as the apiserver has it now; None when it is gone (or the name now
/// belongs to another object).
async fn latest(gc: &Gc, id: &Identity) -> Result<Option<DynamicObject>, SyncError> {
    let Some(api) = gc.resources().api(
        &gc.client,
        &id.api_version,
        &id.kind,
        id.namespace.as_deref(),
    ) else {
        return Err(SyncError::Other(format!(
            "{}/{} is not a served, deletable kind",
            id.api_version, id.kind
        )));
    };
    let found = api.get_opt(&id.name).await?;
    Ok(found.filter(|o| o.metadata.uid.as_deref() == Some(id.uid.as_str())))
}

fn has_finalizer(obj: &DynamicObject, name: &str) -> bool {
    obj.metadata.finalizers.iter().flatten().any(|f| f == name)
}

async fn owner_state(
    gc: &Gc,
    reference: &OwnerReference,
    namespace: Option<&str>,
) -> Result<OwnerState, SyncError> {
    let resources = gc.resources();
    let Some(kind) = resources.find(&reference.api_version, &reference.kind) else {
        // A kind this apiserver does not serve: never delete on a guess.
        tracing::debug!(kind = %reference.kind, "owner kind not served; kept");
        return Ok(OwnerState::Solid);
    };
    if kind.namespaced && namespace.is_none() {
        // A cluster-scoped dependent cannot name a namespaced owner: unresolvable,
        // so never collected (upstream since 1.20).
        return Ok(OwnerState::Solid);
    }
    let id = Identity {
        api_version: reference.api_version.clone(),
        kind: reference.kind.clone(),
        namespace: kind
            .namespaced
            .then(|| namespace.unwrap_or_default().to_string()),
        name: reference.name.clone(),
        uid: reference.uid.clone(),
    };
    Ok(match latest(gc, &id).await? {
        None => OwnerState::Dangling,
        Some(owner)
            if owner.metadata.deletion_timestamp.is_some()
                && has_finalizer(&owner, FOREGROUND_FINALIZER) =>
        {
            OwnerState::Waiting
        }
        Some(_) => OwnerState::Solid,
    })
}

pub async fn attempt_to_delete(gc: &Gc, uid: &str) -> Result<(), SyncError> {
    let Some(node) = gc.node(uid) else {
        return Ok(());
    };
    if node.deleting_dependents {
        return finish_foreground(gc, &node).await;
    }
    if node.being_deleted {
        return Ok(());
    }
    let Some(obj) = latest(gc, &node.identity).await? else {
        gc.absent(uid);
        return Ok(());
    };
    if node.is_virtual || obj.metadata.deletion_timestamp.is_some() {
        // An owner that exists after all (its watch will report it), or a deletion
        // already under way.
        return Ok(());
    }
    let references = obj.metadata.owner_references.clone().unwrap_or_default();
    if references.is_empty() {
        return Ok(());
    }
    if references.iter().any(|r| gc.was_orphaned(&r.uid)) {
        // Its owner was deleted with the orphan policy before this dependent reached the
        // graph: orphan it as the owner's deletion asked. The update brings it back here
        // if other owners are left to judge.
        let kept = references
            .into_iter()
            .filter(|r| !gc.was_orphaned(&r.uid))
            .collect();
        return set_owner_references(gc, &node.identity, &obj, kept).await;
    }
    let namespace = obj.metadata.namespace.as_deref();
    let (mut solid, mut gone, mut waiting) = (Vec::new(), Vec::new(), Vec::new());
    for reference in &references {
        match owner_state(gc, reference, namespace).await? {
            OwnerState::Solid => solid.push(reference.uid.clone()),
            OwnerState::Dangling => gone.push(reference.uid.clone()),
            OwnerState::Waiting => waiting.push(reference.uid.clone()),
        }
    }
    if !solid.is_empty() {
        if gone.is_empty() && waiting.is_empty() {
            return Ok(());
        }
        // Still owned: only the references to owners that went (or wait) are dropped.
        let kept: Vec<OwnerReference> = references
            .into_iter()
            .filter(|r| solid.contains(&r.uid))
            .collect();
        return set_owner_references(gc, &node.identity, &obj, kept).await;
    }
    if !waiting.is_empty() && !node.dependents.is_empty() {
        // Its own dependents go first (foreground). If one of them waits for this
        // object in turn, unblock the owners so the cycle cannot deadlock.
        let cycle = node
            .dependents
            .iter()
            .any(|d| gc.node(d).is_some_and(|n| n.deleting_dependents));
        if cycle {
            let unblocked = references
                .into_iter()
                .map(|mut r| {
                    if waiting.contains(&r.uid) {
                        r.block_owner_deletion = Some(false);
                    }
                    r
                })
                .collect();
            set_owner_references(gc, &node.identity, &obj, unblocked).await?;
        }
        return delete(gc, &node.identity, PropagationPolicy::Foreground).await;
    }
    let policy = if has_finalizer(&obj, ORPHAN_FINALIZER) {
        PropagationPolicy::Orphan
    } else if has_finalizer(&obj, FOREGROUND_FINALIZER) {
        PropagationPolicy::Foreground
    } else {
        PropagationPolicy::Background
    };
    delete(gc, &node.identity, policy).await
}

/// An owner deleted in the foreground: done when no dependent blocks it any more;
/// until then its blocking dependents are deleted.
async fn finish_foreground(gc: &Gc, node: &Node) -> Result<(), SyncError> {
    let blocking: Vec<Node> = gc
        .graph()
        .blocking_dependents(&node.identity.uid)
        .into_iter()
        .cloned()
        .collect();
    if blocking.is_empty() {
        return remove_finalizer(gc, &node.identity, FOREGROUND_FINALIZER).await;
    }
    for dependent in blocking {
        if !dependent.deleting_dependents {
            gc.deletes.add(&dependent.identity.uid);
        }
    }
    Ok(())
}

pub async fn attempt_to_orphan(gc: &Gc, uid: &str) -> Result<(), SyncError> {
    let Some(node) = gc.node(uid) else {
        return Ok(());
    };
    for dependent in &node.dependents {
        let Some(dependent) = gc.node(dependent) else {
            continue;
        };
        let Some(obj) = latest(gc, &dependent.identity).await? else {
            continue;
        };
        let references = obj.metadata.owner_references.clone().unwrap_or_default();
        if !references.iter().any(|r| r.uid == uid) {
            continue;
        }
        let kept = references.into_iter().filter(|r| r.uid != uid).collect();
        set_owner_references(gc, &dependent.identity, &obj, kept).await?;
    }
    gc.remember_orphaned(uid);
    remove_finalizer(gc, &node.identity, ORPHAN_FINALIZER).await
}

fn api_for(gc: &Gc, id: &Identity) -> Result<kube::Api<DynamicObject>, SyncError> {
    gc.resources()
        .api(
            &gc.client,
            &id.api_version,
            &id.kind,
            id.namespace.as_deref(),
        )
        .ok_or_else(|| SyncError::Other(format!("{}/{} is not served", id.api_version, id.kind)))
}

/// Replace the object's ownerReferences (removing the field when none are left), at
/// the resourceVersion read: a concurrent change makes this fail and retry.
async fn set_owner_references(
    gc: &Gc,
    id: &Identity,
    obj: &DynamicObject,
    references: Vec<OwnerReference>,
) -> Result<(), SyncError> {
    let value = if references.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::to_value(references).unwrap_or_default()
    };
    let patch = json!({"metadata": {
        "ownerReferences": value,
        "resourceVersion": obj.metadata.resource_version,
    }});
    match api_for(gc, id)?
        .patch(&id.name, &PatchParams::default(), &Patch::Merge(patch))
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if api_code(&e) == Some(404) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

async fn remove_finalizer(gc: &Gc, id: &Identity, finalizer: &str) -> Result<(), SyncError> {
    let Some(obj) = latest(gc, id).await? else {
        return Ok(());
    };
    if !has_finalizer(&obj, finalizer) {
        return Ok(());
    }
    let rest: Vec<&String> = obj
        .metadata
        .finalizers
        .iter()
        .flatten()
        .filter(|f| *f != finalizer)
        .collect();
    let value = if rest.is_empty() {
        serde_json::Value::Null
    } else {
        json!(rest)
    };
    let patch = json!({"metadata": {
        "finalizers": value,
        "resourceVersion": obj.metadata.resource_version,
    }});
    match api_for(gc, id)?
        .patch(&id.name, &PatchParams::default(), &Patch::Merge(patch))
        .await
    {
        Ok(_) => {
            tracing::info!(kind = %id.kind, name = %id.name, finalizer, "removed finalizer");
            Ok(())
        }
        Err(e) if api_code(&e) == Some(404) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

async fn delete(gc: &Gc, id: &Identity, policy: PropagationPolicy) -> Result<(), SyncError> {
    let params = DeleteParams {
        propagation_policy: Some(policy),
        preconditions: Some(Preconditions {
            uid: Some(id.uid.clone()),
            resource_version: None,
        }),
        ..Default::default()
    };
    match api_for(gc, id)?.delete(&id.name, &params).await {
        Ok(_) => {
            tracing::info!(kind = %id.kind, name = %id.name, "garbage collected");
            Ok(())
        }
        Err(e) if matches!(api_code(&e), Some(404) | Some(409)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
