//! ReplicaSets and Deployments: `rkube controller-manager` against a real `rkube
//! apiserver`, driven with the real kubectl. No kubelet runs: like upstream's
//! integration tests, the test plays the kubelet and marks pods Running and Ready
//! through the status subresource (after a delay, so that rollouts take steps).
//! `on_a_real_node::rolling_update_on_a_real_node_never_drops_below_replicas_minus_max_unavailable`
//! runs a rollout on a real node instead.
//!
//! This file holds what the tests share: API shortcuts, kubectl, a Deployment's shape and
//! when it counts as rolled out.

#[path = "../common/mod.rs"]
mod common;
mod fake_kubelet;
mod on_a_real_node;
mod replica_set;
mod rollouts;
mod sampler;

use common::{json, which, Apiserver};
use serde_json::{json, Value};

const SECS: u64 = 30;

fn get(port: u16, path: &str) -> Value {
    let (code, out) = json(port, "GET", path, &Value::Null);
    assert_eq!(code, 200, "GET {path}: {out}");
    out
}

fn items(port: u16, path: &str) -> Vec<Value> {
    get(port, path)["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn send(port: u16, method: &str, path: &str, body: Value) -> Value {
    let (code, out) = json(port, method, path, &body);
    assert!((200..300).contains(&code), "{method} {path}: {code} {out}");
    out
}

fn name(obj: &Value) -> String {
    obj["metadata"]["name"].as_str().unwrap_or("").to_string()
}

fn namespace(port: u16, ns: &str) {
    send(
        port,
        "POST",
        "/api/v1/namespaces",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
    );
}

fn is_ready(pod: &Value) -> bool {
    pod["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

fn active_pods(port: u16, ns: &str) -> Vec<Value> {
    items(port, &format!("/api/v1/namespaces/{ns}/pods"))
        .into_iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .collect()
}

fn controlled_by(obj: &Value, uid: &str) -> bool {
    obj["metadata"]["ownerReferences"]
        .as_array()
        .is_some_and(|r| r.iter().any(|r| r["uid"] == uid && r["controller"] == true))
}

fn image(pod: &Value) -> &str {
    pod["spec"]["containers"][0]["image"].as_str().unwrap_or("")
}

struct Kubectl<'a> {
    api: &'a Apiserver,
    bin: String,
    ns: &'a str,
}

impl Kubectl<'_> {
    fn run(&self, args: &[&str]) -> (bool, String, String) {
        let mut full = args.to_vec();
        full.extend(["-n", self.ns]);
        self.api.kubectl(&self.bin, &full)
    }

    fn ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.run(args);
        assert!(ok, "kubectl {args:?} failed: {err}{out}");
        out
    }
}

fn kubectl<'a>(api: &'a Apiserver, ns: &'a str) -> Kubectl<'a> {
    let bin = which("kubectl").expect("kubectl is on the PATH (installed by .ci/run)");
    Kubectl {
        api,
        bin: bin.to_string_lossy().into_owned(),
        ns,
    }
}

fn deployment(name: &str, replicas: i32, image: &str, strategy: Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": strategy,
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": image}]}
            }
        }
    })
}

/// The deployment has rolled out `image` completely, as status and pods say.
fn rolled_out(port: u16, ns: &str, name: &str, replicas: usize, image_now: &str) -> Option<Value> {
    let d = get(
        port,
        &format!("/apis/apps/v1/namespaces/{ns}/deployments/{name}"),
    );
    let s = &d["status"];
    let pods = active_pods(port, ns);
    let done = s["observedGeneration"] == d["metadata"]["generation"]
        && s["replicas"] == replicas
        && s["updatedReplicas"] == replicas
        && s["availableReplicas"] == replicas
        && pods.len() == replicas
        && pods.iter().all(|p| image(p) == image_now && is_ready(p));
    done.then_some(d)
}

fn replica_sets(port: u16, ns: &str) -> Vec<Value> {
    items(port, &format!("/apis/apps/v1/namespaces/{ns}/replicasets"))
}

fn revision(obj: &Value) -> String {
    obj["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn condition<'a>(d: &'a Value, type_: &str) -> &'a Value {
    d["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == type_))
        .unwrap_or(&Value::Null)
}
