//! The taint-eviction controller: a pod on a Node with NoExecute taints is deleted at
//! once if it does not tolerate them all, after the shortest `tolerationSeconds` of the
//! tolerations it uses (counted from the taint's `timeAdded`), or never when they are
//! tolerated forever. Before deleting, the pod gets upstream's `DisruptionTarget`
//! condition (reason `DeletionByTaintManager`).

mod tolerations;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{stream, FutureExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Node, Pod, Taint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, Patch, PatchParams, Preconditions};
use kube::runtime::controller::{applier, Action, Config};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::ResourceExt;
use serde_json::json;

use crate::queue::{self, api_code, Retries, SyncError};
use tolerations::Decision;

const MANAGER: &str = "taint-eviction-controller";

/// Per Node, the (key, value) of the NoExecute taints it had at its last event.
type SeenTaints = BTreeMap<String, Vec<(String, String)>>;

struct Context {
    client: kube::Client,
    nodes: Store<Node>,
    /// When a taint without `timeAdded` was first seen, per node and taint key.
    first_seen: Mutex<HashMap<(String, String), Timestamp>>,
    retries: Retries,
}

fn no_execute_taints(node: &Node) -> Vec<Taint> {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .map(|ts| {
            ts.iter()
                .filter(|t| t.effect == "NoExecute")
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

pub async fn run(client: kube::Client, concurrency: u16) {
    let (pods, pod_writer) = reflector::store();
    let pod_triggers = reflector::reflector(
        pod_writer,
        watcher(Api::<Pod>::all(client.clone()), Default::default()),
    )
    .default_backoff()
    .applied_objects()
    .map_ok(|pod| ObjectRef::<Pod>::from(&pod));
    let (nodes, node_writer) = reflector::store();
    // A Node whose NoExecute taints change concerns every pod on it.
    let seen: Arc<Mutex<SeenTaints>> = Default::default();
    let on_node = pods.clone();
    let node_triggers = reflector::reflector(
        node_writer,
        watcher(Api::<Node>::all(client.clone()), Default::default()),
    )
    .default_backoff()
    .touched_objects()
    .map_ok(move |node: Node| {
        let name = node.name_any();
        let keys: Vec<(String, String)> = no_execute_taints(&node)
            .into_iter()
            .map(|t| (t.key, t.value.unwrap_or_default()))
            .collect();
        let changed = {
            let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
            seen.insert(name.clone(), keys.clone()).unwrap_or_default() != keys
        };
        let refs: Vec<ObjectRef<Pod>> = if changed {
            on_node
                .state_filter(|p| {
                    p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(name.as_str())
                })
                .iter()
                .map(|p| ObjectRef::from(p.as_ref()))
                .collect()
        } else {
            Vec::new()
        };
        stream::iter(refs.into_iter().map(Ok::<_, watcher::Error>))
    })
    .try_flatten();
    let context = Arc::new(Context {
        client,
        nodes,
        first_seen: Mutex::new(HashMap::new()),
        retries: Retries::default(),
    });
    let results = applier(
        |pod, ctx| reconcile(pod, ctx).boxed(),
        |pod, _, ctx| ctx.retries.failed(queue::key_of(pod.as_ref())),
        context,
        pods,
        stream::select(pod_triggers, node_triggers),
        Config::default().concurrency(concurrency),
    );
    queue::drive(MANAGER, results).await;
}

async fn reconcile(pod: Arc<Pod>, ctx: Arc<Context>) -> Result<Action, SyncError> {
    let action = sync(&pod, &ctx).await?;
    ctx.retries.forget(&queue::key_of(pod.as_ref()));
    Ok(action)
}

async fn sync(pod: &Pod, ctx: &Context) -> Result<Action, SyncError> {
    if pod.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let Some(node_name) = pod.spec.as_ref().and_then(|s| s.node_name.clone()) else {
        return Ok(Action::await_change());
    };
    ctx.nodes
        .wait_until_ready()
        .await
        .map_err(|e| SyncError::Other(e.to_string()))?;
    let Some(node) = ctx.nodes.get(&ObjectRef::new(&node_name)) else {
        return Ok(Action::await_change());
    };
    let taints = no_execute_taints(&node);
    let now = Timestamp::now();
    let first_seen = {
        let mut seen = ctx.first_seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.retain(|(node, key), _| *node != node_name || taints.iter().any(|t| t.key == *key));
        taints
            .iter()
            .filter(|t| t.time_added.is_none())
            .map(|t| {
                *seen
                    .entry((node_name.clone(), t.key.clone()))
                    .or_insert(now)
            })
            .min()
            .unwrap_or(now)
    };
    let tolerations = pod
        .spec
        .as_ref()
        .and_then(|s| s.tolerations.clone())
        .unwrap_or_default();
    match tolerations::decide(&tolerations, &taints, first_seen, now) {
        Decision::Keep => Ok(Action::await_change()),
        Decision::EvictAt(at) => {
            let wait = Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO);
            Ok(Action::requeue(wait + Duration::from_millis(10)))
        }
        Decision::EvictNow => {
            evict(ctx, pod, &node_name).await?;
            Ok(Action::await_change())
        }
    }
}

async fn evict(ctx: &Context, pod: &Pod, node: &str) -> Result<(), SyncError> {
    let ns = pod.namespace().unwrap_or_default();
    let name = pod.name_any();
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    let condition = json!({"status": {"conditions": [{
        "type": "DisruptionTarget", "status": "True", "reason": "DeletionByTaintManager",
        "message": "Taint manager: deleting due to NoExecute taint",
        "lastTransitionTime": Time(Timestamp::now()),
    }]}});
    let params = PatchParams {
        field_manager: Some(MANAGER.into()),
        ..Default::default()
    };
    match api
        .patch_status(&name, &params, &Patch::Strategic(condition))
        .await
    {
        Ok(_) => {}
        Err(e) if api_code(&e) == Some(404) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    let delete = DeleteParams {
        preconditions: Some(Preconditions {
            uid: pod.uid(),
            resource_version: None,
        }),
        ..Default::default()
    };
    match api.delete(&name, &delete).await {
        Ok(_) => {
            tracing::info!(pod = %format!("{ns}/{name}"), node, "evicted: NoExecute taint not tolerated");
            Ok(())
        }
        Err(e) if matches!(api_code(&e), Some(404) | Some(409)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
