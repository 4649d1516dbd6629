//! The fast paths of `track_update` give the general path's results, byte
//! for byte, and apply where they should.

use serde_json::{json, Value};

use super::tests::{deployment, DEPLOYMENT, POD, T1, T2};
use super::*;

const SERVICE: &str = "io.k8s.api.core.v1.Service";
const CONFIGMAP: &str = "io.k8s.api.core.v1.ConfigMap";
const WIDGET: &str = "com.example.v1.Widget";
const T3: &str = "2024-05-01T12:00:00Z";

/// A pod as the apiserver tracks it on create: defaults, status, a
/// container with ports, env and resources.
fn pod() -> Value {
    json!({
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {"name": "web-1", "namespace": "default", "uid": "3c6d", "creationTimestamp": T1,
            "labels": {"app": "web", "pod-template-hash": "5d9c"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d9c", "uid": "6c1f", "controller": true}]},
        "spec": {
            "containers": [{"name": "web", "image": "nginx:1.25",
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}, {"containerPort": 9090}],
                "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                "resources": {"requests": {"cpu": "100m"}, "limits": {"memory": "256Mi"}},
                "imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log"}],
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "tolerations": [{"key": "k", "operator": "Exists"}],
            "volumes": [{"name": "data", "emptyDir": {}}],
            "dnsPolicy": "ClusterFirst", "securityContext": {}, "terminationGracePeriodSeconds": 30
        },
        "status": {"phase": "Pending", "qosClass": "Burstable"}
    })
}

fn service() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}, "finalizers": ["a", "b"]},
        "spec": {"selector": {"app": "web"}, "type": "ClusterIP", "clusterIPs": ["10.0.0.1"],
            "ports": [{"name": "http", "port": 80, "targetPort": 8080}, {"name": "https", "port": 443, "protocol": "TCP", "targetPort": "https"}]},
        "status": {"loadBalancer": {}}
    })
}

fn configmap() -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "annotations": {"a": "b"}}, "data": {"k": "v"}, "immutable": false})
}

fn widget() -> Value {
    json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
        "spec": {"size": 1, "tags": ["a"], "nested": {"a": {"b": null}}, "empty": {}}})
}

fn text(v: &Value) -> String {
    serde_json::to_string(v).unwrap()
}

/// One write both ways: the results are the same bytes, and the fast path
/// applies (or not) as `fast` says.
fn same(
    old: Option<&Value>,
    new: &Value,
    type_name: &str,
    manager: &str,
    subresource: Option<&str>,
    fast: bool,
) -> Value {
    let now = if old.is_some() { T2 } else { T1 };
    let general = track_update_general(old, new, type_name, manager, subresource, now);
    let out = track_update(old, new, type_name, manager, subresource, now);
    assert_eq!(text(&out), text(&general), "old: {old:?}\nnew: {new}");
    let mut in_place = new.clone();
    track_update_in_place(old, &mut in_place, type_name, manager, subresource, now);
    assert_eq!(text(&in_place), text(&general), "in place: {new}");
    let object = without_managed_fields(new);
    let sent = managed_fields(new);
    let took_fast = match old {
        None => fast::starts_untracked(sent, subresource),
        Some(old) => {
            fast::track_existing(old, sent, &object, type_name, manager, subresource, now).is_some()
        }
    };
    assert_eq!(took_fast, fast, "fast path for {new}");
    out
}

fn stored(mut object: Value, rv: u32) -> Value {
    object["metadata"]["uid"] = json!("7d3c");
    object["metadata"]["resourceVersion"] = json!(rv.to_string());
    object
}

fn objects() -> Vec<(Value, &'static str)> {
    vec![
        (pod(), POD),
        (deployment(2, "nginx:1.25"), DEPLOYMENT),
        (service(), SERVICE),
        (configmap(), CONFIGMAP),
        (widget(), WIDGET),
    ]
}

#[test]
fn creates_match_the_general_path() {
    for (object, type_name) in objects() {
        for manager in ["kubectl-create", ""] {
            let out = same(None, &object, type_name, manager, None, true);
            assert!(out["metadata"].get("managedFields").is_some(), "{out}");
        }
        same(None, &object, type_name, "kubelet", Some("status"), true);
        // Managed fields the client resets, or sends.
        for (fields, fast) in [
            (json!([]), true),
            (json!([{}]), true),
            (json!(null), true),
            (json!("x"), false),
            (
                json!([{"manager": "m", "operation": "Update", "apiVersion": "v1", "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {}}}}]),
                false,
            ),
        ] {
            let mut with = object.clone();
            with["metadata"]["managedFields"] = fields;
            same(None, &with, type_name, "m", None, fast);
        }
    }
    // Odd objects: the walk's errors and leaves.
    for odd in [
        json!({"metadata": {}}),
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": null}),
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": "x"}),
        json!({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"name": "a"}, {"name": "a"}]}}),
        json!({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"image": "x"}]}}),
        json!({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [], "volumes": null}}),
        json!([1]),
    ] {
        same(None, &odd, POD, "m", None, true);
    }
}

