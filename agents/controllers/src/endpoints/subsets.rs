//! The subsets of a Service's Endpoints, computed from its pods: one address per pod in
//! `addresses` (ready, or the Service publishes not-ready addresses) or
//! `notReadyAddresses`, each port resolved per pod, then packed the way upstream's
//! `RepackSubsets` does (addresses sharing a port share a subset, ports with the same
//! addresses share a subset), sorted, and truncated at 1000 addresses.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{EndpointAddress, EndpointPort, EndpointSubset, Pod, Service};

use crate::service_pods as sp;

/// Upstream's maxCapacity: beyond this many addresses the Endpoints are truncated.
pub const MAX_ADDRESSES: usize = 1000;

/// One pod's contribution: its address, readiness and resolved ports.
struct PodEndpoint {
    address: EndpointAddress,
    ready: bool,
    ports: Vec<EndpointPort>,
}

/// The pods of `service` (already selected) that appear in its Endpoints, as they do.
fn pod_endpoints(service: &Service, pods: &[&Pod]) -> Vec<PodEndpoint> {
    let publish_not_ready = sp::publishes_not_ready(service);
    let headless = sp::is_headless(service);
    let service_ports = sp::ports(service);
    let mut out = Vec::new();
    for pod in pods {
        if !sp::belongs_in_endpoints(pod, publish_not_ready) {
            continue;
        }
        let Some(ip) = sp::address_for_service(service, pod) else {
            continue;
        };
        let address = EndpointAddress {
            ip: ip.to_string(),
            hostname: sp::hostname(pod, service),
            node_name: sp::node_name(pod),
            target_ref: Some(sp::target_ref(pod)),
        };
        let ready = publish_not_ready || sp::is_ready(pod);
        if service_ports.is_empty() {
            // Only a headless Service may have endpoints without ports.
            if headless {
                out.push(PodEndpoint {
                    address,
                    ready,
                    ports: Vec::new(),
                });
            }
            continue;
        }
        let ports: Vec<EndpointPort> = service_ports
            .iter()
            .filter_map(|port| {
                Some(EndpointPort {
                    name: port.name.clone().filter(|n| !n.is_empty()),
                    port: sp::find_port(pod, port)?,
                    protocol: Some(port.protocol.clone().unwrap_or_else(|| "TCP".into())),
                    app_protocol: port.app_protocol.clone(),
                })
            })
            .collect();
        if !ports.is_empty() {
            out.push(PodEndpoint {
                address,
                ready,
                ports,
            });
        }
    }
    out
}

type PortKey = (String, i32, String, String);

fn port_key(p: &EndpointPort) -> PortKey {
    (
        p.name.clone().unwrap_or_default(),
        p.port,
        p.protocol.clone().unwrap_or_default(),
        p.app_protocol.clone().unwrap_or_default(),
    )
}

/// An address identified by (ip, pod uid, ready).
type AddressKey = (String, String, bool);
/// Addresses sorted by their key.
type AddressSet = BTreeMap<AddressKey, EndpointAddress>;

fn address_key(a: &EndpointAddress, ready: bool) -> AddressKey {
    let uid = a
        .target_ref
        .as_ref()
        .and_then(|r| r.uid.clone())
        .unwrap_or_default();
    (a.ip.clone(), uid, ready)
}

/// The Endpoints subsets of `service` over its selected `pods`.
pub fn compute(service: &Service, pods: &[&Pod]) -> Vec<EndpointSubset> {
    // Each port (None: the no-ports sentinel of a headless Service) → its addresses.
    let mut by_port: BTreeMap<Option<PortKey>, (Option<EndpointPort>, AddressSet)> =
        BTreeMap::new();
    for pe in pod_endpoints(service, pods) {
        let key = address_key(&pe.address, pe.ready);
        if pe.ports.is_empty() {
            by_port
                .entry(None)
                .or_default()
                .1
                .insert(key.clone(), pe.address.clone());
        }
        for port in pe.ports {
            let entry = by_port
                .entry(Some(port_key(&port)))
                .or_insert_with(|| (Some(port), AddressSet::new()));
            entry.1.insert(key.clone(), pe.address.clone());
        }
    }
    // Ports offered by the same addresses share one subset.
    let mut by_addresses: BTreeMap<Vec<AddressKey>, (AddressSet, Vec<EndpointPort>)> =
        BTreeMap::new();
    for (_, (port, addresses)) in by_port {
        let key: Vec<_> = addresses.keys().cloned().collect();
        let entry = by_addresses
            .entry(key)
            .or_insert_with(|| (addresses, Vec::new()));
        entry.1.extend(port);
    }
    by_addresses
        .into_values()
        .map(|(addresses, ports)| {
            let (ready, not_ready): (Vec<_>, Vec<_>) =
                addresses.into_iter().partition(|((_, _, ready), _)| *ready);
            EndpointSubset {
                addresses: non_empty(ready.into_iter().map(|(_, a)| a).collect()),
                not_ready_addresses: non_empty(not_ready.into_iter().map(|(_, a)| a).collect()),
                ports: non_empty(ports),
            }
        })
        .collect()
}

fn non_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

fn count(subset: &EndpointSubset) -> usize {
    subset.addresses.as_ref().map_or(0, Vec::len)
        + subset.not_ready_addresses.as_ref().map_or(0, Vec::len)
}

