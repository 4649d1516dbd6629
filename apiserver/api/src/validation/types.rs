//! Decode-time type errors: what upstream's JSON decoder (`sigs.k8s.io/json`, a fork of
//! `encoding/json`) reports when a field has the wrong JSON type, before any
//! validation runs. The apiserver answers these with 400 BadRequest:
//! `Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal
//! string into Go struct field DeploymentSpec.spec.replicas of type int32`.
//!
//! The typed fields of the served kinds are described by the tables in `schema`; fields
//! not described there are not checked.

use rkube_patch::go_format::go_quote;
use serde_json::Value;

use super::config::base64_corrupt_at;
use super::quantity::{Quantity, QUANTITY_REGEX_ERROR};
use super::schema::{kind_schema, S, T};
use crate::resources::Resource;
use crate::status::Cause;

/// The decode errors of `obj`, in document order (upstream reports the first).
pub fn type_errors(resource: &Resource, obj: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(s) = kind_schema(resource) {
        check_struct(s, obj, &mut Vec::new(), &mut out);
    }
    out
}

/// The BadRequest message for a decode error of `resource`.
pub fn decode_error_message(resource: &Resource, cause: &Cause) -> String {
    format!(
        "{} in version \"{}\" cannot be handled as a {}: {}",
        resource.kind, resource.version, resource.kind, cause.message
    )
}

fn json_kind(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => "bool".into(),
        Value::Number(_) => "number".into(),
        Value::String(_) => "string".into(),
        Value::Array(_) => "array".into(),
        Value::Object(_) => "object".into(),
    }
}

fn type_error(value_desc: String, st: &str, stack: &[&str], ty: &T) -> Cause {
    let field = stack.join(".");
    Cause::new(
        "FieldValueTypeInvalid",
        format!(
            "json: cannot unmarshal {value_desc} into Go struct field {st}.{field} of type {}",
            ty.go_name()
        ),
        field,
    )
}

fn plain_error(message: String, stack: &[&str]) -> Cause {
    Cause::new("FieldValueTypeInvalid", message, stack.join("."))
}

fn check_struct<'a>(s: &S, v: &'a Value, stack: &mut Vec<&'a str>, out: &mut Vec<Cause>) {
    let Some(m) = v.as_object() else {
        return;
    };
    for (k, fv) in m {
        let Some((_, ty)) = s.fields.iter().find(|(n, _)| *n == k.as_str()) else {
            continue;
        };
        stack.push(k.as_str());
        check_value(ty, s.go, fv, stack, out);
        stack.pop();
    }
}

