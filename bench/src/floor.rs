//! Floors: the least any HTTP server on this machine can do for the CREATE and WATCH
//! loads, measured in the same run as the apiserver so that a missed goal can be told
//! apart from one no server could meet here.
//!
//! Both servers use the apiserver's HTTP stack (hyper 1 with hyper-util's auto
//! HTTP/1+2 connection builder, `TCP_NODELAY`) on a runtime of their own with as many
//! worker threads as the apiserver has, and none of its Kubernetes logic:
//!
//! - **create floor**: `POST` reads the body, parses it as JSON (the object's name), and
//!   puts the pod as stored (the same bytes the apiserver stores) into an
//!   [`EmbeddedStore`] with its default, durable options; `201` with the stored bytes.
//! - **fan-out floor**: `POST` parses the body, frames the stored pod as one
//!   `{"type":"ADDED","object":...}` line once and hands it to every watcher through a
//!   broadcast channel; each `GET ?watch=true` streams the lines queued for it as one
//!   chunk. Nothing is stored.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use bytes::{Bytes, BytesMut};
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rkube_storage::{EmbeddedStore, Storage as _};
use tokio::sync::broadcast;

use crate::objects::Template;

type Body = BoxBody<Bytes, Infallible>;

/// What a floor server does with a request.
trait Handler: Send + Sync + 'static {
    fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
    ) -> impl std::future::Future<Output = Response<Body>> + Send;
}

/// A floor server on its own runtime; stopped when dropped.
pub struct FloorServer {
    pub addr: SocketAddr,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for FloorServer {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

fn full(status: StatusCode, body: Bytes) -> Response<Body> {
    let mut resp = Response::new(Full::new(body).boxed());
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp
}

/// The request body and the object's `metadata.name` from parsing it.
async fn read_named(req: Request<Incoming>) -> Result<String, Response<Body>> {
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Err(full(StatusCode::BAD_REQUEST, Bytes::new())),
    };
    let obj: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| full(StatusCode::BAD_REQUEST, Bytes::new()))?;
    obj.pointer("/metadata/name")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| full(StatusCode::UNPROCESSABLE_ENTITY, Bytes::new()))
}

fn start<H: Handler>(handler: H) -> anyhow::Result<FloorServer> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(std::thread::available_parallelism().map_or(2, |n| n.get()))
        .thread_name("bench-floor")
        .enable_all()
        .build()
        .context("starting the floor server's runtime")?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let handler = Arc::new(handler);
    runtime.spawn(async move {
        let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
            return;
        };
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let h = handler.clone();
                    async move { Ok::<_, Infallible>(h.handle(req).await) }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(FloorServer {
        addr,
        runtime: Some(runtime),
    })
}

struct CreateFloor {
    store: EmbeddedStore,
    stored: Template,
}

impl Handler for CreateFloor {
    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<Body> {
        let path = req.uri().path().to_owned();
        let name = match read_named(req).await {
            Ok(n) => n,
            Err(resp) => return resp,
        };
        let value = Bytes::from(self.stored.render(&name));
        let key = format!("/registry{}/{name}", path.trim_start_matches("/api/v1"));
        match self.store.create(&key, Box::new(move |_| value)).await {
            Ok(kv) => full(StatusCode::CREATED, kv.value),
            Err(_) => full(StatusCode::CONFLICT, Bytes::new()),
        }
    }
}

/// The create floor: `POST` of a pod (any path) → parse → durable put of `stored` (with
/// the posted name) → `201`.
pub fn create_server(store: EmbeddedStore, stored: Template) -> anyhow::Result<FloorServer> {
    start(CreateFloor { store, stored })
}

struct FanOutFloor {
    events: broadcast::Sender<Bytes>,
    stored: Template,
}

/// Events written in one chunk at most (as the apiserver's watch does).
const BATCH_BYTES: usize = 64 * 1024;

impl Handler for FanOutFloor {
    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<Body> {
        let watch = req.uri().query().is_some_and(|q| q.contains("watch=true"));
        if req.method() == hyper::Method::POST {
            let name = match read_named(req).await {
                Ok(n) => n,
                Err(resp) => return resp,
            };
            let object = self.stored.render(&name);
            let mut line = Vec::with_capacity(object.len() + 32);
            line.extend_from_slice(b"{\"type\":\"ADDED\",\"object\":");
            line.extend_from_slice(&object);
            line.extend_from_slice(b"}\n");
            let _ = self.events.send(Bytes::from(line));
            return full(StatusCode::CREATED, Bytes::from(object));
        }
        if !watch {
            return full(
                StatusCode::OK,
                Bytes::from_static(br#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[]}"#),
            );
        }
        let rx = self.events.subscribe();
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            let first = rx.recv().await.ok()?;
            let mut batch = BytesMut::with_capacity(first.len());
            batch.extend_from_slice(&first);
            while batch.len() < BATCH_BYTES {
                match rx.try_recv() {
                    Ok(line) => batch.extend_from_slice(&line),
                    Err(broadcast::error::TryRecvError::Empty) => break,
                    // Lagged or closed: end the stream; the watcher sees it incomplete.
                    Err(_) => return None,
                }
            }
            Some((Ok(hyper::body::Frame::data(batch.freeze())), rx))
        });
        let mut resp = Response::new(BodyExt::boxed(StreamBody::new(stream)));
        resp.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        resp
    }
}

/// The fan-out floor: `POST` → one pre-encoded event line for every watcher; `GET
/// ?watch=true` → the stream of those lines; any other `GET` → an empty list at
/// resourceVersion 1.
pub fn fan_out_server(stored: Template) -> anyhow::Result<FloorServer> {
    let (events, _) = broadcast::channel(4096);
    start(FanOutFloor { events, stored })
}

/// `stored` (an object as the apiserver answered its create, named `name`) with its name
/// made the template's blank.
pub fn stored_template(stored: &[u8], name: &str) -> anyhow::Result<Template> {
    let text = std::str::from_utf8(stored).context("the stored object is not UTF-8")?;
    let needle = format!("\"name\":\"{name}\"");
    let at = text
        .find(&needle)
        .context("the stored object does not carry its name")?;
    let templated = format!(
        "{}\"name\":\"__NAME__\"{}",
        &text[..at],
        &text[at + needle.len()..]
    );
    Ok(Template::new(&templated))
}
