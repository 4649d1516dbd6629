//! The documents of the default resources: shapes kubectl relies on.

use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::Instant;

use rkube_openapi::{OpenApi, ResourceSpec, SubresourceSpec, DEFAULT_RESOURCES};
use serde_json::Value;

fn api() -> &'static OpenApi {
    static API: OnceLock<OpenApi> = OnceLock::new();
    API.get_or_init(|| OpenApi::new(DEFAULT_RESOURCES))
}

fn v3(gv: &str) -> Value {
    serde_json::from_slice(api().v3_document(gv).expect(gv)).unwrap()
}

fn v2() -> Value {
    serde_json::from_slice(api().v2_json()).unwrap()
}

fn gvk(v: &Value) -> Value {
    v["x-kubernetes-group-version-kind"].clone()
}

/// Every `$ref` string in `v`.
fn refs(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                match (k.as_str(), c) {
                    ("$ref", Value::String(s)) => {
                        out.insert(s.clone());
                    }
                    _ => refs(c, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|c| refs(c, out)),
        _ => {}
    }
}

#[test]
fn generation_time() {
    let start = Instant::now();
    let api = OpenApi::new(DEFAULT_RESOURCES);
    let resolved = start.elapsed();
    let mut bytes = api.v3_index().len();
    for gv in api.group_versions().collect::<Vec<_>>() {
        bytes += api.v3_document(gv).unwrap().len();
    }
    let v3 = start.elapsed();
    bytes += api.v2_json().len() + api.v2_protobuf().len();
    println!(
        "generation: types+resources {resolved:?}, all v3 {v3:?}, all documents {:?} ({bytes} bytes)",
        start.elapsed()
    );
}

#[test]
fn v3_core_pod() {
    let doc = v3("api/v1");
    assert_eq!(doc["openapi"], "3.0.0");
    assert!(doc["info"]["title"].is_string());
    let schemas = &doc["components"]["schemas"];
    let pod = &schemas["io.k8s.api.core.v1.Pod"];
    assert_eq!(
        gvk(pod),
        serde_json::json!([{"group": "", "kind": "Pod", "version": "v1"}])
    );
    // k8s-openapi's non-optional metadata must not become required.
    assert!(pod.get("required").is_none(), "{pod}");
    assert_eq!(
        pod["properties"]["metadata"]["allOf"][0]["$ref"],
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    );
    assert!(pod["properties"]["metadata"]["description"].is_string());

    let containers = &schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
    assert_eq!(containers["type"], "array");
    assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
    assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
    assert_eq!(containers["x-kubernetes-list-type"], "map");
    assert_eq!(
        containers["x-kubernetes-list-map-keys"],
        serde_json::json!(["name"])
    );
    assert_eq!(
        containers["items"]["$ref"],
        "#/components/schemas/io.k8s.api.core.v1.Container"
    );
    let container = &schemas["io.k8s.api.core.v1.Container"];
    assert!(container["description"]
        .as_str()
        .unwrap()
        .contains("container"));
    assert!(container["properties"]["image"]["description"].is_string());
    assert_eq!(container["required"], serde_json::json!(["name"]));

    let list = &schemas["io.k8s.api.core.v1.PodList"];
    assert_eq!(gvk(list)[0]["kind"], "PodList");
    assert_eq!(
        list["properties"]["items"]["items"]["$ref"],
        "#/components/schemas/io.k8s.api.core.v1.Pod"
    );
    let meta = &schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]["properties"];
    assert_eq!(
        meta["ownerReferences"]["x-kubernetes-patch-merge-key"],
        "uid"
    );
    assert_eq!(meta["finalizers"]["x-kubernetes-list-type"], "set");
}

