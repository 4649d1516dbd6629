//! What differs when a request addresses a custom resource (upstream's
//! customresource handler): JSON and YAML only, no strategic merge patch, no creates
//! while the CRD is terminating, unknown fields found by pruning.

use rkube_api::{ApiError, Resource};
use serde_json::Value;

use crate::codec::{self, BodyType, Negotiated};
use crate::registry::{FieldValidation, WriteOptions};

/// Content negotiation without protobuf, which custom resources do not speak.
pub fn negotiate(accept: Option<&str>) -> Result<Negotiated, ApiError> {
    let Some(accept) = accept else {
        return codec::negotiate(None);
    };
    let kept: Vec<&str> = accept
        .split(',')
        .filter(|range| {
            !range
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case(codec::PROTOBUF)
        })
        .collect();
    if kept.is_empty() {
        return Err(ApiError {
            code: 406,
            reason: "NotAcceptable",
            message:
                "only the following media types are accepted: application/json, application/yaml"
                    .into(),
            details: None,
        });
    }
    codec::negotiate(Some(&kept.join(",")))
}

/// Request bodies: protobuf and strategic merge patches are not understood.
pub fn check_body(body_type: BodyType, patch: bool) -> Result<(), ApiError> {
    let accepted = if patch {
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    } else {
        "application/json, application/yaml"
    };
    match body_type {
        BodyType::Protobuf | BodyType::StrategicMergePatch => Err(ApiError {
            code: 415,
            reason: "UnsupportedMediaType",
            message: format!("the body of the request was in an unknown format - accepted media types include: {accepted}"),
            details: None,
        }),
        _ => Ok(()),
    }
}

/// Creates are refused once the CRD is being deleted.
pub fn refuse_create_while_terminating(r: &Resource) -> ApiError {
    ApiError {
        code: 405,
        reason: "MethodNotAllowed",
        message: "create not allowed while custom resource definition is terminating".into(),
        details: Some(serde_json::json!({"group": r.group, "kind": r.plural})),
    }
}

/// Unknown fields of a custom resource body are those pruning drops: reported as
/// fieldValidation says (`unknown field "spec.foo"`), dropped in every case.
pub fn field_validation(
    r: &Resource,
    mut obj: Value,
    opts: &WriteOptions,
    patch: bool,
) -> Result<Value, ApiError> {
    let Some(c) = r.custom else { return Ok(obj) };
    if opts.subresource.as_deref() == Some("scale") {
        return Ok(obj);
    }
    let original = obj.clone();
    let pruned = rkube_api::crd::strategy::normalize(c, &mut obj);
    if pruned.is_empty() || opts.field_validation == FieldValidation::Ignore {
        return Ok(obj);
    }
    let problems: Vec<String> = pruned
        .iter()
        .map(|p| format!("unknown field {}", rkube_patch::go_format::go_quote(p)))
        .collect();
    match opts.field_validation {
        FieldValidation::Strict if patch => Err(crate::fieldvalidation::strict_patch_error(
            &original, &problems,
        )),
        FieldValidation::Strict => Err(ApiError::bad_request(format!(
            "{} in version \"{}\" cannot be handled as a {}: strict decoding error: {}",
            r.kind,
            r.version,
            r.kind,
            problems.join(", ")
        ))),
        _ => {
            for p in &problems {
                crate::fieldvalidation::add_warning(p);
            }
            Ok(obj)
        }
    }
}
