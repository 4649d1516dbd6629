//! A cluster for `rkube proxy` tests, all in network namespaces: an apiserver in the
//! underlay, nodes each with a pod bridge `cbr0` (10.244.N.1/24) and routes to the
//! other nodes' pod subnets, "pods" that are namespaces on that bridge with a TCP and a
//! UDP server answering `<name> <client ip>`, and `rkube proxy` processes inside nodes.

use std::collections::HashMap;
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

/// `ip:port` as a socket address.
pub fn addr(ip: &str, port: u16) -> SocketAddr {
    format!("{ip}:{port}").parse().unwrap()
}

/// Who answered, over `n` connections from `netns` to `to`.
pub fn spread(netns: &str, to: SocketAddr, n: usize) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for _ in 0..n {
        let answer = ask_tcp(netns, to).unwrap_or_else(|e| panic!("{to} from {netns}: {e}"));
        let name = answer.split(' ').next().unwrap_or_default().to_string();
        *counts.entry(name).or_default() += 1;
    }
    counts
}

/// Each of `names` got between 20 % and 46 % of `n` answers (the bounds for
/// three endpoints over 300 requests).
pub fn assert_even(counts: &HashMap<String, usize>, names: &[&str], n: usize) {
    for name in names {
        let got = counts.get(*name).copied().unwrap_or(0);
        let share = got as f64 / n as f64;
        assert!(
            (0.20..=0.46).contains(&share),
            "{name} got {got}/{n}: {counts:?}"
        );
    }
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

    /// Stops every proxy, then runs `rkube proxy --cleanup` in node `i`; panics unless
    /// it succeeds.
    pub fn stop_proxies_and_clean_up(&mut self, i: usize) {
        for p in &mut self.proxies {
            p.kill().unwrap();
            p.wait().unwrap();
        }
        let out = self
            .node(i)
            .cmd(env!("CARGO_BIN_EXE_rkube"))
            .args(["proxy", "--cleanup"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
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

    /// Two nodes with pods `a`, `b` and `client` on node0 and `c` on node1.
    pub fn two_nodes_with_pods() -> ProxyCluster {
        let mut c = ProxyCluster::new(2);
        c.add_pod(0, "a");
        c.add_pod(0, "b");
        c.add_pod(1, "c");
        c.add_pod(0, "client");
        c
    }

    /// Two NodePort Services on pod port 8080: `web` (10.0.0.100:80, node port 30080)
    /// over a, b and c, and `remote` (10.0.0.101:80, node port 30081) over c alone.
    pub fn add_web_and_remote(&self) {
        self.service(
            "web",
            json!({"type": "NodePort", "clusterIP": "10.0.0.100",
                   "ports": [{"name": "tcp", "port": 80, "targetPort": 8080, "nodePort": 30080}]}),
        );
        self.endpoints("web", &[("a", true), ("b", true), ("c", true)]);
        self.service(
            "remote",
            json!({"type": "NodePort", "clusterIP": "10.0.0.101",
                   "ports": [{"name": "tcp", "port": 80, "targetPort": 8080, "nodePort": 30081}]}),
        );
        self.endpoints("remote", &[("c", true)]);
    }

    /// The checks of [`ProxyCluster::add_web_and_remote`] once the proxies run: the
    /// ClusterIP from the client pod and from node0 spread evenly over a, b and c; both
    /// node ports on either node's IP from outside (30081 reaching c on node1); and b,
    /// once not ready, gets no traffic 1 s after its EndpointSlice changed.
    pub fn check_web_and_remote(&self) {
        let vip = addr("10.0.0.100", 80);
        let client = self.pod("client").netns.name.clone();
        assert_even(&spread(&client, vip, 300), &["a", "b", "c"], 300);
        assert_even(&spread(&self.node(0).name, vip, 300), &["a", "b", "c"], 300);
        let outside = self.outside().name.clone();
        for node in 0..2 {
            let ip = self.node_ip(node).to_string();
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
        }
        // Wait out --iptables-min-sync-period first, so the change is not batched with
        // the last.
        std::thread::sleep(Duration::from_millis(1500));
        self.endpoints("web", &[("a", true), ("b", false), ("c", true)]);
        std::thread::sleep(Duration::from_secs(1));
        let after = spread(&client, vip, 60);
        assert_eq!(after.get("b"), None, "b still gets traffic: {after:?}");
        assert_eq!(after.values().sum::<usize>(), 60);
    }

    /// Services for the traffic policies, on [`ProxyCluster::two_nodes_with_pods`]:
    /// `empty` (10.0.0.110, node port 30082, no endpoints), `dns` (UDP 10.0.0.111:53 to
    /// c), `sticky` (10.0.0.112, ClientIP affinity over a, b, c), `self` (10.0.0.113 to
    /// a), `local` (10.0.0.114, node port 30090, externalTrafficPolicy Local, a) and
    /// `cluster` (10.0.0.115, node port 30091, a).
    pub fn add_policy_services(&self) {
        let tcp = json!([{"name": "tcp", "port": 80, "targetPort": 8080, "protocol": "TCP"}]);
        let node_port =
            |port: u16| json!([{"name": "tcp", "port": 80, "targetPort": 8080, "nodePort": port}]);
        self.service(
            "empty",
            json!({"type": "NodePort", "clusterIP": "10.0.0.110", "ports": node_port(30082)}),
        );
        self.service(
            "dns",
            json!({"clusterIP": "10.0.0.111",
                   "ports": [{"name": "udp", "port": 53, "targetPort": 5353, "protocol": "UDP"}]}),
        );
        self.endpoints("dns", &[("c", true)]);
        self.service(
            "sticky",
            json!({"clusterIP": "10.0.0.112", "sessionAffinity": "ClientIP", "ports": tcp}),
        );
        self.endpoints("sticky", &[("a", true), ("b", true), ("c", true)]);
        self.service("self", json!({"clusterIP": "10.0.0.113", "ports": tcp}));
        self.endpoints("self", &[("a", true)]);
        self.service(
            "local",
            json!({"type": "NodePort", "clusterIP": "10.0.0.114",
                   "externalTrafficPolicy": "Local", "ports": node_port(30090)}),
        );
        self.endpoints("local", &[("a", true)]);
        self.service(
            "cluster",
            json!({"type": "NodePort", "clusterIP": "10.0.0.115", "ports": node_port(30091)}),
        );
        self.endpoints("cluster", &[("a", true)]);
    }

    /// The checks of [`ProxyCluster::add_policy_services`] once the proxies run.
    pub fn check_policies(&self) {
        let client = self.pod("client").netns.name.clone();
        let outside = self.outside().name.clone();
        // No endpoints: connection refused, not a timeout, on the ClusterIP and on the
        // node port of either node.
        let err = ask_tcp(&client, addr("10.0.0.110", 80)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
        for node in 0..2 {
            let err = ask_tcp(&outside, addr(&self.node_ip(node).to_string(), 30082)).unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::ConnectionRefused,
                "node{node}: {err}"
            );
        }
        // UDP, to an endpoint on the other node.
        let answer = ask_udp(&client, addr("10.0.0.111", 53)).unwrap();
        assert!(answer.starts_with("c "), "{answer}");
        // sessionAffinity: ClientIP sends one client to one endpoint.
        let sticky = spread(&client, addr("10.0.0.112", 80), 30);
        assert_eq!(sticky.len(), 1, "{sticky:?}");
        // Hairpin: a pod reaches its own Service and gets an answer from itself.
        let answer = ask_tcp(&self.pod("a").netns.name, addr("10.0.0.113", 80)).unwrap();
        assert!(answer.starts_with("a "), "{answer}");
        // externalTrafficPolicy: Local keeps the client's address and uses only local
        // endpoints; Cluster masquerades.
        let outside_ip = self.topology.clients[0].ip.to_string();
        let answer = ask_tcp(&outside, addr(&self.node_ip(0).to_string(), 30090)).unwrap();
        assert_eq!(answer, format!("a {outside_ip}"));
        let no_local = ask_tcp(&outside, addr(&self.node_ip(1).to_string(), 30090));
        assert!(
            no_local.is_err(),
            "node1 has no local endpoint: {no_local:?}"
        );
        let answer = ask_tcp(&outside, addr(&self.node_ip(1).to_string(), 30091)).unwrap();
        assert!(
            answer.starts_with("a ") && !answer.ends_with(&outside_ip),
            "{answer}"
        );
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