/// Creates then a chain of writes to each object; every step compared.
#[test]
fn updates_match_the_general_path() {
    for (object, type_name) in objects() {
        let created = stored(
            track_update(None, &object, type_name, "creator", None, T1),
            1,
        );

        // No change; a change by another manager; by the same manager.
        same(Some(&created), &created, type_name, "editor", None, true);
        let mut labelled = created.clone();
        labelled["metadata"]["labels"]["tier"] = json!("front");
        let labelled = stored(
            same(Some(&created), &labelled, type_name, "labeller", None, true),
            2,
        );
        let mut relabelled = labelled.clone();
        relabelled["metadata"]["labels"]["tier"] = json!("back");
        let relabelled = stored(
            same(
                Some(&labelled),
                &relabelled,
                type_name,
                "labeller",
                None,
                true,
            ),
            3,
        );
        // Taking a field the creator owns.
        let mut taken = relabelled.clone();
        taken["metadata"]["labels"]
            .as_object_mut()
            .map(|l| l.insert("app".into(), json!("other")));
        let taken = stored(
            same(Some(&relabelled), &taken, type_name, "labeller", None, true),
            4,
        );
        // Removing what others own.
        let mut removed = taken.clone();
        removed["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("labels");
        same(Some(&taken), &removed, type_name, "cleaner", None, true);
        // Through the status subresource, and with an empty manager name.
        let mut status = taken.clone();
        status["status"] =
            json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]});
        same(
            Some(&taken),
            &status,
            type_name,
            "kubelet",
            Some("status"),
            true,
        );
        same(Some(&taken), &status, type_name, "", None, true);
        // The request's managedFields reset or dropped.
        let mut reset = taken.clone();
        reset["metadata"]["managedFields"] = json!([]);
        same(Some(&taken), &reset, type_name, "m", None, false);
        let mut dropped = taken.clone();
        dropped["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("managedFields");
        same(Some(&taken), &dropped, type_name, "m", None, true);
        // Untracked objects.
        let untracked = stored(object.clone(), 1);
        same(Some(&untracked), &untracked, type_name, "m", None, false);
    }
}

#[test]
fn list_updates_match_the_general_path() {
    let created = stored(track_update(None, &pod(), POD, "creator", None, T1), 1);
    type Edit = Box<dyn Fn(&mut Value)>;
    let edits: Vec<Edit> = vec![
        Box::new(|p| p["spec"]["containers"][0]["image"] = json!("nginx:1.26")),
        Box::new(|p| {
            p["spec"]["containers"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "sidecar", "image": "busybox"}))
        }),
        Box::new(|p| p["spec"]["containers"] = json!([])),
        Box::new(|p| {
            p["spec"]["containers"][0]["ports"]
                .as_array_mut()
                .unwrap()
                .reverse()
        }),
        Box::new(|p| p["spec"]["containers"][0]["ports"][1]["containerPort"] = json!(9090.0)),
        Box::new(|p| p["spec"]["containers"][0]["ports"][0]["protocol"] = json!("UDP")),
        Box::new(|p| {
            p["spec"]["containers"][0]["env"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "LOG_LEVEL", "value": "debug"}))
        }),
        Box::new(|p| p["spec"]["tolerations"] = json!([])),
        Box::new(|p| p["metadata"]["finalizers"] = json!(["x", "y", "x"])),
        Box::new(|p| p["spec"]["nodeSelector"] = json!({})),
        Box::new(|p| p["spec"]["securityContext"] = json!(null)),
        Box::new(|p| p["spec"]["containers"][0]["resources"] = json!({})),
        Box::new(|p| p["metadata"]["ownerReferences"][0]["controller"] = json!(false)),
        Box::new(|p| p["spec"]["containers"][0] = json!({"image": "no name"})),
    ];
    for edit in &edits {
        let mut new = created.clone();
        edit(&mut new);
        let once = stored(same(Some(&created), &new, POD, "editor", None, true), 2);
        // And back, by the creator.
        same(Some(&once), &created, POD, "creator", None, true);
        // The same edit by the creator itself.
        same(Some(&created), &new, POD, "creator", None, true);
    }
}

