//! Network namespaces that a test creates and removes: kind-style topologies where every
//! "node" is a netns on an underlay bridge, so no test touches the host's own interfaces,
//! routes or iptables.
//!
//! Names are unique per process and test (`rk<pid>-<n>-<tag>`), and addresses live only
//! inside the namespaces, so topologies of tests running in parallel never collide even
//! though every one of them uses the same 10.77.0.0/16 underlay.

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A named network namespace (`ip netns add`), deleted with everything in it on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    /// A new namespace with `lo` up. `tag` only makes the name readable in `ip netns`.
    pub fn new(tag: &str) -> Netns {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("rk{}-{n}-{tag}", std::process::id());
        run_ok(Command::new("ip").args(["netns", "add", &name]));
        let ns = Netns { name };
        ns.sh("ip link set lo up");
        ns
    }

    /// `ip netns exec <name> <program>`: add arguments, then run or spawn it.
    pub fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// Runs `sh -c script` inside the namespace; panics with its stderr when it fails.
    pub fn sh(&self, script: &str) -> String {
        let out = run_ok(self.cmd("sh").args(["-c", script]));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Like [`Netns::sh`] but returns the output whatever the exit status.
    pub fn sh_output(&self, script: &str) -> Output {
        self.cmd("sh")
            .args(["-c", script])
            .output()
            .expect("running ip netns exec")
    }

    /// A TCP connection made from inside the namespace (the socket stays in it: a socket
    /// belongs to the namespace of the thread that created it).
    pub fn connect(&self, addr: SocketAddr) -> std::io::Result<TcpStream> {
        connect_in(&self.name, addr)
    }

    /// The PIDs of processes whose network namespace is this one.
    pub fn pids(&self) -> Vec<u32> {
        let out = Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
            .expect("ip netns pids");
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        for pid in self.pids() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// A TCP connection to `addr` made from inside the named namespace.
pub fn connect_in(netns: &str, addr: SocketAddr) -> std::io::Result<TcpStream> {
    let path = format!("/run/netns/{netns}");
    std::thread::scope(|s| {
        s.spawn(|| {
            let file = std::fs::File::open(&path)?;
            nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
                .map_err(std::io::Error::from)?;
            TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        })
        .join()
        .expect("connect thread panicked")
    })
}

fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A host of the topology: its namespace and its address on the underlay.
pub struct Host {
    pub netns: Netns,
    pub ip: Ipv4Addr,
}

/// The underlay: a netns holding bridge `br0` (10.77.0.1/16, forwarding on) that plays the
/// control-plane host (start the apiserver there on [`Topology::CONTROL_PLANE_IP`]), and
/// hosts ("nodes", "outside" clients) each in its own netns with `eth0` on the bridge and
/// a default route through 10.77.0.1.
pub struct Topology {
    pub nodes: Vec<Host>,
    pub clients: Vec<Host>,
    // Dropped last: hosts' veths disappear with their own namespaces first.
    pub underlay: Netns,
    next_node: u8,
    next_client: u8,
}

impl Topology {
    pub const CONTROL_PLANE_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);

    /// An underlay and `nodes` node namespaces (`node0`, `node1`, … at 10.77.0.10, .11, …).
    pub fn new(nodes: usize) -> Topology {
        let underlay = Netns::new("underlay");
        underlay.sh(
            "ip link add br0 type bridge && ip addr add 10.77.0.1/16 dev br0 && \
             ip link set br0 up && sysctl -qw net.ipv4.ip_forward=1",
        );
        let mut t = Topology {
            nodes: Vec::new(),
            clients: Vec::new(),
            underlay,
            next_node: 10,
            next_client: 200,
        };
        for i in 0..nodes {
            let index = t.next_node;
            t.next_node += 1;
            let host = t.attach(&format!("node{i}"), index);
            t.nodes.push(host);
        }
        t
    }

    /// An "outside" client namespace on the same underlay (addresses from 10.77.0.200).
    pub fn add_client(&mut self, tag: &str) -> &Host {
        let index = self.next_client;
        self.next_client += 1;
        let host = self.attach(tag, index);
        self.clients.push(host);
        self.clients.last().unwrap()
    }

    fn attach(&self, tag: &str, index: u8) -> Host {
        let netns = Netns::new(tag);
        let ip = Ipv4Addr::new(10, 77, 0, index);
        self.underlay.sh(&format!(
            "ip link add veth{index} type veth peer name eth0 netns {peer} && \
             ip link set veth{index} master br0 up",
            peer = netns.name
        ));
        netns.sh(&format!(
            "ip addr add {ip}/16 dev eth0 && ip link set eth0 up && \
             ip route add default via {}",
            Self::CONTROL_PLANE_IP
        ));
        Host { netns, ip }
    }
}
