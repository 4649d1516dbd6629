//! ConfigMaps, Secrets, Namespaces, ServiceAccounts, LimitRanges, ResourceQuotas,
//! PersistentVolumeClaims and PersistentVolumes.

use std::collections::HashSet;

use serde_json::Value;

use super::container::{validate_quantity_value, validate_resource_name};
use super::field::{forbidden, invalid, not_supported, required, too_long, Bad, Path};
use super::meta::{
    immutable, validate_label_selector, validate_object_meta, validate_object_meta_update,
    FIELD_IMMUTABLE,
};
use super::names::{check_name, is_config_map_key, is_qualified_name, NameRule};
use super::pod::semantic_eq;
use super::quantity::Quantity;
use super::util::{arr, boolean, has, obj, s};
use crate::status::Cause;

/// `core.MaxSecretSize`.
pub const MAX_SECRET_SIZE: usize = 1024 * 1024;

/// Decoded length of a base64 string (the JSON form of `[]byte`).
pub fn base64_len(s: &str) -> usize {
    let t = s.trim_end_matches('=');
    t.len() * 3 / 4
}

/// `ValidateConfigMap`.
pub fn validate_config_map(cm: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta(cm, true, NameRule::Subdomain);
    let mut total = 0usize;
    let binary = obj(cm, "binaryData");
    if let Some(data) = obj(cm, "data") {
        for (k, v) in data {
            let p = Path::new("data").key(k);
            for m in is_config_map_key(k) {
                out.push(invalid(&p, k.as_str(), &m));
            }
            if binary.is_some_and(|b| b.contains_key(k)) {
                out.push(invalid(
                    &p,
                    k.as_str(),
                    "duplicate of key present in binaryData",
                ));
            }
            total += v.as_str().map_or(0, str::len);
        }
    }
    if let Some(b) = binary {
        for (k, v) in b {
            for m in is_config_map_key(k) {
                out.push(invalid(&Path::new("binaryData").key(k), k.as_str(), &m));
            }
            total += v.as_str().map_or(0, base64_len);
        }
    }
    if total > MAX_SECRET_SIZE {
        out.push(too_long(&Path::new(""), MAX_SECRET_SIZE));
    }
    out
}

fn immutable_data_checks(new: &Value, old: &Value, fields: &[&str]) -> Vec<Cause> {
    let mut out = Vec::new();
    if boolean(old, "immutable") == Some(true) {
        if boolean(new, "immutable") != Some(true) {
            out.push(forbidden(
                &Path::new("immutable"),
                "field is immutable when `immutable` is set",
            ));
        }
        for f in fields {
            let n = new.get(*f).filter(|v| !v.is_null());
            let o = old.get(*f).filter(|v| !v.is_null());
            if n != o {
                out.push(forbidden(
                    &Path::new(f),
                    "field is immutable when `immutable` is set",
                ));
            }
        }
    }
    out
}

/// `ValidateConfigMapUpdate`.
pub fn validate_config_map_update(new: &Value, old: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta_update(new, old);
    out.extend(immutable_data_checks(new, old, &["data", "binaryData"]));
    out.extend(validate_config_map(new));
    out
}

