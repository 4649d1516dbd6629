//! Static pods: the manifests in `--pod-manifest-path`, run by this kubelet whether or not
//! the apiserver answers, and shown in the API as mirror pods (annotated
//! `kubernetes.io/config.mirror`, owned by the Node). A removed manifest stops its pod and
//! deletes its mirror; a mirror deleted by someone else is created again.

pub mod manifest;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, DeleteParams, PostParams, Preconditions};
use kube::runtime::reflector::Store;
use tokio::sync::{mpsc, Notify};

pub use manifest::{is_mirror, CONFIG_MIRROR};

/// The static pods by UID, as the manifests say now.
pub type StaticPods = Arc<RwLock<BTreeMap<String, Arc<Pod>>>>;

pub fn read(pods: &StaticPods) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Pod>>> {
    pods.read().unwrap_or_else(|e| e.into_inner())
}

/// The pods of the manifests in `dir` (unreadable or invalid ones are logged and skipped,
/// as upstream's file source does).
pub fn scan(dir: &Path, node: &str) -> BTreeMap<String, Arc<Pod>> {
    let mut pods = BTreeMap::new();
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .flatten()
            .filter(|e| manifest::is_manifest_name(&e.file_name().to_string_lossy()))
            .filter(|e| e.path().is_file())
            .map(|e| e.path())
            .collect(),
        Err(e) => {
            tracing::warn!("reading --pod-manifest-path {}: {e}", dir.display());
            return pods;
        }
    };
    files.sort();
    for file in files {
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) => {
                tracing::warn!("reading {}: {e}", file.display());
                continue;
            }
        };
        match manifest::pod_from_manifest(&file.to_string_lossy(), &text, node) {
            Ok(pod) => {
                let uid = pod.metadata.uid.clone().unwrap_or_default();
                pods.insert(uid, Arc::new(pod));
            }
            Err(e) => tracing::warn!("{e}"),
        }
    }
    pods
}

/// Re-reads the manifests every `every`; each change replaces `pods` and is announced on
/// `changed`.
pub async fn watch_manifests(
    dir: PathBuf,
    node: String,
    every: Duration,
    pods: StaticPods,
    changed: mpsc::UnboundedSender<()>,
) {
    loop {
        let found = scan(&dir, &node);
        let differs = {
            let current = read(&pods);
            current.keys().ne(found.keys())
        };
        if differs {
            tracing::info!(pods = ?found.keys().collect::<Vec<_>>(), "static pods changed");
            *pods.write().unwrap_or_else(|e| e.into_inner()) = found;
            if changed.send(()).is_err() {
                return;
            }
        }
        tokio::time::sleep(every).await;
    }
}

/// The node a mirror pod belongs to.
#[derive(Debug, Clone)]
pub struct NodeRef {
    pub name: String,
    pub uid: String,
}

/// Keeps exactly one mirror pod per static pod in the API: created when missing, deleted
/// and created again when it is being deleted or mirrors an older manifest, deleted when
/// its manifest is gone. Runs every `every` and whenever `wake` is notified.
pub async fn keep_mirrors(
    client: kube::Client,
    node: NodeRef,
    pods: StaticPods,
    store: Store<Pod>,
    every: Duration,
    wake: Arc<Notify>,
) {
    let _ = store.wait_until_ready().await;
    loop {
        reconcile_mirrors(&client, &node, &pods, &store).await;
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(every) => {}
        }
    }
}

async fn reconcile_mirrors(
    client: &kube::Client,
    node: &NodeRef,
    pods: &StaticPods,
    store: &Store<Pod>,
) {
    let wanted: Vec<Arc<Pod>> = read(pods).values().cloned().collect();
    let mirrors: Vec<Arc<Pod>> = store.state().into_iter().filter(|p| is_mirror(p)).collect();
    for mirror in &mirrors {
        let mirrored = mirror_hash(mirror);
        let keep = wanted.iter().any(|w| {
            w.metadata.name == mirror.metadata.name
                && w.metadata.namespace == mirror.metadata.namespace
                && w.metadata.uid.as_deref() == mirrored
        }) && mirror.metadata.deletion_timestamp.is_none();
        if !keep {
            delete_mirror(client, mirror).await;
        }
    }
    for pod in &wanted {
        let exists = mirrors.iter().any(|m| {
            m.metadata.name == pod.metadata.name
                && m.metadata.namespace == pod.metadata.namespace
                && mirror_hash(m) == pod.metadata.uid.as_deref()
                && m.metadata.deletion_timestamp.is_none()
        });
        if !exists {
            create_mirror(client, node, pod).await;
        }
    }
}

fn mirror_hash(mirror: &Pod) -> Option<&str> {
    mirror
        .metadata
        .annotations
        .as_ref()?
        .get(CONFIG_MIRROR)
        .map(String::as_str)
}

/// The mirror of a static pod: its spec and metadata, the mirror annotation, the Node as
/// owner, no UID of its own (the apiserver gives it one).
pub fn mirror_of(pod: &Pod, node: &NodeRef) -> Pod {
    let hash = pod.metadata.uid.clone().unwrap_or_default();
    let mut annotations = pod.metadata.annotations.clone().unwrap_or_default();
    annotations.insert(CONFIG_MIRROR.into(), hash);
    annotations.insert(manifest::CONFIG_SEEN.into(), crate::time::now_rfc3339());
    Pod {
        metadata: ObjectMeta {
            name: pod.metadata.name.clone(),
            namespace: pod.metadata.namespace.clone(),
            labels: pod.metadata.labels.clone(),
            annotations: Some(annotations),
            owner_references: Some(vec![OwnerReference {
                api_version: "v1".into(),
                kind: "Node".into(),
                name: node.name.clone(),
                uid: node.uid.clone(),
                controller: Some(true),
                block_owner_deletion: None,
            }]),
            ..ObjectMeta::default()
        },
        spec: pod.spec.clone(),
        status: None,
    }
}

async fn create_mirror(client: &kube::Client, node: &NodeRef, pod: &Pod) {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    match api
        .create(&PostParams::default(), &mirror_of(pod, node))
        .await
    {
        Ok(created) => tracing::info!(
            pod = created.metadata.name,
            "created the mirror pod of a static pod"
        ),
        // Still being deleted, or the cache has not seen it yet: the next round decides.
        Err(kube::Error::Api(s)) if s.code == 409 => {}
        Err(e) => tracing::warn!(pod = pod.metadata.name, "creating a mirror pod: {e}"),
    }
}

async fn delete_mirror(client: &kube::Client, mirror: &Pod) {
    let namespace = mirror.metadata.namespace.as_deref().unwrap_or("default");
    let name = mirror.metadata.name.clone().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let params = DeleteParams {
        grace_period_seconds: Some(0),
        preconditions: Some(Preconditions {
            uid: mirror.metadata.uid.clone(),
            resource_version: None,
        }),
        ..Default::default()
    };
    match api.delete(&name, &params).await {
        Ok(_) => tracing::info!(pod = name, "deleted a mirror pod"),
        Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => {}
        Err(e) => tracing::warn!(pod = name, "deleting a mirror pod: {e}"),
    }
}
