//! The control loop: Services and EndpointSlices are LIST+WATCHed into reflector caches;
//! any change wakes the loop, which syncs from the caches. The watch events name the
//! Services that changed: only those are converted again from the caches (their slices
//! found through a [`SliceIndex`]), and the syncer is told which service ports they are,
//! so it looks at no other — a one-service change costs the same at 10 services as at
//! 10,000. A full sync converts everything and compares every service port with the
//! syncer's cache, so a missed event cannot outlive one `--iptables-sync-period`. Two syncs may run back to back, then they are
//! `--iptables-min-sync-period` apart ([`SyncLimiter`]), so an isolated change is applied
//! at once and a stream of changes is batched; every `--iptables-sync-period` the sync
//! is full.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client};
use tokio::sync::Notify;

use crate::convert::{self, LAST_CHANGE_TRIGGER_TIME};
use crate::limiter::{SyncLimiter, BURST_SYNCS};
use crate::observe::Observer;
use crate::render::ProxyState;
use crate::slice_index::{ServiceKey, SliceIndex};
use crate::syncer::RuleSyncer;

pub struct Periods {
    pub full: Duration,
    pub min: Duration,
}

/// The Services (namespace, name) whose Service or EndpointSlices changed since the last
/// sync, as the watch events tell; `all` after a (re)list.
#[derive(Debug, Default)]
struct Dirty {
    all: bool,
    services: HashSet<ServiceKey>,
}

type SharedDirty = Arc<Mutex<Dirty>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts a reflector for `K` that, on every event (already applied to the store), lets
/// `mark` note what it changed in `dirty`, then wakes `changed`.
fn watch<K>(
    api: Api<K>,
    changed: Arc<Notify>,
    dirty: SharedDirty,
    mark: impl Fn(&watcher::Event<K>, &mut Dirty) + Send + Sync + 'static,
) -> Store<K>
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let (store, writer) = reflector::store();
    let stream =
        reflector::reflector(writer, watcher(api, watcher::Config::default())).default_backoff();
    tokio::spawn(async move {
        stream
            .for_each(|event| {
                match event {
                    Ok(event) => {
                        mark(&event, &mut lock(&dirty));
                        changed.notify_one()
                    }
                    Err(e) => tracing::warn!(error = %e, "watch failed; retrying"),
                }
                std::future::ready(())
            })
            .await;
    });
    store
}

fn mark_service(event: &watcher::Event<Service>, dirty: &mut Dirty) {
    match event {
        watcher::Event::Apply(svc) | watcher::Event::Delete(svc) => {
            if let (Some(ns), Some(name)) = (&svc.metadata.namespace, &svc.metadata.name) {
                dirty.services.insert((ns.clone(), name.clone()));
            }
        }
        _ => dirty.all = true,
    }
}

/// Keeps `index` and marks the Services a slice event concerns: the slice's Service, and
/// the one it belonged to before when it moved.
fn mark_slice(index: &Mutex<SliceIndex>, event: &watcher::Event<EndpointSlice>, dirty: &mut Dirty) {
    let mut index = lock(index);
    match event {
        watcher::Event::Apply(slice) => {
            dirty.services.extend(index.apply(slice));
            dirty.services.extend(convert::slice_service(slice));
        }
        watcher::Event::Delete(slice) => {
            dirty.services.extend(index.delete(slice));
            dirty.services.extend(convert::slice_service(slice));
        }
        watcher::Event::Init => {
            index.relist_started();
            dirty.all = true;
        }
        watcher::Event::InitApply(slice) => index.relist_apply(slice),
        watcher::Event::InitDone => {
            index.relist_done();
            dirty.all = true;
        }
    }
}

