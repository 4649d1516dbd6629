//! Services and EndpointSlices (from the watch caches) to the [`ProxyState`] rules are
//! rendered from. Objects the proxy cannot use (headless, ExternalName, IPv6, bad
//! addresses) are skipped, never a panic.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;

use crate::model::{Endpoint, Protocol, ServicePort, ServicePortName};
use crate::render::ProxyState;

/// The label that ties an EndpointSlice to its Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// Set by the EndpointSlice controller: when the change that led to this slice happened.
pub const LAST_CHANGE_TRIGGER_TIME: &str = "endpoints.kubernetes.io/last-change-trigger-time";
const DEFAULT_STICKY_SECONDS: u32 = 10800;

pub fn proxy_state<'a>(
    services: impl IntoIterator<Item = &'a Service>,
    slices: impl IntoIterator<Item = &'a EndpointSlice>,
    node_name: &str,
) -> ProxyState {
    let mut state = ProxyState::default();
    for svc in services {
        for port in service_ports(svc) {
            state.services.insert(port.name.clone(), port);
        }
    }
    let mut by_port: HashMap<ServicePortName, Vec<Endpoint>> = HashMap::new();
    for slice in slices {
        add_slice(&mut by_port, slice, node_name);
    }
    for (name, mut eps) in by_port {
        if state.services.contains_key(&name) {
            // Upstream orders endpoints by their "ip:port" string.
            eps.sort_by_key(Endpoint::addr);
            state.endpoints.insert(name, eps);
        }
    }
    state
}

/// Converts one Service again, by namespace and name, into `state`: its ports (none when
/// `service` is gone) and their endpoints from `slices` (any slices may be given; those
/// of other services are skipped). The rest of `state` is left as it is. Returns the
/// service ports it had before and has now.
pub fn update_service<'a>(
    state: &mut ProxyState,
    namespace: &str,
    name: &str,
    service: Option<&Service>,
    slices: impl IntoIterator<Item = &'a EndpointSlice>,
    node_name: &str,
) -> Vec<ServicePortName> {
    let first = ServicePortName {
        namespace: namespace.to_string(),
        name: name.to_string(),
        port: String::new(),
        protocol: Protocol::Tcp,
    };
    let old: Vec<ServicePortName> = state
        .services
        .range(first..)
        .take_while(|(n, _)| n.namespace == namespace && n.name == name)
        .map(|(n, _)| n.clone())
        .collect();
    for n in &old {
        state.services.remove(n);
        state.endpoints.remove(n);
    }
    let mut touched = old;
    let ports = service.map(service_ports).unwrap_or_default();
    if ports.is_empty() {
        return touched;
    }
    let mut by_port: HashMap<ServicePortName, Vec<Endpoint>> = HashMap::new();
    for slice in slices {
        let labelled = slice
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(SERVICE_NAME_LABEL))
            .is_some_and(|l| l == name);
        if labelled && slice.metadata.namespace.as_deref() == Some(namespace) {
            add_slice(&mut by_port, slice, node_name);
        }
    }
    for port in ports {
        if let Some(mut eps) = by_port.remove(&port.name) {
            eps.sort_by_key(Endpoint::addr);
            state.endpoints.insert(port.name.clone(), eps);
        }
        touched.push(port.name.clone());
        state.services.insert(port.name.clone(), port);
    }
    touched
}

/// The Service an EndpointSlice belongs to: its namespace and `kubernetes.io/service-name`.
pub fn slice_service(slice: &EndpointSlice) -> Option<(String, String)> {
    let namespace = slice.metadata.namespace.clone()?;
    let name = slice.metadata.labels.as_ref()?.get(SERVICE_NAME_LABEL)?;
    Some((namespace, name.clone()))
}

fn ipv4(s: &str) -> Option<Ipv4Addr> {
    s.parse().ok()
}

