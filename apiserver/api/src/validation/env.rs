//! Container environment: `env`, `envFrom` and the downward-API field selectors.

use super::field::{invalid, not_supported, required, Path};
use super::names::{check_name, is_config_map_key, is_relaxed_env_var_name, NameRule};
use super::util::s;
use crate::status::Cause;
use serde_json::Value;

pub const ENV_FIELD_PATHS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

pub const RESOURCE_FIELD_PATHS: &[&str] = &[
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
];

/// `ValidateEnv` (relaxed names: the gate is on in 1.33).
pub fn validate_env(vars: &[Value], path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    for (i, ev) in vars.iter().enumerate() {
        let p = path.index(i);
        let name = s(ev, "name");
        if name.is_empty() {
            out.push(required(&p.child("name"), ""));
        } else {
            for m in is_relaxed_env_var_name(name) {
                out.push(invalid(&p.child("name"), name, &m));
            }
        }
        out.extend(validate_env_value_from(ev, &p.child("valueFrom")));
    }
    out
}

pub fn validate_env_value_from(ev: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let Some(vf) = ev.get("valueFrom").filter(|v| v.is_object()) else {
        return out;
    };
    let mut n = 0;
    if let Some(fr) = vf.get("fieldRef").filter(|v| !v.is_null()) {
        n += 1;
        out.extend(validate_object_field_selector(
            fr,
            ENV_FIELD_PATHS,
            &path.child("fieldRef"),
        ));
    }
    if let Some(rf) = vf.get("resourceFieldRef").filter(|v| !v.is_null()) {
        n += 1;
        out.extend(validate_resource_field_selector(
            rf,
            false,
            &path.child("resourceFieldRef"),
        ));
    }
    for (key, sub) in [("configMapKeyRef", true), ("secretKeyRef", false)] {
        if let Some(r) = vf.get(key).filter(|v| !v.is_null()) {
            n += 1;
            let _ = sub;
            out.extend(validate_key_selector(r, &path.child(key)));
        }
    }
    if n == 0 {
        out.push(invalid(
            path,
            "",
            "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
        ));
    } else if !s(ev, "value").is_empty() {
        out.push(invalid(
            path,
            "",
            "may not be specified when `value` is not empty",
        ));
    } else if n > 1 {
        out.push(invalid(
            path,
            "",
            "may not have more than one field specified at a time",
        ));
    }
    out
}

/// `validateObjectFieldSelector`.
pub fn validate_object_field_selector(fs: &Value, allowed: &[&str], path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let api_version = s(fs, "apiVersion");
    if api_version.is_empty() {
        out.push(required(&path.child("apiVersion"), ""));
        return out;
    }
    let fp = s(fs, "fieldPath");
    if fp.is_empty() {
        out.push(required(&path.child("fieldPath"), ""));
        return out;
    }
    if api_version != "v1" {
        out.push(invalid(
            &path.child("fieldPath"),
            fp,
            &format!("error converting fieldPath: unsupported pod version: {api_version}"),
        ));
        return out;
    }
    if let Some((base, sub)) = split_subscript(fp) {
        match base {
            "metadata.annotations" => {
                for m in super::names::is_qualified_name(&sub.to_lowercase()) {
                    out.push(invalid(path, sub.to_lowercase(), &m));
                }
            }
            "metadata.labels" => {
                for m in super::names::is_qualified_name(sub) {
                    out.push(invalid(path, sub, &m));
                }
            }
            _ => out.push(invalid(
                &path.child("fieldPath"),
                fp,
                &format!(
                    "error converting fieldPath: field label does not support subscript: {fp}"
                ),
            )),
        }
        return out;
    }
    let converted = match fp {
        "metadata.annotations"
        | "metadata.labels"
        | "metadata.name"
        | "metadata.namespace"
        | "metadata.uid"
        | "spec.nodeName"
        | "spec.restartPolicy"
        | "spec.serviceAccountName"
        | "spec.schedulerName"
        | "status.phase"
        | "status.hostIP"
        | "status.hostIPs"
        | "status.podIP"
        | "status.podIPs" => fp,
        "spec.host" => "spec.nodeName",
        _ => {
            out.push(invalid(
                &path.child("fieldPath"),
                fp,
                &format!("error converting fieldPath: field label not supported: {fp}"),
            ));
            return out;
        }
    };
    if !allowed.contains(&converted) {
        out.push(not_supported(&path.child("fieldPath"), converted, allowed));
    }
    out
}

/// `fieldpath.SplitMaybeSubscriptedPath`: `metadata.labels['key']`.
pub fn split_subscript(fp: &str) -> Option<(&str, &str)> {
    let rest = fp.strip_suffix("']")?;
    let (base, sub) = rest.split_once("['")?;
    Some((base, sub))
}

/// `validateContainerResourceFieldSelector`.
pub fn validate_resource_field_selector(rf: &Value, volume: bool, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let res = s(rf, "resource");
    if volume && s(rf, "containerName").is_empty() {
        out.push(required(&path.child("containerName"), ""));
    } else if res.is_empty() {
        out.push(required(&path.child("resource"), ""));
    } else if !RESOURCE_FIELD_PATHS.contains(&res)
        && !res.starts_with("requests.hugepages-")
        && !res.starts_with("limits.hugepages-")
    {
        out.push(not_supported(
            &path.child("resource"),
            res,
            RESOURCE_FIELD_PATHS,
        ));
    }
    out
}

pub fn validate_key_selector(r: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let name = s(r, "name");
    for m in check_name(NameRule::Subdomain, name, false) {
        out.push(invalid(&path.child("name"), name, &m));
    }
    let key = s(r, "key");
    if key.is_empty() {
        out.push(required(&path.child("key"), ""));
    } else {
        for m in is_config_map_key(key) {
            out.push(invalid(&path.child("key"), key, &m));
        }
    }
    out
}

/// `ValidateEnvFrom`.
pub fn validate_env_from(vars: &[Value], path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    for (i, ev) in vars.iter().enumerate() {
        let p = path.index(i);
        let prefix = s(ev, "prefix");
        if !prefix.is_empty() {
            for m in is_relaxed_env_var_name(prefix) {
                out.push(invalid(&p.child("prefix"), prefix, &m));
            }
        }
        let mut n = 0;
        for key in ["configMapRef", "secretRef"] {
            if let Some(r) = ev.get(key).filter(|v| !v.is_null()) {
                n += 1;
                let name = s(r, "name");
                let np = p.child(key).child("name");
                if name.is_empty() {
                    out.push(required(&np, ""));
                } else {
                    for m in check_name(NameRule::Subdomain, name, true) {
                        out.push(invalid(&np, name, &m));
                    }
                }
            }
        }
        if n == 0 {
            out.push(invalid(
                path,
                "",
                "must specify one of: `configMapRef` or `secretRef`",
            ));
        } else if n > 1 {
            out.push(invalid(
                path,
                "",
                "may not have more than one field specified at a time",
            ));
        }
    }
    out
}
