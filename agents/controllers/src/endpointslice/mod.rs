//! The endpointslice controller: every Service with a selector has discovery.k8s.io/v1
//! EndpointSlices (`generateName: <service>-`, labelled `kubernetes.io/service-name` and
//! `endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io`, controlled
//! by the Service) listing its pods per address family, with ready/serving/terminating
//! conditions, at most `--max-endpoints-per-slice` endpoints each, written with the
//! fewest changes. Slices of a deleted Service go with it (ownerReference).

mod desired;
mod plan;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{stream, FutureExt, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DeleteParams, PostParams, Preconditions};
use kube::runtime::controller::{applier, Action, Config};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::ResourceExt;

use crate::cache_lag::{CacheLag, Cached, Write};
use crate::endpoints::{namespace_terminating, services_for};
use crate::queue::{self, api_code, Retries, SyncError};
use crate::service_index::ServicePods;
use crate::service_pods as sp;
use crate::trigger_time::{self, TriggerTimes};
use plan::{Plan, SliceMeta};

pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
const CONTROLLER_NAME: &str = "endpointslice-controller.k8s.io";
const HEADLESS_LABEL: &str = "service.kubernetes.io/headless";
const ZONE_LABEL: &str = "topology.kubernetes.io/zone";
const CACHE_LAG_RETRY: Duration = Duration::from_millis(500);

struct Context {
    client: kube::Client,
    pods: Store<Pod>,
    slices: Store<EndpointSlice>,
    /// For the endpoints' `zone`.
    nodes: Store<Node>,
    listed: ServicePods,
    trigger_times: TriggerTimes,
    lag: CacheLag,
    retries: Retries,
    max_per_slice: usize,
}

