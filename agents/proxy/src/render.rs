//! `ProxyRules::render`: Services and endpoints in, the whole `filter` and `nat` rulesets
//! out, with upstream kube-proxy's chain structure (pkg/proxy/iptables/proxier.go), so
//! that people who debug kube-proxy recognise every chain. No I/O.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;

use crate::chains::{self, ServiceChains};
use crate::cidr::Ipv4Cidr;
use crate::model::{categorize, Endpoint, ServicePort, ServicePortName};
use crate::ruleset::{comment, Chain, Jump, Ruleset, Table, TableName};

/// Above this many endpoints in total, per-endpoint comments are left out: they are
/// 40 % of the input in big clusters (upstream's "large cluster mode").
pub const LARGE_CLUSTER_ENDPOINTS: usize = 1000;

/// Where node ports are served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodePortAddresses {
    /// Every local address (`--nodeport-addresses` empty): `-m addrtype --dst-type LOCAL`.
    AllLocal,
    /// This node's addresses inside the `--nodeport-addresses` CIDRs.
    Only(Vec<Ipv4Addr>),
}

/// The node-wide settings rendering depends on (from flags and the node's state).
#[derive(Clone, Debug)]
pub struct RenderConfig {
    pub masquerade_all: bool,
    /// The fwmark bit that asks KUBE-POSTROUTING to masquerade (`--iptables-masquerade-bit`, 14).
    pub masquerade_bit: u8,
    /// `--cluster-cidr`: traffic from outside it is masqueraded on its way to a cluster IP.
    pub cluster_cidr: Option<Ipv4Cidr>,
    pub node_ip: Option<Ipv4Addr>,
    pub nodeport_addresses: NodePortAddresses,
    /// Node ports answer on 127.0.0.1 (needs `route_localnet`), as upstream by default.
    pub localhost_nodeports: bool,
    /// `nf_conntrack_tcp_be_liberal` is set: no need to drop INVALID packets.
    pub conntrack_tcp_liberal: bool,
    /// `MASQUERADE --random-fully` (iptables ≥ 1.6.2).
    pub random_fully: bool,
}

impl Default for RenderConfig {
    fn default() -> Self {
        RenderConfig {
            masquerade_all: false,
            masquerade_bit: 14,
            cluster_cidr: None,
            node_ip: None,
            nodeport_addresses: NodePortAddresses::AllLocal,
            localhost_nodeports: true,
            conntrack_tcp_liberal: false,
            random_fully: true,
        }
    }
}

/// The state rules are rendered from: every proxied service port and its endpoints.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProxyState {
    pub services: BTreeMap<ServicePortName, ServicePort>,
    pub endpoints: HashMap<ServicePortName, Vec<Endpoint>>,
}

impl ProxyState {
    pub fn endpoints_of(&self, name: &ServicePortName) -> &[Endpoint] {
        self.endpoints.get(name).map(Vec::as_slice).unwrap_or(&[])
    }
}

pub struct ProxyRules;

/// One service port's share of the ruleset: its rules in the top-level chains
/// (`KUBE-SERVICES`, `KUBE-NODEPORTS`, …) and its own chains (`KUBE-SVC-`, `KUBE-SEP-`, …).
/// The syncer keeps one per service port and re-renders only those whose Service or
/// endpoints changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceRules {
    /// (table, top-level chain, rule), in the order they are written.
    pub top: Vec<(TableName, &'static str, String)>,
    /// The service port's own chains, in the order they are declared.
    pub chains: Vec<(TableName, Chain)>,
}

impl ServiceRules {
    pub fn chains_of(&self, table: TableName) -> impl Iterator<Item = &Chain> {
        self.chains
            .iter()
            .filter(move |(t, _)| *t == table)
            .map(|(_, c)| c)
    }

    pub fn rule_count(&self) -> usize {
        self.top.len()
            + self
                .chains
                .iter()
                .map(|(_, c)| c.rules.len())
                .sum::<usize>()
    }
}