#[test]
fn v3_special_types() {
    let doc = v3("apis/apps/v1");
    let schemas = &doc["components"]["schemas"];
    let ios = &schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"];
    assert_eq!(ios["format"], "int-or-string");
    assert_eq!(ios["x-kubernetes-int-or-string"], true);
    assert_eq!(ios["oneOf"][0]["type"], "integer");
    let q = &schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"];
    assert_eq!(q["oneOf"][0]["type"], "string");
    let time = &schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Time"];
    assert_eq!(
        (&time["type"], &time["format"]),
        (&"string".into(), &"date-time".into())
    );
    // deployments/scale refers to autoscaling/v1 Scale, which comes along.
    assert_eq!(
        gvk(&schemas["io.k8s.api.autoscaling.v1.Scale"])[0]["group"],
        "autoscaling"
    );
    assert!(schemas.get("io.k8s.api.core.v1.Node").is_none());

    let v2 = v2();
    let ios = &v2["definitions"]["io.k8s.apimachinery.pkg.util.intstr.IntOrString"];
    assert_eq!(
        (&ios["type"], &ios["format"]),
        (&"string".into(), &"int-or-string".into())
    );
    let q = &v2["definitions"]["io.k8s.apimachinery.pkg.api.resource.Quantity"];
    assert_eq!(q["type"], "string");
}

