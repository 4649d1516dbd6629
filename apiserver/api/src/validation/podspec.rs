//! `ValidatePodSpec` and its pod-level parts: security context, affinity, DNS,
//! tolerations, topology spread.

pub use super::scheduling::*;

use super::container::{
    dns_label, validate_containers, validate_init_containers, validate_seccomp_profile, SpecCtx,
};
use super::field::{duplicate, forbidden, invalid, not_supported, required, Bad, Path};
use super::meta::validate_labels;
use super::names::{
    check_name, inclusive_range_error, is_dns1123_subdomain, is_qualified_name, is_valid_ip,
    NameRule,
};
use super::util::{arr, boolean, has, int, s};
use super::volume::validate_volumes;
use crate::status::Cause;
use serde_json::Value;
use std::collections::HashSet;

/// `ValidatePodSpec`.
pub fn validate_pod_spec(spec: &Value, path: &Path, is_pod: bool) -> Vec<Cause> {
    let mut out = Vec::new();
    let grace = int(spec, "terminationGracePeriodSeconds");
    if !has(spec, "terminationGracePeriodSeconds") {
        out.push(required(&path.child("terminationGracePeriodSeconds"), ""));
    }
    let sc = spec.get("securityContext").filter(|v| v.is_object());
    let host_users = sc.and_then(|s| boolean(s, "hostUsers")).unwrap_or(true);
    let (vols, verrs) = validate_volumes(arr(spec, "volumes"), &path.child("volumes"));
    out.extend(verrs);
    let restart_policy = s(spec, "restartPolicy");
    let ctx = SpecCtx {
        volumes: &vols,
        grace,
        restart_policy,
        host_users,
    };
    let containers = arr(spec, "containers");
    out.extend(validate_containers(
        containers,
        &ctx,
        &path.child("containers"),
    ));
    out.extend(validate_init_containers(
        arr(spec, "initContainers"),
        containers,
        &ctx,
        &path.child("initContainers"),
    ));
    out.extend(validate_ephemeral_containers(
        spec,
        &ctx,
        &path.child("ephemeralContainers"),
    ));
    // Host network: hostPort must equal containerPort (0 allowed in templates).
    if boolean(spec, "hostNetwork") == Some(true) {
        for (i, c) in containers.iter().enumerate() {
            for (j, p) in arr(c, "ports").iter().enumerate() {
                let hp = int(p, "hostPort").unwrap_or(0);
                let cp = int(p, "containerPort").unwrap_or(0);
                if (is_pod || hp != 0) && hp != cp {
                    out.push(invalid(
                        &path
                            .child("containers")
                            .index(i)
                            .child("ports")
                            .index(j)
                            .child("hostPort"),
                        hp,
                        "must match `containerPort` when `hostNetwork` is true",
                    ));
                }
            }
        }
    }
    match restart_policy {
        "Always" | "OnFailure" | "Never" => {}
        "" => out.push(required(&path.child("restartPolicy"), "")),
        other => out.push(not_supported(
            &path.child("restartPolicy"),
            other,
            &["Always", "OnFailure", "Never"],
        )),
    }
    let dns_policy = s(spec, "dnsPolicy");
    match dns_policy {
        "ClusterFirstWithHostNet" | "ClusterFirst" | "Default" | "None" => {}
        "" => out.push(required(&path.child("dnsPolicy"), "")),
        other => out.push(not_supported(
            &path.child("dnsPolicy"),
            other,
            &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        )),
    }
    out.extend(validate_labels(
        spec.get("nodeSelector"),
        &path.child("nodeSelector"),
    ));
    if let Some(sc) = sc {
        out.extend(validate_pod_security_context(
            sc,
            spec,
            path,
            &path.child("securityContext"),
        ));
    }
    for (i, ps) in arr(spec, "imagePullSecrets").iter().enumerate() {
        if ps
            .as_object()
            .is_some_and(|m| m.keys().any(|k| k != "name"))
        {
            out.push(invalid(
                &path.child("imagePullSecrets").index(i),
                Bad::Raw(super::util::go_struct("core.LocalObjectReference", ps)),
                "only name may be set",
            ));
        }
    }
    if let Some(aff) = spec.get("affinity").filter(|v| v.is_object()) {
        out.extend(validate_affinity(aff, &path.child("affinity")));
    }
    out.extend(validate_dns_config(
        spec,
        dns_policy,
        &path.child("dnsConfig"),
    ));
    for (i, g) in arr(spec, "readinessGates").iter().enumerate() {
        let ct = s(g, "conditionType");
        for m in is_qualified_name(ct) {
            out.push(invalid(
                &path.child("readinessGates").index(i).child("conditionType"),
                ct,
                &m,
            ));
        }
    }
    let mut gates = HashSet::new();
    for (i, g) in arr(spec, "schedulingGates").iter().enumerate() {
        let n = s(g, "name");
        let p = path.child("schedulingGates").index(i);
        for m in is_qualified_name(n) {
            out.push(invalid(&p, n, &m));
        }
        if !gates.insert(n.to_string()) {
            out.push(duplicate(&p, n));
        }
    }
    out.extend(validate_topology_spread(
        arr(spec, "topologySpreadConstraints"),
        &path.child("topologySpreadConstraints"),
    ));
    for f in ["serviceAccountName", "nodeName", "priorityClassName"] {
        let v = s(spec, f);
        if !v.is_empty() {
            for m in check_name(NameRule::Subdomain, v, false) {
                out.push(invalid(&path.child(f), v, &m));
            }
        }
    }
    if let Some(ads) = int(spec, "activeDeadlineSeconds") {
        if !(1..=i32::MAX as i64).contains(&ads) {
            out.push(invalid(
                &path.child("activeDeadlineSeconds"),
                ads,
                &inclusive_range_error(1, i32::MAX as i64),
            ));
        }
    }
    for f in ["hostname", "subdomain"] {
        let v = s(spec, f);
        if !v.is_empty() {
            dns_label(v, &path.child(f), &mut out);
        }
    }
    out.extend(validate_tolerations(
        arr(spec, "tolerations"),
        &path.child("tolerations"),
    ));
    for (i, ha) in arr(spec, "hostAliases").iter().enumerate() {
        let p = path.child("hostAliases").index(i);
        let ip = s(ha, "ip");
        for m in is_valid_ip(ip) {
            out.push(invalid(&p.child("ip"), ip, &m));
        }
        for (j, h) in arr(ha, "hostnames").iter().enumerate() {
            let h = h.as_str().unwrap_or_default();
            for m in is_dns1123_subdomain(h) {
                out.push(invalid(&p.child("hostnames").index(j), h, &m));
            }
        }
    }
    if let Some(rc) = spec.get("runtimeClassName").and_then(Value::as_str) {
        for m in check_name(NameRule::Subdomain, rc, false) {
            out.push(invalid(&path.child("runtimeClassName"), rc, &m));
        }
    }
    if let Some(pp) = spec.get("preemptionPolicy").and_then(Value::as_str) {
        match pp {
            "PreemptLowerPriority" | "Never" => {}
            "" => out.push(required(&path.child("preemptionPolicy"), "")),
            other => out.push(not_supported(
                &path.child("preemptionPolicy"),
                other,
                &["PreemptLowerPriority", "Never"],
            )),
        }
    }
    if let Some(os) = spec.get("os").filter(|v| v.is_object()) {
        let n = s(os, "name");
        if n.is_empty() {
            out.push(required(&path.child("os").child("name"), "cannot be empty"));
        } else if n != "linux" && n != "windows" {
            out.push(not_supported(&path.child("os"), n, &["linux", "windows"]));
        }
    }
    out
}

