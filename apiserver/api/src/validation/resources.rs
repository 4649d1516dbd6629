//! Resource names and quantities (requests ≤ limits), container security contexts.

use super::container::local_descending_path;

use super::field::{forbidden, invalid, not_supported, required, Bad, Path};
use super::names::inclusive_range_error;
use super::quantity::{canonical_json, Quantity};
use super::util::{arr, boolean, has, int, obj, s};
use crate::status::Cause;
use serde_json::Value;

pub const STANDARD_CONTAINER_RESOURCES: &[&str] = &["cpu", "memory", "ephemeral-storage"];

/// `helper.IsStandardResourceName`.
pub fn is_standard_resource_name(n: &str) -> bool {
    const STANDARD: &[&str] = &[
        "cpu",
        "memory",
        "ephemeral-storage",
        "requests.cpu",
        "requests.memory",
        "requests.ephemeral-storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
        "pods",
        "services",
        "replicationcontrollers",
        "resourcequotas",
        "secrets",
        "persistentvolumeclaims",
        "configmaps",
        "storage",
        "requests.storage",
        "services.nodeports",
        "services.loadbalancers",
    ];
    STANDARD.contains(&n) || n.starts_with("hugepages-") || n.starts_with("requests.hugepages-")
}

pub fn is_native(n: &str) -> bool {
    !n.contains('/') || n.contains("kubernetes.io/")
}

/// `helper.IsExtendedResourceName`.
pub fn is_extended_resource(n: &str) -> bool {
    !is_native(n)
        && !n.starts_with("requests.")
        && super::names::is_qualified_name(&format!("requests.{n}")).is_empty()
}

/// `helper.IsIntegerResourceName`.
pub fn is_integer_resource(n: &str) -> bool {
    [
        "pods",
        "resourcequotas",
        "services",
        "replicationcontrollers",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "services.nodeports",
        "services.loadbalancers",
    ]
    .contains(&n)
        || is_extended_resource(n)
}

pub fn overcommit_allowed(n: &str) -> bool {
    is_native(n) && !n.starts_with("hugepages-")
}

/// `validateResourceName`.
pub fn validate_resource_name(n: &str, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    for m in super::names::is_qualified_name(n) {
        out.push(invalid(path, n, &m));
    }
    if !out.is_empty() {
        return out;
    }
    if !n.contains('/') && !is_standard_resource_name(n) {
        out.push(invalid(
            path,
            n,
            "must be a standard resource type or fully qualified",
        ));
    }
    out
}

pub fn validate_container_resource_name(n: &str, path: &Path) -> Vec<Cause> {
    let mut out = validate_resource_name(n, path);
    if !n.contains('/') {
        if !STANDARD_CONTAINER_RESOURCES.contains(&n) && !n.starts_with("hugepages-") {
            out.push(invalid(
                path,
                n,
                "must be a standard resource for containers",
            ));
        }
    } else if !is_native(n) && !is_extended_resource(n) {
        {
            out.push(invalid(
                path,
                n,
                "doesn't follow extended resource name standard",
            ));
        }
    }
    out
}

/// `ValidateResourceQuantityValue`.
pub fn validate_quantity_value(name: &str, q: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let Some(parsed) = Quantity::from_json(q) else {
        return out;
    };
    if parsed.is_negative() {
        out.push(invalid(
            path,
            parsed.canonical(),
            super::meta::IS_NEGATIVE_ERROR_MSG,
        ));
    }
    let integer = is_integer_resource(name);
    if integer && parsed.milli_value() % 1000 != 0 {
        out.push(invalid(
            path,
            Bad::Raw(parsed.canonical()),
            "must be an integer",
        ));
    }
    out
}

