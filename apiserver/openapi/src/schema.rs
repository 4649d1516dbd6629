//! Turns schemars' JSON Schemas of the k8s-openapi types into Kubernetes-shaped
//! OpenAPI definitions: `$ref`s into `#/definitions/` (v2) or
//! `#/components/schemas/` (v3), group-version-kind and patch/list extensions,
//! the upstream shapes of IntOrString and Quantity, and the `XList` types.

use std::collections::{BTreeMap, BTreeSet};

use rkube_patch::schema as patch;
use serde_json::{json, Map, Value};

use crate::catalog::Catalog;

pub(crate) const INT_OR_STRING: &str = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
pub(crate) const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";
pub(crate) const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1";
const SCHEMARS_PREFIX: &str = "#/$defs/";
pub(crate) const V2_PREFIX: &str = "#/definitions/";
pub(crate) const V3_PREFIX: &str = "#/components/schemas/";

/// Which OpenAPI version a schema is rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    V2,
    V3,
}

/// `{"group": .., "kind": .., "version": ..}` as in `x-kubernetes-group-version-kind`.
pub(crate) fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "kind": kind, "version": version})
}

/// The definitions of every catalog type in a flavor-neutral form (v2 `$ref`s),
/// with the extensions that do not depend on the served resources.
pub(crate) fn definitions(catalog: &Catalog) -> BTreeMap<String, Value> {
    let mut defs: BTreeMap<String, Value> = catalog
        .defs
        .iter()
        .map(|(name, schema)| {
            let mut schema = schema.clone();
            rewrite_refs(&mut schema, SCHEMARS_PREFIX, V2_PREFIX);
            if let Value::Object(obj) = &mut schema {
                obj.remove("$schema");
                obj.remove("$defs");
                add_patch_extensions(name, obj);
            }
            (name.clone(), schema)
        })
        .collect();
    for kind in &catalog.kinds {
        let Some(Value::Object(obj)) = defs.get_mut(&kind.name) else {
            continue;
        };
        obj.insert(
            "x-kubernetes-group-version-kind".into(),
            json!([gvk(kind.group, kind.version, kind.kind)]),
        );
        // k8s-openapi's Rust structs hold a non-optional ObjectMeta and declare it
        // required; upstream's schemas do not.
        drop_required(obj, "metadata");
        if let (Some(list_kind), Some(list_name)) = (kind.list_kind, kind.list_name()) {
            let list = list_schema(obj, &kind.name, kind.kind, list_kind, kind);
            defs.insert(list_name, list);
        }
    }
    if let Some(Value::Object(obj)) = defs.get_mut(INT_OR_STRING) {
        obj.insert("type".into(), "string".into());
        obj.insert("format".into(), "int-or-string".into());
    }
    if let Some(Value::Object(obj)) = defs.get_mut(QUANTITY) {
        obj.insert("type".into(), "string".into());
    }
    defs
}

fn drop_required(obj: &mut Map<String, Value>, field: &str) {
    if let Some(Value::Array(req)) = obj.get_mut("required") {
        req.retain(|v| v != field);
        if req.is_empty() {
            obj.remove("required");
        }
    }
}

/// The schema of `k8s_openapi::List<T>` (which has no `JsonSchema` impl): its
/// fields are apiVersion, items, kind and metadata (a ListMeta).
fn list_schema(
    item: &Map<String, Value>,
    item_name: &str,
    kind: &str,
    list_kind: &str,
    k: &crate::catalog::KindType,
) -> Value {
    let prop = |name: &str| {
        item.get("properties")
            .and_then(|p| p.get(name))
            .cloned()
            .unwrap_or_else(|| json!({"type": "string"}))
    };
    json!({
        "description": format!("{list_kind} is a list of {kind} objects."),
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": prop("apiVersion"),
            "items": {
                "description": format!("The {kind} objects of the list."),
                "type": "array",
                "items": {"$ref": format!("{V2_PREFIX}{item_name}")},
            },
            "kind": prop("kind"),
            "metadata": {
                "description": "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
                "$ref": format!("{V2_PREFIX}{META}.ListMeta"),
            },
        },
        "x-kubernetes-group-version-kind": [gvk(k.group, k.version, list_kind)],
    })
}

/// Adds the strategic-merge-patch and list/map-type extensions of rkube-patch's
/// table to the properties of definition `name`.
fn add_patch_extensions(name: &str, obj: &mut Map<String, Value>) {
    if patch::is_atomic_struct(name) {
        obj.insert("x-kubernetes-map-type".into(), "atomic".into());
    }
    let Some(Value::Object(props)) = obj.get_mut("properties") else {
        return;
    };
    for (field, prop) in props.iter_mut() {
        let (Some(info), Value::Object(prop)) = (patch::field_type(name, field), prop) else {
            continue;
        };
        if let Some(list) = info.list {
            if let Some(s) = list.patch_strategy {
                prop.insert("x-kubernetes-patch-strategy".into(), s.into());
            }
            if let Some(k) = list.patch_merge_key {
                prop.insert("x-kubernetes-patch-merge-key".into(), k.into());
            }
            prop.insert("x-kubernetes-list-type".into(), list.list_type.into());
            if !list.list_map_keys.is_empty() {
                prop.insert(
                    "x-kubernetes-list-map-keys".into(),
                    json!(list.list_map_keys),
                );
            }
        } else if info.map_of && info.atomic {
            prop.insert("x-kubernetes-map-type".into(), "atomic".into());
        }
    }
}

