//! Watch: initial events, resume from a resourceVersion, selectors (an object leaving
//! the selector is a DELETED event), bookmarks, timeouts, and 410 for slow watchers.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::Response;
use http_body_util::{BodyExt, StreamBody};
use rkube_api::table::IncludeObject;
use rkube_api::{ApiError, Resource};
use rkube_storage::{Event, EventKind, Storage as _, StorageError, Watch, WatchEnd};
use serde_json::{json, Value};

use crate::codec::{Negotiated, Shape};
use crate::registry::{ListOptions, Registry};
use crate::respond::{self, Body};

pub struct WatchParams {
    pub list: ListOptions,
    pub allow_bookmarks: bool,
    pub send_initial_events: Option<bool>,
    pub timeout: Duration,
    pub include: IncludeObject,
}

/// How often an idle watch with bookmarks allowed gets one.
const BOOKMARK_EVERY: Duration = Duration::from_secs(30);

/// Frames a watch event; the object is spliced in as stored when no shaping is needed.
struct Framer {
    resource: &'static Resource,
    neg: Negotiated,
    include: IncludeObject,
    sent_columns: bool,
}

impl Framer {
    /// Appends one event's line to `out`. For plain JSON the stored object is copied in
    /// as stored (never re-encoded).
    fn frame_into(&mut self, kind: &str, object: &Bytes, out: &mut BytesMut) {
        if self.neg.shape == Shape::Plain {
            let prefix: &'static [u8] = match kind {
                "ADDED" => b"{\"type\":\"ADDED\",\"object\":",
                "MODIFIED" => b"{\"type\":\"MODIFIED\",\"object\":",
                "DELETED" => b"{\"type\":\"DELETED\",\"object\":",
                _ => b"{\"type\":\"BOOKMARK\",\"object\":",
            };
            out.reserve(prefix.len() + object.len() + 2);
            out.extend_from_slice(prefix);
            out.extend_from_slice(object);
            out.extend_from_slice(b"}\n");
            return;
        }
        let obj: Value = serde_json::from_slice(object).unwrap_or(Value::Null);
        out.extend_from_slice(&self.frame_value(kind, obj));
    }

    fn frame_value(&mut self, kind: &str, obj: Value) -> Bytes {
        let shaped = match self.neg.shape {
            Shape::Plain => obj,
            Shape::Metadata { v1beta1 } => json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": if v1beta1 { "meta.k8s.io/v1beta1" } else { "meta.k8s.io/v1" },
                "metadata": obj.get("metadata").cloned().unwrap_or(json!({})),
            }),
            Shape::Table { v1beta1 } if kind != "ERROR" && kind != "BOOKMARK" => {
                let rv = obj
                    .pointer("/metadata/resourceVersion")
                    .cloned()
                    .unwrap_or(json!(""));
                let mut t = respond::table_value(
                    self.resource,
                    &[&obj],
                    self.include,
                    json!({"resourceVersion": rv}),
                    v1beta1,
                );
                if self.sent_columns {
                    t["columnDefinitions"] = Value::Null;
                }
                self.sent_columns = true;
                t
            }
            Shape::Table { .. } => obj,
        };
        let mut line =
            serde_json::to_vec(&json!({"type": kind, "object": shaped})).unwrap_or_default();
        line.push(b'\n');
        Bytes::from(line)
    }
}

fn bookmark(r: &Resource, rev: u64, initial_end: bool) -> Value {
    let mut meta = json!({"resourceVersion": rev.to_string(), "creationTimestamp": null});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    json!({"kind": r.kind, "apiVersion": r.api_version(), "metadata": meta})
}

fn expired_event(e: &ApiError) -> Value {
    e.to_status()
}

/// Which event (if any) a watcher with selectors sees for a change, and whether it
/// carries the previous content (an object that left the selector is sent as it was
/// while it still matched, with the event's resourceVersion, as upstream does).
fn visible(r: &Resource, opts: &ListOptions, ev: &Event) -> Option<(&'static str, bool)> {
    let base = match ev.kind {
        EventKind::Created => "ADDED",
        EventKind::Updated => "MODIFIED",
        EventKind::Deleted => "DELETED",
    };
    if !opts.has_selectors() {
        return Some((base, false));
    }
    let now_matches = serde_json::from_slice::<Value>(&ev.value).is_ok_and(|v| opts.matches(r, &v));
    let was_matching = ev
        .prev_value
        .as_ref()
        .and_then(|p| serde_json::from_slice::<Value>(p).ok())
        .is_some_and(|v| opts.matches(r, &v));
    match ev.kind {
        EventKind::Created => now_matches.then_some(("ADDED", false)),
        EventKind::Deleted => (was_matching || now_matches).then_some(("DELETED", false)),
        EventKind::Updated => match (was_matching, now_matches) {
            (true, true) => Some(("MODIFIED", false)),
            (false, true) => Some(("ADDED", false)),
            (true, false) => Some(("DELETED", true)),
            (false, false) => None,
        },
    }
}

