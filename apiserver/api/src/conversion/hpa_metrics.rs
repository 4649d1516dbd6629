//! The metric shapes of HorizontalPodAutoscalers: autoscaling/v2's `metric` + `target` /
//! `current` objects against autoscaling/v1's flat (v2beta1-style) fields, which v1 only
//! carries inside its round-trip annotations.

use serde_json::{json, Map, Value};

/// An object of the present (non-null) fields, in the order given.
fn fields(pairs: &[(&str, Option<&Value>)]) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        if let Some(v) = v.filter(|v| !v.is_null()) {
            m.insert((*k).to_string(), v.clone());
        }
    }
    Value::Object(m)
}

fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    Some(cur).filter(|v| !v.is_null())
}

/// Go marshals a non-pointer `resource.Quantity` even when zero.
fn quantity_or_zero(v: Option<&Value>) -> Value {
    v.cloned().unwrap_or_else(|| json!("0"))
}

fn typed(kind: &str, key: &str, body: Value) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), json!(kind));
    m.insert(key.into(), body);
    Value::Object(m)
}

/// An autoscaling/v2 MetricSpec in autoscaling/v1's annotation form.
pub fn spec_to_v1(m: &Value) -> Value {
    let kind = m.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "Resource" | "ContainerResource" => {
            let key = if kind == "Resource" {
                "resource"
            } else {
                "containerResource"
            };
            let Some(src) = m.get(key) else {
                return json!({"type": kind});
            };
            let body = fields(&[
                ("name", src.get("name")),
                (
                    "targetAverageUtilization",
                    get(src, &["target", "averageUtilization"]),
                ),
                ("targetAverageValue", get(src, &["target", "averageValue"])),
                ("container", src.get("container")),
            ]);
            typed(kind, key, body)
        }
        "Pods" => {
            let Some(src) = m.get("pods") else {
                return json!({"type": kind});
            };
            let body = fields(&[
                ("metricName", get(src, &["metric", "name"])),
                (
                    "targetAverageValue",
                    Some(&quantity_or_zero(get(src, &["target", "averageValue"]))),
                ),
                ("selector", get(src, &["metric", "selector"])),
            ]);
            typed(kind, "pods", body)
        }
        "Object" => {
            let Some(src) = m.get("object") else {
                return json!({"type": kind});
            };
            let body = fields(&[
                ("target", src.get("describedObject")),
                ("metricName", get(src, &["metric", "name"])),
                (
                    "targetValue",
                    Some(&quantity_or_zero(get(src, &["target", "value"]))),
                ),
                ("selector", get(src, &["metric", "selector"])),
                ("averageValue", get(src, &["target", "averageValue"])),
            ]);
            typed(kind, "object", body)
        }
        "External" => {
            let Some(src) = m.get("external") else {
                return json!({"type": kind});
            };
            let body = fields(&[
                ("metricName", get(src, &["metric", "name"])),
                ("metricSelector", get(src, &["metric", "selector"])),
                ("targetValue", get(src, &["target", "value"])),
                ("targetAverageValue", get(src, &["target", "averageValue"])),
            ]);
            typed(kind, "external", body)
        }
        _ => m.clone(),
    }
}

fn metric_identifier(name: Option<&Value>, selector: Option<&Value>) -> Value {
    fields(&[("name", name), ("selector", selector)])
}

fn target(
    kind: &str,
    value: Option<&Value>,
    average: Option<&Value>,
    util: Option<&Value>,
) -> Value {
    let t = json!(kind);
    fields(&[
        ("type", Some(&t)),
        ("value", value),
        ("averageValue", average),
        ("averageUtilization", util),
    ])
}

/// An autoscaling/v1 annotation MetricSpec in autoscaling/v2's form; the target type is
/// inferred from which values are set, as upstream's conversion does.
pub fn spec_to_v2(m: &Value) -> Value {
    let kind = m.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "Resource" | "ContainerResource" => {
            let key = if kind == "Resource" {
                "resource"
            } else {
                "containerResource"
            };
            let Some(src) = m.get(key) else {
                return json!({"type": kind});
            };
            let util = get(src, &["targetAverageUtilization"]);
            let t = if util.is_some() {
                "Utilization"
            } else {
                "AverageValue"
            };
            let target = target(t, None, get(src, &["targetAverageValue"]), util);
            let body = fields(&[
                ("name", src.get("name")),
                ("container", src.get("container")),
                ("target", Some(&target)),
            ]);
            typed(kind, key, body)
        }
        "Pods" => {
            let Some(src) = m.get("pods") else {
                return json!({"type": kind});
            };
            let metric = metric_identifier(src.get("metricName"), get(src, &["selector"]));
            let target = target(
                "AverageValue",
                None,
                get(src, &["targetAverageValue"]),
                None,
            );
            typed(kind, "pods", json!({"metric": metric, "target": target}))
        }
        "Object" => {
            let Some(src) = m.get("object") else {
                return json!({"type": kind});
            };
            let average = get(src, &["averageValue"]);
            let t = if average.is_none() {
                "Value"
            } else {
                "AverageValue"
            };
            let metric = metric_identifier(src.get("metricName"), get(src, &["selector"]));
            let target = target(t, get(src, &["targetValue"]), average, None);
            let described = src.get("target").cloned().unwrap_or_else(|| json!({}));
            typed(
                kind,
                "object",
                json!({"describedObject": described, "metric": metric, "target": target}),
            )
        }
        "External" => {
            let Some(src) = m.get("external") else {
                return json!({"type": kind});
            };
            let value = get(src, &["targetValue"]);
            let t = if value.is_none() {
                "AverageValue"
            } else {
                "Value"
            };
            let metric = metric_identifier(src.get("metricName"), get(src, &["metricSelector"]));
            let target = target(t, value, get(src, &["targetAverageValue"]), None);
            typed(
                kind,
                "external",
                json!({"metric": metric, "target": target}),
            )
        }
        _ => m.clone(),
    }
}

