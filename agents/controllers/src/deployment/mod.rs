//! The deployment controller: each Deployment gets one ReplicaSet per pod template
//! (`<name>-<pod-template-hash>`, revision annotations), rolled from old to new with
//! RollingUpdate (maxSurge/maxUnavailable) or Recreate, scaled proportionally, paused,
//! cleaned up beyond `revisionHistoryLimit`, with upstream's status and conditions.
//! `kubectl rollout undo` needs nothing here: kubectl copies an old set's template back
//! into the deployment, and this controller then finds that set as the current one.

mod annotations;
mod progress;
mod replicasets;
mod rollout;
mod surge;
mod template;

use std::sync::Arc;
use std::time::Duration;

use futures_util::{stream, FutureExt, TryStreamExt};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::controller::{applier, Action, Config};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::ResourceExt;
use serde_json::json;

use crate::queue::{self, api_code, Retries, SyncError};
use crate::replicas::pods::{controller_of, owner_reference};
use crate::replicaset::label_selector_matches;

/// Re-sync now and then even without events (level-triggered safety net).
const RESYNC: Duration = Duration::from_secs(300);

pub struct Context {
    client: kube::Client,
    replica_sets: Store<ReplicaSet>,
    /// Only for Recreate: old pods must be gone before new ones start.
    pods: Store<Pod>,
    retries: Retries,
}

pub async fn run(client: kube::Client, concurrency: u16) {
    let (deployments, deployment_writer) = reflector::store();
    let deployment_triggers = reflector::reflector(
        deployment_writer,
        watcher(Api::<Deployment>::all(client.clone()), Default::default()),
    )
    .default_backoff()
    .applied_objects()
    .map_ok(|d| ObjectRef::from(&d));

    let (replica_sets, rs_writer) = reflector::store();
    let owners = deployments.clone();
    let rs_triggers = reflector::reflector(
        rs_writer,
        watcher(Api::<ReplicaSet>::all(client.clone()), Default::default()),
    )
    .default_backoff()
    .touched_objects()
    .map_ok(move |rs: ReplicaSet| {
        stream::iter(
            deployments_for(&owners, &rs)
                .into_iter()
                .map(Ok::<_, watcher::Error>),
        )
    })
    .try_flatten();

    let (pods, pod_writer) = reflector::store();
    let (owners, sets) = (deployments.clone(), replica_sets.clone());
    let pod_triggers = reflector::reflector(
        pod_writer,
        watcher(Api::<Pod>::all(client.clone()), Default::default()),
    )
    .default_backoff()
    .touched_objects()
    .map_ok(move |pod: Pod| {
        stream::iter(recreate_deployment_of(&owners, &sets, &pod).map(Ok::<_, watcher::Error>))
    })
    .try_flatten();

    let context = Arc::new(Context {
        client,
        replica_sets,
        pods,
        retries: Retries::default(),
    });
    let results = applier(
        |d, ctx| reconcile(d, ctx).boxed(),
        |d, _, ctx| ctx.retries.failed(queue::key_of(d.as_ref())),
        context,
        deployments,
        stream::select(
            deployment_triggers,
            stream::select(rs_triggers, pod_triggers),
        ),
        Config::default().concurrency(concurrency),
    );
    queue::drive("deployment-controller", results).await;
}

fn selects(d: &Deployment, labels: &std::collections::BTreeMap<String, String>) -> bool {
    d.spec
        .as_ref()
        .is_some_and(|s| label_selector_matches(&s.selector, labels))
}

/// The deployments a ReplicaSet event concerns: its controller, or (an orphan) every
/// deployment in its namespace that selects it.
fn deployments_for(deployments: &Store<Deployment>, rs: &ReplicaSet) -> Vec<ObjectRef<Deployment>> {
    let ns = rs.namespace().unwrap_or_default();
    match rs
        .owner_references()
        .iter()
        .find(|r| r.controller == Some(true))
    {
        Some(owner) if owner.kind == "Deployment" => vec![ObjectRef::new(&owner.name).within(&ns)],
        Some(_) => Vec::new(),
        None => deployments
            .state_filter(|d| d.namespace().as_deref() == Some(&ns) && selects(d, rs.labels()))
            .iter()
            .map(|d| ObjectRef::from(d.as_ref()))
            .collect(),
    }
}

/// A pod event matters only to a Recreate deployment waiting for old pods to go.
fn recreate_deployment_of(
    deployments: &Store<Deployment>,
    sets: &Store<ReplicaSet>,
    pod: &Pod,
) -> Option<ObjectRef<Deployment>> {
    let ns = pod.namespace().unwrap_or_default();
    let rs_ref = controller_of(pod).filter(|r| r.kind == "ReplicaSet")?;
    let rs = sets.get(&ObjectRef::new(&rs_ref.name).within(&ns))?;
    let d_ref = rs
        .owner_references()
        .iter()
        .find(|r| r.controller == Some(true) && r.kind == "Deployment")?;
    let d = deployments.get(&ObjectRef::new(&d_ref.name).within(&ns))?;
    (!surge::is_rolling(&d)).then(|| ObjectRef::from(d.as_ref()))
}

