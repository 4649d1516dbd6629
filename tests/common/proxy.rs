//! A cluster for `rkube proxy` tests, all in network namespaces: an apiserver in the
//! underlay, nodes each with a pod bridge `cbr0` (10.244.N.1/24) and routes to the
//! other nodes' pod subnets, "pods" that are namespaces on that bridge with a TCP and a
//! UDP server answering `<name> <client ip>`, and `rkube proxy` processes inside nodes.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::os::fd::AsFd;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::netns::{Netns, Topology};
use super::Apiserver;

pub const POD_TCP_PORT: u16 = 8080;
pub const POD_UDP_PORT: u16 = 5353;
pub const CLUSTER_CIDR: &str = "10.244.0.0/16";

/// A namespace with an address on a node's pod bridge and its two servers.
pub struct Pod {
    pub name: String,
    pub ip: Ipv4Addr,
    pub node: usize,
    stop: Arc<AtomicBool>,
    servers: Vec<std::thread::JoinHandle<()>>,
    pub netns: Netns,
}

impl Drop for Pod {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for s in self.servers.drain(..) {
            let _ = s.join();
        }
    }
}

// Fields drop in order: proxies stop first, the topology goes last.
pub struct ProxyCluster {
    pub proxies: Vec<Child>,
    pub pods: Vec<Pod>,
    pub apiserver: Apiserver,
    pub topology: Topology,
}

impl Drop for ProxyCluster {
    fn drop(&mut self) {
        for p in &mut self.proxies {
            let _ = p.kill();
            let _ = p.wait();
        }
    }
}

/// Runs `f` on a thread inside the namespace `name` (sockets stay in it).
pub fn in_netns<T: Send>(name: &str, f: impl FnOnce() -> T + Send) -> T {
    let path = format!("/run/netns/{name}");
    std::thread::scope(|s| {
        s.spawn(|| {
            let file = std::fs::File::open(&path).expect("open netns");
            nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
            f()
        })
        .join()
        .expect("netns thread panicked")
    })
}

/// Connects over TCP from inside `netns` and reads the whole answer.
pub fn ask_tcp(netns: &str, addr: SocketAddr) -> std::io::Result<String> {
    let mut stream = super::netns::connect_in(netns, addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut out = String::new();
    stream.read_to_string(&mut out)?;
    Ok(out.trim().to_string())
}

/// One UDP datagram from inside `netns`, and the answer.
pub fn ask_udp(netns: &str, addr: SocketAddr) -> std::io::Result<String> {
    in_netns(netns, || {
        let socket = UdpSocket::bind("0.0.0.0:0")?;
        socket.set_read_timeout(Some(Duration::from_secs(3)))?;
        socket.send_to(b"who", addr)?;
        let mut buf = [0u8; 256];
        let (n, _) = socket.recv_from(&mut buf)?;
        Ok(String::from_utf8_lossy(&buf[..n]).trim().to_string())
    })
}

fn serve_tcp(netns: String, name: String, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let file = std::fs::File::open(format!("/run/netns/{netns}")).unwrap();
        nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        let listener = TcpListener::bind(("0.0.0.0", POD_TCP_PORT)).unwrap();
        listener.set_nonblocking(true).unwrap();
        ready_tx.send(()).unwrap();
        while !stop.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((mut stream, peer)) => {
                    let _ = stream.set_nonblocking(false);
                    let _ = writeln!(stream, "{name} {}", peer.ip());
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(_) => {}
            }
        }
    });
    ready_rx.recv().unwrap();
    handle
}

fn serve_udp(netns: String, name: String, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let file = std::fs::File::open(format!("/run/netns/{netns}")).unwrap();
        nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        let socket = UdpSocket::bind(("0.0.0.0", POD_UDP_PORT)).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        ready_tx.send(()).unwrap();
        let mut buf = [0u8; 256];
        while !stop.load(Ordering::Relaxed) {
            if let Ok((_, peer)) = socket.recv_from(&mut buf) {
                let _ = socket.send_to(format!("{name} {}", peer.ip()).as_bytes(), peer);
            }
        }
    });
    ready_rx.recv().unwrap();
    handle
}

impl ProxyCluster {
    /// `nodes` nodes with pod subnets 10.244.N.0/24, an outside client, an apiserver.
    pub fn new(nodes: usize) -> ProxyCluster {
        let mut topology = Topology::new(nodes);
        topology.add_client("outside");
        for (i, node) in topology.nodes.iter().enumerate() {
            let mut script = format!(
                "sysctl -qw net.ipv4.ip_forward=1 && \
                 ip link add cbr0 type bridge && ip addr add 10.244.{i}.1/24 dev cbr0 && \
                 ip link set cbr0 up && sysctl -qw net.bridge.bridge-nf-call-iptables=1"
            );
            for (j, other) in topology.nodes.iter().enumerate() {
                if j != i {
                    script.push_str(&format!(
                        " && ip route add 10.244.{j}.0/24 via {}",
                        other.ip
                    ));
                }
            }
            node.netns.sh(&script);
        }
        let apiserver = Apiserver::start_in(&topology.underlay, Topology::CONTROL_PLANE_IP);
        ProxyCluster {
            proxies: Vec::new(),
            pods: Vec::new(),
            apiserver,
            topology,
        }
    }

    pub fn node_name(i: usize) -> String {
        format!("node{i}")
    }

