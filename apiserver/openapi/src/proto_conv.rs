//! The v2 JSON document → gnostic `openapi.v2.Document`.

use std::sync::LazyLock;

use serde_json::{Map, Value};

use crate::proto::*;

fn s(v: &Map<String, Value>, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn b(v: &Map<String, Value>, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or_default()
}

fn f(v: &Map<String, Value>, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or_default()
}

fn i(v: &Map<String, Value>, key: &str) -> i64 {
    v.get(key).and_then(Value::as_i64).unwrap_or_default()
}

fn strings(v: &Map<String, Value>, key: &str) -> Vec<String> {
    match v.get(key) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// A value as gnostic's `Any`: YAML text (JSON is a subset of YAML).
fn any(v: &Value) -> Any {
    Any {
        yaml: serde_json::to_string(v).unwrap_or_default(),
    }
}

fn obj(v: &Value) -> Option<&Map<String, Value>> {
    v.as_object()
}

/// The members of an object; none for other values.
fn fields(v: &Value) -> &Map<String, Value> {
    static EMPTY: LazyLock<Map<String, Value>> = LazyLock::new(Map::new);
    v.as_object().unwrap_or(&EMPTY)
}

/// The `x-` keys of an object.
fn extensions(v: &Map<String, Value>) -> Vec<NamedAny> {
    v.iter()
        .filter(|(k, _)| k.starts_with("x-"))
        .map(|(k, v)| NamedAny {
            name: k.clone(),
            value: Some(any(v)),
        })
        .collect()
}

/// A JSON Schema object.
pub(crate) fn schema(v: &Value) -> Schema {
    let Some(m) = obj(v) else {
        return Schema::default();
    };
    let named = |key: &str| -> Option<Properties> {
        obj(m.get(key)?).map(|props| Properties {
            additional_properties: props
                .iter()
                .map(|(name, p)| NamedSchema {
                    name: name.clone(),
                    value: Some(schema(p)),
                })
                .collect(),
        })
    };
    Schema {
        xref: s(m, "$ref"),
        format: s(m, "format"),
        title: s(m, "title"),
        description: s(m, "description"),
        default: m.get("default").map(any),
        multiple_of: f(m, "multipleOf"),
        maximum: f(m, "maximum"),
        exclusive_maximum: b(m, "exclusiveMaximum"),
        minimum: f(m, "minimum"),
        exclusive_minimum: b(m, "exclusiveMinimum"),
        max_length: i(m, "maxLength"),
        min_length: i(m, "minLength"),
        pattern: s(m, "pattern"),
        max_items: i(m, "maxItems"),
        min_items: i(m, "minItems"),
        unique_items: b(m, "uniqueItems"),
        max_properties: i(m, "maxProperties"),
        min_properties: i(m, "minProperties"),
        required: strings(m, "required"),
        r#enum: match m.get("enum") {
            Some(Value::Array(a)) => a.iter().map(any).collect(),
            _ => Vec::new(),
        },
        additional_properties: m.get("additionalProperties").map(|ap| {
            Box::new(AdditionalPropertiesItem {
                oneof: Some(match ap {
                    Value::Bool(x) => AdditionalPropertiesOneof::Boolean(*x),
                    other => AdditionalPropertiesOneof::Schema(schema(other)),
                }),
            })
        }),
        r#type: m.get("type").map(|_| TypeItem {
            value: strings(m, "type"),
        }),
        items: m.get("items").map(|it| ItemsItem {
            schema: match it {
                Value::Array(a) => a.iter().map(schema).collect(),
                one => vec![schema(one)],
            },
        }),
        all_of: match m.get("allOf") {
            Some(Value::Array(a)) => a.iter().map(schema).collect(),
            _ => Vec::new(),
        },
        properties: named("properties"),
        discriminator: s(m, "discriminator"),
        read_only: b(m, "readOnly"),
        example: m.get("example").map(any),
        vendor_extension: extensions(m),
    }
}

fn parameter(v: &Value) -> ParametersItem {
    let m = fields(v);
    if let Some(r) = m.get("$ref").and_then(Value::as_str) {
        return ParametersItem {
            oneof: Some(ParametersItemOneof::JsonReference(JsonReference {
                xref: r.to_string(),
                description: s(m, "description"),
            })),
        };
    }
    let p = match s(m, "in").as_str() {
        "body" => ParameterOneof::BodyParameter(BodyParameter {
            description: s(m, "description"),
            name: s(m, "name"),
            r#in: "body".into(),
            required: b(m, "required"),
            schema: m.get("schema").map(schema),
            vendor_extension: extensions(m),
        }),
        "path" => ParameterOneof::NonBodyParameter(NonBodyParameter {
            oneof: Some(NonBodyParameterOneof::PathParameterSubSchema(
                PathParameterSubSchema {
                    required: b(m, "required"),
                    r#in: "path".into(),
                    description: s(m, "description"),
                    name: s(m, "name"),
                    r#type: s(m, "type"),
                    format: s(m, "format"),
                    unique_items: b(m, "uniqueItems"),
                    vendor_extension: extensions(m),
                },
            )),
        }),
        _ => ParameterOneof::NonBodyParameter(NonBodyParameter {
            oneof: Some(NonBodyParameterOneof::QueryParameterSubSchema(
                QueryParameterSubSchema {
                    required: b(m, "required"),
                    r#in: "query".into(),
                    description: s(m, "description"),
                    name: s(m, "name"),
                    r#type: s(m, "type"),
                    format: s(m, "format"),
                    unique_items: b(m, "uniqueItems"),
                    vendor_extension: extensions(m),
                },
            )),
        }),
    };
    ParametersItem {
        oneof: Some(ParametersItemOneof::Parameter(Parameter { oneof: Some(p) })),
    }
}

