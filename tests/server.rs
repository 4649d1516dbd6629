//! `rkube server`: the apiserver and the agents in one process, from a clean data dir,
//! driven with the real kubectl through the kubeconfig it writes. The server runs in a
//! network namespace of the test's own, which is its "host": the kubelet's bridge and
//! kube-proxy's iptables rules live there.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::eventually;
use common::kubelet::remove_cgroup_tree;
use common::netns::Netns;

const PORT: u16 = 8080;
const NODE: &str = "rk-server-node";

/// A `rkube server` process in `netns` on 127.0.0.1:8080 there, with its kubelet's cgroups
/// under a cgroup root of its own; on drop the server is killed, then whatever its pods
/// left running (their processes live in the pods' namespaces, not in `netns`).
struct Server<'a> {
    netns: &'a Netns,
    child: Child,
    data: PathBuf,
    cgroup_root: String,
}

static SERVERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl<'a> Server<'a> {
    fn start(netns: &'a Netns, data: &Path, extra: &[&str]) -> Server<'a> {
        let n = SERVERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let cgroup_root = format!("rkube-test-server-{}-{n}", std::process::id());
        let child = netns
            .cmd(env!("CARGO_BIN_EXE_rkube"))
            .args(["server", "--insecure-port", &PORT.to_string(), "--data-dir"])
            .arg(data)
            .args(["--kubelet-arg", &format!("hostname-override={NODE}")])
            .args(["--kubelet-arg", &format!("cgroup-root={cgroup_root}")])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn rkube server");
        let server = Server {
            netns,
            child,
            data: data.to_path_buf(),
            cgroup_root,
        };
        eventually(20, "rkube server ready", || {
            let out = netns.sh_output(&format!(
                "curl -sf --max-time 2 http://127.0.0.1:{PORT}/readyz"
            ));
            out.status.success().then_some(())
        });
        server
    }

    fn kubeconfig(&self) -> PathBuf {
        self.data.join("kubeconfig.yaml")
    }

    /// The real kubectl with nothing but the kubeconfig the server wrote.
    fn kubectl(&self, args: &[&str]) -> (bool, String) {
        let out = self
            .netns
            .cmd("kubectl")
            .args(args)
            .env("KUBECONFIG", self.kubeconfig())
            .env("HOME", &self.data)
            .output()
            .expect("run kubectl");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    }

    fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server<'_> {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        remove_cgroup_tree(&self.cgroup_root);
    }
}

const RC: &str = r#"{"apiVersion": "v1", "kind": "ReplicationController",
  "metadata": {"name": "web", "namespace": "shop"},
  "spec": {"replicas": 2, "selector": {"app": "web"},
    "template": {"metadata": {"labels": {"app": "web"}},
      "spec": {"containers": [{"name": "web", "image": "busybox"}]}}}}"#;

fn pod_count(server: &Server) -> usize {
    let (ok, out) = server.kubectl(&["get", "pods", "-n", "shop", "-o", "name"]);
    assert!(ok, "{out}");
    out.lines().filter(|l| l.starts_with("pod/")).count()
}

fn iptables(netns: &Netns, table: &str) -> String {
    netns.sh(&format!("iptables-save -t {table}"))
}

#[test]
fn one_command_runs_the_apiserver_the_controllers_and_the_node_agents() {
    let netns = Netns::new("server");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&netns, &data, &[]);
    let kubeconfig = std::fs::read_to_string(server.kubeconfig()).unwrap();
    assert!(
        kubeconfig.contains(&format!("server: http://127.0.0.1:{PORT}")),
        "{kubeconfig}"
    );
    // The kubelet registers the local node, with the first /24 of the cluster CIDR.
    eventually(20, "the local Node registered", || {
        let (ok, out) = server.kubectl(&["get", "node", NODE, "-o", "jsonpath={.spec.podCIDR}"]);
        (ok && out == "10.42.0.0/24").then_some(())
    });
    // kube-proxy programs the namespace's iptables: a Service without endpoints gets
    // its REJECT rule.
    let (ok, out) = server.kubectl(&["create", "service", "clusterip", "web", "--tcp=80:8080"]);
    assert!(ok, "{out}");
    eventually(20, "kube-proxy's rule for default/web", || {
        let filter = iptables(&netns, "filter");
        filter
            .contains("default/web:80-8080 has no endpoints")
            .then_some(())
    });

    let (ok, out) = server.kubectl(&["create", "namespace", "shop"]);
    assert!(ok, "{out}");
    // The serviceaccount controller runs in the same process.
    eventually(20, "the default ServiceAccount in shop", || {
        server
            .kubectl(&["get", "serviceaccount", "default", "-n", "shop"])
            .0
            .then_some(())
    });
    // So does the replication controller.
    let rc = dir.path().join("rc.json");
    std::fs::write(&rc, RC).unwrap();
    let (ok, out) = server.kubectl(&["create", "-f", rc.to_str().unwrap()]);
    assert!(ok, "{out}");
    eventually(20, "2 pods for the RC", || {
        (pod_count(&server) == 2).then_some(())
    });

    // An acknowledged write survives kill -9; the server starts again on the same data.
    server.kill9();
    let server = Server::start(&netns, &data, &[]);
    let (ok, out) = server.kubectl(&["scale", "rc", "web", "-n", "shop", "--replicas=3"]);
    assert!(ok, "{out}");
    eventually(20, "3 pods after scaling", || {
        (pod_count(&server) == 3).then_some(())
    });
}

