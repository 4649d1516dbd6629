use serde_json::{json, Value};

use super::strategic_merge_patch;

const POD: &str = "io.k8s.api.core.v1.Pod";
const DEPLOYMENT: &str = "io.k8s.api.apps.v1.Deployment";

fn smp(doc: Value, patch: Value, type_name: &str) -> Value {
    strategic_merge_patch(&doc, &patch, type_name).unwrap()
}

fn pod(containers: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": containers}})
}

#[test]
fn containers_merge_by_name() {
    let doc =
        pod(json!([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1", "args": ["x"]}]));
    let out = smp(
        doc,
        json!({"spec": {"containers": [{"name": "b", "image": "b:2"}]}}),
        POD,
    );
    assert_eq!(
        out["spec"]["containers"],
        json!([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:2", "args": ["x"]}])
    );
}

#[test]
fn a_new_list_item_goes_first_without_set_element_order() {
    // Upstream places patch items before live-only items it cannot order.
    let doc = pod(json!([{"name": "a"}, {"name": "b"}]));
    let out = smp(
        doc,
        json!({"spec": {"containers": [{"name": "c", "image": "c"}]}}),
        POD,
    );
    assert_eq!(
        out["spec"]["containers"],
        json!([{"name": "c", "image": "c"}, {"name": "a"}, {"name": "b"}])
    );
}

#[test]
fn set_element_order_places_new_items() {
    let doc = json!({"spec": {"containers": [{"name": "1"}, {"name": "2", "value": 2}]}});
    let patch = json!({"spec": {
        "$setElementOrder/containers": [{"name": "4"}, {"name": "1"}, {"name": "2"}, {"name": "3"}],
        "containers": [{"name": "4", "image": "x"}, {"name": "3", "image": "y"}]
    }});
    let out = smp(doc, patch, POD);
    assert_eq!(
        out["spec"]["containers"],
        json!([{"name": "4", "image": "x"}, {"name": "1"}, {"name": "2", "value": 2}, {"name": "3", "image": "y"}])
    );
}

#[test]
fn set_element_order_reorders_without_content_changes() {
    let doc = pod(json!([{"name": "a"}, {"name": "b"}]));
    let patch = json!({"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}});
    assert_eq!(
        smp(doc, patch, POD)["spec"]["containers"],
        json!([{"name": "b"}, {"name": "a"}])
    );
}

#[test]
fn patch_delete_removes_a_container() {
    let doc = pod(json!([{"name": "a"}, {"name": "b"}]));
    let out = smp(
        doc,
        json!({"spec": {"containers": [{"$patch": "delete", "name": "a"}]}}),
        POD,
    );
    assert_eq!(out["spec"]["containers"], json!([{"name": "b"}]));
}

#[test]
fn patch_replace_in_a_list_and_a_map() {
    let doc = pod(json!([{"name": "a"}, {"name": "b"}]));
    let out = smp(
        doc,
        json!({"spec": {"containers": [{"name": "z"}, {"$patch": "replace"}]}}),
        POD,
    );
    assert_eq!(out["spec"]["containers"], json!([{"name": "z"}]));

    let doc = json!({"metadata": {"labels": {"a": "1", "b": "2"}}});
    let out = smp(
        doc,
        json!({"metadata": {"labels": {"$patch": "replace", "c": "3"}}}),
        POD,
    );
    assert_eq!(out["metadata"]["labels"], json!({"c": "3"}));

    let doc = json!({"spec": {"affinity": {"nodeAffinity": {}}}});
    let out = smp(
        doc,
        json!({"spec": {"affinity": {"$patch": "delete"}}}),
        POD,
    );
    assert_eq!(out["spec"]["affinity"], json!({}));
}

#[test]
fn patch_merge_directive_is_refused_like_upstream() {
    let doc = json!({"metadata": {"labels": {"a": "1"}}});
    let err = strategic_merge_patch(
        &doc,
        &json!({"metadata": {"labels": {"$patch": "merge"}}}),
        POD,
    )
    .unwrap_err();
    assert_eq!(err.http_status(), 500);
    assert_eq!(
        err.message(),
        "unknown patch type: merge in map: map[$patch:merge]"
    );
    let doc = pod(json!([{"name": "a"}]));
    let err = strategic_merge_patch(
        &doc,
        &json!({"spec": {"containers": [{"$patch": "merge"}]}}),
        POD,
    )
    .unwrap_err();
    assert_eq!(
        err.message(),
        "merging lists cannot yet be specified in the patch"
    );
}

#[test]
fn retain_keys_clears_the_other_volume_source() {
    let doc = json!({"spec": {"volumes": [{"name": "v", "emptyDir": {}}, {"name": "w", "secret": {"secretName": "s"}}]}});
    let patch = json!({"spec": {
        "$setElementOrder/volumes": [{"name": "v"}, {"name": "w"}],
        "volumes": [{"$retainKeys": ["hostPath", "name"], "name": "v", "hostPath": {"path": "/tmp"}, "emptyDir": null}]
    }});
    let out = smp(doc, patch, POD);
    assert_eq!(
        out["spec"]["volumes"],
        json!([{"name": "v", "hostPath": {"path": "/tmp"}}, {"name": "w", "secret": {"secretName": "s"}}])
    );
}

#[test]
fn retain_keys_on_deployment_strategy() {
    let doc =
        json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}});
    let patch = json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": null}}});
    assert_eq!(
        smp(doc, patch, DEPLOYMENT)["spec"]["strategy"],
        json!({"type": "Recreate"})
    );
}

#[test]
fn retain_keys_must_list_every_patched_field() {
    let doc = json!({"spec": {"strategy": {"type": "RollingUpdate"}}});
    let patch =
        json!({"spec": {"strategy": {"$retainKeys": ["rollingUpdate"], "type": "Recreate"}}});
    let err = strategic_merge_patch(&doc, &patch, DEPLOYMENT).unwrap_err();
    assert_eq!((err.http_status(), err.reason()), (400, "BadRequest"));
    assert_eq!(err.message(), "invalid patch format of retainKeys");
}

#[test]
fn finalizers_union_and_delete_from_primitive_list() {
    let doc = json!({"metadata": {"finalizers": ["a", "b"]}});
    let out = smp(
        doc.clone(),
        json!({"metadata": {"finalizers": ["c", "a"]}}),
        POD,
    );
    assert_eq!(out["metadata"]["finalizers"], json!(["c", "a", "b"]));

    let out = smp(
        doc.clone(),
        json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a", "z"]}}),
        POD,
    );
    assert_eq!(out["metadata"]["finalizers"], json!(["b"]));

    // What `kubectl apply` sends when one finalizer goes and one comes.
    let doc = json!({"metadata": {"finalizers": ["1", "2", "3"]}});
    let patch = json!({"metadata": {
        "$setElementOrder/finalizers": ["1", "2", "4"],
        "$deleteFromPrimitiveList/finalizers": ["3"],
        "finalizers": ["4"]
    }});
    assert_eq!(
        smp(doc, patch, POD)["metadata"]["finalizers"],
        json!(["1", "2", "4"])
    );
}

#[test]
fn delete_from_missing_primitive_list_adds_nothing() {
    let out = smp(
        json!({"metadata": {}}),
        json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}),
        POD,
    );
    assert_eq!(out, json!({"metadata": {}}));
}

#[test]
fn null_removes_a_field() {
    let doc = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"nodeName": "n"}});
    let out = smp(
        doc,
        json!({"metadata": {"labels": {"a": null, "c": "3"}}, "spec": {"nodeName": null}}),
        POD,
    );
    assert_eq!(
        out,
        json!({"metadata": {"labels": {"b": "2", "c": "3"}}, "spec": {}})
    );
}

