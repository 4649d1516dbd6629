//! Delete: preconditions, finalizers, graceful deletion, propagation policy.

use bytes::Bytes;
use rkube_api::{ApiError, Resource};
use rkube_storage::{Revision, Storage as _, StorageError};
use serde_json::{json, Value};

use super::meta::{self, meta_str};
use super::{encode_with_rv, qualified, storage_error, Registry, WriteOptions};
use crate::clock;

#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    pub grace_period_seconds: Option<i64>,
    /// Background, Foreground or Orphan.
    pub propagation_policy: Option<String>,
    pub precondition_uid: Option<String>,
    pub precondition_resource_version: Option<String>,
    pub dry_run: bool,
    /// A client's request: admission webhooks see it.
    pub admission_webhooks: bool,
}

impl DeleteOptions {
    /// Merge a `DeleteOptions` body into options taken from the query.
    pub fn merge_body(&mut self, body: &Value) -> Result<(), ApiError> {
        if !body.is_object() {
            return Err(ApiError::bad_request("DeleteOptions must be a JSON object"));
        }
        if let Some(g) = body.get("gracePeriodSeconds").filter(|v| !v.is_null()) {
            self.grace_period_seconds =
                Some(g.as_i64().ok_or_else(|| {
                    ApiError::bad_request("gracePeriodSeconds must be an integer")
                })?);
        }
        if let Some(p) = body.get("propagationPolicy").and_then(Value::as_str) {
            self.propagation_policy = Some(p.to_string());
        }
        if body.get("orphanDependents").and_then(Value::as_bool) == Some(true)
            && self.propagation_policy.is_none()
        {
            self.propagation_policy = Some("Orphan".into());
        }
        if let Some(uid) = body.pointer("/preconditions/uid").and_then(Value::as_str) {
            self.precondition_uid = Some(uid.to_string());
        }
        if let Some(rv) = body
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
        {
            self.precondition_resource_version = Some(rv.to_string());
        }
        if let Some(dr) = body.get("dryRun").and_then(Value::as_array) {
            self.dry_run |= dr.iter().any(|v| v == "All");
        }
        Ok(())
    }

    pub fn validate(&self) -> Result<(), ApiError> {
        if let Some(p) = &self.propagation_policy {
            if !matches!(p.as_str(), "Background" | "Foreground" | "Orphan") {
                return Err(ApiError::invalid(
                    "meta.k8s.io",
                    "DeleteOptions",
                    "",
                    vec![rkube_api::Cause::new(
                        "FieldValueNotSupported",
                        format!("propagationPolicy: Unsupported value: \"{p}\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""),
                        "propagationPolicy",
                    )],
                ));
            }
        }
        if self.grace_period_seconds.is_some_and(|g| g < 0) {
            return Err(ApiError::bad_request(
                "gracePeriodSeconds must be greater than or equal to 0",
            ));
        }
        Ok(())
    }
}

fn tombstone(rev: Revision, prev: &Bytes) -> Bytes {
    match serde_json::from_slice::<Value>(prev) {
        Ok(v) => encode_with_rv(v, rev),
        Err(_) => prev.clone(),
    }
}

/// The garbage collector's finalizers after a DELETE (upstream's
/// deletionFinalizersForGarbageCollection): Orphan asks the collector to strip the owner
/// from its dependents first (`orphan`), Foreground to delete them first
/// (`foregroundDeletion`), Background neither; with no policy, a finalizer the object
/// already has decides. The controller-manager's garbage collector does the rest.
fn finalizers_for_propagation(mut finalizers: Vec<String>, policy: Option<&str>) -> Vec<String> {
    let wanted = match policy {
        Some("Orphan") => Some(GC_ORPHAN),
        Some("Foreground") => Some(GC_FOREGROUND),
        Some(_) => None,
        None => return finalizers,
    };
    finalizers.retain(|f| f != GC_ORPHAN && f != GC_FOREGROUND);
    finalizers.extend(wanted.map(str::to_string));
    finalizers
}

const GC_ORPHAN: &str = "orphan";
const GC_FOREGROUND: &str = "foregroundDeletion";

/// A pod that a kubelet may still be running gets a grace period.
fn pod_needs_grace(obj: &Value) -> bool {
    let bound = obj
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    let phase = obj
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("");
    bound && !matches!(phase, "Succeeded" | "Failed")
}

impl Registry {
    /// Remove the key now, if it is still at `expected`; returns the tombstone.
    pub(super) async fn remove(
        &self,
        r: &Resource,
        namespace: Option<&str>,
        name: &str,
        expected: Revision,
        dry_run: bool,
    ) -> Result<Bytes, ApiError> {
        let key = self.key(r, namespace, name);
        if dry_run {
            let kv = self.get(r, namespace, name).await?;
            return Ok(kv.value);
        }
        let kv = self
            .store
            .delete(&key, Some(expected), Box::new(tombstone))
            .await
            .map_err(|e| storage_error(r, name, e))?;
        self.webhooks.include_write(r, kv.mod_revision).await;
        let kv = rkube_storage::KeyValue {
            value: super::convert::bytes_from_storage(r, &kv.value),
            ..kv
        };
        if r.plural == "services" {
            if let Ok(v) = serde_json::from_slice::<Value>(&kv.value) {
                self.services.release_service(&v);
            }
        }
        Ok(kv.value)
    }

