//! HorizontalPodAutoscaler validation (autoscaling/v2 form, upstream's
//! `pkg/apis/autoscaling/validation`): replica bounds, the scale target, each metric
//! source and target, and the scaling behavior.

use serde_json::Value;

use super::field::{forbidden, invalid, not_supported, required, Path};
use super::meta::{non_negative, validate_object_meta, validate_object_meta_update};
use super::names::{is_valid_path_segment_name, NameRule};
use super::quantity::Quantity;
use super::util::{arr, int, s};
use crate::status::Cause;

const METRIC_SOURCE_TYPES: &[&str] = &[
    "ContainerResource",
    "External",
    "Object",
    "Pods",
    "Resource",
];
const MAX_PERIOD_SECONDS: i64 = 1800;
const MAX_STABILIZATION_WINDOW_SECONDS: i64 = 3600;

pub fn validate_hpa(hpa: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = match old {
        None => validate_object_meta(hpa, true, NameRule::Subdomain),
        Some(old) => validate_object_meta_update(hpa, old),
    };
    let spec = hpa.get("spec").unwrap_or(&Value::Null);
    out.extend(validate_spec(spec, &Path::new("spec")));
    out
}

pub fn validate_hpa_status(hpa: &Value, old: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta_update(hpa, old);
    let status = hpa.get("status").unwrap_or(&Value::Null);
    let path = Path::new("status");
    out.extend(non_negative(
        int(status, "currentReplicas").unwrap_or(0),
        &path.child("currentReplicas"),
    ));
    out.extend(non_negative(
        int(status, "desiredReplicas").unwrap_or(0),
        &path.child("desiredReplicas"),
    ));
    out
}

fn validate_spec(spec: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let min = int(spec, "minReplicas");
    let max = int(spec, "maxReplicas").unwrap_or(0);
    if let Some(min) = min.filter(|m| *m < 1) {
        out.push(invalid(
            &path.child("minReplicas"),
            min,
            "must be greater than or equal to 1",
        ));
    }
    if max < 1 {
        out.push(invalid(
            &path.child("maxReplicas"),
            max,
            "must be greater than 0",
        ));
    }
    if let Some(min) = min {
        if max < min {
            out.push(invalid(
                &path.child("maxReplicas"),
                max,
                "must be greater than or equal to `minReplicas`",
            ));
        }
    }
    let target = spec.get("scaleTargetRef").unwrap_or(&Value::Null);
    out.extend(validate_reference(target, &path.child("scaleTargetRef")));
    for (i, m) in arr(spec, "metrics").iter().enumerate() {
        out.extend(validate_metric(m, &path.child("metrics").index(i)));
    }
    if let Some(b) = spec.get("behavior").filter(|b| !b.is_null()) {
        let bp = path.child("behavior");
        for key in ["scaleUp", "scaleDown"] {
            if let Some(rules) = b.get(key).filter(|r| !r.is_null()) {
                out.extend(validate_rules(rules, &bp.child(key)));
            }
        }
    }
    out
}

/// A CrossVersionObjectReference: kind and name required, each a valid path segment.
fn validate_reference(r: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    for key in ["kind", "name"] {
        let v = s(r, key);
        if v.is_empty() {
            out.push(required(&path.child(key), ""));
        } else {
            for msg in is_valid_path_segment_name(v, false) {
                out.push(invalid(&path.child(key), v, &msg));
            }
        }
    }
    out
}

fn validate_metric(m: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let kind = s(m, "type");
    if kind.is_empty() {
        out.push(required(
            &path.child("type"),
            "must specify a metric source type",
        ));
    } else if !METRIC_SOURCE_TYPES.contains(&kind) {
        out.push(not_supported(
            &path.child("type"),
            kind,
            METRIC_SOURCE_TYPES,
        ));
    }
    let present: Vec<&str> = [
        "object",
        "pods",
        "resource",
        "containerResource",
        "external",
    ]
    .into_iter()
    .filter(|k| m.get(*k).is_some_and(|v| !v.is_null()))
    .collect();
    if let Some(first) = present.first() {
        let src = &m[*first];
        let sp = path.child(first);
        out.extend(match *first {
            "resource" | "containerResource" => {
                validate_resource_source(src, &sp, *first == "containerResource")
            }
            "object" => {
                let mut o = validate_reference(
                    src.get("describedObject").unwrap_or(&Value::Null),
                    &sp.child("describedObject"),
                );
                o.extend(validate_metric_identifier(src, &sp));
                o.extend(validate_target(src, &sp));
                o
            }
            _ => {
                let mut o = validate_metric_identifier(src, &sp);
                o.extend(validate_target(src, &sp));
                o
            }
        });
    }
    let mut expected = kind.to_string();
    if let Some(c) = expected.get_mut(0..1) {
        c.make_ascii_lowercase();
    }
    if !kind.is_empty()
        && METRIC_SOURCE_TYPES.contains(&kind)
        && !present.contains(&expected.as_str())
    {
        out.push(required(
            &path.child(&expected),
            "must populate information for the given metric source",
        ));
    }
    if present.len() > 1 {
        for other in present.iter().filter(|p| **p != expected) {
            out.push(forbidden(
                &path.child(other),
                "must populate the given metric source only",
            ));
        }
    }
    out
}

