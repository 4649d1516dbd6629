//! `rkube proxy --proxy-mode nftables` end to end: the same behaviours as the iptables
//! mode's tests (tests/proxy.rs), with real `rkube proxy` processes inside node
//! namespaces, Services and EndpointSlices through a real apiserver, real nftables and
//! traffic from pod, node and outside namespaces.

mod common;

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;

use common::proxy::{ask_tcp, ask_udp, ProxyCluster};
use rkube_proxy::model::{Protocol, ServicePortName};
use rkube_proxy::nft::render::service_base;
use serde_json::json;

const NFTABLES: [&str; 2] = ["--proxy-mode", "nftables"];

fn addr(ip: &str, port: u16) -> SocketAddr {
    format!("{ip}:{port}").parse().unwrap()
}

fn service_chain(service: &str, port: &str, protocol: Protocol) -> String {
    format!(
        "service-{}",
        service_base(&ServicePortName {
            namespace: "default".into(),
            name: service.into(),
            port: port.into(),
            protocol,
        })
    )
}

/// Who answered, over `n` connections from `netns` to `to`.
fn spread(netns: &str, to: SocketAddr, n: usize) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for _ in 0..n {
        let answer = ask_tcp(netns, to).unwrap_or_else(|e| panic!("{to} from {netns}: {e}"));
        let name = answer.split(' ').next().unwrap_or_default().to_string();
        *counts.entry(name).or_default() += 1;
    }
    counts
}

fn assert_even(counts: &HashMap<String, usize>, names: &[&str], n: usize) {
    for name in names {
        let got = counts.get(*name).copied().unwrap_or(0);
        let share = got as f64 / n as f64;
        assert!(
            (0.20..=0.46).contains(&share),
            "{name} got {got}/{n}: {counts:?}"
        );
    }
}