    pub fn node(&self, i: usize) -> &Netns {
        &self.topology.nodes[i].netns
    }

    pub fn node_ip(&self, i: usize) -> Ipv4Addr {
        self.topology.nodes[i].ip
    }

    pub fn outside(&self) -> &Netns {
        &self.topology.clients[0].netns
    }

    /// `rkube proxy` inside node `i`, with the extra flags.
    pub fn start_proxy(&mut self, i: usize, extra: &[&str]) {
        let child = self
            .node(i)
            .cmd(env!("CARGO_BIN_EXE_rkube"))
            .arg("proxy")
            .arg("--kubeconfig")
            .arg(&self.apiserver.kubeconfig)
            .args(["--hostname-override", &Self::node_name(i)])
            .args(["--cluster-cidr", CLUSTER_CIDR])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn rkube proxy");
        self.proxies.push(child);
    }

    /// A pod on node `node`; returns its index in `pods`.
    pub fn add_pod(&mut self, node: usize, name: &str) -> usize {
        let k = self.pods.iter().filter(|p| p.node == node).count() + 2;
        let ip = Ipv4Addr::new(10, 244, node as u8, k as u8);
        let netns = Netns::new(&format!("pod-{name}"));
        let veth = format!("vp{k}");
        self.node(node).sh(&format!(
            "ip link add {veth} type veth peer name eth0 netns {pod} && \
             ip link set {veth} master cbr0 up && \
             ip link set {veth} type bridge_slave hairpin on",
            pod = netns.name
        ));
        netns.sh(&format!(
            "ip addr add {ip}/24 dev eth0 && ip link set eth0 up && \
             ip route add default via 10.244.{node}.1"
        ));
        let stop = Arc::new(AtomicBool::new(false));
        let servers = vec![
            serve_tcp(netns.name.clone(), name.to_string(), stop.clone()),
            serve_udp(netns.name.clone(), name.to_string(), stop.clone()),
        ];
        self.pods.push(Pod {
            name: name.to_string(),
            ip,
            node,
            stop,
            servers,
            netns,
        });
        self.pods.len() - 1
    }

    pub fn pod(&self, name: &str) -> &Pod {
        self.pods
            .iter()
            .find(|p| p.name == name)
            .expect("no such pod")
    }

    /// POST/PUT/PATCH/DELETE through the apiserver; panics unless it succeeds.
    pub fn api(&self, method: &str, path: &str, body: Value) -> Value {
        let (code, out) = self.apiserver.json(method, path, &body);
        assert!((200..300).contains(&code), "{method} {path}: {code} {out}");
        out
    }

    /// A Service in `default` from its spec.
    pub fn service(&self, name: &str, spec: Value) {
        self.api(
            "POST",
            "/api/v1/namespaces/default/services",
            json!({"metadata": {"name": name}, "spec": spec}),
        );
    }

    /// The EndpointSlice `<service>-1` for `service`: each pod with its readiness, on
    /// the pods' TCP (`port_name`) and UDP ports. POST the first time, PUT after.
    pub fn endpoints(&self, service: &str, pods: &[(&str, bool)]) {
        let endpoints: Vec<Value> = pods
            .iter()
            .map(|(name, ready)| {
                let pod = self.pod(name);
                json!({
                    "addresses": [pod.ip.to_string()],
                    "conditions": {"ready": ready, "serving": ready, "terminating": false},
                    "nodeName": Self::node_name(pod.node),
                    "targetRef": {"kind": "Pod", "namespace": "default", "name": name},
                })
            })
            .collect();
        let name = format!("{service}-1");
        let mut slice = json!({
            "metadata": {"name": name, "labels": {"kubernetes.io/service-name": service}},
            "addressType": "IPv4",
            "ports": [
                {"name": "tcp", "port": POD_TCP_PORT, "protocol": "TCP"},
                {"name": "udp", "port": POD_UDP_PORT, "protocol": "UDP"},
            ],
            "endpoints": endpoints,
        });
        let path = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices";
        let (code, current) = self
            .apiserver
            .json("GET", &format!("{path}/{name}"), &Value::Null);
        if code == 200 {
            slice["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
            self.api("PUT", &format!("{path}/{name}"), slice);
        } else {
            self.api("POST", path, slice);
        }
    }

    /// `iptables-save` of node `i`, without the timestamp comments.
    pub fn iptables_save(&self, i: usize) -> String {
        self.node(i)
            .sh("iptables-save")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect()
    }

    /// `nft list table ip kube-proxy` of node `i` (empty when there is none).
    pub fn nft_table(&self, i: usize) -> String {
        let out = self
            .node(i)
            .cmd("nft")
            .args(["list", "table", "ip", "kube-proxy"])
            .output()
            .expect("run nft");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until node `i`'s nftables table contains `needle`.
    pub fn wait_for_nft(&self, i: usize, needle: &str) {
        super::eventually(30, &format!("node{i} nftables with {needle}"), || {
            self.nft_table(i).contains(needle).then_some(())
        });
    }

    /// Waits until node `i`'s rules contain `needle`.
    pub fn wait_for_rules(&self, i: usize, needle: &str) {
        super::eventually(30, &format!("node{i} rules with {needle}"), || {
            self.iptables_save(i).contains(needle).then_some(())
        });
    }
}
