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

impl UdpPort {
    /// `name` in `state`, if it is a UDP service port there.
    fn of(state: &ProxyState, name: &ServicePortName) -> Option<UdpPort> {
        if name.protocol != Protocol::Udp {
            return None;
        }
        let svc = state.services.get(name)?;
        let cat = categorize(svc, state.endpoints_of(name));
        let mut ips = vec![svc.cluster_ip];
        ips.extend(&svc.external_ips);
        ips.extend(&svc.load_balancer_ips);
        Some(UdpPort {
            ips,
            port: svc.port,
            node_port: svc.node_port,
            endpoints: cat.reachable.iter().map(|e| e.ip).collect(),
        })
    }
}

fn filter(words: &[&dyn ToString]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// The `conntrack -D` filters that one port's change from `old` to `new` makes stale.
fn stale(old: Option<&UdpPort>, new: Option<&UdpPort>, out: &mut Vec<Vec<String>>) {
    if let Some(old) = old {
        let still = |ip: &Ipv4Addr| new.is_some_and(|n| n.endpoints.contains(ip));
        for ep in old.endpoints.iter().filter(|ip| !still(ip)) {
            for ip in &old.ips {
                out.push(filter(&[
                    &"-p",
                    &"udp",
                    &"--orig-dst",
                    ip,
                    &"--orig-port-dst",
                    &old.port,
                    &"--dst-nat",
                    ep,
                ]));
            }
            if let Some(np) = old.node_port {
                out.push(filter(&[
                    &"-p",
                    &"udp",
                    &"--orig-port-dst",
                    &np,
                    &"--dst-nat",
                    ep,
                ]));
            }
        }
    }
    let Some(now) = new else { return };
    let had = old.is_some_and(|o| !o.endpoints.is_empty());
    if had || now.endpoints.is_empty() {
        return;
    }
    // Packets sent while there were no endpoints created entries that keep the flow
    // from reaching the new ones.
    for ip in &now.ips {
        out.push(filter(&[
            &"-p",
            &"udp",
            &"--orig-dst",
            ip,
            &"--orig-port-dst",
            &now.port,
        ]));
    }
    if let Some(np) = now.node_port {
        out.push(filter(&[&"-p", &"udp", &"--orig-port-dst", &np]));
    }
}

impl UdpView {
    pub fn of(state: &ProxyState) -> UdpView {
        let ports = state
            .services
            .keys()
            .filter_map(|name| Some((name.clone(), UdpPort::of(state, name)?)))
            .collect();
        UdpView { ports }
    }

    /// The `conntrack -D` filters that the change from `self` to `new` makes stale.
    pub fn stale_entries(&self, new: &UdpView) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for (name, old) in &self.ports {
            stale(Some(old), new.ports.get(name), &mut out);
        }
        for (name, now) in &new.ports {
            if !self.ports.contains_key(name) {
                stale(None, Some(now), &mut out);
            }
        }
        out.sort();
        out
    }

    /// Brings the service ports `names` to `state` and returns the filters their change
    /// made stale; the other ports are not looked at.
    pub fn update<'a>(
        &mut self,
        state: &ProxyState,
        names: impl IntoIterator<Item = &'a ServicePortName>,
    ) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for name in names {
            let now = UdpPort::of(state, name);
            let old = match &now {
                Some(now) => self.ports.insert(name.clone(), now.clone()),
                None => self.ports.remove(name),
            };
            stale(old.as_ref(), now.as_ref(), &mut out);
        }
        out.sort();
        out
    }
}

/// The conntrack side of a sync, the same in both modes: after each successful sync the
/// entries its change made stale are deleted (the first sync only looks).
#[derive(Debug, Default)]
pub struct UdpCleanup {
    view: Option<UdpView>,
}

impl UdpCleanup {
    /// After a sync to `state` in which only the service ports `changed` changed (`None`:
    /// any may have), deletes the stale entries; returns how many filters it ran.
    pub fn after_sync(
        &mut self,
        conntrack: &impl Conntrack,
        state: &ProxyState,
        changed: Option<&BTreeSet<ServicePortName>>,
    ) -> usize {
        let Some(view) = &mut self.view else {
            self.view = Some(UdpView::of(state));
            return 0;
        };
        let filters = match changed {
            Some(names) => view.update(state, names),
            None => {
                let new = UdpView::of(state);
                let filters = view.stale_entries(&new);
                *view = new;
                filters
            }
        };
        for args in &filters {
            conntrack.delete(args);
        }
        filters.len()
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