async fn reconcile(d: Arc<Deployment>, ctx: Arc<Context>) -> Result<Action, SyncError> {
    let recheck = sync(&d, &ctx).await?;
    ctx.retries.forget(&queue::key_of(d.as_ref()));
    Ok(Action::requeue(recheck.map_or(RESYNC, |r| r.min(RESYNC))))
}

async fn sync(cached: &Deployment, ctx: &Context) -> Result<Option<Duration>, SyncError> {
    for ready in [
        ctx.replica_sets.wait_until_ready().await,
        ctx.pods.wait_until_ready().await,
    ] {
        ready.map_err(|e| SyncError::Other(e.to_string()))?;
    }
    let mut d = cached.clone();
    let everything = d.spec.as_ref().is_none_or(|s| {
        s.selector
            .match_labels
            .as_ref()
            .is_none_or(|m| m.is_empty())
            && s.selector
                .match_expressions
                .as_ref()
                .is_none_or(|e| e.is_empty())
    });
    if everything {
        // Upstream refuses to act on a selector that selects every pod.
        tracing::warn!(deployment = %d.name_any(), "empty selector: not syncing");
        return Ok(None);
    }
    let sets = claim_replica_sets(ctx, &d).await?;
    if d.metadata.deletion_timestamp.is_some() {
        let (existing, old) = replicasets::split(&d, sets);
        let all: Vec<&ReplicaSet> = old.iter().chain(existing.as_ref()).collect();
        let status = progress::calculate(&d, &all, existing.as_ref())?;
        write_status_if_changed(ctx, &mut d, status).await?;
        return Ok(None);
    }
    if let Some(status) = progress::paused(&d) {
        write_status_if_changed(ctx, &mut d, status).await?;
    }
    let paused = d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
    if paused || rollout::is_scaling_event(&d, &sets) {
        return rollout::scale_only(ctx, &mut d, sets).await;
    }
    if surge::is_rolling(&d) {
        rollout::rolling(ctx, &mut d, sets).await
    } else {
        rollout::recreate(ctx, &mut d, sets).await
    }
}

/// The deployment's ReplicaSets after adopting matching orphans and releasing
/// controlled sets whose labels no longer match (upstream's ControllerRefManager).
async fn claim_replica_sets(ctx: &Context, d: &Deployment) -> Result<Vec<ReplicaSet>, SyncError> {
    let ns = d.namespace().unwrap_or_default();
    let uid = d.metadata.uid.clone().unwrap_or_default();
    let api: Api<ReplicaSet> = Api::namespaced(ctx.client.clone(), &ns);
    let mut owned = Vec::new();
    for rs in ctx
        .replica_sets
        .state_filter(|rs| rs.namespace().as_deref() == Some(&ns))
    {
        let controller = rs
            .owner_references()
            .iter()
            .find(|r| r.controller == Some(true));
        match controller {
            Some(owner) if owner.uid == uid => {
                if selects(d, rs.labels()) {
                    owned.push(rs.as_ref().clone());
                } else {
                    set_owner(&api, &rs, json!([{"$patch": "delete", "uid": uid}])).await?;
                }
            }
            Some(_) => {}
            None if selects(d, rs.labels())
                && rs.metadata.deletion_timestamp.is_none()
                && d.metadata.deletion_timestamp.is_none() =>
            {
                let reference = serde_json::to_value(owner_reference(d)).unwrap_or_default();
                if let Some(adopted) = set_owner(&api, &rs, json!([reference])).await? {
                    owned.push(adopted);
                }
            }
            None => {}
        }
    }
    Ok(owned)
}

async fn set_owner(
    api: &Api<ReplicaSet>,
    rs: &ReplicaSet,
    owner_references: serde_json::Value,
) -> Result<Option<ReplicaSet>, SyncError> {
    let patch = json!({"metadata": {"ownerReferences": owner_references, "uid": rs.metadata.uid}});
    match api
        .patch(
            &rs.name_any(),
            &PatchParams::default(),
            &Patch::Strategic(patch),
        )
        .await
    {
        Ok(rs) => Ok(Some(rs)),
        Err(e) if matches!(api_code(&e), Some(404) | Some(409) | Some(422)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Write the deployment's status (and its annotations, which the status subresource
/// accepts, as upstream's) and return what the apiserver stored.
pub async fn write_status(ctx: &Context, d: &Deployment) -> Result<Deployment, SyncError> {
    let api: Api<Deployment> =
        Api::namespaced(ctx.client.clone(), &d.namespace().unwrap_or_default());
    Ok(api
        .replace_status(&d.name_any(), &PostParams::default(), d)
        .await?)
}

pub async fn write_status_if_changed(
    ctx: &Context,
    d: &mut Deployment,
    status: DeploymentStatus,
) -> Result<(), SyncError> {
    if d.status.as_ref() == Some(&status) {
        return Ok(());
    }
    d.status = Some(status);
    *d = write_status(ctx, d).await?;
    Ok(())
}

/// The status after a rollout step; when to look again for the progress deadline.
async fn write_rollout_status(
    ctx: &Context,
    d: &mut Deployment,
    sets: &rollout::Sets,
) -> Result<rollout::Recheck, SyncError> {
    let (status, recheck) = progress::rollout(d, &sets.all(), sets.new.as_ref())?;
    write_status_if_changed(ctx, d, status).await?;
    Ok(recheck)
}