/// Upstream's "large cluster mode": more than [`LARGE_CLUSTER_ENDPOINTS`] endpoints.
pub fn is_large_cluster(state: &ProxyState) -> bool {
    let total: usize = state
        .services
        .keys()
        .map(|n| state.endpoints_of(n).len())
        .sum();
    total > LARGE_CLUSTER_ENDPOINTS
}

impl ProxyRules {
    pub fn render(config: &RenderConfig, state: &ProxyState) -> Ruleset {
        let large = is_large_cluster(state);
        let services: Vec<ServiceRules> = state
            .services
            .values()
            .map(|svc| Self::render_service(config, large, svc, state.endpoints_of(&svc.name)))
            .collect();
        let mut out = Self::top_level(config, services.iter());
        for s in &services {
            for (table, chain) in &s.chains {
                let t = out.table_mut(*table);
                t.declare(&chain.name);
                for r in &chain.rules {
                    t.rule(&chain.name, r.clone());
                }
            }
        }
        out
    }

    /// The rules of one service port, without I/O.
    pub fn render_service(
        config: &RenderConfig,
        large_cluster: bool,
        svc: &ServicePort,
        endpoints: &[Endpoint],
    ) -> ServiceRules {
        let mut r = Renderer::new(config, large_cluster);
        for table in TableName::ALL {
            for c in chains::top_level(table) {
                r.out.table_mut(table).declare(c);
            }
        }
        r.service(svc, endpoints);
        let mut out = ServiceRules::default();
        for table in TableName::ALL {
            let top = chains::top_level(table);
            for chain in std::mem::take(&mut r.out.table_mut(table).chains) {
                match top.iter().find(|c| **c == chain.name) {
                    Some(name) => out
                        .top
                        .extend(chain.rules.into_iter().map(|rule| (table, *name, rule))),
                    None => out.chains.push((table, chain)),
                }
            }
        }
        out
    }

    /// The top-level chains: their own rules, the services' rules in them (in the
    /// order given) and the rules that must come last.
    pub fn top_level<'a>(
        config: &RenderConfig,
        services: impl Iterator<Item = &'a ServiceRules>,
    ) -> Ruleset {
        let mut r = Renderer::new(config, false);
        r.top_level_chains();
        for s in services {
            for (table, chain, rule) in &s.top {
                r.out.table_mut(*table).rule(chain, rule.clone());
            }
        }
        r.node_ports_jump();
        r.forward_rules();
        r.out
    }

    /// The jumps from built-in chains into ours, in upstream's order (each is inserted
    /// at the top of its chain, so the last one listed ends up first).
    pub fn jumps(config: &RenderConfig) -> Vec<Jump> {
        let new = "-m conntrack --ctstate NEW ";
        let jump = |table, from, prefix: &str, text: &str, to: &str| Jump {
            table,
            from,
            rule: if text.is_empty() {
                format!("{prefix}-j {to}")
            } else {
                format!("{prefix}{} -j {to}", comment(text))
            },
        };
        use TableName::{Filter, Nat};
        let ext = "kubernetes externally-visible service portals";
        let portals = "kubernetes service portals";
        let firewall = "kubernetes load balancer firewall";
        let mut out = vec![
            jump(Filter, "INPUT", new, ext, chains::EXTERNAL_SERVICES),
            jump(Filter, "FORWARD", new, ext, chains::EXTERNAL_SERVICES),
            jump(
                Filter,
                "INPUT",
                "",
                "kubernetes health check service ports",
                chains::NODE_PORTS,
            ),
            jump(Filter, "FORWARD", new, portals, chains::SERVICES),
            jump(Filter, "OUTPUT", new, portals, chains::SERVICES),
            jump(
                Filter,
                "FORWARD",
                "",
                "kubernetes forwarding rules",
                chains::FORWARD,
            ),
            jump(Filter, "INPUT", new, firewall, chains::PROXY_FIREWALL),
            jump(Filter, "OUTPUT", new, firewall, chains::PROXY_FIREWALL),
            jump(Filter, "FORWARD", new, firewall, chains::PROXY_FIREWALL),
            jump(Nat, "OUTPUT", "", portals, chains::SERVICES),
            jump(Nat, "PREROUTING", "", portals, chains::SERVICES),
            jump(
                Nat,
                "POSTROUTING",
                "",
                "kubernetes postrouting rules",
                chains::POSTROUTING,
            ),
        ];
        if config.localhost_nodeports {
            out.push(jump(Filter, "INPUT", "", "", chains::KUBELET_FIREWALL));
            out.push(jump(Filter, "OUTPUT", "", "", chains::KUBELET_FIREWALL));
        }
        out
    }
}