pub fn validate_ephemeral_containers(spec: &Value, ctx: &SpecCtx, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let eph = arr(spec, "ephemeralContainers");
    if eph.is_empty() {
        return out;
    }
    let mut others: HashSet<String> = HashSet::new();
    for c in arr(spec, "containers")
        .iter()
        .chain(arr(spec, "initContainers"))
    {
        others.insert(s(c, "name").to_string());
    }
    let mut all = others.clone();
    const DISALLOWED: &[&str] = &[
        "ports",
        "resources",
        "livenessProbe",
        "readinessProbe",
        "startupProbe",
        "lifecycle",
        "resizePolicy",
        "restartPolicy",
    ];
    for (i, ec) in eph.iter().enumerate() {
        let p = path.index(i);
        out.extend(super::container::validate_container_common(ec, ctx, &p));
        let name = s(ec, "name");
        if !all.insert(name.to_string()) {
            out.push(duplicate(&p.child("name"), name));
        }
        let target = s(ec, "targetContainerName");
        if !target.is_empty() && !others.contains(target) {
            out.push(super::field::not_found(
                &p.child("targetContainerName"),
                target,
            ));
        }
        for f in DISALLOWED {
            let set = ec.get(*f).is_some_and(|v| match v {
                Value::Null => false,
                Value::Object(m) => !m.is_empty(),
                Value::Array(a) => !a.is_empty(),
                _ => true,
            });
            if set {
                out.push(forbidden(
                    &p.child(f),
                    "cannot be set for an Ephemeral Container",
                ));
            }
        }
        for (j, vm) in arr(ec, "volumeMounts").iter().enumerate() {
            for f in ["subPath", "subPathExpr"] {
                if !s(vm, f).is_empty() {
                    out.push(forbidden(
                        &p.child("volumeMounts").index(j).child(f),
                        "cannot be set for an Ephemeral Container",
                    ));
                }
            }
        }
    }
    out
}

