//! Building responses: bodies, Status errors, and the shapes clients ask for.

use std::convert::Infallible;
use std::time::SystemTime;

use bytes::Bytes;
use http::{header, Response, StatusCode};
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use rkube_api::table::IncludeObject;
use rkube_api::{ApiError, Resource};
use serde_json::{json, Value};

use crate::codec::{self, Format, Negotiated, Shape};

pub type Body = BoxBody<Bytes, Infallible>;

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

pub fn bytes_response(code: u16, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    let mut resp = Response::new(full(body));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_str(content_type)
            .unwrap_or(http::HeaderValue::from_static("application/json")),
    );
    resp
}

pub fn json_response(code: u16, value: &Value) -> Response<Body> {
    bytes_response(
        code,
        codec::JSON,
        serde_json::to_vec(value).unwrap_or_default(),
    )
}

pub fn error_response(e: &ApiError) -> Response<Body> {
    json_response(e.code, &e.to_status())
}

/// Encode `value` in the negotiated format.
pub fn value_response(code: u16, value: &Value, format: Format) -> Response<Body> {
    match format {
        Format::Yaml => match codec::encode(value, Format::Yaml) {
            Ok(b) => bytes_response(code, codec::YAML, b),
            Err(e) => error_response(&e),
        },
        // Kinds the codec does not know (Tables, Scale views) fall back to JSON, which
        // client-go decodes by Content-Type.
        Format::Protobuf => match rkube_protobuf::encode(value) {
            Ok(b) => bytes_response(code, codec::PROTOBUF, b),
            Err(_) => json_response(code, value),
        },
        Format::Json => json_response(code, value),
    }
}

fn partial_metadata(obj: &Value, v1beta1: bool) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": if v1beta1 { "meta.k8s.io/v1beta1" } else { "meta.k8s.io/v1" },
        "metadata": obj.get("metadata").cloned().unwrap_or(json!({})),
    })
}

/// Answer with one stored object in the shape asked for. Plain JSON is the stored
/// bytes as they are.
pub fn object_response(
    code: u16,
    r: &Resource,
    stored: &Bytes,
    neg: Negotiated,
    include: IncludeObject,
) -> Response<Body> {
    if neg.shape == Shape::Plain && neg.format == Format::Json {
        return bytes_response(code, codec::JSON, stored.clone());
    }
    let obj: Value = match serde_json::from_slice(stored) {
        Ok(v) => v,
        Err(e) => return error_response(&ApiError::internal(e.to_string())),
    };
    let shaped = match neg.shape {
        Shape::Plain => obj,
        Shape::Metadata { v1beta1 } => partial_metadata(&obj, v1beta1),
        Shape::Table { v1beta1 } => {
            let rv = obj
                .pointer("/metadata/resourceVersion")
                .cloned()
                .unwrap_or(json!(""));
            table_value(r, &[&obj], include, json!({"resourceVersion": rv}), v1beta1)
        }
    };
    value_response(code, &shaped, neg.format)
}

pub fn table_value(
    r: &Resource,
    objects: &[&Value],
    include: IncludeObject,
    list_meta: Value,
    v1beta1: bool,
) -> Value {
    let mut t = rkube_api::table::table(r, objects, include, list_meta, SystemTime::now());
    if v1beta1 {
        t["apiVersion"] = json!("meta.k8s.io/v1beta1");
    }
    t
}

/// Answer with a list: items spliced from stored bytes for plain JSON.
pub fn list_response(
    r: &Resource,
    outcome: &crate::registry::ListOutcome,
    neg: Negotiated,
    include: IncludeObject,
) -> Response<Body> {
    if neg.shape == Shape::Plain && neg.format == Format::Json {
        return bytes_response(200, codec::JSON, outcome.to_json(r));
    }
    let items: Vec<Value> = outcome
        .items
        .iter()
        .filter_map(|b| serde_json::from_slice(b).ok())
        .collect();
    let mut meta = json!({"resourceVersion": outcome.revision.to_string()});
    if let Some(c) = &outcome.continue_token {
        meta["continue"] = json!(c);
    }
    if let Some(n) = outcome.remaining {
        meta["remainingItemCount"] = json!(n);
    }
    let shaped = match neg.shape {
        Shape::Plain => {
            json!({"kind": r.list_kind(), "apiVersion": r.api_version(), "metadata": meta, "items": items})
        }
        Shape::Metadata { v1beta1 } => json!({
            "kind": "PartialObjectMetadataList",
            "apiVersion": if v1beta1 { "meta.k8s.io/v1beta1" } else { "meta.k8s.io/v1" },
            "metadata": meta,
            "items": items.iter().map(|o| partial_metadata(o, v1beta1)).collect::<Vec<_>>(),
        }),
        Shape::Table { v1beta1 } => {
            let refs: Vec<&Value> = items.iter().collect();
            table_value(r, &refs, include, meta, v1beta1)
        }
    };
    value_response(200, &shaped, neg.format)
}