/// Events waiting in the queue are written together: one chunk of up to this many bytes
/// instead of a chunk per event.
const BATCH_BYTES: usize = 64 * 1024;

/// One watch's stream. It is polled by the connection's own task: an event wakes one
/// task per watcher, and every event already queued when it runs goes out in one chunk.
struct WatchStream {
    resource: &'static Resource,
    framer: Framer,
    list: ListOptions,
    /// Initial objects not yet sent (as ADDED), then the initial-events-end bookmark.
    initial: std::vec::IntoIter<Bytes>,
    initial_end: Option<u64>,
    /// A line to send before ending (the ERROR of a watch that could not start).
    error: Option<Bytes>,
    watch: Option<Watch>,
    deadline: Pin<Box<tokio::time::Sleep>>,
    ticker: Option<tokio::time::Interval>,
    last_rev: u64,
    done: bool,
}

impl WatchStream {
    /// The next chunk, `None` at the end of the stream.
    async fn next_chunk(&mut self) -> Option<Bytes> {
        let mut batch = BytesMut::new();
        loop {
            if self.done {
                return None;
            }
            if let Some(line) = self.error.take() {
                self.done = true;
                return Some(line);
            }
            while batch.len() < BATCH_BYTES {
                let Some(item) = self.initial.next() else {
                    break;
                };
                self.framer.frame_into("ADDED", &item, &mut batch);
            }
            if batch.len() < BATCH_BYTES {
                if let Some(rev) = self.initial_end.take() {
                    let b = bookmark(self.resource, rev, true);
                    batch.extend_from_slice(&self.framer.frame_value("BOOKMARK", b));
                }
            }
            if !batch.is_empty() {
                return Some(batch.freeze());
            }
            let Some(watch) = self.watch.as_mut() else {
                self.done = true;
                return None;
            };
            let ticker = self.ticker.as_mut();
            let has_ticker = ticker.is_some();
            let first = tokio::select! {
                _ = &mut self.deadline => {
                    self.done = true;
                    return None;
                }
                _ = async { ticker?.tick().await; Some(()) }, if has_ticker => None,
                ev = watch.events.recv() => Some(ev),
            };
            match first {
                None => {
                    let b = bookmark(self.resource, self.last_rev, false);
                    batch.extend_from_slice(&self.framer.frame_value("BOOKMARK", b));
                }
                Some(ev) => {
                    self.push_event(ev, &mut batch);
                    self.drain_queue(&mut batch);
                }
            }
            if !batch.is_empty() {
                return Some(batch.freeze());
            }
        }
    }

    /// Frames the events already queued into `batch` (up to `BATCH_BYTES`), sized for
    /// all of them once the first one's size is known.
    fn drain_queue(&mut self, batch: &mut BytesMut) {
        let mut sized = false;
        while !self.done && batch.len() < BATCH_BYTES {
            let Some(watch) = self.watch.as_mut() else {
                break;
            };
            let Ok(ev) = watch.events.try_recv() else {
                break;
            };
            let before = batch.len();
            self.push_event(Some(ev), batch);
            if !sized {
                sized = true;
                let queued = self.watch.as_ref().map_or(0, |w| w.events.len());
                let line = batch.len() - before;
                batch.reserve(line.saturating_mul(queued).min(BATCH_BYTES));
            }
        }
    }

