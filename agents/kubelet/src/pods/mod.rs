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
use crate::static_pods::{self, StaticPods};

type Workers = Arc<Mutex<HashMap<String, Arc<Notify>>>>;

/// The static pods this kubelet runs from `--pod-manifest-path`.
pub struct StaticSource {
    pub pods: StaticPods,
    /// A message each time the manifests change.
    pub changed: mpsc::UnboundedReceiver<()>,
    /// Wakes the mirror-pod loop when a mirror pod changes.
    pub mirrors: Arc<Notify>,
}

/// What starting a worker needs.
struct Spawner {
    workers: Workers,
    rt: Arc<Runtime>,
    client: kube::Client,
    store: Store<Pod>,
    statics: Option<StaticPods>,
}

/// Watches this node's pods forever, waking (or starting) each pod's worker on change.
pub async fn run(
    client: kube::Client,
    node: String,
    rt: Arc<Runtime>,
    cache: PodCache,
    mut changes: mpsc::UnboundedReceiver<Changed>,
    statics: Option<StaticSource>,
) {
    let api: Api<Pod> = Api::all(client.clone());
    let config = watcher::Config::default().fields(&format!("spec.nodeName={node}"));
    let stream = reflector::reflector(cache.writer, watcher(api, config)).default_backoff();
    let spawner = Spawner {
        workers: Arc::default(),
        rt,
        client,
        store: cache.reader.clone(),
        statics: statics.as_ref().map(|s| s.pods.clone()),
    };
    let (static_changes, mirrors) = match statics {
        Some(source) => (Some(source.changed), Some(source.mirrors)),
        None => (None, None),
    };
    run_loop(spawner, stream, &mut changes, static_changes, mirrors).await
}

async fn run_loop(
    spawner: Spawner,
    stream: impl futures_util::Stream<Item = Result<watcher::Event<Pod>, watcher::Error>>,
    changes: &mut mpsc::UnboundedReceiver<Changed>,
    mut static_changes: Option<mpsc::UnboundedReceiver<()>>,
    mirrors: Option<Arc<Notify>>,
) {
    let mut stream = std::pin::pin!(stream);
    let mut swept = false;
    // Static pods run at once, whether or not the apiserver answers.
    spawner.wake_statics();
    loop {
        let static_changed = async {
            match static_changes.as_mut() {
                Some(rx) => rx.recv().await,
                None => std::future::pending().await,
            }
        };
        let event = tokio::select! {
            event = stream.next() => event,
            Some(changed) = changes.recv() => {
                wake_users(&spawner.workers, &spawner.store, &changed);
                continue;
            }
            Some(()) = static_changed => {
                spawner.wake_statics();
                if let Some(m) = &mirrors {
                    m.notify_one();
                }
                continue;
            }
        };
        let Some(event) = event else { break };
        match event {
            Ok(watcher::Event::Apply(pod)) | Ok(watcher::Event::Delete(pod)) => {
                if static_pods::is_mirror(&pod) {
                    spawner.mirror_changed(&pod, mirrors.as_deref());
                } else {
                    spawner.wake(&pod);
                }
            }
            // The cache holds the new list only once it is complete.
            Ok(watcher::Event::InitDone) => {
                for pod in spawner.store.state() {
                    if !static_pods::is_mirror(&pod) {
                        spawner.wake(&pod);
                    }
                }
                // Pods deleted while the watch was down: their workers find them gone.
                for notify in lock(&spawner.workers).values() {
                    notify.notify_one();
                }
                if !swept {
                    swept = true;
                    spawner.sweep_orphans();
                }
                if let Some(m) = &mirrors {
                    m.notify_one();
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

impl Spawner {
    /// Wakes the pod's worker, or starts one for a pod in the cache.
    fn wake(&self, pod: &Pod) {
        let Some(uid) = pod.metadata.uid.clone() else {
            return;
        };
        if self.notify(&uid) {
            return;
        }
        // A pod whose object is gone, or already fully terminated on another run, needs no
        // new worker unless it is still in the cache.
        if self
            .store
            .get(&reflector::ObjectRef::from_obj(pod))
            .is_none()
        {
            return;
        }
        self.spawn(pod, uid, None);
    }

    /// Pod directories of pods that are neither in the API nor static: deleted while no
    /// kubelet ran, so nothing else will ever stop what they left running.
    fn sweep_orphans(&self) {
        let mut known: std::collections::HashSet<String> = self
            .store
            .state()
            .iter()
            .filter_map(|p| p.metadata.uid.clone())
            .collect();
        known.extend(lock(&self.workers).keys().cloned());
        if let Some(statics) = &self.statics {
            known.extend(static_pods::read(statics).keys().cloned());
        }
        let dirs = std::fs::read_dir(self.rt.root_dir.join("pods"));
        for entry in dirs.into_iter().flatten().flatten() {
            let uid = entry.file_name().to_string_lossy().into_owned();
            if !known.contains(&uid) {
                let rt = self.rt.clone();
                tokio::spawn(async move {
                    crate::runtime::sandbox::remove_orphan(&rt, &uid).await;
                });
            }
        }
    }

    fn notify(&self, uid: &str) -> bool {
        match lock(&self.workers).get(uid) {
            Some(notify) => {
                notify.notify_one();
                true
            }
            None => false,
        }
    }

    /// Starts workers for new static pods and wakes the others (a removed one finds its
    /// manifest gone).
    fn wake_statics(&self) {
        let Some(statics) = &self.statics else {
            return;
        };
        let pods: Vec<Arc<Pod>> = static_pods::read(statics).values().cloned().collect();
        for pod in pods {
            let uid = pod.metadata.uid.clone().unwrap_or_default();
            if !self.notify(&uid) {
                self.spawn(&pod, uid, Some(statics.clone()));
            }
        }
        for notify in lock(&self.workers).values() {
            notify.notify_one();
        }
    }

    /// A mirror pod changed: the mirror loop reconciles, and the static pod's worker
    /// reports its status to the (maybe new) mirror.
    fn mirror_changed(&self, mirror: &Pod, mirrors: Option<&Notify>) {
        if let Some(m) = mirrors {
            m.notify_one();
        }
        let hash = mirror
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(static_pods::CONFIG_MIRROR));
        if let Some(hash) = hash {
            self.notify(hash);
        }
    }

    fn spawn(&self, pod: &Pod, uid: String, statics: Option<StaticPods>) {
        let notify = Arc::new(Notify::new());
        lock(&self.workers).insert(uid.clone(), notify.clone());
        let worker = worker::PodWorker::new(
            pod,
            self.rt.clone(),
            self.client.clone(),
            self.store.clone(),
            statics,
        );
        let workers = self.workers.clone();
        tokio::spawn(async move {
            worker.run(notify).await;
            lock(&workers).remove(&uid);
        });
    }
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
