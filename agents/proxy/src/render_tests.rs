//! Rendering tests: rule shapes for each feature, and a snapshot of the whole
//! `iptables-restore` input for a fixed set of services.

use std::net::Ipv4Addr;

use crate::fixtures::{name, put, ready, service};
use crate::model::{Endpoint, Protocol, ServicePort};
use crate::render::{probability, NodePortAddresses, ProxyRules, ProxyState, RenderConfig};
use crate::restore::{restore_input, Applied};
use crate::ruleset::{Ruleset, TableName};

fn config() -> RenderConfig {
    RenderConfig {
        cluster_cidr: Some("10.244.0.0/16".parse().unwrap()),
        node_ip: Some(Ipv4Addr::new(10, 77, 0, 10)),
        ..RenderConfig::default()
    }
}

fn state(entries: Vec<(ServicePort, Vec<Endpoint>)>) -> ProxyState {
    let mut s = ProxyState::default();
    for (svc, eps) in entries {
        put(&mut s, svc, eps);
    }
    s
}

/// The full restore input of both tables, as a first sync sends it.
fn full_text(rules: &Ruleset) -> String {
    let applied = Applied::default();
    TableName::ALL
        .iter()
        .map(|t| restore_input(*t, &applied.full(*t, rules.table(*t), Vec::new())))
        .collect()
}

fn nat_rules(rules: &Ruleset, chain: &str) -> Vec<String> {
    rules
        .nat
        .get(chain)
        .map(|c| c.rules.clone())
        .unwrap_or_default()
}

/// The fixed set the snapshot (and the iptables-save acceptance test) is built from.
pub fn fixed_state() -> ProxyState {
    let svc1 = service(
        name("ns1", "svc1", "p80", Protocol::Tcp),
        [172, 30, 0, 41],
        80,
    );
    let mut svc2 = service(
        name("ns2", "svc2", "p80", Protocol::Tcp),
        [172, 30, 0, 42],
        80,
    );
    svc2.node_port = Some(3001);
    svc2.external_traffic_local = true;
    let svc3 = service(
        name("ns3", "dns", "dns", Protocol::Udp),
        [172, 30, 0, 43],
        53,
    );
    let mut svc4 = service(
        name("ns4", "empty", "", Protocol::Tcp),
        [172, 30, 0, 44],
        80,
    );
    svc4.node_port = Some(3004);
    let mut svc5 = service(
        name("ns5", "sticky", "http", Protocol::Tcp),
        [172, 30, 0, 45],
        80,
    );
    svc5.sticky_seconds = Some(10800);
    let mut svc6 = service(
        name("ns6", "lb", "https", Protocol::Tcp),
        [172, 30, 0, 46],
        443,
    );
    svc6.node_port = Some(3006);
    svc6.load_balancer_ips = vec![Ipv4Addr::new(1, 2, 3, 4)];
    svc6.load_balancer_source_ranges = vec!["203.0.113.0/24".parse().unwrap()];
    svc6.external_ips = vec![Ipv4Addr::new(192, 168, 99, 1)];
    let mut svc7 = service(
        name("ns7", "nodelocal", "", Protocol::Tcp),
        [172, 30, 0, 47],
        80,
    );
    svc7.internal_traffic_local = true;
    let svc8 = service(
        name("ns8", "sctp", "", Protocol::Sctp),
        [172, 30, 0, 48],
        9999,
    );
    let svc9 = service(
        name("ns9", "draining", "", Protocol::Tcp),
        [172, 30, 0, 49],
        80,
    );
    let terminating = Endpoint {
        ready: false,
        terminating: true,
        ..ready([10, 244, 1, 9], 80, false)
    };
    let not_ready = Endpoint {
        ready: false,
        serving: false,
        ..ready([10, 244, 1, 10], 80, false)
    };
    state(vec![
        (svc1, vec![ready([10, 180, 0, 1], 80, false)]),
        (
            svc2,
            vec![
                ready([10, 244, 0, 2], 8080, true),
                ready([10, 244, 1, 2], 8080, false),
            ],
        ),
        (
            svc3,
            vec![
                ready([10, 244, 0, 3], 5353, true),
                ready([10, 244, 1, 3], 5353, false),
                ready([10, 244, 1, 4], 5353, false),
            ],
        ),
        (svc4, vec![]),
        (
            svc5,
            vec![
                ready([10, 244, 0, 5], 80, true),
                ready([10, 244, 1, 5], 80, false),
            ],
        ),
        (svc6, vec![ready([10, 244, 1, 6], 8443, false)]),
        (svc7, vec![ready([10, 244, 1, 7], 80, false)]),
        (svc8, vec![ready([10, 244, 1, 8], 9999, false)]),
        (svc9, vec![terminating, not_ready]),
    ])
}

