//! Service ports, endpoints and a recording conntrack, shared by the unit tests of
//! rendering, both syncers and the conntrack cleanup.

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};

use crate::conntrack::Conntrack;
use crate::model::{Endpoint, Protocol, ServicePort, ServicePortName};
use crate::render::ProxyState;

pub fn name(ns: &str, svc: &str, port: &str, protocol: Protocol) -> ServicePortName {
    ServicePortName {
        namespace: ns.into(),
        name: svc.into(),
        port: port.into(),
        protocol,
    }
}

/// A service port with a cluster IP only: no node port, external or load-balancer IPs,
/// no affinity, both traffic policies Cluster.
pub fn service(name: ServicePortName, cluster_ip: impl Into<Ipv4Addr>, port: u16) -> ServicePort {
    ServicePort {
        name,
        cluster_ip: cluster_ip.into(),
        port,
        node_port: None,
        external_ips: vec![],
        load_balancer_ips: vec![],
        load_balancer_source_ranges: vec![],
        sticky_seconds: None,
        external_traffic_local: false,
        internal_traffic_local: false,
        health_check_node_port: None,
    }
}

/// A ready (so serving, not terminating) endpoint.
pub fn ready(ip: impl Into<Ipv4Addr>, port: u16, local: bool) -> Endpoint {
    Endpoint {
        ip: ip.into(),
        port,
        ready: true,
        serving: true,
        terminating: false,
        local,
    }
}

/// Puts `svc` and its endpoints into `state`, replacing what it had.
pub fn put(state: &mut ProxyState, svc: ServicePort, endpoints: Vec<Endpoint>) {
    state.endpoints.insert(svc.name.clone(), endpoints);
    state.services.insert(svc.name.clone(), svc);
}

/// Remembers every `conntrack -D` filter, joined with spaces.
#[derive(Clone, Default)]
pub struct RecordingConntrack(pub Arc<Mutex<Vec<String>>>);

impl Conntrack for RecordingConntrack {
    fn delete(&self, args: &[String]) {
        self.0.lock().unwrap().push(args.join(" "));
    }
}

/// A change to a state, and the service ports it touches (what the proxier would name).
pub type Step = (Box<dyn Fn(&mut ProxyState)>, Vec<ServicePortName>);
