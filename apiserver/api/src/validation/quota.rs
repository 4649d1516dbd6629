//! LimitRanges and ResourceQuotas.

use super::container::{validate_quantity_value, validate_resource_name};
use super::field::{forbidden, invalid, required, Bad, Path};
use super::meta::{validate_object_meta, validate_object_meta_update, FIELD_IMMUTABLE};
use super::names::{is_qualified_name, NameRule};
use super::quantity::Quantity;
use super::util::{arr, obj, s};
use crate::status::Cause;
use rkube_patch::go_format::go_quote;
use serde_json::Value;
use std::collections::HashSet;

pub const STANDARD_LIMIT_TYPES: &[&str] = &["Pod", "Container", "PersistentVolumeClaim"];

/// `ValidateLimitRange`.
pub fn validate_limit_range(lr: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta(lr, true, NameRule::Subdomain);
    let null = Value::Null;
    let spec = lr.get("spec").unwrap_or(&null);
    let lp = Path::new("spec.limits");
    let mut types = HashSet::new();
    for (i, limit) in arr(spec, "limits").iter().enumerate() {
        let p = lp.index(i);
        let t = s(limit, "type");
        let tp = p.child("type");
        let qerrs: Vec<String> = is_qualified_name(t);
        if !qerrs.is_empty() {
            for m in qerrs {
                out.push(invalid(&tp, t, &m));
            }
        } else if !t.contains('/') && !STANDARD_LIMIT_TYPES.contains(&t) {
            out.push(invalid(
                &tp,
                t,
                "must be a standard limit type or fully qualified",
            ));
        }
        if !types.insert(t.to_string()) {
            out.push(super::field::duplicate(&tp, t));
        }
        let q = |key: &str, name: &str| {
            limit
                .get(key)
                .and_then(|m| m.get(name))
                .and_then(Quantity::from_json)
        };
        let mut keys: Vec<String> = Vec::new();
        for key in [
            "max",
            "min",
            "default",
            "defaultRequest",
            "maxLimitRequestRatio",
        ] {
            if t == "Pod" && (key == "default" || key == "defaultRequest") {
                if obj(limit, key).is_some_and(|m| !m.is_empty()) {
                    out.push(forbidden(
                        &p.child(key),
                        "may not be specified when `type` is 'Pod'",
                    ));
                }
                continue;
            }
            if let Some(m) = obj(limit, key) {
                for k in m.keys() {
                    out.extend(validate_resource_name(k, &p.child(key).key(k)));
                    if !keys.contains(k) {
                        keys.push(k.clone());
                    }
                }
            }
        }
        if t == "PersistentVolumeClaim"
            && q("min", "storage").is_none()
            && q("max", "storage").is_none()
        {
            out.push(required(
                &p.child("limits"),
                "either minimum or maximum storage value is required, but neither was provided",
            ));
        }
        for k in &keys {
            let (min, max, def, defreq, ratio) = (
                q("min", k),
                q("max", k),
                if t == "Pod" { None } else { q("default", k) },
                if t == "Pod" {
                    None
                } else {
                    q("defaultRequest", k)
                },
                q("maxLimitRequestRatio", k),
            );
            use std::cmp::Ordering::Greater;
            let qs = |q: &Quantity| Bad::Str(q.canonical());
            if let (Some(mn), Some(mx)) = (min, max) {
                if mn.compare(&mx) == Greater {
                    out.push(invalid(
                        &p.child("min").key(k),
                        qs(&mn),
                        &format!(
                            "min value {} is greater than max value {}",
                            mn.canonical(),
                            mx.canonical()
                        ),
                    ));
                }
            }
            if let (Some(dr), Some(mn)) = (defreq, min) {
                if mn.compare(&dr) == Greater {
                    out.push(invalid(
                        &p.child("defaultRequest").key(k),
                        qs(&dr),
                        &format!(
                            "min value {} is greater than default request value {}",
                            mn.canonical(),
                            dr.canonical()
                        ),
                    ));
                }
            }
            if let (Some(dr), Some(mx)) = (defreq, max) {
                if dr.compare(&mx) == Greater {
                    out.push(invalid(
                        &p.child("defaultRequest").key(k),
                        qs(&dr),
                        &format!(
                            "default request value {} is greater than max value {}",
                            dr.canonical(),
                            mx.canonical()
                        ),
                    ));
                }
            }
            if let (Some(dr), Some(d)) = (defreq, def) {
                if dr.compare(&d) == Greater {
                    out.push(invalid(
                        &p.child("defaultRequest").key(k),
                        qs(&dr),
                        &format!(
                            "default request value {} is greater than default limit value {}",
                            dr.canonical(),
                            d.canonical()
                        ),
                    ));
                }
            }
            if let (Some(d), Some(mn)) = (def, min) {
                if mn.compare(&d) == Greater {
                    out.push(invalid(
                        &p.child("default").key(k),
                        qs(&mn),
                        &format!(
                            "min value {} is greater than default value {}",
                            mn.canonical(),
                            d.canonical()
                        ),
                    ));
                }
            }
            if let (Some(d), Some(mx)) = (def, max) {
                if d.compare(&mx) == Greater {
                    out.push(invalid(
                        &p.child("default").key(k),
                        qs(&mx),
                        &format!(
                            "default value {} is greater than max value {}",
                            d.canonical(),
                            mx.canonical()
                        ),
                    ));
                }
            }
            if let Some(r) = ratio {
                if r.compare(&Quantity::parse("1").unwrap_or(r)) == std::cmp::Ordering::Less {
                    out.push(invalid(
                        &p.child("maxLimitRequestRatio").key(k),
                        qs(&r),
                        &format!("ratio {} is less than 1", r.canonical()),
                    ));
                }
            }
        }
    }
    out
}

