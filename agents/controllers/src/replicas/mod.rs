//! One implementation of "exactly `replicas` pods", shared by the replication
//! controller (ReplicationController) and the replicaset controller (ReplicaSet): each
//! kind supplies only its selector, spec and status shape ([`ReplicaOwner`]).
//!
//! Exactly `replicas` active pods match each owner's selector and are controlled by it.
//! Fewer are created from the template (slow-start batches), surplus ones deleted
//! (unscheduled, not-ready and newer first); orphans that match are adopted,
//! controlled pods that no longer match are released; expectations keep a lagging
//! cache from causing double creates; status counts what the controller sees.

mod expectations;
pub mod pods;
pub mod status;

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use futures_util::{stream, FutureExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::NamespaceResourceScope;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::runtime::controller::{applier, Action, Config};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;

use crate::queue::{self, api_code, Retries, SyncError};
use expectations::Expectations;
use status::{Counts, Failure};

/// Upstream's burstReplicas: at most this many creates or deletes per sync.
const BURST_REPLICAS: usize = 500;
/// Re-sync now and then even without events (level-triggered safety net).
const RESYNC: Duration = Duration::from_secs(300);

/// A kind that keeps a number of pods: what the shared controller needs to know of it.
pub trait ReplicaOwner:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + Clone
    + Debug
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    type Status: PartialEq + Send + Sync;
    /// Upstream's controller name, for logs.
    const CONTROLLER: &'static str;

    /// Whether the owner's selector selects the pod (an empty selector selects none).
    fn selects(&self, pod: &Pod) -> bool;
    fn replicas(&self) -> i32;
    fn template(&self) -> Option<&PodTemplateSpec>;
    fn min_ready_seconds(&self) -> i32;
    fn status(&self) -> Option<&Self::Status>;
    /// The status for these counts and this failure (None clears `ReplicaFailure`).
    fn status_for(&self, counts: Counts, failure: Option<&Failure>) -> Self::Status;
    fn set_status(&mut self, status: Self::Status);
}

struct Context<K: ReplicaOwner> {
    client: kube::Client,
    owners: Store<K>,
    pods: Store<Pod>,
    expectations: Expectations,
    retries: Retries,
}

pub async fn run<K: ReplicaOwner>(client: kube::Client, concurrency: u16) {
    let (owners, owner_writer) = reflector::store();
    let owner_triggers = reflector::reflector(
        owner_writer,
        watcher(Api::<K>::all(client.clone()), Default::default()),
    )
    .default_backoff()
    .applied_objects()
    .map_ok(|owner| ObjectRef::from(&owner));
    let (pods, pod_writer) = reflector::store();
    let cached_owners = owners.clone();
    let pod_triggers = reflector::reflector(
        pod_writer,
        watcher(Api::<Pod>::all(client.clone()), Default::default()),
    )
    .default_backoff()
    .touched_objects()
    .map_ok(move |pod: Pod| {
        stream::iter(
            owners_for(&cached_owners, &pod)
                .into_iter()
                .map(Ok::<_, watcher::Error>),
        )
    })
    .try_flatten();
    let context = Arc::new(Context {
        client,
        owners: owners.clone(),
        pods,
        expectations: Expectations::default(),
        retries: Retries::default(),
    });
    let results = applier(
        |owner, ctx| reconcile(owner, ctx).boxed(),
        |owner, _, ctx| ctx.retries.failed(queue::key_of(owner.as_ref())),
        context,
        owners,
        stream::select(owner_triggers, pod_triggers),
        Config::default().concurrency(concurrency),
    );
    queue::drive(K::CONTROLLER, results).await;
}

/// The owners a pod event concerns: its controller if that is a `K`, otherwise (an
/// orphan) every `K` in its namespace that selects it.
fn owners_for<K: ReplicaOwner>(owners: &Store<K>, pod: &Pod) -> Vec<ObjectRef<K>> {
    let ns = pod.namespace().unwrap_or_default();
    match pods::controller_of(pod) {
        Some(owner) if owner.kind == K::kind(&()) => {
            vec![ObjectRef::new(&owner.name).within(&ns)]
        }
        Some(_) => Vec::new(),
        None => owners
            .state_filter(|o| o.namespace().as_deref() == Some(&ns) && o.selects(pod))
            .iter()
            .map(|o| ObjectRef::from(o.as_ref()))
            .collect(),
    }
}

async fn reconcile<K: ReplicaOwner>(
    owner: Arc<K>,
    ctx: Arc<Context<K>>,
) -> Result<Action, SyncError> {
    let action = sync(owner.as_ref(), ctx.as_ref()).await?;
    ctx.retries.forget(&queue::key_of(owner.as_ref()));
    Ok(action)
}

