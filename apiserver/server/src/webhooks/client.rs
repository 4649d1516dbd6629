//! Calling a webhook: HTTPS only, trusting the configuration's `caBundle` (or the
//! system's roots when it has none), a POST of the review with upstream's `?timeout=`
//! query, bounded by the webhook's `timeoutSeconds`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;

/// Upstream reads at most this much of a webhook's answer.
const MAX_RESPONSE_BYTES: usize = 3 * 1024 * 1024;

/// Where a webhook is reached: the address to dial, the name its certificate must
/// carry, and the URL (for messages, as upstream prints it).
#[derive(Debug, Clone)]
pub struct Target {
    pub dial: String,
    pub server_name: String,
    pub path_and_query: String,
    pub url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("{0}")]
    Config(String),
    #[error("Post \"{url}\": {detail}")]
    Transport { url: String, detail: String },
    #[error("Post \"{url}\": context deadline exceeded")]
    Timeout { url: String },
    #[error("received invalid webhook response: {0}")]
    Response(String),
}

/// A target from `clientConfig.url` (`https://host[:port][/path]`).
pub fn url_target(url: &str, timeout: Duration) -> Result<Target, CallError> {
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| CallError::Config(format!("webhook URL {url:?} is not https")))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = split_host_port(authority);
    Ok(Target {
        dial: format!("{}:{port}", bracket(host)),
        server_name: host.trim_matches(['[', ']']).to_string(),
        path_and_query: with_timeout(path, timeout),
        url: with_timeout(url, timeout),
    })
}

fn bracket(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

fn split_host_port(authority: &str) -> (&str, u16) {
    if let Some(end) = authority
        .strip_prefix('[')
        .and_then(|_| authority.find(']'))
    {
        let host = &authority[..=end];
        let port = authority[end + 1..]
            .strip_prefix(':')
            .and_then(|p| p.parse().ok());
        return (host, port.unwrap_or(443));
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() => (h, p.parse().unwrap_or(443)),
        _ => (authority, 443),
    }
}

/// The `timeout` query parameter client-go adds to every request with a deadline.
pub fn with_timeout(path: &str, timeout: Duration) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}timeout={}s", timeout.as_secs())
}

/// At most this many distinct trust configurations are kept; past it the cache starts over.
const MAX_CACHED_CONFIGS: usize = 64;

/// The TLS configuration for a `caBundle` (`None`: the system's roots), built once per
/// distinct bundle and shared by every call: parsing the bundle (or loading the system's
/// roots) is not redone per request, and the shared configuration's session store lets
/// later handshakes with the same webhook resume.
fn shared_tls_config(ca_bundle: Option<&[u8]>) -> Result<Arc<rustls::ClientConfig>, CallError> {
    type Configs = Mutex<HashMap<Option<Vec<u8>>, Arc<rustls::ClientConfig>>>;
    static CONFIGS: OnceLock<Configs> = OnceLock::new();
    let key = ca_bundle.filter(|b| !b.is_empty()).map(<[u8]>::to_vec);
    let configs = CONFIGS.get_or_init(Configs::default);
    if let Some(config) = configs.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(config);
    }
    let config = Arc::new(tls_config(key.as_deref())?);
    if let Ok(mut cached) = configs.lock() {
        if cached.len() >= MAX_CACHED_CONFIGS {
            cached.clear();
        }
        cached.insert(key, config.clone());
    }
    Ok(config)
}

