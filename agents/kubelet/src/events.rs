//! Events the kubelet records about pods and its Node (core/v1 Events, source component
//! `kubelet`), as `kubectl describe` shows them. Recording never blocks: events go
//! through a bounded queue to one task that correlates them as client-go's recorder does
//! (repeats bump the count of the event already written, many similar messages are
//! combined, and a source that floods is throttled) and writes them; a lost event is only
//! logged.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::api::{Api, Patch, PatchParams, PostParams};
use tokio::sync::mpsc;

/// Events waiting to be written; more are dropped (client-go's queue is as long).
const QUEUE: usize = 1000;
/// Events remembered for correlation (client-go's LRU cache size).
const REMEMBERED: usize = 4096;
/// Distinct messages with the same reason about one object within the window, after
/// which they are combined into one event.
const AGGREGATE_AFTER: usize = 10;
const AGGREGATE_WINDOW: Duration = Duration::from_secs(600);
/// Per distinct event: a burst of 25, then one more every 5 minutes.
const SPAM_BURST: f64 = 25.0;
const SPAM_REFILL: Duration = Duration::from_secs(300);

#[derive(Clone)]
pub struct Recorder {
    queue: mpsc::Sender<Event>,
    node: String,
}

/// The object (and container) events are about, with the recorder to send them.
#[derive(Clone)]
pub struct About {
    recorder: Recorder,
    object: ObjectReference,
}

impl About {
    pub fn normal(&self, reason: &str, message: impl Into<String>) {
        self.recorder
            .send(&self.object, "Normal", reason, message.into());
    }

    pub fn warn(&self, reason: &str, message: impl Into<String>) {
        self.recorder
            .send(&self.object, "Warning", reason, message.into());
    }
}

impl Recorder {
    /// The recorder, and the task that writes its events (to be run by the caller).
    pub fn new(
        client: kube::Client,
        node: String,
    ) -> (Recorder, impl std::future::Future<Output = ()>) {
        let (queue, events) = mpsc::channel(QUEUE);
        (Recorder { queue, node }, deliver(client, events))
    }

    /// Events about `pod`, or one of its containers (`spec.containers{name}` or
    /// `spec.initContainers{name}`).
    pub fn about(&self, pod: &Pod, container: Option<&str>) -> About {
        let init = |name: &str| {
            pod.spec
                .iter()
                .flat_map(|s| s.init_containers.iter().flatten())
                .any(|c| c.name == name)
        };
        let field_path = container.map(|c| {
            if init(c) {
                format!("spec.initContainers{{{c}}}")
            } else {
                format!("spec.containers{{{c}}}")
            }
        });
        About {
            recorder: self.clone(),
            object: ObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Pod".into()),
                name: pod.metadata.name.clone(),
                namespace: pod.metadata.namespace.clone(),
                uid: pod.metadata.uid.clone(),
                resource_version: pod.metadata.resource_version.clone(),
                field_path,
            },
        }
    }

    /// Events about this kubelet's Node (upstream's node reference: its UID is its name).
    pub fn about_node(&self) -> About {
        About {
            recorder: self.clone(),
            object: ObjectReference {
                kind: Some("Node".into()),
                name: Some(self.node.clone()),
                uid: Some(self.node.clone()),
                ..ObjectReference::default()
            },
        }
    }

    /// A Warning event about `pod` (optionally about one of its containers).
    pub fn warn(&self, pod: &Pod, container: Option<&str>, reason: &str, message: &str) {
        self.about(pod, container).warn(reason, message);
    }

    fn send(&self, object: &ObjectReference, type_: &str, reason: &str, message: String) {
        let now = Timestamp::now();
        let namespace = object
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "default".into());
        let event = Event {
            metadata: ObjectMeta {
                name: Some(format!(
                    "{}.{:x}",
                    object.name.as_deref().unwrap_or(""),
                    now.as_nanosecond()
                )),
                namespace: Some(namespace),
                ..ObjectMeta::default()
            },
            involved_object: object.clone(),
            reason: Some(reason.into()),
            message: Some(message),
            type_: Some(type_.into()),
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
        };
        if self.queue.try_send(event).is_err() {
            tracing::debug!(reason, "event dropped: the queue is full");
        }
    }
}

