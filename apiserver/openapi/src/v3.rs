//! OpenAPI 3.0 documents: one per group-version, as served under `/openapi/v3/`.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::params::{In, Param};
use crate::paths::{render_paths, Body, Operation, PathItem};
use crate::schema::{self, V3_PREFIX};

fn param(p: &Param) -> Value {
    let mut schema = json!({"type": p.ty.name()});
    if p.location == In::Query {
        schema["uniqueItems"] = true.into();
    }
    let mut v = json!({
        "name": p.name,
        "in": match p.location { In::Path => "path", In::Query => "query" },
        "description": p.description,
        "schema": schema,
    });
    if p.required {
        v["required"] = true.into();
    }
    v
}

fn body_schema(b: &Body) -> Value {
    match b {
        Body::Def(name) => json!({"$ref": format!("{V3_PREFIX}{name}")}),
        Body::Text => json!({"type": "string"}),
    }
}

fn content(types: &[&str], schema: &Value) -> Value {
    Value::Object(
        types
            .iter()
            .map(|t| (t.to_string(), json!({"schema": schema})))
            .collect(),
    )
}

fn operation(op: &Operation) -> Value {
    let mut v = Map::new();
    v.insert("description".into(), op.description.clone().into());
    v.insert("operationId".into(), op.id.clone().into());
    v.insert("tags".into(), json!([op.tag]));
    if !op.params.is_empty() {
        v.insert(
            "parameters".into(),
            op.params.iter().map(param).collect::<Vec<_>>().into(),
        );
    }
    if let Some((body, required)) = &op.body {
        let mut rb = json!({"content": content(op.consumes, &body_schema(body))});
        if *required {
            rb["required"] = true.into();
        }
        v.insert("requestBody".into(), rb);
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
            json!({"description": description, "content": content(op.produces, &body_schema(body))}),
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

/// The v3 document of one group-version.
pub(crate) fn document(
    title_gv: &str,
    items: &[PathItem],
    defs: &BTreeMap<String, Value>,
) -> Value {
    let paths = render_paths(items, param, operation);
    let schemas = schema::definitions_reached(&paths, defs, V3_PREFIX);
    // Keys in sorted order; the definitions are sorted already.
    json!({
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "BearerToken": {"description": "Bearer Token authentication", "in": "header", "name": "authorization", "type": "apiKey"},
            },
        },
        "info": {"description": format!("rkube API: {title_gv}"), "title": "Kubernetes", "version": crate::KUBERNETES_VERSION},
        "openapi": "3.0.0",
        "paths": paths,
        "security": [{"BearerToken": []}],
    })
}
