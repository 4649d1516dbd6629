//! A distribution-API (v2) client for one repository: plain HTTP for loopback and
//! insecure registries, HTTPS through rustls otherwise; answers a 401 by the challenge
//! it carries (Bearer token from the realm, or Basic), follows blob redirects.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, LOCATION, WWW_AUTHENTICATE};
use http::{HeaderValue, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::auth::{Credential, RegistryAuth};
use crate::reference::Reference;
use crate::ImageError;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_REDIRECTS: usize = 5;
/// Token responses and error bodies are small.
const MAX_SMALL_BODY: u64 = 1 << 20;

type HttpClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// Cloned per concurrent download: clones share the connection pool and start from the
/// authorization already obtained.
#[derive(Clone)]
pub(crate) struct RegistryClient {
    http: HttpClient,
    base: String,
    registry: String,
    repository: String,
    credentials: Vec<Credential>,
    authorization: Option<HeaderValue>,
}

impl RegistryClient {
    /// A client for `reference`'s repository. `certs_dir/<host>/*.crt` are extra CAs
    /// trusted for that registry (as Docker's `certs.d`).
    pub fn new(
        reference: &Reference,
        auth: &RegistryAuth,
        insecure_registries: &[String],
        certs_dir: &Path,
    ) -> Result<RegistryClient, ImageError> {
        let host = reference.registry_host().to_string();
        let scheme = if plain_http(&host, insecure_registries) {
            "http"
        } else {
            "https"
        };
        let tls = tls_config(&certs_dir.join(&host))?;
        let mut connector = HttpConnector::new();
        connector.enforce_http(false);
        connector.set_connect_timeout(Some(Duration::from_secs(30)));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        Ok(RegistryClient {
            http: Client::builder(TokioExecutor::new()).build(https),
            base: format!("{scheme}://{host}"),
            registry: reference.registry.clone(),
            repository: reference.repository.clone(),
            credentials: auth
                .credentials_for(&reference.registry, &reference.repository)
                .into_iter()
                .cloned()
                .collect(),
            authorization: None,
        })
    }

    pub fn registry(&self) -> &str {
        &self.registry
    }

    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// `GET /v2/<repository>/<path>`, authenticated as the registry asks, redirects
    /// followed. Any final status is returned; 401 after every credential is an error.
    pub async fn get(
        &mut self,
        path: &str,
        accept: &[&str],
    ) -> Result<Response<Incoming>, ImageError> {
        let url = format!("{}/v2/{}/{path}", self.base, self.repository);
        let response = self.get_following_redirects(&url, accept).await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let challenge = response
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .map(Challenge::parse)
            .ok_or_else(|| self.registry_error("401 without a WWW-Authenticate challenge"))?;
        // Each credential in turn, then none at all (public repositories on a registry
        // that still wants a token).
        let mut attempts: Vec<Option<Credential>> =
            self.credentials.iter().cloned().map(Some).collect();
        attempts.push(None);
        let mut status = StatusCode::UNAUTHORIZED;
        for credential in attempts {
            let Some(authorization) = self
                .authorization_for(&challenge, credential.as_ref())
                .await?
            else {
                continue;
            };
            self.authorization = Some(authorization);
            let response = self.get_following_redirects(&url, accept).await?;
            match response.status() {
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => status = response.status(),
                _ => return Ok(response),
            }
        }
        self.authorization = None;
        Err(ImageError::Unauthorized {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            status: status.as_u16(),
        })
    }

    async fn get_following_redirects(
        &self,
        url: &str,
        accept: &[&str],
    ) -> Result<Response<Incoming>, ImageError> {
        let mut uri: Uri = url
            .parse()
            .map_err(|e| self.registry_error(format!("bad URL {url}: {e}")))?;
        let registry_authority = uri.authority().cloned();
        for _ in 0..=MAX_REDIRECTS {
            // Credentials go only to the registry itself, never to a redirect target
            // elsewhere (blob storage with its own signed URLs).
            let authorization = if uri.authority() == registry_authority.as_ref() {
                self.authorization.clone()
            } else {
                None
            };
            let response = self.send(&uri, accept, authorization).await?;
            if !response.status().is_redirection() {
                return Ok(response);
            }
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|l| l.to_str().ok())
                .ok_or_else(|| self.registry_error("redirect without a Location"))?;
            uri = resolve(&uri, location)
                .map_err(|e| self.registry_error(format!("bad redirect {location}: {e}")))?;
        }
        Err(self.registry_error(format!("more than {MAX_REDIRECTS} redirects for {url}")))
    }

    async fn send(
        &self,
        uri: &Uri,
        accept: &[&str],
        authorization: Option<HeaderValue>,
    ) -> Result<Response<Incoming>, ImageError> {
        let mut request = Request::get(uri.clone());
        if !accept.is_empty() {
            request = request.header(ACCEPT, accept.join(", "));
        }
        if let Some(value) = authorization {
            request = request.header(AUTHORIZATION, value);
        }
        let request = request
            .body(Empty::new())
            .map_err(|e| self.registry_error(format!("request {uri}: {e}")))?;
        match tokio::time::timeout(REQUEST_TIMEOUT, self.http.request(request)).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => Err(self.registry_error(format!("GET {uri}: {}", error_chain(&e)))),
            Err(_) => {
                Err(self.registry_error(format!("GET {uri}: no answer in {REQUEST_TIMEOUT:?}")))
            }
        }
    }

    /// The Authorization header answering `challenge` with `credential` (None: anonymous;
    /// `Ok(None)` when this pair cannot answer it, e.g. Basic without a password).
    async fn authorization_for(
        &self,
        challenge: &Challenge,
        credential: Option<&Credential>,
    ) -> Result<Option<HeaderValue>, ImageError> {
        match (challenge.scheme.as_str(), credential) {
            (_, Some(Credential::Bearer(token))) => Ok(header(&format!("Bearer {token}"))),
            ("basic", Some(Credential::Basic { username, password })) => {
                Ok(header(&basic(username, password)))
            }
            ("bearer", credential) => self.fetch_token(challenge, credential).await,
            _ => Ok(None),
        }
    }

    /// The token flow of the distribution spec: GET the realm with service and scope,
    /// Basic-authenticated when there are credentials.
    async fn fetch_token(
        &self,
        challenge: &Challenge,
        credential: Option<&Credential>,
    ) -> Result<Option<HeaderValue>, ImageError> {
        let realm = challenge
            .param("realm")
            .ok_or_else(|| self.registry_error("Bearer challenge without a realm"))?;
        let mut query = Vec::new();
        if let Some(service) = challenge.param("service") {
            query.push(format!("service={}", encode(service)));
        }
        let scope = challenge
            .param("scope")
            .map(str::to_string)
            .unwrap_or_else(|| format!("repository:{}:pull", self.repository));
        query.push(format!("scope={}", encode(&scope)));
        let separator = if realm.contains('?') { '&' } else { '?' };
        let url = format!("{realm}{separator}{}", query.join("&"));
        let uri: Uri = url
            .parse()
            .map_err(|e| self.registry_error(format!("bad token realm {realm}: {e}")))?;
        let authorization = match credential {
            Some(Credential::Basic { username, password }) => header(&basic(username, password)),
            _ => None,
        };
        let response = self
            .send(&uri, &["application/json"], authorization)
            .await?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Ok(None);
        }
        let body = read_small(response, MAX_SMALL_BODY)
            .await
            .map_err(|e| self.registry_error(format!("token from {realm}: {e}")))?;
        if !status.is_success() {
            return Err(self.registry_error(format!("token from {realm}: HTTP {status}")));
        }
        #[derive(serde::Deserialize)]
        struct TokenResponse {
            token: Option<String>,
            access_token: Option<String>,
        }
        let parsed: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| self.registry_error(format!("token from {realm}: {e}")))?;
        let token = parsed.token.or(parsed.access_token).ok_or_else(|| {
            self.registry_error(format!("token response from {realm} has no token"))
        })?;
        Ok(header(&format!("Bearer {token}")))
    }

    pub fn registry_error(&self, reason: impl Into<String>) -> ImageError {
        ImageError::Registry {
            registry: self.registry.clone(),
            reason: reason.into(),
        }
    }
}

