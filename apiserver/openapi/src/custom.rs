//! Definitions of custom resources, made from their CRD version's `openAPIV3Schema` as
//! upstream's CRD OpenAPI builder makes them: named by the reversed group
//! (`com.example.stable.v1.CronTab`), with apiVersion, kind and an ObjectMeta added,
//! and their list type.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::schema::{gvk, META, V2_PREFIX};
use crate::CustomResourceSpec;

/// `stable.example.com`, `v1`, `CronTab` → `com.example.stable.v1.CronTab`.
pub(crate) fn definition_name(group: &str, version: &str, kind: &str) -> String {
    let reversed: Vec<&str> = group.split('.').rev().collect();
    format!("{}.{version}.{kind}", reversed.join("."))
}

const API_VERSION_DOC: &str = "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
const KIND_DOC: &str = "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";
const METADATA_DOC: &str = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// What the documents cannot carry: v2 has no nullable and none of the combinators, and
/// upstream publishes neither.
fn strip_unpublished(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for k in ["nullable", "anyOf", "oneOf", "not", "allOf"] {
                m.remove(k);
            }
            m.values_mut().for_each(strip_unpublished);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_unpublished),
        _ => {}
    }
}

/// Add the definitions of `c` (the kind and its list) to `defs`; returns their names.
pub(crate) fn add_definitions(
    c: &CustomResourceSpec,
    defs: &mut BTreeMap<String, Value>,
) -> (String, String) {
    let r = &c.resource;
    let name = definition_name(r.group, r.version, r.kind);
    let list_name = definition_name(r.group, r.version, c.list_kind);
    let mut schema = match c.schema {
        Value::Object(_) => c.schema.clone(),
        _ => json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
    };
    strip_unpublished(&mut schema);
    if let Value::Object(m) = &mut schema {
        let props = m
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(props) = props {
            props.insert(
                "apiVersion".into(),
                json!({"description": API_VERSION_DOC, "type": "string"}),
            );
            props.insert(
                "kind".into(),
                json!({"description": KIND_DOC, "type": "string"}),
            );
            props.insert(
                "metadata".into(),
                json!({"description": METADATA_DOC, "$ref": format!("{V2_PREFIX}{META}.ObjectMeta")}),
            );
        }
        m.insert("type".into(), json!("object"));
        m.insert(
            "x-kubernetes-group-version-kind".into(),
            json!([gvk(r.group, r.version, r.kind)]),
        );
    }
    crate::schema::sort_keys(&mut schema);
    let list = json!({
        "description": format!("{} is a list of {}", c.list_kind, r.kind),
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {"description": API_VERSION_DOC, "type": "string"},
            "items": {
                "description": format!("List of {}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md", r.plural),
                "type": "array",
                "items": {"$ref": format!("{V2_PREFIX}{name}")},
            },
            "kind": {"description": KIND_DOC, "type": "string"},
            "metadata": {
                "description": "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
                "$ref": format!("{V2_PREFIX}{META}.ListMeta"),
            },
        },
        "x-kubernetes-group-version-kind": [gvk(r.group, r.version, c.list_kind)],
    });
    defs.insert(name.clone(), schema);
    defs.insert(list_name.clone(), list);
    (name, list_name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OpenApi, ResourceSpec, SubresourceSpec};

    #[test]
    fn custom_resources_are_published_in_both_documents() {
        const VERBS: &[&str] = &[
            "get",
            "list",
            "create",
            "update",
            "patch",
            "delete",
            "deletecollection",
            "watch",
        ];
        let subs = [SubresourceSpec::named("status")];
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "nullable": true,
            "properties": {"replicas": {"type": "integer", "description": "How many."}}}}});
        let spec = CustomResourceSpec {
            resource: ResourceSpec {
                group: "stable.example.com",
                version: "v1",
                kind: "CronTab",
                plural: "crontabs",
                namespaced: true,
                verbs: VERBS,
                subresources: &subs,
            },
            list_kind: "CronTabList",
            schema: &schema,
        };
        let api = OpenApi::with_custom(crate::DEFAULT_RESOURCES, &[spec]);
        let v3: Value =
            serde_json::from_slice(api.v3_document("apis/stable.example.com/v1").unwrap()).unwrap();
        let def = &v3["components"]["schemas"]["com.example.stable.v1.CronTab"];
        assert_eq!(
            def["properties"]["spec"]["properties"]["replicas"]["description"],
            "How many."
        );
        assert!(def["properties"]["spec"].get("nullable").is_none());
        assert_eq!(def["x-kubernetes-group-version-kind"][0]["kind"], "CronTab");
        assert!(v3["paths"]
            ["/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}/status"]["get"]
            .is_object());
        let v2: Value = serde_json::from_slice(api.v2_json()).unwrap();
        assert!(v2["definitions"]["com.example.stable.v1.CronTabList"].is_object());
        assert!(!api.v2_protobuf().is_empty());
    }
}
