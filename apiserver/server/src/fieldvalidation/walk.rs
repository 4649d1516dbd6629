//! Walks over decoded values: unknown fields as upstream's decoders report
//! them (sorted JSON through sigs.k8s.io/json, the unstructured converter of
//! strategic merge patch, structured-merge-diff for apply), dropping them.

use serde_json::Value;

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

/// Go's `fmt.Sprintf("%+v", m)` of a `map[string]interface{}` decoded with
/// sigs.k8s.io/json (integers as int64): `map[spec:map[replicas:2]]`.
pub(crate) fn go_value(v: &Value) -> String {
    let mut out = String::new();
    go_value_into(v, &mut out, 0);
    out
}

fn go_value_into(v: &Value, out: &mut String, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Null => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match n.as_i64() {
            Some(i) => out.push_str(&i.to_string()),
            None => out.push_str(&go_float(n.as_f64().unwrap_or(0.0))),
        },
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                go_value_into(item, out, depth + 1);
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push_str("map[");
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                go_value_into(&m[k.as_str()], out, depth + 1);
            }
            out.push(']');
        }
    }
}

/// Go's `%v` of a float64 (strconv's `'g'` with the shortest precision): an
/// exponent (`1e+06`, `1.5e-07`) when it is below -4 or at least 6.
pub(crate) fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.unsigned_abs());
    }
    format!("{f}")
}

/// `v` as Go's `json.Marshal` writes a decoded map: keys sorted, compact, with
/// `<`, `>`, `&`, U+2028 and U+2029 escaped.
pub(crate) fn go_json(v: &Value) -> String {
    let mut sorted = v.clone();
    sort_keys(&mut sorted, 0);
    let text = serde_json::to_string(&sorted).unwrap_or_default();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

fn sort_keys(v: &mut Value, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(m) => {
            m.sort_keys();
            for child in m.values_mut() {
                sort_keys(child, depth + 1);
            }
        }
        Value::Array(items) => {
            for child in items {
                sort_keys(child, depth + 1);
            }
        }
        _ => {}
    }
}