fn tls_config(ca_bundle: Option<&[u8]>) -> Result<rustls::ClientConfig, CallError> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_bundle.filter(|b| !b.is_empty()) {
        Some(pem) => {
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| CallError::Config(format!("caBundle: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| CallError::Config(format!("caBundle: {e}")))?;
            }
        }
        None => {
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| CallError::Config(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// POST `body` to the target and return the answer's JSON.
pub async fn post(
    target: &Target,
    ca_bundle: Option<&[u8]>,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<Value, CallError> {
    match tokio::time::timeout(timeout, exchange(target, ca_bundle, body)).await {
        Ok(result) => result,
        Err(_) => Err(CallError::Timeout {
            url: target.url.clone(),
        }),
    }
}

async fn exchange(
    target: &Target,
    ca_bundle: Option<&[u8]>,
    body: Vec<u8>,
) -> Result<Value, CallError> {
    let transport = |detail: String| CallError::Transport {
        url: target.url.clone(),
        detail,
    };
    let config = shared_tls_config(ca_bundle)?;
    let server_name = ServerName::try_from(target.server_name.clone())
        .map_err(|e| CallError::Config(format!("server name {:?}: {e}", target.server_name)))?;
    let tcp = tokio::net::TcpStream::connect(&target.dial)
        .await
        .map_err(|e| transport(format!("dial tcp {}: {e}", target.dial)))?;
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(server_name, tcp)
        .await
        .map_err(|e| transport(format!("tls: {e}")))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .map_err(|e| transport(e.to_string()))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let req = http::Request::post(&target.path_and_query)
        .header(http::header::HOST, target.server_name.as_str())
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::ACCEPT, "application/json, */*")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| transport(e.to_string()))?;
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| transport(e.to_string()))?;
    let status = resp.status();
    let bytes = Limited::new(resp.into_body(), MAX_RESPONSE_BYTES)
        .collect()
        .await
        .map_err(|e| transport(e.to_string()))?
        .to_bytes();
    if !status.is_success() {
        return Err(transport(format!(
            "the server responded with {status}: {}",
            String::from_utf8_lossy(&bytes).trim()
        )));
    }
    serde_json::from_slice(&bytes).map_err(|e| CallError::Response(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_become_targets_with_upstreams_timeout_query() {
        let t = url_target("https://127.0.0.1:8443/deny", Duration::from_secs(10)).unwrap();
        assert_eq!(t.dial, "127.0.0.1:8443");
        assert_eq!(t.server_name, "127.0.0.1");
        assert_eq!(t.path_and_query, "/deny?timeout=10s");
        assert_eq!(t.url, "https://127.0.0.1:8443/deny?timeout=10s");
        let t = url_target("https://hooks.example.com", Duration::from_secs(5)).unwrap();
        assert_eq!(t.dial, "hooks.example.com:443");
        assert_eq!(t.path_and_query, "/?timeout=5s");
        let t = url_target("https://[::1]:9443/x", Duration::from_secs(1)).unwrap();
        assert_eq!(t.dial, "[::1]:9443");
        assert_eq!(t.server_name, "::1");
        assert!(url_target("http://x/", Duration::from_secs(1)).is_err());
    }

    /// A self-signed CA certificate made by the openssl CLI, as PEM.
    fn self_signed_pem(dir: &std::path::Path, name: &str) -> Vec<u8> {
        let out = dir.join(format!("{name}.pem"));
        let status = std::process::Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ])
            .args(["-nodes", "-days", "1", "-subj", &format!("/CN={name}")])
            .arg("-keyout")
            .arg(dir.join(format!("{name}.key")))
            .arg("-out")
            .arg(&out)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("openssl runs");
        assert!(status.success(), "openssl req -x509 failed");
        std::fs::read(out).unwrap()
    }

    #[test]
    fn one_tls_configuration_is_shared_per_ca_bundle() {
        let dir = tempfile::tempdir().unwrap();
        let ca = self_signed_pem(dir.path(), "hook-ca");
        let other = self_signed_pem(dir.path(), "other-ca");
        let first = shared_tls_config(Some(&ca)).unwrap();
        let again = shared_tls_config(Some(&ca)).unwrap();
        assert!(
            Arc::ptr_eq(&first, &again),
            "the same bundle is parsed once"
        );
        let different = shared_tls_config(Some(&other)).unwrap();
        assert!(
            !Arc::ptr_eq(&first, &different),
            "another bundle trusts others"
        );
        let broken = b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n";
        assert!(shared_tls_config(Some(broken)).is_err());
    }
}
