//! LIST+WATCH of pods (not finished), nodes and namespaces into the shared state, with
//! kube-runtime's watcher (re-lists on 410, backs off on errors).

use std::collections::HashSet;
use std::fmt::Debug;
use std::sync::Arc;

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use kube::runtime::watcher::{self, watcher, Event};
use kube::runtime::WatchStreamExt;
use kube::{Api, Resource};
use serde::de::DeserializeOwned;

use crate::state::Shared;

/// Run one watch forever, calling `apply`/`delete`, and `relisted` with the uids seen by
/// each (re)list.
async fn run_watch<K>(
    api: Api<K>,
    config: watcher::Config,
    mut apply: impl FnMut(K),
    mut delete: impl FnMut(&K),
    mut relisted: impl FnMut(&HashSet<String>),
) where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    let mut stream = watcher(api, config).default_backoff().boxed();
    let mut listing: Option<HashSet<String>> = None;
    while let Some(event) = stream.next().await {
        match event {
            Ok(Event::Init) => listing = Some(HashSet::new()),
            Ok(Event::InitApply(obj)) => {
                if let Some(seen) = listing.as_mut() {
                    seen.insert(obj.meta().uid.clone().unwrap_or_default());
                }
                apply(obj);
            }
            Ok(Event::InitDone) => {
                if let Some(seen) = listing.take() {
                    relisted(&seen);
                }
            }
            Ok(Event::Apply(obj)) => apply(obj),
            Ok(Event::Delete(obj)) => delete(&obj),
            Err(e) => tracing::warn!("watch error: {e}"),
        }
    }
}

pub async fn watch_pods(client: kube::Client, shared: Arc<Shared>) {
    let config = watcher::Config::default().fields("status.phase!=Succeeded,status.phase!=Failed");
    run_watch(
        Api::<Pod>::all(client),
        config,
        |pod| shared.apply_pod(pod),
        |pod| shared.delete_pod(pod),
        |seen| shared.prune_pods(seen),
    )
    .await;
}

pub async fn watch_nodes(client: kube::Client, shared: Arc<Shared>) {
    run_watch(
        Api::<Node>::all(client),
        watcher::Config::default(),
        |node| shared.apply_node(node),
        |node| shared.delete_node(node),
        |_| {},
    )
    .await;
}

pub async fn watch_namespaces(client: kube::Client, shared: Arc<Shared>) {
    run_watch(
        Api::<Namespace>::all(client),
        watcher::Config::default(),
        |ns| shared.apply_namespace(ns),
        |ns| shared.delete_namespace(ns),
        |_| {},
    )
    .await;
}
