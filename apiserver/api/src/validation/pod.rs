//! Pods and pod specs: `ValidatePodSpec`, `ValidatePodCreate`, `ValidatePodUpdate`,
//! `ValidatePodTemplateSpec`, `ValidatePodStatusUpdate`.

pub use super::podspec::*;

use std::collections::HashSet;

use serde_json::Value;

use super::field::{forbidden, invalid, not_supported, required, Bad, Path};
use super::meta::{
    validate_annotations, validate_labels, validate_object_meta, validate_object_meta_update,
};
use super::names::{check_name, inclusive_range_error, is_qualified_name, is_valid_ip, NameRule};
use super::util::{arr, has, int, obj, s};
use crate::status::Cause;

/// `ValidatePodTemplateSpec` (template of a controller).
pub fn validate_pod_template_spec(t: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let empty = Value::Null;
    let meta = t.get("metadata").unwrap_or(&empty);
    let mp = path.child("metadata");
    out.extend(validate_labels(meta.get("labels"), &mp.child("labels")));
    out.extend(validate_annotations(
        meta.get("annotations"),
        &mp.child("annotations"),
    ));
    let spec = t.get("spec").unwrap_or(&empty);
    out.extend(validate_pod_spec(spec, &path.child("spec"), false));
    if !arr(spec, "ephemeralContainers").is_empty() {
        out.push(forbidden(
            &path.child("spec").child("ephemeralContainers"),
            "ephemeral containers not allowed in pod template",
        ));
    }
    out
}

/// Pod-only container checks (`validateContainersOnlyForPod`).
pub fn containers_only_for_pod(list: &[Value], path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    for (i, c) in list.iter().enumerate() {
        let image = s(c, "image");
        if image.len() != image.trim().len() {
            out.push(invalid(
                &path.index(i).child("image"),
                image,
                "must not have leading or trailing whitespace",
            ));
        }
    }
    out
}

pub fn validate_pod_metadata_and_spec(pod: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta(pod, true, NameRule::Subdomain);
    let empty = Value::Null;
    let spec = pod.get("spec").unwrap_or(&empty);
    let sp = Path::new("spec");
    if let Some(ann) = pod.get("metadata").and_then(|m| obj(m, "annotations")) {
        if let Some(v) = ann.get("kubernetes.io/config.mirror") {
            if s(spec, "nodeName").is_empty() {
                out.push(invalid(
                    &Path::new("metadata.annotations").key("kubernetes.io/config.mirror"),
                    v.as_str().unwrap_or_default(),
                    "must set spec.nodeName if mirror pod annotation is set",
                ));
            }
        }
        if let Some(v) = ann
            .get("controller.kubernetes.io/pod-deletion-cost")
            .and_then(Value::as_str)
        {
            if v.parse::<i32>().is_err() {
                out.push(invalid(
                    &Path::new("metadata.annotations")
                        .key("controller.kubernetes.io/pod-deletion-cost"),
                    v,
                    "must be a 32bit integer",
                ));
            }
        }
    }
    out.extend(validate_pod_spec(spec, &sp, true));
    if s(spec, "serviceAccountName").is_empty() {
        for (vi, vol) in arr(spec, "volumes").iter().enumerate() {
            if let Some(pr) = vol.get("projected") {
                for (si, src) in arr(pr, "sources").iter().enumerate() {
                    if has(src, "serviceAccountToken") {
                        out.push(forbidden(
                            &sp.child("volumes")
                                .index(vi)
                                .child("projected")
                                .child("sources")
                                .index(si)
                                .child("serviceAccountToken"),
                            "must not be specified when serviceAccountName is not set",
                        ));
                    }
                }
            }
        }
    }
    out.extend(containers_only_for_pod(
        arr(spec, "containers"),
        &sp.child("containers"),
    ));
    out.extend(containers_only_for_pod(
        arr(spec, "initContainers"),
        &sp.child("initContainers"),
    ));
    out
}

/// `ValidatePodCreate`.
pub fn validate_pod_create(pod: &Value) -> Vec<Cause> {
    let mut out = validate_pod_metadata_and_spec(pod);
    let spec = pod.get("spec").unwrap_or(&Value::Null);
    if !arr(spec, "ephemeralContainers").is_empty() {
        out.push(forbidden(
            &Path::new("spec").child("ephemeralContainers"),
            "cannot be set on create",
        ));
    }
    if !s(spec, "nodeName").is_empty() && !arr(spec, "schedulingGates").is_empty() {
        out.push(forbidden(
            &Path::new("spec").child("nodeName"),
            "cannot be set until all schedulingGates have been cleared",
        ));
    }
    out
}

