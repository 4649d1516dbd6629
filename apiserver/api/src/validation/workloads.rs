//! ReplicationControllers, ReplicaSets, Deployments, DaemonSets, StatefulSets,
//! ControllerRevisions.

pub use super::sets::*;

use serde_json::Value;

use super::field::{forbidden, invalid, not_supported, required, Bad, Path};
use super::meta::{
    immutable, non_negative, validate_label_selector, validate_object_meta,
    validate_object_meta_update, FIELD_IMMUTABLE,
};
use super::names::{is_valid_percent, NameRule};
use super::pod::{semantic_eq, validate_pod_template_spec};
use super::util::{
    go_label_selector, go_string_map, has, int, obj, s, selector_is_empty, selector_matches,
};
use crate::status::Cause;

/// An IntOrString as upstream prints it (its pointer `String()`).
pub fn int_or_string_bad(v: Option<&Value>) -> Bad {
    match v {
        Some(Value::String(s)) => Bad::Raw(s.clone()),
        Some(Value::Number(n)) => Bad::Raw(n.to_string()),
        _ => Bad::Raw("0".into()),
    }
}

/// `getIntOrPercentValue`.
pub fn int_or_percent_value(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::String(s)) if is_valid_percent(s).is_empty() => {
            s[..s.len() - 1].parse().unwrap_or(0)
        }
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        _ => 0,
    }
}

/// `ValidatePositiveIntOrPercent`.
pub fn positive_int_or_percent(v: Option<&Value>, path: &Path) -> Vec<Cause> {
    match v {
        Some(Value::String(s)) => is_valid_percent(s)
            .into_iter()
            .map(|m| invalid(path, Bad::Raw(s.clone()), &m))
            .collect(),
        Some(Value::Number(n)) => non_negative(n.as_i64().unwrap_or(0), path),
        _ => vec![],
    }
}

/// `IsNotMoreThan100Percent`.
pub fn not_more_than_100(v: Option<&Value>, path: &Path) -> Vec<Cause> {
    if let Some(Value::String(s)) = v {
        if is_valid_percent(s).is_empty() && int_or_percent_value(v) > 100 {
            return vec![invalid(
                path,
                Bad::Raw(s.clone()),
                "must not be greater than 100%",
            )];
        }
    }
    vec![]
}

pub fn template_labels(template: &Value) -> serde_json::Map<String, Value> {
    template
        .get("metadata")
        .and_then(|m| obj(m, "labels"))
        .cloned()
        .unwrap_or_default()
}

pub fn template_labels_bad(template: &Value) -> Bad {
    Bad::Raw(go_string_map(
        template.get("metadata").and_then(|m| m.get("labels")),
    ))
}

/// The selector checks shared by ReplicaSets, Deployments and StatefulSets, then
/// `ValidatePodTemplateSpecForReplicaSet` (restart policy, activeDeadlineSeconds).
pub fn selector_and_template(
    spec: &Value,
    sp: &Path,
    kind_word: &str,
    deadline_word: &str,
) -> Vec<Cause> {
    let mut out = Vec::new();
    let null = Value::Null;
    let sel = spec.get("selector").filter(|v| !v.is_null());
    match sel {
        None => out.push(required(&sp.child("selector"), "")),
        Some(sel) => {
            out.extend(validate_label_selector(sel, &sp.child("selector")));
            if selector_is_empty(sel) {
                out.push(invalid(
                    &sp.child("selector"),
                    Bad::Raw(go_label_selector(sel)),
                    &format!("empty selector is invalid for {kind_word}"),
                ));
            }
        }
    }
    let template = spec.get("template").unwrap_or(&null);
    let tp = sp.child("template");
    // A nil selector selects nothing, so it never matches; `{}` selects everything.
    let matches = match sel {
        None => false,
        Some(sel) => selector_is_empty(sel) || selector_matches(sel, &template_labels(template)),
    };
    if !matches {
        out.push(invalid(
            &tp.child("metadata").child("labels"),
            template_labels_bad(template),
            "`selector` does not match template `labels`",
        ));
    }
    out.extend(always_restarting_template(template, &tp, deadline_word));
    out
}

/// `ValidatePodTemplateSpecForReplicaSet` and its kin: the pod template of a
/// controller whose pods run forever, so `restartPolicy: Always` and no
/// `activeDeadlineSeconds` (`owner` names the controller in the message).
fn always_restarting_template(template: &Value, tp: &Path, owner: &str) -> Vec<Cause> {
    let mut out = validate_pod_template_spec(template, tp);
    let null = Value::Null;
    let tspec = template.get("spec").unwrap_or(&null);
    let rp = s(tspec, "restartPolicy");
    if rp != "Always" {
        out.push(not_supported(
            &tp.at(&["spec", "restartPolicy"]),
            rp,
            &["Always"],
        ));
    }
    if has(tspec, "activeDeadlineSeconds") {
        out.push(forbidden(
            &tp.at(&["spec", "activeDeadlineSeconds"]),
            &format!("activeDeadlineSeconds in {owner} is not Supported"),
        ));
    }
    out
}

