//! managedFields tracking of ordinary writes (`track_update`).

use serde_json::json;

use super::tests::{deployment, entries, entry, stored, DEPLOYMENT, POD, T1, T2};
use super::*;

#[test]
fn track_update_gives_changed_fields_to_the_writer() {
    let created = stored(track_update(
        None,
        &deployment(2, "nginx:1.25"),
        DEPLOYMENT,
        "kubectl-create",
        None,
        T1,
    ));
    let e = entry(&created, "kubectl-create");
    assert_eq!(e["operation"], "Update");
    assert!(
        e["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"nginx\"}"]
            .get("f:image")
            .is_some()
    );
    // As upstream, structs a Go object always has carry no "." and new maps,
    // lists and list items do.
    assert_eq!(
        e["fieldsV1"],
        json!({
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {
                "f:replicas": {},
                "f:selector": {},
                "f:template": {
                    "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                    "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {
                        ".": {}, "f:image": {}, "f:name": {},
                        "f:ports": {".": {}, "k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}},
                        "f:resources": {}
                    }}}
                }
            }
        })
    );
    let mut edited = created.clone();
    edited["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.26");
    let out = track_update(
        Some(&created),
        &edited,
        DEPLOYMENT,
        "kubectl-edit",
        None,
        T2,
    );
    assert_eq!(
        entry(&out, "kubectl-edit")["fieldsV1"],
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {"f:image": {}}}}}}})
    );
    let create_fields = &entry(&out, "kubectl-create")["fieldsV1"]["f:spec"]["f:template"]
        ["f:spec"]["f:containers"]["k:{\"name\":\"nginx\"}"];
    assert!(create_fields.get("f:image").is_none());
    assert!(create_fields.get("f:name").is_some());
    // Sorted by time: the older writer first.
    assert_eq!(entries(&out)[0]["manager"], "kubectl-create");
}

#[test]
fn status_is_tracked_only_through_the_status_subresource() {
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}});
    let created = stored(track_update(None, &pod, POD, "kubectl", None, T1));
    let mut with_status = created.clone();
    with_status["status"] = json!({"phase": "Running"});
    let main = track_update(Some(&created), &with_status, POD, "someone", None, T2);
    assert!(
        entries(&main).iter().all(|e| e["manager"] != "someone"),
        "{main}"
    );
    let sub = track_update(
        Some(&created),
        &with_status,
        POD,
        "kubelet",
        Some("status"),
        T2,
    );
    let e = entry(&sub, "kubelet");
    assert_eq!(e["subresource"], "status");
    assert_eq!(e["fieldsV1"], json!({"f:status": {"f:phase": {}}}));
}

#[test]
fn untracked_objects_stay_untracked_until_applied() {
    let live = stored(deployment(2, "nginx:1.25"));
    let mut edited = live.clone();
    edited["spec"]["replicas"] = json!(4);
    let out = track_update(Some(&live), &edited, DEPLOYMENT, "kubectl-edit", None, T2);
    assert!(out["metadata"].get("managedFields").is_none());

    // The first apply gives what existed to "before-first-apply".
    let out = apply(Some(&live), &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nginx"}, "spec": {"replicas": 2}}), DEPLOYMENT, "alice", false, T2).unwrap();
    assert!(entry(&out, "before-first-apply")["fieldsV1"]["f:spec"]
        .get("f:template")
        .is_some());
}

#[test]
fn garbage_or_reset_managed_fields_from_clients() {
    let live = stored(track_update(
        None,
        &deployment(2, "nginx:1.25"),
        DEPLOYMENT,
        "creator",
        None,
        T1,
    ));
    let mut garbage = live.clone();
    garbage["metadata"]["managedFields"] = json!([{"manager": 7, "operation": "Frobnicate"}]);
    let out = track_update(Some(&live), &garbage, DEPLOYMENT, "editor", None, T2);
    assert_eq!(entries(&out).len(), 1);
    assert_eq!(
        entry(&out, "creator")["fieldsV1"],
        entry(&live, "creator")["fieldsV1"]
    );

    let mut reset = live.clone();
    reset["metadata"]["managedFields"] = json!([{}]);
    let out = track_update(Some(&live), &reset, DEPLOYMENT, "editor", None, T2);
    assert!(out["metadata"].get("managedFields").is_none(), "{out}");

    let mut not_a_list = live.clone();
    not_a_list["metadata"]["managedFields"] = json!("x");
    let out = track_update(Some(&live), &not_a_list, DEPLOYMENT, "editor", None, T2);
    assert_eq!(entries(&out).len(), 1);
}

#[test]
fn update_managers_are_capped() {
    let mut live = stored(track_update(
        None,
        &deployment(1, "nginx"),
        DEPLOYMENT,
        "m0",
        None,
        "2024-01-01T00:00:00Z",
    ));
    for i in 1..=11 {
        let mut next = live.clone();
        next["metadata"]["labels"][format!("l{i}")] = json!("x");
        live = track_update(
            Some(&live),
            &next,
            DEPLOYMENT,
            &format!("m{i}"),
            None,
            &format!("2024-01-01T00:00:{i:02}Z"),
        );
    }
    let managers: Vec<&str> = entries(&live)
        .iter()
        .map(|e| e["manager"].as_str().unwrap())
        .collect();
    assert_eq!(managers.len(), MAX_UPDATE_MANAGERS);
    assert!(managers.contains(&"ancient-changes"), "{managers:?}");
    assert!(!managers.contains(&"m0") && !managers.contains(&"m1") && managers.contains(&"m11"));
}

#[test]
fn track_update_never_panics_on_odd_input() {
    for new in [
        json!(null),
        json!([1]),
        json!({"metadata": 5}),
        json!({"spec": {"containers": [1, {"x": 2}]}}),
    ] {
        let _ = track_update(None, &new, POD, "m", None, T1);
        let _ = track_update(
            Some(&json!({"metadata": {"uid": "u", "managedFields": 3}})),
            &new,
            POD,
            "",
            Some("status"),
            "bad time",
        );
    }
}
