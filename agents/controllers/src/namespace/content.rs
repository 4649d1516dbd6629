//! Deleting everything in a namespace: discover the namespaced resources that can be
//! listed and deleted, delete each collection that holds something, then count what is
//! left.

use std::collections::BTreeMap;

use kube::api::{Api, DeleteParams, DynamicObject, ListParams};
use kube::discovery::{verbs, ApiCapabilities, ApiResource, Discovery, Scope};

use crate::queue::api_code;

/// What one pass over a namespace's content found.
#[derive(Debug, Default)]
pub struct Cleanup {
    /// Discovery failed: nothing was deleted.
    pub discovery_failure: Option<String>,
    /// `resource.group: error` for each resource whose deletion failed.
    pub deletion_failures: Vec<String>,
    /// Objects still present per `resource.group` (upstream's spelling: `pods.`).
    pub remaining: BTreeMap<String, usize>,
    /// Remaining objects per finalizer they carry.
    pub finalizers: BTreeMap<String, usize>,
    /// The longest grace period among remaining objects that are being deleted.
    pub grace_seconds: i64,
}

/// Delete every namespaced object in `namespace`, then count what remains.
pub async fn delete_all(client: &kube::Client, namespace: &str) -> Cleanup {
    let mut cleanup = Cleanup::default();
    let resources = match deletable_resources(client).await {
        Ok(resources) => resources,
        Err(e) => {
            cleanup.discovery_failure = Some(e.to_string());
            return cleanup;
        }
    };
    for (resource, caps) in &resources {
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, resource);
        let name = format!("{}.{}", resource.plural, resource.group);
        // Most resources hold nothing in the namespace: one look at a single item spares
        // them the deletecollection and the count (a pass costs half the requests, which
        // counts when many namespaces go at once on a busy apiserver).
        match api.list(&ListParams::default().limit(1)).await {
            Ok(list) if list.items.is_empty() => continue,
            Ok(_) => {}
            Err(e) if api_code(&e) == Some(404) => continue,
            Err(e) => {
                cleanup.deletion_failures.push(format!("{name}: {e}"));
                continue;
            }
        }
        if let Err(e) = delete_collection(&api, caps).await {
            cleanup.deletion_failures.push(format!("{name}: {e}"));
        }
        match api.list(&ListParams::default()).await {
            Ok(list) if !list.items.is_empty() => {
                cleanup.remaining.insert(name, list.items.len());
                for item in &list.items {
                    count_remaining(&mut cleanup, item);
                }
            }
            Ok(_) => {}
            Err(e) if api_code(&e) == Some(404) => {}
            Err(e) => cleanup.deletion_failures.push(format!("{name}: {e}")),
        }
    }
    cleanup
}

fn count_remaining(cleanup: &mut Cleanup, item: &DynamicObject) {
    for finalizer in item.metadata.finalizers.iter().flatten() {
        *cleanup.finalizers.entry(finalizer.clone()).or_default() += 1;
    }
    if let Some(grace) = item.metadata.deletion_grace_period_seconds {
        cleanup.grace_seconds = cleanup.grace_seconds.max(grace);
    }
}

/// Namespaced resources, at their group's preferred version, that support list and delete.
async fn deletable_resources(
    client: &kube::Client,
) -> Result<Vec<(ApiResource, ApiCapabilities)>, kube::Error> {
    let discovery = Discovery::new(client.clone()).run_aggregated().await?;
    Ok(discovery
        .groups()
        .flat_map(|group| group.recommended_resources())
        .filter(|(_, caps)| {
            caps.scope == Scope::Namespaced
                && caps.supports_operation(verbs::LIST)
                && caps.supports_operation(verbs::DELETE)
        })
        .collect())
}

/// One deletecollection where the resource has it, otherwise list and delete each.
async fn delete_collection(
    api: &Api<DynamicObject>,
    caps: &ApiCapabilities,
) -> Result<(), kube::Error> {
    let params = DeleteParams::background();
    if caps.supports_operation(verbs::DELETE_COLLECTION) {
        match api.delete_collection(&params, &ListParams::default()).await {
            Ok(_) => return Ok(()),
            Err(e) if api_code(&e) == Some(404) => return Ok(()),
            Err(e) if api_code(&e) == Some(405) => {}
            Err(e) => return Err(e),
        }
    }
    for item in api.list(&ListParams::default()).await? {
        let Some(name) = item.metadata.name.as_deref() else {
            continue;
        };
        match api.delete(name, &params).await {
            Ok(_) => {}
            Err(e) if api_code(&e) == Some(404) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
