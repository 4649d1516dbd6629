//! Object metadata rules shared by every resource: what create sets, what update keeps.

use rkube_api::Resource;
use serde_json::{json, Map, Value};

/// Upstream's field order of ObjectMeta, so stored objects read like upstream's.
const META_ORDER: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// Resources whose objects carry `metadata.generation` (bumped on spec changes).
pub fn tracks_generation(r: &Resource) -> bool {
    matches!(r.group, "apps" | "batch" | "networking.k8s.io" | "policy")
        && !matches!(r.kind, "IngressClass" | "ControllerRevision")
        || r.kind == "ReplicationController"
}

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
        for k in META_ORDER {
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

/// The part of an object that is neither metadata nor status, for generation tracking.
fn spec_part(obj: &Value) -> Value {
    match obj {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| {
                    !matches!(k.as_str(), "metadata" | "status" | "kind" | "apiVersion")
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        _ => Value::Null,
    }
}

/// Fields a client may not set: on create they are assigned, on update kept from the
/// stored object.
pub fn prepare_create(r: &Resource, obj: &mut Value, uid: &str, now: &str) {
    let m = meta_mut(obj);
    m.insert("uid".into(), json!(uid));
    m.insert("creationTimestamp".into(), json!(now));
    for k in [
        "resourceVersion",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
    ] {
        m.remove(k);
    }
    if tracks_generation(r) {
        m.insert("generation".into(), json!(1));
    } else {
        m.remove("generation");
    }
}

/// Carry the server-owned metadata of `old` into `new`, bump generation on spec changes.
pub fn prepare_update(r: &Resource, new: &mut Value, old: &Value) {
    let old_meta = meta(old).cloned().unwrap_or_default();
    let spec_changed = spec_part(new) != spec_part(old);
    let m = meta_mut(new);
    for k in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "namespace",
        "name",
    ] {
        match old_meta.get(k) {
            Some(v) => m.insert(k.to_string(), v.clone()),
            None => m.remove(k),
        };
    }
    m.remove("selfLink");
    if tracks_generation(r) {
        let gen = old_meta
            .get("generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        m.insert(
            "generation".into(),
            json!(if spec_changed { gen + 1 } else { gen }),
        );
    } else {
        m.remove("generation");
    }
}

/// Whether the resource has a status subresource whose contents the main endpoint
/// must not change.
pub fn has_status(r: &Resource) -> bool {
    r.subresource("status").is_some()
}

/// Main endpoint update: status stays what it was.
pub fn keep_status(new: &mut Value, old: &Value) {
    if let Some(obj) = new.as_object_mut() {
        match old.get("status") {
            Some(s) => obj.insert("status".into(), s.clone()),
            None => obj.remove("status"),
        };
    }
}

/// Status endpoint update: only status comes from the request.
pub fn take_status_only(new: Value, old: &Value) -> Value {
    let mut out = old.clone();
    if let Some(obj) = out.as_object_mut() {
        match new.get("status") {
            Some(s) => obj.insert("status".into(), s.clone()),
            None => obj.remove("status"),
        };
        // The client's resourceVersion is the precondition.
        if let Some(rv) = meta_str(&new, "resourceVersion") {
            let rv = rv.to_string();
            meta_mut(&mut out).insert("resourceVersion".into(), json!(rv));
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
    use rkube_api::resources::find;

    #[test]
    fn generation_bumps_on_spec_only() {
        let deploy = find("apps", "v1", "deployments").unwrap();
        let old = json!({"metadata": {"name": "d", "generation": 3, "uid": "u"}, "spec": {"replicas": 1}});
        let mut same = json!({"metadata": {"name": "d", "labels": {"a": "b"}}, "spec": {"replicas": 1}, "status": {"x": 1}});
        prepare_update(deploy, &mut same, &old);
        assert_eq!(same["metadata"]["generation"], 3);
        assert_eq!(same["metadata"]["uid"], "u");
        let mut changed = json!({"metadata": {"name": "d"}, "spec": {"replicas": 2}});
        prepare_update(deploy, &mut changed, &old);
        assert_eq!(changed["metadata"]["generation"], 4);
    }

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
