//! The API objects pods refer to (ConfigMaps, Secrets, Services), kept in node-wide
//! caches by reflectors (LIST+WATCH), so volumes and environments are built from memory
//! and a change wakes the pods that use it.

use std::sync::Arc;

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::Api;
use tokio::sync::mpsc;

/// What pods read from the API besides themselves.
pub trait Objects: Send + Sync {
    fn config_map(&self, namespace: &str, name: &str) -> Option<Arc<ConfigMap>>;
    fn secret(&self, namespace: &str, name: &str) -> Option<Arc<Secret>>;
    fn services(&self) -> Vec<Arc<Service>>;
}

/// A ConfigMap, Secret or Service that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    ConfigMap { namespace: String, name: String },
    Secret { namespace: String, name: String },
    Service,
}

/// The caches, filled by [`ClusterObjects::start`].
#[derive(Clone)]
pub struct ClusterObjects {
    config_maps: Store<ConfigMap>,
    secrets: Store<Secret>,
    services: Store<Service>,
    /// True once every cache holds its first complete list.
    synced: tokio::sync::watch::Receiver<bool>,
}

impl ClusterObjects {
    /// Starts the three reflectors; every change is sent on `changes`.
    pub fn start(
        client: &kube::Client,
        tasks: &mut tokio::task::JoinSet<&'static str>,
        changes: mpsc::UnboundedSender<Changed>,
    ) -> ClusterObjects {
        let config_maps =
            reflect::<ConfigMap>(client, tasks, changes.clone(), |cm| Changed::ConfigMap {
                namespace: cm.metadata.namespace.clone().unwrap_or_default(),
                name: cm.metadata.name.clone().unwrap_or_default(),
            });
        let secrets = reflect::<Secret>(client, tasks, changes.clone(), |s| Changed::Secret {
            namespace: s.metadata.namespace.clone().unwrap_or_default(),
            name: s.metadata.name.clone().unwrap_or_default(),
        });
        let services = reflect::<Service>(client, tasks, changes, |_| Changed::Service);
        // One task waits on the stores and tells everyone through a watch channel: a
        // store's own wait_until_ready wakes only one of several concurrent waiters, and
        // every pod worker waits here at once when a restarted kubelet adopts its pods.
        let (synced_tx, synced) = tokio::sync::watch::channel(false);
        let stores = (config_maps.clone(), secrets.clone(), services.clone());
        tasks.spawn(async move {
            let _ = stores.0.wait_until_ready().await;
            let _ = stores.1.wait_until_ready().await;
            let _ = stores.2.wait_until_ready().await;
            let _ = synced_tx.send(true);
            // Keep the sender: a dropped one would end the kubelet's task set early.
            std::future::pending::<()>().await;
            "the object caches"
        });
        ClusterObjects {
            config_maps,
            secrets,
            services,
            synced,
        }
    }

    /// Waits until every cache holds its first complete list, so that "not found" means
    /// not found.
    pub async fn ready(&self) {
        let mut synced = self.synced.clone();
        let _ = synced.wait_for(|s| *s).await;
    }
}

fn reflect<K>(
    client: &kube::Client,
    tasks: &mut tokio::task::JoinSet<&'static str>,
    changes: mpsc::UnboundedSender<Changed>,
    describe: fn(&K) -> Changed,
) -> Store<K>
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = reflector::store();
    let api: Api<K> = Api::all(client.clone());
    let stream = reflector::reflector(writer, watcher(api, watcher::Config::default()))
        .default_backoff()
        .applied_objects();
    tasks.spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            match event {
                Ok(object) => {
                    let _ = changes.send(describe(&object));
                }
                Err(e) => tracing::warn!("watching {}: {e}", K::plural(&())),
            }
        }
        "an object watch"
    });
    reader
}

impl Objects for ClusterObjects {
    fn config_map(&self, namespace: &str, name: &str) -> Option<Arc<ConfigMap>> {
        self.config_maps
            .get(&ObjectRef::new(name).within(namespace))
    }

    fn secret(&self, namespace: &str, name: &str) -> Option<Arc<Secret>> {
        self.secrets.get(&ObjectRef::new(name).within(namespace))
    }

    fn services(&self) -> Vec<Arc<Service>> {
        self.services.state()
    }
}

/// The bytes of a Secret's key (stringData is honoured in case a writer left it).
pub fn secret_value(secret: &Secret, key: &str) -> Option<Vec<u8>> {
    secret
        .string_data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|s| s.as_bytes().to_vec())
        .or_else(|| secret.data.as_ref()?.get(key).map(|b| b.0.clone()))
}

/// Every key of a Secret with its bytes.
pub fn secret_entries(secret: &Secret) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out: std::collections::BTreeMap<String, Vec<u8>> = secret
        .data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.0.clone()))
        .collect();
    for (k, v) in secret.string_data.iter().flatten() {
        out.insert(k.clone(), v.as_bytes().to_vec());
    }
    out
}

#[cfg(test)]
pub mod fake {
    use super::*;
    use std::collections::HashMap;

    /// Objects from maps, for unit tests.
    #[derive(Default)]
    pub struct FakeObjects {
        pub config_maps: HashMap<(String, String), Arc<ConfigMap>>,
        pub secrets: HashMap<(String, String), Arc<Secret>>,
        pub services: Vec<Arc<Service>>,
    }

    impl FakeObjects {
        pub fn with_config_map(mut self, value: serde_json::Value) -> Self {
            let cm: ConfigMap = serde_json::from_value(value).unwrap();
            let key = (
                cm.metadata.namespace.clone().unwrap_or_default(),
                cm.metadata.name.clone().unwrap_or_default(),
            );
            self.config_maps.insert(key, Arc::new(cm));
            self
        }

        pub fn with_secret(mut self, value: serde_json::Value) -> Self {
            let s: Secret = serde_json::from_value(value).unwrap();
            let key = (
                s.metadata.namespace.clone().unwrap_or_default(),
                s.metadata.name.clone().unwrap_or_default(),
            );
            self.secrets.insert(key, Arc::new(s));
            self
        }

        pub fn with_service(mut self, value: serde_json::Value) -> Self {
            self.services
                .push(Arc::new(serde_json::from_value(value).unwrap()));
            self
        }
    }

    impl Objects for FakeObjects {
        fn config_map(&self, namespace: &str, name: &str) -> Option<Arc<ConfigMap>> {
            self.config_maps
                .get(&(namespace.to_string(), name.to_string()))
                .cloned()
        }

        fn secret(&self, namespace: &str, name: &str) -> Option<Arc<Secret>> {
            self.secrets
                .get(&(namespace.to_string(), name.to_string()))
                .cloned()
        }

        fn services(&self) -> Vec<Arc<Service>> {
            self.services.clone()
        }
    }
}
