//! The control loop: Services and EndpointSlices are LIST+WATCHed into reflector caches;
//! any change wakes the loop, which syncs from the caches. The watch events name the
//! Services that changed: only those are converted again from the caches (and the
//! syncer renders only service ports whose inputs differ); a full sync converts and
//! renders everything, so a missed event cannot outlive one `--iptables-sync-period`. Two syncs may run back to back, then they are
//! `--iptables-min-sync-period` apart ([`SyncLimiter`]), so an isolated change is applied
//! at once and a stream of changes is batched; every `--iptables-sync-period` the sync
//! is full.

use std::collections::{HashMap, HashSet};
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
    services: HashSet<(String, String)>,
}

type SharedDirty = Arc<Mutex<Dirty>>;

fn mark(dirty: &SharedDirty, key: Option<(String, String)>, all: bool) {
    let mut d = dirty.lock().unwrap_or_else(|e| e.into_inner());
    d.all |= all;
    if let Some(key) = key {
        d.services.insert(key);
    }
}

fn service_key(svc: &Service) -> Option<(String, String)> {
    Some((svc.metadata.namespace.clone()?, svc.metadata.name.clone()?))
}

/// Starts a reflector for `K` that wakes `changed` on every event and marks the
/// Service it concerns (`key`) dirty.
fn watch<K>(
    api: Api<K>,
    changed: Arc<Notify>,
    dirty: SharedDirty,
    key: fn(&K) -> Option<(String, String)>,
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
    // The reflector has applied each event to the store before it reaches for_each.
    let stream =
        reflector::reflector(writer, watcher(api, watcher::Config::default())).default_backoff();
    tokio::spawn(async move {
        stream
            .for_each(|event| {
                match event {
                    Ok(event) => {
                        match &event {
                            watcher::Event::Apply(obj) | watcher::Event::Delete(obj) => {
                                mark(&dirty, key(obj), false)
                            }
                            _ => mark(&dirty, None, true),
                        }
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
        service_key,
    );
    let slices = watch::<EndpointSlice>(
        Api::all(client),
        changed.clone(),
        dirty.clone(),
        convert::slice_service,
    );
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
        let changes = std::mem::take(&mut *dirty.lock().unwrap_or_else(|e| e.into_inner()));
        let slice_objects = slices.state();
        if full || changes.all {
            let service_objects = services.state();
            state = convert::proxy_state(
                service_objects.iter().map(|s| s.as_ref()),
                slice_objects.iter().map(|s| s.as_ref()),
                &node_name,
            );
        } else {
            // Only the Services that changed are converted again (and then rendered).
            for (namespace, name) in &changes.services {
                let service = services.get(&ObjectRef::new(name).within(namespace));
                convert::update_service(
                    &mut state,
                    namespace,
                    name,
                    service.as_deref(),
                    slice_objects.iter().map(|s| s.as_ref()),
                    &node_name,
                );
            }
        }
        let result = tokio::task::block_in_place(|| syncer.sync(&state, full));
        let elapsed = sync_start.elapsed();
        match result {
            Ok(report) => {
                if report.full {
                    last_full = Some(sync_start);
                }
                tracing::debug!(?report, ?elapsed, "synced");
                let now = jiff::Timestamp::now();
                let latencies = trigger_times.newly_programmed(
                    slice_objects.iter().map(|s| s.as_ref()),
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
    /// Seconds from each new trigger time (after `since`) to `now`.
    fn newly_programmed<'a>(
        &mut self,
        slices: impl Iterator<Item = &'a EndpointSlice>,
        since: jiff::Timestamp,
        now: jiff::Timestamp,
    ) -> Vec<f64> {
        let mut out = Vec::new();
        // Rebuilt each time, so deleted slices are forgotten.
        let mut seen = HashMap::new();
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
            let known = self.seen.get(&key) == Some(value);
            seen.insert(key, value.clone());
            if known {
                continue;
            }
            if let Ok(at) = value.parse::<jiff::Timestamp>() {
                if at >= since {
                    let seconds = now.duration_since(at).as_secs_f64();
                    out.push(seconds.max(0.0));
                }
            }
        }
        self.seen = seen;
        out
    }
}
