//! The two small HTTP servers: `--healthz-bind-address` (`/healthz`, `/livez`) and
//! `--metrics-bind-address` (`/metrics`, and `/healthz` too, as upstream).

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use crate::observe::{Health, Metrics};

#[derive(Clone)]
pub struct Endpoints {
    pub health: Arc<Health>,
    pub metrics: Option<Arc<Metrics>>,
}

impl Endpoints {
    fn answer(&self, path: &str) -> (StatusCode, &'static str, String) {
        match path {
            "/healthz" | "/livez" => {
                let (healthy, since) = self.health.status();
                let code = if healthy {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                };
                let body =
                    format!("{{\"healthy\":{healthy},\"secondsSinceLastUpdate\":{since:.3}}}");
                (code, "application/json", body)
            }
            "/metrics" => match &self.metrics {
                Some(m) => (
                    StatusCode::OK,
                    "text/plain; version=0.0.4; charset=utf-8",
                    m.encode(),
                ),
                None => (
                    StatusCode::NOT_FOUND,
                    "text/plain",
                    "404 page not found\n".into(),
                ),
            },
            _ => (
                StatusCode::NOT_FOUND,
                "text/plain",
                "404 page not found\n".into(),
            ),
        }
    }
}

/// Serves until the process ends; a failed connection only ends that connection.
pub async fn serve(addr: SocketAddr, endpoints: Endpoints) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                continue;
            }
        };
        let endpoints = endpoints.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let (code, content_type, body) = endpoints.answer(req.uri().path());
                let response = Response::builder()
                    .status(code)
                    .header("Content-Type", content_type)
                    .body(Full::new(Bytes::from(body)));
                std::future::ready(response)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
