//! Containers: names, images, ports, env, mounts, probes, resources, security context
//! (`validateContainers`, `validateInitContainers`, `validateContainerCommon`).

pub use super::env::*;
pub use super::probes::*;
pub use super::resources::*;

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::field::{duplicate, forbidden, invalid, not_found, not_supported, required, Path};
use super::names::{is_dns1123_label, is_valid_port_name, is_valid_port_num};
use super::util::{arr, boolean, has, int, s};
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

pub fn validate_resize_policy(list: &[Value], restart_policy: &str, path: &Path) -> Vec<Cause> {
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
pub fn validate_volume_mounts(
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

pub fn validate_volume_devices(
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
