//! The v2 document and its gnostic protobuf encoding.

use std::sync::OnceLock;

use prost::Message;
use rkube_openapi::{OpenApi, DEFAULT_RESOURCES};
use serde_json::Value;

fn api() -> &'static OpenApi {
    static API: OnceLock<OpenApi> = OnceLock::new();
    API.get_or_init(|| OpenApi::new(DEFAULT_RESOURCES))
}

fn v2() -> Value {
    serde_json::from_slice(api().v2_json()).unwrap()
}

/// The rules kubectl 1.27's `proto.NewOpenAPIData` applies to every v2
/// definition; one violation makes kubectl reject the whole document.
fn check_v2_schema(path: &str, s: &Value) {
    let m = s
        .as_object()
        .unwrap_or_else(|| panic!("{path}: not an object"));
    if m.contains_key("$ref") {
        assert!(
            !m.contains_key("type") && !m.contains_key("properties"),
            "{path}: $ref with a type"
        );
        return;
    }
    match m.get("type") {
        Some(Value::String(t)) => match t.as_str() {
            "array" => {
                let items = m
                    .get("items")
                    .unwrap_or_else(|| panic!("{path}: array without items"));
                check_v2_schema(&format!("{path}[]"), items);
            }
            "object" => {}
            "string" | "integer" | "number" | "boolean" => {}
            other => panic!("{path}: type {other}"),
        },
        Some(other) => panic!("{path}: type {other}"),
        None => {}
    }
    if let Some(Value::Object(props)) = m.get("properties") {
        for (k, v) in props {
            check_v2_schema(&format!("{path}.{k}"), v);
        }
    }
    if let Some(ap @ Value::Object(_)) = m.get("additionalProperties") {
        check_v2_schema(&format!("{path}{{}}"), ap);
    }
}

#[test]
fn v2_document() {
    let doc = v2();
    assert_eq!(doc["swagger"], "2.0");
    let defs = doc["definitions"].as_object().unwrap();
    for (name, s) in defs {
        check_v2_schema(name, s);
    }
    let containers = &defs["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
    assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
    assert_eq!(
        containers["items"]["$ref"],
        "#/definitions/io.k8s.api.core.v1.Container"
    );
    let metadata = &defs["io.k8s.api.apps.v1.Deployment"]["properties"]["metadata"];
    assert_eq!(
        metadata["$ref"],
        "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    );
    // One document for every group.
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/namespaces/{namespace}/pods",
        "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale",
        "/apis/rbac.authorization.k8s.io/v1/clusterroles",
    ] {
        assert!(paths.contains_key(p), "{p}");
    }
    let patch = &paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
    assert_eq!(
        patch["x-kubernetes-group-version-kind"]["kind"],
        "Deployment"
    );
    let params: Vec<&str> = patch["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(params.contains(&"fieldValidation") && params.contains(&"body"));
    assert!(
        defs["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"]
            ["x-kubernetes-group-version-kind"]
            .as_array()
            .unwrap()
            .len()
            >= 9
    );
}

#[test]
fn v2_protobuf_decodes() {
    let api = api();
    let json = v2();
    let doc = rkube_openapi::proto::Document::decode(api.v2_protobuf()).expect("decodes");
    assert_eq!(doc.swagger, "2.0");
    let defs = doc.definitions.as_ref().unwrap();
    assert_eq!(
        defs.additional_properties.len(),
        json["definitions"].as_object().unwrap().len()
    );
    assert_eq!(
        doc.paths.as_ref().unwrap().path.len(),
        json["paths"].as_object().unwrap().len()
    );
    let pod = defs
        .additional_properties
        .iter()
        .find(|d| d.name == "io.k8s.api.core.v1.Pod")
        .unwrap();
    let pod = pod.value.as_ref().unwrap();
    let ext = pod
        .vendor_extension
        .iter()
        .find(|e| e.name == "x-kubernetes-group-version-kind")
        .unwrap();
    let value: Value = serde_json::from_str(&ext.value.as_ref().unwrap().yaml).unwrap();
    assert_eq!(value[0]["kind"], "Pod");
    let spec = defs
        .additional_properties
        .iter()
        .find(|d| d.name == "io.k8s.api.core.v1.PodSpec")
        .unwrap();
    let props = &spec
        .value
        .as_ref()
        .unwrap()
        .properties
        .as_ref()
        .unwrap()
        .additional_properties;
    let containers = props
        .iter()
        .find(|p| p.name == "containers")
        .unwrap()
        .value
        .as_ref()
        .unwrap();
    assert_eq!(containers.r#type.as_ref().unwrap().value, ["array"]);
    assert_eq!(
        containers.items.as_ref().unwrap().schema[0].xref,
        "#/definitions/io.k8s.api.core.v1.Container"
    );
    let key = containers
        .vendor_extension
        .iter()
        .find(|e| e.name == "x-kubernetes-patch-merge-key")
        .unwrap();
    assert_eq!(key.value.as_ref().unwrap().yaml, "\"name\"");
    // Re-encoding what was decoded gives the same bytes.
    assert_eq!(doc.encode_to_vec(), api.v2_protobuf());
    assert!(rkube_openapi::wants_v2_protobuf(
        rkube_openapi::V2_PROTOBUF_ACCEPT
    ));
    assert!(!rkube_openapi::wants_v2_protobuf("application/json"));
    assert_eq!(api.v2_etag().len(), 128);
}
