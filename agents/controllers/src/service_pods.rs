//! How a Service's pods become endpoints, shared by the endpoints and endpointslice
//! controllers: which pods a Service selects, which of them belong in its endpoints,
//! their readiness, the address of the Service's IP family, named target ports and
//! hostnames (upstream's `endpointsliceutil` and `podutil.FindPort`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ObjectReference, Pod, Service, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::ResourceExt;

/// The Service's selector, when the controllers manage its endpoints. A Service without
/// one (or with an empty one, which upstream's storage turns into none) has endpoints
/// managed by someone else, e.g. the apiserver for `kubernetes`.
pub fn selector(service: &Service) -> Option<&BTreeMap<String, String>> {
    service
        .spec
        .as_ref()?
        .selector
        .as_ref()
        .filter(|s| !s.is_empty())
}

pub fn selects(selector: &BTreeMap<String, String>, pod: &Pod) -> bool {
    let labels = pod.labels();
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// `clusterIP: None`.
pub fn is_headless(service: &Service) -> bool {
    service.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None")
}

pub fn publishes_not_ready(service: &Service) -> bool {
    service
        .spec
        .as_ref()
        .and_then(|s| s.publish_not_ready_addresses)
        .unwrap_or(false)
}

pub fn ports(service: &Service) -> &[ServicePort] {
    service
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_deref())
        .unwrap_or(&[])
}

/// The pod's Ready condition is True.
pub fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Upstream's `ShouldPodBeInEndpoints`: not terminal, has an IP, and (unless terminating
/// pods are wanted) not being deleted.
pub fn belongs_in_endpoints(pod: &Pod, include_terminating: bool) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    if matches!(phase, Some("Succeeded") | Some("Failed")) {
        return false;
    }
    if pod_ips(pod).is_empty() {
        return false;
    }
    include_terminating || pod.metadata.deletion_timestamp.is_none()
}

/// `status.podIPs`, or `status.podIP` alone when only that is set.
pub fn pod_ips(pod: &Pod) -> Vec<&str> {
    let Some(status) = pod.status.as_ref() else {
        return Vec::new();
    };
    let listed: Vec<&str> = status
        .pod_ips
        .iter()
        .flatten()
        .map(|ip| ip.ip.as_str())
        .filter(|ip| !ip.is_empty())
        .collect();
    if !listed.is_empty() {
        return listed;
    }
    status
        .pod_ip
        .as_deref()
        .filter(|ip| !ip.is_empty())
        .into_iter()
        .collect()
}

/// An IP family: `IPv4` or `IPv6`, as in `spec.ipFamilies` and `addressType`.
pub fn family_of(ip: &str) -> &'static str {
    if ip.contains(':') {
        "IPv6"
    } else {
        "IPv4"
    }
}

/// The families a Service's endpoints are published in: `spec.ipFamilies`, else the
/// ClusterIP's family, else (headless, not yet defaulted) IPv4.
pub fn service_families(service: &Service) -> Vec<&'static str> {
    let spec = service.spec.as_ref();
    let listed: Vec<&'static str> = spec
        .and_then(|s| s.ip_families.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|f| match f.as_str() {
            "IPv4" => Some("IPv4"),
            "IPv6" => Some("IPv6"),
            _ => None,
        })
        .collect();
    if !listed.is_empty() {
        return listed;
    }
    match spec.and_then(|s| s.cluster_ip.as_deref()) {
        Some(ip) if ip != "None" && !ip.is_empty() => vec![family_of(ip)],
        _ => vec!["IPv4"],
    }
}

/// The pod address an Endpoints object lists: the Service's primary family
/// (`podToEndpointAddressForService`).
pub fn address_for_service<'p>(service: &Service, pod: &'p Pod) -> Option<&'p str> {
    let family = if is_headless(service) {
        service
            .spec
            .as_ref()
            .and_then(|s| s.ip_families.as_ref())
            .and_then(|f| f.first().map(String::as_str))
            .map(|f| if f == "IPv6" { "IPv6" } else { "IPv4" })
            .unwrap_or_else(|| pod_ips(pod).first().map_or("IPv4", |ip| family_of(ip)))
    } else {
        service_families(service)[0]
    };
    address_of_family(pod, family)
}

pub fn address_of_family<'p>(pod: &'p Pod, family: &str) -> Option<&'p str> {
    pod_ips(pod).into_iter().find(|ip| family_of(ip) == family)
}

