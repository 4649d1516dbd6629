//! Pruning and defaulting of custom resources (upstream's structural `pruning` and
//! `defaulting` packages): fields the schema does not declare are dropped (unless it
//! preserves unknown fields there), and declared defaults fill in what is missing.

use serde_json::{Map, Value};

use super::schema::Schema;
use crate::OBJECT_META_FIELDS;

/// Drop what `schema` does not declare from a whole custom resource; returns the
/// dropped fields' paths (`spec.foo`), in document order, for field validation.
pub fn prune_object(schema: &Schema, obj: &mut Value) -> Vec<String> {
    let mut pruned = Vec::new();
    let Value::Object(m) = obj else {
        return pruned;
    };
    prune_embedded_meta(m, "", &mut pruned);
    let keys: Vec<String> = m.keys().cloned().collect();
    for k in keys {
        if matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
            continue;
        }
        match schema.field(&k) {
            Some(s) => {
                if let Some(v) = m.get_mut(&k) {
                    prune(s, v, &k, &mut pruned);
                }
            }
            None if schema.keeps_unknown() => {}
            None => {
                m.shift_remove(&k);
                pruned.push(k);
            }
        }
    }
    pruned
}

fn prune_embedded_meta(m: &mut Map<String, Value>, path: &str, pruned: &mut Vec<String>) {
    if let Some(Value::Object(meta)) = m.get_mut("metadata") {
        let keys: Vec<String> = meta.keys().cloned().collect();
        for k in keys {
            if !OBJECT_META_FIELDS.contains(&k.as_str()) {
                meta.shift_remove(&k);
                pruned.push(join(&join(path, "metadata"), &k));
            }
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn prune(s: &Schema, v: &mut Value, path: &str, pruned: &mut Vec<String>) {
    if s.int_or_string {
        return;
    }
    match v {
        Value::Object(m) => {
            if s.embedded_resource {
                prune_embedded_meta(m, path, pruned);
            }
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                if s.embedded_resource && matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                match s.field(&k) {
                    Some(child) => {
                        if let Some(cv) = m.get_mut(&k) {
                            prune(child, cv, &join(path, &k), pruned);
                        }
                    }
                    None if s.preserve_unknown => {}
                    None => {
                        m.shift_remove(&k);
                        pruned.push(join(path, &k));
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = &s.items {
                for (i, v) in items.iter_mut().enumerate() {
                    prune(item, v, &format!("{path}[{i}]"), pruned);
                }
            }
        }
        _ => {}
    }
}

/// Fill in the schema's defaults (upstream's structural defaulting): a missing
/// property, or a null one that may not be null, gets its default; arrays' items
/// and maps' values are defaulted too.
pub fn apply_defaults(s: &Schema, v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, prop) in &s.properties {
                let missing = match m.get(k) {
                    None => true,
                    Some(Value::Null) => !prop.nullable,
                    Some(_) => false,
                };
                if missing {
                    if let Some(d) = &prop.default {
                        m.insert(k.clone(), d.clone());
                    }
                }
            }
            for (k, child) in m.iter_mut() {
                if let Some(prop) = s.properties.get(k) {
                    apply_defaults(prop, child);
                } else if let Some(ap) = &s.additional {
                    apply_defaults(ap, child);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = &s.items {
                items.iter_mut().for_each(|i| apply_defaults(item, i));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prunes_unknown_fields_and_keeps_preserved_ones() {
        let s = Schema::parse(&json!({"type": "object", "properties": {
            "spec": {"type": "object", "properties": {
                "a": {"type": "string"},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "list": {"type": "array", "items": {"type": "object", "properties": {"x": {"type": "integer"}}}},
            }},
        }}));
        let mut obj = json!({"apiVersion": "g/v1", "kind": "K", "metadata": {"name": "n", "bogus": 1},
            "spec": {"a": "x", "b": 1, "free": {"anything": {"deep": true}}, "list": [{"x": 1, "y": 2}]},
            "extra": true});
        let pruned = prune_object(&s, &mut obj);
        assert_eq!(
            pruned,
            ["metadata.bogus", "spec.b", "spec.list[0].y", "extra"]
        );
        assert_eq!(
            obj,
            json!({"apiVersion": "g/v1", "kind": "K", "metadata": {"name": "n"},
            "spec": {"a": "x", "free": {"anything": {"deep": true}}, "list": [{"x": 1}]}})
        );
    }

    #[test]
    fn defaults_fill_missing_fields() {
        let s = Schema::parse(&json!({"type": "object", "properties": {
            "spec": {"type": "object", "default": {}, "properties": {
                "replicas": {"type": "integer", "default": 1},
                "ports": {"type": "array", "items": {"type": "object", "properties": {"protocol": {"type": "string", "default": "TCP"}}}},
            }},
        }}));
        let mut obj = json!({"spec": {"ports": [{}, {"protocol": "UDP"}]}});
        apply_defaults(&s, &mut obj);
        assert_eq!(
            obj,
            json!({"spec": {"replicas": 1, "ports": [{"protocol": "TCP"}, {"protocol": "UDP"}]}})
        );
        let mut empty = json!({});
        apply_defaults(&s, &mut empty);
        assert_eq!(empty, json!({"spec": {"replicas": 1}}));
    }
}
