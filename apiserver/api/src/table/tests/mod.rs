use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::util::{format_rfc3339, parse_time, Time};
use super::*;

mod pods;
mod printers;

use crate::resources::{find, RESOURCES};
use pods::pod;

/// 2024-01-01T00:00:00Z
pub(super) fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_704_067_200)
}

pub(super) fn ago(secs: u64) -> String {
    let t = util::from_system(now() - Duration::from_secs(secs));
    format_rfc3339(Some(t))
}

pub(super) fn res(group: &str, plural: &str) -> &'static Resource {
    find(group, "v1", plural).expect("resource")
}

pub(super) fn cells(group: &str, plural: &str, obj: &Value) -> Vec<Value> {
    row_cells(res(group, plural), obj, now())
}

#[test]
fn human_duration_boundaries() {
    const S: i128 = 1_000_000_000;
    const H: i128 = 3600 * S;
    const D: i128 = 24 * H;
    let cases: &[(i128, &str)] = &[
        (-2 * S, "<invalid>"),
        (-S - S / 2, "0s"),
        (-S, "0s"),
        (0, "0s"),
        (5 * S, "5s"),
        (119 * S, "119s"),
        (120 * S, "2m"),
        (125 * S, "2m5s"),
        (599 * S, "9m59s"),
        (600 * S, "10m"),
        (3 * H - S, "179m"),
        (3 * H, "3h"),
        (3 * H + 30 * 60 * S, "3h30m"),
        (8 * H - 60 * S, "7h59m"),
        (8 * H, "8h"),
        (48 * H - S, "47h"),
        (48 * H, "2d"),
        (49 * H, "2d1h"),
        (8 * D - H, "7d23h"),
        (8 * D, "8d"),
        (2 * 365 * D - H, "729d"),
        (2 * 365 * D, "2y"),
        (2 * 365 * D + D, "2y1d"),
        (8 * 365 * D - D, "7y364d"),
        (8 * 365 * D, "8y"),
        (10 * 365 * D + 5 * D, "10y"),
    ];
    for (d, want) in cases {
        assert_eq!(human_duration(*d), *want, "{d}");
    }
}

#[test]
fn timestamps() {
    let t = parse_time("2024-01-01T00:00:00Z").unwrap();
    assert_eq!(t.secs, 1_704_067_200);
    assert_eq!(
        parse_time("2024-01-01T01:00:00.5+01:00").unwrap(),
        Time {
            secs: 1_704_067_200,
            nanos: 500_000_000
        }
    );
    assert_eq!(format_rfc3339(Some(t)), "2024-01-01T00:00:00Z");
    assert_eq!(format_rfc3339(None), "0001-01-01T00:00:00Z");
    assert_eq!(
        format_rfc3339(parse_time("1969-12-31T23:59:59Z")),
        "1969-12-31T23:59:59Z"
    );
    for bad in [
        "",
        "2024-01-01",
        "2024-13-01T00:00:00Z",
        "2024-01-01T00:00:00",
        "x",
    ] {
        assert!(parse_time(bad).is_none(), "{bad}");
    }
    let pod = json!({"metadata": {"name": "p", "creationTimestamp": ago(300)}});
    assert_eq!(cells("", "pods", &pod)[4], "5m");
    let pod = json!({"metadata": {"name": "p"}});
    assert_eq!(cells("", "pods", &pod)[4], "<unknown>");
}

#[test]
fn default_table_shape() {
    let lr = res("", "limitranges");
    assert!(!has_printer(lr));
    assert_eq!(
        columns(lr)
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["Name", "Created At"]
    );
    assert_eq!(columns(lr)[1]["type"], "date");
    let obj = json!({"metadata": {"name": "limits", "namespace": "ns", "resourceVersion": "7",
        "creationTimestamp": "2023-12-31T23:00:00Z"}, "spec": {}});
    let t = table(
        lr,
        &[&obj],
        IncludeObject::default(),
        json!({"resourceVersion": "9"}),
        now(),
    );
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(t["metadata"], json!({"resourceVersion": "9"}));
    assert_eq!(
        t["rows"],
        json!([{"cells": ["limits", "2023-12-31T23:00:00Z"], "object": {
            "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": obj["metadata"].clone()}}])
    );
    let keys: Vec<&String> = t.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "kind",
            "apiVersion",
            "metadata",
            "columnDefinitions",
            "rows"
        ]
    );
    let empty = table(lr, &[], IncludeObject::None, Value::Null, now());
    assert_eq!(empty["rows"], Value::Null);
    assert_eq!(empty["metadata"], json!({}));
    assert_eq!(
        cells("", "limitranges", &json!({}))[1],
        "0001-01-01T00:00:00Z"
    );
}