/// `podutil.FindPort`: a numeric targetPort is used as is (the Service's port when
/// unset); a named one is the containerPort of that name and the Service port's protocol
/// in this pod, or nothing when the pod has no such port.
pub fn find_port(pod: &Pod, port: &ServicePort) -> Option<i32> {
    match &port.target_port {
        None => Some(port.port),
        Some(IntOrString::Int(n)) => Some(*n),
        Some(IntOrString::String(name)) => match name.parse::<i32>() {
            Ok(n) => Some(n),
            Err(_) => {
                let protocol = port.protocol.as_deref().unwrap_or("TCP");
                pod.spec
                    .as_ref()?
                    .containers
                    .iter()
                    .flat_map(|c| c.ports.iter().flatten())
                    .find(|p| {
                        p.name.as_deref() == Some(name.as_str())
                            && p.protocol.as_deref().unwrap_or("TCP") == protocol
                    })
                    .map(|p| p.container_port)
            }
        },
    }
}

/// `ShouldSetHostname`: the pod's hostname is published when its subdomain is the
/// Service's name in the same namespace.
pub fn hostname(pod: &Pod, service: &Service) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    let hostname = spec.hostname.as_deref().filter(|h| !h.is_empty())?;
    (spec.subdomain.as_deref() == service.metadata.name.as_deref()
        && pod.metadata.namespace == service.metadata.namespace)
        .then(|| hostname.to_string())
}

pub fn node_name(pod: &Pod) -> Option<String> {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .filter(|n| !n.is_empty())
}

/// The `targetRef` of a pod's endpoint.
pub fn target_ref(pod: &Pod) -> ObjectReference {
    ObjectReference {
        kind: Some("Pod".into()),
        namespace: pod.metadata.namespace.clone(),
        name: pod.metadata.name.clone(),
        uid: pod.metadata.uid.clone(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(value: serde_json::Value) -> Pod {
        serde_json::from_value(value).unwrap()
    }

    fn port(value: serde_json::Value) -> ServicePort {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn named_target_ports_resolve_per_pod_and_protocol() {
        let p = pod(json!({"metadata": {"name": "a"}, "spec": {"containers": [
            {"name": "c", "ports": [{"name": "http", "containerPort": 8080},
                                    {"name": "dns", "containerPort": 53, "protocol": "UDP"}]}]}}));
        let named = port(json!({"port": 80, "targetPort": "http", "protocol": "TCP"}));
        assert_eq!(find_port(&p, &named), Some(8080));
        let udp = port(json!({"port": 53, "targetPort": "dns", "protocol": "UDP"}));
        assert_eq!(find_port(&p, &udp), Some(53));
        let wrong_protocol = port(json!({"port": 53, "targetPort": "dns", "protocol": "TCP"}));
        assert_eq!(find_port(&p, &wrong_protocol), None);
        let missing = port(json!({"port": 80, "targetPort": "web", "protocol": "TCP"}));
        assert_eq!(find_port(&p, &missing), None);
        let numeric = port(json!({"port": 80, "targetPort": 9999}));
        assert_eq!(find_port(&p, &numeric), Some(9999));
    }

    #[test]
    fn terminal_ipless_and_terminating_pods_are_left_out() {
        let running = pod(json!({"metadata": {"name": "a"},
            "status": {"phase": "Running", "podIP": "10.0.0.1"}}));
        assert!(belongs_in_endpoints(&running, false));
        let no_ip = pod(json!({"metadata": {"name": "a"}, "status": {"phase": "Running"}}));
        assert!(!belongs_in_endpoints(&no_ip, true));
        let done = pod(json!({"metadata": {"name": "a"},
            "status": {"phase": "Succeeded", "podIP": "10.0.0.1"}}));
        assert!(!belongs_in_endpoints(&done, true));
        let deleting = pod(
            json!({"metadata": {"name": "a", "deletionTimestamp": "2024-01-01T00:00:00Z"},
            "status": {"phase": "Running", "podIP": "10.0.0.1"}}),
        );
        assert!(!belongs_in_endpoints(&deleting, false));
        assert!(belongs_in_endpoints(&deleting, true));
    }

    #[test]
    fn the_address_follows_the_service_family() {
        let p = pod(
            json!({"metadata": {"name": "a"}, "status": {"podIP": "10.0.0.1",
            "podIPs": [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}]}}),
        );
        let v6: Service = serde_json::from_value(json!({"metadata": {"name": "s"},
            "spec": {"clusterIP": "fd00:10::5", "ipFamilies": ["IPv6"]}}))
        .unwrap();
        assert_eq!(address_for_service(&v6, &p), Some("fd00::1"));
        let v4: Service = serde_json::from_value(json!({"metadata": {"name": "s"},
            "spec": {"clusterIP": "10.96.0.5"}}))
        .unwrap();
        assert_eq!(address_for_service(&v4, &p), Some("10.0.0.1"));
    }
}
