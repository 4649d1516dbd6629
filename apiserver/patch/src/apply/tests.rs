//! Server-side apply (`apply`).

use serde_json::{json, Value};

use super::*;

pub(super) const DEPLOYMENT: &str = "io.k8s.api.apps.v1.Deployment";
pub(super) const POD: &str = "io.k8s.api.core.v1.Pod";
pub(super) const T1: &str = "2024-05-01T10:00:00Z";
pub(super) const T2: &str = "2024-05-01T11:00:00Z";

pub(super) fn deployment(replicas: i64, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "nginx", "labels": {"app": "nginx"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {"containers": [{"name": "nginx", "image": image, "ports": [{"containerPort": 80}]}]}
            }
        }
    })
}

/// A stored object: what the apiserver adds on create.
pub(super) fn stored(mut object: Value) -> Value {
    object["metadata"]["uid"] = json!("7d3c4f2e-0000-4000-8000-000000000001");
    object["metadata"]["resourceVersion"] = json!("1");
    object
}

pub(super) fn entries(object: &Value) -> &Vec<Value> {
    object["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
}

pub(super) fn entry<'a>(object: &'a Value, manager: &str) -> &'a Value {
    entries(object)
        .iter()
        .find(|e| e["manager"] == manager)
        .unwrap_or_else(|| panic!("no entry for {manager}: {object}"))
}

#[test]
fn apply_on_create_records_the_upstream_fields_v1() {
    let out = apply(
        None,
        &deployment(2, "nginx:1.25"),
        DEPLOYMENT,
        "kubectl",
        false,
        T1,
    )
    .unwrap();
    assert_eq!(out["spec"]["replicas"], json!(2));
    let e = entry(&out, "kubectl");
    assert_eq!(e["operation"], "Apply");
    assert_eq!(e["apiVersion"], "apps/v1");
    assert_eq!(e["time"], T1);
    assert_eq!(e["fieldsType"], "FieldsV1");
    let expected = json!({
        "f:metadata": {"f:labels": {"f:app": {}}},
        "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {
                    ".": {}, "f:image": {}, "f:name": {},
                    "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}}
                }}}
            }
        }
    });
    assert_eq!(e["fieldsV1"], expected);
    // Key order matters to clients that compare the text.
    assert_eq!(
        serde_json::to_string(&e["fieldsV1"]).unwrap(),
        serde_json::to_string(&expected).unwrap()
    );
    let keys: Vec<&String> = e.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "manager",
            "operation",
            "apiVersion",
            "time",
            "fieldsType",
            "fieldsV1"
        ]
    );
}

#[test]
fn conflicting_apply_is_refused_with_upstream_message() {
    let live = stored(
        apply(
            None,
            &deployment(2, "nginx:1.25"),
            DEPLOYMENT,
            "alice",
            false,
            T1,
        )
        .unwrap(),
    );
    let err = apply(
        Some(&live),
        &deployment(3, "nginx:1.25"),
        DEPLOYMENT,
        "bob",
        false,
        T2,
    )
    .unwrap_err();
    assert_eq!(err.http_status(), 409);
    assert_eq!(err.reason(), "Conflict");
    assert_eq!(
        err.message(),
        "Apply failed with 1 conflict: conflict with \"alice\": .spec.replicas"
    );
    assert_eq!(
        err.causes(),
        vec![
            json!({"type": "FieldManagerConflict", "message": "conflict with \"alice\"", "field": ".spec.replicas"})
        ]
    );
}

#[test]
fn conflicts_with_an_update_manager_name_its_api_version() {
    let created = track_update(
        None,
        &deployment(2, "nginx:1.25"),
        DEPLOYMENT,
        "kubectl-client-side-apply",
        None,
        T1,
    );
    let live = stored(created);
    let err = apply(
        Some(&live),
        &deployment(3, "nginx:1.26"),
        DEPLOYMENT,
        "bob",
        false,
        T2,
    )
    .unwrap_err();
    assert_eq!(
        err.message(),
        "Apply failed with 2 conflicts: conflicts with \"kubectl-client-side-apply\" using apps/v1:\n\
         - .spec.replicas\n\
         - .spec.template.spec.containers[name=\"nginx\"].image"
    );
    let ApplyError::Conflicts(conflicts) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(conflicts[0].api_version.as_deref(), Some("apps/v1"));
    assert_eq!(
        conflicts[0].message(),
        "conflict with \"kubectl-client-side-apply\" using apps/v1"
    );
}