/// The whole body, refused when longer than `limit`.
pub(crate) async fn read_small(response: Response<Incoming>, limit: u64) -> Result<Bytes, String> {
    let mut body = response.into_body();
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| error_chain(&e))?;
        if let Ok(data) = frame.into_data() {
            out.extend_from_slice(&data);
            if out.len() as u64 > limit {
                return Err(format!("body larger than {limit} bytes"));
            }
        }
    }
    Ok(Bytes::from(out))
}

/// A parsed `WWW-Authenticate` header: `Bearer realm="…",service="…",scope="…"`.
struct Challenge {
    scheme: String,
    params: Vec<(String, String)>,
}

impl Challenge {
    fn parse(header: &str) -> Challenge {
        let header = header.trim();
        let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
        let mut params = Vec::new();
        let mut chars = rest.chars().peekable();
        loop {
            while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
                chars.next();
            }
            let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
            if key.is_empty() {
                break;
            }
            let mut value = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => value.extend(chars.next()),
                        '"' => break,
                        c => value.push(c),
                    }
                }
            } else {
                value = chars.by_ref().take_while(|c| *c != ',').collect();
            }
            params.push((key.trim().to_ascii_lowercase(), value));
        }
        Challenge {
            scheme: scheme.to_ascii_lowercase(),
            params,
        }
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn basic(username: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
    )
}

