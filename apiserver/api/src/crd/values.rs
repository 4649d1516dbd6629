//! Validation of a custom resource against its version's schema, with the messages
//! upstream's schema validator gives (`spec.replicas in body must be of type integer`).

use serde_json::{Map, Value};

use super::schema::Schema;
use crate::status::Cause;
use crate::validation::field::{
    bad_json, invalid, not_supported, required, too_long, too_many, Bad, Path,
};

/// What stands for a value's JSON type in upstream's type errors.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn is_integral(v: &Value) -> bool {
    match v {
        Value::Number(n) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    }
}

fn has_type(s: &Schema, v: &Value) -> bool {
    if s.int_or_string {
        return is_integral(v) || v.is_string();
    }
    match s.kind.as_str() {
        "" => true,
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "integer" => is_integral(v),
        "number" => v.is_number(),
        _ => true,
    }
}

fn render_number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn type_invalid(path: &Path, detail: String, v: &Value) -> Cause {
    let mut c = invalid(path, type_name(v), &detail);
    c.reason = "FieldValueTypeInvalid".into();
    c
}

/// Validate `value` at `path` against `schema`; causes are appended to `out`.
pub fn validate(schema: &Schema, value: &Value, path: &Path, out: &mut Vec<Cause>) {
    let at = if path.as_str().is_empty() {
        "<root>".to_string()
    } else {
        path.to_string()
    };
    if value.is_null() {
        if !schema.nullable && !schema.kind.is_empty() {
            let wanted = if schema.int_or_string {
                "integer,string".to_string()
            } else {
                schema.kind.clone()
            };
            out.push(type_invalid(
                path,
                format!("{at} in body must be of type {wanted}: \"null\""),
                value,
            ));
        }
        return;
    }
    if !has_type(schema, value) {
        let wanted = if schema.int_or_string {
            "integer,string".to_string()
        } else {
            schema.kind.clone()
        };
        out.push(type_invalid(
            path,
            format!(
                "{at} in body must be of type {wanted}: \"{}\"",
                type_name(value)
            ),
            value,
        ));
        return;
    }
    if !schema.enumeration.is_empty() && !schema.enumeration.iter().any(|e| e == value) {
        let allowed: Vec<String> = schema
            .enumeration
            .iter()
            .map(|e| match e {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        let refs: Vec<&str> = allowed.iter().map(String::as_str).collect();
        out.push(not_supported(path, bad_json(value), &refs));
    }
    match value {
        Value::Number(n) => numbers(schema, n.as_f64().unwrap_or(0.0), value, path, &at, out),
        Value::String(s) => strings(schema, s, path, &at, out),
        Value::Array(items) => arrays(schema, items, path, &at, out),
        Value::Object(m) => objects(schema, m, path, &at, out),
        _ => {}
    }
    combinators(schema, value, path, &at, out);
}

fn numbers(s: &Schema, n: f64, v: &Value, path: &Path, at: &str, out: &mut Vec<Cause>) {
    if let Some(max) = s.maximum {
        if n > max || (s.exclusive_maximum && n >= max) {
            let rel = if s.exclusive_maximum {
                "less than"
            } else {
                "less than or equal to"
            };
            out.push(invalid(
                path,
                bad_json(v),
                &format!("{at} in body should be {rel} {}", render_number(max)),
            ));
        }
    }
    if let Some(min) = s.minimum {
        if n < min || (s.exclusive_minimum && n <= min) {
            let rel = if s.exclusive_minimum {
                "greater than"
            } else {
                "greater than or equal to"
            };
            out.push(invalid(
                path,
                bad_json(v),
                &format!("{at} in body should be {rel} {}", render_number(min)),
            ));
        }
    }
    if let Some(m) = s.multiple_of.filter(|m| *m > 0.0) {
        if (n / m).fract().abs() > 1e-9 {
            out.push(invalid(
                path,
                bad_json(v),
                &format!("{at} in body should be a multiple of {}", render_number(m)),
            ));
        }
    }
}

fn strings(s: &Schema, text: &str, path: &Path, at: &str, out: &mut Vec<Cause>) {
    let len = text.chars().count() as u64;
    if let Some(max) = s.max_length {
        if len > max {
            out.push(too_long(path, max as usize));
        }
    }
    if let Some(min) = s.min_length {
        if len < min {
            out.push(invalid(
                path,
                text,
                &format!("{at} in body should be at least {min} chars long"),
            ));
        }
    }
    if let Some(p) = &s.pattern {
        if p.regex.as_ref().is_some_and(|r| !r.is_match(text)) {
            out.push(invalid(
                path,
                text,
                &format!("{at} in body should match '{}'", p.source),
            ));
        }
    }
}

fn arrays(s: &Schema, items: &[Value], path: &Path, at: &str, out: &mut Vec<Cause>) {
    if let Some(max) = s.max_items {
        if items.len() as u64 > max {
            out.push(too_many(path, items.len(), max as usize));
        }
    }
    if let Some(min) = s.min_items {
        if (items.len() as u64) < min {
            out.push(invalid(
                path,
                items.len(),
                &format!("{at} in body should have at least {min} items"),
            ));
        }
    }
    if s.unique_items || s.list_type == "set" {
        for (i, item) in items.iter().enumerate() {
            if items[..i].contains(item) {
                let mut c = crate::validation::field::duplicate(&path.index(i), bad_json(item));
                c.reason = "FieldValueDuplicate".into();
                out.push(c);
            }
        }
    }
    if s.list_type == "map" && !s.list_map_keys.is_empty() {
        let key_of = |item: &Value| -> Vec<Value> {
            s.list_map_keys
                .iter()
                .map(|k| item.get(k).cloned().unwrap_or(Value::Null))
                .collect()
        };
        for (i, item) in items.iter().enumerate() {
            let k = key_of(item);
            if items[..i].iter().any(|other| key_of(other) == k) {
                let rendered: Vec<String> = s
                    .list_map_keys
                    .iter()
                    .zip(&k)
                    .map(|(name, v)| format!("\"{name}\":{v}"))
                    .collect();
                out.push(crate::validation::field::duplicate(
                    &path.index(i),
                    Bad::Raw(format!(
                        "map[string]interface {{}}{{{}}}",
                        rendered.join(", ")
                    )),
                ));
            }
        }
    }
    if let Some(item_schema) = &s.items {
        for (i, item) in items.iter().enumerate() {
            validate(item_schema, item, &path.index(i), out);
        }
    }
}

fn objects(s: &Schema, m: &Map<String, Value>, path: &Path, at: &str, out: &mut Vec<Cause>) {
    if let Some(max) = s.max_properties {
        if m.len() as u64 > max {
            out.push(too_many(path, m.len(), max as usize));
        }
    }
    if let Some(min) = s.min_properties {
        if (m.len() as u64) < min {
            out.push(invalid(
                path,
                m.len(),
                &format!("{at} in body should have at least {min} properties"),
            ));
        }
    }
    for r in &s.required {
        if !m.contains_key(r) {
            out.push(required(&path.child(r), ""));
        }
    }
    for (k, v) in m {
        if let Some(p) = s.properties.get(k) {
            validate(p, v, &path.child(k), out);
        } else if let Some(ap) = &s.additional {
            validate(ap, v, &path.child(k), out);
        }
    }
}

fn combinators(s: &Schema, v: &Value, path: &Path, at: &str, out: &mut Vec<Cause>) {
    for sub in &s.all_of {
        validate(sub, v, path, out);
    }
    let passes = |sub: &Schema| {
        let mut errs = Vec::new();
        validate(sub, v, path, &mut errs);
        errs.is_empty()
    };
    if !s.any_of.is_empty() && !s.any_of.iter().any(passes) {
        out.push(invalid(
            path,
            bad_json(v),
            &format!("{at} in body must validate at least one schema (anyOf)"),
        ));
    }
    if !s.one_of.is_empty() && s.one_of.iter().filter(|x| passes(x)).count() != 1 {
        out.push(invalid(
            path,
            bad_json(v),
            &format!("{at} in body must validate one and only one schema (oneOf)"),
        ));
    }
    if let Some(not) = &s.not {
        if passes(not) {
            out.push(invalid(
                path,
                bad_json(v),
                &format!("{at} in body should not be valid against schema (not)"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors(schema: Value, v: Value) -> Vec<String> {
        let mut out = Vec::new();
        validate(&Schema::parse(&schema), &v, &Path::new(""), &mut out);
        out.into_iter().map(|c| c.message).collect()
    }

    #[test]
    fn upstream_messages() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "required": ["image"], "properties": {
            "replicas": {"type": "integer", "minimum": 1, "maximum": 10},
            "image": {"type": "string", "pattern": "^[a-z]+$"},
            "mode": {"type": "string", "enum": ["a", "b"]},
            "name": {"type": "string", "maxLength": 3},
            "port": {"x-kubernetes-int-or-string": true},
        }}}});
        assert_eq!(
            errors(schema.clone(), json!({"spec": {"replicas": "x", "image": "a"}})),
            ["spec.replicas: Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\""]
        );
        assert_eq!(
            errors(schema.clone(), json!({"spec": {"replicas": 20}})),
            [
                "spec.image: Required value",
                "spec.replicas: Invalid value: 20: spec.replicas in body should be less than or equal to 10",
            ]
        );
        assert_eq!(
            errors(
                schema.clone(),
                json!({"spec": {"image": "A1", "mode": "c", "name": "long", "port": "http"}})
            ),
            [
                "spec.image: Invalid value: \"A1\": spec.image in body should match '^[a-z]+$'",
                "spec.mode: Unsupported value: \"c\": supported values: \"a\", \"b\"",
                "spec.name: Too long: may not be more than 3 bytes",
            ]
        );
        assert_eq!(
            errors(schema, json!({"spec": {"image": "ok", "port": 8080}})),
            Vec::<String>::new()
        );
    }
}
