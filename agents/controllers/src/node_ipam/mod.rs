//! The node IPAM controller (`--allocate-node-cidrs`): every Node without
//! `spec.podCIDR` gets the next free node CIDR of `--cluster-cidr` (one per IP family).
//! What is taken is read from the Nodes themselves on every allocation, plus the
//! allocations this process made that its cache has not shown yet, so a restart or a
//! deleted Node frees nothing twice and no two Nodes share a CIDR.

pub mod cidr;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use futures_util::{FutureExt, TryStreamExt};
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{applier, Action, Config};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::ResourceExt;
use serde_json::json;

use crate::queue::{self, api_code, Retries, SyncError};
use cidr::ClusterCidr;

struct Context {
    client: kube::Client,
    nodes: Store<Node>,
    cidrs: Vec<ClusterCidr>,
    allocator: Mutex<Allocator>,
    retries: Retries,
}

#[derive(Default)]
struct Allocator {
    /// Node name → CIDRs handed out and not yet seen on the Node in the cache.
    pending: HashMap<String, Vec<String>>,
    /// Per cluster CIDR, the index handed out last.
    last: Vec<Option<u32>>,
}

pub async fn run(client: kube::Client, cidrs: Vec<ClusterCidr>) {
    if cidrs.is_empty() {
        tracing::info!("node-ipam-controller: --allocate-node-cidrs is off, nothing to do");
        return std::future::pending().await;
    }
    let (nodes, writer) = reflector::store();
    let triggers = reflector::reflector(
        writer,
        watcher(Api::<Node>::all(client.clone()), Default::default()),
    )
    .default_backoff()
    .applied_objects()
    .map_ok(|node| ObjectRef::<Node>::from(&node));
    let context = Arc::new(Context {
        client,
        nodes: nodes.clone(),
        allocator: Mutex::new(Allocator {
            pending: HashMap::new(),
            last: vec![None; cidrs.len()],
        }),
        cidrs,
        retries: Retries::default(),
    });
    let results = applier(
        |node, ctx| reconcile(node, ctx).boxed(),
        |node, _, ctx| ctx.retries.failed(queue::key_of(node.as_ref())),
        context,
        nodes,
        triggers,
        Config::default(),
    );
    queue::drive("node-ipam-controller", results).await;
}

async fn reconcile(node: Arc<Node>, ctx: Arc<Context>) -> Result<Action, SyncError> {
    let action = sync(&node, &ctx).await?;
    ctx.retries.forget(&queue::key_of(node.as_ref()));
    Ok(action)
}

fn pod_cidrs(node: &Node) -> Vec<String> {
    let spec = node.spec.as_ref();
    let mut out: Vec<String> = spec.and_then(|s| s.pod_cidrs.clone()).unwrap_or_default();
    if out.is_empty() {
        out.extend(
            spec.and_then(|s| s.pod_cidr.clone())
                .filter(|c| !c.is_empty()),
        );
    }
    out
}

/// Choose this node's CIDRs, one per cluster CIDR, none taken by another Node.
fn allocate(ctx: &Context, name: &str) -> Result<Vec<String>, SyncError> {
    let mut allocator = ctx.allocator.lock().unwrap_or_else(|e| e.into_inner());
    let nodes = ctx.nodes.state();
    // Allocations the cache now shows (or whose Node is gone) need no remembering.
    allocator.pending.retain(|node, cidrs| {
        nodes
            .iter()
            .find(|n| n.name_any() == *node)
            .is_some_and(|n| pod_cidrs(n) != *cidrs)
    });
    if let Some(cidrs) = allocator.pending.get(name) {
        return Ok(cidrs.clone());
    }
    let mut chosen = Vec::new();
    for (i, cluster) in ctx.cidrs.iter().enumerate() {
        let taken: BTreeSet<u32> = nodes
            .iter()
            .flat_map(|n| pod_cidrs(n))
            .chain(allocator.pending.values().flatten().cloned())
            .filter_map(|c| cluster.index_of(&c))
            .collect();
        let Some((index, cidr)) = cluster.next_free(&taken, allocator.last[i]) else {
            return Err(SyncError::Other(format!(
                "no remaining CIDRs for node {name}: all {} are allocated (CIDRNotAvailable)",
                cluster.count()
            )));
        };
        allocator.last[i] = Some(index);
        chosen.push(cidr);
    }
    allocator.pending.insert(name.to_string(), chosen.clone());
    Ok(chosen)
}

async fn sync(node: &Node, ctx: &Context) -> Result<Action, SyncError> {
    if !pod_cidrs(node).is_empty() || node.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let name = node.name_any();
    let cidrs = allocate(ctx, &name)?;
    let api: Api<Node> = Api::all(ctx.client.clone());
    let patch = json!({
        "metadata": {"uid": node.metadata.uid},
        "spec": {"podCIDR": cidrs[0], "podCIDRs": cidrs},
    });
    let params = PatchParams {
        field_manager: Some("node-ipam-controller".into()),
        ..Default::default()
    };
    match api.patch(&name, &params, &Patch::Merge(patch)).await {
        Ok(_) => {
            tracing::info!(node = %name, cidrs = ?cidrs, "allocated the pod CIDR");
            Ok(Action::await_change())
        }
        Err(e) => {
            // Refused (gone, replaced, or a podCIDR set meanwhile): hand the CIDRs back.
            ctx.allocator
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pending
                .remove(&name);
            match api_code(&e) {
                Some(404) | Some(409) => Ok(Action::await_change()),
                _ => Err(e.into()),
            }
        }
    }
}
