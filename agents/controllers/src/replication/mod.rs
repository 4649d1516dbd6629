//! The replication controller: exactly `spec.replicas` active pods match each
//! ReplicationController's selector and are controlled by it. Fewer are created from
//! the template, surplus ones deleted (unscheduled and not-ready first); orphans that
//! match are adopted, controlled pods that no longer match are released; status counts
//! what the controller sees.

mod expectations;
mod pods;
mod status;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use futures_util::{stream, FutureExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Pod, ReplicationController};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::runtime::controller::{applier, Action, Config};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::ResourceExt;
use serde_json::json;

use crate::queue::{self, api_code, Retries, SyncError};
use expectations::Expectations;

/// Upstream's burstReplicas: at most this many creates or deletes per sync.
const BURST_REPLICAS: usize = 500;
/// Re-sync now and then even without events (level-triggered safety net).
const RESYNC: Duration = Duration::from_secs(300);

struct Context {
    client: kube::Client,
    controllers: Store<ReplicationController>,
    pods: Store<Pod>,
    expectations: Expectations,
    retries: Retries,
}

pub async fn run(client: kube::Client, concurrency: u16) {
    let (controllers, rc_writer) = reflector::store();
    let rc_triggers = reflector::reflector(
        rc_writer,
        watcher(
            Api::<ReplicationController>::all(client.clone()),
            Default::default(),
        ),
    )
    .default_backoff()
    .applied_objects()
    .map_ok(|rc| ObjectRef::from(&rc));
    let (pods, pod_writer) = reflector::store();
    let owners = controllers.clone();
    let pod_triggers = reflector::reflector(
        pod_writer,
        watcher(Api::<Pod>::all(client.clone()), Default::default()),
    )
    .default_backoff()
    .touched_objects()
    .map_ok(move |pod: Pod| {
        stream::iter(
            controllers_for(&owners, &pod)
                .into_iter()
                .map(Ok::<_, watcher::Error>),
        )
    })
    .try_flatten();
    let context = Arc::new(Context {
        client,
        controllers: controllers.clone(),
        pods,
        expectations: Expectations::default(),
        retries: Retries::default(),
    });
    let results = applier(
        |rc, ctx| reconcile(rc, ctx).boxed(),
        |rc, _, ctx| ctx.retries.failed(queue::key_of(rc.as_ref())),
        context,
        controllers,
        stream::select(rc_triggers, pod_triggers),
        Config::default().concurrency(concurrency),
    );
    queue::drive("replicationcontroller-controller", results).await;
}

/// The RCs a pod event concerns: its controller if that is an RC, otherwise (an orphan)
/// every RC in its namespace that selects it.
fn controllers_for(
    controllers: &Store<ReplicationController>,
    pod: &Pod,
) -> Vec<ObjectRef<ReplicationController>> {
    let ns = pod.namespace().unwrap_or_default();
    match pods::controller_of(pod) {
        Some(owner) if owner.kind == "ReplicationController" => {
            vec![ObjectRef::new(&owner.name).within(&ns)]
        }
        Some(_) => Vec::new(),
        None => controllers
            .state_filter(|rc| {
                rc.namespace().as_deref() == Some(&ns) && pods::selects(&selector(rc), pod)
            })
            .iter()
            .map(|rc| ObjectRef::from(rc.as_ref()))
            .collect(),
    }
}

fn selector(rc: &ReplicationController) -> BTreeMap<String, String> {
    rc.spec
        .as_ref()
        .and_then(|s| s.selector.clone())
        .unwrap_or_default()
}

async fn reconcile(rc: Arc<ReplicationController>, ctx: Arc<Context>) -> Result<Action, SyncError> {
    let action = sync(&rc, &ctx).await?;
    ctx.retries.forget(&queue::key_of(rc.as_ref()));
    Ok(action)
}

async fn sync(rc: &ReplicationController, ctx: &Context) -> Result<Action, SyncError> {
    ctx.pods
        .wait_until_ready()
        .await
        .map_err(|e| SyncError::Other(e.to_string()))?;
    let ns = rc.namespace().unwrap_or_default();
    let uid = rc.metadata.uid.clone().unwrap_or_default();
    let live: Vec<String> = ctx
        .controllers
        .state()
        .iter()
        .filter_map(|rc| rc.metadata.uid.clone())
        .collect();
    ctx.expectations.retain(|uid| live.iter().any(|l| l == uid));

    let owned = claim_pods(rc, ctx, &ns, &uid).await?;
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
    let managed = if caught_up && rc.metadata.deletion_timestamp.is_none() {
        manage_replicas(rc, ctx, &ns, &uid, &active).await
    } else {
        Ok(())
    };
    let next_available = write_status(rc, ctx, &ns, &active).await?;
    managed?;
    Ok(match (caught_up, next_available) {
        (false, _) => Action::requeue(Duration::from_secs(30)),
        (true, Some(wait)) => Action::requeue(wait.min(RESYNC)),
        (true, None) => Action::requeue(RESYNC),
    })
}

