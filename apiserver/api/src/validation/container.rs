//! Containers: names, images, ports, env, mounts, probes, resources, security context
//! (`validateContainers`, `validateInitContainers`, `validateContainerCommon`).

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::field::{duplicate, forbidden, invalid, not_found, not_supported, required, Bad, Path};
use super::names::{
    check_name, inclusive_range_error, is_config_map_key, is_dns1123_label, is_http_header_name,
    is_relaxed_env_var_name, is_valid_port_name, is_valid_port_num, NameRule,
};
use super::quantity::{canonical_json, Quantity};
use super::util::{arr, boolean, has, int, obj, s};
use crate::status::Cause;

/// What container validation needs from the enclosing pod spec.
pub struct SpecCtx<'a> {
    /// Volumes that validated, by name.
    pub volumes: &'a HashMap<String, Value>,
    pub grace: Option<i64>,
    pub restart_policy: &'a str,
    pub host_users: bool,
}

pub const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];

pub fn dns_label(value: &str, path: &Path, out: &mut Vec<Cause>) {
    for m in is_dns1123_label(value) {
        out.push(invalid(path, value, &m));
    }
}

/// `validateContainers`.
pub fn validate_containers(containers: &[Value], ctx: &SpecCtx, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    if containers.is_empty() {
        out.push(required(path, ""));
        return out;
    }
    let mut names = HashSet::new();
    for (i, c) in containers.iter().enumerate() {
        let p = path.index(i);
        out.extend(validate_container_common(c, ctx, &p));
        let name = s(c, "name");
        if !names.insert(name.to_string()) {
            out.push(duplicate(&p.child("name"), name));
        }
        if let Some(l) = c.get("lifecycle").filter(|l| !l.is_null()) {
            out.extend(validate_lifecycle(l, ctx.grace, &p.child("lifecycle")));
        }
        out.extend(validate_probe(c, "livenessProbe", ctx.grace, &p));
        out.extend(validate_probe(c, "readinessProbe", ctx.grace, &p));
        out.extend(validate_probe(c, "startupProbe", ctx.grace, &p));
        if has(c, "restartPolicy") {
            out.push(forbidden(
                &p.child("restartPolicy"),
                "may not be set for non-init containers",
            ));
        }
    }
    out.extend(check_host_port_conflicts(containers, path));
    out
}

/// `validateInitContainers`.
pub fn validate_init_containers(
    inits: &[Value],
    regular: &[Value],
    ctx: &SpecCtx,
    path: &Path,
) -> Vec<Cause> {
    let mut out = Vec::new();
    let mut names: HashSet<String> = regular.iter().map(|c| s(c, "name").to_string()).collect();
    for (i, c) in inits.iter().enumerate() {
        let p = path.index(i);
        out.extend(validate_container_common(c, ctx, &p));
        let mut restart_always = false;
        if let Some(rp) = c.get("restartPolicy").and_then(Value::as_str) {
            if rp != "Always" {
                out.push(not_supported(&p.child("restartPolicy"), rp, &["Always"]));
            }
            restart_always = rp == "Always";
        }
        let name = s(c, "name");
        if names.contains(name) {
            out.push(duplicate(&p.child("name"), name));
        } else if !name.is_empty() {
            names.insert(name.to_string());
        }
        out.extend(check_host_port_conflicts(std::slice::from_ref(c), path));
        if restart_always {
            if let Some(l) = c.get("lifecycle").filter(|l| !l.is_null()) {
                out.extend(validate_lifecycle(l, ctx.grace, &p.child("lifecycle")));
            }
            out.extend(validate_probe(c, "livenessProbe", ctx.grace, &p));
            out.extend(validate_probe(c, "readinessProbe", ctx.grace, &p));
            out.extend(validate_probe(c, "startupProbe", ctx.grace, &p));
        } else {
            for f in [
                "lifecycle",
                "livenessProbe",
                "readinessProbe",
                "startupProbe",
            ] {
                if has(c, f) {
                    out.push(forbidden(
                        &p.child(f),
                        "may not be set for init containers without restartPolicy=Always",
                    ));
                }
            }
        }
    }
    out
}

