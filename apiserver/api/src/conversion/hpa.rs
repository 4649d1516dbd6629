//! HorizontalPodAutoscaler between autoscaling/v1 and autoscaling/v2 (the stored form,
//! as upstream's storage version since 1.27).
//!
//! v1 carries only a CPU utilization target; whatever else a v2 object holds survives a
//! v1 round trip in the annotations upstream uses (`autoscaling.alpha.kubernetes.io/…`),
//! written on the way out to v1 and taken back (and removed) on the way in.

use serde_json::{json, Map, Value};

use super::hpa_metrics;

pub const METRIC_SPECS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/metrics";
pub const METRIC_STATUSES_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/current-metrics";
pub const CONDITIONS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/conditions";
pub const BEHAVIOR_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/behavior";

const ROUND_TRIP_ANNOTATIONS: &[&str] = &[
    METRIC_SPECS_ANNOTATION,
    METRIC_STATUSES_ANNOTATION,
    CONDITIONS_ANNOTATION,
    BEHAVIOR_ANNOTATION,
];

/// Upstream's `autoscaling.DefaultCPUUtilization`.
pub const DEFAULT_CPU_UTILIZATION: i64 = 80;

/// Remove the round-trip annotations (no version but v1 ever shows them); returns what
/// was there.
pub fn drop_round_trip_annotations(obj: &mut Value) -> Map<String, Value> {
    let mut taken = Map::new();
    let Some(annotations) = obj
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
        .and_then(Value::as_object_mut)
    else {
        return taken;
    };
    for key in ROUND_TRIP_ANNOTATIONS {
        if let Some(v) = annotations.remove(*key) {
            taken.insert((*key).to_string(), v);
        }
    }
    taken
}

fn is_cpu_resource(m: &Value) -> bool {
    m.get("type").and_then(Value::as_str) == Some("Resource")
        && m.pointer("/resource/name").and_then(Value::as_str) == Some("cpu")
}

fn decoded_list(annotation: Option<&Value>) -> Option<Vec<Value>> {
    let text = annotation?.as_str()?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => Some(items),
        _ => None,
    }
}

/// The default metric of an HPA that names none: CPU at 80 % utilization.
pub fn default_cpu_metric(percent: &Value) -> Value {
    json!({"type": "Resource", "resource": {"name": "cpu", "target": {
        "type": "Utilization", "averageUtilization": percent}}})
}

/// An autoscaling/v1 object in the autoscaling/v2 form.
pub fn v1_to_v2(mut obj: Value) -> Value {
    let taken = drop_round_trip_annotations(&mut obj);
    let Value::Object(mut top) = obj else {
        return obj;
    };
    top.insert("apiVersion".into(), json!("autoscaling/v2"));
    let spec = top.remove("spec").unwrap_or_else(|| json!({}));
    let status = top.remove("status");

    let mut metrics: Vec<Value> = decoded_list(taken.get(METRIC_SPECS_ANNOTATION))
        .unwrap_or_default()
        .iter()
        .map(hpa_metrics::spec_to_v2)
        .collect();
    if let Some(cpu) = spec
        .get("targetCPUUtilizationPercentage")
        .filter(|v| !v.is_null())
    {
        metrics.push(default_cpu_metric(cpu));
    }
    if metrics.is_empty() {
        // v1 once applied this default in the controller; the conversion makes it explicit.
        metrics.push(default_cpu_metric(&json!(DEFAULT_CPU_UTILIZATION)));
    }
    let mut new_spec = Map::new();
    for key in ["scaleTargetRef", "minReplicas", "maxReplicas"] {
        if let Some(v) = spec.get(key) {
            new_spec.insert(key.into(), v.clone());
        }
    }
    new_spec.insert("metrics".into(), Value::Array(metrics));
    if let Some(behavior) = taken
        .get(BEHAVIOR_ANNOTATION)
        .and_then(Value::as_str)
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .filter(Value::is_object)
    {
        new_spec.insert("behavior".into(), behavior);
    }
    top.insert("spec".into(), Value::Object(new_spec));
    if let Some(status) = status.filter(|s| !s.is_null()) {
        top.insert("status".into(), status_v1_to_v2(&status, &taken));
    }
    Value::Object(top)
}

