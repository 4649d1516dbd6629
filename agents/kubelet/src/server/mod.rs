//! The kubelet server on `--port` and the read-only port. Both serve `/healthz`, `/pods`
//! (from the local cache), `/spec/`, `/stats/summary`, `/metrics` and
//! `/metrics/cadvisor`; `--port` with debugging handlers also serves `/runningpods/`,
//! `/containerLogs/{ns}/{pod}/{container}`, `/logs/` and `POST /run/…`, as upstream
//! splits them. No
//! authentication yet: it binds the node's address only (`--address`, default `--node-ip`).

mod container_logs;
mod cpu_rate;
mod exposition;
mod host;
mod machine_spec;
mod metrics;
mod node_logs;
mod run;
mod running;
mod summary;

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::reflector::Store;

use crate::runtime::Runtime;

type Body = BoxBody<Bytes, Infallible>;

#[derive(Clone)]
pub struct KubeletServer {
    pub node_name: String,
    pub pods: Store<Pod>,
    pub rt: Arc<Runtime>,
    /// `--port` with `--enable-debugging-handlers`: containerLogs, runningpods, logs.
    pub debugging_handlers: bool,
    /// The read-only port (upstream's server_type label "readonly").
    pub read_only: bool,
    /// What `/logs/` serves (the node's /var/log).
    pub node_logs_dir: PathBuf,
    /// Earlier CPU readings, for the usageNanoCores rates (shared by both ports).
    pub cpu_rates: Arc<cpu_rate::CpuRates>,
}

impl KubeletServer {
    pub fn cpu_rates() -> Arc<cpu_rate::CpuRates> {
        Arc::default()
    }
}

/// Serves forever on `listener`.
pub async fn serve(
    server: KubeletServer,
    listener: tokio::net::TcpListener,
) -> std::io::Result<()> {
    tracing::info!(addr = %listener.local_addr()?, "kubelet server listening");
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!("accepting a connection: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let server = server.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let server = server.clone();
                async move { Ok::<_, Infallible>(server.handle(req).await) }
            });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn respond(code: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()).boxed());
    *r.status_mut() = code;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    r
}

fn text(code: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    respond(code, "text/plain; charset=utf-8", body)
}

fn json(value: &serde_json::Value) -> Response<Body> {
    respond(StatusCode::OK, "application/json", value.to_string())
}

/// A 200 text/plain response whose body is the chunks `rx` receives, until its sender goes.
fn streamed_text(rx: tokio::sync::mpsc::Receiver<Bytes>) -> Response<Body> {
    let frames = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, Infallible>(hyper::body::Frame::data(b)), rx))
    });
    let mut r = Response::new(BodyExt::boxed(http_body_util::StreamBody::new(frames)));
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn not_found() -> Response<Body> {
    text(StatusCode::NOT_FOUND, "404 page not found\n")
}

impl KubeletServer {
    async fn handle(&self, req: Request<Incoming>) -> Response<Body> {
        let path = req.uri().path().to_string();
        let method = req.method().clone();
        let response = self.route(&req, &path).await;
        metrics::count_request(&self.rt.metrics, &method, &path, self.read_only);
        if method == http::Method::HEAD {
            let (parts, _) = response.into_parts();
            return Response::from_parts(parts, Full::new(Bytes::new()).boxed());
        }
        response
    }

    async fn route(&self, req: &Request<Incoming>, path: &str) -> Response<Body> {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let debug = self.debugging_handlers;
        if req.method() == http::Method::POST && debug {
            return match segments[..] {
                ["run", ns, pod, container] | ["run", ns, pod, _, container] => {
                    self.run_in_container(ns, pod, container, req.uri().query())
                        .await
                }
                _ => not_found(),
            };
        }
        if req.method() != http::Method::GET && req.method() != http::Method::HEAD {
            return text(StatusCode::METHOD_NOT_ALLOWED, "405 method not allowed\n");
        }
        match segments[..] {
            ["healthz"] => text(StatusCode::OK, "ok"),
            ["pods"] => self.pods_list(),
            ["spec"] => json(&machine_spec::machine_info(&self.rt)),
            ["stats", "summary"] => json(&summary::summary(self).await),
            ["metrics"] => metrics::kubelet(self).await,
            ["metrics", "cadvisor"] => metrics::cadvisor(self).await,
            ["runningpods"] if debug => json(&running::pod_list(&running::running_pods(
                &self.pods,
                &self.rt.cgroups,
            ))),
            ["containerLogs", ns, pod, container] if debug => {
                self.container_logs(ns, pod, container, req.uri().query())
                    .await
            }
            ["logs", ..] if debug => {
                node_logs::serve(&self.node_logs_dir, path.trim_start_matches("/logs")).await
            }
            _ => not_found(),
        }
    }

    fn pods_list(&self) -> Response<Body> {
        let state = self.pods.state();
        let items: Vec<&Pod> = state.iter().map(|p| p.as_ref()).collect();
        json(
            &serde_json::json!({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items}),
        )
    }
}
