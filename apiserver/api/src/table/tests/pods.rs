//! The pod printer: STATUS, READY, RESTARTS and the wide columns.

use serde_json::{json, Value};

use super::{ago, cells, res};
use crate::table::*;

pub(super) fn pod(status: Value) -> Value {
    json!({
        "metadata": {"name": "p", "creationTimestamp": ago(60)},
        "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
        "status": status,
    })
}

fn pod_status(p: &Value) -> (String, String, String) {
    let c = cells("", "pods", p);
    (
        c[1].as_str().unwrap().to_string(),
        c[2].as_str().unwrap().to_string(),
        c[3].as_str().unwrap().to_string(),
    )
}

#[test]
fn pod_status_column() {
    let running = json!({"running": {}});
    // Pending, nothing reported yet.
    assert_eq!(
        pod_status(&pod(json!({"phase": "Pending"}))),
        ("0/2".into(), "Pending".into(), "0".into())
    );
    // ContainerCreating.
    let p = pod(json!({"phase": "Pending", "containerStatuses": [
        {"name": "a", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}},
        {"name": "b", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}
    ]}));
    assert_eq!(pod_status(&p).1, "ContainerCreating");
    // Running, one ready.
    let p = pod(json!({"phase": "Running", "containerStatuses": [
        {"name": "a", "ready": true, "restartCount": 0, "state": running},
        {"name": "b", "ready": false, "restartCount": 0, "state": running}
    ]}));
    assert_eq!(pod_status(&p), ("1/2".into(), "Running".into(), "0".into()));
    // Completed.
    let p = pod(json!({"phase": "Succeeded", "containerStatuses": [
        {"name": "a", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
        {"name": "b", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
    ]}));
    assert_eq!(pod_status(&p).1, "Completed");
    assert_eq!(
        row_conditions(res("", "pods"), &p).unwrap()[0]["reason"],
        "Succeeded"
    );
    // One container completed while another still runs and the pod is ready.
    let p = pod(
        json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
            {"name": "a", "ready": true, "restartCount": 0, "state": running},
            {"name": "b", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
        ]}),
    );
    assert_eq!(pod_status(&p).1, "Running");
    // CrashLoopBackOff with restarts and the last restart time.
    let p = pod(json!({"phase": "Running", "containerStatuses": [
        {"name": "a", "ready": false, "restartCount": 3,
         "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(300)}},
         "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
        {"name": "b", "ready": true, "restartCount": 1, "state": running}
    ]}));
    assert_eq!(
        pod_status(&p),
        ("1/2".into(), "CrashLoopBackOff".into(), "4 (5m ago)".into())
    );
    // Error: terminated without reason → ExitCode, with reason → the reason.
    let p = pod(json!({"phase": "Failed", "containerStatuses": [
        {"name": "a", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 2, "reason": "Error"}}}
    ]}));
    assert_eq!(pod_status(&p).1, "Error");
    let p = pod(json!({"phase": "Failed", "containerStatuses": [
        {"name": "a", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 137}}}
    ]}));
    assert_eq!(pod_status(&p).1, "ExitCode:137");
    let p = pod(json!({"phase": "Failed", "containerStatuses": [
        {"name": "a", "state": {"terminated": {"exitCode": 0, "signal": 9}}}
    ]}));
    assert_eq!(pod_status(&p).1, "Signal:9");
    // Init containers: 0 of 2 done, then a failing one, then a waiting one.
    let mut p = pod(json!({"phase": "Pending", "initContainerStatuses": [
        {"name": "i1", "restartCount": 0, "state": {"running": {}}},
        {"name": "i2", "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}}
    ]}));
    p["spec"]["initContainers"] = json!([{"name": "i1"}, {"name": "i2"}]);
    assert_eq!(pod_status(&p).1, "Init:0/2");
    p["status"]["initContainerStatuses"][0]["state"] = json!({"terminated": {"exitCode": 0}});
    assert_eq!(pod_status(&p).1, "Init:1/2");
    p["status"]["initContainerStatuses"][1]["state"] = json!({"terminated": {"exitCode": 1}});
    assert_eq!(pod_status(&p).1, "Init:ExitCode:1");
    p["status"]["initContainerStatuses"][1]["state"] =
        json!({"waiting": {"reason": "CrashLoopBackOff"}});
    assert_eq!(pod_status(&p).1, "Init:CrashLoopBackOff");
    // A started sidecar counts as a container and as ready.
    let mut p = pod(json!({"phase": "Running", "initContainerStatuses": [
        {"name": "side", "restartCount": 2, "started": true, "ready": true, "state": {"running": {}}}
    ], "containerStatuses": [
        {"name": "a", "ready": true, "restartCount": 0, "state": running},
        {"name": "b", "ready": true, "restartCount": 0, "state": running}
    ]}));
    p["spec"]["initContainers"] = json!([{"name": "side", "restartPolicy": "Always"}]);
    assert_eq!(pod_status(&p), ("3/3".into(), "Running".into(), "2".into()));
    // Terminating, and Unknown for a lost node.
    let mut p = pod(json!({"phase": "Running"}));
    p["metadata"]["deletionTimestamp"] = json!(ago(1));
    assert_eq!(pod_status(&p).1, "Terminating");
    p["status"]["reason"] = json!("NodeLost");
    assert_eq!(pod_status(&p).1, "Unknown");
    let mut p = pod(json!({"phase": "Succeeded"}));
    p["metadata"]["deletionTimestamp"] = json!(ago(1));
    assert_eq!(pod_status(&p).1, "Succeeded");
    // Scheduling gates.
    let p = pod(json!({"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}
    ]}));
    assert_eq!(pod_status(&p).1, "SchedulingGated");
}

#[test]
fn pod_wide_columns() {
    let mut p = pod(json!({"phase": "Running", "podIP": "10.0.0.5",
        "conditions": [{"type": "g1", "status": "True"}, {"type": "g2", "status": "False"}]}));
    p["spec"]["nodeName"] = json!("n1");
    p["spec"]["readinessGates"] = json!([{"conditionType": "g1"}, {"conditionType": "g2"}]);
    let c = cells("", "pods", &p);
    assert_eq!(
        c[5..],
        [
            json!("10.0.0.5"),
            json!("n1"),
            json!("<none>"),
            json!("1/2")
        ]
    );
    let p = pod(json!({"podIPs": [{"ip": "fd00::5"}]}));
    assert_eq!(cells("", "pods", &p)[5], "fd00::5");
    let p = pod(json!({"podIP": "10.0.0.6", "podIPs": [{"ip": "10.0.0.7"}]}));
    assert_eq!(cells("", "pods", &p)[5], "10.0.0.6");
    let c = cells("", "pods", &pod(json!({})));
    assert_eq!(
        c[5..],
        [
            json!("<none>"),
            json!("<none>"),
            json!("<none>"),
            json!("<none>")
        ]
    );
}
