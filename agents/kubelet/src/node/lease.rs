//! The node's heartbeat: a Lease named after the node in `kube-node-lease`, renewed every
//! 10 s (a quarter of its 40 s duration, as upstream).

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

pub const LEASE_NAMESPACE: &str = "kube-node-lease";
const LEASE_DURATION_SECONDS: i32 = 40;
const RENEW_INTERVAL: Duration = Duration::from_secs(10);
/// After a failure, retry sooner than the renew interval (upstream: 200 ms doubling).
const RETRY_INTERVAL: Duration = Duration::from_millis(500);

/// Creates or renews the lease, owned by the Node so it goes away with it.
async fn renew(leases: &Api<Lease>, node: &str, node_uid: &str) -> Result<(), kube::Error> {
    let now = crate::time::now_micro();
    let patch = json!({"spec": {"renewTime": now, "holderIdentity": node}});
    match leases
        .patch(node, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => {
            let lease: Lease = serde_json::from_value(json!({
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {
                    "name": node,
                    "namespace": LEASE_NAMESPACE,
                    "ownerReferences": [{
                        "apiVersion": "v1", "kind": "Node", "name": node, "uid": node_uid,
                    }],
                },
                "spec": {
                    "holderIdentity": node,
                    "leaseDurationSeconds": LEASE_DURATION_SECONDS,
                    "renewTime": now,
                },
            }))
            .map_err(kube::Error::SerdeError)?;
            leases
                .create(&PostParams::default(), &lease)
                .await
                .map(|_| ())
        }
        Err(e) => Err(e),
    }
}

/// Renews the lease forever.
pub async fn renew_forever(client: kube::Client, node: String, node_uid: String) {
    let leases: Api<Lease> = Api::namespaced(client, LEASE_NAMESPACE);
    loop {
        let wait = match renew(&leases, &node, &node_uid).await {
            Ok(()) => RENEW_INTERVAL,
            Err(e) => {
                tracing::warn!(node, "renewing the node lease: {e}");
                RETRY_INTERVAL
            }
        };
        tokio::time::sleep(wait).await;
    }
}
