//! The resourcequota controller: every ResourceQuota's `status.hard` follows its spec
//! and `status.used` is recomputed from the objects in its namespace — at start, when a
//! quota's spec changes, promptly when a tracked object is deleted or releases usage (a
//! pod finishing, a Service losing its node ports), and in a full resync every
//! `--resource-quota-sync-period`. The apiserver's ResourceQuota admission charges
//! creates as they happen; this loop is what lowers usage again.
//!
//! Like upstream's, the recount reads the controller's caches, which may lag the
//! admission's charges by a few milliseconds; admission stays the gate.

mod dynamic;
mod triggers;
mod usage;

use std::sync::Arc;
use std::time::Duration;

use futures_util::{stream, FutureExt, TryStreamExt};
use k8s_openapi::api::core::v1::ResourceQuota;
use kube::api::{Api, PostParams};
use kube::runtime::controller::{applier, Action, Config};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::ResourceExt;
use rkube_api::quota::list as resource_list;
use rkube_api::quota::{evaluate, ResourceList};
use serde_json::{json, Value};

use crate::queue::{self, Retries, SyncError};
use usage::Caches;

struct Context {
    client: kube::Client,
    caches: Caches,
    sync_period: Duration,
    retries: Retries,
}

pub async fn run(client: kube::Client, concurrency: u16, sync_period: Duration) {
    let (quotas, quota_writer) = reflector::store();
    let quota_triggers = reflector::reflector(
        quota_writer,
        watcher(
            Api::<ResourceQuota>::all(client.clone()),
            Default::default(),
        ),
    )
    .default_backoff()
    .try_filter_map(|event| async move {
        Ok(match event {
            // At start (and after a relist) every quota is recounted; later, only
            // quotas whose status does not match their spec (new ones, changed limits):
            // the admission's own charges must not trigger recounts.
            watcher::Event::InitApply(q) => Some(ObjectRef::from(&q)),
            watcher::Event::Apply(q) if needs_sync(&q) => Some(ObjectRef::from(&q)),
            _ => None,
        })
    });
    let (caches, object_triggers) = usage::Caches::start(&client, quotas.clone());
    let context = Arc::new(Context {
        client,
        caches,
        sync_period,
        retries: Retries::default(),
    });
    let results = applier(
        |quota, ctx| reconcile(quota, ctx).boxed(),
        |quota, _, ctx| ctx.retries.failed(queue::key_of(quota.as_ref())),
        context,
        quotas,
        stream::select(quota_triggers, object_triggers),
        Config::default().concurrency(concurrency),
    );
    queue::drive("resourcequota-controller", results).await;
}

fn as_value(quota: &ResourceQuota) -> Value {
    serde_json::to_value(quota).unwrap_or(Value::Null)
}

fn status_list(quota: &Value, key: &str) -> ResourceList {
    resource_list::from_json(quota.pointer(&format!("/status/{key}")))
}

/// Same names, equal quantities (`1Gi` equals `1024Mi`).
fn same(a: &ResourceList, b: &ResourceList) -> bool {
    a.len() == b.len()
        && a.iter().all(|(k, q)| {
            b.get(k)
                .is_some_and(|o| o.compare(q) == std::cmp::Ordering::Equal)
        })
}

/// A quota whose status does not describe its spec yet.
fn needs_sync(quota: &ResourceQuota) -> bool {
    let q = as_value(quota);
    let hard = evaluate::hard(&q);
    let used = status_list(&q, "used");
    !same(&hard, &status_list(&q, "hard")) || hard.keys().any(|k| !used.contains_key(k))
}

async fn reconcile(quota: Arc<ResourceQuota>, ctx: Arc<Context>) -> Result<Action, SyncError> {
    sync(&quota, &ctx).await?;
    ctx.retries.forget(&queue::key_of(quota.as_ref()));
    Ok(Action::requeue(ctx.sync_period))
}

async fn sync(quota: &ResourceQuota, ctx: &Context) -> Result<(), SyncError> {
    ctx.caches.wait_until_ready().await?;
    let ns = quota.namespace().unwrap_or_default();
    let q = as_value(quota);
    let hard = evaluate::hard(&q);
    let used = ctx.caches.usage(&ns, &q).await?;
    if same(&hard, &status_list(&q, "hard")) && same(&used, &status_list(&q, "used")) {
        return Ok(());
    }
    let mut next = q;
    next["status"] = json!({
        "hard": resource_list::to_json(&hard),
        "used": resource_list::to_json(&used),
    });
    let next: ResourceQuota =
        serde_json::from_value(next).map_err(|e| SyncError::Other(e.to_string()))?;
    let api: Api<ResourceQuota> = Api::namespaced(ctx.client.clone(), &ns);
    // The cached resourceVersion is the precondition: a charge in between wins and the
    // recount is retried.
    api.replace_status(&quota.name_any(), &PostParams::default(), &next)
        .await?;
    tracing::debug!(quota = %queue::key_of(quota), "status updated");
    Ok(())
}

/// The quotas of one namespace, as queue keys.
fn quotas_in(quotas: &Store<ResourceQuota>, ns: &str) -> Vec<ObjectRef<ResourceQuota>> {
    quotas
        .state()
        .iter()
        .filter(|q| q.namespace().as_deref() == Some(ns))
        .map(|q| ObjectRef::from(q.as_ref()))
        .collect()
}
