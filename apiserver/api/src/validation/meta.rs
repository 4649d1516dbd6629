//! `ObjectMeta` validation (create and update), labels, annotations, finalizers, owner
//! references and label selectors.

use std::collections::HashSet;

use rkube_patch::go_format::go_quote;
use serde_json::Value;

use super::field::{forbidden, invalid, required, too_long, Bad, Path};
use super::names::{check_name, is_qualified_name, is_valid_label_value, NameRule};
use super::util::{arr, int, s};
use crate::status::Cause;

pub const IS_NEGATIVE_ERROR_MSG: &str = "must be greater than or equal to 0";
pub const FIELD_IMMUTABLE: &str = "field is immutable";
pub const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

/// `ValidateNonnegativeField`.
pub fn non_negative(v: i64, path: &Path) -> Vec<Cause> {
    if v < 0 {
        vec![invalid(path, v, IS_NEGATIVE_ERROR_MSG)]
    } else {
        vec![]
    }
}

/// `ValidateLabelName`.
pub fn validate_label_name(name: &str, path: &Path) -> Vec<Cause> {
    is_qualified_name(name)
        .into_iter()
        .map(|m| invalid(path, name, &m))
        .collect()
}

/// `ValidateLabels`: every error at the map's own path.
pub fn validate_labels(labels: Option<&Value>, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let Some(m) = labels.and_then(Value::as_object) else {
        return out;
    };
    for (k, v) in m {
        out.extend(validate_label_name(k, path));
        let v = v.as_str().unwrap_or_default();
        for msg in is_valid_label_value(v) {
            out.push(invalid(path, v, &msg));
        }
    }
    out
}

/// `ValidateAnnotations`.
pub fn validate_annotations(annotations: Option<&Value>, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let Some(m) = annotations.and_then(Value::as_object) else {
        return out;
    };
    let mut total = 0usize;
    for (k, v) in m {
        for msg in is_qualified_name(&k.to_lowercase()) {
            out.push(invalid(path, k.as_str(), &msg));
        }
        total += k.len() + v.as_str().map_or(0, str::len);
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        out.push(too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT));
    }
    out
}

/// `ValidateLabelSelector` (with the 1.33 options: invalid label values are rejected).
pub fn validate_label_selector(sel: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    if sel.is_null() {
        return out;
    }
    out.extend(validate_labels(
        sel.get("matchLabels"),
        &path.child("matchLabels"),
    ));
    for (i, r) in arr(sel, "matchExpressions").iter().enumerate() {
        let p = path.child("matchExpressions").index(i);
        let values = arr(r, "values");
        let op = s(r, "operator");
        match op {
            "In" | "NotIn" => {
                if values.is_empty() {
                    out.push(required(
                        &p.child("values"),
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    ));
                }
            }
            "Exists" | "DoesNotExist" => {
                if !values.is_empty() {
                    out.push(forbidden(
                        &p.child("values"),
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    ));
                }
            }
            other => out.push(invalid(
                &p.child("operator"),
                other,
                "not a valid selector operator",
            )),
        }
        out.extend(validate_label_name(s(r, "key"), &p.child("key")));
        for (j, v) in values.iter().enumerate() {
            let v = v.as_str().unwrap_or_default();
            for msg in is_valid_label_value(v) {
                out.push(invalid(&p.child("values").index(j), v, &msg));
            }
        }
    }
    out
}

const STANDARD_FINALIZERS: &[&str] = &["kubernetes", "orphan", "foregroundDeletion"];

fn validate_finalizers(finalizers: &[Value], path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let mut orphan = false;
    let mut foreground = false;
    for f in finalizers {
        let f = f.as_str().unwrap_or_default();
        for m in is_qualified_name(f) {
            out.push(invalid(path, f, &m));
        }
        orphan |= f == "orphan";
        foreground |= f == "foregroundDeletion";
    }
    if orphan && foreground {
        out.push(invalid(
            path,
            Bad::Raw(go_string_slice(finalizers)),
            "finalizer orphan and foregroundDeletion cannot be both set",
        ));
    }
    // core's validateKubeFinalizerName, per index.
    for (i, f) in finalizers.iter().enumerate() {
        let f = f.as_str().unwrap_or_default();
        if !f.contains('/') && !STANDARD_FINALIZERS.contains(&f) {
            out.push(invalid(
                &path.index(i),
                f,
                "name is neither a standard finalizer name nor is it fully qualified",
            ));
        }
    }
    out
}

pub fn go_string_slice(v: &[Value]) -> String {
    let inner: Vec<String> = v
        .iter()
        .map(|x| go_quote(x.as_str().unwrap_or_default()))
        .collect();
    format!("[]string{{{}}}", inner.join(", "))
}