#[test]
fn nulls_inside_a_new_field_are_dropped() {
    let out = smp(
        json!({}),
        json!({"metadata": {"labels": {"a": "1", "b": null}}}),
        POD,
    );
    assert_eq!(out, json!({"metadata": {"labels": {"a": "1"}}}));
}

#[test]
fn tolerations_are_replaced_as_a_whole() {
    let doc = json!({"spec": {"tolerations": [{"key": "a", "operator": "Exists"}]}});
    let out = smp(
        doc,
        json!({"spec": {"tolerations": [{"key": "b", "operator": "Exists"}]}}),
        POD,
    );
    assert_eq!(
        out["spec"]["tolerations"],
        json!([{"key": "b", "operator": "Exists"}])
    );
}

#[test]
fn ports_merge_by_container_port() {
    let doc = pod(
        json!([{"name": "a", "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443}]}]),
    );
    let patch = json!({"spec": {"containers": [{"name": "a", "ports": [{"containerPort": 80, "name": "web"}]}]}});
    let out = smp(doc, patch, POD);
    assert_eq!(
        out["spec"]["containers"][0]["ports"],
        json!([{"containerPort": 80, "name": "web"}, {"containerPort": 443}])
    );
}

#[test]
fn nested_lists_merge_inside_a_deployment_template() {
    let doc = json!({"spec": {"replicas": 1, "template": {"spec": {"containers": [
        {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}
    ]}}}});
    let patch = json!({"spec": {"replicas": 3, "template": {
        "metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2024-01-01T00:00:00Z"}},
        "spec": {"containers": [{"name": "app", "env": [{"name": "B", "value": "3"}]}]}
    }}});
    let out = smp(doc, patch, DEPLOYMENT);
    assert_eq!(out["spec"]["replicas"], json!(3));
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"][0]["env"],
        json!([{"name": "A", "value": "1"}, {"name": "B", "value": "3"}])
    );
    assert_eq!(
        out["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"],
        json!("2024-01-01T00:00:00Z")
    );
}

