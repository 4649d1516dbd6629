//! The serviceaccount controller: every namespace that is not terminating has a
//! `default` ServiceAccount (recreated if deleted).
//!
//! Seam for the security issue: the `kube-root-ca.crt` ConfigMap is published per
//! namespace the same way once the cluster has a CA.

use std::sync::Arc;

use futures_util::{stream, FutureExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{Api, ObjectMeta, PostParams};
use kube::runtime::controller::{applier, Action, Config};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::ResourceExt;

use crate::queue::{self, api_code, Retries, SyncError};

const DEFAULT: &str = "default";

struct Context {
    client: kube::Client,
    accounts: Store<ServiceAccount>,
    retries: Retries,
}

pub async fn run(client: kube::Client) {
    let (namespaces, ns_writer) = reflector::store();
    let ns_triggers = reflector::reflector(
        ns_writer,
        watcher(Api::<Namespace>::all(client.clone()), Default::default()),
    )
    .default_backoff()
    .applied_objects()
    .map_ok(|ns| ObjectRef::<Namespace>::from(&ns));
    let (accounts, sa_writer) = reflector::store();
    let only_default = watcher::Config::default().fields(&format!("metadata.name={DEFAULT}"));
    // A deleted `default` account must trigger its namespace too: touched, not applied.
    let sa_triggers = reflector::reflector(
        sa_writer,
        watcher(Api::<ServiceAccount>::all(client.clone()), only_default),
    )
    .default_backoff()
    .touched_objects()
    .map_ok(|sa: ServiceAccount| ObjectRef::<Namespace>::new(&sa.namespace().unwrap_or_default()));
    let context = Arc::new(Context {
        client,
        accounts,
        retries: Retries::default(),
    });
    let results = applier(
        |ns, ctx| reconcile(ns, ctx).boxed(),
        |ns, _, ctx| ctx.retries.failed(queue::key_of(ns.as_ref())),
        context,
        namespaces,
        stream::select(ns_triggers, sa_triggers),
        Config::default(),
    );
    queue::drive("serviceaccount-controller", results).await;
}

async fn reconcile(ns: Arc<Namespace>, ctx: Arc<Context>) -> Result<Action, SyncError> {
    let action = sync(&ns, &ctx).await?;
    ctx.retries.forget(&queue::key_of(ns.as_ref()));
    Ok(action)
}

fn terminating(ns: &Namespace) -> bool {
    ns.metadata.deletion_timestamp.is_some()
        || ns.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Terminating")
}

async fn sync(ns: &Namespace, ctx: &Context) -> Result<Action, SyncError> {
    if terminating(ns) {
        return Ok(Action::await_change());
    }
    ctx.accounts
        .wait_until_ready()
        .await
        .map_err(|e| SyncError::Other(e.to_string()))?;
    let name = ns.name_any();
    if ctx
        .accounts
        .get(&ObjectRef::new(DEFAULT).within(&name))
        .is_some()
    {
        return Ok(Action::await_change());
    }
    let account = ServiceAccount {
        metadata: ObjectMeta {
            name: Some(DEFAULT.into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let api: Api<ServiceAccount> = Api::namespaced(ctx.client.clone(), &name);
    match api.create(&PostParams::default(), &account).await {
        Ok(_) => tracing::info!(namespace = %name, "created the default ServiceAccount"),
        // Already there (the cache lags), or the namespace began terminating.
        Err(e) if matches!(api_code(&e), Some(409) | Some(403)) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Action::await_change())
}