    /// DELETE of one object. Returns the object as the deletion left it.
    async fn delete_stored(
        &self,
        r: &'static Resource,
        namespace: Option<&str>,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<Bytes, ApiError> {
        opts.validate()?;
        for _attempt in 0..64 {
            let (obj, kv) = self.get_value(r, namespace, name).await?;
            if let Some(uid) = &opts.precondition_uid {
                let actual = meta_str(&obj, "uid").unwrap_or("");
                if uid != actual {
                    return Err(ApiError::conflict(
                        qualified(r),
                        name,
                        &format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {actual}"),
                    ));
                }
            }
            if let Some(rv) = &opts.precondition_resource_version {
                let actual = meta_str(&obj, "resourceVersion").unwrap_or("");
                if rv != actual {
                    return Err(ApiError::conflict(
                        qualified(r),
                        name,
                        &format!("Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {actual}"),
                    ));
                }
            }
            if opts.admission_webhooks {
                let attrs = crate::webhooks::Attributes {
                    resource: r,
                    subresource: None,
                    operation: crate::webhooks::Operation::Delete,
                    namespace: namespace.filter(|_| r.namespaced).unwrap_or(""),
                    name,
                    dry_run: opts.dry_run,
                    kind: None,
                };
                self.admit_delete(&attrs, &obj).await?;
            }
            match self
                .mark_or_remove(r, namespace, name, obj, kv.mod_revision, opts)
                .await
            {
                Err(e) if e.reason == "Conflict" && e.message.contains("has been modified") => {
                    continue
                }
                other => return other,
            }
        }
        Err(ApiError::stale(qualified(r), name))
    }

    /// DELETE of one object of `r`; the answer in `r`'s form.
    pub async fn delete(
        &self,
        r: &'static Resource,
        namespace: Option<&str>,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<Bytes, ApiError> {
        let (stored, converts) = super::convert::storage_form(r);
        let out = self.delete_stored(stored, namespace, name, opts).await?;
        Ok(if converts {
            super::convert::bytes_from_storage(r, &out)
        } else {
            out
        })
    }

    async fn mark_or_remove(
        &self,
        r: &'static Resource,
        namespace: Option<&str>,
        name: &str,
        mut obj: Value,
        rev: Revision,
        opts: &DeleteOptions,
    ) -> Result<Bytes, ApiError> {
        let now = clock::now();
        let mut finalizers =
            finalizers_for_propagation(meta::finalizers(&obj), opts.propagation_policy.as_deref());
        // A CRD's custom resources go first (apiextensions' CRD storage Delete).
        let crd_cleanup = r.group == rkube_api::crd::GROUP && !meta::is_deleting(&obj);
        if crd_cleanup {
            if !finalizers
                .iter()
                .any(|f| f == rkube_api::crd::CLEANUP_FINALIZER)
            {
                finalizers.push(rkube_api::crd::CLEANUP_FINALIZER.to_string());
            }
            let status = obj
                .as_object_mut()
                .map(|m| m.entry("status").or_insert_with(|| json!({})));
            if let Some(status) = status {
                rkube_api::crd::names::set_condition(
                    status,
                    "Terminating",
                    "True",
                    "InstanceDeletionPending",
                    "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon",
                    &now,
                );
            }
        }
        let namespace_finalizers = r.plural == "namespaces"
            && obj
                .pointer("/spec/finalizers")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
        let grace = if r.plural == "pods" && pod_needs_grace(&obj) {
            opts.grace_period_seconds
                .or_else(|| {
                    obj.pointer("/spec/terminationGracePeriodSeconds")
                        .and_then(Value::as_i64)
                })
                .unwrap_or(30)
        } else {
            0
        };
        if finalizers.is_empty() && !namespace_finalizers && grace == 0 {
            return self.remove(r, namespace, name, rev, opts.dry_run).await;
        }
        // Graceful: mark it and let the owner of the finalizers (or the kubelet) finish.
        let already = meta::is_deleting(&obj);
        let m = meta::meta_mut(&mut obj);
        if !already || grace > 0 {
            let when = if grace > 0 {
                clock::rfc3339(
                    std::time::SystemTime::now() + std::time::Duration::from_secs(grace as u64),
                )
            } else {
                now
            };
            let keep_earlier = already
                && m.get("deletionGracePeriodSeconds")
                    .and_then(Value::as_i64)
                    .is_some_and(|g| g <= grace);
            if !keep_earlier {
                m.insert("deletionTimestamp".into(), json!(when));
                m.insert("deletionGracePeriodSeconds".into(), json!(grace));
            }
        }
        m.insert("finalizers".into(), json!(finalizers));
        if r.plural == "namespaces" {
            obj["status"] = json!({"phase": "Terminating"});
        }
        let obj = meta::canonicalize(obj);
        if opts.dry_run {
            return Ok(Bytes::from(serde_json::to_vec(&obj).unwrap_or_default()));
        }
        let key = self.key(r, namespace, name);
        match self
            .store
            .update(
                &key,
                rev,
                super::render(super::convert::custom_to_storage(r, obj)),
            )
            .await
        {
            Ok(kv) => {
                self.webhooks.include_write(r, kv.mod_revision).await;
                Ok(super::convert::bytes_from_storage(r, &kv.value))
            }
            Err(StorageError::Conflict { .. }) => Err(ApiError::stale(qualified(r), name)),
            Err(e) => Err(storage_error(r, name, e)),
        }
    }

    /// DELETE of a collection: every object the list options select, one by one.
    pub async fn delete_collection(
        &self,
        r: &'static Resource,
        namespace: Option<&str>,
        list: &super::ListOptions,
        opts: &DeleteOptions,
    ) -> Result<Vec<Bytes>, ApiError> {
        let outcome = self.list(r, namespace, list).await?;
        let mut deleted = Vec::new();
        for item in outcome.items {
            let v: Value = match serde_json::from_slice(&item) {
                Ok(v) => v,
                Err(_) => continue,
            };
            let name = meta_str(&v, "name").unwrap_or("").to_string();
            let ns = meta_str(&v, "namespace").map(str::to_string);
            match self
                .delete(r, ns.as_deref().or(namespace), &name, opts)
                .await
            {
                Ok(b) => deleted.push(b),
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        Ok(deleted)
    }

    /// `PUT namespaces/{name}/finalize`: replace spec.finalizers; an emptied namespace
    /// that is terminating goes away.
    pub async fn finalize_namespace(
        &self,
        r: &'static Resource,
        name: &str,
        body: Value,
        opts: &WriteOptions,
    ) -> Result<Bytes, ApiError> {
        let finalizers = body
            .pointer("/spec/finalizers")
            .cloned()
            .unwrap_or(json!([]));
        let written = self
            .guaranteed_update(
                r,
                None,
                name,
                &WriteOptions {
                    subresource: Some("finalize".into()),
                    ..opts.clone()
                },
                |old| {
                    let mut new = old
                        .cloned()
                        .ok_or_else(|| ApiError::not_found(qualified(r), name))?;
                    new["spec"]["finalizers"] = finalizers.clone();
                    Ok(new)
                },
            )
            .await?;
        // A terminating namespace whose finalizers are now all gone was removed by the
        // update itself (see `deletion_is_due`).
        Ok(written.body)
    }
}

#[cfg(test)]
mod tests {
    use super::finalizers_for_propagation as gc;

    fn v(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn propagation_policy_sets_the_collectors_finalizers() {
        assert_eq!(gc(v(&["a"]), Some("Orphan")), v(&["a", "orphan"]));
        assert_eq!(
            gc(v(&["orphan"]), Some("Foreground")),
            v(&["foregroundDeletion"])
        );
        assert_eq!(
            gc(v(&["a", "foregroundDeletion"]), Some("Background")),
            v(&["a"])
        );
        assert_eq!(gc(v(&["orphan"]), None), v(&["orphan"]));
        assert!(gc(Vec::new(), None).is_empty());
    }
}
