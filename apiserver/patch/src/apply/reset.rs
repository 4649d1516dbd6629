//! The fields an endpoint's strategy resets, which its writers therefore
//! never own (upstream's `GetResetFields`).

use std::borrow::Cow;
use std::sync::OnceLock;

use super::fieldset::{field_path, FieldSet};
use crate::schema;

/// [`reset_fields`], shared for the main resource.
pub(crate) fn endpoint_resets(
    type_name: &str,
    subresource: Option<&str>,
) -> Cow<'static, FieldSet> {
    static STATUS: OnceLock<FieldSet> = OnceLock::new();
    static NONE: FieldSet = FieldSet {
        members: Vec::new(),
        children: Vec::new(),
    };
    if subresource.is_some() {
        return Cow::Owned(reset_fields(type_name, subresource));
    }
    if schema::field_type(type_name, "status").is_some() {
        Cow::Borrowed(STATUS.get_or_init(|| reset_fields(type_name, None)))
    } else {
        Cow::Borrowed(&NONE)
    }
}

/// Paths reset by the endpoint of `type_name` (`subresource` `None` for the
/// main resource): the main resource resets `status`; the status
/// subresource resets `spec` (and a few metadata fields for some kinds).
pub fn reset_fields(type_name: &str, subresource: Option<&str>) -> FieldSet {
    let mut set = FieldSet::new();
    let has = |field: &str| schema::field_type(type_name, field).is_some();
    let paths: Vec<&[&str]> = match subresource {
        None if has("status") => vec![&["status"]],
        Some("status") => {
            let mut paths: Vec<&[&str]> = Vec::new();
            if has("spec") {
                paths.push(&["spec"]);
            }
            match type_name {
                "io.k8s.api.core.v1.Pod" => {
                    paths.push(&["metadata", "deletionTimestamp"]);
                    paths.push(&["metadata", "ownerReferences"]);
                }
                "io.k8s.api.apps.v1.Deployment" => paths.push(&["metadata", "labels"]),
                _ => {}
            }
            paths
        }
        _ => Vec::new(),
    };
    for path in paths {
        set.insert(&field_path(path));
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn main_resets_status_and_status_resets_spec() {
        let pod = "io.k8s.api.core.v1.Pod";
        assert!(reset_fields(pod, None).has(&field_path(&["status"])));
        let status = reset_fields(pod, Some("status"));
        assert!(
            status.has(&field_path(&["spec"]))
                && status.has(&field_path(&["metadata", "ownerReferences"]))
        );
        assert!(reset_fields("io.k8s.api.core.v1.ConfigMap", None).is_empty());
    }
}