/// `ValidateContainerResourceRequirements`.
pub fn validate_resources(r: &Value, path: &Path, container: bool) -> Vec<Cause> {
    let mut out = Vec::new();
    let lim_path = path.child("limits");
    let req_path = path.child("requests");
    let limits = obj(r, "limits");
    let name_fn = |n: &str, p: &Path| {
        if container {
            validate_container_resource_name(n, p)
        } else {
            validate_resource_name(n, p)
        }
    };
    let mut lim_cpu_mem = false;
    let mut req_cpu_mem = false;
    let mut huge = false;
    if let Some(l) = limits {
        for (n, q) in l {
            let p = lim_path.key(n);
            out.extend(name_fn(n, &p));
            out.extend(validate_quantity_value(n, q, &p));
            if n.starts_with("hugepages-") {
                huge = true;
            }
            if n == "cpu" || n == "memory" {
                lim_cpu_mem = true;
            }
        }
    }
    if let Some(rq) = obj(r, "requests") {
        for (n, q) in rq {
            let p = req_path.key(n);
            out.extend(name_fn(n, &p));
            out.extend(validate_quantity_value(n, q, &p));
            let req = Quantity::from_json(q);
            match limits.and_then(|l| l.get(n)) {
                Some(lq) => {
                    if let (Some(req), Some(lim)) = (req, Quantity::from_json(lq)) {
                        let ord = req.compare(&lim);
                        if ord != std::cmp::Ordering::Equal && !overcommit_allowed(n) {
                            out.push(invalid(
                                &req_path,
                                req.canonical(),
                                &format!("must be equal to {n} limit of {}", canonical_json(lq)),
                            ));
                        } else if ord == std::cmp::Ordering::Greater {
                            out.push(invalid(
                                &req_path,
                                req.canonical(),
                                &format!(
                                    "must be less than or equal to {n} limit of {}",
                                    canonical_json(lq)
                                ),
                            ));
                        }
                    }
                }
                None => {
                    if !overcommit_allowed(n) {
                        out.push(required(
                            &lim_path,
                            "Limit must be set for non overcommitable resources",
                        ));
                    }
                }
            }
            if n.starts_with("hugepages-") {
                huge = true;
            }
            if n == "cpu" || n == "memory" {
                req_cpu_mem = true;
            }
        }
    }
    if huge && !lim_cpu_mem && !req_cpu_mem {
        out.push(forbidden(path, "HugePages require cpu or memory"));
    }
    out
}

/// `ValidateSecurityContext` (container level).
pub fn validate_security_context(sc: &Value, path: &Path, host_users: bool) -> Vec<Cause> {
    let mut out = Vec::new();
    for (k, what) in [("runAsUser", "user"), ("runAsGroup", "group")] {
        let _ = what;
        if let Some(v) = int(sc, k) {
            if !(0..=0xffff_ffff).contains(&v) {
                out.push(invalid(
                    &path.child(k),
                    v,
                    &inclusive_range_error(0, 4294967295),
                ));
            }
        }
    }
    if let Some(pm) = sc.get("procMount").and_then(Value::as_str) {
        if pm != "Default" && pm != "Unmasked" {
            out.push(not_supported(
                &path.child("procMount"),
                pm,
                &["Default", "Unmasked"],
            ));
        }
        if host_users && pm == "Unmasked" {
            out.push(invalid(
                &path.child("procMount"),
                pm,
                "`hostUsers` must be false to use `Unmasked`",
            ));
        }
    }
    out.extend(validate_seccomp_profile(
        sc.get("seccompProfile"),
        &path.child("seccompProfile"),
    ));
    if boolean(sc, "allowPrivilegeEscalation") == Some(false) {
        if boolean(sc, "privileged") == Some(true) {
            out.push(invalid(
                path,
                Bad::Raw(super::util::go_struct("&core.SecurityContext", sc)),
                "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
            ));
        }
        if sc
            .get("capabilities")
            .map(|c| arr(c, "add"))
            .unwrap_or_default()
            .iter()
            .any(|c| c.as_str() == Some("CAP_SYS_ADMIN"))
        {
            out.push(invalid(
                path,
                Bad::Raw(super::util::go_struct("&core.SecurityContext", sc)),
                "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN",
            ));
        }
    }
    out
}

/// `validateSeccompProfileField`.
pub fn validate_seccomp_profile(sp: Option<&Value>, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let Some(sp) = sp.filter(|v| v.is_object()) else {
        return out;
    };
    let t = s(sp, "type");
    match t {
        "Localhost" | "RuntimeDefault" | "Unconfined" => {}
        "" => out.push(required(&path.child("type"), "")),
        other => out.push(not_supported(
            &path.child("type"),
            other,
            &["Localhost", "RuntimeDefault", "Unconfined"],
        )),
    }
    if t == "Localhost" {
        match sp.get("localhostProfile").and_then(Value::as_str) {
            None => out.push(required(
                &path.child("localhostProfile"),
                "must be set when seccomp type is Localhost",
            )),
            Some(lp) => out.extend(local_descending_path(lp, &path.child("localhostProfile"))),
        }
    } else if has(sp, "localhostProfile") {
        out.push(invalid(
            &path.child("localhostProfile"),
            Bad::Raw(super::util::go_struct("&core.SeccompProfile", sp)),
            "can only be set when seccomp type is Localhost",
        ));
    }
    out
}