async fn sync<K: ReplicaOwner>(owner: &K, ctx: &Context<K>) -> Result<Action, SyncError> {
    ctx.pods
        .wait_until_ready()
        .await
        .map_err(|e| SyncError::Other(e.to_string()))?;
    let ns = owner.namespace().unwrap_or_default();
    let uid = owner.meta().uid.clone().unwrap_or_default();
    let live: Vec<String> = ctx
        .owners
        .state()
        .iter()
        .filter_map(|o| o.meta().uid.clone())
        .collect();
    ctx.expectations.retain(|uid| live.iter().any(|l| l == uid));

    let owned = claim_pods(owner, ctx, &ns, &uid).await?;
    let active: Vec<Arc<Pod>> = owned.into_iter().filter(|p| pods::is_active(p)).collect();
    let caught_up = ctx.expectations.satisfied(
        &uid,
        |name| ctx.pods.get(&ObjectRef::new(name).within(&ns)).is_some(),
        |pod_uid| {
            ctx.pods
                .find(|p| p.metadata.uid.as_deref() == Some(pod_uid))
                .is_some_and(|p| p.metadata.deletion_timestamp.is_none())
        },
    );
    let managed = if caught_up && owner.meta().deletion_timestamp.is_none() {
        manage_replicas(owner, ctx, &ns, &uid, &active).await
    } else {
        Ok(())
    };
    let failure = managed.as_ref().err().map(|(failure, _)| failure.clone());
    let next_available = write_status(owner, ctx, &ns, &active, failure.as_ref()).await?;
    managed.map_err(|(_, e)| e)?;
    Ok(match (caught_up, next_available) {
        (false, _) => Action::requeue(Duration::from_secs(30)),
        (true, Some(wait)) => Action::requeue(wait.min(RESYNC)),
        (true, None) => Action::requeue(RESYNC),
    })
}

/// The pods this owner controls after adopting matching orphans and releasing
/// controlled pods that no longer match.
async fn claim_pods<K: ReplicaOwner>(
    owner: &K,
    ctx: &Context<K>,
    ns: &str,
    uid: &str,
) -> Result<Vec<Arc<Pod>>, SyncError> {
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), ns);
    let mut owned = Vec::new();
    let mut orphans = Vec::new();
    for pod in ctx
        .pods
        .state_filter(|p| p.namespace().as_deref() == Some(ns))
    {
        match pods::controller_of(&pod) {
            Some(reference) if reference.uid == uid => {
                if owner.selects(&pod) {
                    owned.push(pod);
                } else {
                    release(&api, &pod, uid).await?;
                }
            }
            Some(_) => {}
            None if owner.selects(&pod) && pods::is_active(&pod) => orphans.push(pod),
            None => {}
        }
    }
    if !orphans.is_empty() && can_adopt(owner, ctx, ns, uid).await? {
        for pod in orphans {
            if let Some(adopted) = adopt(&api, &pod, owner).await? {
                owned.push(Arc::new(adopted));
            }
        }
    }
    Ok(owned)
}