fn validate_owner_references(refs: &[Value], path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let mut first_controller = String::new();
    for r in refs {
        let api_version = s(r, "apiVersion");
        let version = api_version.rsplit('/').next().unwrap_or_default();
        let group = api_version
            .rsplit_once('/')
            .map(|(g, _)| g)
            .unwrap_or_default();
        if api_version.is_empty() || version.is_empty() {
            out.push(invalid(
                &path.child("apiVersion"),
                api_version,
                "version must not be empty",
            ));
        }
        let kind = s(r, "kind");
        if kind.is_empty() {
            out.push(invalid(&path.child("kind"), kind, "must not be empty"));
        }
        if s(r, "name").is_empty() {
            out.push(invalid(&path.child("name"), "", "must not be empty"));
        }
        if s(r, "uid").is_empty() {
            out.push(invalid(&path.child("uid"), "", "must not be empty"));
        }
        if group.is_empty() && version == "v1" && kind == "Event" {
            out.push(invalid(
                path,
                Bad::Raw(super::util::go_struct("v1.OwnerReference", r)),
                "/v1, Kind=Event is disallowed from being an owner",
            ));
        }
        if r.get("controller").and_then(Value::as_bool) == Some(true) {
            let cur = format!("{kind}/{}", s(r, "name"));
            if !first_controller.is_empty() {
                out.push(invalid(
                    path,
                    Bad::Raw(super::util::go_struct(
                        "[]v1.OwnerReference",
                        &Value::Array(refs.to_vec()),
                    )),
                    &format!("Only one reference can have Controller set to true. Found \"true\" in references for {first_controller} and {cur}"),
                ));
            } else {
                first_controller = cur;
            }
        }
    }
    out
}

/// `ValidateObjectMeta` (core's, with the kube finalizer check).
pub fn validate_object_meta(obj: &Value, namespaced: bool, rule: NameRule) -> Vec<Cause> {
    let path = Path::new("metadata");
    let empty = Value::Null;
    let meta = obj.get("metadata").unwrap_or(&empty);
    validate_meta_at(meta, namespaced, rule, &path)
}

pub fn validate_meta_at(meta: &Value, namespaced: bool, rule: NameRule, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let gen_name = s(meta, "generateName");
    if !gen_name.is_empty() {
        for m in check_name(rule, gen_name, true) {
            out.push(invalid(&path.child("generateName"), gen_name, &m));
        }
    }
    let name = s(meta, "name");
    if name.is_empty() {
        out.push(required(
            &path.child("name"),
            "name or generateName is required",
        ));
    } else {
        for m in check_name(rule, name, false) {
            out.push(invalid(&path.child("name"), name, &m));
        }
    }
    // Cluster-scoped objects have their namespace cleared before validation upstream.
    if namespaced {
        let ns = s(meta, "namespace");
        if ns.is_empty() {
            out.push(required(&path.child("namespace"), ""));
        } else {
            for m in check_name(NameRule::Label, ns, false) {
                out.push(invalid(&path.child("namespace"), ns, &m));
            }
        }
    }
    out.extend(validate_meta_common(meta, path));
    out
}

fn validate_meta_common(meta: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    out.extend(non_negative(
        int(meta, "generation").unwrap_or(0),
        &path.child("generation"),
    ));
    out.extend(validate_labels(meta.get("labels"), &path.child("labels")));
    out.extend(validate_annotations(
        meta.get("annotations"),
        &path.child("annotations"),
    ));
    out.extend(validate_owner_references(
        arr(meta, "ownerReferences"),
        &path.child("ownerReferences"),
    ));
    out.extend(validate_finalizers(
        arr(meta, "finalizers"),
        &path.child("finalizers"),
    ));
    for (i, mf) in arr(meta, "managedFields").iter().enumerate() {
        let p = path.child("managedFields").index(i);
        let op = s(mf, "operation");
        if op != "Apply" && op != "Update" {
            out.push(invalid(
                &p.child("operation"),
                op,
                "must be `Apply` or `Update`",
            ));
        }
        let ft = s(mf, "fieldsType");
        if !ft.is_empty() && ft != "FieldsV1" {
            out.push(invalid(&p.child("fieldsType"), ft, "must be `FieldsV1`"));
        }
    }
    out
}