/// Writes the queued events, correlated.
async fn deliver(client: kube::Client, mut events: mpsc::Receiver<Event>) {
    let mut correlator = Correlator::default();
    while let Some(event) = events.recv().await {
        let Some(outcome) = correlator.observe(event, Timestamp::now()) else {
            continue;
        };
        let namespace = outcome.event.metadata.namespace.clone().unwrap_or_default();
        let api: Api<Event> = Api::namespaced(client.clone(), &namespace);
        let name = outcome.event.metadata.name.clone().unwrap_or_default();
        if outcome.repeat {
            let patch = serde_json::json!({
                "count": outcome.event.count,
                "lastTimestamp": outcome.event.last_timestamp,
                "message": outcome.event.message,
            });
            match api
                .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => continue,
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => {
                    tracing::debug!("event not updated: {e}");
                    continue;
                }
            }
        }
        // New, or its earlier copy is gone (expired): written afresh under its name.
        let mut event = outcome.event;
        event.metadata.resource_version = None;
        if let Err(e) = api.create(&PostParams::default(), &event).await {
            tracing::debug!("event not recorded: {e}");
        }
    }
}

/// What to write for an observed event.
#[derive(Debug)]
struct Outcome {
    event: Event,
    /// It repeats an event already written (same name): update its count.
    repeat: bool,
}

struct Seen {
    name: String,
    count: i32,
    first: Option<Time>,
}

struct Similar {
    since: Timestamp,
    messages: HashSet<String>,
}

/// client-go's EventCorrelator: spam filter, aggregation of similar events, then
/// deduplication of identical ones. No I/O.
#[derive(Default)]
struct Correlator {
    seen: HashMap<String, Seen>,
    /// Keys of `seen`, oldest first, to bound it.
    order: VecDeque<String>,
    similar: HashMap<String, Similar>,
    /// Spam filter tokens and when they were last refilled, per distinct event.
    tokens: HashMap<String, (f64, Timestamp)>,
}

fn object_key(e: &Event) -> String {
    let o = &e.involved_object;
    let source = e.source.as_ref();
    [
        source.and_then(|s| s.component.as_deref()),
        source.and_then(|s| s.host.as_deref()),
        o.kind.as_deref(),
        o.namespace.as_deref(),
        o.name.as_deref(),
        o.uid.as_deref(),
        o.api_version.as_deref(),
        e.type_.as_deref(),
        e.reason.as_deref(),
    ]
    .map(|p| p.unwrap_or(""))
    .join("\u{0}")
}

impl Correlator {
    fn observe(&mut self, mut event: Event, now: Timestamp) -> Option<Outcome> {
        let message = event.message.clone().unwrap_or_default();
        let similar_key = object_key(&event);
        if !self.allow(format!("{similar_key}\u{0}{message}"), now) {
            return None;
        }
        let field_path = event.involved_object.field_path.clone().unwrap_or_default();
        let mut key = format!("{similar_key}\u{0}{field_path}\u{0}{message}");
        let similar = self.similar.entry(similar_key.clone()).or_insert(Similar {
            since: now,
            messages: HashSet::new(),
        });
        if elapsed(similar.since, now) > AGGREGATE_WINDOW {
            similar.since = now;
            similar.messages.clear();
        }
        similar.messages.insert(message.clone());
        if similar.messages.len() >= AGGREGATE_AFTER {
            event.message = Some(format!("(combined from similar events): {message}"));
            key = similar_key;
        }
        let repeat = match self.seen.get_mut(&key) {
            Some(seen) => {
                seen.count += 1;
                event.metadata.name = Some(seen.name.clone());
                event.count = Some(seen.count);
                event.first_timestamp = seen.first.clone();
                true
            }
            None => {
                self.remember(key, &event);
                false
            }
        };
        Some(Outcome { event, repeat })
    }