pub const UPDATABLE_POD_SPEC_FIELDS: &str = "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// `ValidatePodUpdate`.
pub fn validate_pod_update(new: &Value, old: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta_update(new, old);
    out.extend(validate_pod_metadata_and_spec(new));
    let null = Value::Null;
    let ns = new.get("spec").unwrap_or(&null);
    let os = old.get("spec").unwrap_or(&null);
    let sp = Path::new("spec");
    for key in ["containers", "initContainers"] {
        let (nc, oc) = (arr(ns, key), arr(os, key));
        if nc.len() != oc.len() {
            // Upstream stops here with the full-spec diff.
            out.push(forbidden(&sp, &pod_spec_diff_message(ns, os)));
            return out;
        }
        for (i, c) in nc.iter().enumerate() {
            if s(c, "image").is_empty() {
                out.push(required(&sp.child(key).index(i).child("image"), ""));
            }
        }
    }
    match (
        int(ns, "activeDeadlineSeconds"),
        int(os, "activeDeadlineSeconds"),
    ) {
        (Some(n), old_ads) => {
            if !(0..=i32::MAX as i64).contains(&n) {
                out.push(invalid(
                    &sp.child("activeDeadlineSeconds"),
                    n,
                    &inclusive_range_error(0, i32::MAX as i64),
                ));
                return out;
            }
            if let Some(o) = old_ads {
                if o < n {
                    out.push(invalid(
                        &sp.child("activeDeadlineSeconds"),
                        n,
                        "must be less than or equal to previous value",
                    ));
                    return out;
                }
            }
        }
        (None, Some(_)) => out.push(invalid(
            &sp.child("activeDeadlineSeconds"),
            Bad::Raw("null".into()),
            "must not update from a positive integer to nil value",
        )),
        (None, None) => {}
    }
    // Tolerations: only additions (tolerationSeconds may change).
    let strip = |t: &Value| {
        let mut t = t.clone();
        if let Some(m) = t.as_object_mut() {
            m.remove("tolerationSeconds");
        }
        t
    };
    let new_tols: Vec<Value> = arr(ns, "tolerations").iter().map(strip).collect();
    for ot in arr(os, "tolerations") {
        if !new_tols.contains(&strip(ot)) {
            out.push(forbidden(
                &sp.child("tolerations"),
                "existing toleration can not be modified except its tolerationSeconds",
            ));
            break;
        }
    }
    // Scheduling gates: only deletions.
    let old_gates: HashSet<&str> = arr(os, "schedulingGates")
        .iter()
        .map(|g| s(g, "name"))
        .collect();
    for (i, g) in arr(ns, "schedulingGates").iter().enumerate() {
        let n = s(g, "name");
        if !old_gates.contains(n) {
            out.push(forbidden(
                &sp.child("schedulingGates").index(i).child("name"),
                &format!("only deletion is allowed, but found new scheduling gate '{n}'"),
            ));
        }
    }
    // Munge the updatable fields and compare the rest.
    let mut munged = ns.clone();
    for key in ["containers", "initContainers"] {
        if let Some(list) = munged.get_mut(key).and_then(Value::as_array_mut) {
            for (i, c) in list.iter_mut().enumerate() {
                if let (Some(m), Some(oc)) = (c.as_object_mut(), arr(os, key).get(i)) {
                    match oc.get("image") {
                        Some(img) => m.insert("image".into(), img.clone()),
                        None => m.remove("image"),
                    };
                }
            }
        }
    }
    if let Some(m) = munged.as_object_mut() {
        for key in ["activeDeadlineSeconds", "schedulingGates", "tolerations"] {
            match os.get(key) {
                Some(v) => m.insert(key.into(), v.clone()),
                None => m.remove(key),
            };
        }
        let old_grace = int(os, "terminationGracePeriodSeconds");
        if old_grace.is_some_and(|g| g < 0)
            && int(&munged, "terminationGracePeriodSeconds") == Some(1)
        {
            if let Some(m) = munged.as_object_mut() {
                m.insert(
                    "terminationGracePeriodSeconds".into(),
                    os["terminationGracePeriodSeconds"].clone(),
                );
            }
        }
    }
    if !old_gates.is_empty() {
        // Gated pods may add node selectors and node affinity.
        if let Some(m) = munged.as_object_mut() {
            for key in ["nodeSelector", "affinity"] {
                match os.get(key) {
                    Some(v) => m.insert(key.into(), v.clone()),
                    None => m.remove(key),
                };
            }
        }
    }
    if !semantic_eq(&munged, os) {
        out.push(forbidden(&sp, &pod_spec_diff_message(&munged, os)));
    }
    out
}