/// `1/n` with ten decimals, as upstream writes `--probability`.
pub fn probability(n: usize) -> String {
    format!("{:.10}", 1.0 / n as f64)
}

struct Renderer<'a> {
    config: &'a RenderConfig,
    mark: String,
    large_cluster: bool,
    out: Ruleset,
}

impl<'a> Renderer<'a> {
    fn new(config: &'a RenderConfig, large_cluster: bool) -> Self {
        Renderer {
            config,
            mark: format!("{:#x}", 1u32 << config.masquerade_bit.min(31)),
            large_cluster,
            out: Ruleset::default(),
        }
    }

    fn filter(&mut self) -> &mut Table {
        &mut self.out.filter
    }

    fn nat(&mut self) -> &mut Table {
        &mut self.out.nat
    }

    fn top_level_chains(&mut self) {
        for c in [
            chains::SERVICES,
            chains::EXTERNAL_SERVICES,
            chains::FORWARD,
            chains::NODE_PORTS,
            chains::PROXY_FIREWALL,
        ] {
            self.filter().declare(c);
        }
        for c in [
            chains::SERVICES,
            chains::NODE_PORTS,
            chains::POSTROUTING,
            chains::MARK_MASQ,
        ] {
            self.nat().declare(c);
        }
        let mark = self.mark.clone();
        self.nat().rule(
            chains::POSTROUTING,
            format!("-m mark ! --mark {mark}/{mark} -j RETURN"),
        );
        // Clear the mark so a packet that goes through the stack again is not
        // masqueraded twice.
        self.nat()
            .rule(chains::POSTROUTING, format!("-j MARK --xor-mark {mark}"));
        let random = if self.config.random_fully {
            " --random-fully"
        } else {
            ""
        };
        let masq = format!(
            "{} -j MASQUERADE{random}",
            comment("kubernetes service traffic requiring SNAT")
        );
        self.nat().rule(chains::POSTROUTING, masq);
        self.nat()
            .rule(chains::MARK_MASQ, format!("-j MARK --or-mark {mark}"));
        if self.config.localhost_nodeports {
            // route_localnet lets martian packets to 127/8 in; this drops them unless
            // they are replies or DNATed node-port traffic (upstream issue 90259).
            let rule = format!(
                "{} -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP",
                comment("block incoming localnet connections")
            );
            self.filter().rule(chains::KUBELET_FIREWALL, rule);
        }
    }