fn status_v1_to_v2(status: &Value, taken: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    for key in ["observedGeneration", "lastScaleTime", "currentReplicas"] {
        if let Some(v) = status.get(key).filter(|v| !v.is_null()) {
            out.insert(key.into(), v.clone());
        }
    }
    out.insert(
        "desiredReplicas".into(),
        status.get("desiredReplicas").cloned().unwrap_or(json!(0)),
    );
    let current = match decoded_list(taken.get(METRIC_STATUSES_ANNOTATION)) {
        // The annotation has more than the CPU figure: it wins.
        Some(list) => Value::Array(list.iter().map(hpa_metrics::status_to_v2).collect()),
        None => match status
            .get("currentCPUUtilizationPercentage")
            .filter(|v| !v.is_null())
        {
            Some(cpu) => json!([{"type": "Resource", "resource": {"name": "cpu",
                "current": {"averageUtilization": cpu}}}]),
            None => Value::Null,
        },
    };
    out.insert("currentMetrics".into(), current);
    if let Some(conditions) = decoded_list(taken.get(CONDITIONS_ANNOTATION)) {
        out.insert("conditions".into(), Value::Array(conditions));
    }
    Value::Object(out)
}

fn set_annotation(top: &mut Map<String, Value>, key: &str, value: &Value) {
    let meta = top.entry("metadata").or_insert_with(|| json!({}));
    if let Some(meta) = meta.as_object_mut() {
        let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
        if !annotations.is_object() {
            *annotations = json!({});
        }
        if let Some(a) = annotations.as_object_mut() {
            a.insert(
                key.to_string(),
                json!(serde_json::to_string(value).unwrap_or_default()),
            );
        }
    }
}

fn non_empty_list<'a>(v: &'a Value, path: &str) -> Option<&'a Vec<Value>> {
    v.pointer(path)
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
}

/// An autoscaling/v2 object in the autoscaling/v1 form.
pub fn v2_to_v1(mut obj: Value) -> Value {
    drop_round_trip_annotations(&mut obj);
    let spec = obj.get("spec").cloned().unwrap_or_else(|| json!({}));
    let status = obj.get("status").cloned();
    let Value::Object(mut top) = obj else {
        return obj;
    };
    top.insert("apiVersion".into(), json!("autoscaling/v1"));

    let metrics = spec
        .get("metrics")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let other: Vec<Value> = metrics
        .iter()
        .filter(|m| {
            !(is_cpu_resource(m)
                && m.pointer("/resource/target/averageUtilization")
                    .is_some_and(|v| !v.is_null()))
        })
        .map(hpa_metrics::spec_to_v1)
        .collect();
    if !other.is_empty() {
        set_annotation(&mut top, METRIC_SPECS_ANNOTATION, &Value::Array(other));
    }
    if let Some(st) = &status {
        if let Some(current) = non_empty_list(st, "/currentMetrics") {
            let v1: Vec<Value> = current.iter().map(hpa_metrics::status_to_v1).collect();
            set_annotation(&mut top, METRIC_STATUSES_ANNOTATION, &Value::Array(v1));
        }
    }
    if let Some(behavior) = spec.get("behavior").filter(|b| !b.is_null()) {
        set_annotation(&mut top, BEHAVIOR_ANNOTATION, behavior);
    }
    if let Some(st) = &status {
        if let Some(conditions) = non_empty_list(st, "/conditions") {
            set_annotation(
                &mut top,
                CONDITIONS_ANNOTATION,
                &Value::Array(conditions.clone()),
            );
        }
    }

    let mut new_spec = Map::new();
    for key in ["scaleTargetRef", "minReplicas", "maxReplicas"] {
        if let Some(v) = spec.get(key) {
            new_spec.insert(key.into(), v.clone());
        }
    }
    // The first CPU resource metric decides, as upstream's conversion (it stops there).
    if let Some(cpu) = metrics.iter().find(|m| is_cpu_resource(m)) {
        if let Some(u) = cpu
            .pointer("/resource/target/averageUtilization")
            .filter(|v| !v.is_null())
        {
            new_spec.insert("targetCPUUtilizationPercentage".into(), u.clone());
        }
    }
    top.insert("spec".into(), Value::Object(new_spec));
    if let Some(st) = status.filter(|s| !s.is_null()) {
        top.insert("status".into(), status_v2_to_v1(&st));
    }
    Value::Object(top)
}

