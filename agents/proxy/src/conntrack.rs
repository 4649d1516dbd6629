//! Stale UDP conntrack entries. UDP has no connection to close: a flow NATed to an
//! endpoint that went away keeps going there until its entry times out, and a flow that
//! hit a service while it had no endpoints keeps being rejected. After each sync the
//! entries the change made stale are deleted with `conntrack -D` (upstream's
//! pkg/proxy/conntrack cleanup).

use std::collections::{BTreeSet, HashMap};
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

use crate::model::{categorize, Protocol, ServicePortName};
use crate::render::ProxyState;

/// Deletes conntrack entries; `args` are the filter after `conntrack -D`.
pub trait Conntrack: Send {
    fn delete(&self, args: &[String]);
}

/// Runs the `conntrack` tool. It exits 1 when nothing matched, which is no error.
#[derive(Clone, Debug, Default)]
pub struct SystemConntrack;

impl Conntrack for SystemConntrack {
    fn delete(&self, args: &[String]) {
        let result = Command::new("conntrack")
            .arg("-D")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if let Err(e) = result {
            tracing::warn!(error = %e, ?args, "cannot run conntrack to delete stale UDP entries");
        }
    }
}

/// What the cleanup needs to remember of the UDP service ports between syncs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UdpView {
    ports: HashMap<ServicePortName, UdpPort>,
}

#[derive(Clone, Debug, Default, PartialEq)]
struct UdpPort {
    /// Cluster, external and load-balancer IPs.
    ips: Vec<Ipv4Addr>,
    port: u16,
    node_port: Option<u16>,
    /// IPs of the endpoints traffic is sent to.
    endpoints: BTreeSet<Ipv4Addr>,
}

impl UdpView {
    pub fn of(state: &ProxyState) -> UdpView {
        let mut ports = HashMap::new();
        for (name, svc) in &state.services {
            if name.protocol != Protocol::Udp {
                continue;
            }
            let eps = state.endpoints_of(name);
            let cat = categorize(svc, eps);
            let mut ips = vec![svc.cluster_ip];
            ips.extend(&svc.external_ips);
            ips.extend(&svc.load_balancer_ips);
            ports.insert(
                name.clone(),
                UdpPort {
                    ips,
                    port: svc.port,
                    node_port: svc.node_port,
                    endpoints: cat.reachable.iter().map(|e| e.ip).collect(),
                },
            );
        }
        UdpView { ports }
    }

    /// The `conntrack -D` filters that the change from `self` to `new` makes stale.
    pub fn stale_entries(&self, new: &UdpView) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        let s = |v: &dyn ToString| v.to_string();
        for (name, old) in &self.ports {
            let now = new.ports.get(name);
            let still = |ip: &Ipv4Addr| now.is_some_and(|n| n.endpoints.contains(ip));
            for ep in old.endpoints.iter().filter(|ip| !still(ip)) {
                for ip in &old.ips {
                    out.push(vec![
                        s(&"-p"),
                        s(&"udp"),
                        s(&"--orig-dst"),
                        s(ip),
                        s(&"--orig-port-dst"),
                        s(&old.port),
                        s(&"--dst-nat"),
                        s(ep),
                    ]);
                }
                if let Some(np) = old.node_port {
                    out.push(vec![
                        s(&"-p"),
                        s(&"udp"),
                        s(&"--orig-port-dst"),
                        s(&np),
                        s(&"--dst-nat"),
                        s(ep),
                    ]);
                }
            }
        }
        for (name, now) in &new.ports {
            let had = self
                .ports
                .get(name)
                .is_some_and(|o| !o.endpoints.is_empty());
            if had || now.endpoints.is_empty() {
                continue;
            }
            // Packets sent while there were no endpoints created entries that keep
            // the flow from reaching the new ones.
            for ip in &now.ips {
                out.push(vec![
                    s(&"-p"),
                    s(&"udp"),
                    s(&"--orig-dst"),
                    s(ip),
                    s(&"--orig-port-dst"),
                    s(&now.port),
                ]);
            }
            if let Some(np) = now.node_port {
                out.push(vec![s(&"-p"), s(&"udp"), s(&"--orig-port-dst"), s(&np)]);
            }
        }
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{name, put, ready, service};

    fn state(endpoints: &[u8]) -> ProxyState {
        let mut svc = service(name("ns", "dns", "", Protocol::Udp), [10, 96, 0, 10], 53);
        svc.node_port = Some(30053);
        let eps = endpoints
            .iter()
            .map(|last| ready([10, 244, 0, *last], 5353, false))
            .collect();
        let mut s = ProxyState::default();
        put(&mut s, svc, eps);
        s
    }

    #[test]
    fn a_removed_endpoint_loses_its_flows() {
        let before = UdpView::of(&state(&[1, 2]));
        let after = UdpView::of(&state(&[2]));
        let stale = before.stale_entries(&after);
        assert_eq!(
            stale,
            vec![
                "-p udp --orig-dst 10.96.0.10 --orig-port-dst 53 --dst-nat 10.244.0.1",
                "-p udp --orig-port-dst 30053 --dst-nat 10.244.0.1",
            ]
            .into_iter()
            .map(|s| s.split(' ').map(String::from).collect::<Vec<_>>())
            .collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_service_getting_its_first_endpoint_drops_rejected_flows() {
        let before = UdpView::of(&state(&[]));
        let after = UdpView::of(&state(&[1]));
        let stale = before.stale_entries(&after);
        assert_eq!(stale.len(), 2);
        assert_eq!(
            stale[0].join(" "),
            "-p udp --orig-dst 10.96.0.10 --orig-port-dst 53"
        );
        assert!(after.stale_entries(&after).is_empty());
    }
}
