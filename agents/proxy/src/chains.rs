//! Chain names, as upstream kube-proxy spells them, so that `iptables-save` on an rkube
//! node reads like one on any Kubernetes node.
//!
//! Per-service chains carry a hash: the first 16 characters of the base32 (RFC 4648,
//! upper case) encoding of the SHA-256 of `namespace/name:port` + protocol (+ `ip:port`
//! for an endpoint chain). iptables limits chain names to 28 characters.

use sha2::{Digest, Sha256};

use crate::model::{Endpoint, ServicePortName};
use crate::ruleset::TableName;

pub const SERVICES: &str = "KUBE-SERVICES";
pub const EXTERNAL_SERVICES: &str = "KUBE-EXTERNAL-SERVICES";
pub const NODE_PORTS: &str = "KUBE-NODEPORTS";
pub const POSTROUTING: &str = "KUBE-POSTROUTING";
pub const MARK_MASQ: &str = "KUBE-MARK-MASQ";
pub const FORWARD: &str = "KUBE-FORWARD";
pub const PROXY_FIREWALL: &str = "KUBE-PROXY-FIREWALL";
/// The anti-martian chain for localhost node ports (a copy of kubelet's).
pub const KUBELET_FIREWALL: &str = "KUBE-FIREWALL";

/// The top-level chains of each table, in the order they are declared (per-service
/// chains are found by prefix).
pub fn top_level(table: TableName) -> &'static [&'static str] {
    match table {
        TableName::Filter => &[
            SERVICES,
            EXTERNAL_SERVICES,
            FORWARD,
            NODE_PORTS,
            PROXY_FIREWALL,
            KUBELET_FIREWALL,
        ],
        TableName::Nat => &[SERVICES, NODE_PORTS, POSTROUTING, MARK_MASQ],
    }
}

/// Prefixes of the per-service chains: any chain with one of these is ours to delete.
pub const SERVICE_CHAIN_PREFIXES: [&str; 5] = [
    "KUBE-SVC-",
    "KUBE-SVL-",
    "KUBE-EXT-",
    "KUBE-FW-",
    "KUBE-SEP-",
];

pub fn is_service_chain(name: &str) -> bool {
    SERVICE_CHAIN_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// The chains of one service port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceChains {
    /// `KUBE-SVC-`: every usable endpoint (Cluster policy).
    pub cluster: String,
    /// `KUBE-SVL-`: this node's endpoints (Local policy).
    pub local: String,
    /// `KUBE-EXT-`: traffic to node ports, external and load-balancer IPs.
    pub external: String,
    /// `KUBE-FW-`: `loadBalancerSourceRanges`.
    pub firewall: String,
}

impl ServiceChains {
    pub fn new(name: &ServicePortName) -> ServiceChains {
        let hash = short_hash(&format!("{name}{}", name.protocol.lower()));
        ServiceChains {
            cluster: format!("KUBE-SVC-{hash}"),
            local: format!("KUBE-SVL-{hash}"),
            external: format!("KUBE-EXT-{hash}"),
            firewall: format!("KUBE-FW-{hash}"),
        }
    }
}

/// `KUBE-SEP-`: the DNAT to one endpoint of one service port.
pub fn endpoint_chain(name: &ServicePortName, endpoint: &Endpoint) -> String {
    let key = format!("{name}{}{}", name.protocol.lower(), endpoint.addr());
    format!("KUBE-SEP-{}", short_hash(&key))
}

/// The base32 encoding of the SHA-256 of `key` (for nftables names too).
pub fn base32_sha256(key: &str) -> String {
    base32(&Sha256::digest(key.as_bytes()))
}

fn short_hash(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let mut encoded = base32(&digest);
    encoded.truncate(16);
    encoded
}

/// RFC 4648 base32 with padding, as Go's `base32.StdEncoding`.
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    for chunk in bytes.chunks(5) {
        let mut block = [0u8; 5];
        block[..chunk.len()].copy_from_slice(chunk);
        let bits = block.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let symbols = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < symbols {
                let index = (bits >> (35 - 5 * i)) & 0x1f;
                out.push(ALPHABET[index as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Protocol;

    fn name(ns: &str, svc: &str, port: &str, protocol: Protocol) -> ServicePortName {
        ServicePortName {
            namespace: ns.into(),
            name: svc.into(),
            port: port.into(),
            protocol,
        }
    }

    #[test]
    fn base32_matches_rfc4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "MY======"),
            ("fo", "MZXQ===="),
            ("foo", "MZXW6==="),
            ("foob", "MZXW6YQ="),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI======"),
        ] {
            assert_eq!(base32(input.as_bytes()), want, "{input:?}");
        }
    }

    // Names from upstream kube-proxy's own iptables tests (pkg/proxy/iptables), so a
    // node's rules carry the same chain names under rkube as under kube-proxy.
    #[test]
    fn chain_names_match_upstream_kube_proxy() {
        let svc1 = name("ns1", "svc1", "p80", Protocol::Tcp);
        assert_eq!(
            ServiceChains::new(&svc1).cluster,
            "KUBE-SVC-XPGD46QRK7WJZT7O"
        );
        let svc2 = name("ns2", "svc2", "p80", Protocol::Tcp);
        let chains = ServiceChains::new(&svc2);
        assert_eq!(chains.cluster, "KUBE-SVC-GNZBNJ2PO5MGZ6GT");
        assert_eq!(chains.external, "KUBE-EXT-GNZBNJ2PO5MGZ6GT");
        assert_eq!(chains.local, "KUBE-SVL-GNZBNJ2PO5MGZ6GT");
        let ep = Endpoint {
            ip: "10.180.0.1".parse().unwrap(),
            port: 80,
            ready: true,
            serving: true,
            terminating: false,
            local: false,
        };
        assert_eq!(endpoint_chain(&svc1, &ep), "KUBE-SEP-SXIVWICOYRO3J4NJ");
    }

    #[test]
    fn names_fit_iptables_limit_and_differ_by_protocol() {
        let tcp = ServiceChains::new(&name("a-very-long-namespace", "x", "dns", Protocol::Tcp));
        let udp = ServiceChains::new(&name("a-very-long-namespace", "x", "dns", Protocol::Udp));
        assert_ne!(tcp.cluster, udp.cluster);
        assert!(tcp.firewall.len() <= 28 && tcp.cluster.len() <= 28);
    }
}
