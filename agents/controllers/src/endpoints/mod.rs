//! The endpoints controller: every Service with a selector has an Endpoints object of
//! the same name listing the selected pods' addresses (ready ones in `addresses`, others
//! in `notReadyAddresses`) and ports, written only when it changes. Services without a
//! selector are left alone (their Endpoints belong to their owner, e.g. the apiserver's
//! `kubernetes`). Endpoints whose Service is gone are deleted.

mod orphans;
mod subsets;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{stream, FutureExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
use kube::api::{Api, ObjectMeta, PostParams};
use kube::runtime::controller::{applier, Action, Config};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::ResourceExt;

use crate::cache_lag::{CacheLag, Cached, Write};
use crate::queue::{self, Retries, SyncError};
use crate::service_index::ServicePods;
use crate::service_pods as sp;
use crate::trigger_time::{self, TriggerTimes};

/// Set when the Endpoints were cut at [`subsets::MAX_ADDRESSES`].
const OVER_CAPACITY: &str = "endpoints.kubernetes.io/over-capacity";
const HEADLESS_LABEL: &str = "service.kubernetes.io/headless";
/// How long to wait for the cache to show this controller's last write.
const CACHE_LAG_RETRY: Duration = Duration::from_millis(500);

struct Context {
    client: kube::Client,
    pods: Store<Pod>,
    endpoints: Store<Endpoints>,
    listed: ServicePods,
    trigger_times: TriggerTimes,
    lag: CacheLag,
    retries: Retries,
}

pub async fn run(client: kube::Client, concurrency: u16) {
    let (services, service_writer) = reflector::store();
    let (deleted_tx, deleted_rx) = tokio::sync::mpsc::unbounded_channel();
    let service_triggers = reflector::reflector(
        service_writer,
        watcher(Api::<Service>::all(client.clone()), Default::default()),
    )
    .default_backoff()
    .inspect_ok(move |event| {
        if let watcher::Event::Delete(svc) = event {
            let _ = deleted_tx.send(
                ObjectRef::<Endpoints>::new(&svc.name_any())
                    .within(&svc.namespace().unwrap_or_default()),
            );
        }
    })
    .applied_objects()
    .map_ok(|svc| ObjectRef::<Service>::from(&svc));

    let (pods, pod_writer) = reflector::store();
    let (endpoints, endpoints_writer) = reflector::store();
    let context = Arc::new(Context {
        client: client.clone(),
        pods,
        endpoints: endpoints.clone(),
        listed: ServicePods::default(),
        trigger_times: TriggerTimes::default(),
        lag: CacheLag::default(),
        retries: Retries::default(),
    });
    let selecting = services.clone();
    let ctx = context.clone();
    let pod_triggers = reflector::reflector(
        pod_writer,
        watcher(Api::<Pod>::all(client.clone()), Default::default()),
    )
    .default_backoff()
    .touched_objects()
    .map_ok(move |pod: Pod| {
        stream::iter(
            services_for(&selecting, &ctx.listed, &pod)
                .into_iter()
                .map(Ok::<_, watcher::Error>),
        )
    })
    .try_flatten();

    // Endpoints changed or deleted by someone else: their Service is synced again. The
    // initial listing also checks every existing Endpoints for a missing Service.
    let (listed_tx, listed_rx) = tokio::sync::mpsc::unbounded_channel();
    let endpoints_triggers = reflector::reflector(
        endpoints_writer,
        watcher(Api::<Endpoints>::all(client.clone()), Default::default()),
    )
    .default_backoff()
    .inspect_ok(move |event| {
        if let watcher::Event::InitApply(ep) = event {
            let _ = listed_tx.send(ObjectRef::<Endpoints>::from(ep));
        }
    })
    .touched_objects()
    .map_ok(|ep: Endpoints| {
        ObjectRef::<Service>::new(&ep.name_any()).within(&ep.namespace().unwrap_or_default())
    });

    let results = applier(
        |svc, ctx| reconcile(svc, ctx).boxed(),
        |svc, _, ctx| ctx.retries.failed(queue::key_of(svc.as_ref())),
        context.clone(),
        services.clone(),
        stream::select(
            service_triggers,
            stream::select(pod_triggers, endpoints_triggers),
        ),
        Config::default().concurrency(concurrency),
    );
    let cleanup = orphans::run(
        context.clone(),
        services,
        endpoints,
        stream::select(receiver_stream(deleted_rx), receiver_stream(listed_rx)),
    );
    tokio::join!(queue::drive("endpoints-controller", results), cleanup);
}

fn receiver_stream<T>(
    rx: tokio::sync::mpsc::UnboundedReceiver<T>,
) -> impl futures_util::Stream<Item = T> {
    stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|v| (v, rx)) })
}

/// The Services a pod event concerns: those selecting it now and those that listed it.
pub(crate) fn services_for(
    services: &Store<Service>,
    listed: &ServicePods,
    pod: &Pod,
) -> Vec<ObjectRef<Service>> {
    let ns = pod.namespace().unwrap_or_default();
    let mut keys: BTreeSet<(String, String)> = services
        .state_filter(|svc| {
            svc.namespace().as_deref() == Some(&ns)
                && sp::selector(svc).is_some_and(|sel| sp::selects(sel, pod))
        })
        .iter()
        .map(|svc| (ns.clone(), svc.name_any()))
        .collect();
    for key in listed.services_listing(&format!("{ns}/{}", pod.name_any())) {
        if let Some((ns, name)) = key.split_once('/') {
            keys.insert((ns.to_string(), name.to_string()));
        }
    }
    keys.into_iter()
        .map(|(ns, name)| ObjectRef::new(&name).within(&ns))
        .collect()
}

