//! Per-resource behaviour the generic registry calls: defaulting, validation, managed
//! fields. The rules live in `rkube-api` and `rkube-patch`; this is where the registry
//! meets them.

use rkube_api::{ApiError, Resource};
use serde_json::Value;

use crate::registry::meta::meta_str;

/// Defaults and create-time fields of a new object.
pub fn prepare_create(_r: &Resource, obj: &mut Value, _uid: &str) {
    if meta_str(obj, "generateName").is_some_and(str::is_empty) {
        crate::registry::meta::meta_mut(obj).remove("generateName");
    }
}

/// Defaults on update (clients may send objects with fields left out).
pub fn prepare_update(_r: &Resource, _obj: &mut Value, _old: &Value) {}

pub fn validate(_r: &Resource, _obj: &Value, _old: Option<&Value>) -> Result<(), ApiError> {
    Ok(())
}

pub fn validate_status(_r: &Resource, _obj: &Value, _old: &Value) -> Result<(), ApiError> {
    Ok(())
}

/// Record in `metadata.managedFields` which manager set what (an `Update` operation).
pub fn track_managed_fields(
    _r: &Resource,
    _old: Option<&Value>,
    _obj: &mut Value,
    _manager: &str,
    _subresource: Option<&str>,
    _now: &str,
) {
}