#[test]
fn full_ruleset_snapshot() {
    let rules = ProxyRules::render(&config(), &fixed_state());
    insta::assert_snapshot!(full_text(&rules));
}

#[test]
fn probabilities_spread_evenly() {
    assert_eq!(probability(3), "0.3333333333");
    assert_eq!(probability(2), "0.5000000000");
    let rules = ProxyRules::render(&config(), &fixed_state());
    let svc = crate::chains::ServiceChains::new(&name("ns3", "dns", "dns", Protocol::Udp));
    let jumps = nat_rules(&rules, &svc.cluster);
    // One masquerade rule for off-cluster sources, then three jumps.
    assert_eq!(jumps.len(), 4, "{jumps:#?}");
    assert!(jumps[1].contains("--probability 0.3333333333"));
    assert!(jumps[2].contains("--probability 0.5000000000"));
    assert!(!jumps[3].contains("statistic"));
}

#[test]
fn no_endpoints_rejects_in_filter_and_has_no_nat_chains() {
    let rules = ProxyRules::render(&config(), &fixed_state());
    let filter = &rules.filter.get("KUBE-SERVICES").unwrap().rules;
    assert!(filter
        .iter()
        .any(|r| r.contains("ns4/empty has no endpoints")
            && r.contains("-d 172.30.0.44")
            && r.ends_with("-j REJECT")));
    let ext = &rules.filter.get("KUBE-EXTERNAL-SERVICES").unwrap().rules;
    assert!(ext
        .iter()
        .any(|r| r.contains("--dport 3004") && r.ends_with("-j REJECT")));
    let chains = crate::chains::ServiceChains::new(&name("ns4", "empty", "", Protocol::Tcp));
    assert!(rules.nat.get(&chains.cluster).is_none());
    assert!(!nat_rules(&rules, "KUBE-SERVICES")
        .iter()
        .any(|r| r.contains("172.30.0.44")));
}

#[test]
fn terminating_serving_endpoints_are_used_when_none_is_ready() {
    let rules = ProxyRules::render(&config(), &fixed_state());
    let text = full_text(&rules);
    assert!(text.contains("--to-destination 10.244.1.9:80"));
    assert!(!text.contains("10.244.1.10"));
}

#[test]
fn external_local_uses_only_local_endpoints_for_outside_traffic() {
    let rules = ProxyRules::render(&config(), &fixed_state());
    let svc = crate::chains::ServiceChains::new(&name("ns2", "svc2", "p80", Protocol::Tcp));
    let svl = nat_rules(&rules, &svc.local);
    assert_eq!(svl.len(), 1);
    assert!(svl[0].contains("10.244.0.2:8080"));
    let ext = nat_rules(&rules, &svc.external);
    assert_eq!(ext.last().unwrap(), &format!("-j {}", svc.local));
    // No masquerade for outside sources: the client's address is kept.
    assert!(!ext
        .iter()
        .any(|r| r.ends_with("-j KUBE-MARK-MASQ") && !r.contains("LOCAL")));
    // Cluster-IP traffic still goes to every endpoint.
    assert_eq!(nat_rules(&rules, &svc.cluster).len(), 3);
}