#[test]
fn non_canonical_or_many_managers_take_the_general_path() {
    let created = stored(
        track_update(None, &deployment(1, "a"), DEPLOYMENT, "m0", None, T1),
        1,
    );
    let mut live = created.clone();
    for i in 1..=11 {
        let mut next = live.clone();
        next["metadata"]["labels"][format!("l{i}")] = json!("x");
        // Ten update managers and more: the cap may fold them.
        let fast = i < 10;
        live = stored(
            same(Some(&live), &next, DEPLOYMENT, &format!("m{i}"), None, fast),
            i + 1,
        );
    }

    let mut unsorted = created.clone();
    let fields = &mut unsorted["metadata"]["managedFields"][0]["fieldsV1"];
    let spec = fields.as_object_mut().unwrap().remove("f:spec").unwrap();
    let mut reordered = serde_json::Map::new();
    reordered.insert("f:spec".into(), spec);
    reordered.extend(fields.as_object().unwrap().clone());
    *fields = Value::Object(reordered);
    let mut edited = unsorted.clone();
    edited["spec"]["replicas"] = json!(3);
    same(Some(&unsorted), &edited, DEPLOYMENT, "m", None, false);
    same(Some(&created), &edited, DEPLOYMENT, "m", None, false);

    for odd in [
        json!({".": {}, "f:spec": {"f:replicas": {}}}),
        json!({"f:spec": {".": {}}}),
        json!({"f:spec": {"f:replicas": {}, ".": {}}}),
        json!({"f:spec": {".": 1, "f:replicas": {}}}),
        json!({"f:spec": {"x:y": {}}}),
        json!({"f:spec": {"f:ports": {"k:{\"protocol\":\"TCP\",\"port\":80}": {}}}}),
        json!({"f:spec": {"f:finalizers": {"v:1.0": {}}}}),
        json!({"f:spec": {"f:a": {"i:01": {}}}}),
        json!({}),
        json!(null),
    ] {
        let mut live = created.clone();
        live["metadata"]["managedFields"][0]["fieldsV1"] = odd;
        let mut next = live.clone();
        next["spec"]["replicas"] = json!(3);
        same(Some(&live), &next, DEPLOYMENT, "m", None, false);
    }
}

