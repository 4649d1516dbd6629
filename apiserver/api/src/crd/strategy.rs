//! The strategy of custom resources (upstream's customresource strategy): pruning and
//! defaults from the schema, generation, the status split, and validation against the
//! version's schema.

use serde_json::{json, Value};

use super::CustomResource;
use crate::resources::Resource;
use crate::status::Cause;
use crate::validation::field::Path;
use crate::validation::NameRule;

/// Prune what the schema does not declare and apply its defaults; returns the pruned
/// fields' paths for field validation.
pub fn normalize(c: &CustomResource, obj: &mut Value) -> Vec<String> {
    let Some(schema) = &c.schema else {
        return Vec::new();
    };
    let pruned = super::prune::prune_object(schema, obj);
    super::prune::apply_defaults(schema, obj);
    pruned
}

/// What reading a stored object adds (upstream defaults objects read from storage): the
/// schema's defaults, when it has any.
pub fn default_stored(c: &CustomResource, obj: &mut Value) -> bool {
    match &c.schema {
        Some(schema) if c.has_defaults => {
            super::prune::apply_defaults(schema, obj);
            true
        }
        _ => false,
    }
}

/// Create: generation 1; with a status subresource the status is not the client's.
pub fn prepare_create(c: &CustomResource, obj: &mut Value) {
    let Some(m) = obj.as_object_mut() else { return };
    if c.status {
        m.shift_remove("status");
    }
    if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("generation".into(), json!(1));
    }
}

/// Everything but metadata (and status when it is a subresource): what bumps the
/// generation when it changes.
fn content(c: &CustomResource, v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        m.shift_remove("metadata");
        if c.status {
            m.shift_remove("status");
        }
    }
    v
}

/// Update of the main resource: the stored status is kept when status is a subresource,
/// and the generation follows changes to the content.
pub fn prepare_update(c: &CustomResource, obj: &mut Value, old: &Value) {
    if c.status {
        if let Some(m) = obj.as_object_mut() {
            match old.get("status") {
                Some(st) => m.insert("status".into(), st.clone()),
                None => m.shift_remove("status"),
            };
        }
    }
    let old_gen = old
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let changed = content(c, obj) != content(c, old);
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert(
            "generation".into(),
            json!(if changed { old_gen + 1 } else { old_gen }),
        );
    }
}

/// Update through `status`: only the status (and the managed fields recording it)
/// comes from the request; everything else is the stored object.
pub fn prepare_status_update(obj: &mut Value, old: &Value) {
    let status = obj.get("status").cloned();
    let managed = obj.pointer("/metadata/managedFields").cloned();
    let resource_version = obj.pointer("/metadata/resourceVersion").cloned();
    let mut next = old.clone();
    if let Some(m) = next.as_object_mut() {
        match status {
            Some(st) => m.insert("status".into(), st),
            None => m.shift_remove("status"),
        };
        if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
            match managed {
                Some(mf) => meta.insert("managedFields".into(), mf),
                None => meta.shift_remove("managedFields"),
            };
            if let Some(rv) = resource_version {
                meta.insert("resourceVersion".into(), rv);
            }
        }
    }
    *obj = next;
}

/// Validate a custom resource: its metadata, then the schema (metadata excluded, as
/// upstream validates it as ObjectMeta).
pub fn validate(r: &Resource, c: &CustomResource, obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = crate::validation::validate_meta(obj, old, r.namespaced, NameRule::Subdomain);
    if let Some(schema) = &c.schema {
        let mut body = obj.clone();
        if let Some(m) = body.as_object_mut() {
            m.shift_remove("metadata");
            m.shift_remove("apiVersion");
            m.shift_remove("kind");
        }
        super::values::validate(schema, &body, &Path::new(""), &mut out);
    }
    out.extend(validate_scale_paths(c, obj));
    out
}

/// The replicas the scale subresource reads must be a non-negative int32, when set.
fn validate_scale_paths(c: &CustomResource, obj: &Value) -> Vec<Cause> {
    let Some(scale) = &c.scale else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for p in [&scale.spec_replicas, &scale.status_replicas] {
        let Some(v) = super::columns::lookup(obj, p) else {
            continue;
        };
        let path = Path::new(p.trim_start_matches('.'));
        match v.as_i64() {
            Some(n) if n < 0 => out.push(crate::validation::field::invalid(
                &path,
                n,
                "should be greater than or equal to 0",
            )),
            Some(n) if n > i32::MAX as i64 => out.push(crate::validation::field::invalid(
                &path,
                n,
                &format!("should be less than or equal to {}", i32::MAX),
            )),
            _ => {}
        }
    }
    out
}

/// Validate a write through `status`: the metadata update rules and the schema.
pub fn validate_status(r: &Resource, c: &CustomResource, obj: &Value, old: &Value) -> Vec<Cause> {
    validate(r, c, obj, Some(old))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::served_resources;

    #[test]
    fn generation_follows_content_and_status_is_split() {
        let r = served_resources(&crate::crd::tests::crontab_crd())[0];
        let c = r.custom.unwrap();
        let mut obj =
            json!({"metadata": {"name": "a"}, "spec": {"replicas": 1}, "status": {"x": 1}});
        prepare_create(c, &mut obj);
        assert_eq!(
            obj,
            json!({"metadata": {"name": "a", "generation": 1}, "spec": {"replicas": 1}})
        );
        let old = json!({"metadata": {"name": "a", "generation": 1}, "spec": {"replicas": 1}, "status": {"replicas": 1}});
        let mut new = json!({"metadata": {"name": "a", "labels": {"x": "y"}}, "spec": {"replicas": 1}, "status": {"replicas": 9}});
        prepare_update(c, &mut new, &old);
        assert_eq!(new["metadata"]["generation"], 1);
        assert_eq!(new["status"], json!({"replicas": 1}));
        let mut new = json!({"metadata": {"name": "a"}, "spec": {"replicas": 2}});
        prepare_update(c, &mut new, &old);
        assert_eq!(new["metadata"]["generation"], 2);
        let mut st =
            json!({"metadata": {"name": "a"}, "spec": {"replicas": 7}, "status": {"replicas": 3}});
        prepare_status_update(&mut st, &old);
        assert_eq!(st["spec"]["replicas"], 1);
        assert_eq!(st["status"]["replicas"], 3);
        let causes = validate(
            r,
            c,
            &json!({"metadata": {"name": "a", "namespace": "d"}, "spec": {"replicas": "x"}}),
            None,
        );
        assert_eq!(causes.len(), 1, "{causes:?}");
    }
}
