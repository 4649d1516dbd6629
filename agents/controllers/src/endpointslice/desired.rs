//! The endpoints a Service's slices should hold for one address type, grouped by the
//! ports they resolve to (a slice has one port list, so pods whose named targetPort
//! resolves differently land in different slices).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort};

use crate::service_pods as sp;

/// A port list's identity: (name, port, protocol, appProtocol) in order.
pub type PortsKey = Vec<(String, i32, String, String)>;

pub fn ports_key(ports: &[EndpointPort]) -> PortsKey {
    ports
        .iter()
        .map(|p| {
            (
                p.name.clone().unwrap_or_default(),
                p.port.unwrap_or(0),
                p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                p.app_protocol.clone().unwrap_or_default(),
            )
        })
        .collect()
}

/// Endpoints sharing one port list, keyed by their pod (`namespace/name`).
#[derive(Debug, Default)]
pub struct Group {
    pub ports: Vec<EndpointPort>,
    pub endpoints: BTreeMap<String, Endpoint>,
}

/// The identity of an endpoint in a slice: its pod, else its first address.
pub fn endpoint_id(endpoint: &Endpoint) -> String {
    match &endpoint.target_ref {
        Some(r) if r.kind.as_deref() == Some("Pod") => format!(
            "{}/{}",
            r.namespace.as_deref().unwrap_or(""),
            r.name.as_deref().unwrap_or("")
        ),
        _ => endpoint.addresses.first().cloned().unwrap_or_default(),
    }
}

/// The endpoint of one pod for `service` in `family` (upstream's podToEndpoint).
fn endpoint(service: &Service, pod: &Pod, address: &str, zone: Option<String>) -> Endpoint {
    let serving = sp::is_ready(pod);
    let terminating = pod.metadata.deletion_timestamp.is_some();
    // A terminating pod is never "ready", unless the Service publishes not-ready pods.
    let ready = sp::publishes_not_ready(service) || (serving && !terminating);
    Endpoint {
        addresses: vec![address.to_string()],
        conditions: Some(EndpointConditions {
            ready: Some(ready),
            serving: Some(serving),
            terminating: Some(terminating),
        }),
        hostname: sp::hostname(pod, service),
        node_name: sp::node_name(pod),
        target_ref: Some(sp::target_ref(pod)),
        zone,
        ..Default::default()
    }
}

/// The ports of `service` as `pod` serves them; ports it cannot resolve are left out.
fn ports(service: &Service, pod: &Pod) -> Vec<EndpointPort> {
    sp::ports(service)
        .iter()
        .filter_map(|port| {
            Some(EndpointPort {
                name: Some(port.name.clone().unwrap_or_default()),
                port: Some(sp::find_port(pod, port)?),
                protocol: Some(port.protocol.clone().unwrap_or_else(|| "TCP".into())),
                app_protocol: port.app_protocol.clone(),
            })
        })
        .collect()
}

/// Every selected pod that belongs in the slices of `family`, grouped by ports.
/// `zone_of` gives a Node's `topology.kubernetes.io/zone`.
pub fn compute(
    service: &Service,
    pods: &[&Pod],
    family: &str,
    zone_of: impl Fn(&str) -> Option<String>,
) -> BTreeMap<PortsKey, Group> {
    let mut groups: BTreeMap<PortsKey, Group> = BTreeMap::new();
    for pod in pods {
        // Terminating pods stay, with their conditions saying so.
        if !sp::belongs_in_endpoints(pod, true) {
            continue;
        }
        let Some(address) = sp::address_of_family(pod, family) else {
            continue;
        };
        let ports = ports(service, pod);
        let group = groups.entry(ports_key(&ports)).or_insert_with(|| Group {
            ports,
            endpoints: BTreeMap::new(),
        });
        let id = format!(
            "{}/{}",
            pod.metadata.namespace.as_deref().unwrap_or(""),
            pod.metadata.name.as_deref().unwrap_or("")
        );
        let zone = sp::node_name(pod).and_then(|n| zone_of(&n));
        group
            .endpoints
            .insert(id, endpoint(service, pod, address, zone));
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conditions_and_port_groups() {
        let svc: Service = serde_json::from_value(json!({"metadata": {"name": "web", "namespace": "ns"},
            "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "http", "port": 80, "targetPort": "web", "protocol": "TCP"}]}}))
        .unwrap();
        let pod = |name: &str, port: i32, ready: bool, deleting: bool| -> Pod {
            let mut meta = json!({"name": name, "namespace": "ns", "uid": name});
            if deleting {
                meta["deletionTimestamp"] = json!("2024-01-01T00:00:00Z");
            }
            serde_json::from_value(json!({"metadata": meta,
                "spec": {"nodeName": "n1", "containers": [{"name": "c", "ports": [{"name": "web", "containerPort": port}]}]},
                "status": {"phase": "Running", "podIP": format!("10.0.0.{port}"), "conditions": [
                    {"type": "Ready", "status": if ready { "True" } else { "False" }}]}}))
            .unwrap()
        };
        let a = pod("a", 80, true, false);
        let b = pod("b", 81, false, false);
        let c = pod("c", 80, true, true);
        let zone = |node: &str| (node == "n1").then(|| "z1".to_string());
        let groups = compute(&svc, &[&a, &b, &c], "IPv4", zone);
        assert_eq!(groups.len(), 2);
        let g80 = groups
            .values()
            .find(|g| g.ports[0].port == Some(80))
            .unwrap();
        let conditions: Vec<_> = g80
            .endpoints
            .values()
            .map(|e| serde_json::to_value(&e.conditions).unwrap())
            .collect();
        assert_eq!(
            conditions,
            vec![
                json!({"ready": true, "serving": true, "terminating": false}),
                json!({"ready": false, "serving": true, "terminating": true}),
            ]
        );
        assert!(g80
            .endpoints
            .values()
            .all(|e| e.zone.as_deref() == Some("z1")));
        assert!(compute(&svc, &[&a], "IPv6", |_| None).is_empty());
    }
}
