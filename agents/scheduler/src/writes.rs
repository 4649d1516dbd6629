//! What the scheduler writes to the API: the Binding, the PodScheduled=False condition of
//! a pod that fits nowhere, and Events (Scheduled, FailedScheduling). Events go through a
//! bounded queue drained by a few senders; when it is full they are dropped, like
//! client-go's event broadcaster, so events never slow binding down.

use std::sync::Arc;

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::{Event, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;
use tokio::sync::mpsc;

use crate::node_info::PodFacts;

/// The scheduler's name in events and its default `schedulerName`.
pub const SCHEDULER_NAME: &str = "default-scheduler";
const EVENT_QUEUE: usize = 1000;
const EVENT_SENDERS: usize = 4;

/// `POST pods/{name}/binding`, with the pod's uid as a precondition.
pub async fn bind(client: &kube::Client, pod: &PodFacts, node: &str) -> Result<(), kube::Error> {
    let api: Api<Pod> = Api::namespaced(client.clone(), &pod.namespace);
    let binding = json!({
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": pod.name, "namespace": pod.namespace, "uid": pod.uid},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    });
    api.create_subresource::<_, serde_json::Value>(
        "binding",
        &pod.name,
        &PostParams::default(),
        &binding,
    )
    .await
    .map(|_| ())
}

/// Whether the pod already carries this PodScheduled=False condition (no write needed).
fn already_marked(pod: &Pod, message: &str) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .any(|c| {
            c.type_ == "PodScheduled"
                && c.status == "False"
                && c.reason.as_deref() == Some("Unschedulable")
                && c.message.as_deref() == Some(message)
        })
}

/// PodScheduled=False, reason Unschedulable, upstream's message (a strategic merge patch
/// keyed by condition type, so other conditions stay).
pub async fn mark_unschedulable(
    client: &kube::Client,
    pod: &PodFacts,
    message: &str,
) -> Result<(), kube::Error> {
    if already_marked(&pod.pod, message) {
        return Ok(());
    }
    let api: Api<Pod> = Api::namespaced(client.clone(), &pod.namespace);
    let patch = json!({"status": {"conditions": [{
        "type": "PodScheduled",
        "status": "False",
        "reason": "Unschedulable",
        "message": message,
        "lastProbeTime": null,
        "lastTransitionTime": Time(Timestamp::now()),
    }]}});
    api.patch_status(&pod.name, &PatchParams::default(), &Patch::Strategic(patch))
        .await
        .map(|_| ())
}

/// One event about a pod.
#[derive(Debug, Clone)]
pub struct PodEvent {
    pub pod: Arc<PodFacts>,
    pub warning: bool,
    pub reason: &'static str,
    pub message: String,
}

impl PodEvent {
    fn to_event(&self, instance: &str) -> Event {
        let pod = &self.pod;
        let now = Timestamp::now();
        Event {
            metadata: ObjectMeta {
                name: Some(format!("{}.{:x}", pod.name, now.as_nanosecond())),
                namespace: Some(pod.namespace.clone()),
                ..ObjectMeta::default()
            },
            involved_object: ObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Pod".into()),
                name: Some(pod.name.clone()),
                namespace: Some(pod.namespace.clone()),
                uid: Some(pod.uid.clone()),
                resource_version: pod.pod.metadata.resource_version.clone(),
                ..ObjectReference::default()
            },
            reason: Some(self.reason.into()),
            message: Some(self.message.clone()),
            type_: Some(if self.warning { "Warning" } else { "Normal" }.into()),
            source: Some(k8s_openapi::api::core::v1::EventSource {
                component: Some(SCHEDULER_NAME.into()),
                host: None,
            }),
            first_timestamp: Some(Time(now)),
            last_timestamp: Some(Time(now)),
            event_time: Some(MicroTime(now)),
            count: Some(1),
            action: Some(
                if self.warning {
                    "Scheduling"
                } else {
                    "Binding"
                }
                .into(),
            ),
            reporting_component: Some(SCHEDULER_NAME.into()),
            reporting_instance: Some(instance.into()),
            ..Event::default()
        }
    }
}

/// The sending side of the event queue.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<PodEvent>,
}

impl Recorder {
    /// Start the senders; they stop when every Recorder is dropped.
    pub fn start(client: kube::Client, instance: String) -> Recorder {
        let (tx, rx) = mpsc::channel::<PodEvent>(EVENT_QUEUE);
        let stream = tokio_stream_from(rx);
        tokio::spawn(async move {
            stream
                .for_each_concurrent(EVENT_SENDERS, |event| {
                    let client = client.clone();
                    let instance = instance.clone();
                    async move {
                        let api: Api<Event> = Api::namespaced(client, &event.pod.namespace);
                        if let Err(e) = api
                            .create(&PostParams::default(), &event.to_event(&instance))
                            .await
                        {
                            tracing::debug!(pod = %event.pod.key(), "event not recorded: {e}");
                        }
                    }
                })
                .await;
        });
        Recorder { tx }
    }

    pub fn record(&self, event: PodEvent) {
        if self.tx.try_send(event).is_err() {
            tracing::debug!("event queue full: event dropped");
        }
    }
}

/// An mpsc receiver as a Stream.
fn tokio_stream_from<T: Send + 'static>(
    mut rx: mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
