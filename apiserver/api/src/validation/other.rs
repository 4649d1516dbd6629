//! The remaining kinds: Nodes, Events, RBAC, networking, policy, coordination.

use std::collections::HashSet;

use serde_json::Value;

use super::container::port_num_or_name;
use super::field::{duplicate, forbidden, invalid, not_supported, required, Bad, Path};
use super::meta::{
    non_negative, validate_label_name, validate_label_selector, validate_labels,
    validate_object_meta, validate_object_meta_update,
};
use super::names::{
    check_name, is_dns1123_subdomain, is_qualified_name, is_valid_cidr, is_valid_label_value,
    is_valid_percent, parse_ip_sloppy, NameRule,
};
use super::util::{arr, has, int, obj, s};
use crate::resources::Resource;
use crate::status::Cause;

pub fn validate_other(resource: &Resource, obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let rule = super::name_rule(resource);
    let mut out = Vec::new();
    if let Some(old) = old {
        out.extend(validate_object_meta_update(obj, old));
    }
    match (resource.group, resource.kind) {
        ("", "Node") => {
            out.extend(validate_object_meta(obj, false, rule));
            out.extend(validate_node(obj, old));
        }
        ("", "Event") | ("events.k8s.io", "Event") => {
            out.extend(validate_object_meta(obj, true, rule));
            out.extend(validate_event(resource, obj));
        }
        ("rbac.authorization.k8s.io", k) => {
            out.extend(validate_object_meta(obj, resource.namespaced, rule));
            out.extend(validate_rbac(k, obj, old));
        }
        ("networking.k8s.io", "Ingress") => {
            out.extend(validate_object_meta(obj, true, rule));
            out.extend(validate_ingress(obj));
        }
        ("networking.k8s.io", "IngressClass") => {
            out.extend(validate_object_meta(obj, false, rule));
            out.extend(validate_ingress_class(obj, old));
        }
        ("networking.k8s.io", "NetworkPolicy") => {
            out.extend(validate_object_meta(obj, true, rule));
            out.extend(validate_network_policy(obj));
        }
        ("policy", "PodDisruptionBudget") => {
            out.extend(validate_object_meta(obj, true, rule));
            out.extend(validate_pdb(obj));
        }
        ("coordination.k8s.io", "Lease") => {
            out.extend(validate_object_meta(obj, true, rule));
            out.extend(validate_lease(obj));
        }
        _ => out.extend(validate_object_meta(obj, resource.namespaced, rule)),
    }
    out
}

/// `metav1.Condition` lists (`ValidateConditions`), used for the status of the kinds whose
/// conditions are `metav1.Condition`; other condition types get their status checked.
pub fn validate_conditions(status: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (i, c) in arr(status, "conditions").iter().enumerate() {
        let p = Path::new("status.conditions").index(i);
        let t = s(c, "type");
        if !seen.insert(t.to_string()) {
            out.push(duplicate(&p.child("type"), t));
        }
        if let Some(st) = c.get("status").and_then(Value::as_str) {
            if !["True", "False", "Unknown"].contains(&st) {
                out.push(not_supported(
                    &p.child("status"),
                    st,
                    &["False", "True", "Unknown"],
                ));
            }
        }
    }
    out
}