    /// Frames one item of the store's watch into `batch`; the stream ends after an
    /// ERROR or when the store ends the watch.
    fn push_event(&mut self, ev: Option<Result<Arc<Event>, WatchEnd>>, batch: &mut BytesMut) {
        let r = self.resource;
        match ev {
            Some(Ok(ev)) => {
                self.last_rev = ev.revision;
                let Some((kind, previous)) = visible(r, &self.list, &ev) else {
                    return;
                };
                let stored = match (previous, &ev.prev_value) {
                    (true, Some(prev)) => serde_json::from_slice::<Value>(prev)
                        .map(|v| crate::registry::encode_with_rv(v, ev.revision))
                        .unwrap_or_else(|_| ev.value.clone()),
                    _ => ev.value.clone(),
                };
                let object = crate::registry::convert::bytes_from_storage(r, &stored);
                self.framer.frame_into(kind, &object, batch);
            }
            Some(Err(WatchEnd::TooSlow)) => {
                let e = ApiError::expired(self.last_rev, self.last_rev);
                let e = ApiError {
                    message: format!(
                        "watch of {} ended: the watcher did not keep up ({})",
                        r.plural, e.message
                    ),
                    ..e
                };
                batch.extend_from_slice(&self.framer.frame_value("ERROR", expired_event(&e)));
                self.done = true;
            }
            Some(Err(WatchEnd::Closed)) | None => self.done = true,
        }
    }
}

fn stream_response(stream: WatchStream) -> Response<Body> {
    let chunks = futures_util::stream::unfold(stream, |mut s| async move {
        let chunk = s.next_chunk().await?;
        Some((Ok::<_, Infallible>(http_body::Frame::data(chunk)), s))
    });
    let mut resp = Response::new(StreamBody::new(chunks).boxed());
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp
}

pub async fn serve(
    registry: Arc<Registry>,
    r: &'static Resource,
    namespace: Option<String>,
    params: WatchParams,
    neg: Negotiated,
) -> Response<Body> {
    let mut framer = Framer {
        resource: r,
        neg,
        include: params.include,
        sent_columns: false,
    };
    let prefix = registry.list_prefix(r, namespace.as_deref());
    let rv = params.list.resource_version.clone().unwrap_or_default();
    let initial = params
        .send_initial_events
        .unwrap_or(rv.is_empty() || rv == "0");
    if params.send_initial_events == Some(true) && !params.allow_bookmarks {
        return respond::error_response(&ApiError::invalid(
            "meta.k8s.io",
            "ListOptions",
            "",
            vec![rkube_api::Cause::new(
                "FieldValueForbidden",
                "allowWatchBookmarks: Forbidden: sendInitialEvents requires setting allowWatchBookmarks=true",
                "allowWatchBookmarks",
            )],
        ));
    }
    // Where the stream starts, and what it sends first.
    let (start, initial_items) = if initial {
        let list_opts = ListOptions {
            resource_version: None,
            limit: None,
            continue_token: None,
            resource_version_match: None,
            label_selector: params.list.label_selector.clone(),
            field_selector: params.list.field_selector.clone(),
        };
        match registry.list(r, namespace.as_deref(), &list_opts).await {
            Ok(out) => (out.revision, out.items),
            Err(e) => return respond::error_response(&e),
        }
    } else {
        match rv.parse::<u64>() {
            Ok(n) => (n, Vec::new()),
            Err(_) => {
                return respond::error_response(&ApiError::bad_request(format!(
                    "invalid resource version: {rv}"
                )))
            }
        }
    };
    let mut error = None;
    let watch = match registry.store.watch(&prefix, start) {
        Ok(w) => Some(w),
        Err(StorageError::Compacted {
            requested,
            compacted,
        }) => {
            // Upstream answers 200 and a single ERROR event.
            error = Some(framer.frame_value(
                "ERROR",
                expired_event(&ApiError::expired(requested, compacted)),
            ));
            None
        }
        Err(StorageError::FutureRevision { .. }) => {
            match registry
                .store
                .watch(&prefix, registry.store.current_revision())
            {
                Ok(w) => Some(w),
                Err(e) => {
                    return respond::error_response(&crate::registry::storage_error(r, "", e))
                }
            }
        }
        Err(e) => return respond::error_response(&crate::registry::storage_error(r, "", e)),
    };
    let (initial, initial_end) = match &watch {
        Some(_) => (
            initial_items.into_iter(),
            (params.send_initial_events == Some(true)).then_some(start),
        ),
        None => (Vec::new().into_iter(), None),
    };
    let ticker = params.allow_bookmarks.then(|| {
        let mut t =
            tokio::time::interval_at(tokio::time::Instant::now() + BOOKMARK_EVERY, BOOKMARK_EVERY);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    stream_response(WatchStream {
        resource: r,
        framer,
        list: params.list,
        initial,
        initial_end,
        error,
        watch,
        deadline: Box::pin(tokio::time::sleep(params.timeout)),
        ticker,
        last_rev: start,
        done: false,
    })
}