#[test]
fn internal_local_without_local_endpoints_drops() {
    let rules = ProxyRules::render(&config(), &fixed_state());
    let filter = &rules.filter.get("KUBE-SERVICES").unwrap().rules;
    assert!(filter
        .iter()
        .any(|r| r.contains("ns7/nodelocal has no local endpoints") && r.ends_with("-j DROP")));
}

#[test]
fn session_affinity_checks_and_sets_recent_lists() {
    let rules = ProxyRules::render(&config(), &fixed_state());
    let svc = crate::chains::ServiceChains::new(&name("ns5", "sticky", "http", Protocol::Tcp));
    let jumps = nat_rules(&rules, &svc.cluster);
    let checks: Vec<&String> = jumps.iter().filter(|r| r.contains("--rcheck")).collect();
    assert_eq!(checks.len(), 2);
    assert!(checks[0].contains("--seconds 10800 --reap"));
    let text = full_text(&rules);
    assert_eq!(text.matches("--set -m tcp -p tcp -j DNAT").count(), 2);
}

#[test]
fn nodeport_addresses_limit_the_nodeports_jump() {
    let mut cfg = config();
    cfg.nodeport_addresses =
        NodePortAddresses::Only(vec![Ipv4Addr::new(10, 77, 0, 10), Ipv4Addr::LOCALHOST]);
    let rules = ProxyRules::render(&cfg, &fixed_state());
    let services = nat_rules(&rules, "KUBE-SERVICES");
    let tail: Vec<&String> = services
        .iter()
        .filter(|r| r.ends_with("-j KUBE-NODEPORTS"))
        .collect();
    assert_eq!(tail.len(), 2);
    assert!(tail[0].contains("-d 10.77.0.10"));
    assert!(tail[1].contains("-d 127.0.0.1"));
    cfg.localhost_nodeports = false;
    let rules = ProxyRules::render(&cfg, &fixed_state());
    assert!(rules.filter.get("KUBE-FIREWALL").is_none());
    assert_eq!(
        nat_rules(&rules, "KUBE-SERVICES")
            .iter()
            .filter(|r| r.ends_with("-j KUBE-NODEPORTS"))
            .count(),
        1
    );
}

#[test]
fn masquerade_all_marks_every_cluster_ip_packet() {
    let mut cfg = config();
    cfg.masquerade_all = true;
    let rules = ProxyRules::render(&cfg, &fixed_state());
    let svc = crate::chains::ServiceChains::new(&name("ns1", "svc1", "p80", Protocol::Tcp));
    let first = &nat_rules(&rules, &svc.cluster)[0];
    assert!(first.ends_with("-j KUBE-MARK-MASQ") && !first.contains("! -s"));
}

#[test]
fn large_clusters_drop_per_endpoint_comments() {
    let mut entries = Vec::new();
    for i in 0..300u16 {
        let svc = service(
            name("big", &format!("s{i}"), "", Protocol::Tcp),
            [172, 30, (i >> 8) as u8, i as u8],
            80,
        );
        let eps = (0..4u8)
            .map(|e| ready([10, 244, e, (i % 250) as u8], 80, false))
            .collect();
        entries.push((svc, eps));
    }
    let rules = ProxyRules::render(&config(), &state(entries));
    let sep = rules
        .nat
        .chains
        .iter()
        .find(|c| c.name.starts_with("KUBE-SEP-"))
        .unwrap();
    assert!(sep.rules.iter().all(|r| !r.contains("comment")));
    // The cluster-IP rules keep theirs.
    assert!(nat_rules(&rules, "KUBE-SERVICES")[0].contains("cluster IP"));
}

#[test]
fn rendering_is_deterministic() {
    let a = full_text(&ProxyRules::render(&config(), &fixed_state()));
    let b = full_text(&ProxyRules::render(&config(), &fixed_state()));
    assert_eq!(a, b);
}
