//! Raw HTTP against the cluster under test, over kube-rs' transport (kubeconfig, TLS,
//! auth). The harness sees every status code, header and byte: it judges the answers,
//! so it must not let a typed client interpret them first.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context as _};
use bytes::Bytes;
use http::{HeaderMap, Method, Request};
use http_body_util::BodyExt;
use kube::client::Body;
use serde_json::Value;

/// How long one ordinary request may take before the test fails.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub const USER_AGENT: &str = concat!("rkube-conformance/", env!("CARGO_PKG_VERSION"));

pub const JSON: &str = "application/json";
pub const MERGE_PATCH: &str = "application/merge-patch+json";
pub const JSON_PATCH: &str = "application/json-patch+json";
pub const STRATEGIC_PATCH: &str = "application/strategic-merge-patch+json";
pub const APPLY_PATCH: &str = "application/apply-patch+yaml";

/// The cluster under test.
#[derive(Clone)]
pub struct Api {
    client: kube::Client,
    /// Where requests go, for messages and reports.
    pub server: String,
    /// The kubeconfig used, for clients the harness runs (the Python client).
    pub kubeconfig: Option<std::path::PathBuf>,
}

/// One answer: status, headers, body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub method: Method,
    pub path: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; a body that is not JSON is an error naming the request.
    pub fn json(&self) -> anyhow::Result<Value> {
        serde_json::from_slice(&self.body).with_context(|| {
            format!(
                "{} {} answered {} with a body that is not JSON: {}",
                self.method,
                self.path,
                self.status,
                excerpt(&self.text())
            )
        })
    }

    /// The JSON body if the status is `code`, else an error showing what came instead.
    pub fn expect(&self, code: u16) -> anyhow::Result<Value> {
        if self.status != code {
            bail!(
                "{} {}: expected HTTP {code}, got {}: {}",
                self.method,
                self.path,
                self.status,
                excerpt(&self.text())
            );
        }
        self.json()
    }

    /// A `metav1.Status` failure with this HTTP code and reason; returns the Status.
    pub fn expect_failure(&self, code: u16, reason: &str) -> anyhow::Result<Value> {
        if self.status != code {
            bail!(
                "{} {}: expected HTTP {code} ({reason}), got {}: {}",
                self.method,
                self.path,
                self.status,
                excerpt(&self.text())
            );
        }
        let status = self.json()?;
        let shape = (
            status["kind"].as_str(),
            status["status"].as_str(),
            status["reason"].as_str(),
            status["code"].as_u64(),
        );
        if shape
            != (
                Some("Status"),
                Some("Failure"),
                Some(reason),
                Some(u64::from(code)),
            )
        {
            bail!(
                "{} {}: expected a Status with reason {reason} and code {code}, got {status}",
                self.method,
                self.path
            );
        }
        Ok(status)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The first 2000 characters of a body, enough to read an error.
pub fn excerpt(s: &str) -> String {
    if s.chars().count() <= 2000 {
        s.to_string()
    } else {
        let head: String = s.chars().take(2000).collect();
        format!("{head}…")
    }
}

impl Api {
    /// Connect through `--server` (no credentials) or a kubeconfig; with neither, the
    /// usual inference (KUBECONFIG, ~/.kube/config, in-cluster).
    pub async fn connect(server: Option<&str>, kubeconfig: Option<&Path>) -> anyhow::Result<Api> {
        let server_flag_given = server.is_some();
        let mut config = if let Some(url) = server {
            kube::Config::new(url.parse().with_context(|| format!("--server {url}"))?)
        } else if let Some(path) = kubeconfig {
            let kc = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("reading {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .with_context(|| format!("using {}", path.display()))?
        } else {
            kube::Config::infer()
                .await
                .context("no --server or --kubeconfig, and no kubeconfig found")?
        };
        config.headers.push((
            http::header::USER_AGENT,
            http::HeaderValue::from_static(USER_AGENT),
        ));
        let server = config.cluster_url.to_string();
        let client = kube::Client::try_from(config).context("building the HTTP client")?;
        Ok(Api {
            client,
            server: server.trim_end_matches('/').to_string(),
            kubeconfig: if server_flag_given {
                None
            } else {
                kubeconfig.map(Path::to_path_buf)
            },
        })
    }

    /// The kube-rs client itself, for the suite that exercises kube-rs' typed API.
    pub fn kube_client(&self) -> kube::Client {
        self.client.clone()
    }

    pub fn req(&self, method: Method, path: impl Into<String>) -> Call<'_> {
        Call {
            api: self,
            method,
            path: path.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn get(&self, path: impl Into<String>) -> Call<'_> {
        self.req(Method::GET, path)
    }

    pub fn post(&self, path: impl Into<String>, body: &Value) -> Call<'_> {
        self.req(Method::POST, path).json(body)
    }

    pub fn put(&self, path: impl Into<String>, body: &Value) -> Call<'_> {
        self.req(Method::PUT, path).json(body)
    }

    pub fn patch(&self, path: impl Into<String>, content_type: &str, body: &Value) -> Call<'_> {
        self.req(Method::PATCH, path)
            .body(content_type, serde_json::to_vec(body).unwrap_or_default())
    }

    pub fn delete(&self, path: impl Into<String>) -> Call<'_> {
        self.req(Method::DELETE, path)
    }

    /// GET that must answer 200 with JSON.
    pub async fn get_json(&self, path: &str) -> anyhow::Result<Value> {
        self.get(path).send().await?.expect(200)
    }

    /// Open a watch; `path` carries its own query (`?watch=true&...`).
    pub async fn watch(&self, path: &str) -> anyhow::Result<WatchStream> {
        let request = Request::builder()
            .method(Method::GET)
            .uri(path)
            .header(http::header::ACCEPT, JSON)
            .body(Body::empty())?;
        let response = tokio::time::timeout(REQUEST_TIMEOUT, self.client.send(request))
            .await
            .with_context(|| format!("GET {path}: no answer in {REQUEST_TIMEOUT:?}"))?
            .with_context(|| format!("GET {path}"))?;
        let status = response.status().as_u16();
        if status != 200 {
            let body = response.into_body().collect().await?.to_bytes();
            bail!(
                "GET {path}: expected HTTP 200 for a watch, got {status}: {}",
                excerpt(&String::from_utf8_lossy(&body))
            );
        }
        Ok(WatchStream {
            path: path.to_string(),
            body: response.into_body(),
            buffer: Vec::new(),
            ended: false,
        })
    }
}