    fn service(&mut self, svc: &ServicePort, endpoints: &[Endpoint]) {
        let name = svc.name.to_string();
        let proto = svc.name.protocol.lower();
        let match_proto = format!("-m {proto} -p {proto}");
        let sc = ServiceChains::new(&svc.name);
        let cat = categorize(svc, endpoints);

        let uses_cluster_chain = !cat.cluster.is_empty() && svc.uses_cluster_endpoints();
        let uses_local_chain = !cat.local.is_empty() && svc.uses_local_endpoints();
        let (internal_chain, has_internal) = if svc.internal_policy_local() {
            (&sc.local, cat.any && !cat.local.is_empty())
        } else {
            (&sc.cluster, cat.any)
        };
        let (external_policy_chain, has_external) = if svc.external_policy_local() {
            (&sc.local, cat.any && !cat.local.is_empty())
        } else {
            (&sc.cluster, cat.any)
        };
        let uses_external_chain = cat.any && svc.externally_accessible();
        let uses_fw_chain = cat.any
            && !svc.load_balancer_ips.is_empty()
            && !svc.load_balancer_source_ranges.is_empty();
        let lb_chain = if uses_fw_chain {
            &sc.firewall
        } else {
            &sc.external
        };

        // No endpoints at all: REJECT (connection refused). Endpoints, but none this
        // policy may use: DROP.
        let (internal_filter, external_filter) = if !cat.any {
            let c = comment(&format!("{name} has no endpoints"));
            (Some(("REJECT", c.clone())), Some(("REJECT", c)))
        } else {
            let c = comment(&format!("{name} has no local endpoints"));
            (
                (!has_internal).then(|| ("DROP", c.clone())),
                (!has_external).then_some(("DROP", c)),
            )
        };

        let cluster_ip_match = format!("{match_proto} -d {} --dport {}", svc.cluster_ip, svc.port);
        if has_internal {
            let rule = format!(
                "{} {cluster_ip_match} -j {internal_chain}",
                comment(&format!("{name} cluster IP"))
            );
            self.nat().rule(chains::SERVICES, rule);
        } else if let Some((target, c)) = &internal_filter {
            let rule = format!("{c} {cluster_ip_match} -j {target}");
            self.filter().rule(chains::SERVICES, rule);
        }

        for ip in &svc.external_ips {
            let dst = format!("{match_proto} -d {ip} --dport {}", svc.port);
            if cat.any {
                let c = comment(&format!("{name} external IP"));
                self.nat()
                    .rule(chains::SERVICES, format!("{c} {dst} -j {}", sc.external));
            }
            if let Some((target, c)) = &external_filter {
                self.filter()
                    .rule(chains::EXTERNAL_SERVICES, format!("{c} {dst} -j {target}"));
            }
        }

        for ip in &svc.load_balancer_ips {
            let dst = format!("{match_proto} -d {ip} --dport {}", svc.port);
            if cat.any {
                let c = comment(&format!("{name} loadbalancer IP"));
                self.nat()
                    .rule(chains::SERVICES, format!("{c} {dst} -j {lb_chain}"));
            }
            if uses_fw_chain {
                let c = comment(&format!("{name} traffic not accepted by {}", sc.firewall));
                self.filter()
                    .rule(chains::PROXY_FIREWALL, format!("{c} {dst} -j DROP"));
            }
        }
        if let Some((target, c)) = &external_filter {
            for ip in &svc.load_balancer_ips {
                let dst = format!("{match_proto} -d {ip} --dport {}", svc.port);
                self.filter()
                    .rule(chains::EXTERNAL_SERVICES, format!("{c} {dst} -j {target}"));
            }
        }

        if let Some(node_port) = svc.node_port {
            if cat.any {
                let rule = format!(
                    "{} {match_proto} --dport {node_port} -j {}",
                    comment(&name),
                    sc.external
                );
                self.nat().rule(chains::NODE_PORTS, rule);
            }
            if let Some((target, c)) = &external_filter {
                let rule = format!(
                    "{c} -m addrtype --dst-type LOCAL {match_proto} --dport {node_port} -j {target}"
                );
                self.filter().rule(chains::EXTERNAL_SERVICES, rule);
            }
        }

        if let Some(port) = svc.health_check_node_port {
            let rule = format!(
                "{} -m tcp -p tcp --dport {port} -j ACCEPT",
                comment(&format!("{name} health check node port"))
            );
            self.filter().rule(chains::NODE_PORTS, rule);
        }

        if has_internal {
            let c = comment(&format!("{name} cluster IP"));
            if self.config.masquerade_all {
                self.nat().rule(
                    internal_chain,
                    format!("{c} {cluster_ip_match} -j {}", chains::MARK_MASQ),
                );
            } else if let Some(cidr) = self.config.cluster_cidr {
                // Off-cluster traffic to a cluster IP may be routed back off-node:
                // masquerade it so replies come back through this node.
                self.nat().rule(
                    internal_chain,
                    format!(
                        "{c} {cluster_ip_match} ! -s {cidr} -j {}",
                        chains::MARK_MASQ
                    ),
                );
            }
        }

        if uses_external_chain {
            self.external_chain(svc, &name, &sc, external_policy_chain, has_external);
        }
        if uses_fw_chain {
            self.firewall_chain(svc, &name, &sc);
        }
        if uses_cluster_chain {
            self.service_to_endpoints(svc, &name, &sc.cluster, &cat.cluster);
        }
        if uses_local_chain {
            self.service_to_endpoints(svc, &name, &sc.local, &cat.local);
        }
        for ep in &cat.reachable {
            self.endpoint_chain(svc, &name, &match_proto, ep);
        }
    }