/// The pods this RC controls after adopting matching orphans and releasing controlled
/// pods that no longer match.
async fn claim_pods(
    rc: &ReplicationController,
    ctx: &Context,
    ns: &str,
    uid: &str,
) -> Result<Vec<Arc<Pod>>, SyncError> {
    let selector = selector(rc);
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), ns);
    let mut owned = Vec::new();
    let mut orphans = Vec::new();
    for pod in ctx
        .pods
        .state_filter(|p| p.namespace().as_deref() == Some(ns))
    {
        match pods::controller_of(&pod) {
            Some(owner) if owner.uid == uid => {
                if pods::selects(&selector, &pod) {
                    owned.push(pod);
                } else {
                    release(&api, &pod, uid).await?;
                }
            }
            Some(_) => {}
            None if pods::selects(&selector, &pod) && pods::is_active(&pod) => orphans.push(pod),
            None => {}
        }
    }
    if !orphans.is_empty() && can_adopt(rc, ctx, ns, uid).await? {
        for pod in orphans {
            if let Some(adopted) = adopt(&api, &pod, rc).await? {
                owned.push(Arc::new(adopted));
            }
        }
    }
    Ok(owned)
}

/// Adopt only for an RC that still exists and is not being deleted, read from the
/// apiserver rather than the cache (upstream's recheck before adoption).
async fn can_adopt(
    rc: &ReplicationController,
    ctx: &Context,
    ns: &str,
    uid: &str,
) -> Result<bool, SyncError> {
    if rc.metadata.deletion_timestamp.is_some() {
        return Ok(false);
    }
    let api: Api<ReplicationController> = Api::namespaced(ctx.client.clone(), ns);
    match api.get(&rc.name_any()).await {
        Ok(fresh) => Ok(fresh.metadata.uid.as_deref() == Some(uid)
            && fresh.metadata.deletion_timestamp.is_none()),
        Err(e) if api_code(&e) == Some(404) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

async fn adopt(
    api: &Api<Pod>,
    pod: &Pod,
    rc: &ReplicationController,
) -> Result<Option<Pod>, SyncError> {
    let patch = json!({"metadata": {
        "ownerReferences": [pods::owner_reference(rc)],
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
            tracing::info!(pod = %pod.name_any(), rc = %rc.name_any(), "adopted");
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

/// Create or delete pods so that `spec.replicas` are active.
async fn manage_replicas(
    rc: &ReplicationController,
    ctx: &Context,
    ns: &str,
    uid: &str,
    active: &[Arc<Pod>],
) -> Result<(), SyncError> {
    let want = rc
        .spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(1)
        .max(0) as usize;
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), ns);
    if active.len() < want {
        let missing = (want - active.len()).min(BURST_REPLICAS);
        create_pods(rc, ctx, &api, uid, missing).await
    } else if active.len() > want {
        let surplus = (active.len() - want).min(BURST_REPLICAS);
        let mut victims: Vec<&Arc<Pod>> = active.iter().collect();
        victims.sort_by(|a, b| pods::delete_first(a, b));
        delete_pods(ctx, &api, uid, &victims[..surplus]).await
    } else {
        Ok(())
    }
}

/// Creates in slow-start batches (1, 2, 4, …), stopping at the first failing batch so a
/// refusing apiserver (quota, admission) sees one request, not hundreds.
async fn create_pods(
    rc: &ReplicationController,
    ctx: &Context,
    api: &Api<Pod>,
    uid: &str,
    count: usize,
) -> Result<(), SyncError> {
    let pod = pods::from_template(rc)
        .ok_or_else(|| SyncError::Other("spec.template is missing".into()))?;
    let params = PostParams::default();
    let mut created = 0;
    let mut batch = 1;
    while created < count {
        let size = batch.min(count - created);
        let results = join_all((0..size).map(|_| api.create(&params, &pod))).await;
        for result in results {
            match result {
                Ok(pod) => {
                    tracing::info!(pod = %pod.name_any(), rc = %rc.name_any(), "created");
                    ctx.expectations.expect_created(uid, pod.name_any());
                }
                // The namespace is going away: nothing to create, not a failure.
                Err(e) if namespace_terminating(&e) => return Ok(()),
                Err(e) => return Err(e.into()),
            }
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

async fn delete_pods(
    ctx: &Context,
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
async fn write_status(
    rc: &ReplicationController,
    ctx: &Context,
    ns: &str,
    active: &[Arc<Pod>],
) -> Result<Option<Duration>, SyncError> {
    let (status, next_available) = status::compute(rc, active);
    if rc.status.as_ref() == Some(&status) {
        return Ok(next_available);
    }
    let mut updated = rc.clone();
    updated.status = Some(status);
    let api: Api<ReplicationController> = Api::namespaced(ctx.client.clone(), ns);
    match api
        .replace_status(&rc.name_any(), &PostParams::default(), &updated)
        .await
    {
        Ok(_) => Ok(next_available),
        Err(e) if api_code(&e) == Some(404) => Ok(next_available),
        Err(e) => Err(e.into()),
    }
}
