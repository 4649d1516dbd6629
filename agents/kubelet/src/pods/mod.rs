//! The pods bound to this node: a reflector keeps them in a local cache (LIST+WATCH with
//! `spec.nodeName=<node>`), and every pod gets a worker that converges it.

mod probe;
mod state;
mod status;
mod worker;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::Api;
use tokio::sync::{mpsc, Notify};

use crate::objects::Changed;

use crate::runtime::Runtime;

type Workers = Arc<Mutex<HashMap<String, Arc<Notify>>>>;

/// Watches this node's pods forever, waking (or starting) each pod's worker on change.
pub async fn run(
    client: kube::Client,
    node: String,
    rt: Arc<Runtime>,
    cache: PodCache,
    mut changes: mpsc::UnboundedReceiver<Changed>,
) {
    let api: Api<Pod> = Api::all(client.clone());
    let config = watcher::Config::default().fields(&format!("spec.nodeName={node}"));
    let stream = reflector::reflector(cache.writer, watcher(api, config)).default_backoff();
    let workers: Workers = Arc::default();
    let mut stream = std::pin::pin!(stream);
    loop {
        let event = tokio::select! {
            event = stream.next() => event,
            Some(changed) = changes.recv() => {
                wake_users(&workers, &cache.reader, &changed);
                continue;
            }
        };
        let Some(event) = event else { break };
        match event {
            Ok(watcher::Event::Apply(pod)) | Ok(watcher::Event::Delete(pod)) => {
                wake(&workers, &pod, &rt, &client, &cache.reader);
            }
            // The cache holds the new list only once it is complete.
            Ok(watcher::Event::InitDone) => {
                for pod in cache.reader.state() {
                    wake(&workers, &pod, &rt, &client, &cache.reader);
                }
                // Pods deleted while the watch was down: their workers find them gone.
                for notify in lock(&workers).values() {
                    notify.notify_one();
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("watching this node's pods: {e}"),
        }
    }
}

/// Wakes the workers of the pods that read a changed ConfigMap or Secret (a Service
/// changes only what containers started later see: nothing to wake).
fn wake_users(workers: &Workers, store: &Store<Pod>, changed: &Changed) {
    let (namespace, name, secret) = match changed {
        Changed::ConfigMap { namespace, name } => (namespace, name, false),
        Changed::Secret { namespace, name } => (namespace, name, true),
        Changed::Service => return,
    };
    let map = lock(workers);
    for pod in store.state() {
        if pod.metadata.namespace.as_ref() == Some(namespace)
            && crate::volumes::pod_references(&pod, secret, name)
        {
            if let Some(notify) = pod.metadata.uid.as_ref().and_then(|u| map.get(u)) {
                notify.notify_one();
            }
        }
    }
}

fn lock(workers: &Workers) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Notify>>> {
    workers.lock().unwrap_or_else(|e| e.into_inner())
}

fn wake(
    workers: &Workers,
    pod: &Pod,
    rt: &Arc<Runtime>,
    client: &kube::Client,
    store: &Store<Pod>,
) {
    let Some(uid) = pod.metadata.uid.clone() else {
        return;
    };
    let mut map = lock(workers);
    if let Some(notify) = map.get(&uid) {
        notify.notify_one();
        return;
    }
    // A pod whose object is gone, or already fully terminated on another run, needs no
    // new worker unless it is still in the cache.
    if store.get(&reflector::ObjectRef::from_obj(pod)).is_none() {
        return;
    }
    let notify = Arc::new(Notify::new());
    map.insert(uid.clone(), notify.clone());
    let worker = worker::PodWorker::new(pod, rt.clone(), client.clone(), store.clone());
    let workers = workers.clone();
    tokio::spawn(async move {
        worker.run(notify).await;
        lock(&workers).remove(&uid);
    });
}

/// The local cache of this node's pods: written by the reflector, read by the workers and
/// the kubelet server.
pub struct PodCache {
    pub reader: Store<Pod>,
    writer: reflector::store::Writer<Pod>,
}

impl PodCache {
    pub fn new() -> PodCache {
        let (reader, writer) = reflector::store();
        PodCache { reader, writer }
    }
}

impl Default for PodCache {
    fn default() -> Self {
        Self::new()
    }
}
