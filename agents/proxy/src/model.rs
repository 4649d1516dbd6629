//! What the rules are rendered from: one [`ServicePort`] per port of a proxied Service and
//! the [`Endpoint`]s behind it. Plain data with no Kubernetes types, so rendering is a pure
//! function that tests can feed directly (`convert.rs` builds these from the API objects).

use std::fmt;
use std::net::Ipv4Addr;

use crate::cidr::Ipv4Cidr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    /// The spelling iptables uses (`-p tcp`) and that goes into the chain hashes.
    pub fn lower(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }

    /// The API's spelling (`TCP`); `None` for anything else.
    pub fn from_api(s: &str) -> Option<Protocol> {
        match s {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }
}

/// `namespace/name:port` (`:port` only when the port has a name), plus the protocol,
/// which upstream keeps beside it: two ports may share a name across protocols.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServicePortName {
    pub namespace: String,
    pub name: String,
    pub port: String,
    pub protocol: Protocol,
}

impl fmt::Display for ServicePortName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)?;
        if !self.port.is_empty() {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

/// One port of a Service that has a cluster IP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServicePort {
    pub name: ServicePortName,
    pub cluster_ip: Ipv4Addr,
    pub port: u16,
    pub node_port: Option<u16>,
    pub external_ips: Vec<Ipv4Addr>,
    pub load_balancer_ips: Vec<Ipv4Addr>,
    pub load_balancer_source_ranges: Vec<Ipv4Cidr>,
    /// `Some(timeout seconds)` with `sessionAffinity: ClientIP`.
    pub sticky_seconds: Option<u32>,
    /// `externalTrafficPolicy: Local` (as written; only matters when externally accessible).
    pub external_traffic_local: bool,
    /// `internalTrafficPolicy: Local`.
    pub internal_traffic_local: bool,
    pub health_check_node_port: Option<u16>,
}

impl ServicePort {
    /// Reachable from outside the cluster: a node port, load-balancer or external IPs.
    pub fn externally_accessible(&self) -> bool {
        self.node_port.is_some()
            || !self.load_balancer_ips.is_empty()
            || !self.external_ips.is_empty()
    }

    pub fn external_policy_local(&self) -> bool {
        self.externally_accessible() && self.external_traffic_local
    }

    pub fn internal_policy_local(&self) -> bool {
        self.internal_traffic_local
    }

    /// Whether some traffic to this port is spread over every endpoint in the cluster.
    /// An externally accessible port always needs them: with `externalTrafficPolicy:
    /// Local` too, traffic from pods and from the node itself short-circuits to the
    /// cluster-wide chain (upstream's `UsesClusterEndpoints`).
    pub fn uses_cluster_endpoints(&self) -> bool {
        !self.internal_policy_local() || self.externally_accessible()
    }

    /// Whether some traffic to this port goes only to this node's endpoints.
    pub fn uses_local_endpoints(&self) -> bool {
        self.internal_policy_local() || self.external_policy_local()
    }
}

/// One address:port behind a service port, with its EndpointSlice conditions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub ip: Ipv4Addr,
    pub port: u16,
    pub ready: bool,
    pub serving: bool,
    pub terminating: bool,
    /// The endpoint's `nodeName` is this node.
    pub local: bool,
}

impl Endpoint {
    /// `ip:port`, as it goes into chain hashes, comments and DNAT targets.
    pub fn addr(&self) -> String {
        format!("{}:{}", self.ip, self.port)
    }
}

/// The endpoints a service port uses, split by traffic policy (upstream's
/// `CategorizeEndpoints` without topology hints).
#[derive(Debug, Default)]
pub struct Categorized<'a> {
    pub cluster: Vec<&'a Endpoint>,
    pub local: Vec<&'a Endpoint>,
    /// Every endpoint some rule of this node can reach: the union of the two.
    pub reachable: Vec<&'a Endpoint>,
    /// There is a usable endpoint somewhere in the cluster.
    pub any: bool,
}