#[test]
fn force_takes_ownership() {
    let live = stored(
        apply(
            None,
            &deployment(2, "nginx:1.25"),
            DEPLOYMENT,
            "alice",
            false,
            T1,
        )
        .unwrap(),
    );
    let out = apply(Some(&live), &json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nginx"}, "spec": {"replicas": 5}
    }), DEPLOYMENT, "bob", true, T2)
    .unwrap();
    assert_eq!(out["spec"]["replicas"], json!(5));
    assert_eq!(
        entry(&out, "bob")["fieldsV1"],
        json!({"f:spec": {"f:replicas": {}}})
    );
    assert!(entry(&out, "alice")["fieldsV1"]["f:spec"]
        .get("f:replicas")
        .is_none());
    assert!(entry(&out, "alice")["fieldsV1"]["f:spec"]
        .get("f:template")
        .is_some());
    // The other fields are untouched.
    assert_eq!(out["spec"]["template"], live["spec"]["template"]);
}

#[test]
fn same_value_is_shared_ownership_without_conflict() {
    let live = stored(
        apply(
            None,
            &deployment(2, "nginx:1.25"),
            DEPLOYMENT,
            "alice",
            false,
            T1,
        )
        .unwrap(),
    );
    let config = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nginx"}, "spec": {"replicas": 2}});
    let out = apply(Some(&live), &config, DEPLOYMENT, "bob", false, T2).unwrap();
    assert!(entry(&out, "alice")["fieldsV1"]["f:spec"]
        .get("f:replicas")
        .is_some());
    assert!(entry(&out, "bob")["fieldsV1"]["f:spec"]
        .get("f:replicas")
        .is_some());
    // Nothing changed, so bob's time is not recorded... but bob is new and owns fields.
    assert_eq!(out["spec"], live["spec"]);

    // When alice stops applying replicas, bob still owns it: it stays.
    let mut without = deployment(2, "nginx:1.25");
    without["spec"].as_object_mut().unwrap().remove("replicas");
    let shared = stored(out);
    let out = apply(Some(&shared), &without, DEPLOYMENT, "alice", false, T2).unwrap();
    assert_eq!(out["spec"]["replicas"], json!(2));
}

#[test]
fn fields_a_manager_stops_applying_are_removed() {
    let mut config = deployment(2, "nginx:1.25");
    config["metadata"]["labels"]["tier"] = json!("web");
    config["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "sidecar", "image": "busybox"}));
    let live = stored(apply(None, &config, DEPLOYMENT, "alice", false, T1).unwrap());
    let out = apply(
        Some(&live),
        &deployment(2, "nginx:1.25"),
        DEPLOYMENT,
        "alice",
        false,
        T2,
    )
    .unwrap();
    assert_eq!(out["metadata"]["labels"], json!({"app": "nginx"}));
    let containers = out["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(containers.len(), 1, "{containers:?}");
    assert_eq!(entry(&out, "alice")["time"], T2);
}

#[test]
fn a_field_set_by_an_update_survives_the_applier_dropping_it() {
    let live = stored(
        apply(
            None,
            &deployment(2, "nginx:1.25"),
            DEPLOYMENT,
            "alice",
            false,
            T1,
        )
        .unwrap(),
    );
    let mut edited = live.clone();
    edited["metadata"]["labels"]["team"] = json!("a");
    let live = track_update(Some(&live), &edited, DEPLOYMENT, "kubectl-label", None, T2);
    assert_eq!(
        entry(&live, "kubectl-label")["fieldsV1"],
        json!({"f:metadata": {"f:labels": {"f:team": {}}}})
    );
    let out = apply(
        Some(&live),
        &deployment(2, "nginx:1.25"),
        DEPLOYMENT,
        "alice",
        false,
        T2,
    )
    .unwrap();
    assert_eq!(out["metadata"]["labels"]["team"], json!("a"));
}

#[test]
fn list_map_items_merge_by_key() {
    let live = stored(
        apply(
            None,
            &deployment(2, "nginx:1.25"),
            DEPLOYMENT,
            "alice",
            false,
            T1,
        )
        .unwrap(),
    );
    let sidecar = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nginx"},
        "spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "busybox"}]}}}
    });
    let out = apply(Some(&live), &sidecar, DEPLOYMENT, "bob", false, T2).unwrap();
    let names: Vec<&Value> = out["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["name"])
        .collect();
    assert_eq!(names, [&json!("nginx"), &json!("sidecar")]);
    assert_eq!(
        entry(&out, "bob")["fieldsV1"],
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"sidecar\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}})
    );
}

#[test]
fn kubectl_takes_over_its_client_side_apply_fields() {
    let mut config = deployment(2, "nginx:1.25");
    let last = format!("{}\n", crate::go_format::go_json(&config));
    config["metadata"]["annotations"] =
        json!({"kubectl.kubernetes.io/last-applied-configuration": last});
    let live = stored(track_update(
        None,
        &config,
        DEPLOYMENT,
        "kubectl-client-side-apply",
        None,
        T1,
    ));
    let out = apply(
        Some(&live),
        &deployment(3, "nginx:1.25"),
        DEPLOYMENT,
        "kubectl",
        false,
        T2,
    )
    .unwrap();
    assert_eq!(out["spec"]["replicas"], json!(3));
    let annotation = out["metadata"]["annotations"]
        ["kubectl.kubernetes.io/last-applied-configuration"]
        .as_str()
        .unwrap();
    assert!(
        annotation.contains("\"replicas\":3") && annotation.ends_with('\n'),
        "{annotation}"
    );
    // Another manager gets the conflict.
    let err = apply(
        Some(&live),
        &deployment(3, "nginx:1.25"),
        DEPLOYMENT,
        "helm",
        false,
        T2,
    )
    .unwrap_err();
    assert!(matches!(err, ApplyError::Conflicts(_)));
}

#[test]
fn a_no_op_apply_keeps_the_time() {
    let live = stored(
        apply(
            None,
            &deployment(2, "nginx:1.25"),
            DEPLOYMENT,
            "alice",
            false,
            T1,
        )
        .unwrap(),
    );
    let out = apply(
        Some(&live),
        &deployment(2, "nginx:1.25"),
        DEPLOYMENT,
        "alice",
        false,
        T2,
    )
    .unwrap();
    assert_eq!(entry(&out, "alice")["time"], T1);
}

#[test]
fn apply_rejects_managed_fields_and_wrong_kinds() {
    let mut config = deployment(2, "nginx");
    config["metadata"]["managedFields"] = json!([]);
    let err = apply(None, &config, DEPLOYMENT, "a", false, T1).unwrap_err();
    assert_eq!(
        (err.http_status(), err.message().as_str()),
        (400, "metadata.managedFields must be nil")
    );
    let mut config = deployment(2, "nginx");
    config["kind"] = json!("ReplicaSet");
    let err = apply(None, &config, DEPLOYMENT, "a", false, T1).unwrap_err();
    assert_eq!(
        err.message(),
        "invalid object type: apps/v1, Kind=ReplicaSet"
    );
    let err = apply(
        None,
        &json!({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"image": "x"}]}}),
        POD,
        "a",
        false,
        T1,
    )
    .unwrap_err();
    assert_eq!(err.http_status(), 500);
    assert!(
        err.message().contains("omits key field \"name\""),
        "{}",
        err.message()
    );
}