pub async fn run<S: RuleSyncer>(
    client: Client,
    mut syncer: S,
    node_name: String,
    periods: Periods,
    observer: Observer,
) {
    let changed = Arc::new(Notify::new());
    let dirty = SharedDirty::default();
    let services = watch::<Service>(
        Api::all(client.clone()),
        changed.clone(),
        dirty.clone(),
        mark_service,
    );
    let slice_index = Arc::new(Mutex::new(SliceIndex::default()));
    let slices = {
        let index = slice_index.clone();
        watch::<EndpointSlice>(
            Api::all(client),
            changed.clone(),
            dirty.clone(),
            move |event, dirty| mark_slice(&index, event, dirty),
        )
    };
    // Never sync a partial picture after a restart: wait for both initial lists.
    let (a, b) = tokio::join!(services.wait_until_ready(), slices.wait_until_ready());
    if a.is_err() || b.is_err() {
        tracing::error!("watch caches closed before they were ready");
        return;
    }
    let started = jiff::Timestamp::now();
    let mut trigger_times = TriggerTimes::default();
    let mut last_full: Option<Instant> = None;
    let mut limiter = SyncLimiter::new(periods.min, BURST_SYNCS, Instant::now());
    limiter.take(Instant::now());
    let mut state = ProxyState::default();
    loop {
        let sync_start = Instant::now();
        let full = last_full.is_none_or(|t| sync_start.duration_since(t) >= periods.full);
        let changes = std::mem::take(&mut *lock(&dirty));
        let whole = full || changes.all;
        // The slices this sync looked at: all of them, or those of the changed Services.
        let looked_at: Vec<Arc<EndpointSlice>>;
        let result = if whole {
            looked_at = slices.state();
            let service_objects = services.state();
            state = convert::proxy_state(
                service_objects.iter().map(|s| s.as_ref()),
                looked_at.iter().map(|s| s.as_ref()),
                &node_name,
            );
            tokio::task::block_in_place(|| syncer.sync(&state, full))
        } else {
            // Only the Services that changed are converted again, and only their
            // service ports are looked at by the syncer.
            let mut ports = BTreeSet::new();
            let mut theirs = Vec::new();
            for (namespace, name) in &changes.services {
                let service = services.get(&ObjectRef::new(name).within(namespace));
                let first = theirs.len();
                theirs.extend(
                    lock(&slice_index)
                        .slices_of(&(namespace.clone(), name.clone()))
                        .filter_map(|s| slices.get(&ObjectRef::new(s).within(namespace))),
                );
                ports.extend(convert::update_service(
                    &mut state,
                    namespace,
                    name,
                    service.as_deref(),
                    theirs[first..].iter().map(|s| s.as_ref()),
                    &node_name,
                ));
            }
            looked_at = theirs;
            tokio::task::block_in_place(|| syncer.sync_changed(&state, &ports))
        };
        let elapsed = sync_start.elapsed();
        match result {
            Ok(report) => {
                if report.full {
                    last_full = Some(sync_start);
                }
                tracing::debug!(?report, ?elapsed, "synced");
                let now = jiff::Timestamp::now();
                let latencies = trigger_times.newly_programmed(
                    looked_at.iter().map(|s| s.as_ref()),
                    whole,
                    started,
                    now,
                );
                observer.synced(&report, elapsed, &latencies);
            }
            Err(e) => {
                tracing::error!(error = %e, "sync failed; the next sync is full");
                observer.failed(&e.to_string()).await;
            }
        }
        let next_full = last_full
            .map_or(sync_start + periods.min.max(Duration::from_secs(1)), |t| {
                t + periods.full
            });
        tokio::select! {
            _ = changed.notified() => {}
            _ = tokio::time::sleep_until(next_full.into()) => {}
        }
        observer.queued();
        // Changes that arrive while this waits are batched into the one sync.
        tokio::time::sleep_until(limiter.take(Instant::now()).into()).await;
    }
}

/// The `last-change-trigger-time` of each slice already counted in
/// `network_programming_duration_seconds`.
#[derive(Default)]
struct TriggerTimes {
    seen: HashMap<(String, String), String>,
}

impl TriggerTimes {
    /// Seconds from each new trigger time (after `since`) to `now`, among `slices`:
    /// every slice (`all`: deleted ones are forgotten), or those of the changed Services.
    fn newly_programmed<'a>(
        &mut self,
        slices: impl Iterator<Item = &'a EndpointSlice>,
        all: bool,
        since: jiff::Timestamp,
        now: jiff::Timestamp,
    ) -> Vec<f64> {
        let mut out = Vec::new();
        let mut previous = if all {
            std::mem::take(&mut self.seen)
        } else {
            HashMap::new()
        };
        for slice in slices {
            let Some(value) = slice
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(LAST_CHANGE_TRIGGER_TIME))
            else {
                continue;
            };
            let key = (
                slice.metadata.namespace.clone().unwrap_or_default(),
                slice.metadata.name.clone().unwrap_or_default(),
            );
            let before = match self.seen.insert(key.clone(), value.clone()) {
                Some(before) => Some(before),
                None => previous.remove(&key),
            };
            if before.as_ref() == Some(value) {
                continue;
            }
            if let Ok(at) = value.parse::<jiff::Timestamp>() {
                if at >= since {
                    let seconds = now.duration_since(at).as_secs_f64();
                    out.push(seconds.max(0.0));
                }
            }
        }
        out
    }
}
