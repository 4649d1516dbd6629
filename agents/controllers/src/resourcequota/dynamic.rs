//! `count/<resource>.<group>` of kinds without a typed cache (ReplicaSets, Deployments,
//! Jobs, custom resources, …): a metadata-only reflector is started for each such kind
//! the first time a quota names it, found through discovery; its deletions call for
//! recounts like those of the typed caches.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::ResourceQuota;
use kube::api::{Api, DynamicObject};
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{self, store::Writer, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::ResourceExt;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::quotas_in;
use super::triggers::Triggers;
use crate::queue::SyncError;

type MetaStore = Store<PartialObjectMeta<DynamicObject>>;

pub struct DynamicCounts {
    client: kube::Client,
    quotas: Store<ResourceQuota>,
    recount: mpsc::UnboundedSender<ObjectRef<ResourceQuota>>,
    started: Mutex<HashMap<(String, String), MetaStore>>,
}

impl DynamicCounts {
    pub fn new(client: &kube::Client, quotas: Store<ResourceQuota>) -> (Arc<Self>, Triggers) {
        let (tx, rx) = mpsc::unbounded_channel();
        let triggers = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|r| (Ok(r), rx))
        });
        let counts = DynamicCounts {
            client: client.clone(),
            quotas,
            recount: tx,
            started: Mutex::default(),
        };
        (Arc::new(counts), Box::pin(triggers))
    }

    /// The objects of (group, plural) in `ns`, metadata only (enough to count them).
    /// A kind the apiserver does not serve, or a cluster-scoped one, has none.
    pub async fn objects(
        &self,
        group: &str,
        plural: &str,
        ns: &str,
    ) -> Result<Vec<Value>, SyncError> {
        let Some(store) = self.store_for(group, plural).await? else {
            return Ok(Vec::new());
        };
        store
            .wait_until_ready()
            .await
            .map_err(|e| SyncError::Other(e.to_string()))?;
        Ok(store
            .state()
            .iter()
            .filter(|o| o.namespace().as_deref() == Some(ns))
            .map(|o| json!({"metadata": {"name": o.name_any(), "namespace": ns}}))
            .collect())
    }

    async fn store_for(&self, group: &str, plural: &str) -> Result<Option<MetaStore>, SyncError> {
        let key = (group.to_string(), plural.to_string());
        if let Some(store) = self.lock().get(&key) {
            return Ok(Some(store.clone()));
        }
        let discovered = match kube::discovery::oneshot::group(&self.client, group).await {
            Ok(g) => g,
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Some((resource, caps)) = discovered
            .recommended_resources()
            .into_iter()
            .find(|(r, _)| r.plural == plural)
        else {
            return Ok(None);
        };
        if caps.scope != kube::discovery::Scope::Namespaced {
            return Ok(None);
        }
        let mut started = self.lock();
        if let Some(store) = started.get(&key) {
            return Ok(Some(store.clone()));
        }
        let writer: Writer<PartialObjectMeta<DynamicObject>> = Writer::new(resource.clone());
        let store = writer.as_reader();
        let api: Api<PartialObjectMeta<DynamicObject>> =
            Api::all_with(self.client.clone(), &resource);
        let quotas = self.quotas.clone();
        let recount = self.recount.clone();
        tokio::spawn(async move {
            reflector::reflector(writer, watcher(api, Default::default()))
                .default_backoff()
                .for_each(|event| {
                    let refs = match &event {
                        Ok(watcher::Event::Delete(obj)) => {
                            quotas_in(&quotas, &obj.namespace().unwrap_or_default())
                        }
                        Ok(watcher::Event::InitDone) => quotas
                            .state()
                            .iter()
                            .map(|q| ObjectRef::from(q.as_ref()))
                            .collect(),
                        _ => Vec::new(),
                    };
                    for r in refs {
                        let _ = recount.send(r);
                    }
                    async {}
                })
                .await;
        });
        tracing::info!(group, plural, "counting objects for quotas");
        started.insert(key, store.clone());
        Ok(Some(store))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), MetaStore>> {
        self.started.lock().unwrap_or_else(|e| e.into_inner())
    }
}