pub fn validate_pod_security_context(
    sc: &Value,
    spec: &Value,
    spec_path: &Path,
    path: &Path,
) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(g) = int(sc, "fsGroup") {
        if !(0..=0xffff_ffff).contains(&g) {
            out.push(invalid(
                &path.child("fsGroup"),
                g,
                &inclusive_range_error(0, 4294967295),
            ));
        }
    }
    for k in ["runAsUser", "runAsGroup"] {
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
    for (i, g) in arr(sc, "supplementalGroups").iter().enumerate() {
        let g = g.as_i64().unwrap_or(0);
        if !(0..=0xffff_ffff).contains(&g) {
            out.push(invalid(
                &path.child("supplementalGroups").index(i),
                g,
                &inclusive_range_error(0, 4294967295),
            ));
        }
    }
    if let Some(p) = sc.get("fsGroupChangePolicy").and_then(Value::as_str) {
        if p != "OnRootMismatch" && p != "Always" {
            out.push(not_supported(
                &path.child("fsGroupChangePolicy"),
                p,
                &["Always", "OnRootMismatch"],
            ));
        }
    }
    if let Some(p) = sc.get("supplementalGroupsPolicy").and_then(Value::as_str) {
        if p != "Merge" && p != "Strict" {
            out.push(not_supported(
                &path.child("supplementalGroupsPolicy"),
                p,
                &["Merge", "Strict"],
            ));
        }
    }
    out.extend(validate_seccomp_profile(
        sc.get("seccompProfile"),
        &path.child("seccompProfile"),
    ));
    // hostUsers=false forbids host namespaces.
    if boolean(sc, "hostUsers") == Some(false) {
        if boolean(spec, "hostNetwork") == Some(true) {
            out.push(forbidden(
                &spec_path.child("hostNetwork"),
                "when `pod.Spec.HostUsers` is false",
            ));
        }
        if boolean(spec, "hostPID") == Some(true) {
            out.push(forbidden(
                &spec_path.child("HostPID"),
                "when `pod.Spec.HostUsers` is false",
            ));
        }
        if boolean(spec, "hostIPC") == Some(true) {
            out.push(forbidden(
                &spec_path.child("HostIPC"),
                "when `pod.Spec.HostUsers` is false",
            ));
        }
    }
    out
}

pub fn validate_dns_config(spec: &Value, dns_policy: &str, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let cfg = spec.get("dnsConfig").filter(|v| v.is_object());
    if dns_policy == "None" {
        match cfg {
            None => {
                out.push(required(
                    path,
                    "must provide `dnsConfig` when `dnsPolicy` is None",
                ));
                return out;
            }
            Some(c) if arr(c, "nameservers").is_empty() => {
                out.push(required(
                    &path.child("nameservers"),
                    "must provide at least one DNS nameserver when `dnsPolicy` is None",
                ));
                return out;
            }
            _ => {}
        }
    }
    let Some(cfg) = cfg else { return out };
    let ns = arr(cfg, "nameservers");
    if ns.len() > 3 {
        out.push(invalid(
            &path.child("nameservers"),
            Bad::Raw(super::meta::go_string_slice(ns)),
            "must not have more than 3 nameservers",
        ));
    }
    for (i, n) in ns.iter().enumerate() {
        let n = n.as_str().unwrap_or_default();
        for m in is_valid_ip(n) {
            out.push(invalid(&path.child("nameservers").index(i), n, &m));
        }
    }
    let searches = arr(cfg, "searches");
    if searches.len() > 32 {
        out.push(invalid(
            &path.child("searches"),
            Bad::Raw(super::meta::go_string_slice(searches)),
            "must not have more than 32 search paths",
        ));
    }
    let joined: Vec<&str> = searches.iter().filter_map(Value::as_str).collect();
    if joined.join(" ").len() > 2048 {
        out.push(invalid(
            &path.child("searches"),
            Bad::Raw(super::meta::go_string_slice(searches)),
            "must not have more than 2048 characters (including spaces) in the search list",
        ));
    }
    for (i, sv) in searches.iter().enumerate() {
        let sv = sv.as_str().unwrap_or_default();
        if sv == "." {
            continue;
        }
        let t = sv.strip_suffix('.').unwrap_or(sv);
        for m in super::names::is_dns1123_subdomain_with_underscore(t) {
            out.push(invalid(&path.child("searches").index(i), t, &m));
        }
    }
    for (i, o) in arr(cfg, "options").iter().enumerate() {
        if s(o, "name").is_empty() {
            out.push(required(
                &path.child("options").index(i),
                "must not be empty",
            ));
        }
    }
    out
}
