//! Which object events call for a recount: deletions, and updates that lower an
//! object's usage (the admission charged every increase already). A relist recounts
//! everything, since deletions during a watch gap show as nothing.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use futures_util::{stream, Stream, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ResourceQuota;
use kube::api::Api;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Resource, ResourceExt};
use rkube_api::quota::{usage, ResourceList};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::quotas_in;

pub type Triggers =
    std::pin::Pin<Box<dyn Stream<Item = Result<ObjectRef<ResourceQuota>, watcher::Error>> + Send>>;

/// A cache of one tracked kind (group, plural) and the recounts its events call for.
pub fn watch<K>(
    client: &kube::Client,
    quotas: Store<ResourceQuota>,
    group: &'static str,
    plural: &'static str,
) -> (Store<K>, Triggers)
where
    K: Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned + Serialize + Send + Sync,
    K: 'static,
{
    let (store, writer) = reflector::store();
    let last_usage: Arc<Mutex<HashMap<String, ResourceList>>> = Arc::default();
    let events = reflector::reflector(
        writer,
        watcher(Api::<K>::all(client.clone()), Default::default()),
    )
    .default_backoff()
    .map_ok(move |event| {
        let namespaces = namespaces_to_recount(&event, &last_usage, group, plural);
        let refs: Vec<ObjectRef<ResourceQuota>> = match namespaces {
            Recount::None => Vec::new(),
            Recount::Namespace(ns) => quotas_in(&quotas, &ns),
            Recount::All => quotas
                .state()
                .iter()
                .map(|q| ObjectRef::from(q.as_ref()))
                .collect(),
        };
        stream::iter(refs.into_iter().map(Ok::<_, watcher::Error>))
    })
    .try_flatten();
    (store, events.boxed())
}

enum Recount {
    None,
    Namespace(String),
    All,
}

fn key_of<K: Resource>(obj: &K) -> String {
    format!(
        "{}/{}",
        obj.meta().namespace.as_deref().unwrap_or(""),
        obj.meta().name.as_deref().unwrap_or("")
    )
}

fn namespaces_to_recount<K>(
    event: &watcher::Event<K>,
    last_usage: &Mutex<HashMap<String, ResourceList>>,
    group: &str,
    plural: &str,
) -> Recount
where
    K: Resource + Serialize,
{
    let mut last = last_usage.lock().unwrap_or_else(|e| e.into_inner());
    let usage_of = |obj: &K| {
        let value = serde_json::to_value(obj).unwrap_or_default();
        usage::usage(group, plural, &value)
    };
    match event {
        watcher::Event::Delete(obj) => {
            last.remove(&key_of(obj));
            Recount::Namespace(obj.namespace().unwrap_or_default())
        }
        watcher::Event::InitApply(obj) => {
            last.insert(key_of(obj), usage_of(obj));
            Recount::None
        }
        watcher::Event::InitDone => Recount::All,
        watcher::Event::Apply(obj) => {
            let now = usage_of(obj);
            let before = last.insert(key_of(obj), now.clone());
            match before {
                Some(before) if lowered(&before, &now) => {
                    Recount::Namespace(obj.namespace().unwrap_or_default())
                }
                _ => Recount::None,
            }
        }
        watcher::Event::Init => Recount::None,
    }
}

/// Some resource is used less (or not at all) than before.
fn lowered(before: &ResourceList, now: &ResourceList) -> bool {
    before.iter().any(|(k, q)| match now.get(k) {
        Some(n) => n.compare(q) == std::cmp::Ordering::Less,
        None => !q.is_zero(),
    })
}