fn header(value: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(value).ok()
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn resolve(base: &Uri, location: &str) -> Result<Uri, http::Error> {
    if location.starts_with("http://") || location.starts_with("https://") {
        return Ok(location.parse::<Uri>()?);
    }
    let mut parts = base.clone().into_parts();
    parts.path_and_query = Some(location.parse()?);
    Ok(Uri::from_parts(parts)?)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

/// Plain HTTP, like Docker: registries on loopback, and those listed as insecure (by
/// `host:port`, by host for any port, or by CIDR for IP hosts).
pub(crate) fn plain_http(host: &str, insecure_registries: &[String]) -> bool {
    let name = host_name(host);
    let ip = name
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok();
    if name == "localhost" || ip.is_some_and(|ip| ip.is_loopback()) {
        return true;
    }
    insecure_registries.iter().any(|entry| {
        let entry = entry.trim();
        if entry == host || entry == name {
            return true;
        }
        match (entry.split_once('/'), ip) {
            (Some((net, bits)), Some(ip)) => in_cidr(ip, net, bits),
            _ => false,
        }
    })
}

fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split_once(']')
            .map_or(host, |(n, _)| &host[..n.len() + 1]);
    }
    host.split_once(':').map_or(host, |(n, _)| n)
}

fn in_cidr(ip: IpAddr, net: &str, bits: &str) -> bool {
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if bits <= 32 => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if bits <= 128 => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// The machine's roots plus `<certs.d>/<host>/*.crt`; aws-lc-rs as everywhere in rkube.
fn tls_config(extra_ca_dir: &Path) -> Result<rustls::ClientConfig, ImageError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Ok(entries) = std::fs::read_dir(extra_ca_dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "crt") {
                for cert in CertificateDer::pem_file_iter(&path)
                    .map_err(|e| ImageError::malformed(path.display().to_string(), e))?
                {
                    let cert =
                        cert.map_err(|e| ImageError::malformed(path.display().to_string(), e))?;
                    roots
                        .add(cert)
                        .map_err(|e| ImageError::malformed(path.display().to_string(), e))?;
                }
            }
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ImageError::malformed("TLS configuration", e))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_challenges() {
        let c = Challenge::parse(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#,
        );
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.param("realm"), Some("https://auth.docker.io/token"));
        assert_eq!(c.param("service"), Some("registry.docker.io"));
        assert_eq!(c.param("scope"), Some("repository:library/busybox:pull"));
        let b = Challenge::parse(r#"Basic realm="basic-realm""#);
        assert_eq!(
            (b.scheme.as_str(), b.param("realm")),
            ("basic", Some("basic-realm"))
        );
    }

    #[test]
    fn plain_http_for_loopback_and_listed_registries() {
        let insecure = vec![
            "10.0.0.5:5000".to_string(),
            "reg.local".to_string(),
            "192.168.0.0/16".to_string(),
        ];
        assert!(plain_http("localhost:5000", &[]));
        assert!(plain_http("127.0.0.1:5000", &[]));
        assert!(plain_http("[::1]:5000", &[]));
        assert!(plain_http("10.0.0.5:5000", &insecure));
        assert!(!plain_http("10.0.0.5:5001", &insecure));
        assert!(plain_http("reg.local:443", &insecure));
        assert!(plain_http("192.168.3.4:5000", &insecure));
        assert!(!plain_http("registry-1.docker.io", &insecure));
    }
}
