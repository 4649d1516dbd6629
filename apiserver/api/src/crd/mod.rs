//! CustomResourceDefinitions (apiextensions.k8s.io/v1) and the custom resources they
//! define, with no I/O: the CRD's own validation and defaults, the names it may be
//! served under, and for each served version what the generic registry needs to serve
//! its objects (schema validation, pruning, defaults, printer columns, subresources).
//!
//! A served version becomes a [`Resource`] like the built-in ones, so routing,
//! discovery, the registry and watch treat custom resources as any other. Resources are
//! `&'static`: each distinct served definition is built once and kept for the life of
//! the process ([`served_resources`] returns the same one for the same definition), so
//! the memory they hold is bounded by the number of distinct definitions ever served.

pub mod columns;
pub mod definition;
pub mod names;
pub mod prune;
pub mod schema;
pub mod strategy;
pub mod values;

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde_json::{json, Value};

use crate::resources::{Resource, Subresource, ALL_VERBS};
use columns::PrinterColumn;
use schema::Schema;

pub const GROUP: &str = "apiextensions.k8s.io";
/// The finalizer a CRD gets when it is deleted: its custom resources go first.
pub const CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

/// What the registry needs to serve one version of a custom resource.
#[derive(Debug)]
pub struct CustomResource {
    /// The CRD's name, `<plural>.<group>`.
    pub crd_name: String,
    pub list_kind: String,
    /// The version objects are stored in.
    pub storage_version: String,
    pub schema: Option<Schema>,
    /// The `openAPIV3Schema` as written, for the OpenAPI documents.
    pub raw_schema: Value,
    /// The schema declares defaults: objects read from storage get them too.
    pub has_defaults: bool,
    /// The printer columns (Age when the version declares none).
    pub columns: Vec<PrinterColumn>,
    pub status: bool,
    pub scale: Option<ScalePaths>,
    /// Field selector labels beyond metadata.name/namespace (`spec.color`).
    pub selectable_fields: Vec<String>,
    pub deprecation_warning: Option<String>,
}

/// Equal when they are the same definition: definitions are interned.
impl PartialEq for CustomResource {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Eq for CustomResource {}

/// The `scale` subresource's paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalePaths {
    pub spec_replicas: String,
    pub status_replicas: String,
    pub label_selector: Option<String>,
}

fn s<'a>(v: &'a Value, path: &str) -> &'a str {
    v.pointer(path).and_then(Value::as_str).unwrap_or("")
}

fn leak(text: &str) -> &'static str {
    Box::leak(text.to_string().into_boxed_str())
}

fn leak_list(v: Option<&Value>) -> &'static [&'static str] {
    let list: Vec<&'static str> = v
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(leak).collect())
        .unwrap_or_default();
    Box::leak(list.into_boxed_slice())
}

/// The version the CRD stores objects in.
pub fn storage_version(crd: &Value) -> Option<&str> {
    crd.pointer("/spec/versions")?
        .as_array()?
        .iter()
        .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .and_then(|v| v.get("name"))
        .and_then(Value::as_str)
}

/// Whether a condition of the CRD's status is True.
pub fn condition_true(crd: &Value, kind: &str) -> bool {
    crd.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.get("type").and_then(Value::as_str) == Some(kind)
                    && c.get("status").and_then(Value::as_str) == Some("True")
            })
        })
}

/// The resources an established CRD serves, one per served version, under its accepted
/// names. Empty until the names are accepted.
pub fn served_resources(crd: &Value) -> Vec<&'static Resource> {
    let accepted = crd
        .pointer("/status/acceptedNames")
        .cloned()
        .unwrap_or(Value::Null);
    if s(&accepted, "/plural").is_empty() || s(&accepted, "/kind").is_empty() {
        return Vec::new();
    }
    let Some(storage) = storage_version(crd) else {
        return Vec::new();
    };
    let versions = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    versions
        .iter()
        .filter(|v| v.get("served").and_then(Value::as_bool) == Some(true))
        .map(|v| intern(crd, &accepted, v, storage))
        .collect()
}

fn interned() -> &'static Mutex<HashMap<String, &'static Resource>> {
    static TABLE: OnceLock<Mutex<HashMap<String, &'static Resource>>> = OnceLock::new();
    TABLE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn intern(crd: &Value, accepted: &Value, version: &Value, storage: &str) -> &'static Resource {
    let key = json!({
        "name": s(crd, "/metadata/name"), "group": s(crd, "/spec/group"),
        "plural": s(crd, "/spec/names/plural"), "scope": s(crd, "/spec/scope"),
        "accepted": accepted, "version": version, "storage": storage,
    })
    .to_string();
    let mut table = interned().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(r) = table.get(&key) {
        return r;
    }
    let r: &'static Resource = Box::leak(Box::new(build(crd, accepted, version, storage)));
    table.insert(key, r);
    r
}

