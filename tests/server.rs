//! `rkube server`: the apiserver and the agents in one process, from a clean data dir,
//! driven with the real kubectl through the kubeconfig it writes.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::{eventually, raw};

/// A `rkube server` process on a free loopback port, killed on drop.
struct Server {
    child: Child,
    port: u16,
    data: PathBuf,
}

impl Server {
    fn start(data: &Path, extra: &[&str]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_rkube"))
            .args(["server", "--insecure-port", &port.to_string(), "--data-dir"])
            .arg(data)
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn rkube server");
        let server = Server {
            child,
            port,
            data: data.to_path_buf(),
        };
        eventually(20, "rkube server ready", || {
            matches!(raw(port, "GET", "/readyz", &[], b""), Ok((200, _))).then_some(())
        });
        server
    }

    fn kubeconfig(&self) -> PathBuf {
        self.data.join("kubeconfig.yaml")
    }

    /// The real kubectl with nothing but the kubeconfig the server wrote.
    fn kubectl(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new("kubectl")
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

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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

#[test]
fn one_command_runs_the_apiserver_and_the_controllers_with_an_admin_kubeconfig() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, &[]);
    let kubeconfig = std::fs::read_to_string(server.kubeconfig()).unwrap();
    assert!(
        kubeconfig.contains(&format!("server: http://127.0.0.1:{}", server.port)),
        "{kubeconfig}"
    );

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
    let server = Server::start(&data, &[]);
    let (ok, out) = server.kubectl(&["scale", "rc", "web", "-n", "shop", "--replicas=3"]);
    assert!(ok, "{out}");
    eventually(20, "3 pods after scaling", || {
        (pod_count(&server) == 3).then_some(())
    });
}

#[test]
fn a_disabled_controller_manager_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--disable-controller-manager"]);
    let (ok, out) = server.kubectl(&["create", "namespace", "quiet"]);
    assert!(ok, "{out}");
    // The same ServiceAccount appears within a second when the controllers run (above).
    std::thread::sleep(std::time::Duration::from_secs(2));
    let (ok, out) = server.kubectl(&["get", "serviceaccounts", "-n", "quiet", "-o", "name"]);
    assert!(ok, "{out}");
    assert_eq!(out.trim(), "", "no controller should have written: {out}");
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