/// Keep at most [`MAX_ADDRESSES`] addresses, each subset its proportional share and
/// ready addresses first (upstream's truncateEndpoints); true when something was cut.
pub fn truncate(subsets: &mut [EndpointSubset]) -> bool {
    let total: usize = subsets.iter().map(count).sum();
    if total <= MAX_ADDRESSES {
        return false;
    }
    let mut room = MAX_ADDRESSES;
    let last = subsets.len().saturating_sub(1);
    for (i, subset) in subsets.iter_mut().enumerate() {
        let share = if i == last {
            room
        } else {
            (count(subset) * MAX_ADDRESSES / total).min(room)
        };
        room -= share;
        let ready = subset.addresses.get_or_insert_with(Vec::new);
        ready.truncate(share);
        let left = share - ready.len();
        if ready.is_empty() {
            subset.addresses = None;
        }
        if let Some(not_ready) = subset.not_ready_addresses.as_mut() {
            not_ready.truncate(left);
            if not_ready.is_empty() {
                subset.not_ready_addresses = None;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service(spec: serde_json::Value) -> Service {
        serde_json::from_value(
            json!({"metadata": {"name": "web", "namespace": "ns"}, "spec": spec}),
        )
        .unwrap()
    }

    fn pod(name: &str, ip: &str, ready: bool, ports: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "ns", "uid": format!("uid-{name}")},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "ports": ports}]},
            "status": {"phase": "Running", "podIP": ip, "conditions": [
                {"type": "Ready", "status": if ready { "True" } else { "False" }}]}
        }))
        .unwrap()
    }

    #[test]
    fn ready_and_not_ready_pods_with_named_ports() {
        let svc = service(
            json!({"clusterIP": "10.96.0.10", "selector": {"app": "web"},
            "ports": [{"name": "http", "port": 80, "targetPort": "web", "protocol": "TCP"}]}),
        );
        let a = pod(
            "a",
            "10.0.0.2",
            true,
            json!([{"name": "web", "containerPort": 8080}]),
        );
        let b = pod(
            "b",
            "10.0.0.1",
            false,
            json!([{"name": "web", "containerPort": 8080}]),
        );
        let c = pod(
            "c",
            "10.0.0.3",
            true,
            json!([{"name": "web", "containerPort": 9090}]),
        );
        let d = pod("d", "10.0.0.4", true, json!([]));
        let subsets = compute(&svc, &[&a, &b, &c, &d]);
        let value = serde_json::to_value(&subsets).unwrap();
        assert_eq!(
            value,
            json!([
                {"addresses": [{"ip": "10.0.0.2", "nodeName": "n1",
                    "targetRef": {"kind": "Pod", "name": "a", "namespace": "ns", "uid": "uid-a"}}],
                 "notReadyAddresses": [{"ip": "10.0.0.1", "nodeName": "n1",
                    "targetRef": {"kind": "Pod", "name": "b", "namespace": "ns", "uid": "uid-b"}}],
                 "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]},
                {"addresses": [{"ip": "10.0.0.3", "nodeName": "n1",
                    "targetRef": {"kind": "Pod", "name": "c", "namespace": "ns", "uid": "uid-c"}}],
                 "ports": [{"name": "http", "port": 9090, "protocol": "TCP"}]}
            ])
        );
    }

    #[test]
    fn publish_not_ready_makes_every_address_ready() {
        let svc = service(
            json!({"clusterIP": "10.96.0.10", "publishNotReadyAddresses": true,
            "ports": [{"port": 80, "targetPort": 80, "protocol": "TCP"}]}),
        );
        let b = pod("b", "10.0.0.1", false, json!([]));
        let subsets = compute(&svc, &[&b]);
        assert_eq!(subsets.len(), 1);
        assert_eq!(subsets[0].addresses.as_ref().unwrap().len(), 1);
        assert!(subsets[0].not_ready_addresses.is_none());
    }

    #[test]
    fn headless_without_ports_lists_addresses_and_hostnames() {
        let svc = service(json!({"clusterIP": "None", "selector": {"app": "web"}}));
        let mut a = pod("a", "10.0.0.2", true, json!([]));
        let spec = a.spec.as_mut().unwrap();
        spec.hostname = Some("a-host".into());
        spec.subdomain = Some("web".into());
        let subsets = compute(&svc, &[&a]);
        assert_eq!(subsets.len(), 1);
        assert!(subsets[0].ports.is_none());
        let address = &subsets[0].addresses.as_ref().unwrap()[0];
        assert_eq!(address.hostname.as_deref(), Some("a-host"));
    }

    #[test]
    fn truncation_keeps_a_thousand_ready_first() {
        let address = |i: usize| EndpointAddress {
            ip: format!("10.1.{}.{}", i / 250, i % 250 + 1),
            ..Default::default()
        };
        let mut subsets = vec![EndpointSubset {
            addresses: Some((0..900).map(address).collect()),
            not_ready_addresses: Some((900..1200).map(address).collect()),
            ports: None,
        }];
        assert!(truncate(&mut subsets));
        assert_eq!(subsets[0].addresses.as_ref().unwrap().len(), 900);
        assert_eq!(subsets[0].not_ready_addresses.as_ref().unwrap().len(), 100);
    }
}
