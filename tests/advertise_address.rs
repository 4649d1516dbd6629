//! `rkube apiserver` serving on 0.0.0.0 without `--advertise-address` advertises its
//! host's default-route interface address, as upstream chooses it: here the host is a node
//! namespace of a test topology (eth0 10.77.0.10, default route through the underlay). In
//! a namespace with no default route it does not start.

mod common;

use std::process::{Child, Stdio};

use common::eventually;
use common::netns::{Netns, Topology};
use serde_json::Value;

/// The apiserver process, killed on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn apiserver_on_every_address(netns: &Netns, data: &std::path::Path) -> std::process::Command {
    let mut c = netns.cmd(env!("CARGO_BIN_EXE_rkube"));
    c.args(["apiserver", "--insecure-bind-address", "0.0.0.0"])
        .args(["--insecure-port", "8080", "--data-dir"])
        .arg(data)
        .env("RUST_LOG", "warn");
    c
}

fn get(netns: &Netns, path: &str) -> Value {
    let body = netns.sh(&format!(
        "curl -sf --max-time 5 http://127.0.0.1:8080{path}"
    ));
    serde_json::from_str(&body).unwrap()
}

#[test]
fn an_apiserver_on_every_address_advertises_the_default_route_interface() {
    let topology = Topology::new(1);
    let node = &topology.nodes[0];
    let data = tempfile::tempdir().unwrap();
    let _apiserver = Running(
        apiserver_on_every_address(&node.netns, data.path())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    eventually(20, "rkube apiserver ready", || {
        let out = node
            .netns
            .sh_output("curl -sf --max-time 2 http://127.0.0.1:8080/readyz");
        out.status.success().then_some(())
    });

    let api = get(&node.netns, "/api");
    assert_eq!(
        api["serverAddressByClientCIDRs"][0]["serverAddress"],
        format!("{}:8080", node.ip),
        "{api}"
    );
    let endpoints = get(
        &node.netns,
        "/api/v1/namespaces/default/endpoints/kubernetes",
    );
    assert_eq!(
        endpoints["subsets"][0]["addresses"][0]["ip"],
        node.ip.to_string(),
        "{endpoints}"
    );
    // Served on every address: the advertised one answers too.
    let out = node.netns.sh_output(&format!(
        "curl -sf --max-time 2 http://{}:8080/readyz",
        node.ip
    ));
    assert!(out.status.success());
}

#[test]
fn with_no_default_route_it_does_not_start() {
    let netns = Netns::new("noroute");
    let data = tempfile::tempdir().unwrap();
    let mut apiserver = Running(
        apiserver_on_every_address(&netns, data.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let status = eventually(20, "rkube apiserver exits", || {
        apiserver.0.try_wait().unwrap()
    });
    assert!(!status.success());
    let mut err = String::new();
    std::io::Read::read_to_string(apiserver.0.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(
        err.contains(
            "Unable to find suitable network address.error='no default routes found in \"/proc/net/route\" or \"/proc/net/ipv6_route\"'. Try to set the AdvertiseAddress directly or provide a valid BindAddress to fix this."
        ),
        "{err}"
    );
}
