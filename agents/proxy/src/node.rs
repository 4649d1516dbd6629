//! This node's identity and addresses, and the sysctls the rules rely on.

use std::net::Ipv4Addr;

use crate::cidr::Ipv4Cidr;
use crate::render::NodePortAddresses;

const ROUTE_LOCALNET: &str = "/proc/sys/net/ipv4/conf/all/route_localnet";
const TCP_BE_LIBERAL: &str = "/proc/sys/net/netfilter/nf_conntrack_tcp_be_liberal";

/// `--hostname-override`, else the kernel's hostname, lower-cased as upstream does.
pub fn node_name(hostname_override: Option<&str>) -> String {
    match hostname_override.map(str::trim).filter(|h| !h.is_empty()) {
        Some(h) => h.to_lowercase(),
        None => nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_default()
            .trim()
            .to_lowercase(),
    }
}

/// The IPv4 addresses of this host's interfaces (in its network namespace).
pub fn local_addresses() -> Vec<Ipv4Addr> {
    let mut out: Vec<Ipv4Addr> = nix::ifaddrs::getifaddrs()
        .into_iter()
        .flatten()
        .filter_map(|ifa| ifa.address?.as_sockaddr_in().map(|a| a.ip()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The primary node IP: the first non-loopback address.
pub fn primary_ip(addresses: &[Ipv4Addr]) -> Option<Ipv4Addr> {
    addresses.iter().copied().find(|ip| !ip.is_loopback())
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("--nodeport-addresses: {0}")]
pub struct NodePortAddressError(String);

/// What `--nodeport-addresses` selects among this node's `addresses`.
pub fn nodeport_addresses(
    flag: &[String],
    addresses: &[Ipv4Addr],
) -> Result<NodePortAddresses, NodePortAddressError> {
    let flag: Vec<&str> = flag
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if flag.is_empty() {
        return Ok(NodePortAddresses::AllLocal);
    }
    let mut cidrs = Vec::new();
    for entry in &flag {
        if *entry == "primary" {
            if let Some(ip) = primary_ip(addresses) {
                cidrs.push(Ipv4Cidr {
                    addr: ip,
                    prefix: 32,
                });
            }
            continue;
        }
        let cidr: Ipv4Cidr = entry
            .parse()
            .map_err(|e: crate::cidr::CidrError| NodePortAddressError(e.to_string()))?;
        if cidr.prefix == 0 {
            return Ok(NodePortAddresses::AllLocal);
        }
        cidrs.push(cidr);
    }
    let ips = addresses
        .iter()
        .copied()
        .filter(|ip| cidrs.iter().any(|c| c.contains(*ip)))
        .collect();
    Ok(NodePortAddresses::Only(ips))
}

/// Whether `--nodeport-addresses` lets node ports answer on 127.0.0.1.
pub fn includes_loopback(flag: &[String]) -> bool {
    let entries: Vec<&str> = flag
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    entries.is_empty()
        || entries.iter().any(|e| {
            e.parse::<Ipv4Cidr>()
                .is_ok_and(|c| c.contains(Ipv4Addr::LOCALHOST))
        })
}

/// Lets packets to 127.0.0.1 be DNATed to pods (node ports on localhost).
pub fn enable_route_localnet() -> std::io::Result<()> {
    if std::fs::read_to_string(ROUTE_LOCALNET)?.trim() != "1" {
        std::fs::write(ROUTE_LOCALNET, "1")?;
    }
    Ok(())
}

pub fn conntrack_tcp_be_liberal() -> bool {
    std::fs::read_to_string(TCP_BE_LIBERAL).is_ok_and(|v| v.trim() != "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn nodeport_addresses_select_local_ips() {
        let ips = [
            Ipv4Addr::LOCALHOST,
            Ipv4Addr::new(10, 77, 0, 10),
            Ipv4Addr::new(192, 168, 1, 5),
        ];
        assert_eq!(
            nodeport_addresses(&[], &ips),
            Ok(NodePortAddresses::AllLocal)
        );
        assert_eq!(
            nodeport_addresses(&strings(&["10.77.0.0/16", "127.0.0.0/8"]), &ips),
            Ok(NodePortAddresses::Only(vec![ips[0], ips[1]]))
        );
        assert_eq!(
            nodeport_addresses(&strings(&["primary"]), &ips),
            Ok(NodePortAddresses::Only(vec![ips[1]]))
        );
        assert!(nodeport_addresses(&strings(&["nonsense"]), &ips).is_err());
        assert!(includes_loopback(&[]));
        assert!(includes_loopback(&strings(&["127.0.0.1/32"])));
        assert!(!includes_loopback(&strings(&["10.77.0.0/16"])));
    }
}
