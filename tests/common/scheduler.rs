//! A real `rkube scheduler` process against an apiserver, and Node objects created
//! through the API (no kubelet: the scheduler only reads them).

use std::path::Path;
use std::process::{Child, Stdio};

use serde_json::{json, Value};

use super::{json, Apiserver};

/// `rkube scheduler --master <apiserver>` (in the apiserver's network namespace, if it
/// has one), killed on drop.
pub struct Scheduler {
    child: Child,
}

impl Scheduler {
    /// With `extra` flags, logging at info level (no colours) to `log`.
    pub fn start(apiserver: &Apiserver, extra: &[&str], log: &Path) -> Scheduler {
        let child = apiserver
            .command(env!("CARGO_BIN_EXE_rkube"))
            .args(["scheduler", "--master", &apiserver.url("")])
            .args(extra)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).expect("create the log file"))
            .spawn()
            .expect("spawn rkube scheduler");
        Scheduler { child }
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Create a Node with this much allocatable cpu (memory 16Gi, 110 pods), labels and
/// taints, and set its status through the status subresource (as a kubelet would).
pub fn create_node(port: u16, name: &str, cpu: &str, labels: Value, taints: Value) {
    let resources = json!({"cpu": cpu, "memory": "16Gi", "pods": "110"});
    let (code, out) = json(
        port,
        "POST",
        "/api/v1/nodes",
        &json!({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": labels},
            "spec": {"taints": taints},
        }),
    );
    assert_eq!(code, 201, "create node {name}: {out}");
    let (code, out) = json(
        port,
        "PATCH",
        &format!("/api/v1/nodes/{name}/status"),
        &json!({"status": {"capacity": resources, "allocatable": resources,
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]}}),
    );
    assert_eq!(code, 200, "node {name} status: {out}");
}
