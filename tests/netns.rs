//! The test topology itself: namespaces on an underlay bridge, an apiserver inside it,
//! reachable from every node, and nothing left behind.

mod common;

use common::netns::Topology;
use common::Apiserver;

fn netns_list() -> String {
    let out = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn nodes_reach_each_other_and_the_apiserver_in_the_underlay() {
    let mut topology = Topology::new(2);
    topology.add_client("outside");
    let names: Vec<String> = [&topology.underlay]
        .into_iter()
        .chain(topology.nodes.iter().map(|h| &h.netns))
        .chain(topology.clients.iter().map(|h| &h.netns))
        .map(|n| n.name.clone())
        .collect();
    {
        let apiserver = Apiserver::start_in(&topology.underlay, Topology::CONTROL_PLANE_IP);
        let (code, body) = apiserver.request("GET", "/readyz", &[], b"").unwrap();
        assert_eq!((code, body.as_slice()), (200, b"ok".as_slice()));

        // Every node and the outside client reach the apiserver over the underlay.
        for host in topology.nodes.iter().chain(&topology.clients) {
            let out = host
                .netns
                .sh("curl -sS --max-time 5 http://10.77.0.1:8080/readyz");
            assert_eq!(out, "ok", "from {}", host.netns.name);
        }
        // Node to node.
        let (a, b) = (&topology.nodes[0], &topology.nodes[1]);
        a.netns.sh(&format!("ping -c1 -W2 {}", b.ip));
        // The host cannot see any of these addresses.
        let host_addrs = std::process::Command::new("ip")
            .args(["-4", "addr"])
            .output()
            .unwrap();
        assert!(!String::from_utf8_lossy(&host_addrs.stdout).contains("10.77.0."));
        // kubectl runs inside the apiserver's namespace.
        let (ok, out, err) = apiserver.kubectl("kubectl", &["get", "ns", "-o", "name"]);
        assert!(ok, "{err}");
        assert!(out.contains("namespace/default"), "{out}");
    }
    drop(topology);
    let left = netns_list();
    for name in names {
        assert!(!left.contains(&name), "{name} left behind: {left}");
    }
}