/// `ValidateObjectMetaUpdate`.
pub fn validate_object_meta_update(new: &Value, old: &Value) -> Vec<Cause> {
    let path = Path::new("metadata");
    let empty = Value::Null;
    let nm = new.get("metadata").unwrap_or(&empty);
    let om = old.get("metadata").unwrap_or(&empty);
    let mut out = Vec::new();
    if !s(om, "deletionTimestamp").is_empty() {
        let old_f: HashSet<&str> = arr(om, "finalizers")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let mut extra: Vec<&str> = arr(nm, "finalizers")
            .iter()
            .filter_map(Value::as_str)
            .filter(|f| !old_f.contains(f))
            .collect();
        extra.sort();
        extra.dedup();
        if !extra.is_empty() {
            let list: Vec<Value> = extra.iter().map(|e| Value::String(e.to_string())).collect();
            out.push(forbidden(
                &path.child("finalizers"),
                &format!(
                    "no new finalizers can be added if the object is being deleted, found new finalizers {}",
                    go_string_slice(&list)
                ),
            ));
        }
    }
    let ng = int(nm, "generation").unwrap_or(0);
    if ng < int(om, "generation").unwrap_or(0) {
        out.push(invalid(
            &path.child("generation"),
            ng,
            "must not be decremented",
        ));
    }
    for f in ["name", "namespace"] {
        if s(nm, f) != s(om, f) {
            out.push(invalid(&path.child(f), s(nm, f), FIELD_IMMUTABLE));
        }
    }
    // uid and creationTimestamp are restored from the stored object when omitted.
    for f in ["uid", "creationTimestamp"] {
        let n = s(nm, f);
        if !n.is_empty() && n != s(om, f) {
            out.push(invalid(&path.child(f), n, FIELD_IMMUTABLE));
        }
    }
    out.extend(validate_meta_common(nm, &path));
    out
}

/// `ValidateImmutableField` for JSON values (semantic equality: absent == null).
pub fn immutable(new: Option<&Value>, old: Option<&Value>, bad: Bad, path: &Path) -> Vec<Cause> {
    let norm = |v: Option<&Value>| v.filter(|x| !x.is_null()).cloned();
    if norm(new) != norm(old) {
        vec![invalid(path, bad, FIELD_IMMUTABLE)]
    } else {
        vec![]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn msgs(c: Vec<Cause>) -> Vec<String> {
        c.into_iter().map(|c| c.message).collect()
    }

    #[test]
    fn name_required_and_invalid() {
        let m = msgs(validate_object_meta(
            &json!({"metadata": {"namespace": "default"}}),
            true,
            NameRule::Subdomain,
        ));
        assert_eq!(
            m,
            vec!["metadata.name: Required value: name or generateName is required"]
        );
        let m = msgs(validate_object_meta(
            &json!({"metadata": {"name": "Foo_bar", "namespace": "default"}}),
            true,
            NameRule::Subdomain,
        ));
        assert_eq!(m, vec!["metadata.name: Invalid value: \"Foo_bar\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"]);
    }

    #[test]
    fn labels_and_annotations() {
        let m = msgs(validate_object_meta(
            &json!({"metadata": {"name": "a", "namespace": "d", "labels": {"a": "b c"}}}),
            true,
            NameRule::Subdomain,
        ));
        assert_eq!(m.len(), 1);
        assert!(m[0].starts_with(
            "metadata.labels: Invalid value: \"b c\": a valid label must be an empty string"
        ));
        let big = "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT);
        let m = msgs(validate_object_meta(
            &json!({"metadata": {"name": "a", "namespace": "d", "annotations": {"k": big}}}),
            true,
            NameRule::Subdomain,
        ));
        assert_eq!(
            m,
            vec!["metadata.annotations: Too long: may not be more than 262144 bytes"]
        );
    }

    #[test]
    fn finalizers_and_owner_refs() {
        let m = msgs(validate_object_meta(
            &json!({"metadata": {"name": "a", "namespace": "d", "finalizers": ["foo"], "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": "p"}]}}),
            true,
            NameRule::Subdomain,
        ));
        assert!(m.contains(&"metadata.finalizers[0]: Invalid value: \"foo\": name is neither a standard finalizer name nor is it fully qualified".to_string()));
        assert!(m.contains(
            &"metadata.ownerReferences.uid: Invalid value: \"\": must not be empty".to_string()
        ));
    }

    #[test]
    fn selector_requirements() {
        let m = msgs(validate_label_selector(
            &json!({"matchExpressions": [{"key": "a", "operator": "In"}]}),
            &Path::new("spec.selector"),
        ));
        assert_eq!(m, vec!["spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"]);
    }

    #[test]
    fn update_immutability() {
        let old = json!({"metadata": {"name": "a", "namespace": "d", "generation": 2}});
        let new = json!({"metadata": {"name": "b", "namespace": "d", "generation": 1}});
        let m = msgs(validate_object_meta_update(&new, &old));
        assert!(m.contains(&"metadata.name: Invalid value: \"b\": field is immutable".to_string()));
        assert!(m.contains(
            &"metadata.generation: Invalid value: 1: must not be decremented".to_string()
        ));
    }
}
