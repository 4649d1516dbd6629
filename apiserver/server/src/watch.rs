//! Watch: initial events, resume from a resourceVersion, selectors (an object leaving
//! the selector is a DELETED event), bookmarks, timeouts, and 410 for slow watchers.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Response;
use http_body_util::{BodyExt, StreamBody};
use rkube_api::table::IncludeObject;
use rkube_api::{ApiError, Resource};
use rkube_storage::{Event, EventKind, Storage as _, StorageError, WatchEnd};
use serde_json::{json, Value};
use tokio::sync::mpsc;

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
    /// One event as the parts of its line. For plain JSON the stored object is spliced
    /// in by reference (never re-encoded); the parts are joined when written.
    fn frame(&mut self, kind: &str, object: &Bytes) -> Vec<Bytes> {
        if self.neg.shape == Shape::Plain {
            let prefix: &'static [u8] = match kind {
                "ADDED" => b"{\"type\":\"ADDED\",\"object\":",
                "MODIFIED" => b"{\"type\":\"MODIFIED\",\"object\":",
                "DELETED" => b"{\"type\":\"DELETED\",\"object\":",
                _ => b"{\"type\":\"BOOKMARK\",\"object\":",
            };
            return vec![
                Bytes::from_static(prefix),
                object.clone(),
                Bytes::from_static(b"}\n"),
            ];
        }
        let obj: Value = serde_json::from_slice(object).unwrap_or(Value::Null);
        vec![self.frame_value(kind, obj)]
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
/// instead of a chunk per piece of every event.
const BATCH_BYTES: usize = 64 * 1024;

fn stream_response(rx: mpsc::Receiver<Vec<Bytes>>) -> Response<Body> {
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let first = rx.recv().await?;
        let mut batch = bytes::BytesMut::with_capacity(first.iter().map(Bytes::len).sum());
        for part in first {
            batch.extend_from_slice(&part);
        }
        while batch.len() < BATCH_BYTES {
            match rx.try_recv() {
                Ok(parts) => parts.iter().for_each(|p| batch.extend_from_slice(p)),
                Err(_) => break,
            }
        }
        Some((
            Ok::<_, Infallible>(http_body::Frame::data(batch.freeze())),
            rx,
        ))
    });
    let mut resp = Response::new(StreamBody::new(stream).boxed());
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
    let (tx, rx) = mpsc::channel::<Vec<Bytes>>(64);
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
    let watch = match registry.store.watch(&prefix, start) {
        Ok(w) => Some(w),
        Err(StorageError::Compacted {
            requested,
            compacted,
        }) => {
            // Upstream answers 200 and a single ERROR event.
            let frame = framer.frame_value(
                "ERROR",
                expired_event(&ApiError::expired(requested, compacted)),
            );
            let _ = tx.try_send(vec![frame]);
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
    let Some(mut watch) = watch else {
        return stream_response(rx);
    };
    let list = params.list;
    let allow_bookmarks = params.allow_bookmarks;
    let send_initial_end = params.send_initial_events == Some(true);
    let timeout = params.timeout;
    tokio::spawn(async move {
        for item in &initial_items {
            if tx.send(framer.frame("ADDED", item)).await.is_err() {
                return;
            }
        }
        if send_initial_end {
            let b = vec![framer.frame_value("BOOKMARK", bookmark(r, start, true))];
            if tx.send(b).await.is_err() {
                return;
            }
        }
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut last_rev = start;
        let mut ticker = tokio::time::interval(BOOKMARK_EVERY);
        ticker.tick().await;
        loop {
            let frame = tokio::select! {
                _ = &mut deadline => return,
                _ = tx.closed() => return,
                _ = ticker.tick(), if allow_bookmarks => vec![framer.frame_value("BOOKMARK", bookmark(r, last_rev, false))],
                ev = watch.events.recv() => match ev {
                    Some(Ok(ev)) => {
                        last_rev = ev.revision;
                        match visible(r, &list, &ev) {
                            Some((kind, previous)) => {
                                let stored = match (previous, &ev.prev_value) {
                                    (true, Some(prev)) => serde_json::from_slice::<Value>(prev)
                                        .map(|v| crate::registry::encode_with_rv(v, ev.revision))
                                        .unwrap_or_else(|_| ev.value.clone()),
                                    _ => ev.value.clone(),
                                };
                                framer.frame(kind, &crate::registry::convert::bytes_from_storage(r, &stored))
                            }
                            None => continue,
                        }
                    }
                    Some(Err(WatchEnd::TooSlow)) => {
                        let e = ApiError::expired(last_rev, last_rev);
                        let _ = tx.send(vec![framer.frame_value("ERROR", expired_event(&ApiError {
                            message: format!("watch of {} ended: the watcher did not keep up ({})", r.plural, e.message),
                            ..e
                        }))]).await;
                        return;
                    }
                    Some(Err(WatchEnd::Closed)) | None => return,
                },
            };
            if tx.send(frame).await.is_err() {
                return;
            }
        }
    });
    stream_response(rx)
}
