//! The garbage collector: objects whose owners are gone are deleted, a foreground
//! deletion (`foregroundDeletion` finalizer) deletes the owner's dependents and
//! finishes once its blocking ones (blockOwnerDeletion) are gone, an orphaning deletion
//! (`orphan` finalizer) strips the owner from its dependents. Ownership is a graph built
//! from metadata-only watches of every resource that can be listed, watched and
//! deleted; the apiserver only marks deletions, as upstream's.

mod actions;
mod graph;
mod resources;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::core::PartialObjectMeta;
use kube::runtime::watcher::{self, watcher, Event};
use kube::runtime::WatchStreamExt;
use tokio::sync::mpsc;

use crate::workqueue::WorkQueue;
use graph::{Graph, Identity, Observed, Work};
use resources::{Kind, Resources};

/// How long workers wait for the first full listing of every kind before acting on a
/// partial graph (upstream waits for its monitors to sync too).
const SYNC_TIMEOUT: Duration = Duration::from_secs(60);
/// How long an orphaning deletion is remembered for dependents that show up late.
const ORPHANED_MEMORY: Duration = Duration::from_secs(600);

/// What the monitors tell the graph.
enum GraphEvent {
    Upsert(Observed),
    Delete(String),
    /// A (re)list of one kind finished; uids it did not return are gone.
    Relisted {
        api_version: String,
        kind: String,
        seen: HashSet<String>,
    },
}

pub struct Gc {
    client: kube::Client,
    /// The kinds found by the last discovery (CRDs come and go while it runs).
    resources: std::sync::RwLock<Arc<Resources>>,
    graph: Mutex<Graph>,
    deletes: Arc<WorkQueue>,
    orphans: Arc<WorkQueue>,
    events: mpsc::UnboundedSender<GraphEvent>,
    /// Owners deleted with the orphan policy, by uid, and when. A dependent that reaches
    /// the graph only after its owner was orphaned (its watch lagged behind the owner's)
    /// still names that owner: it is orphaned too, never deleted as dangling.
    orphaned: Mutex<HashMap<String, Instant>>,
}

