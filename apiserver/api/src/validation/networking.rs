//! Ingresses, IngressClasses and NetworkPolicies.

use super::container::port_num_or_name;
use super::field::{forbidden, invalid, not_supported, required, Bad, Path};
use super::meta::validate_label_selector;
use super::names::{check_name, is_dns1123_subdomain, is_valid_cidr, parse_ip_sloppy, NameRule};
use super::util::{arr, has, int, s};
use crate::status::Cause;
use serde_json::Value;

pub fn validate_ingress_backend(b: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let svc = b.get("service").filter(|v| !v.is_null());
    let res = b.get("resource").filter(|v| !v.is_null());
    match (svc, res) {
        (Some(_), Some(_)) => {
            out.push(invalid(
                path,
                "",
                "cannot set both resource and service backends",
            ));
        }
        (None, None) => out.push(invalid(path, "", "resource or service backend is required")),
        (None, Some(r)) => out.extend(typed_local_ref(r, &path.child("resource"))),
        (Some(svc), None) => {
            let name = s(svc, "name");
            let np = path.at(&["service", "name"]);
            if name.is_empty() {
                out.push(required(&np, ""));
            } else {
                for m in check_name(NameRule::Dns1035, name, false) {
                    out.push(invalid(&np, name, &m));
                }
            }
            let null = Value::Null;
            let port = svc.get("port").unwrap_or(&null);
            let pname = s(port, "name");
            let pnum = int(port, "number").unwrap_or(0);
            if !pname.is_empty() && pnum != 0 {
                out.push(invalid(path, "", "cannot set both port name & port number"));
            } else if !pname.is_empty() {
                for m in super::names::is_valid_port_name(pname) {
                    out.push(invalid(&path.at(&["service", "port", "name"]), pname, &m));
                }
            } else if pnum != 0 {
                for m in super::names::is_valid_port_num(pnum) {
                    out.push(invalid(&path.at(&["service", "port", "number"]), pnum, &m));
                }
            } else {
                out.push(required(path, "port name or number is required"));
            }
        }
    }
    out
}

/// `validateIngressTypedLocalObjectReference`.
fn typed_local_ref(r: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(g) = r.get("apiGroup").and_then(Value::as_str) {
        for m in is_dns1123_subdomain(g) {
            out.push(invalid(&path.child("apiGroup"), g, &m));
        }
    }
    for f in ["kind", "name"] {
        let v = s(r, f);
        if v.is_empty() {
            out.push(required(&path.child(f), ""));
        } else {
            for m in check_name(NameRule::PathSegment, v, false) {
                out.push(invalid(&path.child(f), v, &m));
            }
        }
    }
    out
}

/// `IsWildcardDNS1123Subdomain`.
fn wildcard_subdomain(host: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if host.len() > 253 {
        errs.push(super::names::max_len_error(253));
    }
    let ok = host
        .strip_prefix("*.")
        .is_some_and(|rest| is_dns1123_subdomain(rest).is_empty());
    if !ok {
        errs.push(super::names::regex_error(
            "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character",
            "\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
            &["*.example.com"],
        ));
    }
    errs
}

fn host_errors(host: &str) -> Vec<String> {
    if host.contains('*') {
        wildcard_subdomain(host)
    } else {
        is_dns1123_subdomain(host)
    }
}

