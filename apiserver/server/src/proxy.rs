//! The proxy subresources: `nodes/{name}/proxy/{path}` to the node's kubelet,
//! `pods/{name}/proxy/{path}` to the pod's IP, `services/{name}/proxy/{path}` to one of
//! the service's ready endpoints; each name may be `name`, `name:port` or
//! `scheme:name:port`, as upstream's ResourceLocation reads them. Every connect verb is
//! forwarded with its headers and body; the answer streams back as it comes.

use std::convert::Infallible;
use std::net::IpAddr;

use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderMap, Method, Request, Response};
use http_body_util::{BodyExt, BodyStream, Full, StreamBody};
use hyper::body::Frame;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rand::Rng;
use rkube_api::status::ApiError;
use rkube_api::Resource;
use serde_json::Value;

use crate::registry::Registry;
use crate::respond::Body;
use crate::router::ResourceRequest;

/// `scheme:name:port`, `name:port` or `name` (upstream's SplitSchemeNamePort).
#[derive(Debug, PartialEq, Eq)]
pub struct SchemeNamePort<'a> {
    pub scheme: &'a str,
    pub name: &'a str,
    pub port: &'a str,
}

pub fn split_scheme_name_port(id: &str) -> Option<SchemeNamePort<'_>> {
    let parts: Vec<&str> = id.split(':').collect();
    let (scheme, name, port) = match parts[..] {
        [name] => ("", name, ""),
        [name, port] => ("", name, port),
        [scheme, name, port] => (scheme, name, port),
        _ => return None,
    };
    if name.is_empty() || !matches!(scheme, "" | "http" | "https") {
        return None;
    }
    Some(SchemeNamePort { scheme, name, port })
}