fn validate_node(node: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = Vec::new();
    let null = Value::Null;
    let spec = node.get("spec").unwrap_or(&null);
    let mut unique: HashSet<(String, String)> = HashSet::new();
    for (i, t) in arr(spec, "taints").iter().enumerate() {
        // Upstream reports taints under metadata.taints.
        let p = Path::new("metadata.taints").index(i);
        out.extend(validate_label_name(s(t, "key"), &p.child("key")));
        let v = s(t, "value");
        let errs = is_valid_label_value(v);
        if !errs.is_empty() {
            out.push(invalid(&p.child("value"), v, &errs.join(";")));
        }
        let e = s(t, "effect");
        if e.is_empty() {
            out.push(required(&p.child("effect"), ""));
        } else if !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&e) {
            out.push(not_supported(
                &p.child("effect"),
                e,
                &["NoSchedule", "PreferNoSchedule", "NoExecute"],
            ));
        }
        if !unique.insert((e.to_string(), s(t, "key").to_string())) {
            let mut c = duplicate(&p, Bad::Raw(super::util::go_struct("core.Taint", t)));
            c.message
                .push_str(": taints must be unique by key and effect pair");
            out.push(c);
        }
    }
    let cidrs = arr(spec, "podCIDRs");
    for (i, c) in cidrs.iter().enumerate() {
        let c = c.as_str().unwrap_or_default();
        for m in is_valid_cidr(c) {
            out.push(invalid(&Path::new("spec.podCIDRs").index(i), c, &m));
        }
    }
    if let Some(old) = old {
        let os = old.get("spec").unwrap_or(&null);
        let oc = arr(os, "podCIDRs");
        if !oc.is_empty() && oc != cidrs {
            out.push(forbidden(
                &Path::new("spec.podCIDRs"),
                "node updates may not change podCIDR except from \"\" to valid",
            ));
        }
        let op = s(os, "providerID");
        if !op.is_empty() && op != s(spec, "providerID") {
            out.push(forbidden(
                &Path::new("spec.providerID"),
                "node updates may not change providerID except from \"\" to valid",
            ));
        }
        if s(os, "externalID") != s(spec, "externalID") {
            out.push(forbidden(
                &Path::new("spec.externalID"),
                "may not be updated",
            ));
        }
    }
    out
}

fn validate_event(resource: &Resource, ev: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    if resource.group == "events.k8s.io" {
        // events.k8s.io/v1 requires these (ValidateEventCreate for v1).
        let related_or_regarding = ev.get("regarding").unwrap_or(&Value::Null);
        let _ = related_or_regarding;
        if !has(ev, "eventTime") {
            out.push(required(&Path::new("eventTime"), ""));
        }
        let t = s(ev, "type");
        if t != "Normal" && t != "Warning" {
            out.push(invalid(
                &Path::new("type"),
                t,
                "has invalid value: must be either Normal or Warning",
            ));
        }
        if s(ev, "reportingController").is_empty() {
            out.push(required(&Path::new("reportingController"), ""));
        } else {
            for m in is_qualified_name(s(ev, "reportingController")) {
                out.push(invalid(
                    &Path::new("reportingController"),
                    s(ev, "reportingController"),
                    &m,
                ));
            }
        }
        let ri = s(ev, "reportingInstance");
        if ri.is_empty() {
            out.push(required(&Path::new("reportingInstance"), ""));
        } else if ri.len() > 128 {
            out.push(invalid(
                &Path::new("reportingInstance"),
                "",
                "can have at most 128 characters",
            ));
        }
        let action = s(ev, "action");
        if action.is_empty() {
            out.push(required(&Path::new("action"), ""));
        } else if action.len() > 128 {
            out.push(invalid(
                &Path::new("action"),
                "",
                "can have at most 128 characters",
            ));
        }
        let reason = s(ev, "reason");
        if reason.is_empty() {
            out.push(required(&Path::new("reason"), ""));
        } else if reason.len() > 128 {
            out.push(invalid(
                &Path::new("reason"),
                "",
                "can have at most 128 characters",
            ));
        }
        if s(ev, "note").len() > 1024 {
            out.push(invalid(
                &Path::new("note"),
                "",
                "can have at most 1024 characters",
            ));
        }
    } else {
        // core/v1 events: the involved object's namespace must match.
        let ns = ev
            .get("metadata")
            .map(|m| s(m, "namespace"))
            .unwrap_or_default();
        let io = ev.get("involvedObject").unwrap_or(&Value::Null);
        let ions = s(io, "namespace");
        if !ions.is_empty() && ions != ns {
            out.push(invalid(
                &Path::new("involvedObject.namespace"),
                ions,
                "does not match event.namespace",
            ));
        }
        let t = s(ev, "type");
        if !t.is_empty() && t != "Normal" && t != "Warning" {
            out.push(invalid(
                &Path::new("type"),
                t,
                "has invalid value: must be either Normal or Warning",
            ));
        }
    }
    out
}