/// Ready endpoints; when there are none, the serving ones that are terminating.
pub fn categorize<'a>(svc: &ServicePort, endpoints: &'a [Endpoint]) -> Categorized<'a> {
    let mut out = Categorized::default();
    if svc.uses_cluster_endpoints() {
        out.cluster = endpoints.iter().filter(|e| e.ready).collect();
        if out.cluster.is_empty() {
            out.cluster = endpoints
                .iter()
                .filter(|e| e.serving && e.terminating)
                .collect();
        }
        out.any = !out.cluster.is_empty();
    }
    if !svc.uses_local_endpoints() {
        out.reachable = out.cluster.clone();
        return out;
    }
    let usable = |e: &&Endpoint| e.ready || (e.serving && e.terminating);
    out.any |= endpoints.iter().any(|e| usable(&e));
    let local_ready: Vec<&Endpoint> = endpoints.iter().filter(|e| e.local && e.ready).collect();
    let local_fallback = local_ready.is_empty();
    out.local = if local_fallback {
        endpoints
            .iter()
            .filter(|e| e.local && e.serving && e.terminating)
            .collect()
    } else {
        local_ready
    };
    if !svc.uses_cluster_endpoints() {
        out.reachable = out.local.clone();
        return out;
    }
    out.reachable = out.cluster.clone();
    if local_fallback {
        // Terminating local endpoints are not in the (ready) cluster list: merge them.
        for e in &out.local {
            if !out.reachable.iter().any(|r| std::ptr::eq(*r, *e)) {
                out.reachable.push(e);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{name, service};

    pub fn svc(local_ext: bool, local_int: bool, node_port: Option<u16>) -> ServicePort {
        let mut svc = service(name("ns", "s", "", Protocol::Tcp), [10, 96, 0, 1], 80);
        svc.node_port = node_port;
        svc.external_traffic_local = local_ext;
        svc.internal_traffic_local = local_int;
        svc
    }

    fn ep(last: u8, ready: bool, serving: bool, terminating: bool, local: bool) -> Endpoint {
        Endpoint {
            ip: Ipv4Addr::new(10, 244, 0, last),
            port: 8080,
            ready,
            serving,
            terminating,
            local,
        }
    }

    #[test]
    fn ready_endpoints_win_over_terminating_ones() {
        let eps = [
            ep(1, true, true, false, false),
            ep(2, false, true, true, false),
        ];
        let c = categorize(&svc(false, false, None), &eps);
        assert_eq!(c.cluster.len(), 1);
        assert_eq!(c.cluster[0].ip, Ipv4Addr::new(10, 244, 0, 1));
        assert!(c.any);
    }

    #[test]
    fn serving_terminating_endpoints_are_the_fallback() {
        let eps = [
            ep(1, false, false, true, false),
            ep(2, false, true, true, false),
            ep(3, false, false, false, false),
        ];
        let c = categorize(&svc(false, false, None), &eps);
        assert_eq!(c.cluster.len(), 1);
        assert_eq!(c.cluster[0].ip, Ipv4Addr::new(10, 244, 0, 2));
    }

    #[test]
    fn external_local_keeps_remote_endpoints_for_cluster_traffic() {
        let eps = [
            ep(1, true, true, false, false),
            ep(2, true, true, false, true),
        ];
        let c = categorize(&svc(true, false, Some(30080)), &eps);
        assert_eq!(c.cluster.len(), 2);
        assert_eq!(c.local.len(), 1);
        assert_eq!(c.reachable.len(), 2);
    }

    #[test]
    fn both_policies_local_with_a_node_port_still_keep_cluster_endpoints_for_short_circuits() {
        let eps = [
            ep(1, true, true, false, false),
            ep(2, true, true, false, true),
        ];
        let c = categorize(&svc(true, true, Some(30080)), &eps);
        assert_eq!(c.cluster.len(), 2);
        assert_eq!(c.local.len(), 1);
    }

    #[test]
    fn internal_local_without_local_endpoints_has_endpoints_elsewhere() {
        let eps = [ep(1, true, true, false, false)];
        let c = categorize(&svc(false, true, None), &eps);
        assert!(c.cluster.is_empty());
        assert!(c.local.is_empty());
        assert!(c.any);
    }
}