fn build(crd: &Value, accepted: &Value, version: &Value, storage: &str) -> Resource {
    let group = leak(s(crd, "/spec/group"));
    let version_name = leak(s(version, "/name"));
    let kind = leak(s(accepted, "/kind"));
    let plural = leak(s(accepted, "/plural"));
    let singular = match s(accepted, "/singular") {
        "" => leak(&kind.to_lowercase()),
        other => leak(other),
    };
    let list_kind = match s(accepted, "/listKind") {
        "" => format!("{kind}List"),
        other => other.to_string(),
    };
    let status = version
        .pointer("/subresources/status")
        .is_some_and(Value::is_object);
    let scale = version
        .pointer("/subresources/scale")
        .filter(|v| v.is_object())
        .map(|sc| ScalePaths {
            spec_replicas: s(sc, "/specReplicasPath").to_string(),
            status_replicas: s(sc, "/statusReplicasPath").to_string(),
            label_selector: sc
                .get("labelSelectorPath")
                .and_then(Value::as_str)
                .map(str::to_string),
        });
    let mut subs = Vec::new();
    if scale.is_some() {
        subs.push(Subresource {
            name: "scale",
            kind: "Scale",
            group: "autoscaling",
            version: "v1",
            verbs: &["get", "patch", "update"],
        });
    }
    if status {
        subs.push(Subresource {
            name: "status",
            kind,
            group: "",
            version: "",
            verbs: &["get", "patch", "update"],
        });
    }
    let mut columns: Vec<PrinterColumn> = version
        .get("additionalPrinterColumns")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(PrinterColumn::parse).collect())
        .unwrap_or_default();
    if columns.is_empty() {
        columns.push(PrinterColumn::age());
    }
    let custom = CustomResource {
        crd_name: s(crd, "/metadata/name").to_string(),
        list_kind,
        storage_version: storage.to_string(),
        schema: version
            .pointer("/schema/openAPIV3Schema")
            .map(Schema::parse),
        raw_schema: version
            .pointer("/schema/openAPIV3Schema")
            .cloned()
            .unwrap_or(Value::Null),
        has_defaults: version
            .pointer("/schema/openAPIV3Schema")
            .is_some_and(|s| s.to_string().contains("\"default\":")),
        columns,
        status,
        scale,
        selectable_fields: version
            .get("selectableFields")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|f| s(f, "/jsonPath").trim_start_matches('.').to_string())
                    .collect()
            })
            .unwrap_or_default(),
        deprecation_warning: (version.get("deprecated").and_then(Value::as_bool) == Some(true))
            .then(
                || match version.get("deprecationWarning").and_then(Value::as_str) {
                    Some(w) => w.to_string(),
                    None => format!("{group}/{version_name} {kind} is deprecated"),
                },
            ),
    };
    Resource {
        group,
        version: version_name,
        kind,
        plural,
        singular,
        namespaced: s(crd, "/spec/scope") == "Namespaced",
        short_names: leak_list(accepted.get("shortNames")),
        categories: leak_list(accepted.get("categories")),
        verbs: ALL_VERBS,
        subresources: Box::leak(subs.into_boxed_slice()),
        storage_resource: leak(&format!("{group}/{}", s(crd, "/spec/names/plural"))),
        custom: Some(Box::leak(Box::new(custom))),
    }
}

/// The strings of a JSON array (other items skipped); empty when it is not an array.
fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn crontab_crd() -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "crontabs.stable.example.com"},
            "spec": {"group": "stable.example.com", "scope": "Namespaced",
                "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab", "shortNames": ["ct"]},
                "versions": [
                    {"name": "v1", "served": true, "storage": true,
                     "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object", "properties": {"replicas": {"type": "integer"}}}}}},
                     "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}},
                     "additionalPrinterColumns": [{"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"}]},
                    {"name": "v2", "served": false, "storage": false},
                ]},
            "status": {"acceptedNames": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab", "listKind": "CronTabList", "shortNames": ["ct"]}},
        })
    }

    #[test]
    fn served_versions_become_resources_once() {
        let crd = crontab_crd();
        let served = served_resources(&crd);
        assert_eq!(served.len(), 1);
        let r = served[0];
        assert_eq!(
            (r.group, r.version, r.kind, r.plural, r.namespaced),
            ("stable.example.com", "v1", "CronTab", "crontabs", true)
        );
        assert_eq!(r.short_names, ["ct"]);
        assert_eq!(r.storage_resource, "stable.example.com/crontabs");
        assert!(r.subresource("status").is_some() && r.subresource("scale").is_some());
        assert!(std::ptr::eq(r, served_resources(&crd)[0]));
        let mut unaccepted = crd.clone();
        unaccepted["status"] = json!({});
        assert!(served_resources(&unaccepted).is_empty());
    }
}