async fn reconcile(svc: Arc<Service>, ctx: Arc<Context>) -> Result<Action, SyncError> {
    let action = sync(&svc, &ctx).await?;
    ctx.retries.forget(&queue::key_of(svc.as_ref()));
    Ok(action)
}

fn cached(store: &Store<Endpoints>, ns: &str, name: &str) -> Option<Cached> {
    store
        .get(&ObjectRef::new(name).within(ns))
        .map(|ep| Cached {
            resource_version: ep.resource_version().unwrap_or_default(),
            uid: ep.uid().unwrap_or_default(),
        })
}

async fn sync(svc: &Service, ctx: &Context) -> Result<Action, SyncError> {
    let not_ready = |e: reflector::store::WriterDropped| SyncError::Other(e.to_string());
    ctx.pods.wait_until_ready().await.map_err(not_ready)?;
    ctx.endpoints.wait_until_ready().await.map_err(not_ready)?;
    let ns = svc.namespace().unwrap_or_default();
    let name = svc.name_any();
    let key = format!("{ns}/{name}");
    let Some(selector) = sp::selector(svc) else {
        ctx.listed.forget(&key);
        ctx.trigger_times.forget(&key);
        return Ok(Action::await_change());
    };
    if !ctx.lag.caught_up(&key, |n| cached(&ctx.endpoints, &ns, n)) {
        return Ok(Action::requeue(CACHE_LAG_RETRY));
    }
    let mut pods: Vec<Arc<Pod>> = ctx
        .pods
        .state_filter(|p| p.namespace().as_deref() == Some(&ns) && sp::selects(selector, p));
    pods.sort_by_key(|p| p.name_any());
    let pods: Vec<&Pod> = pods.iter().map(|p| p.as_ref()).collect();
    ctx.listed.record(
        &key,
        pods.iter()
            .map(|p| format!("{ns}/{}", p.name_any()))
            .collect(),
    );
    let trigger = ctx.trigger_times.changed_since_last_sync(&key, svc, &pods);
    let mut subsets = subsets::compute(svc, &pods);
    let truncated = subsets::truncate(&mut subsets);
    let labels = desired_labels(svc);

    let current = ctx.endpoints.get(&ObjectRef::new(&name).within(&ns));
    if let Some(current) = &current {
        let over_capacity = current.annotations().contains_key(OVER_CAPACITY);
        if current.subsets.clone().unwrap_or_default() == subsets
            && current.labels() == &labels
            && over_capacity == truncated
        {
            return Ok(Action::await_change());
        }
    }
    let mut next = current.as_deref().cloned().unwrap_or_else(|| Endpoints {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(ns.clone()),
            ..Default::default()
        },
        subsets: None,
    });
    next.subsets = (!subsets.is_empty()).then_some(subsets);
    next.metadata.labels = Some(labels);
    let annotations = next.metadata.annotations.get_or_insert_with(BTreeMap::new);
    match trigger {
        Some(t) => annotations.insert(trigger_time::ANNOTATION.into(), trigger_time::format(t)),
        None => annotations.remove(trigger_time::ANNOTATION),
    };
    if truncated {
        annotations.insert(OVER_CAPACITY.into(), "truncated".into());
    } else {
        annotations.remove(OVER_CAPACITY);
    }
    if annotations.is_empty() {
        next.metadata.annotations = None;
    }
    write(ctx, &key, &ns, current.is_some(), next).await?;
    Ok(Action::await_change())
}

/// The Service's labels, plus `service.kubernetes.io/headless` for a headless one.
fn desired_labels(svc: &Service) -> BTreeMap<String, String> {
    let mut labels = svc.labels().clone();
    let cluster_ip = svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref());
    if matches!(cluster_ip, None | Some("") | Some("None")) {
        labels.insert(HEADLESS_LABEL.into(), String::new());
    } else {
        labels.remove(HEADLESS_LABEL);
    }
    labels
}

async fn write(
    ctx: &Context,
    key: &str,
    ns: &str,
    exists: bool,
    endpoints: Endpoints,
) -> Result<(), SyncError> {
    let api: Api<Endpoints> = Api::namespaced(ctx.client.clone(), ns);
    let name = endpoints.name_any();
    let params = PostParams {
        field_manager: Some("endpoint-controller".into()),
        ..Default::default()
    };
    if exists {
        let old_version = endpoints.resource_version().unwrap_or_default();
        api.replace(&name, &params, &endpoints).await?;
        ctx.lag.wrote(key, Write::Replaced { name, old_version });
        return Ok(());
    }
    match api.create(&params, &endpoints).await {
        Ok(_) => {
            ctx.lag.wrote(key, Write::Created { name });
            Ok(())
        }
        // The namespace is terminating: nothing will be created there again.
        Err(e) if namespace_terminating(&e) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn namespace_terminating(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status) if status.code == 403
        && status.details.as_ref().is_some_and(|d| d.causes.iter().any(|c| c.reason == "NamespaceTerminating")))
}