fn validate_rbac(kind: &str, obj: &Value, _old: Option<&Value>) -> Vec<Cause> {
    let mut out = Vec::new();
    match kind {
        "Role" | "ClusterRole" => {
            for (i, rule) in arr(obj, "rules").iter().enumerate() {
                let p = Path::new("rules").index(i);
                if arr(rule, "verbs").is_empty() {
                    out.push(required(
                        &p.child("verbs"),
                        "verbs must contain at least one value",
                    ));
                }
                let nru = arr(rule, "nonResourceURLs");
                if !nru.is_empty() {
                    if kind == "Role" {
                        out.push(invalid(
                            &p.child("nonResourceURLs"),
                            Bad::Raw(super::meta::go_string_slice(nru)),
                            "namespaced rules cannot apply to non-resource URLs",
                        ));
                    }
                    if !arr(rule, "apiGroups").is_empty()
                        || !arr(rule, "resources").is_empty()
                        || !arr(rule, "resourceNames").is_empty()
                    {
                        out.push(invalid(
                            &p.child("nonResourceURLs"),
                            Bad::Raw(super::meta::go_string_slice(nru)),
                            "rules cannot apply to both regular resources and non-resource URLs",
                        ));
                    }
                    continue;
                }
                if arr(rule, "apiGroups").is_empty() {
                    out.push(required(
                        &p.child("apiGroups"),
                        "resource rules must supply at least one api group",
                    ));
                }
                if arr(rule, "resources").is_empty() {
                    out.push(required(
                        &p.child("resources"),
                        "resource rules must supply at least one resource",
                    ));
                }
            }
            if kind == "ClusterRole" {
                if let Some(ar) = obj.get("aggregationRule").filter(|v| !v.is_null()) {
                    let sels = arr(ar, "clusterRoleSelectors");
                    if sels.is_empty() {
                        out.push(required(&Path::new("aggregationRule.clusterRoleSelectors"), "at least one clusterRoleSelector required if aggregationRule is non-nil"));
                    }
                    for (i, sel) in sels.iter().enumerate() {
                        out.extend(validate_label_selector(
                            sel,
                            &Path::new("aggregationRule.clusterRoleSelectors").index(i),
                        ));
                    }
                }
            }
        }
        _ => {
            let rr = obj.get("roleRef").unwrap_or(&Value::Null);
            let rp = Path::new("roleRef");
            let g = s(rr, "apiGroup");
            if g != "rbac.authorization.k8s.io" {
                out.push(not_supported(
                    &rp.child("apiGroup"),
                    g,
                    &["rbac.authorization.k8s.io"],
                ));
            }
            let rk = s(rr, "kind");
            let valid: &[&str] = if kind == "RoleBinding" {
                &["Role", "ClusterRole"]
            } else {
                &["ClusterRole"]
            };
            if !valid.contains(&rk) {
                out.push(not_supported(&rp.child("kind"), rk, valid));
            }
            let rn = s(rr, "name");
            if rn.is_empty() {
                out.push(required(&rp.child("name"), ""));
            } else {
                for m in check_name(NameRule::PathSegment, rn, false) {
                    out.push(invalid(&rp.child("name"), rn, &m));
                }
            }
            for (i, sub) in arr(obj, "subjects").iter().enumerate() {
                let p = Path::new("subjects").index(i);
                let name = s(sub, "name");
                if name.is_empty() {
                    out.push(required(&p.child("name"), ""));
                }
                match s(sub, "kind") {
                    "ServiceAccount" => {
                        if !name.is_empty() {
                            for m in check_name(NameRule::Subdomain, name, false) {
                                out.push(invalid(&p.child("name"), name, &m));
                            }
                        }
                        let ag = s(sub, "apiGroup");
                        if !ag.is_empty() {
                            out.push(not_supported(&p.child("apiGroup"), ag, &[""]));
                        }
                        if kind == "ClusterRoleBinding" && s(sub, "namespace").is_empty() {
                            out.push(required(&p.child("namespace"), ""));
                        }
                    }
                    "User" | "Group" => {
                        let ag = s(sub, "apiGroup");
                        if ag != "rbac.authorization.k8s.io" {
                            out.push(not_supported(
                                &p.child("apiGroup"),
                                ag,
                                &["rbac.authorization.k8s.io"],
                            ));
                        }
                    }
                    other => out.push(not_supported(
                        &p.child("kind"),
                        other,
                        &["ServiceAccount", "User", "Group"],
                    )),
                }
            }
            if let Some(old) = _old {
                if old.get("roleRef") != obj.get("roleRef") {
                    out.push(invalid(
                        &rp,
                        Bad::Raw(super::util::go_struct("rbac.RoleRef", rr)),
                        "cannot change roleRef",
                    ));
                }
            }
        }
    }
    out
}

