//! The caches a recount reads: the kinds with their own quota names (pods, services,
//! configmaps, secrets, replicationcontrollers, persistentvolumeclaims, resourcequotas).
//! `count/<resource>.<group>` of any other kind is counted from a metadata-only cache.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::stream;
use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, Pod, ReplicationController, ResourceQuota, Secret, Service,
};
use kube::runtime::reflector::Store;
use rkube_api::quota::{evaluate, usage, ResourceList};
use serde::Serialize;
use serde_json::Value;

use super::dynamic::DynamicCounts;
use super::triggers::{self, Triggers};
use crate::queue::SyncError;

pub struct Caches {
    pods: Store<Pod>,
    services: Store<Service>,
    configmaps: Store<ConfigMap>,
    secrets: Store<Secret>,
    controllers: Store<ReplicationController>,
    claims: Store<PersistentVolumeClaim>,
    quotas: Store<ResourceQuota>,
    dynamic: Arc<DynamicCounts>,
}

fn in_namespace<K: kube::Resource<DynamicType = ()> + Serialize + Clone>(
    store: &Store<K>,
    ns: &str,
) -> Vec<Value> {
    store
        .state()
        .iter()
        .filter(|o| o.meta().namespace.as_deref() == Some(ns))
        .filter_map(|o| serde_json::to_value(o.as_ref()).ok())
        .collect()
}

impl Caches {
    /// Start the reflectors; the stream yields the quotas to recount.
    pub fn start(client: &kube::Client, quotas: Store<ResourceQuota>) -> (Caches, Triggers) {
        let (pods, t1) = triggers::watch(client, quotas.clone(), "", "pods");
        let (services, t2) = triggers::watch(client, quotas.clone(), "", "services");
        let (configmaps, t3) = triggers::watch(client, quotas.clone(), "", "configmaps");
        let (secrets, t4) = triggers::watch(client, quotas.clone(), "", "secrets");
        let (controllers, t5) =
            triggers::watch(client, quotas.clone(), "", "replicationcontrollers");
        let (claims, t6) = triggers::watch(client, quotas.clone(), "", "persistentvolumeclaims");
        let (dynamic, t7) = DynamicCounts::new(client, quotas.clone());
        let merged = stream::select_all([t1, t2, t3, t4, t5, t6, t7]);
        let caches = Caches {
            pods,
            services,
            configmaps,
            secrets,
            controllers,
            claims,
            quotas,
            dynamic,
        };
        (caches, Box::pin(merged))
    }

    pub async fn wait_until_ready(&self) -> Result<(), SyncError> {
        let ready =
            |e: kube::runtime::reflector::store::WriterDropped| SyncError::Other(e.to_string());
        self.pods.wait_until_ready().await.map_err(ready)?;
        self.services.wait_until_ready().await.map_err(ready)?;
        self.configmaps.wait_until_ready().await.map_err(ready)?;
        self.secrets.wait_until_ready().await.map_err(ready)?;
        self.controllers.wait_until_ready().await.map_err(ready)?;
        self.claims.wait_until_ready().await.map_err(ready)?;
        self.quotas.wait_until_ready().await.map_err(ready)?;
        Ok(())
    }

    fn cached(&self, group: &str, plural: &str, ns: &str) -> Option<Vec<Value>> {
        if !group.is_empty() {
            return None;
        }
        Some(match plural {
            "pods" => in_namespace(&self.pods, ns),
            "services" => in_namespace(&self.services, ns),
            "configmaps" => in_namespace(&self.configmaps, ns),
            "secrets" => in_namespace(&self.secrets, ns),
            "replicationcontrollers" => in_namespace(&self.controllers, ns),
            "persistentvolumeclaims" => in_namespace(&self.claims, ns),
            "resourcequotas" => in_namespace(&self.quotas, ns),
            _ => return None,
        })
    }

    /// The usage of everything `quota` (in `ns`) limits.
    pub async fn usage(&self, ns: &str, quota: &Value) -> Result<ResourceList, SyncError> {
        let mut objects: HashMap<(String, String), Vec<Value>> = HashMap::new();
        for name in evaluate::hard(quota).keys() {
            let Some(kind) = usage::tracked_resource(name) else {
                continue;
            };
            if objects.contains_key(&kind) {
                continue;
            }
            let listed = match self.cached(&kind.0, &kind.1, ns) {
                Some(v) => v,
                None => self.dynamic.objects(&kind.0, &kind.1, ns).await?,
            };
            objects.insert(kind, listed);
        }
        Ok(evaluate::recompute(quota, |group, plural| {
            objects
                .get(&(group.to_string(), plural.to_string()))
                .map(|v| v.iter().collect())
                .unwrap_or_default()
        }))
    }
}