    /// The spam filter's token bucket for one distinct event.
    fn allow(&mut self, key: String, now: Timestamp) -> bool {
        if self.tokens.len() >= REMEMBERED && !self.tokens.contains_key(&key) {
            self.tokens.clear();
        }
        let (tokens, at) = self.tokens.entry(key).or_insert((SPAM_BURST, now));
        let refill = elapsed(*at, now).as_secs_f64() / SPAM_REFILL.as_secs_f64();
        *tokens = (*tokens + refill).min(SPAM_BURST);
        *at = now;
        if *tokens < 1.0 {
            return false;
        }
        *tokens -= 1.0;
        true
    }

    fn remember(&mut self, key: String, event: &Event) {
        if self.order.len() >= REMEMBERED {
            if let Some(oldest) = self.order.pop_front() {
                self.seen.remove(&oldest);
            }
        }
        if self.similar.len() >= REMEMBERED {
            self.similar.clear();
        }
        self.order.push_back(key.clone());
        self.seen.insert(
            key,
            Seen {
                name: event.metadata.name.clone().unwrap_or_default(),
                count: 1,
                first: event.first_timestamp.clone(),
            },
        );
    }
}

fn elapsed(since: Timestamp, now: Timestamp) -> Duration {
    Duration::try_from(now.duration_since(since)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, reason: &str, message: &str, at: Timestamp) -> Event {
        Event {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                ..ObjectMeta::default()
            },
            involved_object: ObjectReference {
                kind: Some("Pod".into()),
                name: Some("web".into()),
                uid: Some("u1".into()),
                ..ObjectReference::default()
            },
            reason: Some(reason.into()),
            message: Some(message.into()),
            type_: Some("Normal".into()),
            first_timestamp: Some(Time(at)),
            last_timestamp: Some(Time(at)),
            count: Some(1),
            ..Event::default()
        }
    }

    #[test]
    fn repeats_bump_the_count_of_the_first_event() {
        let mut c = Correlator::default();
        let t0 = Timestamp::from_second(1_000_000).unwrap();
        let first = c.observe(event("web.1", "Started", "Started container a", t0), t0);
        let first = first.unwrap();
        assert!(!first.repeat);
        let t1 = Timestamp::from_second(1_000_010).unwrap();
        let again = c
            .observe(event("web.2", "Started", "Started container a", t1), t1)
            .unwrap();
        assert!(again.repeat);
        assert_eq!(again.event.metadata.name.as_deref(), Some("web.1"));
        assert_eq!(again.event.count, Some(2));
        assert_eq!(again.event.first_timestamp, Some(Time(t0)));
        assert_eq!(again.event.last_timestamp, Some(Time(t1)));
        let other = c
            .observe(event("web.3", "Started", "Started container b", t1), t1)
            .unwrap();
        assert!(!other.repeat);
    }

    #[test]
    fn similar_messages_are_combined_and_floods_throttled() {
        let mut c = Correlator::default();
        let t0 = Timestamp::from_second(1_000_000).unwrap();
        let mut last = None;
        for i in 0..12 {
            let e = event(
                &format!("web.{i}"),
                "Unhealthy",
                &format!("failed: {i}"),
                t0,
            );
            last = c.observe(e, t0);
        }
        let last = last.unwrap();
        assert_eq!(
            last.event.message.as_deref(),
            Some("(combined from similar events): failed: 11")
        );
        assert!(last.repeat, "the second combined one updates the first");
        // 25 identical events pass, the 26th within the same moment does not.
        let mut passed = 0;
        for i in 0..30 {
            if c.observe(event(&format!("x.{i}"), "BackOff", "same", t0), t0)
                .is_some()
            {
                passed += 1;
            }
        }
        assert_eq!(passed, 25);
        let later = t0 + jiff::SignedDuration::from_secs(301);
        assert!(c
            .observe(event("x.y", "BackOff", "same", later), later)
            .is_some());
    }
}
