//! The scheduling loop: pop a pod, decide on the cache, assume it onto its node and bind
//! in the background (many bindings in flight, like upstream's binding cycle), or report
//! it unschedulable and park it in the queue.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::diagnosis::hints;
use crate::node_info::PodFacts;
use crate::schedule::{schedule, Decision, SearchStart};
use crate::state::Shared;
use crate::writes::{self, PodEvent, Recorder};

/// Bindings in flight at once: enough to keep the apiserver busy, bounded so a slow
/// apiserver makes the loop wait instead of piling up requests.
const MAX_BINDS_IN_FLIGHT: usize = 64;
/// The longest the loop sleeps without a wake-up (backoffs are checked at least this often).
const IDLE_TICK: Duration = Duration::from_secs(1);

pub async fn scheduling_loop(client: kube::Client, shared: Arc<Shared>, recorder: Recorder) {
    let binds = Arc::new(Semaphore::new(MAX_BINDS_IN_FLIGHT));
    let mut start = SearchStart::default();
    let mut rng = rand::rngs::StdRng::from_entropy();
    loop {
        let next = {
            let mut queue = shared.queue.lock();
            queue.flush(Instant::now());
            queue.pop()
        };
        let Some(pod) = next else {
            let due = shared.queue.lock().next_backoff();
            let idle = due
                .map(|d| d.saturating_duration_since(Instant::now()))
                .unwrap_or(IDLE_TICK)
                .min(IDLE_TICK);
            tokio::select! {
                _ = shared.wake.notified() => {}
                _ = tokio::time::sleep(idle) => {}
            }
            continue;
        };
        let decision = schedule(&shared.cache.lock(), &pod, &mut start, &mut rng);
        match decision {
            Decision::Fit(node) => {
                shared.cache.lock().assume(pod.clone(), &node);
                let Ok(permit) = binds.clone().acquire_owned().await else {
                    return;
                };
                let (client, shared, recorder) = (client.clone(), shared.clone(), recorder.clone());
                tokio::spawn(bind(client, shared, recorder, pod, node, permit));
            }
            Decision::Unschedulable { message, hints } => {
                tracing::info!(pod = %pod.key(), "unschedulable: {message}");
                shared
                    .queue
                    .lock()
                    .unschedulable(&pod.uid, hints, Instant::now());
                let client = client.clone();
                let recorder = recorder.clone();
                tokio::spawn(async move {
                    if let Err(e) = writes::mark_unschedulable(&client, &pod, &message).await {
                        tracing::debug!(pod = %pod.key(), "PodScheduled condition not written: {e}");
                    }
                    recorder.record(PodEvent {
                        pod,
                        warning: true,
                        reason: "FailedScheduling",
                        message,
                    });
                });
            }
        }
        // Let the watches and binders run between decisions.
        tokio::task::yield_now().await;
    }
}

async fn bind(
    client: kube::Client,
    shared: Arc<Shared>,
    recorder: Recorder,
    pod: Arc<PodFacts>,
    node: String,
    _permit: OwnedSemaphorePermit,
) {
    match writes::bind(&client, &pod, &node).await {
        Ok(()) => {
            shared.queue.lock().bound(&pod.uid);
            let message = format!("Successfully assigned {} to {node}", pod.key());
            recorder.record(PodEvent {
                pod,
                warning: false,
                reason: "Scheduled",
                message,
            });
        }
        Err(e) => {
            shared.cache.lock().forget(&pod.uid);
            let code = match &e {
                kube::Error::Api(status) => Some(status.code),
                _ => None,
            };
            match code {
                // Deleted, or bound by someone else: the watch tells the rest.
                Some(404) | Some(409) => shared.queue.lock().remove(&pod.uid),
                _ => {
                    tracing::warn!(pod = %pod.key(), %node, "binding failed: {e}");
                    shared.queue.lock().error(&pod.uid, Instant::now());
                }
            }
            // What it held on the node is free again.
            shared.cluster_changed(hints::RESOURCES | hints::PORTS | hints::POD_AFFINITY);
        }
    }
}