/// `ValidateIngressCreate` / `ValidateIngressSpec`.
pub fn validate_ingress(ing: &Value, create: bool) -> Vec<Cause> {
    let mut out = Vec::new();
    let null = Value::Null;
    let spec = ing.get("spec").unwrap_or(&null);
    let sp = Path::new("spec");
    let rules = arr(spec, "rules");
    let backend = spec.get("defaultBackend").filter(|v| !v.is_null());
    if rules.is_empty() && backend.is_none() {
        out.push(invalid(
            &sp,
            Bad::Raw("[]networking.IngressRule(nil)".into()),
            "either `defaultBackend` or `rules` must be specified",
        ));
    }
    if let Some(b) = backend {
        out.extend(validate_ingress_backend(b, &sp.child("defaultBackend")));
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
            for m in host_errors(host) {
                out.push(invalid(&p.child("host"), host, &m));
            }
        }
        let Some(http) = r.get("http").filter(|v| !v.is_null()) else {
            continue;
        };
        let hp = p.child("http");
        let paths = arr(http, "paths");
        if paths.is_empty() {
            out.push(required(&hp.child("paths"), ""));
        }
        for (j, path) in paths.iter().enumerate() {
            let pp = hp.child("paths").index(j);
            let pv = s(path, "path");
            match path.get("pathType").and_then(Value::as_str) {
                None => {
                    out.push(required(
                        &pp.child("pathType"),
                        "pathType must be specified",
                    ));
                    continue;
                }
                Some("Exact") | Some("Prefix") => {
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
                Some("ImplementationSpecific") => {
                    if !pv.is_empty() && !pv.starts_with('/') {
                        out.push(invalid(&pp.child("path"), pv, "must be an absolute path"));
                    }
                }
                Some(other) => out.push(not_supported(
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
    for (i, t) in arr(spec, "tls").iter().enumerate() {
        let tp = sp.child("tls").index(i);
        for (j, h) in arr(t, "hosts").iter().enumerate() {
            let h = h.as_str().unwrap_or_default();
            for m in host_errors(h) {
                out.push(invalid(&tp.child("hosts").index(j), h, &m));
            }
        }
        let sn = s(t, "secretName");
        if !sn.is_empty() {
            for m in check_name(NameRule::Subdomain, sn, false) {
                out.push(invalid(&tp.child("secretName"), sn, &m));
            }
        }
    }
    let class = spec.get("ingressClassName").and_then(Value::as_str);
    if let Some(c) = class {
        for m in check_name(NameRule::Subdomain, c, false) {
            out.push(invalid(&sp.child("ingressClassName"), c, &m));
        }
    }
    if create {
        let ann = ing
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get("kubernetes.io/ingress.class"))
            .and_then(Value::as_str);
        if let (Some(a), Some(c)) = (ann, class) {
            if a != c {
                out.push(invalid(
                    &Path::new("annotations").child("kubernetes.io/ingress.class"),
                    a,
                    "must match `ingressClassName` when both are specified",
                ));
            }
        }
    }
    out
}

/// `ValidateIngressClass` (+ update: controller immutable).
pub fn validate_ingress_class(ic: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = Vec::new();
    let null = Value::Null;
    let spec = ic.get("spec").unwrap_or(&null);
    let c = s(spec, "controller");
    let cp = Path::new("spec.controller");
    if let Some(old) = old {
        let oc = old
            .get("spec")
            .map(|s2| s(s2, "controller"))
            .unwrap_or_default();
        if oc != c {
            out.push(invalid(&cp, c, super::meta::FIELD_IMMUTABLE));
        }
    }
    if c.is_empty() {
        out.push(required(&cp, ""));
    } else {
        if c.len() > 250 {
            out.push(super::field::too_long(&cp, 250));
        }
        match c.split_once('/') {
            Some((host, rest)) if !host.is_empty() && !rest.is_empty() => {
                for m in is_dns1123_subdomain(host) {
                    out.push(invalid(&cp, host, &m));
                }
                let path_ok = rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/-._~%!$&'()*+,;=:".contains(&b));
                if !path_ok {
                    out.push(invalid(
                        &cp,
                        rest,
                        &super::names::regex_error(
                            "Invalid path",
                            "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+",
                            &[],
                        ),
                    ));
                }
            }
            _ => out.push(invalid(
                &cp,
                c,
                "must be a domain-prefixed path (such as \"acme.io/foo\")",
            )),
        }
    }
    if let Some(params) = spec.get("parameters").filter(|v| !v.is_null()) {
        let pp = Path::new("spec.parameters");
        if let Some(g) = params.get("apiGroup").and_then(Value::as_str) {
            for m in is_dns1123_subdomain(g) {
                out.push(invalid(&pp.child("apiGroup"), g, &m));
            }
        }
        for f in ["kind", "name"] {
            let v = s(params, f);
            if v.is_empty() {
                out.push(required(&pp.child(f), ""));
            } else {
                for m in check_name(NameRule::PathSegment, v, false) {
                    out.push(invalid(&pp.child(f), v, &m));
                }
            }
        }
        match params.get("scope").and_then(Value::as_str) {
            None => out.push(required(&pp.child("scope"), "")),
            Some("Namespace") => match params.get("namespace").and_then(Value::as_str) {
                None => out.push(required(
                    &pp.child("namespace"),
                    "`parameters.scope` is set to 'Namespace'",
                )),
                Some(ns) => {
                    for m in check_name(NameRule::Label, ns, false) {
                        out.push(invalid(&pp.child("namespace"), ns, &m));
                    }
                }
            },
            Some("Cluster") => {
                if has(params, "namespace") {
                    out.push(forbidden(
                        &pp.child("namespace"),
                        "`parameters.scope` is set to 'Cluster'",
                    ));
                }
            }
            Some(other) => out.push(not_supported(
                &pp.child("scope"),
                other,
                &["Cluster", "Namespace"],
            )),
        }
    }
    out
}

pub fn validate_network_policy(np: &Value) -> Vec<Cause> {
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
                        } else {
                            if end < p.as_i64().unwrap_or(0) {
                                out.push(invalid(
                                    &pp.child("endPort"),
                                    end,
                                    "must be greater than or equal to `port`",
                                ));
                            }
                            for m in super::names::is_valid_port_num(end) {
                                out.push(invalid(&pp.child("endPort"), end, &m));
                            }
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
            Bad::Raw(super::meta::go_string_slice(types).replacen(
                "[]string",
                "[]networking.PolicyType",
                1,
            )),
            "may not specify more than two policyTypes",
        ));
        return out;
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