fn validate_ingress_backend(b: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let svc = b.get("service").filter(|v| !v.is_null());
    let res = b.get("resource").filter(|v| !v.is_null());
    match (svc, res) {
        (Some(_), Some(_)) => out.push(invalid(
            path,
            "",
            "cannot set both resource and service backends",
        )),
        (None, None) => out.push(invalid(path, "", "resource or service backend is required")),
        (Some(svc), None) => {
            let name = s(svc, "name");
            if name.is_empty() {
                out.push(required(&path.at(&["service", "name"]), ""));
            } else {
                for m in check_name(NameRule::Dns1035, name, false) {
                    out.push(invalid(&path.at(&["service", "name"]), name, &m));
                }
            }
            let port = svc.get("port").unwrap_or(&Value::Null);
            let pp = path.at(&["service", "port"]);
            let has_name = !s(port, "name").is_empty();
            let has_num = int(port, "number").unwrap_or(0) != 0;
            if has_name && has_num {
                out.push(invalid(&pp, "", "cannot set both port name & port number"));
            } else if has_name {
                for m in super::names::is_valid_port_name(s(port, "name")) {
                    out.push(invalid(&pp.child("name"), s(port, "name"), &m));
                }
            } else if has_num {
                let n = int(port, "number").unwrap_or(0);
                for m in super::names::is_valid_port_num(n) {
                    out.push(invalid(&pp.child("number"), n, &m));
                }
            } else {
                out.push(required(&pp, "port name or number is required"));
            }
        }
        (None, Some(r)) => {
            if s(r, "kind").is_empty() {
                out.push(required(&path.at(&["resource", "kind"]), ""));
            }
            if s(r, "name").is_empty() {
                out.push(required(&path.at(&["resource", "name"]), ""));
            }
        }
    }
    out
}