#[test]
fn canonical_fields_v1_is_what_encoding_gives_back() {
    let created = track_update(None, &pod(), POD, "m", None, T1);
    let fields = &created["metadata"]["managedFields"][0]["fieldsV1"];
    assert!(fields_v1::is_canonical(fields));
    for value in [
        fields.clone(),
        json!({"f:a": {}, "f:b": {".": {}, "f:c": {}}}),
        json!({"f:a": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {}, "k:{\"containerPort\":443,\"protocol\":\"TCP\"}": {}}}),
        json!({"f:a": {"k:{\"containerPort\":443,\"protocol\":\"TCP\"}": {}, "k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {}}}),
        json!({"f:a": {"v:\"a\"": {}, "v:1": {}}}),
        json!({"f:a": {"v:1": {}, "v:\"a\"": {}}}),
        json!({"f:b": {}, "f:a": {}}),
        json!({"f:a": {"i:2": {}, "i:10": {}}}),
        json!({"f:a": {"v:\"a\\u003cb\"": {}}}),
        json!({"f:a": {"v:\"a<b\"": {}}}),
    ] {
        let canonical = fields_v1::is_canonical(&value);
        let again = to_fields_v1(&from_fields_v1(&value).unwrap());
        assert_eq!(canonical, text(&again) == text(&value), "{value}");
    }
}

/// Comparisons read the typed form in place; comparing copies of it gives
/// the same.
#[test]
fn comparing_in_place_equals_comparing_typed_copies() {
    let mut pairs = Vec::new();
    for (object, type_name) in objects() {
        let mut edited = object.clone();
        edited["metadata"]["labels"] = json!({"x": "y"});
        edited["spec"] = json!({"template": {"spec": {"containers": [{"name": "c"}]}}});
        pairs.push((json!({}), object.clone(), type_name));
        pairs.push((object.clone(), edited.clone(), type_name));
        pairs.push((edited, json!({"metadata": null}), type_name));
    }
    for (old, new, type_name) in pairs {
        let shape = typed::Shape::root(type_name);
        let in_place = typed::compare(&old, &new, shape).unwrap();
        let copies = typed::compare(
            &typed::as_typed(&old, shape),
            &typed::as_typed(&new, shape),
            shape,
        )
        .unwrap();
        assert_eq!(in_place.added, copies.added, "{old} → {new}");
        assert_eq!(in_place.modified, copies.modified, "{old} → {new}");
        assert_eq!(in_place.removed, copies.removed, "{old} → {new}");
    }
}

#[test]
fn list_maps_have_few_keys() {
    for id in 0..crate::schema::ssa_types().len() {
        for field in crate::schema::ssa_types()[id].fields.iter() {
            if let Some(list) = field.info.list {
                assert!(
                    list.list_map_keys.len() <= fieldset::MAX_KEYS,
                    "{}",
                    field.name
                );
            }
        }
    }
}

#[test]
fn the_time_of_an_unchanged_writer_is_kept() {
    let created = stored(track_update(None, &service(), SERVICE, "a", None, T1), 1);
    let out = track_update(Some(&created), &created, SERVICE, "a", None, T3);
    assert_eq!(out["metadata"]["managedFields"][0]["time"], T1);
}

/// Removing paths from canonical fieldsV1 in place equals decoding,
/// taking the difference and encoding.
#[test]
fn removing_from_canonical_fields_v1_equals_the_set_difference() {
    let created = track_update(None, &pod(), POD, "m", None, T1);
    let fields = created["metadata"]["managedFields"][0]["fieldsV1"].clone();
    let set = from_fields_v1(&fields).unwrap();
    let paths = set.paths();
    let mut removals: Vec<FieldSet> = Vec::new();
    // Each path alone, each prefix of it (not a member), and pairs.
    for (i, path) in paths.iter().enumerate() {
        for len in 1..=path.len() {
            let mut one = FieldSet::new();
            one.insert(&path[..len]);
            removals.push(one);
        }
        let mut two = FieldSet::new();
        two.insert(path);
        two.insert(&paths[(i * 7 + 3) % paths.len()]);
        removals.push(two);
    }
    // Everything under the container, and everything.
    let mut all = FieldSet::new();
    for path in &paths {
        all.insert(path);
    }
    removals.push(all);
    let mut container = FieldSet::new();
    for path in paths
        .iter()
        .filter(|p| p.len() > 3 && p[1] == PathElement::Field("containers".into()))
    {
        container.insert(path);
    }
    removals.push(container);
    for removal in removals {
        assert!(fields_v1::all_plain(&removal));
        let mut edited = fields.clone();
        fields_v1::remove_canonical(&mut edited, &removal);
        let expected = to_fields_v1(&set.difference(&removal));
        assert_eq!(text(&edited), text(&expected), "{:?}", removal.paths());
        if !set.difference(&removal).is_empty() {
            assert!(fields_v1::is_canonical(&edited));
        }
    }
}

/// Adding paths to canonical fieldsV1 in place equals decoding, taking the
/// union and encoding.
#[test]
fn adding_to_canonical_fields_v1_equals_the_set_union() {
    let created = track_update(None, &pod(), POD, "m", None, T1);
    let fields = created["metadata"]["managedFields"][0]["fieldsV1"].clone();
    let set = from_fields_v1(&fields).unwrap();
    let mut additions: Vec<FieldSet> = Vec::new();
    let paths = set.paths();
    for path in &paths {
        // Present paths and their prefixes, new siblings and children.
        for len in 1..=path.len() {
            let mut one = FieldSet::new();
            one.insert(&path[..len]);
            additions.push(one);
            let mut below = path[..len].to_vec();
            below.push(PathElement::Field("zz".into()));
            let mut one = FieldSet::new();
            one.insert(&below);
            additions.push(one);
            let mut sibling = path[..len].to_vec();
            *sibling.last_mut().unwrap() = PathElement::Field("a".into());
            let mut one = FieldSet::new();
            one.insert(&sibling);
            one.insert(&below);
            additions.push(one);
        }
    }
    let mut keyed = FieldSet::new();
    let mut port = crate::apply::fieldset::field_path(&["spec", "containers"]);
    port.push(PathElement::Key(vec![("name".into(), json!("web"))]));
    port.push(PathElement::Field("ports".into()));
    port.push(PathElement::Key(vec![
        ("containerPort".into(), json!(10)),
        ("protocol".into(), json!("TCP")),
    ]));
    keyed.insert(&port);
    port.push(PathElement::Field("name".into()));
    keyed.insert(&port);
    additions.push(keyed);
    for addition in additions {
        assert!(fields_v1::all_plain(&addition));
        let mut edited = fields.clone();
        fields_v1::insert_canonical(&mut edited, &addition);
        let expected = to_fields_v1(&addition.union(&set));
        assert_eq!(text(&edited), text(&expected), "{:?}", addition.paths());
        assert!(fields_v1::is_canonical(&edited));
    }
}