fn status_v2_to_v1(st: &Value) -> Value {
    let mut out = Map::new();
    for key in ["observedGeneration", "lastScaleTime"] {
        if let Some(v) = st.get(key).filter(|v| !v.is_null()) {
            out.insert(key.into(), v.clone());
        }
    }
    // Both are plain int32 fields in v1: always present.
    for key in ["currentReplicas", "desiredReplicas"] {
        out.insert(key.into(), st.get(key).cloned().unwrap_or(json!(0)));
    }
    // The last CPU figure wins: upstream's loop does not stop at the first.
    let cpu = st
        .get("currentMetrics")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .rev()
        .filter(|m| is_cpu_resource(m))
        .filter_map(|m| m.pointer("/resource/current/averageUtilization"))
        .find(|v| !v.is_null());
    if let Some(cpu) = cpu {
        out.insert("currentCPUUtilizationPercentage".into(), cpu.clone());
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v1_hpa() -> Value {
        json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "ns"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 2, "maxReplicas": 5, "targetCPUUtilizationPercentage": 60}})
    }

    #[test]
    fn cpu_target_becomes_a_resource_metric_and_back() {
        let v2 = v1_to_v2(v1_hpa());
        assert_eq!(v2["apiVersion"], "autoscaling/v2");
        assert_eq!(
            v2["spec"]["metrics"],
            json!([default_cpu_metric(&json!(60))])
        );
        let back = v2_to_v1(v2);
        assert_eq!(back, v1_hpa());
    }

    #[test]
    fn no_target_means_cpu_80() {
        let mut v1 = v1_hpa();
        v1["spec"]
            .as_object_mut()
            .unwrap()
            .remove("targetCPUUtilizationPercentage");
        let v2 = v1_to_v2(v1);
        assert_eq!(
            v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
            80
        );
        assert_eq!(v2_to_v1(v2)["spec"]["targetCPUUtilizationPercentage"], 80);
    }

    #[test]
    fn v2_only_fields_survive_a_v1_round_trip() {
        let v2 = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "annotations": {"keep": "me"}},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 4,
                "metrics": [
                    {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}}},
                    {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}},
                    {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}},
                    {"type": "External", "external": {"metric": {"name": "queue"}, "target": {"type": "Value", "value": "3"}}},
                    {"type": "Object", "object": {"describedObject": {"kind": "Service", "name": "s", "apiVersion": "v1"},
                        "metric": {"name": "rps"}, "target": {"type": "Value", "value": "7"}}}],
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60, "selectPolicy": "Max",
                    "policies": [{"type": "Percent", "value": 10, "periodSeconds": 60}]}}},
            "status": {"currentReplicas": 2, "desiredReplicas": 3,
                "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageValue": "120m", "averageUtilization": 40}}}],
                "conditions": [{"type": "AbleToScale", "status": "True", "reason": "SucceededGetScale"}]}});
        let v1 = v2_to_v1(v2.clone());
        assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 50);
        assert_eq!(v1["status"]["currentCPUUtilizationPercentage"], 40);
        let annotations = v1["metadata"]["annotations"].as_object().unwrap();
        for key in ROUND_TRIP_ANNOTATIONS {
            assert!(annotations.contains_key(*key), "{key}");
        }
        let back = v1_to_v2(v1);
        // The CPU metric comes last after a round trip, as upstream's conversion puts it.
        let metrics = back["spec"]["metrics"].as_array().unwrap();
        assert_eq!(metrics.len(), 5);
        assert_eq!(metrics[4], v2["spec"]["metrics"][2]);
        for (i, j) in [(0, 0), (1, 1), (2, 3), (3, 4)] {
            assert_eq!(metrics[i], v2["spec"]["metrics"][j], "metric {j}");
        }
        assert_eq!(back["spec"]["behavior"], v2["spec"]["behavior"]);
        assert_eq!(back["status"]["conditions"], v2["status"]["conditions"]);
        assert_eq!(
            back["status"]["currentMetrics"],
            v2["status"]["currentMetrics"]
        );
        assert_eq!(back["metadata"]["annotations"], json!({"keep": "me"}));
    }

    #[test]
    fn stale_round_trip_annotations_are_not_shown() {
        let mut v2 = v1_to_v2(v1_hpa());
        v2["metadata"]["annotations"] = json!({(METRIC_SPECS_ANNOTATION): "garbage"});
        let v1 = v2_to_v1(v2);
        assert_eq!(v1["metadata"]["annotations"], json!({}));
    }
}
