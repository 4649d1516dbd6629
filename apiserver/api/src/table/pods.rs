//! The pod printer (upstream's `printPod`): READY, STATUS, RESTARTS and the wide columns.

use serde_json::{json, Value};

use super::docs::*;
use super::util::{arr, at, boolean, int, name, present, s, since, time_at, Time};
use super::{col, name_col, wide, Column, AGE};

pub const COLUMNS: &[Column] = &[
    name_col(),
    col(
        "Ready",
        "string",
        "The aggregate readiness state of this pod for accepting traffic.",
    ),
    col(
        "Status",
        "string",
        "The aggregate status of the containers in this pod.",
    ),
    col(
        "Restarts",
        "string",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    AGE,
    wide("IP", "string", POD_IP),
    wide("Node", "string", POD_NODE_NAME),
    wide("Nominated Node", "string", POD_NOMINATED),
    wide("Readiness Gates", "string", POD_READINESS_GATES),
];

fn is_restartable_init(c: Option<&Value>) -> bool {
    c.is_some_and(|c| s(c, &["restartPolicy"]) == "Always")
}

fn has_condition(pod: &Value, typ: &str) -> bool {
    arr(pod, &["status", "conditions"])
        .iter()
        .any(|c| s(c, &["type"]) == typ && s(c, &["status"]) == "True")
}

/// `lastState.terminated.finishedAt`, Go's zero time when absent.
fn finished_at(status: &Value) -> Option<Time> {
    if present(status, &["lastState", "terminated"]) {
        time_at(status, &["lastState", "terminated", "finishedAt"])
    } else {
        None
    }
}

/// `later` when it is after `current` (Go's `Before` with zero times as the earliest).
fn latest(current: Option<Time>, candidate: Option<Time>) -> Option<Time> {
    match (current, candidate) {
        (None, c) => c,
        (Some(a), Some(b)) if a < b => Some(b),
        (a, _) => a,
    }
}

fn terminated_reason(state: &Value, prefix: &str) -> String {
    let reason = s(state, &["terminated", "reason"]);
    if !reason.is_empty() {
        return format!("{prefix}{reason}");
    }
    let signal = int(state, &["terminated", "signal"]);
    if signal != 0 {
        format!("{prefix}Signal:{signal}")
    } else {
        format!(
            "{prefix}ExitCode:{}",
            int(state, &["terminated", "exitCode"])
        )
    }
}

/// The STATUS, READY and RESTARTS values.
pub struct PodSummary {
    pub ready: String,
    pub reason: String,
    pub restarts: String,
}

pub fn summarize(pod: &Value, now: Time) -> PodSummary {
    let init_specs = arr(pod, &["spec", "initContainers"]);
    let init_count = init_specs.len();
    let mut total = arr(pod, &["spec", "containers"]).len();
    let mut ready = 0usize;
    let mut restarts: i64 = 0;
    let mut sidecar_restarts: i64 = 0;
    let mut last_restart: Option<Time> = None;
    let mut last_sidecar_restart: Option<Time> = None;

    let phase = s(pod, &["status", "phase"]);
    let mut reason = phase.to_string();
    let status_reason = s(pod, &["status", "reason"]);
    if !status_reason.is_empty() {
        reason = status_reason.to_string();
    }
    for c in arr(pod, &["status", "conditions"]) {
        if s(c, &["type"]) == "PodScheduled" && s(c, &["reason"]) == "SchedulingGated" {
            reason = "SchedulingGated".to_string();
        }
    }
    let init_spec = |n: &str| init_specs.iter().find(|c| s(c, &["name"]) == n);
    total += init_specs
        .iter()
        .filter(|c| is_restartable_init(Some(c)))
        .count();

    let mut initializing = false;
    for (i, cs) in arr(pod, &["status", "initContainerStatuses"])
        .iter()
        .enumerate()
    {
        let restartable = is_restartable_init(init_spec(s(cs, &["name"])));
        restarts += int(cs, &["restartCount"]);
        last_restart = latest(last_restart, finished_at(cs));
        if restartable {
            sidecar_restarts += int(cs, &["restartCount"]);
            last_sidecar_restart = latest(last_sidecar_restart, finished_at(cs));
        }
        let state = at(cs, &["state"]).unwrap_or(&Value::Null);
        let terminated = present(state, &["terminated"]);
        let waiting_reason = if present(state, &["waiting"]) {
            s(state, &["waiting", "reason"])
        } else {
            ""
        };
        if terminated && int(state, &["terminated", "exitCode"]) == 0 {
            continue;
        } else if restartable && boolean(cs, &["started"]) {
            if boolean(cs, &["ready"]) {
                ready += 1;
            }
            continue;
        } else if terminated {
            reason = terminated_reason(state, "Init:");
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            reason = format!("Init:{waiting_reason}");
        } else {
            reason = format!("Init:{i}/{init_count}");
        }
        initializing = true;
        break;
    }

    if !initializing || has_condition(pod, "Initialized") {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        for cs in arr(pod, &["status", "containerStatuses"]).iter().rev() {
            restarts += int(cs, &["restartCount"]);
            last_restart = latest(last_restart, finished_at(cs));
            let state = at(cs, &["state"]).unwrap_or(&Value::Null);
            let waiting = present(state, &["waiting"]);
            let terminated = present(state, &["terminated"]);
            if waiting && !s(state, &["waiting", "reason"]).is_empty() {
                reason = s(state, &["waiting", "reason"]).to_string();
            } else if terminated {
                reason = terminated_reason(state, "");
            } else if boolean(cs, &["ready"]) && present(state, &["running"]) {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if has_condition(pod, "Ready") {
                "Running".to_string()
            } else {
                "NotReady".to_string()
            };
        }
    }

    let deleting = present(pod, &["metadata", "deletionTimestamp"]);
    if deleting && status_reason == "NodeLost" {
        reason = "Unknown".to_string();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".to_string();
    }

    let restarts_str = match last_restart {
        Some(t) if restarts != 0 => format!("{restarts} ({} ago)", since(Some(t), now)),
        _ => restarts.to_string(),
    };
    PodSummary {
        ready: format!("{ready}/{total}"),
        reason,
        restarts: restarts_str,
    }
}

fn or_none(v: &str) -> String {
    if v.is_empty() {
        "<none>".to_string()
    } else {
        v.to_string()
    }
}

pub fn cells(pod: &Value, now: Time) -> Vec<Value> {
    let sum = summarize(pod, now);
    // The older `podIP` wins over `podIPs[0]` (upstream's v1 → internal conversion).
    let mut ip = s(pod, &["status", "podIP"]);
    if ip.is_empty() {
        ip = arr(pod, &["status", "podIPs"])
            .first()
            .map_or("", |p| s(p, &["ip"]));
    }
    let gates = arr(pod, &["spec", "readinessGates"]);
    let readiness = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let conditions = arr(pod, &["status", "conditions"]);
        let ok = gates
            .iter()
            .filter(|g| {
                let t = s(g, &["conditionType"]);
                conditions
                    .iter()
                    .find(|c| s(c, &["type"]) == t)
                    .is_some_and(|c| s(c, &["status"]) == "True")
            })
            .count();
        format!("{ok}/{}", gates.len())
    };
    vec![
        json!(name(pod)),
        json!(sum.ready),
        json!(sum.reason),
        json!(sum.restarts),
        json!(super::util::age(pod, now)),
        json!(or_none(ip)),
        json!(or_none(s(pod, &["spec", "nodeName"]))),
        json!(or_none(s(pod, &["status", "nominatedNodeName"]))),
        json!(readiness),
    ]
}

/// The row conditions upstream adds for finished pods.
pub fn conditions(pod: &Value) -> Option<Value> {
    match s(pod, &["status", "phase"]) {
        "Succeeded" => Some(json!([{
            "type": "Completed", "status": "True", "reason": "Succeeded",
            "message": "The pod has completed successfully."
        }])),
        "Failed" => Some(json!([{
            "type": "Completed", "status": "True", "reason": "Failed",
            "message": "The pod failed."
        }])),
        _ => None,
    }
}
