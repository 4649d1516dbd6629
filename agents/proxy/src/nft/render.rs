//! nftables rules with upstream kube-proxy's structure (pkg/proxy/nftables/proxier.go):
//! table `ip kube-proxy`, base chains `nat-prerouting`, `nat-output`, `nat-postrouting`
//! and `filter-*`, dispatch through the verdict maps `service-ips` and
//! `service-nodeports`, services without endpoints through `no-endpoint-services` /
//! `no-endpoint-nodeports`, and per service port the chains `service-…`, `local-…`,
//! `external-…`, `firewall-…`, `endpoint-…` and `affinity-…` sets. No I/O.
//!
//! One deliberate difference: upstream spreads a service over its endpoints with one
//! anonymous verdict map per service (`numgen random mod N vmap { 0 : goto …, … }`). On
//! this kernel every jump into a chain is checked for loops against every set of the
//! table, so 10,000 anonymous maps make loading 10,000 services quadratic (83 s measured,
//! against 5 s here). rkube writes the same spread as one rule per endpoint,
//! `numgen random mod K == 0 goto endpoint-…` with K = N, N-1, …, as kube-proxy's
//! iptables mode does with `statistic --probability`.

use crate::model::{categorize, Endpoint, ServicePort, ServicePortName};
use crate::render::{NodePortAddresses, RenderConfig};
use crate::ruleset::Chain;

pub const TABLE: &str = "kube-proxy";
pub const SERVICES: &str = "services";
pub const SERVICE_IPS: &str = "service-ips";
pub const SERVICE_NODEPORTS: &str = "service-nodeports";
pub const NODEPORT_IPS: &str = "nodeport-ips";
pub const ENDPOINTS_CHECK: &str = "endpoints-check";
pub const NO_ENDPOINT_SERVICES: &str = "no-endpoint-services";
pub const NO_ENDPOINT_NODEPORTS: &str = "no-endpoint-nodeports";
pub const REJECT_CHAIN: &str = "reject-chain";
pub const FIREWALL_IPS: &str = "firewall-ips";
pub const FIREWALL_CHECK: &str = "firewall-check";
pub const MARK_MASQ: &str = "mark-for-masquerade";
pub const MASQUERADING: &str = "masquerading";

/// The maps, their key types and comments, in upstream's order.
pub const MAPS: [(&str, &str, &str); 5] = [
    (
        NO_ENDPOINT_SERVICES,
        "ipv4_addr . inet_proto . inet_service : verdict",
        "vmap to drop or reject packets to services with no endpoints",
    ),
    (
        NO_ENDPOINT_NODEPORTS,
        "inet_proto . inet_service : verdict",
        "vmap to drop or reject packets to service nodeports with no endpoints",
    ),
    (
        FIREWALL_IPS,
        "ipv4_addr . inet_proto . inet_service : verdict",
        "destinations that are subject to LoadBalancerSourceRanges",
    ),
    (
        SERVICE_IPS,
        "ipv4_addr . inet_proto . inet_service : verdict",
        "ClusterIP, ExternalIP and LoadBalancer IP traffic",
    ),
    (
        SERVICE_NODEPORTS,
        "inet_proto . inet_service : verdict",
        "NodePort traffic",
    ),
];

/// One element of a verdict map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Element {
    pub map: &'static str,
    pub key: String,
    pub verdict: String,
}

/// A per-endpoint `affinity-…` set (sessionAffinity: ClientIP).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AffinitySet {
    pub name: String,
    pub timeout_seconds: u32,
}

/// Something a service port puts into the table that a later change may remove.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    Chain(String),
    Element(&'static str, String),
    Set(String),
}

/// One service port's share of the table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NftServiceRules {
    pub chains: Vec<Chain>,
    pub elements: Vec<Element>,
    pub sets: Vec<AffinitySet>,
}

impl crate::render_cache::Rendered for NftServiceRules {
    type Part = Part;
    fn parts(&self) -> Vec<Part> {
        let chains = self.chains.iter().map(|c| Part::Chain(c.name.clone()));
        let elements = self
            .elements
            .iter()
            .map(|e| Part::Element(e.map, e.key.clone()));
        let sets = self.sets.iter().map(|s| Part::Set(s.name.clone()));
        chains.chain(elements).chain(sets).collect()
    }

    /// Map elements and sets are compared one by one by the syncer.
    fn shared_differs(&self, _: &Self) -> bool {
        false
    }

