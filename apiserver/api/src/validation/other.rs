//! The remaining kinds: Nodes, Events, RBAC, networking, policy, coordination.

pub use super::networking::*;
pub use super::rbac::*;

use std::collections::HashSet;

use serde_json::Value;

use super::field::{duplicate, forbidden, invalid, not_supported, required, Bad, Path};
use super::meta::{
    non_negative, validate_label_name, validate_label_selector, validate_labels,
    validate_object_meta, validate_object_meta_update,
};
use super::names::{is_qualified_name, is_valid_cidr, is_valid_label_value, is_valid_percent};
use super::util::{arr, has, int, obj, s};
use crate::resources::Resource;
use crate::status::Cause;

pub fn validate_other(resource: &Resource, obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let rule = super::name_rule(resource);
    let mut out = Vec::new();
    if let Some(old) = old {
        out.extend(validate_object_meta_update(obj, old));
    }
    match (resource.group, resource.kind) {
        ("", "Node") => {
            out.extend(validate_object_meta(obj, false, rule));
            out.extend(validate_node(obj, old));
        }
        ("", "Event") | ("events.k8s.io", "Event") => {
            out.extend(validate_object_meta(obj, true, rule));
            out.extend(validate_event(resource, obj));
        }
        ("rbac.authorization.k8s.io", k) => {
            out.extend(validate_object_meta(obj, resource.namespaced, rule));
            out.extend(validate_rbac(k, obj, old));
        }
        ("networking.k8s.io", "Ingress") => {
            out.extend(validate_object_meta(obj, true, rule));
            out.extend(validate_ingress(obj, old.is_none()));
        }
        ("networking.k8s.io", "IngressClass") => {
            out.extend(validate_object_meta(obj, false, rule));
            out.extend(validate_ingress_class(obj, old));
        }
        ("networking.k8s.io", "NetworkPolicy") => {
            out.extend(validate_object_meta(obj, true, rule));
            out.extend(validate_network_policy(obj));
        }
        ("policy", "PodDisruptionBudget") => {
            out.extend(validate_object_meta(obj, true, rule));
            out.extend(validate_pdb(obj));
        }
        ("coordination.k8s.io", "Lease") => {
            out.extend(validate_object_meta(obj, true, rule));
            out.extend(validate_lease(obj));
        }
        _ => out.extend(validate_object_meta(obj, resource.namespaced, rule)),
    }
    out
}

/// `metav1.Condition` lists (`ValidateConditions`), used for the status of the kinds whose
/// conditions are `metav1.Condition`; other condition types get their status checked.
pub fn validate_conditions(status: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (i, c) in arr(status, "conditions").iter().enumerate() {
        let p = Path::new("status.conditions").index(i);
        let t = s(c, "type");
        if !seen.insert(t.to_string()) {
            out.push(duplicate(&p.child("type"), t));
        }
        if let Some(st) = c.get("status").and_then(Value::as_str) {
            if !["True", "False", "Unknown"].contains(&st) {
                out.push(not_supported(
                    &p.child("status"),
                    st,
                    &["False", "True", "Unknown"],
                ));
            }
        }
    }
    out
}

pub fn validate_node(node: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = Vec::new();
    let null = Value::Null;
    let spec = node.get("spec").unwrap_or(&null);
    let mut unique: HashSet<(String, String)> = HashSet::new();
    for (i, t) in arr(spec, "taints").iter().enumerate() {
        // Upstream reports taints under metadata.taints.
        let p = Path::new("metadata.taints").index(i);
        out.extend(validate_label_name(s(t, "key"), &p.child("key")));
        let v = s(t, "value");
        let errs = is_valid_label_value(v);
        if !errs.is_empty() {
            out.push(invalid(&p.child("value"), v, &errs.join(";")));
        }
        let e = s(t, "effect");
        if e.is_empty() {
            out.push(required(&p.child("effect"), ""));
        } else if !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&e) {
            out.push(not_supported(
                &p.child("effect"),
                e,
                &["NoSchedule", "PreferNoSchedule", "NoExecute"],
            ));
        }
        if !unique.insert((e.to_string(), s(t, "key").to_string())) {
            let mut c = duplicate(&p, Bad::Raw(super::util::go_struct("core.Taint", t)));
            c.message
                .push_str(": taints must be unique by key and effect pair");
            out.push(c);
        }
    }
    let cidrs = arr(spec, "podCIDRs");
    for (i, c) in cidrs.iter().enumerate() {
        let c = c.as_str().unwrap_or_default();
        for m in is_valid_cidr(c) {
            out.push(invalid(&Path::new("spec.podCIDRs").index(i), c, &m));
        }
    }
    if let Some(old) = old {
        let os = old.get("spec").unwrap_or(&null);
        let oc = arr(os, "podCIDRs");
        if !oc.is_empty() && oc != cidrs {
            out.push(forbidden(
                &Path::new("spec.podCIDRs"),
                "node updates may not change podCIDR except from \"\" to valid",
            ));
        }
        let op = s(os, "providerID");
        if !op.is_empty() && op != s(spec, "providerID") {
            out.push(forbidden(
                &Path::new("spec.providerID"),
                "node updates may not change providerID except from \"\" to valid",
            ));
        }
        if s(os, "externalID") != s(spec, "externalID") {
            out.push(forbidden(
                &Path::new("spec.externalID"),
                "may not be updated",
            ));
        }
    }
    out
}