#[test]
fn nftables_mode_serves_cluster_ips_and_node_ports_and_cleans_up() {
    let mut c = ProxyCluster::new(2);
    c.add_pod(0, "a");
    c.add_pod(0, "b");
    c.add_pod(1, "c");
    c.add_pod(0, "client");
    let tcp = |port: u16| json!({"name": "tcp", "port": port, "targetPort": 8080});
    c.service(
        "web",
        json!({"type": "NodePort", "clusterIP": "10.0.0.100",
               "ports": [{"name": "tcp", "port": 80, "targetPort": 8080, "nodePort": 30080}]}),
    );
    c.endpoints("web", &[("a", true), ("b", true), ("c", true)]);
    c.service(
        "remote",
        json!({"type": "NodePort", "clusterIP": "10.0.0.101",
               "ports": [{"name": "tcp", "port": 80, "targetPort": 8080, "nodePort": 30081}]}),
    );
    c.endpoints("remote", &[("c", true)]);
    c.service(
        "empty",
        json!({"type": "NodePort", "clusterIP": "10.0.0.110",
               "ports": [{"name": "tcp", "port": 80, "targetPort": 8080, "nodePort": 30082}]}),
    );
    c.service(
        "dns",
        json!({"clusterIP": "10.0.0.111",
               "ports": [{"name": "udp", "port": 53, "targetPort": 5353, "protocol": "UDP"}]}),
    );
    c.endpoints("dns", &[("c", true)]);
    c.service(
        "sticky",
        json!({"clusterIP": "10.0.0.112", "sessionAffinity": "ClientIP", "ports": [tcp(80)]}),
    );
    c.endpoints("sticky", &[("a", true), ("b", true), ("c", true)]);
    c.service(
        "self",
        json!({"clusterIP": "10.0.0.113", "ports": [tcp(80)]}),
    );
    c.endpoints("self", &[("a", true)]);
    c.service(
        "local",
        json!({"type": "NodePort", "clusterIP": "10.0.0.114", "externalTrafficPolicy": "Local",
               "ports": [{"name": "tcp", "port": 80, "targetPort": 8080, "nodePort": 30090}]}),
    );
    c.endpoints("local", &[("a", true)]);
    c.start_proxy(0, &NFTABLES);
    c.start_proxy(1, &NFTABLES);
    let web = service_chain("web", "tcp", Protocol::Tcp);
    let remote = service_chain("remote", "tcp", Protocol::Tcp);
    for node in 0..2 {
        c.wait_for_nft(node, &web);
        c.wait_for_nft(node, &service_chain("self", "tcp", Protocol::Tcp));
    }
    // No iptables rule was written: the mode is nftables only.
    assert!(!c.iptables_save(0).contains("KUBE-"));

    // ClusterIP from a pod and from the node itself, spread evenly.
    let vip = addr("10.0.0.100", 80);
    let client = c.pod("client").netns.name.clone();
    assert_even(&spread(&client, vip, 300), &["a", "b", "c"], 300);
    assert_even(&spread(&c.node(0).name, vip, 300), &["a", "b", "c"], 300);

    // NodePort from outside, on either node's IP, also to an endpoint on the other node.
    let outside = c.outside().name.clone();
    for node in 0..2 {
        let ip = c.node_ip(node).to_string();
        let answer = ask_tcp(&outside, addr(&ip, 30080)).unwrap();
        assert!(
            ["a", "b", "c"].contains(&answer.split(' ').next().unwrap()),
            "{answer}"
        );
        let answer = ask_tcp(&outside, addr(&ip, 30081)).unwrap();
        assert!(
            answer.starts_with("c "),
            "node{node}:30081 answered {answer:?}"
        );
        // No endpoints: connection refused on the node port too.
        let err = ask_tcp(&outside, addr(&ip, 30082)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    }

    // No endpoints: connection refused, not a timeout.
    let err = ask_tcp(&client, addr("10.0.0.110", 80)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    // UDP, to an endpoint on the other node.
    let answer = ask_udp(&client, addr("10.0.0.111", 53)).unwrap();
    assert!(answer.starts_with("c "), "{answer}");
    // sessionAffinity: ClientIP sends one client to one endpoint.
    let sticky = spread(&client, addr("10.0.0.112", 80), 30);
    assert_eq!(sticky.len(), 1, "{sticky:?}");
    // Hairpin: a pod reaches its own Service and gets an answer from itself.
    let answer = ask_tcp(&c.pod("a").netns.name, addr("10.0.0.113", 80)).unwrap();
    assert!(answer.starts_with("a "), "{answer}");

    // externalTrafficPolicy: Local keeps the client's address and uses only local
    // endpoints; Cluster masquerades.
    let outside_ip = c.topology.clients[0].ip.to_string();
    let answer = ask_tcp(&outside, addr(&c.node_ip(0).to_string(), 30090)).unwrap();
    assert_eq!(answer, format!("a {outside_ip}"));
    let no_local = ask_tcp(&outside, addr(&c.node_ip(1).to_string(), 30090));
    assert!(
        no_local.is_err(),
        "node1 has no local endpoint: {no_local:?}"
    );
    let answer = ask_tcp(&outside, addr(&c.node_ip(1).to_string(), 30081)).unwrap();
    assert!(!answer.ends_with(&outside_ip), "{answer}");

    // An endpoint that becomes not ready stops receiving traffic within 1 s. (Wait out
    // --iptables-min-sync-period first, so the change is not batched with the last.)
    std::thread::sleep(Duration::from_millis(1500));
    c.endpoints("web", &[("a", true), ("b", false), ("c", true)]);
    std::thread::sleep(Duration::from_secs(1));
    let after = spread(&client, vip, 60);
    assert_eq!(after.get("b"), None, "b still gets traffic: {after:?}");

    // A deleted Service's chains and map entries are gone after the next sync.
    c.api(
        "DELETE",
        "/api/v1/namespaces/default/services/remote",
        json!(null),
    );
    common::eventually(10, "remote's chain removed", || {
        (!c.nft_table(0).contains(&remote)).then_some(())
    });
    assert!(!c.nft_table(0).contains("10.0.0.101"));

    // --cleanup removes the table.
    for p in &mut c.proxies {
        p.kill().unwrap();
        p.wait().unwrap();
    }
    let out = c
        .node(0)
        .cmd(env!("CARGO_BIN_EXE_rkube"))
        .args(["proxy", "--cleanup"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tables = c.node(0).sh("nft list tables");
    assert!(!tables.contains("kube-proxy"), "{tables}");
    assert!(c.nft_table(1).contains(&web), "node1 untouched");
}
