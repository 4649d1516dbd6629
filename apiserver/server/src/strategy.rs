//! Per-resource behaviour the generic registry calls: defaulting, validation, managed
//! fields. The rules live in `rkube-api` and `rkube-patch`; this is where the registry
//! meets them.

use rkube_api::{ApiError, Resource};
use serde_json::Value;

use crate::registry::meta::meta_str;

/// JSON values of the wrong type are a decoding error (400) upstream, found before any
/// defaulting or validation.
pub fn check_types(r: &Resource, obj: &Value) -> Result<(), ApiError> {
    match rkube_api::validation::type_errors(r, obj).first() {
        None => Ok(()),
        Some(cause) => Err(ApiError::bad_request(
            rkube_api::validation::decode_error_message(r, cause),
        )),
    }
}

/// Defaults and create-time fields of a new object: initial status, generation 1,
/// kind-specific fields (a Namespace's finalizer, a Job's selector).
pub fn prepare_create(r: &Resource, obj: &mut Value, uid: &str) {
    rkube_api::defaults::apply(r, obj);
    rkube_api::defaults::prepare_for_create(r, obj);
    if r.kind == "Job" && r.group == "batch" {
        rkube_api::defaults::job_selector(obj, uid);
    }
    if meta_str(obj, "generateName").is_some_and(str::is_empty) {
        crate::registry::meta::meta_mut(obj).remove("generateName");
    }
}

/// What upstream adds on create after managedFields are recorded (so it is owned by no
/// manager): DefaultTolerationSeconds admission for pods (when that plugin is enabled),
/// and the user a CSR records.
pub fn admit_create(r: &Resource, obj: &mut Value, default_toleration_seconds: bool) {
    if default_toleration_seconds && r.group.is_empty() && r.kind == "Pod" {
        rkube_api::defaults::default_toleration_seconds(obj);
    }
    // The CSR strategy records the requesting user after the managed fields are taken.
    if r.kind == "CertificateSigningRequest" {
        rkube_api::defaults::certificate_signing_request_create(obj);
    }
}

/// Update of the main resource or of `status`: what the client may not change there
/// comes from the stored object, generation follows spec changes, and defaults fill in
/// what the client left out.
pub fn prepare_update(r: &Resource, obj: &mut Value, old: &Value, subresource: Option<&str>) {
    if matches!(subresource, Some("status" | "approval")) {
        rkube_api::defaults::prepare_for_status_update(r, obj, old);
        if r.kind == "CertificateSigningRequest" {
            let approval = subresource == Some("approval");
            let now = crate::clock::now();
            rkube_api::defaults::certificate_signing_request_status(obj, old, approval, &now);
        }
    } else {
        rkube_api::defaults::prepare_for_update(r, obj, old);
    }
    rkube_api::defaults::apply(r, obj);
}

fn name_of(obj: &Value) -> &str {
    meta_str(obj, "name").unwrap_or("")
}

pub fn validate(r: &Resource, obj: &Value, old: Option<&Value>) -> Result<(), ApiError> {
    let causes = rkube_api::validation::validate(r, obj, old);
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(r.group, r.kind, name_of(obj), causes))
    }
}

pub fn validate_status(r: &Resource, obj: &Value, old: &Value) -> Result<(), ApiError> {
    let causes = rkube_api::validation::validate_status(r, obj, old);
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(r.group, r.kind, name_of(obj), causes))
    }
}

/// Record in `metadata.managedFields` which manager set what (an `Update` operation).
pub fn track_managed_fields(
    r: &Resource,
    old: Option<&Value>,
    obj: &mut Value,
    manager: &str,
    subresource: Option<&str>,
    now: &str,
) {
    if manager.is_empty() {
        return;
    }
    let Some(type_name) = rkube_patch::schema::type_of(&r.api_version(), r.kind) else {
        return;
    };
    rkube_patch::track_update_in_place(old, obj, type_name, manager, subresource, now);
}
