//! Where a webhook's `clientConfig` points: its `url`, or its `service` — reached at a
//! ready endpoint of the Service's port when it has one, else at its ClusterIP — with the
//! certificate checked for `{name}.{namespace}.svc`, as upstream's service resolver does.

use std::time::Duration;

use base64::Engine as _;
use rkube_api::resources;
use serde_json::Value;

use super::client::{url_target, with_timeout, CallError, Target};
use crate::registry::Registry;

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The target and the PEM CA bundle to trust.
pub async fn resolve(
    reg: &Registry,
    config: &Value,
    timeout: Duration,
) -> Result<(Target, Option<Vec<u8>>), CallError> {
    let ca = match config
        .get("caBundle")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
    {
        Some(b64) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| CallError::Config(format!("caBundle: {e}")))?,
        ),
        None => None,
    };
    if let Some(url) = config.get("url").and_then(Value::as_str) {
        return Ok((url_target(url, timeout)?, ca));
    }
    let svc = config
        .get("service")
        .filter(|v| v.is_object())
        .ok_or_else(|| CallError::Config("clientConfig has neither url nor service".into()))?;
    Ok((service_target(reg, svc, timeout).await?, ca))
}

async fn service_target(
    reg: &Registry,
    svc: &Value,
    timeout: Duration,
) -> Result<Target, CallError> {
    let (ns, name) = (s(svc, "namespace"), s(svc, "name"));
    let port = svc.get("port").and_then(Value::as_i64).unwrap_or(443);
    let path = match s(svc, "path") {
        "" => "/",
        p => p,
    };
    let host = format!("{name}.{ns}.svc");
    let services = resources::find("", "v1", "services").expect("services are served");
    let (service, _) = reg
        .get_value(services, Some(ns), name)
        .await
        .map_err(|_| CallError::Config(format!("service \"{name}\" not found")))?;
    let service_port = service
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|p| p.get("port").and_then(Value::as_i64) == Some(port))
        .cloned()
        .ok_or_else(|| CallError::Config(format!("service \"{name}\" has no port {port}")))?;
    let dial = match ready_endpoint(reg, ns, name, s(&service_port, "name")).await {
        Some(addr) => addr,
        None => {
            let ip = service
                .pointer("/spec/clusterIP")
                .and_then(Value::as_str)
                .unwrap_or("");
            if ip.is_empty() || ip == "None" {
                return Err(CallError::Config(format!(
                    "service \"{name}\" has no ready endpoint and no cluster IP"
                )));
            }
            socket(ip, port)
        }
    };
    Ok(Target {
        dial,
        server_name: host.clone(),
        path_and_query: with_timeout(path, timeout),
        url: with_timeout(&format!("https://{host}:{port}{path}"), timeout),
    })
}

fn socket(ip: &str, port: i64) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

/// The first ready address of the Service's Endpoints, with the port of the same name.
async fn ready_endpoint(reg: &Registry, ns: &str, name: &str, port_name: &str) -> Option<String> {
    let endpoints = resources::find("", "v1", "endpoints")?;
    let (eps, _) = reg.get_value(endpoints, Some(ns), name).await.ok()?;
    for subset in eps
        .get("subsets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let port = subset
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|p| s(p, "name") == port_name)
            .and_then(|p| p.get("port").and_then(Value::as_i64));
        let ip = subset
            .get("addresses")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .map(|a| s(a, "ip"));
        if let (Some(port), Some(ip)) = (port, ip.filter(|ip| !ip.is_empty())) {
            return Some(socket(ip, port));
        }
    }
    None
}