    /// The table `ip kube-proxy` is both filter and NAT: its rules count as `nat`.
    fn rule_count(&self, table: crate::ruleset::TableName) -> usize {
        match table {
            crate::ruleset::TableName::Nat => self.chains.iter().map(|c| c.rules.len()).sum(),
            crate::ruleset::TableName::Filter => 0,
        }
    }
}

/// Upstream's `hashAndTruncate`: 8 characters of hash, then the readable name.
fn hashed(name: &str) -> String {
    let hash = crate::chains::base32_sha256(name);
    let mut out = format!("{}-{name}", &hash[..8]);
    if out.len() > 240 {
        out.truncate(237);
        out.push_str("...");
    }
    out
}

/// `HASH-namespace/name/protocol/port`.
pub fn service_base(name: &ServicePortName) -> String {
    hashed(&format!(
        "{}/{}/{}/{}",
        name.namespace,
        name.name,
        name.protocol.lower(),
        name.port
    ))
}

/// `HASH-namespace/name/protocol/port__ip/port`.
pub fn endpoint_base(name: &ServicePortName, ep: &Endpoint) -> String {
    hashed(&format!(
        "{}/{}/{}/{}__{}/{}",
        name.namespace,
        name.name,
        name.protocol.lower(),
        name.port,
        ep.ip,
        ep.port
    ))
}

/// Per-service chains have a `/` in their names; the fixed ones never do.
pub fn is_service_chain(name: &str) -> bool {
    name.contains('/')
}

/// A chain being built: rules appended in order.
#[derive(Default)]
struct Chains(Vec<Chain>);

impl Chains {
    fn rule(&mut self, chain: &str, rule: String) {
        match self.0.iter_mut().find(|c| c.name == chain) {
            Some(c) => c.rules.push(rule),
            None => self.0.push(Chain {
                name: chain.to_string(),
                rules: vec![rule],
            }),
        }
    }
}

