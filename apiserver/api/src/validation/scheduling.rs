//! Scheduling parts of a pod spec: affinity, tolerations, topology spread.

use super::field::{duplicate, forbidden, invalid, not_supported, required, Path};
use super::meta::{validate_label_name, validate_label_selector};
use super::names::{check_name, is_valid_label_value, NameRule};
use super::util::{arr, has, int, s};
use crate::status::Cause;
use serde_json::Value;

pub fn validate_affinity(aff: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(na) = aff.get("nodeAffinity").filter(|v| v.is_object()) {
        let p = path.child("nodeAffinity");
        if let Some(req) = na
            .get("requiredDuringSchedulingIgnoredDuringExecution")
            .filter(|v| v.is_object())
        {
            let rp = p.child("requiredDuringSchedulingIgnoredDuringExecution");
            let terms = arr(req, "nodeSelectorTerms");
            if terms.is_empty() {
                out.push(required(
                    &rp.child("nodeSelectorTerms"),
                    "must have at least one node selector term",
                ));
            }
            for (i, t) in terms.iter().enumerate() {
                out.extend(node_selector_term(
                    t,
                    &rp.child("nodeSelectorTerms").index(i),
                ));
            }
        }
        for (i, pref) in arr(na, "preferredDuringSchedulingIgnoredDuringExecution")
            .iter()
            .enumerate()
        {
            let pp = p
                .child("preferredDuringSchedulingIgnoredDuringExecution")
                .index(i);
            let w = int(pref, "weight").unwrap_or(0);
            if !(1..=100).contains(&w) {
                out.push(invalid(
                    &pp.child("weight"),
                    w,
                    "must be in the range 1-100",
                ));
            }
            if let Some(t) = pref.get("preference") {
                out.extend(node_selector_term(t, &pp.child("preference")));
            }
        }
    }
    for kind in ["podAffinity", "podAntiAffinity"] {
        let Some(pa) = aff.get(kind).filter(|v| v.is_object()) else {
            continue;
        };
        let p = path.child(kind);
        for (i, t) in arr(pa, "requiredDuringSchedulingIgnoredDuringExecution")
            .iter()
            .enumerate()
        {
            out.extend(pod_affinity_term(
                t,
                &p.child("requiredDuringSchedulingIgnoredDuringExecution")
                    .index(i),
            ));
        }
        for (i, w) in arr(pa, "preferredDuringSchedulingIgnoredDuringExecution")
            .iter()
            .enumerate()
        {
            let wp = p
                .child("preferredDuringSchedulingIgnoredDuringExecution")
                .index(i);
            let weight = int(w, "weight").unwrap_or(0);
            if !(1..=100).contains(&weight) {
                out.push(invalid(
                    &wp.child("weight"),
                    weight,
                    "must be in the range 1-100",
                ));
            }
            if let Some(t) = w.get("podAffinityTerm") {
                out.extend(pod_affinity_term(t, &wp.child("podAffinityTerm")));
            }
        }
    }
    out
}

pub fn pod_affinity_term(t: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(sel) = t.get("labelSelector") {
        out.extend(validate_label_selector(sel, &path.child("labelSelector")));
    }
    if let Some(sel) = t.get("namespaceSelector") {
        out.extend(validate_label_selector(
            sel,
            &path.child("namespaceSelector"),
        ));
    }
    for (i, ns) in arr(t, "namespaces").iter().enumerate() {
        let ns = ns.as_str().unwrap_or_default();
        for m in check_name(NameRule::Label, ns, false) {
            out.push(invalid(&path.child("namespace").index(i), ns, &m));
        }
    }
    let tk = s(t, "topologyKey");
    if tk.is_empty() {
        out.push(required(&path.child("topologyKey"), "can not be empty"));
    } else {
        out.extend(validate_label_name(tk, &path.child("topologyKey")));
    }
    out
}