/// Upstream refuses to proxy to addresses that would reach the apiserver's own host.
fn proxyable(ip: &str) -> Result<IpAddr, ApiError> {
    let parsed: IpAddr = ip
        .parse()
        .map_err(|_| ApiError::bad_request(format!("address {ip:?} is not an IP")))?;
    let refused = match parsed {
        IpAddr::V4(v4) => {
            v4.is_loopback() || v4.is_link_local() || v4.is_unspecified() || v4.is_multicast()
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    };
    if refused {
        return Err(ApiError::bad_request(format!("address not allowed: {ip}")));
    }
    Ok(parsed)
}

fn host_port(ip: &str, port: &str) -> String {
    let host = if ip.contains(':') {
        format!("[{ip}]")
    } else {
        ip.to_string()
    };
    if port.is_empty() {
        host
    } else {
        format!("{host}:{port}")
    }
}

async fn get(
    registry: &Registry,
    plural: &str,
    namespace: Option<&str>,
    name: &str,
) -> Result<Value, ApiError> {
    let r = rkube_api::resources::find("", "v1", plural)
        .ok_or_else(|| ApiError::internal(format!("{plural} are not served")))?;
    registry.get_value(r, namespace, name).await.map(|(v, _)| v)
}

/// Where a node's kubelet listens: InternalIP (else any address) and its port.
pub fn kubelet_address(node: &Value) -> Option<(String, u64)> {
    let addresses = node["status"]["addresses"].as_array()?;
    let ip = addresses
        .iter()
        .find(|a| a["type"] == "InternalIP")
        .or_else(|| addresses.first())?["address"]
        .as_str()?
        .to_string();
    let port = node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"].as_u64()?;
    Some((ip, port))
}

/// `scheme://host:port` of the node's kubelet (the kubelet serves plain HTTP here).
async fn node_location(registry: &Registry, id: &str) -> Result<String, ApiError> {
    let snp = split_scheme_name_port(id)
        .ok_or_else(|| ApiError::bad_request(format!("invalid node request {id:?}")))?;
    let node = get(registry, "nodes", None, snp.name).await?;
    let (ip, kubelet_port) = kubelet_address(&node).ok_or_else(|| {
        ApiError::service_unavailable(format!(
            "node {:?} has no address for its kubelet",
            snp.name
        ))
    })?;
    let port = if snp.port.is_empty() {
        kubelet_port.to_string()
    } else {
        snp.port.to_string()
    };
    let scheme = if snp.scheme.is_empty() {
        "http"
    } else {
        snp.scheme
    };
    Ok(format!("{scheme}://{}", host_port(&ip, &port)))
}

/// The pod's IP and the port asked for, else its first declared container port.
async fn pod_location(
    registry: &Registry,
    namespace: Option<&str>,
    id: &str,
) -> Result<String, ApiError> {
    let snp = split_scheme_name_port(id)
        .ok_or_else(|| ApiError::bad_request(format!("invalid pod request {id:?}")))?;
    let pod = get(registry, "pods", namespace, snp.name).await?;
    let port = if snp.port.is_empty() {
        pod["spec"]["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|c| c["ports"][0]["containerPort"].as_u64())
            .map(|p| p.to_string())
            .unwrap_or_default()
    } else {
        snp.port.to_string()
    };
    let ip = pod["status"]["podIP"].as_str().unwrap_or("");
    if ip.is_empty() {
        return Err(ApiError::service_unavailable(format!(
            "pod {:?} has no IP yet",
            snp.name
        )));
    }
    proxyable(ip)?;
    let scheme = if snp.scheme.is_empty() {
        "http"
    } else {
        snp.scheme
    };
    Ok(format!("{scheme}://{}", host_port(ip, &port)))
}

/// A ready endpoint of the service port asked for (by name, or by service port number),
/// chosen at random as upstream does.
async fn service_location(
    registry: &Registry,
    namespace: Option<&str>,
    id: &str,
) -> Result<String, ApiError> {
    let snp = split_scheme_name_port(id)
        .ok_or_else(|| ApiError::bad_request(format!("invalid service request {id:?}")))?;
    let svc = get(registry, "services", namespace, snp.name).await?;
    let mut port_name = snp.port.to_string();
    if let Ok(number) = snp.port.parse::<u64>() {
        port_name = svc["spec"]["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["port"].as_u64() == Some(number))
            .map(|p| p["name"].as_str().unwrap_or("").to_string())
            .ok_or_else(|| {
                ApiError::service_unavailable(format!(
                    "no service port {number} found for service {:?}",
                    snp.name
                ))
            })?;
    }
    let none =
        || ApiError::service_unavailable(format!("no endpoints available for service {id:?}"));
    let endpoints = get(registry, "endpoints", namespace, snp.name)
        .await
        .map_err(|_| none())?;
    let mut candidates = Vec::new();
    for subset in endpoints["subsets"].as_array().into_iter().flatten() {
        let Some(port) = subset["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"].as_str().unwrap_or("") == port_name)
            .and_then(|p| p["port"].as_u64())
        else {
            continue;
        };
        for address in subset["addresses"].as_array().into_iter().flatten() {
            if let Some(ip) = address["ip"].as_str() {
                candidates.push((ip.to_string(), port));
            }
        }
    }
    if candidates.is_empty() {
        return Err(none());
    }
    let (ip, port) = &candidates[rand::thread_rng().gen_range(0..candidates.len())];
    proxyable(ip)?;
    let scheme = if snp.scheme.is_empty() {
        "http"
    } else {
        snp.scheme
    };
    Ok(format!("{scheme}://{}", host_port(ip, &port.to_string())))
}

/// What follows `…/proxy` in the raw request path (kept encoded, trailing slash kept).
fn proxied_path(raw_path: &str, offset: usize) -> String {
    let segments: Vec<&str> = raw_path.trim_start_matches('/').split('/').collect();
    if segments.len() <= offset {
        return "/".into();
    }
    format!("/{}", segments[offset..].join("/"))
}

/// Headers that belong to one connection, not to the request or answer (RFC 9110 §7.6.1).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
];

fn forwardable(headers: &HeaderMap) -> HeaderMap {
    let mut out = headers.clone();
    for h in HOP_BY_HOP {
        out.remove(*h);
    }
    out
}

pub async fn serve(
    registry: &Registry,
    rr: &ResourceRequest,
    method: &Method,
    headers: &HeaderMap,
    raw_path: &str,
    query: Option<&str>,
    body: Bytes,
) -> Result<Response<Body>, ApiError> {
    let r: &Resource = rr.resource;
    let id = rr.name.as_deref().unwrap_or("");
    let ns = rr.namespace.as_deref();
    let base = match r.plural {
        "nodes" => node_location(registry, id).await?,
        "pods" => pod_location(registry, ns, id).await?,
        "services" => service_location(registry, ns, id).await?,
        _ => return Err(ApiError::path_not_found()),
    };
    if base.starts_with("https://") {
        return Err(ApiError::service_unavailable(
            "proxying over https is not supported by this apiserver yet",
        ));
    }
    let mut uri = format!("{base}{}", proxied_path(raw_path, rr.proxied_path_offset()));
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        uri.push('?');
        uri.push_str(q);
    }
    let uri: http::Uri = uri
        .parse()
        .map_err(|e| ApiError::bad_request(format!("proxy address {uri:?}: {e}")))?;
    let mut request = Request::builder()
        .method(method.clone())
        .uri(uri)
        .body(Full::new(body))
        .map_err(|e| ApiError::internal(e.to_string()))?;
    *request.headers_mut() = forwardable(headers);
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let response = client.request(request).await.map_err(|e| {
        let reason = std::error::Error::source(&e)
            .map(|s| s.to_string())
            .unwrap_or_else(|| e.to_string());
        ApiError::service_unavailable(format!("error trying to reach service: {reason}"))
    })?;
    let (parts, incoming) = response.into_parts();
    let frames = BodyStream::new(incoming)
        .take_while(|frame| std::future::ready(frame.is_ok()))
        .filter_map(|frame| {
            std::future::ready(
                frame
                    .ok()
                    .and_then(|f| f.into_data().ok())
                    .map(|d| Ok::<_, Infallible>(Frame::data(d))),
            )
        });
    let mut out = Response::new(BodyExt::boxed(StreamBody::new(frames)));
    *out.status_mut() = parts.status;
    *out.headers_mut() = forwardable(&parts.headers);
    out.headers_mut().remove(http::header::CONTENT_LENGTH);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splits_scheme_name_port() {
        let s = |scheme, name, port| Some(SchemeNamePort { scheme, name, port });
        assert_eq!(split_scheme_name_port("n"), s("", "n", ""));
        assert_eq!(split_scheme_name_port("n:10250"), s("", "n", "10250"));
        assert_eq!(
            split_scheme_name_port("http:front:web"),
            s("http", "front", "web")
        );
        assert_eq!(
            split_scheme_name_port("https:p:443"),
            s("https", "p", "443")
        );
        assert_eq!(split_scheme_name_port("ftp:p:21"), None);
        assert_eq!(split_scheme_name_port("a:b:c:d"), None);
        assert_eq!(split_scheme_name_port(":80"), None);
    }

    #[test]
    fn keeps_the_proxied_path_as_sent() {
        assert_eq!(
            proxied_path("/api/v1/nodes/n/proxy/stats/summary", 5),
            "/stats/summary"
        );
        assert_eq!(proxied_path("/api/v1/nodes/n/proxy/logs/", 5), "/logs/");
        assert_eq!(proxied_path("/api/v1/nodes/n/proxy", 5), "/");
        assert_eq!(proxied_path("/api/v1/nodes/n/proxy/", 5), "/");
        assert_eq!(
            proxied_path("/api/v1/proxy/namespaces/d/pods/p/a%20b/", 7),
            "/a%20b/"
        );
    }

    #[test]
    fn refuses_the_apiservers_own_addresses() {
        assert!(proxyable("10.244.1.5").is_ok());
        for ip in [
            "127.0.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "nope",
        ] {
            assert!(proxyable(ip).is_err(), "{ip}");
        }
    }

    #[test]
    fn finds_the_kubelet() {
        let node = json!({"status": {"addresses": [{"type": "Hostname", "address": "n"}, {"type": "InternalIP", "address": "10.0.0.3"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}});
        assert_eq!(kubelet_address(&node), Some(("10.0.0.3".into(), 10250)));
        assert_eq!(kubelet_address(&json!({})), None);
    }
}
