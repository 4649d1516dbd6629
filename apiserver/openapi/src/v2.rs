//! The Swagger 2.0 document of every served group-version (`/openapi/v2`).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::params::{In, Param};
use crate::paths::{render_paths, Body, Operation, PathItem};
use crate::schema::{self, V2_PREFIX};

fn param(p: &Param) -> Value {
    let mut v = json!({
        "name": p.name,
        "in": match p.location { In::Path => "path", In::Query => "query" },
        "description": p.description,
        "type": p.ty.name(),
    });
    if p.location == In::Query {
        v["uniqueItems"] = true.into();
    }
    if p.required {
        v["required"] = true.into();
    }
    v
}

fn body_schema(b: &Body) -> Value {
    match b {
        Body::Def(name) => json!({"$ref": format!("{V2_PREFIX}{name}")}),
        Body::Text => json!({"type": "string"}),
    }
}

fn operation(op: &Operation) -> Value {
    let mut v = Map::new();
    v.insert("description".into(), op.description.clone().into());
    v.insert("operationId".into(), op.id.clone().into());
    v.insert("tags".into(), json!([op.tag]));
    v.insert("schemes".into(), json!(["https"]));
    if !op.consumes.is_empty() {
        v.insert("consumes".into(), json!(op.consumes));
    }
    v.insert("produces".into(), json!(op.produces));
    let mut params: Vec<Value> = Vec::new();
    if let Some((body, required)) = &op.body {
        let mut b = json!({"name": "body", "in": "body", "schema": body_schema(body)});
        if *required {
            b["required"] = true.into();
        }
        params.push(b);
    }
    params.extend(op.params.iter().map(param));
    if !params.is_empty() {
        v.insert("parameters".into(), params.into());
    }
    let mut responses = Map::new();
    for (code, body) in &op.responses {
        let description = match code {
            200 => "OK",
            201 => "Created",
            202 => "Accepted",
            _ => "",
        };
        responses.insert(
            code.to_string(),
            json!({"description": description, "schema": body_schema(body)}),
        );
    }
    responses.insert("401".into(), json!({"description": "Unauthorized"}));
    v.insert("responses".into(), Value::Object(responses));
    if !op.action.is_empty() {
        v.insert("x-kubernetes-action".into(), op.action.into());
    }
    if let Some((g, ver, k)) = &op.gvk {
        v.insert(
            "x-kubernetes-group-version-kind".into(),
            schema::gvk(g, ver, k),
        );
    }
    Value::Object(v)
}

/// The v2 document: every path and the definitions they reach.
pub(crate) fn document(items: &[PathItem], defs: &BTreeMap<String, Value>) -> Value {
    let paths = render_paths(items, param, operation);
    let definitions = schema::definitions_reached(&paths, defs, V2_PREFIX);
    // Keys in sorted order; the definitions are sorted already.
    json!({
        "definitions": definitions,
        "info": {"title": "Kubernetes", "version": crate::KUBERNETES_VERSION},
        "paths": paths,
        "security": [{"BearerToken": []}],
        "securityDefinitions": {
            "BearerToken": {"description": "Bearer Token authentication", "in": "header", "name": "authorization", "type": "apiKey"},
        },
        "swagger": "2.0",
    })
}
