//! Pods and pod specs: `ValidatePodSpec`, `ValidatePodCreate`, `ValidatePodUpdate`,
//! `ValidatePodTemplateSpec`, `ValidatePodStatusUpdate`.

use std::collections::HashSet;

use serde_json::Value;

use super::container::{
    dns_label, validate_containers, validate_init_containers, validate_seccomp_profile, SpecCtx,
};
use super::field::{duplicate, forbidden, invalid, not_supported, required, Bad, Path};
use super::meta::{
    validate_annotations, validate_label_name, validate_label_selector, validate_labels,
    validate_object_meta, validate_object_meta_update,
};
use super::names::{
    check_name, inclusive_range_error, is_dns1123_subdomain, is_qualified_name, is_valid_ip,
    is_valid_label_value, NameRule,
};
use super::util::{arr, boolean, has, int, obj, s};
use super::volume::validate_volumes;
use crate::status::Cause;

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

fn validate_ephemeral_containers(spec: &Value, ctx: &SpecCtx, path: &Path) -> Vec<Cause> {
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

fn validate_pod_security_context(
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

fn validate_affinity(aff: &Value, path: &Path) -> Vec<Cause> {
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

fn pod_affinity_term(t: &Value, path: &Path) -> Vec<Cause> {
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

fn node_selector_term(t: &Value, path: &Path) -> Vec<Cause> {
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

fn validate_dns_config(spec: &Value, dns_policy: &str, path: &Path) -> Vec<Cause> {
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

fn validate_topology_spread(cs: &[Value], path: &Path) -> Vec<Cause> {
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
fn containers_only_for_pod(list: &[Value], path: &Path) -> Vec<Cause> {
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

fn validate_pod_metadata_and_spec(pod: &Value) -> Vec<Cause> {
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
    let spec = pod.get("spec").cloned().unwrap_or(Value::Null);
    if !arr(&spec, "ephemeralContainers").is_empty() {
        out.push(forbidden(
            &Path::new("spec").child("ephemeralContainers"),
            "cannot be set on create",
        ));
    }
    if !s(&spec, "nodeName").is_empty() && !arr(&spec, "schedulingGates").is_empty() {
        out.push(forbidden(
            &Path::new("spec").child("nodeName"),
            "cannot be set until all schedulingGates have been cleared",
        ));
    }
    out
}

const UPDATABLE_POD_SPEC_FIELDS: &str = "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

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
fn pod_spec_diff_message(new: &Value, old: &Value) -> String {
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

fn diff_lines(prefix: &str, old: &Value, new: &Value, out: &mut Vec<String>) {
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