#[test]
fn disabled_components_do_nothing() {
    let netns = Netns::new("server-off");
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &netns,
        dir.path(),
        &["--disable-controller-manager", "--disable-agent"],
    );
    let (ok, out) = server.kubectl(&["create", "namespace", "quiet"]);
    assert!(ok, "{out}");
    // The same ServiceAccount appears within a second when the controllers run (above).
    std::thread::sleep(std::time::Duration::from_secs(2));
    let (ok, out) = server.kubectl(&["get", "serviceaccounts", "-n", "quiet", "-o", "name"]);
    assert!(ok, "{out}");
    assert_eq!(out.trim(), "", "no controller should have written: {out}");
    let (ok, out) = server.kubectl(&["get", "nodes", "-o", "name"]);
    assert!(ok, "{out}");
    assert_eq!(out.trim(), "", "no kubelet should have registered: {out}");
    assert!(!iptables(&netns, "nat").contains("KUBE-SERVICES"));
}

#[test]
fn a_bad_component_argument_stops_the_server_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rkube"))
        .args(["server", "--insecure-port", "0", "--data-dir"])
        .arg(dir.path())
        .args(["--kube-controller-manager-arg", "no-such-flag=1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--kube-controller-manager-arg") && err.contains("no-such-flag"),
        "{err}"
    );
}

/// The issue's one-command check: from a clean data dir, `kubectl create deployment` and
/// `kubectl expose`, then a request to the ClusterIP from the node answers — the scheduler
/// bound the pods, the kubelet ran them, the endpointslice controller and kube-proxy
/// routed the Service to them.
#[test]
fn a_deployment_exposed_with_kubectl_answers_on_its_cluster_ip() {
    let netns = Netns::new("server-e2e");
    let server_dir = tempfile::tempdir().unwrap();
    let server = exposed_deployment_answers(&netns, server_dir.path(), &[]);
    assert!(iptables(&netns, "nat").contains("KUBE-SVC-"));
    drop(server);
}

/// The same through kube-proxy's nftables mode, chosen with `--kube-proxy-arg`: the
/// answer comes through the table `ip kube-proxy`, and no iptables rule was written.
#[test]
fn a_deployment_answers_on_its_cluster_ip_through_the_nftables_mode() {
    let netns = Netns::new("server-nft");
    let server_dir = tempfile::tempdir().unwrap();
    let server = exposed_deployment_answers(
        &netns,
        server_dir.path(),
        &["--kube-proxy-arg", "proxy-mode=nftables"],
    );
    let table = netns.sh("nft list table ip kube-proxy");
    let (ok, cluster_ip) =
        server.kubectl(&["get", "service", "web", "-o", "jsonpath={.spec.clusterIP}"]);
    assert!(ok, "{cluster_ip}");
    assert!(
        table.contains(&format!("{cluster_ip} . tcp . 80 : goto service-"))
            && table.contains("chain endpoint-"),
        "{table}"
    );
    for t in ["nat", "filter"] {
        let rules = iptables(&netns, t);
        assert!(!rules.contains("KUBE-"), "{rules}");
    }
    drop(server);
}

/// In `netns`, a `rkube server` (with `extra` flags) on a data dir in `dir`; `kubectl
/// create deployment` (2 replicas of busybox httpd answering its hostname) and `kubectl
/// expose`; then the ClusterIP, from the node, answers with the name of one of the
/// Deployment's Running pods. Returns the server, still running.
fn exposed_deployment_answers<'a>(netns: &'a Netns, dir: &Path, extra: &[&str]) -> Server<'a> {
    let data = dir.join("data");
    // The image is on the node already (no registry here): imported into the store of
    // the kubelet that `rkube server` will run.
    common::oci_image::import_busybox(dir, &data.join("kubelet"), "busybox:e2e", "-");

    let server = Server::start(netns, &data, extra);
    let serve = "mkdir -p /tmp/www && hostname > /tmp/www/index.html && \
                 exec /bin/busybox httpd -f -p 8080 -h /tmp/www";
    let (ok, out) = server.kubectl(&[
        "create",
        "deployment",
        "web",
        "--image=busybox:e2e",
        "--replicas=2",
        "--port=8080",
        "--",
        "/bin/sh",
        "-c",
        serve,
    ]);
    assert!(ok, "{out}");
    let (ok, out) = server.kubectl(&[
        "expose",
        "deployment",
        "web",
        "--port=80",
        "--target-port=8080",
    ]);
    assert!(ok, "{out}");
    let (ok, cluster_ip) =
        server.kubectl(&["get", "service", "web", "-o", "jsonpath={.spec.clusterIP}"]);
    assert!(ok, "{cluster_ip}");

    // Like any host, the node has a default route (here into a veth going nowhere): without a route
    // to the service range the kernel refuses the connect before OUTPUT's DNAT sees it.
    netns.sh(
        "ip link add uplink0 type veth peer name uplink1 && ip link set uplink1 up && \
         ip link set uplink0 up && ip route add default dev uplink0",
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let answer = loop {
        let out = netns.sh_output(&format!("curl -sf --max-time 2 http://{cluster_ip}/"));
        let body = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if out.status.success() && body.starts_with("web-") {
            break body;
        }
        if std::time::Instant::now() > deadline {
            let (_, state) = server.kubectl(&["get", "all,endpointslices,events", "-o", "wide"]);
            let rules = netns.sh("iptables-save -t nat; nft list ruleset");
            panic!(
                "no answer from the web Service's ClusterIP {cluster_ip} in 90 s\n{state}\n{rules}"
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    // The answering pod is one of the Deployment's, running on the local node.
    let (ok, pods) = server.kubectl(&[
        "get",
        "pods",
        "-l",
        "app=web",
        "-o",
        "jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.phase}{\"\\n\"}{end}",
    ]);
    assert!(ok, "{pods}");
    assert!(
        pods.lines()
            .any(|l| l == format!("{answer} {NODE} Running")),
        "{answer} is not a Running pod of the Deployment on {NODE}: {pods}"
    );
    server
}