/// `validateContainerCommon`.
pub fn validate_container_common(c: &Value, ctx: &SpecCtx, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let name = s(c, "name");
    let name_path = path.child("name");
    if name.is_empty() {
        out.push(required(&name_path, ""));
    } else {
        dns_label(name, &name_path, &mut out);
    }
    if s(c, "image").is_empty() {
        out.push(required(&path.child("image"), ""));
    }
    match s(c, "terminationMessagePolicy") {
        "File" | "FallbackToLogsOnError" => {}
        "" => out.push(required(&path.child("terminationMessagePolicy"), "")),
        other => out.push(not_supported(
            &path.child("terminationMessagePolicy"),
            other,
            &["File", "FallbackToLogsOnError"],
        )),
    }
    let devices: HashMap<String, String> = arr(c, "volumeDevices")
        .iter()
        .map(|d| (s(d, "name").to_string(), s(d, "devicePath").to_string()))
        .collect();
    out.extend(validate_ports(arr(c, "ports"), &path.child("ports")));
    out.extend(validate_env(arr(c, "env"), &path.child("env")));
    out.extend(validate_env_from(arr(c, "envFrom"), &path.child("envFrom")));
    out.extend(validate_volume_mounts(
        arr(c, "volumeMounts"),
        &devices,
        ctx.volumes,
        &path.child("volumeMounts"),
    ));
    out.extend(validate_volume_devices(
        arr(c, "volumeDevices"),
        arr(c, "volumeMounts"),
        ctx.volumes,
        &path.child("volumeDevices"),
    ));
    out.extend(validate_pull_policy(
        s(c, "imagePullPolicy"),
        &path.child("imagePullPolicy"),
    ));
    if let Some(r) = c.get("resources") {
        out.extend(validate_resources(r, &path.child("resources"), true));
    }
    out.extend(validate_resize_policy(
        arr(c, "resizePolicy"),
        ctx.restart_policy,
        &path.child("resizePolicy"),
    ));
    if let Some(sc) = c.get("securityContext").filter(|v| v.is_object()) {
        out.extend(validate_security_context(
            sc,
            &path.child("securityContext"),
            ctx.host_users,
        ));
    }
    out
}

pub fn validate_pull_policy(policy: &str, path: &Path) -> Vec<Cause> {
    match policy {
        "Always" | "IfNotPresent" | "Never" => vec![],
        "" => vec![required(path, "")],
        other => vec![not_supported(
            path,
            other,
            &["Always", "IfNotPresent", "Never"],
        )],
    }
}

fn validate_resize_policy(list: &[Value], restart_policy: &str, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (i, p) in list.iter().enumerate() {
        let rn = s(p, "resourceName");
        if !seen.insert(rn.to_string()) {
            out.push(duplicate(&path.index(i), rn));
        }
        match rn {
            "cpu" | "memory" => {}
            "" => out.push(required(path, "")),
            other => out.push(not_supported(path, other, &["cpu", "memory"])),
        }
        let rp = s(p, "restartPolicy");
        match rp {
            "NotRequired" | "RestartContainer" => {}
            "" => out.push(required(path, "")),
            other => out.push(not_supported(
                path,
                other,
                &["NotRequired", "RestartContainer"],
            )),
        }
        if restart_policy == "Never" && rp != "NotRequired" {
            out.push(invalid(
                path,
                rp,
                "must be 'NotRequired' when `restartPolicy` is 'Never'",
            ));
        }
    }
    out
}

/// `validateContainerPorts`.
pub fn validate_ports(ports: &[Value], path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let mut names = HashSet::new();
    for (i, port) in ports.iter().enumerate() {
        let p = path.index(i);
        let name = s(port, "name");
        if !name.is_empty() {
            let msgs = is_valid_port_name(name);
            if !msgs.is_empty() {
                for m in msgs {
                    out.push(invalid(&p.child("name"), name, &m));
                }
            } else if !names.insert(name.to_string()) {
                out.push(duplicate(&p.child("name"), name));
            }
        }
        let cp = int(port, "containerPort").unwrap_or(0);
        if cp == 0 {
            out.push(required(&p.child("containerPort"), ""));
        } else {
            for m in is_valid_port_num(cp) {
                out.push(invalid(&p.child("containerPort"), cp, &m));
            }
        }
        let hp = int(port, "hostPort").unwrap_or(0);
        if hp != 0 {
            for m in is_valid_port_num(hp) {
                out.push(invalid(&p.child("hostPort"), hp, &m));
            }
        }
        let proto = s(port, "protocol");
        if proto.is_empty() {
            out.push(required(&p.child("protocol"), ""));
        } else if !PROTOCOLS.contains(&proto) {
            out.push(not_supported(&p.child("protocol"), proto, PROTOCOLS));
        }
    }
    out
}