pub fn selector_immutable(new: &Value, old: &Value) -> Vec<Cause> {
    let null = Value::Null;
    let ns = new.get("spec").and_then(|s| s.get("selector"));
    let os = old.get("spec").and_then(|s| s.get("selector"));
    immutable(
        ns,
        os,
        Bad::Raw(go_label_selector(ns.unwrap_or(&null))),
        &Path::new("spec.selector"),
    )
}

/// `ValidateReplicationController`.
pub fn validate_replication_controller(rc: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta(rc, true, NameRule::Subdomain);
    let null = Value::Null;
    let spec = rc.get("spec").unwrap_or(&null);
    let sp = Path::new("spec");
    out.extend(non_negative(
        int(spec, "minReadySeconds").unwrap_or(0),
        &sp.child("minReadySeconds"),
    ));
    let selector = obj(spec, "selector").cloned().unwrap_or_default();
    if selector.is_empty() {
        out.push(required(&sp.child("selector"), ""));
    }
    out.extend(non_negative(
        int(spec, "replicas").unwrap_or(0),
        &sp.child("replicas"),
    ));
    let tp = sp.child("template");
    match spec.get("template").filter(|v| !v.is_null()) {
        None => out.push(required(&tp, "")),
        Some(template) => {
            if !selector.is_empty() {
                let labels = template_labels(template);
                let ok = selector.iter().all(|(k, v)| labels.get(k) == Some(v));
                if !ok {
                    out.push(invalid(
                        &tp.child("metadata").child("labels"),
                        template_labels_bad(template),
                        "`selector` does not match template `labels`",
                    ));
                }
            }
            out.extend(always_restarting_template(
                template,
                &tp,
                "ReplicationController",
            ));
        }
    }
    out
}

/// `ValidateReplicaSet`.
pub fn validate_replica_set(rs: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta(rs, true, NameRule::Subdomain);
    let null = Value::Null;
    let spec = rs.get("spec").unwrap_or(&null);
    let sp = Path::new("spec");
    out.extend(non_negative(
        int(spec, "replicas").unwrap_or(0),
        &sp.child("replicas"),
    ));
    out.extend(non_negative(
        int(spec, "minReadySeconds").unwrap_or(0),
        &sp.child("minReadySeconds"),
    ));
    out.extend(selector_and_template(spec, &sp, "deployment", "ReplicaSet"));
    out
}

/// `ValidateDeployment`.
pub fn validate_deployment(d: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta(d, true, NameRule::Subdomain);
    let null = Value::Null;
    let spec = d.get("spec").unwrap_or(&null);
    let sp = Path::new("spec");
    out.extend(non_negative(
        int(spec, "replicas").unwrap_or(0),
        &sp.child("replicas"),
    ));
    out.extend(selector_and_template(spec, &sp, "deployment", "ReplicaSet"));
    let strategy = spec.get("strategy").unwrap_or(&null);
    let stp = sp.child("strategy");
    match s(strategy, "type") {
        "Recreate" => {
            if has(strategy, "rollingUpdate") {
                out.push(forbidden(
                    &stp.child("rollingUpdate"),
                    "may not be specified when strategy `type` is 'Recreate'",
                ));
            }
        }
        "RollingUpdate" => match strategy.get("rollingUpdate").filter(|v| !v.is_null()) {
            None => out.push(required(
                &stp.child("rollingUpdate"),
                "this should be defaulted and never be nil",
            )),
            Some(ru) => {
                let rp = stp.child("rollingUpdate");
                let mu = ru.get("maxUnavailable");
                let ms = ru.get("maxSurge");
                out.extend(positive_int_or_percent(mu, &rp.child("maxUnavailable")));
                out.extend(positive_int_or_percent(ms, &rp.child("maxSurge")));
                if int_or_percent_value(mu) == 0 && int_or_percent_value(ms) == 0 {
                    out.push(invalid(
                        &rp.child("maxUnavailable"),
                        int_or_string_bad(mu),
                        "may not be 0 when `maxSurge` is 0",
                    ));
                }
                out.extend(not_more_than_100(mu, &rp.child("maxUnavailable")));
            }
        },
        _ => out.push(not_supported(
            &stp,
            Bad::Raw(super::util::go_struct("apps.DeploymentStrategy", strategy)),
            &["Recreate", "RollingUpdate"],
        )),
    }
    let mrs = int(spec, "minReadySeconds").unwrap_or(0);
    out.extend(non_negative(mrs, &sp.child("minReadySeconds")));
    if let Some(r) = int(spec, "revisionHistoryLimit") {
        out.extend(non_negative(r, &sp.child("revisionHistoryLimit")));
    }
    if let Some(pds) = int(spec, "progressDeadlineSeconds") {
        out.extend(non_negative(pds, &sp.child("progressDeadlineSeconds")));
        if pds <= mrs {
            out.push(invalid(
                &sp.child("progressDeadlineSeconds"),
                pds,
                "must be greater than minReadySeconds",
            ));
        }
    }
    out
}