pub async fn run(client: kube::Client, concurrency: u16, max_per_slice: u16) {
    let (services, service_writer) = reflector::store();
    let service_triggers = reflector::reflector(
        service_writer,
        watcher(Api::<Service>::all(client.clone()), Default::default()),
    )
    .default_backoff()
    .applied_objects()
    .map_ok(|svc| ObjectRef::<Service>::from(&svc));
    let (pods, pod_writer) = reflector::store();
    let (slices, slice_writer) = reflector::store();
    let (nodes, node_writer) = reflector::store();
    let node_cache = reflector::reflector(
        node_writer,
        watcher(Api::<Node>::all(client.clone()), Default::default()),
    )
    .default_backoff()
    .for_each(|_| async {});
    let context = Arc::new(Context {
        client: client.clone(),
        pods,
        slices,
        nodes,
        listed: ServicePods::default(),
        trigger_times: TriggerTimes::default(),
        lag: CacheLag::default(),
        retries: Retries::default(),
        max_per_slice: usize::from(max_per_slice.max(1)),
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
    let ours = watcher::Config::default().labels(&format!("{MANAGED_BY_LABEL}={CONTROLLER_NAME}"));
    let slice_triggers = reflector::reflector(
        slice_writer,
        watcher(Api::<EndpointSlice>::all(client.clone()), ours),
    )
    .default_backoff()
    .touched_objects()
    .try_filter_map(|slice: EndpointSlice| async move {
        Ok(slice.labels().get(SERVICE_NAME_LABEL).map(|svc| {
            ObjectRef::<Service>::new(svc).within(&slice.namespace().unwrap_or_default())
        }))
    });
    let results = applier(
        |svc, ctx| reconcile(svc, ctx).boxed(),
        |svc, _, ctx| ctx.retries.failed(queue::key_of(svc.as_ref())),
        context,
        services,
        stream::select(
            service_triggers,
            stream::select(pod_triggers, slice_triggers),
        ),
        Config::default().concurrency(concurrency),
    );
    tokio::join!(
        queue::drive("endpointslice-controller", results),
        node_cache
    );
}

async fn reconcile(svc: Arc<Service>, ctx: Arc<Context>) -> Result<Action, SyncError> {
    let action = sync(&svc, &ctx).await?;
    ctx.retries.forget(&queue::key_of(svc.as_ref()));
    Ok(action)
}

fn cached(store: &Store<EndpointSlice>, ns: &str, name: &str) -> Option<Cached> {
    store.get(&ObjectRef::new(name).within(ns)).map(|s| Cached {
        resource_version: s.resource_version().unwrap_or_default(),
        uid: s.uid().unwrap_or_default(),
    })
}

async fn sync(svc: &Service, ctx: &Context) -> Result<Action, SyncError> {
    let not_ready = |e: reflector::store::WriterDropped| SyncError::Other(e.to_string());
    ctx.pods.wait_until_ready().await.map_err(not_ready)?;
    ctx.slices.wait_until_ready().await.map_err(not_ready)?;
    let ns = svc.namespace().unwrap_or_default();
    let name = svc.name_any();
    let key = format!("{ns}/{name}");
    let external_name = svc.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("ExternalName");
    let selector = match sp::selector(svc) {
        Some(selector) if !external_name && svc.metadata.deletion_timestamp.is_none() => selector,
        _ => {
            ctx.listed.forget(&key);
            ctx.trigger_times.forget(&key);
            return Ok(Action::await_change());
        }
    };
    if !ctx.lag.caught_up(&key, |n| cached(&ctx.slices, &ns, n)) {
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

    let uid = svc.uid().unwrap_or_default();
    let families = sp::service_families(svc);
    let mut by_family: BTreeMap<&str, Vec<Arc<EndpointSlice>>> = BTreeMap::new();
    let mut total = Plan::default();
    for slice in ctx.slices.state_filter(|s| {
        s.namespace().as_deref() == Some(&ns) && s.labels().get(SERVICE_NAME_LABEL) == Some(&name)
    }) {
        let owned = slice
            .owner_references()
            .iter()
            .any(|r| r.controller == Some(true) && r.uid == uid);
        match families.iter().find(|f| **f == slice.address_type) {
            Some(family) if owned => by_family.entry(family).or_default().push(slice),
            _ => total.delete.push(slice),
        }
    }
    for family in &families {
        let mut existing = by_family.remove(family).unwrap_or_default();
        existing.sort_by_key(|s| s.name_any());
        let meta = slice_meta(svc, family);
        let desired = desired::compute(svc, &pods, family, |node| {
            ctx.nodes
                .get(&ObjectRef::new(node))?
                .labels()
                .get(ZONE_LABEL)
                .cloned()
        });
        let plan = plan::plan(existing, desired, &meta, ctx.max_per_slice);
        total.create.extend(plan.create);
        total.update.extend(plan.update);
        total.delete.extend(plan.delete);
    }
    if let Some(t) = trigger {
        for slice in total.create.iter_mut().chain(total.update.iter_mut()) {
            slice
                .metadata
                .annotations
                .get_or_insert_with(BTreeMap::new)
                .insert(trigger_time::ANNOTATION.into(), trigger_time::format(t));
        }
    }
    execute(ctx, &key, &ns, total).await?;
    Ok(Action::await_change())
}

fn slice_meta(svc: &Service, family: &str) -> SliceMeta {
    let name = svc.name_any();
    let mut labels: BTreeMap<String, String> = svc
        .labels()
        .iter()
        .filter(|(k, _)| *k != SERVICE_NAME_LABEL && *k != MANAGED_BY_LABEL)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if sp::is_headless(svc) {
        labels.insert(HEADLESS_LABEL.into(), String::new());
    } else {
        labels.remove(HEADLESS_LABEL);
    }
    labels.insert(SERVICE_NAME_LABEL.into(), name.clone());
    labels.insert(MANAGED_BY_LABEL.into(), CONTROLLER_NAME.into());
    SliceMeta {
        namespace: svc.namespace().unwrap_or_default(),
        generate_name: format!("{name}-"),
        address_type: family.to_string(),
        labels,
        owner: OwnerReference {
            api_version: "v1".into(),
            kind: "Service".into(),
            name,
            uid: svc.uid().unwrap_or_default(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        },
    }
}

/// Creates first, then updates, then deletes: a Service never loses endpoints it keeps.
async fn execute(ctx: &Context, key: &str, ns: &str, plan: Plan) -> Result<(), SyncError> {
    let api: Api<EndpointSlice> = Api::namespaced(ctx.client.clone(), ns);
    let params = PostParams {
        field_manager: Some(CONTROLLER_NAME.into()),
        ..Default::default()
    };
    for slice in &plan.create {
        match api.create(&params, slice).await {
            Ok(created) => ctx.lag.wrote(
                key,
                Write::Created {
                    name: created.name_any(),
                },
            ),
            Err(e) if namespace_terminating(&e) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
    }
    for slice in &plan.update {
        let name = slice.name_any();
        let old_version = slice.resource_version().unwrap_or_default();
        api.replace(&name, &params, slice).await?;
        ctx.lag.wrote(key, Write::Replaced { name, old_version });
    }
    for slice in &plan.delete {
        let name = slice.name_any();
        let uid = slice.uid().unwrap_or_default();
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                uid: Some(uid.clone()),
                resource_version: None,
            }),
            ..Default::default()
        };
        match api.delete(&name, &params).await {
            Ok(_) => ctx.lag.wrote(key, Write::Deleted { name, uid }),
            Err(e) if matches!(api_code(&e), Some(404) | Some(409)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