fn parameters(m: &Map<String, Value>) -> Vec<ParametersItem> {
    match m.get("parameters") {
        Some(Value::Array(a)) => a.iter().map(parameter).collect(),
        _ => Vec::new(),
    }
}

fn operation(v: &Value) -> Operation {
    let m = fields(v);
    let responses = obj(m.get("responses").unwrap_or(&Value::Null)).map(|r| Responses {
        response_code: r
            .iter()
            .filter(|(code, _)| !code.starts_with("x-"))
            .map(|(code, resp)| {
                let rm = fields(resp);
                NamedResponseValue {
                    name: code.clone(),
                    value: Some(ResponseValue {
                        oneof: Some(ResponseValueOneof::Response(Response {
                            description: s(rm, "description"),
                            schema: rm.get("schema").map(|sc| SchemaItem {
                                oneof: Some(SchemaItemOneof::Schema(schema(sc))),
                            }),
                            vendor_extension: extensions(rm),
                        })),
                    }),
                }
            })
            .collect(),
        vendor_extension: extensions(r),
    });
    Operation {
        tags: strings(m, "tags"),
        summary: s(m, "summary"),
        description: s(m, "description"),
        operation_id: s(m, "operationId"),
        produces: strings(m, "produces"),
        consumes: strings(m, "consumes"),
        parameters: parameters(m),
        responses,
        schemes: strings(m, "schemes"),
        deprecated: b(m, "deprecated"),
        vendor_extension: extensions(m),
    }
}

fn path_item(v: &Value) -> PathItem {
    let m = fields(v);
    let op = |k: &str| m.get(k).map(operation);
    PathItem {
        xref: s(m, "$ref"),
        get: op("get"),
        put: op("put"),
        post: op("post"),
        delete: op("delete"),
        options: op("options"),
        head: op("head"),
        patch: op("patch"),
        parameters: parameters(m),
        vendor_extension: extensions(m),
    }
}

/// Converts a Swagger 2.0 JSON document.
pub(crate) fn document(doc: &Value) -> Document {
    let m = fields(doc);
    let member = |key: &str| m.get(key).map_or_else(|| fields(&Value::Null), fields);
    let (info, paths) = (member("info"), member("paths"));
    let (defs, sec_defs) = (member("definitions"), member("securityDefinitions"));
    Document {
        swagger: s(m, "swagger"),
        info: Some(Info {
            title: s(info, "title"),
            version: s(info, "version"),
            description: s(info, "description"),
            vendor_extension: extensions(info),
        }),
        host: s(m, "host"),
        base_path: s(m, "basePath"),
        schemes: strings(m, "schemes"),
        consumes: strings(m, "consumes"),
        produces: strings(m, "produces"),
        paths: Some(Paths {
            vendor_extension: extensions(paths),
            path: paths
                .iter()
                .filter(|(k, _)| !k.starts_with("x-"))
                .map(|(k, v)| NamedPathItem {
                    name: k.clone(),
                    value: Some(path_item(v)),
                })
                .collect(),
        }),
        definitions: Some(Definitions {
            additional_properties: defs
                .iter()
                .map(|(k, v)| NamedSchema {
                    name: k.clone(),
                    value: Some(schema(v)),
                })
                .collect(),
        }),
        security: match m.get("security") {
            Some(Value::Array(reqs)) => reqs
                .iter()
                .filter_map(obj)
                .map(|r| SecurityRequirement {
                    additional_properties: r
                        .iter()
                        .map(|(k, v)| NamedStringArray {
                            name: k.clone(),
                            value: Some(StringArray {
                                value: v
                                    .as_array()
                                    .map(|a| {
                                        a.iter()
                                            .filter_map(|x| x.as_str().map(str::to_string))
                                            .collect()
                                    })
                                    .unwrap_or_default(),
                            }),
                        })
                        .collect(),
                })
                .collect(),
            _ => Vec::new(),
        },
        security_definitions: Some(SecurityDefinitions {
            additional_properties: sec_defs
                .iter()
                .filter_map(|(k, v)| {
                    let d = obj(v)?;
                    Some(NamedSecurityDefinitionsItem {
                        name: k.clone(),
                        value: Some(SecurityDefinitionsItem {
                            oneof: Some(SecurityDefinitionsOneof::ApiKeySecurity(ApiKeySecurity {
                                r#type: s(d, "type"),
                                name: s(d, "name"),
                                r#in: s(d, "in"),
                                description: s(d, "description"),
                                vendor_extension: extensions(d),
                            })),
                        }),
                    })
                })
                .collect(),
        }),
        vendor_extension: extensions(m),
    }
}