#[test]
fn include_object_variants() {
    let pods = res("", "pods");
    let p = pod(json!({"phase": "Failed"}));
    let t = table(pods, &[&p], IncludeObject::None, json!({}), now());
    assert_eq!(t["rows"][0]["object"], Value::Null);
    assert_eq!(t["rows"][0]["conditions"][0]["type"], "Completed");
    let keys: Vec<&String> = t["rows"][0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["cells", "conditions", "object"]);
    let t = table(pods, &[&p], IncludeObject::Object, json!({}), now());
    assert_eq!(t["rows"][0]["object"], p);
    assert_eq!(
        table(pods, &[], IncludeObject::Object, json!({}), now())["rows"],
        json!([])
    );
    let c = &columns(pods)[0];
    assert_eq!(
        (
            c["name"].clone(),
            c["format"].clone(),
            c["priority"].clone()
        ),
        (json!("Name"), json!("name"), json!(0))
    );
    assert_eq!(columns(pods)[5]["priority"], 1);
    assert_eq!(IncludeObject::parse(""), Ok(IncludeObject::Metadata));
    assert_eq!(IncludeObject::parse("None"), Ok(IncludeObject::None));
    assert_eq!(
        IncludeObject::parse("x").unwrap_err(),
        "Unable to convert to Table as requested: includeObject: Invalid value: \"x\": must be 'Metadata', 'Object', 'None', or empty"
    );
}

/// Objects that exercise every printer path with wrong types and odd shapes.
fn odd_objects() -> Vec<Value> {
    vec![
        json!(null),
        json!(42),
        json!("x"),
        json!([]),
        json!({}),
        json!({"metadata": null, "spec": null, "status": null}),
        json!({"metadata": {"name": 1, "creationTimestamp": 5, "labels": [1], "deletionTimestamp": "bad",
            "ownerReferences": [{"controller": "yes"}, 1]},
            "spec": {"containers": "x", "initContainers": [1, null], "replicas": "3", "selector": [1],
                "ports": [{"port": "80", "nodePort": -1}], "type": 5, "unschedulable": "true",
                "template": {"spec": {"containers": [{"name": 1}], "nodeSelector": {"a": 1}}},
                "completions": 1.5, "parallelism": -4, "readinessGates": [{}], "rules": [1],
                "capacity": {"storage": 10}, "accessModes": "RWO", "claimRef": "x", "suspend": "no",
                "minAvailable": 1.5, "podSelector": "x", "holderIdentity": 5, "clusterIPs": [null]},
            "status": {"phase": 1, "conditions": {"a": 1}, "podIPs": [1],
                "containerStatuses": [1, {"state": 1}, {"state": {"waiting": 1, "terminated": {"exitCode": "x"}}}],
                "initContainerStatuses": [{"state": {"terminated": null}}, {"lastState": {"terminated": {"finishedAt": "nope"}}}],
                "startTime": "2024-01-01T00:00:00Z", "completionTime": 3, "hard": {"x": 1}, "used": 2,
                "loadBalancer": {"ingress": "x"}, "addresses": [1], "active": 3},
            "subsets": [{"addresses": [1], "ports": [{"port": "x"}]}, 7],
            "involvedObject": 3, "regarding": {"kind": 1}, "series": {"count": "x"}, "count": "7",
            "endpoints": [{"addresses": [1, null]}], "subjects": [1, {"kind": 2}], "roleRef": 1,
            "conditions": [1, {"type": "Healthy", "status": "True", "message": 1}],
            "revision": "x", "data": "abc", "secrets": {"a": 1}, "template": 1}),
    ]
}

#[test]
fn every_row_matches_its_columns() {
    for r in RESOURCES {
        let n = columns(r).len();
        assert!(n >= 2, "{}", r.qualified());
        for (i, c) in columns(r).iter().enumerate() {
            assert!(
                c["name"].is_string() && c["type"].is_string(),
                "{} {i}",
                r.qualified()
            );
        }
        for o in odd_objects() {
            assert_eq!(row_cells(r, &o, now()).len(), n, "{} {o}", r.qualified());
            let t = table(r, &[&o], IncludeObject::Metadata, json!({}), now());
            assert_eq!(t["rows"][0]["cells"].as_array().unwrap().len(), n);
        }
        // A time far before the epoch and one far in the future are fine too.
        let o = json!({"metadata": {"creationTimestamp": "0001-01-01T00:00:01Z"}});
        assert_eq!(
            row_cells(r, &o, UNIX_EPOCH - Duration::from_secs(10)).len(),
            n
        );
        let o = json!({"metadata": {"creationTimestamp": "9999-12-31T23:59:59Z"}});
        assert_eq!(row_cells(r, &o, now()).len(), n);
    }
}
