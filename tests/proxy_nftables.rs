//! `rkube proxy --proxy-mode nftables` end to end: the same behaviours as the iptables
//! mode's tests (tests/proxy.rs), with real `rkube proxy` processes inside node
//! namespaces, Services and EndpointSlices through a real apiserver, real nftables and
//! traffic from pod, node and outside namespaces.

mod common;

use common::proxy::ProxyCluster;
use rkube_proxy::model::{Protocol, ServicePortName};
use rkube_proxy::nft::render::service_base;
use serde_json::json;

const NFTABLES: [&str; 2] = ["--proxy-mode", "nftables"];

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

#[test]
fn nftables_mode_serves_cluster_ips_and_node_ports_and_cleans_up() {
    let mut c = ProxyCluster::two_nodes_with_pods();
    c.add_web_and_remote();
    c.add_policy_services();
    c.start_proxy(0, &NFTABLES);
    c.start_proxy(1, &NFTABLES);
    let web = service_chain("web", "tcp", Protocol::Tcp);
    let remote = service_chain("remote", "tcp", Protocol::Tcp);
    for node in 0..2 {
        c.wait_for_nft(node, &web);
        c.wait_for_nft(node, &service_chain("cluster", "tcp", Protocol::Tcp));
    }
    // No iptables rule was written: the mode is nftables only.
    assert!(!c.iptables_save(0).contains("KUBE-"));
    c.check_web_and_remote();
    c.check_policies();

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
    c.stop_proxies_and_clean_up(0);
    let tables = c.node(0).sh("nft list tables");
    assert!(!tables.contains("kube-proxy"), "{tables}");
    assert!(c.nft_table(1).contains(&web), "node1 untouched");
}