/// A request being built.
pub struct Call<'a> {
    api: &'a Api,
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<(String, Vec<u8>)>,
}

impl Call<'_> {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn accept(self, value: &str) -> Self {
        self.header("accept", value)
    }

    pub fn json(self, body: &Value) -> Self {
        self.body(JSON, serde_json::to_vec(body).unwrap_or_default())
    }

    pub fn body(mut self, content_type: &str, bytes: Vec<u8>) -> Self {
        self.body = Some((content_type.to_string(), bytes));
        self
    }

    pub async fn send(self) -> anyhow::Result<Reply> {
        let mut builder = Request::builder()
            .method(self.method.clone())
            .uri(&self.path);
        if !self.headers.iter().any(|(k, _)| k == "accept") {
            builder = builder.header(http::header::ACCEPT, JSON);
        }
        for (k, v) in &self.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let body = match self.body {
            Some((content_type, bytes)) => {
                builder = builder.header(http::header::CONTENT_TYPE, content_type);
                Body::from(bytes)
            }
            None => Body::empty(),
        };
        let request = builder
            .body(body)
            .with_context(|| format!("building {} {}", self.method, self.path))?;
        let exchange = async {
            let response = self.api.client.send(request).await?;
            let (parts, body) = response.into_parts();
            let bytes = body.collect().await?.to_bytes();
            Ok::<_, anyhow::Error>((parts, bytes))
        };
        let (parts, bytes) = tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .with_context(|| {
                format!(
                    "{} {}: no answer in {REQUEST_TIMEOUT:?}",
                    self.method, self.path
                )
            })?
            .with_context(|| format!("{} {}", self.method, self.path))?;
        Ok(Reply {
            method: self.method,
            path: self.path,
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: bytes,
        })
    }
}

/// A watch response, read one JSON event per line.
pub struct WatchStream {
    path: String,
    body: Body,
    buffer: Vec<u8>,
    ended: bool,
}

impl WatchStream {
    /// The next event, or `None` when the server ended the stream. An event that does not
    /// arrive within `wait` is an error.
    pub async fn next(&mut self, wait: Duration) -> anyhow::Result<Option<Value>> {
        match tokio::time::timeout(wait, self.next_event()).await {
            Ok(r) => r,
            Err(_) => bail!("watch {}: no event within {wait:?}", self.path),
        }
    }

    /// Like `next`, but silence for `wait` is `Ok(None)`: for asserting nothing arrives.
    pub async fn next_within(&mut self, wait: Duration) -> anyhow::Result<Option<Value>> {
        match tokio::time::timeout(wait, self.next_event()).await {
            Ok(r) => r,
            Err(_) => Ok(None),
        }
    }

    async fn next_event(&mut self) -> anyhow::Result<Option<Value>> {
        loop {
            if let Some(pos) = self.buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=pos).collect();
                let line = &line[..line.len() - 1];
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let event: Value = serde_json::from_slice(line).with_context(|| {
                    format!(
                        "watch {}: an event that is not JSON: {}",
                        self.path,
                        String::from_utf8_lossy(line)
                    )
                })?;
                return Ok(Some(event));
            }
            if self.ended {
                if self.buffer.iter().all(u8::is_ascii_whitespace) {
                    return Ok(None);
                }
                // A last event without a trailing newline.
                let rest = std::mem::take(&mut self.buffer);
                return Ok(Some(serde_json::from_slice(&rest)?));
            }
            match self.body.frame().await {
                Some(frame) => {
                    let frame = frame.map_err(|e| anyhow::anyhow!("watch {}: {e}", self.path))?;
                    if let Ok(data) = frame.into_data() {
                        self.buffer.extend_from_slice(&data);
                    }
                }
                None => self.ended = true,
            }
        }
    }
}
