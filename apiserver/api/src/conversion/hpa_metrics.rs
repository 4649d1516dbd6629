//! The metric shapes of HorizontalPodAutoscalers: autoscaling/v2's `metric` + `target` /
//! `current` objects against autoscaling/v1's flat (v2beta1-style) fields, which v1 only
//! carries inside its round-trip annotations.
//!
//! Each metric source kind is a table saying where each of its v1 fields lives in v2;
//! both directions read the same table.

use serde_json::{json, Map, Value};

use At::{Measure, Metric, Own};

/// Where a v1 field of a metric source lives in the v2 source.
#[derive(Clone, Copy)]
enum At {
    /// A field of the source itself (`name`, `container`, `describedObject`).
    Own(&'static str),
    /// A field of the metric identifier (`metric.name`, `metric.selector`).
    Metric(&'static str),
    /// A field of the target (spec) or of the current value (status).
    Measure(&'static str),
}

/// One v1 field of a metric source.
struct Field {
    v1: &'static str,
    at: At,
    /// A non-pointer `resource.Quantity` in Go's v1 type: marshalled even when zero.
    quantity: bool,
}

const fn field(v1: &'static str, at: At) -> Field {
    Field {
        v1,
        at,
        quantity: false,
    }
}

const fn quantity(v1: &'static str, at: At) -> Field {
    Field {
        v1,
        at,
        quantity: true,
    }
}

/// The spec or the status form of one source kind.
struct Shape {
    /// The v2 object holding the values: `target` (spec) or `current` (status).
    values: &'static str,
    /// The v1 fields, in v1's order.
    fields: &'static [Field],
    /// The v2 source's keys in the order they are written. `metric`, the values object
    /// and `describedObject` (a struct, not a pointer, in Go) are always written; the
    /// source's other fields when set.
    v2_keys: &'static [&'static str],
}

/// A v1 spec names no target type; upstream's conversion infers it from the values set.
struct TargetType {
    /// This type when this value is set ...
    when_set: Option<(&'static str, &'static str)>,
    /// ... else this one.
    otherwise: &'static str,
}

struct Source {
    kind: &'static str,
    /// The key of the kind's object in a metric (`resource`, `pods`, ...).
    key: &'static str,
    spec: Shape,
    status: Shape,
    target_type: TargetType,
}

const RESOURCE_SPEC: Shape = Shape {
    values: "target",
    fields: &[
        field("name", Own("name")),
        field("targetAverageUtilization", Measure("averageUtilization")),
        field("targetAverageValue", Measure("averageValue")),
        field("container", Own("container")),
    ],
    v2_keys: &["name", "container", "target"],
};

const RESOURCE_STATUS: Shape = Shape {
    values: "current",
    fields: &[
        field("name", Own("name")),
        field("currentAverageUtilization", Measure("averageUtilization")),
        quantity("currentAverageValue", Measure("averageValue")),
        field("container", Own("container")),
    ],
    v2_keys: &["name", "container", "current"],
};

const RESOURCE_TARGET: TargetType = TargetType {
    when_set: Some(("averageUtilization", "Utilization")),
    otherwise: "AverageValue",
};

/// The source kinds; `Resource` and `ContainerResource` share their fields.
const SOURCES: &[Source] = &[
    Source {
        kind: "Resource",
        key: "resource",
        spec: RESOURCE_SPEC,
        status: RESOURCE_STATUS,
        target_type: RESOURCE_TARGET,
    },
    Source {
        kind: "ContainerResource",
        key: "containerResource",
        spec: RESOURCE_SPEC,
        status: RESOURCE_STATUS,
        target_type: RESOURCE_TARGET,
    },
    Source {
        kind: "Pods",
        key: "pods",
        spec: Shape {
            values: "target",
            fields: &[
                field("metricName", Metric("name")),
                quantity("targetAverageValue", Measure("averageValue")),
                field("selector", Metric("selector")),
            ],
            v2_keys: &["metric", "target"],
        },
        status: Shape {
            values: "current",
            fields: &[
                field("metricName", Metric("name")),
                quantity("currentAverageValue", Measure("averageValue")),
                field("selector", Metric("selector")),
            ],
            v2_keys: &["metric", "current"],
        },
        target_type: TargetType {
            when_set: None,
            otherwise: "AverageValue",
        },
    },
    Source {
        kind: "Object",
        key: "object",
        spec: Shape {
            values: "target",
            fields: &[
                field("target", Own("describedObject")),
                field("metricName", Metric("name")),
                quantity("targetValue", Measure("value")),
                field("selector", Metric("selector")),
                field("averageValue", Measure("averageValue")),
            ],
            v2_keys: &["describedObject", "metric", "target"],
        },
        status: Shape {
            values: "current",
            fields: &[
                field("target", Own("describedObject")),
                field("metricName", Metric("name")),
                quantity("currentValue", Measure("value")),
                field("selector", Metric("selector")),
                field("averageValue", Measure("averageValue")),
            ],
            v2_keys: &["metric", "current", "describedObject"],
        },
        target_type: TargetType {
            when_set: Some(("averageValue", "AverageValue")),
            otherwise: "Value",
        },
    },
    Source {
        kind: "External",
        key: "external",
        spec: Shape {
            values: "target",
            fields: &[
                field("metricName", Metric("name")),
                field("metricSelector", Metric("selector")),
                field("targetValue", Measure("value")),
                field("targetAverageValue", Measure("averageValue")),
            ],
            v2_keys: &["metric", "target"],
        },
        status: Shape {
            values: "current",
            fields: &[
                field("metricName", Metric("name")),
                field("metricSelector", Metric("selector")),
                quantity("currentValue", Measure("value")),
                field("currentAverageValue", Measure("averageValue")),
            ],
            v2_keys: &["metric", "current"],
        },
        target_type: TargetType {
            when_set: Some(("value", "Value")),
            otherwise: "AverageValue",
        },
    },
];

/// The v2 MetricTarget / MetricValueStatus fields and the identifier's, in Go's order.
const VALUE_FIELDS: &[&str] = &["value", "averageValue", "averageUtilization"];
const METRIC_FIELDS: &[&str] = &["name", "selector"];

fn present(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

/// The present fields of `from`, in the order given.
fn ordered(from: &Map<String, Value>, keys: &[&str]) -> Map<String, Value> {
    let mut out = Map::new();
    for k in keys {
        if let Some(v) = present(from.get(*k)) {
            out.insert((*k).to_string(), v.clone());
        }
    }
    out
}

/// Convert one metric (spec or status) with `body`, which gets the kind's object; a
/// kind not known here is kept as it is.
fn convert(m: &Value, body: impl Fn(&Value, &Source) -> Value) -> Value {
    let kind = m.get("type").and_then(Value::as_str).unwrap_or("");
    let Some(source) = SOURCES.iter().find(|s| s.kind == kind) else {
        return m.clone();
    };
    let Some(src) = m.get(source.key) else {
        return json!({"type": kind});
    };
    let mut out = Map::new();
    out.insert("type".into(), json!(kind));
    out.insert(source.key.into(), body(src, source));
    Value::Object(out)
}

/// A v2 source in v1's flat form.
fn to_v1(src: &Value, shape: &Shape) -> Value {
    let mut out = Map::new();
    for f in shape.fields {
        let v = match f.at {
            Own(k) => src.get(k),
            Metric(k) => src.get("metric").and_then(|m| m.get(k)),
            Measure(k) => src.get(shape.values).and_then(|m| m.get(k)),
        };
        let v = match present(v) {
            Some(v) => Some(v.clone()),
            None => f.quantity.then(|| json!("0")),
        };
        if let Some(v) = v {
            out.insert(f.v1.to_string(), v);
        }
    }
    Value::Object(out)
}

/// A v1 flat source in v2's form; `target_type` for a spec.
fn to_v2(src: &Value, shape: &Shape, target_type: Option<&TargetType>) -> Value {
    let (mut own, mut metric, mut values) = (Map::new(), Map::new(), Map::new());
    for f in shape.fields {
        let Some(v) = src.get(f.v1) else {
            continue;
        };
        let (into, k) = match f.at {
            Own(k) => (&mut own, k),
            Metric(k) => (&mut metric, k),
            Measure(k) => (&mut values, k),
        };
        into.insert(k.to_string(), v.clone());
    }
    let mut value_object = Map::new();
    if let Some(t) = target_type {
        let set = t
            .when_set
            .filter(|(k, _)| present(values.get(*k)).is_some());
        value_object.insert("type".into(), json!(set.map_or(t.otherwise, |(_, t)| t)));
    }
    value_object.extend(ordered(&values, VALUE_FIELDS));
    let mut out = Map::new();
    for &key in shape.v2_keys {
        let v = match key {
            "metric" => Some(Value::Object(ordered(&metric, METRIC_FIELDS))),
            "describedObject" => Some(own.get(key).cloned().unwrap_or_else(|| json!({}))),
            k if k == shape.values => Some(Value::Object(std::mem::take(&mut value_object))),
            k => present(own.get(k)).cloned(),
        };
        if let Some(v) = v {
            out.insert(key.to_string(), v);
        }
    }
    Value::Object(out)
}

/// An autoscaling/v2 MetricSpec in autoscaling/v1's annotation form.
pub fn spec_to_v1(m: &Value) -> Value {
    convert(m, |src, s| to_v1(src, &s.spec))
}

/// An autoscaling/v1 annotation MetricSpec in autoscaling/v2's form; the target type is
/// inferred from which values are set, as upstream's conversion does.
pub fn spec_to_v2(m: &Value) -> Value {
    convert(m, |src, s| to_v2(src, &s.spec, Some(&s.target_type)))
}

/// An autoscaling/v2 MetricStatus in autoscaling/v1's annotation form.
pub fn status_to_v1(m: &Value) -> Value {
    convert(m, |src, s| to_v1(src, &s.status))
}

/// An autoscaling/v1 annotation MetricStatus in autoscaling/v2's form.
pub fn status_to_v2(m: &Value) -> Value {
    convert(m, |src, s| to_v2(src, &s.status, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> Value {
        json!({"apiVersion": "v1", "kind": "Service", "name": "s"})
    }

    /// Each source kind as a v2 MetricSpec and in v1's annotation form.
    fn specs() -> Vec<(Value, Value)> {
        vec![
            (
                json!({"type": "Resource", "resource": {"name": "memory",
                    "target": {"type": "AverageValue", "averageValue": "100Mi"}}}),
                json!({"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "100Mi"}}),
            ),
            (
                json!({"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app",
                    "target": {"type": "Utilization", "averageUtilization": 60}}}),
                json!({"type": "ContainerResource", "containerResource": {"name": "cpu",
                    "targetAverageUtilization": 60, "container": "app"}}),
            ),
            (
                json!({"type": "Pods", "pods": {"metric": {"name": "qps", "selector": {"matchLabels": {"a": "b"}}},
                    "target": {"type": "AverageValue", "averageValue": "10"}}}),
                json!({"type": "Pods", "pods": {"metricName": "qps", "targetAverageValue": "10",
                    "selector": {"matchLabels": {"a": "b"}}}}),
            ),
            (
                json!({"type": "Object", "object": {"describedObject": service(), "metric": {"name": "rps"},
                    "target": {"type": "AverageValue", "value": "7", "averageValue": "2"}}}),
                json!({"type": "Object", "object": {"target": service(), "metricName": "rps",
                    "targetValue": "7", "averageValue": "2"}}),
            ),
            (
                json!({"type": "External", "external": {"metric": {"name": "queue", "selector": {"matchLabels": {"q": "jobs"}}},
                    "target": {"type": "Value", "value": "3"}}}),
                json!({"type": "External", "external": {"metricName": "queue",
                    "metricSelector": {"matchLabels": {"q": "jobs"}}, "targetValue": "3"}}),
            ),
        ]
    }

    /// Each source kind as a v2 MetricStatus and in v1's annotation form.
    fn statuses() -> Vec<(Value, Value)> {
        vec![
            (
                json!({"type": "Resource", "resource": {"name": "cpu",
                    "current": {"averageValue": "120m", "averageUtilization": 40}}}),
                json!({"type": "Resource", "resource": {"name": "cpu",
                    "currentAverageUtilization": 40, "currentAverageValue": "120m"}}),
            ),
            (
                json!({"type": "ContainerResource", "containerResource": {"name": "memory", "container": "app",
                    "current": {"averageValue": "64Mi"}}}),
                json!({"type": "ContainerResource", "containerResource": {"name": "memory",
                    "currentAverageValue": "64Mi", "container": "app"}}),
            ),
            (
                json!({"type": "Pods", "pods": {"metric": {"name": "qps"}, "current": {"averageValue": "9"}}}),
                json!({"type": "Pods", "pods": {"metricName": "qps", "currentAverageValue": "9"}}),
            ),
            (
                json!({"type": "Object", "object": {"metric": {"name": "rps"}, "current": {"value": "5"},
                    "describedObject": service()}}),
                json!({"type": "Object", "object": {"target": service(), "metricName": "rps", "currentValue": "5"}}),
            ),
            (
                json!({"type": "External", "external": {"metric": {"name": "queue"},
                    "current": {"value": "3", "averageValue": "1"}}}),
                json!({"type": "External", "external": {"metricName": "queue",
                    "currentValue": "3", "currentAverageValue": "1"}}),
            ),
        ]
    }

    /// Compared as text: the v1 form is written into an annotation, in Go's field order.
    fn same(got: Value, want: &Value) {
        assert_eq!(got.to_string(), want.to_string());
    }

    #[test]
    fn every_source_kind_of_a_spec_round_trips() {
        for (v2, v1) in specs() {
            same(spec_to_v1(&v2), &v1);
            same(spec_to_v2(&v1), &v2);
        }
    }

    #[test]
    fn every_source_kind_of_a_status_round_trips() {
        for (v2, v1) in statuses() {
            same(status_to_v1(&v2), &v1);
            same(status_to_v2(&v1), &v2);
        }
    }

    #[test]
    fn the_target_type_follows_the_values_a_v1_spec_sets() {
        let target = |m: Value| {
            let v2 = spec_to_v2(&m);
            let kind = m["type"].as_str().unwrap().to_string();
            let key = SOURCES.iter().find(|s| s.kind == kind).unwrap().key;
            v2[key]["target"]["type"].as_str().unwrap().to_string()
        };
        let cases = [
            (
                json!({"type": "Resource", "resource": {"name": "cpu"}}),
                "AverageValue",
            ),
            (
                json!({"type": "Object", "object": {"targetValue": "1"}}),
                "Value",
            ),
            (
                json!({"type": "External", "external": {"targetAverageValue": "1"}}),
                "AverageValue",
            ),
            (
                json!({"type": "External", "external": {"targetValue": "1", "targetAverageValue": "2"}}),
                "Value",
            ),
        ];
        for (m, want) in cases {
            assert_eq!(target(m.clone()), want, "{m}");
        }
    }

    #[test]
    fn go_zero_values_and_unknown_kinds() {
        // Non-pointer quantities are written as "0"; a missing described object is {}.
        same(
            spec_to_v1(&json!({"type": "Pods", "pods": {"metric": {"name": "qps"}}})),
            &json!({"type": "Pods", "pods": {"metricName": "qps", "targetAverageValue": "0"}}),
        );
        same(
            status_to_v1(&json!({"type": "External", "external": {"current": {}}})),
            &json!({"type": "External", "external": {"currentValue": "0"}}),
        );
        same(
            spec_to_v2(&json!({"type": "Object", "object": {"metricName": "rps"}})),
            &json!({"type": "Object", "object": {"describedObject": {}, "metric": {"name": "rps"},
                "target": {"type": "Value"}}}),
        );
        same(
            spec_to_v1(&json!({"type": "Pods"})),
            &json!({"type": "Pods"}),
        );
        let unknown = json!({"type": "Future", "future": {"x": 1}});
        same(spec_to_v2(&unknown), &unknown);
    }
}
