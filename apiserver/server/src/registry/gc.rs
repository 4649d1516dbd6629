//! Dependents of a deleted owner (ownerReferences), resolved by the apiserver itself
//! until the controller-manager's garbage collector exists: Orphan strips the owner
//! reference from dependents, Foreground deletes dependents before the owner,
//! Background deletes them after it.

use rkube_api::{ApiError, Resource, RESOURCES};
use rkube_storage::Storage as _;
use serde_json::Value;

use super::meta::{meta, meta_str};
use super::{DeleteOptions, Registry, WriteOptions};

/// One object that names an owner in its ownerReferences.
pub struct Dependent {
    pub resource: &'static Resource,
    pub namespace: Option<String>,
    pub name: String,
}

fn owned_by(obj: &Value, uid: &str) -> bool {
    meta(obj)
        .and_then(|m| m.get("ownerReferences"))
        .and_then(Value::as_array)
        .is_some_and(|refs| {
            refs.iter()
                .any(|r| r.get("uid").and_then(Value::as_str) == Some(uid))
        })
}

impl Registry {
    /// Every stored object with an ownerReference to `uid`.
    pub async fn dependents(&self, uid: &str) -> Result<Vec<Dependent>, ApiError> {
        let mut out = Vec::new();
        let mut seen_storage: Vec<&str> = Vec::new();
        for r in RESOURCES.iter().filter(|r| r.is_stored()) {
            if seen_storage.contains(&r.storage_resource) {
                continue;
            }
            seen_storage.push(r.storage_resource);
            let listed = self
                .store
                .list(&self.list_prefix(r, None), None)
                .await
                .map_err(|e| super::storage_error(r, "", e))?;
            let needle = uid.as_bytes();
            for kv in listed.items {
                // Cheap filter before parsing: the uid must appear in the bytes.
                if !kv.value.windows(needle.len()).any(|w| w == needle) {
                    continue;
                }
                let Ok(obj) = serde_json::from_slice::<Value>(&kv.value) else {
                    continue;
                };
                if owned_by(&obj, uid) {
                    out.push(Dependent {
                        resource: r,
                        namespace: meta_str(&obj, "namespace").map(str::to_string),
                        name: meta_str(&obj, "name").unwrap_or("").to_string(),
                    });
                }
            }
        }
        Ok(out)
    }

    /// Remove the owner reference to `uid` from each dependent.
    pub async fn orphan_dependents(&self, uid: &str) -> Result<(), ApiError> {
        let opts = WriteOptions {
            field_manager: "garbage-collector".into(),
            ..WriteOptions::default()
        };
        for d in self.dependents(uid).await? {
            let result = self
                .guaranteed_update(
                    d.resource,
                    d.namespace.as_deref(),
                    &d.name,
                    &opts,
                    |current| {
                        let mut obj = current.cloned().ok_or_else(|| {
                            ApiError::not_found(super::qualified(d.resource), &d.name)
                        })?;
                        if let Some(refs) = obj
                            .pointer_mut("/metadata/ownerReferences")
                            .and_then(Value::as_array_mut)
                        {
                            refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid));
                        }
                        Ok(obj)
                    },
                )
                .await;
            match result {
                Ok(_) => {}
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Delete every dependent of `uid` with the given propagation (recursively through
    /// their own dependents).
    pub async fn delete_dependents(&self, uid: &str, policy: &str) -> Result<(), ApiError> {
        let opts = DeleteOptions {
            propagation_policy: Some(policy.to_string()),
            ..DeleteOptions::default()
        };
        for d in self.dependents(uid).await? {
            match Box::pin(self.delete(d.resource, d.namespace.as_deref(), &d.name, &opts)).await {
                Ok(_) => {}
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}
