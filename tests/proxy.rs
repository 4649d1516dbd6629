//! `rkube proxy` end to end (issue 4's acceptance): real `rkube proxy` processes inside
//! node namespaces, Services and EndpointSlices written through a real apiserver, real
//! iptables, traffic from pod, node and outside namespaces.

mod common;

use std::time::Duration;

use common::proxy::ProxyCluster;
use rkube_proxy::chains::ServiceChains;
use rkube_proxy::model::{Protocol, ServicePortName};
use serde_json::json;

fn chain_of(service: &str, port: &str, protocol: Protocol) -> String {
    ServiceChains::new(&ServicePortName {
        namespace: "default".into(),
        name: service.into(),
        port: port.into(),
        protocol,
    })
    .cluster
}

#[test]
fn cluster_ips_and_node_ports_reach_endpoints_on_both_nodes() {
    let mut c = ProxyCluster::two_nodes_with_pods();
    c.add_web_and_remote();
    c.start_proxy(0, &[]);
    c.start_proxy(1, &[]);
    let web = chain_of("web", "tcp", Protocol::Tcp);
    let remote = chain_of("remote", "tcp", Protocol::Tcp);
    for node in 0..2 {
        c.wait_for_rules(node, &web);
        c.wait_for_rules(node, &remote);
    }
    c.check_web_and_remote();

    // A deleted Service's chains are gone after the next sync.
    c.api(
        "DELETE",
        "/api/v1/namespaces/default/services/remote",
        json!(null),
    );
    common::eventually(10, "remote's chains removed", || {
        (!c.iptables_save(0).contains(&remote)).then_some(())
    });
    assert!(!c.iptables_save(0).contains("10.0.0.101"));
}

#[test]
fn policies_udp_affinity_hairpin_and_no_endpoints() {
    let mut c = ProxyCluster::two_nodes_with_pods();
    c.add_policy_services();
    c.start_proxy(0, &[]);
    c.start_proxy(1, &[]);
    for node in 0..2 {
        c.wait_for_rules(node, &chain_of("cluster", "tcp", Protocol::Tcp));
    }
    c.check_policies();
}

/// An EndpointSlice with explicit conditions: (ip, node, ready, serving, terminating).
fn raw_slice(
    c: &ProxyCluster,
    service: &str,
    ports: serde_json::Value,
    endpoints: &[(&str, &str, bool, bool, bool)],
) {
    let endpoints: Vec<serde_json::Value> = endpoints
        .iter()
        .map(|(ip, node, ready, serving, terminating)| {
            json!({"addresses": [ip], "nodeName": node,
                   "conditions": {"ready": ready, "serving": serving, "terminating": terminating}})
        })
        .collect();
    c.api(
        "POST",
        "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
        json!({"metadata": {"name": format!("{service}-x"),
                            "labels": {"kubernetes.io/service-name": service}},
               "addressType": "IPv4", "ports": ports, "endpoints": endpoints}),
    );
}

/// `iptables-save` with the counters of built-in chains zeroed.
fn redacted(save: &str) -> String {
    save.lines()
        .map(|l| match (l.starts_with(':'), l.find(" [")) {
            (true, Some(i)) => format!("{} [0:0]\n", &l[..i]),
            _ => format!("{l}\n"),
        })
        .collect()
}

const FOREIGN_RULES: &str = "iptables -t nat -N FOREIGN && iptables -t nat -A FOREIGN -j RETURN && \
     iptables -t nat -A PREROUTING -j FOREIGN && \
     iptables -t nat -A POSTROUTING -s 192.168.50.0/24 -j MASQUERADE && \
     iptables -A INPUT -p tcp --dport 2222 -j ACCEPT && iptables -A FORWARD -s 192.168.50.0/24 -j DROP";

