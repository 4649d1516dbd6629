//! The namespace controller: a Namespace being deleted (deletionTimestamp set, the
//! `kubernetes` finalizer in spec.finalizers) has all its content deleted, status
//! conditions say what it waits for, and once nothing is left the finalizer is removed
//! with `PUT namespaces/{name}/finalize`, after which the apiserver removes it.

mod conditions;
mod content;

use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt, TryStreamExt};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, PostParams};
use kube::runtime::controller::{applier, Action, Config};
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::{watcher, WatchStreamExt};
use kube::ResourceExt;

use crate::queue::{self, api_code, Retries, SyncError};

const FINALIZER: &str = "kubernetes";

struct Context {
    client: kube::Client,
    namespaces: Api<Namespace>,
    retries: Retries,
}

pub async fn run(client: kube::Client, concurrency: u16) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let (store, writer) = reflector::store();
    let triggers = reflector::reflector(writer, watcher(namespaces.clone(), Default::default()))
        .default_backoff()
        .applied_objects()
        .map_ok(|ns| ObjectRef::from(&ns));
    let context = Arc::new(Context {
        client,
        namespaces,
        retries: Retries::default(),
    });
    let results = applier(
        |ns, ctx| reconcile(ns, ctx).boxed(),
        |ns, _, ctx| ctx.retries.failed(queue::key_of(ns.as_ref())),
        context,
        store,
        triggers,
        Config::default().concurrency(concurrency),
    );
    queue::drive("namespace-controller", results).await;
}

async fn reconcile(ns: Arc<Namespace>, ctx: Arc<Context>) -> Result<Action, SyncError> {
    let action = sync(&ns, &ctx).await?;
    ctx.retries.forget(&queue::key_of(ns.as_ref()));
    Ok(action)
}

async fn sync(ns: &Namespace, ctx: &Context) -> Result<Action, SyncError> {
    if ns.metadata.deletion_timestamp.is_none() || !has_finalizer(ns) {
        return Ok(Action::await_change());
    }
    let name = ns.name_any();
    let cleanup = content::delete_all(&ctx.client, &name).await;
    let Some(ns) = write_status(ctx, ns, &cleanup).await? else {
        return Ok(Action::await_change());
    };
    if let Some(e) = &cleanup.discovery_failure {
        return Err(SyncError::Other(format!("discovery: {e}")));
    }
    if !cleanup.deletion_failures.is_empty() {
        return Err(SyncError::Other(cleanup.deletion_failures.join("; ")));
    }
    if !cleanup.remaining.is_empty() {
        // Content goes away without touching the namespace: look again after the
        // longest grace period still running, or soon.
        let wait = Duration::from_secs(cleanup.grace_seconds.clamp(1, 30) as u64);
        return Ok(Action::requeue(wait));
    }
    finalize(ctx, ns).await?;
    Ok(Action::await_change())
}

fn has_finalizer(ns: &Namespace) -> bool {
    ns.spec
        .as_ref()
        .and_then(|s| s.finalizers.as_ref())
        .is_some_and(|f| f.iter().any(|f| f == FINALIZER))
}

/// Write the conditions if they changed; the namespace as now stored (None: it is gone).
async fn write_status(
    ctx: &Context,
    ns: &Namespace,
    cleanup: &content::Cleanup,
) -> Result<Option<Namespace>, SyncError> {
    let Some(status) = conditions::updated_status(ns, cleanup) else {
        return Ok(Some(ns.clone()));
    };
    let mut updated = ns.clone();
    updated.status = Some(status);
    match ctx
        .namespaces
        .replace_status(&ns.name_any(), &PostParams::default(), &updated)
        .await
    {
        Ok(stored) => Ok(Some(stored)),
        Err(e) if api_code(&e) == Some(404) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Remove the `kubernetes` finalizer through the finalize subresource.
async fn finalize(ctx: &Context, ns: Namespace) -> Result<(), SyncError> {
    let name = ns.name_any();
    let mut finalized = ns;
    if let Some(finalizers) = finalized.spec.as_mut().and_then(|s| s.finalizers.as_mut()) {
        finalizers.retain(|f| f != FINALIZER);
    }
    match ctx
        .namespaces
        .replace_subresource("finalize", &name, &PostParams::default(), &finalized)
        .await
    {
        Ok(_) => {
            tracing::info!(namespace = %name, "finalized");
            Ok(())
        }
        Err(e) if api_code(&e) == Some(404) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
