//! autoscaling/v2 HorizontalPodAutoscaler defaults (upstream's
//! `pkg/apis/autoscaling/v2/defaults.go`): one replica at least, CPU at 80 % when no
//! metric is named, and a given `behavior` filled out with the default scaling rules.

use serde_json::{json, Map, Value};

use super::{obj_mut, set_default};
use crate::conversion::hpa::{
    default_cpu_metric, drop_round_trip_annotations, DEFAULT_CPU_UTILIZATION,
};

/// Scale-up: no stabilization window; the larger of 4 pods or 100 % every 15 s.
fn scale_up_rules() -> Map<String, Value> {
    let v = json!({
        "stabilizationWindowSeconds": 0,
        "selectPolicy": "Max",
        "policies": [
            {"type": "Pods", "value": 4, "periodSeconds": 15},
            {"type": "Percent", "value": 100, "periodSeconds": 15},
        ],
    });
    v.as_object().cloned().unwrap_or_default()
}

/// Scale-down: 100 % every 15 s; the window stays unset (the controller's flag decides).
fn scale_down_rules() -> Map<String, Value> {
    let v = json!({
        "selectPolicy": "Max",
        "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
    });
    v.as_object().cloned().unwrap_or_default()
}

/// The given rules over the defaults, field by field (upstream's copyHPAScalingRules).
fn fill_rules(given: Option<&Value>, mut defaults: Map<String, Value>) -> Value {
    if let Some(given) = given.and_then(Value::as_object) {
        for key in [
            "stabilizationWindowSeconds",
            "selectPolicy",
            "policies",
            "tolerance",
        ] {
            if let Some(v) = given.get(key).filter(|v| !v.is_null()) {
                defaults.insert(key.into(), v.clone());
            }
        }
    }
    // Go struct order: stabilizationWindowSeconds, selectPolicy, policies, tolerance.
    let mut out = Map::new();
    for key in [
        "stabilizationWindowSeconds",
        "selectPolicy",
        "policies",
        "tolerance",
    ] {
        if let Some(v) = defaults.remove(key) {
            out.insert(key.into(), v);
        }
    }
    Value::Object(out)
}

pub fn horizontal_pod_autoscaler(obj: &mut Value) {
    // Only autoscaling/v1 shows these; a v2 write never stores them.
    drop_round_trip_annotations(obj);
    let Some(spec) = obj_mut(obj, "spec") else {
        return;
    };
    set_default(spec, "minReplicas", json!(1));
    let no_metrics = spec
        .get("metrics")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    if no_metrics {
        spec.insert(
            "metrics".into(),
            json!([default_cpu_metric(&json!(DEFAULT_CPU_UTILIZATION))]),
        );
    }
    if let Some(behavior) = spec.get_mut("behavior").and_then(Value::as_object_mut) {
        let up = fill_rules(behavior.get("scaleUp"), scale_up_rules());
        let down = fill_rules(behavior.get("scaleDown"), scale_down_rules());
        behavior.insert("scaleUp".into(), up);
        behavior.insert("scaleDown".into(), down);
    }
}