#[test]
fn iptables_save_snapshot_foreign_rules_and_cleanup() {
    let mut c = ProxyCluster::new(1);
    c.node(0).sh(FOREIGN_RULES);
    let before = c.iptables_save(0);
    let http = |port: u16| json!([{"name": "http", "port": port, "protocol": "TCP"}]);
    c.service("web", json!({"clusterIP": "10.0.0.41", "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}));
    raw_slice(
        &c,
        "web",
        http(8080),
        &[("10.244.0.5", "node0", true, true, false)],
    );
    c.service(
        "local",
        json!({"type": "NodePort", "clusterIP": "10.0.0.42", "externalTrafficPolicy": "Local",
               "ports": [{"name": "http", "port": 80, "nodePort": 30001}]}),
    );
    raw_slice(
        &c,
        "local",
        http(8080),
        &[
            ("10.244.0.6", "node0", true, true, false),
            ("10.244.1.6", "node1", true, true, false),
        ],
    );
    c.service(
        "dns",
        json!({"clusterIP": "10.0.0.43", "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]}),
    );
    raw_slice(
        &c,
        "dns",
        json!([{"name": "dns", "port": 5353, "protocol": "UDP"}]),
        &[
            ("10.244.0.7", "node0", true, true, false),
            ("10.244.1.7", "node1", true, true, false),
            ("10.244.1.8", "node1", true, true, false),
        ],
    );
    c.service(
        "empty",
        json!({"type": "NodePort", "clusterIP": "10.0.0.44",
               "ports": [{"name": "http", "port": 80, "nodePort": 30004}]}),
    );
    c.service(
        "sticky",
        json!({"clusterIP": "10.0.0.45", "sessionAffinity": "ClientIP",
               "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 600}},
               "ports": [{"name": "http", "port": 80}]}),
    );
    raw_slice(
        &c,
        "sticky",
        http(80),
        &[
            ("10.244.0.9", "node0", true, true, false),
            ("10.244.1.9", "node1", true, true, false),
        ],
    );
    c.service(
        "nodelocal",
        json!({"clusterIP": "10.0.0.46", "internalTrafficPolicy": "Local",
               "ports": [{"name": "http", "port": 80}]}),
    );
    raw_slice(
        &c,
        "nodelocal",
        http(80),
        &[("10.244.1.10", "node1", true, true, false)],
    );
    c.service(
        "draining",
        json!({"clusterIP": "10.0.0.47", "ports": [{"name": "sctp", "port": 9999, "protocol": "SCTP"}]}),
    );
    raw_slice(
        &c,
        "draining",
        json!([{"name": "sctp", "port": 9999, "protocol": "SCTP"}]),
        &[
            ("10.244.1.11", "node1", false, true, true),
            ("10.244.1.12", "node1", false, false, false),
        ],
    );
    c.start_proxy(0, &[]);
    c.wait_for_rules(0, &chain_of("draining", "sctp", Protocol::Sctp));
    let synced = c.iptables_save(0);
    for rule in before.lines().filter(|l| l.starts_with("-A")) {
        assert!(
            synced.contains(rule),
            "foreign rule {rule:?} lost: {synced}"
        );
    }
    insta::assert_snapshot!("iptables_save_after_sync", redacted(&synced));

    // /healthz and /metrics inside the node.
    let health = c
        .node(0)
        .sh("curl -sS -o /dev/null -w '%{http_code}' http://127.0.0.1:10256/healthz");
    assert_eq!(health, "200");
    let metrics = c.node(0).sh("curl -sS http://127.0.0.1:10249/metrics");
    assert!(
        metrics.contains("kubeproxy_sync_proxy_rules_duration_seconds_count"),
        "{metrics}"
    );
    assert!(
        metrics.contains("kubeproxy_network_programming_duration_seconds_bucket"),
        "{metrics}"
    );

    // --cleanup removes everything it created and nothing else.
    c.stop_proxies_and_clean_up(0);
    assert_eq!(redacted(&c.iptables_save(0)), redacted(&before));
}

#[test]
fn network_programming_latency_is_measured_from_the_slice_trigger_time() {
    let mut c = ProxyCluster::new(1);
    c.start_proxy(0, &["--iptables-min-sync-period", "0"]);
    c.wait_for_rules(0, "KUBE-SERVICES");
    c.service(
        "web",
        json!({"clusterIP": "10.0.0.50", "ports": [{"name": "http", "port": 80}]}),
    );
    // Trigger times have whole seconds, and only changes after the proxy started count.
    std::thread::sleep(Duration::from_millis(1100));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let stamp = c
        .node(0)
        .sh(&format!("date -u -d @{now} +%Y-%m-%dT%H:%M:%SZ"))
        .trim()
        .to_string();
    c.api(
        "POST",
        "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
        json!({"metadata": {"name": "web-1", "labels": {"kubernetes.io/service-name": "web"},
                            "annotations": {"endpoints.kubernetes.io/last-change-trigger-time": stamp}},
               "addressType": "IPv4", "ports": [{"name": "http", "port": 80, "protocol": "TCP"}],
               "endpoints": [{"addresses": ["10.244.0.2"]}]}),
    );
    c.wait_for_rules(0, "10.244.0.2:80");
    common::eventually(10, "a network programming observation", || {
        let metrics = c.node(0).sh("curl -sS http://127.0.0.1:10249/metrics");
        metrics
            .contains("kubeproxy_network_programming_duration_seconds_count 1")
            .then_some(())
    });
}

/// On iptables-legacy (chosen because the node's rules live there, as upstream's
/// iptables-wrapper does) the periodic full resync checks the jumps from the built-in
/// chains inside its restore: a jump deleted behind its back is back after the next
/// resync, once, and foreign rules stay where they were.
#[test]
fn a_legacy_resync_puts_back_deleted_jumps_once_and_keeps_foreign_rules() {
    let mut c = ProxyCluster::new(1);
    c.node(0)
        .sh(&FOREIGN_RULES.replace("iptables ", "iptables-legacy "));
    c.service(
        "web",
        json!({"clusterIP": "10.0.0.60", "ports": [{"name": "http", "port": 80}]}),
    );
    raw_slice(
        &c,
        "web",
        json!([{"name": "http", "port": 8080, "protocol": "TCP"}]),
        &[("10.244.0.5", "node0", true, true, false)],
    );
    c.start_proxy(0, &["--iptables-sync-period", "2s"]);
    let legacy = || c.node(0).sh("iptables-legacy-save");
    let web = chain_of("web", "http", Protocol::Tcp);
    common::eventually(30, "web's chain in iptables-legacy", || {
        legacy().contains(&web).then_some(())
    });
    assert!(!c.iptables_save(0).contains("KUBE-"), "nft holds nothing");
    let portals =
        "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n";
    let forward =
        "-A FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD\n";
    let before = legacy();
    assert_eq!(before.matches(portals).count(), 1, "{before}");
    assert_eq!(before.matches(forward).count(), 1, "{before}");

    c.node(0).sh(
        "iptables-legacy -t nat -D PREROUTING -m comment --comment 'kubernetes service portals' \
           -j KUBE-SERVICES && \
         iptables-legacy -D FORWARD -m comment --comment 'kubernetes forwarding rules' \
           -j KUBE-FORWARD",
    );
    assert!(!legacy().contains(portals));
    common::eventually(15, "the deleted jumps back", || {
        let now = legacy();
        (now.contains(portals) && now.contains(forward)).then_some(())
    });
    // Two more resyncs: each jump once, foreign rules in place, KUBE-SERVICES still
    // sends web's traffic to its chain.
    std::thread::sleep(Duration::from_secs(5));
    let after = legacy();
    assert_eq!(after.matches(portals).count(), 1, "{after}");
    assert_eq!(after.matches(forward).count(), 1, "{after}");
    for rule in [
        "-A PREROUTING -j FOREIGN\n",
        "-A POSTROUTING -s 192.168.50.0/24 -j MASQUERADE\n",
        "-A INPUT -p tcp -m tcp --dport 2222 -j ACCEPT\n",
        "-A FORWARD -s 192.168.50.0/24 -j DROP\n",
    ] {
        assert!(after.contains(rule), "foreign rule {rule:?} lost: {after}");
    }
    assert!(after.contains(&format!("-j {web}")), "{after}");
}

#[test]
fn a_failing_sync_is_an_event_on_the_node_and_fails_healthz() {
    let mut c = ProxyCluster::new(1);
    // A stale service chain that something else still jumps to: kube-proxy's full sync
    // must delete it, and iptables-restore refuses.
    c.node(0)
        .sh("iptables -t nat -N KUBE-SVC-STALEREFERENCED && \
         iptables -t nat -A PREROUTING -j KUBE-SVC-STALEREFERENCED");
    c.start_proxy(0, &["--iptables-sync-period", "2s"]);
    let events = common::eventually(30, "a FailedToSyncProxyRules event", || {
        let (code, list) = c.apiserver.json(
            "GET",
            "/apis/events.k8s.io/v1/namespaces/default/events",
            &serde_json::Value::Null,
        );
        (code == 200
            && list["items"].as_array().is_some_and(|items| {
                items.iter().any(|e| {
                    e["reason"] == "FailedToSyncProxyRules"
                        && e["regarding"]["kind"] == "Node"
                        && e["regarding"]["name"] == "node0"
                })
            }))
        .then_some(list)
    });
    assert!(events.to_string().contains("iptables"), "{events}");
    common::eventually(20, "/healthz failing", || {
        let code = c
            .node(0)
            .sh("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:10256/healthz");
        (code == "503").then_some(())
    });
}