pub fn service_ports(svc: &Service) -> Vec<ServicePort> {
    let (Some(spec), Some(namespace), Some(name)) =
        (&svc.spec, &svc.metadata.namespace, &svc.metadata.name)
    else {
        return Vec::new();
    };
    if spec.type_.as_deref() == Some("ExternalName") {
        return Vec::new();
    }
    let Some(cluster_ip) = spec.cluster_ip.as_deref().and_then(ipv4) else {
        return Vec::new(); // headless ("None"), unset, or IPv6
    };
    let exposes_node_ports = matches!(spec.type_.as_deref(), Some("NodePort" | "LoadBalancer"));
    let external_ips: Vec<Ipv4Addr> = spec
        .external_ips
        .iter()
        .flatten()
        .filter_map(|s| ipv4(s))
        .collect();
    let load_balancer_ips: Vec<Ipv4Addr> = svc
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .into_iter()
        .flatten()
        .filter(|i| i.ip_mode.as_deref() != Some("Proxy"))
        .filter_map(|i| i.ip.as_deref().and_then(ipv4))
        .collect();
    let source_ranges = spec
        .load_balancer_source_ranges
        .iter()
        .flatten()
        .filter_map(|r| r.trim().parse().ok())
        .collect::<Vec<_>>();
    let sticky_seconds = (spec.session_affinity.as_deref() == Some("ClientIP")).then(|| {
        spec.session_affinity_config
            .as_ref()
            .and_then(|c| c.client_ip.as_ref())
            .and_then(|c| c.timeout_seconds)
            .and_then(|t| u32::try_from(t).ok())
            .unwrap_or(DEFAULT_STICKY_SECONDS)
    });
    let external_traffic_local = spec.external_traffic_policy.as_deref() == Some("Local");
    let health_check_node_port = spec
        .health_check_node_port
        .filter(|_| external_traffic_local)
        .and_then(|p| u16::try_from(p).ok());
    let mut out = Vec::new();
    for p in spec.ports.iter().flatten() {
        let Some(protocol) = Protocol::from_api(p.protocol.as_deref().unwrap_or("TCP")) else {
            continue;
        };
        let Ok(port) = u16::try_from(p.port) else {
            continue;
        };
        let node_port = p
            .node_port
            .filter(|_| exposes_node_ports)
            .and_then(|n| u16::try_from(n).ok())
            .filter(|n| *n != 0);
        out.push(ServicePort {
            name: ServicePortName {
                namespace: namespace.clone(),
                name: name.clone(),
                port: p.name.clone().unwrap_or_default(),
                protocol,
            },
            cluster_ip,
            port,
            node_port,
            external_ips: external_ips.clone(),
            load_balancer_ips: load_balancer_ips.clone(),
            load_balancer_source_ranges: source_ranges.clone(),
            sticky_seconds,
            external_traffic_local,
            internal_traffic_local: spec.internal_traffic_policy.as_deref() == Some("Local"),
            health_check_node_port,
        });
    }
    out
}