/// Replaces the prefix of every `$ref` in `v`.
pub(crate) fn rewrite_refs(v: &mut Value, from: &str, to: &str) {
    match v {
        Value::Object(obj) => {
            for (k, child) in obj.iter_mut() {
                if k == "$ref" {
                    if let Value::String(s) = child {
                        if let Some(rest) = s.strip_prefix(from) {
                            *s = format!("{to}{rest}");
                        }
                    }
                } else {
                    rewrite_refs(child, from, to);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| rewrite_refs(i, from, to)),
        _ => {}
    }
}

/// Definition names referenced (`$ref` with `prefix`) anywhere in `v`.
pub(crate) fn collect_refs(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(obj) => {
            for (k, child) in obj {
                match (k.as_str(), child) {
                    ("$ref", Value::String(s)) => {
                        if let Some(name) = s.strip_prefix(prefix) {
                            out.insert(name.to_string());
                        }
                    }
                    _ => collect_refs(child, prefix, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_refs(i, prefix, out)),
        _ => {}
    }
}

/// `roots` and every definition reachable from them through `$ref`s.
fn reachable(
    defs: &BTreeMap<String, Value>,
    roots: BTreeSet<String>,
    prefix: &str,
) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = roots.into_iter().collect();
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(schema) = defs.get(&name) {
            let mut refs = BTreeSet::new();
            collect_refs(schema, prefix, &mut refs);
            todo.extend(refs.into_iter().filter(|r| !seen.contains(r)));
        }
    }
    seen
}

/// The definitions that `paths` reaches through `prefix` refs, by name.
pub(crate) fn definitions_reached(
    paths: &Value,
    defs: &BTreeMap<String, Value>,
    prefix: &str,
) -> Map<String, Value> {
    let mut roots = BTreeSet::new();
    collect_refs(paths, prefix, &mut roots);
    reachable(defs, roots, prefix)
        .iter()
        .filter_map(|n| defs.get(n).map(|s| (n.clone(), s.clone())))
        .collect()
}

/// Renders every neutral definition for `flavor`, keys sorted.
pub(crate) fn render_all(
    defs: &BTreeMap<String, Value>,
    flavor: Flavor,
) -> BTreeMap<String, Value> {
    defs.iter()
        .map(|(name, schema)| {
            let mut out = render(name, schema, flavor);
            sort_keys(&mut out);
            (name.clone(), out)
        })
        .collect()
}

/// Renders a neutral definition for `flavor`.
fn render(name: &str, schema: &Value, flavor: Flavor) -> Value {
    match flavor {
        Flavor::V2 => schema.clone(),
        Flavor::V3 => {
            let mut out = schema.clone();
            if let Value::Object(obj) = &mut out {
                match name {
                    // Upstream's v3 shapes: one of an integer or a string, one of a
                    // string or a number.
                    INT_OR_STRING => {
                        obj.remove("type");
                        obj.insert(
                            "oneOf".into(),
                            json!([{"type": "integer"}, {"type": "string"}]),
                        );
                    }
                    QUANTITY => {
                        obj.remove("type");
                        obj.insert(
                            "oneOf".into(),
                            json!([{"type": "string"}, {"type": "number"}]),
                        );
                    }
                    _ => {}
                }
            }
            to_v3(&mut out);
            out
        }
    }
}

/// v3: `$ref`s move to `#/components/schemas/`, and a `$ref` with siblings (a
/// description, extensions) is wrapped in `allOf` as upstream does, since
/// OpenAPI 3.0 ignores the siblings of a `$ref`.
pub(crate) fn to_v3(v: &mut Value) {
    match v {
        Value::Object(obj) => {
            if let Some(Value::String(r)) = obj.get_mut("$ref") {
                if let Some(rest) = r.strip_prefix(V2_PREFIX) {
                    *r = format!("{V3_PREFIX}{rest}");
                }
                if obj.len() > 1 {
                    let r = obj.remove("$ref").unwrap_or_default();
                    obj.insert("allOf".into(), json!([{"$ref": r}]));
                }
            }
            for (k, child) in obj.iter_mut() {
                if k != "$ref" {
                    to_v3(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(to_v3),
        _ => {}
    }
}

/// Sorts the keys of every object in `v`, so documents are byte-stable.
pub(crate) fn sort_keys(v: &mut Value) {
    match v {
        Value::Object(obj) => {
            let mut entries: Vec<(String, Value)> = std::mem::take(obj).into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            for (k, mut child) in entries {
                sort_keys(&mut child);
                obj.insert(k, child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(sort_keys),
        _ => {}
    }
}