/// The rules of one service port (upstream's per-service loop of `syncProxyRules`).
pub fn render_service(
    config: &RenderConfig,
    svc: &ServicePort,
    endpoints: &[Endpoint],
) -> NftServiceRules {
    let proto = svc.name.protocol.lower();
    let base = service_base(&svc.name);
    let cluster_chain = format!("service-{base}");
    let local_chain = format!("local-{base}");
    let external_chain = format!("external-{base}");
    let firewall_chain = format!("firewall-{base}");
    let cat = categorize(svc, endpoints);
    let mut out = NftServiceRules::default();
    let mut chains = Chains::default();
    let mut element = |map: &'static str, key: String, verdict: String| {
        out.elements.push(Element { map, key, verdict })
    };

    let uses_cluster_chain = !cat.cluster.is_empty() && svc.uses_cluster_endpoints();
    let uses_local_chain = !cat.local.is_empty() && svc.uses_local_endpoints();
    let (internal_chain, has_internal) = if svc.internal_policy_local() {
        (&local_chain, cat.any && !cat.local.is_empty())
    } else {
        (&cluster_chain, cat.any)
    };
    let (external_policy_chain, has_external) = if svc.external_policy_local() {
        (&local_chain, cat.any && !cat.local.is_empty())
    } else {
        (&cluster_chain, cat.any)
    };
    let uses_external_chain = cat.any && svc.externally_accessible();
    let (internal_verdict, external_verdict) = if cat.any {
        ("drop".to_string(), "drop".to_string())
    } else {
        let reject = format!("goto {REJECT_CHAIN}");
        (reject.clone(), reject)
    };
    let ip_key = |ip: std::net::Ipv4Addr| format!("{ip} . {proto} . {}", svc.port);

    if has_internal {
        element(
            SERVICE_IPS,
            ip_key(svc.cluster_ip),
            format!("goto {internal_chain}"),
        );
    } else {
        element(
            NO_ENDPOINT_SERVICES,
            ip_key(svc.cluster_ip),
            internal_verdict,
        );
    }
    for ip in &svc.external_ips {
        if cat.any {
            element(SERVICE_IPS, ip_key(*ip), format!("goto {external_chain}"));
        }
        if !has_external {
            element(NO_ENDPOINT_SERVICES, ip_key(*ip), external_verdict.clone());
        }
    }
    let uses_fw_chain =
        !svc.load_balancer_ips.is_empty() && !svc.load_balancer_source_ranges.is_empty();
    if uses_fw_chain {
        let mut sources: Vec<String> = svc
            .load_balancer_source_ranges
            .iter()
            .map(ToString::to_string)
            .collect();
        let from_node = config.node_ip.is_some_and(|ip| {
            svc.load_balancer_source_ranges
                .iter()
                .any(|c| c.contains(ip))
        });
        if from_node {
            sources.extend(svc.load_balancer_ips.iter().map(ToString::to_string));
        }
        chains.rule(
            &firewall_chain,
            format!("ip saddr != {{ {} }} drop", sources.join(", ")),
        );
    }
    for ip in &svc.load_balancer_ips {
        if cat.any {
            element(SERVICE_IPS, ip_key(*ip), format!("goto {external_chain}"));
        }
        if uses_fw_chain {
            element(FIREWALL_IPS, ip_key(*ip), format!("goto {firewall_chain}"));
        }
    }
    if !has_external {
        for ip in &svc.load_balancer_ips {
            element(NO_ENDPOINT_SERVICES, ip_key(*ip), external_verdict.clone());
        }
    }
    if let Some(node_port) = svc.node_port {
        let key = format!("{proto} . {node_port}");
        if cat.any {
            element(
                SERVICE_NODEPORTS,
                key.clone(),
                format!("goto {external_chain}"),
            );
        }
        if !has_external {
            element(NO_ENDPOINT_NODEPORTS, key, external_verdict.clone());
        }
    }

    if has_internal {
        let dst = format!("ip daddr {} {proto} dport {}", svc.cluster_ip, svc.port);
        if config.masquerade_all {
            chains.rule(internal_chain, format!("{dst} jump {MARK_MASQ}"));
        } else if let Some(cidr) = config.cluster_cidr {
            // Off-cluster traffic to a cluster IP may be routed back off-node:
            // masquerade it so replies come back through this node.
            chains.rule(
                internal_chain,
                format!("{dst} ip saddr != {cidr} jump {MARK_MASQ}"),
            );
        }
    }
    if uses_external_chain {
        if !svc.external_policy_local() {
            chains.rule(&external_chain, format!("jump {MARK_MASQ}"));
        } else {
            if let Some(cidr) = config.cluster_cidr {
                chains.rule(
                    &external_chain,
                    format!(
                        "ip saddr {cidr} goto {cluster_chain} comment \"short-circuit pod traffic\""
                    ),
                );
            }
            chains.rule(
                &external_chain,
                format!(
                    "fib saddr type local jump {MARK_MASQ} comment \"masquerade local traffic\""
                ),
            );
            chains.rule(
                &external_chain,
                format!(
                    "fib saddr type local goto {cluster_chain} comment \"short-circuit local traffic\""
                ),
            );
        }
        if has_external {
            chains.rule(&external_chain, format!("goto {external_policy_chain}"));
        }
    }
    if let Some(seconds) = svc.sticky_seconds {
        for ep in &cat.reachable {
            out.sets.push(AffinitySet {
                name: format!("affinity-{}", endpoint_base(&svc.name, ep)),
                timeout_seconds: seconds,
            });
        }
    }
    if uses_cluster_chain {
        to_endpoints(&mut chains, svc, &cluster_chain, &cat.cluster);
    }
    if uses_local_chain {
        to_endpoints(&mut chains, svc, &local_chain, &cat.local);
    }
    for ep in &cat.reachable {
        let base = endpoint_base(&svc.name, ep);
        let chain = format!("endpoint-{base}");
        // Hairpin: a pod reaching itself through the service is masqueraded.
        chains.rule(&chain, format!("ip saddr {} jump {MARK_MASQ}", ep.ip));
        if svc.sticky_seconds.is_some() {
            chains.rule(&chain, format!("update @affinity-{base} {{ ip saddr }}"));
        }
        chains.rule(
            &chain,
            format!("meta l4proto {proto} dnat to {}:{}", ep.ip, ep.port),
        );
    }
    out.chains = chains.0;
    out
}

/// The service chain's rules: affinity first, then an even spread over `endpoints`.
fn to_endpoints(chains: &mut Chains, svc: &ServicePort, chain: &str, endpoints: &[&Endpoint]) {
    if svc.sticky_seconds.is_some() {
        for ep in endpoints {
            let base = endpoint_base(&svc.name, ep);
            chains.rule(
                chain,
                format!("ip saddr @affinity-{base} goto endpoint-{base}"),
            );
        }
    }
    let n = endpoints.len();
    for (i, ep) in endpoints.iter().enumerate() {
        let target = format!("goto endpoint-{}", endpoint_base(&svc.name, ep));
        // Rule i takes 1/(n-i) of what is left, so every endpoint gets 1/n.
        let rule = if i + 1 < n {
            format!("numgen random mod {} == 0 {target}", n - i)
        } else {
            target
        };
        chains.rule(chain, rule);
    }
}