/// `AccumulateUniqueHostPorts` over one list of containers.
pub fn check_host_port_conflicts(containers: &[Value], path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (ci, c) in containers.iter().enumerate() {
        for (pi, port) in arr(c, "ports").iter().enumerate() {
            let hp = int(port, "hostPort").unwrap_or(0);
            if hp == 0 {
                continue;
            }
            let key = format!("{}/{}/{}", s(port, "protocol"), s(port, "hostIP"), hp);
            if !seen.insert(key.clone()) {
                out.push(duplicate(
                    &path.index(ci).child("ports").index(pi).child("hostPort"),
                    key,
                ));
            }
        }
    }
    out
}

const ENV_FIELD_PATHS: &[&str] = &[
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

fn validate_env_value_from(ev: &Value, path: &Path) -> Vec<Cause> {
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
fn split_subscript(fp: &str) -> Option<(&str, &str)> {
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

fn validate_key_selector(r: &Value, path: &Path) -> Vec<Cause> {
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

/// `validateLocalDescendingPath`.
pub fn local_descending_path(target: &str, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    if target.starts_with('/') {
        out.push(invalid(path, target, "must be a relative path"));
    }
    out.extend(no_backsteps(target, path));
    out
}

/// `validatePathNoBacksteps`.
pub fn no_backsteps(target: &str, path: &Path) -> Vec<Cause> {
    if target.split('/').any(|p| p == "..") {
        vec![invalid(path, target, "must not contain '..'")]
    } else {
        vec![]
    }
}

/// `ValidateLocalNonReservedPath`.
pub fn local_non_reserved_path(target: &str, path: &Path) -> Vec<Cause> {
    let mut out = local_descending_path(target, path);
    if target.starts_with("..") && !target.starts_with("../") {
        out.push(invalid(path, target, "must not start with '..'"));
    }
    out
}

/// `ValidateVolumeMounts`.
fn validate_volume_mounts(
    mounts: &[Value],
    devices: &HashMap<String, String>,
    volumes: &HashMap<String, Value>,
    path: &Path,
) -> Vec<Cause> {
    let mut out = Vec::new();
    let mut mount_points = HashSet::new();
    for (i, m) in mounts.iter().enumerate() {
        let p = path.index(i);
        let name = s(m, "name");
        if name.is_empty() {
            out.push(required(&p.child("name"), ""));
        }
        if !volumes.contains_key(name) {
            out.push(not_found(&p.child("name"), name));
        }
        let mp = s(m, "mountPath");
        if mp.is_empty() {
            out.push(required(&p.child("mountPath"), ""));
        }
        if !mount_points.insert(mp.to_string()) {
            out.push(invalid(&p.child("mountPath"), mp, "must be unique"));
        }
        if devices.contains_key(name) {
            out.push(invalid(
                &p.child("name"),
                name,
                "must not already exist in volumeDevices",
            ));
        }
        if devices.values().any(|d| d == mp) {
            out.push(invalid(
                &p.child("mountPath"),
                mp,
                "must not already exist as a path in volumeDevices",
            ));
        }
        let sub = s(m, "subPath");
        let sub_expr = s(m, "subPathExpr");
        if volumes.get(name).is_some_and(|v| has(v, "image")) {
            if !sub.is_empty() {
                out.push(invalid(
                    &p.child("subPath"),
                    sub,
                    "not allowed in image volume sources",
                ));
            }
            if !sub_expr.is_empty() {
                out.push(invalid(
                    &p.child("subPathExpr"),
                    sub_expr,
                    "not allowed in image volume sources",
                ));
            }
        }
        if !sub.is_empty() {
            // Upstream reports these at the list's path (`volumeMounts.subPath`).
            out.extend(local_descending_path(sub, &path.child("subPath")));
        }
        if !sub_expr.is_empty() {
            if !sub.is_empty() {
                out.push(invalid(
                    &p.child("subPathExpr"),
                    sub_expr,
                    "subPathExpr and subPath are mutually exclusive",
                ));
            }
            out.extend(local_descending_path(sub_expr, &path.child("subPathExpr")));
        }
        if let Some(mpv) = m.get("mountPropagation").and_then(Value::as_str) {
            let valid = ["Bidirectional", "HostToContainer", "None"];
            if !valid.contains(&mpv) {
                out.push(not_supported(&path.child("mountPropagation"), mpv, &valid));
            }
        }
        if let Some(rro) = m.get("recursiveReadOnly").and_then(Value::as_str) {
            let valid = ["Disabled", "Enabled", "IfPossible"];
            if !valid.contains(&rro) {
                out.push(not_supported(&path.child("recursiveReadOnly"), rro, &valid));
            } else if rro != "Disabled" && !boolean(m, "readOnly").unwrap_or(false) {
                out.push(forbidden(
                    &path.child("recursiveReadOnly"),
                    "may only be specified when readOnly is true",
                ));
            }
        }
    }
    out
}

fn validate_volume_devices(
    devices: &[Value],
    mounts: &[Value],
    volumes: &HashMap<String, Value>,
    path: &Path,
) -> Vec<Cause> {
    let mut out = Vec::new();
    let mut paths = HashSet::new();
    let mut names = HashSet::new();
    let mount_map: HashMap<&str, &str> = mounts
        .iter()
        .map(|m| (s(m, "name"), s(m, "mountPath")))
        .collect();
    for (i, d) in devices.iter().enumerate() {
        let p = path.index(i);
        let name = s(d, "name");
        let dp = s(d, "devicePath");
        let vol = volumes.get(name);
        let is_pvc = vol.is_some_and(|v| has(v, "persistentVolumeClaim") || has(v, "ephemeral"));
        if name.is_empty() {
            out.push(required(&p.child("name"), ""));
        }
        if names.contains(name) {
            out.push(invalid(&p.child("name"), name, "must be unique"));
        }
        if vol.is_some() && !is_pvc {
            out.push(invalid(
                &p.child("name"),
                name,
                "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode",
            ));
        }
        if vol.is_none() {
            out.push(not_found(&p.child("name"), name));
        }
        if dp.is_empty() {
            out.push(required(&p.child("devicePath"), ""));
        }
        if paths.contains(dp) {
            out.push(invalid(&p.child("devicePath"), dp, "must be unique"));
        }
        if !dp.is_empty() && dp.split('/').any(|x| x == "..") {
            out.push(invalid(
                &p.child("devicePath"),
                dp,
                "can not contain backsteps ('..')",
            ));
        } else {
            paths.insert(dp.to_string());
        }
        if mount_map.contains_key(name) {
            out.push(invalid(
                &p.child("name"),
                name,
                "must not already exist in volumeMounts",
            ));
        }
        if mount_map.values().any(|m| *m == dp) {
            out.push(invalid(
                &p.child("devicePath"),
                dp,
                "must not already exist as a path in volumeMounts",
            ));
        }
        if !name.is_empty() {
            names.insert(name.to_string());
        }
    }
    out
}

fn validate_probe(c: &Value, key: &str, grace: Option<i64>, cpath: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let Some(probe) = c.get(key).filter(|v| v.is_object()) else {
        return out;
    };
    let path = cpath.child(key);
    out.extend(validate_handler(probe, false, grace, &path));
    for f in [
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ] {
        let v = int(probe, f).unwrap_or(0);
        if v < 0 {
            out.push(invalid(
                &path.child(f),
                v,
                super::meta::IS_NEGATIVE_ERROR_MSG,
            ));
        }
    }
    if let Some(t) = int(probe, "terminationGracePeriodSeconds") {
        if t <= 0 {
            out.push(invalid(
                &path.child("terminationGracePeriodSeconds"),
                t,
                "must be greater than 0",
            ));
        }
    }
    let st = int(probe, "successThreshold").unwrap_or(0);
    if (key == "livenessProbe" || key == "startupProbe") && st != 1 {
        out.push(invalid(&path.child("successThreshold"), st, "must be 1"));
    }
    if key == "readinessProbe" {
        if let Some(t) = int(probe, "terminationGracePeriodSeconds") {
            out.push(invalid(
                &path.child("terminationGracePeriodSeconds"),
                t,
                "must not be set for readinessProbes",
            ));
        }
    }
    out
}

fn validate_lifecycle(l: &Value, grace: Option<i64>, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    for k in ["postStart", "preStop"] {
        if let Some(h) = l.get(k).filter(|v| v.is_object()) {
            out.extend(validate_handler(h, true, grace, &path.child(k)));
        }
    }
    if let Some(sig) = l.get("stopSignal").and_then(Value::as_str) {
        let _ = sig;
    }
    out
}

/// `validateHandler` for probes (`lifecycle` false) and lifecycle hooks.
fn validate_handler(h: &Value, lifecycle: bool, grace: Option<i64>, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let mut n = 0;
    let kinds: &[&str] = if lifecycle {
        &["exec", "httpGet", "tcpSocket", "sleep"]
    } else {
        &["exec", "httpGet", "tcpSocket", "grpc"]
    };
    for &k in kinds {
        let Some(a) = h.get(k).filter(|v| !v.is_null()) else {
            continue;
        };
        let p = path.child(k);
        if n > 0 {
            out.push(forbidden(&p, "may not specify more than 1 handler type"));
            continue;
        }
        n += 1;
        match k {
            "exec" if arr(a, "command").is_empty() => {
                out.push(required(&p.child("command"), ""));
            }
            "httpGet" => {
                if s(a, "path").is_empty() {
                    out.push(required(&p.child("path"), ""));
                }
                out.extend(port_num_or_name(a.get("port"), &p.child("port")));
                let scheme = s(a, "scheme");
                if scheme != "HTTP" && scheme != "HTTPS" {
                    out.push(not_supported(
                        &p.child("scheme"),
                        scheme,
                        &["HTTP", "HTTPS"],
                    ));
                }
                for hd in arr(a, "httpHeaders") {
                    let name = s(hd, "name");
                    for m in is_http_header_name(name) {
                        out.push(invalid(&p.child("httpHeaders"), name, &m));
                    }
                }
            }
            "tcpSocket" => out.extend(port_num_or_name(a.get("port"), &p.child("port"))),
            "grpc" => {
                let port = int(a, "port").unwrap_or(0);
                for m in is_valid_port_num(port) {
                    out.push(invalid(&p.child("port"), port, &m));
                }
            }
            "sleep" => {
                let secs = int(a, "seconds").unwrap_or(0);
                if let Some(g) = grace {
                    if secs < 0 || secs > g {
                        out.push(invalid(
                            &p,
                            secs,
                            &format!("must be non-negative and less than terminationGracePeriodSeconds ({g})"),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    if n == 0 {
        out.push(required(path, "must specify a handler type"));
    }
    out
}

/// `ValidatePortNumOrName` for an IntOrString JSON value.
pub fn port_num_or_name(v: Option<&Value>, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    match v {
        Some(Value::String(name)) => {
            for m in is_valid_port_name(name) {
                out.push(invalid(path, name.as_str(), &m));
            }
        }
        other => {
            let n = other.and_then(Value::as_i64).unwrap_or(0);
            for m in is_valid_port_num(n) {
                out.push(invalid(path, n, &m));
            }
        }
    }
    out
}

const STANDARD_CONTAINER_RESOURCES: &[&str] = &["cpu", "memory", "ephemeral-storage"];

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

fn is_native(n: &str) -> bool {
    !n.contains('/') || n.contains("kubernetes.io/")
}

/// `helper.IsExtendedResourceName`.
pub fn is_extended_resource(n: &str) -> bool {
    !is_native(n)
        && !n.starts_with("requests.")
        && super::names::is_qualified_name(&format!("requests.{n}")).is_empty()
}

/// `helper.IsIntegerResourceName`.
fn is_integer_resource(n: &str) -> bool {
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

fn overcommit_allowed(n: &str) -> bool {
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

fn validate_container_resource_name(n: &str, path: &Path) -> Vec<Cause> {
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