    fn external_chain(
        &mut self,
        svc: &ServicePort,
        name: &str,
        sc: &ServiceChains,
        policy_chain: &str,
        has_external: bool,
    ) {
        let ext = sc.external.as_str();
        self.nat().declare(ext);
        if !svc.external_policy_local() {
            // Endpoints may be on other nodes: masquerade so replies come back here.
            let c = comment(&format!(
                "masquerade traffic for {name} external destinations"
            ));
            self.nat()
                .rule(ext, format!("{c} -j {}", chains::MARK_MASQ));
        } else {
            if let Some(cidr) = self.config.cluster_cidr {
                // Pods going to an external address of a service behave as if they went
                // out to a load balancer and came back: no traffic policy applies.
                let c = comment(&format!("pod traffic for {name} external destinations"));
                self.nat()
                    .rule(ext, format!("{c} -s {cidr} -j {}", sc.cluster));
            }
            // The node itself has a local address as source, which must be rewritten.
            let c = comment(&format!(
                "masquerade LOCAL traffic for {name} external destinations"
            ));
            self.nat().rule(
                ext,
                format!("{c} -m addrtype --src-type LOCAL -j {}", chains::MARK_MASQ),
            );
            let c = comment(&format!(
                "route LOCAL traffic for {name} external destinations"
            ));
            self.nat().rule(
                ext,
                format!("{c} -m addrtype --src-type LOCAL -j {}", sc.cluster),
            );
        }
        if has_external {
            self.nat().rule(ext, format!("-j {policy_chain}"));
        }
    }

    fn firewall_chain(&mut self, svc: &ServicePort, name: &str, sc: &ServiceChains) {
        let fw = sc.firewall.as_str();
        self.nat().declare(fw);
        let c = comment(&format!("{name} loadbalancer IP"));
        let mut allow_from_node = false;
        for cidr in &svc.load_balancer_source_ranges {
            self.nat()
                .rule(fw, format!("{c} -s {cidr} -j {}", sc.external));
            if let Some(ip) = self.config.node_ip {
                allow_from_node |= cidr.contains(ip);
            }
        }
        if allow_from_node {
            // A VIP-like load balancer IP is local: the node's requests to it loop
            // back with the VIP as source.
            for ip in &svc.load_balancer_ips {
                self.nat()
                    .rule(fw, format!("{c} -s {ip} -j {}", sc.external));
            }
        }
        let c = comment(&format!(
            "other traffic to {name} will be dropped by {}",
            chains::PROXY_FIREWALL
        ));
        self.nat().rule(fw, c);
    }