impl Gc {
    fn resources(&self) -> Arc<Resources> {
        self.resources
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn graph(&self) -> MutexGuard<'_, Graph> {
        self.graph.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn node(&self, uid: &str) -> Option<graph::Node> {
        self.graph().node(uid).cloned()
    }

    /// Remembers that `uid`'s dependents are orphaned (forgetting entries older than
    /// `ORPHANED_MEMORY`).
    fn remember_orphaned(&self, uid: &str) {
        let mut orphaned = self.orphaned.lock().unwrap_or_else(|e| e.into_inner());
        orphaned.retain(|_, at| at.elapsed() < ORPHANED_MEMORY);
        orphaned.insert(uid.to_string(), Instant::now());
    }

    fn was_orphaned(&self, uid: &str) -> bool {
        let orphaned = self.orphaned.lock().unwrap_or_else(|e| e.into_inner());
        orphaned
            .get(uid)
            .is_some_and(|at| at.elapsed() < ORPHANED_MEMORY)
    }

    /// An object found absent: the graph treats it as deleted.
    fn absent(&self, uid: &str) {
        let _ = self.events.send(GraphEvent::Delete(uid.to_string()));
    }
}

pub async fn run(client: kube::Client, workers: u16) {
    let resources = loop {
        match Resources::discover(&client).await {
            Ok(r) => break r,
            Err(e) => {
                tracing::warn!("garbage collector: discovery failed, retrying: {e}");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    };
    let kinds: Vec<Kind> = resources.all().cloned().collect();
    let (events, received) = mpsc::unbounded_channel();
    let gc = Arc::new(Gc {
        client: client.clone(),
        resources: std::sync::RwLock::new(Arc::new(resources)),
        graph: Mutex::new(Graph::default()),
        deletes: Arc::new(WorkQueue::default()),
        orphans: Arc::new(WorkQueue::default()),
        events: events.clone(),
        orphaned: Mutex::new(HashMap::new()),
    });
    let mut tasks = tokio::task::JoinSet::new();
    for kind in &kinds {
        tasks.spawn(monitor(client.clone(), kind.clone(), events.clone()));
    }
    let (synced_tx, mut synced) = tokio::sync::watch::channel(false);
    tasks.spawn(build_graph(gc.clone(), received, kinds.len(), synced_tx));
    let waited = tokio::time::timeout(SYNC_TIMEOUT, async {
        synced.wait_for(|s| *s).await.is_ok()
    })
    .await;
    if !matches!(waited, Ok(true)) {
        tracing::warn!(
            "garbage collector: not every kind listed in {SYNC_TIMEOUT:?}; starting anyway"
        );
    }
    tracing::info!(
        kinds = kinds.len(),
        objects = gc.graph().len(),
        "garbage collector synced"
    );
    for _ in 0..workers.max(1) {
        tasks.spawn(work(gc.clone(), gc.deletes.clone(), false));
        tasks.spawn(work(gc.clone(), gc.orphans.clone(), true));
    }
    let monitored = kinds.iter().map(kind_key).collect();
    tasks.spawn(rediscover(gc.clone(), events, monitored));
    while tasks.join_next().await.is_some() {}
}

/// How often discovery runs again for kinds that appeared or went away (upstream's
/// garbage collector resyncs its monitors every 30 s).
const REDISCOVER_EVERY: Duration = Duration::from_secs(30);

fn kind_key(kind: &Kind) -> (String, String) {
    (
        kind.resource.api_version.clone(),
        kind.resource.plural.clone(),
    )
}

/// Follow discovery: a kind that appears (a CRD's custom resources) gets a monitor, one
/// that goes away loses the monitor this task gave it.
async fn rediscover(
    gc: Arc<Gc>,
    events: mpsc::UnboundedSender<GraphEvent>,
    mut monitored: HashSet<(String, String)>,
) {
    let mut added: HashMap<(String, String), tokio::task::JoinHandle<()>> = HashMap::new();
    loop {
        tokio::time::sleep(REDISCOVER_EVERY).await;
        let found = match Resources::discover(&gc.client).await {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!("garbage collector: rediscovery failed: {e}");
                continue;
            }
        };
        let now: HashSet<(String, String)> = found.all().map(kind_key).collect();
        for kind in found.all() {
            let key = kind_key(kind);
            if monitored.insert(key.clone()) {
                tracing::info!(kind = %kind.resource.plural, "garbage collector: monitoring a new kind");
                let handle = tokio::spawn(monitor(gc.client.clone(), kind.clone(), events.clone()));
                added.insert(key, handle);
            }
        }
        let gone: Vec<(String, String)> = added
            .keys()
            .filter(|key| !now.contains(*key))
            .cloned()
            .collect();
        for key in gone {
            if let Some(handle) = added.remove(&key) {
                handle.abort();
            }
            monitored.remove(&key);
        }
        *gc.resources.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(found);
    }
}

fn observed(kind: &Kind, obj: PartialObjectMeta<DynamicObject>) -> Observed {
    let meta = obj.metadata;
    Observed {
        identity: Identity {
            api_version: kind.resource.api_version.clone(),
            kind: kind.resource.kind.clone(),
            namespace: meta.namespace,
            name: meta.name.unwrap_or_default(),
            uid: meta.uid.unwrap_or_default(),
        },
        owners: meta.owner_references.unwrap_or_default(),
        deleting: meta.deletion_timestamp.is_some(),
        finalizers: meta.finalizers.unwrap_or_default(),
    }
}

/// One kind's metadata watch, feeding the graph.
async fn monitor(client: kube::Client, kind: Kind, events: mpsc::UnboundedSender<GraphEvent>) {
    let api: Api<PartialObjectMeta<DynamicObject>> = Api::all_with(client, &kind.resource);
    let stream = watcher(api, watcher::Config::default()).default_backoff();
    futures_util::pin_mut!(stream);
    let mut seen = HashSet::new();
    while let Some(event) = stream.next().await {
        let sent = match event {
            Ok(Event::Init) => {
                seen.clear();
                Ok(())
            }
            Ok(Event::InitApply(obj)) => {
                let obj = observed(&kind, obj);
                seen.insert(obj.identity.uid.clone());
                events.send(GraphEvent::Upsert(obj))
            }
            Ok(Event::InitDone) => events.send(GraphEvent::Relisted {
                api_version: kind.resource.api_version.clone(),
                kind: kind.resource.kind.clone(),
                seen: std::mem::take(&mut seen),
            }),
            Ok(Event::Apply(obj)) => events.send(GraphEvent::Upsert(observed(&kind, obj))),
            Ok(Event::Delete(obj)) => {
                events.send(GraphEvent::Delete(obj.metadata.uid.unwrap_or_default()))
            }
            Err(e) => {
                tracing::debug!(kind = %kind.resource.plural, "garbage collector watch: {e}");
                Ok(())
            }
        };
        if sent.is_err() {
            return;
        }
    }
}

/// The single writer of the graph (upstream's GraphBuilder): applies events in order
/// and queues the work they call for.
async fn build_graph(
    gc: Arc<Gc>,
    mut events: mpsc::UnboundedReceiver<GraphEvent>,
    kinds: usize,
    synced: tokio::sync::watch::Sender<bool>,
) {
    let mut listed: HashSet<(String, String)> = HashSet::new();
    while let Some(event) = events.recv().await {
        let work = {
            let mut graph = gc.graph();
            match event {
                GraphEvent::Upsert(obj) => {
                    let ns = obj.identity.namespace.clone();
                    let resources = gc.resources();
                    graph.upsert(obj, |r| resources.owner_namespace(r, ns.as_deref()))
                }
                GraphEvent::Delete(uid) => graph.remove(&uid),
                GraphEvent::Relisted {
                    api_version,
                    kind,
                    seen,
                } => {
                    let gone: Vec<String> = graph
                        .observed_of(&api_version, &kind)
                        .into_iter()
                        .filter(|uid| !seen.contains(uid))
                        .collect();
                    listed.insert((api_version, kind));
                    if listed.len() >= kinds {
                        synced.send_replace(true);
                    }
                    gone.iter().flat_map(|uid| graph.remove(uid)).collect()
                }
            }
        };
        for item in work {
            match item {
                Work::AttemptToDelete(uid) => gc.deletes.add(&uid),
                Work::AttemptToOrphan(uid) => gc.orphans.add(&uid),
            }
        }
    }
}

async fn work(gc: Arc<Gc>, queue: Arc<WorkQueue>, orphaning: bool) {
    loop {
        let uid = queue.next().await;
        let result = if orphaning {
            actions::attempt_to_orphan(&gc, &uid).await
        } else {
            actions::attempt_to_delete(&gc, &uid).await
        };
        match result {
            Ok(()) => queue.forget(&uid),
            Err(e) => {
                tracing::debug!(uid, orphaning, "garbage collector: retrying: {e}");
                queue.retry(&uid);
            }
        }
        queue.done(&uid);
    }
}
