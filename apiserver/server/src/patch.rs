//! PATCH: JSON patch, merge patch, strategic merge patch and server-side apply, each
//! applied to the current object inside the guaranteed-update loop.

use rkube_api::{ApiError, Cause, Resource};
use serde_json::Value;

use crate::clock;
use crate::codec::{self, BodyType};
use crate::registry::write::Written;
use crate::registry::{Registry, WriteOptions};

/// Decode a patch document for its content type.
pub fn parse_patch(body: &[u8], kind: BodyType) -> Result<Value, ApiError> {
    match kind {
        BodyType::ApplyPatch => codec::parse_yaml(body),
        BodyType::JsonPatch | BodyType::MergePatch | BodyType::StrategicMergePatch => codec::parse_json(body),
        BodyType::Json | BodyType::Yaml | BodyType::Protobuf => Err(ApiError::unsupported_media_type(
            "PATCH needs application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json or application/apply-patch+yaml",
        )),
    }
}

fn patch_error(e: rkube_patch::PatchError) -> ApiError {
    ApiError {
        code: e.http_status(),
        reason: e.reason(),
        message: e.message(),
        details: None,
    }
}

fn apply_error(e: rkube_patch::ApplyError) -> ApiError {
    let causes: Vec<Value> = e.causes();
    ApiError {
        code: e.http_status(),
        reason: e.reason(),
        message: e.message(),
        details: if causes.is_empty() {
            None
        } else {
            Some(serde_json::json!({"causes": causes}))
        },
    }
}

/// Apply a patch document to `doc`.
pub fn apply_patch(
    doc: &Value,
    patch: &Value,
    kind: BodyType,
    type_name: Option<&str>,
) -> Result<Value, ApiError> {
    match kind {
        BodyType::JsonPatch => rkube_patch::json_patch(doc, patch).map_err(patch_error),
        BodyType::MergePatch => {
            if !patch.is_object() {
                return Err(ApiError::bad_request(
                    "json: cannot unmarshal non-object into the merge patch",
                ));
            }
            Ok(rkube_patch::merge_patch(doc, patch))
        }
        BodyType::StrategicMergePatch => {
            let type_name = type_name.ok_or_else(|| {
                ApiError::unsupported_media_type("application/strategic-merge-patch+json")
            })?;
            if !patch.is_object() {
                return Err(ApiError::bad_request(
                    "json: cannot unmarshal non-object into the strategic merge patch",
                ));
            }
            rkube_patch::strategic_merge_patch(doc, patch, type_name).map_err(patch_error)
        }
        _ => Err(ApiError::unsupported_media_type("not a patch content type")),
    }
}

#[allow(clippy::too_many_arguments)]
pub async fn patch(
    registry: &Registry,
    r: &'static Resource,
    namespace: Option<&str>,
    name: &str,
    body: &[u8],
    kind: BodyType,
    force: bool,
    opts: &WriteOptions,
) -> Result<Written, ApiError> {
    let patch = parse_patch(body, kind)?;
    let type_name = rkube_patch::schema::type_of(&r.api_version(), r.kind);
    if kind == BodyType::ApplyPatch {
        if opts.field_manager.is_empty() || opts.field_manager == "unknown" {
            return Err(ApiError::bad_request(
                "PATCH request with apply content type must set fieldManager",
            ));
        }
        let type_name = type_name.unwrap_or("");
        let manager = opts.field_manager.clone();
        let subresource = opts.subresource.clone();
        // Apply records its own managedFields entry; the generic Update tracking stays out.
        let apply_opts = WriteOptions {
            field_manager: String::new(),
            apply: true,
            ..opts.clone()
        };
        return registry
            .guaranteed_update(r, namespace, name, &apply_opts, |live| {
                let mut config = patch.clone();
                if let Some(m) = config.as_object_mut().and_then(|o| {
                    o.entry("metadata")
                        .or_insert_with(|| serde_json::json!({}))
                        .as_object_mut()
                }) {
                    m.entry("name")
                        .or_insert_with(|| Value::String(name.to_string()));
                    if let (Some(ns), true) = (namespace, r.namespaced) {
                        m.entry("namespace")
                            .or_insert_with(|| Value::String(ns.to_string()));
                    }
                }
                crate::fieldvalidation::apply_config(&config, r)?;
                let applied = rkube_patch::apply_to(
                    live,
                    &config,
                    type_name,
                    &manager,
                    subresource.as_deref(),
                    force,
                    &clock::now(),
                )
                .map_err(apply_error)?;
                crate::fieldvalidation::applied(body, opts)?;
                Ok(applied)
            })
            .await;
    }
    registry
        .guaranteed_update(r, namespace, name, opts, |current| {
            let current =
                current.ok_or_else(|| ApiError::not_found(crate::registry::qualified(r), name))?;
            let patched = apply_patch(current, &patch, kind, type_name)?;
            let patched = crate::fieldvalidation::patched(body, kind, patched, r, opts)?;
            if !patched.is_object() {
                return Err(ApiError::invalid(
                    r.group,
                    r.kind,
                    name,
                    vec![Cause::new(
                        "FieldValueInvalid",
                        "the patch produced a non-object",
                        "",
                    )],
                ));
            }
            Ok(patched)
        })
        .await
}
