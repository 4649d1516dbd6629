//! Create, update and patch: the generic write path.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use rkube_api::{ApiError, Cause, Resource};
use rkube_storage::{KeyValue, Storage as _, StorageError};
use serde_json::{json, Value};

use super::meta::{self, meta_str};
use super::{convert, decode_stored, qualified, render, storage_error, Registry};
use crate::admission::QuotaCharge;
use crate::clock;
use crate::strategy;
use crate::webhooks::{Attributes, Operation};

/// `fieldValidation`: what to do with unknown or duplicate fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldValidation {
    Ignore,
    #[default]
    Warn,
    Strict,
}

#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    pub dry_run: bool,
    pub field_manager: String,
    pub field_validation: FieldValidation,
    pub subresource: Option<String>,
    /// Server-side apply: a missing object is created.
    pub apply: bool,
    /// A client's request: admission webhooks see it (the apiserver's own writes skip
    /// them).
    pub admission_webhooks: bool,
}

/// What a write did, for the response code (201 on create).
pub struct Written {
    pub body: Bytes,
    pub created: bool,
}

const GENERATE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn generate_suffix() -> String {
    let bytes = uuid::Uuid::new_v4();
    bytes.as_bytes()[..5]
        .iter()
        .map(|b| GENERATE_ALPHABET[*b as usize % GENERATE_ALPHABET.len()] as char)
        .collect()
}

/// Upstream creates unconditionally on PUT for these.
fn allows_create_on_update(r: &Resource) -> bool {
    matches!(
        r.plural,
        "endpoints" | "events" | "leases" | "endpointslices"
    )
}

/// The body's apiVersion and kind must be those of the path; missing ones are taken
/// from the path, as upstream's decoder defaults them for built-in types.
pub fn check_type(obj: &mut Value, kind: &str, group: &str, version: &str) -> Result<(), ApiError> {
    let expected = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let api_version = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let body_kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if !body_kind.is_empty() && body_kind != kind {
        return Err(ApiError::bad_request(format!(
            "{body_kind} in version \"{}\" cannot be handled as a {kind}: the object provided is unrecognized (must be of type {kind})",
            api_version.rsplit('/').next().unwrap_or(&api_version)
        )));
    }
    if !api_version.is_empty() && api_version != expected {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({api_version}) does not match the expected API version ({expected})"
        )));
    }
    if let Some(o) = obj.as_object_mut() {
        o.insert("apiVersion".into(), json!(expected));
        o.insert("kind".into(), json!(kind));
    }
    Ok(())
}