/// Check `v` against `ty`; `st` is the Go struct that holds the current field.
fn check_value<'a>(ty: &T, st: &str, v: &'a Value, stack: &mut Vec<&'a str>, out: &mut Vec<Cause>) {
    if v.is_null() {
        return;
    }
    match ty {
        T::Str => {
            if !v.is_string() {
                out.push(type_error(json_kind(v), st, stack, ty));
            }
        }
        T::Bool => {
            if !v.is_boolean() {
                out.push(type_error(json_kind(v), st, stack, ty));
            }
        }
        T::I32 | T::I64 => match v {
            Value::Number(n) => {
                let (lo, hi) = if matches!(ty, T::I32) {
                    (i32::MIN as i64, i32::MAX as i64)
                } else {
                    (i64::MIN, i64::MAX)
                };
                match n.as_i64() {
                    Some(i) if i >= lo && i <= hi => {}
                    _ => out.push(type_error(format!("number {n}"), st, stack, ty)),
                }
            }
            other => out.push(type_error(json_kind(other), st, stack, ty)),
        },
        T::IntStr => match v {
            Value::String(_) => {}
            Value::Number(n) => {
                if n.as_i64()
                    .is_none_or(|i| i < i32::MIN as i64 || i > i32::MAX as i64)
                {
                    out.push(plain_error(
                        format!("json: cannot unmarshal number {n} into Go value of type int32"),
                        stack,
                    ));
                }
            }
            other => out.push(plain_error(
                format!(
                    "json: cannot unmarshal {} into Go value of type int32",
                    json_kind(other)
                ),
                stack,
            )),
        },
        T::Quantity => {
            let ok = match v {
                Value::String(s) => Quantity::parse(s).is_some(),
                Value::Number(_) => Quantity::from_json(v).is_some(),
                _ => false,
            };
            if !ok {
                out.push(plain_error(QUANTITY_REGEX_ERROR.to_string(), stack));
            }
        }
        T::Bytes => match v {
            Value::String(s) => {
                if let Some(at) = base64_corrupt_at(s) {
                    out.push(plain_error(
                        format!("illegal base64 data at input byte {at}"),
                        stack,
                    ));
                }
            }
            other => out.push(type_error(json_kind(other), st, stack, ty)),
        },
        T::Time => match v {
            Value::String(s) => {
                if !s.is_empty() && !looks_rfc3339(s) {
                    out.push(plain_error(
                        format!("parsing time {} as \"2006-01-02T15:04:05Z07:00\": cannot parse {} as \"2006\"", go_quote(s), go_quote(s)),
                        stack,
                    ));
                }
            }
            other => out.push(plain_error(
                format!(
                    "json: cannot unmarshal {} into Go value of type string",
                    json_kind(other)
                ),
                stack,
            )),
        },
        T::Arr(elem) => match v {
            Value::Array(a) => {
                for item in a {
                    check_value(elem, st, item, stack, out);
                }
            }
            other => out.push(type_error(json_kind(other), st, stack, ty)),
        },
        T::Map(elem) => match v {
            Value::Object(m) => {
                for item in m.values() {
                    check_value(elem, st, item, stack, out);
                }
            }
            other => out.push(type_error(json_kind(other), st, stack, ty)),
        },
        T::Obj(s) => match v {
            Value::Object(_) => check_struct(s, v, stack, out),
            other => out.push(type_error(json_kind(other), st, stack, ty)),
        },
    }
}

fn looks_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::find;
    use serde_json::json;

    fn first(group: &str, plural: &str, obj: Value) -> Option<String> {
        let r = find(group, "v1", plural).unwrap();
        type_errors(r, &obj)
            .into_iter()
            .next()
            .map(|c| decode_error_message(r, &c))
    }

    #[test]
    fn replicas_as_string() {
        assert_eq!(
            first("apps", "deployments", json!({"spec": {"replicas": "3"}})).unwrap(),
            "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
        );
    }

    #[test]
    fn nested_struct_names_and_paths() {
        let m = first(
            "apps",
            "deployments",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": "80"}]}]}}}}),
        )
        .unwrap();
        assert!(m.ends_with("json: cannot unmarshal string into Go struct field ContainerPort.spec.template.spec.containers.ports.containerPort of type int32"), "{m}");
        let m = first("", "pods", json!({"metadata": {"labels": {"a": 1}}})).unwrap();
        assert!(m.ends_with("json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string"), "{m}");
        let m = first("", "pods", json!({"spec": {"containers": {}}})).unwrap();
        assert!(m.ends_with("json: cannot unmarshal object into Go struct field PodSpec.spec.containers of type []v1.Container"), "{m}");
        let m = first("", "services", json!({"spec": {"ports": [{"port": 1.5}]}})).unwrap();
        assert!(m.ends_with("json: cannot unmarshal number 1.5 into Go struct field ServicePort.spec.ports.port of type int32"), "{m}");
    }

    #[test]
    fn quantities_intstr_bytes() {
        let m = first(
            "",
            "pods",
            json!({"spec": {"containers": [{"resources": {"limits": {"cpu": "lots"}}}]}}),
        )
        .unwrap();
        assert!(m.ends_with(QUANTITY_REGEX_ERROR));
        let m = first(
            "",
            "services",
            json!({"spec": {"ports": [{"port": 80, "targetPort": true}]}}),
        )
        .unwrap();
        assert!(m.ends_with("json: cannot unmarshal bool into Go value of type int32"));
        let m = first("", "secrets", json!({"data": {"a": "abc"}})).unwrap();
        assert_eq!(m, "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte 0");
        assert!(first("", "secrets", json!({"data": {"a": "YWJj"}})).is_none());
        assert!(first(
            "",
            "pods",
            json!({"spec": {"containers": [{"name": "c", "image": "x"}]}})
        )
        .is_none());
    }
}