/// `ValidateSecret`.
pub fn validate_secret(secret: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta(secret, true, NameRule::Subdomain);
    let dp = Path::new("data");
    let data = obj(secret, "data");
    let mut total = 0usize;
    if let Some(d) = data {
        for (k, v) in d {
            for m in is_config_map_key(k) {
                out.push(invalid(&dp.key(k), k.as_str(), &m));
            }
            total += v.as_str().map_or(0, base64_len);
        }
    }
    if total > MAX_SECRET_SIZE {
        out.push(too_long(&dp, MAX_SECRET_SIZE));
    }
    let has_key = |k: &str| data.is_some_and(|d| d.contains_key(k));
    let key_len = |k: &str| {
        data.and_then(|d| d.get(k))
            .and_then(Value::as_str)
            .map_or(0, base64_len)
    };
    match s(secret, "type") {
        "kubernetes.io/service-account-token" => {
            let name = secret
                .get("metadata")
                .and_then(|m| m.get("annotations"))
                .and_then(|a| a.get("kubernetes.io/service-account.name"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            if name.is_empty() {
                out.push(required(
                    &Path::new("metadata.annotations").key("kubernetes.io/service-account.name"),
                    "",
                ));
            }
        }
        "kubernetes.io/dockercfg" | "kubernetes.io/dockerconfigjson" => {
            let key = if s(secret, "type") == "kubernetes.io/dockercfg" {
                ".dockercfg"
            } else {
                ".dockerconfigjson"
            };
            if !has_key(key) {
                out.push(required(&dp.key(key), ""));
            } else {
                let raw = data
                    .and_then(|d| d.get(key))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let decoded = base64_decode(raw).unwrap_or_default();
                match serde_json::from_slice::<Value>(&decoded) {
                    Ok(Value::Object(_)) => {}
                    Ok(other) => out.push(invalid(
                        &dp.key(key),
                        "<secret contents redacted>",
                        &format!(
                            "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                            json_type_name(&other)
                        ),
                    )),
                    Err(e) => out.push(invalid(
                        &dp.key(key),
                        "<secret contents redacted>",
                        &go_json_syntax_error(&e, &decoded),
                    )),
                }
            }
        }
        "kubernetes.io/basic-auth" if !has_key("username") && !has_key("password") => {
            out.push(required(&dp.key("username"), ""));
            out.push(required(&dp.key("password"), ""));
        }
        "kubernetes.io/ssh-auth" if key_len("ssh-privatekey") == 0 => {
            out.push(required(&dp.key("ssh-privatekey"), ""));
        }
        "kubernetes.io/tls" => {
            if !has_key("tls.crt") {
                out.push(required(&dp.key("tls.crt"), ""));
            }
            if !has_key("tls.key") {
                out.push(required(&dp.key("tls.key"), ""));
            }
        }
        _ => {}
    }
    out
}

fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// An approximation of Go's `encoding/json` syntax error text.
fn go_json_syntax_error(e: &serde_json::Error, input: &[u8]) -> String {
    if input.iter().all(u8::is_ascii_whitespace) || e.is_eof() {
        return "unexpected end of JSON input".to_string();
    }
    let col = e.column().saturating_sub(1);
    let offset: usize = input
        .split(|b| *b == b'\n')
        .take(e.line().saturating_sub(1))
        .map(|l| l.len() + 1)
        .sum::<usize>()
        + col;
    let c = input.get(offset).copied().unwrap_or(b' ') as char;
    format!("invalid character '{c}' looking for beginning of value")
}

/// Standard base64 decoding (padding optional).
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            b'\r' | b'\n' => continue,
            _ => return None,
        };
        buf = (buf << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// `ValidateSecretUpdate`.
pub fn validate_secret_update(new: &Value, old: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta_update(new, old);
    let (nt, ot) = (s(new, "type"), s(old, "type"));
    if nt != ot {
        out.push(invalid(&Path::new("type"), nt, FIELD_IMMUTABLE));
    }
    out.extend(immutable_data_checks(new, old, &["data"]));
    out.extend(validate_secret(new));
    out
}

/// `ValidateNamespace`.
pub fn validate_namespace(ns: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta(ns, false, NameRule::Label);
    let null = Value::Null;
    let spec = ns.get("spec").unwrap_or(&null);
    let fp = Path::new("spec.finalizers");
    for f in arr(spec, "finalizers") {
        let f = f.as_str().unwrap_or_default();
        for m in is_qualified_name(f) {
            out.push(invalid(&fp, f, &m));
        }
        if !f.contains('/') && !["kubernetes", "orphan", "foregroundDeletion"].contains(&f) {
            out.push(invalid(
                &fp,
                f,
                "name is neither a standard finalizer name nor is it fully qualified",
            ));
        }
    }
    out
}

/// `ValidateNamespaceStatusUpdate`.
pub fn validate_namespace_status(new: &Value, old: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta_update(new, old);
    let deleting = new
        .get("metadata")
        .is_some_and(|m| !s(m, "deletionTimestamp").is_empty());
    let phase = new
        .get("status")
        .map(|st| s(st, "phase"))
        .unwrap_or_default();
    let p = Path::new("status.Phase");
    if !deleting && phase != "Active" {
        out.push(invalid(
            &p,
            phase,
            "may only be 'Active' if `deletionTimestamp` is empty",
        ));
    } else if deleting && phase != "Terminating" {
        out.push(invalid(
            &p,
            phase,
            "may only be 'Terminating' if `deletionTimestamp` is not empty",
        ));
    }
    out
}

const STANDARD_LIMIT_TYPES: &[&str] = &["Pod", "Container", "PersistentVolumeClaim"];

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

fn quota_resource_name(k: &str, p: &Path) -> Vec<Cause> {
    let mut out = validate_resource_name(k, p);
    if out.is_empty() && !k.contains('/') && !is_standard_quota_resource(k) {
        out.push(invalid(p, k, "must be a standard resource for quota"));
    }
    out
}

fn is_standard_quota_resource(k: &str) -> bool {
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

fn resource_quota_spec(rq: &Value) -> Vec<Cause> {
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

fn go_scopes(scopes: &[&str]) -> String {
    let inner: Vec<String> = scopes.iter().map(|s| super::field::go_quote(s)).collect();
    format!("[]core.ResourceQuotaScope{{{}}}", inner.join(", "))
}

fn resource_quota_status(rq: &Value) -> Vec<Cause> {
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

const ACCESS_MODES: &[&str] = &[
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOnce",
    "ReadWriteOncePod",
];

/// `ValidatePersistentVolumeClaimSpec`.
pub fn validate_pvc_spec(spec: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let modes = arr(spec, "accessModes");
    if modes.is_empty() {
        out.push(required(
            &path.child("accessModes"),
            "at least 1 access mode is required",
        ));
    }
    if let Some(sel) = spec.get("selector").filter(|v| !v.is_null()) {
        out.extend(validate_label_selector(sel, &path.child("selector")));
    }
    let (mut rwop, mut other) = (false, false);
    for m in modes {
        let m = m.as_str().unwrap_or_default();
        if !ACCESS_MODES.contains(&m) {
            out.push(not_supported(&path.child("accessModes"), m, ACCESS_MODES));
        }
        if m == "ReadWriteOncePod" {
            rwop = true;
        } else if ACCESS_MODES.contains(&m) {
            other = true;
        }
    }
    if rwop && other {
        out.push(forbidden(
            &path.child("accessModes"),
            "may not use ReadWriteOncePod with other access modes",
        ));
    }
    let sp = path.child("resources").key("storage");
    match spec
        .get("resources")
        .and_then(|r| r.get("requests"))
        .and_then(|r| r.get("storage"))
    {
        None => out.push(required(&sp, "")),
        Some(q) => {
            if let Some(qq) = Quantity::from_json(q) {
                if qq.sign() <= 0 {
                    out.push(invalid(&sp, qq.canonical(), "must be greater than zero"));
                }
            }
        }
    }
    if let Some(sc) = spec.get("storageClassName").and_then(Value::as_str) {
        if !sc.is_empty() {
            for m in check_name(NameRule::Subdomain, sc, false) {
                out.push(invalid(&path.child("storageClassName"), sc, &m));
            }
        }
    }
    if let Some(vm) = spec.get("volumeMode").and_then(Value::as_str) {
        if vm != "Block" && vm != "Filesystem" {
            out.push(not_supported(
                &path.child("volumeMode"),
                vm,
                &["Block", "Filesystem"],
            ));
        }
    }
    out
}

/// `ValidatePersistentVolumeClaim` (+ update rules).
pub fn validate_pvc(pvc: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(old) = old {
        out.extend(validate_object_meta_update(pvc, old));
    }
    out.extend(validate_object_meta(pvc, true, NameRule::Subdomain));
    let null = Value::Null;
    out.extend(validate_pvc_spec(
        pvc.get("spec").unwrap_or(&null),
        &Path::new("spec"),
    ));
    if let Some(old) = old {
        let mut ns = pvc.get("spec").cloned().unwrap_or(Value::Null);
        let os = old.get("spec").cloned().unwrap_or(Value::Null);
        if s(&os, "volumeName").is_empty() {
            if let Some(m) = ns.as_object_mut() {
                match os.get("volumeName") {
                    Some(v) => m.insert("volumeName".into(), v.clone()),
                    None => m.remove("volumeName"),
                };
            }
        }
        let bound = pvc.get("status").map(|st| s(st, "phase")) == Some("Bound");
        if bound {
            if let (Some(m), Some(storage)) = (
                ns.get_mut("resources")
                    .and_then(|r| r.get_mut("requests"))
                    .and_then(Value::as_object_mut),
                os.get("resources")
                    .and_then(|r| r.get("requests"))
                    .and_then(|r| r.get("storage")),
            ) {
                m.insert("storage".into(), storage.clone());
            }
            if let Some(m) = ns.as_object_mut() {
                match os.get("volumeAttributesClassName") {
                    Some(v) => m.insert("volumeAttributesClassName".into(), v.clone()),
                    None => m.remove("volumeAttributesClassName"),
                };
            }
        }
        if !semantic_eq(&ns, &os) {
            out.push(forbidden(
                &Path::new("spec"),
                "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n",
            ));
        }
        let q = |v: &Value| {
            v.get("spec")
                .and_then(|sp| sp.get("resources"))
                .and_then(|r| r.get("requests"))
                .and_then(|r| r.get("storage"))
                .and_then(Quantity::from_json)
        };
        if let (Some(n), Some(o)) = (q(pvc), q(old)) {
            if n.compare(&o) == std::cmp::Ordering::Less {
                let cap = old
                    .get("status")
                    .and_then(|st| st.get("capacity"))
                    .and_then(|c| c.get("storage"))
                    .and_then(Quantity::from_json);
                if cap.is_none_or(|c| n.compare(&c) != std::cmp::Ordering::Greater) {
                    out.push(forbidden(
                        &Path::new("spec.resources.requests.storage"),
                        "field can not be less than status.capacity",
                    ));
                }
            }
        }
        out.extend(immutable(
            pvc.get("spec").and_then(|sp| sp.get("volumeMode")),
            old.get("spec").and_then(|sp| sp.get("volumeMode")),
            Bad::Raw(format!(
                "\"{}\"",
                pvc.get("spec")
                    .map(|sp| s(sp, "volumeMode"))
                    .unwrap_or_default()
            )),
            &Path::new("volumeMode"),
        ));
    }
    out
}

const PV_SOURCES: &[&str] = &[
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "hostPath",
    "glusterfs",
    "nfs",
    "rbd",
    "iscsi",
    "cinder",
    "cephfs",
    "fc",
    "flocker",
    "flexVolume",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "local",
    "storageos",
    "csi",
];

/// `ValidatePersistentVolume` (light).
pub fn validate_pv(pv: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(old) = old {
        out.extend(validate_object_meta_update(pv, old));
    }
    out.extend(validate_object_meta(pv, false, NameRule::Subdomain));
    let null = Value::Null;
    let spec = pv.get("spec").unwrap_or(&null);
    let sp = Path::new("spec");
    let modes = arr(spec, "accessModes");
    if modes.is_empty() {
        out.push(required(&sp.child("accessModes"), ""));
    }
    for m in modes {
        let m = m.as_str().unwrap_or_default();
        if !ACCESS_MODES.contains(&m) {
            out.push(not_supported(&sp.child("accessModes"), m, ACCESS_MODES));
        }
    }
    match obj(spec, "capacity") {
        None => out.push(required(&sp.child("capacity"), "")),
        Some(c) => {
            if !c.contains_key("storage") || c.len() > 1 {
                out.push(not_supported(
                    &sp.child("capacity"),
                    Bad::Raw(super::util::go_struct(
                        "core.ResourceList",
                        &Value::Object(c.clone()),
                    )),
                    &["storage"],
                ));
            }
            for (k, v) in c {
                out.extend(validate_quantity_value(k, v, &sp.child("capacity").key(k)));
            }
        }
    }
    if let Some(p) = spec
        .get("persistentVolumeReclaimPolicy")
        .and_then(Value::as_str)
    {
        if !["Delete", "Recycle", "Retain"].contains(&p) {
            out.push(not_supported(
                &sp.child("persistentVolumeReclaimPolicy"),
                p,
                &["Delete", "Recycle", "Retain"],
            ));
        }
    }
    let mut n = 0;
    for src in PV_SOURCES {
        if has(spec, src) {
            if n > 0 {
                out.push(forbidden(
                    &sp.child(src),
                    "may not specify more than 1 volume type",
                ));
            }
            n += 1;
        }
    }
    if n == 0 {
        out.push(required(&sp, "must specify a volume type"));
    }
    if let Some(vm) = spec.get("volumeMode").and_then(Value::as_str) {
        if vm != "Block" && vm != "Filesystem" {
            out.push(not_supported(
                &sp.child("volumeMode"),
                vm,
                &["Block", "Filesystem"],
            ));
        }
    }
    out
}

/// `ValidateServiceAccount`.
pub fn validate_service_account(sa: &Value) -> Vec<Cause> {
    validate_object_meta(sa, true, NameRule::Subdomain)
}