/// Adds a slice's endpoints under each of its ports. Each slice carries its own port
/// numbers: that is how a named target port resolves to different numbers per pod.
fn add_slice(
    by_port: &mut HashMap<ServicePortName, Vec<Endpoint>>,
    slice: &EndpointSlice,
    node_name: &str,
) {
    if slice.address_type != "IPv4" {
        return;
    }
    let Some(namespace) = &slice.metadata.namespace else {
        return;
    };
    let Some(service) = slice
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(SERVICE_NAME_LABEL))
    else {
        return;
    };
    for port in slice.ports.iter().flatten() {
        let Some(number) = port.port.and_then(|p| u16::try_from(p).ok()) else {
            continue;
        };
        let Some(protocol) = Protocol::from_api(port.protocol.as_deref().unwrap_or("TCP")) else {
            continue;
        };
        let name = ServicePortName {
            namespace: namespace.clone(),
            name: service.clone(),
            port: port.name.clone().unwrap_or_default(),
            protocol,
        };
        let list = by_port.entry(name).or_default();
        for ep in &slice.endpoints {
            let Some(ip) = ep.addresses.first().and_then(|a| ipv4(a)) else {
                continue;
            };
            let conditions = ep.conditions.as_ref();
            let ready = conditions.and_then(|c| c.ready).unwrap_or(true);
            let endpoint = Endpoint {
                ip,
                port: number,
                ready,
                serving: conditions.and_then(|c| c.serving).unwrap_or(ready),
                terminating: conditions.and_then(|c| c.terminating).unwrap_or(false),
                local: ep.node_name.as_deref() == Some(node_name),
            };
            // The same endpoint in two slices (during a move): a ready copy wins.
            match list.iter_mut().find(|e| e.ip == ip && e.port == number) {
                Some(existing) if !existing.ready && endpoint.ready => *existing = endpoint,
                Some(_) => {}
                None => list.push(endpoint),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(json: &str) -> Service {
        k8s_openapi::serde_json::from_str(json).unwrap()
    }

    fn slice(json: &str) -> EndpointSlice {
        k8s_openapi::serde_json::from_str(json).unwrap()
    }

    #[test]
    fn named_target_ports_resolve_per_slice_and_conditions_default_to_ready() {
        let svc = service(
            r#"{"metadata":{"namespace":"ns","name":"web"},
                "spec":{"type":"NodePort","clusterIP":"10.96.0.5","sessionAffinity":"ClientIP",
                        "ports":[{"name":"http","port":80,"targetPort":"http","nodePort":30080}]}}"#,
        );
        let a = slice(
            r#"{"metadata":{"namespace":"ns","name":"web-a","labels":{"kubernetes.io/service-name":"web"}},
                "addressType":"IPv4","ports":[{"name":"http","port":8080,"protocol":"TCP"}],
                "endpoints":[{"addresses":["10.244.0.2"],"nodeName":"node0"},
                             {"addresses":["10.244.1.2"],"conditions":{"ready":false,"serving":true,"terminating":true}}]}"#,
        );
        let b = slice(
            r#"{"metadata":{"namespace":"ns","name":"web-b","labels":{"kubernetes.io/service-name":"web"}},
                "addressType":"IPv4","ports":[{"name":"http","port":9090}],
                "endpoints":[{"addresses":["10.244.0.10"]}]}"#,
        );
        let state = proxy_state([&svc], [&a, &b], "node0");
        let (name, port) = state.services.iter().next().unwrap();
        assert_eq!(name.to_string(), "ns/web:http");
        assert_eq!(port.node_port, Some(30080));
        assert_eq!(port.sticky_seconds, Some(10800));
        let eps = state.endpoints_of(name);
        let addrs: Vec<String> = eps.iter().map(Endpoint::addr).collect();
        assert_eq!(
            addrs,
            ["10.244.0.10:9090", "10.244.0.2:8080", "10.244.1.2:8080"]
        );
        assert!(eps[1].ready && eps[1].local);
        assert!(!eps[2].ready && eps[2].serving && eps[2].terminating && !eps[2].local);
    }

    #[test]
    fn headless_external_name_and_ipv6_services_are_skipped() {
        for json in [
            r#"{"metadata":{"namespace":"ns","name":"h"},"spec":{"clusterIP":"None","ports":[{"port":80}]}}"#,
            r#"{"metadata":{"namespace":"ns","name":"e"},"spec":{"type":"ExternalName","externalName":"x.example"}}"#,
            r#"{"metadata":{"namespace":"ns","name":"v6"},"spec":{"clusterIP":"fd00::1","ports":[{"port":80}]}}"#,
            r#"{"metadata":{"namespace":"ns","name":"bad"},"spec":{"clusterIP":"10.96.0.1","ports":[{"port":70000,"protocol":"QUIC"}]}}"#,
        ] {
            assert!(service_ports(&service(json)).is_empty(), "{json}");
        }
    }

    #[test]
    fn cluster_ip_services_have_no_node_port_and_lb_ips_come_from_status() {
        let svc = service(
            r#"{"metadata":{"namespace":"ns","name":"lb"},
                "spec":{"type":"LoadBalancer","clusterIP":"10.96.0.7","externalTrafficPolicy":"Local",
                        "healthCheckNodePort":32000,"ports":[{"port":443,"nodePort":31443,"protocol":"UDP"}]},
                "status":{"loadBalancer":{"ingress":[{"ip":"1.2.3.4"},{"ip":"5.6.7.8","ipMode":"Proxy"},{"hostname":"x"}]}}}"#,
        );
        let ports = service_ports(&svc);
        assert_eq!(ports[0].load_balancer_ips, [Ipv4Addr::new(1, 2, 3, 4)]);
        assert_eq!(ports[0].health_check_node_port, Some(32000));
        assert!(ports[0].external_policy_local());
        let plain = service(
            r#"{"metadata":{"namespace":"ns","name":"c"},"spec":{"clusterIP":"10.96.0.8","ports":[{"port":80,"nodePort":30001}]}}"#,
        );
        assert_eq!(service_ports(&plain)[0].node_port, None);
    }

    #[test]
    fn updating_one_service_gives_what_converting_everything_gives() {
        let svc = |name: &str, ip: &str| {
            service(&format!(
                r#"{{"metadata":{{"namespace":"ns","name":"{name}"}},
                    "spec":{{"clusterIP":"{ip}","ports":[{{"name":"a","port":80}},{{"name":"b","port":81}}]}}}}"#
            ))
        };
        let slice_of = |name: &str, ip: &str| {
            slice(&format!(
                r#"{{"metadata":{{"namespace":"ns","name":"{name}-x","labels":{{"kubernetes.io/service-name":"{name}"}}}},
                    "addressType":"IPv4","ports":[{{"name":"a","port":8080}},{{"name":"b","port":8081}}],
                    "endpoints":[{{"addresses":["{ip}"]}}]}}"#
            ))
        };
        let (web, web2, db) = (
            svc("web", "10.96.0.1"),
            svc("web", "10.96.0.9"),
            svc("db", "10.96.0.2"),
        );
        let (web_eps, web_eps2, db_eps) = (
            slice_of("web", "10.244.0.1"),
            slice_of("web", "10.244.0.7"),
            slice_of("db", "10.244.0.2"),
        );
        let mut state = proxy_state([&web, &db], [&web_eps, &db_eps], "n");
        update_service(
            &mut state,
            "ns",
            "web",
            Some(&web2),
            [&web_eps2, &db_eps],
            "n",
        );
        assert_eq!(state, proxy_state([&web2, &db], [&web_eps2, &db_eps], "n"));
        update_service(&mut state, "ns", "web", None, [&web_eps2, &db_eps], "n");
        assert_eq!(state, proxy_state([&db], [&db_eps], "n"));
        assert_eq!(
            slice_service(&db_eps),
            Some(("ns".to_string(), "db".to_string()))
        );
    }
}
