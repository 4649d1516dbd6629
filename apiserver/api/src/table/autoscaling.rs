//! The HorizontalPodAutoscaler printer (upstream's `printHorizontalPodAutoscaler` and
//! `formatHPAMetrics`), over the autoscaling/v2 form; a v1 object is converted first.

use serde_json::{json, Value};

use super::util::{age, arr, at, name, opt_int, quantity, s, Time};
use super::{col, name_col, Column, AGE};
use crate::conversion::hpa::v1_to_v2;

const SCALE_TARGET_REF: &str = "scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.";
const METRICS: &str = "metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).  The desired replica count is calculated multiplying the ratio between the target value and the current value by the current number of pods.  Ergo, metrics used must decrease as the pod count is increased, and vice-versa.  See the individual metric source types for more information about how each type of metric must respond. If not set, the default metric will be set to 80% average CPU utilization.";
const MIN_REPLICAS: &str = "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate HPAScaleToZero is enabled and at least one Object or External metric is configured.  Scaling is active as long as at least one metric value is available.";
const MAX_REPLICAS: &str = "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.";
const CURRENT_REPLICAS: &str = "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.";

pub const HPA_COLUMNS: &[Column] = &[
    name_col(),
    col("Reference", "string", SCALE_TARGET_REF),
    col("Targets", "string", METRICS),
    col("MinPods", "string", MIN_REPLICAS),
    col("MaxPods", "string", MAX_REPLICAS),
    col("Replicas", "string", CURRENT_REPLICAS),
    AGE,
];

/// Upstream prints at most two metrics, then `+ N more...`.
const SHOWN_METRICS: usize = 2;

fn present<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    at(v, path).filter(|v| !v.is_null())
}

/// One metric as `current/target`, the current figure from the status at the same index.
fn format_metric(spec: &Value, status: Option<&Value>) -> String {
    let unknown = || "<unknown>".to_string();
    match s(spec, &["type"]) {
        kind @ ("External" | "Object") => {
            let key = if kind == "External" {
                "external"
            } else {
                "object"
            };
            let src = &spec[key];
            let st = status.and_then(|st| present(st, &[key]));
            match present(src, &["target", "averageValue"]) {
                Some(avg) => {
                    let current = st
                        .and_then(|st| present(st, &["current", "averageValue"]))
                        .map_or_else(unknown, |c| quantity(Some(c)));
                    format!("{current}/{} (avg)", quantity(Some(avg)))
                }
                None => {
                    let current =
                        st.map_or_else(unknown, |st| quantity(present(st, &["current", "value"])));
                    format!("{current}/{}", quantity(present(src, &["target", "value"])))
                }
            }
        }
        "Pods" => {
            let current = status
                .and_then(|st| present(st, &["pods"]))
                .map_or_else(unknown, |st| {
                    quantity(present(st, &["current", "averageValue"]))
                });
            format!(
                "{current}/{}",
                quantity(present(&spec["pods"], &["target", "averageValue"]))
            )
        }
        kind @ ("Resource" | "ContainerResource") => {
            let key = if kind == "Resource" {
                "resource"
            } else {
                "containerResource"
            };
            let src = &spec[key];
            let st = status.and_then(|st| present(st, &[key]));
            let resource = s(src, &["name"]);
            match present(src, &["target", "averageValue"]) {
                Some(avg) => {
                    let current = st.map_or_else(unknown, |st| {
                        quantity(present(st, &["current", "averageValue"]))
                    });
                    format!("{resource}: {current}/{}", quantity(Some(avg)))
                }
                None => {
                    let current = st
                        .and_then(|st| opt_int(st, &["current", "averageUtilization"]))
                        .map_or_else(unknown, |u| format!("{u}%"));
                    let target = opt_int(src, &["target", "averageUtilization"])
                        .map_or_else(|| "<auto>".to_string(), |u| format!("{u}%"));
                    format!("{resource}: {current}/{target}")
                }
            }
        }
        _ => "<unknown type>".to_string(),
    }
}

fn format_metrics(specs: &[Value], statuses: &[Value]) -> String {
    if specs.is_empty() {
        return "<none>".to_string();
    }
    let list: Vec<String> = specs
        .iter()
        .enumerate()
        .map(|(i, m)| format_metric(m, statuses.get(i)))
        .collect();
    if list.len() > SHOWN_METRICS {
        format!(
            "{} + {} more...",
            list[..SHOWN_METRICS].join(", "),
            list.len() - SHOWN_METRICS
        )
    } else {
        list.join(", ")
    }
}

pub fn hpa_cells(v: &Value, now: Time) -> Vec<Value> {
    let converted;
    let v = if s(v, &["apiVersion"]) == "autoscaling/v1" {
        converted = v1_to_v2(v.clone());
        &converted
    } else {
        v
    };
    let reference = format!(
        "{}/{}",
        s(v, &["spec", "scaleTargetRef", "kind"]),
        s(v, &["spec", "scaleTargetRef", "name"])
    );
    let min = opt_int(v, &["spec", "minReplicas"])
        .map_or_else(|| "<unset>".to_string(), |m| m.to_string());
    vec![
        json!(name(v)),
        json!(reference),
        json!(format_metrics(
            arr(v, &["spec", "metrics"]),
            arr(v, &["status", "currentMetrics"])
        )),
        json!(min),
        json!(opt_int(v, &["spec", "maxReplicas"]).unwrap_or(0)),
        json!(opt_int(v, &["status", "currentReplicas"]).unwrap_or(0)),
        json!(age(v, now)),
    ]
}