/// Adopt only for an owner that still exists and is not being deleted, read from the
/// apiserver rather than the cache (upstream's recheck before adoption).
async fn can_adopt<K: ReplicaOwner>(
    owner: &K,
    ctx: &Context<K>,
    ns: &str,
    uid: &str,
) -> Result<bool, SyncError> {
    if owner.meta().deletion_timestamp.is_some() {
        return Ok(false);
    }
    let api: Api<K> = Api::namespaced(ctx.client.clone(), ns);
    match api.get(&owner.name_any()).await {
        Ok(fresh) => {
            Ok(fresh.meta().uid.as_deref() == Some(uid)
                && fresh.meta().deletion_timestamp.is_none())
        }
        Err(e) if api_code(&e) == Some(404) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

async fn adopt<K: ReplicaOwner>(
    api: &Api<Pod>,
    pod: &Pod,
    owner: &K,
) -> Result<Option<Pod>, SyncError> {
    let patch = json!({"metadata": {
        "ownerReferences": [pods::owner_reference(owner)],
        "uid": pod.metadata.uid,
    }});
    match api
        .patch(
            &pod.name_any(),
            &PatchParams::default(),
            &Patch::Strategic(patch),
        )
        .await
    {
        Ok(adopted) => {
            tracing::info!(pod = %pod.name_any(), owner = %owner.name_any(), "adopted");
            Ok(Some(adopted))
        }
        // Gone, or changed under us (uid precondition): the next event brings it back.
        Err(e) if matches!(api_code(&e), Some(404) | Some(409) | Some(422)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn release(api: &Api<Pod>, pod: &Pod, uid: &str) -> Result<(), SyncError> {
    let patch = json!({"metadata": {
        "ownerReferences": [{"$patch": "delete", "uid": uid}],
        "uid": pod.metadata.uid,
    }});
    match api
        .patch(
            &pod.name_any(),
            &PatchParams::default(),
            &Patch::Strategic(patch),
        )
        .await
    {
        Ok(_) => {
            tracing::info!(pod = %pod.name_any(), "released: labels no longer match");
            Ok(())
        }
        Err(e) if matches!(api_code(&e), Some(404) | Some(409) | Some(422)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Create or delete pods so that `replicas` are active. A failure carries the
/// `ReplicaFailure` condition it should leave in the status.
async fn manage_replicas<K: ReplicaOwner>(
    owner: &K,
    ctx: &Context<K>,
    ns: &str,
    uid: &str,
    active: &[Arc<Pod>],
) -> Result<(), (Failure, SyncError)> {
    let want = owner.replicas().max(0) as usize;
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), ns);
    let failed = |reason: &'static str| {
        move |e: SyncError| {
            let failure = Failure {
                reason,
                message: e.to_string(),
            };
            (failure, e)
        }
    };
    if active.len() < want {
        let missing = (want - active.len()).min(BURST_REPLICAS);
        create_pods(owner, ctx, &api, uid, missing)
            .await
            .map_err(failed("FailedCreate"))
    } else if active.len() > want {
        let surplus = (active.len() - want).min(BURST_REPLICAS);
        let mut victims: Vec<&Arc<Pod>> = active.iter().collect();
        victims.sort_by(|a, b| pods::delete_first(a, b));
        delete_pods(ctx, &api, uid, &victims[..surplus])
            .await
            .map_err(failed("FailedDelete"))
    } else {
        Ok(())
    }
}

/// Creates in slow-start batches (1, 2, 4, …), stopping at the first failing batch so a
/// refusing apiserver (quota, admission) sees one request, not hundreds.
async fn create_pods<K: ReplicaOwner>(
    owner: &K,
    ctx: &Context<K>,
    api: &Api<Pod>,
    uid: &str,
    count: usize,
) -> Result<(), SyncError> {
    let template = owner
        .template()
        .ok_or_else(|| SyncError::Other("spec.template is missing".into()))?;
    let pod = pods::from_template(owner, template);
    let params = PostParams::default();
    let mut created = 0;
    let mut batch = 1;
    while created < count {
        let size = batch.min(count - created);
        let results = join_all((0..size).map(|_| api.create(&params, &pod))).await;
        let mut first_error = None;
        for result in results {
            match result {
                Ok(pod) => {
                    tracing::info!(pod = %pod.name_any(), owner = %owner.name_any(), "created");
                    ctx.expectations.expect_created(uid, pod.name_any());
                }
                // The namespace is going away: nothing to create, not a failure.
                Err(e) if namespace_terminating(&e) => return Ok(()),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_error {
            return Err(e.into());
        }
        created += size;
        batch *= 2;
    }
    Ok(())
}

fn namespace_terminating(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status) if status.code == 403
        && status.details.as_ref().is_some_and(|d| d.causes.iter().any(|c| c.reason == "NamespaceTerminating")))
}

async fn delete_pods<K: ReplicaOwner>(
    ctx: &Context<K>,
    api: &Api<Pod>,
    uid: &str,
    victims: &[&Arc<Pod>],
) -> Result<(), SyncError> {
    let deletes = victims.iter().map(|pod| async move {
        let pod_uid = pod.metadata.uid.clone().unwrap_or_default();
        ctx.expectations.expect_deleted(uid, pod_uid.clone());
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                uid: Some(pod_uid),
                resource_version: None,
            }),
            ..Default::default()
        };
        match api.delete(&pod.name_any(), &params).await {
            Ok(_) => {
                tracing::info!(pod = %pod.name_any(), "deleted surplus pod");
                Ok(())
            }
            Err(e) if matches!(api_code(&e), Some(404) | Some(409)) => Ok(()),
            Err(e) => Err(SyncError::from(e)),
        }
    });
    join_all(deletes).await.into_iter().collect()
}

/// Write the status if it changed; how long until another pod becomes available.
async fn write_status<K: ReplicaOwner>(
    owner: &K,
    ctx: &Context<K>,
    ns: &str,
    active: &[Arc<Pod>],
    failure: Option<&Failure>,
) -> Result<Option<Duration>, SyncError> {
    let (counts, next_available) =
        status::count(owner.template(), owner.min_ready_seconds(), active);
    let status = owner.status_for(counts, failure);
    if owner.status() == Some(&status) {
        return Ok(next_available);
    }
    let mut updated = owner.clone();
    updated.set_status(status);
    let api: Api<K> = Api::namespaced(ctx.client.clone(), ns);
    match api
        .replace_status(&owner.name_any(), &PostParams::default(), &updated)
        .await
    {
        Ok(_) => Ok(next_available),
        Err(e) if api_code(&e) == Some(404) => Ok(next_available),
        Err(e) => Err(e.into()),
    }
}