pub fn validate_event(resource: &Resource, ev: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    if resource.group == "events.k8s.io" {
        // events.k8s.io/v1 requires these (ValidateEventCreate for v1).
        let related_or_regarding = ev.get("regarding").unwrap_or(&Value::Null);
        let _ = related_or_regarding;
        if !has(ev, "eventTime") {
            out.push(required(&Path::new("eventTime"), ""));
        }
        let t = s(ev, "type");
        if t != "Normal" && t != "Warning" {
            out.push(invalid(
                &Path::new("type"),
                "",
                &format!("has invalid value: {t}"),
            ));
        }
        if s(ev, "reportingController").is_empty() {
            out.push(required(&Path::new("reportingController"), ""));
        } else {
            for m in is_qualified_name(s(ev, "reportingController")) {
                out.push(invalid(
                    &Path::new("reportingController"),
                    s(ev, "reportingController"),
                    &m,
                ));
            }
        }
        let ri = s(ev, "reportingInstance");
        if ri.is_empty() {
            out.push(required(&Path::new("reportingInstance"), ""));
        } else if ri.len() > 128 {
            out.push(invalid(
                &Path::new("reportingInstance"),
                "",
                "can have at most 128 characters",
            ));
        }
        let action = s(ev, "action");
        if action.is_empty() {
            out.push(required(&Path::new("action"), ""));
        } else if action.len() > 128 {
            out.push(invalid(
                &Path::new("action"),
                "",
                "can have at most 128 characters",
            ));
        }
        let reason = s(ev, "reason");
        if reason.is_empty() {
            out.push(required(&Path::new("reason"), ""));
        } else if reason.len() > 128 {
            out.push(invalid(
                &Path::new("reason"),
                "",
                "can have at most 128 characters",
            ));
        }
        if s(ev, "note").len() > 1024 {
            out.push(invalid(
                &Path::new("note"),
                "",
                "can have at most 1024 characters",
            ));
        }
    } else if !has(ev, "eventTime") {
        // core/v1 (legacy) events: the involved object's namespace must match.
        let ns = ev
            .get("metadata")
            .map(|m| s(m, "namespace"))
            .unwrap_or_default();
        let io = ev.get("involvedObject").unwrap_or(&Value::Null);
        let ions = s(io, "namespace");
        let bad = if ions.is_empty() {
            !ns.is_empty() && ns != "default"
        } else {
            ions != ns
        };
        if bad {
            out.push(invalid(
                &Path::new("involvedObject.namespace"),
                ions,
                "does not match event.namespace",
            ));
        }
    }
    out
}

pub fn validate_pdb(pdb: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    let null = Value::Null;
    let spec = pdb.get("spec").unwrap_or(&null);
    let sp = Path::new("spec");
    let min = spec.get("minAvailable").filter(|v| !v.is_null());
    let max = spec.get("maxUnavailable").filter(|v| !v.is_null());
    if min.is_some() && max.is_some() {
        out.push(invalid(
            &sp,
            Bad::Raw(super::util::go_struct(
                "policy.PodDisruptionBudgetSpec",
                spec,
            )),
            "minAvailable and maxUnavailable cannot be both set",
        ));
    }
    for (key, v) in [("minAvailable", min), ("maxUnavailable", max)] {
        let p = sp.child(key);
        match v {
            Some(Value::String(x)) => {
                for m in is_valid_percent(x) {
                    out.push(invalid(&p, Bad::Raw(x.clone()), &m));
                }
                if is_valid_percent(x).is_empty()
                    && x[..x.len() - 1].parse::<i64>().unwrap_or(0) > 100
                {
                    out.push(invalid(
                        &p,
                        Bad::Raw(x.clone()),
                        "must not be greater than 100%",
                    ));
                }
            }
            Some(Value::Number(n)) => out.extend(non_negative(n.as_i64().unwrap_or(0), &p)),
            _ => {}
        }
    }
    if let Some(sel) = spec.get("selector").filter(|v| !v.is_null()) {
        out.extend(validate_label_selector(sel, &sp.child("selector")));
    }
    if let Some(p) = spec
        .get("unhealthyPodEvictionPolicy")
        .and_then(Value::as_str)
    {
        if p != "IfHealthyBudget" && p != "AlwaysAllow" {
            out.push(not_supported(
                &sp.child("unhealthyPodEvictionPolicy"),
                p,
                &["AlwaysAllow", "IfHealthyBudget"],
            ));
        }
    }
    out
}

pub fn validate_lease(lease: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    let null = Value::Null;
    let spec = lease.get("spec").unwrap_or(&null);
    let sp = Path::new("spec");
    if let Some(d) = int(spec, "leaseDurationSeconds") {
        if d <= 0 {
            out.push(invalid(
                &sp.child("leaseDurationSeconds"),
                d,
                "must be greater than 0",
            ));
        }
    }
    if let Some(t) = int(spec, "leaseTransitions") {
        out.extend(non_negative(t, &sp.child("leaseTransitions")));
    }
    if let Some(st) = spec.get("strategy").and_then(Value::as_str) {
        if st != "OldestEmulationVersion" {
            out.push(not_supported(
                &sp.child("strategy"),
                st,
                &["OldestEmulationVersion"],
            ));
        }
    }
    let _ = (obj, validate_labels);
    out
}