/// Update checks shared by the apps kinds: metadata, then the create rules, then selector
/// immutability (apps/v1).
pub fn validate_workload_update(kind: &str, new: &Value, old: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta_update(new, old);
    match kind {
        "ReplicationController" => out.extend(validate_replication_controller(new)),
        "ReplicaSet" => {
            out.extend(validate_replica_set(new));
            out.extend(selector_immutable(new, old));
        }
        "Deployment" => {
            out.extend(validate_deployment(new));
            out.extend(selector_immutable(new, old));
        }
        "DaemonSet" => {
            out.extend(validate_daemon_set(new));
            out.extend(selector_immutable(new, old));
        }
        "StatefulSet" => {
            out.extend(validate_stateful_set(new));
            let mut n = new.get("spec").cloned().unwrap_or(Value::Null);
            let o = old.get("spec").cloned().unwrap_or(Value::Null);
            if let (Some(nm), Some(om)) = (n.as_object_mut(), o.as_object()) {
                for f in [
                    "replicas",
                    "ordinals",
                    "template",
                    "updateStrategy",
                    "revisionHistoryLimit",
                    "persistentVolumeClaimRetentionPolicy",
                    "minReadySeconds",
                ] {
                    match om.get(f) {
                        Some(v) => nm.insert(f.to_string(), v.clone()),
                        None => nm.remove(f),
                    };
                }
            }
            if !semantic_eq(&n, &o) {
                out.push(forbidden(
                    &Path::new("spec"),
                    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
                ));
            }
        }
        _ => {}
    }
    out
}

/// `ValidateControllerRevision` (+ update: data immutable).
pub fn validate_controller_revision(cr: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = validate_object_meta(cr, true, NameRule::Subdomain);
    if !has(cr, "data") {
        out.push(required(&Path::new("data"), "data is mandatory"));
    }
    out.extend(non_negative(
        int(cr, "revision").unwrap_or(0),
        &Path::new("revision"),
    ));
    if let Some(old) = old {
        out.extend(validate_object_meta_update(cr, old));
        if cr.get("data") != old.get("data") {
            out.push(invalid(
                &Path::new("data"),
                Bad::Raw(super::util::go_struct(
                    "runtime.RawExtension",
                    cr.get("data").unwrap_or(&Value::Null),
                )),
                FIELD_IMMUTABLE,
            ));
        }
    }
    out
}

/// Status updates of the replicated kinds: counters non-negative and bounded.
pub fn validate_replicas_status(kind: &str, status: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    let sp = Path::new("status");
    let fields: &[&str] = match kind {
        "DaemonSet" => &[
            "currentNumberScheduled",
            "numberMisscheduled",
            "desiredNumberScheduled",
            "numberReady",
            "observedGeneration",
            "updatedNumberScheduled",
            "numberAvailable",
            "numberUnavailable",
            "collisionCount",
        ],
        "Deployment" => &[
            "observedGeneration",
            "replicas",
            "updatedReplicas",
            "availableReplicas",
            "unavailableReplicas",
            "readyReplicas",
            "terminatingReplicas",
            "collisionCount",
        ],
        _ => &[
            "replicas",
            "fullyLabeledReplicas",
            "readyReplicas",
            "availableReplicas",
            "currentReplicas",
            "updatedReplicas",
            "observedGeneration",
            "collisionCount",
        ],
    };
    for f in fields {
        if let Some(v) = int(status, f) {
            out.extend(non_negative(v, &sp.child(f)));
        }
    }
    if kind != "DaemonSet" {
        let replicas = int(status, "replicas").unwrap_or(0);
        let msg = "cannot be greater than status.replicas";
        let bounded: &[&str] = match kind {
            "Deployment" => &["updatedReplicas", "readyReplicas", "availableReplicas"],
            "StatefulSet" => &["readyReplicas", "currentReplicas", "updatedReplicas"],
            _ => &["fullyLabeledReplicas", "readyReplicas", "availableReplicas"],
        };
        for f in bounded {
            if let Some(v) = int(status, f) {
                if v > replicas {
                    out.push(invalid(&sp.child(f), v, msg));
                }
            }
        }
        if let (Some(a), Some(r)) = (
            int(status, "availableReplicas"),
            int(status, "readyReplicas"),
        ) {
            if a > r {
                out.push(invalid(
                    &sp.child("availableReplicas"),
                    a,
                    "cannot be greater than readyReplicas",
                ));
            }
        }
    }
    out
}
