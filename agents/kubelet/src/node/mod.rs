//! The Node object: registration, periodic status (conditions, addresses, capacity) and
//! the heartbeat Lease.

mod lease;
pub mod machine;

use std::net::IpAddr;
use std::time::Duration;

use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{json, Value};

use crate::Error;
use machine::Machine;

pub use lease::renew_forever as keep_lease;

/// What the node says about itself; fixed for the kubelet's lifetime.
#[derive(Debug, Clone)]
pub struct NodeIdentity {
    pub name: String,
    pub ip: Option<IpAddr>,
    pub kubelet_port: u16,
    pub max_pods: u32,
    pub root_dir: std::path::PathBuf,
}

impl NodeIdentity {
    fn addresses(&self) -> Value {
        let mut addresses = Vec::new();
        if let Some(ip) = self.ip {
            addresses.push(json!({"type": "InternalIP", "address": ip.to_string()}));
        }
        addresses.push(json!({"type": "Hostname", "address": self.name}));
        Value::Array(addresses)
    }
}

/// Creates the Node (or adopts the existing one) and returns it as the apiserver has it.
pub async fn register(
    nodes: &Api<Node>,
    identity: &NodeIdentity,
    labels: std::collections::BTreeMap<String, String>,
    taints: Vec<k8s_openapi::api::core::v1::Taint>,
    pod_cidr: Option<&str>,
) -> Result<Node, Error> {
    let mut all_labels = json!({
        "kubernetes.io/hostname": identity.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": machine::go_arch(std::env::consts::ARCH),
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": machine::go_arch(std::env::consts::ARCH),
    });
    for (k, v) in labels {
        all_labels[k] = Value::String(v);
    }
    let mut spec = json!({});
    if let Some(cidr) = pod_cidr {
        spec["podCIDR"] = json!(cidr);
        spec["podCIDRs"] = json!([cidr]);
    }
    if !taints.is_empty() {
        spec["taints"] = serde_json::to_value(&taints).map_err(|e| Error::Flags(e.to_string()))?;
    }
    let node: Node = serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": identity.name,
            "labels": all_labels,
            "annotations": {"volumes.kubernetes.io/controller-managed-attach-detach": "true"},
        },
        "spec": spec,
    }))
    .map_err(|e| Error::Flags(format!("building the Node: {e}")))?;
    match nodes.create(&PostParams::default(), &node).await {
        Ok(created) => {
            tracing::info!(node = identity.name, "registered the node");
            Ok(created)
        }
        Err(kube::Error::Api(status)) if status.code == 409 => {
            tracing::info!(node = identity.name, "the node exists: adopting it");
            let existing = nodes.get(&identity.name).await?;
            let has_cidr = existing
                .spec
                .as_ref()
                .and_then(|s| s.pod_cidr.as_ref())
                .is_some();
            match pod_cidr {
                Some(cidr) if !has_cidr => Ok(nodes
                    .patch(
                        &identity.name,
                        &PatchParams::default(),
                        &Patch::Merge(json!({"spec": {"podCIDR": cidr, "podCIDRs": [cidr]}})),
                    )
                    .await?),
                _ => Ok(existing),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// The four conditions the kubelet owns, carrying over transition times that did not
/// change from `previous`.
pub fn conditions(machine: &Machine, previous: Option<&Node>, now: &str) -> Value {
    let wanted = [
        (
            "MemoryPressure",
            machine.memory_pressure(),
            "KubeletHasInsufficientMemory",
            "KubeletHasSufficientMemory",
            "kubelet has insufficient memory available",
            "kubelet has sufficient memory available",
        ),
        (
            "DiskPressure",
            machine.disk_pressure(),
            "KubeletHasDiskPressure",
            "KubeletHasNoDiskPressure",
            "kubelet has disk pressure",
            "kubelet has no disk pressure",
        ),
        (
            "PIDPressure",
            machine.pid_pressure(),
            "KubeletHasInsufficientPID",
            "KubeletHasSufficientPID",
            "kubelet has insufficient PID available",
            "kubelet has sufficient PID available",
        ),
        (
            "Ready",
            true,
            "KubeletReady",
            "KubeletNotReady",
            "kubelet is posting ready status",
            "kubelet is not ready",
        ),
    ];
    let old = previous
        .and_then(|n| n.status.as_ref())
        .and_then(|s| s.conditions.as_ref());
    let list: Vec<Value> = wanted
        .iter()
        .map(|(kind, on, reason_on, reason_off, msg_on, msg_off)| {
            let status = if *on { "True" } else { "False" };
            let transition = old
                .and_then(|c| c.iter().find(|c| c.type_ == *kind && c.status == status))
                .and_then(|c| c.last_transition_time.as_ref())
                .map(|t| t.0.to_string())
                .unwrap_or_else(|| now.to_string());
            json!({
                "type": kind,
                "status": status,
                "reason": if *on { reason_on } else { reason_off },
                "message": if *on { msg_on } else { msg_off },
                "lastHeartbeatTime": now,
                "lastTransitionTime": transition,
            })
        })
        .collect();
    Value::Array(list)
}

/// The whole status the kubelet writes: capacity, allocatable, conditions, addresses,
/// daemon endpoints and nodeInfo.
pub fn status(identity: &NodeIdentity, machine: &Machine, previous: Option<&Node>) -> Value {
    let now = crate::time::now_rfc3339();
    json!({
        "capacity": machine.capacity(identity.max_pods),
        "allocatable": machine.allocatable(identity.max_pods),
        "conditions": conditions(machine, previous, &now),
        "addresses": identity.addresses(),
        "daemonEndpoints": {"kubeletEndpoint": {"Port": identity.kubelet_port}},
        "nodeInfo": machine::node_info(),
    })
}

/// Posts the node status now and then every `every`, forever.
pub async fn report_status_forever(nodes: Api<Node>, identity: NodeIdentity, every: Duration) {
    let mut previous: Option<Node> = None;
    loop {
        let machine = Machine::read(&identity.root_dir);
        let patch = json!({"status": status(&identity, &machine, previous.as_ref())});
        match nodes
            .patch_status(
                &identity.name,
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await
        {
            Ok(node) => previous = Some(node),
            Err(e) => tracing::warn!(node = identity.name, "updating the node status: {e}"),
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_keep_transition_times_that_did_not_change() {
        let m = Machine::read(std::path::Path::new("/"));
        let first = conditions(&m, None, "2026-01-01T00:00:00Z");
        let node: Node = serde_json::from_value(json!({
            "metadata": {"name": "n"},
            "status": {"conditions": first},
        }))
        .unwrap();
        let second = conditions(&m, Some(&node), "2026-01-01T00:00:10Z");
        let ready = second
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Ready")
            .unwrap();
        assert_eq!(ready["status"], "True");
        assert_eq!(ready["lastHeartbeatTime"], "2026-01-01T00:00:10Z");
        assert_eq!(ready["lastTransitionTime"], "2026-01-01T00:00:00Z");
    }
}
