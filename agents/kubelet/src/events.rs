//! Events the kubelet records about pods (core/v1 Events, source component `kubelet`), as
//! `kubectl describe` shows them. Sent in the background; a lost event is only logged.

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::api::{Api, PostParams};

#[derive(Clone)]
pub struct Recorder {
    client: kube::Client,
    node: String,
}

impl Recorder {
    pub fn new(client: kube::Client, node: String) -> Recorder {
        Recorder { client, node }
    }

    /// A Warning event about `pod` (optionally about one of its containers).
    pub fn warn(&self, pod: &Pod, container: Option<&str>, reason: &str, message: &str) {
        let event = self.event(pod, container, reason, message);
        let namespace = pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        tokio::spawn(async move {
            if let Err(e) = api.create(&PostParams::default(), &event).await {
                tracing::debug!("event not recorded: {e}");
            }
        });
    }

    fn event(&self, pod: &Pod, container: Option<&str>, reason: &str, message: &str) -> Event {
        let now = k8s_openapi::jiff::Timestamp::now();
        let name = pod.metadata.name.clone().unwrap_or_default();
        Event {
            metadata: ObjectMeta {
                name: Some(format!("{name}.{:x}", now.as_nanosecond())),
                namespace: pod.metadata.namespace.clone(),
                ..ObjectMeta::default()
            },
            involved_object: ObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Pod".into()),
                name: Some(name),
                namespace: pod.metadata.namespace.clone(),
                uid: pod.metadata.uid.clone(),
                resource_version: pod.metadata.resource_version.clone(),
                field_path: container.map(|c| format!("spec.containers{{{c}}}")),
            },
            reason: Some(reason.into()),
            message: Some(message.into()),
            type_: Some("Warning".into()),
            source: Some(EventSource {
                component: Some("kubelet".into()),
                host: Some(self.node.clone()),
            }),
            first_timestamp: Some(Time(now)),
            last_timestamp: Some(Time(now)),
            event_time: Some(MicroTime(now)),
            count: Some(1),
            reporting_component: Some("kubelet".into()),
            reporting_instance: Some(self.node.clone()),
            ..Event::default()
        }
    }
}