#[test]
fn v3_operations() {
    let doc = v3("api/v1");
    let paths = &doc["paths"];
    let item = &paths["/api/v1/namespaces/{namespace}/pods/{name}"];
    let names = |op: &Value| -> Vec<String> {
        op["parameters"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|p| p["name"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(names(item), ["name", "namespace", "pretty"]);
    let patch = &item["patch"];
    assert_eq!(patch["x-kubernetes-action"], "patch");
    assert_eq!(patch["x-kubernetes-group-version-kind"]["kind"], "Pod");
    assert_eq!(
        names(patch),
        ["dryRun", "fieldManager", "fieldValidation", "force"]
    );
    let content: Vec<&String> = patch["requestBody"]["content"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    for t in [
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
        "application/apply-patch+yaml",
    ] {
        assert!(content.iter().any(|c| *c == t), "{t}");
    }
    for (method, action) in [("get", "get"), ("put", "put"), ("delete", "delete")] {
        assert_eq!(item[method]["x-kubernetes-action"], action);
    }
    let collection = &paths["/api/v1/namespaces/{namespace}/pods"];
    assert_eq!(collection["get"]["x-kubernetes-action"], "list");
    assert_eq!(collection["post"]["x-kubernetes-action"], "post");
    assert_eq!(
        collection["delete"]["x-kubernetes-action"],
        "deletecollection"
    );
    let list = names(&collection["get"]);
    for p in [
        "labelSelector",
        "fieldSelector",
        "limit",
        "continue",
        "resourceVersion",
        "resourceVersionMatch",
        "watch",
        "allowWatchBookmarks",
        "sendInitialEvents",
        "timeoutSeconds",
    ] {
        assert!(list.iter().any(|n| n == p), "{p}");
    }
    assert_eq!(
        names(&collection["post"]),
        ["dryRun", "fieldManager", "fieldValidation"]
    );
    let responses = &collection["get"]["responses"]["200"]["content"];
    for t in [
        "application/json",
        "application/yaml",
        "application/vnd.kubernetes.protobuf",
        "application/json;stream=watch",
    ] {
        assert!(responses.get(t).is_some(), "{t}");
    }
    assert_eq!(
        responses["application/json"]["schema"]["$ref"],
        "#/components/schemas/io.k8s.api.core.v1.PodList"
    );
    assert_eq!(
        paths["/api/v1/pods"]["get"]["operationId"],
        "listCoreV1PodForAllNamespaces"
    );
    assert_eq!(
        paths["/api/v1/watch/namespaces/{namespace}/pods/{name}"]["get"]["x-kubernetes-action"],
        "watch"
    );
    // Subresources.
    let status = &paths["/api/v1/namespaces/{namespace}/pods/{name}/status"];
    assert_eq!(
        names(&status["patch"]),
        ["dryRun", "fieldManager", "fieldValidation", "force"]
    );
    let eviction = &paths["/api/v1/namespaces/{namespace}/pods/{name}/eviction"]["post"];
    assert_eq!(
        eviction["x-kubernetes-group-version-kind"]["group"],
        "policy"
    );
    let log = &paths["/api/v1/namespaces/{namespace}/pods/{name}/log"]["get"];
    assert_eq!(
        log["responses"]["200"]["content"]["text/plain"]["schema"]["type"],
        "string"
    );
    assert_eq!(
        paths["/api/v1/namespaces/{namespace}/pods/{name}/exec"]["post"]["x-kubernetes-action"],
        "connect"
    );
    let scale = &paths["/api/v1/namespaces/{namespace}/replicationcontrollers/{name}/scale"]["put"];
    assert_eq!(scale["x-kubernetes-group-version-kind"]["kind"], "Scale");
    assert!(paths["/api/v1/namespaces/{name}/finalize"]["put"].is_object());
    assert!(paths["/api/v1/namespaces/{name}/finalize"]
        .get("get")
        .is_none());
    assert!(paths["/api/v1/componentstatuses"]["post"].is_null());
    assert!(paths["/api/v1/namespaces/{namespace}/bindings"]["post"].is_object());
}

#[test]
fn every_ref_resolves() {
    let api = api();
    for gv in api.group_versions() {
        let doc = v3(gv);
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let mut all = BTreeSet::new();
        refs(&doc, &mut all);
        assert!(!all.is_empty());
        for r in &all {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("{gv}: foreign $ref {r}"));
            assert!(schemas.contains_key(name), "{gv}: dangling {r}");
        }
        // Nothing beyond what the paths reach.
        let mut from_paths = BTreeSet::new();
        refs(&doc["paths"], &mut from_paths);
        assert!(from_paths.len() <= schemas.len());
    }
    let doc = v2();
    let defs = doc["definitions"].as_object().unwrap();
    let mut all = BTreeSet::new();
    refs(&doc, &mut all);
    for r in &all {
        let name = r
            .strip_prefix("#/definitions/")
            .unwrap_or_else(|| panic!("foreign $ref {r}"));
        assert!(defs.contains_key(name), "dangling {r}");
    }
}

#[test]
fn v3_index_lists_every_group_version() {
    let api = api();
    let index: Value = serde_json::from_slice(api.v3_index()).unwrap();
    let paths = index["paths"].as_object().unwrap();
    let expected: BTreeSet<String> = DEFAULT_RESOURCES
        .iter()
        .map(|r| {
            rkube_openapi::GroupVersion {
                group: r.group,
                version: r.version,
            }
            .path()
        })
        .collect();
    assert_eq!(paths.keys().cloned().collect::<BTreeSet<_>>(), expected);
    assert!(expected.contains("api/v1") && expected.contains("apis/rbac.authorization.k8s.io/v1"));
    for (gv, entry) in paths {
        let url = entry["serverRelativeURL"].as_str().unwrap();
        let hash = api.v3_hash(gv).unwrap();
        assert_eq!(url, format!("/openapi/v3/{gv}?hash={hash}"));
        assert_eq!(hash.len(), 128);
    }
    // Stable across builds.
    let again = OpenApi::new(DEFAULT_RESOURCES);
    assert_eq!(again.v3_index(), api.v3_index());
    assert_eq!(again.v2_json(), api.v2_json());
}

#[test]
fn process_wide_documents() {
    let gvs = [
        rkube_openapi::GroupVersion {
            group: "",
            version: "v1",
        },
        rkube_openapi::GroupVersion {
            group: "apps",
            version: "v1",
        },
        rkube_openapi::GroupVersion {
            group: "nope",
            version: "v1",
        },
    ];
    let index: Value = serde_json::from_slice(&rkube_openapi::v3_index(&gvs)).unwrap();
    assert_eq!(index["paths"].as_object().unwrap().len(), 2);
    assert!(rkube_openapi::v3_document("api/v1").is_some());
    assert!(rkube_openapi::v3_document("/apis/apps/v1").is_some());
    assert!(rkube_openapi::v3_document("apis/nope/v1").is_none());
    assert!(!rkube_openapi::v2_json().is_empty());
    assert!(!rkube_openapi::v2_protobuf().is_empty());
}

#[test]
fn unknown_kinds_are_left_out() {
    const SUBS: &[SubresourceSpec] = &[SubresourceSpec::named("status")];
    let specs = [
        ResourceSpec {
            group: "example.com",
            version: "v1",
            kind: "Widget",
            plural: "widgets",
            namespaced: true,
            verbs: &["get"],
            subresources: &[],
        },
        ResourceSpec {
            group: "",
            version: "v1",
            kind: "ConfigMap",
            plural: "configmaps",
            namespaced: true,
            verbs: &["get", "list"],
            subresources: SUBS,
        },
    ];
    let api = OpenApi::new(&specs);
    assert_eq!(api.group_versions().collect::<Vec<_>>(), ["api/v1"]);
    let doc: Value = serde_json::from_slice(api.v3_document("api/v1").unwrap()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths["/api/v1/namespaces/{namespace}/configmaps"]
        .get("post")
        .is_none());
    assert!(paths["/api/v1/namespaces/{namespace}/configmaps/{name}/status"]["get"].is_object());
    assert!(!paths.keys().any(|p| p.contains("/watch/")));
}

#[test]
fn subresources_in_registry_form() {
    // As rkube_api::resources describes them: kinds given, an empty version
    // meaning the parent's group-version.
    const SUBS: &[SubresourceSpec] = &[
        SubresourceSpec {
            name: "ephemeralcontainers",
            group: "",
            version: "",
            kind: "Pod",
            verbs: &["get", "patch", "update"],
        },
        SubresourceSpec {
            name: "eviction",
            group: "policy",
            version: "v1",
            kind: "Eviction",
            verbs: &["create"],
        },
        SubresourceSpec {
            name: "exec",
            group: "",
            version: "",
            kind: "PodExecOptions",
            verbs: &["create", "get"],
        },
        SubresourceSpec {
            name: "proxy",
            group: "",
            version: "",
            kind: "PodProxyOptions",
            verbs: &["create", "delete", "get", "patch", "update"],
        },
    ];
    let specs = [ResourceSpec {
        group: "",
        version: "v1",
        kind: "Pod",
        plural: "pods",
        namespaced: true,
        verbs: &["get"],
        subresources: SUBS,
    }];
    let api = OpenApi::new(&specs);
    let doc: Value = serde_json::from_slice(api.v3_document("api/v1").unwrap()).unwrap();
    let paths = &doc["paths"];
    let base = "/api/v1/namespaces/{namespace}/pods/{name}";
    let eph = &paths[format!("{base}/ephemeralcontainers")];
    assert_eq!(
        eph["patch"]["operationId"],
        "patchCoreV1NamespacedPodEphemeralcontainers"
    );
    assert_eq!(eph["get"]["x-kubernetes-group-version-kind"]["kind"], "Pod");
    let exec = &paths[format!("{base}/exec")];
    assert_eq!(
        exec["get"]["operationId"],
        "connectCoreV1GetNamespacedPodExec"
    );
    assert_eq!(
        exec["post"]["x-kubernetes-group-version-kind"]["kind"],
        "PodExecOptions"
    );
    let with_path = &paths[format!("{base}/proxy/{{path}}")];
    for m in ["get", "post", "put", "patch", "delete"] {
        assert_eq!(with_path[m]["x-kubernetes-action"], "connect", "{m}");
    }
    let names: Vec<&str> = with_path["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["name", "path", "namespace", "pretty"]);
    let eviction = &paths[format!("{base}/eviction")]["post"];
    assert_eq!(
        eviction["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/io.k8s.api.policy.v1.Eviction"
    );
}