/// The table's fixed part: base chains, top-level chains and their rules, the maps and
/// sets, each declared and flushed (a full sync refills them).
pub fn setup(config: &RenderConfig, mark: u32) -> String {
    let t = format!("ip {TABLE}");
    let mut out = format!("add table {t} {{ comment \"rules for kube-proxy\" ; }}\n");
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    // Filter chains run before DNAT, on the service's own addresses.
    for (name, kind, hook, priority) in [
        ("filter-prerouting", "filter", "prerouting", -110),
        ("filter-input", "filter", "input", -110),
        ("filter-forward", "filter", "forward", -110),
        ("filter-output", "filter", "output", -110),
        ("nat-prerouting", "nat", "prerouting", -100),
        ("nat-output", "nat", "output", -100),
        ("nat-postrouting", "nat", "postrouting", 100),
    ] {
        line(format!(
            "add chain {t} {name} {{ type {kind} hook {hook} priority {priority} ; }}"
        ));
        line(format!("flush chain {t} {name}"));
    }
    for chain in [
        ENDPOINTS_CHECK,
        FIREWALL_CHECK,
        SERVICES,
        MASQUERADING,
        MARK_MASQ,
        REJECT_CHAIN,
    ] {
        line(format!("add chain {t} {chain}"));
        line(format!("flush chain {t} {chain}"));
    }
    for (from, extra, to) in [
        ("filter-input", "ct state new ", ENDPOINTS_CHECK),
        ("filter-forward", "ct state new ", ENDPOINTS_CHECK),
        ("filter-output", "ct state new ", ENDPOINTS_CHECK),
        ("filter-prerouting", "ct state new ", FIREWALL_CHECK),
        ("filter-output", "ct state new ", FIREWALL_CHECK),
        ("nat-output", "", SERVICES),
        ("nat-prerouting", "", SERVICES),
        ("nat-postrouting", "", MASQUERADING),
    ] {
        line(format!("add rule {t} {from} {extra}jump {to}"));
    }
    let mark = format!("{mark:#x}");
    line(format!("add rule {t} {MARK_MASQ} mark set mark or {mark}"));
    line(format!(
        "add rule {t} {MASQUERADING} mark and {mark} == 0 return"
    ));
    line(format!(
        "add rule {t} {MASQUERADING} mark set mark xor {mark}"
    ));
    line(format!(
        "add rule {t} {MASQUERADING} masquerade fully-random"
    ));
    line(format!("add rule {t} {REJECT_CHAIN} reject"));
    for (name, kind, comment) in MAPS {
        line(format!(
            "add map {t} {name} {{ type {kind} ; comment \"{comment}\" ; }}"
        ));
        line(format!("flush map {t} {name}"));
    }
    let node_ports = match &config.nodeport_addresses {
        NodePortAddresses::AllLocal => "fib daddr type local ip daddr != 127.0.0.0/8".to_string(),
        NodePortAddresses::Only(ips) => {
            line(format!(
                "add set {t} {NODEPORT_IPS} {{ type ipv4_addr ; comment \"IPs that accept NodePort traffic\" ; }}"
            ));
            line(format!("flush set {t} {NODEPORT_IPS}"));
            let ips: Vec<String> = ips
                .iter()
                .filter(|ip| !ip.is_loopback())
                .map(ToString::to_string)
                .collect();
            if !ips.is_empty() {
                line(format!(
                    "add element {t} {NODEPORT_IPS} {{ {} }}",
                    ips.join(", ")
                ));
            }
            format!("ip daddr @{NODEPORT_IPS}")
        }
    };
    line(format!(
        "add rule {t} {ENDPOINTS_CHECK} ip daddr . meta l4proto . th dport vmap @{NO_ENDPOINT_SERVICES}"
    ));
    line(format!(
        "add rule {t} {ENDPOINTS_CHECK} {node_ports} meta l4proto . th dport vmap @{NO_ENDPOINT_NODEPORTS}"
    ));
    line(format!(
        "add rule {t} {FIREWALL_CHECK} ip daddr . meta l4proto . th dport vmap @{FIREWALL_IPS}"
    ));
    line(format!(
        "add rule {t} {SERVICES} ip daddr . meta l4proto . th dport vmap @{SERVICE_IPS}"
    ));
    line(format!(
        "add rule {t} {SERVICES} {node_ports} meta l4proto . th dport vmap @{SERVICE_NODEPORTS}"
    ));
    out
}