#[test]
fn fields_v1_round_trips_through_managed_fields() {
    let out = apply(
        None,
        &deployment(2, "nginx:1.25"),
        DEPLOYMENT,
        "kubectl",
        false,
        T1,
    )
    .unwrap();
    let fields = &entry(&out, "kubectl")["fieldsV1"];
    assert_eq!(&to_fields_v1(&from_fields_v1(fields).unwrap()), fields);
}

#[test]
fn unknown_types_are_deduced() {
    let config = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 1, "tags": ["a"]}});
    let out = apply(None, &config, "com.example.v1.Widget", "m", false, T1).unwrap();
    assert_eq!(
        entry(&out, "m")["fieldsV1"],
        json!({"f:spec": {".": {}, "f:size": {}, "f:tags": {}}})
    );
}

fn pod_with(names: &[&str]) -> Value {
    let containers: Vec<Value> = names.iter().map(|n| json!({"name": n})).collect();
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": containers}})
}

fn container_names(object: &Value) -> Vec<&str> {
    object["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}

/// structured-merge-diff's multiple-appliers scenarios on a list-map.
#[test]
fn multiple_appliers_keep_what_others_own() {
    let live = stored(apply(None, &pod_with(&["a", "b"]), POD, "apply-one", false, T1).unwrap());
    let live = stored(apply(Some(&live), &pod_with(&["c"]), POD, "apply-two", false, T1).unwrap());
    let out = apply(Some(&live), &pod_with(&["a"]), POD, "apply-one", false, T2).unwrap();
    assert_eq!(container_names(&out), ["a", "c"]);

    let live = stored(
        apply(
            None,
            &pod_with(&["a", "b", "c"]),
            POD,
            "apply-one",
            false,
            T1,
        )
        .unwrap(),
    );
    let live = stored(
        apply(
            Some(&live),
            &pod_with(&["c", "d"]),
            POD,
            "apply-two",
            false,
            T1,
        )
        .unwrap(),
    );
    let out = apply(Some(&live), &pod_with(&["a"]), POD, "apply-one", false, T2).unwrap();
    assert_eq!(container_names(&out), ["a", "c", "d"]);
    assert_eq!(
        entry(&out, "apply-one")["fieldsV1"],
        json!({"f:spec": {"f:containers": {"k:{\"name\":\"a\"}": {".": {}, "f:name": {}}}}})
    );
    assert_eq!(
        entry(&out, "apply-two")["fieldsV1"],
        json!({"f:spec": {"f:containers": {
            "k:{\"name\":\"c\"}": {".": {}, "f:name": {}},
            "k:{\"name\":\"d\"}": {".": {}, "f:name": {}}
        }}})
    );
}