/// Semantic equality: nulls and absent fields compare equal, empty maps/lists equal absent.
pub fn semantic_eq(a: &Value, b: &Value) -> bool {
    fn norm(v: &Value) -> Option<Value> {
        match v {
            Value::Null => None,
            Value::Object(m) => {
                let mut out = serde_json::Map::new();
                for (k, v) in m {
                    if let Some(n) = norm(v) {
                        out.insert(k.clone(), n);
                    }
                }
                if out.is_empty() {
                    None
                } else {
                    Some(Value::Object(sorted(out)))
                }
            }
            Value::Array(a) if a.is_empty() => None,
            Value::Array(a) => Some(Value::Array(
                a.iter().map(|x| norm(x).unwrap_or(Value::Null)).collect(),
            )),
            other => Some(other.clone()),
        }
    }
    fn sorted(m: serde_json::Map<String, Value>) -> serde_json::Map<String, Value> {
        let mut v: Vec<(String, Value)> = m.into_iter().collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v.into_iter().collect()
    }
    norm(a) == norm(b)
}

/// The `spec: Forbidden: pod updates may not change fields other than ...` detail, with a
/// compact diff in place of upstream's `cmp.Diff` output.
pub fn pod_spec_diff_message(new: &Value, old: &Value) -> String {
    let mut lines = Vec::new();
    diff_lines("", old, new, &mut lines);
    let mut msg = format!(
        "pod updates may not change fields other than {UPDATABLE_POD_SPEC_FIELDS}\n  core.PodSpec{{\n"
    );
    for l in lines.iter().take(40) {
        msg.push_str(l);
        msg.push('\n');
    }
    msg.push_str("  }\n");
    msg
}

pub fn diff_lines(prefix: &str, old: &Value, new: &Value, out: &mut Vec<String>) {
    if semantic_eq(old, new) {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                diff_lines(
                    &p,
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff_lines(&format!("{prefix}[{i}]"), x, y, out);
            }
        }
        _ => {
            if !old.is_null() {
                out.push(format!("-  \t{prefix}: {old}"));
            }
            if !new.is_null() {
                out.push(format!("+  \t{prefix}: {new}"));
            }
        }
    }
}

/// `ValidatePodStatusUpdate` (light).
pub fn validate_pod_status_update(new: &Value, old: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta_update(new, old);
    let null = Value::Null;
    let st = new.get("status").unwrap_or(&null);
    let ost = old.get("status").unwrap_or(&null);
    let sp = Path::new("status");
    for (i, c) in arr(st, "conditions").iter().enumerate() {
        let t = s(c, "type");
        if !["PodScheduled", "Ready", "Initialized"].contains(&t) {
            // Upstream reports these under metadata.conditions[i].Type.
            for m in is_qualified_name(t) {
                out.push(invalid(
                    &Path::new("metadata.conditions").index(i).child("Type"),
                    t,
                    &m,
                ));
            }
        }
        if let Some(status) = c.get("status").and_then(Value::as_str) {
            if !["True", "False", "Unknown"].contains(&status) {
                out.push(not_supported(
                    &sp.child("conditions").index(i).child("status"),
                    status,
                    &["False", "True", "Unknown"],
                ));
            }
        }
    }
    if let Some(phase) = st.get("phase").and_then(Value::as_str) {
        if !["Pending", "Running", "Succeeded", "Failed", "Unknown"].contains(&phase) {
            out.push(not_supported(
                &sp.child("phase"),
                phase,
                &["Failed", "Pending", "Running", "Succeeded", "Unknown"],
            ));
        }
    }
    let nsp = new.get("spec").unwrap_or(&null);
    let osp = old.get("spec").unwrap_or(&null);
    if s(nsp, "nodeName") != s(osp, "nodeName") {
        out.push(forbidden(
            &sp.child("nodeName"),
            "may not be changed directly",
        ));
    }
    let nn = s(st, "nominatedNodeName");
    if !nn.is_empty() && nn != s(ost, "nominatedNodeName") {
        for m in check_name(NameRule::Subdomain, nn, false) {
            out.push(invalid(&sp.child("nominatedNodeName"), nn, &m));
        }
    }
    if s(st, "qosClass") != s(ost, "qosClass") {
        out.push(invalid(
            &sp.child("qosClass"),
            s(st, "qosClass"),
            super::meta::FIELD_IMMUTABLE,
        ));
    }
    for (i, ip) in arr(st, "podIPs").iter().enumerate() {
        let ip = s(ip, "ip");
        for m in is_valid_ip(ip) {
            out.push(invalid(&sp.child("podIPs").index(i), ip, &m));
        }
    }
    let hips = arr(st, "hostIPs");
    if let Some(first) = hips.first() {
        if s(st, "hostIP") != s(first, "ip") {
            out.push(invalid(
                &sp.child("hostIPs").index(0).child("ip"),
                s(first, "ip"),
                "must be equal to `hostIP`",
            ));
        }
    }
    out
}

/// `ValidatePodTemplate` (the PodTemplate kind).
pub fn validate_pod_template(obj: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta(obj, true, NameRule::Subdomain);
    let null = Value::Null;
    out.extend(validate_pod_template_spec(
        obj.get("template").unwrap_or(&null),
        &Path::new("template"),
    ));
    out
}