impl Registry {
    /// Create an object in `namespace` (ignored for cluster-scoped resources).
    async fn create_stored(
        &self,
        r: &'static Resource,
        namespace: Option<&str>,
        mut obj: Value,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        check_type(&mut obj, r.kind, r.group, r.version)?;
        strategy::check_types(r, &obj)?;
        if r.namespaced {
            let ns = namespace.unwrap_or("default");
            match meta_str(&obj, "namespace") {
                Some(body_ns) if !body_ns.is_empty() && body_ns != ns => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ))
                }
                _ => {}
            }
            meta::meta_mut(&mut obj).insert("namespace".into(), json!(ns));
        } else {
            meta::meta_mut(&mut obj).remove("namespace");
        }
        let name = match meta_str(&obj, "name").filter(|n| !n.is_empty()) {
            Some(n) => n.to_string(),
            None => match meta_str(&obj, "generateName").filter(|g| !g.is_empty()) {
                Some(prefix) => {
                    let base: String = prefix.chars().take(58).collect();
                    format!("{base}{}", generate_suffix())
                }
                None => {
                    return Err(ApiError::invalid(
                        r.group,
                        r.kind,
                        "",
                        vec![Cause::new(
                            "FieldValueRequired",
                            "metadata.name: Required value: name or generateName is required",
                            "metadata.name",
                        )],
                    ))
                }
            },
        };
        meta::meta_mut(&mut obj).insert("name".into(), json!(name));
        let uid = uuid::Uuid::new_v4().to_string();
        let now = clock::now();
        meta::prepare_create(&mut obj, &uid, &now);
        strategy::prepare_create(r, &mut obj, &uid);
        let ns = meta_str(&obj, "namespace").unwrap_or_default().to_string();
        let mut before_mutation = None;
        if r.namespaced {
            self.admit_namespace(r, &ns, &name).await?;
            before_mutation = self.apply_limit_range_defaults(r, &ns, &mut obj).await?;
            // Only a pod naming a RuntimeClass can be mutated here: copy only those.
            let before = (before_mutation.is_none()
                && obj.pointer("/spec/runtimeClassName").is_some())
            .then(|| obj.clone());
            if self.admit_runtime_class(r, &name, &mut obj).await? {
                if let Some(before) = before {
                    before_mutation.get_or_insert(before);
                }
            }
        }
        let attrs = Attributes {
            resource: r,
            subresource: None,
            operation: Operation::Create,
            namespace: &ns,
            name: &name,
            dry_run: opts.dry_run,
            kind: None,
        };
        if opts.admission_webhooks {
            let before = obj.clone();
            if self.mutate_by_webhooks(&attrs, &mut obj, None).await? {
                // Upstream decodes a patched object again, so it is defaulted again.
                rkube_api::defaults::apply(r, &mut obj);
                before_mutation.get_or_insert(before);
            }
        }
        let release = self.services.allocate_for(r, &mut obj, None)?;
        let admitted = match strategy::validate(r, &obj, None)
            .and_then(|()| self.admit_privileged(r, &name, &obj))
        {
            Ok(()) => match self
                .validate_by_webhooks_if(opts, &attrs, Some(&obj), None)
                .await
            {
                Ok(()) if r.namespaced => {
                    self.admit_validating(r, &ns, &name, &obj, None, opts).await
                }
                Ok(()) => Ok(QuotaCharge::default()),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        let charge = match admitted {
            Ok(charge) => charge,
            Err(e) => {
                release.release_now(&self.services);
                return Err(e);
            }
        };
        match before_mutation {
            // Upstream records the request's fields before mutating admission: what
            // LimitRanger filled in belongs to no manager.
            Some(mut before) => {
                strategy::track_managed_fields(
                    r,
                    None,
                    &mut before,
                    &opts.field_manager,
                    None,
                    &now,
                );
                if let Some(fields) = meta::meta_mut(&mut before).remove("managedFields") {
                    meta::meta_mut(&mut obj).insert("managedFields".into(), fields);
                }
            }
            None => {
                strategy::track_managed_fields(r, None, &mut obj, &opts.field_manager, None, &now)
            }
        }
        strategy::admit_create(r, &mut obj, self.admission.default_toleration_seconds);
        let obj = meta::canonicalize(obj);
        if opts.dry_run {
            release.release_now(&self.services);
            return Ok(Written {
                body: Bytes::from(serde_json::to_vec(&obj).unwrap_or_default()),
                created: true,
            });
        }
        let key = self.key(r, namespace, &name);
        match self
            .store
            .create(&key, render(convert::custom_to_storage(r, obj)))
            .await
        {
            Ok(kv) => {
                release.keep();
                self.webhooks.include_write(r, kv.mod_revision).await;
                Ok(Written {
                    body: convert::bytes_from_storage(r, &kv.value),
                    created: true,
                })
            }
            Err(e) => {
                release.release_now(&self.services);
                self.refund_quotas(charge).await;
                Err(storage_error(r, &name, e))
            }
        }
    }

    /// The validating admission plugins: LimitRanger's bounds, then ResourceQuota's
    /// charge (last, so nothing refuses the write after it was charged). Boxed: the
    /// charge writes a quota's status through the same write path.
    fn admit_validating<'a>(
        &'a self,
        r: &'a Resource,
        ns: &'a str,
        name: &'a str,
        obj: &'a Value,
        old: Option<&'a Value>,
        opts: &'a WriteOptions,
    ) -> Pin<Box<dyn Future<Output = Result<QuotaCharge, ApiError>> + Send + 'a>> {
        Box::pin(async move {
            if old.is_none() || r.plural == "persistentvolumeclaims" {
                self.validate_limit_ranges(r, ns, name, obj).await?;
            }
            self.charge_quotas(r, ns, name, obj, old, opts.dry_run)
                .await
        })
    }

    /// The validating webhooks, for a client's request.
    async fn validate_by_webhooks_if(
        &self,
        opts: &WriteOptions,
        attrs: &Attributes<'_>,
        obj: Option<&Value>,
        old: Option<&Value>,
    ) -> Result<(), ApiError> {
        if opts.admission_webhooks {
            self.validate_by_webhooks(attrs, obj, old).await
        } else {
            Ok(())
        }
    }

    /// Create an object of `r` (converted to and from its stored form when they differ).
    pub async fn create(
        &self,
        r: &'static Resource,
        namespace: Option<&str>,
        mut obj: Value,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        let (stored, converts) = convert::storage_form(r);
        if !converts {
            return self.create_stored(r, namespace, obj, opts).await;
        }
        check_type(&mut obj, r.kind, r.group, r.version)?;
        let w = self
            .create_stored(stored, namespace, convert::to_storage(r, obj), opts)
            .await?;
        Ok(Written {
            body: convert::bytes_from_storage(r, &w.body),
            ..w
        })
    }

    /// Read-modify-write with compare-and-swap (see `guaranteed_update_stored`); `mutate`
    /// sees and returns objects in `r`'s form.
    pub async fn guaranteed_update<F>(
        &self,
        r: &'static Resource,
        namespace: Option<&str>,
        name: &str,
        opts: &WriteOptions,
        mut mutate: F,
    ) -> Result<Written, ApiError>
    where
        F: FnMut(Option<&Value>) -> Result<Value, ApiError>,
    {
        let (stored, converts) = convert::storage_form(r);
        if !converts {
            return self
                .guaranteed_update_stored(r, namespace, name, opts, mutate)
                .await;
        }
        let w = self
            .guaranteed_update_stored(stored, namespace, name, opts, |current| {
                let current = current.map(|c| convert::from_storage(r, c.clone()));
                Ok(convert::to_storage(r, mutate(current.as_ref())?))
            })
            .await?;
        Ok(Written {
            body: convert::bytes_from_storage(r, &w.body),
            ..w
        })
    }

    /// Read-modify-write with compare-and-swap, retried when another writer got in
    /// between (upstream's GuaranteedUpdate). `mutate` gets the current object (None if
    /// missing) and returns the desired one; it decides about preconditions.
    async fn guaranteed_update_stored<F>(
        &self,
        r: &'static Resource,
        namespace: Option<&str>,
        name: &str,
        opts: &WriteOptions,
        mut mutate: F,
    ) -> Result<Written, ApiError>
    where
        F: FnMut(Option<&Value>) -> Result<Value, ApiError>,
    {
        let key = self.key(r, namespace, name);
        for _attempt in 0..64 {
            let current: Option<KeyValue> = self
                .store
                .get(&key)
                .await
                .map_err(|e| storage_error(r, name, e))?;
            let old = match &current {
                Some(kv) => Some(convert::from_storage(r, decode_stored(kv)?)),
                None => None,
            };
            let mut new = mutate(old.as_ref())?;
            let (Some(old), Some(kv)) = (old, current) else {
                if !(allows_create_on_update(r) || opts.apply) || opts.subresource.is_some() {
                    return Err(ApiError::not_found(qualified(r), name));
                }
                meta::meta_mut(&mut new).remove("resourceVersion");
                return self.create_stored(r, namespace, new, opts).await;
            };
            let ns = meta_str(&old, "namespace").unwrap_or_default().to_string();
            let attrs = Attributes {
                resource: r,
                subresource: opts.subresource.as_deref(),
                operation: Operation::Update,
                namespace: &ns,
                name,
                dry_run: opts.dry_run,
                kind: None,
            };
            if opts.admission_webhooks
                && self
                    .mutate_by_webhooks(&attrs, &mut new, Some(&old))
                    .await?
            {
                rkube_api::defaults::apply(r, &mut new);
            }
            let new = self.prepare_update(r, name, new, &old, opts)?;
            self.validate_by_webhooks_if(opts, &attrs, Some(&new), Some(&old))
                .await?;
            let charge = match opts.subresource.as_deref() {
                None | Some("resize") if r.namespaced && !meta::is_deleting(&new) => {
                    let ns = meta_str(&old, "namespace").unwrap_or_default().to_string();
                    self.admit_validating(r, &ns, name, &new, Some(&old), opts)
                        .await?
                }
                _ => QuotaCharge::default(),
            };
            if meta::is_deleting(&new) && deletion_is_due(r, &new) {
                // The last finalizer went away: the object goes with it.
                return self
                    .remove(r, namespace, name, kv.mod_revision, opts.dry_run)
                    .await
                    .map(|body| Written {
                        body,
                        created: false,
                    });
            }
            let new = meta::canonicalize(new);
            if opts.dry_run {
                return Ok(Written {
                    body: Bytes::from(serde_json::to_vec(&new).unwrap_or_default()),
                    created: false,
                });
            }
            match self
                .store
                .update(
                    &key,
                    kv.mod_revision,
                    render(convert::custom_to_storage(r, new)),
                )
                .await
            {
                Ok(kv) => {
                    self.webhooks.include_write(r, kv.mod_revision).await;
                    return Ok(Written {
                        body: convert::bytes_from_storage(r, &kv.value),
                        created: false,
                    });
                }
                Err(StorageError::Conflict { .. }) => {
                    self.refund_quotas(charge).await;
                    continue;
                }
                Err(e) => {
                    self.refund_quotas(charge).await;
                    return Err(storage_error(r, name, e));
                }
            }
        }
        Err(ApiError::stale(qualified(r), name))
    }

    fn prepare_update(
        &self,
        r: &'static Resource,
        name: &str,
        mut new: Value,
        old: &Value,
        opts: &WriteOptions,
    ) -> Result<Value, ApiError> {
        strategy::check_types(r, &new)?;
        let old_rv = meta_str(old, "resourceVersion").unwrap_or("").to_string();
        if let Some(rv) = meta_str(&new, "resourceVersion").filter(|rv| !rv.is_empty()) {
            if rv != old_rv {
                return Err(ApiError::stale(qualified(r), name));
            }
        }
        match meta_str(&new, "name") {
            Some(n) if !n.is_empty() && n != name => {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({n}) does not match the name on the URL ({name})"
                )))
            }
            _ => {}
        }
        let sub = opts.subresource.as_deref();
        meta::prepare_update(&mut new, old);
        if let Some(obj) = new.as_object_mut() {
            obj.insert("apiVersion".into(), json!(r.api_version()));
            obj.insert("kind".into(), json!(r.kind));
        }
        let new = match sub {
            Some("ephemeralcontainers" | "resize" | "binding" | "finalize") => {
                meta::take_subresource_part(new, old, sub.unwrap_or_default())
            }
            _ => {
                strategy::prepare_update(r, &mut new, old, sub);
                new
            }
        };
        let mut new = new;
        let release = self.services.allocate_for(r, &mut new, Some(old))?;
        let valid = match sub {
            Some("status" | "approval") => strategy::validate_status(r, &new, old),
            // What these subresources may change was taken above; the result must be a
            // valid pod.
            Some("ephemeralcontainers" | "resize" | "binding" | "finalize") => {
                strategy::validate(r, &new, None)
            }
            _ => strategy::validate(r, &new, Some(old))
                .and_then(|()| self.admit_privileged(r, name, &new)),
        };
        if let Err(e) = valid {
            release.release_now(&self.services);
            return Err(e);
        }
        release.keep();
        strategy::track_managed_fields(
            r,
            Some(old),
            &mut new,
            &opts.field_manager,
            sub,
            &clock::now(),
        );
        Ok(new)
    }

    /// PUT: replace the object; the body's resourceVersion (if any) is the precondition.
    pub async fn update(
        &self,
        r: &'static Resource,
        namespace: Option<&str>,
        name: &str,
        obj: Value,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        let (kind, group, version) =
            match opts.subresource.as_deref().and_then(|s| r.subresource(s)) {
                Some(s) if !s.group.is_empty() => (s.kind, s.group, s.version),
                Some(s) => (s.kind, r.group, r.version),
                None => (r.kind, r.group, r.version),
            };
        let mut obj = obj;
        check_type(&mut obj, kind, group, version)?;
        if r.namespaced {
            if let (Some(body_ns), Some(ns)) = (meta_str(&obj, "namespace"), namespace) {
                if !body_ns.is_empty() && body_ns != ns {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ));
                }
            }
        }
        self.guaranteed_update(r, namespace, name, opts, |_| Ok(obj.clone()))
            .await
    }
}

/// An object marked for deletion is removed once nothing holds it: no finalizers (for a
/// Namespace, none in `spec.finalizers` either: the namespace controller empties it
/// through `/finalize` when the contents are gone) and its grace period (if any) is zero.
fn deletion_is_due(r: &Resource, obj: &Value) -> bool {
    let namespace_finalizers = r.plural == "namespaces"
        && obj
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
    meta::finalizers(obj).is_empty()
        && !namespace_finalizers
        && meta::meta(obj)
            .and_then(|m| m.get("deletionGracePeriodSeconds"))
            .and_then(Value::as_i64)
            .unwrap_or(0)
            == 0
}