pub fn node_selector_term(t: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    for (i, r) in arr(t, "matchExpressions").iter().enumerate() {
        let p = path.child("matchExpressions").index(i);
        let values = arr(r, "values");
        match s(r, "operator") {
            "In" | "NotIn" => {
                if values.is_empty() {
                    out.push(required(
                        &p.child("values"),
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    ));
                }
            }
            "Exists" | "DoesNotExist" => {
                if !values.is_empty() {
                    out.push(forbidden(
                        &p.child("values"),
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    ));
                }
            }
            "Gt" | "Lt" => {
                if values.len() != 1 {
                    out.push(required(
                        &p.child("values"),
                        "must be specified single value when `operator` is 'Lt' or 'Gt'",
                    ));
                }
            }
            other => out.push(invalid(
                &p.child("operator"),
                other,
                "not a valid selector operator",
            )),
        }
        out.extend(validate_label_name(s(r, "key"), &p.child("key")));
    }
    for (i, r) in arr(t, "matchFields").iter().enumerate() {
        let p = path.child("matchFields").index(i);
        if s(r, "key") != "metadata.name" {
            out.push(invalid(
                &p.child("key"),
                s(r, "key"),
                "not a valid field selector key",
            ));
        }
    }
    out
}

/// `ValidateTolerations`.
pub fn validate_tolerations(tols: &[Value], path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    for (i, t) in tols.iter().enumerate() {
        let p = path.index(i);
        let key = s(t, "key");
        if !key.is_empty() {
            out.extend(validate_label_name(key, &p.child("key")));
        }
        let op = s(t, "operator");
        if key.is_empty() && op != "Exists" {
            out.push(invalid(
                &p.child("operator"),
                op,
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        let effect = s(t, "effect");
        if has(t, "tolerationSeconds") && effect != "NoExecute" {
            out.push(invalid(
                &p.child("effect"),
                effect,
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        let value = s(t, "value");
        match op {
            "Equal" | "" => {
                let errs = is_valid_label_value(value);
                if !errs.is_empty() {
                    out.push(invalid(&p.child("operator"), value, &errs.join(";")));
                }
            }
            "Exists" => {
                if !value.is_empty() {
                    out.push(invalid(
                        &p.child("operator"),
                        value,
                        "value must be empty when `operator` is 'Exists'",
                    ));
                }
            }
            other => out.push(not_supported(
                &p.child("operator"),
                other,
                &["Equal", "Exists"],
            )),
        }
        if !effect.is_empty() && !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&effect)
        {
            out.push(not_supported(
                &p.child("effect"),
                effect,
                &["NoSchedule", "PreferNoSchedule", "NoExecute"],
            ));
        }
    }
    out
}

pub fn validate_topology_spread(cs: &[Value], path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    for (i, c) in cs.iter().enumerate() {
        let p = path.index(i);
        let skew = int(c, "maxSkew").unwrap_or(0);
        if skew <= 0 {
            out.push(invalid(
                &p.child("maxSkew"),
                skew,
                "must be greater than zero",
            ));
        }
        let tk = s(c, "topologyKey");
        if tk.is_empty() {
            out.push(required(&p.child("topologyKey"), "can not be empty"));
        }
        let wu = s(c, "whenUnsatisfiable");
        if wu != "DoNotSchedule" && wu != "ScheduleAnyway" {
            out.push(not_supported(
                &p.child("whenUnsatisfiable"),
                wu,
                &["DoNotSchedule", "ScheduleAnyway"],
            ));
        }
        for rest in &cs[i + 1..] {
            if s(rest, "topologyKey") == tk && s(rest, "whenUnsatisfiable") == wu {
                out.push(duplicate(
                    &p.child("{topologyKey, whenUnsatisfiable}"),
                    format!("{{{tk}, {wu}}}"),
                ));
                break;
            }
        }
        if let Some(md) = int(c, "minDomains") {
            if md <= 0 {
                out.push(invalid(
                    &p.child("minDomains"),
                    md,
                    "must be greater than zero",
                ));
            }
            if wu != "DoNotSchedule" {
                out.push(invalid(
                    &p.child("minDomains"),
                    md,
                    &format!(
                        "can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {wu}"
                    ),
                ));
            }
        }
        for f in ["nodeAffinityPolicy", "nodeTaintsPolicy"] {
            if let Some(v) = c.get(f).and_then(Value::as_str) {
                if v != "Honor" && v != "Ignore" {
                    out.push(not_supported(&p.child(f), v, &["Honor", "Ignore"]));
                }
            }
        }
        if let Some(sel) = c.get("labelSelector") {
            out.extend(validate_label_selector(sel, &p.child("labelSelector")));
        }
    }
    out
}
