//! The apiserver's own CRD controller (upstream's naming, establishing and finalizer
//! controllers of apiextensions-apiserver, in one level-triggered loop): every CRD gets
//! its accepted names and NamesAccepted/Established conditions; a deleted CRD first
//! loses all its custom resources, then its finalizer; the served table follows.

use std::sync::Arc;
use std::time::Duration;

use rkube_api::{ApiError, Resource};
use serde_json::{json, Value};

use crate::registry::{DeleteOptions, ListOptions, Registry, WriteOptions};

/// How often work that waits on others (custom resources with finalizers) is retried.
const RETRY: Duration = Duration::from_secs(1);
/// How often everything is looked at again with nothing pending.
const RESYNC: Duration = Duration::from_secs(60);

fn crds_resource() -> &'static Resource {
    rkube_api::resources::find(rkube_api::crd::GROUP, "v1", "customresourcedefinitions")
        .expect("customresourcedefinitions are served")
}

fn options() -> WriteOptions {
    WriteOptions {
        field_manager: "kube-apiserver".into(),
        ..WriteOptions::default()
    }
}

fn name_of(v: &Value) -> String {
    v.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// Every stored CRD, oldest first (the older one keeps a contested name).
async fn list_crds(registry: &Registry) -> Result<Vec<Value>, ApiError> {
    let listed = registry
        .list(crds_resource(), None, &ListOptions::default())
        .await?;
    let mut crds: Vec<Value> = listed
        .items
        .iter()
        .filter_map(|b| serde_json::from_slice(b).ok())
        .collect();
    let key = |v: &Value| {
        (
            v.pointer("/metadata/creationTimestamp")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            name_of(v),
        )
    };
    crds.sort_by_key(key);
    Ok(crds)
}

/// Serve what the stored CRDs define; called once at start, before serving.
pub async fn load(registry: &Registry) -> Result<(), ApiError> {
    let crds = list_crds(registry).await?;
    registry.crds.replace(&crds);
    Ok(())
}

/// Run the controller for as long as the process lives.
pub fn spawn(registry: Arc<Registry>) {
    crate::follow::spawn(registry, crds_resource(), |registry| async move {
        match reconcile(&registry).await {
            Ok(false) => RESYNC,
            Ok(true) => RETRY,
            Err(e) => {
                tracing::warn!("customresourcedefinitions: {}", e.message);
                RETRY
            }
        }
    });
}

/// One pass over every CRD; true when some work waits on others.
async fn reconcile(registry: &Registry) -> Result<bool, ApiError> {
    let mut crds = list_crds(registry).await?;
    let now = crate::clock::now();
    for i in 0..crds.len() {
        if crate::registry::meta::is_deleting(&crds[i]) {
            continue;
        }
        let desired = rkube_api::crd::names::desired_status(&crds[i], &crds, &now);
        if crds[i].get("status") == Some(&desired) {
            continue;
        }
        // Serve what the status is about to say before a client can read it: a client
        // that sees Established must find the resource (upstream's establishing
        // controller also runs after the handler serves the CRD).
        let mut staged = crds.clone();
        staged[i]["status"] = desired;
        registry.crds.replace(&staged);
        let others = crds.clone();
        let written = write_status(registry, &name_of(&crds[i]), |current| {
            rkube_api::crd::names::desired_status(current, &others, &now)
        })
        .await;
        match written {
            Ok(v) => crds[i] = v,
            Err(e) if e.code == 404 || e.code == 409 => {}
            Err(e) => return Err(e),
        }
    }
    registry.crds.replace(&crds);
    let mut pending = false;
    for crd in crds
        .iter()
        .filter(|c| crate::registry::meta::is_deleting(c))
    {
        if crate::registry::meta::finalizers(crd)
            .iter()
            .any(|f| f == rkube_api::crd::CLEANUP_FINALIZER)
        {
            pending |= finalize(registry, crd).await?;
        }
    }
    if pending {
        return Ok(true);
    }
    // A removed CRD leaves the served table.
    let crds = list_crds(registry).await?;
    registry.crds.replace(&crds);
    Ok(false)
}

async fn write_status<F>(registry: &Registry, name: &str, status: F) -> Result<Value, ApiError>
where
    F: Fn(&Value) -> Value,
{
    let opts = WriteOptions {
        subresource: Some("status".into()),
        ..options()
    };
    let written = registry
        .guaranteed_update(crds_resource(), None, name, &opts, |current| {
            let mut next = current.cloned().ok_or_else(|| {
                ApiError::not_found(crate::registry::qualified(crds_resource()), name)
            })?;
            next["status"] = status(&next);
            Ok(next)
        })
        .await?;
    serde_json::from_slice(&written.body).map_err(|e| ApiError::internal(e.to_string()))
}

fn terminating(
    message: &'static str,
    reason: &'static str,
    status: &'static str,
) -> impl Fn(&Value) -> Value {
    move |crd: &Value| {
        let mut st = crd.get("status").cloned().unwrap_or(json!({}));
        rkube_api::crd::names::set_condition(
            &mut st,
            "Terminating",
            status,
            reason,
            message,
            &crate::clock::now(),
        );
        st
    }
}

/// Delete a terminating CRD's custom resources, then its finalizer; true while some
/// remain (they have finalizers of their own).
async fn finalize(registry: &Registry, crd: &Value) -> Result<bool, ApiError> {
    let name = name_of(crd);
    if !rkube_api::crd::condition_true(crd, "Terminating")
        || crd
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Terminating" && c["reason"] == "InstanceDeletionPending")
            })
    {
        write_status(
            registry,
            &name,
            terminating(
                "CustomResource deletion is in progress",
                "InstanceDeletionInProgress",
                "True",
            ),
        )
        .await?;
    }
    if let Some(r) = storage_resource(crd) {
        registry
            .delete_collection(r, None, &ListOptions::default(), &DeleteOptions::default())
            .await?;
        let left = registry.list(r, None, &ListOptions::default()).await?;
        if !left.items.is_empty() {
            return Ok(true);
        }
    }
    write_status(
        registry,
        &name,
        terminating(
            "removed all instances",
            "InstanceDeletionCompleted",
            "False",
        ),
    )
    .await?;
    let result = registry
        .guaranteed_update(crds_resource(), None, &name, &options(), |current| {
            let mut next = current.cloned().ok_or_else(|| {
                ApiError::not_found(crate::registry::qualified(crds_resource()), &name)
            })?;
            let kept: Vec<String> = crate::registry::meta::finalizers(&next)
                .into_iter()
                .filter(|f| f != rkube_api::crd::CLEANUP_FINALIZER)
                .collect();
            crate::registry::meta::meta_mut(&mut next).insert("finalizers".into(), json!(kept));
            Ok(next)
        })
        .await;
    match result {
        Ok(_) => Ok(false),
        Err(e) if e.code == 404 => Ok(false),
        Err(e) => Err(e),
    }
}

/// The served resource of the CRD's storage version (any version reaches the same
/// objects); None when it never got names, so it cannot have objects.
fn storage_resource(crd: &Value) -> Option<&'static Resource> {
    let mut established = crd.clone();
    // Resources are built from accepted names even while the CRD is going away.
    let storage = rkube_api::crd::storage_version(crd)?.to_string();
    if let Some(versions) = established
        .pointer_mut("/spec/versions")
        .and_then(Value::as_array_mut)
    {
        for v in versions.iter_mut() {
            let is_storage = v.get("name").and_then(Value::as_str) == Some(storage.as_str());
            v["served"] = json!(is_storage);
        }
    }
    rkube_api::crd::served_resources(&established)
        .into_iter()
        .next()
}