    fn service_to_endpoints(
        &mut self,
        svc: &ServicePort,
        name: &str,
        chain: &str,
        endpoints: &[&Endpoint],
    ) {
        self.nat().declare(chain);
        let large = self.large_cluster;
        let ep_comment = |ep: &Endpoint| {
            if large {
                String::new()
            } else {
                format!("{} ", comment(&format!("{name} -> {}", ep.addr())))
            }
        };
        if let Some(seconds) = svc.sticky_seconds {
            for ep in endpoints {
                let sep = chains::endpoint_chain(&svc.name, ep);
                let rule = format!(
                    "{}-m recent --name {sep} --rcheck --seconds {seconds} --reap -j {sep}",
                    ep_comment(ep)
                );
                self.nat().rule(chain, rule);
            }
        }
        let n = endpoints.len();
        for (i, ep) in endpoints.iter().enumerate() {
            let sep = chains::endpoint_chain(&svc.name, ep);
            // Rule i matches 1/(n-i) of what is left, so every endpoint gets 1/n.
            let statistic = if i + 1 < n {
                format!(
                    "-m statistic --mode random --probability {} ",
                    probability(n - i)
                )
            } else {
                String::new()
            };
            let rule = format!("{}{statistic}-j {sep}", ep_comment(ep));
            self.nat().rule(chain, rule);
        }
    }

    fn endpoint_chain(&mut self, svc: &ServicePort, name: &str, match_proto: &str, ep: &Endpoint) {
        let sep = chains::endpoint_chain(&svc.name, ep);
        let c = if self.large_cluster {
            String::new()
        } else {
            format!("{} ", comment(name))
        };
        // Hairpin: a pod reaching itself through the service must be masqueraded or
        // its reply would bypass conntrack's reverse NAT.
        self.nat()
            .rule(&sep, format!("{c}-s {} -j {}", ep.ip, chains::MARK_MASQ));
        let recent = if svc.sticky_seconds.is_some() {
            format!("-m recent --name {sep} --set ")
        } else {
            String::new()
        };
        let rule = format!(
            "{c}{recent}{match_proto} -j DNAT --to-destination {}",
            ep.addr()
        );
        self.nat().rule(&sep, rule);
    }

    /// The last rule of nat KUBE-SERVICES: anything else addressed to a node-port
    /// address goes to KUBE-NODEPORTS.
    fn node_ports_jump(&mut self) {
        let c =
            comment("kubernetes service nodeports; NOTE: this must be the last rule in this chain");
        match &self.config.nodeport_addresses {
            NodePortAddresses::AllLocal => {
                let localhost = if self.config.localhost_nodeports {
                    ""
                } else {
                    " ! -d 127.0.0.0/8"
                };
                let rule = format!(
                    "{c} -m addrtype --dst-type LOCAL{localhost} -j {}",
                    chains::NODE_PORTS
                );
                self.nat().rule(chains::SERVICES, rule);
            }
            NodePortAddresses::Only(ips) => {
                for ip in ips.clone() {
                    if ip.is_loopback() && !self.config.localhost_nodeports {
                        continue;
                    }
                    let rule = format!("{c} -d {ip} -j {}", chains::NODE_PORTS);
                    self.nat().rule(chains::SERVICES, rule);
                }
            }
        }
    }

    fn forward_rules(&mut self) {
        if !self.config.conntrack_tcp_liberal {
            // Without be_liberal, out-of-window packets are INVALID and would reach the
            // pod un-NATed and be answered with a reset (upstream issue 74839).
            self.filter().rule(
                chains::FORWARD,
                "-m conntrack --ctstate INVALID -j DROP".into(),
            );
        }
        let mark = self.mark.clone();
        let rule = format!(
            "{} -m mark --mark {mark}/{mark} -j ACCEPT",
            comment("kubernetes forwarding rules")
        );
        self.filter().rule(chains::FORWARD, rule);
        let rule = format!(
            "{} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
            comment("kubernetes forwarding conntrack rule")
        );
        self.filter().rule(chains::FORWARD, rule);
    }
}
