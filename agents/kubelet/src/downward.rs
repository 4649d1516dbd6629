//! The downward API with no I/O: pod fields (`fieldRef`) and container resources
//! (`resourceFieldRef`) as strings, for environment variables and downwardAPI volumes.

use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::api::core::v1::{Container, ObjectFieldSelector, Pod, ResourceFieldSelector};
use rkube_patch::go_format::go_quote;

use crate::runtime::spec::parse_quantity;

/// What the pod object does not say but the node knows.
#[derive(Debug, Clone, Default)]
pub struct NodeFacts {
    pub pod_ips: Vec<IpAddr>,
    pub host_ips: Vec<IpAddr>,
    /// Allocatable: what a container without a limit may use (upstream's downward API
    /// default for missing limits).
    pub allocatable_milli_cpu: u64,
    pub allocatable_memory: u64,
    pub allocatable_ephemeral_storage: u64,
}

impl NodeFacts {
    /// The allocatable amounts from the Node's allocatable map (no addresses yet).
    pub fn allocatable(map: &BTreeMap<&'static str, String>) -> NodeFacts {
        let amount = |key: &str| map.get(key).and_then(|q| parse_quantity(q)).unwrap_or(0.0);
        NodeFacts {
            allocatable_milli_cpu: (amount("cpu") * 1000.0) as u64,
            allocatable_memory: amount("memory") as u64,
            allocatable_ephemeral_storage: amount("ephemeral-storage") as u64,
            ..NodeFacts::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DownwardError {
    #[error("unsupported fieldPath: {0}")]
    UnsupportedField(String),
    #[error("unsupported container resource : {0}")]
    UnsupportedResource(String),
    #[error("container {0} not found")]
    NoContainer(String),
    #[error("invalid divisor {0:?}")]
    Divisor(String),
}

/// `key="value"` lines, sorted by key, values quoted as Go's `%q` does (upstream's
/// fieldpath.FormatMap); no newline after the last.
pub fn format_map(map: &BTreeMap<String, String>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k}={}", go_quote(v)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `metadata.labels['app']` → ("metadata.labels", Some("app")).
fn split_subscript(path: &str) -> (&str, Option<&str>) {
    if let Some(open) = path.find("['") {
        if let Some(rest) = path[open + 2..].strip_suffix("']") {
            return (&path[..open], Some(rest));
        }
    }
    (path, None)
}

/// The value of a pod field, as upstream's kubelet resolves it.
pub fn pod_field(pod: &Pod, path: &str, facts: &NodeFacts) -> Result<String, DownwardError> {
    let meta = &pod.metadata;
    let spec = pod.spec.as_ref();
    let join = |ips: &[IpAddr]| {
        ips.iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let first = |ips: &[IpAddr]| ips.first().map(|i| i.to_string()).unwrap_or_default();
    let (field, key) = split_subscript(path);
    let map_value = |map: &Option<BTreeMap<String, String>>| match key {
        Some(k) => map
            .as_ref()
            .and_then(|m| m.get(k))
            .cloned()
            .unwrap_or_default(),
        None => format_map(map.as_ref().unwrap_or(&BTreeMap::new())),
    };
    Ok(match field {
        "metadata.name" => meta.name.clone().unwrap_or_default(),
        "metadata.namespace" => meta.namespace.clone().unwrap_or_default(),
        "metadata.uid" => meta.uid.clone().unwrap_or_default(),
        "metadata.labels" => map_value(&meta.labels),
        "metadata.annotations" => map_value(&meta.annotations),
        "spec.nodeName" => spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
        "spec.serviceAccountName" => spec
            .and_then(|s| s.service_account_name.clone())
            .unwrap_or_default(),
        "status.podIP" => first(&facts.pod_ips),
        "status.podIPs" => join(&facts.pod_ips),
        "status.hostIP" => first(&facts.host_ips),
        "status.hostIPs" => join(&facts.host_ips),
        _ => return Err(DownwardError::UnsupportedField(path.to_string())),
    })
}

pub fn object_field(
    pod: &Pod,
    selector: &ObjectFieldSelector,
    facts: &NodeFacts,
) -> Result<String, DownwardError> {
    pod_field(pod, &selector.field_path, facts)
}

/// A container's resource (`limits.cpu`, `requests.memory`, …) divided by the divisor and
/// rounded up, as upstream's ExtractContainerResourceValue. A missing limit is the node's
/// allocatable; a missing request is the limit (as defaulting sets it) or zero.
pub fn container_resource(
    pod: &Pod,
    own: Option<&Container>,
    selector: &ResourceFieldSelector,
    facts: &NodeFacts,
) -> Result<String, DownwardError> {
    let container = match selector.container_name.as_deref().filter(|n| !n.is_empty()) {
        Some(name) => pod
            .spec
            .iter()
            .flat_map(|s| {
                s.containers
                    .iter()
                    .chain(s.init_containers.iter().flatten())
            })
            .find(|c| c.name == name)
            .ok_or_else(|| DownwardError::NoContainer(name.to_string()))?,
        None => own.ok_or_else(|| DownwardError::NoContainer(String::new()))?,
    };
    let (kind, resource) = selector
        .resource
        .split_once('.')
        .ok_or_else(|| DownwardError::UnsupportedResource(selector.resource.clone()))?;
    let quantity = |map: &str| -> Option<f64> {
        let r = container.resources.as_ref()?;
        let m = if map == "limits" {
            r.limits.as_ref()
        } else {
            r.requests.as_ref()
        };
        parse_quantity(&m?.get(resource)?.0)
    };
    let allocatable = match resource {
        "cpu" => facts.allocatable_milli_cpu as f64 / 1000.0,
        "memory" => facts.allocatable_memory as f64,
        "ephemeral-storage" => facts.allocatable_ephemeral_storage as f64,
        _ => {
            return Err(DownwardError::UnsupportedResource(
                selector.resource.clone(),
            ))
        }
    };
    let value = match kind {
        "limits" => quantity("limits").unwrap_or(allocatable),
        "requests" => quantity("requests")
            .or_else(|| quantity("limits"))
            .unwrap_or(0.0),
        _ => {
            return Err(DownwardError::UnsupportedResource(
                selector.resource.clone(),
            ))
        }
    };
    let divisor_text = selector
        .divisor
        .as_ref()
        .map(|d| d.0.as_str())
        .unwrap_or("1");
    let divisor = parse_quantity(divisor_text)
        .filter(|d| *d > 0.0)
        .ok_or_else(|| DownwardError::Divisor(divisor_text.to_string()))?;
    let ratio = if resource == "cpu" {
        // In milli-units, as upstream, so 250m / 1m is exactly 250.
        (value * 1000.0).round() / (divisor * 1000.0).round().max(1.0)
    } else {
        value / divisor
    };
    Ok(format!("{}", ratio.ceil() as i64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "ns", "uid": "u-1",
                "labels": {"b": "2", "a": "x\"y"}, "annotations": {"note": "hi"}},
            "spec": {"nodeName": "n0", "serviceAccountName": "sa", "containers": [
                {"name": "c", "resources": {"limits": {"cpu": "250m", "memory": "64Mi"}}},
                {"name": "bare"},
            ]}
        }))
        .unwrap()
    }

    fn facts() -> NodeFacts {
        NodeFacts {
            pod_ips: vec!["10.0.0.5".parse().unwrap()],
            host_ips: vec!["192.168.1.2".parse().unwrap()],
            allocatable_milli_cpu: 2000,
            allocatable_memory: 1 << 30,
            allocatable_ephemeral_storage: 1 << 34,
        }
    }

    #[test]
    fn pod_fields() {
        let (p, f) = (pod(), facts());
        let get = |path: &str| pod_field(&p, path, &f).unwrap();
        assert_eq!(get("metadata.name"), "p");
        assert_eq!(get("metadata.uid"), "u-1");
        assert_eq!(get("metadata.labels['b']"), "2");
        assert_eq!(get("metadata.labels['missing']"), "");
        assert_eq!(get("metadata.labels"), "a=\"x\\\"y\"\nb=\"2\"");
        assert_eq!(get("metadata.annotations['note']"), "hi");
        assert_eq!(get("spec.nodeName"), "n0");
        assert_eq!(get("spec.serviceAccountName"), "sa");
        assert_eq!(get("status.podIPs"), "10.0.0.5");
        assert_eq!(get("status.hostIP"), "192.168.1.2");
        assert!(pod_field(&p, "spec.volumes", &f).is_err());
    }

    fn selector(
        resource: &str,
        divisor: Option<&str>,
        container: Option<&str>,
    ) -> ResourceFieldSelector {
        serde_json::from_value(
            json!({"resource": resource, "divisor": divisor, "containerName": container}),
        )
        .unwrap()
    }

    #[test]
    fn resources_with_divisors_and_defaults() {
        let (p, f) = (pod(), facts());
        let c = &p.spec.as_ref().unwrap().containers[0];
        let get = |r: &str, d: Option<&str>, name: Option<&str>| {
            container_resource(&p, Some(c), &selector(r, d, name), &f).unwrap()
        };
        assert_eq!(get("limits.cpu", None, None), "1");
        assert_eq!(get("limits.cpu", Some("1m"), None), "250");
        assert_eq!(get("limits.memory", None, None), "67108864");
        assert_eq!(get("limits.memory", Some("1Mi"), None), "64");
        assert_eq!(get("requests.memory", Some("1Mi"), None), "64");
        // No limit: the node's allocatable; no request: zero.
        assert_eq!(get("limits.cpu", Some("1m"), Some("bare")), "2000");
        assert_eq!(get("limits.memory", Some("1Mi"), Some("bare")), "1024");
        assert_eq!(get("requests.cpu", None, Some("bare")), "0");
        assert!(container_resource(&p, Some(c), &selector("limits.gpu", None, None), &f).is_err());
        assert!(
            container_resource(&p, Some(c), &selector("limits.cpu", None, Some("x")), &f).is_err()
        );
    }
}