/// `ValidateResourceQuota` (spec and status).
pub fn validate_resource_quota(rq: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta(rq, true, NameRule::Subdomain);
    out.extend(resource_quota_spec(rq));
    out.extend(resource_quota_status(rq));
    out
}

pub fn quota_resource_name(k: &str, p: &Path) -> Vec<Cause> {
    let mut out = validate_resource_name(k, p);
    if out.is_empty() && !k.contains('/') && !is_standard_quota_resource(k) {
        out.push(invalid(p, k, "must be a standard resource for quota"));
    }
    out
}

pub fn is_standard_quota_resource(k: &str) -> bool {
    const QUOTA: &[&str] = &[
        "pods",
        "services",
        "replicationcontrollers",
        "resourcequotas",
        "secrets",
        "persistentvolumeclaims",
        "configmaps",
        "cpu",
        "memory",
        "ephemeral-storage",
        "requests.cpu",
        "requests.memory",
        "requests.ephemeral-storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
        "requests.storage",
        "services.nodeports",
        "services.loadbalancers",
    ];
    QUOTA.contains(&k)
        || k.starts_with("hugepages-")
        || k.starts_with("requests.hugepages-")
        || k.starts_with("count/")
}

pub fn resource_quota_spec(rq: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    let null = Value::Null;
    let spec = rq.get("spec").unwrap_or(&null);
    if let Some(hard) = obj(spec, "hard") {
        for (k, v) in hard {
            let p = Path::new("spec.hard").key(k);
            out.extend(quota_resource_name(k, &p));
            out.extend(validate_quantity_value(k, v, &p));
        }
    }
    let scopes = arr(spec, "scopes");
    const SCOPES: &[&str] = &[
        "Terminating",
        "NotTerminating",
        "BestEffort",
        "NotBestEffort",
        "PriorityClass",
        "CrossNamespacePodAffinity",
        "VolumeAttributesClass",
    ];
    let scope_strs: Vec<&str> = scopes.iter().filter_map(Value::as_str).collect();
    let bad = || Bad::Raw(go_scopes(&scope_strs));
    for sc in &scope_strs {
        if !SCOPES.contains(sc) {
            out.push(invalid(
                &Path::new("spec.scopes"),
                bad(),
                "unsupported scope",
            ));
        }
    }
    let has_scope = |x: &str| scope_strs.contains(&x);
    if (has_scope("BestEffort") && has_scope("NotBestEffort"))
        || (has_scope("Terminating") && has_scope("NotTerminating"))
    {
        out.push(invalid(
            &Path::new("spec.scopes"),
            bad(),
            "conflicting scopes",
        ));
    }
    if let Some(ss) = spec.get("scopeSelector").filter(|v| v.is_object()) {
        let mp = Path::new("spec.scopeSelector.matchExpressions");
        for req in arr(ss, "matchExpressions") {
            let name = s(req, "scopeName");
            if !SCOPES.contains(&name) {
                out.push(invalid(&mp.child("scopeName"), name, "unsupported scope"));
            }
            let op = s(req, "operator");
            let values = arr(req, "values");
            match op {
                "In" | "NotIn" => {
                    if values.is_empty() {
                        out.push(required(&mp.child("values"), "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"));
                    }
                }
                "Exists" | "DoesNotExist" => {
                    if !values.is_empty() {
                        out.push(invalid(&mp.child("values"), Bad::Raw(super::meta::go_string_slice(values)), "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"));
                    }
                }
                other => out.push(invalid(
                    &mp.child("operator"),
                    other,
                    "not a valid selector operator",
                )),
            }
        }
    }
    out
}

pub fn go_scopes(scopes: &[&str]) -> String {
    let inner: Vec<String> = scopes.iter().map(|s| go_quote(s)).collect();
    format!("[]core.ResourceQuotaScope{{{}}}", inner.join(", "))
}

pub fn resource_quota_status(rq: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    let null = Value::Null;
    let status = rq.get("status").unwrap_or(&null);
    for key in ["hard", "used"] {
        if let Some(m) = obj(status, key) {
            for (k, v) in m {
                let p = Path::new("status").child(key).key(k);
                out.extend(quota_resource_name(k, &p));
                out.extend(validate_quantity_value(k, v, &p));
            }
        }
    }
    out
}

/// `ValidateResourceQuotaUpdate`: scopes immutable.
pub fn validate_resource_quota_update(new: &Value, old: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta_update(new, old);
    out.extend(resource_quota_spec(new));
    let set = |v: &Value| -> HashSet<String> {
        v.get("spec")
            .map(|sp| {
                arr(sp, "scopes")
                    .iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    if set(new) != set(old) {
        let scopes: Vec<&str> = new
            .get("spec")
            .map(|sp| arr(sp, "scopes").iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        out.push(invalid(
            &Path::new("spec.scopes"),
            Bad::Raw(go_scopes(&scopes)),
            FIELD_IMMUTABLE,
        ));
    }
    out
}

pub fn validate_resource_quota_status_update(new: &Value, old: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta_update(new, old);
    out.extend(resource_quota_status(new));
    out
}