#[test]
fn unknown_types_merge_maps_and_replace_lists() {
    let doc = json!({"spec": {"items": [1, 2], "m": {"a": 1}}});
    let out = smp(
        doc,
        json!({"spec": {"items": [3], "m": {"b": 2}}}),
        "io.example.v1.Widget",
    );
    assert_eq!(out, json!({"spec": {"items": [3], "m": {"a": 1, "b": 2}}}));
}

#[test]
fn missing_merge_key_is_reported_like_upstream() {
    let doc = pod(json!([{"name": "a"}]));
    let err = strategic_merge_patch(
        &doc,
        &json!({"spec": {"containers": [{"image": "nginx"}]}}),
        POD,
    )
    .unwrap_err();
    assert_eq!(err.http_status(), 500);
    assert_eq!(
        err.message(),
        "map: map[image:nginx] does not contain declared merge key: name"
    );
}

#[test]
fn set_element_order_must_agree_with_the_patch() {
    let doc = pod(json!([{"name": "a"}, {"name": "b"}]));
    let patch = json!({"spec": {
        "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
        "containers": [{"name": "b"}, {"name": "a"}]
    }});
    let err = strategic_merge_patch(&doc, &patch, POD).unwrap_err();
    assert!(
        err.message().starts_with("The order in patch list:"),
        "{}",
        err.message()
    );
}

#[test]
fn malformed_directives_are_bad_requests() {
    let err =
        strategic_merge_patch(&json!({}), &json!({"$setElementOrderX/a": []}), POD).unwrap_err();
    assert_eq!(
        (err.http_status(), err.message().as_str()),
        (400, "invalid patch format of setElementOrder list")
    );
    let err = strategic_merge_patch(&json!({}), &json!([1]), POD).unwrap_err();
    assert_eq!(err.http_status(), 400);
    let err = strategic_merge_patch(
        &json!({"a": [[1]]}),
        &json!({"a": [[2]]}),
        "io.example.v1.Widget",
    );
    assert!(
        err.is_ok(),
        "lists of unknown fields are replaced, never merged"
    );
    let doc = json!({"metadata": {"finalizers": [["x"]]}});
    let err = strategic_merge_patch(&doc, &json!({"metadata": {"finalizers": [["y"]]}}), POD)
        .unwrap_err();
    assert_eq!(err.http_status(), 422);
}