fn validate_metric_identifier(src: &Value, path: &Path) -> Vec<Cause> {
    let name = src
        .pointer("/metric/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if name.is_empty() {
        return vec![required(
            &path.at(&["metric", "name"]),
            "must specify a metric name",
        )];
    }
    is_valid_path_segment_name(name, false)
        .into_iter()
        .map(|msg| invalid(&path.at(&["metric", "name"]), name, &msg))
        .collect()
}

fn validate_resource_source(src: &Value, path: &Path, container: bool) -> Vec<Cause> {
    let mut out = Vec::new();
    if s(src, "name").is_empty() {
        out.push(required(
            &path.child("name"),
            "must specify a resource name",
        ));
    }
    if container && s(src, "container").is_empty() {
        out.push(required(
            &path.child("container"),
            "must specify a container",
        ));
    }
    let target = src.get("target").unwrap_or(&Value::Null);
    let tp = path.child("target");
    out.extend(validate_target(src, path));
    let util = target.get("averageUtilization").filter(|v| !v.is_null());
    let avg = target.get("averageValue").filter(|v| !v.is_null());
    if util.is_none() && avg.is_none() {
        out.push(required(
            &tp.child("averageUtilization"),
            "must set either a target raw value or a target utilization",
        ));
    }
    if util.is_some() && avg.is_some() {
        out.push(forbidden(
            &tp.child("averageValue"),
            "may not set both a target raw value and a target utilization",
        ));
    }
    out
}

/// A MetricTarget: its type, and every given value positive.
fn validate_target(src: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let target = src.get("target").unwrap_or(&Value::Null);
    let tp = path.child("target");
    let kind = s(target, "type");
    if kind.is_empty() {
        out.push(required(
            &tp.child("type"),
            "must specify a metric target type",
        ));
    } else if !["Utilization", "Value", "AverageValue"].contains(&kind) {
        out.push(invalid(
            &tp.child("type"),
            kind,
            "must be either Utilization, Value, or AverageValue",
        ));
    }
    for key in ["value", "averageValue"] {
        if let Some(v) = target.get(key).filter(|v| !v.is_null()) {
            if Quantity::from_json(v).is_some_and(|q| q.sign() != 1) {
                out.push(invalid(
                    &tp.child(key),
                    v.as_str().unwrap_or_default(),
                    "must be positive",
                ));
            }
        }
    }
    if let Some(u) = int(target, "averageUtilization").filter(|u| *u < 1) {
        out.push(invalid(
            &tp.child("averageUtilization"),
            u,
            "must be greater than 0",
        ));
    }
    out
}

fn validate_rules(rules: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(w) = int(rules, "stabilizationWindowSeconds") {
        let wp = path.child("stabilizationWindowSeconds");
        if w < 0 {
            out.push(invalid(&wp, w, "must be greater than or equal to zero"));
        }
        if w > MAX_STABILIZATION_WINDOW_SECONDS {
            out.push(invalid(
                &wp,
                w,
                &format!("must be less than or equal to {MAX_STABILIZATION_WINDOW_SECONDS}"),
            ));
        }
    }
    let select = s(rules, "selectPolicy");
    if !select.is_empty() && !["Disabled", "Max", "Min"].contains(&select) {
        out.push(not_supported(
            &path.child("selectPolicy"),
            select,
            &["Disabled", "Max", "Min"],
        ));
    }
    let policies = arr(rules, "policies");
    if policies.is_empty() {
        out.push(required(
            &path.child("policies"),
            "must specify at least one Policy",
        ));
    }
    for (i, p) in policies.iter().enumerate() {
        let pp = path.child("policies").index(i);
        let kind = s(p, "type");
        if !["Pods", "Percent"].contains(&kind) {
            out.push(not_supported(&pp.child("type"), kind, &["Percent", "Pods"]));
        }
        let value = int(p, "value").unwrap_or(0);
        if value <= 0 {
            out.push(invalid(
                &pp.child("value"),
                value,
                "must be greater than zero",
            ));
        }
        let period = int(p, "periodSeconds").unwrap_or(0);
        if period <= 0 {
            out.push(invalid(
                &pp.child("periodSeconds"),
                period,
                "must be greater than zero",
            ));
        }
        if period > MAX_PERIOD_SECONDS {
            out.push(invalid(
                &pp.child("periodSeconds"),
                period,
                &format!("must be less than or equal to {MAX_PERIOD_SECONDS}"),
            ));
        }
    }
    out
}
