//! The namespace controller: a Namespace being deleted (deletionTimestamp set, the
//! `kubernetes` finalizer in spec.finalizers) has all its content deleted, status
//! conditions say what it waits for, and once nothing is left the finalizer is removed
//! with `PUT namespaces/{name}/finalize`, after which the apiserver removes it.

mod conditions;
mod content;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, PostParams};
use kube::runtime::{watcher, WatchStreamExt};
use kube::ResourceExt;

use crate::queue::{api_code, SyncError};
use crate::workqueue::WorkQueue;

const FINALIZER: &str = "kubernetes";

/// Upstream's nsControllerRateLimiter: a namespace whose deletion fails is retried at
/// least every minute, never later.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);

struct Context {
    client: kube::Client,
    namespaces: Api<Namespace>,
    queue: Arc<WorkQueue>,
}

/// Watch namespaces and queue every one being deleted; `concurrency` workers take them
/// in the order they were queued (upstream's FIFO workqueue, so under a backlog none
/// waits behind namespaces deleted after it).
pub async fn run(client: kube::Client, concurrency: u16) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let queue = Arc::new(WorkQueue::with_max_delay(MAX_RETRY_DELAY));
    let context = Arc::new(Context {
        client,
        namespaces: namespaces.clone(),
        queue: queue.clone(),
    });
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        workers.spawn(work(context.clone()));
    }
    watcher(namespaces, Default::default())
        .default_backoff()
        .applied_objects()
        .for_each(|event| {
            match event {
                // Upstream queues only namespaces being deleted.
                Ok(ns) if ns.metadata.deletion_timestamp.is_some() => {
                    tracing::debug!(namespace = %ns.name_any(), "queued");
                    queue.add(&ns.name_any());
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(controller = "namespace-controller", "watch: {e}"),
            }
            std::future::ready(())
        })
        .await;
}

async fn work(ctx: Arc<Context>) {
    loop {
        let name = ctx.queue.next().await;
        match sync(&ctx, &name).await {
            Ok(requeue) => {
                ctx.queue.forget(&name);
                if let Some(after) = requeue {
                    ctx.queue.add_after(&name, after);
                }
            }
            // A write from a namespace that changed since it was read: read it again.
            Err(SyncError::Api(e)) if api_code(&e) == Some(409) => {
                tracing::debug!(namespace = %name, "conflict, retrying: {e}");
                ctx.queue.retry(&name);
            }
            Err(e) => {
                tracing::warn!(namespace = %name, "deleting the namespace's content: {e}");
                ctx.queue.retry(&name);
            }
        }
        ctx.queue.done(&name);
    }
}

/// One pass over a namespace being deleted; Some(wait) when content is still going away.
async fn sync(ctx: &Context, name: &str) -> Result<Option<Duration>, SyncError> {
    // The namespace as stored now (upstream reads it too): the watch may lag behind, and a
    // namespace finalized since it was queued needs no pass over its content.
    let Some(ns) = ctx.namespaces.get_opt(name).await? else {
        return Ok(None);
    };
    if ns.metadata.deletion_timestamp.is_none() || !has_finalizer(&ns) {
        return Ok(None);
    }
    let started = Instant::now();
    let cleanup = content::delete_all(&ctx.client, name).await;
    tracing::debug!(
        namespace = %name,
        elapsed = ?started.elapsed(),
        remaining = ?cleanup.remaining,
        failures = cleanup.deletion_failures.len(),
        "content pass"
    );
    let Some(ns) = write_status(ctx, &ns, &cleanup).await? else {
        return Ok(None);
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
        return Ok(Some(wait));
    }
    finalize(ctx, ns).await?;
    Ok(None)
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