fn validate_ingress(ing: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    let null = Value::Null;
    let spec = ing.get("spec").unwrap_or(&null);
    let sp = Path::new("spec");
    let rules = arr(spec, "rules");
    match spec.get("defaultBackend").filter(|v| !v.is_null()) {
        Some(b) => out.extend(validate_ingress_backend(b, &sp.child("defaultBackend"))),
        None if rules.is_empty() => out.push(invalid(
            &sp.child("rules"),
            Bad::Raw("[]networking.IngressRule(nil)".into()),
            "either `defaultBackend` or `rules` must be specified",
        )),
        None => {}
    }
    for (i, r) in rules.iter().enumerate() {
        let p = sp.child("rules").index(i);
        let host = s(r, "host");
        if !host.is_empty() {
            if parse_ip_sloppy(host).is_some() {
                out.push(invalid(
                    &p.child("host"),
                    host,
                    "must be a DNS name, not an IP address",
                ));
            }
            let errs = if host.contains('*') {
                super::names::is_dns1123_subdomain(&host.replacen("*.", "a.", 1))
                    .into_iter()
                    .map(|_| "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_string())
                    .take(1)
                    .collect::<Vec<_>>()
            } else {
                is_dns1123_subdomain(host)
            };
            for m in errs {
                out.push(invalid(&p.child("host"), host, &m));
            }
        }
        if let Some(http) = r.get("http").filter(|v| !v.is_null()) {
            let hp = p.child("http");
            let paths = arr(http, "paths");
            if paths.is_empty() {
                out.push(required(&hp.child("paths"), ""));
            }
            for (j, path) in paths.iter().enumerate() {
                let pp = hp.child("paths").index(j);
                let pt = s(path, "pathType");
                let pv = s(path, "path");
                match pt {
                    "" => out.push(required(
                        &pp.child("pathType"),
                        "pathType must be specified",
                    )),
                    "Exact" | "Prefix" => {
                        if !pv.starts_with('/') {
                            out.push(invalid(&pp.child("path"), pv, "must be an absolute path"));
                        }
                        for bad in ["//", "/./", "/../", "%2f", "%2F"] {
                            if pv.contains(bad) {
                                out.push(invalid(
                                    &pp.child("path"),
                                    pv,
                                    &format!("must not contain '{bad}'"),
                                ));
                            }
                        }
                        for bad in ["/..", "/."] {
                            if pv.ends_with(bad) {
                                out.push(invalid(
                                    &pp.child("path"),
                                    pv,
                                    &format!("cannot end with '{bad}'"),
                                ));
                            }
                        }
                    }
                    "ImplementationSpecific" => {
                        if !pv.is_empty() && !pv.starts_with('/') {
                            out.push(invalid(&pp.child("path"), pv, "must be an absolute path"));
                        }
                    }
                    other => out.push(not_supported(
                        &pp.child("pathType"),
                        other,
                        &["Exact", "ImplementationSpecific", "Prefix"],
                    )),
                }
                out.extend(validate_ingress_backend(
                    path.get("backend").unwrap_or(&null),
                    &pp.child("backend"),
                ));
            }
        }
    }
    for (i, t) in arr(spec, "tls").iter().enumerate() {
        for (j, h) in arr(t, "hosts").iter().enumerate() {
            let h = h.as_str().unwrap_or_default();
            if h.contains('*') {
                continue;
            }
            for m in is_dns1123_subdomain(h) {
                out.push(invalid(
                    &sp.child("tls").index(i).child("hosts").index(j),
                    h,
                    &m,
                ));
            }
        }
    }
    if let Some(c) = spec.get("ingressClassName").and_then(Value::as_str) {
        for m in check_name(NameRule::Subdomain, c, false) {
            out.push(invalid(&sp.child("ingressClassName"), c, &m));
        }
    }
    out
}

fn validate_ingress_class(ic: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = Vec::new();
    let null = Value::Null;
    let spec = ic.get("spec").unwrap_or(&null);
    let c = s(spec, "controller");
    let cp = Path::new("spec.controller");
    if c.is_empty() {
        out.push(required(&cp, ""));
    } else if c.len() > 250 {
        out.push(super::field::too_long(&cp, 250));
    }
    if let Some(old) = old {
        let oc = old
            .get("spec")
            .map(|s2| s(s2, "controller"))
            .unwrap_or_default();
        if oc != c {
            out.push(invalid(&cp, c, super::meta::FIELD_IMMUTABLE));
        }
    }
    out
}

fn validate_network_policy(np: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    let null = Value::Null;
    let spec = np.get("spec").unwrap_or(&null);
    let sp = Path::new("spec");
    out.extend(validate_label_selector(
        spec.get("podSelector").unwrap_or(&null),
        &sp.child("podSelector"),
    ));
    for (dir, peers_key) in [("ingress", "from"), ("egress", "to")] {
        for (i, rule) in arr(spec, dir).iter().enumerate() {
            let rp = sp.child(dir).index(i);
            for (j, port) in arr(rule, "ports").iter().enumerate() {
                let pp = rp.child("ports").index(j);
                if let Some(proto) = port.get("protocol").and_then(Value::as_str) {
                    if !super::container::PROTOCOLS.contains(&proto) {
                        out.push(not_supported(
                            &pp.child("protocol"),
                            proto,
                            super::container::PROTOCOLS,
                        ));
                    }
                }
                if let Some(p) = port.get("port").filter(|v| !v.is_null()) {
                    out.extend(port_num_or_name(Some(p), &pp.child("port")));
                    if let Some(end) = int(port, "endPort") {
                        if p.is_string() {
                            out.push(invalid(
                                &pp.child("endPort"),
                                end,
                                "may not be specified when `port` is non-numeric",
                            ));
                        } else if end < p.as_i64().unwrap_or(0) {
                            out.push(invalid(
                                &pp.child("endPort"),
                                end,
                                "must be greater than or equal to `port`",
                            ));
                        }
                    }
                } else if let Some(end) = int(port, "endPort") {
                    out.push(invalid(
                        &pp.child("endPort"),
                        end,
                        "may not be specified when `port` is not specified",
                    ));
                }
            }
            for (j, peer) in arr(rule, peers_key).iter().enumerate() {
                let pp = rp.child(peers_key).index(j);
                let mut n = 0;
                if let Some(sel) = peer.get("podSelector").filter(|v| !v.is_null()) {
                    n += 1;
                    out.extend(validate_label_selector(sel, &pp.child("podSelector")));
                }
                if let Some(sel) = peer.get("namespaceSelector").filter(|v| !v.is_null()) {
                    n += 1;
                    out.extend(validate_label_selector(sel, &pp.child("namespaceSelector")));
                }
                if let Some(ipb) = peer.get("ipBlock").filter(|v| !v.is_null()) {
                    n += 1;
                    let ip = pp.child("ipBlock");
                    let cidr = s(ipb, "cidr");
                    if cidr.is_empty() {
                        out.push(required(&ip.child("cidr"), ""));
                    } else {
                        for m in is_valid_cidr(cidr) {
                            out.push(invalid(&ip.child("cidr"), cidr, &m));
                        }
                    }
                    for (k, e) in arr(ipb, "except").iter().enumerate() {
                        let e = e.as_str().unwrap_or_default();
                        for m in is_valid_cidr(e) {
                            out.push(invalid(&ip.child("except").index(k), e, &m));
                        }
                    }
                }
                if n == 0 {
                    out.push(required(&pp, "must specify a peer"));
                } else if n > 1 && has(peer, "ipBlock") {
                    out.push(forbidden(
                        &pp,
                        "may not specify both ipBlock and another peer",
                    ));
                }
            }
        }
    }
    let types = arr(spec, "policyTypes");
    if types.len() > 2 {
        out.push(invalid(
            &sp.child("policyTypes"),
            Bad::Raw(super::meta::go_string_slice(types)),
            "may not specify more than two policyTypes",
        ));
    }
    for (i, t) in types.iter().enumerate() {
        let t = t.as_str().unwrap_or_default();
        if t != "Ingress" && t != "Egress" {
            out.push(not_supported(
                &sp.child("policyTypes").index(i),
                t,
                &["Ingress", "Egress"],
            ));
        }
    }
    out
}

fn validate_pdb(pdb: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    let null = Value::Null;
    let spec = pdb.get("spec").unwrap_or(&null);
    let sp = Path::new("spec");
    let min = spec.get("minAvailable").filter(|v| !v.is_null());
    let max = spec.get("maxUnavailable").filter(|v| !v.is_null());
    if min.is_some() && max.is_some() {
        out.push(invalid(
            &sp,
            Bad::Raw(super::util::go_struct(
                "policy.PodDisruptionBudgetSpec",
                spec,
            )),
            "minAvailable and maxUnavailable cannot be both set",
        ));
    }
    for (key, v) in [("minAvailable", min), ("maxUnavailable", max)] {
        let p = sp.child(key);
        match v {
            Some(Value::String(x)) => {
                for m in is_valid_percent(x) {
                    out.push(invalid(&p, Bad::Raw(x.clone()), &m));
                }
                if is_valid_percent(x).is_empty()
                    && x[..x.len() - 1].parse::<i64>().unwrap_or(0) > 100
                {
                    out.push(invalid(
                        &p,
                        Bad::Raw(x.clone()),
                        "must not be greater than 100%",
                    ));
                }
            }
            Some(Value::Number(n)) => out.extend(non_negative(n.as_i64().unwrap_or(0), &p)),
            _ => {}
        }
    }
    if let Some(sel) = spec.get("selector").filter(|v| !v.is_null()) {
        out.extend(validate_label_selector(sel, &sp.child("selector")));
    }
    if let Some(p) = spec
        .get("unhealthyPodEvictionPolicy")
        .and_then(Value::as_str)
    {
        if p != "IfHealthyBudget" && p != "AlwaysAllow" {
            out.push(not_supported(
                &sp.child("unhealthyPodEvictionPolicy"),
                p,
                &["AlwaysAllow", "IfHealthyBudget"],
            ));
        }
    }
    out
}

fn validate_lease(lease: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    let null = Value::Null;
    let spec = lease.get("spec").unwrap_or(&null);
    let sp = Path::new("spec");
    if let Some(d) = int(spec, "leaseDurationSeconds") {
        if d <= 0 {
            out.push(invalid(
                &sp.child("leaseDurationSeconds"),
                d,
                "must be greater than 0",
            ));
        }
    }
    if let Some(t) = int(spec, "leaseTransitions") {
        out.extend(non_negative(t, &sp.child("leaseTransitions")));
    }
    if let Some(st) = spec.get("strategy").and_then(Value::as_str) {
        if st != "OldestEmulationVersion" {
            out.push(not_supported(
                &sp.child("strategy"),
                st,
                &["OldestEmulationVersion"],
            ));
        }
    }
    let _ = (obj, validate_labels);
    out
}
