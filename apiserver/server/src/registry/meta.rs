//! Object metadata rules shared by every resource: what create sets, what update keeps.

use rkube_api::OBJECT_META_FIELDS;
use serde_json::{json, Map, Value};

pub fn meta(obj: &Value) -> Option<&Map<String, Value>> {
    obj.get("metadata")?.as_object()
}

pub fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    obj["metadata"]
        .as_object_mut()
        .expect("metadata is an object")
}

pub fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    meta(obj)?.get(field)?.as_str()
}

/// Put `kind`, `apiVersion`, `metadata` first and metadata's fields in upstream's order;
/// drop null and empty metadata fields like Go's omitempty.
pub fn canonicalize(obj: Value) -> Value {
    let Value::Object(mut top) = obj else {
        return obj;
    };
    let mut out = Map::new();
    for k in ["kind", "apiVersion"] {
        if let Some(v) = top.remove(k) {
            out.insert(k.to_string(), v);
        }
    }
    if let Some(Value::Object(mut m)) = top.remove("metadata") {
        let mut ordered = Map::new();
        // Upstream's field order, so stored objects read like upstream's.
        for k in OBJECT_META_FIELDS {
            if let Some(v) = m.remove(*k) {
                if !is_empty(&v) {
                    ordered.insert(k.to_string(), v);
                }
            }
        }
        for (k, v) in m {
            if !is_empty(&v) {
                ordered.insert(k, v);
            }
        }
        out.insert("metadata".into(), Value::Object(ordered));
    }
    out.extend(top);
    Value::Object(out)
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// Fields a client may not set: on create they are assigned, on update kept from the
/// stored object.
pub fn prepare_create(obj: &mut Value, uid: &str, now: &str) {
    let m = meta_mut(obj);
    m.insert("uid".into(), json!(uid));
    m.insert("creationTimestamp".into(), json!(now));
    for k in [
        "resourceVersion",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
        "generation",
    ] {
        m.remove(k);
    }
}

/// Carry the server-owned metadata of `old` into `new`.
pub fn prepare_update(new: &mut Value, old: &Value) {
    let old_meta = meta(old).cloned().unwrap_or_default();
    let m = meta_mut(new);
    for k in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "namespace",
        "name",
        "generation",
    ] {
        match old_meta.get(k) {
            Some(v) => m.insert(k.to_string(), v.clone()),
            None => m.remove(k),
        };
    }
    m.remove("selfLink");
}

/// Subresources that change one part of an object: `namespaces/finalize` only
/// `spec.finalizers`; `pods/ephemeralcontainers` only `spec.ephemeralContainers`;
/// `pods/resize` only each container's `resources`; `pods/binding` only
/// `spec.nodeName` and the conditions it sets. Everything else stays as stored.
pub fn take_subresource_part(new: Value, old: &Value, subresource: &str) -> Value {
    let mut out = old.clone();
    match subresource {
        "finalize" => {
            out["spec"]["finalizers"] = new
                .pointer("/spec/finalizers")
                .cloned()
                .unwrap_or(json!([]));
        }
        "binding" => {
            out["spec"]["nodeName"] = new
                .pointer("/spec/nodeName")
                .cloned()
                .unwrap_or(Value::Null);
            if let Some(conditions) = new.pointer("/status/conditions") {
                out["status"]["conditions"] = conditions.clone();
            }
        }
        "ephemeralcontainers" => {
            out["spec"]["ephemeralContainers"] = new
                .pointer("/spec/ephemeralContainers")
                .cloned()
                .unwrap_or(json!([]));
        }
        _ => {
            let wanted = new
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if let Some(containers) = out
                .pointer_mut("/spec/containers")
                .and_then(Value::as_array_mut)
            {
                for c in containers.iter_mut() {
                    if let Some(w) = wanted.iter().find(|w| w.get("name") == c.get("name")) {
                        c["resources"] = w.get("resources").cloned().unwrap_or(json!({}));
                    }
                }
            }
        }
    }
    out
}

/// Finalizers of an object.
pub fn finalizers(obj: &Value) -> Vec<String> {
    meta(obj)
        .and_then(|m| m.get("finalizers"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub fn is_deleting(obj: &Value) -> bool {
    meta(obj).is_some_and(|m| m.get("deletionTimestamp").is_some_and(|v| !v.is_null()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_order() {
        let v = canonicalize(
            json!({"spec": {}, "metadata": {"labels": {}, "uid": "u", "name": "n"}, "apiVersion": "v1", "kind": "Pod"}),
        );
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["kind", "apiVersion", "metadata", "spec"]);
        let mkeys: Vec<&String> = v["metadata"].as_object().unwrap().keys().collect();
        assert_eq!(mkeys, ["name", "uid"]);
    }
}
