//! Endpoints whose Service is gone are deleted: checked when a Service is deleted and,
//! for what happened while no controller ran, for every Endpoints listed at start.
//! Leader-election records kept in Endpoints by older components are left alone.

use std::sync::Arc;

use futures_util::{FutureExt, Stream, StreamExt};
use k8s_openapi::api::core::v1::{Endpoints, Service};
use kube::api::{Api, DeleteParams, Preconditions};
use kube::runtime::controller::{applier, Action, Config};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::ResourceExt;

use super::Context;
use crate::queue::{self, api_code, SyncError};

const LEADER_ANNOTATION: &str = "control-plane.alpha.kubernetes.io/leader";

pub async fn run(
    ctx: Arc<Context>,
    services: Store<Service>,
    endpoints: Store<Endpoints>,
    triggers: impl Stream<Item = ObjectRef<Endpoints>> + Send + 'static,
) {
    let cleanup = Arc::new(Cleanup { ctx, services });
    let results = applier(
        |ep, cleanup| delete_if_orphaned(ep, cleanup).boxed(),
        |ep, _, cleanup| {
            cleanup
                .ctx
                .retries
                .failed(format!("orphan/{}", queue::key_of(ep.as_ref())))
        },
        cleanup,
        endpoints,
        triggers.map(Ok::<_, std::convert::Infallible>),
        Config::default(),
    );
    queue::drive("endpoints-controller", results).await;
}

struct Cleanup {
    ctx: Arc<Context>,
    services: Store<Service>,
}

async fn delete_if_orphaned(
    ep: Arc<Endpoints>,
    cleanup: Arc<Cleanup>,
) -> Result<Action, SyncError> {
    cleanup
        .services
        .wait_until_ready()
        .await
        .map_err(|e| SyncError::Other(e.to_string()))?;
    let ns = ep.namespace().unwrap_or_default();
    let name = ep.name_any();
    if cleanup
        .services
        .get(&ObjectRef::new(&name).within(&ns))
        .is_some()
        || ep.annotations().contains_key(LEADER_ANNOTATION)
    {
        return Ok(Action::await_change());
    }
    let ctx = &cleanup.ctx;
    let api: Api<Endpoints> = Api::namespaced(ctx.client.clone(), &ns);
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid: ep.uid(),
            resource_version: None,
        }),
        ..Default::default()
    };
    match api.delete(&name, &params).await {
        Ok(_) => {
            tracing::info!(endpoints = %format!("{ns}/{name}"), "deleted: its Service is gone")
        }
        Err(e) if matches!(api_code(&e), Some(404) | Some(409)) => {}
        Err(e) => return Err(e.into()),
    }
    let key = format!("{ns}/{name}");
    ctx.listed.forget(&key);
    ctx.trigger_times.forget(&key);
    ctx.lag.forget(&key);
    ctx.retries.forget(&format!("orphan/{key}"));
    Ok(Action::await_change())
}
