//! Walks over decoded values: unknown fields as upstream's decoders report
//! them (sorted JSON through sigs.k8s.io/json, the unstructured converter of
//! strategic merge patch, structured-merge-diff for apply), dropping them.

use serde_json::Value;

// The messages built from walked values print them as Go does.
pub(crate) use rkube_patch::go_format::{go_float, go_json, go_value};

use super::schema::{Kind, Shape};
use super::{push_index, push_key, Problems};

/// Past this depth values are kept as they are (serde_json stops at 128).
const MAX_DEPTH: usize = 256;

/// Drop the unknown fields of `v` and report them as sigs.k8s.io/json does
/// for the same value encoded by Go (`sorted`: keys in order at every level,
/// as `json.Marshal` of a map writes them) or in `v`'s own order.
pub(crate) fn prune(v: &mut Value, kind: Kind, sorted: bool, problems: &mut Problems) {
    prune_at(v, kind, sorted, &mut String::new(), problems, 0);
}

fn prune_at(
    v: &mut Value,
    kind: Kind,
    sorted: bool,
    path: &mut String,
    problems: &mut Problems,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let shape = kind.shape();
    match v {
        Value::Object(m) if shape.checks_objects() => {
            let mut keys: Vec<String> = m.keys().cloned().collect();
            if sorted {
                keys.sort();
            }
            let mut unknown = false;
            for k in keys {
                match shape.field(&k) {
                    None => {
                        problems.unknown(path, &k);
                        unknown = true;
                    }
                    Some(field) => {
                        let len = path.len();
                        push_key(path, &k);
                        if let Some(child) = m.get_mut(&k) {
                            prune_at(child, field, sorted, path, problems, depth + 1);
                        }
                        path.truncate(len);
                    }
                }
            }
            if unknown {
                m.retain(|k, _| shape.field(k).is_some());
            }
        }
        Value::Array(items) if shape.checks_arrays() => {
            let item = shape.item();
            for (i, child) in items.iter_mut().enumerate() {
                let len = path.len();
                push_index(path, i);
                prune_at(child, item, sorted, path, problems, depth + 1);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// The unknown fields `runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation`
/// reports for a strategic merge patch's result: a struct's fields first (their
/// own unknown fields), then its unknown keys; map values add no key to the path.
pub(crate) fn converter_unknowns(v: &Value, kind: Kind) -> Vec<String> {
    let mut out = Vec::new();
    converter_at(v, kind, &mut String::new(), &mut out, 0);
    out
}

fn converter_at(v: &Value, kind: Kind, path: &mut String, out: &mut Vec<String>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match (kind.shape(), v) {
        (Shape::Struct(props), Value::Object(m)) => {
            for (name, schema) in props {
                if let Some(child) = m.get(name).filter(|c| !c.is_null()) {
                    let len = path.len();
                    push_key(path, name);
                    converter_at(child, Kind::Schema(schema), path, out, depth + 1);
                    path.truncate(len);
                }
            }
            let mut unknown: Vec<&String> = m.keys().filter(|k| !props.contains_key(*k)).collect();
            unknown.sort();
            for k in unknown {
                let mut p = path.clone();
                push_key(&mut p, k);
                out.push(format!("unknown field \"{p}\""));
            }
        }
        (Shape::Map(elem), Value::Object(m)) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for k in keys {
                converter_at(&m[k.as_str()], elem, path, out, depth + 1);
            }
        }
        (Shape::List(item), Value::Array(items)) => {
            for (i, child) in items.iter().enumerate() {
                let len = path.len();
                push_index(path, i);
                converter_at(child, item, path, out, depth + 1);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// structured-merge-diff's validation of an applied configuration: the paths of
/// fields the schema does not declare, as `.spec.foo: field not declared in schema`.
pub(crate) fn undeclared(v: &Value, kind: Kind) -> Vec<String> {
    let mut out = Vec::new();
    undeclared_at(v, kind, &mut String::new(), &mut out, 0);
    out
}

fn undeclared_at(v: &Value, kind: Kind, path: &mut String, out: &mut Vec<String>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match (kind.shape(), v) {
        (Shape::Struct(props), Value::Object(m)) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for k in keys {
                match props.get(k.as_str()) {
                    None => out.push(format!("{path}.{k}: field not declared in schema")),
                    Some(schema) => {
                        let len = path.len();
                        path.push('.');
                        path.push_str(k);
                        undeclared_at(&m[k.as_str()], Kind::Schema(schema), path, out, depth + 1);
                        path.truncate(len);
                    }
                }
            }
        }
        (Shape::Map(elem), Value::Object(m)) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for k in keys {
                let len = path.len();
                path.push('.');
                path.push_str(k);
                undeclared_at(&m[k.as_str()], elem, path, out, depth + 1);
                path.truncate(len);
            }
        }
        (Shape::List(item), Value::Array(items)) => {
            let (list_type, keys) = kind.list_type();
            for (i, child) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&list_element(list_type, &keys, i, child));
                undeclared_at(child, item, path, out, depth + 1);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// structured-merge-diff's path element of a list item: `[name="c"]` in a
/// list-map, `[="v"]` in a set, `[0]` in an atomic list.
fn list_element(list_type: &str, keys: &[&str], i: usize, item: &Value) -> String {
    match (list_type, item) {
        ("map", Value::Object(m)) if !keys.is_empty() => {
            let mut fields: Vec<(&str, Value)> = Vec::new();
            for key in keys {
                match m.get(*key) {
                    Some(v) => fields.push((key, v.clone())),
                    None if *key == "protocol" => fields.push((key, Value::String("TCP".into()))),
                    None => return format!("[{i}]"),
                }
            }
            fields.sort_by(|a, b| a.0.cmp(b.0));
            let parts: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{k}={}", serde_json::to_string(v).unwrap_or_default()))
                .collect();
            format!("[{}]", parts.join(","))
        }
        ("set", v) if !v.is_object() && !v.is_array() => {
            format!("[={}]", serde_json::to_string(v).unwrap_or_default())
        }
        _ => format!("[{i}]"),
    }
}