/// An autoscaling/v2 MetricStatus in autoscaling/v1's annotation form.
pub fn status_to_v1(m: &Value) -> Value {
    let kind = m.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "Resource" | "ContainerResource" => {
            let key = if kind == "Resource" {
                "resource"
            } else {
                "containerResource"
            };
            let Some(src) = m.get(key) else {
                return json!({"type": kind});
            };
            let body = fields(&[
                ("name", src.get("name")),
                (
                    "currentAverageUtilization",
                    get(src, &["current", "averageUtilization"]),
                ),
                (
                    "currentAverageValue",
                    Some(&quantity_or_zero(get(src, &["current", "averageValue"]))),
                ),
                ("container", src.get("container")),
            ]);
            typed(kind, key, body)
        }
        "Pods" => {
            let Some(src) = m.get("pods") else {
                return json!({"type": kind});
            };
            let body = fields(&[
                ("metricName", get(src, &["metric", "name"])),
                (
                    "currentAverageValue",
                    Some(&quantity_or_zero(get(src, &["current", "averageValue"]))),
                ),
                ("selector", get(src, &["metric", "selector"])),
            ]);
            typed(kind, "pods", body)
        }
        "Object" => {
            let Some(src) = m.get("object") else {
                return json!({"type": kind});
            };
            let body = fields(&[
                ("target", src.get("describedObject")),
                ("metricName", get(src, &["metric", "name"])),
                (
                    "currentValue",
                    Some(&quantity_or_zero(get(src, &["current", "value"]))),
                ),
                ("selector", get(src, &["metric", "selector"])),
                ("averageValue", get(src, &["current", "averageValue"])),
            ]);
            typed(kind, "object", body)
        }
        "External" => {
            let Some(src) = m.get("external") else {
                return json!({"type": kind});
            };
            let body = fields(&[
                ("metricName", get(src, &["metric", "name"])),
                ("metricSelector", get(src, &["metric", "selector"])),
                (
                    "currentValue",
                    Some(&quantity_or_zero(get(src, &["current", "value"]))),
                ),
                (
                    "currentAverageValue",
                    get(src, &["current", "averageValue"]),
                ),
            ]);
            typed(kind, "external", body)
        }
        _ => m.clone(),
    }
}

fn current(value: Option<&Value>, average: Option<&Value>, util: Option<&Value>) -> Value {
    fields(&[
        ("value", value),
        ("averageValue", average),
        ("averageUtilization", util),
    ])
}

/// An autoscaling/v1 annotation MetricStatus in autoscaling/v2's form.
pub fn status_to_v2(m: &Value) -> Value {
    let kind = m.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "Resource" | "ContainerResource" => {
            let key = if kind == "Resource" {
                "resource"
            } else {
                "containerResource"
            };
            let Some(src) = m.get(key) else {
                return json!({"type": kind});
            };
            let cur = current(
                None,
                get(src, &["currentAverageValue"]),
                get(src, &["currentAverageUtilization"]),
            );
            let body = fields(&[
                ("name", src.get("name")),
                ("container", src.get("container")),
                ("current", Some(&cur)),
            ]);
            typed(kind, key, body)
        }
        "Pods" => {
            let Some(src) = m.get("pods") else {
                return json!({"type": kind});
            };
            let metric = metric_identifier(src.get("metricName"), get(src, &["selector"]));
            let cur = current(None, get(src, &["currentAverageValue"]), None);
            typed(kind, "pods", json!({"metric": metric, "current": cur}))
        }
        "Object" => {
            let Some(src) = m.get("object") else {
                return json!({"type": kind});
            };
            let metric = metric_identifier(src.get("metricName"), get(src, &["selector"]));
            let cur = current(
                get(src, &["currentValue"]),
                get(src, &["averageValue"]),
                None,
            );
            let described = src.get("target").cloned().unwrap_or_else(|| json!({}));
            typed(
                kind,
                "object",
                json!({"metric": metric, "current": cur, "describedObject": described}),
            )
        }
        "External" => {
            let Some(src) = m.get("external") else {
                return json!({"type": kind});
            };
            let metric = metric_identifier(src.get("metricName"), get(src, &["metricSelector"]));
            let cur = current(
                get(src, &["currentValue"]),
                get(src, &["currentAverageValue"]),
                None,
            );
            typed(kind, "external", json!({"metric": metric, "current": cur}))
        }
        _ => m.clone(),
    }
}
